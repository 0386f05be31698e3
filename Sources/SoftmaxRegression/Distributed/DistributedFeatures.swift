//===--- DistributedFeatures.swift ----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// One member's share of rows split between the members of a
/// ``Communicator``: the layout `fit(distributed:)` trains on. Every sum
/// over rows is an exact reduction (``FixedPointSums``, maxima), so what
/// the members compute together does not depend on how many they are.
struct DistributedFeatures<Source: RowStream>: Sendable {
  typealias Scalar = Source.Scalar

  /// This member's rows, streamed (or in memory: a matrix is a stream).
  let local: StreamedFeatures<Source>
  /// The members.
  let communicator: any Communicator
  /// The rows of all members.
  let totalRows: Int
  /// The data's index of this member's first row.
  let firstRow: Int

  /// Column `c`'s largest `|x|` over every member's rows.
  func largestMagnitudes(standardization: Standardization?) throws(TrainingError) -> [Double] {
    let d = local.columns
    var largest = [Double](repeating: 0, count: d)
    let mean = standardization?.mean ?? []
    let inverseScale = standardization?.inverseScale ?? []
    try largest.withUnsafeMutableBufferPointer { largest throws(TrainingError) in
      try mean.withUnsafeBufferPointer { mean throws(TrainingError) in
        try inverseScale.withUnsafeBufferPointer { inverseScale throws(TrainingError) in
          try local.forEachRowInDouble { _, x in
            if mean.isEmpty {
              for c in 0..<d { largest[c] = max(largest[c], abs(x[c])) }
            } else {
              for c in 0..<d {
                largest[c] = max(largest[c], abs((x[c] - mean[c]) * inverseScale[c]))
              }
            }
          }
        }
      }
    }
    try collective { () throws in try communicator.allReduceMax(&largest) }
    return largest
  }

  /// Sums over every member's rows of `count` values a row, each row's
  /// values from `row`: in order within each superblock of 4096 rows, then
  /// exactly between superblocks and members (order-free), with the bounds
  /// given.
  func sums(
    bounds: [Double],
    _ row: (_ index: Int, _ x: UnsafeBufferPointer<Double>, _ out: inout [Double]) -> Void
  ) throws(TrainingError) -> [Double] {
    var sums = FixedPointSums(exponents: bounds.map(FixedPointSums.exponent(bounding:)))
    var out = [Double](repeating: 0, count: bounds.count)
    // The rows of a superblock (4096, in order) summed in Double, then put
    // onto the grid: members hold whole superblocks, so each superblock's
    // sum is the same on any member.
    let superblock = SoftmaxClassifier.distributedShareRows
    var running = [Double](repeating: 0, count: bounds.count)
    var held = 0
    func flush() {
      running.withUnsafeBufferPointer { values in
        if let base = values.baseAddress { sums.add(base) }
      }
      held = 0
    }
    let count = bounds.count
    try local.forEachRowInDouble { index, x in
      row(index, x, &out)
      out.withUnsafeBufferPointer { out in
        running.withUnsafeMutableBufferPointer { running in
          if held == 0 {
            for c in 0..<count { running[c] = out[c] }
          } else {
            for c in 0..<count { running[c] += out[c] }
          }
        }
      }
      held += 1
      if held == superblock { flush() }
    }
    if held > 0 { flush() }
    try collective { () throws in try communicator.allReduceSum(&sums.limbs) }
    return sums.values()
  }

  /// Runs a collective operation, naming the rank when it fails.
  func collective(_ body: () throws -> Void) throws(TrainingError) {
    do {
      try body()
    } catch {
      throw TrainingError(
        .unreadableData, "rank \(communicator.rank): a collective operation failed: \(error)")
    }
  }

  /// The bound of a sum of `n` terms of magnitude at most `term`, with room
  /// for rounding; throws when it is beyond `Double`.
  func bound(_ term: Double, what: () -> String) throws(TrainingError) -> Double {
    let value = Double(totalRows) * term * 4
    guard value.isFinite else {
      throw TrainingError(
        .outOfRange,
        "\(what()): too large to sum across processes (the sum could overflow a Double); rescale it"
      )
    }
    return value
  }
}

extension DistributedFeatures: TrainingFeatures {
  typealias Objective = DistributedSoftmaxRegressionObjective<Source>

  /// Every member's rows (what the model's record counts).
  var rows: Int { totalRows }
  var columns: Int { local.columns }
  static var workspaceVectors: Int { 0 }

