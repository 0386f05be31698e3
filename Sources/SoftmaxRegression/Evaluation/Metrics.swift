//===--- Metrics.swift ----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Precision, recall and F1 of one class.
public struct ClassScores: Sendable, Hashable, Codable {
  /// Correct predictions of the class over all predictions of it (0 if
  /// it was never predicted, as scikit-learn's `zero_division=0`).
  public var precision: Double
  /// Correct predictions of the class over its true count (0 if absent).
  public var recall: Double
  /// The harmonic mean of precision and recall (0 if both are 0).
  public var f1: Double
  /// Rows whose true class this is.
  public var support: Int

  /// Creates scores.
  public init(precision: Double, recall: Double, f1: Double, support: Int) {
    self.precision = precision
    self.recall = recall
    self.f1 = f1
    self.support = support
  }
}

/// How well predictions match true labels: the metrics of scikit-learn's
/// `accuracy_score`, `log_loss`, `top_k_accuracy_score`,
/// `precision_recall_fscore_support` and `confusion_matrix`, unweighted.
public struct ClassificationMetrics: Sendable, Hashable, Codable {
  /// Rows evaluated.
  public var count: Int
  /// The fraction of rows whose most probable class is the true one.
  public var accuracy: Double
  /// The mean of `−log p(true class)`, from log-probabilities (exact where
  /// the probability underflows; no clipping).
  public var logLoss: Double
  /// The k of ``topKAccuracy``.
  public var topK: Int
  /// The fraction of rows whose true class is among the k most probable
  /// (ties broken toward the lower class index).
  public var topKAccuracy: Double
  /// `confusionMatrix[true][predicted]`: row counts.
  public var confusionMatrix: [[Int]]
  /// Per class, in class order.
  public var perClass: [ClassScores]
  /// The unweighted mean of the per-class F1 scores.
  public var macroF1: Double
  /// The mean of the per-class F1 scores weighted by support.
  public var weightedF1: Double
  /// The Brier score, the expected calibration error and the reliability
  /// bins; `nil` only in metrics read from a model file written before
  /// they were measured.
  public var calibration: CalibrationMetrics? = nil

  /// Computes the metrics of a model's log-probabilities against labels.
  ///
  /// - Parameters:
  ///   - logProbabilities: `n × k` (``SoftmaxClassifier/logProbabilities(_:)``).
  ///   - labels: `n` class indices.
  ///   - topK: the k of the top-k accuracy (clipped to `k`).
  ///   - calibrationBins: the equal-width bins of the expected calibration
  ///     error (``CalibrationMetrics``), at least 1.
  /// - Throws: ``TrainingError`` if counts disagree or a label is out of
  ///   range; ``TrainingError/Code/insufficientMemory`` when the `k × k`
  ///   confusion matrix takes more than half of
  ///   `SoftmaxConfiguration.memoryLimit`.
  /// - Complexity: O(n·k·log k).
  public init(
    logProbabilities: Matrix<Double>, labels: [Int], topK: Int = 5, calibrationBins: Int = 15
  ) throws(TrainingError) {
    guard labels.count == logProbabilities.rows else {
      throw TrainingError(
        .shapeMismatch, "\(labels.count) labels for \(logProbabilities.rows) rows")
    }
    var accumulator = try Accumulator(
      classCount: logProbabilities.columns, topK: topK, calibrationBins: calibrationBins)
    try accumulator.add(logProbabilities, labels: labels[...], firstRow: 0)
    self = try accumulator.metrics()
  }

  /// The memory the metrics of `k` classes take (their `k × k` confusion
  /// matrix), or `nil` when it overflows `Int`.
  public static func requiredBytes(classCount k: Int) -> Int? {
    let (cells, overflow1) = k.multipliedReportingOverflow(by: k)
    let (bytes, overflow2) = cells.multipliedReportingOverflow(by: 8)
    return overflow1 || overflow2 ? nil : bytes + 64 * k
  }

