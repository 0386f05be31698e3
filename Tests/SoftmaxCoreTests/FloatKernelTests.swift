//===--- FloatKernelTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The Float kernels at every CPU level this machine supports, against the
// generic path run in Double on the same Float inputs (itself checked
// against Float80 in AccuracyTests), over shapes that hit every code path:
// the 16-row transposed tiles (≤ 16 columns), the long-row loop, partial
// vectors, columns (axis 0), masks, and rows with special values that take
// the scalar path.

import RealModule
import SoftmaxCore
import Testing
import _SoftmaxTestSupport

let kernelShapes: [(rows: Int, columns: Int)] = [
  (1, 1), (1, 7), (3, 5), (16, 10), (17, 10), (35, 16), (40, 17), (19, 3), (5, 100),
  (2, 1000), (64, 1), (33, 31), (4, 4097), (6, 9000),
]

/// Logits with a sprinkling of special values in some rows.
func kernelInput(rows: Int, columns: Int, special: Bool, seed: UInt64) -> Matrix<Float> {
  var generator = SplitMix64(seed: seed)
  var x = Matrix(
    rows: rows, columns: columns,
    elements: [Float].random(count: rows * columns, in: -30...30, using: &generator))
  if special && rows > 3 {
    x[1, 0] = .nan
    x[2, columns - 1] = .infinity
    for c in 0..<columns { x[3, c] = -.infinity }
    if columns > 2 { x[0, 1] = -.infinity }
    if rows > 5 {
      x[5, 0] = .infinity
      x[5, columns / 2] = .infinity
    }
  }
  return x
}

func randomMask(rows: Int, columns: Int, seed: UInt64) -> Matrix<Bool> {
  var generator = SplitMix64(seed: seed)
  var m = Matrix(
    rows: rows, columns: columns,
    elements: (0..<rows * columns).map { _ in Bool.random(using: &generator) })
  if rows > 4 { for c in 0..<columns { m[4, c] = false } }  // a fully masked row
  return m
}

/// Float result vs Double reference: equal specials, and finite values
/// within `ulps` (values below 1e-30 may differ by 1e-37 absolute: the
/// kernels flush results below the smallest normal to 0).
func expectClose(
  _ observed: [Float], _ reference: [Double], ulps: Double, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(observed.count == reference.count, sourceLocation: sourceLocation)
  var worst = 0.0
  var worstIndex = 0
  for (i, (o, r)) in zip(observed, reference).enumerated() {
    if abs(r) < 1e-30 && abs(Double(o)) < 1e-30 { continue }
    let e = ulpError(o, ReferenceScalar(r))
    if e > worst { (worst, worstIndex) = (e, i) }
  }
  #expect(
    worst <= ulps,
    "\(what): \(worst) ulps at \(worstIndex): \(observed[worstIndex]) vs \(reference[worstIndex])",
    sourceLocation: sourceLocation)
}

func asDouble(_ m: Matrix<Float>) -> Matrix<Double> {
  Matrix(rows: m.rows, columns: m.columns, elements: m.elements.map { Double($0) })
}

extension GlobalSettingsTests {
  @Suite("Float kernels at every CPU level")
  struct FloatKernelTests {
    var levels: [CPULevel] {
      CPULevel.allCases.filter { $0 <= SoftmaxConfiguration.supportedCPULevel }
    }

    func atEveryLevel(_ body: (CPULevel) throws -> Void) rethrows {
      // (Other suites compare bits under the same lock: see
      // withStableCPULevel.)
      try withStableCPULevel {
        let saved = SoftmaxConfiguration.cpuLevel
        defer { SoftmaxConfiguration.cpuLevel = saved }
        for level in levels {
          SoftmaxConfiguration.cpuLevel = level
          #expect(SoftmaxConfiguration.cpuLevel == level)
          try body(level)
        }
      }
    }

