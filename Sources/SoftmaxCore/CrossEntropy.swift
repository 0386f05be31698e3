//===--- CrossEntropy.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// How per-sample losses combine into one number.
public enum LossReduction: Sendable, Hashable, CaseIterable {
  /// The weighted mean: `Σ_i l_i / Σ_i s_i·w_(y_i)` with class indices (the
  /// total weight of the samples that count, as PyTorch), `Σ_i l_i / Σ_i s_i`
  /// with probability targets (PyTorch divides by N there). When that
  /// denominator is 0, every target being ignored, the loss is 0 and its
  /// gradient is 0 (PyTorch returns NaN): an empty batch adds nothing to
  /// training rather than poisoning it.
  case mean
  /// The sum of the per-sample losses. Its gradient rows are the gradients
  /// of each sample's own loss (PyTorch's `reduction='none'` backward with
  /// a gradient of ones).
  case sum
}

/// A loss with its gradient with respect to the logits, from one fused pass.
public struct CrossEntropyResult<T: SoftmaxScalar>: Sendable {
  /// The reduced loss.
  public var loss: T
  /// The per-sample losses (weighted, not reduced): PyTorch's
  /// `reduction='none'`. Ignored samples have loss 0.
  public var losses: [T]
  /// `∂loss/∂logits`, of the shape of the logits: `(a - y)` per row, scaled
  /// by the weights and the reduction.
  public var gradient: Matrix<T>

  /// Creates a result from its parts.
  @inlinable
  public init(loss: T, losses: [T], gradient: Matrix<T>) {
    self.loss = loss
    self.losses = losses
    self.gradient = gradient
  }
}

// MARK: - Class-index targets

/// The cross-entropy of softmax(logits) against class indices:
/// `L = -log a_y`, averaged (or summed) over the batch.
///
///     let z = Matrix<Double>([[2, 1, 0.1], [0.5, 2.5, 0.3]])
///     let loss = try crossEntropy(logits: z, labels: [0, 1])   // 0.3048
///
/// With every option, the loss of sample i with label y is (PyTorch's
/// `F.cross_entropy`, plus sample weights):
///
///     l_i = s_i·[(1-ε)·w_y·(-log a_iy) + (ε/C)·Σ_c w_c·(-log a_ic)]
///
/// where `w` are the class weights, `s` the sample weights, `ε` the label
/// smoothing and C the number of classes. The mean divides by
/// `Σ_i s_i·w_(y_i)` over the samples that are not ignored. See
/// ``LossReduction`` for a batch where every target is ignored.
///
/// - Parameters:
///   - logits: `N × C` scores, one row per sample.
///   - labels: N class indices in `0..<C` (or the ignored label).
///   - classWeights: Optional, C weights (PyTorch's `weight`).
///   - sampleWeights: Optional, N weights (as scikit-learn's
///     `sample_weight`; PyTorch has none).
///   - ignoredLabel: Optional; samples with this label add nothing to the
///     loss, the denominator or the gradient (PyTorch's `ignore_index`,
///     which defaults to -100 there and to "none" here).
///   - labelSmoothing: `ε` in [0, 1]: the target becomes
///     `(1-ε)·onehot(y) + ε/C`.
///   - reduction: ``LossReduction/mean`` (default) or ``LossReduction/sum``;
///     for PyTorch's `'none'`, use ``crossEntropyPerSample(logits:labels:classWeights:sampleWeights:ignoring:labelSmoothing:)``.
/// - Throws: ``SoftmaxError/Code/labelOutOfRange`` naming the first sample
///   whose label is outside `0..<C` and not ignored.
/// - Complexity: O(N × C), C calls of `exp` per sample.
/// - Precondition: the weights have N and C elements; `0 <= ε <= 1`.
///
/// Error bound: each per-sample loss is within 2 ulps of the exact value
/// (it is computed as `log Σ e^(z_c - m) + (m - z_y)`, a sum of two
/// non-negative terms, so there is no cancellation even when the loss is
/// tiny); the reduction adds `2u` relative (compensated, in
/// ``SoftmaxScalar/Accumulator``).
@inlinable
public func crossEntropy<T: SoftmaxScalar>(
  logits: Matrix<T>, labels: [Int], classWeights: [T]? = nil, sampleWeights: [T]? = nil,
  ignoring ignoredLabel: Int? = nil, labelSmoothing: T = 0, reduction: LossReduction = .mean
) throws(SoftmaxError) -> T {
  try labelCrossEntropy(
    logits: logits, labels: labels, classWeights: classWeights, sampleWeights: sampleWeights,
    ignoredLabel: ignoredLabel, labelSmoothing: labelSmoothing, reduction: reduction,
    withGradient: false
  ).loss
}

/// The cross-entropy of one sample: `-log softmax(logits)[label]`.
///
///     try crossEntropy(logits: [2.0, 1.0, 0.1], label: 0)   // 0.4170
///
/// - Throws: ``SoftmaxError/Code/labelOutOfRange`` if `label` is not in
///   `0..<logits.count`.
/// - Complexity: O(C).
@inlinable
public func crossEntropy<T: SoftmaxScalar>(
  logits: [T], label: Int
) throws(SoftmaxError) -> T {
  try crossEntropy(logits: singleRow(logits), labels: [label], reduction: .sum)
}

