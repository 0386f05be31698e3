//===--- BoundedReader.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file of any kind front to back, bounded: a regular file's size
/// is checked against the bound before reading; a stream is cut when it
/// passes it.
struct BoundedReader {
  let path: String
  /// The file's bytes, decompressed when it is compressed.
  let source: ByteSource
  let maximumBytes: Int
  /// The size of a plain regular file; `nil` for a stream or a compressed
  /// file.
  var regularSize: Int? { source.regularSize }
  var rejectsNUL = false
  private(set) var offset = 0

  init(path: String, maximumBytes: Int) throws(DataError) {
    self.path = path
    self.maximumBytes = maximumBytes
    source = try ByteSource(path: path)
    if let regularSize = source.regularSize, regularSize > maximumBytes {
      throw DataError(
        .unsupported, path: path,
        "the file has \(regularSize) bytes, more than the \(maximumBytes) this reader takes")
    }
  }

  /// Exactly `count` bytes (fewer only at the end of the file), appended
  /// to `bytes`, in blocks, so that a header that claims more than the
  /// file holds costs no large allocation.
  mutating func read(_ count: Int, into bytes: inout [UInt8]) throws(DataError) -> Int {
    var remaining = count
    let blockSize = 1 << 16
    let start = UnsafeMutablePointer<UInt8>.allocate(capacity: blockSize)
    defer { start.deallocate() }
    let block = UnsafeMutableBufferPointer(start: start, count: blockSize)
    while remaining > 0 {
      let want = min(remaining, blockSize)
      let got = try source.read(into: UnsafeMutableRawPointer(start), count: want)
      if got == 0 { break }
      if rejectsNUL, let nul = block[0..<got].firstIndex(of: 0) {
        throw DataError(
          .invalidEncoding, path: path,
          "a NUL byte at byte \(offset + nul): this is not a text file (binary data?)")
      }
      offset += got
      guard offset <= maximumBytes else {
        throw DataError(
          .unsupported, path: path,
          "the stream goes on past \(maximumBytes) bytes, more than this reader takes")
      }
      bytes.append(contentsOf: block[0..<got])
      remaining -= got
    }
    return count - remaining
  }

  /// Every byte to the end.
  mutating func readToEnd() throws(DataError) -> [UInt8] {
    var bytes: [UInt8] = []
    if let regularSize { bytes.reserveCapacity(regularSize) }
    while try read(1 << 20, into: &bytes) == 1 << 20 {}
    return bytes
  }

  /// Whether the file has no more bytes.
  mutating func atEnd() throws(DataError) -> Bool {
    var probe: [UInt8] = []
    return try read(1, into: &probe) == 0
  }
}