    @Test("softmax, log-softmax, logsumexp along rows and columns, with and without masks")
    func lanes() {
      atEveryLevel { level in
        for (index, shape) in kernelShapes.enumerated() {
          for special in [false, true] {
            let x = kernelInput(
              rows: shape.rows, columns: shape.columns, special: special, seed: UInt64(index))
            let xd = asDouble(x)
            for masked in [false, true] {
              let mask =
                masked
                ? randomMask(rows: shape.rows, columns: shape.columns, seed: UInt64(index + 100))
                : nil
              for axis in [-1, 0] {
                let what = "\(level) \(shape) special=\(special) masked=\(masked) axis=\(axis)"
                expectClose(
                  softmax(x, axis: axis, where: mask).elements,
                  softmax(xd, axis: axis, where: mask).elements, ulps: 4, "softmax \(what)")
                expectClose(
                  logSoftmax(x, axis: axis, where: mask).elements,
                  logSoftmax(xd, axis: axis, where: mask).elements, ulps: 3, "logSoftmax \(what)")
                // logsumexp = m + log Σ can cancel: its documented bound is
                // absolute, 2u·(|m| + log n) plus an ulp of the result.
                let lse = logSumExp(x, axis: axis, where: mask)
                let lseRef = logSumExp(xd, axis: axis, where: mask)
                let lanes = axis == -1 ? xd.rowArrays : xd.transposed().rowArrays
                for (k, (o, r)) in zip(lse, lseRef).enumerated() {
                  if !r.isFinite {
                    #expect(Double(o) == r || (o.isNaN && r.isNaN), "logSumExp \(what) lane \(k)")
                    continue
                  }
                  let scale =
                    (lanes[k].filter { $0.isFinite }.map { abs($0) }.max() ?? 0)
                    + Double.log(Double(lanes[k].count))
                  let bound = 2 * Double(Float.ulpOfOne) * scale + Double(Float(r).ulp)
                  #expect(abs(Double(o) - r) <= bound, "logSumExp \(what) lane \(k): \(o) vs \(r)")
                }
              }
            }
          }
        }
      }
    }

    @Test("VJPs along rows")
    func vjps() {
      atEveryLevel { level in
        for (index, shape) in kernelShapes.enumerated() {
          let x = kernelInput(
            rows: shape.rows, columns: shape.columns, special: false, seed: UInt64(index))
          var generator = SplitMix64(seed: 99)
          let v = Matrix(
            rows: shape.rows, columns: shape.columns,
            elements: [Float].random(
              count: shape.rows * shape.columns, in: -1...1, using: &generator)
          )
          let a = softmax(x)
          let logA = logSoftmax(x)
          let g = softmaxVJP(output: a, cotangent: v).elements
          let gl = logSoftmaxVJP(output: logA, cotangent: v).elements
          let gRef = softmaxVJP(output: asDouble(a), cotangent: asDouble(v)).elements
          let glRef = logSoftmaxVJP(output: asDouble(logA), cotangent: asDouble(v)).elements
          // Absolute bounds: the products cancel (v - ⟨v, a⟩), so compare to the scale of v.
          for (o, r) in zip(g, gRef) { #expect(abs(Double(o) - r) <= 4e-7, "\(level) \(shape)") }
          for (o, r) in zip(gl, glRef) {
            #expect(abs(Double(o) - r) <= 1e-6 * Double(shape.columns), "\(level) \(shape) log")
          }
        }
      }
    }

    @Test("Fused cross-entropy: loss and gradient against the Double path")
    func crossEntropyKernel() throws {
      try atEveryLevel { level in
        for (index, shape) in kernelShapes.enumerated() {
          for special in [false, true] {
            let x = kernelInput(
              rows: shape.rows, columns: shape.columns, special: special, seed: UInt64(index + 7))
            var generator = SplitMix64(seed: UInt64(index))
            let labels = (0..<shape.rows).map { _ in
              Int.random(in: 0..<shape.columns, using: &generator)
            }
            for reduction in LossReduction.allCases {
              let fast = try crossEntropyWithGradient(
                logits: x, labels: labels, reduction: reduction)
              let reference = try crossEntropyWithGradient(
                logits: asDouble(x), labels: labels, reduction: reduction)
              let what = "\(level) \(shape) special=\(special) \(reduction)"
              expectClose(fast.losses, reference.losses, ulps: 3, "losses \(what)")
              expectClose([fast.loss], [reference.loss], ulps: 4, "loss \(what)")
              for (o, r) in zip(fast.gradient.elements, reference.gradient.elements) {
                let ok = (o.isNaN && r.isNaN) || abs(Double(o) - r) <= 3e-7 * max(1, abs(r))
                #expect(ok, "gradient \(what): \(o) vs \(r)")
              }
            }
          }
        }
      }
    }

    @Test("A confident right answer keeps a tiny loss exact on the fast path")
    func tinyLossFast() throws {
      let x = Matrix<Float>(rows: 20, columns: 3, elements: (0..<20).flatMap { _ in [40, 0, 0] })
      try atEveryLevel { level in
        let r = try crossEntropyWithGradient(logits: x, labels: [Int](repeating: 0, count: 20))
        let exact = ReferenceScalar.log(onePlus: 2 * ReferenceScalar.exp(-40))
        for loss in r.losses { #expect(ulpError(loss, exact) <= 3, "\(level): \(loss)") }
      }
    }
  }
}
