//===--- Training.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// How classes are weighted in the loss.
public enum ClassWeighting: Sendable, Hashable, Codable {
  /// Every class weighs 1.
  case uniform
  /// Class c weighs `n / (k · count_c)` (scikit-learn's `"balanced"`):
  /// with sample weights, n and count_c are sums of sample weights, as
  /// scikit-learn ≥ 1.8 counts them. A class with no rows weighs 0.
  case balanced
  /// One weight per class, in class order.
  case custom([Double])
}

/// The settings of ``SoftmaxClassifier/fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)``.
public struct TrainingOptions: Sendable, Hashable, Codable {
  /// The optimizer.
  public enum Solver: String, Sendable, Hashable, Codable, CaseIterable {
    /// L-BFGS with a strong-Wolfe line search (OWL-QN with an L1 term):
    /// the default, for data that fits in memory.
    case lbfgs
    /// Full-batch gradient descent, the textbook algorithm, with a
    /// backtracking (Armijo) step so that it never diverges.
    case gradientDescent
    /// Minibatch stochastic gradient descent, with momentum or Nesterov
    /// momentum (``StochasticOptions``); L1 by a proximal step.
    case sgd
    /// Adam on minibatches (``StochasticOptions``).
    case adam

    /// Whether the solver works on minibatches (``StochasticOptions``).
    public var isStochastic: Bool { self == .sgd || self == .adam }
  }

  /// The optimizer.
  public var solver: Solver = .lbfgs
  /// λ₂ of the objective (see ``SoftmaxRegressionObjective``).
  public var l2: Double = 0
  /// λ₁ of the objective.
  public var l1: Double = 0
  /// Learn a ``Standardization`` and train in the standardized space.
  public var standardize: Bool = false
  /// Class weights.
  public var classWeighting: ClassWeighting = .uniform
  /// The stopping rules and memory of L-BFGS; `maxIterations` and the two
  /// tolerances also bound gradient descent.
  public var lbfgs = LBFGSOptions()
  /// The first step of gradient descent (it halves until the objective
  /// decreases enough, and grows by 1.5 after a success).
  public var learningRate: Double = 1
  /// Batch size, epochs, step sizes, momentum, seed and early stopping of
  /// the minibatch solvers.
  public var stochastic = StochasticOptions()

  /// The defaults: L-BFGS, no regularization, no standardization.
  public init() {}

  /// About how many parameter-sized vectors of `Double` the solver keeps
  /// (L-BFGS: its correction pairs, up to one per iteration, and a dozen
  /// working vectors; the others: a dozen), for the memory check of
  /// ``SoftmaxClassifier/fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)``.
  var solverVectors: Int {
    guard solver == .lbfgs else { return 12 }
    return 2 * min(max(lbfgs.memory, 0), max(lbfgs.maxIterations, 0), 1 << 20) + 12
  }

  /// λ₂ with the same minimiser as scikit-learn's `LogisticRegression(C:)`:
  /// `1 / (C · Σ sample weights)` (`1 / (C·n)` without weights).
  public static func l2(forC c: Double, sampleWeightTotal: Double) -> Double {
    1 / (c * sampleWeightTotal)
  }
}

/// What training did, stored with the model.
public struct TrainingRecord: Sendable, Hashable, Codable {
  /// The options used.
  public var options: TrainingOptions
  /// Why it stopped, and whether that is convergence.
  public var stopReason: StopReason
  /// ``StopReason/isConverged`` of ``stopReason``.
  public var converged: Bool
  /// Iterations (or epochs) done.
  public var iterations: Int
  /// Objective and gradient evaluations: full passes, or minibatch steps
  /// for the minibatch solvers.
  public var evaluations: Int
  /// The final objective (mean weighted cross-entropy + penalties) over
  /// all the training rows, computed exactly at the returned parameters.
  public var objective: Double
  /// The largest component of the final (pseudo-)gradient, exact.
  public var gradientNorm: Double
  /// The objective after each iteration (the running minibatch mean of
  /// each epoch for the minibatch solvers).
  public var objectiveHistory: [Double]
  /// The held-out loss after each epoch, with early stopping.
  public var validationHistory: [Double]? = nil
  /// Metrics measured after training, for the model file to carry: set by
  /// the caller, on whichever data it holds out or trains on
  /// (`let m = try model.evaluate(features:labels:)`, then
  /// `model.training?.metrics = m`).
  public var metrics: ClassificationMetrics? = nil
  /// Training rows.
  public var sampleCount: Int
}

