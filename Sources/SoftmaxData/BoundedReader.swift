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
  let descriptor: Int32
  let maximumBytes: Int
  /// The size of a regular file; `nil` for a stream.
  let regularSize: Int?
  var rejectsNUL = false
  private(set) var offset = 0

  init(path: String, maximumBytes: Int) throws(DataError) {
    self.path = path
    self.maximumBytes = maximumBytes
    descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw AtomicFile.failure(path, "cannot open") }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      _ = systemClose(descriptor)
      throw AtomicFile.failure(path, "cannot read")
    }
    switch status.st_mode & S_IFMT {
    case S_IFDIR:
      _ = systemClose(descriptor)
      throw DataError(.io, path: path, "is a directory")
    case S_IFREG:
      regularSize = Int(status.st_size)
    default:
      regularSize = nil
    }
    if let regularSize, regularSize > maximumBytes {
      _ = systemClose(descriptor)
      throw DataError(
        .unsupported, path: path,
        "the file has \(regularSize) bytes, more than the \(maximumBytes) this reader takes")
    }
  }

  /// Closes the file; call once.
  func close() { _ = systemClose(descriptor) }

  /// Exactly `count` bytes (fewer only at the end of the file), appended
  /// to `bytes`, in blocks, so that a header that claims more than the
  /// file holds costs no large allocation.
  mutating func read(_ count: Int, into bytes: inout [UInt8]) throws(DataError) -> Int {
    var remaining = count
    var block = [UInt8](repeating: 0, count: 1 << 16)
    while remaining > 0 {
      let want = min(remaining, block.count)
      let got = block.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, want) }
      if got < 0 {
        if errno == EINTR { continue }
        throw AtomicFile.failure(path, "cannot read")
      }
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

  /// Every byte to the end (then closes the file).
  mutating func readToEnd() throws(DataError) -> [UInt8] {
    defer { close() }
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

private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }

private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int)
  -> Int
{
  read(descriptor, buffer, count)
}
