//===--- StochasticTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxRegression
import Testing
import _SoftmaxTestSupport

/// Relative distance between two parameter vectors, `max|a − b| / max(max|b|, 1)`.
private func relativeDistance(_ a: [Double], _ b: [Double]) -> Double {
  let scale = max(b.map(abs).max() ?? 0, 1)
  return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

@Suite("Minibatch objective")
struct MinibatchObjectiveTests {
  /// Every row, in a shuffled order, as one minibatch is the full smooth
  /// objective: only the summation order differs (Double: ≤ 1e-13
  /// relative for 300 terms of order 1).
  @Test("all rows as one minibatch give the full objective and gradient")
  func allRowsGiveTheFullObjective() throws {
    let problem = randomProblem(rows: 300, features: 5, classes: 4, seed: 21)
    let objective = try SoftmaxRegressionObjective(
      features: problem.features, labels: problem.labels, classCount: 4,
      sampleWeights: problem.sampleWeights, classWeights: [1, 2, 0.5, 1.5], l2: 0.03,
      standardization: Standardization(fitting: problem.features))
    var rows = Array(0..<300)
    var generator = SplitMix64(seed: 3)
    generator.shuffle(&rows)
    var full: [Double] = []
    var batch: [Double] = []
    let fullValue = objective.smoothValueAndGradient(at: problem.parameters, gradient: &full)
    let batchValue = objective.minibatchValueAndGradient(
      rows: rows, at: problem.parameters, gradient: &batch)
    #expect(abs(fullValue - batchValue) <= 1e-13 * abs(fullValue))
    #expect(relativeDistance(batch, full) <= 1e-13)
  }

  /// A minibatch is the objective of a data set made of just its rows
  /// (same class weights, the batch's own sample-weight total), and its
  /// cross-entropy is that objective without the penalty.
  @Test("a minibatch is the objective of its rows alone")
  func minibatchIsTheObjectiveOfItsRows() throws {
    let problem = randomProblem(rows: 200, features: 6, classes: 3, seed: 22)
    let classWeights = [0.5, 1, 2.0]
    let objective = try SoftmaxRegressionObjective(
      features: problem.features, labels: problem.labels, classCount: 3,
      sampleWeights: problem.sampleWeights, classWeights: classWeights, l2: 0.01)
    let rows = [17, 3, 150, 150, 42, 199, 0, 88, 120, 64, 65, 66, 9]
    let subset = LabelledData(features: problem.features, labels: problem.labels).subset(rows)
    let alone = try SoftmaxRegressionObjective(
      features: subset.features, labels: subset.labels, classCount: 3,
      sampleWeights: rows.map { problem.sampleWeights[$0] }, classWeights: classWeights, l2: 0.01)
    var expected: [Double] = []
    var actual: [Double] = []
    let expectedValue = alone.smoothValueAndGradient(at: problem.parameters, gradient: &expected)
    let actualValue = objective.minibatchValueAndGradient(
      rows: rows, at: problem.parameters, gradient: &actual)
    #expect(abs(expectedValue - actualValue) <= 1e-14 * abs(expectedValue))
    #expect(relativeDistance(actual, expected) <= 1e-14)
    let unpenalised = try SoftmaxRegressionObjective(
      features: subset.features, labels: subset.labels, classCount: 3,
      sampleWeights: rows.map { problem.sampleWeights[$0] }, classWeights: classWeights)
    let crossEntropy = objective.crossEntropy(rows: rows, at: problem.parameters)
    #expect(abs(crossEntropy - unpenalised.value(at: problem.parameters)) <= 1e-14 * crossEntropy)
  }

  /// The Float kernel on a gathered minibatch against the Double path:
  /// logits accumulate in Float over d = 64 features (error ≈ √d·2⁻²⁴
  /// relative to Σ|w·x|), so 1e-5 relative to the gradient's scale.
  @Test("Float minibatch kernel matches the Double path", arguments: [1, 3, 10, 17])
  func floatMinibatchMatchesDouble(classes: Int) throws {
    let problem = randomProblem(rows: 400, features: 64, classes: classes, seed: 23)
    let floats = Matrix(
      rows: 400, columns: 64, elements: problem.features.elements.map { Float($0) })
    let roundTripped = Matrix(
      rows: 400, columns: 64, elements: floats.elements.map { Double($0) })
    let standardization = Standardization(fitting: roundTripped)
    let double = try SoftmaxRegressionObjective(
      features: roundTripped, labels: problem.labels, classCount: classes,
      sampleWeights: problem.sampleWeights, standardization: standardization)
    let float = try SoftmaxRegressionObjective(
      features: floats, labels: problem.labels, classCount: classes,
      sampleWeights: problem.sampleWeights, standardization: standardization)
    let rows = (0..<150).map { ($0 * 37 + 11) % 400 }
    var expected: [Double] = []
    var actual: [Double] = []
    let expectedValue = double.minibatchValueAndGradient(
      rows: rows, at: problem.parameters, gradient: &expected)
    let actualValue = float.minibatchValueAndGradient(
      rows: rows, at: problem.parameters, gradient: &actual)
    #expect(abs(expectedValue - actualValue) <= 1e-5 * abs(expectedValue))
    #expect(relativeDistance(actual, expected) <= 1e-5)
  }
}

@Suite("Minibatch solvers: SGD, momentum, Nesterov, Adam")
struct StochasticSolverTests {
  static func iris() throws -> (features: Matrix<Double>, labels: [Int]) {
    let data = try LabelledData(named: "iris")
    return (data.features, data.labels)
  }

  static func options(
    _ solver: TrainingOptions.Solver, epochs: Int, batch: Int = 1000, rate: Double,
    momentum: Double = 0, nesterov: Bool = false, shuffle: Bool = false
  ) -> TrainingOptions {
    var options = TrainingOptions()
    options.solver = solver
    options.standardize = true
    options.l2 = 0.01
    options.stochastic.epochs = epochs
    options.stochastic.batchSize = batch
    options.stochastic.learningRate = rate
    options.stochastic.momentum = momentum
    options.stochastic.nesterov = nesterov
    options.stochastic.shuffle = shuffle
    return options
  }

  /// Three full-batch steps of each update rule against the rule written
  /// out here from its definition (PyTorch's SGD and Adam documentation),
  /// with the full gradient: equal up to summation order (1e-12).
  @Test(
    "update rules match their definitions",
    arguments: [
      ("sgd", 0.0, false), ("momentum", 0.9, false), ("nesterov", 0.9, true), ("adam", 0.0, false),
    ])
  func updateRules(name: String, momentum: Double, nesterov: Bool) throws {
    let (features, labels) = try Self.iris()
    let solver: TrainingOptions.Solver = name == "adam" ? .adam : .sgd
    let rate = name == "adam" ? 0.05 : 0.3
    // Unstandardized and with unequal class weights: at W = 0 the
    // standardized gradient of balanced iris has components that are pure
    // rounding noise, which Adam's g/√(g²) would amplify.
    var options = Self.options(
      solver, epochs: 3, rate: rate, momentum: momentum, nesterov: nesterov)
    options.standardize = false
    options.classWeighting = .custom([1, 2, 0.5])
    let model = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["0", "1", "2"], options: options)
    let objective = try SoftmaxRegressionObjective(
      features: features, labels: labels, classCount: 3, classWeights: [1, 2, 0.5], l2: 0.01)
    var x = [Double](repeating: 0, count: objective.parameterCount)
    var v = x
    var m = x
    var g: [Double] = []
    for t in 1...3 {
      _ = objective.smoothValueAndGradient(at: x, gradient: &g)
      for i in x.indices {
        switch name {
        case "adam":
          m[i] = 0.9 * m[i] + 0.1 * g[i]
          v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
          let mHat = m[i] / (1 - Double.pow(0.9, Double(t)))
          let vHat = v[i] / (1 - Double.pow(0.999, Double(t)))
          x[i] -= rate * mHat / (vHat.squareRoot() + 1e-8)
        default:
          v[i] = momentum * v[i] + g[i]
          x[i] -= rate * (nesterov ? g[i] + momentum * v[i] : v[i])
        }
      }
    }
    #expect(relativeDistance(model.parameters, x) <= 1e-12, "\(name)")
    #expect(model.training?.iterations == 3)
    #expect(model.training?.evaluations == 3)
  }

  /// Full-batch heavy-ball SGD on the strongly convex iris objective
  /// converges linearly to a gradient of 1e-10. The objective's Hessian is
  /// at least λ₂ = 0.01 on the weights, so it is within √15·1e-10/0.01 ≈
  /// 4e-8 of the optimum, and the L-BFGS reference (which stops where
  /// double rounding hides further decrease, at a gradient ≤ 1e-9) within
  /// 4e-7: 1e-6 holds.
  @Test("full-batch momentum SGD reaches the L-BFGS optimum")
  func fullBatchReachesOptimum() throws {
    let (features, labels) = try Self.iris()
    var reference = Self.options(.lbfgs, epochs: 0, rate: 1)
    reference.lbfgs.gradientTolerance = 1e-10
    reference.lbfgs.relativeObjectiveTolerance = 0
    let optimum = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["0", "1", "2"], options: reference)
    #expect(
      (optimum.training?.gradientNorm ?? 1) <= 1e-9,
      "\(String(describing: optimum.training?.gradientNorm))")
    var options = Self.options(.sgd, epochs: 5000, rate: 0.5, momentum: 0.9)
    options.lbfgs.gradientTolerance = 1e-10
    let model = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["0", "1", "2"], options: options)
    #expect(relativeDistance(model.parameters, optimum.parameters) <= 1e-6)
    #expect(model.training?.converged == true)
    #expect(model.training?.stopReason == .gradientTolerance)
  }

  /// Shuffled minibatches of 16 with momentum (SGD) or Adam, and a cosine
  /// schedule: within 1e-3 (relative) of the
  /// optimum's objective after 100 epochs; the reported objective is the
  /// exact full objective at the returned parameters.
  @Test("minibatch SGD and Adam get close to the optimum", arguments: ["sgd", "adam"])
  func minibatchGetsClose(name: String) throws {
    let (features, labels) = try Self.iris()
    var reference = Self.options(.lbfgs, epochs: 0, rate: 1)
    reference.lbfgs.gradientTolerance = 1e-10
    let optimum = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["0", "1", "2"], options: reference)
    var options =
      name == "adam"
      ? Self.options(.adam, epochs: 100, batch: 16, rate: 0.05, shuffle: true)
      : Self.options(.sgd, epochs: 100, batch: 16, rate: 0.1, momentum: 0.9, shuffle: true)
    options.stochastic.schedule = .cosine
    let model = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["0", "1", "2"], options: options)
    let objective = try SoftmaxRegressionObjective(
      features: features, labels: labels, classCount: 3, l2: 0.01,
      standardization: model.standardization)
    let record = try #require(model.training)
    let best = try #require(optimum.training?.objective)
    #expect(record.objective == objective.value(at: model.parameters))
    #expect(record.objective >= best - 1e-12)
    #expect(record.objective - best <= 1e-3 * best, "\(name): \(record.objective) vs \(best)")
    #expect(record.objectiveHistory.count == 100)
    #expect(record.converged == false || record.stopReason == .gradientTolerance)
  }

  /// Proximal full-batch SGD on an L1 objective converges to the OWL-QN
  /// optimum, zeros included.
  @Test("proximal SGD reaches the OWL-QN optimum with L1")
  func proximalL1() throws {
    let (features, labels) = try Self.iris()
    var reference = Self.options(.lbfgs, epochs: 0, rate: 1)
    reference.l1 = 0.02
    reference.lbfgs.gradientTolerance = 1e-10
    let optimum = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["0", "1", "2"], options: reference)
    var options = Self.options(.sgd, epochs: 20000, rate: 0.5)
    options.l1 = 0.02
    options.lbfgs.gradientTolerance = 1e-9
    let model = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["0", "1", "2"], options: options)
    #expect(relativeDistance(model.parameters, optimum.parameters) <= 1e-5)
    let zeros = optimum.weight.elements.filter { $0 == 0 }.count
    #expect(zeros > 0)
    #expect(model.weight.elements.filter { $0 == 0 }.count == zeros)
  }

  /// Early stopping with an improvement no epoch can make stops after
  /// `patience` further epochs and returns epoch 1's parameters: bitwise
  /// those of a one-epoch run with the same seed (same split, same
  /// shuffle).
  @Test("early stopping stops after patience and restores the best epoch")
  func earlyStoppingRestoresBest() throws {
    let (features, labels) = try Self.iris()
    var options = Self.options(
      .sgd, epochs: 50, batch: 8, rate: 0.05, momentum: 0.5, shuffle: true)
    var early = EarlyStopping()
    early.validationFraction = 0.2
    early.patience = 2
    early.minImprovement = 100
    options.stochastic.earlyStopping = early
    options.stochastic.seed = 7
    let stopped = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["0", "1", "2"], options: options)
    options.stochastic.epochs = 1
    let one = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: ["0", "1", "2"], options: options)
    let record = try #require(stopped.training)
    #expect(record.stopReason == .earlyStopping)
    #expect(record.iterations == 3)
    #expect(record.validationHistory?.count == 3)
    #expect(stopped.parameters == one.parameters)
    // 20 % of 50 rows per class: 30 validation rows, 120 training rows, in
    // batches of 8: 15 steps an epoch.
    #expect(record.evaluations == 45)
  }

  /// Patience with a real improvement threshold: training goes on while
  /// the held-out loss improves and the best epoch's loss is the minimum
  /// of the history.
  @Test("early stopping keeps the epoch with the least held-out loss")
  func earlyStoppingKeepsMinimum() throws {
    let data = try LabelledData(named: "digits")
    var options = Self.options(.sgd, epochs: 40, batch: 32, rate: 0.5, momentum: 0.9, shuffle: true)
    options.l2 = 0
    var early = EarlyStopping()
    early.patience = 3
    early.minImprovement = 0
    options.stochastic.earlyStopping = early
    let model = try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: (0..<10).map(String.init),
      options: options)
    let record = try #require(model.training)
    let history = try #require(record.validationHistory)
    let best = try #require(history.min())
    #expect(history.count == record.iterations)
    if record.stopReason == .earlyStopping {
      #expect(history.suffix(3).allSatisfy { $0 >= best })
    }
    // The returned parameters are the best epoch's: recompute the held-out
    // loss of every epoch with a run of that many epochs.
    let bestEpoch = try #require(history.firstIndex(of: best)) + 1
    options.stochastic.epochs = bestEpoch
    options.stochastic.earlyStopping?.restoreBest = false
    let rerun = try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: (0..<10).map(String.init),
      options: options)
    #expect(rerun.parameters == model.parameters)
  }

  /// A learning rate far too large makes the loss overflow (1e20) or
  /// explode while finite (1e300, with weights near 1e300): training
  /// stops, says so, and returns finite parameters that the model file
  /// takes.
  @Test(
    "divergence is reported, not returned as a model of NaNs",
    arguments: [TrainingOptions.Solver.sgd, .adam], [1e20, 1e300])
  func divergenceIsReported(_ solver: TrainingOptions.Solver, _ rate: Double) throws {
    let data = try LabelledData(named: "digits")
    var options = TrainingOptions()
    options.solver = solver
    options.stochastic.learningRate = rate
    let model = try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: (0..<10).map(String.init),
      options: options)
    #expect(model.training?.stopReason == .diverged)
    #expect(model.training?.converged == false)
    #expect(model.parameters.allSatisfy { $0.isFinite })
    _ = try ModelFile.encode(model)
  }

  @Test("bad stochastic options are rejected by name")
  func badOptions() throws {
    let (features, labels) = try Self.iris()
    func rejects(_ change: (inout TrainingOptions) -> Void, _ fragment: String) {
      var options = TrainingOptions()
      options.solver = .sgd
      change(&options)
      #expect {
        _ = try SoftmaxClassifier.fit(
          features: features, labels: labels, classes: ["0", "1", "2"], options: options)
      } throws: { error in
        guard let error = error as? TrainingError else { return false }
        return error.code == .invalidOption && error.message.contains(fragment)
      }
    }
    rejects({ $0.stochastic.batchSize = 0 }, "batch size")
    rejects({ $0.stochastic.momentum = 1 }, "momentum")
    rejects({ $0.stochastic.nesterov = true }, "Nesterov")
    rejects({ $0.stochastic.learningRate = -1 }, "learning rate")
    rejects({ $0.stochastic.schedule = .step(every: 0, factor: 0.5) }, "period")
    rejects(
      {
        $0.stochastic.earlyStopping = EarlyStopping()
        $0.stochastic.earlyStopping?.validationFraction = 1
      }, "validation fraction")
    rejects(
      {
        $0.solver = .adam
        $0.l1 = 0.1
      }, "L1")
    rejects(
      {
        $0.stochastic.beta2 = 1
        $0.solver = .adam
      }, "beta2")
  }

  @Test("schedules follow their formulas")
  func schedules() {
    #expect(LearningRateSchedule.constant.multiplier(epoch: 7, epochs: 10) == 1)
    #expect(
      LearningRateSchedule.step(every: 3, factor: 0.5).multiplier(epoch: 7, epochs: 10) == 0.25)
    #expect(LearningRateSchedule.exponential(factor: 0.9).multiplier(epoch: 2, epochs: 10) == 0.81)
    #expect(LearningRateSchedule.cosine.multiplier(epoch: 0, epochs: 10) == 1)
    #expect(abs(LearningRateSchedule.cosine.multiplier(epoch: 5, epochs: 10) - 0.5) <= 1e-15)
    #expect(
      LearningRateSchedule.inverseTime(decay: 0.5).multiplier(epoch: 4, epochs: 10) == 1.0 / 3)
  }
}

