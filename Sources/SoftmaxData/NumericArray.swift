//===--- NumericArray.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// An n-dimensional array read from a binary file (IDX or NPY): its shape
/// and its elements in row-major order, as `Double` (exact for every
/// element type these formats hold but 64-bit integers beyond 2^53).
struct NumericArray {
  var shape: [Int]
  /// Element type name as the file wrote it, for messages.
  var typeName: String
  /// Whether elements are integers (labels must be).
  var isInteger: Bool
  /// The element width in bytes, and how to read one.
  var elementSize: Int
  var bigEndian: Bool
  var kind: ElementKind
  /// The file's bytes and where the data begins.
  var bytes: [UInt8]
  var dataOffset: Int
  var fortranOrder = false

  enum ElementKind { case unsigned, signed, float }

  var count: Int { shape.reduce(1, *) }

  /// The data's size in bytes as the header describes it: checked for
  /// overflow and for a zero dimension, before anything is allocated.
  static func dataSize(shape: [Int], elementSize: Int, typeName: String, path: String)
    throws(DataError) -> Int
  {
    // A zero dimension holds no values whatever the others say; a matrix
    // of 4294967295 rows of 0 features would loop for nothing.
    if shape.contains(0) {
      throw DataError(.empty, path: path, "the header's shape \(shape) holds no values")
    }
    var elements = 1
    for dimension in shape {
      let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
      guard !overflow, dimension >= 0 else {
        throw DataError(.malformed, path: path, "the header's shape \(shape) is too large")
      }
      elements = product
    }
    let (needed, overflow) = elements.multipliedReportingOverflow(by: elementSize)
    guard !overflow else {
      throw DataError(.malformed, path: path, "the header's shape \(shape) is too large")
    }
    return needed
  }

  /// Reads the data that follows a header of `headerSize` bytes (already
  /// in `bytes`): exactly what the shape describes, no more, no less. A
  /// regular file's size is compared before reading; a stream is read in
  /// blocks up to that size and must end there.
  static func readData(
    _ reader: inout BoundedReader, after bytes: inout [UInt8], shape: [Int], elementSize: Int,
    typeName: String
  ) throws(DataError) {
    let path = reader.path
    let needed = try dataSize(
      shape: shape, elementSize: elementSize, typeName: typeName, path: path)
    if let size = reader.regularSize {
      let available = size - bytes.count
      guard needed <= available else {
        throw DataError(
          .malformed, path: path,
          "the header's shape \(shape) of \(typeName) needs \(needed) bytes of data; the file has \(available)"
        )
      }
      guard needed == available else {
        throw DataError(
          .malformed, path: path,
          "the file has \(available - needed) bytes after the \(needed) bytes of data its shape \(shape) describes"
        )
      }
    } else if needed > SoftmaxConfiguration.memoryLimit {
      throw DataError(
        .unsupported, path: path,
        "the header's shape \(shape) of \(typeName) needs \(needed) bytes of data, more than the memory available (\(SoftmaxConfiguration.memoryLimit) bytes)"
      )
    }
    let got = try reader.read(needed, into: &bytes)
    guard got == needed else {
      throw DataError(
        .malformed, path: path,
        "the header's shape \(shape) of \(typeName) needs \(needed) bytes of data; the file has \(got)"
      )
    }
    if reader.regularSize == nil, try !reader.atEnd() {
      throw DataError(
        .malformed, path: path,
        "the stream goes on after the \(needed) bytes of data its shape \(shape) describes")
    }
  }

  /// Element `index` (in file order).
  @inline(__always)
  func element(_ index: Int) -> Double {
    let start = dataOffset + index * elementSize
    if elementSize == 1 {
      let byte = bytes[start]
      return kind == .signed ? Double(Int8(bitPattern: byte)) : Double(byte)
    }
    var bits: UInt64 = 0
    for k in 0..<elementSize {
      let byte = UInt64(bytes[start + (bigEndian ? k : elementSize - 1 - k)])
      bits = bits << 8 | byte
    }
    switch (kind, elementSize) {
    case (.float, 2): return Double(Float16(bitPattern: UInt16(bits)))
    case (.float, 4): return Double(Float(bitPattern: UInt32(bits)))
    case (.float, _): return Double(bitPattern: bits)
    case (.unsigned, _): return Double(bits)
    case (.signed, 2): return Double(Int16(bitPattern: UInt16(bits)))
    case (.signed, 4): return Double(Int32(bitPattern: UInt32(bits)))
    case (.signed, _): return Double(Int64(bitPattern: bits))
    }
  }

  /// The array as an `n × d` matrix (a 1-D array is one column; more than
  /// two dimensions flatten after the first, as MNIST's 28 × 28 images),
  /// without column `excluding` if given (a label column).
  func matrix<Scalar: SoftmaxScalar>(path: String, excluding: Int? = nil, as _: Scalar.Type)
    throws(DataError) -> Matrix<Scalar>
  {
    guard let n = shape.first else {
      throw DataError(.unsupported, path: path, "a 0-dimensional array is not a data set")
    }
    let all = shape.count == 1 ? 1 : shape.dropFirst().reduce(1, *)
    let d = excluding == nil ? all : all - 1
    var values = ValueBuffer(for: Scalar.self)
    if values.isFloat {
      values.floats.reserveCapacity(n * d)
    } else {
      values.doubles.reserveCapacity(n * d)
    }
    if kind == .unsigned, elementSize == 1, !fortranOrder, excluding == nil {
      // The common case (MNIST pixels): one byte per value.
      bytes.withUnsafeBufferPointer { buffer in
        for k in dataOffset..<(dataOffset + n * d) { _ = values.append(Double(buffer[k])) }
      }
    } else {
      for i in 0..<n {
        for j in 0..<all where j != excluding {
          let index = fortranOrder ? j * n + i : i * all + j
          let value = element(index)
          guard values.append(value) else {
            throw DataError(
              .notANumber, path: path,
              "element [\(i), \(j)] = \(value) is not a finite \(values.isFloat ? "Float" : "Double")"
            )
          }
        }
      }
    }
    return values.matrix(rows: n, columns: d, as: Scalar.self)
  }

  /// Element `index` as a label: an integer element exactly (64-bit ones
  /// too), a float that is a whole number below 2^63; `nil` otherwise.
  func labelText(_ index: Int) -> String? {
    if kind == .float {
      let value = element(index)
      guard value.isFinite, value == value.rounded(), abs(value) < 0x1p63 else { return nil }
      return String(Int64(value))
    }
    let start = dataOffset + index * elementSize
    var bits: UInt64 = 0
    for k in 0..<elementSize {
      bits = bits << 8 | UInt64(bytes[start + (bigEndian ? k : elementSize - 1 - k)])
    }
    guard kind == .signed else { return String(bits) }
    // Sign-extend from the element's width.
    let shift = UInt64(64 - 8 * elementSize)
    return String(Int64(bitPattern: bits << shift) >> Int64(shift))
  }

  /// The array as labels: 1-D (or `n × 1`) integers, or floats that are
  /// whole numbers.
  func labels(path: String) throws(DataError) -> [String] {
    guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
      throw DataError(
        .labels, path: path, "labels must be a 1-dimensional array; this one has shape \(shape)")
    }
    var labels: [String] = []
    labels.reserveCapacity(shape[0])
    for index in 0..<shape[0] {
      guard let label = labelText(index) else {
        throw DataError(
          .labels, path: path, "label \(index) = \(element(index)) is not a whole number")
      }
      labels.append(label)
    }
    return labels
  }
}
