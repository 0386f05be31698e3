//===--- ExtremeValueTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Finite values at the edges of Double (±greatestFiniteMagnitude,
// subnormals, 1e±300) through fit, prediction, metrics and the model file:
// a finite result or a typed error, never a trap. The exact claims are
// checked against independent references: scaling by a power of two is
// exact, so the statistics of X·2^k are those of X times 2^k, bit for bit;
// logits beyond Double are checked in Float80.

import Foundation
import PropertyBased
import SoftmaxCore
import SoftmaxRegression
import Testing
import _SoftmaxTestSupport

/// The magnitudes a hostile file can hold.
let extremeValues: [Double] = [
  0, 1, -1, 0.5, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude,
  -.leastNonzeroMagnitude, .leastNormalMagnitude, 1e300, -1e300, 1e-300, 1e154, -1e155, 1e200,
  3.4e38, -3.4e38, 1e-45, 123.456,
]

@Suite("Extreme finite values: a finite model or a typed error")
struct ExtremeValuePropertyTests {
  /// Random small data sets of extreme values, every solver: fit throws a
  /// ``TrainingError`` or gives finite parameters whose probabilities are
  /// finite, in [0, 1], and sum to 1 within 4u (or exactly, one-hot);
  /// the metrics are computed; the model file round-trips bit for bit.
  @Test func fitPredictAndSave() async {
    await propertyCheck(
      count: 150,
      input: Gen<Int>.int(in: 0...(extremeValues.count - 1)).map { extremeValues[$0] }
        .array(of: 4...24),
      Gen<Int>.int(in: 0...3), Gen<Bool>.bool,
      Gen<Int>.int(in: 0...3).map { [1, 1e-300, 1e300, 1e20][$0] }
    ) { values, solverIndex, standardize, rate in
      let d = 2
      let n = values.count / d
      let features = Matrix(rows: n, columns: d, elements: Array(values.prefix(n * d)))
      let labels = (0..<n).map { $0 % 2 }
      var options = TrainingOptions()
      options.solver = TrainingOptions.Solver.allCases[solverIndex]
      options.standardize = standardize
      options.lbfgs.maxIterations = 30
      options.stochastic.epochs = 3
      options.stochastic.batchSize = 3
      options.stochastic.learningRate = rate
      options.learningRate = rate
      options.l2 = 0.01
      let model: SoftmaxClassifier
      do {
        model = try SoftmaxClassifier.fit(
          features: features, labels: labels, classes: ["a", "b"], options: options)
      } catch let error as TrainingError {
        #expect(!error.message.isEmpty)
        return
      }
      #expect(model.parameters.allSatisfy { $0.isFinite }, "\(values)")
      let probabilities = try model.probabilities(features)
      for row in probabilities.rowArrays {
        #expect(row.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(values)")
        #expect(abs(row.reduce(0, +) - 1) <= 4 * Double.ulpOfOne, "\(values)")
      }
      let metrics = try model.evaluate(features: features, labels: labels)
      #expect(!metrics.logLoss.isNaN && metrics.accuracy >= 0)
      var withMetrics = model
      withMetrics.training?.metrics = metrics
      let bytes = try ModelFile.encode(withMetrics)
      #expect(try ModelFile.decode(bytes) == withMetrics)
    }
  }

  /// A fuzzer finding (`pipeline`): SGD diverging to weights near 1e279
  /// with λ₂ = 5e-324 gave (λ₂/2)·‖W‖² = 0·inf = NaN as the objective, and
  /// a model file whose record did not read back equal.
  @Test("the L2 penalty of huge weights is finite or +inf, never NaN, and 0 without L2")
  func penaltyOfHugeWeights() throws {
    let features = Matrix(rows: 2, columns: 2, elements: [0.7, 0.9, 0, 0])
    let weights = [1.75e279, 2.25e279, -1.75e279, -2.25e279, 0, 0]
    for (l2, expected) in [
      (
        Double.leastNonzeroMagnitude,
        0.5 * (0x1p-1074.squareRoot() * 1.75e279) * (0x1p-1074.squareRoot() * 1.75e279) * 2
          + 0.5 * (0x1p-1074.squareRoot() * 2.25e279) * (0x1p-1074.squareRoot() * 2.25e279) * 2
      ),
      (0, 0),
    ] {
      let objective = try SoftmaxRegressionObjective(
        features: features, labels: [0, 1], classCount: 2, l2: l2)
      let value = objective.value(at: weights)
      #expect(!value.isNaN, "λ₂ = \(l2)")
      // The data term is +inf here (the logits overflow); the penalty alone:
      var gradient: [Double] = []
      _ = objective.smoothValueAndGradient(at: weights, gradient: &gradient)
      let zero = try SoftmaxRegressionObjective(
        features: Matrix(rows: 1, columns: 2, elements: [0, 0]), labels: [0], classCount: 2, l2: l2)
      let penalty = zero.value(at: weights) - Double.log(2)
      #expect(abs(penalty - expected) <= 4 * max(expected, .leastNormalMagnitude).ulp, "λ₂ = \(l2)")
    }
  }

