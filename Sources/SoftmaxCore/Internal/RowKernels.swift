//===--- RowKernels.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import RealModule

// The one-lane kernels behind every public function. A lane is `count`
// elements `stride` apart: a row of a matrix (stride 1), a column (stride
// = columns) or a plain array. An optional mask, laid out like the data,
// switches elements off: a masked-out element takes no part in the max or
// the sum, gets probability 0 and log-probability -inf.
//
// Accuracy: the argument of exp, (z_i - m)/τ, is carried as an unevaluated
// pair hi + lo (an exact difference by 2Sum, an exact division residual by
// FMA), and exp(hi + lo) is evaluated as exp(hi)·(1 + lo). Without that the
// rounding of z_i - m alone costs up to |z_i - m|·u/2 of relative error in
// e^(z_i - m): 32 ulps at a spread of 100 in Float.

/// What the active (unmasked) elements of a lane hold, which decides the
/// special-value rules of SoftmaxCore (see the "Special values" article).
@usableFromInline
enum LaneKind {
  /// No active element.
  case empty
  /// An active element is NaN.
  case hasNaN
  /// `count` active elements are +inf (and none is NaN).
  case positiveInfinity(count: Int)
  /// Every active element is -inf; `count` of them.
  case allNegativeInfinity(count: Int)
  /// The maximum is finite.
  case finite
}

@usableFromInline
struct LaneScan<T: SoftmaxScalar> {
  @usableFromInline var kind: LaneKind
  @usableFromInline var max: T
  @usableFromInline var activeCount: Int

  @inlinable
  init(kind: LaneKind, max: T, activeCount: Int) {
    self.kind = kind
    self.max = max
    self.activeCount = activeCount
  }
}

@inlinable @inline(__always)
func isActive(_ mask: UnsafePointer<Bool>?, _ offset: Int) -> Bool {
  mask.map { $0[offset] } ?? true
}

/// One pass over a lane: its maximum, whether it holds NaN, and how many
/// active and +inf elements it has.
@inlinable
func scanLane<T: SoftmaxScalar>(
  _ x: UnsafePointer<T>, count: Int, stride: Int, mask: UnsafePointer<Bool>?
) -> LaneScan<T> {
  var maximum = -T.infinity
  var active = 0
  var positiveInfinities = 0
  var sawNaN = false
  for i in 0..<count {
    let offset = i * stride
    guard isActive(mask, offset) else { continue }
    let v = x[offset]
    active += 1
    if v.isNaN {
      sawNaN = true
    } else {
      if v > maximum { maximum = v }
      if v == .infinity { positiveInfinities += 1 }
    }
  }
  let kind: LaneKind
  if active == 0 {
    kind = .empty
  } else if sawNaN {
    kind = .hasNaN
  } else if positiveInfinities > 0 {
    kind = .positiveInfinity(count: positiveInfinities)
  } else if maximum == -.infinity {
    kind = .allNegativeInfinity(count: active)
  } else {
    kind = .finite
  }
  return LaneScan(kind: kind, max: maximum, activeCount: active)
}

/// (z - m)/τ as an unevaluated sum hi + lo with |lo| ≤ ulp(hi), for finite m
/// and τ > 0. A non-finite hi is returned with lo = 0.
@inlinable @inline(__always)
func reducedArgument<T: SoftmaxScalar>(
  _ z: T, minus m: T, temperature: T
) -> (hi: T, lo: T) {
  let hi = z - m
  guard hi.isFinite else { return (hi, 0) }
  // 2Sum: hi + lo == z + (-m) exactly.
  let bb = hi - z
  let lo = (z - (hi - bb)) + (-m - bb)
  if temperature == 1 { return (hi, lo) }
  let q = hi / temperature
  guard q.isFinite, q != 0 else { return (q, 0) }
  // hi == q·τ + r exactly; (hi + lo)/τ == q + (r + lo)/τ.
  let r = hi.addingProduct(-q, temperature)
  return (q, (r + lo) / temperature)
}

