//===--- Objective.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The training objective of softmax regression and its gradient, in one
/// sweep over the data.
///
/// For features X (`n × d`), labels y, sample weights s (default 1) and class
/// weights c (default 1), parameters W (`k × d`) and b (`k`):
///
///     L(W, b) = Σᵢ sᵢ·c_yᵢ·nllᵢ / Σᵢ sᵢ + (λ₂/2)·‖W‖²_F + λ₁·‖W‖₁
///     nllᵢ = logsumexp(zᵢ) − zᵢ[yᵢ],  zᵢ = W·x̃ᵢ + b
///
/// where x̃ = (x − μ)/σ when a ``Standardization`` is given (learned on
/// the training data; constant columns have σ = 1) and x̃ = x otherwise.
/// The bias is not penalised. This has the same minimiser as scikit-learn's
/// `LogisticRegression(C:)`, whose objective is `½‖W‖² + C·Σᵢ wᵢ·nllᵢ`,
/// when λ₂ = 1/(C·Σᵢ sᵢ) (1/(C·n) without sample weights):
/// scikit-learn's objective is `C·Σᵢ sᵢ` times this one.
///
/// The gradient is `∂L/∂W = Gᵀ·X̃/Σs + λ₂·W`, `∂L/∂b = Gᵀ·1/Σs`, with
/// `G[i, j] = sᵢ·c_yᵢ·(softmax(zᵢ)ⱼ − [j = yᵢ])`: the textbook
/// `∂L/∂w_ji = (a_j − y_j)·o_i`, summed over the samples. The L1 term is
/// not differentiable at 0 and is left out of ``valueAndGradient(at:gradient:)``
/// (``smoothValueAndGradient(at:gradient:)``); L-BFGS handles it as OWL-QN.
///
/// Parameters are flattened as `[W row by row, b]` (`k·d + k` values).
///
/// Cost: one pass over X per evaluation, `2·n·d·k` multiply-adds. The rows
/// are cut into fixed blocks of ``blockRows``, each summed on its own and the
/// blocks added in order, so the result is bitwise the same for every
/// thread count. `Float` features take a vectorized kernel (AVX-512 / AVX2
/// where present) that accumulates each logit in `Float` and each block's
/// gradient in `Double`; other types are computed in `Double` throughout.
public final class SoftmaxRegressionObjective<T: SoftmaxScalar>: @unchecked Sendable {
  /// The rows of a block: the unit of work and of summation.
  public static var blockRows: Int { 256 }

  /// `n × d` features.
  public let features: Matrix<T>
  /// Class index of each row, in `0..<classCount`.
  public let labels: [Int]
  /// `k`.
  public let classCount: Int
  /// `sᵢ·c_yᵢ` for each row.
  public let rowWeights: [Double]
  /// `Σᵢ sᵢ`: the denominator of the mean.
  public let weightTotal: Double
  /// `sᵢ` of each row, or `nil` when every row weighs 1.
  public let sampleWeights: [Double]?
  /// λ₂ ≥ 0.
  public let l2: Double
  /// λ₁ ≥ 0.
  public let l1: Double
  /// Applied to every row on the fly, if given.
  public let standardization: Standardization?

  /// The number of features `d`.
  public var featureCount: Int { features.columns }
  /// `k·d + k`.
  public var parameterCount: Int { classCount * (featureCount + 1) }

  /// The features in Double, for every type but Float (the same storage
  /// for Double).
  private let doubleFeatures: [Double]
  private let blockCount: Int
  /// Per-block partial sums: `k·d + k` gradient values and the loss.
  private var partials: [Double]
  /// The same for minibatches.
  private var minibatchPartials: [Double] = []
  /// The Float kernel's rounded parameters (Float features on 64-bit
  /// platforms, where the kernel can read the labels as Int64).
  private var floatSweep: FloatSweep?

