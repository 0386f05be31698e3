//===--- DistributedSoftmaxRegressionObjective.swift ----------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// ``SoftmaxRegressionObjective`` over rows split between the members of a
/// ``Communicator``: each member computes its blocks of 256 rows with the
/// same kernel, adds each run of 16 blocks (a superblock of 4096 rows) in
/// order, rounds each superblock's sums onto a fixed grid and adds them as
/// integers (``FixedPointSums``); one all-reduce of the integers gives
/// every member the same value and gradient, bit for bit, however many
/// members there are and however the superblocks are split between them
/// (whole superblocks each), for every thread count.
///
/// The grid of each coordinate comes from a bound that every member knows:
/// `4·n·s_max·max|x̃_c|` for a weight of column `c`, `4·n·s_max` for a
/// bias, and for the loss `4·n·s_max·(2·max_j(|b_j| + Σ_c |W_jc|·max|x̃_c|)
/// + log k + 1)` (a row's loss is at most twice its largest logit plus
/// `log k`). Each superblock loses what lies 160 bits below its
/// coordinate's bound.
///
/// Sent per evaluation: `6·(k·(d + 1) + 1)` 64-bit integers from every
/// member (an all-reduce), and nothing else.
struct DistributedSoftmaxRegressionObjective<Source: RowStream>: TrainingObjective {
  typealias T = Source.Scalar

  /// Blocks of 256 rows summed in order, in `Double`, into a superblock
  /// before its sums go onto the grid: members hold whole superblocks
  /// (4096 rows), so a superblock's sums are the same on any member.
  static var superblockBlocks: Int { 16 }

  let features: DistributedFeatures<Source>
  /// This member's labels.
  let labels: [Int]
  let classCount: Int
  /// `Σᵢ sᵢ·c_yᵢ` and the row count over every member.
  let weightTotal: Double
  let l1: Double
  /// The kernel's sums over this member's blocks.
  let blockSum: DenseBlockSum<T>
  /// Every member's largest `|x̃|` per column, and largest row weight.
  let largest: [Double]
  let largestWeight: Double
  /// The columns' weighted squares over every member.
  let columnMoments: ColumnMoments

  var featureCount: Int { features.columns }
  var parameterCount: Int { classCount * (featureCount + 1) }
  /// The data's rows, over every member (minibatches list them so).
  var rowCount: Int { features.totalRows }
  var l1Strength: Double { l1 }
  var l1Count: Int { classCount * featureCount }

  struct Workspace {
    var blocks = DenseBlockSum<T>.Workspace()
    var doubles: [Double] = []
  }

  func makeWorkspace() -> Workspace { Workspace() }

