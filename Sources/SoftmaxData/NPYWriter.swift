//===--- NPYWriter.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Writes NumPy `.npy` files (format version 1.0), the binary form that
/// NumPy and scikit-learn users already have: `numpy.load` reads them, and
/// so does ``NPYReader``.
public enum NPYWriter {
  /// The bytes of an `.npy` file holding `matrix`: a 2-D array of shape
  /// `(rows, columns)` in C order, little-endian `<f2`, `<f4` or `<f8` by
  /// the scalar's size. The header is padded with spaces to a multiple of
  /// 64 bytes and ends in a line feed, as NumPy writes it.
  ///
  /// - Complexity: O(rows·columns); the file is the header and the values'
  ///   bytes.
  public static func bytes<Scalar: SoftmaxScalar>(_ matrix: Matrix<Scalar>) -> [UInt8] {
    var out = header(rows: matrix.rows, columns: matrix.columns, as: Scalar.self)
    out.reserveCapacity(out.count + matrix.elements.count * MemoryLayout<Scalar>.size)
    out += valueBytes(matrix)
    return out
  }

  /// The header of an `.npy` file of shape `(rows, columns)` of `Scalar`
  /// (as ``bytes(_:)`` writes it): the values' bytes follow it, row after
  /// row, as ``valueBytes(_:)`` gives them, for a file written in pieces.
  public static func header<Scalar: SoftmaxScalar>(
    rows: Int, columns: Int, as _: Scalar.Type = Scalar.self
  ) -> [UInt8] {
    header(descr: "<f\(MemoryLayout<Scalar>.size)", shape: "(\(rows), \(columns))")
  }

  /// The header of an array of NumPy type `descr` and shape `shape` (a
  /// Python tuple, `(3,)` for a vector).
  static func header(descr: String, shape: String) -> [UInt8] {
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
    // magic (6) + version (2) + length (2) + header + '\n': a multiple of 64.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let length = UInt16(header.utf8.count)
    out += [UInt8(length & 0xFF), UInt8(length >> 8)]
    out += Array(header.utf8)
    return out
  }

  /// The values of `matrix`, row after row, little-endian.
  public static func valueBytes<Scalar: SoftmaxScalar>(_ matrix: Matrix<Scalar>) -> [UInt8] {
    let size = MemoryLayout<Scalar>.size
    var out: [UInt8] = []
    out.reserveCapacity(matrix.elements.count * size)
    matrix.elements.withUnsafeBytes { raw in
      if 1.littleEndian == 1 {
        out.append(contentsOf: raw)
      } else {
        // A big-endian host: each value's bytes reversed.
        for start in stride(from: 0, to: raw.count, by: size) {
          out.append(contentsOf: raw[start..<(start + size)].reversed())
        }
      }
    }
    return out
  }
}
