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

  /// `table[k·256 + b]`: the CRC of byte `b` followed by `k` zero bytes.
  private static let table: [UInt32] = {
    var table = [UInt32](repeating: 0, count: 8 * 256)
    for byte in 0..<256 {
      var crc = UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
      table[byte] = crc
    }
    for k in 1..<8 {
      for byte in 0..<256 {
        let previous = table[(k - 1) * 256 + byte]
        table[k * 256 + byte] = (previous >> 8) ^ table[Int(previous & 0xFF)]
      }
    }
    return table
  }()

  /// Adds `bytes` to the checksum.
  mutating func update(_ bytes: UnsafeRawBufferPointer) {
    var crc = ~value
    let count = bytes.count
    Self.table.withUnsafeBufferPointer { table in
      guard let t = table.baseAddress, let base = bytes.baseAddress else { return }
      var i = 0
      while i &+ 8 <= count {
        let low = base.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ crc
        let high = base.loadUnaligned(fromByteOffset: i &+ 4, as: UInt32.self).littleEndian
        crc =
          t[1792 &+ Int(low & 0xFF)] ^ t[1536 &+ Int((low >> 8) & 0xFF)]
          ^ t[1280 &+ Int((low >> 16) & 0xFF)] ^ t[1024 &+ Int(low >> 24)]
          ^ t[768 &+ Int(high & 0xFF)] ^ t[512 &+ Int((high >> 8) & 0xFF)]
          ^ t[256 &+ Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
        i &+= 8
      }
      while i < count {
        let byte = base.load(fromByteOffset: i, as: UInt8.self)
        crc = (crc >> 8) ^ t[Int((crc ^ UInt32(byte)) & 0xFF)]
        i &+= 1
      }
    }
    value = ~crc
  }

  /// Adds `bytes` to the checksum.
  mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }
}