  /// Creates the objective over a data set.
  ///
  /// - Parameters:
  ///   - features: `n × d`, every value finite.
  ///   - labels: `n` class indices in `0..<classCount`.
  ///   - classCount: `k ≥ 1`.
  ///   - sampleWeights: `n` values ≥ 0 with a positive sum, or `nil` for 1.
  ///   - classWeights: `k` values ≥ 0, or `nil` for 1.
  ///   - l2: λ₂ ≥ 0.
  ///   - l1: λ₁ ≥ 0.
  ///   - standardization: `d` means and scales, or `nil`.
  /// - Throws: ``TrainingError`` naming the first bad value.
  public init(
    features: Matrix<T>, labels: [Int], classCount: Int, sampleWeights: [Double]? = nil,
    classWeights: [Double]? = nil, l2: Double = 0, l1: Double = 0,
    standardization: Standardization? = nil
  ) throws(TrainingError) {
    let n = features.rows
    guard n > 0 else { throw TrainingError(.emptyData, "the data set has no rows") }
    guard labels.count == n else {
      throw TrainingError(.shapeMismatch, "\(labels.count) labels for \(n) rows")
    }
    guard classCount >= 1 else { throw TrainingError(.shapeMismatch, "no classes") }
    if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
      throw TrainingError(
        .labelOutOfRange, "row \(bad): label \(labels[bad]) is not in 0..<\(classCount)")
    }
    if let bad = firstNonFiniteIndex(features.elements) {
      throw TrainingError(
        .nonFiniteValue,
        "row \(bad / features.columns), column \(bad % features.columns): "
          + "\(features.elements[bad]) is not a finite number")
    }
    guard l2 >= 0, l2.isFinite else {
      throw TrainingError(.invalidOption, "l2 = \(l2) must be ≥ 0")
    }
    guard l1 >= 0, l1.isFinite else {
      throw TrainingError(.invalidOption, "l1 = \(l1) must be ≥ 0")
    }
    var sample = [Double](repeating: 1, count: n)
    if let sampleWeights {
      guard sampleWeights.count == n else {
        throw TrainingError(.shapeMismatch, "\(sampleWeights.count) sample weights for \(n) rows")
      }
      if let bad = sampleWeights.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
        throw TrainingError(
          .invalidWeight, "sample weight \(sampleWeights[bad]) of row \(bad) must be finite and ≥ 0"
        )
      }
      sample = sampleWeights
    }
    let total = sample.reduce(0, +)
    guard total > 0 else { throw TrainingError(.invalidWeight, "the sample weights sum to 0") }
    if let classWeights {
      guard classWeights.count == classCount else {
        throw TrainingError(
          .shapeMismatch, "\(classWeights.count) class weights for \(classCount) classes")
      }
      if let bad = classWeights.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
        throw TrainingError(
          .invalidWeight, "class weight \(classWeights[bad]) of class \(bad) must be finite and ≥ 0"
        )
      }
      for i in 0..<n { sample[i] *= classWeights[labels[i]] }
    }
    if let standardization, standardization.mean.count != features.columns {
      throw TrainingError(
        .shapeMismatch,
        "standardization has \(standardization.mean.count) columns; the data has \(features.columns)"
      )
    }
    self.features = features
    // The Float kernel reads the features as they are, and the labels as
    // Int64: Float features on 64-bit platforms.
    let floatKernel = T.self == Float.self && MemoryLayout<Int>.size == 8
    if T.self == Double.self {
      self.doubleFeatures = unsafeBitCast(features.elements, to: [Double].self)
    } else if floatKernel {
      self.doubleFeatures = []
    } else {
      self.doubleFeatures = features.elements.map { Double($0) }
    }
    self.labels = labels
    self.classCount = classCount
    self.rowWeights = sample
    self.weightTotal = total
    self.sampleWeights = sampleWeights
    self.l2 = l2
    self.l1 = l1
    self.standardization = standardization
    self.blockCount = (n + Self.blockRows - 1) / Self.blockRows
    self.partials = []
    if floatKernel {
      self.floatSweep = FloatSweep(
        classCount: classCount, featureCount: features.columns, standardization: standardization)
    }
  }

  /// The objective at `parameters` (L1 term included).
  ///
  /// - Precondition: `parameters.count == parameterCount`.
  public func value(at parameters: [Double]) -> Double {
    var unused: [Double] = []
    return evaluate(parameters, gradient: &unused, wantGradient: false) + l1Term(parameters)
  }

  /// The objective without its L1 term, and its gradient into `gradient`
  /// (resized to ``parameterCount``).
  ///
  /// - Precondition: `parameters.count == parameterCount`.
  public func smoothValueAndGradient(at parameters: [Double], gradient: inout [Double]) -> Double {
    evaluate(parameters, gradient: &gradient, wantGradient: true)
  }

  /// The whole objective and its gradient; with λ₁ > 0 the gradient of the
  /// L1 term is taken as λ₁·sign(w) (0 at 0).
  ///
  /// - Precondition: `parameters.count == parameterCount`.
  public func valueAndGradient(at parameters: [Double], gradient: inout [Double]) -> Double {
    let smooth = evaluate(parameters, gradient: &gradient, wantGradient: true)
    if l1 > 0 {
      for index in 0..<(classCount * featureCount) {
        let w = parameters[index]
        gradient[index] += w > 0 ? l1 : (w < 0 ? -l1 : 0)
      }
    }
    return smooth + l1Term(parameters)
  }

  /// λ₁·‖W‖₁.
  public func l1Term(_ parameters: [Double]) -> Double {
    l1Penalty(parameters, strength: l1, count: l1 > 0 ? classCount * featureCount : 0)
  }

  /// The smooth objective on a minibatch, and its gradient: the weighted
  /// cross-entropy of the rows listed, divided by their sample-weight sum
  /// (their count without sample weights, as PyTorch's mean
  /// `cross_entropy`), plus (λ₂/2)·‖W‖². The L1 term is left out, as in
  /// ``smoothValueAndGradient(at:gradient:)``.
  ///
  /// With every row listed in order it is the full smooth objective (up to
  /// the order of summation). The rows are cut into fixed blocks of
  /// ``minibatchBlockRows`` summed in order: bitwise the same result for
  /// every thread count.
  ///
  /// Cost: `2·b·d·k` multiply-adds for `b` rows, read in place (no copy).
  ///
  /// - Precondition: `rows` is not empty, every index is in `0..<n`, and
  ///   `parameters.count == parameterCount`.
  public func minibatchValueAndGradient(
    rows: [Int], at parameters: [Double], gradient: inout [Double]
  ) -> Double {
    let (data, penalty) = sweep(
      rows: rows, parameters, gradient: &gradient, wantGradient: true)
    return data + penalty
  }

  /// The weighted mean cross-entropy of the rows listed, without penalties:
  /// `Σ sᵢ·c_yᵢ·nllᵢ / Σ sᵢ` over them (a validation loss).
  ///
  /// Cost: the forward half of ``minibatchValueAndGradient(rows:at:gradient:)``.
  ///
  /// - Precondition: as for ``minibatchValueAndGradient(rows:at:gradient:)``.
  public func crossEntropy(rows: [Int], at parameters: [Double]) -> Double {
    var unused: [Double] = []
    return sweep(rows: rows, parameters, gradient: &unused, wantGradient: false).data
  }

  /// ``sweep(_:blockCount:partials:gradient:wantGradient:denominator:rows:)``
  /// over listed rows, in blocks of ``minibatchBlockRows``, divided by their
  /// sample-weight sum (their count without sample weights).
  private func sweep(
    rows: [Int], _ parameters: [Double], gradient: inout [Double], wantGradient: Bool
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
      sweep(
        parameters, blockCount: blocks, partials: &minibatchPartials, gradient: &gradient,
        wantGradient: wantGradient, denominator: denominator
      ) { block in
        let begin = block * blockRows
        let end = min(indices.count, begin + blockRows)
        return .indices(UnsafeBufferPointer(rebasing: indices[begin..<end]))
      }
    }
  }

  /// The rows of a minibatch block (a 256-row batch is 2 blocks, one for
  /// each thread of two).
  public static var minibatchBlockRows: Int { 128 }

  /// An inverse-Hessian diagonal for ``LBFGS``: the objective's Hessian at
  /// uniform probabilities (W = 0, b = 0) has diagonal
  /// `(k−1)/k² · Σᵢ wᵢ·x̃ᵢc² / Σᵢ sᵢ + λ₂` for weight `(j, c)` and
  /// `(k−1)/k² · Σᵢ wᵢ / Σᵢ sᵢ` for a bias (wᵢ = sᵢ·c_yᵢ). Returned as
  /// reciprocals, each floored at 1e-12 of the largest diagonal entry so
  /// that an all-zero column with λ₂ = 0 gets a finite value.
  ///
  /// Cost: one pass over X.
  public func diagonalPreconditioner() -> [Double] {
    let k = classCount
    let d = featureCount
    var moments = [Double](repeating: 0, count: d)
    let mean = standardization?.mean
    let inverseScale = standardization?.inverseScale
    rowWeights.withUnsafeBufferPointer { w in
      features.forEachRowInDouble { i, x in
        guard w[i] != 0 else { return }
        for c in 0..<d {
          var v = x[c]
          if let mean, let inverseScale { v = (v - mean[c]) * inverseScale[c] }
          moments[c] += w[i] * v * v
        }
      }
    }
    let curvature = Double(k - 1) / Double(k * k) / weightTotal
    let biasCurvature = rowWeights.reduce(0, +) * curvature
    var diagonal = [Double](repeating: biasCurvature, count: parameterCount)
    for j in 0..<k {
      for c in 0..<d { diagonal[j * d + c] = curvature * moments[c] + l2 }
    }
    let floor = 1e-12 * (diagonal.max() ?? 1)
    return diagonal.map { 1 / max($0, floor, 1e-300) }
  }

  // MARK: - The sweep

  private func evaluate(_ parameters: [Double], gradient: inout [Double], wantGradient: Bool)
    -> Double
  {
    let n = features.rows
    let blockRows = Self.blockRows
    let (data, penalty) = sweep(
      parameters, blockCount: blockCount, partials: &partials, gradient: &gradient,
      wantGradient: wantGradient, denominator: weightTotal
    ) { block in
      .range((block * blockRows)..<min(n, (block + 1) * blockRows))
    }
    return data + penalty
  }

  /// Sums the blocks `rows(0)…rows(blockCount − 1)` in parallel, each into
  /// its own slice of `partials`, then in block order; returns
  /// `loss / denominator` and `(λ₂/2)·‖W‖²`, and the gradient of their sum.
  private func sweep(
    _ parameters: [Double], blockCount: Int, partials: inout [Double], gradient: inout [Double],
    wantGradient: Bool, denominator: Double, rows: (Int) -> BlockRows
  ) -> (data: Double, penalty: Double) {
    let k = classCount
    let d = featureCount
    let weightCount = k * d
    precondition(
      parameters.count == parameterCount,
      "\(parameters.count) parameters; the objective has \(parameterCount)")
    let stride = weightCount + k + 1
    if partials.count != blockCount * stride {
      partials = [Double](repeating: 0, count: blockCount * stride)
    }
    // Float features: the parameters rounded into buffers kept from call to
    // call (no allocation per minibatch step).
    var plan = BlockPlan?.none
    if floatSweep != nil {
      floatSweep?.load(parameters)
    } else {
      plan = BlockPlan(
        parameters: parameters, classCount: k, featureCount: d, standardization: standardization)
    }
    let floatKernel = floatSweep
    partials.withUnsafeMutableBufferPointer { partialBuffer in
      guard let partialBase = partialBuffer.baseAddress else { return }
      parallelFor(count: blockCount, cost: Self.blockRows * d * k * 2, grain: 1) { begin, end in
        for block in begin..<end {
          let out = UnsafeMutableBufferPointer(start: partialBase + block * stride, count: stride)
          out.initialize(repeating: 0)
          self.sweepBlock(
            rows(block), plan: plan, floatKernel: floatKernel, wantGradient: wantGradient,
            into: out)
        }
      }
    }
    // Blocks in order: the same sums for every thread count.
    if wantGradient && gradient.count != parameterCount {
      gradient = [Double](repeating: 0, count: parameterCount)
    }
    let scale = denominator > 0 ? 1 / denominator : 0
    let l2 = self.l2
    var loss = 0.0
    var penalty = 0.0
    partials.withUnsafeBufferPointer { partial in
      gradient.withUnsafeMutableBufferPointer { g in
        parameters.withUnsafeBufferPointer { w in
          for block in 0..<blockCount { loss += partial[block * stride + weightCount + k] }
          for index in 0..<weightCount { penalty += w[index] * w[index] }
          guard wantGradient else { return }
          for index in 0..<(weightCount + k) {
            var sum = partial[index]
            for block in 1..<max(blockCount, 1) { sum += partial[block * stride + index] }
            g[index] = sum * scale + (index < weightCount ? l2 * w[index] : 0)
          }
        }
      }
    }
    return (loss * scale, 0.5 * l2 * penalty)
  }

  /// Sums the weighted losses of the block's rows and, if wanted, `Gᵀ·X̃`
  /// and `Gᵀ·1` into `out` (`[gW (k·d), gb (k), loss]`), in `Double`.
  private func sweepBlock(
    _ block: BlockRows, plan: BlockPlan?, floatKernel: FloatSweep?, wantGradient: Bool,
    into out: UnsafeMutableBufferPointer<Double>
  ) {
    let k = classCount
    let d = featureCount
    let rowWeights = self.rowWeights
    let labels = self.labels
    if let kernel = floatKernel {
      features.elements.withUnsafeBufferPointer { elements in
        guard let base = elements.baseAddress else { return }
        let x = UnsafeRawPointer(base).assumingMemoryBound(to: Float.self)
        kernel.sweep(
          x: x, block: block, labels: labels, rowWeights: rowWeights,
          wantGradient: wantGradient, into: out)
      }
      return
    }
    guard let plan else { return }
    doubleFeatures.withUnsafeBufferPointer { x in
      plan.weights.withUnsafeBufferPointer { w in
        plan.bias.withUnsafeBufferPointer { bias in
          plan.mean.withUnsafeBufferPointer { mean in
            plan.inverseScale.withUnsafeBufferPointer { inverseScale in
              withUnsafeTemporaryAllocation(of: Double.self, capacity: d + k) { scratch in
                guard let x = x.baseAddress, let w = w.baseAddress, let bias = bias.baseAddress,
                  let scratch = scratch.baseAddress, let out = out.baseAddress
                else { return }
                let index: UnsafePointer<Int>?
                let first: Int
                switch block {
                case .range(let range): (index, first) = (nil, range.lowerBound)
                case .indices(let indices): (index, first) = (indices.baseAddress, 0)
                }
                sweepDoubleBlock(
                  x: x, index: index, first: first, count: block.count, d: d, k: k, w: w,
                  bias: bias, mean: mean.isEmpty ? nil : mean.baseAddress,
                  inverseScale: inverseScale.baseAddress, labels: labels,
                  rowWeights: rowWeights, wantGradient: wantGradient,
                  standardized: scratch, logits: scratch + d, out: out)
              }
            }
          }
        }
      }
    }
  }
}