  @Test("a column whose squares overflow is an error naming it; standardized, it trains")
  func hugeColumn() throws {
    let features = Matrix(
      rows: 6, columns: 2, elements: [1, 1e200, 2, -3e200, 3, 2e200, 4, -1e200, 5, 5e199, 6, 0])
    let labels = [0, 1, 0, 1, 0, 1]
    #expect {
      _ = try SoftmaxClassifier.fit(
        features: features, labels: labels, classes: ["a", "b"], featureNames: ["x", "y"])
    } throws: { error in
      guard let error = error as? TrainingError else { return false }
      return error.code == .outOfRange
        && error.message.hasPrefix("feature 1 (\"y\") has values up to 3e+200")
    }
    var options = TrainingOptions()
    options.standardize = true
    let model = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["a", "b"], options: options)
    #expect(model.parameters.allSatisfy { $0.isFinite })
    #expect(model.training?.converged == true)
  }

  @Test("class weights whose weighted loss overflows are an error; a NaN warm start too")
  func weightsAndWarmStart() throws {
    let features = Matrix(rows: 4, columns: 1, elements: [1.0, 2, 3, 4])
    let labels = [0, 1, 0, 1]
    var options = TrainingOptions()
    options.classWeighting = .custom([1e308, 1e308])
    #expect(throws: TrainingError.self) {
      _ = try SoftmaxClassifier.fit(
        features: features, labels: labels, classes: ["a", "b"], options: options)
    }
    let bad = SoftmaxClassifier(
      classes: ["a", "b"], weight: Matrix(rows: 2, columns: 1, elements: [.nan, 0]), bias: [0, 0])
    #expect {
      _ = try SoftmaxClassifier.fit(
        features: features, labels: labels, classes: ["a", "b"], warmStart: bad)
    } throws: { error in
      (error as? TrainingError)?.code == .invalidModel
    }
  }

  @Test("sample weights scaled by 2^±1000 give the same objective and gradient, bit for bit")
  func sampleWeightScaling() throws {
    let data = try LabelledData(named: "iris")
    let weights = (0..<data.features.rows).map { Double($0 % 5 + 1) }
    let parameters = (0..<15).map { Double($0 % 7) / 10 - 0.3 }
    let reference = try SoftmaxRegressionObjective(
      features: data.features, labels: data.labels, classCount: 3, sampleWeights: weights, l2: 0.01)
    var referenceGradient: [Double] = []
    let referenceValue = reference.smoothValueAndGradient(
      at: parameters, gradient: &referenceGradient)
    for exponent in [1000, -1000, 1020] {
      // Every weight times 2^exponent: sums that overflow (2^1020 · 600)
      // or reciprocals that do (2^-1000).
      let scaled = weights.map { Double(sign: .plus, exponent: exponent, significand: $0) }
      let objective = try SoftmaxRegressionObjective(
        features: data.features, labels: data.labels, classCount: 3, sampleWeights: scaled,
        l2: 0.01)
      var gradient: [Double] = []
      #expect(
        objective.smoothValueAndGradient(at: parameters, gradient: &gradient) == referenceValue)
      #expect(gradient == referenceGradient, "2^\(exponent)")
      #expect(objective.diagonalPreconditioner() == reference.diagonalPreconditioner())
    }
  }

  @Test(
    "the preconditioner of a column of 1e150 (whose squares' sum overflows) is 4^-k that of the column scaled by 2^-k"
  )
  func preconditionerOfHugeColumn() throws {
    let n = 2000
    let base = (0..<n).map { Double($0 % 13) - 6 }
    let k = 500
    let huge = base.map { Double(sign: .plus, exponent: k, significand: $0) }  // up to 2e151
    let labels = (0..<n).map { $0 % 2 }
    let small = try SoftmaxRegressionObjective(
      features: Matrix(rows: n, columns: 1, elements: base), labels: labels, classCount: 2)
    let large = try SoftmaxRegressionObjective(
      features: Matrix(rows: n, columns: 1, elements: huge), labels: labels, classCount: 2)
    let expected = small.diagonalPreconditioner()
    let got = large.diagonalPreconditioner()
    #expect(got.allSatisfy { $0.isFinite && $0 > 0 })
    // The weight's entry: 4^-k times the small one's, within a few ulps
    // (the two are rounded in a different order). (The bias's entry is
    // floored at 1e-12 of the largest, which is the weight's here.)
    let scaledBack = Double(sign: .plus, exponent: 2 * k, significand: got[0])
    #expect(abs(scaledBack - expected[0]) <= 4 * expected[0].ulp)
  }
}

