//===--- DenseBlockSum.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// The blocked, deterministic reduction behind every evaluation of softmax
/// regression on dense rows, in memory or streamed: blocks of rows are
/// computed in parallel by SoftmaxCore's fused kernel, each into its own
/// partial sums, and added to the running totals one after another in
/// block order.
///
/// An evaluation is ``begin(_:gradient:wantGradient:workspace:)``, then
/// ``add(_:firstRow:blockCount:gradient:wantGradient:totals:workspace:rows:)``
/// once for the whole matrix or once per chunk of a stream, then
/// ``finish(_:gradient:wantGradient:totals:denominator:)``. The totals are
/// a left fold over the blocks, whatever calls they come in: chunks that
/// hold whole blocks give the bits of the matrix in one call, for every
/// thread count.
struct DenseBlockSum<T: SoftmaxScalar>: Sendable {
  /// `k`.
  let classCount: Int
  /// `d`.
  let featureCount: Int
  /// The class of every row.
  private(set) var labels: [Int]
  /// `sᵢ·c_yᵢ` of every row.
  private(set) var rowWeights: [Double]
  /// λ₂.
  let l2: Double
  /// Applied to every row on the fly, if given.
  let standardization: Standardization?
  /// The standardization rounded to Float, when the Float kernel runs.
  let floatStandardization: (mean: [Float], inverseScale: [Float])?
  /// Whether the Float kernel runs (Float features, 64-bit Int, a
  /// standardization that Float holds).
  let usesFloatKernel: Bool

  init(
    classCount: Int, featureCount: Int, labels: [Int], rowWeights: [Double], l2: Double,
    standardization: Standardization?
  ) {
    // The Float kernel reads the features as they are, the labels as Int64
    // (64-bit platforms), and the standardization in Float: only when its
    // values are Floats (a scale below 1e-38 has a reciprocal that is not).
    let floatKernel =
      T.self == Float.self && MemoryLayout<Int>.size == 8
      && (standardization.map(Self.floatRepresents) ?? true)
    self.classCount = classCount
    self.featureCount = featureCount
    self.labels = labels
    self.rowWeights = rowWeights
    self.l2 = l2
    self.standardization = standardization
    self.usesFloatKernel = floatKernel
    self.floatStandardization =
      floatKernel
      ? standardization.map { ($0.mean.map { Float($0) }, $0.inverseScale.map { Float($0) }) }
      : nil
  }

  /// The same sums over other rows: `labels` and `rowWeights` of the rows
  /// a call reads (a minibatch gathered into a buffer of its own).
  func replacingRows(labels: [Int], rowWeights: [Double]) -> DenseBlockSum {
    var copy = self
    copy.labels = labels
    copy.rowWeights = rowWeights
    return copy
  }

  /// Whether the Float kernel can use `standardization`: every mean and
  /// every reciprocal scale is a finite `Float`, and no reciprocal rounds
  /// to 0 (a scale below 1e-38 has a reciprocal beyond `Float`).
  static func floatRepresents(_ standardization: Standardization) -> Bool {
    standardization.mean.allSatisfy { Float($0).isFinite }
      && standardization.inverseScale.allSatisfy { Float($0).isFinite && Float($0) != 0 }
  }

  /// What an evaluation writes: partial sums of a wave of blocks, and the
  /// parameters rounded to `Float` for the Float kernel. One per caller.
  struct Workspace {
    var partials: [Double] = []
    var floatWeights: [Float] = []
    var floatBias: [Float] = []
  }

  /// The loss summed so far and how many blocks went into the totals.
  struct Totals {
    var loss = 0.0
    var blocks = 0
  }

  /// The features a call reads: `Float` for the Float kernel, `Double`
  /// otherwise.
  enum Features {
    case float(UnsafePointer<Float>)
    case double(UnsafePointer<Double>)
  }

  /// Calls `body` with the rows `x` as the kernel reads them: the Floats
  /// themselves for the Float kernel, the Doubles themselves, or (other
  /// scalars) converted into `scratch`, grown as needed.
  func withFeatures(
    _ x: UnsafeBufferPointer<T>, scratch: inout [Double], _ body: (Features) -> Void
  ) {
    guard let base = x.baseAddress else { return }
    let raw = UnsafeRawPointer(base)
    if usesFloatKernel {
      body(.float(raw.assumingMemoryBound(to: Float.self)))
    } else if T.self == Double.self {
      body(.double(raw.assumingMemoryBound(to: Double.self)))
    } else {
      if scratch.count < x.count { scratch = [Double](repeating: 0, count: x.count) }
      for index in 0..<x.count { scratch[index] = Double(x[index]) }
      scratch.withUnsafeBufferPointer { converted in
        if let converted = converted.baseAddress { body(.double(converted)) }
      }
    }
  }

