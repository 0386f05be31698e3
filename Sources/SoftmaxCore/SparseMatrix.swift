//===--- SparseMatrix.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A sparse two-dimensional array in compressed sparse row (CSR) form: for
/// each row, the columns of its stored entries, in increasing order, and
/// their values. Every entry not stored is 0.
///
/// The layout is scipy's `csr_matrix` in canonical form (sorted, no
/// duplicates): row `r` holds the entries
/// `rowOffsets[r] ..< rowOffsets[r + 1]` of ``columnIndices`` and
/// ``values``. It is what bag-of-words, n-gram and LIBSVM data look like:
/// a row of a million columns with a few hundred entries takes the memory
/// of its entries, 12 bytes each for `Float` (a 4-byte column index and
/// the value; 16 for `Double`), plus 8 bytes a row.
///
///     // [[0, 2, 0], [1, 0, 3]]
///     let x = try SparseMatrix<Float>(
///       rows: 2, columns: 3, rowOffsets: [0, 1, 3], columnIndices: [1, 0, 2],
///       values: [2, 1, 3])
///     x[1, 2]   // 3
///
/// Stored entries may be 0 (an explicit zero is kept as given); nothing
/// else about the values is checked.
public struct SparseMatrix<Scalar: Sendable>: Sendable {
  /// The number of rows.
  public let rows: Int
  /// The number of columns; below 2³¹ (column indices are 32-bit).
  public let columns: Int
  /// `rows + 1` nondecreasing offsets into ``columnIndices`` and
  /// ``values``, from 0 to ``nonZeroCount``.
  public let rowOffsets: [Int]
  /// The column of every stored entry, row after row, increasing within a
  /// row.
  public let columnIndices: [Int32]
  /// The value of every stored entry, in the order of ``columnIndices``.
  public let values: [Scalar]

  /// The largest column count: column indices are `Int32`.
  public static var maximumColumns: Int { Int(Int32.max) }

  /// Creates a matrix from its CSR arrays, checking them.
  ///
  /// - Throws: ``SoftmaxError/Code/invalidSparseMatrix`` naming the first
  ///   problem: a negative size, more than ``maximumColumns`` columns,
  ///   `rowOffsets` not `rows + 1` nondecreasing values from 0 to the
  ///   entry count, arrays of different lengths, or a row whose column
  ///   indices are out of `0..<columns` or not strictly increasing.
  /// - Complexity: O(rows + entries).
  public init(
    rows: Int, columns: Int, rowOffsets: [Int], columnIndices: [Int32], values: [Scalar]
  ) throws(SoftmaxError) {
    if let problem = Self.problem(
      rows: rows, columns: columns, rowOffsets: rowOffsets, columnIndices: columnIndices,
      valueCount: values.count)
    {
      throw SoftmaxError(
        code: .invalidSparseMatrix, description: problem.message,
        location: problem.row.map { ErrorLocation(row: $0) })
    }
    self.init(
      unchecked: rows, columns: columns, rowOffsets: rowOffsets, columnIndices: columnIndices,
      values: values)
  }

  /// Creates a matrix from CSR arrays known to be valid (a reader or a
  /// builder that checked them as it made them).
  package init(
    unchecked rows: Int, columns: Int, rowOffsets: [Int], columnIndices: [Int32],
    values: [Scalar]
  ) {
    self.rows = rows
    self.columns = columns
    self.rowOffsets = rowOffsets
    self.columnIndices = columnIndices
    self.values = values
  }

  /// A matrix of `rows × columns` with no stored entry (all zeros).
  public init(rows: Int, columns: Int) {
    precondition(rows >= 0 && columns >= 0 && columns <= Self.maximumColumns, "invalid shape")
    self.init(
      unchecked: rows, columns: columns, rowOffsets: [Int](repeating: 0, count: rows + 1),
      columnIndices: [], values: [])
  }

