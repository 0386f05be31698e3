//===--- HessianTests.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

@testable import SoftmaxRegression

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

  /// Digits (64 features, 10 classes, pixels 0…16) in Float, as the SIMD
  /// kernel reads them, and the same values in Double.
  static func digits(standardized: Bool) throws -> (
    float: SoftmaxRegressionObjective<Float>, double: SoftmaxRegressionObjective<Double>
  ) {
    let data = try LabelledData(named: "digits")
    let floats = Matrix(
      rows: data.features.rows, columns: data.features.columns,
      elements: data.features.elements.map { Float($0) })
    let doubles = Matrix(
      rows: floats.rows, columns: floats.columns, elements: floats.elements.map { Double($0) })
    let scaling = standardized ? Standardization(fitting: doubles) : nil
    return (
      try SoftmaxRegressionObjective(
        features: floats, labels: data.labels, classCount: 10, l2: 1e-3, standardization: scaling),
      try SoftmaxRegressionObjective(
        features: doubles, labels: data.labels, classCount: 10, l2: 1e-3, standardization: scaling)
    )
  }

  /// The Double path sums the same terms as the reference in another
  /// order (blocks of 256 rows): a few ulps of each component's Σ|terms|,
  /// bounded here by 1e-12 of the largest component (1,797 rows of terms
  /// up to 16² in size would need an error 10⁴ times the rounding to fail).
  ///
  /// The Float kernel rounds `x̃`, `V`, `p` and `δz` to Float (2⁻²⁴
  /// relative each) and sums each block's 16-column chunks in Float: about
  /// `(d + 256)·2⁻²⁴ ≈ 2e-5` of Σ|terms| at worst, and typically far less
  /// (random-walk rounding). The bound, 1e-4 of the largest component, is
  /// five times that worst case and 2,500 times below an error of one term
  /// left out (which is of the order of the largest component over n).
  @Test(
    "The kernels' H·v against the Double reference",
    arguments: [false, true])
  func kernelsAgainstReference(standardized: Bool) throws {
    try withStableCPULevel {
      let (float, double) = try Self.digits(standardized: standardized)
      var generator = SplitMix64(seed: 4)
      let scale = standardized ? 0.3 : 0.03
      let w = [Double].random(count: float.parameterCount, in: -scale...scale, using: &generator)
      let v = [Double].random(count: float.parameterCount, in: -1...1, using: &generator)
      let reference = double.referenceHessianVectorProduct(at: w, direction: v)
      let largest = reference.map(abs).max() ?? 0
      var workspace = double.makeWorkspace()
      let fastDouble = try #require(
        double.hessianVectorProduct(at: w, direction: v, workspace: &workspace))
      let doubleError = zip(fastDouble, reference).map { abs($0 - $1) }.max() ?? .infinity
      #expect(doubleError <= 1e-12 * largest, "Double: \(doubleError) of \(largest)")
      var floatWorkspace = float.makeWorkspace()
      let fastFloat = try #require(
        float.hessianVectorProduct(at: w, direction: v, workspace: &floatWorkspace))
      let floatError = zip(fastFloat, reference).map { abs($0 - $1) }.max() ?? .infinity
      #expect(floatError <= 1e-4 * largest, "Float: \(floatError) of \(largest)")
      #expect(largest > 1e-2, "a direction that bends the objective")
    }
  }

  /// The Float kernels take a block's rows in parts (about 192 KiB of X
  /// each) and carry each 16-column sum from part to part in row order:
  /// the gradient, the loss, a minibatch's loss and gradient (rows gathered
  /// through an index) and H·v have the same bits for parts of 4 rows, 16
  /// rows and the whole block (digits' 256-row blocks are one part by
  /// default, 768 rows of 64 features fitting), at every CPU level.
  @Test("The Float kernels' gradient, loss and H·v have the same bits for any part size")
  func partsOfABlock() throws {
    try withStableCPULevel {
      let saved = SoftmaxConfiguration.cpuLevel
      defer { SoftmaxConfiguration.cpuLevel = saved }
      // Every level this CPU runs (each has its own backward pass).
      for level in CPULevel.allCases where level <= SoftmaxConfiguration.supportedCPULevel {
        SoftmaxConfiguration.cpuLevel = level
        for standardized in [false, true] {
          let (float, _) = try Self.digits(standardized: standardized)
          var generator = SplitMix64(seed: 12)
          let w = [Double].random(count: float.parameterCount, in: -0.1...0.1, using: &generator)
          let v = [Double].random(count: float.parameterCount, in: -1...1, using: &generator)
          let batch = (0..<200).map { _ in generator.next(below: 1797) }
          func bits(partBytes: Int?) throws -> [[UInt64]] {
            let saved = setRegressionPartBytes(partBytes)
            defer { setRegressionPartBytes(saved) }
            var workspace = float.makeWorkspace()
            var gradient: [Double] = []
            let value = float.smoothValueAndGradient(
              at: w, gradient: &gradient, workspace: &workspace)
            let batchLoss = float.loss(rows: batch, at: w, workspace: &workspace)
            var batchGradient: [Double] = []
            let batchValue = float.smoothValueAndGradient(
              rows: batch, at: w, gradient: &batchGradient, workspace: &workspace)
            let product = try #require(
              float.hessianVectorProduct(at: w, direction: v, workspace: &workspace))
            return [gradient + [value, batchLoss], batchGradient + [batchValue], product].map {
              $0.map(\.bitPattern)
            }
          }
          let whole = try bits(partBytes: 1 << 30)
          #expect(try bits(partBytes: nil) == whole, "\(level): default parts")
          #expect(try bits(partBytes: 1) == whole, "\(level): parts of 4 rows")
          #expect(try bits(partBytes: 16 * 64 * 4) == whole, "\(level): parts of 16 rows")
        }
      }
    }
  }

  @Test("H·v has the same bits for 1, 2 and 3 threads, Float and Double")
  func threadCounts() throws {
    try withStableCPULevel {
      let saved = SoftmaxConfiguration.threadCount
      defer { SoftmaxConfiguration.threadCount = saved }
      // 4,000 rows: 16 blocks, several waves' worth of work to share.
      let data = try LabelledData(named: "digits")
      let rows = 4000
      let elements = (0..<(rows * 64)).map {
        Float(data.features.elements[$0 % data.features.elements.count])
      }
      let floats = Matrix(rows: rows, columns: 64, elements: elements)
      let labels = (0..<rows).map { data.labels[$0 % data.labels.count] }
      let float = try SoftmaxRegressionObjective(
        features: floats, labels: labels, classCount: 10, l2: 1e-3)
      let double = try SoftmaxRegressionObjective(
        features: Matrix(rows: rows, columns: 64, elements: elements.map { Double($0) }),
        labels: labels, classCount: 10, l2: 1e-3)
      var generator = SplitMix64(seed: 5)
      let w = [Double].random(count: float.parameterCount, in: -0.03...0.03, using: &generator)
      let v = [Double].random(count: float.parameterCount, in: -1...1, using: &generator)
      var floatBits: Set<[UInt64]> = []
      var doubleBits: Set<[UInt64]> = []
      for threads in [1, 2, 3] {
        SoftmaxConfiguration.threadCount = threads
        var a = float.makeWorkspace()
        var b = double.makeWorkspace()
        floatBits.insert(
          try #require(float.hessianVectorProduct(at: w, direction: v, workspace: &a)).map(
            \.bitPattern))
        doubleBits.insert(
          try #require(double.hessianVectorProduct(at: w, direction: v, workspace: &b)).map(
            \.bitPattern))
      }
      #expect(floatBits.count == 1)
      #expect(doubleBits.count == 1)
    }
  }

  /// The workspace keeps the probabilities of the point of the products
  /// and of the last full evaluation; whatever came between, a product
  /// is that of a fresh workspace, bit for bit.
  @Test("Products after evaluations elsewhere equal a fresh workspace's")
  func cachedProbabilities() throws {
    try withStableCPULevel {
      let (float, _) = try Self.digits(standardized: true)
      var generator = SplitMix64(seed: 6)
      let w1 = [Double].random(count: float.parameterCount, in: -0.3...0.3, using: &generator)
      let w2 = [Double].random(count: float.parameterCount, in: -0.3...0.3, using: &generator)
      let v = [Double].random(count: float.parameterCount, in: -1...1, using: &generator)
      func fresh(_ w: [Double]) throws -> [UInt64] {
        var workspace = float.makeWorkspace()
        return try #require(float.hessianVectorProduct(at: w, direction: v, workspace: &workspace))
          .map(\.bitPattern)
      }
      let (at1, at2) = (try fresh(w1), try fresh(w2))
      #expect(at1 != at2)
      var workspace = float.makeWorkspace()
      var gradient: [Double] = []
      func product(_ w: [Double]) throws -> [UInt64] {
        try #require(float.hessianVectorProduct(at: w, direction: v, workspace: &workspace))
          .map(\.bitPattern)
      }
      #expect(try product(w1) == at1)
      // A trial point evaluated, then rejected: products stay at w1.
      _ = float.smoothValueAndGradient(at: w2, gradient: &gradient, workspace: &workspace)
      #expect(try product(w1) == at1)
      // Evaluated again and accepted: products at w2 from the recorded pass.
      _ = float.smoothValueAndGradient(at: w2, gradient: &gradient, workspace: &workspace)
      #expect(try product(w2) == at2)
      #expect(try product(w1) == at1)
      #expect(try product(w2) == at2)
    }
  }
}