/// Same seed, 1 and 2 threads: the same bits (shuffles, the split, and
/// the minibatch sums do not depend on the thread count); another seed
/// gives another model.
@Suite("Minibatch determinism", .serialized)
struct StochasticDeterminismTests {
  @Test("SGD and Adam give the same model on 1 and 2 threads", arguments: ["sgd", "adam"])
  func sameBitsOnAnyThreadCount(name: String) throws {
    // Float bits depend on the CPU level, which Core's tests switch.
    try withStableCPULevel { try sameBits(name: name) }
  }

  func sameBits(name: String) throws {
    let data = try LabelledData(named: "digits")
    let floats = Matrix(
      rows: data.features.rows, columns: data.features.columns,
      elements: data.features.elements.map { Float($0) })
    var options = TrainingOptions()
    options.solver = name == "adam" ? .adam : .sgd
    options.standardize = true
    options.stochastic.epochs = 3
    options.stochastic.batchSize = 256
    options.stochastic.momentum = name == "adam" ? 0 : 0.9
    options.stochastic.earlyStopping = EarlyStopping()
    options.stochastic.seed = 42
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    var models: [SoftmaxClassifier] = []
    for threads in [1, 2, 1] {
      SoftmaxConfiguration.threadCount = threads
      models.append(
        try SoftmaxClassifier.fit(
          features: floats, labels: data.labels, classes: (0..<10).map(String.init),
          options: options))
    }
    #expect(models[0].parameters == models[1].parameters)
    #expect(models[0].parameters == models[2].parameters)
    options.stochastic.seed = 43
    let other = try SoftmaxClassifier.fit(
      features: floats, labels: data.labels, classes: (0..<10).map(String.init),
      options: options)
    #expect(other.parameters != models[0].parameters)
  }
}