  /// The first problem of CSR arrays, and its row, or `nil` when they are
  /// valid.
  static func problem(
    rows: Int, columns: Int, rowOffsets: [Int], columnIndices: [Int32], valueCount: Int
  ) -> (message: String, row: Int?)? {
    guard rows >= 0, columns >= 0 else {
      return ("a sparse matrix of \(rows) × \(columns): sizes must not be negative", nil)
    }
    guard columns <= maximumColumns else {
      return ("\(columns) columns: a sparse matrix holds at most \(maximumColumns)", nil)
    }
    guard rowOffsets.count == rows + 1 else {
      return ("\(rowOffsets.count) row offsets for \(rows) rows (\(rows + 1) expected)", nil)
    }
    guard columnIndices.count == valueCount else {
      return ("\(columnIndices.count) column indices for \(valueCount) values", nil)
    }
    guard rowOffsets[0] == 0, rowOffsets[rows] == valueCount else {
      return (
        "the row offsets run from \(rowOffsets[0]) to \(rowOffsets[rows]); "
          + "they must run from 0 to the \(valueCount) entries", nil
      )
    }
    for r in 0..<rows {
      let (begin, end) = (rowOffsets[r], rowOffsets[r + 1])
      guard begin <= end else {
        return ("row \(r): offsets \(begin) > \(end) (they must not decrease)", r)
      }
      var previous = -1
      for entry in begin..<end {
        let column = Int(columnIndices[entry])
        guard column >= 0, column < columns else {
          return ("row \(r): column \(column) is out of 0..<\(columns)", r)
        }
        guard column > previous else {
          return (
            "row \(r): column \(column) after column \(previous) "
              + "(columns must increase within a row, without repeats)", r
          )
        }
        previous = column
      }
    }
    return nil
  }

  /// The number of stored entries.
  @inlinable
  public var nonZeroCount: Int { values.count }

  /// `(rows, columns)`.
  @inlinable
  public var shape: (rows: Int, columns: Int) { (rows, columns) }

  /// The stored entries of row `index`: their columns and values.
  ///
  /// - Precondition: `0 <= index < rows`.
  @inlinable
  public func row(_ index: Int) -> (columns: ArraySlice<Int32>, values: ArraySlice<Scalar>) {
    precondition(index >= 0 && index < rows, "row \(index) out of range 0..<\(rows)")
    let range = rowOffsets[index]..<rowOffsets[index + 1]
    return (columnIndices[range], values[range])
  }

  /// The rows at `indices`, in that order (repeats allowed).
  ///
  /// - Precondition: every index is in `0..<rows`.
  /// - Complexity: O(|indices| + their entries).
  public func selectingRows(_ indices: [Int]) -> SparseMatrix {
    var offsets = [0]
    offsets.reserveCapacity(indices.count + 1)
    var total = 0
    for i in indices {
      precondition(i >= 0 && i < rows, "row \(i) out of range 0..<\(rows)")
      total += rowOffsets[i + 1] - rowOffsets[i]
      offsets.append(total)
    }
    var newColumns: [Int32] = []
    var newValues: [Scalar] = []
    newColumns.reserveCapacity(total)
    newValues.reserveCapacity(total)
    for i in indices {
      let range = rowOffsets[i]..<rowOffsets[i + 1]
      newColumns.append(contentsOf: columnIndices[range])
      newValues.append(contentsOf: values[range])
    }
    return SparseMatrix(
      unchecked: indices.count, columns: columns, rowOffsets: offsets, columnIndices: newColumns,
      values: newValues)
  }
}

extension SparseMatrix where Scalar: SoftmaxScalar {
  /// The sparse form of a dense matrix: its non-zero elements (a `-0.0`
  /// is a zero and is left out; NaN is stored).
  ///
  /// - Precondition: `dense.columns <= maximumColumns`.
  /// - Complexity: O(rows × columns).
  public init(_ dense: Matrix<Scalar>) {
    precondition(dense.columns <= Self.maximumColumns, "too many columns for a sparse matrix")
    var builder = Builder(columns: dense.columns)
    let d = dense.columns
    dense.elements.withUnsafeBufferPointer { x in
      for r in 0..<dense.rows {
        for c in 0..<d where x[r * d + c] != 0 {
          builder.append(column: c, value: x[r * d + c])
        }
        builder.endRow()
      }
    }
    self = builder.matrix
  }

  /// The element at `row`, `column` (0 when not stored).
  ///
  /// - Precondition: both in range.
  /// - Complexity: O(log(entries of the row)).
  public subscript(row: Int, column: Int) -> Scalar {
    precondition(column >= 0 && column < columns, "column \(column) out of range 0..<\(columns)")
    let (indices, entries) = self.row(row)
    var low = indices.startIndex
    var high = indices.endIndex
    while low < high {
      let middle = (low + high) / 2
      if Int(indices[middle]) < column { low = middle + 1 } else { high = middle }
    }
    return low < indices.endIndex && Int(indices[low]) == column ? entries[low] : 0
  }

  /// The same values in a dense matrix.
  ///
  /// - Complexity: O(rows × columns) memory and time.
  public func dense() -> Matrix<Scalar> {
    var elements = [Scalar](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      for entry in rowOffsets[r]..<rowOffsets[r + 1] {
        elements[r * columns + Int(columnIndices[entry])] = values[entry]
      }
    }
    return Matrix(rows: rows, columns: columns, elements: elements)
  }

