//===--- NewtonTrainingTests.swift ----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Training with the trust-region Newton solver (`.newton`): the same model
// bits for every thread count, and the cases it refuses. Its optimum is
// checked against scikit-learn's in OptimumTests, its checkpoints in
// CheckpointTests, the solver on known functions in SolverTests.

import SoftmaxCore
import SoftmaxRegression
import Testing
import _SoftmaxTestSupport

@Suite("Training with the trust-region Newton solver")
struct NewtonTrainingTests {
  static func digits() throws -> (features: Matrix<Float>, labels: [Int], classes: [String]) {
    let data = try LabelledData(named: "digits")
    let features = Matrix(
      rows: data.features.rows, columns: data.features.columns,
      elements: data.features.elements.map { Float($0) })
    return (features, data.labels, (0..<10).map(String.init))
  }

  static var options: TrainingOptions {
    var options = TrainingOptions()
    options.solver = .newton
    options.l2 = 1e-3
    options.standardize = true
    // The Float kernels' gradient is exact to about 1e-7 here: a tighter
    // tolerance would end in rounding noise (lineSearchFailed).
    options.lbfgs.gradientTolerance = 1e-6
    options.lbfgs.relativeObjectiveTolerance = 0
    return options
  }

  @Test("The same model file for 1, 2 and 3 threads (Float kernels)")
  func threadCounts() throws {
    try withStableCPULevel {
      let (features, labels, classes) = try Self.digits()
      let saved = SoftmaxConfiguration.threadCount
      defer { SoftmaxConfiguration.threadCount = saved }
      var files: Set<[UInt8]> = []
      var record: TrainingRecord? = nil
      for threads in [1, 2, 3] {
        SoftmaxConfiguration.threadCount = threads
        let model = try SoftmaxClassifier.fit(
          features: features, labels: labels, classes: classes, options: Self.options)
        files.insert(try ModelFile.encode(model))
        record = model.training
      }
      #expect(files.count == 1)
      let training = try #require(record)
      #expect(training.stopReason == .gradientTolerance, "\(training.stopReason)")
      #expect(training.gradientNorm <= 1e-6)
    }
  }

  /// Newton and L-BFGS minimize the same objective: their optima agree to
  /// the stopping rule (largest gradient component 1e-6; the objective is
  /// strongly convex with λ₂ = 1e-3, so each is within
  /// ‖g‖²·(parameter count)/(2λ₂) ≈ 3e-7 of the optimum, about 1e-6 of
  /// the objective's 0.3) plus the Float kernels' rounding of the
  /// objective (about 1e-7 relative for 64 features): 2e-6 relative.
  @Test("Newton reaches L-BFGS's optimum, in far fewer iterations")
  func sameOptimumAsLBFGS() throws {
    let (features, labels, classes) = try Self.digits()
    let newton = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: classes, options: Self.options)
    var options = Self.options
    options.solver = .lbfgs
    let lbfgs = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: classes, options: options)
    let a = try #require(newton.training)
    let b = try #require(lbfgs.training)
    #expect(
      abs(a.objective - b.objective) <= 2e-6 * b.objective, "\(a.objective) vs \(b.objective)")
    #expect(a.iterations * 5 < b.iterations, "\(a.iterations) against \(b.iterations)")
  }

  @Test("Refused: an L1 term, hidden layers, streamed rows")
  func refusals() throws {
    let (features, labels, classes) = try Self.digits()
    var l1 = Self.options
    l1.l1 = 1e-3
    #expect(throws: TrainingError.self) {
      try SoftmaxClassifier.fit(features: features, labels: labels, classes: classes, options: l1)
    }
    var network = Self.options
    network.hidden = .init(widths: [8])
    do {
      _ = try SoftmaxClassifier.fit(
        features: features, labels: labels, classes: classes, options: network)
      Issue.record("a network trained with newton")
    } catch {
      #expect(error.code == .invalidOption)
      #expect("\(error)".contains("newton"), "\(error)")
    }
    do {
      _ = try SoftmaxClassifier.fit(
        streaming: features, labels: labels, classes: classes, options: Self.options)
      Issue.record("streamed rows trained with newton")
    } catch {
      #expect(error.code == .invalidOption)
      #expect("\(error)".contains("lbfgs"), "\(error)")
    }
  }
}
