//===--- SparseRowStream.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The rows of an `n × d` sparse matrix, read front to back a chunk at a
/// time, as many times as asked: sparse features that need not be in
/// memory at once (a LIBSVM file read in bounded chunks), or a
/// ``SparseMatrix``.
///
/// The sparse counterpart of ``RowStream``: training streams the rows once
/// per pass and holds one chunk, so memory is the chunk's entries, not the
/// file's. A conformer reads the same entries on every pass (a file that
/// changes between passes is the conformer's error to report).
///
/// The math knows no files: SoftmaxData provides the file-backed streams.
public protocol SparseRowStream<Scalar>: Sendable {
  /// The element type.
  associatedtype Scalar: SoftmaxScalar

  /// `n`.
  var rows: Int { get }
  /// `d`.
  var columns: Int { get }
  /// The stored entries of all the rows.
  var nonZeroCount: Int { get }

  /// Calls `body(firstRow, chunk)` for consecutive chunks of rows in
  /// order, from row 0 to row `n − 1`: every chunk but the last holds
  /// exactly `chunkRows` rows, each a ``SparseMatrix`` of `d` columns.
  ///
  /// - Precondition: `chunkRows ≥ 1`.
  /// - Throws: what reading the rows throws (a conformer's error naming
  ///   its file), or what `body` throws.
  func forEachChunk(
    rows chunkRows: Int, _ body: (_ firstRow: Int, _ chunk: SparseMatrix<Scalar>) throws -> Void
  ) throws

  /// Rows `rows` as a matrix of their own: random access, for minibatch
  /// training, which reads chunks of rows in a shuffled order.
  ///
  /// - Precondition: `rows` is within `0..<n`.
  /// - Throws: what reading the rows throws; a conformer that reads front
  ///   to back only (text) throws, saying what to use instead.
  func readRows(_ rows: Range<Int>) throws -> SparseMatrix<Scalar>
}

extension SparseMatrix: SparseRowStream where Scalar: SoftmaxScalar {
  /// The matrix itself when it fits in one chunk, else copies of its rows
  /// `chunkRows` at a time (``rows(_:)``).
  public func forEachChunk(
    rows chunkRows: Int, _ body: (_ firstRow: Int, _ chunk: SparseMatrix<Scalar>) throws -> Void
  ) throws {
    precondition(chunkRows >= 1, "a chunk holds at least one row")
    if chunkRows >= rows { return try body(0, self) }
    var first = 0
    while first < rows {
      let end = Swift.min(rows, first + chunkRows)
      try body(first, self.rows(first..<end))
      first = end
    }
  }
}

extension SparseMatrix where Scalar: SoftmaxScalar {
  /// Rows `rows`, copied (``rows(_:)``).
  public func readRows(_ rows: Range<Int>) -> SparseMatrix {
    self.rows(rows)
  }
}

extension SparseMatrix {
  /// Rows `range` as a matrix of their own (the same columns).
  ///
  /// - Precondition: `range` is within `0..<rows`.
  /// - Complexity: O(`range.count` + their entries).
  public func rows(_ range: Range<Int>) -> SparseMatrix {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows out of range")
    let begin = rowOffsets[range.lowerBound]
    let end = rowOffsets[range.upperBound]
    return SparseMatrix(
      unchecked: range.count, columns: columns,
      rowOffsets: rowOffsets[range.lowerBound...range.upperBound].map { $0 - begin },
      columnIndices: Array(columnIndices[begin..<end]), values: Array(values[begin..<end]))
  }
}
