//===--- CheckpointTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxRegression
import Testing
import _SoftmaxTestSupport

@Suite("Checkpoints: stop anywhere, resume, and get the uninterrupted model bit for bit")
struct CheckpointTests {
  struct Setup: CustomStringConvertible, Sendable {
    var name: String
    var options: TrainingOptions
    var description: String { name }
  }

  static let setups: [Setup] = {
    var lbfgs = TrainingOptions()
    lbfgs.l2 = 1e-2
    lbfgs.standardize = true
    lbfgs.lbfgs.maxIterations = 40
    var owlqn = lbfgs
    owlqn.l1 = 1e-3
    var gd = TrainingOptions()
    gd.solver = .gradientDescent
    gd.l2 = 1e-2
    gd.standardize = true
    gd.lbfgs.maxIterations = 30
    var sgd = TrainingOptions()
    sgd.solver = .sgd
    sgd.l2 = 1e-3
    sgd.standardize = true
    sgd.stochastic.epochs = 8
    sgd.stochastic.batchSize = 32
    sgd.stochastic.momentum = 0.9
    sgd.stochastic.nesterov = true
    sgd.stochastic.seed = 11
    var adam = sgd
    adam.solver = .adam
    adam.stochastic.momentum = 0
    adam.stochastic.nesterov = false
    adam.stochastic.schedule = .cosine
    adam.stochastic.learningRate = 0.01
    var early = EarlyStopping()
    early.patience = 2
    early.minImprovement = 1e-3
    adam.stochastic.earlyStopping = early
    adam.stochastic.epochs = 30
    // Float correction pairs (large models' default), forced on iris: a
    // checkpoint holds them widened to Double, and they narrow back
    // exactly.
    var newton = lbfgs
    newton.solver = .newton
    newton.lbfgs.gradientTolerance = 1e-12
    newton.lbfgs.relativeObjectiveTolerance = 0
    var lbfgsFloat = lbfgs
    lbfgsFloat.lbfgs.pairStorage = .float
    var owlqnFloat = owlqn
    owlqnFloat.lbfgs.pairStorage = .float
    return [
      Setup(name: "L-BFGS", options: lbfgs), Setup(name: "OWL-QN (L1)", options: owlqn),
      Setup(name: "L-BFGS, Float pairs", options: lbfgsFloat),
      Setup(name: "OWL-QN, Float pairs", options: owlqnFloat),
      Setup(name: "gradient descent", options: gd),
      Setup(name: "trust-region Newton", options: newton),
      Setup(name: "SGD, Nesterov momentum", options: sgd),
      Setup(name: "Adam, cosine schedule, early stopping", options: adam),
    ]
  }()

  static let data: LabelledData? = try? LabelledData(named: "iris")

