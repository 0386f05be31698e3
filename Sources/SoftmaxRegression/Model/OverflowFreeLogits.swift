//===--- OverflowFreeLogits.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The logits of one row when `z = W·x̃ + b` overflows a `Double` (finite
/// but huge weights, a tiny scale, huge features), computed so that
/// nothing can overflow: every product and sum is carried as a significand
/// with its own integer exponent, and the row is returned as
/// `z − max(z)`, which softmax, log-softmax and the argmax do not see.
///
/// Each logit is accurate to about `(d + 1)·ε` of its largest term (as
/// the ordinary sum is); where the logits are beyond `Double`, their
/// differences below that are rounding noise, and the result is a one-hot
/// (shared by exact ties) in all but name.
///
/// - Parameters:
///   - x: the `d` features of the row, finite.
///   - weight: `k × d`, row-major, finite.
///   - bias: `k`, finite.
///   - mean, inverseScale: the standardization, or `nil`.
///   - out: the `k` shifted logits (each ≤ 0, the largest 0; `−inf` for a
///     class whose logit is below the largest by more than `Double` holds).
func overflowFreeShiftedLogits(
  x: UnsafeBufferPointer<Double>, weight: [Double], bias: [Double], mean: [Double]?,
  inverseScale: [Double]?, into out: UnsafeMutableBufferPointer<Double>
) {
  let d = x.count
  let k = bias.count
  // x̃ as (significand, exponent): (x − μ)/2 cannot overflow; ·2·(1/σ).
  var standardized = [ExtendedDouble](repeating: .zero, count: d)
  for c in 0..<d {
    if let mean, let inverseScale {
      let half = x[c] * 0.5 - mean[c] * 0.5
      standardized[c] = ExtendedDouble(half).times(ExtendedDouble(inverseScale[c])).timesPowerOfTwo(
        1)
    } else {
      standardized[c] = ExtendedDouble(x[c])
    }
  }
  var logits = [ExtendedDouble](repeating: .zero, count: k)
  var terms = [ExtendedDouble](repeating: .zero, count: d + 1)
  for j in 0..<k {
    terms[0] = ExtendedDouble(bias[j])
    for c in 0..<d { terms[c + 1] = ExtendedDouble(weight[j * d + c]).times(standardized[c]) }
    logits[j] = ExtendedDouble.sum(terms)
  }
  // z_j − z_max: on a common exponent, then scaled back (to −inf if need be).
  let top = logits.map(\.exponent).max() ?? 0
  var aligned = logits.map { $0.significand(atExponent: top) }
  let largest = aligned.max() ?? 0
  for j in 0..<k { aligned[j] -= largest }
  for j in 0..<k {
    let shifted = ExtendedDouble(significand: aligned[j], exponent: top).value
    out[j] = aligned[j] == 0 ? 0 : (shifted.isFinite ? shifted : -.infinity)
  }
}

/// A real number `significand · 2^exponent` with an `Int` exponent: the
/// products and sums of finite `Double`s never overflow it.
struct ExtendedDouble {
  /// In `[1, 2)` in magnitude, or 0.
  var significand: Double
  var exponent: Int

  static let zero = ExtendedDouble(significand: 0, exponent: 0)

  init(significand: Double, exponent: Int) {
    self.significand = significand
    self.exponent = exponent
  }

  /// `value`, finite.
  init(_ value: Double) {
    if value == 0 || !value.isFinite {
      self = value == 0 ? .zero : ExtendedDouble(significand: value, exponent: 0)
      return
    }
    significand = value < 0 ? -value.significand : value.significand
    exponent = Int(value.exponent)
  }

  func times(_ other: ExtendedDouble) -> ExtendedDouble {
    guard significand != 0, other.significand != 0 else { return .zero }
    // The product of two significands is in [1, 4): renormalize.
    let product = ExtendedDouble(significand * other.significand)
    return ExtendedDouble(
      significand: product.significand, exponent: product.exponent + exponent + other.exponent)
  }

  func timesPowerOfTwo(_ e: Int) -> ExtendedDouble {
    significand == 0 ? self : ExtendedDouble(significand: significand, exponent: exponent + e)
  }

  /// `significand · 2^(exponent − e)` as a `Double` (0 when far below).
  func significand(atExponent e: Int) -> Double {
    guard significand != 0 else { return 0 }
    let shift = exponent - e
    if shift < -1100 { return 0 }
    return Double(sign: .plus, exponent: shift, significand: significand)
  }

  /// The value as a `Double`: ±inf beyond its range, 0 below.
  var value: Double {
    guard significand != 0 else { return 0 }
    if exponent > 1100 { return significand > 0 ? .infinity : -.infinity }
    if exponent < -1200 { return 0 }
    return Double(sign: .plus, exponent: exponent, significand: significand)
  }

  /// The sum of `terms`, each aligned to the largest exponent (terms more
  /// than 1100 binary orders below it contribute nothing a `Double` holds).
  static func sum(_ terms: [ExtendedDouble]) -> ExtendedDouble {
    let top = terms.lazy.filter { $0.significand != 0 }.map(\.exponent).max() ?? 0
    var total = 0.0
    for term in terms { total += term.significand(atExponent: top) }
    let normalized = ExtendedDouble(total)
    return normalized.significand == 0
      ? .zero
      : ExtendedDouble(significand: normalized.significand, exponent: normalized.exponent + top)
  }
}