  /// Checks this member's labels and weights, and takes the maxima and
  /// sums every evaluation's bounds and the preconditioner need (three
  /// collective passes).
  init(
    features: DistributedFeatures<Source>, labels: [Int], classCount: Int,
    classWeights: [Double]?, l2: Double, l1: Double, standardization: Standardization?
  ) throws(TrainingError) {
    let d = features.columns
    if classCount >= 1 {
      try WeightedRows.checkMemory(classCount: classCount, featureCount: d, vectors: 4)
    }
    // This member's weights (none without rows: it takes part with none).
    var rowWeights: [Double] = []
    var problem: TrainingError? = nil
    do {
      try WeightedRows.checkPenalties(l2: l2, l1: l1)
      if features.local.rows > 0 {
        rowWeights = try WeightedRows(
          rows: features.local.rows, labels: labels, classCount: classCount, sampleWeights: nil,
          classWeights: classWeights, l2: l2, l1: l1
        ).rowWeights
      }
    } catch {
      problem = TrainingError(
        error.code, "rank \(features.communicator.rank): \(error.message)",
        location: error.location)
    }
    try features.communicator.agree(problem)
    if let standardization, let problem = standardization.problem(columns: d) {
      throw TrainingError(.shapeMismatch, problem)
    }
    self.features = features
    self.labels = labels
    self.classCount = classCount
    self.l1 = l1
    self.blockSum = DenseBlockSum(
      classCount: classCount, featureCount: d, labels: labels, rowWeights: rowWeights,
      l2: l2, standardization: standardization)
    let largest = try features.largestMagnitudes(standardization: standardization)
    var weightMaximum = [rowWeights.max() ?? 0]
    try features.collective { () throws in try features.communicator.allReduceMax(&weightMaximum) }
    let sMax = weightMaximum[0]
    self.largest = largest
    self.largestWeight = sMax
    // Σ wᵢ (one coordinate) and Σ wᵢ·x̃ᵢc² (d coordinates) in one pass.
    var bounds = [try features.bound(sMax) { "the row weights" }]
    for c in 0..<d {
      bounds.append(try features.bound(sMax * largest[c] * largest[c]) { "feature \(c) (squared)" })
    }
    let mean = standardization?.mean ?? []
    let inverseScale = standardization?.inverseScale ?? []
    let totals = try features.sums(bounds: bounds) { index, x, out in
      let w = rowWeights[index]
      out.withUnsafeMutableBufferPointer { out in
        mean.withUnsafeBufferPointer { mean in
          inverseScale.withUnsafeBufferPointer { inverseScale in
            out[0] = w
            if mean.isEmpty {
              for c in 0..<d { out[c + 1] = w * x[c] * x[c] }
            } else {
              for c in 0..<d {
                let value = (x[c] - mean[c]) * inverseScale[c]
                out[c + 1] = w * value * value
              }
            }
          }
        }
      }
    }
    self.weightTotal = totals[0]
    self.columnMoments = ColumnMoments(
      squareSums: Array(totals.dropFirst()), rescaledMeanSquares: [:])
  }

  func smoothValueAndGradient(
    at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    guard let sums = try? blockSums(parameters, wantGradient: true, workspace: &workspace) else {
      return .nan
    }
    return value(sums, denominator: weightTotal, parameters, gradient: &gradient)
  }

  /// The objective on a minibatch of the data's rows (numbered over every
  /// member: the same list on every member) and its gradient: the weighted
  /// cross-entropy of the rows divided by their count, plus
  /// `(λ₂/2)·‖W‖²`. Each member sums its own rows of the batch by
  /// superblock (``minibatchSums(_:_:wantGradient:workspace:)``), so the
  /// result is the same bits for any number of members.
  func smoothValueAndGradient(
    rows: [Int], at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    guard
      let sums = try? minibatchSums(rows, parameters, wantGradient: true, workspace: &workspace)
    else { return .nan }
    return value(sums, denominator: Double(rows.count), parameters, gradient: &gradient)
  }

  /// The weighted mean cross-entropy of the data's rows `rows`, without
  /// penalties (early stopping's validation rows).
  func loss(rows: [Int], at parameters: [Double], workspace: inout Workspace) -> Double {
    guard
      let sums = try? minibatchSums(rows, parameters, wantGradient: false, workspace: &workspace)
    else { return .nan }
    let data = sums[parameterCount] / Double(max(rows.count, 1))
    return data.isNaN ? .infinity : data
  }

  /// The value and gradient from the all-reduced `sums` (`[∂W, ∂b,
  /// loss]`) divided by `denominator`, with the L2 penalty.
  private func value(
    _ sums: [Double], denominator: Double, _ parameters: [Double], gradient: inout [Double]
  ) -> Double {
    let k = classCount
    let weightCount = k * featureCount
    if gradient.count != parameterCount {
      gradient = [Double](repeating: 0, count: parameterCount)
    }
    let scale = denominator > 0 ? 1 / denominator : 0
    var squares = 0.0
    for index in 0..<weightCount { squares += parameters[index] * parameters[index] }
    for index in 0..<(weightCount + k) {
      gradient[index] =
        sums[index] * scale + (index < weightCount ? blockSum.l2 * parameters[index] : 0)
    }
    let data = sums[weightCount + k] * scale
    return (data.isNaN ? .infinity : data)
      + l2Penalty(parameters, weightCount: weightCount, l2: blockSum.l2, sumOfSquares: squares)
  }

