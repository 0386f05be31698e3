//===--- Terminal.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
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

/// Ctrl-C while training: the first asks the optimizer to stop after its
/// current iteration (the model so far is kept and saved); the second
/// ends the process at once.
enum Interrupt {
  nonisolated(unsafe) static var requested: sig_atomic_t = 0

  static func install() {
    // A parent may have left SIGINT blocked (a test runner, a job
    // control wrapper): unblock it, or Ctrl-C would stay pending forever.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    signal(SIGINT) { _ in
      Interrupt.requested = 1
      signal(SIGINT, SIG_DFL)
    }
  }

  static var wasRequested: Bool { requested != 0 }
}

/// Reads a model file.
func loadModel(_ path: String) throws -> SoftmaxClassifier {
  let bytes = try AtomicFile.read(path)
  do {
    return try ModelFile.decode(bytes)
  } catch {
    throw CommandFailure("\(path): \(error.message)")
  }
}

/// `seconds` as `1.2s`, `3m04s`.
func formatDuration(_ seconds: Double) -> String {
  if !seconds.isFinite { return "?" }
  if seconds < 10 { return String(fixed: seconds, digits: 2) + "s" }
  if seconds < 60 { return String(fixed: seconds, digits: 1) + "s" }
  let whole = Int(seconds.rounded())
  let minutes = whole / 60
  let rest = whole % 60
  return "\(minutes)m\(rest < 10 ? "0" : "")\(rest)s"
}

extension String {
  /// `value` with `digits` decimals (no Foundation).
  init(fixed value: Double, digits: Int) {
    guard value.isFinite else {
      self = "\(value)"
      return
    }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let integer = Int(scaled / scale)
    var fraction = String(Int(scaled - Double(integer) * scale))
    while fraction.count < digits { fraction = "0" + fraction }
    let sign = value < 0 && scaled != 0 ? "-" : ""
    self = digits > 0 ? "\(sign)\(integer).\(fraction)" : "\(sign)\(integer)"
  }

  /// Left-padded to `width`.
  func padded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }

  /// Right-padded to `width`.
  func rightPadded(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}

/// Seconds since an arbitrary start, monotonic.
func monotonicSeconds() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
