//===--- ObjectiveTests.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxRegression
import Testing
import _SoftmaxTestSupport

/// A random problem: features with offsets and spreads that differ per
/// column (one constant column), labels, weights.
func randomProblem(rows n: Int, features d: Int, classes k: Int, seed: UInt64)
  -> (features: Matrix<Double>, labels: [Int], sampleWeights: [Double], parameters: [Double])
{
  var generator = SplitMix64(seed: seed)
  var elements: [Double] = []
  for _ in 0..<n {
    for c in 0..<d {
      let offset = Double(c) * 3 - 5
      let spread = c == 1 ? 0 : 0.5 + Double(c % 4)
      elements.append(offset + spread * Double.random(in: -1...1, using: &generator))
    }
  }
  let labels = (0..<n).map { _ in Int.random(in: 0..<k, using: &generator) }
  let weights = [Double].random(count: n, in: 0.2...2, using: &generator)
  let parameters = [Double].random(count: k * (d + 1), in: -0.5...0.5, using: &generator)
  return (Matrix(rows: n, columns: d, elements: elements), labels, weights, parameters)
}

@Suite("The objective and its gradient")
struct ObjectiveTests {
  /// Central differences in Double (h = 1e-5: truncation and rounding
  /// both near 1e-10 for an objective of order 1) against the analytic
  /// gradient with every term on: sample and class weights, L2,
  /// standardization (with a constant column). Tolerance 1e-7 absolute,
  /// 1000× the difference's own error.
  @Test("gradient matches central differences (weights, L2, standardization)")
  func gradientMatchesFiniteDifferences() throws {
    for standardize in [false, true] {
      let problem = randomProblem(rows: 300, features: 5, classes: 4, seed: 11)
      let objective = try SoftmaxRegressionObjective(
        features: problem.features, labels: problem.labels, classCount: 4,
        sampleWeights: problem.sampleWeights, classWeights: [1, 2, 0.5, 1.5], l2: 0.03,
        standardization: standardize ? Standardization(fitting: problem.features) : nil)
      var gradient: [Double] = []
      let value = objective.valueAndGradient(at: problem.parameters, gradient: &gradient)
      #expect(value == objective.value(at: problem.parameters))
      let numeric = centralDifferenceGradient(at: problem.parameters) { objective.value(at: $0) }
      for (index, (analytic, difference)) in zip(gradient, numeric).enumerated() {
        #expect(
          abs(analytic - difference) <= 1e-7,
          "standardize \(standardize), parameter \(index): \(analytic) vs \(difference)")
      }
    }
  }

  /// The objective at W = 0, b = 0 is log k whatever the data (every class
  /// has probability 1/k): a closed form.
  @Test("at zero parameters the objective is log k")
  func zeroParameters() throws {
    let problem = randomProblem(rows: 1000, features: 7, classes: 5, seed: 3)
    let objective = try SoftmaxRegressionObjective(
      features: problem.features, labels: problem.labels, classCount: 5,
      sampleWeights: problem.sampleWeights, l2: 1)
    let value = objective.value(at: [Double](repeating: 0, count: objective.parameterCount))
    #expect(abs(value - Double.log(5)) <= 1e-15 * 4)
  }

  /// The Float kernel (logits in float) against the Double path on the
  /// same data: the relative error of a float dot product of d terms is
  /// about d·2⁻²⁴ at worst; 1e-5 relative on the objective and 1e-4 of
  /// the largest gradient component allow d = 40 with margin.
  @Test("Float features: the vectorized kernel agrees with the Double path")
  func floatKernelAgrees() throws {
    for (k, d) in [(3, 4), (10, 40), (17, 33), (1, 5)] {
      let problem = randomProblem(rows: 700, features: d, classes: k, seed: UInt64(k * 100 + d))
      let floats = Matrix(
        rows: problem.features.rows, columns: d,
        elements: problem.features.elements.map { Float($0) })
      let doubles = Matrix(
        rows: floats.rows, columns: d, elements: floats.elements.map { Double($0) })
      for standardization in [nil, Standardization(fitting: doubles)] {
        let exact = try SoftmaxRegressionObjective(
          features: doubles, labels: problem.labels, classCount: k,
          sampleWeights: problem.sampleWeights, l2: 0.01, standardization: standardization)
        let fast = try SoftmaxRegressionObjective(
          features: floats, labels: problem.labels, classCount: k,
          sampleWeights: problem.sampleWeights, l2: 0.01, standardization: standardization)
        var g1: [Double] = []
        var g2: [Double] = []
        let f1 = exact.valueAndGradient(at: problem.parameters, gradient: &g1)
        let f2 = fast.valueAndGradient(at: problem.parameters, gradient: &g2)
        #expect(abs(f1 - f2) <= 1e-5 * abs(f1), "k \(k), d \(d): \(f1) vs \(f2)")
        let scale = g1.map(abs).max()!
        let worst = zip(g1, g2).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * scale, "k \(k), d \(d): gradient off by \(worst) of \(scale)")
      }
    }
  }

  @Test("bad data and options throw, naming the value")
  func badInput() {
    let x = Matrix(rows: 2, columns: 2, elements: [1.0, 2, .nan, 4])
    #expect(throws: TrainingError.self) {
      _ = try SoftmaxRegressionObjective(features: x, labels: [0, 1], classCount: 2)
    }
    do {
      _ = try SoftmaxRegressionObjective(features: x, labels: [0, 1], classCount: 2)
    } catch {
      #expect(error.code == .nonFiniteValue)
      #expect(error.message.contains("row 1, column 0"))
    }
    let good = Matrix(rows: 2, columns: 1, elements: [1.0, 2])
    #expect(
      throws: TrainingError(
        .labelOutOfRange, "row 1: label 2 is not in 0..<2", location: ErrorLocation(row: 1))
    ) {
      _ = try SoftmaxRegressionObjective(features: good, labels: [0, 2], classCount: 2)
    }
    #expect(throws: TrainingError.self) {
      _ = try SoftmaxRegressionObjective(
        features: good, labels: [0, 1], classCount: 2, sampleWeights: [0, 0])
    }
    #expect(throws: TrainingError.self) {
      _ = try SoftmaxRegressionObjective(features: good, labels: [0, 1], classCount: 2, l2: -1)
    }
  }
}