@Suite("Standardization: exact at any magnitude, validated from files")
struct StandardizationRangeTests {
  @Test("the statistics of X·2^k are those of X times 2^k, bit for bit, for k from -1000 to 1000")
  func powerOfTwoScaling() throws {
    let data = try LabelledData(named: "iris")
    let weights = (0..<data.features.rows).map { Double($0 % 3 + 1) }
    let reference = Standardization(fitting: data.features, sampleWeights: weights)
    for k in [-1000, -600, -300, 300, 600, 1000] {
      let scaled = Matrix(
        rows: data.features.rows, columns: data.features.columns,
        elements: data.features.elements.map { Double(sign: .plus, exponent: k, significand: $0) })
      let standardization = Standardization(fitting: scaled, sampleWeights: weights)
      let expectedMean = reference.mean.map { Double(sign: .plus, exponent: k, significand: $0) }
      let expectedScale = reference.scale.map { Double(sign: .plus, exponent: k, significand: $0) }
      #expect(standardization.mean == expectedMean, "2^\(k)")
      for (scale, expected) in zip(standardization.scale, expectedScale) {
        // A deviation below 1e-300 is a constant column's: scale 1.
        #expect(scale == (expected >= Standardization.smallestScale ? expected : 1), "2^\(k)")
      }
    }
    // Values at the top of the range, and weights whose sum overflows.
    let top = Matrix(
      rows: 4, columns: 1, elements: [1.7e308, -1.7e308, 1.7e308, -1.7e308])
    let extreme = Standardization(fitting: top, sampleWeights: [1e308, 1e308, 1e308, 1e308])
    #expect(extreme.mean == [0] && extreme.scale == [1.7e308])
  }

  @Test("bad means and scales are typed errors from files, and traps only from code")
  func validation() async throws {
    #expect(throws: TrainingError.self) {
      _ = try Standardization(validatingMean: [0, .nan], scale: [1, 1])
    }
    #expect(throws: TrainingError.self) {
      _ = try Standardization(validatingMean: [0], scale: [.leastNonzeroMagnitude])
    }
    #expect(throws: TrainingError.self) {
      _ = try Standardization(validatingMean: [0, 0], scale: [1])
    }
    let decoder = JSONDecoder()
    for text in [
      "{\"mean\": [0], \"scale\": [0]}", "{\"mean\": [0, 1], \"scale\": [1]}",
      "{\"mean\": [1e999], \"scale\": [1]}",
    ] {
      #expect(throws: (any Error).self) {
        _ = try decoder.decode(Standardization.self, from: Data(text.utf8))
      }
    }
    #expect(
      try decoder.decode(Standardization.self, from: Data("{\"mean\": [2], \"scale\": [3]}".utf8))
        == Standardization(mean: [2], scale: [3]))
    await #expect(processExitsWith: .failure) {
      _ = Standardization(mean: [0], scale: [0])
    }
  }
}

