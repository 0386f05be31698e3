//===--- Softmax.swift ----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The softmax of a vector: `a_i = e^(z_i/τ) / Σ_j e^(z_j/τ)`.
///
///     softmax([1.0, 2.0, 3.0])   // [0.0900, 0.2447, 0.6652]
///
/// Each output is in [0, 1] and they sum to 1. The result is computed
/// stably as `e^((z_i - m)/τ) / Σ_j e^((z_j - m)/τ)` with `m = max z`, so no
/// finite input overflows, and with the difference `z_i - m` carried exactly
/// (see <doc:Accuracy>).
///
/// - Parameters:
///   - logits: The scores `z`.
///   - temperature: `τ > 0`. Above 1 flattens the distribution, below 1
///     sharpens it. Default 1.
///   - mask: Optional; where `false`, the element takes no part: its output
///     is 0 and the others are renormalized without it (JAX's `where:`).
///     A fully masked vector gives all zeros, never NaN.
/// - Returns: The probabilities, same count as `logits`.
/// - Complexity: O(n): one pass for the max, one for exp and sum, one to
///   scale; n calls of `exp`.
/// - Precondition: `temperature > 0`; `mask`, if given, has `logits.count`
///   elements.
///
/// Error bound: every output above 1e-30 is within 4 ulps of the exact
/// result (measured worst: 2.14 ulps for `Float`, 1.82
/// for `Double`, over rows of up to 10⁶ elements with spreads up to 100),
/// and every row sums to 1 within 4u, whatever its length (measured worst
/// for `Float`: 3.9e-8). `Float` results below the
/// smallest normal (1.2e-38) may be flushed to 0.
///
/// `Float` with τ = 1 runs on SIMD kernels chosen for the CPU at run time
/// (see ``SoftmaxConfiguration``), on several threads for large inputs;
/// results are bitwise identical for every thread count. Special values (±inf, NaN) are
/// defined in <doc:SpecialValues>.
@inlinable
public func softmax<T: SoftmaxScalar>(
  _ logits: [T], temperature: T = 1, where mask: [Bool]? = nil
) -> [T] {
  softmax(
    singleRow(logits), temperature: temperature,
    where: singleRowMask(mask, count: logits.count)
  ).elements
}

/// The softmax of each row (or column) of a matrix.
///
/// `axis: -1` (the default, also `1`) normalizes each row, as PyTorch's
/// `softmax(x, dim=-1)`; `axis: 0` (also `-2`) normalizes each column.
/// Everything else is as in ``softmax(_:temperature:where:)-([T],_,_)``.
///
/// - Returns: A matrix of the shape of `logits`.
/// - Complexity: O(rows × columns).
/// - Precondition: `temperature > 0`; `mask` has the shape of `logits`.
@inlinable
public func softmax<T: SoftmaxScalar>(
  _ logits: Matrix<T>, axis: Int = -1, temperature: T = 1, where mask: Matrix<Bool>? = nil
) -> Matrix<T> {
  var output = Matrix(rows: logits.rows, columns: logits.columns, repeating: T.zero)
  softmax(logits, axis: axis, temperature: temperature, where: mask, into: &output)
  return output
}

/// Writes the softmax of each row (or column) of `logits` into a
/// preallocated matrix: the allocation-free path for loops.
///
/// `output` may not alias `logits` (Swift's exclusivity rules forbid it).
///
/// - Complexity: O(rows × columns), no allocation.
/// - Precondition: `output` has the shape of `logits`; `temperature > 0`.
@inlinable
public func softmax<T: SoftmaxScalar>(
  _ logits: Matrix<T>, axis: Int = -1, temperature: T = 1, where mask: Matrix<Bool>? = nil,
  into output: inout Matrix<T>
) {
  precondition(temperature > 0, "temperature must be positive, got \(temperature)")
  if softmaxFastPath(
    .softmax, logits, axis: axis, temperature: temperature, mask: mask, into: &output)
  {
    return
  }
  mapLanes(logits, axis: axis, mask: mask, into: &output) { x, out, _, count, stride, mask in
    softmaxLane(x, out, count: count, stride: stride, mask: mask, temperature: temperature)
  }
}

/// The log-softmax of a vector: `log a_i = (z_i - m)/τ - log Σ_j e^((z_j - m)/τ)`.
///
///     logSoftmax([1.0, 2.0, 3.0])   // [-2.4076, -1.4076, -0.4076]
///
/// Computed directly, never as `log(softmax(z))`: it stays finite and exact
/// where the probability underflows (`logSoftmax([0, -1000])[1] == -1000`).
///
/// - Parameters:
///   - logits: The scores `z`.
///   - temperature: `τ > 0`, default 1.
///   - mask: Optional; masked-out elements give -inf.
/// - Returns: The log-probabilities, same count as `logits`.
/// - Complexity: O(n), n calls of `exp`, one of `log`.
/// - Precondition: `temperature > 0`; `mask` has `logits.count` elements.
///
/// Error bound: within 3 ulps of the exact result for every finite output
/// (measured worst on the accuracy corpus: 0.96 ulp for `Float`, 1.00 for
/// `Double`; see <doc:Accuracy>). A true result
/// below `-greatestFiniteMagnitude` (only with logits spread over more than
/// the type's range) saturates there rather than becoming -inf.
@inlinable
public func logSoftmax<T: SoftmaxScalar>(
  _ logits: [T], temperature: T = 1, where mask: [Bool]? = nil
) -> [T] {
  logSoftmax(
    singleRow(logits), temperature: temperature,
    where: singleRowMask(mask, count: logits.count)
  ).elements
}

/// The log-softmax of each row (`axis: -1`, default) or column (`axis: 0`).
///
/// - Returns: A matrix of the shape of `logits`.
/// - Complexity: O(rows × columns).
/// - Precondition: `temperature > 0`; `mask` has the shape of `logits`.
@inlinable
public func logSoftmax<T: SoftmaxScalar>(
  _ logits: Matrix<T>, axis: Int = -1, temperature: T = 1, where mask: Matrix<Bool>? = nil
) -> Matrix<T> {
  var output = Matrix(rows: logits.rows, columns: logits.columns, repeating: T.zero)
  logSoftmax(logits, axis: axis, temperature: temperature, where: mask, into: &output)
  return output
}

/// Writes the log-softmax of each row (or column) into a preallocated matrix.
///
/// - Complexity: O(rows × columns), no allocation.
/// - Precondition: `output` has the shape of `logits`; `temperature > 0`.
@inlinable
public func logSoftmax<T: SoftmaxScalar>(
  _ logits: Matrix<T>, axis: Int = -1, temperature: T = 1, where mask: Matrix<Bool>? = nil,
  into output: inout Matrix<T>
) {
  precondition(temperature > 0, "temperature must be positive, got \(temperature)")
  if softmaxFastPath(
    .logSoftmax, logits, axis: axis, temperature: temperature, mask: mask, into: &output)
  {
    return
  }
  mapLanes(logits, axis: axis, mask: mask, into: &output) { x, out, _, count, stride, mask in
    logSoftmaxLane(x, out, count: count, stride: stride, mask: mask, temperature: temperature)
  }
}
