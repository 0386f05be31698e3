//===--- Terminal.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard error, unbuffered, for progress and messages.
enum StandardError {
  static func write(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { raw in
        Glibc.write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
      }
      if written <= 0 { return }
      offset += written
    }
  }

  static var isTerminal: Bool { isatty(2) == 1 }
}

/// A failure the command reports as `softmax: message` with exit code 1
/// (2 for usage errors, as argument-parser's own).
struct CommandFailure: Error, CustomStringConvertible {
  var description: String
  var exitCode: Int32 = 1

  init(_ description: String, exitCode: Int32 = 1) {
    self.description = description
    self.exitCode = exitCode
  }

  init(_ error: DataError) {
    self.init(error.description)
  }

  /// A model or training problem about `path`.
  init(_ error: TrainingError, path: String? = nil) {
    self.init(path.map { "\($0): \(error.message)" } ?? error.message)
  }
}

/// Runs `body`, turning library errors into `softmax: ...` on stderr and
/// an exit code, the way every command ends.
func reportingFailures(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let failure as CommandFailure {
    StandardError.write("softmax: \(failure.description)\n")
    throw ExitCode(failure.exitCode)
  } catch let error as DataError {
    StandardError.write("softmax: \(error.description)\(hint(for: error))\n")
    throw ExitCode(1)
  } catch let error as TrainingError {
    StandardError.write("softmax: \(error.message)\n")
    throw ExitCode(1)
  }
}

/// What to do about a data error, in the command's own terms.
/// (`--missing` applies to CSV only.)
func hint(for error: DataError) -> String {
  (error.code == .missingValue || error.code == .notANumber) && DataFormat(path: error.path) == .csv
    ? " (--missing skip|zero|mean accepts it)" : ""
}

/// Ctrl-C. Before training has done its first iteration (while the data
/// loads, while training sets up), it ends the process at once with exit
/// code 130: nothing has been written, and every existing file stays as
/// it was. After that, the first Ctrl-C asks the optimizer to stop after
/// its current iteration (the model so far is kept and saved); the second
/// ends the process at once.
enum Interrupt {
  nonisolated(unsafe) static var requested: sig_atomic_t = 0
  nonisolated(unsafe) static var trainingStarted: sig_atomic_t = 0

  static func install() {
    requested = 0
    trainingStarted = 0
    // A parent may have left SIGINT blocked (a test runner, a job
    // control wrapper): unblock it, or Ctrl-C would stay pending forever.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    signal(SIGINT) { _ in
      // Only async-signal-safe calls here: write(2), _exit(2), signal(2).
      if Interrupt.trainingStarted == 0 {
        let message: StaticString =
          "\nsoftmax: interrupted before training began; nothing written\n"
        _ = Glibc.write(2, message.utf8Start, message.utf8CodeUnitCount)
        _exit(130)
      }
      Interrupt.requested = 1
      signal(SIGINT, SIG_DFL)
    }
  }

  /// From now on Ctrl-C stops training gracefully (called when the first
  /// iteration is done).
  static func markTrainingStarted() { trainingStarted = 1 }

  static var wasRequested: Bool { requested != 0 }
}

/// The largest model or checkpoint file read: an eighth of the memory
/// limit (decoding JSON takes several times its size).
var largestJSONFile: Int { max(SoftmaxConfiguration.memoryLimit / 8, 1 << 20) }

/// Reads a model file (a stream, such as `<(cat model.json)`, too; a
/// binary file or `/dev/zero` is refused at its first NUL byte).
func loadModel(_ path: String) throws -> SoftmaxClassifier {
  let bytes = try AtomicFile.readText(path, maximumBytes: largestJSONFile)
  do {
    return try ModelFile.decode(bytes)
  } catch {
    throw CommandFailure("\(path): \(error.message)")
  }
}

/// A file a command reads or writes, with how its messages name it
/// (`--model`, `the training data`).
struct NamedPath {
  var role: String
  var path: String
}

