//===--- StreamedFeatures.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import Synchronization

/// Dense features read from a ``RowStream`` a chunk at a time: the layout
/// `fit` trains on when the data does not fit in memory.
///
/// Chunks hold a whole number of the objective's blocks (``chunkRows`` is
/// a multiple of 256 rows), so that every evaluation adds the same blocks
/// in the same order as over the matrix in memory: the same bits. A
/// selection of rows (a validation split) is gathered from the stream, in
/// increasing order, into chunks of the same size.
struct StreamedFeatures<Source: RowStream>: Sendable {
  typealias Scalar = Source.Scalar

  /// The rows.
  let source: Source
  /// Rows of every chunk but the last: a positive multiple of 256.
  let chunkRows: Int
  /// The source's rows these features are, increasing; `nil` for all.
  let selection: [Int]?
  /// The first error a pass met, shared by the objectives made from these
  /// features (their evaluations cannot throw): `fit` throws it after the
  /// solver stops.
  let failure: ReadFailure

  /// The rows of a chunk for a budget of `chunkBytes` bytes: a multiple of
  /// 256, at least 256.
  static func chunkRows(columns: Int, chunkBytes: Int) -> Int {
    let rowBytes = max(1, columns * MemoryLayout<Scalar>.stride)
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

  /// Calls `body(firstRow, rowCount, elements)` for consecutive chunks of
  /// these rows, in order, every chunk but the last ``chunkRows`` rows.
  ///
  /// - Throws: ``TrainingError/Code/unreadableData`` with the stream's
  ///   error.
  func forEachChunk(
    _ body: (_ firstRow: Int, _ rowCount: Int, _ elements: UnsafeBufferPointer<Scalar>) -> Void
  ) throws(TrainingError) {
    let d = source.columns
    let n = source.rows
    do {
      guard let selection else {
        try source.forEachChunk(rows: chunkRows) { first, x in
          body(first, min(chunkRows, n - first), x)
        }
        return
      }
      // The selected rows gathered into a chunk of their own.
      var gathered = [Scalar](repeating: 0, count: chunkRows * d)
      var held = 0
      var emitted = 0
      var next = 0
      try gathered.withUnsafeMutableBufferPointer { out in
        try source.forEachChunk(rows: chunkRows) { first, x in
          let count = min(chunkRows, n - first)
          while next < selection.count, selection[next] < first + count {
            let row = selection[next] - first
            if let to = out.baseAddress, let from = x.baseAddress {
              (to + held * d).update(from: from + row * d, count: d)
            }
            held += 1
            next += 1
            if held == chunkRows {
              body(emitted, held, UnsafeBufferPointer(rebasing: out[0..<(held * d)]))
              emitted += held
              held = 0
            }
          }
        }
        if held > 0 {
          body(emitted, held, UnsafeBufferPointer(rebasing: out[0..<(held * d)]))
        }
      }
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError(.unreadableData, "\(error)")
    }
  }

  /// Calls `body(i, row)` for every row in order, in `Double`.
  func forEachRowInDouble(_ body: (Int, UnsafeBufferPointer<Double>) -> Void)
    throws(TrainingError)
  {
    let d = source.columns
    var buffer = [Double](repeating: 0, count: d)
    try withoutActuallyEscaping(body) { body throws(TrainingError) in
      try buffer.withUnsafeMutableBufferPointer { row throws(TrainingError) in
        let out = UnsafeBufferPointer(row)
        try forEachChunk { first, count, x in
          // Float and Double in concrete loops: fast even unspecialized.
          if Scalar.self == Double.self {
            x.withMemoryRebound(to: Double.self) { doubles in
              for i in 0..<count {
                body(first + i, UnsafeBufferPointer(rebasing: doubles[(i * d)..<((i + 1) * d)]))
              }
            }
          } else if Scalar.self == Float.self {
            x.withMemoryRebound(to: Float.self) { floats in
              for i in 0..<count {
                let base = i * d
                for c in 0..<d { row[c] = Double(floats[base + c]) }
                body(first + i, out)
              }
            }
          } else {
            for i in 0..<count {
              let base = i * d
              for c in 0..<d { row[c] = Double(x[base + c]) }
              body(first + i, out)
            }
          }
        }
      }
    }
  }
}

/// The first error of a stream's passes, kept for `fit` to throw: an
/// evaluation of an objective cannot throw, so it records the error,
/// returns a NaN (the solver stops) and reads nothing more.
final class ReadFailure: Sendable {
  private let error = Mutex<TrainingError?>(nil)

  init() {}

  /// The first error recorded, if any.
  var first: TrainingError? { error.withLock { $0 } }

  /// Records `failure` unless an earlier one is.
  func record(_ failure: TrainingError) {
    error.withLock { if $0 == nil { $0 = failure } }
  }
}

/// Features read from a stream during training, dense or sparse: hidden
/// layers refused, and what a pass met thrown once the solver stops.
protocol StreamedTrainingFeatures: TrainingFeatures {
  /// The first error a pass met.
  var failure: ReadFailure { get }
}

extension StreamedTrainingFeatures {
  func networkFeatures() throws(TrainingError) -> NetworkFeatures<Scalar> {
    throw TrainingError(
      .invalidOption,
      "hidden layers train on data in memory: streamed data trains a linear model (load the \(rows) rows, or leave out the hidden layers)"
    )
  }

  func checkReads() throws(TrainingError) {
    if let error = failure.first { throw error }
  }
}

extension StreamedFeatures: StreamedTrainingFeatures {
  typealias Objective = StreamedSoftmaxRegressionObjective<Source>

  var rows: Int { selection?.count ?? source.rows }
  var columns: Int { source.columns }
  static var workspaceVectors: Int { 0 }

  func selectingRows(_ indices: [Int]) -> StreamedFeatures {
    precondition(zip(indices, indices.dropFirst()).allSatisfy { $0 < $1 }, "rows out of order")
    return StreamedFeatures(
      source: source, chunkRows: chunkRows,
      selection: selection.map { all in indices.map { all[$0] } } ?? indices, failure: failure)
  }

  func checkFinite(featureNames: [String]?) throws(TrainingError) {
    let d = columns
    var found: (row: Int, column: Int, value: Scalar)? = nil
    try forEachChunk { first, _, x in
      guard found == nil, let bad = firstNonFiniteIndex(x) else { return }
      found = (first + bad / max(d, 1), bad % max(d, 1), x[bad])
    }
    if let (row, column, value) = found {
      throw TrainingError(
        .nonFiniteValue,
        nonFiniteMessage(row: row, column: column, value, featureNames),
        location: ErrorLocation(row: row))
    }
  }

  func fittedStandardization(sampleWeights: [Double]?) throws(TrainingError) -> Standardization {
    try Standardization(columns: columns, rows: rows, sampleWeights: sampleWeights) {
      body throws(TrainingError) in try forEachRowInDouble(body)
    }
  }

  func fingerprint(labels: [Int], sampleWeights: [Double]?) throws(TrainingError)
    -> DataFingerprint
  {
    try DataFingerprint(
      rows: rows, columns: columns, labels: labels, sampleWeights: sampleWeights
    ) { body throws(TrainingError) in try forEachRowInDouble(body) }
  }

  func objective(
    labels: [Int], classCount: Int, sampleWeights: [Double]?, classWeights: [Double]?,
    l2: Double, l1: Double, standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) -> StreamedSoftmaxRegressionObjective<Source> {
    try StreamedSoftmaxRegressionObjective(
      features: self, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1, standardization: standardization,
      featureNames: featureNames)
  }
}