  /// `k·d + k` parameters.
  var parameterCount: Int { classCount * (featureCount + 1) }

  /// Blocks computed at once, each into its own partial sums, before they
  /// are added to the running total in block order: at most 32, and at
  /// most 64 MiB of partial sums. (The result does not depend on it: the
  /// blocks are always added one after another, in order.)
  static func blocksPerWave(stride: Int) -> Int {
    max(1, min(32, (64 << 20) / 8 / max(stride, 1)))
  }

  /// Starts an evaluation: checks the parameters' count, rounds them for
  /// the Float kernel and sizes the gradient.
  func begin(
    _ parameters: [Double], gradient: inout [Double], wantGradient: Bool,
    workspace: inout Workspace
  ) {
    precondition(
      parameters.count == parameterCount,
      "\(parameters.count) parameters; the objective has \(parameterCount)")
    if usesFloatKernel {
      // The parameters rounded into buffers kept from call to call (no
      // allocation per minibatch step).
      roundToFloat(parameters, into: &workspace)
    }
    if wantGradient && gradient.count != parameterCount {
      gradient = [Double](repeating: 0, count: parameterCount)
    }
  }

  /// Adds the blocks `rows(0)…rows(blockCount − 1)` of `x` to the totals:
  /// in waves of ``blocksPerWave(stride:)`` blocks computed in parallel,
  /// each into its own slice of the workspace's partial sums, then added
  /// to `totals` and to `gradient[0..<k·d + k]` in block order. Rows are
  /// numbered from `x`; their labels and weights are those of rows
  /// `firstRow + r`.
  ///
  /// With `onBlock`, each block's `k·d + k + 1` sums (`[∂W, ∂b, loss]`)
  /// go to it instead, in block order, and the totals are left alone.
  ///
  /// - Precondition: ``begin(_:gradient:wantGradient:workspace:)`` was
  ///   called with these parameters; `x` is `.float` exactly when the
  ///   Float kernel runs.
  func add(
    _ x: Features, parameters: [Double], firstRow: Int, blockCount: Int,
    gradient: inout [Double], wantGradient: Bool, totals: inout Totals,
    workspace: inout Workspace, rows: (Int) -> BlockRows,
    probabilities: ProbabilityStore? = nil,
    onBlock: ((_ block: Int, _ partial: UnsafePointer<Double>) -> Void)? = nil
  ) {
    guard blockCount > 0 else { return }
    withBlockKernel(
      x, parameters: parameters, firstRow: firstRow, floatWeights: workspace.floatWeights,
      floatBias: workspace.floatBias
    ) { kernel in
      sumWaves(
        blockCount: blockCount, stride: parameterCount + 1,
        cost: 256 * featureCount * classCount * 2, gradient: &gradient,
        wantGradient: wantGradient, totals: &totals, partials: &workspace.partials,
        onBlock: onBlock
      ) { block, out in
        kernel.accumulate(
          rows(block), wantGradient: wantGradient, probabilities: probabilities, into: out)
      }
    }
  }

  /// Computes blocks `0..<blockCount` in waves of ``blocksPerWave(stride:)``
  /// in parallel, `body(block, out)` adding each block's `stride` sums
  /// (`[∂W, ∂b, loss]`, or `[∂W, ∂b]` when `stride` is `k·d + k`) into
  /// its zeroed slice of `partials`; then adds them to `totals` and to
  /// `gradient[0..<k·d + k]` in block order (or hands each to `onBlock`,
  /// in block order). The same bits for every thread count.
  private func sumWaves(
    blockCount: Int, stride: Int, cost: Int, gradient: inout [Double], wantGradient: Bool,
    totals: inout Totals, partials: inout [Double],
    onBlock: ((_ block: Int, _ partial: UnsafePointer<Double>) -> Void)?,
    _ body: (_ block: Int, _ out: UnsafeMutablePointer<Double>) -> Void
  ) {
    let sums = parameterCount
    let wave = min(Self.blocksPerWave(stride: stride), blockCount)
    if partials.count < wave * stride {
      partials = [Double](repeating: 0, count: wave * stride)
    }
    var loss = totals.loss
    var blocksAdded = totals.blocks
    partials.withUnsafeMutableBufferPointer { partialBuffer in
      gradient.withUnsafeMutableBufferPointer { totals in
        guard let partialBase = partialBuffer.baseAddress else { return }
        var first = 0
        while first < blockCount {
          let count = min(wave, blockCount - first)
          parallelFor(count: count, cost: cost, grain: 1) { begin, end in
            for slot in begin..<end {
              let out = partialBase + slot * stride
              out.initialize(repeating: 0, count: stride)
              body(first + slot, out)
            }
          }
          if let onBlock {
            // Each block's sums to the caller, in block order, instead of
            // the running totals.
            for slot in 0..<count { onBlock(first + slot, partialBase + slot * stride) }
          } else if stride > sums {
            for slot in 0..<count { loss += partialBase[slot * stride + sums] }
          }
          if onBlock == nil, wantGradient, let totals = totals.baseAddress {
            // Blocks in order for every index (split across threads by
            // index, which does not change any index's order). The very
            // first block is copied, the others added.
            let copiesFirst = blocksAdded == 0
            parallelFor(count: sums, cost: count, grain: 4096) { begin, end in
              for slot in 0..<count {
                let partial = partialBase + slot * stride
                if copiesFirst && slot == 0 {
                  (totals + begin).update(from: partial + begin, count: end - begin)
                } else {
                  for index in begin..<end { totals[index] += partial[index] }
                }
              }
            }
          }
          blocksAdded += count
          first += count
        }
      }
    }
    totals.loss = loss
    totals.blocks = blocksAdded
  }

