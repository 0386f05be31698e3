//===--- MPICommunicator.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
public import SoftmaxRegression
import Synchronization
import _SoftmaxMPI

/// An error of an MPI call: its name and MPI's text for its code.
public struct MPIError: Error, CustomStringConvertible, Sendable {
  /// The call that failed.
  public var call: String
  /// MPI's error code.
  public var code: Int32
  /// MPI's text for it.
  public var text: String

  /// "MPI_Allreduce failed: <MPI's text> (code N)".
  public var description: String { "\(call) failed: \(text) (code \(code))" }

  init(_ call: String, _ code: Int32) {
    self.call = call
    self.code = code
    var buffer = [CChar](repeating: 0, count: 512)
    softmax_mpi_error_text(code, &buffer, Int32(buffer.count))
    self.text = String(
      decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// MPI's `MPI_COMM_WORLD` as a ``Communicator``: the processes `mpirun`
/// started, each calling the collectives from one thread.
///
/// A collective that has not finished after `timeout` seconds (a member
/// stopped, or hangs) ends this process with a message naming its rank,
/// and `mpirun` then stops the job: no process waits forever. A member that dies is
/// reported by `mpirun` itself, which stops the others.
public struct MPICommunicator: Communicator {
  /// This process's rank in `MPI_COMM_WORLD`.
  public let rank: Int
  /// The number of processes.
  public let size: Int
  private let watchdog: Watchdog?

  /// Initializes MPI (once per process) and watches every collective for
  /// `timeout` seconds (`nil`: no limit).
  ///
  /// - Throws: ``MPIError`` when MPI cannot start.
  public static func initialize(timeout: Double?) throws(MPIError) -> MPICommunicator {
    var status = softmax_mpi_init()
    guard status == 0 else { throw MPIError("MPI_Init_thread", status) }
    var rank: Int32 = 0
    var size: Int32 = 0
    status = softmax_mpi_rank(&rank)
    guard status == 0 else { throw MPIError("MPI_Comm_rank", status) }
    status = softmax_mpi_size(&size)
    guard status == 0 else { throw MPIError("MPI_Comm_size", status) }
    return MPICommunicator(
      rank: Int(rank), size: Int(size),
      watchdog: timeout.map { Watchdog(rank: Int(rank), timeout: $0) })
  }

  /// Ends MPI (every process, after its last collective).
  public static func finalize() { _ = softmax_mpi_finalize() }

  /// Stops every process of the job with exit code `code`.
  public static func abort(code: Int32) -> Never {
    softmax_mpi_abort(code)
    exit(code)
  }

  /// `MPI_Allreduce` with `MPI_SUM` of `MPI_INT64_T`, in place.
  public func allReduceSum(_ values: inout [Int64]) throws {
    try watched("MPI_Allreduce") {
      try values.withUnsafeMutableBufferPointer { buffer throws in
        try Self.inPieces(buffer.count) { start, count in
          softmax_mpi_allreduce_sum_int64(buffer.baseAddress.map { $0 + start }, count)
        }
      }
    }
  }

  /// `MPI_Allreduce` with `MPI_MAX` of `MPI_DOUBLE`, in place.
  public func allReduceMax(_ values: inout [Double]) throws {
    try watched("MPI_Allreduce") {
      try values.withUnsafeMutableBufferPointer { buffer throws in
        try Self.inPieces(buffer.count) { start, count in
          softmax_mpi_allreduce_max_double(buffer.baseAddress.map { $0 + start }, count)
        }
      }
    }
  }

  /// Calls `call` on pieces of at most 2^30 elements (MPI counts are
  /// `int`), throwing its first error.
  private static func inPieces(_ total: Int, _ call: (Int, Int32) -> Int32) throws {
    var start = 0
    repeat {
      let count = min(total - start, 1 << 30)
      let status = call(start, Int32(count))
      guard status == 0 else { throw MPIError("MPI_Allreduce", status) }
      start += count
    } while start < total
  }

  private func watched(_ name: String, _ body: () throws -> Void) throws {
    watchdog?.begin(name)
    defer { watchdog?.end() }
    try body()
  }
}

/// Aborts the job when a collective runs longer than its timeout.
final class Watchdog: Sendable {
  let rank: Int
  let timeout: Double
  /// When the running collective started (uptime nanoseconds), 0 for none.
  private let started = Atomic<UInt64>(0)

  init(rank: Int, timeout: Double) {
    self.rank = rank
    self.timeout = timeout
    let thread = Thread { [self] in self.watch() }
    thread.stackSize = 1 << 16
    thread.start()
  }

  func begin(_ name: String) {
    started.store(max(1, DispatchTime.now().uptimeNanoseconds), ordering: .relaxed)
  }

  func end() { started.store(0, ordering: .relaxed) }

  private func watch() {
    while true {
      usleep(200_000)
      let since = started.load(ordering: .relaxed)
      guard since != 0 else { continue }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds &- since) / 1e9
      if seconds > timeout {
        FileHandle.standardError.write(
          Data(
            "softmax-mpi: rank \(rank): a collective operation has waited \(Int(seconds)) s, more than --timeout \(timeout): another rank stopped or hangs; aborting the job\n"
              .utf8))
        // Not MPI_Abort: MPI is called from the main thread only. A rank
        // that exits without MPI_Finalize makes mpirun stop the job.
        _exit(3)
      }
    }
  }
}
