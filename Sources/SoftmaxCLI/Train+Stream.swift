//===--- Train+Stream.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

/// How `train` streams an NPY file too large for its memory limit.
struct StreamPlan {
  /// The features' file and the labels' file.
  var path: String
  var labelsPath: String
  /// Whether the features are read as `Float`.
  var isFloat: Bool
  var rows: Int
  var columns: Int
  /// The bytes of a chunk of rows.
  var chunkBytes: Int
}

extension Train {
  /// Bytes the process needs beside the chunks for `rows` streamed rows:
  /// its labels as text and as class indices, the row weights (about 48
  /// bytes a row), and 64 MiB for the program and the solver.
  static func streamingOverhead(rows: Int) -> Int { rows * 48 + (64 << 20) }

  /// The plan to stream DATA, or `nil` to load it: DATA is an NPY file
  /// and `--stream` says so, or its features take more than half of the
  /// memory limit (`--memory-limit`, else `SOFTMAX_MEMORY_LIMIT`, else the
  /// machine's memory).
  ///
  /// - Throws: when DATA must stream but an option needs it in memory, or
  ///   the limit is too small even to stream it.
  func streamingPlan() throws -> StreamPlan? {
    guard !dataOptions.isText(data),
      (try? DataLoader.format(of: data, given: dataOptions.format)) == .npy
    else {
      if stream {
        throw CommandFailure(
          "\(data): --stream reads NPY files (convert it with `softmax convert`)", exitCode: 64)
      }
      return nil
    }
    let isFloat = dataOptions.precision != .double
    let (rows, columns) =
      isFloat
      ? try {
        let s = try NPYRowStream<Float>(path: data)
        return (s.rows, s.columns)
      }()
      : try {
        let s = try NPYRowStream<Double>(path: data)
        return (s.rows, s.columns)
      }()
    let elementSize = isFloat ? 4 : 8
    let (bytes, overflow) = rows.multipliedReportingOverflow(by: columns * elementSize)
    let limit = SoftmaxConfiguration.memoryLimit
    guard stream || overflow || bytes > limit / 2 else { return nil }
    let why =
      stream
      ? "\(data) is streamed (--stream)"
      : "\(data) is streamed (its features take \(byteSize(overflow ? Int.max : bytes)), more than half of the memory limit of \(byteSize(limit)))"
    func refuse(_ option: String, _ instead: String) -> CommandFailure {
      CommandFailure("\(why): \(option) needs the rows in memory; \(instead)", exitCode: 64)
    }
    guard let labelsPath = dataOptions.labels else {
      throw CommandFailure("\(why): give its labels in a file of their own, --labels PATH")
    }
    if dataOptions.label != nil {
      throw refuse("--label", "give the labels in a file of their own, --labels PATH")
    }
    if testSplit != nil { throw refuse("--test-split", "give --test FILE") }
    if hidden != nil {
      throw refuse("--hidden", "streamed data trains softmax regression (leave out --hidden)")
    }
    if calibrateOnValidation {
      throw refuse("--calibrate-on-validation", "give --calibrate FILE")
    }
    let overhead = Self.streamingOverhead(rows: rows)
    let smallest = 256 * columns * elementSize
    guard limit - overhead >= 2 * smallest else {
      throw CommandFailure(
        "\(why), but the limit is too small to train on it: its \(rows) labels and the program need about \(byteSize(overhead)) beside two chunks of \(byteSize(smallest)); give --memory-limit \(byteSize(overhead + 2 * smallest)) or more",
        exitCode: 64)
    }
    return StreamPlan(
      path: data, labelsPath: labelsPath, isFloat: isFloat, rows: rows, columns: columns,
      chunkBytes: max(smallest, min(8 << 20, (limit - overhead) / 4)))
  }

  /// The rows of a chunk of `plan`, as the library cuts them (whole
  /// blocks of 256 rows).
  static func chunkRows(_ plan: StreamPlan) -> Int {
    let rowBytes = max(1, plan.columns * (plan.isFloat ? 4 : 8))
    return max(1, plan.chunkBytes / rowBytes / 256) * 256
  }

  /// Trains on the file `plan` streams, then measures and reports as
  /// `train` does.
  func trainStreamed(_ plan: StreamPlan, started: Double) throws {
    if plan.isFloat {
      try trainStreamed(NPYRowStream<Float>(path: plan.path), plan: plan, started: started)
    } else {
      try trainStreamed(NPYRowStream<Double>(path: plan.path), plan: plan, started: started)
    }
  }

