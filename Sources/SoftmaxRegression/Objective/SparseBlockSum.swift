//===--- SparseBlockSum.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// The sums of the sparse objective over rows, whatever holds the rows: the
/// weights laid out by column (``begin(_:gradient:wantGradient:workspace:)``),
/// then any number of runs of rows (``add(_:columns:parameters:rowCount:listed:wantGradient:totals:workspace:)``:
/// a matrix in memory is one run, a streamed file one run per chunk), then
/// the gradient laid back out by class (``finish(_:gradient:wantGradient:totals:denominator:workspace:)``).
///
/// Each run goes in waves of rows: a forward pass in blocks of 256 rows
/// (in parallel, the blocks' sums added in block order) leaving each row's
/// residual, and a backward pass over the wave's rows in order, with the
/// columns split among the threads. The loss and the bias gradient are a
/// left fold over the blocks, and every gradient value is summed over the
/// rows in their order: runs that start at multiples of 256 rows give the
/// same bits as one run over all the rows, for every thread count.
struct SparseBlockSum: Sendable {
  /// The rows of a block of the forward pass.
  static var blockRows: Int { 256 }

  /// `k`.
  let classCount: Int
  /// `d`.
  let featureCount: Int
  /// λ₂.
  let l2: Double
  /// `1/σ` per column, or `nil`.
  let inverseScale: [Double]?
  /// `columnEntries[c]`: the stored entries in columns `0..<c` (d + 1
  /// values), to split the backward pass's columns evenly among threads.
  let columnEntries: [Int]
  /// Stored entries per row, on average: the cost of a block.
  let averageEntries: Int

  /// What an evaluation writes: the weights and the gradient column-major,
  /// the residuals of a wave of rows, and the blocks' partial sums.
  struct Workspace {
    var weightsByColumn: [Double] = []
    var gradientByColumn: [Double] = []
    var residuals: [Double] = []
    var partials: [Double] = []
  }

  /// The loss and the bias gradient so far: left folds over the blocks.
  struct Totals {
    var loss = 0.0
    var biasGradient: [Double]
  }

  /// The rows of a wave: at most 64 blocks, and at most 64 MiB of
  /// residuals.
  static func waveRows(classCount k: Int) -> Int {
    blockRows * max(1, min(64, (64 << 20) / 8 / max(1, blockRows * k)))
  }

  /// `k·d + k` parameters.
  var parameterCount: Int { classCount * (featureCount + 1) }

  /// Lays the weights out by column (scaled by `1/σ`) and clears the
  /// gradient; the totals start at 0.
  func begin(
    _ parameters: [Double], gradient: inout [Double], wantGradient: Bool,
    workspace: inout Workspace
  ) -> Totals {
    let weightCount = classCount * featureCount
    precondition(
      parameters.count == parameterCount,
      "\(parameters.count) parameters; the objective has \(parameterCount)")
    // At least one value each, so that the buffers have an address.
    let byColumnCount = max(weightCount, 1)
    if workspace.weightsByColumn.count != byColumnCount {
      workspace.weightsByColumn = filledArray(repeating: 0.0, count: byColumnCount)
    }
    parameters.withUnsafeBufferPointer { p in
      workspace.weightsByColumn.withUnsafeMutableBufferPointer { byColumn in
        guard let p = p.baseAddress, let byColumn = byColumn.baseAddress else { return }
        layOutWeightsByColumn(
          p, classes: classCount, columns: featureCount, columnScale: inverseScale,
          into: byColumn)
      }
    }
    if wantGradient {
      if workspace.gradientByColumn.count != byColumnCount {
        workspace.gradientByColumn = filledArray(repeating: 0.0, count: byColumnCount)
      }
      if gradient.count != parameterCount {
        gradient = [Double](repeating: 0, count: parameterCount)
      }
      workspace.gradientByColumn.withUnsafeMutableBufferPointer { g in
        guard let g = g.baseAddress else { return }
        initializeInParallel(g, repeating: 0, count: weightCount)
      }
    }
    return Totals(biasGradient: [Double](repeating: 0, count: classCount))
  }

  /// Adds `rowCount` rows of `kernel`: its rows `0..<rowCount`, or
  /// `listed[0..<rowCount]` when given. `columns`, the same rows by column,
  /// is used for the backward pass of every row in order (`listed` nil).
  ///
  /// The first row of the run must be a multiple of 256 rows after the
  /// first of the evaluation for the bits to be those of one run.
  ///
  /// With `probabilities` (every row, `listed` nil), each row's softmax
  /// goes to `probabilities[row·k ..< …+k]`.
  func add(
    _ kernel: SparseRegressionRows, columns columnKernel: SparseRegressionColumns?,
    parameters: [Double], rowCount rowTotal: Int, listed: [Int]?, wantGradient: Bool,
    totals: inout Totals,
    workspace: inout Workspace, probabilities: UnsafeMutablePointer<Double>? = nil
  ) {
    precondition(probabilities == nil || listed == nil, "probabilities of listed rows")
    let k = classCount
    sumWaves(
      kernel, columns: columnKernel, parameters: parameters, rowCount: rowTotal, listed: listed,
      wantGradient: wantGradient, totals: &totals, workspace: &workspace
    ) { row, byColumn, bias, residual, wantResidual in
      kernel.forward(
        row: row, weightsByColumn: byColumn, bias: bias, residual: residual,
        wantResidual: wantResidual, probabilities: probabilities.map { $0 + row * k })
    }
  }

