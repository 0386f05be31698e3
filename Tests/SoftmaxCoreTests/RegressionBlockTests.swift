//===--- RegressionBlockTests.swift ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The fused training block (package API): its Double form against central
// differences of its own loss, and its Float form against the Double form
// within the error bound documented in RegressionBlockKernels.swift.

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

@Suite("The fused regression block: Double by finite differences, Float within its bound")
struct RegressionBlockTests {
  struct Problem {
    var x: [Double]
    var w: [Double]
    var b: [Double]
    var labels: [Int]
    var weights: [Double]
    var d: Int
    var k: Int
    var n: Int
  }

  static func problem(rows n: Int, features d: Int, classes k: Int, seed: UInt64, spread: Double)
    -> Problem
  {
    var generator = SplitMix64(seed: seed)
    func uniform() -> Double { Double(generator.next(below: 1 << 20)) / Double(1 << 20) * 2 - 1 }
    // Float-exact inputs, so that both forms see the same numbers.
    func exact(_ v: Double) -> Double { Double(Float(v)) }
    return Problem(
      x: (0..<(n * d)).map { _ in exact(spread * uniform()) },
      w: (0..<(k * d)).map { _ in exact(uniform()) },
      b: (0..<k).map { _ in exact(uniform()) },
      labels: (0..<n).map { _ in generator.next(below: k) },
      weights: (0..<n).map { _ in Double(1 + generator.next(below: 3)) },
      d: d, k: k, n: n)
  }

  /// `[∂W, ∂b, loss]` of the rows of `p` (one block), in `Scalar`.
  static func sums<Scalar: BinaryFloatingPoint>(
    _ p: Problem, as _: Scalar.Type, gradient: Bool = true
  )
    -> [Double]
  {
    let x = p.x.map { Scalar($0) }
    let w = p.w.map { Scalar($0) }
    let b = p.b.map { Scalar($0) }
    var out = [Double](repeating: 0, count: p.k * p.d + p.k + 1)
    x.withUnsafeBufferPointer { x in
      w.withUnsafeBufferPointer { w in
        b.withUnsafeBufferPointer { b in
          p.labels.withUnsafeBufferPointer { labels in
            p.weights.withUnsafeBufferPointer { weights in
              out.withUnsafeMutableBufferPointer { out in
                guard let x = x.baseAddress, let w = w.baseAddress, let b = b.baseAddress,
                  let labels = labels.baseAddress, let weights = weights.baseAddress,
                  let out = out.baseAddress
                else { return }
                if Scalar.self == Float.self {
                  let block = RegressionBlock(
                    x: UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), featureCount: p.d,
                    classCount: p.k,
                    weights: UnsafeRawPointer(w).assumingMemoryBound(to: Float.self),
                    bias: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), mean: nil,
                    inverseScale: nil, labels: labels, rowWeights: weights)
                  var scratch = [Float](repeating: 0, count: p.n * p.k)
                  scratch.withUnsafeMutableBufferPointer { s in
                    guard let s = s.baseAddress else { return }
                    block.accumulate(.range(0..<p.n), wantGradient: gradient, scratch: s, into: out)
                  }
                } else {
                  let block = RegressionBlock(
                    x: UnsafeRawPointer(x).assumingMemoryBound(to: Double.self),
                    featureCount: p.d, classCount: p.k,
                    weights: UnsafeRawPointer(w).assumingMemoryBound(to: Double.self),
                    bias: UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), mean: nil,
                    inverseScale: nil, labels: labels, rowWeights: weights)
                  var scratch = [Double](repeating: 0, count: p.d + p.k)
                  scratch.withUnsafeMutableBufferPointer { s in
                    guard let s = s.baseAddress else { return }
                    block.accumulate(.range(0..<p.n), wantGradient: gradient, scratch: s, into: out)
                  }
                }
              }
            }
          }
        }
      }
    }
    return out
  }

  @Test("Double: the gradient is the central difference of the loss, within O(h²)")
  func doubleByFiniteDifferences() {
    var p = Self.problem(rows: 40, features: 7, classes: 4, seed: 3, spread: 2)
    let analytic = Self.sums(p, as: Double.self)
    let h = 1e-6
    for index in 0..<(p.k * p.d) {
      let saved = p.w[index]
      p.w[index] = saved + h
      let up = Self.sums(p, as: Double.self, gradient: false).last ?? 0
      p.w[index] = saved - h
      let down = Self.sums(p, as: Double.self, gradient: false).last ?? 0
      p.w[index] = saved
      let numeric = (up - down) / (2 * h)
      // Truncation ~h²·|f'''| and rounding ~ε·|f|/h: about 1e-8 here.
      #expect(abs(numeric - analytic[index]) <= 1e-6 * max(1, abs(analytic[index])), "\(index)")
    }
  }

  /// Per row, the Float form's loss is within
  /// `(d + 4)·2⁻²⁴·(1 + Σ|w·x|)` of the Double form's (the documented
  /// bound, weighted by the row's weight); each gradient entry within
  /// twice that times |x| (the softmax of logits off by E moves by at most
  /// 2E relative), plus 4 Float roundings.
  @Test(
    "Float: within the documented bound of the Double form, row by row",
    arguments: [(8, 3, 1.0), (64, 10, 4.0), (784, 10, 1.0), (33, 17, 30.0)])
  func floatWithinBound(_ d: Int, _ k: Int, _ spread: Double) {
    let u = 0x1p-24
    for seed in 0..<20 {
      let p = Self.problem(rows: 1, features: d, classes: k, seed: UInt64(seed), spread: spread)
      let exact = Self.sums(p, as: Double.self)
      let fast = Self.sums(p, as: Float.self)
      var size = 0.0
      for j in 0..<k {
        var s = abs(p.b[j])
        for c in 0..<d { s += abs(p.w[j * d + c] * p.x[c]) }
        size = max(size, s)
      }
      let bound = Double(d + 4) * u * (1 + size)
      let weight = p.weights[0]
      #expect(abs(fast.last! - exact.last!) <= weight * bound, "seed \(seed), d \(d), k \(k)")
      for j in 0..<k {
        for c in 0..<d {
          let index = j * d + c
          let allowed = weight * (2 * bound + 4 * u) * max(abs(p.x[c]), 1e-30)
          #expect(abs(fast[index] - exact[index]) <= allowed, "w[\(j)][\(c)]")
        }
        let biasIndex = k * d + j
        #expect(abs(fast[biasIndex] - exact[biasIndex]) <= weight * (2 * bound + 4 * u))
      }
    }
  }
}