/// e^(hi + lo) ≈ e^hi · (1 + lo), accurate to O(lo²).
@inlinable @inline(__always)
func correctedExp<T: SoftmaxScalar>(_ d: (hi: T, lo: T)) -> T {
  let e = T.exp(d.hi)
  return e + e * d.lo
}

/// Σ e^((z_i - m)/τ) over the active elements of a lane with finite max
/// m, returned as `1 + rest`: the first maximal element contributes exactly
/// e^0 = 1, and `rest` sums the others. Keeping the 1 apart lets
/// log-softmax take `log(onePlus: rest)`, exact when one element dominates
/// (rest ≪ u), where `log(1 + rest)` would round to 0.
/// When `store` is given, each term e_i is written there too.
@inlinable
func sumOfExponentials<T: SoftmaxScalar>(
  _ x: UnsafePointer<T>, count: Int, stride: Int, mask: UnsafePointer<Bool>?,
  max m: T, temperature: T, store: UnsafeMutablePointer<T>?
) -> (rest: T.Accumulator, total: T.Accumulator) {
  var rest = CompensatedSum<T.Accumulator>()
  var sawMax = false
  for i in 0..<count {
    let offset = i * stride
    guard isActive(mask, offset) else {
      store?[offset] = 0
      continue
    }
    let z = x[offset]
    if !sawMax && z == m {
      sawMax = true
      store?[offset] = 1
      continue
    }
    let e = correctedExp(reducedArgument(z, minus: m, temperature: temperature))
    store?[offset] = e
    rest.add(T.widen(e))
  }
  let r = rest.value
  return (r, 1 + r)
}

/// Saturates a value whose true result is finite but whose rounded result
/// overflowed: finite input never yields ±inf.
@inlinable @inline(__always)
func saturated<T: SoftmaxScalar>(_ x: T) -> T {
  if x == .infinity { return .greatestFiniteMagnitude }
  if x == -.infinity { return -.greatestFiniteMagnitude }
  return x
}

/// Softmax of one lane, written to `out` with the same layout.
@inlinable
func softmaxLane<T: SoftmaxScalar>(
  _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, count: Int, stride: Int,
  mask: UnsafePointer<Bool>?, temperature: T
) {
  let scan = scanLane(x, count: count, stride: stride, mask: mask)
  switch scan.kind {
  case .empty:
    for i in 0..<count { out[i * stride] = 0 }
  case .hasNaN:
    for i in 0..<count { out[i * stride] = isActive(mask, i * stride) ? .nan : 0 }
  case .positiveInfinity(let k):
    let share = 1 / T(k)
    for i in 0..<count {
      let o = i * stride
      out[o] = isActive(mask, o) && x[o] == .infinity ? share : 0
    }
  case .allNegativeInfinity(let k):
    let share = 1 / T(k)
    for i in 0..<count { out[i * stride] = isActive(mask, i * stride) ? share : 0 }
  case .finite:
    let total = sumOfExponentials(
      x, count: count, stride: stride, mask: mask, max: scan.max,
      temperature: temperature, store: out
    ).total
    for i in 0..<count {
      let o = i * stride
      out[o] = T.narrow(T.widen(out[o]) / total)
    }
  }
}

