//===--- ByteSource.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

internal import _SoftmaxCompression

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a file's bytes are compressed, told by its first bytes (never by
/// its name).
public enum Compression: String, Sendable, Hashable, CaseIterable {
  /// gzip (`1f 8b`), one member or several concatenated, as `gzip` and
  /// Python's `gzip` write them; read through the system's zlib.
  case gzip
  /// bzip2 (`BZh`), one stream or several; read through libbz2.
  case bzip2
  /// xz (`fd 37 7a 58 5a 00`), one stream or several; read through liblzma.
  case xz

  /// The compression `prefix` (a file's first bytes, at least 6 when the
  /// file has them) begins, or `nil` for uncompressed data.
  public init?(magic prefix: some Collection<UInt8>) {
    let bytes = Array(prefix.prefix(6))
    if bytes.starts(with: [0x1f, 0x8b]) {
      self = .gzip
    } else if bytes.starts(with: [0x42, 0x5a, 0x68]) {
      self = .bzip2
    } else if bytes.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) {
      self = .xz
    } else {
      return nil
    }
  }

  /// The file name's end that says this compression (`.gz`, `.bz2`, `.xz`).
  public var fileExtension: String {
    switch self {
    case .gzip: return "gz"
    case .bzip2: return "bz2"
    case .xz: return "xz"
    }
  }
}

/// A file's bytes front to back, decompressed when its first bytes say it
/// is compressed (``Compression``): every reader reads through one, so
/// `train-images-idx3-ubyte.gz`, `news20.bz2` or `data.csv.xz` read as
/// their plain forms do, and their errors count lines, columns and bytes
/// in the decompressed data.
///
/// Memory: 64 KiB of compressed input beside the decoder's own state
/// (zlib 44 KiB; bzip2 up to 3.6 MiB; xz up to its dictionary, 64 MiB at
/// `xz -9`).
final class ByteSource {
  let path: String
  /// The open file; -1 once closed.
  private var descriptor: Int32
  /// The compression, or `nil` for a plain file.
  let compression: Compression?
  /// The size of a plain regular file; `nil` for a stream or a
  /// compressed file (whose decompressed size is known only at its end).
  let regularSize: Int?
  /// Whether the file is a regular file (not a pipe or a device).
  let isRegular: Bool
  /// Bytes read ahead to find the compression, not yet handed out (plain)
  /// or not yet decoded (compressed).
  private var pending: [UInt8] = []
  private var pendingStart = 0
  private var decoder: OpaquePointer?
  private var inputEnded = false
  private var decodingEnded = false
  /// Decompressed bytes handed out so far.
  private(set) var offset = 0

