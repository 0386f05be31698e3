//===--- LogSumExp.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// `log Σ_i e^(z_i/τ)`, computed without overflow as `m/τ + log Σ e^((z_i - m)/τ)`.
///
///     logSumExp([1.0, 2.0, 3.0])      // 3.4076
///     logSumExp([1000.0, 1000.0])     // 1000.6931 (naively: inf)
///
/// - Parameters:
///   - values: The values `z`. An empty array gives -inf (the log of an
///     empty sum), as NumPy and SciPy do.
///   - temperature: `τ > 0`, default 1.
///   - mask: Optional; masked-out elements take no part.
/// - Complexity: O(n), n calls of `exp`, one of `log`.
/// - Precondition: `temperature > 0`; `mask` has `values.count` elements.
///
/// Error bound: absolute error at most `2u·max(|m/τ|, log n)` plus 0.5 ulp
/// of the result; relative error within 2 ulps unless the result is near 0
/// by cancellation of `m/τ` and `log Σ` (its condition number is then large).
@inlinable
public func logSumExp<T: SoftmaxScalar>(
  _ values: [T], temperature: T = 1, where mask: [Bool]? = nil
) -> T {
  logSumExp(
    singleRow(values), temperature: temperature,
    where: singleRowMask(mask, count: values.count)
  )[0]
}

/// `log Σ e^(z/τ)` of each row (`axis: -1`, default) or column (`axis: 0`).
///
/// - Returns: One value per row (or per column).
/// - Complexity: O(rows × columns).
/// - Precondition: `temperature > 0`; `mask` has the shape of `values`.
@inlinable
public func logSumExp<T: SoftmaxScalar>(
  _ values: Matrix<T>, axis: Int = -1, temperature: T = 1, where mask: Matrix<Bool>? = nil
) -> [T] {
  precondition(temperature > 0, "temperature must be positive, got \(temperature)")
  if let fast = logSumExpFastPath(values, axis: axis, temperature: temperature, mask: mask) {
    return fast
  }
  return reduceLanes(values, axis: axis, mask: mask) { x, _, count, stride, mask in
    logSumExpLane(x, count: count, stride: stride, mask: mask, temperature: temperature)
  }
}

/// The result of a weighted log-sum-exp: `log|Σ b_i e^(z_i)|` and the sign
/// of the sum, so that `sign · e^value == Σ b_i e^(z_i)`.
@frozen
public struct SignedLogSumExp<T: SoftmaxScalar>: Sendable, Hashable {
  /// `log|Σ b_i e^(z_i)|`; -inf when the sum is exactly zero.
  public var value: T
  /// +1 or -1, 0 when the sum is exactly zero, NaN when undefined.
  public var sign: T

  /// Creates a result from its parts.
  @inlinable
  public init(value: T, sign: T) {
    self.value = value
    self.sign = sign
  }
}

/// The weighted log-sum-exp `log|Σ_i b_i e^(z_i)|` with the sign of the sum,
/// as SciPy's `logsumexp(a, b=b, return_sign=True)` and JAX's.
///
///     let r = logSumExp([0.0, 1.0], weights: [1.0, -1.0])
///     // e^0 - e^1 = -1.71828: r.value == log(1.71828), r.sign == -1
///
/// A negative weighted sum gives its log-magnitude and sign -1, never NaN.
/// Elements whose weight is 0 take no part, even when `z_i` is ±inf (as in
/// SciPy). +inf elements decide the result alone: the sign of the sum of
/// their weights, or NaN if those weights cancel exactly.
///
/// - Parameters:
///   - values: The exponents `z`.
///   - weights: The weights `b`, same count; may be negative.
///   - mask: Optional; masked-out elements take no part.
/// - Complexity: O(n).
/// - Precondition: `weights.count == values.count`.
///
/// Error bound: `value` is within 2 ulps plus the cancellation in
/// `Σ b_i e^(z_i)`: with mixed signs the relative error of the sum is at most
/// `2u·Σ|b_i e^(z_i)| / |Σ b_i e^(z_i)|` (compensated summation).
@inlinable
public func logSumExp<T: SoftmaxScalar>(
  _ values: [T], weights: [T], where mask: [Bool]? = nil
) -> SignedLogSumExp<T> {
  precondition(
    weights.count == values.count,
    "weights has \(weights.count) elements; values has \(values.count)")
  return logSumExp(
    singleRow(values), weights: singleRow(weights),
    where: singleRowMask(mask, count: values.count))[0]
}

/// The weighted, signed log-sum-exp of each row (`axis: -1`) or column
/// (`axis: 0`).
///
/// - Returns: One result per row (or per column).
/// - Complexity: O(rows × columns).
/// - Precondition: `weights` (and `mask`) have the shape of `values`.
@inlinable
public func logSumExp<T: SoftmaxScalar>(
  _ values: Matrix<T>, weights: Matrix<T>, axis: Int = -1, where mask: Matrix<Bool>? = nil
) -> [SignedLogSumExp<T>] {
  precondition(
    weights.rows == values.rows && weights.columns == values.columns,
    "weights is \(weights.rows) x \(weights.columns); values is \(values.rows) x \(values.columns)"
  )
  let weightStorage = weights.elements.isEmpty ? [T.zero] : weights.elements
  return weightStorage.withUnsafeBufferPointer { b in
    guard let bBase = b.baseAddress else { preconditionFailure("storage is never empty") }
    return reduceLanes(values, axis: axis, mask: mask) { x, offset, count, stride, mask in
      let r = weightedLogSumExpLane(
        x, weights: bBase + offset, count: count, stride: stride, mask: mask)
      return SignedLogSumExp(value: r.value, sign: r.sign)
    }
  }
}
