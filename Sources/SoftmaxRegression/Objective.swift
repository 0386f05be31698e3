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
  /// The columns' weighted squares, for the preconditioner.
  private var columnMoments = ColumnMoments(squareSums: [], rescaledMeanSquares: [:])

  /// Creates the objective over a data set.
  ///
  /// Sample weights are used as given, or multiplied by a power of two when
  /// their sum (or its reciprocal) would not be finite: the objective is a
  /// weighted mean, unchanged by a common factor, and ordinary weights are
  /// never rescaled.
  ///
  /// - Parameters:
  ///   - features: `n × d`, every value finite, every column's weighted
  ///     mean square (after standardization) finite.
  ///   - labels: `n` class indices in `0..<classCount`.
  ///   - classCount: `k ≥ 1`.
  ///   - sampleWeights: `n` values ≥ 0 with a positive sum, or `nil` for 1.
  ///   - classWeights: `k` values ≥ 0, or `nil` for 1.
  ///   - l2: λ₂ ≥ 0.
  ///   - l1: λ₁ ≥ 0.
  ///   - standardization: `d` means and scales, or `nil`.
  /// - Throws: ``TrainingError`` naming the first bad value; with
  ///   ``TrainingError/Code/outOfRange`` for a column whose squares
  ///   overflow (standardize it, or rescale it) or class weights whose
  ///   weighted sum does, and ``TrainingError/Code/insufficientMemory``
  ///   when `k·(d + 1)` parameters take more than half of
  ///   `SoftmaxConfiguration.memoryLimit`.
  /// - Complexity: one pass over X (the columns' mean squares, kept for
  ///   ``diagonalPreconditioner()``).
  public convenience init(
    features: Matrix<T>, labels: [Int], classCount: Int, sampleWeights: [Double]? = nil,
    classWeights: [Double]? = nil, l2: Double = 0, l1: Double = 0,
    standardization: Standardization? = nil
  ) throws(TrainingError) {
    try self.init(
      features: features, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1, standardization: standardization,
      featureNames: nil)
  }

  /// As the public initializer; `featureNames` name the columns in errors.
  init(
    features: Matrix<T>, labels: [Int], classCount: Int, sampleWeights: [Double]?,
    classWeights: [Double]?, l2: Double, l1: Double, standardization: Standardization?,
    featureNames: [String]?
  ) throws(TrainingError) {
    let n = features.rows
    let d = features.columns
    guard n > 0 else { throw TrainingError(.emptyData, "the data set has no rows") }
    guard labels.count == n else {
      throw TrainingError(.shapeMismatch, "\(labels.count) labels for \(n) rows")
    }
    guard classCount >= 1 else { throw TrainingError(.shapeMismatch, "no classes") }
    try Self.checkMemory(classCount: classCount, featureCount: d, vectors: 4)
    if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
      throw TrainingError(
        .labelOutOfRange, "row \(bad): label \(labels[bad]) is not in 0..<\(classCount)")
    }
    if let bad = firstNonFiniteIndex(features.elements) {
      throw TrainingError(
        .nonFiniteValue, nonFiniteMessage(at: bad, columns: d, features.elements, featureNames))
    }
    guard l2 >= 0, l2.isFinite else {
      throw TrainingError(.invalidOption, "l2 = \(l2) must be ≥ 0")
    }
    guard l1 >= 0, l1.isFinite else {
      throw TrainingError(.invalidOption, "l1 = \(l1) must be ≥ 0")
    }
    let weights = try Self.validatedSampleWeights(sampleWeights, rows: n)
    var sample = weights ?? [Double](repeating: 1, count: n)
    let total = sample.reduce(0, +)
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
      // The loss at W = 0 is Σ wᵢ·log k / Σ sᵢ: it must be finite.
      let weighted = sample.reduce(0, +) / total
      guard weighted.isFinite, (weighted * Double.log(Double(max(classCount, 2)))).isFinite
      else {
        throw TrainingError(
          .outOfRange,
          "the class weights (largest \(classWeights.max() ?? 0)) make the weighted loss overflow a Double: use smaller class weights"
        )
      }
    }
    if let standardization, let problem = standardization.problem(columns: d) {
      throw TrainingError(.shapeMismatch, problem)
    }
    self.features = features
    // The Float kernel reads the features as they are, the labels as Int64
    // (64-bit platforms), and the standardization in Float: only when its
    // values are Floats (a scale below 1e-38 has a reciprocal that is not).
    let floatKernel =
      T.self == Float.self && MemoryLayout<Int>.size == 8
      && (standardization.map(FloatSweep.represents) ?? true)
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
    self.sampleWeights = weights
    self.l2 = l2
    self.l1 = l1
    self.standardization = standardization
    self.blockCount = (n + Self.blockRows - 1) / Self.blockRows
    self.partials = []
    if floatKernel {
      self.floatSweep = FloatSweep(
        classCount: classCount, featureCount: features.columns, standardization: standardization)
    }
    self.columnMoments = try weightedColumnMoments(featureNames: featureNames)
  }

  /// Sample weights checked (one per row, finite, ≥ 0, a positive sum) and
  /// scaled by a power of two when their sum would overflow or underflow;
  /// `nil` stays `nil`.
  static func validatedSampleWeights(_ weights: [Double]?, rows n: Int) throws(TrainingError)
    -> [Double]?
  {
    guard let weights else { return nil }
    guard weights.count == n else {
      throw TrainingError(.shapeMismatch, "\(weights.count) sample weights for \(n) rows")
    }
    if let bad = weights.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
      throw TrainingError(
        .invalidWeight, "sample weight \(weights[bad]) of row \(bad) must be finite and ≥ 0")
    }
    let normalized = PowerOfTwoScaling.normalized(weights)
    guard normalized.reduce(0, +) > 0 else {
      throw TrainingError(.invalidWeight, "the sample weights sum to 0")
    }
    return normalized
  }

  /// Throws unless `vectors` vectors of `k·(d + 1)` parameters, in
  /// `Double`, take at most half of `SoftmaxConfiguration.memoryLimit`
  /// (the other half for the data).
  static func checkMemory(classCount k: Int, featureCount d: Int, vectors: Int)
    throws(TrainingError)
  {
    let (columns, overflow1) = d.addingReportingOverflow(1)
    let (parameters, overflow2) = k.multipliedReportingOverflow(by: columns)
    let (bytes, overflow3) = parameters.multipliedReportingOverflow(by: 8 * vectors)
    let limit = SoftmaxConfiguration.memoryLimit
    guard overflow1 || overflow2 || overflow3 || bytes > limit / 2 else { return }
    let size = overflow1 || overflow2 || overflow3 ? "more than 2^63 bytes" : byteText(bytes)
    throw TrainingError(
      .insufficientMemory,
      "\(k) classes × \(d + 1) weights per class (features and bias) need \(size) of memory to train, "
        + "more than half of the \(byteText(limit)) available")
  }

  /// Each column's `Σᵢ wᵢ·x̃ᵢc²` (wᵢ = sᵢ·c_yᵢ), and for the columns
  /// whose sum overflows, the weighted mean square `Σᵢ wᵢ·x̃ᵢc² / Σᵢ sᵢ`
  /// computed on values scaled by a power of two. A mean square beyond
  /// the largest `Double` is an error naming the column.
  private func weightedColumnMoments(featureNames: [String]?) throws(TrainingError)
    -> ColumnMoments
  {
    let d = featureCount
    let sums = columnSquareSums(exponents: nil)
    let overflowed = (0..<d).filter { !sums[$0].isFinite }
    var meanSquares: [Int: Double] = [:]
    if !overflowed.isEmpty {
      var largest = [Double](repeating: 0, count: d)
      forEachStandardizedRow { _, x in
        for c in overflowed { largest[c] = max(largest[c], abs(x[c])) }
      }
      var exponents = [Int](repeating: 0, count: d)
      for c in overflowed where largest[c].isFinite { exponents[c] = Int(largest[c].exponent) }
      let scaled = columnSquareSums(exponents: exponents)
      for c in overflowed {
        // Σ w·x² / Σs = 4^e · (Σ w·(x·2^-e)²) / Σs.
        let meanSquare =
          largest[c].isFinite
          ? PowerOfTwoScaling.scale(scaled[c] / weightTotal, by: 2 * exponents[c]) : .infinity
        guard meanSquare.isFinite else {
          let name = columnName(c, featureNames)
          throw TrainingError(
            .outOfRange,
            largest[c].isFinite && standardization == nil
              ? "\(name) has values up to \(largest[c]): too large to train on, as their squares "
                + "overflow a Double; standardize the features, or rescale the column"
              : "\(name) has values too large to train on even standardized (x − mean "
                + "overflows a Double); rescale the column")
        }
        meanSquares[c] = meanSquare
      }
    }
    return ColumnMoments(squareSums: sums, rescaledMeanSquares: meanSquares)
  }

  /// `Σᵢ wᵢ·(x̃ᵢc·2^-e[c])²` per column (`e` all 0 when `nil`).
  private func columnSquareSums(exponents: [Int]?) -> [Double] {
    var sums = [Double](repeating: 0, count: featureCount)
    let d = featureCount
    rowWeights.withUnsafeBufferPointer { w in
      forEachStandardizedRow { i, x in
        guard w[i] != 0 else { return }
        if let exponents {
          for c in 0..<d where exponents[c] != 0 {
            let v = PowerOfTwoScaling.scale(x[c], by: -exponents[c])
            sums[c] += w[i] * v * v
          }
        } else {
          for c in 0..<d { sums[c] += w[i] * x[c] * x[c] }
        }
      }
    }
    return sums
  }

  /// Calls `body(i, x̃ᵢ)` for every row, standardized in `Double` when the
  /// objective standardizes.
  private func forEachStandardizedRow(_ body: (Int, UnsafeMutableBufferPointer<Double>) -> Void) {
    let d = featureCount
    let mean = standardization?.mean
    let inverseScale = standardization?.inverseScale
    var row = [Double](repeating: 0, count: d)
    row.withUnsafeMutableBufferPointer { out in
      features.forEachRowInDouble { i, x in
        if let mean, let inverseScale {
          for c in 0..<d { out[c] = (x[c] - mean[c]) * inverseScale[c] }
        } else {
          for c in 0..<d { out[c] = x[c] }
        }
        body(i, out)
      }
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
  /// that an all-zero column with λ₂ = 0 gets a finite value: every
  /// value is finite and positive, whatever the data.
  ///
  /// Cost: O(k·d) (the columns' squares are summed when the objective is
  /// made).
  public func diagonalPreconditioner() -> [Double] {
    let k = classCount
    let d = featureCount
    let moments = columnMoments
    let curvature = Double(k - 1) / Double(k * k) / weightTotal
    let biasCurvature = rowWeights.reduce(0, +) * curvature
    var diagonal = [Double](repeating: biasCurvature, count: parameterCount)
    var columnCurvature = moments.squareSums.map { curvature * $0 }
    for (c, meanSquare) in moments.rescaledMeanSquares {
      columnCurvature[c] = Double(k - 1) / Double(k * k) * meanSquare
    }
    for j in 0..<k {
      for c in 0..<d { diagonal[j * d + c] = columnCurvature[c] + l2 }
    }
    let largest = diagonal.reduce(0) { $1.isFinite ? max($0, $1) : $0 }
    let floor = max(1e-12 * largest, 1e-300)
    // Finite and positive whatever the data: an entry that overflowed
    // (it cannot, for moments init accepted) would take the floor too.
    return diagonal.map { $0.isFinite && $0 >= floor ? 1 / $0 : 1 / floor }
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

  /// Blocks computed at once, each into its own partial sums, before they
  /// are added to the running total in block order: at most 32, and at
  /// most 64 MiB of partial sums. (The result does not depend on it: the
  /// blocks are always added one after another, in order.)
  static func blocksPerWave(stride: Int) -> Int {
    max(1, min(32, (64 << 20) / 8 / max(stride, 1)))
  }

  /// Sums the blocks `rows(0)…rows(blockCount − 1)`: in waves of
  /// ``blocksPerWave(stride:)`` blocks computed in parallel, each into its
  /// own slice of `partials`, then added to the totals in block order;
  /// returns `loss / denominator` and `(λ₂/2)·‖W‖²`, and the gradient of
  /// their sum. Memory: one wave of partial sums, whatever the row count;
  /// the result is bitwise the same for every thread count.
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
    let wave = min(Self.blocksPerWave(stride: stride), max(blockCount, 1))
    if partials.count != wave * stride {
      partials = [Double](repeating: 0, count: wave * stride)
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
    if wantGradient && gradient.count != parameterCount {
      gradient = [Double](repeating: 0, count: parameterCount)
    }
    // gradient[0..<weightCount + k] holds the running sums of the blocks'
    // gradients until the end; the loss is summed from 0.
    var loss = 0.0
    partials.withUnsafeMutableBufferPointer { partialBuffer in
      gradient.withUnsafeMutableBufferPointer { totals in
        guard let partialBase = partialBuffer.baseAddress else { return }
        var first = 0
        while first < blockCount {
          let count = min(wave, blockCount - first)
          parallelFor(count: count, cost: Self.blockRows * d * k * 2, grain: 1) { begin, end in
            for slot in begin..<end {
              let out = UnsafeMutableBufferPointer(
                start: partialBase + slot * stride, count: stride)
              out.initialize(repeating: 0)
              self.sweepBlock(
                rows(first + slot), plan: plan, floatKernel: floatKernel,
                wantGradient: wantGradient, into: out)
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
    let scale = denominator > 0 ? 1 / denominator : 0
    let l2 = self.l2
    var penalty = 0.0
    gradient.withUnsafeMutableBufferPointer { g in
      parameters.withUnsafeBufferPointer { w in
        for index in 0..<weightCount { penalty += w[index] * w[index] }
        guard wantGradient else { return }
        for index in 0..<(weightCount + k) {
          g[index] = g[index] * scale + (index < weightCount ? l2 * w[index] : 0)
        }
      }
    }
    // A loss that overflowed (logits beyond Double: inf − inf) is +inf,
    // never NaN: finite parameters have a loss ≥ 0.
    let data = loss * scale
    return (data.isNaN ? .infinity : data, l2Penalty(parameters, sumOfSquares: penalty))
  }

  /// `(λ₂/2)·‖W‖²` from `Σ w²` (`sumOfSquares`): 0 when λ₂ = 0, and, when
  /// the sum overflows, `Σ (√λ₂·w)² / 2`, which does not (the
  /// true penalty of huge weights and a tiny λ₂ is finite); never NaN.
  private func l2Penalty(_ parameters: [Double], sumOfSquares: Double) -> Double {
    guard l2 > 0 else { return 0 }
    let penalty = 0.5 * l2 * sumOfSquares
    guard !penalty.isFinite || penalty == 0 && sumOfSquares > 0 else { return penalty }
    let root = l2.squareRoot()
    var scaled = 0.0
    for index in 0..<(classCount * featureCount) {
      let v = root * parameters[index]
      scaled += v * v
    }
    return 0.5 * scaled
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

/// The columns' `Σᵢ wᵢ·x̃ᵢc²`, and the weighted mean squares of the columns
/// whose sum overflows a `Double` (summed rescaled; see
/// ``SoftmaxRegressionObjective/diagonalPreconditioner()``).
struct ColumnMoments {
  var squareSums: [Double]
  var rescaledMeanSquares: [Int: Double]
}

/// "feature 3 (\"petal_width\")": 0-based, as the library counts rows
/// and columns, with the feature's name when known.
func columnName(_ c: Int, _ names: [String]?) -> String {
  if let names, c < names.count { return "feature \(c) (\"\(names[c])\")" }
  return "feature \(c)"
}

/// "row 1, column 0: nan is not a finite number" (0-based), with the
/// column's name when known.
func nonFiniteMessage<T>(at index: Int, columns d: Int, _ elements: [T], _ names: [String]?)
  -> String
{
  let c = index % max(d, 1)
  let name = names.flatMap { c < $0.count ? " (\"\($0[c])\")" : nil } ?? ""
  return "row \(index / max(d, 1)), column \(c)\(name): \(elements[index]) is not a finite number"
}

/// `bytes` as "1.5 GiB", "12 MiB", "900 bytes".
func byteText(_ bytes: Int) -> String {
  let units = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
  for (size, name) in units where bytes >= size {
    let value = (Double(bytes) / Double(size) * 10).rounded() / 10
    return "\(value) \(name)"
  }
  return "\(bytes) bytes"
}