  /// Where a full pass keeps each row's softmax probabilities at the
  /// parameters it evaluates (the state of ``addHessianProduct(_:direction:probabilities:firstRow:rowCount:product:totals:workspace:)``):
  /// `rows × k` values from row `firstRow` of the pass, in `Float` for
  /// the Float kernel, `Double` otherwise.
  enum ProbabilityStore {
    case float(UnsafeMutablePointer<Float>)
    case double(UnsafeMutablePointer<Double>)
  }

  /// Adds blocks of `Σᵢ sᵢ·[rᵢ·x̃ᵢᵀ, rᵢ]` (the Hessian of the summed loss
  /// times `direction = [V, c]`) to `product` (`k·d + k`), the blocks
  /// `firstRow + 256·b ..< …` of `x` as ``add(_:parameters:firstRow:blockCount:gradient:wantGradient:totals:workspace:rows:probabilities:onBlock:)``
  /// numbers them, in block order: the same bits for every thread count.
  /// `probabilities` holds the softmax of those rows at the parameters,
  /// from a pass that stored them; `rowCount` is the rows of `x`.
  func addHessianProduct(
    _ x: Features, direction: [Double], probabilities: ProbabilityStore, firstRow: Int,
    rowCount: Int, product: inout [Double], totals: inout Totals, workspace: inout Workspace
  ) {
    let blockRows = SoftmaxRegressionObjective<T>.blockRows
    let blockCount = (rowCount + blockRows - 1) / blockRows
    let k = classCount
    let d = featureCount
    if product.count != parameterCount || blockCount == 0 {
      product = [Double](repeating: 0, count: parameterCount)
    }
    guard blockCount > 0 else { return }
    func rows(_ block: Int) -> Range<Int> {
      (block * blockRows)..<min(rowCount, (block + 1) * blockRows)
    }
    // The direction goes where the parameters go (rounded into the
    // workspace for the Float kernel; the next evaluation rounds its own).
    if usesFloatKernel { roundToFloat(direction, into: &workspace) }
    withBlockKernel(
      x, parameters: direction, firstRow: firstRow, floatWeights: workspace.floatWeights,
      floatBias: workspace.floatBias
    ) { kernel in
      sumWaves(
        blockCount: blockCount, stride: parameterCount, cost: blockRows * d * k * 2,
        gradient: &product, wantGradient: true, totals: &totals, partials: &workspace.partials,
        onBlock: nil
      ) { block, out in
        kernel.hessianProduct(rows(block), probabilities: probabilities, into: out)
      }
    }
  }

