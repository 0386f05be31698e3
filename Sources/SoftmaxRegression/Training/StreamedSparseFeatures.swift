//===--- StreamedSparseFeatures.swift -------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// Sparse features read from a ``SparseRowStream`` a chunk at a time: the
/// layout `fit` trains on when sparse data does not fit in memory.
///
/// Chunks hold a whole number of the objective's blocks (``chunkRows`` is
/// a multiple of 256 rows), so that every evaluation adds the same blocks
/// in the same order as over the matrix in memory: the same bits. A
/// selection of rows (a validation split) is gathered from the stream, in
/// increasing order, into chunks of the same size.
struct StreamedSparseFeatures<Source: SparseRowStream>: Sendable {
  typealias Scalar = Source.Scalar

  /// The rows.
  let source: Source
  /// Rows of every chunk but the last: a positive multiple of 256.
  let chunkRows: Int
  /// The source's rows these features are, increasing; `nil` for all.
  let selection: [Int]?
  /// The first error a pass met, shared by the objectives made from these
  /// features: `fit` throws it after the solver stops.
  let failure: ReadFailure

  /// The rows of a chunk for a budget of `chunkBytes` bytes, at the
  /// stream's average entries a row (a column index and a value each): a
  /// multiple of 256, at least 256.
  static func chunkRows(rows: Int, nonZeroCount: Int, chunkBytes: Int) -> Int {
    let entryBytes = 4 + MemoryLayout<Scalar>.stride
    let rowBytes = max(1, 8 + entryBytes * (nonZeroCount / max(rows, 1)))
    return max(1, chunkBytes / rowBytes / 256) * 256
  }

  init(
    source: Source, chunkRows: Int, selection: [Int]? = nil, failure: ReadFailure = ReadFailure()
  ) {
    precondition(chunkRows > 0 && chunkRows % 256 == 0, "chunks hold whole blocks of 256 rows")
    self.source = source
    self.chunkRows = chunkRows
    self.selection = selection
    self.failure = failure
  }

  /// Calls `body(firstRow, chunk)` for consecutive chunks of these rows,
  /// in order, every chunk but the last ``chunkRows`` rows.
  ///
  /// - Throws: ``TrainingError/Code/unreadableData`` with the stream's
  ///   error.
  func forEachChunk(_ body: (_ firstRow: Int, _ chunk: SparseMatrix<Scalar>) -> Void)
    throws(TrainingError)
  {
    do {
      guard let selection else {
        try source.forEachChunk(rows: chunkRows) { first, chunk in body(first, chunk) }
        return
      }
      // The selected rows gathered into a chunk of their own.
      var gathered = SparseMatrix<Scalar>.Builder(columns: source.columns)
      var emitted = 0
      var next = 0
      try source.forEachChunk(rows: chunkRows) { first, chunk in
        while next < selection.count, selection[next] < first + chunk.rows {
          let (columns, values) = chunk.row(selection[next] - first)
          for (column, value) in zip(columns, values) {
            gathered.append(column: Int(column), value: value)
          }
          gathered.endRow()
          next += 1
          if gathered.rowCount == chunkRows {
            body(emitted, gathered.matrix)
            emitted += chunkRows
            gathered = SparseMatrix<Scalar>.Builder(columns: source.columns)
          }
        }
      }
      if gathered.rowCount > 0 { body(emitted, gathered.matrix) }
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError(.unreadableData, "\(error)")
    }
  }
}

extension StreamedSparseFeatures: StreamedTrainingFeatures {
  typealias Objective = StreamedSparseSoftmaxRegressionObjective<Source>

  var rows: Int { selection?.count ?? source.rows }
  var columns: Int { source.columns }
  /// The weights and the gradient laid out by column.
  static var workspaceVectors: Int { 2 }

  func selectingRows(_ indices: [Int]) -> StreamedSparseFeatures {
    precondition(zip(indices, indices.dropFirst()).allSatisfy { $0 < $1 }, "rows out of order")
    return StreamedSparseFeatures(
      source: source, chunkRows: chunkRows,
      selection: selection.map { all in indices.map { all[$0] } } ?? indices, failure: failure)
  }

  func checkFinite(featureNames: [String]?) throws(TrainingError) {
    var found: (row: Int, column: Int, value: Scalar)? = nil
    try forEachChunk { first, chunk in
      guard found == nil, let bad = chunk.firstNonFiniteEntry() else { return }
      found = (first + chunk.rowOfEntry(bad), Int(chunk.columnIndices[bad]), chunk.values[bad])
    }
    if let (row, column, value) = found {
      throw sparseNonFiniteError(row: row, column: column, value, featureNames)
    }
  }

  func fittedStandardization(sampleWeights: [Double]?) throws(TrainingError) -> Standardization {
    try Standardization(scalingColumns: columns, rows: rows, sampleWeights: sampleWeights) {
      body throws(TrainingError) in try forEachChunk(body)
    }
  }

  func fingerprint(labels: [Int], sampleWeights: [Double]?) throws(TrainingError)
    -> DataFingerprint
  {
    try DataFingerprint(
      sparseRows: rows, columns: columns, labels: labels, sampleWeights: sampleWeights
    ) { body throws(TrainingError) in try forEachChunk(body) }
  }

  func objective(
    labels: [Int], classCount: Int, sampleWeights: [Double]?, classWeights: [Double]?,
    l2: Double, l1: Double, standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) -> StreamedSparseSoftmaxRegressionObjective<Source> {
    try StreamedSparseSoftmaxRegressionObjective(
      features: self, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1, standardization: standardization,
      featureNames: featureNames)
  }
}
