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
///
/// A path that is a symbolic link writes the file it points to (the link
/// stays a link, as `--model current.json` pointing at a versioned model
/// expects). A path that is a character device or a FIFO (`/dev/null`,
/// `/dev/stdout` on a terminal or a pipe) is written directly, as it
/// cannot be replaced: a device node is never replaced by a regular file.
public enum AtomicFile {
  /// Replaces (or creates) the file at `path` with `bytes`, atomically;
  /// see the type's notes for links and devices.
  ///
  /// A new file gets mode `0666` less the process's umask (as `open`
  /// gives); a replaced file keeps its mode.
  ///
  /// - Throws: ``DataError`` (`.io`) naming the path and the system's
  ///   reason; the file at `path` is then as it was.
  public static func write(_ bytes: [UInt8], to path: String) throws(DataError) {
    // What the path names in the end (through every link, /dev/stdout's
    // magic ones too): a device, FIFO or socket is written in place.
    var status = stat()
    if stat(path, &status) == 0 {
      switch status.st_mode & S_IFMT {
      case S_IFREG: break
      case S_IFDIR: throw DataError(.io, path: path, "cannot write: it is a directory")
      case S_IFCHR, S_IFIFO, S_IFSOCK:
        try writeDirectly(bytes, to: path, path: path)
        return
      default:
        throw DataError(.io, path: path, "cannot write: it is not a regular file")
      }
    }
    try replace(try resolvingLinks(path), with: bytes, path: path)
  }