  /// The sums (`[∂W, ∂b, loss]`) over the minibatch `batch` (the data's
  /// rows, any order, repeats allowed) at `parameters`, the same on every
  /// member whatever their number: this member's rows of the batch,
  /// grouped by superblock (a member holds whole superblocks, so a group
  /// is on one member however the data is split), each group read at
  /// random and summed in the batch's order in blocks of at most 128 rows
  /// (blocks in order), its sums rounded onto the grid; one all-reduce.
  private func minibatchSums(
    _ batch: [Int], _ parameters: [Double], wantGradient: Bool, workspace: inout Workspace
  ) throws -> [Double] {
    let unit = SoftmaxClassifier.distributedShareRows
    let first = features.firstRow
    let localRows = features.local.source.rows
    let d = featureCount
    // (superblock, position in the batch) of this member's rows.
    var mine: [(superblock: Int, position: Int)] = []
    for (position, row) in batch.enumerated() where row >= first && row < first + localRows {
      mine.append((row / unit, position))
    }
    mine.sort { ($0.superblock, $0.position) < ($1.superblock, $1.position) }
    // Each group in blocks of at most 128 rows; whether a block ends one.
    var blocks: [(rows: Range<Int>, endsGroup: Bool)] = []
    var start = 0
    while start < mine.count {
      var end = start
      while end < mine.count && mine[end].superblock == mine[start].superblock { end += 1 }
      var block = start
      while block < end {
        let next = min(end, block + SoftmaxRegressionObjective<T>.minibatchBlockRows)
        blocks.append((block..<next, next == end))
        block = next
      }
      start = end
    }
    let exponents = bounds(parameters).map { bound in
      bound.isFinite ? FixedPointSums.exponent(bounding: bound) : 1023
    }
    var sums = FixedPointSums(exponents: exponents)
    var failed = features.local.failure.first != nil
    var gathered = [T](repeating: 0, count: mine.count * d)
    var gatheredLabels: [Int] = []
    var gatheredWeights: [Double] = []
    if !failed {
      do {
        try gathered.withUnsafeMutableBufferPointer { buffer in
          for (index, entry) in mine.enumerated() {
            let local = batch[entry.position] - first
            try features.local.source.readRows(
              local..<(local + 1),
              into: UnsafeMutableBufferPointer(rebasing: buffer[(index * d)..<((index + 1) * d)]))
          }
        }
      } catch {
        features.local.failure.record(
          error as? TrainingError ?? TrainingError(.unreadableData, "\(error)"))
        failed = true
      }
    }
    if !failed && !mine.isEmpty && d > 0 {
      for entry in mine {
        let local = batch[entry.position] - first
        gatheredLabels.append(labels[local])
        gatheredWeights.append(blockSum.rowWeights[local])
      }
      let batchSum = blockSum.replacingRows(labels: gatheredLabels, rowWeights: gatheredWeights)
      var unused: [Double] = []
      batchSum.begin(
        parameters, gradient: &unused, wantGradient: false, workspace: &workspace.blocks)
      var totals = DenseBlockSum<T>.Totals()
      var blockWorkspace = workspace.blocks
      var doubles = workspace.doubles
      let stride = parameterCount + 1
      var running = [Double](repeating: 0, count: stride)
      var held = false
      gathered.withUnsafeBufferPointer { all in
        func add(_ rows: DenseBlockSum<T>.Features) {
          batchSum.add(
            rows, parameters: parameters, firstRow: 0, blockCount: blocks.count,
            gradient: &unused, wantGradient: wantGradient, totals: &totals,
            workspace: &blockWorkspace, rows: { .range(blocks[$0].rows) },
            onBlock: { block, partial in
              // A group's blocks in order into its running sums.
              running.withUnsafeMutableBufferPointer { running in
                if held {
                  for index in 0..<stride { running[index] += partial[index] }
                } else {
                  for index in 0..<stride { running[index] = partial[index] }
                }
              }
              held = true
              if blocks[block].endsGroup {
                running.withUnsafeBufferPointer { if let base = $0.baseAddress { sums.add(base) } }
                held = false
              }
            })
        }
        batchSum.withFeatures(all, scratch: &doubles, add)
      }
      workspace.blocks = blockWorkspace
      workspace.doubles = doubles
    }
    sums.limbs.append(failed ? 1 : 0)
    try features.communicator.allReduceSum(&sums.limbs)
    guard sums.limbs.removeLast() == 0 else {
      throw TrainingError(.unreadableData, "a member could not read its rows")
    }
    return sums.values()
  }

