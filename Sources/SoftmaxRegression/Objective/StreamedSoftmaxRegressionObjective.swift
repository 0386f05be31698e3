//===--- StreamedSoftmaxRegressionObjective.swift -------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// ``SoftmaxRegressionObjective`` over rows streamed from a ``RowStream``:
/// the same function, the same bits, with one chunk of rows in memory.
///
/// A full evaluation streams every row once, chunk by chunk; each chunk's
/// blocks go through the same ``DenseBlockSum`` as the matrix's, in the
/// same order (chunks hold whole blocks), so the value and the gradient
/// are bitwise those of the objective over the matrix in memory, for
/// every chunk size and thread count. Labels and weights stay in memory
/// (16 bytes a row).
///
/// A list of rows that is every row in order is one pass. Any other list
/// (a minibatch, validation rows) is gathered from the chunks that hold its
/// rows, read at random (``RowStream/readRows(_:into:)``) and kept, two at
/// a time, in the workspace: with the chunked shuffle of
/// ``StochasticOptions/shuffleChunkRows`` each chunk is read about once an
/// epoch. The gathered rows go through the same kernel, in the same blocks
/// of 128, as the matrix's minibatch: the same bits.
///
/// A read that fails is recorded in the features' ``ReadFailure``; the
/// evaluation returns NaN and every later one reads nothing.
struct StreamedSoftmaxRegressionObjective<Source: RowStream>: TrainingObjective {
  typealias T = Source.Scalar

  /// The rows.
  let features: StreamedFeatures<Source>
  /// Class index of each row.
  let labels: [Int]
  /// `k`.
  let classCount: Int
  /// `Σᵢ sᵢ`.
  let weightTotal: Double
  /// `sᵢ`, or `nil` for 1.
  let sampleWeights: [Double]?
  /// λ₁.
  let l1: Double
  /// The kernels' sums over blocks of rows.
  let blockSum: DenseBlockSum<T>
  /// The columns' weighted squares, for the preconditioner.
  let columnMoments: ColumnMoments

  var featureCount: Int { features.columns }
  var parameterCount: Int { classCount * (featureCount + 1) }
  var rowCount: Int { features.rows }
  var l1Strength: Double { l1 }
  var l1Count: Int { classCount * featureCount }
  var strata: (labels: [Int], classCount: Int)? { (labels, classCount) }

  /// The block sums' scratch, a chunk in `Double` for scalars other than
  /// Float and Double, the last two chunks read at random and a minibatch
  /// gathered from them.
  struct Workspace {
    var blocks = DenseBlockSum<T>.Workspace()
    var doubles: [Double] = []
    /// The chunks held (index, rows), the most recently used last.
    var chunks: [(index: Int, values: [T])] = []
    var gathered: [T] = []
    var gatheredLabels: [Int] = []
    var gatheredWeights: [Double] = []
    var positions: [Int] = []
  }

  func makeWorkspace() -> Workspace { Workspace() }

  /// Checks as ``SoftmaxRegressionObjective``'s initializer does, and sums
  /// the columns' squares in one pass over the stream.
  init(
    features: StreamedFeatures<Source>, labels: [Int], classCount: Int,
    sampleWeights: [Double]?, classWeights: [Double]?, l2: Double, l1: Double,
    standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) {
    let d = features.columns
    if classCount >= 1 {
      try WeightedRows.checkMemory(classCount: classCount, featureCount: d, vectors: 4)
    }
    let rows = try WeightedRows(
      rows: features.rows, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1)
    if let standardization, let problem = standardization.problem(columns: d) {
      throw TrainingError(.shapeMismatch, problem)
    }
    self.features = features
    self.labels = labels
    self.classCount = classCount
    self.weightTotal = rows.weightTotal
    self.sampleWeights = rows.sampleWeights
    self.l1 = l1
    self.blockSum = DenseBlockSum(
      classCount: classCount, featureCount: d, labels: labels, rowWeights: rows.rowWeights,
      l2: l2, standardization: standardization)
    self.columnMoments = try ColumnMoments(
      columns: d, rowWeights: rows.rowWeights, weightTotal: rows.weightTotal,
      standardization: standardization, featureNames: featureNames
    ) { body throws(TrainingError) in try features.forEachRowInDouble(body) }
  }

