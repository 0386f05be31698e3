//===--- NetworkObjective+Passes.swift ------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import _SoftmaxKernels

/// The rows of one block: a range of the features, or a minibatch's list.
enum NetworkBlock {
  case range(Range<Int>)
  case list(ArraySlice<Int>)

  /// Calls `body` with the block's row list (nil for a range) and its
  /// first row (of the range; 0 for a list): the sparse kernels' form.
  func withRows<R>(_ body: (UnsafePointer<Int>?, Int) -> R) -> R {
    switch self {
    case .range(let r): return body(nil, r.lowerBound)
    case .list(let l): return l.withUnsafeBufferPointer { body($0.baseAddress, 0) }
    }
  }

  var count: Int {
    switch self {
    case .range(let r): r.count
    case .list(let l): l.count
    }
  }

  /// The feature row of the block's `r`-th row.
  func row(_ r: Int) -> Int {
    switch self {
    case .range(let range): range.lowerBound + r
    case .list(let list): list[list.startIndex + r]
    }
  }
}

/// Where each array of an evaluation lives in the workspace's buffer, for
/// blocks of up to `rows` rows: the parameters in `T`, one block's weight
/// gradient, then per layer its input activations, its pre-activations
/// (the head's: the logits) and its deltas `∂L/∂z`. With sparse features
/// the first layer's input activations take no room (the kernels read
/// the rows' entries) and its weights are laid out by column (`W₁ᵀ`,
/// `d × w₁`) where the parameters are.
struct NetworkLayout {
  /// The most rows a block holds.
  let rows: Int
  /// Where the block gradient of layer `l` starts is
  /// `gradient + weightOffset(l)`; with sparse features the first layer
  /// has none (its gradient goes to `Double` straight from the entries),
  /// so the region starts `p₁` earlier (`p₁` the first layer's size) and
  /// holds only the other layers'.
  let gradient: Int
  let activations: [Int]
  let preactivations: [Int]
  let deltas: [Int]
  let size: Int

  init(_ architecture: NetworkArchitecture, rows: Int, sparse: Bool) {
    self.rows = rows
    let p = architecture.parameterCount
    // With sparse features no room for the first layer's block gradient.
    let skipped = sparse ? architecture.layers[0].end : 0
    gradient = p - skipped
    var next = 2 * p - skipped
    var activations: [Int] = []
    var preactivations: [Int] = []
    var deltas: [Int] = []
    for (l, layer) in architecture.layers.enumerated() {
      activations.append(next)
      next += sparse && l == 0 ? 0 : rows * layer.inputs
      preactivations.append(next)
      next += rows * layer.outputs
      deltas.append(next)
      next += rows * layer.outputs
    }
    self.activations = activations
    self.preactivations = preactivations
    self.deltas = deltas
    size = next
  }
}