extension SoftmaxClassifier {
  /// Trains a model by minimizing ``SoftmaxRegressionObjective``.
  ///
  /// - Parameters:
  ///   - features: `n × d`, finite.
  ///   - labels: `n` class indices into `classes`.
  ///   - classes: the class names (`k ≥ 1`).
  ///   - sampleWeights: `n` weights ≥ 0, or `nil`.
  ///   - featureNames: `d` names, or `nil`.
  ///   - options: solver, regularization, standardization, stopping rules.
  ///   - warmStart: a model to start from (same classes and features;
  ///     its standardization is kept); zeros otherwise.
  ///   - checkpoint: a checkpoint of an earlier run on the same data and
  ///     options (from its ``IterationReport/checkpoint``) to go on from:
  ///     the result is the model that run would have given had it not
  ///     stopped, bit for bit. `warmStart` is then ignored.
  ///   - checkpoints: whether every report carries a
  ///     ``IterationReport/checkpoint`` (costs one pass over the data to
  ///     fingerprint it, and the optimizer's state is kept per report).
  ///   - progress: called after every iteration; return `false` to stop
  ///     (the model so far is returned, marked ``StopReason/cancelled``).
  /// - Returns: the model; its ``training`` record says whether it
  ///   converged (training never fails silently: check `converged`).
  /// - Throws: ``TrainingError`` for bad data, weights or options, or a
  ///   checkpoint made on other data, classes or options.
  public static func fit<T: SoftmaxScalar>(
    features: Matrix<T>, labels: [Int], classes: [String], sampleWeights: [Double]? = nil,
    featureNames: [String]? = nil, options: TrainingOptions = TrainingOptions(),
    warmStart: SoftmaxClassifier? = nil, resumingFrom checkpoint: TrainingCheckpoint? = nil,
    checkpoints: Bool = false,
    progress: (IterationReport) -> Bool = { _ in true }
  ) throws(TrainingError) -> SoftmaxClassifier {
    let k = classes.count
    let d = features.columns
    guard k >= 1 else { throw TrainingError(.shapeMismatch, "no classes") }
    if let featureNames, featureNames.count != d {
      throw TrainingError(.shapeMismatch, "\(featureNames.count) feature names for \(d) columns")
    }
    try validate(options)
    guard features.rows > 0 else { throw TrainingError(.emptyData, "the data set has no rows") }
    if let bad = firstNonFiniteIndex(features.elements) {
      throw TrainingError(
        .nonFiniteValue, nonFiniteMessage(at: bad, columns: d, features.elements, featureNames))
    }
    try SoftmaxRegressionObjective<T>.checkMemory(
      classCount: k, featureCount: d, vectors: options.solverVectors)
    // Checked, and scaled by a power of two if their sum would overflow.
    let weights = try SoftmaxRegressionObjective<T>.validatedSampleWeights(
      sampleWeights, rows: features.rows)
    let fingerprint =
      checkpoint != nil || checkpoints
      ? DataFingerprint(features: features, labels: labels, sampleWeights: sampleWeights) : nil
    var standardization: Standardization? = nil
    if let checkpoint {
      try checkResumable(
        checkpoint, options: options, classes: classes, featureNames: featureNames,
        data: fingerprint)
      standardization = checkpoint.content.standardization
    } else if let warmStart {
      guard warmStart.classCount == k, warmStart.featureCount == d else {
        throw TrainingError(
          .shapeMismatch,
          "the warm-start model has \(warmStart.classCount) classes and "
            + "\(warmStart.featureCount) features; the data has \(k) and \(d)")
      }
      if let problem = warmStart.parameterProblem() {
        throw TrainingError(.invalidModel, "the warm-start model: \(problem)")
      }
      standardization = warmStart.standardization
    } else if options.standardize {
      standardization = Standardization(fitting: features, sampleWeights: weights)
    }
    let classWeights = try resolveClassWeights(
      options.classWeighting, labels: labels, classCount: k, sampleWeights: weights)
    let objective = try SoftmaxRegressionObjective(
      features: features, labels: labels, classCount: k, sampleWeights: weights,
      classWeights: classWeights, l2: options.l2, l1: options.l1,
      standardization: standardization, featureNames: featureNames)
    let start = warmStart?.parameters ?? [Double](repeating: 0, count: objective.parameterCount)
    var history: [Double] = checkpoint?.content.objectiveHistory ?? []
    var validationHistory: [Double]? = nil
    let recordingProgress = { (report: IterationReport) -> Bool in
      history.append(report.objective)
      var report = report
      if let fingerprint, let state = report.solverState {
        report.checkpoint = TrainingCheckpoint(
          content: TrainingCheckpoint.Content(
            format: TrainingCheckpoint.formatName, version: TrainingCheckpoint.currentVersion,
            options: options, classes: classes, featureNames: featureNames, data: fingerprint,
            standardization: standardization, objectiveHistory: history, solver: state))
        report.solverState = nil
      }
      return progress(report)
    }
    let resumed = checkpoint?.content.solver
    let result: OptimizationResult
    switch options.solver {
    case .lbfgs:
      result = LBFGS(options: options.lbfgs).minimize(
        from: start, resuming: resumed?.lbfgs, reportsState: checkpoints, l1: options.l1,
        l1Count: k * d,
        preconditioner: options.lbfgs.diagonalPreconditioning
          ? objective.diagonalPreconditioner() : nil,
        smooth: { objective.smoothValueAndGradient(at: $0, gradient: &$1) },
        progress: recordingProgress)
    case .gradientDescent:
      result = gradientDescent(
        objective: objective, start: start, options: options, resuming: resumed?.gradientDescent,
        reportsState: checkpoints, progress: recordingProgress)
    case .sgd, .adam:
      let outcome = try StochasticTrainer(
        objective: objective, options: options.stochastic, adam: options.solver == .adam,
        l1: options.l1, gradientTolerance: options.lbfgs.gradientTolerance
      ).run(
        from: start, resuming: resumed?.stochastic, reportsState: checkpoints,
        progress: recordingProgress)
      result = outcome.result
      validationHistory = outcome.validationHistory
    }
    let record = TrainingRecord(
      options: options, stopReason: result.stopReason, converged: result.stopReason.isConverged,
      iterations: result.iterations, evaluations: result.evaluations, objective: result.objective,
      gradientNorm: result.gradientNorm, objectiveHistory: history,
      validationHistory: options.stochastic.earlyStopping == nil ? nil : validationHistory,
      sampleCount: features.rows)
    let parameters = result.parameters
    // Every solver returns finite parameters (L-BFGS and gradient descent
    // accept only finite objectives; the minibatch solvers go back to the
    // last finite epoch); this guards the promise.
    if let bad = parameters.firstIndex(where: { !$0.isFinite }) {
      throw TrainingError(
        .outOfRange,
        "training reached a non-finite parameter (\(parameters[bad]) at \(bad)); "
          + "standardize the features, or lower the learning rate")
    }
    return SoftmaxClassifier(
      classes: classes,
      weight: Matrix(rows: k, columns: d, elements: Array(parameters[0..<(k * d)])),
      bias: Array(parameters[(k * d)...]), standardization: standardization,
      featureNames: featureNames, training: record)
  }

