//===--- IDXReader.swift -----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

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
