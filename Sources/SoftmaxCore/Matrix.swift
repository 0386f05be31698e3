//===--- Matrix.swift -----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A dense, row-major two-dimensional array: a batch of rows.
///
/// SoftmaxCore's batched functions take and return `Matrix` values. Rows are
/// samples and columns are classes (or features), as in PyTorch's `(N, C)`
/// layout. The element at row `r` and column `c` is stored at
/// `elements[r * columns + c]`.
///
///     let logits = Matrix<Float>([[1, 2, 3], [1, 1, 1]])
///     let probabilities = softmax(logits)          // along the last axis
///     print(probabilities[0, 2])                   // 0.66524094
///
/// `Matrix` is a value type with copy-on-write storage (a Swift `Array`).
@frozen
public struct Matrix<Scalar> {
  /// The number of rows.
  public let rows: Int

  /// The number of columns.
  public let columns: Int

  /// The storage, row-major.
  @usableFromInline
  var storage: [Scalar]

  /// The elements in row-major order; `elements.count == rows * columns`.
  @inlinable
  public var elements: [Scalar] { storage }

  /// Creates a matrix from its elements in row-major order.
  ///
  /// - Precondition: `rows >= 0`, `columns >= 0` and
  ///   `elements.count == rows * columns`.
  @inlinable
  public init(rows: Int, columns: Int, elements: [Scalar]) {
    precondition(rows >= 0 && columns >= 0, "Matrix dimensions must not be negative")
    precondition(
      elements.count == rows * columns,
      "Matrix of \(rows) x \(columns) needs \(rows * columns) elements, got \(elements.count)")
    self.rows = rows
    self.columns = columns
    self.storage = elements
  }

  /// Creates a matrix with every element equal to `value`.
  ///
  /// - Complexity: O(rows × columns).
  @inlinable
  public init(rows: Int, columns: Int, repeating value: Scalar) {
    self.init(
      rows: rows, columns: columns,
      elements: [Scalar](repeating: value, count: rows * columns))
  }