  func inverseHessianDiagonal() -> [Double]? {
    // The bias curvature from every member's weights: their sum, as one
    // value.
    columnMoments.inverseHessianDiagonal(
      classCount: classCount, parameterCount: parameterCount, rowWeights: [weightTotal],
      weightTotal: weightTotal, l2: blockSum.l2)
  }

  /// The bound of each of the `k·d + k + 1` sums at `parameters`.
  private func bounds(_ parameters: [Double]) -> [Double] {
    let k = classCount
    let d = featureCount
    let n = Double(features.totalRows)
    var bounds = [Double](repeating: 0, count: k * d + k + 1)
    var largestLogit = 0.0
    for j in 0..<k {
      var logit = abs(parameters[k * d + j])
      for c in 0..<d {
        bounds[j * d + c] = 4 * n * largestWeight * largest[c]
        logit += abs(parameters[j * d + c]) * largest[c]
      }
      bounds[k * d + j] = 4 * n * largestWeight
      largestLogit = max(largestLogit, logit)
    }
    bounds[k * d + k] =
      4 * n * largestWeight * (2 * largestLogit + Double.log(Double(max(k, 1))) + 1)
    return bounds
  }

  /// The sums of every member's blocks at `parameters`, the same on every
  /// member; `nil` when a member could not read its rows.
  private func blockSums(
    _ parameters: [Double], wantGradient: Bool, workspace: inout Workspace
  ) throws -> [Double] {
    let exponents = bounds(parameters).map { bound in
      bound.isFinite ? FixedPointSums.exponent(bounding: bound) : 1023
    }
    var sums = FixedPointSums(exponents: exponents)
    var unused: [Double] = []
    blockSum.begin(
      parameters, gradient: &unused, wantGradient: false, workspace: &workspace.blocks)
    var totals = DenseBlockSum<T>.Totals()
    var blocks = workspace.blocks
    var doubles = workspace.doubles
    let d = featureCount
    let blockRows = SoftmaxRegressionObjective<T>.blockRows
    let stride = parameterCount + 1
    var superblock = [Double](repeating: 0, count: stride)
    var held = 0
    var failed = features.local.failure.first != nil
    if !failed {
      do {
        try features.local.forEachChunk { first, count, x in
          let blockCount = (count + blockRows - 1) / blockRows
          func add(_ rows: DenseBlockSum<T>.Features) {
            blockSum.add(
              rows, parameters: parameters, firstRow: first, blockCount: blockCount,
              gradient: &unused, wantGradient: wantGradient, totals: &totals,
              workspace: &blocks,
              rows: { block in
                .range((block * blockRows)..<min(count, (block + 1) * blockRows))
              },
              onBlock: { _, partial in
                // Blocks in order into the superblock's running sums.
                superblock.withUnsafeMutableBufferPointer { running in
                  if held == 0 {
                    for index in 0..<stride { running[index] = partial[index] }
                  } else {
                    for index in 0..<stride { running[index] += partial[index] }
                  }
                }
                held += 1
                if held == Self.superblockBlocks {
                  superblock.withUnsafeBufferPointer {
                    if let base = $0.baseAddress { sums.add(base) }
                  }
                  held = 0
                }
              })
          }
          guard d > 0 else { return }
          blockSum.withFeatures(x, scratch: &doubles, add)
        }
      } catch {
        features.local.failure.record(error)
        failed = true
      }
    }
    if held > 0 {
      // The data's last superblock, partial.
      superblock.withUnsafeBufferPointer { if let base = $0.baseAddress { sums.add(base) } }
    }
    workspace.blocks = blocks
    workspace.doubles = doubles
    // The count of members that failed rides with the sums.
    sums.limbs.append(failed ? 1 : 0)
    try features.communicator.allReduceSum(&sums.limbs)
    guard sums.limbs.removeLast() == 0 else {
      throw TrainingError(.unreadableData, "a member could not read its rows")
    }
    return sums.values()
  }
}