extension NetworkObjective {
  /// The data part (weighted loss / `denominator`) and the penalty at
  /// `parameters` over `rows` (every row when `nil`), and the gradient of
  /// their sum into `gradient` when `wantGradient`.
  func evaluate(
    rows: [Int]?, _ parameters: [Double], gradient: inout [Double], wantGradient: Bool,
    denominator: Double, workspace: inout Workspace
  ) -> (data: Double, penalty: Double) {
    let p = parameterCount
    precondition(parameters.count == p, "\(parameters.count) parameters for a network of \(p)")
    let n = rows?.count ?? features.rowCount
    // The first block writes the gradient whole (no zeroing pass first).
    if wantGradient && (gradient.count != p || n == 0) {
      gradient = [Double](repeating: 0, count: p)
    }
    let scale = denominator > 0 ? 1 / denominator : 0
    // Dropout in a minibatch's gradient evaluation only: its masks keyed
    // by the seed and the minibatch's rows.
    let masks = rows.flatMap { rows in
      wantGradient && dropout > 0
        ? DropoutMasks(fraction: dropout, key: DropoutMasks.key(seed: dropoutSeed, rows: rows))
        : nil
    }
    let loss = gradient.withUnsafeMutableBufferPointer { g in
      run(
        .sum(
          count: n, rows: rows, deltaScale: wantGradient ? scale : nil,
          gradient: wantGradient ? g.baseAddress : nil, dropout: masks), parameters,
        workspace: &workspace)
    }
    var penalty = 0.0
    if l2 > 0 {
      // ‖W‖² in the solvers' fixed chunks on the worker threads (the same
      // bits for any thread count), λ·W added to the gradient element by
      // element.
      var squares = 0.0
      let l2 = self.l2
      parameters.withUnsafeBufferPointer { p in
        guard let p = p.baseAddress else { return }
        for range in architecture.weightRanges {
          let w = p + range.lowerBound
          squares += chunkedSum(range.count) { Double.dotChunk(w, w, $0) }
        }
        guard wantGradient else { return }
        gradient.withUnsafeMutableBufferPointer { g in
          guard let g = g.baseAddress else { return }
          for range in architecture.weightRanges {
            parallelFor(count: range.count, cost: 2, grain: 1 << 14) { begin, end in
              for i in (range.lowerBound + begin)..<(range.lowerBound + end) { g[i] += l2 * p[i] }
            }
          }
        }
      }
      penalty = 0.5 * l2 * squares
      if !penalty.isFinite || penalty == 0 && squares > 0 {
        // Overflowed or underflowed: scaled before squaring.
        let root = l2.squareRoot()
        penalty = 0
        for range in architecture.weightRanges {
          for i in range {
            let v = root * parameters[i]
            penalty += v * v
          }
        }
        penalty *= 0.5
      }
    }
    return (loss * scale, penalty)
  }

  /// The logits of `rows` at `parameters` (`rows.count × k`, in `T`).
  func logits(rows: [Int], at parameters: [Double]) -> [T] {
    var workspace = makeWorkspace()
    let k = architecture.classCount
    var logits = [T](repeating: 0, count: rows.count * k)
    logits.withUnsafeMutableBytes { out in
      _ = run(.logits(rows: rows, into: out), parameters, workspace: &workspace)
    }
    return logits
  }