  func smoothValueAndGradient(
    at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    let (data, penalty) = pass(
      parameters, blockRows: SoftmaxRegressionObjective<T>.blockRows, gradient: &gradient,
      wantGradient: true, workspace: &workspace)
    return data + penalty
  }

  /// - Precondition: `rows` is not empty and within `0..<rowCount`.
  func smoothValueAndGradient(
    rows: [Int], at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    let (data, penalty) =
      isEveryRow(rows)
      ? pass(
        parameters, blockRows: SoftmaxRegressionObjective<T>.minibatchBlockRows,
        gradient: &gradient, wantGradient: true, workspace: &workspace)
      : gathered(
        rows, parameters, gradient: &gradient, wantGradient: true, workspace: &workspace)
    return data + penalty
  }

  /// - Precondition: `rows` is not empty and within `0..<rowCount`.
  func loss(rows: [Int], at parameters: [Double], workspace: inout Workspace) -> Double {
    var unused: [Double] = []
    return isEveryRow(rows)
      ? pass(
        parameters, blockRows: SoftmaxRegressionObjective<T>.minibatchBlockRows,
        gradient: &unused, wantGradient: false, workspace: &workspace
      ).data
      : gathered(rows, parameters, gradient: &unused, wantGradient: false, workspace: &workspace)
        .data
  }

  func inverseHessianDiagonal() -> [Double]? {
    columnMoments.inverseHessianDiagonal(
      classCount: classCount, parameterCount: parameterCount, rowWeights: blockSum.rowWeights,
      weightTotal: weightTotal, l2: blockSum.l2)
  }

  /// Whether `rows` is `0..<rowCount` in order.
  private func isEveryRow(_ rows: [Int]) -> Bool {
    rows.count == rowCount && rows.enumerated().allSatisfy { $0.offset == $0.element }
  }

  /// The sums over listed rows, gathered from their chunks into the
  /// workspace, in blocks of 128 as the matrix's minibatch; NaN after a
  /// failed read.
  private func gathered(
    _ rows: [Int], _ parameters: [Double], gradient: inout [Double], wantGradient: Bool,
    workspace: inout Workspace
  ) -> (data: Double, penalty: Double) {
    let n = rowCount
    precondition(!rows.isEmpty, "no rows")
    precondition(rows.allSatisfy { $0 >= 0 && $0 < n }, "a row is out of 0..<\(n)")
    precondition(features.selection == nil, "minibatches read the stream's own rows")
    guard features.failure.first == nil else { return (.nan, .nan) }
    let d = featureCount
    let b = rows.count
    if workspace.gathered.count < b * d {
      workspace.gathered = [T](repeating: 0, count: b * d)
    }
    workspace.gatheredLabels.removeAll(keepingCapacity: true)
    workspace.gatheredWeights.removeAll(keepingCapacity: true)
    do {
      for (position, row) in rows.enumerated() {
        let (slot, first) = try chunk(holding: row, workspace: &workspace)
        let offset = (row - first) * d
        workspace.chunks[slot].values.withUnsafeBufferPointer { from in
          workspace.gathered.withUnsafeMutableBufferPointer { to in
            guard let source = from.baseAddress, let target = to.baseAddress else { return }
            (target + position * d).update(from: source + offset, count: d)
          }
        }
        workspace.gatheredLabels.append(labels[row])
        workspace.gatheredWeights.append(blockSum.rowWeights[row])
      }
    } catch {
      features.failure.record(
        error as? TrainingError ?? TrainingError(.unreadableData, "\(error)"))
      return (.nan, .nan)
    }
    var denominator = Double(b)
    if let sampleWeights {
      denominator = 0
      for row in rows { denominator += sampleWeights[row] }
    }
    if workspace.positions.count != b { workspace.positions = Array(0..<b) }
    let batchSum = blockSum.replacingRows(
      labels: workspace.gatheredLabels, rowWeights: workspace.gatheredWeights)
    batchSum.begin(
      parameters, gradient: &gradient, wantGradient: wantGradient, workspace: &workspace.blocks)
    var totals = DenseBlockSum<T>.Totals()
    let blockRows = SoftmaxRegressionObjective<T>.minibatchBlockRows
    let blockCount = (b + blockRows - 1) / blockRows
    var blocks = workspace.blocks
    let positions = workspace.positions
    func add(_ x: DenseBlockSum<T>.Features) {
      positions.withUnsafeBufferPointer { indices in
        batchSum.add(
          x, parameters: parameters, firstRow: 0, blockCount: blockCount, gradient: &gradient,
          wantGradient: wantGradient, totals: &totals, workspace: &blocks
        ) { block in
          let begin = block * blockRows
          return .indices(
            UnsafeBufferPointer(rebasing: indices[begin..<min(b, begin + blockRows)]))
        }
      }
    }
    var doubles = workspace.doubles
    workspace.gathered.withUnsafeBufferPointer { all in
      guard d > 0 else { return }
      batchSum.withFeatures(
        UnsafeBufferPointer(rebasing: all[0..<(b * d)]), scratch: &doubles, add)
    }
    workspace.doubles = doubles
    workspace.blocks = blocks
    return batchSum.finish(
      parameters, gradient: &gradient, wantGradient: wantGradient, totals: totals,
      denominator: denominator)
  }