  /// Throws unless `checkpoint` was made by a run with these options on
  /// this data.
  private static func checkResumable(
    _ checkpoint: TrainingCheckpoint, options: TrainingOptions, classes: [String],
    featureNames: [String]?, data: DataFingerprint?
  ) throws(TrainingError) {
    let saved = checkpoint.content
    // The data first: options that depend on it (λ = 1/(C·n)) differ too
    // when the data does, and "other data" is what the user must hear.
    guard saved.classes == classes, saved.featureNames == featureNames else {
      throw TrainingError(
        .shapeMismatch, "the checkpoint was made on other data (other classes or features)")
    }
    guard let data, saved.data == data else {
      throw TrainingError(
        .shapeMismatch,
        "the checkpoint was made on other data (\(saved.data.rows) rows × \(saved.data.features) features, fingerprint \(saved.data.hash))"
      )
    }
    if saved.options != options {
      let differing = zip(
        Mirror(reflecting: saved.options).children, Mirror(reflecting: options).children
      )
      .filter { String(describing: $0.value) != String(describing: $1.value) }
      .compactMap { $0.0.label }
      throw TrainingError(
        .invalidOption,
        "the checkpoint was made with other training options (\(differing.joined(separator: ", ")))"
      )
    }
    let kindMatches: Bool
    switch (saved.solver, options.solver) {
    case (.lbfgs, .lbfgs), (.gradientDescent, .gradientDescent), (.stochastic, .sgd),
      (.stochastic, .adam):
      kindMatches = true
    default:
      kindMatches = false
    }
    guard kindMatches else {
      throw TrainingError(.invalidModel, "the checkpoint's state is not of a \(options.solver) run")
    }
    if let standardization = saved.standardization,
      let problem = standardization.problem(columns: data.features)
    {
      throw TrainingError(.invalidModel, "a damaged checkpoint: \(problem)")
    }
    if saved.standardization == nil && options.standardize {
      throw TrainingError(
        .invalidModel, "a damaged checkpoint: the options standardize but it has no standardization"
      )
    }
    if let problem = saved.solver.problem(
      parameterCount: classes.count * (data.features + 1), rows: data.rows, options: options)
    {
      throw TrainingError(.invalidModel, "a damaged checkpoint: \(problem)")
    }
  }

