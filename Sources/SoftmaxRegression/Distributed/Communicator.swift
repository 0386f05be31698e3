//===--- Communicator.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The processes that train one model together, each on its share of the
/// rows (MPI's communicator): collective operations that every member
/// calls, in the same order, with arrays of the same length.
///
/// Training sends only exact reductions through it — sums of integers and
/// maxima — so the result does not depend on how the members combine them,
/// nor on how many there are. The package's `SoftmaxMPI` module (built with
/// `SOFTMAX_MPI=1`) provides one over Open MPI; a conformer over threads or
/// any other transport works the same.
public protocol Communicator: Sendable {
  /// This member's index, in `0..<size`.
  var rank: Int { get }
  /// The number of members.
  var size: Int { get }

  /// Replaces `values` with the element-wise sum over the members
  /// (wrapping on overflow; training keeps every sum far inside `Int64`).
  func allReduceSum(_ values: inout [Int64]) throws

  /// Replaces `values` with the element-wise maximum over the members.
  func allReduceMax(_ values: inout [Double]) throws
}

extension Communicator {
  /// The sum of one integer over the members.
  func sum(_ value: Int) throws -> Int {
    var values = [Int64(value)]
    try allReduceSum(&values)
    return Int(values[0])
  }

  /// Throws `error` on the members that met one and a
  /// ``TrainingError/Code/unreadableData`` naming the lowest failing rank on
  /// the others, when any member failed: a collective check (every member
  /// calls it), so that no member waits for one that stopped.
  public func agree(_ error: TrainingError?) throws(TrainingError) {
    var flags = [Double](repeating: -1, count: 1)
    if error != nil { flags[0] = Double(size - rank) }
    do {
      try allReduceMax(&flags)
    } catch {
      throw TrainingError(.unreadableData, "rank \(rank): a collective operation failed: \(error)")
    }
    if let error { throw error }
    if flags[0] > 0 {
      throw TrainingError(
        .unreadableData,
        "rank \(size - Int(flags[0])) stopped with an error (its own message says why)"
      )
    }
  }
}
