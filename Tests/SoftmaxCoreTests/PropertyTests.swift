//===--- PropertyTests.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Invariants of softmax on random rows (swift-property-based): one generic
// body per property, run for Float and Double. A failure prints the input
// and a seed to pin with `.fixedSeed(...)`.

import PropertyBased
import SoftmaxCore
import Testing
import _SoftmaxTestSupport

typealias PropertyScalar = SoftmaxScalar & BinaryFloatingPoint & Sendable

@Suite("Properties")
struct PropertyTests {
  /// Σ a_i = 1: each output is within 2 ulps relative, so the sum is within 4u of 1.
  func rowsSumToOne<T: PropertyScalar>(_: T.Type) async where T.RawSignificand: FixedWidthInteger {
    await propertyCheck(input: Gen<T>.value(in: -50...50).array(of: 1...64)) { z in
      let sum = referenceSum(softmax(z).map { ReferenceScalar($0) })
      #expect((sum - 1).magnitude <= 4 * ReferenceScalar(T.ulpOfOne), "\(z)")
    }
  }

  @Test func rowsSumToOneFloat() async { await rowsSumToOne(Float.self) }
  @Test func rowsSumToOneDouble() async { await rowsSumToOne(Double.self) }

  /// softmax(z + c) = softmax(z). The shift is exact (z on a 2^-10 grid,
  /// |z| < 2^7, c an integer below 2^10), so both sides approximate one exact
  /// vector within 2 ulps each: at most 4 ulps apart.
  func shiftInvariance<T: PropertyScalar>(_: T.Type) async
  where T.RawSignificand: FixedWidthInteger {
    await propertyCheck(
      input: Gen<T>.value(in: -100...100).array(of: 1...64), Gen<Int>.int(in: -1000...1000)
    ) {
      raw, c in
      let z = raw.map { ($0 * 1024).rounded() / 1024 }
      let shifted = z.map { $0 + T(c) }
      let a = softmax(z)
      let b = softmax(shifted)
      for (x, y) in zip(a, b) where x > T.leastNormalMagnitude * 1e6 {
        #expect(ulpError(y, ReferenceScalar(x)) <= 4, "\(z) + \(c)")
      }
    }
  }

  @Test func shiftInvarianceFloat() async { await shiftInvariance(Float.self) }
  @Test func shiftInvarianceDouble() async { await shiftInvariance(Double.self) }

  /// log(softmax(z)) = logSoftmax(z) where a is not tiny: a has relative
  /// error ≤ 2u, so log a is off by ≤ 2u absolute, plus one rounding of each side.
  func logOfSoftmax<T: PropertyScalar>(_: T.Type) async where T.RawSignificand: FixedWidthInteger {
    await propertyCheck(input: Gen<T>.value(in: -20...20).array(of: 1...64)) { z in
      let a = softmax(z)
      let logA = logSoftmax(z)
      for (p, l) in zip(a, logA) where p > 1e-20 {
        let difference = (T.log(p) - l).magnitude
        #expect(difference <= 4 * T.ulpOfOne + 2 * l.ulp, "\(z)")
      }
    }
  }

  @Test func logOfSoftmaxFloat() async { await logOfSoftmax(Float.self) }
  @Test func logOfSoftmaxDouble() async { await logOfSoftmax(Double.self) }

  /// The O(n) VJP equals Jᵀ·v with the explicit Jacobian (in Double).
  @Test func vjpEqualsJacobianTransposeTimesV() async {
    await propertyCheck(
      input: Gen<Double>.value(in: -10...10).array(of: 1...64), Gen<Double>.value(in: -3...3)
    ) {
      z, scale in
      let a = softmax(z)
      let v = z.indices.map { Double($0 % 3) * scale - 1 }
      let j = softmaxJacobian(output: a)
      let vjp = softmaxVJP(output: a, cotangent: v)
      for i in z.indices {
        let expected = z.indices.reduce(0.0) { $0 + j[$1, i] * v[$1] }
        #expect(abs(vjp[i] - expected) <= 1e-14 * (1 + abs(scale)), "\(z)")
      }
    }
  }

  /// The fused cross-entropy gradient equals central finite differences.
  @Test func fusedGradientEqualsFiniteDifferences() async {
    await propertyCheck(
      input: Gen<Double>.value(in: -8...8).array(of: 2...12), Gen<Double>.value(in: 0...0.5)
    ) { z, smoothing in
      let label = z.count / 2
      let analytic =
        (try? crossEntropyWithGradient(
          logits: Matrix([z]), labels: [label], labelSmoothing: smoothing))?.gradient.elements ?? []
      let numeric = centralDifferenceGradient(at: z) {
        (try? crossEntropy(logits: Matrix([$0]), labels: [label], labelSmoothing: smoothing))
          ?? .nan
      }
      #expect(analytic.count == z.count)
      for (x, y) in zip(analytic, numeric) {
        #expect(abs(x - y) < 1e-8, "\(z) ε=\(smoothing)")
      }
    }
  }
}