  /// Opens `path` and reads its first bytes to tell its compression.
  ///
  /// - Throws: ``DataError``: `.io` when the file cannot be opened or is a
  ///   directory; `.unsupported` for zstd, zip and other compressions it
  ///   does not read, or when the decompression library is missing.
  init(path: String) throws(DataError) {
    self.path = path
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    self.descriptor = descriptor
    guard descriptor >= 0 else {
      throw DataError(.io, path: path, "cannot open: \(String(cString: strerror(errno)))")
    }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      let reason = String(cString: strerror(errno))
      _ = systemClose(descriptor)
      throw DataError(.io, path: path, "cannot read: \(reason)")
    }
    if (status.st_mode & S_IFMT) == S_IFDIR {
      _ = systemClose(descriptor)
      throw DataError(.io, path: path, "is a directory")
    }
    isRegular = (status.st_mode & S_IFMT) == S_IFREG
    // The first 6 bytes (fewer only at the end of the file).
    var prefix = [UInt8](repeating: 0, count: 6)
    var got = 0
    while got < 6 {
      let n = prefix.withUnsafeMutableBytes {
        systemRead(descriptor, $0.baseAddress.map { $0 + got }, 6 - got)
      }
      if n < 0 {
        if errno == EINTR { continue }
        let reason = String(cString: strerror(errno))
        _ = systemClose(descriptor)
        throw DataError(.io, path: path, "cannot read: \(reason)")
      }
      if n == 0 {
        inputEnded = true
        break
      }
      got += n
    }
    pending = Array(prefix[0..<got])
    compression = Compression(magic: pending)
    regularSize = isRegular && compression == nil ? Int(status.st_size) : nil
    if let compression {
      var message = [CChar](repeating: 0, count: 256)
      let codec: softmax_codec
      switch compression {
      case .gzip: codec = softmax_codec_gzip
      case .bzip2: codec = softmax_codec_bzip2
      case .xz: codec = softmax_codec_xz
      }
      decoder = softmax_decoder_open(codec, &message, message.count)
      if decoder == nil {
        closeFile()
        throw DataError(.unsupported, path: path, Self.text(message))
      }
    } else if let other = Self.unsupportedCompression(pending) {
      closeFile()
      throw DataError(
        .unsupported, path: path,
        "the file is \(other); decompress it first (this reader takes plain, gzip, bzip2 and xz files)"
      )
    }
  }

  deinit {
    if let decoder { softmax_decoder_close(decoder) }
    closeFile()
  }

  /// Closes the file once (an initializer that throws after every member
  /// is set runs `deinit` too).
  private func closeFile() {
    if descriptor >= 0 { _ = systemClose(descriptor) }
    descriptor = -1
  }

  /// Compressions recognised only to say so.
  private static func unsupportedCompression(_ prefix: [UInt8]) -> String? {
    if prefix.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return "zstd-compressed" }
    if prefix.starts(with: [0x50, 0x4b, 0x03, 0x04]) { return "a zip archive" }
    if prefix.starts(with: [0x04, 0x22, 0x4d, 0x18]) { return "lz4-compressed" }
    return nil
  }

  private static func text(_ message: [CChar]) -> String {
    let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Reads up to `count` bytes into `buffer`: fewer only at the end of
  /// the data (0 there).
  ///
  /// - Throws: ``DataError``: `.io` for a failed read; `.malformed` for
  ///   corrupt or truncated compressed data, naming the decompressed byte
  ///   it reached.
  func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(DataError) -> Int {
    guard count > 0 else { return 0 }
    guard let decoder else {
      var written = 0
      let available = pending.count - pendingStart
      if available > 0 {
        written = min(available, count)
        pending.withUnsafeBytes {
          if let base = $0.baseAddress {
            buffer.copyMemory(from: base + pendingStart, byteCount: written)
          }
        }
        pendingStart += written
        if pendingStart == pending.count {
          pending = []
          pendingStart = 0
        }
      }
      while written < count && !inputEnded {
        let n = systemRead(descriptor, buffer + written, count - written)
        if n < 0 {
          if errno == EINTR { continue }
          throw DataError(.io, path: path, "cannot read: \(String(cString: strerror(errno)))")
        }
        if n == 0 { inputEnded = true } else { written += n }
        // A plain read returns what is there; do not wait on a pipe.
        if written > 0 { break }
      }
      offset += written
      return written
    }
    var produced = 0
    var needsInput = pendingStart == pending.count
    while produced < count && !decodingEnded {
      if needsInput && !inputEnded { try fillInput() }
      var used = 0
      var made = 0
      var message = [CChar](repeating: 0, count: 256)
      let result = pending.withUnsafeBufferPointer { input in
        softmax_decoder_step(
          decoder, input.baseAddress.map { $0 + pendingStart }, input.count - pendingStart,
          inputEnded ? 1 : 0, &used, buffer.assumingMemoryBound(to: UInt8.self) + produced,
          count - produced, &made, &message, message.count)
      }
      pendingStart += used
      produced += made
      // No progress: the decoder needs more input than it holds.
      needsInput = used == 0 && made == 0
      switch result {
      case softmax_decode_end:
        decodingEnded = true
      case softmax_decode_more:
        if used == 0 && made == 0 && inputEnded { decodingEnded = true }
      default:
        throw DataError(
          result == softmax_decode_corrupt ? .malformed : .unsupported, path: path,
          "\(Self.text(message)), after \(offset + produced) bytes of decompressed data")
      }
    }
    offset += produced
    return produced
  }

  /// Replaces the consumed compressed input with the next 64 KiB.
  private func fillInput() throws(DataError) {
    if pendingStart > 0 {
      pending.removeFirst(pendingStart)
      pendingStart = 0
    }
    let old = pending.count
    pending += [UInt8](repeating: 0, count: 1 << 16)
    var got = 0
    while got == 0 {
      let n = pending.withUnsafeMutableBytes {
        systemRead(descriptor, $0.baseAddress.map { $0 + old }, 1 << 16)
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw DataError(.io, path: path, "cannot read: \(String(cString: strerror(errno)))")
      }
      if n == 0 {
        inputEnded = true
        break
      }
      got = n
    }
    pending.removeLast((1 << 16) - got)
  }
}

private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }

private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int)
  -> Int
{
  read(descriptor, buffer, count)
}
