//===--- OptimumTests.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxRegression
import Testing
import _SoftmaxTestSupport

/// L-BFGS reaches scikit-learn's optimum (a float64 fit at tol 1e-10,
/// Scripts/make_regression_fixtures.py) on the shipped iris and digits
/// data, from several starting points.
///
/// Tolerance: 1e-6 relative on the objective (the issue's gate). The
/// reference is converged to about 1e-8 relative (digits at C = 1 is the
/// slowest: scikit-learn stops 1.3e-8 above where this L-BFGS gets), so a
/// result more than 1e-7 relative *below* it would mean the two objectives
/// differ: that is checked too. Our stopping rule: largest gradient
/// component 1e-8 (scikit-learn's reference stops at 1e-10 on its sum
/// objective, n·C times ours, i.e. 1e-13 to 7e-14 in ours, but its line
/// search gives up first).
@Suite("L-BFGS and trust-region Newton reach scikit-learn's optimum")
struct OptimumTests {
  @Test(
    "iris and digits, with L2, standardization, class and sample weights",
    arguments: 0..<5, [TrainingOptions.Solver.lbfgs, .newton])
  func reachesOptimum(caseIndex: Int, solver: TrainingOptions.Solver) throws {
    let reference = try OptimumFixture.load().cases[caseIndex]
    var data = try LabelledData(named: reference.dataset)
    if let rows = reference.rows { data = data.subset(rows) }
    let classes = ClassEncoding(labels: data.labels)
    let weights = reference.sampleWeights ? fixtureSampleWeights(data.labels.count) : nil
    var options = TrainingOptions()
    options.solver = solver
    options.l2 = reference.l2
    options.standardize = reference.standardize
    options.classWeighting = reference.balanced ? .balanced : .uniform
    options.lbfgs.maxIterations = 20_000
    options.lbfgs.gradientTolerance = 1e-8
    options.lbfgs.relativeObjectiveTolerance = 0
    let k = classes.classes.count
    let d = data.features.columns
    var generator = SplitMix64(seed: 7)
    let starts: [[Double]?] = [
      nil,
      [Double].random(count: k * (d + 1), in: -1...1, using: &generator),
      (reference.weights.flatMap { $0 } + reference.bias).map { $0 * 0.5 + 0.1 },
    ]
    for start in starts {
      let warmStart = start.map { parameters in
        SoftmaxClassifier(
          classes: classes.classes,
          weight: Matrix(rows: k, columns: d, elements: Array(parameters[0..<(k * d)])),
          bias: Array(parameters[(k * d)...]),
          standardization: reference.standardize
            ? Standardization(fitting: data.features, sampleWeights: weights) : nil)
      }
      let model = try SoftmaxClassifier.fit(
        features: data.features, labels: classes.indices, classes: classes.classes,
        sampleWeights: weights, options: options, warmStart: warmStart)
      let record = try #require(model.training)
      let relative = (record.objective - reference.objective) / reference.objective
      #expect(
        abs(relative) <= 1e-6,
        "\(solver) \(reference.name), start \(start == nil ? "zeros" : "given"): objective \(record.objective), scikit-learn \(reference.objective), relative \(relative), \(record.iterations) iterations, \(record.stopReason)"
      )
      #expect(relative >= -1e-7, "below scikit-learn's optimum: the objectives differ")
      #expect(record.converged, "\(reference.name): \(record.stopReason)")
    }
  }
}