/// Log-softmax of one lane, written to `out` with the same layout.
@inlinable
func logSoftmaxLane<T: SoftmaxScalar>(
  _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, count: Int, stride: Int,
  mask: UnsafePointer<Bool>?, temperature: T
) {
  let scan = scanLane(x, count: count, stride: stride, mask: mask)
  switch scan.kind {
  case .empty:
    for i in 0..<count { out[i * stride] = -.infinity }
  case .hasNaN:
    for i in 0..<count { out[i * stride] = isActive(mask, i * stride) ? .nan : -.infinity }
  case .positiveInfinity(let k):
    let value = T.narrow(-T.Accumulator.log(T.Accumulator(k)))
    for i in 0..<count {
      let o = i * stride
      out[o] = isActive(mask, o) && x[o] == .infinity ? value : -.infinity
    }
  case .allNegativeInfinity(let k):
    let value = T.narrow(-T.Accumulator.log(T.Accumulator(k)))
    for i in 0..<count { out[i * stride] = isActive(mask, i * stride) ? value : -.infinity }
  case .finite:
    let sum = sumOfExponentials(
      x, count: count, stride: stride, mask: mask, max: scan.max,
      temperature: temperature, store: nil)
    let logTotal = T.Accumulator.log(onePlus: sum.rest)
    for i in 0..<count {
      let o = i * stride
      guard isActive(mask, o) else {
        out[o] = -.infinity
        continue
      }
      let z = x[o]
      let d = reducedArgument(z, minus: scan.max, temperature: temperature)
      if !d.hi.isFinite {
        // z = -inf gives -inf; a finite z whose difference overflowed saturates.
        out[o] = z.isFinite ? -.greatestFiniteMagnitude : -.infinity
      } else {
        let value = T.narrow((T.widen(d.hi) - logTotal) + T.widen(d.lo))
        out[o] = saturated(value)
      }
    }
  }
}

/// log Σ e^(z_i/τ) over the active elements of one lane.
@inlinable
func logSumExpLane<T: SoftmaxScalar>(
  _ x: UnsafePointer<T>, count: Int, stride: Int, mask: UnsafePointer<Bool>?,
  temperature: T
) -> T {
  let scan = scanLane(x, count: count, stride: stride, mask: mask)
  switch scan.kind {
  case .empty, .allNegativeInfinity: return -.infinity
  case .hasNaN: return .nan
  case .positiveInfinity: return .infinity
  case .finite:
    let sum = sumOfExponentials(
      x, count: count, stride: stride, mask: mask, max: scan.max,
      temperature: temperature, store: nil)
    let shift = T.widen(scan.max) / T.widen(temperature)
    return saturated(T.narrow(shift + T.Accumulator.log(onePlus: sum.rest)))
  }
}

/// The signed, weighted log-sum-exp of one lane: log|Σ b_i e^(z_i)| and the
/// sign of the sum. Elements with b_i == 0 take no part (as in SciPy).
@inlinable
func weightedLogSumExpLane<T: SoftmaxScalar>(
  _ x: UnsafePointer<T>, weights b: UnsafePointer<T>, count: Int, stride: Int,
  mask: UnsafePointer<Bool>?
) -> (value: T, sign: T) {
  var maximum = -T.infinity
  var sawNaN = false
  var infiniteWeight = CompensatedSum<T.Accumulator>()
  var sawInfinity = false
  for i in 0..<count {
    let o = i * stride
    guard isActive(mask, o), b[o] != 0 else { continue }
    let z = x[o]
    if z.isNaN || b[o].isNaN {
      sawNaN = true
    } else {
      maximum = Swift.max(maximum, z)
      if z == .infinity {
        sawInfinity = true
        infiniteWeight.add(T.widen(b[o]))
      }
    }
  }
  if sawNaN { return (.nan, .nan) }
  if sawInfinity {
    let w = infiniteWeight.value
    if w.isNaN || w == 0 { return (.nan, .nan) }  // inf - inf, or ∞·0
    return (.infinity, w > 0 ? 1 : -1)
  }
  if maximum == -.infinity { return (-.infinity, 0) }
  var sum = CompensatedSum<T.Accumulator>()
  for i in 0..<count {
    let o = i * stride
    guard isActive(mask, o), b[o] != 0 else { continue }
    let e = correctedExp(reducedArgument(x[o], minus: maximum, temperature: 1))
    sum.add(T.widen(b[o]) * T.widen(e))
  }
  let total = sum.value
  if total == 0 { return (-.infinity, 0) }
  if !total.isFinite {
    // Infinite weights: the magnitude is infinite, its sign is the sum's.
    if total.isNaN { return (.nan, .nan) }
    return (.infinity, total > 0 ? 1 : -1)
  }
  let value = T.widen(maximum) + T.Accumulator.log(total.magnitude)
  return (saturated(T.narrow(value)), total > 0 ? 1 : -1)
}
