//===--- NPYReader.swift -----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads NumPy `.npy` files (format versions 1, 2 and 3): `float32`,
/// `float64`, `float16`, signed and unsigned integers of 1 to 8 bytes and
/// `bool`, either byte order, C or Fortran order.
///
/// A 2-D array is `n × d`; a labels array is 1-D. The header's shape must
/// describe exactly the bytes that follow.
///
/// Cost: the file is read whole, O(file size).
public enum NPYReader {
  /// Reads the features in `path` and the labels in `labels` (an `.npy`
  /// array, or a text file of one label per line), or in the feature
  /// matrix's column `labelColumn`.
  ///
  /// - Throws: ``DataError``: not an NPY file, an unsupported dtype
  ///   (strings, objects, complex), a shape that does not match the data,
  ///   labels of another count.
  public static func read<Scalar: SoftmaxScalar>(
    _ path: String, labels: String? = nil, labelColumn: Int? = nil,
    as _: Scalar.Type = Scalar.self
  ) throws(DataError) -> DataSet<Scalar> {
    try read(
      path, labels: labels, labelColumn: labelColumn, labelColumnIfExtra: nil, as: Scalar.self)
  }

  /// As the public `read`; `labelColumnIfExtra` is the label column to
  /// take when the array has one column more than `count` (data for a
  /// model, with or without its labels).
  static func read<Scalar: SoftmaxScalar>(
    _ path: String, labels: String?, labelColumn: Int?,
    labelColumnIfExtra: (count: Int, index: Int)?, as _: Scalar.Type
  ) throws(DataError) -> DataSet<Scalar> {
    if labelColumn == nil, let features = try readInPlace(path, labelColumnIfExtra, as: Scalar.self)
    {
      return try withLabels(features, path: path, labels: labels)
    }
    let array = try readArray(path)
    var labelColumn = labelColumn
    if let extra = labelColumnIfExtra, array.shape.count == 2, array.shape[1] == extra.count + 1 {
      labelColumn = extra.index
    }
    guard array.shape.count == 2 else {
      throw DataError(
        .shapeMismatch, path: path,
        "a data set is a 2-dimensional array (rows × features); this one has shape \(array.shape)")
    }
    var features: Matrix<Scalar>
    var labelStrings: [String]? = nil
    var report = LoadReport()
    if let labelColumn {
      let d = array.shape[1]
      let column = labelColumn < 0 ? d + labelColumn : labelColumn
      guard column >= 0, column < d else {
        throw DataError(
          .labels, path: path,
          "label column \(labelColumn) is out of range: the array has \(d) columns")
      }
      // The labels from the file's elements, exactly (an int64 label of
      // 2^62 stays itself, even when the features are read as Float).
      var read: [String] = []
      read.reserveCapacity(array.shape[0])
      for i in 0..<array.shape[0] {
        let index = array.fortranOrder ? column * array.shape[0] + i : i * d + column
        guard let label = array.labelText(index) else {
          throw DataError(
            .labels, path: path, "row \(i): label \(array.element(index)) is not a whole number")
        }
        read.append(label)
      }
      features = try array.matrix(path: path, excluding: column, as: Scalar.self)
      labelStrings = read
      report.labelColumn = column
      report.columnCount = d
    } else {
      features = try array.matrix(path: path, as: Scalar.self)
    }
    if labelColumn == nil {
      return try withLabels(features, path: path, labels: labels)
    }
    return DataSet(features: features, labels: labelStrings, report: report)
  }

  /// `features` with the labels of the file `labels`, if given.
  private static func withLabels<Scalar: SoftmaxScalar>(
    _ features: Matrix<Scalar>, path: String, labels: String?
  ) throws(DataError) -> DataSet<Scalar> {
    guard let labels else { return DataSet(features: features, labels: nil) }
    let read = try readLabels(labels)
    guard read.count == features.rows else {
      throw DataError(
        .labels, path: labels, "\(read.count) labels for the \(features.rows) rows of \(path)")
    }
    return DataSet(features: features, labels: read)
  }