  /// Throws unless the metrics of `k` classes (their `k × k` confusion
  /// matrix) take at most half of `SoftmaxConfiguration.memoryLimit` (the
  /// other half for the data and the model): a command checks
  /// this before training, not after.
  ///
  /// - Throws: ``TrainingError/Code/insufficientMemory``.
  public static func checkMemory(classCount k: Int) throws(TrainingError) {
    guard let bytes = requiredBytes(classCount: k), bytes <= SoftmaxConfiguration.memoryLimit / 2
    else {
      let size = requiredBytes(classCount: k).map(byteText) ?? "more than 2^63 bytes"
      throw TrainingError(
        .insufficientMemory,
        "\(k) classes: their \(k) × \(k) confusion matrix needs \(size), more than half of the \(byteText(SoftmaxConfiguration.memoryLimit)) of memory available"
      )
    }
  }

  /// Sums metrics over blocks of rows, so that a data set is measured
  /// without its whole `n × k` probability matrix.
  struct Accumulator {
    let k: Int
    let kTop: Int
    var confusion: [[Int]]
    var count = 0
    var correct = 0
    var topCorrect = 0
    var loss = 0.0
    var calibration: CalibrationMetrics.Accumulator

    init(classCount k: Int, topK: Int, calibrationBins: Int) throws(TrainingError) {
      guard calibrationBins >= 1 else {
        throw TrainingError(
          .invalidOption, "the calibration error needs at least 1 bin, not \(calibrationBins)")
      }
      try ClassificationMetrics.checkMemory(classCount: k)
      calibration = CalibrationMetrics.Accumulator(binCount: calibrationBins)
      self.k = k
      self.kTop = max(1, min(topK, k))
      confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    }

    /// Adds the rows of `logProbabilities` (`firstRow` names the first
    /// in errors).
    mutating func add(_ logProbabilities: Matrix<Double>, labels: ArraySlice<Int>, firstRow: Int)
      throws(TrainingError)
    {
      for (r, label) in labels.enumerated() {
        guard label >= 0 && label < k else {
          throw TrainingError(
            .labelOutOfRange, "row \(firstRow + r): label \(label) is not in 0..<\(k)")
        }
        let row = Array(logProbabilities.row(r))
        let predicted = argmax(row)
        confusion[label][predicted] += 1
        if predicted == label { correct += 1 }
        if topIndices(row, count: kTop).contains(label) { topCorrect += 1 }
        loss -= row[label]
        calibration.add(logProbabilities: row, predicted: predicted, label: label)
      }
      count += labels.count
    }

    func metrics() throws(TrainingError) -> ClassificationMetrics {
      let n = count
      guard n > 0 else { throw TrainingError(.emptyData, "no rows to evaluate") }
      var scores: [ClassScores] = []
      var predictedCounts = [Int](repeating: 0, count: k)
      for row in confusion { for c in 0..<k { predictedCounts[c] += row[c] } }
      for c in 0..<k {
        let truePositives = Double(confusion[c][c])
        let predictedCount = Double(predictedCounts[c])
        let support = confusion[c].reduce(0, +)
        let precision = predictedCount > 0 ? truePositives / predictedCount : 0
        let recall = support > 0 ? truePositives / Double(support) : 0
        let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        scores.append(ClassScores(precision: precision, recall: recall, f1: f1, support: support))
      }
      return ClassificationMetrics(
        count: n, accuracy: Double(correct) / Double(n), logLoss: loss / Double(n), topK: kTop,
        topKAccuracy: Double(topCorrect) / Double(n), confusionMatrix: confusion,
        perClass: scores, macroF1: scores.map(\.f1).reduce(0, +) / Double(k),
        weightedF1: scores.map { $0.f1 * Double($0.support) }.reduce(0, +) / Double(n),
        calibration: calibration.metrics(rows: n))
    }
  }

