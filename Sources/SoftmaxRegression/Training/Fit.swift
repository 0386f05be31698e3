//===--- Fit.swift -----------------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

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
    try fitting(
      features, labels: labels, classes: classes, sampleWeights: sampleWeights,
      featureNames: featureNames, options: options, warmStart: warmStart,
      resumingFrom: checkpoint, checkpoints: checkpoints, progress: progress)
  }

  /// Trains a model on sparse features by minimizing
  /// ``SparseSoftmaxRegressionObjective``: the same as the dense
  /// ``fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)-(Matrix<T>,_,_,_,_,_,_,_,_,_)``,
  /// computed from the stored entries (memory and time proportional to
  /// them), with one difference: `options.standardize` scales the features
  /// without centering them (``Standardization/init(scaling:sampleWeights:)``),
  /// and a warm start's standardization must not center either.
  ///
  /// The model is the same kind of model: it predicts dense and sparse
  /// rows alike.
  public static func fit<T: SoftmaxScalar>(
    features: SparseMatrix<T>, labels: [Int], classes: [String], sampleWeights: [Double]? = nil,
    featureNames: [String]? = nil, options: TrainingOptions = TrainingOptions(),
    warmStart: SoftmaxClassifier? = nil, resumingFrom checkpoint: TrainingCheckpoint? = nil,
    checkpoints: Bool = false,
    progress: (IterationReport) -> Bool = { _ in true }
  ) throws(TrainingError) -> SoftmaxClassifier {
    try fitting(
      features, labels: labels, classes: classes, sampleWeights: sampleWeights,
      featureNames: featureNames, options: options, warmStart: warmStart,
      resumingFrom: checkpoint, checkpoints: checkpoints, progress: progress)
  }

  /// Trains a linear model on dense rows streamed from `rows` a chunk at a
  /// time: data larger than memory (a file read in chunks by SoftmaxData's
  /// `NPYRowStream`), with the same result as
  /// ``fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)-(Matrix<T>,_,_,_,_,_,_,_,_,_)``
  /// on the same rows in memory, bit for bit: every pass adds the same
  /// blocks of rows in the same order.
  ///
  /// Memory: one chunk of about `chunkBytes` (a multiple of 256 rows; two
  /// with a validation split, whose rows are gathered), the labels and
  /// weights (16 bytes a row), and the solver's vectors of `k·(d + 1)`
  /// doubles, whatever the number of rows.
  ///
  /// SGD and Adam read the rows by chunks in a shuffled order
  /// (``StochasticOptions/shuffleChunkRows``, set to the chunk's rows when
  /// `nil`): rows mix within their chunk, not across the file; the same
  /// option gives the same model on the rows in memory.
  ///
  /// Passes: one to check the values, three to standardize (with
  /// `options.standardize`), one for the preconditioner, one to fingerprint
  /// the data (with checkpoints), then one per evaluation (about one per
  /// iteration), plus one over the held-out rows per iteration with a
  /// validation split.
  ///
  /// - Parameters:
  ///   - rows: `n × d` finite values, the same on every pass.
  ///   - labels: `n` class indices into `classes`.
  ///   - classes: the class names (`k ≥ 1`).
  ///   - sampleWeights: `n` weights ≥ 0, or `nil`.
  ///   - featureNames: `d` names, or `nil`.
  ///   - options: solver, regularization, standardization, a validation
  ///     split, stopping rules (no hidden layers).
  ///   - chunkBytes: the bytes of a chunk (at least 256 rows).
  ///   - warmStart: a model to start from, as the matrix's `fit`.
  ///   - checkpoint: a checkpoint to go on from, as the matrix's `fit` (one
  ///     made on the same rows in memory works too: the fingerprint is the
  ///     same).
  ///   - checkpoints: whether every report carries a checkpoint.
  ///   - progress: called after every iteration; return `false` to stop.
  /// - Throws: ``TrainingError`` as the matrix's `fit`;
  ///   ``TrainingError/Code/invalidOption`` for hidden layers, which train
  ///   in memory;
  ///   ``TrainingError/Code/unreadableData`` when reading the stream fails
  ///   (its message is the stream's error, naming the file).
  public static func fit<Rows: RowStream>(
    streaming rows: Rows, labels: [Int], classes: [String], sampleWeights: [Double]? = nil,
    featureNames: [String]? = nil, options: TrainingOptions = TrainingOptions(),
    chunkBytes: Int = 8 << 20, warmStart: SoftmaxClassifier? = nil,
    resumingFrom checkpoint: TrainingCheckpoint? = nil, checkpoints: Bool = false,
    progress: (IterationReport) -> Bool = { _ in true }
  ) throws(TrainingError) -> SoftmaxClassifier {
    let features = StreamedFeatures(
      source: rows,
      chunkRows: StreamedFeatures<Rows>.chunkRows(columns: rows.columns, chunkBytes: chunkBytes))
    return try fitting(
      features, labels: labels, classes: classes, sampleWeights: sampleWeights,
      featureNames: featureNames,
      options: streamingOptions(options, chunkRows: features.chunkRows), warmStart: warmStart,
      resumingFrom: checkpoint, checkpoints: checkpoints, progress: progress)
  }

  /// Trains a linear model on sparse rows streamed from `rows` a chunk at
  /// a time: sparse data larger than memory (a LIBSVM file read in chunks
  /// by SoftmaxData's `LIBSVMRowStream`), with the same result as
  /// ``fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)-(SparseMatrix<T>,_,_,_,_,_,_,_,_,_)``
  /// on the same rows in memory, bit for bit: every pass adds the same
  /// blocks of rows in the same order.
  ///
  /// Memory: one chunk of about `chunkBytes` (a multiple of 256 rows, cut
  /// at the stream's average entries a row), the labels and weights (16
  /// bytes a row), the solver's vectors and two column-major copies of the
  /// weights (`k·(d + 1)` doubles each), whatever the number of rows.
  ///
  /// SGD and Adam read the rows by chunks in a shuffled order
  /// (``StochasticOptions/shuffleChunkRows``, set to the chunk's rows when
  /// `nil`), with the stream's random access (an `.npz` of stored arrays;
  /// a text file has none, and training stops with its error): the same
  /// option gives the same model on the rows in memory.
  ///
  /// Passes: one to check the values, three to scale (with
  /// `options.standardize`), one for the preconditioner, three to
  /// fingerprint the data (with checkpoints), then one per evaluation
  /// (about one per iteration), plus one over the held-out rows per
  /// iteration with a validation split.
  ///
  /// - Parameters:
  ///   - rows: `n × d` finite entries, the same on every pass.
  ///   - labels: `n` class indices into `classes`.
  ///   - classes: the class names (`k ≥ 1`).
  ///   - sampleWeights: `n` weights ≥ 0, or `nil`.
  ///   - featureNames: `d` names, or `nil`.
  ///   - options: solver, regularization, scaling, a validation split,
  ///     stopping rules (no hidden layers).
  ///   - chunkBytes: the bytes of a chunk (at least 256 rows).
  ///   - warmStart: a model to start from, as the matrix's `fit`.
  ///   - checkpoint: a checkpoint to go on from, as the matrix's `fit` (one
  ///     made on the same rows in memory works too: the fingerprint is the
  ///     same).
  ///   - checkpoints: whether every report carries a checkpoint.
  ///   - progress: called after every iteration; return `false` to stop.
  /// - Throws: ``TrainingError`` as the matrix's `fit`;
  ///   ``TrainingError/Code/invalidOption`` for hidden layers;
  ///   ``TrainingError/Code/unreadableData`` when reading the stream fails
  ///   (its message is the stream's error, naming the file).
  public static func fit<Rows: SparseRowStream>(
    streaming rows: Rows, labels: [Int], classes: [String], sampleWeights: [Double]? = nil,
    featureNames: [String]? = nil, options: TrainingOptions = TrainingOptions(),
    chunkBytes: Int = 8 << 20, warmStart: SoftmaxClassifier? = nil,
    resumingFrom checkpoint: TrainingCheckpoint? = nil, checkpoints: Bool = false,
    progress: (IterationReport) -> Bool = { _ in true }
  ) throws(TrainingError) -> SoftmaxClassifier {
    let features = StreamedSparseFeatures(
      source: rows,
      chunkRows: StreamedSparseFeatures<Rows>.chunkRows(
        rows: rows.rows, nonZeroCount: rows.nonZeroCount, chunkBytes: chunkBytes))
    return try fitting(
      features, labels: labels, classes: classes, sampleWeights: sampleWeights,
      featureNames: featureNames,
      options: streamingOptions(options, chunkRows: features.chunkRows), warmStart: warmStart,
      resumingFrom: checkpoint, checkpoints: checkpoints, progress: progress)
  }

  /// `options` for streamed rows cut in chunks of `chunkRows`: hidden
  /// layers refused (they train in memory), and SGD and Adam shuffling by
  /// the stream's chunks unless told otherwise.
  private static func streamingOptions(_ options: TrainingOptions, chunkRows: Int)
    throws(TrainingError) -> TrainingOptions
  {
    if options.hidden != nil {
      throw TrainingError(
        .invalidOption,
        "hidden layers train on data in memory: streamed data trains a linear model")
    }
    var options = options
    if options.solver.isStochastic && options.stochastic.shuffleChunkRows == nil {
      options.stochastic.shuffleChunkRows = chunkRows
    }
    return options
  }

  /// The training of both `fit`s, over either layout of features.
  static func fitting<Features: TrainingFeatures>(
    _ features: Features, labels: [Int], classes: [String], sampleWeights: [Double]?,
    featureNames: [String]?, options: TrainingOptions, warmStart: SoftmaxClassifier?,
    resumingFrom checkpoint: TrainingCheckpoint?, checkpoints: Bool,
    progress: (IterationReport) -> Bool
  ) throws(TrainingError) -> SoftmaxClassifier {
    let k = classes.count
    let d = features.columns
    guard k >= 1 else { throw TrainingError(.shapeMismatch, "no classes") }
    if let featureNames, featureNames.count != d {
      throw TrainingError(.shapeMismatch, "\(featureNames.count) feature names for \(d) columns")
    }
    try validate(options)
    guard features.rows > 0 else { throw TrainingError(.emptyData, "the data set has no rows") }
    try features.checkFinite(featureNames: featureNames)
    try WeightedRows.checkMemory(
      classCount: k, featureCount: d,
      vectors: options.solverVectors + Features.workspaceVectors)
    // Checked, and scaled by a power of two if their sum would overflow.
    let weights = try WeightedRows.validatedSampleWeights(
      sampleWeights, rows: features.rows)
    let fingerprint =
      checkpoint != nil || checkpoints
      ? try features.fingerprint(labels: labels, sampleWeights: sampleWeights) : nil
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
      guard warmStart.hidden?.widths == options.hidden?.widths,
        warmStart.hidden?.activation == options.hidden?.activation
      else {
        throw TrainingError(
          .shapeMismatch,
          "the warm-start model's hidden layers (\(hiddenText(warmStart.hidden))) are not the "
            + "options' (\(hiddenText(options.hidden)))")
      }
      if let problem = warmStart.parameterProblem() {
        throw TrainingError(.invalidModel, "the warm-start model: \(problem)")
      }
      standardization = warmStart.standardization
    } else if options.standardize {
      standardization = try features.fittedStandardization(sampleWeights: weights)
    }
    // The full-batch solvers hold out rows for validation here (the
    // minibatch solvers in their loop, for early stopping), by the same
    // seed and stratified split: the model trains on the rest.
    let heldOut = try heldOutSplit(labels: labels, classCount: k, options: options)
    let training = heldOut.map { features.selectingRows($0.kept) } ?? features
    let trainingLabels = heldOut.map { $0.kept.map { labels[$0] } } ?? labels
    let trainingWeights =
      heldOut.flatMap { split in weights.map { w in split.kept.map { w[$0] } } }
      ?? weights
    if heldOut != nil && checkpoint == nil && warmStart == nil && options.standardize {
      standardization = try training.fittedStandardization(sampleWeights: trainingWeights)
    }
    let classWeights = try resolveClassWeights(
      options.classWeighting, labels: trainingLabels, classCount: k,
      sampleWeights: trainingWeights)
    let trainingRun: SolverRun
    if let hidden = options.hidden {
      let objective = try training.networkObjective(
        hidden: hidden, labels: trainingLabels, classCount: k, sampleWeights: trainingWeights,
        classWeights: classWeights, l2: options.l2, standardization: standardization,
        dropoutSeed: options.stochastic.seed)
      let validation = try heldOut.map { split throws(TrainingError) in
        try features.selectingRows(split.heldOut).networkObjective(
          hidden: hidden, labels: split.heldOut.map { labels[$0] }, classCount: k,
          sampleWeights: weights.map { w in split.heldOut.map { w[$0] } },
          classWeights: classWeights, l2: 0, standardization: standardization,
          dropoutSeed: options.stochastic.seed)
      }
      let start =
        warmStart?.parameters
        ?? objective.architecture.initialParameters(seed: options.stochastic.seed)
      trainingRun = try runSolver(
        objective, validation: validation, from: start, options: options, classes: classes,
        featureNames: featureNames, standardization: standardization, fingerprint: fingerprint,
        resumingFrom: checkpoint, checkpoints: checkpoints, progress: progress)
    } else {
      let objective = try training.objective(
        labels: trainingLabels, classCount: k, sampleWeights: trainingWeights,
        classWeights: classWeights, l2: options.l2, l1: options.l1,
        standardization: standardization, featureNames: featureNames)
      let validation = try heldOut.map { split throws(TrainingError) in
        try features.selectingRows(split.heldOut).objective(
          labels: split.heldOut.map { labels[$0] }, classCount: k,
          sampleWeights: weights.map { w in split.heldOut.map { w[$0] } },
          classWeights: classWeights, l2: 0, l1: 0, standardization: standardization,
          featureNames: featureNames)
      }
      let start =
        warmStart?.parameters ?? [Double](repeating: 0, count: objective.parameterCount)
      trainingRun = try runSolver(
        objective, validation: validation, from: start, options: options, classes: classes,
        featureNames: featureNames, standardization: standardization, fingerprint: fingerprint,
        resumingFrom: checkpoint, checkpoints: checkpoints, progress: progress)
    }
    try training.checkReads()
    let (result, history, validationHistory) = (
      trainingRun.result, trainingRun.history, trainingRun.validationHistory
    )
    let record = TrainingRecord(
      options: options, stopReason: result.stopReason, converged: result.stopReason.isConverged,
      iterations: result.iterations, evaluations: result.evaluations, objective: result.objective,
      gradientNorm: result.gradientNorm, objectiveHistory: history,
      validationHistory: options.stochastic.earlyStopping == nil && heldOut == nil
        ? nil : validationHistory,
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
      classes: classes, featureCount: d, parameters: parameters,
      standardization: standardization, featureNames: featureNames, training: record,
      hidden: options.hidden)
  }

  /// What a solver's run gives: its result, the objective after each
  /// iteration and the held-out loss after each (or `nil`).
  struct SolverRun {
    var result: OptimizationResult
    var history: [Double]
    var validationHistory: [Double]?
  }

  /// Minimizes `objective` from `start` with the solver of `options`
  /// (going on from `checkpoint`'s state), reporting the held-out loss of
  /// `validation` and, when `checkpoints`, a checkpoint with every report.
  private static func runSolver<Objective: TrainingObjective>(
    _ objective: Objective, validation: Objective?, from start: [Double],
    options: TrainingOptions, classes: [String], featureNames: [String]?,
    standardization: Standardization?, fingerprint: DataFingerprint?,
    resumingFrom checkpoint: TrainingCheckpoint?, checkpoints: Bool,
    progress: (IterationReport) -> Bool
  ) throws(TrainingError) -> SolverRun {
    let validationRows = validation.map { Array(0..<$0.rowCount) } ?? []
    var history: [Double] = checkpoint?.content.objectiveHistory ?? []
    var validationHistory: [Double]? = checkpoint?.content.validationHistory
    var validationWorkspace = validation?.makeWorkspace()
    let recordingProgress = { (report: IterationReport) -> Bool in
      history.append(report.objective)
      var report = report
      report.standardization = standardization
      if let validation, var workspace = validationWorkspace {
        let loss = validation.loss(
          rows: validationRows, at: report.parameters, workspace: &workspace)
        validationWorkspace = workspace
        report.validationLoss = loss
        validationHistory = (validationHistory ?? []) + [loss]
      }
      if let fingerprint, let state = report.solverState {
        var content = TrainingCheckpoint.Content(
          format: TrainingCheckpoint.formatName, version: TrainingCheckpoint.currentVersion,
          options: options, classes: classes, featureNames: featureNames, data: fingerprint,
          standardization: standardization, objectiveHistory: history, solver: state)
        content.validationHistory = validation == nil ? nil : validationHistory
        report.checkpoint = TrainingCheckpoint(content: content)
        report.solverState = nil
      }
      return progress(report)
    }
    let resumed = checkpoint?.content.solver
    let result: OptimizationResult
    switch options.solver {
    case .lbfgs:
      result = LBFGS(options: options.lbfgs).minimize(
        objective, from: start, resuming: resumed?.lbfgs, reportsState: checkpoints,
        progress: recordingProgress)
    case .gradientDescent:
      result = GradientDescent(options: options.gradientDescentOptions).minimize(
        objective, from: start, resuming: resumed?.gradientDescent, reportsState: checkpoints,
        progress: recordingProgress)
    case .newton:
      guard objective.providesHessianProducts else {
        throw TrainingError(
          .invalidOption,
          "the newton solver needs Hessian products, which softmax regression on data in "
            + "memory has; networks and streamed or distributed data do not: use lbfgs")
      }
      result = TrustRegionNewton(options: options.newtonOptions).minimize(
        objective, from: start, resuming: resumed?.newton, reportsState: checkpoints,
        progress: recordingProgress)
    case .sgd, .adam:
      var training = MinibatchTraining(
        objective: objective, options: options.stochastic, rule: options.minibatchRule)
      training.gradientTolerance = options.lbfgs.gradientTolerance
      result = try training.run(
        from: start, resuming: resumed?.stochastic, reportsState: checkpoints,
        progress: recordingProgress)
      validationHistory = result.validationHistory
    }
    return SolverRun(result: result, history: history, validationHistory: validationHistory)
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
    case (.lbfgs, .lbfgs), (.gradientDescent, .gradientDescent), (.newton, .newton),
      (.stochastic, .sgd),
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
    // A network's parameters are its layers' (the options were checked
    // equal above, so the shape is the run's).
    let parameterCount =
      options.hidden.flatMap { hidden in
        try? NetworkArchitecture(
          inputCount: data.features, hiddenWidths: hidden.widths, activation: hidden.activation,
          classCount: classes.count
        ).parameterCount
      } ?? classes.count * (data.features + 1)
    if let problem = saved.solver.problem(
      parameterCount: parameterCount, rows: data.rows, options: options)
    {
      throw TrainingError(.invalidModel, "a damaged checkpoint: \(problem)")
    }
  }

  /// The rows that training with `options` holds out for validation, in
  /// ascending order: ``TrainingOptions/heldOutFraction`` of them for the
  /// full-batch solvers, early stopping's
  /// ``EarlyStopping/validationFraction`` for the
  /// minibatch solvers, split stratified by class with the seed of
  /// `options.stochastic` (both solvers split the same way); `nil` when
  /// the options hold out nothing. These rows were never trained on: a
  /// model's temperature can be fitted on them
  /// (``calibrated(features:labels:sampleWeights:)``).
  ///
  /// - Parameters:
  ///   - labels: the `n` class indices the model is trained on.
  ///   - classCount: `k`.
  ///   - options: the training options.
  /// - Throws: ``TrainingError`` for a label out of `0..<k` or a fraction
  ///   outside (0, 1).
  /// - Complexity: O(n).
  public static func heldOutRows(labels: [Int], classCount: Int, options: TrainingOptions)
    throws(TrainingError) -> [Int]?
  {
    let fraction =
      options.solver.isStochastic
      ? options.stochastic.earlyStopping?.validationFraction : options.heldOutFraction
    guard let fraction else { return nil }
    return try seededSplit(
      labels: labels, classCount: classCount, fraction: fraction, seed: options.stochastic.seed
    ).heldOut
  }

  /// The stratified split every held-out set of training comes from.
  private static func seededSplit(labels: [Int], classCount: Int, fraction: Double, seed: UInt64)
    throws(TrainingError) -> (kept: [Int], heldOut: [Int])
  {
    var generator = SplitMix64(seed: seed)
    return try StratifiedSplit.split(
      labels: labels, classCount: classCount, fraction: fraction, using: &generator)
  }

  /// The rows to train on and to validate on, when `options` hold out a
  /// fraction for a full-batch solver: stratified, by the seed of
  /// `options.stochastic` (the minibatch solvers' early stopping splits the
  /// same way, ``heldOutRows(labels:classCount:options:)``); `nil`
  /// otherwise.
  private static func heldOutSplit(labels: [Int], classCount: Int, options: TrainingOptions)
    throws(TrainingError) -> (kept: [Int], heldOut: [Int])?
  {
    guard let fraction = options.heldOutFraction, !options.solver.isStochastic else { return nil }
    let split = try seededSplit(
      labels: labels, classCount: classCount, fraction: fraction, seed: options.stochastic.seed)
    guard !split.kept.isEmpty else {
      throw TrainingError(
        .invalidOption,
        "holding out \(fraction) of the \(labels.count) rows for validation leaves none to train on"
      )
    }
    return split
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
    if options.solver == .gradientDescent || options.solver == .adam || options.solver == .newton {
      try check(
        options.l1 == 0,
        "\(options.solver) does not take an L1 term; use L-BFGS (OWL-QN) or SGD (proximal)")
    }
    if let fraction = options.heldOutFraction {
      try check(
        fraction > 0 && fraction < 1, "held-out fraction = \(fraction) must be in (0, 1)")
    }
    if let hidden = options.hidden {
      try check(!hidden.widths.isEmpty, "hidden layers need at least one width")
      if let bad = hidden.widths.first(where: { $0 < 1 }) {
        try check(false, "hidden width \(bad) must be at least 1")
      }
      try check(options.l1 == 0, "a network takes no L1 term (l1 = \(options.l1))")
      try check(
        hidden.dropout >= 0 && hidden.dropout < 1, "dropout = \(hidden.dropout) must be in [0, 1)")
      try check(
        hidden.dropout == 0 || options.solver.isStochastic,
        "dropout is for the minibatch solvers (sgd, adam), not \(options.solver)")
    }
    if options.solver.isStochastic { try validate(options.stochastic) }
  }

  private static func validate(_ options: StochasticOptions) throws(TrainingError) {
    func check(_ ok: Bool, _ message: String) throws(TrainingError) {
      if !ok { throw TrainingError(.invalidOption, message) }
    }
    try check(options.batchSize >= 1, "batch size = \(options.batchSize) must be at least 1")
    try check(options.epochs >= 0, "epochs = \(options.epochs) must be ≥ 0")
    if let chunk = options.shuffleChunkRows {
      try check(chunk >= 1, "shuffle chunk rows = \(chunk) must be at least 1")
    }
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

}

/// Hidden layers as a message names them: `256, 128 relu`, or `none`.
func hiddenText(_ hidden: TrainingOptions.HiddenLayers?) -> String {
  guard let hidden else { return "none" }
  return hidden.widths.map(String.init).joined(separator: ", ") + " \(hidden.activation.rawValue)"
}
