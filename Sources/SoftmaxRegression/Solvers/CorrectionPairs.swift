//===--- CorrectionPairs.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// L-BFGS's memory: the last steps `sᵢ` and gradient changes `yᵢ` (oldest
/// first, in `P`), and the product of its inverse-Hessian estimate `H`
/// with a vector in two passes over them.
///
/// `H` is the two-loop recursion's (Nocedal & Wright, algorithm 7.4) from
/// `H₀ = γ·diag(M)`, `γ = sᵀy / yᵀMy` of the newest pair (`M` the
/// preconditioner, or the identity). The recursion itself walks the pairs
/// one after the other, each step reading a pair and reading and writing
/// the whole direction: 4·m passes over `n` values in `Double` besides the
/// pairs. Here its scalars come from inner products instead (the
/// "vector-free" form of Chen, Wang, Zhou & Liu, 2014, of the same
/// algebra): the pairs' products with each other are kept (`sᵢᵀyⱼ`,
/// `yᵢᵀMyⱼ`, each computed once, when its newer pair arrives), so that a
/// product `Hv` needs one pass for `sᵢᵀv` and `yᵢᵀMv` (and the new pair's
/// products, in the same pass) and one pass that sums the result:
///
///     αᵢ = ρᵢ·(sᵢᵀv − Σ_{j>i} αⱼ·sᵢᵀyⱼ)                     i = m−1 … 0
///     βᵢ = ρᵢ·(γ·(yᵢᵀMv − Σⱼ αⱼ·yᵢᵀMyⱼ) + Σ_{j<i} (αⱼ − βⱼ)·sⱼᵀyᵢ)   i = 0 … m−1
///     Hv = γ·M·(v − Σⱼ αⱼyⱼ) + Σᵢ (αᵢ − βᵢ)·sᵢ
///
/// with `ρᵢ = 1/sᵢᵀyᵢ`. The same `H` as the recursion in exact arithmetic;
/// the roundings differ (each inner product is a chunked dot product,
/// ``dot(_:_:)``'s order, in `Double`).
///
/// Deterministic: every inner product is a function of its two vectors
/// (and `M`) only, whichever pass computes it, so a memory rebuilt from
/// its pairs (a checkpoint) gives the same bits as the one it was saved
/// from.
///
/// Cost of ``direction(_:into:)``: two reads of the `2m` pair vectors and
/// about three of `n` `Double`s, plus O(m²) scalar work.
struct CorrectionPairs<P: CorrectionPairScalar> {
  /// `sᵢ`, oldest first.
  private(set) var steps: [[P]]
  /// `yᵢ`, oldest first.
  private(set) var changes: [[P]]
  /// `ρᵢ = 1/sᵢᵀyᵢ`.
  private(set) var inverseCurvatures: [Double]
  /// Pairs kept at most.
  let capacity: Int
  /// `M`: positive values, one per parameter, or `nil` for the identity.
  let scaling: [Double]?
  /// `stepChange[i][j] = sᵢᵀyⱼ` for `i ≤ j <` `known` (the recursion
  /// never needs a newer step with an older change).
  private var stepChange: [[Double]] = []
  /// `changeChange[i][j] = yᵢᵀMyⱼ` (the newer pair on the left) for the
  /// first `known` pairs.
  private var changeChange: [[Double]] = []
  /// The pairs whose products are in the two matrices.
  private var known = 0

  /// A memory of at most `capacity` pairs holding `steps` and `changes`
  /// (a checkpoint's; their products are computed by the next
  /// ``direction(_:into:)``), with `M = scaling`.
  init(
    capacity: Int, scaling: [Double]?, steps: [[P]] = [], changes: [[P]] = [],
    inverseCurvatures: [Double] = []
  ) {
    precondition(
      steps.count == changes.count && changes.count == inverseCurvatures.count,
      "as many steps, changes and curvatures")
    self.capacity = capacity
    self.scaling = scaling
    self.steps = steps
    self.changes = changes
    self.inverseCurvatures = inverseCurvatures
  }

