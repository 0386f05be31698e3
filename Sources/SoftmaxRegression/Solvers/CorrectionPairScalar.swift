//===--- CorrectionPairScalar.swift ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// How L-BFGS stores its correction pairs (the last `memory` steps `s` and
/// gradient changes `y`, `2·memory` vectors of every parameter).
public enum CorrectionPairStorage: String, Sendable, Hashable, Codable, CaseIterable {
  /// `float` from ``LBFGSOptions/floatPairsFrom`` parameters on, `double`
  /// below.
  case automatic
  /// In `Double`.
  case double
  /// In `Float` (each pair rounded once; its products in `Double`): half
  /// the memory, and half the memory traffic of the two-loop recursion,
  /// which bounds an iteration on large models. The inverse-Hessian
  /// estimate is that of the rounded pairs (each within 2⁻²⁴ relative of
  /// the exact one); the gradient, the line search and the stopping test
  /// are unchanged, so the optimum is the same.
  case float
}

/// A scalar L-BFGS keeps its correction pairs in: the two-loop recursion's
/// vector operations with the pairs in this type and everything else in
/// `Double`. `Double`'s are the plain vector helpers (their bits); every
/// product and sum is in `Double` for `Float` too.
protocol CorrectionPairScalar: BinaryFloatingPoint, BitwiseCopyable, Sendable {
  /// `Σ aᵢbᵢ` in ``dot(_:_:)``'s order.
  static func dot(_ a: [Self], _ b: [Double]) -> Double
  /// `Σ aᵢbᵢ` in ``dot(_:_:)``'s order.
  static func dot(_ a: [Self], _ b: [Self]) -> Double
  /// `Σ aᵢ·(bᵢ·wᵢ)` in ``weightedDot(_:_:_:)``'s order.
  static func weightedDot(_ a: [Self], _ b: [Self], _ w: [Double]) -> Double
  /// `y += α·x`.
  static func axpy(_ alpha: Double, _ x: [Self], _ y: inout [Double])
}

extension Double: CorrectionPairScalar {
  static func dot(_ a: [Double], _ b: [Double]) -> Double { SoftmaxRegression.dot(a, b) }
  static func weightedDot(_ a: [Double], _ b: [Double], _ w: [Double]) -> Double {
    SoftmaxRegression.weightedDot(a, b, w)
  }
  static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
    SoftmaxRegression.axpy(alpha, x, &y)
  }
}

extension Float: CorrectionPairScalar {
  static func dot(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "dot of \(a.count) and \(b.count) values")
    return a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        return chunkedSum(a.count) { range in
          mixedDotChunk(pa, range) {
            UnsafeRawPointer(pb).loadUnaligned(fromByteOffset: $0 * 8, as: SIMD8<Double>.self)
          } tail: {
            pb[$0]
          }
        }
      }
    }
  }

  static func dot(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "dot of \(a.count) and \(b.count) values")
    return a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        return chunkedSum(a.count) { range in
          mixedDotChunk(pa, range) {
            widened(pb, $0)
          } tail: {
            Double(pb[$0])
          }
        }
      }
    }
  }

  static func weightedDot(_ a: [Float], _ b: [Float], _ w: [Double]) -> Double {
    precondition(a.count == b.count && b.count == w.count, "weighted dot of unequal lengths")
    return a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        w.withUnsafeBufferPointer { w in
          guard let pa = a.baseAddress, let pb = b.baseAddress, let pw = w.baseAddress else {
            return 0
          }
          return chunkedSum(a.count) { range in
            mixedDotChunk(pa, range) {
              widened(pb, $0)
                * UnsafeRawPointer(pw).loadUnaligned(fromByteOffset: $0 * 8, as: SIMD8<Double>.self)
            } tail: {
              Double(pb[$0]) * pw[$0]
            }
          }
        }
      }
    }
  }

  static func axpy(_ alpha: Double, _ x: [Float], _ y: inout [Double]) {
    precondition(x.count == y.count, "axpy of \(x.count) and \(y.count) values")
    x.withUnsafeBufferPointer { x in
      y.withUnsafeMutableBufferPointer { y in
        guard let px = x.baseAddress, let py = y.baseAddress else { return }
        forEachPart(y.count) { range in
          for i in range { py[i] += alpha * Double(px[i]) }
        }
      }
    }
  }
}

/// Eight `Float`s from `base + i`, widened to `Double` (exactly).
@inline(__always)
private func widened(_ base: UnsafePointer<Float>, _ i: Int) -> SIMD8<Double> {
  SIMD8<Double>(UnsafeRawPointer(base).loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
}

/// One chunk of a dot product of `Float`s `a` with `Double`s given eight
/// (`other(i)`) or one (`tail(i)`) at a time: ``dotChunk(_:_:_:)``'s
/// lanes and order.
@inline(__always)
private func mixedDotChunk(
  _ a: UnsafePointer<Float>, _ range: Range<Int>, _ other: (Int) -> SIMD8<Double>,
  tail: (Int) -> Double
) -> Double {
  let full = range.lowerBound + range.count / 8 * 8
  var lanes = SIMD8<Double>()
  var i = range.lowerBound
  while i < full {
    lanes += widened(a, i) * other(i)
    i += 8
  }
  var sum = laneSum(lanes)
  while i < range.upperBound {
    sum += Double(a[i]) * tail(i)
    i += 1
  }
  return sum
}
