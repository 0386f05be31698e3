//===--- DerivativeTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

@Suite("Jacobians, VJPs and JVPs")
struct DerivativeTests {
  let z: [Double] = [0.3, -1.2, 2.0, 0.7, -0.1]

  @Test("The Jacobian has the two textbook cases, a_i(1 - a_i) and -a_i·a_j")
  func jacobianCases() {
    let a = softmax(z)
    let j = softmaxJacobian(output: a)
    for r in 0..<a.count {
      for c in 0..<a.count {
        let expected = r == c ? a[r] * (1 - a[r]) : -a[r] * a[c]
        #expect(j[r, c] == expected)
        #expect(j[r, c] == j[c, r])  // symmetric
      }
      #expect(abs(j.row(r).reduce(0, +)) < 1e-16)  // rows sum to 0
    }
  }

  @Test("The Jacobians equal central finite differences of softmax and log-softmax")
  func jacobiansByFiniteDifferences() {
    let numeric = centralDifferenceJacobian(at: z) { softmax($0) }
    let analytic = softmaxJacobian(output: softmax(z))
    let numericLog = centralDifferenceJacobian(at: z) { logSoftmax($0) }
    let analyticLog = logSoftmaxJacobian(output: logSoftmax(z))
    for r in 0..<z.count {
      for c in 0..<z.count {
        // h = 1e-5: truncation h²/6·|f'''| ≈ 2e-11, rounding u/h ≈ 1e-11.
        #expect(abs(analytic[r, c] - numeric[r][c]) < 1e-9)
        #expect(abs(analyticLog[r, c] - numericLog[r][c]) < 1e-9)
      }
    }
  }

  func checkProducts<T: SoftmaxScalar>(_: T.Type) where T.RawSignificand: FixedWidthInteger {
    var generator = SplitMix64(seed: 31)
    for n in [1, 2, 5, 40] {
      let z = [T].random(count: n, in: -6...6, using: &generator)
      let v = [T].random(count: n, in: -2...2, using: &generator)
      let a = softmax(z)
      let logA = logSoftmax(z)
      let j = softmaxJacobian(output: a.map { Double($0) })
      let jl = logSoftmaxJacobian(output: logA.map { Double($0) })
      // Jᵀv and J·v from the explicit Jacobian, in Double.
      func product(_ m: Matrix<Double>, transposed: Bool) -> [Double] {
        (0..<n).map { i in
          (0..<n).reduce(0.0) { sum, k in
            sum + (transposed ? m[k, i] : m[i, k]) * Double(v[k])
          }
        }
      }
      let tolerance = Double(T.ulpOfOne) * 8
      for (x, y) in zip(softmaxVJP(output: a, cotangent: v), product(j, transposed: true)) {
        #expect(abs(Double(x) - y) <= tolerance, "softmax VJP n=\(n)")
      }
      for (x, y) in zip(softmaxJVP(output: a, tangent: v), product(j, transposed: false)) {
        #expect(abs(Double(x) - y) <= tolerance, "softmax JVP n=\(n)")
      }
      for (x, y) in zip(logSoftmaxVJP(output: logA, cotangent: v), product(jl, transposed: true)) {
        #expect(abs(Double(x) - y) <= tolerance * 4, "log-softmax VJP n=\(n)")
      }
      for (x, y) in zip(logSoftmaxJVP(output: logA, tangent: v), product(jl, transposed: false)) {
        #expect(abs(Double(x) - y) <= tolerance * 4, "log-softmax JVP n=\(n)")
      }
    }
  }

  @Test func productsFloat() { checkProducts(Float.self) }
  @Test func productsDouble() { checkProducts(Double.self) }

  @Test("Batched products along both axes equal the per-lane products")
  func batched() {
    var generator = SplitMix64(seed: 32)
    let x = Matrix(
      rows: 3, columns: 4, elements: [Double].random(count: 12, in: -3...3, using: &generator))
    let v = Matrix(
      rows: 3, columns: 4, elements: [Double].random(count: 12, in: -3...3, using: &generator))
    for axis in [-1, 0] {
      let a = softmax(x, axis: axis)
      let logA = logSoftmax(x, axis: axis)
      let lanes = axis == -1 ? (a, logA, v) : (a.transposed(), logA.transposed(), v.transposed())
      let vjp = softmaxVJP(output: a, cotangent: v, axis: axis)
      let lvjp = logSoftmaxVJP(output: logA, cotangent: v, axis: axis)
      let ljvp = logSoftmaxJVP(output: logA, tangent: v, axis: axis)
      let oriented =
        axis == -1 ? (vjp, lvjp, ljvp) : (vjp.transposed(), lvjp.transposed(), ljvp.transposed())
      for r in 0..<lanes.0.rows {
        #expect(
          Array(oriented.0.row(r))
            == softmaxVJP(output: Array(lanes.0.row(r)), cotangent: Array(lanes.2.row(r))))
        #expect(
          Array(oriented.1.row(r))
            == logSoftmaxVJP(output: Array(lanes.1.row(r)), cotangent: Array(lanes.2.row(r))))
        #expect(
          Array(oriented.2.row(r))
            == logSoftmaxJVP(output: Array(lanes.1.row(r)), tangent: Array(lanes.2.row(r))))
      }
      #expect(softmaxJVP(output: a, tangent: v, axis: axis) == vjp)
    }
  }

  @Test("log-softmax VJP with v = -onehot(y) is the cross-entropy gradient a - y")
  func logSoftmaxVJPIsCrossEntropyGradient() throws {
    let logA = logSoftmax(z)
    let g = logSoftmaxVJP(output: logA, cotangent: [0, 0, -1, 0, 0])
    let expected = try crossEntropyWithGradient(logits: Matrix([z]), labels: [2]).gradient.elements
    for (x, y) in zip(g, expected) { #expect(abs(x - y) < 1e-16) }
  }
}
