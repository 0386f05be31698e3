//===--- SpecialValuesTests.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The table of the "Special values" article, row by row, for Float and
// Double. Expected values are exact (0, 1, 1/k, -log k, ±inf, NaN) or the
// closed form of a two-element softmax, so they are compared in ulps.

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

/// Checks `observed` against `expected` elementwise: NaN must match NaN,
/// infinities must match exactly, finite values within `ulps`.
func expectElementwise<T: SoftmaxScalar>(
  _ observed: [T], _ expected: [ReferenceScalar], ulps: Double = 2,
  _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(observed.count == expected.count, sourceLocation: sourceLocation)
  for (o, e) in zip(observed, expected) {
    let error = ulpError(o, e)
    #expect(
      error <= ulps, "\(observed) vs \(expected) (\(error) ulps) \(comment?.rawValue ?? "")",
      sourceLocation: sourceLocation)
  }
}

struct SpecialValueCase<T: SoftmaxScalar>: CustomStringConvertible {
  var name: String
  var input: [T]
  var softmax: [ReferenceScalar]
  var logSoftmax: [ReferenceScalar]
  var logSumExp: ReferenceScalar
  var description: String { name }
}

func specialValueCases<T: SoftmaxScalar>(_: T.Type) -> [SpecialValueCase<T>] {
  let inf = T.infinity
  let nan = T.nan
  let big = T.greatestFiniteMagnitude
  let bigR = ReferenceScalar(big)
  let log2 = ReferenceScalar.log(2)
  let log3 = ReferenceScalar.log(3)
  let nanR = ReferenceScalar.nan
  let infR = ReferenceScalar.infinity
  // softmax([0, 1]) = [1/(1+e), e/(1+e)]
  let e = ReferenceScalar.exp(1)
  return [
    .init(
      name: "one element", input: [5], softmax: [1], logSoftmax: [0], logSumExp: 5),
    .init(
      name: "one element -inf", input: [-inf], softmax: [1], logSoftmax: [0],
      logSumExp: -infR),
    .init(
      name: "one +inf shares the mass alone", input: [1, inf, -2],
      softmax: [0, 1, 0], logSoftmax: [-infR, 0, -infR], logSumExp: infR),
    .init(
      name: "two +inf share the mass", input: [inf, 0, inf],
      softmax: [0.5, 0, 0.5], logSoftmax: [-log2, -infR, -log2], logSumExp: infR),
    .init(
      name: "+inf and -inf", input: [-inf, inf], softmax: [0, 1],
      logSoftmax: [-infR, 0], logSumExp: infR),
    .init(
      name: "-inf gets 0", input: [0, -inf, 1],
      softmax: [1 / (1 + e), 0, e / (1 + e)],
      logSoftmax: [-ReferenceScalar.log(1 + e), -infR, 1 - ReferenceScalar.log(1 + e)],
      logSumExp: ReferenceScalar.log(1 + e)),
    .init(
      name: "all -inf: uniform (the limit of a constant row)", input: [-inf, -inf, -inf],
      softmax: [1 / 3, 1 / 3, 1 / 3], logSoftmax: [-log3, -log3, -log3], logSumExp: -infR),
    .init(
      name: "NaN spreads to the row", input: [1, nan, 2], softmax: [nanR, nanR, nanR],
      logSoftmax: [nanR, nanR, nanR], logSumExp: nanR),
    .init(
      name: "NaN beats +inf", input: [inf, nan], softmax: [nanR, nanR],
      logSoftmax: [nanR, nanR], logSumExp: nanR),
    .init(
      name: "huge equal: uniform, no overflow", input: [big, big],
      softmax: [0.5, 0.5], logSoftmax: [-log2, -log2], logSumExp: bigR),
    .init(
      name: "±greatestFinite: difference overflows, result saturates",
      input: [big, -big], softmax: [1, 0], logSoftmax: [0, -bigR], logSumExp: bigR),
    .init(
      name: "±1e30", input: [T(1e30), T(-1e30), 0], softmax: [1, 0, 0],
      logSoftmax: [0, -2 * ReferenceScalar(T(1e30)), -ReferenceScalar(T(1e30))],
      logSumExp: ReferenceScalar(T(1e30))),
    .init(
      name: "huge negative, equal", input: [-big, -big, -big],
      softmax: [1 / 3, 1 / 3, 1 / 3], logSoftmax: [-log3, -log3, -log3],
      logSumExp: -bigR + log3),
  ]
}

@Suite("Special values")
struct SpecialValuesTests {
  func check<T: SoftmaxScalar>(_: T.Type) {
    for c in specialValueCases(T.self) {
      expectElementwise(softmax(c.input), c.softmax, Comment(rawValue: "softmax, \(c)"))
      expectElementwise(logSoftmax(c.input), c.logSoftmax, Comment(rawValue: "logSoftmax, \(c)"))
      expectElementwise([logSumExp(c.input)], [c.logSumExp], Comment(rawValue: "logSumExp, \(c)"))
      // The same rules hold down a column (axis 0).
      let column = Matrix(rows: c.input.count, columns: 1, elements: c.input)
      expectElementwise(
        softmax(column, axis: 0).elements, c.softmax, Comment(rawValue: "axis 0, \(c)"))
    }
  }

  @Test func float() { check(Float.self) }
  @Test func double() { check(Double.self) }

  @Test("An empty row: softmax is empty, logsumexp is -inf")
  func empty() {
    #expect(softmax([Double]()).isEmpty)
    #expect(logSoftmax([Float]()).isEmpty)
    #expect(logSumExp([Double]()) == -.infinity)
    let noColumns = Matrix<Float>(rows: 3, columns: 0, elements: [])
    #expect(logSumExp(noColumns) == [-.infinity, -.infinity, -.infinity])
    #expect(softmax(noColumns).rows == 3)
  }

  @Test("Finite input never yields NaN or inf, at any magnitude or temperature")
  func finiteStaysFinite() {
    var generator = SplitMix64(seed: 7)
    let magnitudes: [Float] = [1, 1e10, 1e30, 1e38, .greatestFiniteMagnitude]
    for magnitude in magnitudes {
      for temperature: Float in [1e-30, 0.01, 1, 1e30] {
        for _ in 0..<20 {
          let z = [Float].random(count: 9, in: -1...1, using: &generator).map { $0 * magnitude }
          let a = softmax(z, temperature: temperature)
          let logA = logSoftmax(z, temperature: temperature)
          let lse = logSumExp(z, temperature: temperature)
          #expect(a.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(z) τ=\(temperature)")
          #expect(logA.allSatisfy { $0.isFinite && $0 <= 0 }, "\(z) τ=\(temperature)")
          #expect(lse.isFinite, "\(z) τ=\(temperature)")
          let sum = a.reduce(0.0) { $0 + Double($1) }
          #expect(abs(sum - 1) < 1e-6, "\(z) τ=\(temperature)")
        }
      }
    }
  }
}
