//===--- SoftmaxTests.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

@Suite("softmax, logSoftmax, logSumExp")
struct SoftmaxTests {
  @Test("softmax([1, 2, 3]) matches the closed form e^i / (e + e² + e³)")
  func closedForm() {
    let a = softmax([1.0, 2.0, 3.0])
    let e = (1...3).map { ReferenceScalar.exp(ReferenceScalar($0)) }
    let s = e.reduce(0, +)
    expectElementwise(a, e.map { $0 / s }, ulps: 1)
    expectElementwise(
      logSoftmax([1.0, 2.0, 3.0]), e.map { ReferenceScalar.log($0 / s) }, ulps: 1)
    #expect(ulpError(logSumExp([1.0, 2.0, 3.0]), ReferenceScalar.log(s)) <= 1)
  }

  func checkTemperature<T: SoftmaxScalar>(_: T.Type) where T.RawSignificand: FixedWidthInteger {
    var generator = SplitMix64(seed: 11)
    for temperature: T in [0.25, 0.5, 3, 10] {
      let z = [T].random(count: 50, in: -20...20, using: &generator)
      // z/τ is exact in the reference type; the results must match within
      // the same bounds as at τ = 1.
      let scaled = z.map { ReferenceScalar($0) / ReferenceScalar(temperature) }
      let m = scaled.max() ?? 0
      let e = scaled.map { ReferenceScalar.exp($0 - m) }
      let s = referenceSum(e)
      expectElementwise(softmax(z, temperature: temperature), e.map { $0 / s }, ulps: 2.5)
      expectElementwise(
        logSoftmax(z, temperature: temperature),
        scaled.map { ($0 - m) - ReferenceScalar.log(s) }, ulps: 2)
      #expect(
        ulpError(logSumExp(z, temperature: temperature), m + ReferenceScalar.log(s)) <= 2)
    }
  }

  @Test func temperatureFloat() { checkTemperature(Float.self) }
  @Test func temperatureDouble() { checkTemperature(Double.self) }

  @Test("axis 0 of a matrix is axis -1 of its transpose; axis 1 and -2 are aliases")
  func axes() {
    var generator = SplitMix64(seed: 12)
    let x = Matrix(
      rows: 4, columns: 7, elements: [Double].random(count: 28, in: -5...5, using: &generator))
    #expect(softmax(x, axis: 0) == softmax(x.transposed()).transposed())
    #expect(logSoftmax(x, axis: 0) == logSoftmax(x.transposed()).transposed())
    #expect(logSumExp(x, axis: 0) == logSumExp(x.transposed()))
    #expect(softmax(x, axis: 1) == softmax(x))
    #expect(softmax(x, axis: -2) == softmax(x, axis: 0))
    for r in 0..<x.rows {
      #expect(Array(softmax(x).row(r)) == softmax(Array(x.row(r))))
    }
  }

  @Test("The preallocated path writes the same values as the allocating one")
  func preallocated() {
    var generator = SplitMix64(seed: 13)
    let x = Matrix(
      rows: 5, columns: 3, elements: [Float].random(count: 15, in: -5...5, using: &generator))
    var out = Matrix(rows: 5, columns: 3, repeating: Float.nan)
    softmax(x, temperature: 2, into: &out)
    #expect(out == softmax(x, temperature: 2))
    logSoftmax(x, axis: 0, into: &out)
    #expect(out == logSoftmax(x, axis: 0))
  }

  @Test("A masked softmax renormalizes over the unmasked entries; fully masked gives zeros")
  func masked() {
    let z: [Double] = [3, 1, 2, 5]
    let mask = [true, false, true, false]
    let a = softmax(z, where: mask)
    let expected = softmax([3.0, 2.0])
    #expect(a == [expected[0], 0, expected[1], 0])
    let logA = logSoftmax(z, where: mask)
    #expect(logA[1] == -.infinity && logA[3] == -.infinity)
    #expect(logA[0] == logSoftmax([3.0, 2.0])[0])
    #expect(logSumExp(z, where: mask) == logSumExp([3.0, 2.0]))
    // Fully masked: zeros, -inf, and a zero gradient: never NaN.
    let none = [Bool](repeating: false, count: 4)
    #expect(softmax(z, where: none) == [0, 0, 0, 0])
    #expect(logSoftmax(z, where: none).allSatisfy { $0 == -.infinity })
    #expect(logSumExp(z, where: none) == -.infinity)
    #expect(softmaxVJP(output: softmax(z, where: none), cotangent: [1, 2, 3, 4]) == [0, 0, 0, 0])
    // A NaN under the mask takes no part.
    #expect(
      softmax([1, .nan, 2], where: [true, false, true]) == [
        softmax([1.0, 2.0])[0], 0, softmax([1.0, 2.0])[1],
      ])
    // Masks on matrices, along both axes.
    let x = Matrix([[1.0, 2.0], [3.0, 4.0]])
    let m = Matrix([[true, false], [true, true]])
    #expect(softmax(x, where: m).rowArrays == [[1, 0], softmax([3.0, 4.0])])
    #expect(softmax(x, axis: 0, where: m)[0, 1] == 0)
    #expect(softmax(x, axis: 0, where: m)[1, 1] == 1)
  }

  @Test("Weighted logsumexp keeps the sign of a negative sum (SciPy's return_sign)")
  func weightedLogSumExp() {
    // e^0 - e^1 = 1 - e < 0
    let r = logSumExp([0.0, 1.0], weights: [1, -1])
    #expect(r.sign == -1)
    #expect(ulpError(r.value, ReferenceScalar.log(ReferenceScalar.exp(1) - 1)) <= 2)
    // Positive weights: log Σ b e^z = logsumexp(z + log b).
    let p = logSumExp([1.0, 2.0, 3.0], weights: [0.5, 2, 1])
    #expect(p.sign == 1)
    #expect(abs(p.value - logSumExp([1 + Double.log(0.5), 2 + Double.log(2), 3])) < 1e-15)
    // Exact cancellation gives -inf with sign 0.
    let zero = logSumExp([2.0, 2.0], weights: [1, -1])
    #expect(zero.value == -.infinity && zero.sign == 0)
    // A zero weight removes the element, even an infinite one (as SciPy).
    let dropped = logSumExp([Double.infinity, 1], weights: [0, 1])
    #expect(dropped.value == 1 && dropped.sign == 1)
    // +inf elements decide: the sign of their weights; cancelling weights give NaN.
    #expect(
      logSumExp([Double.infinity, 1], weights: [-2, 5])
        == SignedLogSumExp(value: .infinity, sign: -1))
    #expect(logSumExp([Double.infinity, .infinity], weights: [1, -1]).value.isNaN)
    #expect(logSumExp([1.0, .nan], weights: [1, 1]).value.isNaN)
    // Huge values do not overflow.
    let huge = logSumExp([Float(80), 90], weights: [-1, 2])
    #expect(huge.sign == 1 && abs(huge.value - Float(90 + Double.log(2 - Double.exp(-10)))) < 1e-5)
    // Rows of a matrix and columns.
    let x = Matrix([[0.0, 1.0], [2.0, 3.0]])
    let b = Matrix([[1.0, -1.0], [1.0, 1.0]])
    let rows = logSumExp(x, weights: b)
    #expect(rows[0].sign == -1 && rows[1] == logSumExp([2.0, 3.0], weights: [1, 1]))
    let columns = logSumExp(x, weights: b, axis: 0)
    #expect(columns[1] == logSumExp([1.0, 3.0], weights: [-1, 1]))
  }
}
