//===--- AtomicFile.swift -------------------------------------*- swift -*-===//
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

/// Files written whole or not at all, and read whole.
///
/// ``write(_:to:)`` writes to a temporary file beside the target (same
/// directory, so the same file system), flushes it to the disk (`fsync`),
/// renames it over the target (atomic on POSIX file systems), then flushes
/// the directory so that the rename itself survives a power cut. A reader,
/// a crash or a full disk at any moment leaves either the old file or the
/// new one, never a mixture; on failure the temporary file is removed.
public enum AtomicFile {
  /// Replaces (or creates) the file at `path` with `bytes`, atomically.
  ///
  /// A new file gets mode `0666` less the process's umask (as `open`
  /// gives); a replaced file keeps its mode.
  ///
  /// - Throws: ``DataError`` (`.io`) naming the path and the system's
  ///   reason; the file at `path` is then as it was.
  public static func write(_ bytes: [UInt8], to path: String) throws(DataError) {
    let (directory, name) = split(path)
    var template = Array("\(directory)/.\(name).tmp-XXXXXX".utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
      guard let base = buffer.baseAddress else { return -1 }
      return mkstemp(base)
    }
    guard descriptor >= 0 else {
      throw failure(path, "cannot create a temporary file in \(directory)")
    }
    let temporary = String(
      decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var closed = false
    do throws(DataError) {
      try setMode(descriptor, replacing: path)
      try writeAll(bytes, to: descriptor, path: path)
      guard fsync(descriptor) == 0 else { throw failure(path, "cannot flush to the disk") }
      closed = true
      guard close(descriptor) == 0 else { throw failure(path, "cannot close") }
      guard rename(temporary, path) == 0 else { throw failure(path, "cannot replace") }
    } catch {
      if !closed { _ = close(descriptor) }
      _ = unlink(temporary)
      throw error
    }
    // The rename is durable once the directory is flushed; some file
    // systems cannot flush a directory, which is not worth failing for.
    let directoryDescriptor = open(directory, O_RDONLY)
    if directoryDescriptor >= 0 {
      _ = fsync(directoryDescriptor)
      _ = close(directoryDescriptor)
    }
  }

  /// The whole content of the file at `path`.
  ///
  /// - Throws: ``DataError`` (`.io`) naming the path and the reason.
  public static func read(_ path: String) throws(DataError) -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw failure(path, "cannot open") }
    defer { _ = close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw failure(path, "cannot read")
      }
      if count == 0 { return bytes }
      bytes.append(contentsOf: chunk[0..<count])
    }
  }

  /// Throws unless ``write(_:to:)`` could create or replace `path`: its
  /// directory exists and is writable, and `path` is not a directory. A
  /// command checks its outputs before hours of work, not after.
  ///
  /// - Throws: ``DataError`` (`.io`) saying which of these fails.
  public static func checkWritable(_ path: String) throws(DataError) {
    let (directory, _) = split(path)
    var status = stat()
    guard stat(directory, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
      throw DataError(.io, path: path, "cannot write: the directory \(directory) does not exist")
    }
    guard access(directory, W_OK) == 0 else {
      throw DataError(.io, path: path, "cannot write: the directory \(directory) is not writable")
    }
    if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
      throw DataError(.io, path: path, "cannot write: it is a directory")
    }
  }

  /// Whether something exists at `path`.
  public static func exists(_ path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0
  }

  /// The directory (`.` for a bare name) and the last component.
  private static func split(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = String(path[..<slash])
    return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
  }

  private static func setMode(_ descriptor: Int32, replacing path: String) throws(DataError) {
    var status = stat()
    let mode: mode_t
    if stat(path, &status) == 0 {
      mode = status.st_mode & 0o7777
    } else {
      let mask = umask(0o022)
      _ = umask(mask)
      mode = 0o666 & ~mask
    }
    guard fchmod(descriptor, mode) == 0 else { throw failure(path, "cannot set the file mode") }
  }

  private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String)
    throws(DataError)
  {
    var offset = 0
    #if DEBUG
    // Fault injection for the crash-safety tests (debug builds only):
    // SOFTMAX_TEST_SLOW_WRITE=N writes 4 KiB at a time with N µs
    // between, so that a SIGKILL can land anywhere inside a write.
    let pause = getenv("SOFTMAX_TEST_SLOW_WRITE").flatMap { UInt32(String(cString: $0)) }
    let chunk = pause == nil ? Int.max : 4096
    #else
    let chunk = Int.max
    #endif
    while offset < bytes.count {
      #if DEBUG
      if let pause, offset > 0 { usleep(pause) }
      #endif
      let written = bytes.withUnsafeBytes { raw in
        systemWrite(
          descriptor, raw.baseAddress.map { $0 + offset }, min(raw.count - offset, chunk))
      }
      if written < 0 {
        if errno == EINTR { continue }
        throw failure(path, "cannot write")
      }
      offset += written
    }
  }

  /// An `.io` error with the system's reason for the last failure.
  private static func failure(_ path: String, _ what: String) -> DataError {
    let reason = String(cString: strerror(errno))
    return DataError(.io, path: path, "\(what): \(reason)")
  }
}

// The system calls, by names the methods above do not shadow.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int)
  -> Int
{
  read(descriptor, buffer, count)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
  write(descriptor, buffer, count)
}
