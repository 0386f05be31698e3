//===--- SoftmaxRegressionObjective+Blocks.swift --------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

// The blocked, deterministic reduction behind every evaluation: blocks of
// rows are computed in parallel by SoftmaxCore's fused kernel, each into
// its own partial sums, and added to the totals one after another in
// block order.

extension SoftmaxRegressionObjective {
  /// Blocks computed at once, each into its own partial sums, before they
  /// are added to the running total in block order: at most 32, and at
  /// most 64 MiB of partial sums. (The result does not depend on it: the
  /// blocks are always added one after another, in order.)
  static func blocksPerWave(stride: Int) -> Int {
    max(1, min(32, (64 << 20) / 8 / max(stride, 1)))
  }

  /// ``sumBlocks(_:blockCount:gradient:wantGradient:denominator:workspace:rows:)``
  /// over listed rows, in blocks of ``minibatchBlockRows``, divided by their
  /// sample-weight sum (their count without sample weights).
  func sumBlocks(
    rows: [Int], _ parameters: [Double], gradient: inout [Double], wantGradient: Bool,
    workspace: inout Workspace
  ) -> (data: Double, penalty: Double) {
    let n = features.rows
    precondition(!rows.isEmpty, "no rows")
    precondition(rows.allSatisfy { $0 >= 0 && $0 < n }, "a row is out of 0..<\(n)")
    var denominator = Double(rows.count)
    if let sampleWeights {
      denominator = 0
      for row in rows { denominator += sampleWeights[row] }
    }
    let blockRows = Self.minibatchBlockRows
    let blocks = (rows.count + blockRows - 1) / blockRows
    return rows.withUnsafeBufferPointer { indices in
      sumBlocks(
        parameters, blockCount: blocks, gradient: &gradient, wantGradient: wantGradient,
        denominator: denominator, workspace: &workspace
      ) { block in
        let begin = block * blockRows
        let end = min(indices.count, begin + blockRows)
        return .indices(UnsafeBufferPointer(rebasing: indices[begin..<end]))
      }
    }
  }

  /// Sums the blocks `rows(0)…rows(blockCount − 1)`: in waves of
  /// ``blocksPerWave(stride:)`` blocks computed in parallel, each into its
  /// own slice of the workspace's partial sums, then added to the totals
  /// in block order; returns `loss / denominator` and `(λ₂/2)·‖W‖²`, and
  /// the gradient of their sum. Memory: one wave of partial sums, whatever
  /// the row count; the result is bitwise the same for every thread count.
  func sumBlocks(
    _ parameters: [Double], blockCount: Int, gradient: inout [Double], wantGradient: Bool,
    denominator: Double, workspace: inout Workspace, rows: (Int) -> BlockRows
  ) -> (data: Double, penalty: Double) {
    let k = classCount
    let d = featureCount
    let weightCount = k * d
    precondition(
      parameters.count == parameterCount,
      "\(parameters.count) parameters; the objective has \(parameterCount)")
    let stride = weightCount + k + 1
    let wave = min(Self.blocksPerWave(stride: stride), max(blockCount, 1))
    if workspace.partials.count != wave * stride {
      workspace.partials = [Double](repeating: 0, count: wave * stride)
    }
    if usesFloatKernel {
      // The parameters rounded into buffers kept from call to call (no
      // allocation per minibatch step).
      roundToFloat(parameters, into: &workspace)
    }
    if wantGradient && gradient.count != parameterCount {
      gradient = [Double](repeating: 0, count: parameterCount)
    }
    // gradient[0..<weightCount + k] holds the running sums of the blocks'
    // gradients until the end; the loss is summed from 0.
    var loss = 0.0
    withBlockKernel(
      parameters, floatWeights: workspace.floatWeights, floatBias: workspace.floatBias
    ) { accumulate in
      workspace.partials.withUnsafeMutableBufferPointer { partialBuffer in
        gradient.withUnsafeMutableBufferPointer { totals in
          guard let partialBase = partialBuffer.baseAddress else { return }
          var first = 0
          while first < blockCount {
            let count = min(wave, blockCount - first)
            parallelFor(count: count, cost: Self.blockRows * d * k * 2, grain: 1) { begin, end in
              for slot in begin..<end {
                let out = partialBase + slot * stride
                out.initialize(repeating: 0, count: stride)
                accumulate(rows(first + slot), wantGradient, out)
              }
            }
            for slot in 0..<count { loss += partialBase[slot * stride + weightCount + k] }
            if wantGradient, let totals = totals.baseAddress {
              // Blocks in order for every index (split across threads by
              // index, which does not change any index's order).
              let isFirstWave = first == 0
              parallelFor(count: weightCount + k, cost: count, grain: 4096) { begin, end in
                for slot in 0..<count {
                  let partial = partialBase + slot * stride
                  if isFirstWave && slot == 0 {
                    (totals + begin).update(from: partial + begin, count: end - begin)
                  } else {
                    for index in begin..<end { totals[index] += partial[index] }
                  }
                }
              }
            }
            first += count
          }
        }
      }
    }
    let scale = denominator > 0 ? 1 / denominator : 0
    let l2 = self.l2
    var squares = 0.0
    gradient.withUnsafeMutableBufferPointer { g in
      parameters.withUnsafeBufferPointer { w in
        for index in 0..<weightCount { squares += w[index] * w[index] }
        guard wantGradient else { return }
        for index in 0..<(weightCount + k) {
          g[index] = g[index] * scale + (index < weightCount ? l2 * w[index] : 0)
        }
      }
    }
    // A loss that overflowed (logits beyond Double: inf − inf) is +inf,
    // never NaN: finite parameters have a loss ≥ 0.
    let data = loss * scale
    return (
      data.isNaN ? .infinity : data,
      l2Penalty(parameters, weightCount: weightCount, l2: l2, sumOfSquares: squares)
    )
  }