  /// The features of a plain 2-D C-order file of `Scalar`s in the machine's
  /// byte order, read straight into the matrix (by the worker threads, in
  /// 1 MiB slices; memory: the matrix, not the file's bytes besides), or
  /// `nil` for any other file (the general path reads it, and names its
  /// problems). The values are checked finite, as the general path does.
  private static func readInPlace<Scalar: SoftmaxScalar>(
    _ path: String, _ labelColumnIfExtra: (count: Int, index: Int)?, as _: Scalar.Type
  ) throws(DataError) -> Matrix<Scalar>? {
    // Only a regular file: a FIFO or a device is read once, by the general
    // path (a header read here would be gone).
    var status = stat()
    guard Scalar.self == Float.self || Scalar.self == Double.self,
      stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
      let stream = try? NPYRowStream<Scalar>(path: path), stream.readsInPlace,
      labelColumnIfExtra.map({ stream.columns != $0.count + 1 }) ?? true
    else { return nil }
    let n = stream.rows
    let d = stream.columns
    let (count, overflow) = n.multipliedReportingOverflow(by: d)
    guard !overflow, count <= SoftmaxConfiguration.memoryLimit / MemoryLayout<Scalar>.stride
    else { return nil }
    var failure: (any Error)? = nil
    let elements = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
      do {
        try stream.readRows(0..<n, into: buffer)
        initialized = count
      } catch {
        failure = error
        // Initialized all the same (the caller throws): zeros.
        buffer.initialize(repeating: 0)
        initialized = count
      }
    }
    if let failure = failure as? DataError { throw failure }
    if failure != nil { throw DataError(.io, path: path, "cannot read the data") }
    if let bad = elements.firstIndex(where: { !$0.isFinite }) {
      throw DataError(
        .notANumber, path: path,
        "element [\(bad / max(d, 1)), \(bad % max(d, 1))] = \(elements[bad]) is not a finite \(Scalar.self == Float.self ? "Float" : "Double")"
      )
    }
    return Matrix(rows: n, columns: d, elements: elements)
  }

  /// The labels in `path`: a 1-D `.npy` array of whole numbers, or a text
  /// file of one label per line (blanks trimmed, blank lines skipped), as
  /// ``read(_:labels:labelColumn:as:)`` reads its `labels` file.
  ///
  /// - Throws: ``DataError`` naming the file and the label that is not one.
  public static func readLabels(_ path: String) throws(DataError) -> [String] {
    path.hasSuffix(".npy") ? try readArray(path).labels(path: path) : try readLines(path)
  }

  /// One label per non-blank line, blanks (spaces, tabs) trimmed from
  /// both ends, as CSV labels are: `dog` and `dog ` are one class.
  static func readLines(_ path: String) throws(DataError) -> [String] {
    let bytes = try AtomicFile.readText(path)
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw DataError(.invalidEncoding, path: path, "the labels file is not valid UTF-8")
    }
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    return text.split(whereSeparator: \.isNewline).map { line in
      var label = Substring(line)
      while let first = label.first, blank(first) { label = label.dropFirst() }
      while let last = label.last, blank(last) { label = label.dropLast() }
      return String(label)
    }.filter { !$0.isEmpty }
  }

  /// The largest header read (numpy writes a few hundred bytes; its own
  /// reader refuses more than 10000 by default).
  static let largestHeader = 1 << 20

  /// Reads the preamble and the header, then exactly the data the header
  /// describes (a stream too: `/dev/zero` is refused at its magic).
  static func readArray(_ path: String) throws(DataError) -> NumericArray {
    var reader = try BoundedReader(path: path, maximumBytes: Int.max)
    var array = try readHeader(&reader)
    try NumericArray.readData(
      &reader, after: &array.bytes, shape: array.shape, elementSize: array.elementSize,
      typeName: array.typeName)
    return array
  }

  /// Reads the preamble and the header: the array with its shape, its
  /// element type and `dataOffset`, and `bytes` holding the bytes before
  /// the data (no data yet).
  static func readHeader<Source: NPYHeaderSource>(_ reader: inout Source) throws(DataError)
    -> NumericArray
  {
    let path = reader.path
    var bytes: [UInt8] = []
    _ = try reader.read(10, into: &bytes)
    let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
      throw DataError(.malformed, path: path, "not an NPY file: it must start with \\x93NUMPY")
    }
    let major = bytes[6]
    let headerLength: Int
    let headerStart: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    case 2, 3:
      _ = try reader.read(2, into: &bytes)
      guard bytes.count >= 12 else {
        throw DataError(.malformed, path: path, "the file ends inside its header")
      }
      headerLength =
        Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      headerStart = 12
    default:
      throw DataError(
        .unsupported, path: path, "NPY format version \(major) (this reader knows 1, 2, 3)")
    }
    guard headerLength <= largestHeader else {
      throw DataError(
        .malformed, path: path,
        "the header claims \(headerLength) bytes, more than the \(largestHeader) an NPY header may have"
      )
    }
    _ = try reader.read(headerLength, into: &bytes)
    guard bytes.count >= headerStart + headerLength else {
      throw DataError(
        .malformed, path: path,
        "the header claims \(headerLength) bytes; the file has \(bytes.count - headerStart) after the preamble"
      )
    }
    let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
    let fields: NPYHeader
    do {
      fields = try NPYHeader(header)
    } catch {
      let shown = header.prefix(80).split(whereSeparator: \.isNewline).joined(separator: " ")
      throw DataError(.malformed, path: path, "the NPY header \(error.reason): \(shown)")
    }
    let descr = fields.descr
    guard descr.count >= 3, let order = descr.first, "<>|=".contains(order),
      let size = Int(descr.dropFirst(2)), [1, 2, 4, 8].contains(size)
    else {
      throw DataError(
        .unsupported, path: path,
        "dtype '\(descr)' is not supported (float16/32/64, integers, bool)")
    }
    let code = descr[descr.index(after: descr.startIndex)]
    let kind: NumericArray.ElementKind
    switch code {
    case "f" where size >= 2: kind = .float
    case "i": kind = .signed
    case "u", "b": kind = .unsigned
    default:
      throw DataError(
        .unsupported, path: path,
        "dtype '\(descr)' is not supported (float16/32/64, integers, bool)")
    }
    // '=' is the machine's order: little-endian on every platform this builds on.
    return NumericArray(
      shape: fields.shape, typeName: "'\(descr)'", isInteger: kind != .float, elementSize: size,
      bigEndian: order == ">", kind: kind, bytes: bytes, dataOffset: headerStart + headerLength,
      fortranOrder: fields.fortranOrder)
  }
}

/// Where an NPY header is read from: a file, or a member of an `.npz`
/// archive.
protocol NPYHeaderSource {
  /// The name errors give.
  var path: String { get }
  /// Up to `count` bytes appended to `bytes` (fewer only at the end).
  mutating func read(_ count: Int, into bytes: inout [UInt8]) throws(DataError) -> Int
}

extension BoundedReader: NPYHeaderSource {}