  /// The pairs held.
  var count: Int { steps.count }

  /// Forgets every pair (`H` becomes `diag(M)`).
  mutating func removeAll() {
    steps.removeAll()
    changes.removeAll()
    inverseCurvatures.removeAll()
    stepChange.removeAll()
    changeChange.removeAll()
    known = 0
  }

  /// Adds the newest pair, of curvature `sᵀy > 0`; when the memory was
  /// full, the oldest pair leaves and its two buffers are returned (for the
  /// next pair: no fresh pages).
  mutating func append(step: [P], change: [P], curvature: Double) -> (step: [P], change: [P])? {
    var dropped: (step: [P], change: [P])?
    if steps.count >= capacity, !steps.isEmpty {
      dropped = (steps.removeFirst(), changes.removeFirst())
      inverseCurvatures.removeFirst()
      if known > 0 {
        stepChange.removeFirst()
        changeChange.removeFirst()
        for i in stepChange.indices {
          stepChange[i].removeFirst()
          changeChange[i].removeFirst()
        }
        known -= 1
      }
    }
    steps.append(step)
    changes.append(change)
    inverseCurvatures.append(1 / curvature)
    return dropped
  }

  /// `d = −H·v` (`v`: a gradient or OWL-QN's pseudo-gradient), reusing
  /// `d`'s storage when it has the length.
  mutating func direction(_ v: [Double], into d: inout [Double]) {
    let n = v.count
    let m = steps.count
    if d.count != n { d = filledArray(repeating: 0, count: n) }
    guard n > 0 else { return }
    let products = innerProducts(v)
    let stepDots = Array(products[0..<m])
    let changeDots = Array(products[m..<(2 * m)])
    // The new pairs' products, in the order `innerProducts` wrote them.
    var next = 2 * m
    for p in known..<m {
      // sₚᵀyⱼ for j < p is never used: the row starts with placeholders.
      stepChange.append([Double](repeating: .nan, count: p))
      for j in 0...p { stepChange[j].append(products[next + j]) }
      next += p + 1
      changeChange.append(Array(products[next..<(next + p + 1)]))
      for j in 0..<p { changeChange[j].append(products[next + j]) }
      next += p + 1
    }
    known = m

    var alpha = [Double](repeating: 0, count: m)
    for i in stride(from: m - 1, through: 0, by: -1) {
      var sum = stepDots[i]
      for j in (i + 1)..<m { sum -= alpha[j] * stepChange[i][j] }
      alpha[i] = inverseCurvatures[i] * sum
    }
    let gamma = m > 0 ? stepChange[m - 1][m - 1] / changeChange[m - 1][m - 1] : 1
    var coefficient = [Double](repeating: 0, count: m)  // αᵢ − βᵢ
    for i in 0..<m {
      var curved = changeDots[i]
      for j in 0..<m { curved -= alpha[j] * changeChange[i][j] }
      var sum = gamma * curved
      for j in 0..<i { sum += coefficient[j] * stepChange[j][i] }
      coefficient[i] = alpha[i] - inverseCurvatures[i] * sum
    }
    combine(v, alpha: alpha, gamma: gamma, coefficients: coefficient, into: &d)
  }