@Suite("Logits beyond Double: the probabilities of the exact logits (Float80)")
struct OverflowFreeLogitTests {
  /// Random models and rows of magnitudes up to 1e308: where the Float80
  /// logits have one clear maximum (ahead by more than the rounding of the
  /// largest term), the probabilities are its one-hot; elsewhere (no
  /// overflow) they are the Float80 softmax within 1e-12.
  @Test func againstFloat80() async {
    let magnitude = Gen<Int>.int(in: 0...308)
    let value = Gen<Double>.value(in: -1...1)
    await propertyCheck(
      count: 300, input: magnitude.array(of: 12), value.array(of: 12)
    ) { exponents, significands in
      let numbers = zip(exponents, significands).map { $1 * Double.pow(10, Double($0)) }
      let k = 3
      let d = 2
      let weights = Array(numbers[0..<6])
      let bias = Array(numbers[6..<9])
      let x = Array(numbers[9..<11])
      let model = SoftmaxClassifier(
        classes: ["a", "b", "c"], weight: Matrix(rows: k, columns: d, elements: weights),
        bias: bias)
      let p = try model.probabilities(Matrix(rows: 1, columns: d, elements: x)).elements
      #expect(p.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
      #expect(abs(p.reduce(0, +) - 1) <= 4 * Double.ulpOfOne)
      var z = [ReferenceScalar](repeating: 0, count: k)
      var scale: ReferenceScalar = 0
      for j in 0..<k {
        z[j] = ReferenceScalar(bias[j])
        scale = max(scale, abs(ReferenceScalar(bias[j])))
        for c in 0..<d {
          let term = ReferenceScalar(weights[j * d + c]) * ReferenceScalar(x[c])
          z[j] += term
          scale = max(scale, abs(term))
        }
      }
      let top = z.indices.max { z[$0] < z[$1] } ?? 0
      let noise = 64 * ReferenceScalar(d + 1) * ReferenceScalar(Double.ulpOfOne) * scale
      let clear = z.indices.allSatisfy { $0 == top || z[top] - z[$0] > max(noise, 50) }
      if clear {
        #expect(p[top] == 1, "\(weights) \(bias) \(x)")
      } else if scale < 1e300 {
        let m = z.max() ?? 0
        let e = z.map { Foundation.exp(Double($0 - m)) }
        let total = e.reduce(0, +)
        for j in 0..<k { #expect(abs(p[j] - e[j] / total) <= 1e-9) }
      }
    }
  }
}

@Suite("Options that size allocations, and splits")
struct SizeOptionTests {
  @Test("a batch size of Int.max is full-batch SGD, the same model as a batch of n")
  func hugeBatch() throws {
    let data = try LabelledData(named: "iris")
    var options = TrainingOptions()
    options.solver = .sgd
    options.stochastic.epochs = 4
    options.stochastic.batchSize = Int.max
    let huge = try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: ["0", "1", "2"], options: options)
    options.stochastic.batchSize = data.features.rows
    let exact = try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: ["0", "1", "2"], options: options)
    #expect(huge.parameters == exact.parameters)
  }

  @Test("StratifiedSplit: a fraction outside (0, 1) and a label out of range are typed errors")
  func splitErrors() {
    var generator = SplitMix64(seed: 1)
    for fraction in [1.5, 1, 0, -0.1, .nan, .infinity] {
      #expect(throws: TrainingError.self) {
        _ = try StratifiedSplit.split(
          labels: [0, 1, 0, 1], classCount: 2, fraction: fraction, using: &generator)
      }
    }
    #expect(throws: TrainingError.self) {
      _ = try StratifiedSplit.split(
        labels: [0, 5], classCount: 2, fraction: 0.5, using: &generator)
    }
  }

  @Test("the model encoder refuses non-finite parameters with a typed error")
  func encoderRefuses() {
    let model = SoftmaxClassifier(
      classes: ["a", "b"], weight: Matrix(rows: 2, columns: 1, elements: [.infinity, 0]),
      bias: [0, 0])
    #expect(
      throws: TrainingError(
        .outOfRange, "the model cannot be written: weight [0][0] = inf is not finite")
    ) {
      _ = try ModelFile.encode(model)
    }
  }
}

@Suite("Blocked sums in waves", .serialized)
struct WaveTests {
  /// 40 000 rows are 157 blocks of 256: five waves of 32. The objective is
  /// bitwise the same for 1, 2 and 3 threads, and within 1e-12 of a plain
  /// sum in Float80 order-free reference.
  @Test func manyWaves() throws {
    let n = 40_000
    var generator = SplitMix64(seed: 3)
    let features = Matrix(
      rows: n, columns: 3,
      elements: (0..<(3 * n)).map { _ in Double(generator.next(below: 2000)) / 500 - 2 })
    let labels = (0..<n).map { $0 % 3 }
    let objective = try SoftmaxRegressionObjective(
      features: features, labels: labels, classCount: 3, l2: 0.001)
    let parameters = (0..<12).map { Double($0 % 5) / 7 - 0.2 }
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    var results: [[Double]] = []
    for threads in [1, 2, 3] {
      SoftmaxConfiguration.threadCount = threads
      var gradient: [Double] = []
      let value = objective.smoothValueAndGradient(at: parameters, gradient: &gradient)
      results.append([value] + gradient)
    }
    #expect(results[0] == results[1] && results[1] == results[2])
    // The reference: every row's loss in Float80, summed in any order.
    var loss: ReferenceScalar = 0
    for i in 0..<n {
      var z = [ReferenceScalar](repeating: 0, count: 3)
      for j in 0..<3 {
        z[j] = ReferenceScalar(parameters[9 + j])
        for c in 0..<3 {
          z[j] += ReferenceScalar(parameters[j * 3 + c]) * ReferenceScalar(features[i, c])
        }
      }
      let m = z.max() ?? 0
      let sum = z.map { ReferenceScalar(Foundation.exp(Double($0 - m))) }.reduce(0, +)
      loss += ReferenceScalar(Foundation.log(Double(sum))) + m - z[labels[i]]
    }
    var penalty: ReferenceScalar = 0
    for index in 0..<9 { penalty += ReferenceScalar(parameters[index] * parameters[index]) }
    let expected = Double(loss / ReferenceScalar(n) + 0.0005 * penalty)
    #expect(abs(results[0][0] - expected) <= 1e-12 * expected)
  }
}
