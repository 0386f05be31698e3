//===--- StreamedSparseSoftmaxRegressionObjective.swift -------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// ``SparseSoftmaxRegressionObjective`` over sparse rows streamed from a
/// ``SparseRowStream``: the same function, the same bits, with one chunk
/// of rows in memory.
///
/// A full evaluation streams every row once, chunk by chunk; each chunk
/// goes through the same ``SparseBlockSum`` as the matrix's rows, in the
/// same order (chunks hold whole blocks of 256 rows), so the value and the
/// gradient are bitwise those of the objective over the matrix in memory,
/// for every chunk size and thread count. The backward pass scatters each
/// row into the gradient (the matrix's objective reads its copy of the
/// entries by column instead when there are more than four classes: the
/// same bits, faster). Labels and weights stay in memory (16 bytes a row),
/// with the solver's vectors and two column-major copies of the weights.
///
/// A list of rows that is every row in order is one pass. Any other list
/// (a minibatch, early stopping's rows) is gathered from the chunks that
/// hold its rows, read at random (`SparseRowStream.readRows(_:)`) and kept,
/// two at a time, in the workspace: with the chunked shuffle of
/// ``StochasticOptions/shuffleChunkRows`` each chunk is read about once an
/// epoch. The gathered rows go through the same blocks as the matrix's
/// listed rows: the same bits.
///
/// A read that fails is recorded in the features' ``ReadFailure``; the
/// evaluation returns NaN and every later one reads nothing.
struct StreamedSparseSoftmaxRegressionObjective<Source: SparseRowStream>: TrainingObjective {
  typealias T = Source.Scalar

  /// The rows.
  let features: StreamedSparseFeatures<Source>
  /// Labels and weights.
  let rows: WeightedRows
  /// λ₁.
  let l1: Double
  /// The sums over the rows.
  let blockSum: SparseBlockSum
  /// The columns' weighted squares, for the preconditioner.
  let columnMoments: ColumnMoments

  var labels: [Int] { rows.labels }
  var classCount: Int { rows.classCount }
  var featureCount: Int { features.columns }
  var parameterCount: Int { classCount * (featureCount + 1) }
  var rowCount: Int { features.rows }
  var l1Strength: Double { l1 }
  var l1Count: Int { classCount * featureCount }
  var strata: (labels: [Int], classCount: Int)? { (labels, classCount) }

  /// The weights and the gradient by column, a wave's residuals and the
  /// blocks' sums.
  struct Workspace {
    var sums = SparseBlockSum.Workspace()
    /// The chunks held (index, rows), the most recently used last.
    var chunks: [(index: Int, rows: SparseMatrix<T>)] = []
  }

  func makeWorkspace() -> Workspace { Workspace() }

  /// Checks as ``SparseSoftmaxRegressionObjective``'s initializer does,
  /// and counts the columns' entries and sums their squares in one pass
  /// over the stream.
  init(
    features: StreamedSparseFeatures<Source>, labels: [Int], classCount: Int,
    sampleWeights: [Double]?, classWeights: [Double]?, l2: Double, l1: Double,
    standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) {
    let d = features.columns
    if classCount >= 1 {
      try WeightedRows.checkMemory(classCount: classCount, featureCount: d, vectors: 6)
    }
    let rows = try WeightedRows(
      rows: features.rows, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1)
    if let standardization {
      if let problem = standardization.problem(columns: d) {
        throw TrainingError(.shapeMismatch, problem)
      }
      if let error = standardization.centeringError(featureNames: featureNames) { throw error }
    }
    let inverseScale = standardization?.inverseScale
    var entries = [Int](repeating: 0, count: d + 1)
    var counted = false
    self.columnMoments = try ColumnMoments(
      columns: d, rowWeights: rows.rowWeights, weightTotal: rows.weightTotal,
      inverseScale: inverseScale, featureNames: featureNames
    ) { (body: (Int, SparseMatrix<T>) -> Void) throws(TrainingError) in
      try features.forEachChunk { first, chunk in
        if !counted {
          for c in chunk.columnIndices { entries[Int(c) + 1] += 1 }
        }
        body(first, chunk)
      }
      counted = true
    }
    for c in 0..<d { entries[c + 1] += entries[c] }
    self.features = features
    self.rows = rows
    self.l1 = l1
    self.blockSum = SparseBlockSum(
      classCount: classCount, featureCount: d, l2: l2, inverseScale: inverseScale,
      columnEntries: entries, averageEntries: max(1, entries[d] / max(features.rows, 1)))
  }

  func smoothValueAndGradient(
    at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    let (data, penalty) = pass(
      parameters, gradient: &gradient, wantGradient: true, denominator: rows.weightTotal,
      workspace: &workspace)
    return data + penalty
  }

  /// - Precondition: `rows` is not empty and within `0..<rowCount`.
  func smoothValueAndGradient(
    rows listed: [Int], at parameters: [Double], gradient: inout [Double],
    workspace: inout Workspace
  ) -> Double {
    let denominator = denominator(of: listed)
    let (data, penalty) =
      isEveryRow(listed)
      ? pass(
        parameters, gradient: &gradient, wantGradient: true, denominator: denominator,
        workspace: &workspace)
      : gathered(
        listed, parameters, gradient: &gradient, wantGradient: true, denominator: denominator,
        workspace: &workspace)
    return data + penalty
  }

