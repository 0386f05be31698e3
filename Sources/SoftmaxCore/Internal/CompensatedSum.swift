//===--- CompensatedSum.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Neumaier's compensated summation (an improved Kahan sum).
///
/// The error of the sum of n terms is at most `2u·Σ|x_i| + O(n u²)·Σ|x_i|`
/// (u the unit roundoff of `A`), independent of n to first order: a sum of
/// a million positive terms is as exact as a sum of two.
@usableFromInline
struct CompensatedSum<A: BinaryFloatingPoint> {
  @usableFromInline var sum: A = 0
  @usableFromInline var compensation: A = 0

  @inlinable
  init() {}

  @inlinable @inline(__always)
  mutating func add(_ x: A) {
    let t = sum + x
    if sum.magnitude >= x.magnitude {
      compensation += (sum - t) + x
    } else {
      compensation += (x - t) + sum
    }
    sum = t
  }

  /// The compensated sum. An infinite or NaN partial sum is returned as is
  /// (the compensation term is then meaningless).
  @inlinable
  var value: A {
    sum.isFinite ? sum + compensation : sum
  }
}
