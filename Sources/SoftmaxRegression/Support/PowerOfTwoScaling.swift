//===--- PowerOfTwoScaling.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Exact rescaling by powers of two, for sums of finite values that would
/// overflow (values near 1e308, squares of values above 1e154) or
/// underflow (subnormal weights).
///
/// Multiplying by `2^e` changes no significand bit unless the result
/// leaves the normal range, so a sum of rescaled values, scaled back, is
/// bitwise the sum that would have been computed had it not overflowed.
/// Values inside ``PowerOfTwoScaling/safeRange`` are never rescaled: data
/// of ordinary magnitude gives the same bits as without this.
enum PowerOfTwoScaling {
  /// Magnitudes from `2^-256` to `2^256` need no rescaling: a sum of 2^40
  /// squares of them stays finite and normal.
  static let safeRange = 0x1p-256...0x1p256

  /// The exponent `e` with `2^-e · largest` in `[1, 2)`, or 0 when
  /// `largest` is 0, not finite, or in ``safeRange`` (no rescaling).
  static func exponent(bringingDown largest: Double) -> Int {
    guard largest.isFinite, largest > 0, !safeRange.contains(largest) else { return 0 }
    return Int(largest.exponent)
  }

  /// `value · 2^e`, correctly rounded (exact unless it leaves the normal
  /// range).
  @inline(__always)
  static func scale(_ value: Double, by e: Int) -> Double {
    e == 0 ? value : Double(sign: .plus, exponent: e, significand: value)
  }

  /// `weights` multiplied by a power of two that brings the largest into
  /// `[1, 2)` when it is outside ``safeRange`` (so that their sum cannot
  /// overflow, nor its reciprocal); unchanged otherwise. A weighted mean
  /// is unchanged by a common factor.
  static func normalized(_ weights: [Double]) -> [Double] {
    let e = exponent(bringingDown: weights.reduce(0) { max($0, abs($1)) })
    return e == 0 ? weights : weights.map { scale($0, by: -e) }
  }
}