  /// Creates a matrix whose elements `initializer` writes, all of them,
  /// through a pointer to uninitialized memory: the allocation-only path
  /// for kernels that overwrite every element.
  ///
  /// - Precondition: `initializer` initializes every one of the
  ///   `rows × columns` elements (for trivial types such as `Float`, writes
  ///   through the pointer suffice).
  @inlinable
  public init(
    rows: Int, columns: Int,
    uninitializedElementsBy initializer: (UnsafeMutableBufferPointer<Scalar>) -> Void
  ) {
    precondition(rows >= 0 && columns >= 0, "Matrix dimensions must not be negative")
    let count = rows * columns
    let elements = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
      initializer(buffer)
      initialized = count
    }
    self.init(rows: rows, columns: columns, elements: elements)
  }

  /// Creates a matrix from an array of rows.
  ///
  /// An empty array gives a 0 × 0 matrix.
  ///
  /// - Precondition: every row has the same length.
  @inlinable
  public init(_ rowArrays: [[Scalar]]) {
    let columns = rowArrays.first?.count ?? 0
    var elements: [Scalar] = []
    elements.reserveCapacity(rowArrays.count * columns)
    for (index, row) in rowArrays.enumerated() {
      precondition(
        row.count == columns,
        "Row \(index) has \(row.count) elements; row 0 has \(columns)")
      elements.append(contentsOf: row)
    }
    self.init(rows: rowArrays.count, columns: columns, elements: elements)
  }

  /// The `(rows, columns)` pair.
  @inlinable
  public var shape: (rows: Int, columns: Int) { (rows, columns) }

  /// The element at `row`, `column`.
  ///
  /// - Precondition: both indices are in range.
  @inlinable
  public subscript(row: Int, column: Int) -> Scalar {
    get {
      precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Index out of range")
      return elements[row * columns + column]
    }
    set {
      precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Index out of range")
      storage[row * columns + column] = newValue
    }
  }

  /// The rows at `indices`, in that order: a new `indices.count × columns`
  /// matrix.
  ///
  /// - Precondition: every index is in `0..<rows`.
  /// - Complexity: O(indices.count × columns).
  @inlinable
  public func selectingRows(_ indices: [Int]) -> Matrix {
    var selected: [Scalar] = []
    selected.reserveCapacity(indices.count * columns)
    for index in indices {
      precondition(index >= 0 && index < rows, "Row index \(index) out of range 0..<\(rows)")
      selected.append(contentsOf: storage[(index * columns)..<((index + 1) * columns)])
    }
    return Matrix(rows: indices.count, columns: columns, elements: selected)
  }

  /// The elements of row `index`.
  @inlinable
  public func row(_ index: Int) -> ArraySlice<Scalar> {
    precondition(index >= 0 && index < rows, "Row index \(index) out of range 0..<\(rows)")
    return elements[index * columns..<(index + 1) * columns]
  }

  /// The rows as arrays.
  ///
  /// - Complexity: O(rows × columns).
  @inlinable
  public var rowArrays: [[Scalar]] {
    (0..<rows).map { Array(row($0)) }
  }

  /// The transpose: a `columns × rows` matrix.
  ///
  /// - Complexity: O(rows × columns).
  @inlinable
  public func transposed() -> Matrix {
    var result: [Scalar] = []
    result.reserveCapacity(elements.count)
    for c in 0..<columns {
      for r in 0..<rows { result.append(elements[r * columns + c]) }
    }
    return Matrix(rows: columns, columns: rows, elements: result)
  }

  /// Calls `body` with a mutable pointer to the elements in row-major order.
  ///
  /// This is the preallocated, zero-copy path for writing results in place.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
    _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws(E) -> R
  ) throws(E) -> R {
    let count = elements.count
    var result: Result<R, E>?
    storage.withUnsafeMutableBufferPointer { buffer in
      do throws(E) {
        result = .success(try body(&buffer))
      } catch {
        result = .failure(error)
      }
      precondition(buffer.count == count, "The buffer must not be replaced")
    }
    // `result` is always set by the closure above.
    switch result {
    case .success(let value)?: return value
    case .failure(let error)?: throw error
    case nil: fatalError("unreachable")
    }
  }
}

extension Matrix: Sendable where Scalar: Sendable {}
extension Matrix: Equatable where Scalar: Equatable {}
extension Matrix: Hashable where Scalar: Hashable {}

extension Matrix: CustomStringConvertible {
  /// The rows, one per line.
  public var description: String {
    var text = "Matrix(\(rows) x \(columns))"
    for r in 0..<rows {
      text += "\n  " + row(r).map { "\($0)" }.joined(separator: "  ")
    }
    return text
  }
}

/// Which axis of a ``Matrix`` a reduction runs along.
///
/// `axis: -1` (or `1`) runs along each row, the last axis: this is what
/// PyTorch's `dim=-1` and NumPy's `axis=-1` do, and the default everywhere.
/// `axis: 0` (or `-2`) runs down each column.
@usableFromInline
enum MatrixAxis {
  case alongRows
  case alongColumns

  @inlinable
  init(_ axis: Int) {
    switch axis {
    case -1, 1: self = .alongRows
    case 0, -2: self = .alongColumns
    default: preconditionFailure("axis must be -2, -1, 0 or 1 for a matrix, got \(axis)")
    }
  }
}

/// The lanes of a matrix along an axis: each lane is one row (or column)
/// given by the offset of its first element, its length and its stride.
@usableFromInline
struct Lanes {
  @usableFromInline let count: Int
  @usableFromInline let length: Int
  @usableFromInline let stride: Int
  @usableFromInline let laneStep: Int

  @inlinable
  init(rows: Int, columns: Int, axis: Int) {
    switch MatrixAxis(axis) {
    case .alongRows:
      (count, length, stride, laneStep) = (rows, columns, 1, columns)
    case .alongColumns:
      (count, length, stride, laneStep) = (columns, rows, columns, 1)
    }
  }

  @inlinable
  func offset(of lane: Int) -> Int { lane * laneStep }
}