  /// - Precondition: `rows` is not empty and within `0..<rowCount`.
  func loss(rows listed: [Int], at parameters: [Double], workspace: inout Workspace) -> Double {
    var unused: [Double] = []
    let denominator = denominator(of: listed)
    return isEveryRow(listed)
      ? pass(
        parameters, gradient: &unused, wantGradient: false, denominator: denominator,
        workspace: &workspace
      ).data
      : gathered(
        listed, parameters, gradient: &unused, wantGradient: false, denominator: denominator,
        workspace: &workspace
      ).data
  }

  func inverseHessianDiagonal() -> [Double]? {
    columnMoments.inverseHessianDiagonal(
      classCount: classCount, parameterCount: parameterCount, rowWeights: rows.rowWeights,
      weightTotal: rows.weightTotal, l2: blockSum.l2)
  }

  /// Whether `listed` is `0..<rowCount` in order.
  private func isEveryRow(_ listed: [Int]) -> Bool {
    listed.count == rowCount && listed.enumerated().allSatisfy { $0.offset == $0.element }
  }

  /// `Σ sᵢ` over the listed rows in their order (their count without
  /// sample weights), as the matrix's objective divides them.
  private func denominator(of listed: [Int]) -> Double {
    precondition(!listed.isEmpty, "no rows")
    let n = rowCount
    precondition(listed.allSatisfy { $0 >= 0 && $0 < n }, "a row is out of 0..<\(n)")
    guard let sampleWeights = rows.sampleWeights else { return Double(listed.count) }
    var total = 0.0
    for row in listed { total += sampleWeights[row] }
    return total
  }

  /// One pass over the stream, divided by `denominator`; NaN after a
  /// failed read.
  private func pass(
    _ parameters: [Double], gradient: inout [Double], wantGradient: Bool, denominator: Double,
    workspace: inout Workspace
  ) -> (data: Double, penalty: Double) {
    guard features.failure.first == nil else { return (.nan, .nan) }
    var sums = workspace.sums
    var totals = blockSum.begin(
      parameters, gradient: &gradient, wantGradient: wantGradient, workspace: &sums)
    do {
      try features.forEachChunk { first, chunk in
        add(
          chunk, labels: rows.labels, rowWeights: rows.rowWeights, from: first,
          parameters: parameters, wantGradient: wantGradient, totals: &totals, sums: &sums)
      }
    } catch {
      features.failure.record(error)
      workspace.sums = sums
      return (.nan, .nan)
    }
    workspace.sums = sums
    return blockSum.finish(
      parameters, gradient: &gradient, wantGradient: wantGradient, totals: totals,
      denominator: denominator, workspace: workspace.sums)
  }

  /// The listed rows, gathered in their order from the chunks holding
  /// them, as one run: the blocks of the matrix's objective over the same
  /// list. NaN after a failed read.
  private func gathered(
    _ listed: [Int], _ parameters: [Double], gradient: inout [Double], wantGradient: Bool,
    denominator: Double, workspace: inout Workspace
  ) -> (data: Double, penalty: Double) {
    precondition(features.selection == nil, "minibatches read the stream's own rows")
    guard features.failure.first == nil else { return (.nan, .nan) }
    var builder = SparseMatrix<T>.Builder(columns: featureCount)
    do {
      for row in listed {
        let (slot, first) = try chunk(holding: row, workspace: &workspace)
        let (columns, values) = workspace.chunks[slot].rows.row(row - first)
        for (column, value) in zip(columns, values) {
          builder.append(column: Int(column), value: value)
        }
        builder.endRow()
      }
    } catch {
      features.failure.record(
        error as? TrainingError ?? TrainingError(.unreadableData, "\(error)"))
      return (.nan, .nan)
    }
    var sums = workspace.sums
    var totals = blockSum.begin(
      parameters, gradient: &gradient, wantGradient: wantGradient, workspace: &sums)
    add(
      builder.matrix, labels: listed.map { rows.labels[$0] },
      rowWeights: listed.map { rows.rowWeights[$0] }, from: 0, parameters: parameters,
      wantGradient: wantGradient, totals: &totals, sums: &sums)
    workspace.sums = sums
    return blockSum.finish(
      parameters, gradient: &gradient, wantGradient: wantGradient, totals: totals,
      denominator: denominator, workspace: workspace.sums)
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
      workspace.chunks.append(workspace.chunks.remove(at: slot))
      return (workspace.chunks.count - 1, first)
    }
    if workspace.chunks.count >= 2 { workspace.chunks.removeFirst() }
    let rows = try features.source.readRows(first..<min(rowCount, first + chunkRows))
    workspace.chunks.append((index, rows))
    return (workspace.chunks.count - 1, first)
  }

  /// Adds the rows of `chunk`, whose labels and row weights are those of
  /// `labels` and `rowWeights` from index `first`.
  private func add(
    _ chunk: SparseMatrix<T>, labels: [Int], rowWeights: [Double], from first: Int,
    parameters: [Double], wantGradient: Bool, totals: inout SparseBlockSum.Totals,
    sums: inout SparseBlockSum.Workspace
  ) {
    labels.withUnsafeBufferPointer { labels in
      rowWeights.withUnsafeBufferPointer { weights in
        guard let labels = labels.baseAddress, let weights = weights.baseAddress else { return }
        withSparseRows(
          chunk, classCount: classCount, labels: labels + first, rowWeights: weights + first
        ) { kernel in
          blockSum.add(
            kernel, columns: nil, parameters: parameters, rowCount: chunk.rows, listed: nil,
            wantGradient: wantGradient, totals: &totals, workspace: &sums)
        }
      }
    }
  }
}
