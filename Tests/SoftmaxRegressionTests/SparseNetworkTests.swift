//===--- SparseNetworkTests.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxRegression
import Testing

/// Sparse rows of `columns` features, each entry kept with probability
/// `density` (a value in [-2, 2]), every seventh row empty and the last
/// tenth of the columns never used; labels and sample weights.
private func sparseNetworkData<T: SoftmaxScalar>(
  rows: Int, columns: Int, classes: Int, density: Double, seed: UInt64, as: T.Type = T.self
) -> (features: SparseMatrix<T>, labels: [Int], weights: [Double]) {
  var generator = SplitMix64(seed: seed)
  func unit() -> Double { Double(generator.next() >> 11) * 0x1p-53 }
  var builder = SparseMatrix<T>.Builder(columns: columns)
  for r in 0..<rows {
    if r % 7 != 3 {
      for c in 0..<(columns * 9 / 10) where unit() < density {
        builder.append(column: c, value: T(unit() * 4 - 2))
      }
    }
    builder.endRow()
  }
  let labels = (0..<rows).map { _ in generator.next(below: classes) }
  let weights = (0..<rows).map { _ in 0.5 + unit() }
  return (builder.matrix, labels, weights)
}

@Suite("Networks on sparse features", .serialized)
struct SparseNetworkTests {
  /// Every evaluation of a sparse objective against the dense objective
  /// over the same rows, bit for bit, with 1 and 2 threads.
  func expectSameBits<T: SoftmaxScalar>(
    _ type: T.Type, activation: Activation, widths: [Int], dropout: Double, scaled: Bool
  ) throws {
    let (x, y, s) = sparseNetworkData(
      rows: 700, columns: 2_000, classes: 5, density: 0.02, seed: 21, as: T.self)
    let scale = (0..<2_000).map { 0.5 + Double($0 % 13) / 8 }
    let standardization =
      scaled ? Standardization(mean: [Double](repeating: 0, count: 2_000), scale: scale) : nil
    func objective(_ sparse: Bool) throws -> NetworkObjective<T> {
      sparse
        ? try NetworkObjective(
          features: x, labels: y, classCount: 5, hiddenWidths: widths, activation: activation,
          sampleWeights: s, classWeights: [1, 2, 0.5, 1, 1.5], l2: 1e-3,
          standardization: standardization, dropout: dropout, dropoutSeed: 3)
        : try NetworkObjective(
          features: x.dense(), labels: y, classCount: 5, hiddenWidths: widths,
          activation: activation, sampleWeights: s, classWeights: [1, 2, 0.5, 1, 1.5], l2: 1e-3,
          standardization: standardization, dropout: dropout, dropoutSeed: 3)
    }
    let sparse = try objective(true)
    let dense = try objective(false)
    let p = sparse.architecture.initialParameters(seed: 5)
    let batch = Array(stride(from: 698, to: 0, by: -4)) + [10, 10, 3]
    // A minibatch of empty rows only: no column to group.
    let empty = [3, 10, 17, 3]
    #expect(empty.allSatisfy { x.row($0).columns.isEmpty })
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    var runs: [[UInt64]] = []
    for threads in [1, 2] {
      SoftmaxConfiguration.threadCount = threads
      for o in [sparse, dense] {
        var g: [Double] = []
        let v = o.smoothValueAndGradient(at: p, gradient: &g)
        var gb: [Double] = []
        let vb = o.minibatchValueAndGradient(rows: batch, at: p, gradient: &gb)
        var w = o.makeWorkspace()
        let loss = o.loss(rows: batch, at: p, workspace: &w)
        let probabilities = o.probabilities(rows: [0, 3, 699], at: p).elements
        var ge: [Double] = []
        let ve = o.minibatchValueAndGradient(rows: empty, at: p, gradient: &ge)
        runs.append(([v, vb, loss, ve] + g + gb + ge + probabilities).map(\.bitPattern))
      }
    }
    #expect(runs[0] == runs[1], "\(T.self) \(activation): sparse and dense differ (1 thread)")
    #expect(runs[0] == runs[2], "\(T.self) \(activation): 1 and 2 threads differ")
    #expect(runs[1] == runs[3], "\(T.self) \(activation): dense, 1 and 2 threads differ")
  }