  /// One pass: `sᵢᵀv` for every pair, then `yᵢᵀMv`, then for each pair `p`
  /// not yet known `sⱼᵀy_p` and `y_pᵀMyⱼ` (j ≤ p).
  private func innerProducts(_ v: [Double]) -> [Double] {
    let m = steps.count
    var width = 2 * m
    for p in known..<m { width += 2 * p + 2 }
    let known = self.known
    return withBaseAddresses(steps) { s in
      withBaseAddresses(changes) { y in
        v.withUnsafeBufferPointer { v in
          (scaling ?? []).withUnsafeBufferPointer { scaling in
            let pm = self.scaling == nil ? nil : scaling.baseAddress
            guard let pv = v.baseAddress else { return [Double](repeating: 0, count: width) }
            return chunkedSums(v.count, width: width) { range, out in
              let low = range.lowerBound
              let count = range.count
              let steps = s.map { $0 + low }
              let changes = y.map { $0 + low }
              P.pairDots(steps, weights: nil, pv + low, count: count, into: out)
              withUnsafeTemporaryAllocation(of: Double.self, capacity: count) { scratch in
                guard let scratch = scratch.baseAddress else { return }
                if let pm {
                  // yᵢᵀ(M∘v): the products vᵢ·Mᵢ once for every change.
                  for i in 0..<count { scratch[i] = pv[low + i] * pm[low + i] }
                  P.pairDots(changes, weights: nil, scratch, count: count, into: out + m)
                } else {
                  P.pairDots(changes, weights: nil, pv + low, count: count, into: out + m)
                }
                var next = 2 * m
                for p in known..<m {
                  // The new change, widened once (exactly), against the
                  // others: sⱼᵀyₚ, then yₚᵀMyⱼ as Σ (yⱼ·M)·yₚ (one
                  // product commutes: the bits of Σ yₚ·(yⱼ·M)).
                  for i in 0..<count { scratch[i] = Double(changes[p][i]) }
                  P.pairDots(
                    Array(steps[0...p]), weights: nil, scratch, count: count, into: out + next)
                  next += p + 1
                  P.pairDots(
                    Array(changes[0...p]), weights: pm.map { $0 + low }, scratch, count: count,
                    into: out + next)
                  next += p + 1
                }
              }
            }
          }
        }
      }
    }
  }

  /// The second pass: `d = −(γ·M·(v − Σⱼ αⱼyⱼ) + Σᵢ cᵢsᵢ)` (`γ = 1` with
  /// no pairs: `d = −M·v`), each element summed in registers over every
  /// pair (``CorrectionPairScalar/pairCombine``), in blocks taken from the
  /// end.
  private func combine(
    _ v: [Double], alpha: [Double], gamma: Double, coefficients: [Double],
    into d: inout [Double]
  ) {
    let m = steps.count
    withBaseAddresses(steps) { s in
      withBaseAddresses(changes) { y in
        v.withUnsafeBufferPointer { v in
          (scaling ?? []).withUnsafeBufferPointer { scaling in
            d.withUnsafeMutableBufferPointer { d in
              guard let pv = v.baseAddress, let pd = d.baseAddress else { return }
              let pm = self.scaling == nil ? nil : scaling.baseAddress
              parallelFor(count: v.count, cost: 2 * m + 2, grain: 1 << 12) { begin, end in
                // Backwards: the blocks the first pass read last are the
                // likeliest to be still in the cache.
                var top = end
                while top > begin {
                  let range = max(begin, top - 1024)..<top
                  P.pairCombine(
                    changes: y, alpha: alpha, steps: s, coefficients: coefficients, pv,
                    scaling: pm, gamma: gamma, range, into: pd)
                  top = range.lowerBound
                }
              }
            }
          }
        }
      }
    }
  }
}

/// Calls `body` with the base addresses of every array of `arrays`, each
/// valid during the call. Traps on an empty array (a programmer error: the
/// pairs hold every parameter, and an empty problem has no pairs; a
/// checkpoint's pairs are checked for their length when it is read).
func withBaseAddresses<T, Result>(
  _ arrays: [[T]], _ body: ([UnsafePointer<T>]) -> Result
) -> Result {
  var addresses: [UnsafePointer<T>] = []
  addresses.reserveCapacity(arrays.count)
  func nest(_ index: Int) -> Result {
    if index == arrays.count { return body(addresses) }
    return arrays[index].withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { preconditionFailure("an empty array") }
      addresses.append(base)
      return nest(index + 1)
    }
  }
  return nest(0)
}