  private init(
    count: Int, accuracy: Double, logLoss: Double, topK: Int, topKAccuracy: Double,
    confusionMatrix: [[Int]], perClass: [ClassScores], macroF1: Double, weightedF1: Double,
    calibration: CalibrationMetrics
  ) {
    self.calibration = calibration
    self.count = count
    self.accuracy = accuracy
    self.logLoss = logLoss
    self.topK = topK
    self.topKAccuracy = topKAccuracy
    self.confusionMatrix = confusionMatrix
    self.perClass = perClass
    self.macroF1 = macroF1
    self.weightedF1 = weightedF1
  }
}

extension SoftmaxClassifier {
  /// Rows computed at once when probabilities are taken a block at a time:
  /// 1024, fewer when `k` is large, so that a block's `rows × k`
  /// probabilities take at most 8 MiB.
  public static func rowsPerBlock(classCount k: Int) -> Int {
    max(1, min(1024, (1 << 20) / max(k, 1)))
  }

  /// The metrics of this model on labelled data, computed over blocks of
  /// rows (``rowsPerBlock(classCount:)``; never the whole `n × k`
  /// probability matrix).
  ///
  /// Probabilities are the model's, at its ``temperature``.
  ///
  /// - Parameters:
  ///   - features: `n` rows of the model's features.
  ///   - labels: their `n` class indices.
  ///   - topK: the k of the top-k accuracy.
  ///   - calibrationBins: the equal-width bins of the expected calibration
  ///     error, at least 1 (15, as Guo et al.).
  /// - Throws: ``TrainingError`` for mismatched shapes or labels, a
  ///   non-finite feature, fewer than 1 bin, or a confusion matrix beyond
  ///   the memory limit.
  public func evaluate<F: ClassifierFeatures>(
    features: F, labels: [Int], topK: Int = 5, calibrationBins: Int = 15
  ) throws(TrainingError) -> ClassificationMetrics {
    guard labels.count == features.rows else {
      throw TrainingError(.shapeMismatch, "\(labels.count) labels for \(features.rows) rows")
    }
    try features.validate(for: self)
    var accumulator = try ClassificationMetrics.Accumulator(
      classCount: classCount, topK: topK, calibrationBins: calibrationBins)
    try accumulate(features, labels: labels, firstRow: 0, into: &accumulator)
    return try accumulator.metrics()
  }

  /// Adds `features`, the data's rows from `firstRow` on, to `accumulator`
  /// in blocks of ``rowsPerBlock(classCount:)`` rows: every evaluation's
  /// blocks, so that chunks of whole blocks give the bits of one pass.
  private func accumulate<F: ClassifierFeatures>(
    _ features: F, labels: [Int], firstRow: Int,
    into accumulator: inout ClassificationMetrics.Accumulator
  ) throws(TrainingError) {
    let block = SoftmaxClassifier.rowsPerBlock(classCount: classCount)
    var start = 0
    while start < features.rows {
      let end = min(features.rows, start + block)
      try accumulator.add(
        logProbabilities(features.rows(in: start..<end)),
        labels: labels[(firstRow + start)..<(firstRow + end)], firstRow: firstRow + start)
      start = end
    }
  }

