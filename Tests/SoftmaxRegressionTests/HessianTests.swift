//===--- HessianTests.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxRegression
import Testing
import _SoftmaxTestSupport

/// The softmax-regression objective's Hessian-vector product (issue 20's
/// TRON needs it) against central differences of its gradient.
@Suite("Hessian-vector product of softmax regression")
struct HessianTests {
  /// Iris, standardized, with sample and class weights and L2.
  static func objective() throws -> SoftmaxRegressionObjective<Double> {
    let data = try LabelledData(named: "iris")
    return try SoftmaxRegressionObjective(
      features: data.features, labels: data.labels, classCount: 3,
      sampleWeights: (0..<data.features.rows).map { Double($0 % 4 + 1) / 2 },
      classWeights: [1, 2, 0.5], l2: 0.01,
      standardization: Standardization(fitting: data.features))
  }

  /// `H·v` against `(∇f(w + h·v) − ∇f(w − h·v)) / 2h` with `h = 1e-5`:
  /// the difference's truncation error is `O(h²)` (about 1e-10 here, the
  /// third derivatives being O(1) on standardized data) and its rounding
  /// about `ε·‖∇f‖/h ≈ 2e-11`; the bound 1e-7 of the largest component
  /// leaves a wide margin and still fails for any wrong term.
  @Test("H·v is the central difference of the gradient, within 1e-7", arguments: [1, 2, 3])
  func againstFiniteDifferences(seed: UInt64) throws {
    let objective = try Self.objective()
    var generator = SplitMix64(seed: seed)
    let w = [Double].random(count: objective.parameterCount, in: -1...1, using: &generator)
    let v = [Double].random(count: objective.parameterCount, in: -1...1, using: &generator)
    var workspace = objective.makeWorkspace()
    let product = try #require(
      objective.hessianVectorProduct(at: w, direction: v, workspace: &workspace))
    let h = 1e-5
    var plus: [Double] = []
    var minus: [Double] = []
    _ = objective.smoothValueAndGradient(
      at: zip(w, v).map { $0 + h * $1 }, gradient: &plus)
    _ = objective.smoothValueAndGradient(
      at: zip(w, v).map { $0 - h * $1 }, gradient: &minus)
    let difference = zip(plus, minus).map { ($0 - $1) / (2 * h) }
    let largest = difference.map(abs).max() ?? 0
    let error = zip(product, difference).map { abs($0 - $1) }.max() ?? .infinity
    #expect(largest > 1e-3, "a direction that moves the gradient")
    #expect(error <= 1e-7 * largest, "error \(error) against \(largest)")
  }

  @Test("H is symmetric: uᵀ(H·v) = vᵀ(H·u), within rounding")
  func symmetric() throws {
    let objective = try Self.objective()
    var generator = SplitMix64(seed: 9)
    let w = [Double].random(count: objective.parameterCount, in: -1...1, using: &generator)
    let u = [Double].random(count: objective.parameterCount, in: -1...1, using: &generator)
    let v = [Double].random(count: objective.parameterCount, in: -1...1, using: &generator)
    var workspace = objective.makeWorkspace()
    let hu = try #require(
      objective.hessianVectorProduct(at: w, direction: u, workspace: &workspace))
    let hv = try #require(
      objective.hessianVectorProduct(at: w, direction: v, workspace: &workspace))
    let a = zip(v, hu).reduce(0) { $0 + $1.0 * $1.1 }
    let b = zip(u, hv).reduce(0) { $0 + $1.0 * $1.1 }
    // Two sums of 15 terms of size O(1): a few ulps of their magnitude.
    #expect(abs(a - b) <= 1e-12 * max(abs(a), 1))
    // Positive semidefinite with L2 > 0: vᵀHv ≥ λ₂·‖V‖² > 0.
    let vhv = zip(v, hv).reduce(0) { $0 + $1.0 * $1.1 }
    #expect(vhv > 0)
  }

  @Test("Float features give the bits of the same values stored as Double")
  func floatStorage() throws {
    let data = try LabelledData(named: "digits")
    let floats = Matrix(
      rows: data.features.rows, columns: data.features.columns,
      elements: data.features.elements.map { Float($0) })
    let doubles = Matrix(
      rows: floats.rows, columns: floats.columns, elements: floats.elements.map { Double($0) })
    let a = try SoftmaxRegressionObjective(
      features: floats, labels: data.labels, classCount: 10, l2: 1e-3)
    let b = try SoftmaxRegressionObjective(
      features: doubles, labels: data.labels, classCount: 10, l2: 1e-3)
    var generator = SplitMix64(seed: 4)
    let w = [Double].random(count: a.parameterCount, in: -0.1...0.1, using: &generator)
    let v = [Double].random(count: a.parameterCount, in: -0.1...0.1, using: &generator)
    var workspaceA = a.makeWorkspace()
    var workspaceB = b.makeWorkspace()
    let ha = try #require(a.hessianVectorProduct(at: w, direction: v, workspace: &workspaceA))
    let hb = try #require(b.hessianVectorProduct(at: w, direction: v, workspace: &workspaceB))
    #expect(ha.map(\.bitPattern) == hb.map(\.bitPattern))
  }
}