  /// Runs `pass` with the parameters rounded into the workspace. The
  /// passes are bound to `Float` or `Double` when `T` is one (their loops
  /// then compile for that type, not through `T`'s generic witnesses),
  /// else to `T`.
  func run(_ pass: NetworkPass, _ parameters: [Double], workspace: inout Workspace) -> Double {
    let isSparse = if case .sparse = features { true } else { false }
    let layout = NetworkLayout(architecture, rows: Self.blockRows, sparse: isSparse)
    if workspace.buffer.count != layout.size {
      workspace.buffer = [T](repeating: 0, count: layout.size)
    }
    let mean = inputShift?.mean ?? []
    let inverseScale = inputShift?.inverseScale ?? []
    // Taken out of the workspace while the buffer is borrowed (and put
    // back after): the sparse backward's column groups.
    var grouping = workspace.columns
    workspace.columns = ColumnGrouping()
    defer { workspace.columns = grouping }
    return workspace.buffer.withUnsafeMutableBytes { buffer in
      withFeatures { x, sparse in
        mean.withUnsafeBytes { mean in
          inverseScale.withUnsafeBytes { inverseScale in
            rowWeights.withUnsafeBufferPointer { weights in
              labels.withUnsafeBufferPointer { labels in
                parameters.withUnsafeBufferPointer { parameters in
                  // An objective has a row, a feature and a class: no
                  // array here is empty.
                  guard let buffer = buffer.baseAddress, let weights = weights.baseAddress,
                    let labels = labels.baseAddress
                  else { preconditionFailure("an empty network objective") }
                  return withUnsafeMutablePointer(to: &grouping) { grouping in
                    let arrays = NetworkArrays(
                      architecture: architecture, layout: layout, buffer: buffer, features: x,
                      sparse: sparse, grouping: grouping,
                      mean: inputShift == nil || sparse != nil ? nil : mean.baseAddress,
                      inverseScale: inputShift == nil ? nil : inverseScale.baseAddress,
                      rowWeights: weights,
                      labels: labels)
                    if T.self == Float.self {
                      return NetworkPasses<Float>(arrays).run(pass, parameters)
                    } else if T.self == Double.self {
                      return NetworkPasses<Double>(arrays).run(pass, parameters)
                    }
                    return NetworkPasses<T>(arrays).run(pass, parameters)
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// Calls `body` with the dense features' elements, or the sparse rows'
  /// arrays.
  private func withFeatures<R>(_ body: (UnsafeRawPointer?, SparseRowArrays?) -> R) -> R {
    switch features {
    case .dense(let x):
      return x.elements.withUnsafeBytes { body($0.baseAddress, nil) }
    case .sparse(let x):
      return x.rowOffsets.withUnsafeBufferPointer { offsets in
        x.columnIndices.withUnsafeBufferPointer { columns in
          x.values.withUnsafeBytes { values in
            guard let offsets = offsets.baseAddress else {
              preconditionFailure("a sparse matrix has rows + 1 offsets")
            }
            // No entries at all: nil, never read.
            return body(
              nil,
              SparseRowArrays(
                offsets: offsets, columns: columns.baseAddress, values: values.baseAddress,
                averageEntries: max(1, x.nonZeroCount / max(x.rows, 1))))
          }
        }
      }
    }
  }
}

/// The CSR arrays of sparse features, values untyped.
struct SparseRowArrays {
  let offsets: UnsafePointer<Int>
  /// `nil` when no row holds an entry (then never read).
  let columns: UnsafePointer<Int32>?
  let values: UnsafeRawPointer?
  /// Entries a row holds on average (at least 1): a cost estimate.
  let averageEntries: Int
}

/// A block's stored entries grouped by column, for the first layer's
/// weight gradient: a counting sort over the block's entries that touches
/// only the columns the block holds (no pass over all `d` columns).
/// Group `g` is column `groupColumns[g]`, its entries
/// `groupStarts[g] ..< groupStarts[g + 1]` of `entryRows` (the row in the
/// block) and `entryIndex` (the stored entry), in row order.
struct ColumnGrouping {
  /// Per column, its group in the block being grouped, or −1 (between
  /// blocks every slot is −1).
  var slot: [Int32] = []
  var groupColumns: [Int32] = []
  var groupStarts: [Int] = []
  var entryRows: [Int32] = []
  var entryIndex: [Int] = []

  /// Groups the entries of `block`'s rows.
  mutating func group(_ block: NetworkBlock, _ sparse: SparseRowArrays, columnCount d: Int) {
    if slot.count != d { slot = [Int32](repeating: -1, count: d) }
    groupColumns.removeAll(keepingCapacity: true)
    groupStarts = [0]
    guard let columns = sparse.columns else { return }  // no entries anywhere
    var counts: [Int] = []
    var total = 0
    slot.withUnsafeMutableBufferPointer { slot in
      for r in 0..<block.count {
        let row = block.row(r)
        for e in sparse.offsets[row]..<sparse.offsets[row + 1] {
          let c = Int(columns[e])
          var g = slot[c]
          if g < 0 {
            g = Int32(groupColumns.count)
            slot[c] = g
            groupColumns.append(Int32(c))
            counts.append(0)
          }
          counts[Int(g)] += 1
        }
        total += sparse.offsets[row + 1] - sparse.offsets[row]
      }
    }
    groupStarts.removeAll(keepingCapacity: true)
    groupStarts.reserveCapacity(counts.count + 1)
    var next = 0
    for count in counts {
      groupStarts.append(next)
      next += count
    }
    groupStarts.append(next)
    if entryRows.count < total {
      entryRows = [Int32](repeating: 0, count: total)
      entryIndex = [Int](repeating: 0, count: total)
    }
    var cursor = Array(groupStarts.dropLast())
    slot.withUnsafeMutableBufferPointer { slot in
      entryRows.withUnsafeMutableBufferPointer { entryRows in
        entryIndex.withUnsafeMutableBufferPointer { entryIndex in
          for r in 0..<block.count {
            let row = block.row(r)
            for e in sparse.offsets[row]..<sparse.offsets[row + 1] {
              let g = Int(slot[Int(columns[e])])
              entryRows[cursor[g]] = Int32(r)
              entryIndex[cursor[g]] = e
              cursor[g] += 1
            }
          }
        }
      }
      for c in groupColumns { slot[Int(c)] = -1 }
    }
  }
}

/// The arrays of one evaluation, untyped: the workspace's buffer, the
/// features (dense, or sparse rows and their column groups) and the
/// standardization in the objective's scalar type.
struct NetworkArrays {
  let architecture: NetworkArchitecture
  let layout: NetworkLayout
  let buffer: UnsafeMutableRawPointer
  let features: UnsafeRawPointer?
  let sparse: SparseRowArrays?
  let grouping: UnsafeMutablePointer<ColumnGrouping>
  let mean: UnsafeRawPointer?
  let inverseScale: UnsafeRawPointer?
  let rowWeights: UnsafePointer<Double>
  let labels: UnsafePointer<Int>
}

/// What an evaluation asks of ``NetworkPasses``.
enum NetworkPass {
  /// Sum the blocks of `count` rows (`rows[i]`, or `i` when `rows` is
  /// nil): the weighted loss, and the gradient (deltas times
  /// `deltaScale`) added into `gradient` when both are given.
  case sum(
    count: Int, rows: [Int]?, deltaScale: Double?, gradient: UnsafeMutablePointer<Double>?,
    dropout: DropoutMasks?)
  /// Write the logits of `rows` into the buffer (`rows.count × k`
  /// scalars of the objective's type).
  case logits(rows: [Int], into: UnsafeMutableRawBufferPointer)
}

/// One evaluation's forward and backward passes over the arrays of
/// ``NetworkArrays``, bound to the scalar `E`.
struct NetworkPasses<E: SoftmaxScalar> {
  let architecture: NetworkArchitecture
  let layout: NetworkLayout
  /// The workspace: parameters in `E` at 0, then the layout's arrays.
  let base: UnsafeMutablePointer<E>
  let features: UnsafePointer<E>?
  let sparse: SparseRowArrays?
  let grouping: UnsafeMutablePointer<ColumnGrouping>
  let mean: UnsafePointer<E>?
  let inverseScale: UnsafePointer<E>?
  let rowWeights: UnsafePointer<Double>
  let labels: UnsafePointer<Int>

  init(_ arrays: NetworkArrays) {
    architecture = arrays.architecture
    layout = arrays.layout
    base = arrays.buffer.assumingMemoryBound(to: E.self)
    features = arrays.features?.assumingMemoryBound(to: E.self)
    sparse = arrays.sparse
    grouping = arrays.grouping
    mean = arrays.mean?.assumingMemoryBound(to: E.self)
    inverseScale = arrays.inverseScale?.assumingMemoryBound(to: E.self)
    rowWeights = arrays.rowWeights
    labels = arrays.labels
  }

  /// Rounds the parameters to `E` at the start of the buffer, then runs
  /// `pass`: the loss for ``NetworkPass/sum(count:rows:deltaScale:gradient:)``, 0
  /// for logits.
  func run(_ pass: NetworkPass, _ parameters: UnsafeBufferPointer<Double>) -> Double {
    let base = self.base
    // Element by element: the split between threads changes no bit.
    let first = architecture.layers[0]
    let copied = sparse == nil ? 0 : first.biasOffset
    parallelFor(count: parameters.count - copied, cost: 2, grain: 1 << 12) { begin, end in
      for i in (copied + begin)..<(copied + end) { base[i] = E(parameters[i]) }
    }
    if let sparse {
      // W₁ by column: the w₁ weights of an input side by side; for a few
      // rows (a minibatch) only the columns their entries name, which is
      // all the forward pass reads.
      let (d, h) = (first.inputs, first.outputs)
      let listed: [Int]? =
        switch pass {
        case .sum(_, let rows, _, _, _): rows
        case .logits(let rows, _): rows
        }
      let listedEntries = listed.map { rows in
        rows.reduce(0) { $0 + sparse.offsets[$1 + 1] - sparse.offsets[$1] }
      }
      if let listed, let listedEntries, listedEntries < d, let columns = sparse.columns {
        for row in listed {
          for e in sparse.offsets[row]..<sparse.offsets[row + 1] {
            let c = Int(columns[e])
            for j in 0..<h { base[c * h + j] = E(parameters[j * d + c]) }
          }
        }
      } else {
        parallelFor(count: d, cost: 2 * h, grain: 256) { begin, end in
          for c in begin..<end {
            for j in 0..<h { base[c * h + j] = E(parameters[j * d + c]) }
          }
        }
      }
    }
    switch pass {
    case .sum(let count, let rows, let deltaScale, let gradient, let dropout):
      return sumBlocks(
        count: count, rows: rows, deltaScale: deltaScale, gradient: gradient, dropout: dropout)
    case .logits(let rows, let out):
      logits(rows: rows, into: out)
      return 0
    }
  }

  func sumBlocks(
    count n: Int, rows: [Int]?, deltaScale: Double?, gradient: UnsafeMutablePointer<Double>?,
    dropout: DropoutMasks? = nil
  ) -> Double {
    let blockRows = layout.rows
    var loss = 0.0
    var start = 0
    while start < n {
      let end = min(n, start + blockRows)
      let block: NetworkBlock = rows.map { .list($0[start..<end]) } ?? .range(start..<end)
      forward(block, dropout: dropout, offset: start)
      let wantGradient = deltaScale != nil && gradient != nil
      loss += headLoss(block, deltaScale: wantGradient ? deltaScale : nil)
      if wantGradient, let gradient {
        backward(
          block, into: gradient, first: start == 0, dropout: dropout, offset: start)
      }
      start = end
    }
    return loss
  }

  func logits(rows: [Int], into out: UnsafeMutableRawBufferPointer) {
    let k = architecture.classCount
    let head = architecture.layers.count - 1
    guard let destination = out.baseAddress?.assumingMemoryBound(to: E.self) else { return }
    var start = 0
    while start < rows.count {
      let end = min(rows.count, start + layout.rows)
      forward(.list(rows[start..<end]))
      (destination + start * k).update(
        from: base + layout.preactivations[head], count: (end - start) * k)
      start = end
    }
  }

  /// One block forward: its rows (standardized) into the first
  /// activations, then `zₗ = aₗ₋₁·Wₗᵀ + bₗ` (each chain of fused
  /// multiply-adds starting from the bias) and `aₗ = f(zₗ)` layer by layer.
  func forward(_ block: NetworkBlock, dropout: DropoutMasks? = nil, offset: Int = 0) {
    let b = block.count
    let d = architecture.inputCount
    let input = base + layout.activations[0]
    let mean = self.mean
    let inverseScale = self.inverseScale
    if let features {
      parallelFor(count: b, cost: d, grain: 8) { begin, end in
        for r in begin..<end {
          let row = input + r * d
          row.update(from: features + block.row(r) * d, count: d)
          if let mean, let inverseScale {
            for c in 0..<d { row[c] = (row[c] - mean[c]) * inverseScale[c] }
          }
        }
      }
    }
    let layers = architecture.layers
    for (l, layer) in layers.enumerated() {
      let a = base + layout.activations[l]
      let z = base + layout.preactivations[l]
      let weights = base + layer.weightOffset
      let bias = base + layer.biasOffset
      if l == 0, let sparse {
        sparseForward(block, sparse, into: z)
      } else {
        for r in 0..<b { (z + r * layer.outputs).update(from: bias, count: layer.outputs) }
        multiplyMatrices(
          transposingA: false, transposingB: true, m: b, n: layer.outputs, k: layer.inputs, a,
          leadingA: layer.inputs, weights, leadingB: layer.inputs, into: z,
          leadingC: layer.outputs, accumulating: true)
      }
      if l + 1 < layers.count {
        let a = base + layout.activations[l + 1]
        apply(architecture.activation, z, into: a, count: b * layer.outputs)
        dropout?.apply(to: a, rows: b, units: layer.outputs, layer: l, offset: offset)
      }
    }
  }

  /// The block's weighted loss `Σ sᵢc_yᵢ·nllᵢ` (in `Double`, row by row),
  /// and, when `deltaScale` is given, the head's deltas
  /// `(softmax(z) − onehot(y))·sᵢc_yᵢ·deltaScale`.
  func headLoss(_ block: NetworkBlock, deltaScale: Double?) -> Double {
    let k = architecture.classCount
    let head = architecture.layers.count - 1
    let logits = base + layout.preactivations[head]
    let delta = base + layout.deltas[head]
    var loss = 0.0
    withUnsafeTemporaryAllocation(of: Double.self, capacity: k) { e in
      for r in 0..<block.count {
        let row = block.row(r)
        let weight = rowWeights[row]
        let label = labels[row]
        let z = logits + r * k
        var m = -Double.infinity
        for j in 0..<k { m = max(m, Double(z[j])) }
        var sum = 0.0
        for j in 0..<k {
          e[j] = Double.exp(Double(z[j]) - m)
          sum += e[j]
        }
        if weight != 0 { loss += weight * (m + Double.log(sum) - Double(z[label])) }
        if let deltaScale {
          let w = weight * deltaScale
          for j in 0..<k { delta[r * k + j] = E((e[j] / sum - (j == label ? 1 : 0)) * w) }
        }
      }
    }
    return loss
  }

  /// One block backward from the head's deltas: each layer's weight
  /// gradient `δₗᵀ·aₗ₋₁` (in `E`, over the block's rows) and bias gradient
  /// `Σ δₗ` added to `gradient` in `Double` (written over it for the
  /// `first` block, as if added to zeros), and `δₗ₋₁ = (δₗ·Wₗ) ⊙ f′(zₗ₋₁)`.
  func backward(
    _ block: NetworkBlock, into gradient: UnsafeMutablePointer<Double>, first: Bool,
    dropout: DropoutMasks? = nil, offset: Int = 0
  ) {
    let b = block.count
    let layers = architecture.layers
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
      let layer = layers[l]
      let delta = base + layout.deltas[l]
      let input = base + layout.activations[l]
      let blockGradient = base + layout.gradient + layer.weightOffset
      let weights = layer.inputs * layer.outputs
      let g = gradient + layer.weightOffset
      if l == 0, let sparse {
        sparseWeightGradient(block, sparse, delta: delta, into: g, first: first)
      } else {
        multiplyMatrices(
          transposingA: true, transposingB: false, m: layer.outputs, n: layer.inputs, k: b,
          delta, leadingA: layer.outputs, input, leadingB: layer.inputs, into: blockGradient,
          leadingC: layer.inputs, accumulating: false)
        parallelFor(count: weights, cost: 2, grain: 1 << 12) { begin, end in
          if first {
            // 0 + x, not x: a −0 becomes +0, as added to a zeroed gradient.
            for i in begin..<end { g[i] = 0 + Double(blockGradient[i]) }
          } else {
            for i in begin..<end { g[i] += Double(blockGradient[i]) }
          }
        }
      }
      let gb = gradient + layer.biasOffset
      if first { gb.update(repeating: 0, count: layer.outputs) }
      for r in 0..<b {
        let row = delta + r * layer.outputs
        for j in 0..<layer.outputs { gb[j] += Double(row[j]) }
      }
      guard l > 0 else { break }  // the inputs' gradient is not needed
      let below = base + layout.deltas[l - 1]
      multiplyMatrices(
        transposingA: false, transposingB: false, m: b, n: layer.inputs, k: layer.outputs, delta,
        leadingA: layer.outputs, base + layer.weightOffset, leadingB: layer.inputs, into: below,
        leadingC: layer.inputs, accumulating: false)
      multiplyByDerivative(
        architecture.activation, base + layout.preactivations[l - 1], below,
        count: b * layer.inputs)
      // A dropped unit passed nothing forward and gets nothing back; a kept
      // one its scale again (a = f(z)·m/(1 − p)).
      dropout?.apply(to: below, rows: b, units: layer.inputs, layer: l - 1, offset: offset)
    }
  }
}

extension NetworkPasses {
  /// The first layer's pre-activations of a block of sparse rows,
  /// `z₁ = b₁ + Σ x̃_c·W₁[:, c]` over each row's stored entries (in the
  /// C kernels, rows split between the threads).
  func sparseForward(
    _ block: NetworkBlock, _ sparse: SparseRowArrays, into z: UnsafeMutablePointer<E>
  ) {
    let h = architecture.layers[0].outputs
    let weights = UnsafePointer(base + architecture.layers[0].weightOffset)
    let bias = UnsafePointer(base + architecture.layers[0].biasOffset)
    let scale = inverseScale
    block.withRows { list, firstRow in
      parallelFor(count: block.count, cost: sparse.averageEntries * h, grain: 8) { begin, end in
        let rows = list.map { $0 + begin }
        let count = end - begin
        let out = z + begin * h
        if E.self == Float.self {
          sk_sparse_layer_f32_forward(
            count, rows, firstRow + begin, sparse.offsets, sparse.columns,
            sparse.values?.assumingMemoryBound(to: Float.self), cast(scale), cast(weights),
            cast(bias), h, castMutable(out))
        } else if E.self == Double.self {
          sk_sparse_layer_f64_forward(
            count, rows, firstRow + begin, sparse.offsets, sparse.columns,
            sparse.values?.assumingMemoryBound(to: Double.self), cast(scale), cast(weights),
            cast(bias), h, castMutable(out))
        } else {
          let values = sparse.values?.assumingMemoryBound(to: E.self)
          for r in 0..<count {
            let row = rows?[r] ?? firstRow + begin + r
            let o = out + r * h
            o.update(from: bias, count: h)
            for e in sparse.offsets[row]..<sparse.offsets[row + 1] {
              guard let columns = sparse.columns, let values else { break }
              let c = Int(columns[e])
              let x = scale.map { values[e] * $0[c] } ?? values[e]
              for j in 0..<h { o[j] = o[j].addingProduct(x, weights[c * h + j]) }
            }
          }
        }
      }
    }
  }

  /// The first layer's weight gradient from a block of sparse rows,
  /// `∂L/∂W₁[j, c] = Σ_rows δ₁[r, j]·x̃_c` for the columns the block holds
  /// (each column's sum over the block in `E`, in row order, then added to
  /// the `Double` gradient; the region cleared by the `first` block): the
  /// dense weight-gradient product's sums with the zero terms left out.
  /// Columns split between the threads.
  func sparseWeightGradient(
    _ block: NetworkBlock, _ sparse: SparseRowArrays, delta: UnsafeMutablePointer<E>,
    into g: UnsafeMutablePointer<Double>, first: Bool
  ) {
    let layer = architecture.layers[0]
    let (d, h) = (layer.inputs, layer.outputs)
    if first { initializeInParallel(g, repeating: 0, count: d * h) }
    grouping.pointee.group(block, sparse, columnCount: d)
    let groups = grouping.pointee
    guard !groups.groupColumns.isEmpty else { return }  // a block of empty rows
    let scale = inverseScale
    groups.groupColumns.withUnsafeBufferPointer { columns in
      groups.groupStarts.withUnsafeBufferPointer { starts in
        groups.entryRows.withUnsafeBufferPointer { rows in
          groups.entryIndex.withUnsafeBufferPointer { entries in
            guard let columns = columns.baseAddress, let starts = starts.baseAddress,
              let rows = rows.baseAddress, let entries = entries.baseAddress
            else { return }
            let perGroup = max(1, (starts[groups.groupColumns.count]) / groups.groupColumns.count)
            parallelFor(count: groups.groupColumns.count, cost: perGroup * h, grain: 64) {
              begin, end in
              withUnsafeTemporaryAllocation(of: E.self, capacity: h) { acc in
                guard let acc = acc.baseAddress else { return }
                let count = end - begin
                if E.self == Float.self {
                  sk_sparse_layer_f32_gradient(
                    count, columns + begin, starts + begin, rows, entries,
                    sparse.values?.assumingMemoryBound(to: Float.self), cast(scale),
                    cast(UnsafePointer(delta)), h,
                    d, castMutable(acc), g)
                } else if E.self == Double.self {
                  sk_sparse_layer_f64_gradient(
                    count, columns + begin, starts + begin, rows, entries,
                    sparse.values?.assumingMemoryBound(to: Double.self), cast(scale),
                    cast(UnsafePointer(delta)),
                    h, d, castMutable(acc), g)
                } else {
                  guard let values = sparse.values?.assumingMemoryBound(to: E.self) else { return }
                  for group in begin..<end {
                    let c = Int(columns[group])
                    acc.update(repeating: 0, count: h)
                    for e in starts[group]..<starts[group + 1] {
                      let i = entries[e]
                      let x = scale.map { values[i] * $0[c] } ?? values[i]
                      let dr = delta + Int(rows[e]) * h
                      for j in 0..<h { acc[j] = acc[j].addingProduct(dr[j], x) }
                    }
                    for j in 0..<h { g[j * d + c] += Double(acc[j]) }
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

/// A pointer rebound to the kernels' scalar (the caller has checked that
/// `E` is `U`).
@inline(__always)
private func cast<E, U>(_ p: UnsafePointer<E>?) -> UnsafePointer<U>? {
  p.map { UnsafeRawPointer($0).assumingMemoryBound(to: U.self) }
}
@inline(__always)
private func castMutable<E, U>(_ p: UnsafeMutablePointer<E>) -> UnsafeMutablePointer<U> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: U.self)
}

/// `a = f(z)` over `count` values (the switch outside the loop).
func apply<T: SoftmaxScalar>(
  _ activation: Activation, _ z: UnsafePointer<T>, into a: UnsafeMutablePointer<T>, count: Int
) {
  switch activation {
  case .relu: for i in 0..<count { a[i] = z[i] > 0 ? z[i] : 0 }
  case .identity: a.update(from: z, count: count)
  default: for i in 0..<count { a[i] = activation(z[i]) }
  }
}

/// `δ ← δ ⊙ f′(z)` over `count` values.
func multiplyByDerivative<E: SoftmaxScalar>(
  _ activation: Activation, _ z: UnsafePointer<E>, _ delta: UnsafeMutablePointer<E>, count: Int
) {
  switch activation {
  case .relu:
    var i = 0
    if E.self == Float.self {
      // Sixteen at a time (the scalar loop is not vectorized): the same
      // select, so the same bits.
      let zf = UnsafeRawPointer(z)
      let df = UnsafeMutableRawPointer(delta)
      while i + 16 <= count {
        let offset = i * MemoryLayout<Float>.stride
        let keep = zf.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self) .> 0
        let d = df.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
        df.storeBytes(
          of: d.replacing(with: 0, where: .!keep), toByteOffset: offset, as: SIMD16<Float>.self)
        i += 16
      }
    }
    for j in i..<count { delta[j] = z[j] > 0 ? delta[j] : 0 }
  case .identity: return
  default: for i in 0..<count { delta[i] *= activation.derivative(at: z[i]) }
  }
}

/// The dropout masks of one minibatch evaluation: unit `j` of hidden layer
/// `l` for the row at position `i` of the minibatch is kept when a hash of
/// (key, i, l, j), as a number in [0, 1), is at least the fraction;
/// kept values are scaled by 1/(1 − fraction). The same key gives the same
/// masks on any thread.
struct DropoutMasks {
  /// The fraction dropped, in (0, 1).
  let fraction: Double
  /// The seed mixed with the minibatch's rows.
  let key: UInt64

  /// The key of a minibatch: its rows, in order, hashed with the seed.
  static func key(seed: UInt64, rows: [Int]) -> UInt64 {
    var generator = SplitMix64(seed: seed)
    var key = generator.next()
    for row in rows {
      key = (key ^ UInt64(bitPattern: Int64(row))) &* 0x9E37_79B9_7F4A_7C15
      key ^= key >> 29
    }
    return key
  }

  /// Whether unit `unit` of layer `layer` is kept for the row at `position`.
  func keeps(position: Int, layer: Int, unit: Int) -> Bool {
    var z =
      key &+ UInt64(position) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(layer) &* 0xD6E8_FEB8_6659_FD93
      &+ UInt64(unit) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Double(z >> 11) * 0x1p-53 >= fraction
  }

  /// Multiplies `rows × units` values (rows `offset…` of the minibatch) by
  /// their mask: 0, or 1/(1 − fraction).
  func apply<E: SoftmaxScalar>(
    to values: UnsafeMutablePointer<E>, rows: Int, units: Int, layer: Int, offset: Int
  ) {
    let scale = E(1 / (1 - fraction))
    parallelFor(count: rows, cost: units * 4, grain: 8) { begin, end in
      for r in begin..<end {
        for j in 0..<units {
          let i = r * units + j
          values[i] = keeps(position: offset + r, layer: layer, unit: j) ? values[i] * scale : 0
        }
      }
    }
  }
}
