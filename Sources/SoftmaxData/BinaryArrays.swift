//===--- BinaryArrays.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

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

/// Reads IDX files, the format of MNIST: an images file (`n × rows ×
/// cols`, unsigned bytes) and its labels file (`n` unsigned bytes).
///
/// Every IDX element type is read (unsigned and signed bytes, 16- and
/// 32-bit integers, 32- and 64-bit floats, big-endian as the format
/// says); dimensions after the first flatten into features. The header's
/// dimensions must describe exactly the bytes that follow, so a file cut
/// short or a lying header is an error, never a large allocation.
///
/// Cost: the file is read whole, O(file size).
public enum IDXReader {
  /// Reads `images` and, when given, `labels`.
  ///
  /// - Throws: ``DataError``: a bad magic number or element type, a size
  ///   that does not match the header, labels of another count.
  public static func read<Scalar: SoftmaxScalar>(
    images: String, labels: String?, as _: Scalar.Type = Scalar.self
  ) throws(DataError) -> DataSet<Scalar> {
    let array = try readArray(images)
    let features = try array.matrix(path: images, as: Scalar.self)
    var labelStrings: [String]? = nil
    if let labels {
      let labelArray = try readArray(labels)
      let read = try labelArray.labels(path: labels)
      guard read.count == features.rows else {
        throw DataError(
          .labels, path: labels, "\(read.count) labels for the \(features.rows) rows of \(images)")
      }
      labelStrings = read
    }
    return DataSet(features: features, labels: labelStrings)
  }

  /// Reads the header, then exactly the data it describes (a stream
  /// too: `/dev/zero` is refused at its header).
  static func readArray(_ path: String) throws(DataError) -> NumericArray {
    var reader = try BoundedReader(path: path, maximumBytes: Int.max)
    defer { reader.close() }
    var bytes: [UInt8] = []
    _ = try reader.read(4, into: &bytes)
    guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
      throw DataError(
        .malformed, path: path,
        "not an IDX file: it must start with two zero bytes, a type byte and a dimension count")
    }
    let kinds: [UInt8: (NumericArray.ElementKind, Int, String)] = [
      0x08: (.unsigned, 1, "unsigned byte"), 0x09: (.signed, 1, "signed byte"),
      0x0B: (.signed, 2, "16-bit integer"), 0x0C: (.signed, 4, "32-bit integer"),
      0x0D: (.float, 4, "32-bit float"), 0x0E: (.float, 8, "64-bit float"),
    ]
    guard let (kind, size, name) = kinds[bytes[2]] else {
      throw DataError(
        .unsupported, path: path,
        "IDX element type 0x\(String(bytes[2], radix: 16)) is not one of 08, 09, 0B, 0C, 0D, 0E")
    }
    let dimensions = Int(bytes[3])
    if dimensions >= 1 { _ = try reader.read(4 * dimensions, into: &bytes) }
    guard dimensions >= 1, bytes.count >= 4 + 4 * dimensions else {
      throw DataError(
        .malformed, path: path,
        dimensions == 0
          ? "the IDX header has 0 dimensions"
          : "the file ends inside its header (\(dimensions) dimensions need \(4 + 4 * dimensions) bytes)"
      )
    }
    var shape: [Int] = []
    for k in 0..<dimensions {
      let at = 4 + 4 * k
      shape.append(
        Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8
          | Int(bytes[at + 3]))
    }
    try NumericArray.readData(
      &reader, after: &bytes, shape: shape, elementSize: size, typeName: name)
    return NumericArray(
      shape: shape, typeName: name, isInteger: kind != .float, elementSize: size, bigEndian: true,
      kind: kind, bytes: bytes, dataOffset: 4 + 4 * dimensions)
  }

  /// The labels file beside an MNIST images file, by MNIST's naming
  /// (`train-images-idx3-ubyte` → `train-labels-idx1-ubyte`, also with a
  /// `.` before `idx`); `nil` when the name does not follow it.
  public static func labelsPath(forImages path: String) -> String? {
    for (images, labels) in [("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1")] {
      if let range = path.firstRange(of: images) {
        var result = path
        result.replaceSubrange(range, with: labels)
        return result
      }
    }
    return nil
  }
}

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
    if labelColumn == nil, let labels {
      let read =
        labels.hasSuffix(".npy")
        ? try readArray(labels).labels(path: labels) : try readLines(labels)
      guard read.count == features.rows else {
        throw DataError(
          .labels, path: labels, "\(read.count) labels for the \(features.rows) rows of \(path)")
      }
      labelStrings = read
    }
    return DataSet(features: features, labels: labelStrings, report: report)
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
    defer { reader.close() }
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
    try NumericArray.readData(
      &reader, after: &bytes, shape: fields.shape, elementSize: size, typeName: "'\(descr)'")
    // '=' is the machine's order: little-endian on every platform this builds on.
    return NumericArray(
      shape: fields.shape, typeName: "'\(descr)'", isInteger: kind != .float, elementSize: size,
      bigEndian: order == ">", kind: kind, bytes: bytes, dataOffset: headerStart + headerLength,
      fortranOrder: fields.fortranOrder)
  }
}
