//===--- CorrectionPairsTests.swift ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import Testing

@testable import SoftmaxRegression

/// Pairs of a quadratic with the Hessian `diag(h)`, `h` in [0.5, 2]:
/// `y = h ∘ s`, so that every curvature `sᵀy` is positive and the
/// estimate is well conditioned.
private func quadraticPairs(
  count: Int, length n: Int, seed: UInt64
) -> (s: [[Double]], y: [[Double]], h: [Double]) {
  var generator = SplitMix64(seed: seed)
  let h = [Double].random(count: n, in: 0.5...2, using: &generator)
  var s: [[Double]] = []
  var y: [[Double]] = []
  for _ in 0..<count {
    let step = [Double].random(count: n, in: -1...1, using: &generator)
    s.append(step)
    y.append(zip(step, h).map { $0 * $1 })
  }
  return (s, y, h)
}

/// `−H·v` by the two-loop recursion (Nocedal & Wright, algorithm 7.4) in
/// plain Double loops, `H₀ = γ·diag(M)`: the reference.
private func twoLoop(
  _ v: [Double], s: [[Double]], y: [[Double]], scaling: [Double]?
) -> [Double] {
  func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
  let m = s.count
  var q = v
  var alpha = [Double](repeating: 0, count: m)
  for i in stride(from: m - 1, through: 0, by: -1) {
    alpha[i] = dot(s[i], q) / dot(s[i], y[i])
    for e in q.indices { q[e] -= alpha[i] * y[i][e] }
  }
  let w = scaling ?? [Double](repeating: 1, count: v.count)
  var gamma = 1.0
  if let last = s.indices.last {
    gamma = dot(s[last], y[last]) / dot(y[last], zip(y[last], w).map { $0 * $1 })
  }
  var r = zip(q, w).map { $0 * $1 * gamma }
  for i in 0..<m {
    let beta = dot(y[i], r) / dot(s[i], y[i])
    for e in r.indices { r[e] += (alpha[i] - beta) * s[i][e] }
  }
  return r.map { -$0 }
}

@Suite("L-BFGS's memory: the two-loop recursion from inner products")
struct CorrectionPairsTests {
  /// The inner-product form is the recursion's algebra: on well-conditioned
  /// pairs both are within a few hundred ulps of each other (each sums
  /// `O(m·n)` terms of like size; 1e-12 relative to the largest component
  /// is about 4,500 ulps of slack), with and without the scaling `M`, for
  /// no pairs up to a full memory, across chunks of 8,192.
  @Test("the direction equals the two-loop recursion's", arguments: [0, 1, 2, 5])
  func matchesTwoLoop(pairs m: Int) {
    for n in [1, 9, 20_003] {
      let (s, y, _) = quadraticPairs(count: m, length: n, seed: UInt64(100 + n + m))
      var generator = SplitMix64(seed: 7)
      let v = [Double].random(count: n, in: -1...1, using: &generator)
      let w = [Double].random(count: n, in: 0.25...4, using: &generator)
      for scaling in [nil, w] {
        var memory = CorrectionPairs<Double>(capacity: 5, scaling: scaling)
        for i in 0..<m {
          let dropped = memory.append(
            step: s[i], change: y[i], curvature: Double.dot(s[i], y[i]))
          #expect(dropped == nil)
        }
        var d: [Double] = []
        memory.direction(v, into: &d)
        let reference = twoLoop(v, s: s, y: y, scaling: scaling)
        let largest = reference.reduce(0) { max($0, abs($1)) }
        let error = zip(d, reference).reduce(0) { max($0, abs($1.0 - $1.1)) }
        #expect(error <= 1e-12 * largest, "n = \(n), m = \(m), M: \(scaling != nil)")
      }
    }
  }

  /// Each inner product is computed once, whichever direction first needs
  /// it; a memory rebuilt from the same pairs (a checkpoint's) computes
  /// them all at once and gives the same bits. A full memory drops its
  /// oldest pair and equals a memory given only the newest ones.
  @Test("rebuilt and full memories give the bits of the memory they replace")
  func rebuiltEqualsIncremental() {
    let n = 20_003
    let (s, y, _) = quadraticPairs(count: 7, length: n, seed: 3)
    var generator = SplitMix64(seed: 9)
    let scaling = [Double].random(count: n, in: 0.5...2, using: &generator)
    let floats = (s.map { $0.map { Float($0) } }, y.map { $0.map { Float($0) } })
    var incremental = CorrectionPairs<Float>(capacity: 4, scaling: scaling)
    var d: [Double] = []
    var curvatures: [Double] = []
    for i in 0..<7 {
      let v = [Double].random(count: n, in: -1...1, using: &generator)
      incremental.direction(v, into: &d)  // the products of the pairs so far
      let curvature = Float.dot(floats.0[i], floats.1[i])
      curvatures.append(curvature)
      _ = incremental.append(step: floats.0[i], change: floats.1[i], curvature: curvature)
    }
    #expect(incremental.count == 4)
    var rebuilt = CorrectionPairs<Float>(
      capacity: 4, scaling: scaling, steps: Array(floats.0[3...]),
      changes: Array(floats.1[3...]), inverseCurvatures: curvatures[3...].map { 1 / $0 })
    let v = [Double].random(count: n, in: -1...1, using: &generator)
    var d1: [Double] = []
    var d2: [Double] = []
    incremental.direction(v, into: &d1)
    rebuilt.direction(v, into: &d2)
    #expect(Bool(d1 == d2))
    // Rebuilding stores each pair's values as given (a checkpoint's Double
    // copy of Float pairs narrows back exactly).
    #expect(Bool(rebuilt.steps == incremental.steps))
    #expect(rebuilt.inverseCurvatures == incremental.inverseCurvatures)
  }
}