  /// Adds rows `0..<rowCount` of `kernel` to the Hessian product whose
  /// direction ``begin(_:gradient:wantGradient:workspace:)`` laid out
  /// (in place of the weights): each row's `r = s·(p ⊙ δz − p·(pᵀδz))`,
  /// `δz` the direction's logits and `p` the row's softmax at the
  /// parameters (`probabilities[row·k ..< …+k]`), goes back through the
  /// rows as a residual does. ``finish(_:gradient:wantGradient:totals:denominator:workspace:)``
  /// with the direction then gives `H·v` (its loss is meaningless). The
  /// same blocks and order as a gradient: the same bits for every thread
  /// count.
  func addHessianProduct(
    _ kernel: SparseRegressionRows, columns columnKernel: SparseRegressionColumns?,
    direction: [Double], rowCount: Int, probabilities: UnsafePointer<Double>,
    totals: inout Totals, workspace: inout Workspace
  ) {
    let k = classCount
    sumWaves(
      kernel, columns: columnKernel, parameters: direction, rowCount: rowCount, listed: nil,
      wantGradient: true, totals: &totals, workspace: &workspace
    ) { row, byColumn, bias, residual, _ in
      kernel.logits(row: row, weightsByColumn: byColumn, bias: bias, into: residual)
      let p = probabilities + row * k
      var dot = 0.0
      for j in 0..<k { dot += p[j] * residual[j] }
      let weight = kernel.rowWeights[row]
      for j in 0..<k { residual[j] = weight * p[j] * (residual[j] - dot) }
      return 0
    }
  }

  /// The waves of ``add(_:columns:parameters:rowCount:listed:wantGradient:totals:workspace:probabilities:)``,
  /// with `forward(row, weightsByColumn, bias, residual, wantResidual)`
  /// giving a row's loss and its residual (`k` values).
  private func sumWaves(
    _ kernel: SparseRegressionRows, columns columnKernel: SparseRegressionColumns?,
    parameters: [Double], rowCount rowTotal: Int, listed: [Int]?, wantGradient: Bool,
    totals: inout Totals, workspace: inout Workspace,
    forward: (
      _ row: Int, _ weightsByColumn: UnsafePointer<Double>, _ bias: UnsafePointer<Double>,
      _ residual: UnsafeMutablePointer<Double>, _ wantResidual: Bool
    ) -> Double
  ) {
    let k = classCount
    let d = featureCount
    let weightCount = k * d
    let waveRows = min(Self.waveRows(classCount: k), max(rowTotal, 1))
    let blocksPerWave = (waveRows + Self.blockRows - 1) / Self.blockRows
    if workspace.residuals.count < waveRows * k {
      workspace.residuals = [Double](repeating: 0, count: waveRows * k)
    }
    if workspace.partials.count < blocksPerWave * (k + 1) {
      workspace.partials = [Double](repeating: 0, count: blocksPerWave * (k + 1))
    }
    let averageEntries = self.averageEntries
    var loss = totals.loss
    var biasGradient = totals.biasGradient
    parameters.withUnsafeBufferPointer { p in
      workspace.weightsByColumn.withUnsafeBufferPointer { byColumn in
        workspace.gradientByColumn.withUnsafeMutableBufferPointer { gradientByColumn in
          workspace.residuals.withUnsafeMutableBufferPointer { residuals in
            workspace.partials.withUnsafeMutableBufferPointer { partials in
              guard let p = p.baseAddress, let byColumn = byColumn.baseAddress,
                let residuals = residuals.baseAddress, let partials = partials.baseAddress
              else { return }
              let bias = p + weightCount
              let gradientOut = wantGradient ? gradientByColumn.baseAddress : nil
              var first = 0
              while first < rowTotal {
                let count = min(waveRows, rowTotal - first)
                let blocks = (count + Self.blockRows - 1) / Self.blockRows
                let start = first
                func row(_ r: Int) -> Int { listed?[start + r] ?? start + r }
                // Forward: each block's loss and bias gradient on its own,
                // the blocks taken by whichever thread is free (documents
                // differ in length: an even split of the blocks left one
                // thread waiting for the other).
                parallelForEach(count: blocks, cost: Self.blockRows * averageEntries * k) { block in
                  let partial = partials + block * (k + 1)
                  partial.update(repeating: 0, count: k + 1)
                  let rows = (block * Self.blockRows)..<min(count, (block + 1) * Self.blockRows)
                  for r in rows {
                    let residual = residuals + r * k
                    partial[k] += forward(row(r), byColumn, bias, residual, gradientOut != nil)
                    if gradientOut != nil {
                      for j in 0..<k { partial[j] += residual[j] }
                    }
                  }
                }
                for block in 0..<blocks {
                  let partial = partials + block * (k + 1)
                  loss += partial[k]
                  for j in 0..<k { biasGradient[j] += partial[j] }
                }
                // Backward: the wave's rows in order, columns split.
                if let gradientOut {
                  let parts = columnParts()
                  parallelFor(count: parts.count, cost: count * averageEntries * k, grain: 1) {
                    begin, end in
                    for part in begin..<end {
                      if listed == nil, let columnKernel {
                        columnKernel.backward(
                          rows: start..<(start + count), columns: parts[part].clamped(to: 0..<d),
                          residuals: residuals, into: gradientOut)
                      } else {
                        for r in 0..<count {
                          kernel.backward(
                            row: row(r), residual: residuals + r * k, columns: parts[part],
                            into: gradientOut)
                        }
                      }
                    }
                  }
                }
                first += count
              }
            }
          }
        }
      }
    }
    totals.loss = loss
    totals.biasGradient = biasGradient
  }