/// Changes the process-wide thread count: one test at a time.
@Suite("Determinism", .serialized)
struct DeterminismTests {
  @Test("same data and seed: bitwise the same model with 1, 2 and 3 threads")
  func threadCountDoesNotMatter() throws {
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    let problem = randomProblem(rows: 5000, features: 30, classes: 6, seed: 5)
    let floats = Matrix(
      rows: 5000, columns: 30, elements: problem.features.elements.map { Float($0) })
    var options = TrainingOptions()
    options.l2 = 1e-3
    options.standardize = true
    options.lbfgs.maxIterations = 30
    var models: [SoftmaxClassifier] = []
    for threads in [1, 2, 3] {
      SoftmaxConfiguration.threadCount = threads
      models.append(
        try SoftmaxClassifier.fit(
          features: floats, labels: problem.labels, classes: (0..<6).map(String.init),
          sampleWeights: problem.sampleWeights, options: options))
    }
    #expect(models[0] == models[1])
    #expect(models[0] == models[2])
    let record = try #require(models[0].training)
    #expect(record.iterations >= 5, "\(record.stopReason) after \(record.iterations) iterations")
  }
}

@Suite("The L-BFGS preconditioner")
struct PreconditionerTests {
  /// At W = 0, b = 0 the preconditioner is the reciprocal of the Hessian's
  /// diagonal: central differences of the analytic gradient (h = 1e-4;
  /// the gradient is smooth, truncation ~h²·|∂³L| ≈ 1e-8) agree to 1e-6
  /// relative, with sample weights, class weights, L2 and standardization.
  @Test("is the reciprocal Hessian diagonal at zero")
  func reciprocalHessianDiagonal() throws {
    let problem = randomProblem(rows: 250, features: 4, classes: 3, seed: 31)
    let objective = try SoftmaxRegressionObjective(
      features: problem.features, labels: problem.labels, classCount: 3,
      sampleWeights: problem.sampleWeights, classWeights: [1, 2, 0.5], l2: 0.05,
      standardization: Standardization(fitting: problem.features))
    let preconditioner = objective.diagonalPreconditioner()
    let zero = [Double](repeating: 0, count: objective.parameterCount)
    let h = 1e-4
    for index in zero.indices {
      var plus = zero
      var minus = zero
      plus[index] = h
      minus[index] = -h
      var gPlus: [Double] = []
      var gMinus: [Double] = []
      _ = objective.smoothValueAndGradient(at: plus, gradient: &gPlus)
      _ = objective.smoothValueAndGradient(at: minus, gradient: &gMinus)
      let second = (gPlus[index] - gMinus[index]) / (2 * h)
      #expect(
        abs(1 / preconditioner[index] - second) <= 1e-6 * second,
        "parameter \(index): \(1 / preconditioner[index]) vs \(second)")
    }
  }
}
