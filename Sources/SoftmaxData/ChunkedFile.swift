//===--- ChunkedFile.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file read front to back through a window of bytes: the text readers
/// parse what the window holds, keep the unfinished record, and ask for
/// more. Memory is the window (1 MiB, or the longest record), not the
/// file.
final class ChunkedFile {
  let path: String
  /// The file's bytes, decompressed when it is compressed.
  let source: ByteSource
  /// The window: `bytes[0..<count]` hold data, followed by a 0 byte.
  private(set) var bytes: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  /// Valid bytes in the window.
  private(set) var count = 0
  /// The file's end is in the window.
  private(set) var atEnd = false
  /// Bytes read from the file so far.
  private(set) var bytesRead = 0

  init(path: String, windowSize: Int = 1 << 20) throws(DataError) {
    self.path = path
    source = try ByteSource(path: path)
    // A small file gets a window its size (plus room to see its end).
    let size = source.regularSize ?? 0
    capacity = size > 0 && size < windowSize ? max(size + 1, 256) : windowSize
    bytes = .allocate(capacity: capacity + 1)
    bytes[0] = 0
  }

  deinit {
    bytes.deallocate()
  }

  /// Drops the first `consumed` bytes of the window, then reads until the
  /// window is full or the file ends. When nothing was consumed and the
  /// window is full, the window doubles (one record longer than it).
  ///
  /// - Returns: whether new bytes arrived.
  @discardableResult
  func refill(consumed: Int) throws(DataError) -> Bool {
    if consumed > 0 {
      let remaining = count - consumed
      if remaining > 0 { (bytes).update(from: bytes + consumed, count: remaining) }
      count = remaining
    }
    if count == capacity {
      // One record longer than the window: the window doubles, up to a
      // quarter of the memory limit (a stream of one endless line stops).
      let longest = max(256 << 20, SoftmaxConfiguration.memoryLimit / 4)
      guard capacity <= longest / 2 else {
        throw DataError(
          .unsupported, path: path,
          "a line (or quoted field) longer than \(longest) bytes, from byte \(bytesRead - count): "
            + "this reader keeps one line in memory")
      }
      let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2 + 1)
      larger.update(from: bytes, count: count)
      bytes.deallocate()
      bytes = larger
      capacity *= 2
    }
    var arrived = false
    while !atEnd && count < capacity {
      let got = try source.read(into: bytes + count, count: capacity - count)
      if got == 0 {
        atEnd = true
      } else {
        // No text file holds a NUL byte: a binary file, or a stream such
        // as /dev/zero, which would otherwise grow the window forever
        // looking for the end of its first line. (The first read is
        // checked by the reader, with a line and column:
        // `rejectNULInFirstWindow(format:)`.)
        if bytesRead > 0 || count > 0, let found = memchr(bytes + count, 0, got) {
          let offset =
            bytesRead + (UnsafeMutableRawPointer(found) - UnsafeMutableRawPointer(bytes + count))
          throw DataError(
            .invalidEncoding, path: path,
            "a NUL byte at byte \(offset): this is not a text file (binary, compressed, or UTF-16?)"
          )
        }
        count += got
        bytesRead += got
        arrived = true
      }
    }
    bytes[count] = 0
    return arrived
  }

  /// Ranges of complete lines at least this long are parsed by several
  /// threads (the CSV and LIBSVM readers).
  static let parallelBytes = 256 << 10

  /// Where the complete lines of the window from `position` end: after
  /// its last line feed (`position` when it holds none).
  func endOfCompleteLines(from position: Int) -> Int {
    var end = count
    while end > position && bytes[end - 1] != UInt8(ascii: "\n") { end -= 1 }
    return end
  }

  /// `[start, end)` of the window (complete lines) cut into at most
  /// `parts` ranges of about equal size, each cut just after a line feed:
  /// the boundaries, from `start` to `end`.
  func cutsAfterLineFeeds(from start: Int, to end: Int, parts: Int) -> [Int] {
    let span = end - start
    var cuts = [start]
    for k in 1..<max(parts, 1) {
      let target = max(start + span * k / parts, cuts[cuts.count - 1])
      guard target < end,
        let found = memchr(bytes + target, Int32(UInt8(ascii: "\n")), end - target)
      else { break }
      let cut = UnsafeMutableRawPointer(found) - UnsafeMutableRawPointer(bytes) + 1
      if cut < end && cut > cuts[cuts.count - 1] { cuts.append(cut) }
    }
    cuts.append(end)
    return cuts
  }

  /// Throws when the first window holds a NUL byte, which no text file
  /// has: the file is binary (an image, a spreadsheet, a compressed file)
  /// or UTF-16 text, and reading it as `format` would only give a
  /// misleading error further on. Call after the first ``refill(consumed:)``.
  func rejectNULInFirstWindow(format: String) throws(DataError) {
    guard let found = memchr(bytes, 0, count) else { return }
    let offset = UnsafeRawPointer(found) - UnsafeRawPointer(bytes)
    var line = 1
    var lineStart = 0
    for k in 0..<offset where bytes[k] == UInt8(ascii: "\n") {
      line += 1
      lineStart = k + 1
    }
    throw DataError(
      .invalidEncoding, path: path, line: line, column: offset - lineStart + 1,
      "a NUL byte: this is not a text file (binary, compressed, or UTF-16?); \(format) must be UTF-8 text"
    )
  }
}
