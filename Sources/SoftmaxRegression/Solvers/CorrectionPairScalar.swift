//===--- CorrectionPairScalar.swift ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
internal import _SoftmaxKernels

/// How L-BFGS stores its correction pairs (the last `memory` steps `s` and
/// gradient changes `y`, `2·memory` vectors of every parameter).
public enum CorrectionPairStorage: String, Sendable, Hashable, Codable, CaseIterable {
  /// `float` from ``LBFGSOptions/floatPairsFrom`` parameters on, `double`
  /// below.
  case automatic
  /// In `Double`.
  case double
  /// In `Float` (each pair rounded once; its products in `Double`): half
  /// the memory, and half the memory traffic of the direction's passes,
  /// which bounds an iteration on large models. The inverse-Hessian
  /// estimate is that of the rounded pairs (each within 2⁻²⁴ relative of
  /// the exact one); the gradient, the line search and the stopping test
  /// are unchanged, so the optimum is the same.
  case float
}

/// A scalar L-BFGS keeps its correction pairs in: the vector operations of
/// ``CorrectionPairs`` with the pairs in this type and everything else in
/// `Double`. Every product and sum is in `Double`, in the lanes and order of
/// ``dot(_:_:)``'s chunks, so that `Float` pairs give the bits of `Double`
/// pairs holding the same (widened) values.
protocol CorrectionPairScalar: BinaryFloatingPoint, BitwiseCopyable, Sendable {
  /// `Σ aᵢbᵢ` over `range`, in the lanes and order of a chunk of
  /// ``dot(_:_:)`` (each value widened to `Double`).
  static func dotChunk(
    _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ range: Range<Int>
  ) -> Double
  /// `out[k] = Σᵢ Aₖᵢ·bᵢ`, or `Σᵢ (Aₖᵢ·wᵢ)·bᵢ` with weights, over `count`
  /// elements, `Aₖ = a[k]` widened to `Double`: each in the lanes and
  /// order of a chunk of ``dot(_:_:)`` (the C kernels' `sk_pair_dots`, four
  /// dots in one loop; the same bits at every CPU level).
  static func pairDots(
    _ a: [UnsafePointer<Self>], weights: UnsafePointer<Double>?, _ b: UnsafePointer<Double>,
    count: Int, into out: UnsafeMutablePointer<Double>)
  /// `d[i]` for `i` in `range`: `t = −vᵢ`, `t += αⱼ·yⱼᵢ` for every change,
  /// `t ← (t·Mᵢ)·γ` (`t·Mᵢ` with no pairs, `t·γ` without `M`),
  /// `t += (−cⱼ)·sⱼᵢ` for every step: each product and sum rounded on its
  /// own, in that order (the C kernels' `sk_pair_combine`; the same bits at
  /// every CPU level).
  static func pairCombine(
    changes: [UnsafePointer<Self>], alpha: [Double], steps: [UnsafePointer<Self>],
    coefficients: [Double], _ v: UnsafePointer<Double>, scaling: UnsafePointer<Double>?,
    gamma: Double, _ range: Range<Int>, into d: UnsafeMutablePointer<Double>)
}

extension CorrectionPairScalar {
  /// `Σ aᵢbᵢ` in ``dot(_:_:)``'s chunks and order.
  static func dot(_ a: [Self], _ b: [Self]) -> Double {
    precondition(a.count == b.count, "dot of \(a.count) and \(b.count) values")
    return a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        return chunkedSum(a.count) { dotChunk(pa, pb, $0) }
      }
    }
  }
}

extension Double: CorrectionPairScalar {
  static func pairCombine(
    changes: [UnsafePointer<Double>], alpha: [Double], steps: [UnsafePointer<Double>],
    coefficients: [Double], _ v: UnsafePointer<Double>, scaling: UnsafePointer<Double>?,
    gamma: Double, _ range: Range<Int>, into d: UnsafeMutablePointer<Double>
  ) {
    changes.withUnsafeBufferPointer { y in
      steps.withUnsafeBufferPointer { s in
        sk_pair_combine_f64(
          changes.count, UnsafePointer(OpaquePointer(y.baseAddress)), alpha,
          UnsafePointer(OpaquePointer(s.baseAddress)), coefficients, v, scaling, gamma,
          range.lowerBound, range.upperBound, d)
      }
    }
  }

  static func pairDots(
    _ a: [UnsafePointer<Double>], weights: UnsafePointer<Double>?, _ b: UnsafePointer<Double>,
    count: Int, into out: UnsafeMutablePointer<Double>
  ) {
    a.withUnsafeBufferPointer { a in
      guard let pa = a.baseAddress else { return }
      sk_pair_dots_f64(a.count, UnsafePointer(OpaquePointer(pa)), weights, b, count, out)
    }
  }