  /// Not used: `fit(distributed:)` refuses validation splits.
  func selectingRows(_ indices: [Int]) -> DistributedFeatures {
    DistributedFeatures(
      local: local.selectingRows(indices), communicator: communicator, totalRows: totalRows,
      firstRow: firstRow)
  }

  /// The local check, then agreement: every member throws when one found
  /// a value that is not finite (that one with its row, local to its
  /// share).
  func checkFinite(featureNames: [String]?) throws(TrainingError) {
    var error: TrainingError? = nil
    do {
      try local.checkFinite(featureNames: featureNames)
    } catch let failure {
      error = TrainingError(
        failure.code, "rank \(communicator.rank): \(failure.message)", location: failure.location)
    }
    try communicator.agree(error)
  }

  /// The mean and population standard deviation of every column over
  /// every member's rows, by exact sums (sample weights not supported).
  func fittedStandardization(sampleWeights: [Double]?) throws(TrainingError) -> Standardization {
    let d = columns
    let largest = try largestMagnitudes(standardization: nil)
    let n = Double(totalRows)
    var bounds: [Double] = []
    for c in 0..<d { bounds.append(try bound(largest[c]) { "feature \(c)" }) }
    let totals = try sums(bounds: bounds) { _, x, out in
      out.withUnsafeMutableBufferPointer { out in
        for c in 0..<d { out[c] = x[c] }
      }
    }
    let mean = totals.map { $0 / n }
    var squareBounds: [Double] = []
    for c in 0..<d {
      let spread = 2 * largest[c]
      squareBounds.append(try bound(spread * spread) { "feature \(c) (squared)" })
    }
    let squares = try mean.withUnsafeBufferPointer { mean throws(TrainingError) in
      try sums(bounds: squareBounds) { _, x, out in
        out.withUnsafeMutableBufferPointer { out in
          for c in 0..<d {
            let deviation = x[c] - mean[c]
            out[c] = deviation * deviation
          }
        }
      }
    }
    let scale = squares.map { sum -> Double in
      let deviation = (sum / n).squareRoot()
      return deviation >= Standardization.smallestScale && deviation.isFinite ? deviation : 1
    }
    return Standardization(mean: mean, scale: scale)
  }

  /// A hash of every member's rows and labels that does not depend on how
  /// they are split: each superblock of 4096 rows is hashed in order (its
  /// values' bits and labels), the hash mixed with the superblock's index
  /// in the data, and the members' sums of those added (wrapping) in one
  /// all-reduce. A checkpoint resumes with any number of members.
  func fingerprint(labels: [Int], sampleWeights: [Double]?) throws(TrainingError)
    -> DataFingerprint
  {
    let superblock = SoftmaxClassifier.distributedShareRows
    func mix(_ h: inout UInt64, _ word: UInt64) {
      h = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
      h ^= h >> 29
    }
    var total: UInt64 = 0
    var h: UInt64 = 0x6A09_E667_F3BC_C908
    var current = -1
    func close() {
      guard current >= 0 else { return }
      var finished = h
      mix(&finished, UInt64(current))
      total &+= finished
    }
    try local.forEachRowInDouble { index, row in
      let global = firstRow + index
      if global / superblock != current {
        close()
        current = global / superblock
        h = 0x6A09_E667_F3BC_C908
      }
      for value in row { mix(&h, value.bitPattern) }
      mix(&h, UInt64(bitPattern: Int64(labels[index])))
    }
    close()
    var sums = [Int64(bitPattern: total)]
    try collective { () throws in try communicator.allReduceSum(&sums) }
    return DataFingerprint(
      rows: totalRows, features: columns,
      hash: "distributed-" + String(UInt64(bitPattern: sums[0]), radix: 16))
  }

  func networkFeatures() throws(TrainingError) -> NetworkFeatures<Scalar> {
    throw TrainingError(
      .invalidOption, "distributed training trains softmax regression (no hidden layers)")
  }

  func objective(
    labels: [Int], classCount: Int, sampleWeights: [Double]?, classWeights: [Double]?,
    l2: Double, l1: Double, standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) -> DistributedSoftmaxRegressionObjective<Source> {
    try DistributedSoftmaxRegressionObjective(
      features: self, labels: labels, classCount: classCount, classWeights: classWeights,
      l2: l2, l1: l1, standardization: standardization)
  }

  func checkReads() throws(TrainingError) {
    try communicator.agree(local.failure.first)
  }
}
