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

  /// Checks that the file holds exactly the elements the header claims,
  /// without trusting the header's numbers for any allocation.
  func checkSize(path: String) throws(DataError) {
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
    let available = bytes.count - dataOffset
    guard !overflow, needed <= available else {
      throw DataError(
        .malformed, path: path,
        "the header's shape \(shape) of \(typeName) needs \(overflow ? "more than Int.max" : String(needed)) bytes of data; the file has \(available)"
      )
    }
    guard needed == available else {
      throw DataError(
        .malformed, path: path,
        "the file has \(available - needed) bytes after the \(needed) bytes of data its shape \(shape) describes"
      )
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
  /// two dimensions flatten after the first, as MNIST's 28 × 28 images).
  func matrix<Scalar: SoftmaxScalar>(path: String, as _: Scalar.Type) throws(DataError)
    -> Matrix<Scalar>
  {
    guard let n = shape.first else {
      throw DataError(.unsupported, path: path, "a 0-dimensional array is not a data set")
    }
    let d = shape.count == 1 ? 1 : shape.dropFirst().reduce(1, *)
    var values = ValueBuffer(for: Scalar.self)
    if values.isFloat {
      values.floats.reserveCapacity(n * d)
    } else {
      values.doubles.reserveCapacity(n * d)
    }
    if kind == .unsigned, elementSize == 1, !fortranOrder {
      // The common case (MNIST pixels): one byte per value.
      bytes.withUnsafeBufferPointer { buffer in
        for k in dataOffset..<(dataOffset + n * d) { _ = values.append(Double(buffer[k])) }
      }
    } else {
      for i in 0..<n {
        for j in 0..<d {
          let index = fortranOrder ? j * n + i : i * d + j
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
      let value = element(index)
      guard value.isFinite, value == value.rounded(), abs(value) < 9e15 else {
        throw DataError(.labels, path: path, "label \(index) = \(value) is not a whole number")
      }
      labels.append(String(Int(value)))
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

  static func readArray(_ path: String) throws(DataError) -> NumericArray {
    let bytes = try AtomicFile.read(path)
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
    let array = NumericArray(
      shape: shape, typeName: name, isInteger: kind != .float, elementSize: size, bigEndian: true,
      kind: kind, bytes: bytes, dataOffset: 4 + 4 * dimensions)
    try array.checkSize(path: path)
    return array
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
    let array = try readArray(path)
    guard array.shape.count == 2 else {
      throw DataError(
        .shapeMismatch, path: path,
        "a data set is a 2-dimensional array (rows × features); this one has shape \(array.shape)")
    }
    var features = try array.matrix(path: path, as: Scalar.self)
    var labelStrings: [String]? = nil
    if let labelColumn {
      let d = features.columns
      let column = labelColumn < 0 ? d + labelColumn : labelColumn
      guard column >= 0, column < d else {
        throw DataError(
          .labels, path: path,
          "label column \(labelColumn) is out of range: the array has \(d) columns")
      }
      var kept: [Scalar] = []
      kept.reserveCapacity(features.rows * (d - 1))
      var read: [String] = []
      for i in 0..<features.rows {
        for j in 0..<d where j != column { kept.append(features[i, j]) }
        let value = Double(features[i, column])
        guard value == value.rounded(), abs(value) < 9e15 else {
          throw DataError(.labels, path: path, "row \(i): label \(value) is not a whole number")
        }
        read.append(String(Int(value)))
      }
      features = Matrix(rows: features.rows, columns: d - 1, elements: kept)
      labelStrings = read
    } else if let labels {
      let read =
        labels.hasSuffix(".npy")
        ? try readArray(labels).labels(path: labels) : try readLines(labels)
      guard read.count == features.rows else {
        throw DataError(
          .labels, path: labels, "\(read.count) labels for the \(features.rows) rows of \(path)")
      }
      labelStrings = read
    }
    return DataSet(features: features, labels: labelStrings)
  }

  /// One label per non-blank line.
  static func readLines(_ path: String) throws(DataError) -> [String] {
    let bytes = try AtomicFile.read(path)
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw DataError(.invalidEncoding, path: path, "the labels file is not valid UTF-8")
    }
    return text.split(whereSeparator: \.isNewline).map {
      String($0.trimmingPrefix { $0 == " " || $0 == "\t" })
    }.filter { !$0.isEmpty }
  }

  static func readArray(_ path: String) throws(DataError) -> NumericArray {
    let bytes = try AtomicFile.read(path)
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
    guard bytes.count >= headerStart + headerLength else {
      throw DataError(
        .malformed, path: path,
        "the header claims \(headerLength) bytes; the file has \(bytes.count - headerStart) after the preamble"
      )
    }
    let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
    guard let descr = quotedValue(header, key: "descr") else {
      let shown = header.prefix(80).split(whereSeparator: \.isNewline).joined(separator: " ")
      throw DataError(.malformed, path: path, "the NPY header has no 'descr': \(shown)")
    }
    guard let shape = shapeValue(header) else {
      throw DataError(.malformed, path: path, "the NPY header has no readable 'shape': \(header)")
    }
    let fortran = header.contains("'fortran_order': True")
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
    let array = NumericArray(
      shape: shape, typeName: "'\(descr)'", isInteger: kind != .float, elementSize: size,
      bigEndian: order == ">", kind: kind, bytes: bytes, dataOffset: headerStart + headerLength,
      fortranOrder: fortran)
    try array.checkSize(path: path)
    return array
  }

  /// `'key': 'value'` in a Python dict literal.
  static func quotedValue(_ header: String, key: String) -> String? {
    guard let keyRange = header.firstRange(of: "'\(key)'") else { return nil }
    let rest = header[keyRange.upperBound...].drop { $0 == ":" || $0 == " " }
    guard let open = rest.first, open == "'" || open == "\"" else { return nil }
    let body = rest.dropFirst()
    guard let close = body.firstIndex(of: open) else { return nil }
    return String(body[..<close])
  }

  /// `'shape': (a, b, )` in a Python dict literal.
  static func shapeValue(_ header: String) -> [Int]? {
    guard let keyRange = header.firstRange(of: "'shape'"),
      let open = header[keyRange.upperBound...].firstIndex(of: "("),
      let close = header[open...].firstIndex(of: ")")
    else { return nil }
    var shape: [Int] = []
    for part in header[header.index(after: open)..<close].split(separator: ",") {
      let trimmed = part.filter { $0 != " " && $0 != "L" }
      if trimmed.isEmpty { continue }
      guard let value = Int(trimmed), value >= 0 else { return nil }
      shape.append(value)
    }
    return shape
  }
}