  private func trainStreamed<Scalar: SoftmaxScalar>(
    _ stream: NPYRowStream<Scalar>, plan: StreamPlan, started: Double
  ) throws {
    let labelText = try NPYReader.readLabels(plan.labelsPath)
    guard labelText.count == stream.rows else {
      throw CommandFailure(
        "\(plan.labelsPath): \(labelText.count) labels for the \(stream.rows) rows of \(plan.path)")
    }
    let encoding = ClassEncoding(labels: labelText)
    guard encoding.classes.count >= 2 else {
      throw CommandFailure(
        "\(plan.labelsPath): every row has the label \"\(encoding.classes.first ?? "")\"; a classifier needs at least 2 classes"
      )
    }
    let labels = encoding.indices
    let classes = encoding.classes
    let options = try trainingOptions(rows: stream.rows)
    try ClassificationMetrics.checkMemory(classCount: classes.count)
    if !quiet && !json {
      StandardError.write(
        "softmax: streaming \(plan.path) (\(stream.rows) rows × \(stream.columns) \(stream.typeName)) in chunks of \(Self.chunkRows(plan)) rows (\(byteSize(plan.chunkBytes))) under a memory limit of \(byteSize(SoftmaxConfiguration.memoryLimit))\n"
      )
    }
    var session = TrainingRun(
      classes: classes, featureNames: nil, options: options, quiet: quiet || json,
      wantsHistory: plot != nil,
      total: optimizer.solver.isStochastic
        ? options.stochastic.epochs : options.lbfgs.maxIterations,
      unit: optimizer.solver.isStochastic ? "epoch" : "iteration")
    if let checkpoint {
      session.checkpoints = CheckpointPolicy(
        path: checkpoint, every: checkpointEvery, seconds: checkpointSeconds ?? 60)
      if resume { session.resumingFrom = try readCheckpoint(checkpoint) }
    }
    let sampleRows = TrainingRun.sampleRows(count: stream.rows)
    let sample = try Self.gather(sampleRows, from: stream, chunkBytes: plan.chunkBytes)
    let resumingFrom = session.resumingFrom
    let savesCheckpoints = session.checkpoints != nil
    let outcome = try session.fit(
      sample: sample, sampleLabels: sampleRows.map { labels[$0] }, featureCount: stream.columns
    ) { progress in
      try SoftmaxClassifier.fit(
        streaming: stream, labels: labels, classes: classes, options: options,
        chunkBytes: plan.chunkBytes, resumingFrom: resumingFrom, checkpoints: savesCheckpoints,
        progress: progress)
    }
    var model = outcome.model
    // The columns' means, as a model trained in memory keeps them.
    model.input = InputDescription(
      format: DataFormat.npy.rawValue,
      featureMeans: try Standardization(streaming: stream, chunkBytes: plan.chunkBytes).mean)
    let calibration = try calibrate.map { path in
      let labelled = try dataOptions.labelled(path, for: model)
      return try Calibration(
        model, rows: labelled.rows, labels: labelled.labels, bins: 15, path: path)
    }
    if let calibration { model = calibration.model }
    let k = min(topK, model.classCount)
    let train = try model.evaluate(
      streaming: stream, labels: labels, topK: k, chunkBytes: plan.chunkBytes)
    let testing = try test.map { path in
      let labelled = try dataOptions.labelled(path, for: model)
      return (
        path, labelled.rows.count,
        try labelled.rows.evaluate(model, labels: labelled.labels, topK: k)
      )
    }
    model.training?.metrics = testing?.2 ?? train
    try AtomicFile.write(ModelFile.encode(model), to: self.model)
    if let plot {
      try AtomicFile.write(
        Array(outcome.history.svg(optimizer: optimizer.displayName).utf8), to: plot)
    }
    let summary = TrainingSummary(
      rows: stream.rows, features: stream.columns, classes: classes, testName: testing?.0,
      testRows: testing?.1, isFloat: Scalar.self == Float.self)
    try report(
      model, data: summary, train: train, test: testing?.2, validationLoss: outcome.validationLoss,
      calibration: calibration, options: options, seconds: monotonicSeconds() - started)
  }

  /// The rows `indices` (increasing) of `stream`, read in one pass, as a
  /// data set without labels.
  private static func gather<Scalar: SoftmaxScalar>(
    _ indices: [Int], from stream: NPYRowStream<Scalar>, chunkBytes: Int
  ) throws -> AnyDataSet {
    let d = stream.columns
    var elements: [Scalar] = []
    elements.reserveCapacity(indices.count * d)
    var next = 0
    let chunkRows = max(1, chunkBytes / max(1, d * MemoryLayout<Scalar>.stride))
    try stream.forEachChunk(rows: chunkRows) { first, x in
      let count = d == 0 ? min(chunkRows, stream.rows - first) : x.count / d
      while next < indices.count, indices[next] < first + count {
        let row = indices[next] - first
        elements.append(contentsOf: x[(row * d)..<((row + 1) * d)])
        next += 1
      }
    }
    let matrix = Matrix(rows: indices.count, columns: d, elements: elements)
    if let floats = matrix as? Matrix<Float> {
      return .float(DataSet(features: floats, labels: nil))
    }
    let doubles = Matrix(rows: indices.count, columns: d, elements: elements.map { Double($0) })
    return .double(DataSet(features: doubles, labels: nil))
  }
}
