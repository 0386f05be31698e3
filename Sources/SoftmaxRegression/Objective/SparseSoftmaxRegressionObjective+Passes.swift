//===--- SparseSoftmaxRegressionObjective+Passes.swift --------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

// The evaluation of the sparse objective: the weights laid out by column,
// then waves of rows — a forward pass in blocks of rows (in parallel, the
// blocks' sums added in block order) leaving each row's residual, and a
// backward pass over the wave's rows in order, with the columns split
// among the threads — and the gradient laid back out by class.

extension SparseSoftmaxRegressionObjective {
  /// The rows of a wave: at most 64 blocks, and at most 64 MiB of
  /// residuals.
  static func waveRows(classCount k: Int) -> Int {
    blockRows * max(1, min(64, (64 << 20) / 8 / max(1, blockRows * k)))
  }

  /// `loss / denominator` over `listed` rows (every row when `nil`), the
  /// penalty `(λ₂/2)·‖W‖²`, and the gradient of their sum.
  func evaluate(
    _ parameters: [Double], rows listed: [Int]?, gradient: inout [Double], wantGradient: Bool,
    denominator: Double, workspace: inout Workspace
  ) -> (data: Double, penalty: Double) {
    let k = classCount
    let d = featureCount
    let weightCount = k * d
    precondition(
      parameters.count == parameterCount,
      "\(parameters.count) parameters; the objective has \(parameterCount)")
    // At least one value each, so that the buffers have an address.
    let byColumnCount = max(weightCount, 1)
    if workspace.weightsByColumn.count != byColumnCount {
      workspace.weightsByColumn = zeroedLargeArray(count: byColumnCount)
    }
    if wantGradient {
      if workspace.gradientByColumn.count != byColumnCount {
        workspace.gradientByColumn = zeroedLargeArray(count: byColumnCount)
      }
      if gradient.count != parameterCount {
        gradient = [Double](repeating: 0, count: parameterCount)
      }
    }
    let rowTotal = listed?.count ?? rowCount
    let waveRows = min(Self.waveRows(classCount: k), max(rowTotal, 1))
    let blocksPerWave = (waveRows + Self.blockRows - 1) / Self.blockRows
    if workspace.residuals.count != waveRows * k {
      workspace.residuals = [Double](repeating: 0, count: waveRows * k)
    }
    if workspace.partials.count != blocksPerWave * (k + 1) {
      workspace.partials = [Double](repeating: 0, count: blocksPerWave * (k + 1))
    }
    var loss = 0.0
    var biasGradient = [Double](repeating: 0, count: k)
    let averageEntries = max(1, features.nonZeroCount / max(rowCount, 1))
    withKernel { kernel, columnKernel in
      parameters.withUnsafeBufferPointer { p in
        workspace.weightsByColumn.withUnsafeMutableBufferPointer { byColumn in
          workspace.gradientByColumn.withUnsafeMutableBufferPointer { gradientByColumn in
            workspace.residuals.withUnsafeMutableBufferPointer { residuals in
              workspace.partials.withUnsafeMutableBufferPointer { partials in
                guard let p = p.baseAddress, let byColumn = byColumn.baseAddress,
                  let residuals = residuals.baseAddress, let partials = partials.baseAddress
                else { return }
                layOutByColumn(p, into: byColumn)
                let gradientOut = wantGradient ? gradientByColumn.baseAddress : nil
                if let gradientOut {
                  initializeInParallel(gradientOut, repeating: 0, count: weightCount)
                }
                let bias = p + weightCount
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
                  parallelForEach(count: blocks, cost: Self.blockRows * averageEntries * k) {
                    block in
                    let partial = partials + block * (k + 1)
                    partial.update(repeating: 0, count: k + 1)
                    let rows = (block * Self.blockRows)..<min(count, (block + 1) * Self.blockRows)
                    for r in rows {
                      let residual = residuals + r * k
                      partial[k] += kernel.forward(
                        row: row(r), weightsByColumn: byColumn, bias: bias, residual: residual,
                        wantResidual: gradientOut != nil)
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
                            rows: start..<(start + count),
                            columns: parts[part].clamped(to: 0..<d), residuals: residuals,
                            into: gradientOut)
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
    }
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
      for j in 0..<k { gradient[weightCount + j] = biasGradient[j] * scale }
    }
    // A loss that overflowed is +inf, never NaN (see the dense objective).
    let data = loss * scale
    return (
      data.isNaN ? .infinity : data,
      l2Penalty(parameters, weightCount: weightCount, l2: l2, sumOfSquares: squares)
    )
  }

  /// Calls `body` with the kernel over this objective's rows, and over its
  /// entries by column when it keeps them (values of a type other than
  /// `Float` and `Double`, as `Float16`, are converted to `Double` for the
  /// call).
  private func withKernel(
    _ body: (SparseRegressionRows, SparseRegressionColumns?) -> Void
  ) {
    withValues(features.values) { values in
      withColumnKernel { columnKernel in
        withKernel(values: values) { body($0, columnKernel) }
      }
    }
  }

  /// Calls `body` with the kernel over the entries by column, `nil` when
  /// they are not kept.
  private func withColumnKernel(_ body: (SparseRegressionColumns?) -> Void) {
    guard let entriesByColumn else { return body(nil) }
    func call(_ values: SparseRegressionRows.Values?) {
      entriesByColumn.rows.withUnsafeBufferPointer { rows in
        columnEntries.withUnsafeBufferPointer { offsets in
          guard let values, let rows = rows.baseAddress, let offsets = offsets.baseAddress
          else { return body(nil) }
          body(
            SparseRegressionColumns(
              offsets: offsets, rows: rows, values: values, classCount: classCount))
        }
      }
    }
    switch entriesByColumn.values {
    case .float(let values):
      values.withUnsafeBufferPointer { call($0.baseAddress.map { .float($0) }) }
    case .double(let values):
      values.withUnsafeBufferPointer { call($0.baseAddress.map { .double($0) }) }
    }
  }

  /// Calls `body` with `values` as the kernels take them (`nil` when empty).
  private func withValues(
    _ values: [T], _ body: (SparseRegressionRows.Values?) -> Void
  ) {
    if T.self != Float.self && T.self != Double.self {
      let converted = values.map { Double($0) }
      converted.withUnsafeBufferPointer { values in
        body(values.baseAddress.map { .double($0) })
      }
    } else {
      values.withUnsafeBufferPointer { values in
        let raw = values.baseAddress.map(UnsafeRawPointer.init)
        body(
          raw.map {
            T.self == Float.self
              ? .float($0.assumingMemoryBound(to: Float.self))
              : .double($0.assumingMemoryBound(to: Double.self))
          })
      }
    }
  }

  private func withKernel(
    values: SparseRegressionRows.Values?, _ body: (SparseRegressionRows) -> Void
  ) {
    features.rowOffsets.withUnsafeBufferPointer { offsets in
      features.columnIndices.withUnsafeBufferPointer { columns in
        rows.labels.withUnsafeBufferPointer { labels in
          rows.rowWeights.withUnsafeBufferPointer { weights in
            // Empty arrays may have no base address: a 1-entry stand-in
            // is never read (no row has entries then).
            let column0: Int32 = 0
            let value0 = 0.0
            withUnsafePointer(to: column0) { column0 in
              withUnsafePointer(to: value0) { value0 in
                guard let offsets = offsets.baseAddress, let labels = labels.baseAddress,
                  let weights = weights.baseAddress
                else { return }
                body(
                  SparseRegressionRows(
                    rowOffsets: offsets, columnIndices: columns.baseAddress ?? column0,
                    values: values ?? .double(value0), classCount: classCount,
                    labels: labels, rowWeights: weights))
              }
            }
          }
        }
      }
    }
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

  /// `byColumn[c·k + j] = w_jc/σ_c` from the parameters `[W (k × d), b]`.
  private func layOutByColumn(
    _ parameters: UnsafePointer<Double>, into byColumn: UnsafeMutablePointer<Double>
  ) {
    layOutWeightsByColumn(
      parameters, classes: classCount, columns: featureCount, columnScale: inverseScale,
      into: byColumn)
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