  @Test(
    "A sparse objective's values, gradients, losses and probabilities are the dense objective's bits, with 1 and 2 threads",
    arguments: [Activation.relu, .identity, .tanh])
  func sameBitsAsDense(activation: Activation) throws {
    try expectSameBits(
      Float.self, activation: activation, widths: [24, 8], dropout: 0, scaled: true)
    try expectSameBits(Float.self, activation: activation, widths: [24], dropout: 0, scaled: false)
    try expectSameBits(Double.self, activation: activation, widths: [24], dropout: 0, scaled: true)
    try expectSameBits(Double.self, activation: activation, widths: [9], dropout: 0, scaled: false)
    try expectSameBits(Float.self, activation: activation, widths: [16], dropout: 0.3, scaled: true)
  }

  @Test("A sparse objective's gradient against central differences, in Double")
  func finiteDifferences() throws {
    let (x, y, s) = sparseNetworkData(
      rows: 30, columns: 12, classes: 3, density: 0.3, seed: 4, as: Double.self)
    let objective = try NetworkObjective(
      features: x, labels: y, classCount: 3, hiddenWidths: [4], activation: .tanh,
      sampleWeights: s, l2: 0.05,
      standardization: Standardization(
        mean: [Double](repeating: 0, count: 12), scale: (0..<12).map { 1 + Double($0) / 10 }))
    let p = objective.architecture.initialParameters(seed: 1)
    var g: [Double] = []
    _ = objective.smoothValueAndGradient(at: p, gradient: &g)
    let worst = finiteDifferenceError({ objective.value(at: $0) }, gradient: g, at: p)
    #expect(worst <= 1e-6, "\(worst)")
    // An unused column's weights get no data gradient: only the penalty's.
    let d = 12
    for j in 0..<4 {
      let i = j * d + 11
      #expect(g[i] == 0.05 * p[i], "weight \(i)")
    }
  }

  @Test("A standardization that centers sparse features is refused")
  func centeringRefused() throws {
    let (x, y, _) = sparseNetworkData(
      rows: 10, columns: 4, classes: 2, density: 0.5, seed: 2, as: Float.self)
    do {
      _ = try NetworkObjective(
        features: x, labels: y, classCount: 2, hiddenWidths: [3],
        standardization: Standardization(mean: [0, 0.5, 0, 0], scale: [1, 1, 1, 1]))
      Issue.record("a centering standardization was accepted")
    } catch {
      #expect(error.code == .invalidOption)
      #expect(error.message.contains("feature 1 (mean 0.5)"), "\(error.message)")
    }
  }

  @Test(
    "A network trained on sparse rows is the one trained on them dense; it predicts sparse rows as dense"
  )
  func fitsAsDense() throws {
    let (x, y, _) = sparseNetworkData(
      rows: 400, columns: 300, classes: 3, density: 0.05, seed: 9, as: Float.self)
    let classes = ["a", "b", "c"]
    var options = TrainingOptions()
    options.solver = .adam
    options.hidden = TrainingOptions.HiddenLayers(widths: [12], activation: .identity)
    options.stochastic.epochs = 4
    options.stochastic.batchSize = 32
    let sparse = try SoftmaxClassifier.fit(
      features: x, labels: y, classes: classes, options: options)
    let dense = try SoftmaxClassifier.fit(
      features: x.dense(), labels: y, classes: classes, options: options)
    func bits(_ model: SoftmaxClassifier) -> [UInt64] {
      var values: [Double] = []
      for layer in model.hiddenLayers { values += layer.weight.elements + layer.bias }
      values += model.weight.elements + model.bias
      return values.map(\.bitPattern)
    }
    #expect(bits(sparse) == bits(dense))
    // Scaled (not centered) on sparse rows: predictions of the sparse rows
    // are those of the same rows dense, bit for bit.
    options.standardize = true
    let scaled = try SoftmaxClassifier.fit(
      features: x, labels: y, classes: classes, options: options)
    #expect(scaled.standardization?.isScalingOnly == true)
    let p = try scaled.probabilities(x)
    let q = try scaled.probabilities(x.dense())
    #expect(p.elements.map(\.bitPattern) == q.elements.map(\.bitPattern))
    let accuracy = try scaled.evaluate(features: x, labels: y).accuracy
    #expect(accuracy > 0.5, "\(accuracy)")
  }
}