  /// `loss / denominator`, the penalty `(λ₂/2)·‖W‖²`, and the gradient
  /// laid out by class: `∂/∂w_jc = g_cj·(1/σ_c)/denominator + λ₂·w_jc`.
  func finish(
    _ parameters: [Double], gradient: inout [Double], wantGradient: Bool, totals: Totals,
    denominator: Double, workspace: Workspace
  ) -> (data: Double, penalty: Double) {
    let k = classCount
    let weightCount = k * featureCount
    // ‖W‖² in the solvers' chunked order, on the worker threads (one
    // running sum waited on each addition: about 40 ms an evaluation at
    // 23M weights).
    let squares = parameters.withUnsafeBufferPointer { w -> Double in
      guard let w = w.baseAddress else { return 0 }
      return chunkedSum(weightCount) { Double.dotChunk(w, w, $0) }
    }
    let scale = denominator > 0 ? 1 / denominator : 0
    if wantGradient {
      layOutByClass(
        workspace.gradientByColumn, parameters: parameters, scale: scale, into: &gradient)
      for j in 0..<k { gradient[weightCount + j] = totals.biasGradient[j] * scale }
    }
    // A loss that overflowed is +inf, never NaN (see the dense objective).
    let data = totals.loss * scale
    return (
      data.isNaN ? .infinity : data,
      l2Penalty(parameters, weightCount: weightCount, l2: l2, sumOfSquares: squares)
    )
  }

  /// The columns split into one range per thread, with about as many
  /// stored entries each (the last range open-ended; one open range on
  /// one thread). The split changes no result.
  private func columnParts() -> [Range<Int>] {
    let threads = max(1, SoftmaxConfiguration.threadCount)
    let d = featureCount
    let total = columnEntries[d]
    guard threads > 1, d > 1, total > 0 else { return [0..<Int.max] }
    var bounds = [0]
    for part in 1..<threads {
      // The first column at which the entries before it reach the share.
      let target = total * part / threads
      var low = bounds[bounds.count - 1]
      var high = d
      while low < high {
        let middle = (low + high) / 2
        if columnEntries[middle] < target { low = middle + 1 } else { high = middle }
      }
      bounds.append(low)
    }
    var parts: [Range<Int>] = []
    for part in 0..<threads {
      let lower = bounds[part]
      let upper = part + 1 < threads ? bounds[part + 1] : Int.max
      if lower < upper { parts.append(lower..<upper) }
    }
    return parts
  }

  /// `gradient[j·d + c] = byColumn[c·k + j]·(1/σ_c)·scale + λ₂·w_jc`.
  private func layOutByClass(
    _ byColumn: [Double], parameters: [Double], scale: Double, into gradient: inout [Double]
  ) {
    let k = classCount
    let d = featureCount
    let l2 = self.l2
    let inverseScale = self.inverseScale
    byColumn.withUnsafeBufferPointer { byColumn in
      parameters.withUnsafeBufferPointer { w in
        gradient.withUnsafeMutableBufferPointer { g in
          guard let byColumn = byColumn.baseAddress, let w = w.baseAddress,
            let g = g.baseAddress
          else { return }
          parallelFor(count: d, cost: k, grain: 1024) { begin, end in
            // Tiles of 16 columns, a class at a time: the tile's k·16
            // values of `byColumn` stay in the first-level cache while
            // each class writes a run of 16.
            var tile = begin
            while tile < end {
              let block = tile..<min(end, tile + 16)
              for j in 0..<k {
                let row = j &* d
                if let inverseScale {
                  for c in block {
                    g[row &+ c] =
                      byColumn[c &* k &+ j] * (inverseScale[c] * scale) + l2 * w[row &+ c]
                  }
                } else {
                  for c in block {
                    g[row &+ c] = byColumn[c &* k &+ j] * scale + l2 * w[row &+ c]
                  }
                }
              }
              tile = block.upperBound
            }
          }
        }
      }
    }
  }
}