  /// Ends an evaluation: returns `loss / denominator` and `(λ₂/2)·‖W‖²`,
  /// and turns the gradient's running sums into the gradient of their sum.
  func finish(
    _ parameters: [Double], gradient: inout [Double], wantGradient: Bool, totals: Totals,
    denominator: Double
  ) -> (data: Double, penalty: Double) {
    let k = classCount
    let weightCount = k * featureCount
    if wantGradient && totals.blocks == 0 {
      for index in 0..<(weightCount + k) { gradient[index] = 0 }
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
    let data = totals.loss * scale
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

  /// The fused block kernel over some rows, for one set of parameters (or
  /// a direction): SoftmaxCore's block in `Float` or in `Double`.
  enum BlockKernel {
    case float(RegressionBlock<Float>)
    case double(RegressionBlock<Double>)

    /// The kernel's sums of `rows` into `out` (``add(_:parameters:firstRow:blockCount:gradient:wantGradient:totals:workspace:rows:probabilities:onBlock:)``),
    /// each row's probabilities into `probabilities` (numbered from the
    /// pass's first row) when given, with scratch of its own.
    func accumulate(
      _ rows: BlockRows, wantGradient: Bool, probabilities: ProbabilityStore?,
      into out: UnsafeMutablePointer<Double>
    ) {
      switch self {
      case .float(let kernel):
        var stored: UnsafeMutablePointer<Float>? = nil
        if case .float(let p) = probabilities { stored = storedRows(p, rows, kernel.classCount) }
        withUnsafeTemporaryAllocation(
          of: Float.self, capacity: max(1, rows.count * kernel.classCount)
        ) { scratch in
          guard let scratch = scratch.baseAddress else { return }
          kernel.accumulate(
            rows, wantGradient: wantGradient, probabilities: stored, scratch: scratch, into: out)
        }
      case .double(let kernel):
        var stored: UnsafeMutablePointer<Double>? = nil
        if case .double(let p) = probabilities { stored = storedRows(p, rows, kernel.classCount) }
        withUnsafeTemporaryAllocation(
          of: Double.self, capacity: kernel.featureCount + kernel.classCount
        ) { scratch in
          guard let scratch = scratch.baseAddress else { return }
          kernel.accumulate(
            rows, wantGradient: wantGradient, probabilities: stored, scratch: scratch, into: out)
        }
      }
    }

    /// The Hessian product's sums of `rows` into `out` (the kernel's
    /// weights are the direction), reading the rows' probabilities from
    /// `probabilities` (numbered from the pass's first row).
    func hessianProduct(
      _ rows: Range<Int>, probabilities: ProbabilityStore, into out: UnsafeMutablePointer<Double>
    ) {
      switch (self, probabilities) {
      case (.float(let kernel), .float(let p)):
        let k = kernel.classCount
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, rows.count * k)) {
          scratch in
          guard let scratch = scratch.baseAddress else { return }
          kernel.hessianProduct(
            rows, probabilities: p + rows.lowerBound * k, scratch: scratch, into: out)
        }
      case (.double(let kernel), .double(let p)):
        let k = kernel.classCount
        withUnsafeTemporaryAllocation(of: Double.self, capacity: kernel.featureCount + k) {
          scratch in
          guard let scratch = scratch.baseAddress else { return }
          kernel.hessianProduct(
            rows, probabilities: p + rows.lowerBound * k, scratch: scratch, into: out)
        }
      default:
        preconditionFailure("probabilities of another kind than the features")
      }
    }
  }

  /// Calls `body` with the block kernel for these parameters over `x`:
  /// SoftmaxCore's fused block in `Float` (the workspace's rounded
  /// parameters) or in `Double`.
  private func withBlockKernel(
    _ x: Features, parameters: [Double], firstRow: Int, floatWeights: [Float],
    floatBias: [Float], _ body: (BlockKernel) -> Void
  ) {
    let k = classCount
    let d = featureCount
    labels.withUnsafeBufferPointer { labels in
      rowWeights.withUnsafeBufferPointer { rowWeights in
        guard let allLabels = labels.baseAddress, let allWeights = rowWeights.baseAddress else {
          return
        }
        let labels = allLabels + firstRow
        let rowWeights = allWeights + firstRow
        switch x {
        case .float(let x):
          precondition(usesFloatKernel, "Float features for the Double kernel")
          floatWeights.withUnsafeBufferPointer { w in
            floatBias.withUnsafeBufferPointer { b in
              withOptionalPointers(floatStandardization) { mean, inverseScale in
                guard let w = w.baseAddress, let b = b.baseAddress else { return }
                body(
                  .float(
                    RegressionBlock(
                      x: x, featureCount: d, classCount: k, weights: w, bias: b, mean: mean,
                      inverseScale: inverseScale, labels: labels, rowWeights: rowWeights)))
              }
            }
          }
        case .double(let x):
          precondition(!usesFloatKernel, "Double features for the Float kernel")
          let mean = standardization?.mean ?? []
          let inverseScale = standardization?.inverseScale ?? []
          parameters.withUnsafeBufferPointer { p in
            mean.withUnsafeBufferPointer { mean in
              inverseScale.withUnsafeBufferPointer { inverseScale in
                guard let p = p.baseAddress else { return }
                body(
                  .double(
                    RegressionBlock(
                      x: x, featureCount: d, classCount: k, weights: p, bias: p + k * d,
                      mean: mean.isEmpty ? nil : mean.baseAddress,
                      inverseScale: inverseScale.isEmpty ? nil : inverseScale.baseAddress,
                      labels: labels, rowWeights: rowWeights)))
              }
            }
          }
        }
      }
    }
  }
}

/// Where the probabilities of a block of `rows` (a range, numbered from
/// the pass's first row) go in a pass's store.
private func storedRows<P>(_ store: UnsafeMutablePointer<P>, _ rows: BlockRows, _ k: Int)
  -> UnsafeMutablePointer<P>
{
  guard case .range(let range) = rows else {
    preconditionFailure("probabilities of gathered rows")
  }
  return store + range.lowerBound * k
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
