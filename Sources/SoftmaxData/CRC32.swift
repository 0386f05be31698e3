//===--- CRC32.swift ------------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The CRC-32 of zip and gzip (IEEE 802.3, reflected polynomial
/// 0xEDB88320), computed eight bytes at a time (slicing-by-8).
struct CRC32 {
  /// The checksum of the bytes so far.
  private(set) var value: UInt32 = 0

  /// `tables[k][b]`: the CRC of byte `b` followed by `k` zero bytes.
  private static let tables: [[UInt32]] = {
    var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
    for byte in 0..<256 {
      var crc = UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
      tables[0][byte] = crc
    }
    for byte in 0..<256 {
      for k in 1..<8 {
        let previous = tables[k - 1][byte]
        tables[k][byte] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
      }
    }
    return tables
  }()

  /// Adds `bytes` to the checksum.
  mutating func update(_ bytes: UnsafeRawBufferPointer) {
    var crc = ~value
    let count = bytes.count
    var i = 0
    Self.tables.withUnsafeBufferPointer { t in
      let t0 = t[0]
      let t1 = t[1]
      let t2 = t[2]
      let t3 = t[3]
      let t4 = t[4]
      let t5 = t[5]
      let t6 = t[6]
      let t7 = t[7]
      while i + 8 <= count {
        let low = bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ crc
        let high = bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
        crc =
          t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)] ^ t5[Int((low >> 16) & 0xFF)]
          ^ t4[Int(low >> 24)] ^ t3[Int(high & 0xFF)] ^ t2[Int((high >> 8) & 0xFF)]
          ^ t1[Int((high >> 16) & 0xFF)] ^ t0[Int(high >> 24)]
        i += 8
      }
      while i < count {
        crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(bytes[i])) & 0xFF)]
        i += 1
      }
    }
    value = ~crc
  }

  /// Adds `bytes` to the checksum.
  mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }
}