  @inline(__always)
  static func dotChunk(
    _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ range: Range<Int>
  ) -> Double {
    laneDot(range) {
      UnsafeRawPointer(a).loadUnaligned(fromByteOffset: $0 * 8, as: SIMD8<Double>.self)
        * UnsafeRawPointer(b).loadUnaligned(fromByteOffset: $0 * 8, as: SIMD8<Double>.self)
    } tail: {
      a[$0] * b[$0]
    }
  }
}

extension Float: CorrectionPairScalar {
  static func pairCombine(
    changes: [UnsafePointer<Float>], alpha: [Double], steps: [UnsafePointer<Float>],
    coefficients: [Double], _ v: UnsafePointer<Double>, scaling: UnsafePointer<Double>?,
    gamma: Double, _ range: Range<Int>, into d: UnsafeMutablePointer<Double>
  ) {
    changes.withUnsafeBufferPointer { y in
      steps.withUnsafeBufferPointer { s in
        sk_pair_combine_f32(
          changes.count, UnsafePointer(OpaquePointer(y.baseAddress)), alpha,
          UnsafePointer(OpaquePointer(s.baseAddress)), coefficients, v, scaling, gamma,
          range.lowerBound, range.upperBound, d)
      }
    }
  }

  static func pairDots(
    _ a: [UnsafePointer<Float>], weights: UnsafePointer<Double>?, _ b: UnsafePointer<Double>,
    count: Int, into out: UnsafeMutablePointer<Double>
  ) {
    a.withUnsafeBufferPointer { a in
      guard let pa = a.baseAddress else { return }
      sk_pair_dots_f32(a.count, UnsafePointer(OpaquePointer(pa)), weights, b, count, out)
    }
  }

  @inline(__always)
  static func dotChunk(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ range: Range<Int>
  ) -> Double {
    laneDot(range) {
      widened(a, $0) * widened(b, $0)
    } tail: {
      Double(a[$0]) * Double(b[$0])
    }
  }

}

/// Eight `Float`s from `base + i`, widened to `Double` (exactly).
@inline(__always)
private func widened(_ base: UnsafePointer<Float>, _ i: Int) -> SIMD8<Double> {
  SIMD8<Double>(UnsafeRawPointer(base).loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
}

/// One chunk of a dot product given its products eight (`products(i)`:
/// elements `i..<i+8`) or one (`tail(i)`) at a time: element `i` of the
/// chunk's whole eights is added to lane `i mod 8`, the lanes are added
/// pairwise (``laneSum(_:)``), then the tail in order. The order of every
/// dot product of the solvers.
@inline(__always)
func laneDot(
  _ range: Range<Int>, _ products: (Int) -> SIMD8<Double>, tail: (Int) -> Double
) -> Double {
  let full = range.lowerBound + range.count / 8 * 8
  var lanes = SIMD8<Double>()
  var i = range.lowerBound
  while i < full {
    lanes += products(i)
    i += 8
  }
  var sum = laneSum(lanes)
  while i < range.upperBound {
    sum += tail(i)
    i += 1
  }
  return sum
}

/// A new correction pair in one pass: `step = x₁ − x₀` and
/// `change = g₁ − g₀`, each difference rounded to `P`, with the products
/// `stepᵀchange` and `changeᵀchange` of the rounded values in
/// ``CorrectionPairScalar/dot(_:_:)``'s chunks and order (its bits),
/// reading each vector once. `step` and `change` are reused when they have
/// the length.
func correctionPair<P: CorrectionPairScalar>(
  x1: [Double], x0: [Double], g1: [Double], g0: [Double], step: inout [P], change: inout [P]
) -> (curvature: Double, changeSquared: Double) {
  let n = x1.count
  precondition(
    x0.count == n && g1.count == n && g0.count == n, "a correction pair of unequal lengths")
  if step.count != n { step = filledArray(repeating: P.zero, count: n) }
  if change.count != n { change = filledArray(repeating: P.zero, count: n) }
  let products = x1.withUnsafeBufferPointer { x1 in
    x0.withUnsafeBufferPointer { x0 in
      g1.withUnsafeBufferPointer { g1 in
        g0.withUnsafeBufferPointer { g0 in
          step.withUnsafeMutableBufferPointer { step in
            change.withUnsafeMutableBufferPointer { change in
              guard let x1 = x1.baseAddress, let x0 = x0.baseAddress, let g1 = g1.baseAddress,
                let g0 = g0.baseAddress, let s = step.baseAddress, let y = change.baseAddress
              else { return [0.0, 0.0] }
              return chunkedSums(n, width: 2) { range, out in
                for i in range {
                  s[i] = P(x1[i] - x0[i])
                  y[i] = P(g1[i] - g0[i])
                }
                out[0] = P.dotChunk(s, y, range)
                out[1] = P.dotChunk(y, y, range)
              }
            }
          }
        }
      }
    }
  }
  return (products[0], products[1])
}