  func fit(
    _ data: LabelledData, _ options: TrainingOptions, resumingFrom checkpoint: TrainingCheckpoint?,
    checkpoints: Bool = true, progress: (IterationReport) -> Bool = { _ in true }
  ) throws -> SoftmaxClassifier {
    try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: ["0", "1", "2"],
      featureNames: ["a", "b", "c", "d"], options: options, resumingFrom: checkpoint,
      checkpoints: checkpoints, progress: progress)
  }

  @Test("each solver, stopped after iterations 1, 2, the middle and the last", arguments: setups)
  func resumeGivesTheSameModel(_ setup: Setup) throws {
    let data = try #require(Self.data)
    let plain = try fit(data, setup.options, resumingFrom: nil, checkpoints: false)
    var saved: [TrainingCheckpoint] = []
    let uninterrupted = try fit(data, setup.options, resumingFrom: nil) { report in
      if let checkpoint = report.checkpoint { saved.append(checkpoint) }
      return true
    }
    // Asking for checkpoints changes nothing.
    #expect(try ModelFile.encode(uninterrupted) == ModelFile.encode(plain))
    let iterations = try #require(uninterrupted.training?.iterations)
    #expect(saved.count == iterations && iterations >= 4, "one checkpoint per iteration")
    for stop in Set([1, 2, iterations / 2, iterations - 1, iterations]) {
      // Stopped (as by Ctrl-C) after iteration `stop`, saved to a file's
      // bytes, read back, and resumed.
      var last: TrainingCheckpoint? = nil
      let stopped = try fit(data, setup.options, resumingFrom: nil) { report in
        last = report.checkpoint
        return report.iteration < stop
      }
      let checkpoint = try TrainingCheckpoint.decode(try #require(last).encoded())
      #expect(checkpoint == last, "the file round-trips the state exactly")
      #expect(checkpoint.iteration == stop)
      if stop < iterations { #expect(stopped.training?.stopReason == .cancelled) }
      var reported: [Int] = []
      let resumed = try fit(data, setup.options, resumingFrom: checkpoint) { report in
        reported.append(report.iteration)
        return true
      }
      // It went on from there, not from the start.
      #expect(reported == Array((stop + 1)..<(iterations + 1)))
      #expect(
        try ModelFile.encode(resumed) == ModelFile.encode(uninterrupted),
        "stopped after \(stop) of \(iterations)")
      #expect(checkpoint == saved[stop - 1], "the same state whether stopped there or not")
    }
  }

  @Test("a checkpoint is refused for other options, other data, or another version")
  func refusals() throws {
    let data = try #require(Self.data)
    let options = Self.setups[0].options
    var last: TrainingCheckpoint? = nil
    _ = try fit(data, options, resumingFrom: nil) { report in
      last = report.checkpoint
      return report.iteration < 3
    }
    let checkpoint = try #require(last)
    var other = options
    other.l2 = 0.5
    #expect {
      try fit(data, other, resumingFrom: checkpoint)
    } throws: { error in
      (error as? TrainingError)?.message.contains("other training options (l2)") == true
    }
    var changed = data
    changed.labels[0] = 1
    #expect {
      try fit(changed, options, resumingFrom: checkpoint)
    } throws: { error in
      (error as? TrainingError)?.message.contains("other data") == true
    }
    // A damaged state (a vector one value short) is an error, not a trap.
    var object = try #require(
      try JSONSerialization.jsonObject(with: Data(checkpoint.encoded())) as? [String: Any])
    var solver = try #require(object["solver"] as? [String: Any])
    var lbfgs = try #require(solver["lbfgs"] as? [String: Any])
    var state = try #require(lbfgs["state"] as? [String: Any])
    state["x"] = Array(try #require(state["x"] as? [Any]).dropLast())
    lbfgs["state"] = state
    solver["lbfgs"] = lbfgs
    object["solver"] = solver
    let damaged = try TrainingCheckpoint.decode(
      Array(try JSONSerialization.data(withJSONObject: object)))
    #expect {
      try fit(data, options, resumingFrom: damaged)
    } throws: { error in
      (error as? TrainingError)?.message.contains("damaged checkpoint: x has 14 values, not 15")
        == true
    }
    var text = String(decoding: checkpoint.encoded(), as: UTF8.self)
    text = text.replacingOccurrences(of: "\"version\":1", with: "\"version\":2")
    #expect {
      try TrainingCheckpoint.decode(Array(text.utf8))
    } throws: { error in
      (error as? TrainingError)?.message.contains("newer than this build") == true
    }
    #expect(throws: TrainingError.self) {
      try TrainingCheckpoint.decode(
        Array(ModelFile.encode(try fit(data, options, resumingFrom: nil))))
    }
  }

  /// The fuzz target's fixed data set: its findings' fingerprints match it.
  static let fuzzData: LabelledData = {
    let (features, labels) = checkpointFuzzData()
    return LabelledData(features: features, labels: labels)
  }()

  @Test("a fuzzer finding: a checkpoint asking for -2 line-search steps is an error, not a trap")
  func negativeLineSearchSteps() throws {
    let path = repositoryRoot.appendingPathComponent(
      "Tests/SoftmaxRegressionTests/Fixtures/FuzzRegressions/checkpoint-negative-line-search-steps"
    ).path
    let bytes = try #require(FileManager.default.contents(atPath: path))
    let checkpoint = try TrainingCheckpoint.decode(Array(bytes))
    #expect(checkpoint.options.lbfgs.maxLineSearchSteps == -2)
    #expect {
      try SoftmaxClassifier.fit(
        features: Self.fuzzData.features, labels: Self.fuzzData.labels,
        classes: ["a", "b", "c"], options: checkpoint.options, resumingFrom: checkpoint)
    } throws: { error in
      (error as? TrainingError)?.message.contains("line search steps = -2 must be at least 1")
        == true
    }
    // The optimizer itself, called directly, fails its line searches
    // rather than trapping (plain and OWL-QN).
    var options = LBFGSOptions()
    options.maxLineSearchSteps = -2
    for l1 in [0.0, 0.1] {
      let result = LBFGS(options: options).minimize(from: [1, 2], l1: l1, l1Count: 2) { x, g in
        g = x
        return 0.5 * (x[0] * x[0] + x[1] * x[1])
      }
      #expect(result.stopReason == .lineSearchFailed)
    }
  }

  @Test(
    "a fuzzer finding: a checkpoint whose evaluation count is Int.max is an error, not an overflow")
  func evaluationCountOverflow() throws {
    // Found by the `resume` target (Fuzz/Sources/PipelineTarget.swift):
    // the count went up by one in OWL-QN's line search and overflowed.
    let path = repositoryRoot.appendingPathComponent(
      "Tests/SoftmaxRegressionTests/Fixtures/FuzzRegressions/resume-evaluations-overflow"
    ).path
    let bytes = try #require(FileManager.default.contents(atPath: path))
    let checkpoint = try TrainingCheckpoint.decode(Array(bytes))
    #expect {
      try SoftmaxClassifier.fit(
        features: Self.fuzzData.features, labels: Self.fuzzData.labels,
        classes: ["a", "b", "c"], options: checkpoint.options, resumingFrom: checkpoint)
    } throws: { error in
      (error as? TrainingError)?.message
        == "a damaged checkpoint: evaluations = 9223372036854775807 is out of 0...9007199254740992"
    }
  }
}