  /// The index of the first stored value that is NaN or infinite, or `nil`.
  ///
  /// - Complexity: O(entries).
  public func firstNonFiniteEntry() -> Int? {
    values.withUnsafeBufferPointer { v in
      for entry in 0..<v.count where !v[entry].isFinite { return entry }
      return nil
    }
  }

  /// The row of stored entry `entry`.
  ///
  /// - Complexity: O(log rows).
  public func rowOfEntry(_ entry: Int) -> Int {
    var low = 0
    var high = rows
    // The last row whose offset is at most `entry` and that is not empty.
    while low < high {
      let middle = (low + high + 1) / 2
      if rowOffsets[middle] <= entry { low = middle } else { high = middle - 1 }
    }
    return min(low, max(rows - 1, 0))
  }

  /// Builds a matrix row by row: append a row's entries in increasing
  /// column order, then end the row.
  ///
  ///     var builder = SparseMatrix<Float>.Builder(columns: 3)
  ///     builder.append(column: 1, value: 2)
  ///     builder.endRow()
  ///     let x = builder.matrix   // [[0, 2, 0]]
  public struct Builder: Sendable {
    /// The column count of the matrix built.
    public let columns: Int
    var offsets: [Int] = [0]
    var indices: [Int32] = []
    var entries: [Scalar] = []

    /// A builder of a matrix of `columns` columns.
    ///
    /// - Precondition: `0 <= columns <= maximumColumns`.
    public init(columns: Int) {
      precondition(
        columns >= 0 && columns <= SparseMatrix.maximumColumns,
        "\(columns) columns: a sparse matrix holds at most \(SparseMatrix.maximumColumns)")
      self.columns = columns
    }

    /// Reserves room for `entries` more entries and `rows` more rows.
    public mutating func reserveCapacity(entries count: Int, rows: Int) {
      indices.reserveCapacity(indices.count + count)
      entries.reserveCapacity(entries.count + count)
      offsets.reserveCapacity(offsets.count + rows)
    }

    /// The rows ended so far.
    public var rowCount: Int { offsets.count - 1 }

    /// The entries appended so far.
    public var entryCount: Int { entries.count }

    /// Appends an entry to the current row.
    ///
    /// - Precondition: `column` is in `0..<columns` and greater than the
    ///   row's previous column.
    public mutating func append(column: Int, value: Scalar) {
      precondition(column >= 0 && column < columns, "column \(column) out of range 0..<\(columns)")
      precondition(
        entries.count == offsets[offsets.count - 1] || Int(indices[indices.count - 1]) < column,
        "columns must increase within a row")
      indices.append(Int32(column))
      entries.append(value)
    }

    /// Appends the rows `other` ended (its unfinished row, if any, is left
    /// out): builders filled side by side, joined in order.
    ///
    /// - Precondition: the same column count; the current row is empty.
    /// - Complexity: O(other's entries and rows).
    public mutating func append(rowsOf other: Builder) {
      precondition(other.columns == columns, "builders of \(columns) and \(other.columns) columns")
      precondition(entries.count == offsets[offsets.count - 1], "a row is in progress")
      let shift = entries.count
      let ended = other.offsets[other.offsets.count - 1]
      indices.append(contentsOf: other.indices[..<ended])
      entries.append(contentsOf: other.entries[..<ended])
      offsets.append(contentsOf: other.offsets.dropFirst().lazy.map { $0 + shift })
    }

    /// Ends the current row (an empty row when nothing was appended).
    public mutating func endRow() {
      offsets.append(entries.count)
    }

    /// The matrix of the rows ended so far.
    public var matrix: SparseMatrix {
      SparseMatrix(
        unchecked: rowCount, columns: columns, rowOffsets: offsets, columnIndices: indices,
        values: entries)
    }
  }
}

extension SparseMatrix: Equatable where Scalar: Equatable {}
extension SparseMatrix: Hashable where Scalar: Hashable {}

extension SparseMatrix: CustomStringConvertible {
  /// `SparseMatrix<Float>(2 × 3, 3 stored)`.
  public var description: String {
    "SparseMatrix<\(Scalar.self)>(\(rows) × \(columns), \(values.count) stored)"
  }
}

extension SoftmaxError.Code {
  /// The arrays of a ``SparseMatrix`` do not describe one.
  public static var invalidSparseMatrix: Self { Self("invalidSparseMatrix") }
}