/// The per-sample cross-entropy losses (PyTorch's `reduction='none'`).
///
/// `l_i` as in ``crossEntropy(logits:labels:classWeights:sampleWeights:ignoring:labelSmoothing:reduction:)``;
/// ignored samples give 0.
///
/// - Returns: N losses.
/// - Throws: ``SoftmaxError/Code/labelOutOfRange``.
/// - Complexity: O(N × C).
@inlinable
public func crossEntropyPerSample<T: SoftmaxScalar>(
  logits: Matrix<T>, labels: [Int], classWeights: [T]? = nil, sampleWeights: [T]? = nil,
  ignoring ignoredLabel: Int? = nil, labelSmoothing: T = 0
) throws(SoftmaxError) -> [T] {
  try labelCrossEntropy(
    logits: logits, labels: labels, classWeights: classWeights, sampleWeights: sampleWeights,
    ignoredLabel: ignoredLabel, labelSmoothing: labelSmoothing, reduction: .sum,
    withGradient: false
  ).losses
}

/// The fused softmax-cross-entropy forward and backward pass: the loss and
/// `∂L/∂z = a - y` (scaled by the weights and the reduction) in one pass,
/// never building a Jacobian.
///
/// The gradient of row i (not ignored, label y) is
///
///     s_i·[(1-ε)·w_y·(a_i - onehot(y)) + (ε/C)·(W·a_i - w)] / D
///
/// with `W = Σ_c w_c` and `D` the mean's denominator (1 for a sum). Without
/// weights or smoothing this is the textbook `(a_i - onehot(y)) / N`.
///
/// - Returns: The loss, the per-sample losses and the `N × C` gradient.
/// - Throws: ``SoftmaxError/Code/labelOutOfRange``.
/// - Complexity: O(N × C), C calls of `exp` per sample.
///
/// Error bound: each gradient entry is the softmax (within 4 ulps, that is
/// 8u relative; measured 2.14 ulps) minus the target, scaled and rounded
/// three times: absolute error at most `11u·s_i·w·max(a, y)/D`. Tested against PyTorch's autograd in float64
/// (1e-12 relative) and central finite differences (1e-8).
@inlinable
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  logits: Matrix<T>, labels: [Int], classWeights: [T]? = nil, sampleWeights: [T]? = nil,
  ignoring ignoredLabel: Int? = nil, labelSmoothing: T = 0, reduction: LossReduction = .mean
) throws(SoftmaxError) -> CrossEntropyResult<T> {
  try labelCrossEntropy(
    logits: logits, labels: labels, classWeights: classWeights, sampleWeights: sampleWeights,
    ignoredLabel: ignoredLabel, labelSmoothing: labelSmoothing, reduction: reduction,
    withGradient: true)
}

// MARK: - Probability targets

/// The cross-entropy of softmax(logits) against target distributions
/// (one-hot or soft labels): `l_i = -s_i·Σ_c w_c·ỹ_ic·log a_ic`, with
/// `ỹ = (1-ε)·y + ε/C`.
///
/// Terms with `ỹ_ic == 0` count as 0 even where `a_ic == 0` (the limit of
/// `y·log a`); PyTorch computes `0·(-inf) = NaN` there. Targets are not
/// required to sum to 1, as in PyTorch.
///
/// - Parameters:
///   - logits: `N × C` scores.
///   - probabilities: `N × C` targets.
///   - classWeights: Optional, C weights.
///   - sampleWeights: Optional, N weights.
///   - labelSmoothing: `ε` in [0, 1].
///   - reduction: ``LossReduction/mean`` divides by `Σ s_i` (N without
///     sample weights, as PyTorch), ``LossReduction/sum`` adds.
/// - Complexity: O(N × C).
/// - Precondition: shapes match; `0 <= ε <= 1`.
@inlinable
public func crossEntropy<T: SoftmaxScalar>(
  logits: Matrix<T>, probabilities: Matrix<T>, classWeights: [T]? = nil,
  sampleWeights: [T]? = nil, labelSmoothing: T = 0, reduction: LossReduction = .mean
) -> T {
  probabilityCrossEntropy(
    logits: logits, targets: probabilities, classWeights: classWeights,
    sampleWeights: sampleWeights, labelSmoothing: labelSmoothing, reduction: reduction,
    withGradient: false
  ).loss
}

/// The per-sample cross-entropy against target distributions.
///
/// - Returns: N losses.
/// - Complexity: O(N × C).
@inlinable
public func crossEntropyPerSample<T: SoftmaxScalar>(
  logits: Matrix<T>, probabilities: Matrix<T>, classWeights: [T]? = nil,
  sampleWeights: [T]? = nil, labelSmoothing: T = 0
) -> [T] {
  probabilityCrossEntropy(
    logits: logits, targets: probabilities, classWeights: classWeights,
    sampleWeights: sampleWeights, labelSmoothing: labelSmoothing, reduction: .sum,
    withGradient: false
  ).losses
}

/// The fused forward and backward pass against target distributions.
///
/// The gradient of row i is `s_i·(a_i·Σ_c w_c ỹ_ic - w ⊙ ỹ_i) / D`; for
/// unweighted targets that sum to 1, the textbook `(a_i - y_i) / N`.
///
/// - Complexity: O(N × C).
@inlinable
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  logits: Matrix<T>, probabilities: Matrix<T>, classWeights: [T]? = nil,
  sampleWeights: [T]? = nil, labelSmoothing: T = 0, reduction: LossReduction = .mean
) -> CrossEntropyResult<T> {
  probabilityCrossEntropy(
    logits: logits, targets: probabilities, classWeights: classWeights,
    sampleWeights: sampleWeights, labelSmoothing: labelSmoothing, reduction: reduction,
    withGradient: true)
}
