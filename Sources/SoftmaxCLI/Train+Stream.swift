//===--- Train+Stream.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

/// How `train` streams an NPY file too large for its memory limit.
struct StreamPlan {
  /// The features' file and, for NPY, the labels' file.
  var path: String
  var labelsPath: String
  /// A CSV file's stream (its first pass read), or `nil` for NPY.
  var csvFloat: CSVRowStream<Float>? = nil
  var csvDouble: CSVRowStream<Double>? = nil
  /// A LIBSVM file's stream (its first pass read), trained sparse.
  var libsvmFloat: LIBSVMRowStream<Float>? = nil
  var libsvmDouble: LIBSVMRowStream<Double>? = nil
  /// A SciPy `.npz` file's stream (its row offsets read), trained sparse.
  var npzFloat: NPZRowStream<Float>? = nil
  var npzDouble: NPZRowStream<Double>? = nil
  /// Whether the features are read as `Float`.
  var isFloat: Bool
  var rows: Int
  var columns: Int
  /// The bytes of a chunk of rows.
  var chunkBytes: Int
  /// Stored entries, for sparse rows.
  var nonZeroCount: Int? = nil

  /// "N rows (SIZE)": a chunk as the library cuts it (whole blocks of 256
  /// rows, at the average entries a row for sparse rows).
  var chunkDescription: String {
    let entryBytes = 4 + (isFloat ? 4 : 8)
    let rowBytes =
      nonZeroCount.map { 8 + entryBytes * ($0 / max(rows, 1)) }
      ?? columns * (isFloat ? 4 : 8)
    let chunkRows = max(1, chunkBytes / max(1, rowBytes) / 256) * 256
    return "\(chunkRows) rows (\(byteSize(chunkBytes)))"
  }
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
    let format =
      dataOptions.isText(data)
      ? nil : try? DataLoader.format(of: data, given: dataOptions.format)
    if format == .csv { return try csvStreamingPlan() }
    if format == .libsvm { return try libsvmStreamingPlan() }
    if format == .npz { return try npzStreamingPlan() }
    guard format == .npy else {
      if stream {
        throw CommandFailure(
          "\(data): --stream reads NPY, NPZ, CSV and LIBSVM files (convert others with `softmax convert`)",
          exitCode: 64)
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
    guard let labelsPath = dataOptions.labels else {
      throw CommandFailure("\(why): give its labels in a file of their own, --labels PATH")
    }
    if dataOptions.label != nil {
      throw refuseStreaming(why, "--label", "give the labels in a file of their own, --labels PATH")
    }
    try checkStreamable(why)
    return try plan(
      path: data, labelsPath: labelsPath, isFloat: isFloat, rows: rows, columns: columns, why: why)
  }

  /// A CSV file streamed: with `--stream`, or when the file is larger than
  /// half of the memory limit (its text, a bound on its values' memory
  /// when read as double). Its first pass happens here.
  private func csvStreamingPlan() throws -> StreamPlan? {
    guard let why = textStreamingReason() else { return nil }
    if dataOptions.missing == .mean {
      throw refuseStreaming(why, "--missing mean", "use --missing zero or skip")
    }
    if optimizer.solver.isStochastic {
      throw refuseStreaming(
        why, "--optimizer \(optimizer.rawValue) (rows at random)",
        "convert it to .npy (softmax convert), or use --optimizer lbfgs or gd")
    }
    try checkStreamable(why)
    var options = try dataOptions.loadOptions()
    if let label = options.label { options.csv.label = label }
    let isFloat = dataOptions.precision == .float
    var plan: StreamPlan
    if isFloat {
      let rows = try CSVRowStream<Float>(path: data, options: options.csv)
      plan = try self.plan(
        path: data, labelsPath: data, isFloat: true, rows: rows.rows, columns: rows.columns,
        why: why)
      plan.csvFloat = rows
    } else {
      let rows = try CSVRowStream<Double>(path: data, options: options.csv)
      plan = try self.plan(
        path: data, labelsPath: data, isFloat: false, rows: rows.rows, columns: rows.columns,
        why: why)
      plan.csvDouble = rows
    }
    return plan
  }

  /// A LIBSVM file streamed as sparse rows: with `--stream`, or when the
  /// file is larger than half of the memory limit (its text, about its
  /// entries' memory as float). Its first pass happens here.
  private func libsvmStreamingPlan() throws -> StreamPlan? {
    guard let why = textStreamingReason() else { return nil }
    try refuseDense(why, "a streamed LIBSVM file")
    if optimizer.solver.isStochastic {
      throw refuseStreaming(
        why, "--optimizer \(optimizer.rawValue) (rows at random)",
        "use --optimizer lbfgs or gd, or give it more memory (--memory-limit)")
    }
    try checkStreamable(why)
    let options = try dataOptions.loadOptions().libsvm
    let isFloat = dataOptions.precision.readsFloat(.libsvm)
    var plan: StreamPlan
    if isFloat {
      let rows = try LIBSVMRowStream<Float>(path: data, options: options)
      plan = try sparsePlan(
        rows: rows.rows, columns: rows.columns, nonZeroCount: rows.nonZeroCount, isFloat: true,
        why: why)
      plan.libsvmFloat = rows
    } else {
      let rows = try LIBSVMRowStream<Double>(path: data, options: options)
      plan = try sparsePlan(
        rows: rows.rows, columns: rows.columns, nonZeroCount: rows.nonZeroCount, isFloat: false,
        why: why)
      plan.libsvmDouble = rows
    }
    return plan
  }

  /// A SciPy `.npz` file streamed as sparse rows: with `--stream`, or when
  /// its entries (a column index and a value each) take more than half of
  /// the memory limit. Its labels come from `--labels`.
  private func npzStreamingPlan() throws -> StreamPlan? {
    if dataOptions.precision.readsFloat(.npz) {
      let stream = try NPZRowStream<Float>(path: data)
      var plan = try npzPlan(stream)
      plan?.npzFloat = stream
      return plan
    }
    let stream = try NPZRowStream<Double>(path: data)
    var plan = try npzPlan(stream)
    plan?.npzDouble = stream
    return plan
  }

  /// The plan for `stream`, or `nil` to load it.
  private func npzPlan<Scalar: SoftmaxScalar>(_ stream: NPZRowStream<Scalar>) throws
    -> StreamPlan?
  {
    let isFloat = Scalar.self == Float.self
    let limit = SoftmaxConfiguration.memoryLimit
    let (bytes, overflow) = stream.nonZeroCount.multipliedReportingOverflow(by: isFloat ? 8 : 12)
    guard self.stream || overflow || bytes > limit / 2 else { return nil }
    let why =
      self.stream
      ? "\(data) is streamed (--stream)"
      : "\(data) is streamed (its entries take \(byteSize(overflow ? Int.max : bytes)), more than half of the memory limit of \(byteSize(limit)))"
    guard let labelsPath = dataOptions.labels else {
      throw CommandFailure("\(why): give its labels in a file of their own, --labels PATH")
    }
    try refuseDense(why, "a streamed sparse matrix")
    if optimizer.solver.isStochastic && !stream.readsRowsAtRandom {
      throw refuseStreaming(
        why, "--optimizer \(optimizer.rawValue) (rows at random, in a compressed archive)",
        "store it uncompressed (softmax convert IN OUT.npz, or save_npz(..., compressed=False)), or use --optimizer lbfgs or gd"
      )
    }
    try checkStreamable(why)
    var plan = try sparsePlan(
      rows: stream.rows, columns: stream.columns, nonZeroCount: stream.nonZeroCount,
      isFloat: isFloat, why: why)
    plan.labelsPath = labelsPath
    return plan
  }

  /// Why a text file (CSV, LIBSVM) streams: `--stream`, or a file larger
  /// than half of the memory limit; `nil` to load it.
  private func textStreamingReason() -> String? {
    let limit = SoftmaxConfiguration.memoryLimit
    let size = (try? FileManager.default.attributesOfItem(atPath: data)[.size] as? Int) ?? 0
    guard stream || size > limit / 2 else { return nil }
    return stream
      ? "\(data) is streamed (--stream)"
      : "\(data) is streamed (the file has \(byteSize(size)), more than half of the memory limit of \(byteSize(limit)))"
  }

  /// Throws for `--dense`: `what` trains on its sparse rows.
  private func refuseDense(_ why: String, _ what: String) throws {
    if dataOptions.layout == .dense {
      throw CommandFailure(
        "\(why): \(what) trains on its sparse rows; leave out --dense", exitCode: 64)
    }
  }

  /// The chunk size for `rows` sparse rows of `nonZeroCount` entries under
  /// the memory limit.
  private func sparsePlan(
    rows: Int, columns: Int, nonZeroCount: Int, isFloat: Bool, why: String
  ) throws -> StreamPlan {
    let limit = SoftmaxConfiguration.memoryLimit
    let overhead = Self.streamingOverhead(rows: rows)
    let entryBytes = 4 + (isFloat ? 4 : 8)
    let smallest = 256 * (8 + entryBytes * (nonZeroCount / max(rows, 1)))
    guard limit - overhead >= 2 * smallest else {
      throw CommandFailure(
        "\(why), but the limit is too small to train on it: its \(rows) labels and the program need about \(byteSize(overhead)) beside two chunks of \(byteSize(smallest)); give --memory-limit \(byteSize(overhead + 2 * smallest)) or more",
        exitCode: 64)
    }
    return StreamPlan(
      path: data, labelsPath: data, isFloat: isFloat, rows: rows, columns: columns,
      chunkBytes: max(smallest, min(8 << 20, (limit - overhead) / 4)), nonZeroCount: nonZeroCount)
  }

  /// The error for `option`, which needs the rows in memory.
  private func refuseStreaming(_ why: String, _ option: String, _ instead: String)
    -> CommandFailure
  {
    CommandFailure("\(why): \(option) needs the rows in memory; \(instead)", exitCode: 64)
  }

  /// Throws for the options that need the rows in memory.
  private func checkStreamable(_ why: String) throws {
    func refuse(_ option: String, _ instead: String) -> CommandFailure {
      refuseStreaming(why, option, instead)
    }
    if testSplit != nil { throw refuse("--test-split", "give --test FILE") }
    if hidden != nil {
      throw refuse("--hidden", "streamed data trains softmax regression (leave out --hidden)")
    }
    if calibrateOnValidation {
      throw refuse("--calibrate-on-validation", "give --calibrate FILE")
    }
    if optimizer == .newton {
      throw refuse(
        "--optimizer newton (Hessian products, from rows in memory)",
        "use --optimizer lbfgs or gd, or give it more memory (--memory-limit)")
    }
  }

  /// The chunk size for `rows` × `columns` under the memory limit.
  private func plan(
    path: String, labelsPath: String, isFloat: Bool, rows: Int, columns: Int, why: String
  ) throws -> StreamPlan {
    let limit = SoftmaxConfiguration.memoryLimit
    let elementSize = isFloat ? 4 : 8
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

  /// Trains on the file `plan` streams, then measures and reports as
  /// `train` does.
  func trainStreamed(_ plan: StreamPlan, started: Double) throws {
    if let rows = plan.npzFloat {
      try trainStreamed(rows, plan: plan, started: started)
    } else if let rows = plan.npzDouble {
      try trainStreamed(rows, plan: plan, started: started)
    } else if let rows = plan.libsvmFloat {
      try trainStreamed(rows, plan: plan, started: started)
    } else if let rows = plan.libsvmDouble {
      try trainStreamed(rows, plan: plan, started: started)
    } else if let rows = plan.csvFloat {
      try trainStreamed(rows, plan: plan, table: rows.table, started: started)
    } else if let rows = plan.csvDouble {
      try trainStreamed(rows, plan: plan, table: rows.table, started: started)
    } else if plan.isFloat {
      try trainStreamed(NPYRowStream<Float>(path: plan.path), plan: plan, started: started)
    } else {
      try trainStreamed(NPYRowStream<Double>(path: plan.path), plan: plan, started: started)
    }
  }

  /// An NPY file with its labels file.
  private func trainStreamed<Scalar: SoftmaxScalar>(
    _ stream: NPYRowStream<Scalar>, plan: StreamPlan, started: Double
  ) throws {
    let labelText = try NPYReader.readLabels(plan.labelsPath)
    guard labelText.count == stream.rows else {
      throw CommandFailure(
        "\(plan.labelsPath): \(labelText.count) labels for the \(stream.rows) rows of \(plan.path)")
    }
    try trainStreamed(
      stream, plan: plan, labelText: labelText, featureNames: nil,
      what: "\(stream.rows) rows × \(stream.columns) \(stream.typeName)", started: started
    ) { means in InputDescription(format: DataFormat.npy.rawValue, featureMeans: means) }
  }

  /// A CSV file, its labels and names from its first pass.
  private func trainStreamed<Scalar: SoftmaxScalar>(
    _ stream: CSVRowStream<Scalar>, plan: StreamPlan, table: CSVReader.ChunkedTable,
    started: Double
  ) throws {
    guard let labelText = table.labels else {
      throw CommandFailure("\(data): no labels (give --label)")
    }
    noteLoadReport(table.report, of: data)
    let report = table.report
    try trainStreamed(
      stream, plan: plan, labelText: labelText, featureNames: table.featureNames,
      what: "\(stream.rows) rows × \(stream.columns) features, parsed on every pass",
      started: started
    ) { means in
      // What a model trained on the file in memory keeps of it.
      InputDescription(
        format: DataFormat.csv.rawValue,
        labelColumn: report.labelColumn.map {
          InputDescription.LabelColumn(
            name: report.labelName, index: $0,
            columnCount: report.columnCount ?? stream.columns + 1)
        }, zeroBasedIndices: report.zeroBasedIndices, featureMeans: means)
    }
  }

  private func trainStreamed<Rows: RowStream>(
    _ stream: Rows, plan: StreamPlan, labelText: [String], featureNames: [String]?,
    what: String, started: Double, input: @escaping ([Double]) -> InputDescription
  ) throws {
    try trainStreamed(
      StreamedRows(
        rows: stream.rows, columns: stream.columns, isFloat: Rows.Scalar.self == Float.self,
        sample: { indices in try Self.gather(indices, from: stream, chunkBytes: plan.chunkBytes) },
        fit: { labels, classes, options, resumingFrom, checkpoints, progress in
          try SoftmaxClassifier.fit(
            streaming: stream, labels: labels, classes: classes, featureNames: featureNames,
            options: options, chunkBytes: plan.chunkBytes, resumingFrom: resumingFrom,
            checkpoints: checkpoints, progress: progress)
        },
        input: {
          // The columns' means, as a model trained in memory keeps them.
          input(try Standardization(streaming: stream, chunkBytes: plan.chunkBytes).mean)
        },
        evaluate: { model, labels, k in
          try model.evaluate(
            streaming: stream, labels: labels, topK: k, chunkBytes: plan.chunkBytes)
        }), plan: plan, labelText: labelText, featureNames: featureNames, what: what,
      started: started)
  }

  /// A LIBSVM file, its labels from its first pass, trained sparse.
  private func trainStreamed<Scalar: SoftmaxScalar>(
    _ stream: LIBSVMRowStream<Scalar>, plan: StreamPlan, started: Double
  ) throws {
    noteLoadReport(stream.report, of: data)
    // What a model trained on the file sparse in memory keeps of it.
    try trainStreamed(
      sparse: stream, plan: plan, labelText: stream.labels,
      what:
        "\(stream.rows) rows × \(stream.columns) features, \(stream.nonZeroCount) stored entries, parsed on every pass",
      input: InputDescription(
        format: DataFormat.libsvm.rawValue, zeroBasedIndices: stream.report.zeroBasedIndices),
      started: started)
  }

  /// A SciPy `.npz` file with its labels file, trained sparse.
  private func trainStreamed<Scalar: SoftmaxScalar>(
    _ stream: NPZRowStream<Scalar>, plan: StreamPlan, started: Double
  ) throws {
    let labelText = try NPYReader.readLabels(plan.labelsPath)
    guard labelText.count == stream.rows else {
      throw CommandFailure(
        "\(plan.labelsPath): \(labelText.count) labels for the \(stream.rows) rows of \(plan.path)")
    }
    try trainStreamed(
      sparse: stream, plan: plan, labelText: labelText,
      what:
        "\(stream.rows) rows × \(stream.columns) features, \(stream.nonZeroCount) stored entries",
      input: InputDescription(format: DataFormat.npz.rawValue), started: started)
  }

  /// Sparse rows streamed, with their labels.
  private func trainStreamed<Rows: SparseRowStream>(
    sparse stream: Rows, plan: StreamPlan, labelText: [String], what: String,
    input: InputDescription, started: Double
  ) throws {
    try trainStreamed(
      StreamedRows(
        rows: stream.rows, columns: stream.columns, isFloat: Rows.Scalar.self == Float.self,
        sample: { indices in
          try Self.gather(indices, from: stream, chunkBytes: plan.chunkBytes)
        },
        fit: { labels, classes, options, resumingFrom, checkpoints, progress in
          try SoftmaxClassifier.fit(
            streaming: stream, labels: labels, classes: classes, options: options,
            chunkBytes: plan.chunkBytes, resumingFrom: resumingFrom, checkpoints: checkpoints,
            progress: progress)
        },
        input: { input },
        evaluate: { model, labels, k in
          try model.evaluate(
            streaming: stream, labels: labels, topK: k, chunkBytes: plan.chunkBytes)
        }), plan: plan, labelText: labelText, featureNames: nil, what: what, started: started)
  }

  /// What `train` does with streamed rows, whatever their kind.
  private struct StreamedRows {
    var rows: Int
    var columns: Int
    var isFloat: Bool
    /// The rows `indices` (increasing), read in one pass.
    var sample: (_ indices: [Int]) throws -> AnyDataSet
    var fit:
      (
        _ labels: [Int], _ classes: [String], _ options: TrainingOptions,
        _ resumingFrom: TrainingCheckpoint?, _ checkpoints: Bool,
        _ progress: (IterationReport) -> Bool
      ) throws -> SoftmaxClassifier
    /// What the model keeps of the file.
    var input: () throws -> InputDescription
    var evaluate:
      (_ model: SoftmaxClassifier, _ labels: [Int], _ topK: Int) throws -> ClassificationMetrics
  }

  private func trainStreamed(
    _ stream: StreamedRows, plan: StreamPlan, labelText: [String], featureNames: [String]?,
    what: String, started: Double
  ) throws {
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
        "softmax: streaming \(plan.path) (\(what)) in chunks of \(plan.chunkDescription) under a memory limit of \(byteSize(SoftmaxConfiguration.memoryLimit))\n"
      )
    }
    var session = TrainingRun(
      classes: classes, featureNames: featureNames, options: options, quiet: quiet || json,
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
    let sample = try stream.sample(sampleRows)
    let resumingFrom = session.resumingFrom
    let savesCheckpoints = session.checkpoints != nil
    let outcome = try session.fit(
      sample: sample, sampleLabels: sampleRows.map { labels[$0] }, featureCount: stream.columns
    ) { progress in
      try stream.fit(labels, classes, options, resumingFrom, savesCheckpoints, progress)
    }
    var model = outcome.model
    model.input = try stream.input()
    let calibration = try calibrate.map { path in
      let labelled = try dataOptions.labelled(path, for: model)
      return try Calibration(
        model, rows: labelled.rows, labels: labelled.labels, bins: 15, path: path)
    }
    if let calibration { model = calibration.model }
    let k = min(topK, model.classCount)
    let train = try stream.evaluate(model, labels, k)
    let testing = try test.map { path in
      let labelled = try dataOptions.labelled(path, for: model)
      return (
        path, labelled.rows.count,
        try labelled.rows.evaluate(model, labels: labelled.labels, topK: k)
      )
    }
    model.training?.metrics = testing?.2 ?? train
    try writeModel(model, to: self.model)
    if let plot {
      try AtomicFile.write(
        Array(outcome.history.svg(optimizer: optimizer.displayName).utf8), to: plot)
    }
    let summary = TrainingSummary(
      rows: stream.rows, features: stream.columns, classes: classes, testName: testing?.0,
      testRows: testing?.1, isFloat: stream.isFloat)
    try report(
      model, data: summary, train: train, test: testing?.2, validationLoss: outcome.validationLoss,
      calibration: calibration, options: options, seconds: monotonicSeconds() - started)
  }

  /// The rows `indices` (increasing) of a sparse `stream`, read in one
  /// pass, as a sparse data set without labels.
  private static func gather<Rows: SparseRowStream>(
    _ indices: [Int], from stream: Rows, chunkBytes: Int
  ) throws -> AnyDataSet {
    var builder = SparseMatrix<Rows.Scalar>.Builder(columns: stream.columns)
    var next = 0
    let rowBytes = max(1, 8 + 12 * stream.nonZeroCount / max(stream.rows, 1))
    try stream.forEachChunk(rows: max(1, chunkBytes / rowBytes)) { first, chunk in
      while next < indices.count, indices[next] < first + chunk.rows {
        let (columns, values) = chunk.row(indices[next] - first)
        for (c, v) in zip(columns, values) { builder.append(column: Int(c), value: v) }
        builder.endRow()
        next += 1
      }
    }
    let matrix = builder.matrix
    if let floats = matrix as? SparseMatrix<Float> {
      return .sparseFloat(SparseDataSet(features: floats, labels: nil))
    }
    let doubles = SparseMatrix(
      unchecked: matrix.rows, columns: matrix.columns, rowOffsets: matrix.rowOffsets,
      columnIndices: matrix.columnIndices, values: matrix.values.map { Double($0) })
    return .sparseDouble(SparseDataSet(features: doubles, labels: nil))
  }

  /// The rows `indices` (increasing) of `stream`, read in one pass, as a
  /// data set without labels.
  private static func gather<Rows: RowStream>(
    _ indices: [Int], from stream: Rows, chunkBytes: Int
  ) throws -> AnyDataSet {
    let d = stream.columns
    var elements: [Rows.Scalar] = []
    elements.reserveCapacity(indices.count * d)
    var next = 0
    let chunkRows = max(1, chunkBytes / max(1, d * MemoryLayout<Rows.Scalar>.stride))
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