/// Refuses, before any work, an output that is the same file as an input
/// or as another output (same device and inode, through links; or, for
/// files not there yet, the same resolved path): writing it would replace
/// a file the user needs, or one output would replace the other. Devices
/// and FIFOs (`/dev/null`, `/dev/stdout`) are written in place and may be
/// shared. Also checks that every output can be written.
///
/// - Throws: a usage error (exit code 2) naming both roles and the path.
func checkOutputs(_ outputs: [NamedPath], against inputs: [NamedPath]) throws {
  for (index, output) in outputs.enumerated() where output.path != "-" {
    try AtomicFile.checkWritable(output.path)
    guard AtomicFile.isRegularOrAbsent(output.path) else { continue }
    for input in inputs where AtomicFile.sameFile(output.path, input.path) {
      throw CommandFailure(
        "\(output.role) \(output.path) is \(input.role)\(input.path == output.path ? "" : " (\(input.path))"): writing it would replace it; choose another path",
        exitCode: 2)
    }
    for other in outputs[..<index]
    where other.path != "-" && AtomicFile.sameFile(output.path, other.path) {
      throw CommandFailure(
        "\(output.role) and \(other.role) are the same file (\(output.path)): one would replace the other; give each its own path",
        exitCode: 2)
    }
  }
}

/// Seconds since an arbitrary start, monotonic.
func monotonicSeconds() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Lines of a file or of standard input, read as they come (a pipe that
/// never ends is read line by line), each without its newline. A NUL byte
/// (binary data) and a line over 64 MiB are errors naming the line.
struct LineReader {
  let name: String
  private let descriptor: Int32
  private var buffer: [UInt8] = []
  private var start = 0
  private var atEnd = false
  private var line = 0
  static let longestLine = 64 << 20

  /// Standard input when `path` is `nil`.
  init(path: String?) throws {
    name = path ?? "<stdin>"
    if let path {
      descriptor = open(path, O_RDONLY)
      guard descriptor >= 0 else {
        throw CommandFailure("\(path): cannot open: \(String(cString: strerror(errno)))")
      }
      var status = stat()
      if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
        throw CommandFailure("\(path): is a directory")
      }
    } else {
      descriptor = 0
    }
  }

  /// The next line, or `nil` at the end.
  mutating func next() throws -> [UInt8]? {
    while true {
      if let newline = buffer[start...].firstIndex(of: 0x0A) {
        let bytes = Array(buffer[start..<newline])
        start = newline + 1
        line += 1
        return bytes
      }
      if atEnd {
        guard start < buffer.count else { return nil }
        let bytes = Array(buffer[start...])
        start = buffer.count
        line += 1
        return bytes
      }
      if start > 0 {
        buffer.removeFirst(start)
        start = 0
      }
      guard buffer.count <= Self.longestLine else {
        throw CommandFailure("\(name):\(line + 1): a line longer than 64 MiB")
      }
      var chunk = [UInt8](repeating: 0, count: 1 << 16)
      let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if got < 0 {
        if errno == EINTR { continue }
        throw CommandFailure("\(name): cannot read: \(String(cString: strerror(errno)))")
      }
      if got == 0 {
        atEnd = true
        continue
      }
      if let nul = chunk[0..<got].firstIndex(of: 0) {
        let before =
          buffer[start...].filter { $0 == 0x0A }.count
          + chunk[0..<nul].filter { $0 == 0x0A }.count
        throw CommandFailure(
          "\(name):\(line + before + 1): a NUL byte: this is not text (binary data?)")
      }
      buffer.append(contentsOf: chunk[0..<got])
    }
  }
}

/// Standard output through a buffer, flushed at 64 KiB and at the end.
struct BufferedOutput {
  private var pending: [UInt8] = []

  mutating func write(_ text: String) {
    pending.append(contentsOf: text.utf8)
    if pending.count >= 1 << 16 { flush() }
  }

  mutating func flush() {
    var offset = 0
    while offset < pending.count {
      let written = pending.withUnsafeBytes { raw in
        Glibc.write(1, raw.baseAddress.map { $0 + offset }, raw.count - offset)
      }
      if written < 0 && errno == EINTR { continue }
      if written <= 0 { break }
      offset += written
    }
    pending.removeAll(keepingCapacity: true)
  }
}
