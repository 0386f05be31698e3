//===--- Train.swift ------------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

enum Optimizer: String, ExpressibleByArgument, CaseIterable {
  case lbfgs, newton, sgd, adam, gd

  var solver: TrainingOptions.Solver {
    switch self {
    case .lbfgs: return .lbfgs
    case .newton: return .newton
    case .sgd: return .sgd
    case .adam: return .adam
    case .gd: return .gradientDescent
    }
  }

  var displayName: String {
    switch self {
    case .lbfgs: return "L-BFGS"
    case .newton: return "trust-region Newton"
    case .sgd: return "SGD"
    case .adam: return "Adam"
    case .gd: return "gradient descent"
    }
  }
}

enum ClassWeightChoice: String, ExpressibleByArgument, CaseIterable {
  case none, balanced
}

/// The hidden layers' activation, as `--activation` spells it.
enum ActivationChoice: String, ExpressibleByArgument, CaseIterable {
  case relu, tanh, gelu, logistic, identity

  var activation: Activation { Activation(rawValue: rawValue) ?? .relu }
}

struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a softmax classifier on a data file and save the model.",
    discussion: """
      Fits softmax regression (a dense layer and softmax, scored by cross-entropy), or with \
      --hidden a network (dense layers with an activation, then the softmax; trained with \
      Adam unless --optimizer says otherwise), to the labelled rows of DATA and writes the \
      model as JSON (atomically: the old file or the \
      new one, never half of one). Without --l2 or --C the regularization is scikit-learn's \
      default, C = 1 (λ = 1/n). Ctrl-C stops after the current iteration and saves the model \
      so far (exit code 130).

      Examples:
        softmax train Data/iris.csv
        softmax train Data/digits.csv --test-split 0.2 --standardize --plot curve.svg
        softmax train flowers.csv --label species --optimizer sgd --epochs 50 --learning-rate 0.05
        softmax train train-images.idx3-ubyte --test t10k-images.idx3-ubyte --standardize --C 0.1
        softmax train data.svm --optimizer adam --batch-size 64 --json
        softmax train train-images.idx3-ubyte --test t10k-images.idx3-ubyte --hidden 256 --epochs 20 --batch-size 128
        softmax train Data/texts.txt --ngrams 2 --test-split 0.25
        softmax train 20news-bydate-train --test 20news-bydate-test --min-count 2
      """)

  @Argument(
    help:
      "The training data: CSV/TSV, LIBSVM, IDX images, NPY, text in fastText's format, or a folder of class folders of text files."
  )
  var data: String

  @OptionGroup(title: "Reading data")
  var dataOptions: DataOptions

  @OptionGroup(title: "Text (a fastText-format file, or a folder of class folders)")
  var textOptions: TextOptions

  @Option(help: ArgumentHelp("A labelled file to test the model on.", valueName: "path"))
  var test: String?

  @Option(
    name: .customLong("test-split"),
    help: ArgumentHelp(
      "Hold out this fraction of DATA (stratified) to test on.", valueName: "fraction"))
  var testSplit: Double?

  @Option(
    name: .customLong("validation-split"),
    help: ArgumentHelp(
      "Hold out this fraction of the training rows (stratified) and report its loss; sgd and adam also stop early on it.",
      valueName: "fraction"))
  var validationSplit: Double?

  @Option(
    help: ArgumentHelp(
      "Fit the model's temperature (temperature scaling: calibrated probabilities, the same predictions) on this held-out labelled file.",
      valueName: "path"))
  var calibrate: String?

  @Flag(
    name: .customLong("calibrate-on-validation"),
    help: "Fit the model's temperature on the rows --validation-split held out.")
  var calibrateOnValidation = false

  @Option(
    name: .customLong("optimizer"),
    help:
      "The optimizer: L-BFGS (OWL-QN with --l1), trust-region Newton (LIBLINEAR's TRON: fastest to a tight optimum; no --l1, no --hidden, data in memory), minibatch SGD, Adam, or full-batch gradient descent (default: lbfgs; adam with --hidden)."
  )
  var optimizerChoice: Optimizer?

  /// `--optimizer`, or its default: L-BFGS, Adam for a network.
  var optimizer: Optimizer { optimizerChoice ?? (hidden == nil ? .lbfgs : .adam) }

  @Option(
    help: ArgumentHelp(
      "Hidden layers of these widths, first to last, before the softmax: a network (e.g. 256 or 256,128; on sparse data and text the first layer reads the stored entries: with --activation identity, fastText's architecture).",
      valueName: "widths"))
  var hidden: String?

  @Option(help: "The hidden layers' activation (with --hidden).")
  var activation: ActivationChoice = .relu

  @Option(
    help: ArgumentHelp(
      "Drop this fraction of the hidden units in each minibatch step (with --hidden; sgd, adam; seeded by --seed).",
      valueName: "fraction"))
  var dropout: Double?

  @Option(help: "Passes over the data (sgd, adam; default 10).")
  var epochs: Int?

  @Option(help: "Rows per minibatch (sgd, adam; default 256).")
  var batchSize: Int?

  @Option(help: "The step size (sgd 0.1, adam 0.001, gd: the first step, 1).")
  var learningRate: Double?

  @Option(help: "SGD momentum in [0, 1) (default 0).")
  var momentum: Double?

  @Option(
    name: .customLong("shuffle-chunk"),
    help: ArgumentHelp(
      "Shuffle by chunks of N consecutive rows: the chunks' order and the rows within each, not all rows at once (sgd, adam; what streamed training does, with its chunk's rows).",
      valueName: "N"))
  var shuffleChunk: Int?

  @Option(
    name: .customLong("l2"), help: ArgumentHelp("The L2 strength λ of λ/2·‖W‖².", valueName: "λ"))
  var l2: Double?

  @Option(
    name: .customLong("C"),
    help: ArgumentHelp("scikit-learn's inverse strength: λ = 1/(C·n).", valueName: "C"))
  var inverseStrength: Double?

  @Option(
    name: .customLong("l1"),
    help: ArgumentHelp("The L1 strength of λ₁·‖W‖₁ (lbfgs, sgd).", valueName: "λ₁"))
  var l1: Double = 0

  @Option(help: "Class weights: none, or balanced (n / (k · count of the class)).")
  var classWeight: ClassWeightChoice = .none

  @Flag(help: "Scale every feature to mean 0 and variance 1 (the model keeps the scaling).")
  var standardize = false

  @Option(help: "The iteration limit (lbfgs, newton, gd; default 1000).")
  var maxIter: Int?

  @Option(
    help:
      "Stop when the largest gradient component is below this (default 1e-6; scikit-learn's is 1e-4)."
  )
  var tol: Double?

  @Option(
    help: ArgumentHelp(
      "Correction pairs L-BFGS keeps (lbfgs; default 10, scipy's maxcor). Fewer make an iteration cheaper on large sparse models; badly scaled data may then need more iterations.",
      valueName: "N"))
  var lbfgsMemory: Int?

  @Option(help: "The seed of every random choice (splits, shuffles).")
  var seed: UInt64 = 0

  @Option(help: "Worker threads (default: every core).")
  var threads: Int?

  @Option(
    name: .customLong("memory-limit"),
    help: ArgumentHelp(
      "The memory training may use, as bytes or with K, M, G (default: SOFTMAX_MEMORY_LIMIT, else the machine's memory). An NPY file whose features need more than half of it (labels from --labels), or a CSV or LIBSVM file larger than half of it, is streamed from disk in chunks (no --hidden; LIBSVM trains sparse, with lbfgs or gd).",
      valueName: "size"))
  var memoryLimit: String?

  @Flag(
    help:
      "Stream the NPY, CSV or LIBSVM file from disk in chunks on every pass instead of loading it (automatic when it needs more than half of the memory limit)."
  )
  var stream = false

  @Option(help: ArgumentHelp("Where to write the model.", valueName: "path"))
  var model: String = "model.json"

  @Option(help: ArgumentHelp("Draw loss and accuracy per iteration as SVG.", valueName: "path.svg"))
  var plot: String?

  @Option(
    help: ArgumentHelp(
      "Save the training state here as it trains (atomically), to go on with --resume after a crash or Ctrl-C.",
      valueName: "path"))
  var checkpoint: String?

  @Option(
    help: ArgumentHelp(
      "Save the checkpoint every N iterations (epochs for sgd and adam).", valueName: "N"))
  var checkpointEvery: Int?

  @Option(
    help: ArgumentHelp(
      "Save the checkpoint at least every S seconds (default: 60).", valueName: "S"))
  var checkpointSeconds: Double?

  @Flag(
    help:
      "Go on from --checkpoint if it is there: the same data and options give the model an uninterrupted run gives, bit for bit."
  )
  var resume = false

  @Option(name: .customLong("top-k"), help: "k of the top-k accuracy reported.")
  var topK: Int = 5

  @Flag(help: "No progress, no summary (errors still go to stderr).")
  var quiet = false

  @Flag(help: "Print one JSON object with the results on stdout.")
  var json = false

  /// The checkpoint at `path` to resume from, or `nil` (said on stderr)
  /// when there is none yet: the same command line starts a run and
  /// continues it after a crash.
  func readCheckpoint(_ path: String) throws -> TrainingCheckpoint? {
    guard AtomicFile.exists(path) else {
      if !quiet { StandardError.write("softmax: no checkpoint at \(path) yet; starting afresh\n") }
      return nil
    }
    let bytes = try AtomicFile.readText(path, maximumBytes: largestJSONFile)
    do {
      let checkpoint = try TrainingCheckpoint.decode(bytes)
      if !quiet {
        StandardError.write(
          "softmax: resuming from \(path), after \(optimizer.solver.isStochastic ? "epoch" : "iteration") \(checkpoint.iteration)\n"
        )
      }
      return checkpoint
    } catch {
      throw CommandFailure("\(path): \(error.message)")
    }
  }

  func validate() throws {
    func check(_ ok: Bool, _ message: String) throws {
      if !ok { throw ValidationError(message) }
    }
    if let testSplit {
      try check(testSplit > 0 && testSplit < 1, "--test-split must be in (0, 1), not \(testSplit)")
      try check(test == nil, "give --test or --test-split, not both")
    }
    if let validationSplit {
      try check(
        validationSplit > 0 && validationSplit < 1,
        "--validation-split must be in (0, 1), not \(validationSplit)")
    }
    if calibrateOnValidation {
      try check(validationSplit != nil, "--calibrate-on-validation needs --validation-split")
      try check(calibrate == nil, "give --calibrate FILE or --calibrate-on-validation, not both")
    }
    try check(l2 == nil || inverseStrength == nil, "give --l2 or --C, not both")
    if let l2 { try check(l2 >= 0 && l2.isFinite, "--l2 must be finite and ≥ 0, not \(l2)") }
    if let c = inverseStrength {
      try check(c > 0 && c.isFinite, "--C must be finite and > 0, not \(c)")
    }
    try check(l1 >= 0 && l1.isFinite, "--l1 must be finite and ≥ 0, not \(l1)")
    if let epochs { try check(epochs >= 1, "--epochs must be at least 1, not \(epochs)") }
    if let batchSize {
      try check(batchSize >= 1, "--batch-size must be at least 1, not \(batchSize)")
    }
    if let learningRate {
      try check(
        learningRate > 0 && learningRate.isFinite,
        "--learning-rate must be finite and > 0, not \(learningRate)")
    }
    if let momentum {
      try check(momentum >= 0 && momentum < 1, "--momentum must be in [0, 1), not \(momentum)")
    }
    if let maxIter { try check(maxIter >= 0, "--max-iter must be ≥ 0, not \(maxIter)") }
    if let tol { try check(tol >= 0 && tol.isFinite, "--tol must be finite and ≥ 0, not \(tol)") }
    if let lbfgsMemory {
      try check(lbfgsMemory >= 1, "--lbfgs-memory must be at least 1, not \(lbfgsMemory)")
    }
    if let threads { try check(threads >= 1, "--threads must be at least 1, not \(threads)") }
    if let memoryLimit {
      try check(
        SoftmaxConfiguration.byteCount(memoryLimit) != nil,
        "--memory-limit takes a byte count with an optional K, M, G or T (1G, 512M), not \"\(memoryLimit)\""
      )
    }
    try check(topK >= 1, "--top-k must be at least 1, not \(topK)")
    if checkpoint == nil {
      try check(
        !resume && checkpointEvery == nil && checkpointSeconds == nil,
        "--resume, --checkpoint-every and --checkpoint-seconds need --checkpoint PATH")
    }
    if let checkpointEvery {
      try check(
        checkpointEvery >= 1, "--checkpoint-every must be at least 1, not \(checkpointEvery)")
    }
    if let checkpointSeconds {
      try check(
        checkpointSeconds > 0 && checkpointSeconds.isFinite,
        "--checkpoint-seconds must be finite and > 0, not \(checkpointSeconds)")
    }
    if momentum != nil { try check(optimizer == .sgd, "--momentum is for --optimizer sgd") }
    if let shuffleChunk {
      try check(shuffleChunk >= 1, "--shuffle-chunk must be at least 1, not \(shuffleChunk)")
      try check(
        optimizer == .sgd || optimizer == .adam, "--shuffle-chunk is for --optimizer sgd or adam")
    }
    if epochs != nil || batchSize != nil {
      try check(
        optimizer == .sgd || optimizer == .adam, "--epochs and --batch-size are for sgd and adam")
    }
    if l1 > 0 {
      try check(hidden == nil, "--l1 is for softmax regression, not a network (--hidden)")
      try check(optimizer == .lbfgs || optimizer == .sgd, "--l1 needs --optimizer lbfgs or sgd")
    }
    if let hidden {
      try check(
        optimizer != .newton,
        "--optimizer newton is for softmax regression, not a network (--hidden): use adam, sgd or lbfgs"
      )
      try check(
        hiddenWidths != nil,
        "--hidden takes widths separated by commas, each at least 1 (e.g. 256,128), not \"\(hidden)\""
      )
    } else {
      try check(activation == .relu, "--activation is for a network: give --hidden WIDTHS too")
      try check(dropout == nil, "--dropout is for a network: give --hidden WIDTHS too")
    }
    if let dropout {
      try check(dropout >= 0 && dropout < 1, "--dropout must be in [0, 1), not \(dropout)")
      try check(
        optimizer == .sgd || optimizer == .adam, "--dropout is for --optimizer sgd or adam")
    }
  }

  /// The widths of `--hidden`, or `nil` when it is absent or malformed.
  var hiddenWidths: [Int]? {
    guard let hidden else { return nil }
    let widths = hidden.split(separator: ",", omittingEmptySubsequences: false).map {
      Int($0.filter { $0 != " " })
    }
    guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
    return widths.compactMap { $0 }
  }

  func run() throws {
    try reportingFailures {
      Interrupt.install()
      try checkOutputs(outputs, against: try inputs())
      if let threads { SoftmaxConfiguration.threadCount = threads }
      if let limit = memoryLimit.flatMap(SoftmaxConfiguration.byteCount) {
        SoftmaxConfiguration.memoryLimit = limit
      }
      let started = monotonicSeconds()
      if let plan = try streamingPlan() {
        try trainStreamed(plan, started: started)
        return
      }
      let data = try loadTrainingData()
      let options = try trainingOptions(rows: data.trainingLabels.count)
      try ClassificationMetrics.checkMemory(classCount: data.classes.count)
      let outcome = try train(data, options: options)
      var model = outcome.model
      model.text = data.vectorizer
      if data.vectorizer == nil {
        model.input = try data.inputDescription(of: self.data, format: dataOptions.format)
      }
      let calibration = try calibrate(model, data: data, options: options)
      if let calibration { model = calibration.model }
      let train = try data.training.evaluate(model, labels: data.trainingLabels, topK: topK)
      let test = try data.testing.map { try $0.data.evaluate(model, labels: $0.labels, topK: topK) }
      model.training?.metrics = test ?? train
      try writeModel(model, to: self.model)
      if let plot {
        try AtomicFile.write(
          Array(outcome.history.svg(optimizer: optimizer.displayName).utf8), to: plot)
      }
      try report(
        model, data: data.summary, train: train, test: test, validationLoss: outcome.validationLoss,
        calibration: calibration, options: options, seconds: monotonicSeconds() - started)
    }
  }

  /// `--calibrate FILE` or `--calibrate-on-validation`: the trained model's
  /// temperature fitted on held-out rows (read as `eval` reads a file, or
  /// the rows `--validation-split` held out of training), or `nil`.
  func calibrate(_ model: SoftmaxClassifier, data: TrainingData, options: TrainingOptions) throws
    -> Calibration?
  {
    if let calibrate {
      let labelled = try dataOptions.labelled(calibrate, for: model)
      return try Calibration(
        model, rows: labelled.rows, labels: labelled.labels, bins: 15, path: calibrate)
    }
    guard calibrateOnValidation else { return nil }
    guard
      let rows = try SoftmaxClassifier.heldOutRows(
        labels: data.trainingLabels, classCount: data.classes.count, options: options)
    else { return nil }
    return try Calibration(
      model, rows: data.training.rows(rows), labels: rows.map { data.trainingLabels[$0] },
      bins: 15, path: "the validation split")
  }

  /// Trains with a progress display, Ctrl-C and checkpoints.
  func train(_ data: TrainingData, options: TrainingOptions) throws -> TrainingRun.Outcome {
    var session = TrainingRun(
      classes: data.classes, featureNames: data.training.featureNames, options: options,
      quiet: quiet || json, wantsHistory: plot != nil,
      total: optimizer.solver.isStochastic
        ? options.stochastic.epochs : options.lbfgs.maxIterations,
      unit: optimizer.solver.isStochastic ? "epoch" : "iteration")
    if let checkpoint {
      session.checkpoints = CheckpointPolicy(
        path: checkpoint, every: checkpointEvery, seconds: checkpointSeconds ?? 60)
      if resume { session.resumingFrom = try readCheckpoint(checkpoint) }
    }
    do {
      return try session.fit(
        data.training, labels: data.trainingLabels, sampleWeights: data.trainingWeights)
    } catch let error as TrainingError where session.resumingFrom != nil {
      // A checkpoint problem names the checkpoint's file.
      guard error.message.contains("checkpoint"), let checkpoint else { throw error }
      throw CommandFailure("\(checkpoint): \(error.message)")
    }
  }

  /// The files training reads, each named for messages.
  func inputs() throws -> [NamedPath] {
    try dataOptions.namedInputs(of: data, role: "the training data")
      + (test.map { try dataOptions.namedInputs(of: $0, role: "the test data") } ?? [])
      + (calibrate.map { try dataOptions.namedInputs(of: $0, role: "the calibration data") } ?? [])
  }

  /// The files training writes.
  var outputs: [NamedPath] {
    [NamedPath(role: "--model", path: model)]
      + [
        plot.map { NamedPath(role: "--plot", path: $0) },
        checkpoint.map {
          NamedPath(role: "--checkpoint", path: $0)
        },
      ].compactMap { $0 }
  }

  /// The options of the library's `fit` for `rows` training rows.
  func trainingOptions(rows: Int) throws -> TrainingOptions {
    var options = TrainingOptions()
    options.solver = optimizer.solver
    if let l2 {
      options.l2 = l2
    } else {
      options.l2 = TrainingOptions.l2(forC: inverseStrength ?? 1, sampleWeightTotal: Double(rows))
    }
    if let c = inverseStrength, !options.l2.isFinite {
      throw CommandFailure(
        "--C \(c) makes λ = 1/(C·n) = \(options.l2) for n = \(rows) rows; give a C nearer 1, or --l2",
        exitCode: 2)
    }
    options.l1 = l1
    options.standardize = standardize
    if let widths = hiddenWidths {
      options.hidden = TrainingOptions.HiddenLayers(
        widths: widths, activation: activation.activation, dropout: dropout ?? 0)
    }
    options.classWeighting = classWeight == .balanced ? .balanced : .uniform
    if let maxIter { options.lbfgs.maxIterations = maxIter }
    if let tol { options.lbfgs.gradientTolerance = tol }
    if let lbfgsMemory { options.lbfgs.memory = lbfgsMemory }
    if optimizer == .gd, let learningRate { options.learningRate = learningRate }
    if let epochs { options.stochastic.epochs = epochs }
    if let batchSize { options.stochastic.batchSize = batchSize }
    if optimizer.solver.isStochastic { options.stochastic.learningRate = learningRate }
    if let momentum { options.stochastic.momentum = momentum }
    options.stochastic.shuffleChunkRows = shuffleChunk
    options.stochastic.seed = seed
    // Held-out rows: early stopping for the minibatch solvers, a reported
    // validation loss for the full-batch ones (the library splits both).
    if let validationSplit, optimizer.solver.isStochastic {
      var early = EarlyStopping()
      early.validationFraction = validationSplit
      options.stochastic.earlyStopping = early
    } else {
      options.heldOutFraction = validationSplit
    }
    if let batchSize, optimizer.solver.isStochastic, batchSize > rows, !quiet {
      StandardError.write(
        "softmax: note: --batch-size \(batchSize) is more than the \(rows) training rows: every step takes them all\n"
      )
    }
    return options
  }
}