  /// Replaces (or creates) the file at `path` with the bytes `produce`
  /// appends, piece by piece, atomically: a file larger than memory is
  /// written whole or not at all. When `produce` throws, the file at `path`
  /// is as it was, and its error is thrown. Pieces under 1 MiB are
  /// gathered and written together (no system call for each small one).
  ///
  /// - Throws: ``DataError`` (`.io`) as ``write(_:to:)``, or what
  ///   `produce` throws.
  public static func write(
    to path: String,
    _ produce: (_ append: ([UInt8]) throws(DataError) -> Void) throws(DataError) -> Void
  ) throws(DataError) {
    var status = stat()
    if stat(path, &status) == 0 {
      switch status.st_mode & S_IFMT {
      case S_IFREG: break
      case S_IFDIR: throw DataError(.io, path: path, "cannot write: it is a directory")
      case S_IFCHR, S_IFIFO, S_IFSOCK:
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path, "cannot open for writing") }
        defer { _ = close(descriptor) }
        try writeGathered(to: descriptor, path: path, produce)
        return
      default:
        throw DataError(.io, path: path, "cannot write: it is not a regular file")
      }
    }
    try replace(try resolvingLinks(path), path: path) { descriptor throws(DataError) in
      try writeGathered(to: descriptor, path: path, produce)
    }
  }

  /// The pieces `produce` appends, written to `descriptor` in order: those
  /// under 1 MiB gathered until 1 MiB is pending, larger ones as they come.
  private static func writeGathered(
    to descriptor: Int32, path: String,
    _ produce: (_ append: ([UInt8]) throws(DataError) -> Void) throws(DataError) -> Void
  ) throws(DataError) {
    let gathered = 1 << 20
    var pending: [UInt8] = []
    try produce { bytes throws(DataError) in
      if pending.count + bytes.count <= gathered {
        pending += bytes
        return
      }
      if !pending.isEmpty {
        try writeAll(pending, to: descriptor, path: path)
        pending.removeAll(keepingCapacity: true)
      }
      if bytes.count >= gathered {
        try writeAll(bytes, to: descriptor, path: path)
      } else {
        pending += bytes
      }
    }
    if !pending.isEmpty { try writeAll(pending, to: descriptor, path: path) }
  }

  /// The atomic replacement of the regular (or absent) file `target`.
  private static func replace(_ target: String, with bytes: [UInt8], path: String)
    throws(DataError)
  {
    try replace(target, path: path) { descriptor throws(DataError) in
      try writeAll(bytes, to: descriptor, path: path)
    }
  }

  /// The atomic replacement of the regular (or absent) file `target` with
  /// what `fill` writes to a temporary file's descriptor.
  private static func replace(
    _ target: String, path: String, fill: (Int32) throws(DataError) -> Void
  ) throws(DataError) {
    let (directory, name) = split(target)
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
      try setMode(descriptor, replacing: target, path: path)
      try fill(descriptor)
      guard fsync(descriptor) == 0 else { throw failure(path, "cannot flush to the disk") }
      closed = true
      guard close(descriptor) == 0 else { throw failure(path, "cannot close") }
      guard rename(temporary, target) == 0 else { throw failure(path, "cannot replace") }
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

  /// Writes a device or FIFO in place (it cannot be replaced).
  private static func writeDirectly(_ bytes: [UInt8], to target: String, path: String)
    throws(DataError)
  {
    let descriptor = open(target, O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw failure(path, "cannot open for writing") }
    defer { _ = close(descriptor) }
    try writeAll(bytes, to: descriptor, path: path)
  }

  /// The path a write to `path` writes: `path` itself, or, if it is a
  /// symbolic link, the file it points to (through every link on the way;
  /// relative links from the link's directory). The file need not exist.
  ///
  /// - Throws: ``DataError`` (`.io`) for a loop of links.
  public static func resolvingLinks(_ path: String) throws(DataError) -> String {
    var current = path
    for _ in 0..<40 {
      var status = stat()
      guard lstat(current, &status) == 0, (status.st_mode & S_IFMT) == S_IFLNK else {
        return current
      }
      var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
      let count = readlink(current, &buffer, buffer.count - 1)
      guard count > 0 else { throw failure(path, "cannot read the symbolic link") }
      let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      current = target.hasPrefix("/") ? target : split(current).directory + "/" + target
    }
    throw DataError(.io, path: path, "cannot write: too many symbolic links (a loop?)")
  }

  /// Whether `a` and `b` name the same file: the same device and inode
  /// when both exist (through links, hard links included), the same
  /// resolved directory and name when neither does (two outputs that
  /// would create one file).
  public static func sameFile(_ a: String, _ b: String) -> Bool {
    var statusA = stat()
    var statusB = stat()
    let existsA = stat(a, &statusA) == 0
    let existsB = stat(b, &statusB) == 0
    if existsA && existsB {
      return statusA.st_dev == statusB.st_dev && statusA.st_ino == statusB.st_ino
    }
    guard !existsA && !existsB, let pathA = canonicalNewPath(a), let pathB = canonicalNewPath(b)
    else { return false }
    return pathA == pathB
  }

  /// Whether `path` is a regular file, or does not exist yet (a write
  /// creates a regular file): the outputs whose clashes lose data.
  public static func isRegularOrAbsent(_ path: String) -> Bool {
    var status = stat()
    guard stat(path, &status) == 0 else { return true }
    return (status.st_mode & S_IFMT) == S_IFREG
  }

  /// The absolute path a write to the not-yet-existing `path` creates:
  /// its links resolved, its directory made canonical by `realpath`.
  private static func canonicalNewPath(_ path: String) -> String? {
    guard let target = try? resolvingLinks(path) else { return nil }
    let (directory, name) = split(target)
    guard let resolved = realpath(directory, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved) + "/" + name
  }

  /// The whole content of the file at `path`.
  ///
  /// A stream (a FIFO, `/dev/stdin`, a character device) is read until it
  /// ends; `maximumBytes` bounds what is read, from a file of any kind
  /// (`/dev/zero` never ends): a regular file larger than it is refused
  /// before reading, a stream when it passes it.
  ///
  /// - Throws: ``DataError`` (`.io`) naming the path and the reason;
  ///   `.unsupported` for a file over `maximumBytes`.
  public static func read(_ path: String, maximumBytes: Int = Int.max) throws(DataError)
    -> [UInt8]
  {
    var reader = try BoundedReader(path: path, maximumBytes: maximumBytes)
    return try reader.readToEnd()
  }

  /// The whole content of the text file at `path` (a model, a checkpoint,
  /// a labels file), read as ``read(_:maximumBytes:)`` does, but stopped
  /// at the first NUL byte, which no text holds: `/dev/zero` or a binary
  /// file is an error after its first block, not after gigabytes.
  ///
  /// - Throws: ``DataError``: `.invalidEncoding` naming the offset of the
  ///   NUL byte; as ``read(_:maximumBytes:)`` otherwise.
  public static func readText(_ path: String, maximumBytes: Int = Int.max) throws(DataError)
    -> [UInt8]
  {
    var reader = try BoundedReader(path: path, maximumBytes: maximumBytes)
    reader.rejectsNUL = true
    return try reader.readToEnd()
  }

  /// Throws unless ``write(_:to:)`` could create or replace `path`: its
  /// directory exists and is writable, and `path` is not a directory (or,
  /// for a device or FIFO, it can be opened for writing). A command
  /// checks its outputs before hours of work, not after.
  ///
  /// - Throws: ``DataError`` (`.io`) saying which of these fails.
  public static func checkWritable(_ path: String) throws(DataError) {
    var status = stat()
    if stat(path, &status) == 0 {
      switch status.st_mode & S_IFMT {
      case S_IFDIR:
        throw DataError(.io, path: path, "cannot write: it is a directory")
      case S_IFCHR, S_IFIFO, S_IFSOCK:
        guard access(path, W_OK) == 0 else {
          throw DataError(.io, path: path, "cannot write: permission denied")
        }
        return
      default:
        break
      }
    }
    let target = try resolvingLinks(path)
    let (directory, _) = split(target)
    guard stat(directory, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
      throw DataError(.io, path: path, "cannot write: the directory \(directory) does not exist")
    }
    guard access(directory, W_OK) == 0 else {
      throw DataError(.io, path: path, "cannot write: the directory \(directory) is not writable")
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

  private static func setMode(_ descriptor: Int32, replacing target: String, path: String)
    throws(DataError)
  {
    var status = stat()
    let mode: mode_t
    if stat(target, &status) == 0 {
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
  static func failure(_ path: String, _ what: String) -> DataError {
    let reason = String(cString: strerror(errno))
    return DataError(.io, path: path, "\(what): \(reason)")
  }
}

// The system calls, by names the methods above do not shadow.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
  write(descriptor, buffer, count)
}