  private static func validate(_ options: TrainingOptions) throws(TrainingError) {
    func check(_ ok: Bool, _ message: String) throws(TrainingError) {
      if !ok { throw TrainingError(.invalidOption, message) }
    }
    try check(options.l2 >= 0 && options.l2.isFinite, "l2 = \(options.l2) must be finite and ≥ 0")
    try check(options.l1 >= 0 && options.l1.isFinite, "l1 = \(options.l1) must be finite and ≥ 0")
    try check(options.lbfgs.memory >= 1, "memory = \(options.lbfgs.memory) must be at least 1")
    try check(
      options.lbfgs.maxIterations >= 0,
      "maximum iterations = \(options.lbfgs.maxIterations) must be ≥ 0")
    try check(
      options.lbfgs.gradientTolerance >= 0,
      "tolerance = \(options.lbfgs.gradientTolerance) must be ≥ 0")
    try check(
      options.lbfgs.relativeObjectiveTolerance >= 0,
      "relative objective tolerance = \(options.lbfgs.relativeObjectiveTolerance) must be ≥ 0")
    try check(
      options.lbfgs.maxLineSearchSteps >= 1,
      "line search steps = \(options.lbfgs.maxLineSearchSteps) must be at least 1")
    try check(
      options.learningRate > 0 && options.learningRate.isFinite,
      "learning rate = \(options.learningRate) must be finite and > 0")
    if options.solver == .gradientDescent || options.solver == .adam {
      try check(
        options.l1 == 0,
        "\(options.solver) does not take an L1 term; use L-BFGS (OWL-QN) or SGD (proximal)")
    }
    if options.solver.isStochastic { try validate(options.stochastic) }
  }

  private static func validate(_ options: StochasticOptions) throws(TrainingError) {
    func check(_ ok: Bool, _ message: String) throws(TrainingError) {
      if !ok { throw TrainingError(.invalidOption, message) }
    }
    try check(options.batchSize >= 1, "batch size = \(options.batchSize) must be at least 1")
    try check(options.epochs >= 0, "epochs = \(options.epochs) must be ≥ 0")
    if let rate = options.learningRate {
      try check(rate > 0 && rate.isFinite, "learning rate = \(rate) must be finite and > 0")
    }
    try check(
      options.momentum >= 0 && options.momentum < 1,
      "momentum = \(options.momentum) must be in [0, 1)")
    try check(
      !options.nesterov || options.momentum > 0, "Nesterov momentum needs a momentum above 0")
    try check(options.beta1 >= 0 && options.beta1 < 1, "beta1 = \(options.beta1) must be in [0, 1)")
    try check(options.beta2 >= 0 && options.beta2 < 1, "beta2 = \(options.beta2) must be in [0, 1)")
    try check(
      options.epsilon > 0 && options.epsilon.isFinite,
      "epsilon = \(options.epsilon) must be finite and > 0")
    switch options.schedule {
    case .constant, .cosine:
      break
    case .step(let every, let factor):
      try check(every >= 1, "the step schedule's period \(every) must be at least 1 epoch")
      try check(factor > 0 && factor.isFinite, "the step schedule's factor \(factor) must be > 0")
    case .exponential(let factor):
      try check(factor > 0 && factor.isFinite, "the exponential factor \(factor) must be > 0")
    case .inverseTime(let decay):
      try check(decay >= 0 && decay.isFinite, "the inverse-time decay \(decay) must be ≥ 0")
    }
    if let early = options.earlyStopping {
      try check(
        early.validationFraction > 0 && early.validationFraction < 1,
        "validation fraction = \(early.validationFraction) must be in (0, 1)")
      try check(early.patience >= 1, "patience = \(early.patience) must be at least 1")
      try check(
        early.minImprovement >= 0 && early.minImprovement.isFinite,
        "minimum improvement = \(early.minImprovement) must be finite and ≥ 0")
    }
  }

