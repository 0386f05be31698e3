//===--- RowStream.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The rows of an `n × d` matrix, read front to back a chunk at a time, as
/// many times as asked: features that need not be in memory at once (a
/// file read in bounded chunks), or a ``Matrix`` (one chunk, in place).
///
/// Training streams the rows once per pass; a pass holds one chunk, so
/// memory is the chunk, not the matrix. A conformer reads the same values
/// on every pass (a file that changes between passes is the conformer's
/// error to report).
///
/// The math knows no files: SoftmaxData provides the file-backed streams.
public protocol RowStream<Scalar>: Sendable {
  /// The element type.
  associatedtype Scalar: SoftmaxScalar

  /// `n`.
  var rows: Int { get }
  /// `d`.
  var columns: Int { get }

  /// Calls `body(firstRow, elements)` for consecutive chunks of rows in
  /// order, from row 0 to row `n − 1`: every chunk but the last holds
  /// exactly `chunkRows` rows, `elements` holds a chunk's rows row-major
  /// (`rows·d` values) and is valid only during the call.
  ///
  /// - Precondition: `chunkRows ≥ 1`.
  /// - Throws: what reading the rows throws (a conformer's error naming
  ///   its file), or what `body` throws.
  func forEachChunk(
    rows chunkRows: Int,
    _ body: (_ firstRow: Int, _ elements: UnsafeBufferPointer<Scalar>) throws -> Void
  ) throws

  /// Copies rows `rows` into `buffer`, row-major (`rows.count·d` values):
  /// random access, for minibatch training, which reads chunks of rows in
  /// a shuffled order.
  ///
  /// - Precondition: `rows` is within `0..<n`; `buffer` holds
  ///   `rows.count·d` values.
  /// - Throws: what reading the rows throws.
  func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Scalar>) throws
}

extension Matrix: RowStream where Scalar: SoftmaxScalar {
  /// The matrix's storage, in place, in slices of `chunkRows` rows.
  public func forEachChunk(
    rows chunkRows: Int,
    _ body: (_ firstRow: Int, _ elements: UnsafeBufferPointer<Scalar>) throws -> Void
  ) throws {
    precondition(chunkRows >= 1, "a chunk holds at least one row")
    try storage.withUnsafeBufferPointer { all in
      var first = 0
      while first < rows {
        let end = Swift.min(rows, first + chunkRows)
        try body(first, UnsafeBufferPointer(rebasing: all[(first * columns)..<(end * columns)]))
        first = end
      }
    }
  }
}

extension Matrix where Scalar: SoftmaxScalar {
  /// Copies rows `rows` of the matrix into `buffer`.
  public func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Scalar>) {
    precondition(rows.lowerBound >= 0 && rows.upperBound <= self.rows, "rows out of range")
    precondition(buffer.count >= rows.count * columns, "the buffer is too small")
    storage.withUnsafeBufferPointer { all in
      guard let from = all.baseAddress, let to = buffer.baseAddress else { return }
      to.update(from: from + rows.lowerBound * columns, count: rows.count * columns)
    }
  }
}

extension RowStream {
  /// Calls `body(i, row)` for every row `i` in order, converted to `Double`
  /// (exactly) in one buffer reused from row to row: the same rows, in the
  /// same order, as ``Matrix/forEachRowInDouble(_:)`` of the whole matrix.
  ///
  /// - Complexity: one pass; `columns` doubles beside the stream's chunk.
  public func forEachRowInDouble(
    chunkRows: Int, _ body: (_ index: Int, _ row: UnsafeBufferPointer<Double>) throws -> Void
  ) throws {
    let d = columns
    var buffer = [Double](repeating: 0, count: d)
    try buffer.withUnsafeMutableBufferPointer { row in
      let out = UnsafeBufferPointer(row)
      try forEachChunk(rows: chunkRows) { first, x in
        let count = d == 0 ? Swift.min(chunkRows, rows - first) : x.count / d
        if Scalar.self == Double.self {
          try x.withMemoryRebound(to: Double.self) { doubles in
            for i in 0..<count {
              try body(first + i, UnsafeBufferPointer(rebasing: doubles[(i * d)..<((i + 1) * d)]))
            }
          }
        } else if Scalar.self == Float.self {
          try x.withMemoryRebound(to: Float.self) { floats in
            for i in 0..<count {
              let base = i * d
              for c in 0..<d { row[c] = Double(floats[base + c]) }
              try body(first + i, out)
            }
          }
        } else {
          for i in 0..<count {
            let base = i * d
            for c in 0..<d { row[c] = Double(x[base + c]) }
            try body(first + i, out)
          }
        }
      }
    }
  }
}

/// Rows `range` of another stream, numbered from 0: one process's share of
/// a file (distributed training), read with the base's random access.
public struct RowStreamSlice<Base: RowStream>: RowStream {
  /// The base's element type.
  public typealias Scalar = Base.Scalar

  /// The stream sliced.
  public let base: Base
  /// The base's rows this slice is.
  public let range: Range<Int>

  /// Rows `range` of `base`.
  ///
  /// - Precondition: `range` is within `0..<base.rows`.
  public init(_ base: Base, rows range: Range<Int>) {
    precondition(range.lowerBound >= 0 && range.upperBound <= base.rows, "rows out of range")
    self.base = base
    self.range = range
  }

  /// `range.count`.
  public var rows: Int { range.count }
  /// The base's columns.
  public var columns: Int { base.columns }

  /// The slice's rows a chunk at a time, each read with
  /// `base.readRows(_:into:)` into one buffer.
  public func forEachChunk(
    rows chunkRows: Int,
    _ body: (_ firstRow: Int, _ elements: UnsafeBufferPointer<Scalar>) throws -> Void
  ) throws {
    precondition(chunkRows >= 1, "a chunk holds at least one row")
    let d = columns
    var buffer = [Scalar](repeating: 0, count: Swift.min(chunkRows, rows) * d)
    var first = 0
    while first < rows {
      let count = Swift.min(chunkRows, rows - first)
      try buffer.withUnsafeMutableBufferPointer { all in
        let part = UnsafeMutableBufferPointer(rebasing: all[0..<(count * d)])
        try base.readRows(
          (range.lowerBound + first)..<(range.lowerBound + first + count), into: part)
        try body(first, UnsafeBufferPointer(part))
      }
      first += count
    }
  }

  /// Rows `rows` of the slice: the base's rows `range.lowerBound + rows`.
  public func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Scalar>) throws {
    precondition(rows.lowerBound >= 0 && rows.upperBound <= self.rows, "rows out of range")
    try base.readRows(
      (range.lowerBound + rows.lowerBound)..<(range.lowerBound + rows.upperBound), into: buffer)
  }
}
