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

  /// Creates the objective over a data set.
  ///
  /// - Parameters:
  ///   - features: `n × d`, every value finite.
  ///   - labels: `n` class indices in `0..<classCount`.
  ///   - classCount: `k ≥ 1`.
  ///   - sampleWeights: `n` values ≥ 0 with a positive sum, or `nil` for 1.
  ///   - classWeights: `k` values ≥ 0, or `nil` for 1.
  ///   - l2: λ₂ ≥ 0. - l1: λ₁ ≥ 0.
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
    if let bad = features.elements.firstIndex(where: { !$0.isFinite }) {
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
    if T.self == Double.self {
      self.doubleFeatures = unsafeBitCast(features.elements, to: [Double].self)
    } else if T.self == Float.self && MemoryLayout<Int>.size == 8 {
      self.doubleFeatures = []  // the Float kernel reads the features as they are
    } else {
      self.doubleFeatures = features.elements.map { Double($0) }
    }
    self.labels = labels
    self.classCount = classCount
    self.rowWeights = sample
    self.weightTotal = total
    self.l2 = l2
    self.l1 = l1
    self.standardization = standardization
    self.blockCount = (n + Self.blockRows - 1) / Self.blockRows
    self.partials = []
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

  // MARK: - The sweep

  private func evaluate(_ parameters: [Double], gradient: inout [Double], wantGradient: Bool)
    -> Double
  {
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
    let n = features.rows
    let blockRows = Self.blockRows
    let plan = BlockPlan(
      parameters: parameters, classCount: k, featureCount: d, standardization: standardization,
      floatFeatures: T.self == Float.self)
    partials.withUnsafeMutableBufferPointer { partialBuffer in
      guard let partialBase = partialBuffer.baseAddress else { return }
      parallelFor(count: blockCount, cost: blockRows * d * k * 2, grain: 1) { begin, end in
        for block in begin..<end {
          let rowBegin = block * blockRows
          let rowEnd = min(n, rowBegin + blockRows)
          let out = UnsafeMutableBufferPointer(start: partialBase + block * stride, count: stride)
          out.initialize(repeating: 0)
          self.sweepBlock(
            rows: rowBegin..<rowEnd, plan: plan, wantGradient: wantGradient, into: out)
        }
      }
    }
    // Blocks in order: the same sums for every thread count.
    var loss = 0.0
    if wantGradient {
      if gradient.count != parameterCount {
        gradient = [Double](repeating: 0, count: parameterCount)
      } else {
        for index in gradient.indices { gradient[index] = 0 }
      }
    }
    for block in 0..<blockCount {
      let base = block * stride
      loss += partials[base + weightCount + k]
      if wantGradient {
        for index in 0..<(weightCount + k) { gradient[index] += partials[base + index] }
      }
    }
    let scale = 1 / weightTotal
    var penalty = 0.0
    for index in 0..<weightCount { penalty += parameters[index] * parameters[index] }
    if wantGradient {
      for index in 0..<(weightCount + k) { gradient[index] *= scale }
      if l2 > 0 {
        for index in 0..<weightCount { gradient[index] += l2 * parameters[index] }
      }
    }
    return loss * scale + 0.5 * l2 * penalty
  }

  /// Sums the weighted losses of `rows` and, if wanted, `Gᵀ·X̃` and `Gᵀ·1`
  /// into `out` (`[gW (k·d), gb (k), loss]`), in `Double`.
  private func sweepBlock(
    rows: Range<Int>, plan: BlockPlan, wantGradient: Bool,
    into out: UnsafeMutableBufferPointer<Double>
  ) {
    let k = classCount
    let d = featureCount
    let rowWeights = self.rowWeights
    let labels = self.labels
    if T.self == Float.self, let kernel = plan.floatKernel {
      features.elements.withUnsafeBufferPointer { elements in
        guard let base = elements.baseAddress else { return }
        let x = UnsafeRawPointer(base).assumingMemoryBound(to: Float.self)
        kernel.sweep(
          x: x + rows.lowerBound * d, rows: rows.count, labels: labels, rowWeights: rowWeights,
          firstRow: rows.lowerBound, wantGradient: wantGradient, into: out)
      }
      return
    }
    doubleFeatures.withUnsafeBufferPointer { x in
      plan.weights.withUnsafeBufferPointer { w in
        plan.bias.withUnsafeBufferPointer { bias in
          plan.mean.withUnsafeBufferPointer { mean in
            plan.inverseScale.withUnsafeBufferPointer { inverseScale in
              withUnsafeTemporaryAllocation(of: Double.self, capacity: d + k) { scratch in
                guard let x = x.baseAddress, let w = w.baseAddress, let bias = bias.baseAddress,
                  let scratch = scratch.baseAddress, let out = out.baseAddress
                else { return }
                sweepDoubleBlock(
                  x: x, rows: rows, d: d, k: k, w: w, bias: bias,
                  mean: mean.isEmpty ? nil : mean.baseAddress,
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

/// The Double sweep of one block: the reference path, and the one every
/// type but `Float` takes. Non-generic, on raw pointers, so that it is fast
/// in debug builds too.
private func sweepDoubleBlock(
  x: UnsafePointer<Double>, rows: Range<Int>, d: Int, k: Int, w: UnsafePointer<Double>,
  bias: UnsafePointer<Double>, mean: UnsafePointer<Double>?,
  inverseScale: UnsafePointer<Double>?, labels: [Int], rowWeights: [Double], wantGradient: Bool,
  standardized: UnsafeMutablePointer<Double>, logits: UnsafeMutablePointer<Double>,
  out: UnsafeMutablePointer<Double>
) {
  var loss = 0.0
  for i in rows {
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

/// The per-evaluation constants of a sweep: weights, biases and the
/// standardization folded in.
struct BlockPlan {
  var weights: [Double]
  var bias: [Double]
  var mean: [Double]
  var inverseScale: [Double]
  var floatKernel: FloatSweep?

  init(
    parameters: [Double], classCount k: Int, featureCount d: Int,
    standardization: Standardization?, floatFeatures: Bool
  ) {
    weights = Array(parameters[0..<(k * d)])
    bias = Array(parameters[(k * d)...])
    mean = standardization?.mean ?? []
    inverseScale = standardization?.inverseScale ?? []
    // The kernel reads labels as Int64.
    floatKernel =
      floatFeatures && MemoryLayout<Int>.size == 8
      ? FloatSweep(
        weights: weights, bias: bias, classCount: k, featureCount: d,
        standardization: standardization)
      : nil
  }
}