  private static func resolveClassWeights(
    _ weighting: ClassWeighting, labels: [Int], classCount k: Int, sampleWeights: [Double]?
  ) throws(TrainingError) -> [Double]? {
    switch weighting {
    case .uniform:
      return nil
    case .custom(let weights):
      guard weights.count == k else {
        throw TrainingError(.shapeMismatch, "\(weights.count) class weights for \(k) classes")
      }
      return weights
    case .balanced:
      var counts = [Double](repeating: 0, count: k)
      for (i, label) in labels.enumerated() where label >= 0 && label < k {
        counts[label] += sampleWeights?[i] ?? 1
      }
      let total = counts.reduce(0, +)
      return counts.map { $0 > 0 ? total / (Double(k) * $0) : 0 }
    }
  }

  /// Full-batch gradient descent with backtracking: step η halves until
  /// `f(w − η·g) ≤ f(w) − ½·η·‖g‖²`, then grows by 1.5 for the next one.
  private static func gradientDescent<T>(
    objective: SoftmaxRegressionObjective<T>, start: [Double], options: TrainingOptions,
    resuming state: GradientDescentState?, reportsState: Bool,
    progress: (IterationReport) -> Bool
  ) -> OptimizationResult {
    var x = state?.x ?? start
    var g: [Double] = []
    // Resuming, f and g are computed again at x (see LBFGS).
    var f = objective.smoothValueAndGradient(at: x, gradient: &g)
    var evaluations = state?.evaluations ?? 1
    var step = state?.step ?? options.learningRate
    var iteration = state?.iteration ?? 0
    var reason = state?.stop ?? StopReason.iterationLimit
    let limits = options.lbfgs
    if maxAbs(g) <= limits.gradientTolerance { reason = .gradientTolerance }
    while reason == .iterationLimit && iteration < limits.maxIterations {
      let squaredNorm = dot(g, g)
      var accepted = false
      for _ in 0..<60 {
        var trial = x
        axpy(-step, g, &trial)
        var trialGradient: [Double] = []
        let value = objective.smoothValueAndGradient(at: trial, gradient: &trialGradient)
        evaluations += 1
        if value.isFinite, value <= f - 0.5 * step * squaredNorm {
          let previous = f
          x = trial
          f = value
          g = trialGradient
          accepted = true
          iteration += 1
          step *= 1.5
          let norm = maxAbs(g)
          let stop = limits.stopReason(previous: previous, current: f, gradientNorm: norm)
          var report = IterationReport(
            iteration: iteration, objective: f, gradientNorm: norm, evaluations: evaluations,
            parameters: x)
          if reportsState {
            report.solverState = .gradientDescent(
              state: GradientDescentState(
                x: x, g: g, f: f, step: step, iteration: iteration, evaluations: evaluations,
                stop: stop))
          }
          let keepGoing = progress(report)
          if let stop {
            reason = stop
          } else if !keepGoing {
            reason = .cancelled
          }
          break
        }
        step *= 0.5
      }
      if !accepted {
        reason = .lineSearchFailed
      }
    }
    return OptimizationResult(
      parameters: x, objective: f, gradientNorm: maxAbs(g), iterations: iteration,
      evaluations: evaluations, stopReason: reason)
  }
}

/// Gradient descent between two iterations (see ``LBFGSState``).
struct GradientDescentState: Sendable, Hashable, Codable {
  var x: [Double]
  var g: [Double]
  var f: Double
  var step: Double
  var iteration: Int
  var evaluations: Int
  var stop: StopReason?
}

/// Maps labels as they appear in data (strings, or integers written as
/// strings) to class indices, as scikit-learn's `LabelEncoder`: the
/// classes sorted (numerically when every label is an integer, by Unicode
/// scalars otherwise), each label replaced by its class's index.
public struct ClassEncoding: Sendable, Hashable {
  /// The distinct labels, sorted.
  public var classes: [String]
  /// The class index of each label given.
  public var indices: [Int]

  /// Encodes `labels`.
  public init(labels: [String]) {
    let distinct = Set(labels)
    // Integer order only when every label is an integer written canonically
    // ("7", "-2"; not "07"), so that distinct labels stay distinct.
    let integers = distinct.compactMap { label in
      Int(label).flatMap { String($0) == label ? $0 : nil }
    }
    if integers.count == distinct.count {
      classes = integers.sorted().map(String.init)
    } else {
      classes = distinct.sorted {
        $0.unicodeScalars.map(\.value).lexicographicallyPrecedes($1.unicodeScalars.map(\.value))
      }
    }
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    indices = labels.map { index[$0] ?? -1 }  // every label is a class
  }

  /// Encodes integer labels.
  public init(labels: [Int]) {
    let classes = Array(Set(labels)).sorted()
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    self.classes = classes.map(String.init)
    self.indices = labels.map { index[$0] ?? -1 }  // every label is a class
  }
}