/// The Double sweep of one block (rows `index[r]`, or `first + r` without
/// an index, for r < count): the reference path, and the one every type
/// but `Float` takes. Non-generic, on raw pointers, so that it is fast in
/// debug builds too.
private func sweepDoubleBlock(
  x: UnsafePointer<Double>, index: UnsafePointer<Int>?, first: Int, count: Int, d: Int, k: Int,
  w: UnsafePointer<Double>, bias: UnsafePointer<Double>, mean: UnsafePointer<Double>?,
  inverseScale: UnsafePointer<Double>?, labels: [Int], rowWeights: [Double], wantGradient: Bool,
  standardized: UnsafeMutablePointer<Double>, logits: UnsafeMutablePointer<Double>,
  out: UnsafeMutablePointer<Double>
) {
  var loss = 0.0
  for r in 0..<count {
    let i = index?[r] ?? first + r
    let weight = rowWeights[i]
    let row = x + i * d
    if let mean, let inverseScale {
      for c in 0..<d { standardized[c] = (row[c] - mean[c]) * inverseScale[c] }
    } else {
      for c in 0..<d { standardized[c] = row[c] }
    }
    var top = -Double.infinity
    for j in 0..<k {
      var z = bias[j]
      let wj = w + j * d
      for c in 0..<d { z += wj[c] * standardized[c] }
      logits[j] = z
      top = max(top, z)
    }
    let label = labels[i]
    let zLabel = logits[label]
    var sum = 0.0
    for j in 0..<k {
      logits[j] = Double.exp(logits[j] - top)
      sum += logits[j]
    }
    // nll = log Σ e^(z - m) - (z_y - m); sum >= 1.
    loss += weight * (Double.log(sum) - (zLabel - top))
    guard wantGradient, weight != 0 else { continue }
    for j in 0..<k {
      let g = weight * (logits[j] / sum - (j == label ? 1 : 0))
      out[k * d + j] += g
      let gw = out + j * d
      for c in 0..<d { gw[c] += g * standardized[c] }
    }
  }
  out[k * d + k] += loss
}

/// The per-evaluation constants of the Double sweep: weights, biases and
/// the standardization.
struct BlockPlan {
  var weights: [Double]
  var bias: [Double]
  var mean: [Double]
  var inverseScale: [Double]

  init(
    parameters: [Double], classCount k: Int, featureCount d: Int,
    standardization: Standardization?
  ) {
    weights = Array(parameters[0..<(k * d)])
    bias = Array(parameters[(k * d)...])
    mean = standardization?.mean ?? []
    inverseScale = standardization?.inverseScale ?? []
  }
}