  /// The metrics of a stream of `rows × columns` whose chunks of whole
  /// blocks (`chunkRows` rounded up to a multiple of
  /// ``rowsPerBlock(classCount:)``) `forEachChunk` hands over: the shapes
  /// checked before the pass, each chunk validated, a stream's error
  /// thrown as ``TrainingError/Code/unreadableData``.
  private func evaluate<F: ClassifierFeatures>(
    rows: Int, columns: Int, labels: [Int], topK: Int, calibrationBins: Int, chunkRows: Int,
    forEachChunk: (_ chunkRows: Int, _ body: (_ first: Int, _ chunk: F) throws -> Void) throws
      -> Void
  ) throws(TrainingError) -> ClassificationMetrics {
    guard labels.count == rows else {
      throw TrainingError(.shapeMismatch, "\(labels.count) labels for \(rows) rows")
    }
    guard columns == featureCount else {
      throw TrainingError(
        .shapeMismatch, "the rows have \(columns) features; the model takes \(featureCount)")
    }
    var accumulator = try ClassificationMetrics.Accumulator(
      classCount: classCount, topK: topK, calibrationBins: calibrationBins)
    let block = SoftmaxClassifier.rowsPerBlock(classCount: classCount)
    let chunkRowCount = (max(chunkRows, 1) + block - 1) / block * block
    do {
      try forEachChunk(chunkRowCount) { first, chunk in
        try chunk.validate(for: self)
        try accumulate(chunk, labels: labels, firstRow: first, into: &accumulator)
      }
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError(.unreadableData, "\(error)")
    }
    return try accumulator.metrics()
  }
}

extension SoftmaxClassifier {
  /// ``evaluate(features:labels:topK:calibrationBins:)`` over rows streamed
  /// from `rows`: the same metrics, bit for bit, in one pass with one
  /// chunk of about `chunkBytes` in memory (data larger than memory).
  ///
  /// - Parameters:
  ///   - rows: `n` rows of the model's features.
  ///   - labels: their `n` class indices.
  ///   - topK: the k of the top-k accuracy.
  ///   - calibrationBins: the bins of the calibration error, at least 1.
  ///   - chunkBytes: the bytes of a chunk.
  /// - Throws: ``TrainingError`` as the matrix's, and
  ///   ``TrainingError/Code/unreadableData`` with the stream's error.
  public func evaluate<Rows: RowStream>(
    streaming rows: Rows, labels: [Int], topK: Int = 5, calibrationBins: Int = 15,
    chunkBytes: Int = 8 << 20
  ) throws(TrainingError) -> ClassificationMetrics {
    let d = rows.columns
    let block = SoftmaxClassifier.rowsPerBlock(classCount: classCount)
    return try evaluate(
      rows: rows.rows, columns: d, labels: labels, topK: topK, calibrationBins: calibrationBins,
      chunkRows: max(block, chunkBytes / max(1, d * MemoryLayout<Rows.Scalar>.stride))
    ) { chunkRows, body in
      try rows.forEachChunk(rows: chunkRows) { first, elements in
        let count = d == 0 ? min(chunkRows, rows.rows - first) : elements.count / d
        try body(first, Matrix(rows: count, columns: d, elements: Array(elements)))
      }
    }
  }
}

extension SoftmaxClassifier {
  /// ``evaluate(features:labels:topK:calibrationBins:)`` over sparse rows
  /// streamed from `rows`: the same metrics, bit for bit, in one pass with
  /// one chunk of about `chunkBytes` in memory.
  ///
  /// - Parameters:
  ///   - rows: `n` sparse rows of the model's features.
  ///   - labels: their `n` class indices.
  ///   - topK: the k of the top-k accuracy.
  ///   - calibrationBins: the bins of the calibration error, at least 1.
  ///   - chunkBytes: the bytes of a chunk, at the stream's average
  ///     entries a row.
  /// - Throws: ``TrainingError`` as the matrix's, and
  ///   ``TrainingError/Code/unreadableData`` with the stream's error.
  public func evaluate<Rows: SparseRowStream>(
    streaming rows: Rows, labels: [Int], topK: Int = 5, calibrationBins: Int = 15,
    chunkBytes: Int = 8 << 20
  ) throws(TrainingError) -> ClassificationMetrics {
    try evaluate(
      rows: rows.rows, columns: rows.columns, labels: labels, topK: topK,
      calibrationBins: calibrationBins,
      chunkRows: StreamedSparseFeatures<Rows>.chunkRows(
        rows: rows.rows, nonZeroCount: rows.nonZeroCount, chunkBytes: chunkBytes)
    ) { chunkRows, body in try rows.forEachChunk(rows: chunkRows, body) }
  }
}