  /// The workspace's slot of the chunk holding `row` and the chunk's first
  /// row, reading the chunk when it is not held (two are: the least
  /// recently used one goes).
  private func chunk(holding row: Int, workspace: inout Workspace) throws -> (Int, Int) {
    let chunkRows = features.chunkRows
    let index = row / chunkRows
    let first = index * chunkRows
    if let last = workspace.chunks.indices.last, workspace.chunks[last].index == index {
      return (last, first)
    }
    if let slot = workspace.chunks.firstIndex(where: { $0.index == index }) {
      // The most recently used goes last.
      workspace.chunks.append(workspace.chunks.remove(at: slot))
      return (workspace.chunks.count - 1, first)
    }
    let count = min(chunkRows, rowCount - first)
    var values: [T]
    if workspace.chunks.count >= 2 {
      values = workspace.chunks.removeFirst().values
    } else {
      values = [T](repeating: 0, count: chunkRows * featureCount)
    }
    try values.withUnsafeMutableBufferPointer { buffer in
      try features.source.readRows(
        first..<(first + count),
        into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(count * featureCount)]))
    }
    workspace.chunks.append((index, values))
    return (workspace.chunks.count - 1, first)
  }

  /// One pass over the stream in blocks of `blockRows` (a divisor of the
  /// chunk's rows), divided by the sample-weight sum; NaN after a failed
  /// read.
  private func pass(
    _ parameters: [Double], blockRows: Int, gradient: inout [Double], wantGradient: Bool,
    workspace: inout Workspace
  ) -> (data: Double, penalty: Double) {
    guard features.failure.first == nil else { return (.nan, .nan) }
    let d = featureCount
    blockSum.begin(
      parameters, gradient: &gradient, wantGradient: wantGradient, workspace: &workspace.blocks)
    var totals = DenseBlockSum<T>.Totals()
    var doubles = workspace.doubles
    var blocks = workspace.blocks
    do {
      try features.forEachChunk { first, count, x in
        let blockCount = (count + blockRows - 1) / blockRows
        let rows = { (block: Int) -> BlockRows in
          .range((block * blockRows)..<min(count, (block + 1) * blockRows))
        }
        func add(_ kernelRows: DenseBlockSum<T>.Features) {
          blockSum.add(
            kernelRows, parameters: parameters, firstRow: first, blockCount: blockCount,
            gradient: &gradient, wantGradient: wantGradient, totals: &totals,
            workspace: &blocks, rows: rows)
        }
        guard d > 0 else { return }
        blockSum.withFeatures(x, scratch: &doubles, add)
      }
    } catch {
      features.failure.record(error)
      workspace.blocks = blocks
      return (.nan, .nan)
    }
    workspace.doubles = doubles
    workspace.blocks = blocks
    return blockSum.finish(
      parameters, gradient: &gradient, wantGradient: wantGradient, totals: totals,
      denominator: weightTotal(blockRows: blockRows))
  }

  /// The denominator of a pass: `Σᵢ sᵢ` as the matrix's objective divides
  /// a full pass (256-row blocks) and a pass over listed rows (their
  /// count, or their weights summed in order).
  private func weightTotal(blockRows: Int) -> Double {
    if blockRows == SoftmaxRegressionObjective<T>.blockRows { return weightTotal }
    guard let sampleWeights else { return Double(rowCount) }
    var total = 0.0
    for weight in sampleWeights { total += weight }
    return total
  }
}