  /// Rounds `[W, b]` into the workspace's Float weights and biases.
  private func roundToFloat(_ parameters: [Double], into workspace: inout Workspace) {
    let weightCount = classCount * featureCount
    if workspace.floatWeights.count != weightCount {
      workspace.floatWeights = [Float](repeating: 0, count: weightCount)
      workspace.floatBias = [Float](repeating: 0, count: classCount)
    }
    parameters.withUnsafeBufferPointer { p in
      workspace.floatWeights.withUnsafeMutableBufferPointer { w in
        for i in 0..<weightCount { w[i] = Float(p[i]) }
      }
      workspace.floatBias.withUnsafeMutableBufferPointer { b in
        for j in 0..<classCount { b[j] = Float(p[weightCount + j]) }
      }
    }
  }

  /// Calls `body` with the block kernel for these parameters: SoftmaxCore's
  /// fused block in `Float` (the workspace's rounded parameters) or in
  /// `Double`, each with its scratch.
  private func withBlockKernel(
    _ parameters: [Double], floatWeights: [Float], floatBias: [Float],
    _ body: (_ accumulate: (BlockRows, Bool, UnsafeMutablePointer<Double>) -> Void) -> Void
  ) {
    let k = classCount
    let d = featureCount
    labels.withUnsafeBufferPointer { labels in
      rowWeights.withUnsafeBufferPointer { rowWeights in
        guard let labels = labels.baseAddress, let rowWeights = rowWeights.baseAddress else {
          return
        }
        if usesFloatKernel {
          features.elements.withUnsafeBytes { raw in
            floatWeights.withUnsafeBufferPointer { w in
              floatBias.withUnsafeBufferPointer { b in
                withOptionalPointers(floatStandardization) { mean, inverseScale in
                  guard let x = raw.baseAddress?.assumingMemoryBound(to: Float.self),
                    let w = w.baseAddress, let b = b.baseAddress
                  else { return }
                  let kernel = RegressionBlock(
                    x: x, featureCount: d, classCount: k, weights: w, bias: b, mean: mean,
                    inverseScale: inverseScale, labels: labels, rowWeights: rowWeights)
                  body { rows, wantGradient, out in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, rows.count * k))
                    {
                      scratch in
                      guard let scratch = scratch.baseAddress else { return }
                      kernel.accumulate(
                        rows, wantGradient: wantGradient, scratch: scratch, into: out)
                    }
                  }
                }
              }
            }
          }
          return
        }
        let weights = Array(parameters[0..<(k * d)])
        let bias = Array(parameters[(k * d)...])
        let mean = standardization?.mean ?? []
        let inverseScale = standardization?.inverseScale ?? []
        doubleFeatures.withUnsafeBufferPointer { x in
          weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
              mean.withUnsafeBufferPointer { mean in
                inverseScale.withUnsafeBufferPointer { inverseScale in
                  guard let x = x.baseAddress, let w = w.baseAddress, let b = b.baseAddress else {
                    return
                  }
                  let kernel = RegressionBlock(
                    x: x, featureCount: d, classCount: k, weights: w, bias: b,
                    mean: mean.isEmpty ? nil : mean.baseAddress,
                    inverseScale: inverseScale.isEmpty ? nil : inverseScale.baseAddress,
                    labels: labels, rowWeights: rowWeights)
                  body { rows, wantGradient, out in
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: d + k) { scratch in
                      guard let scratch = scratch.baseAddress else { return }
                      kernel.accumulate(
                        rows, wantGradient: wantGradient, scratch: scratch, into: out)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// Calls `body` with pointers to a Float standardization, or two `nil`s.
private func withOptionalPointers<R>(
  _ standardization: (mean: [Float], inverseScale: [Float])?,
  _ body: (UnsafePointer<Float>?, UnsafePointer<Float>?) -> R
) -> R {
  guard let standardization else { return body(nil, nil) }
  return standardization.mean.withUnsafeBufferPointer { mean in
    standardization.inverseScale.withUnsafeBufferPointer { inverseScale in
      body(mean.baseAddress, inverseScale.baseAddress)
    }
  }
}
