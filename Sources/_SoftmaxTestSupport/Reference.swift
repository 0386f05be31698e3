//===--- Reference.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Independent, straightforward reference implementations in a wider type,
// for the tests. Not public API of swift-softmax.

import RealModule

#if arch(x86_64) || arch(i386)
/// The widest floating-point type here: `Float80` on x86, else `Double`.
public typealias ReferenceScalar = Float80
#else
/// The widest floating-point type here: `Float80` on x86, else `Double`.
public typealias ReferenceScalar = Double
#endif

/// Kahan-compensated sum in the reference type.
public func referenceSum(_ values: [ReferenceScalar]) -> ReferenceScalar {
  var sum: ReferenceScalar = 0
  var c: ReferenceScalar = 0
  for v in values {
    let y = v - c
    let t = sum + y
    c = (t - sum) - y
    sum = t
  }
  return sum
}

/// softmax in the reference type: `e^(z_i - m) / Σ e^(z_j - m)`.
/// Finite input only.
public func referenceSoftmax<T: BinaryFloatingPoint>(_ z: [T]) -> [ReferenceScalar] {
  let x = z.map { ReferenceScalar($0) }
  guard let m = x.max() else { return [] }
  let e = x.map { ReferenceScalar.exp($0 - m) }
  let s = referenceSum(e)
  return e.map { $0 / s }
}

/// `log Σ e^(x_j - m)` for `m = max x`, as `log1p` of the sum without the
/// maximal term (exactly 1), so that a dominant element does not round the
/// sum to 1 (even Float80 rounds 1 + 1e-20 to 1).
func referenceLogSumOfShifted(_ x: [ReferenceScalar], max m: ReferenceScalar) -> ReferenceScalar {
  guard let top = x.firstIndex(of: m) else { return -.infinity }
  var others = x
  others.remove(at: top)
  return ReferenceScalar.log(onePlus: referenceSum(others.map { ReferenceScalar.exp($0 - m) }))
}

/// log-softmax in the reference type: `(z_i - m) - log Σ e^(z_j - m)`.
/// Finite input only.
public func referenceLogSoftmax<T: BinaryFloatingPoint>(_ z: [T]) -> [ReferenceScalar] {
  let x = z.map { ReferenceScalar($0) }
  guard let m = x.max() else { return [] }
  let logS = referenceLogSumOfShifted(x, max: m)
  return x.map { ($0 - m) - logS }
}

/// log Σ e^(z_i) in the reference type. Finite input only.
public func referenceLogSumExp<T: BinaryFloatingPoint>(_ z: [T]) -> ReferenceScalar {
  let x = z.map { ReferenceScalar($0) }
  guard let m = x.max() else { return -.infinity }
  return m + referenceLogSumOfShifted(x, max: m)
}

/// The error of `observed` in ulps of `T` at the reference value, as
/// swift-numerics' tests measure it: `|observed - expected| / ulp(expected)`
/// with the ulp of the nearest `T`, floored at the smallest normal. Equal
/// infinities and NaN == NaN count as 0; a wrong sign or a NaN against a
/// number count as infinity.
public func ulpError<T: BinaryFloatingPoint>(_ observed: T, _ expected: ReferenceScalar) -> Double {
  if observed.isNaN || expected.isNaN { return observed.isNaN && expected.isNaN ? 0 : .infinity }
  if observed.isInfinite || expected.isInfinite {
    return ReferenceScalar(observed) == expected ? 0 : .infinity
  }
  let expectedT = T(expected)
  let scale = ReferenceScalar(Swift.max(expectedT.magnitude, T.leastNormalMagnitude).ulp)
  return Double((ReferenceScalar(observed) - expected).magnitude / scale)
}
