//===--- AccuracyTests.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Every output of softmax and log-softmax against a reference computed in a
// wider type (Double for Float and Float16, Float80 for Double on x86), over
// a corpus of random rows of length 1 to 1,000,000 with spreads up to 100.
//
// Bounds, from the algorithm (see the Accuracy article):
// - softmax: exp (≤ 1 ulp in glibc) · (1 + lo) (0.5 ulp) / S (0.5 ulp, S
//   exact to ~2u of the accumulator): about 2 ulps; the documented bound
//   is 4.
// - log-softmax: one rounding of an accumulator-precision value for Float
//   (0.5 ulp), a few roundings for Double: ≤ 2 ulps.
// - row sums: the sum of n outputs each within 2 ulps relative is within
//   2·2u = 2.4e-7 of 1 for Float; the gate is 1e-6.

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

/// Rows of the corpus: (length, spread, offset). The offset moves the whole
/// row (softmax is shift invariant, but the rounding of z - m is not).
let accuracyCorpus: [(length: Int, spread: Double, offset: Double)] = {
  var rows: [(Int, Double, Double)] = []
  for length in [1, 2, 3, 7, 16, 100, 1000, 10_000] {
    for spread in [1.0, 10, 100] {
      for offset in [0.0, 1000, -3.0e4] { rows.append((length, spread, offset)) }
    }
  }
  for length in [100_000, 1_000_000] {
    for spread in [1.0, 100] { rows.append((length, spread, 0)) }
  }
  return rows
}()

struct AccuracyReport: CustomStringConvertible {
  var softmaxUlps = 0.0
  var logSoftmaxUlps = 0.0
  var logSumExpUlps = 0.0
  var rowSumError = 0.0
  var worstRow = ""

  var description: String {
    "softmax \(softmaxUlps) ulps, log-softmax \(logSoftmaxUlps) ulps, "
      + "logsumexp \(logSumExpUlps) ulps, |row sum - 1| \(rowSumError) (worst softmax row: \(worstRow))"
  }
}

func measureAccuracy<T: SoftmaxScalar>(
  _: T.Type, rows: [(length: Int, spread: Double, offset: Double)], seed: UInt64
) -> AccuracyReport where T.RawSignificand: FixedWidthInteger {
  var generator = SplitMix64(seed: seed)
  var report = AccuracyReport()
  for row in rows {
    let half = T(row.spread / 2)
    let z: [T] = [T].random(count: row.length, in: -half...half, using: &generator)
      .map { $0 + T(row.offset) }
    let a = softmax(z)
    let logA = logSoftmax(z)
    let lse = logSumExp(z)
    let expected = referenceSoftmax(z)
    let expectedLog = referenceLogSoftmax(z)
    for i in 0..<z.count where expected[i] > 1e-30 {
      let e = ulpError(a[i], expected[i])
      if e > report.softmaxUlps {
        report.softmaxUlps = e
        report.worstRow = "n=\(row.length) spread=\(row.spread) offset=\(row.offset)"
      }
    }
    for i in 0..<z.count {
      report.logSoftmaxUlps = max(report.logSoftmaxUlps, ulpError(logA[i], expectedLog[i]))
    }
    report.logSumExpUlps = max(report.logSumExpUlps, ulpError(lse, referenceLogSumExp(z)))
    let rowSum = referenceSum(a.map { ReferenceScalar($0) })
    report.rowSumError = max(report.rowSumError, Double((rowSum - 1).magnitude))
  }
  return report
}

/// The measured worst `Float` softmax error, in ulps, that the README, the
/// Accuracy article and `softmax(_:temperature:where:)` quote.
let documentedFloatSoftmaxUlps = 2.14

@Suite("Accuracy against a wider reference")
struct AccuracyTests {
  @Test("Float softmax within 4 ulps (measured 2.14), rows sum to 1 within 1e-6, lengths 1 to 1e6")
  func floatCorpus() {
    let report = measureAccuracy(Float.self, rows: accuracyCorpus, seed: 1)
    print("Float accuracy: \(report)")
    #expect(report.softmaxUlps <= 4, "documented bound: \(report)")
    // The figure the README, the Accuracy article and `softmax`'s doc
    // comment give: the worst over the three kernel levels, 2.14 ulps
    // (baseline 2.1396; AVX2 and AVX-512 2.1251). Measured above it, the
    // documents are wrong: update all three with this test.
    #expect(
      report.softmaxUlps <= documentedFloatSoftmaxUlps + 0.005, "documented figure: \(report)")
    #expect(report.logSoftmaxUlps <= 2, "\(report)")
    #expect(report.rowSumError <= 1e-6, "\(report)")
  }

  @Test("Double softmax within 4 ulps of a Float80 reference")
  func doubleCorpus() {
    // Without Float80 the reference is Double itself: nothing to measure.
    guard ReferenceScalar.significandBitCount > Double.significandBitCount else { return }
    let report = measureAccuracy(Double.self, rows: accuracyCorpus, seed: 2)
    print("Double accuracy: \(report)")
    #expect(report.softmaxUlps <= 4, "\(report)")
    #expect(report.logSoftmaxUlps <= 4, "\(report)")
    #expect(report.rowSumError <= 1e-14, "\(report)")
  }

  #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
  @Test("Float16 softmax within 2 ulps")
  func float16Corpus() {
    // Float16 spans ±65504: keep the offsets inside its range.
    let rows = accuracyCorpus.filter { $0.length <= 10_000 && abs($0.offset) <= 1000 }
      .map { ($0.length, min($0.spread, 10), $0.offset / 100) }
    let report = measureAccuracy(Float16.self, rows: rows, seed: 3)
    print("Float16 accuracy: \(report)")
    #expect(report.softmaxUlps <= 2, "\(report)")
    #expect(report.logSoftmaxUlps <= 2, "\(report)")
  }
  #endif

  @Test("logsumexp of Float within 2 ulps away from cancellation")
  func floatLogSumExp() {
    // Offsets push m far from the cancellation point m ≈ -log n.
    let rows = accuracyCorpus.filter { $0.offset != 0 }
    let report = measureAccuracy(Float.self, rows: rows, seed: 4)
    #expect(report.logSumExpUlps <= 2, "\(report)")
  }
}
