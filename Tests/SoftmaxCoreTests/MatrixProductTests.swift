//===--- MatrixProductTests.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

/// Shapes (M, N, K) around the kernels' tiles (MR 4, 6, 12; NR 8, 16, 32),
/// blocks (KC 256, MC 96, NC 1024), the thread split (by columns from 128
/// columns), and MNIST's layer products.
private let productShapes: [(m: Int, n: Int, k: Int)] = [
  (1, 1, 1), (1, 1, 0), (13, 33, 7), (12, 32, 256), (25, 70, 257), (97, 129, 19),
  (3, 1030, 5), (100, 10, 300), (7, 200, 513), (40, 256, 300), (256, 100, 128),
]

private func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix<Float> {
  var generator = SplitMix64(seed: seed)
  return Matrix(
    rows: rows, columns: columns,
    elements: [Float].random(count: rows * columns, in: -2...2, using: &generator))
}

/// The product's definition, element by element: one chain of fused
/// multiply-adds in `Float` over k in order, from `start`.
private func chainProduct(
  _ a: Matrix<Float>, _ b: Matrix<Float>, transposingA: Bool, transposingB: Bool,
  start: Matrix<Float>? = nil
) -> Matrix<Float> {
  let opA = transposingA ? a.transposed() : a
  let opB = transposingB ? b.transposed() : b
  var c = start ?? Matrix(rows: opA.rows, columns: opB.columns, repeating: 0)
  for i in 0..<opA.rows {
    for j in 0..<opB.columns {
      var sum = c[i, j]
      for p in 0..<opA.columns { sum.addProduct(opA[i, p], opB[p, j]) }
      c[i, j] = sum
    }
  }
  return c
}

/// Expects `product()` to give `expected`'s shape and bits at every CPU
/// level this machine has, with 1 and with 2 threads (the settings are
/// restored after).
private func expectSameBitsEverywhere<T: SoftmaxScalar>(
  _ expected: Matrix<T>, _ what: String, _ product: () -> Matrix<T>
) {
  withStableCPULevel { expectSameBitsAtEveryLevel(expected, what, product) }
}

private func expectSameBitsAtEveryLevel<T: SoftmaxScalar>(
  _ expected: Matrix<T>, _ what: String, _ product: () -> Matrix<T>
) {
  let savedLevel = SoftmaxConfiguration.cpuLevel
  let savedThreads = SoftmaxConfiguration.threadCount
  defer {
    SoftmaxConfiguration.cpuLevel = savedLevel
    SoftmaxConfiguration.threadCount = savedThreads
  }
  for level in CPULevel.allCases where level <= SoftmaxConfiguration.supportedCPULevel {
    SoftmaxConfiguration.cpuLevel = level
    for threads in [1, 2] {
      SoftmaxConfiguration.threadCount = threads
      let c = product()
      let same =
        c.rows == expected.rows && c.columns == expected.columns
        && c.elements.withUnsafeBytes { x in
          expected.elements.withUnsafeBytes { y in x.elementsEqual(y) }
        }
      #expect(same, "\(what) \(level) \(threads) threads")
    }
  }
}

extension GlobalSettingsTests {
  @Suite("Matrix product")
  struct MatrixProductTests {
    @Test("Float: the bits of the fused chain at every CPU level and thread count, all four forms")
    func floatMatchesChain() {
      for (index, shape) in productShapes.enumerated() {
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
          let seed = UInt64(index * 4 + (ta ? 2 : 0) + (tb ? 1 : 0))
          let a =
            ta
            ? randomMatrix(shape.k, shape.m, seed: seed)
            : randomMatrix(shape.m, shape.k, seed: seed)
          let b =
            tb
            ? randomMatrix(shape.n, shape.k, seed: seed + 1000)
            : randomMatrix(shape.k, shape.n, seed: seed + 1000)
          let expected = chainProduct(a, b, transposingA: ta, transposingB: tb)
          expectSameBitsEverywhere(expected, "\(shape) ta=\(ta) tb=\(tb)") {
            matrixProduct(a, b, transposingA: ta, transposingB: tb)
          }
        }
      }
    }

    @Test("Double: the bits of the fused chain at every CPU level and thread count")
    func doubleMatchesChain() {
      for (index, shape) in productShapes.enumerated() {
        for (ta, tb) in [(false, true), (true, false)] {
          let seed = UInt64(900 + index)
          // Doubles with 53 significant bits (a Float's square would hide
          // a fused chain's difference from a rounded one).
          func random(_ rows: Int, _ columns: Int, _ seed: UInt64) -> Matrix<Double> {
            var generator = SplitMix64(seed: seed)
            return Matrix(
              rows: rows, columns: columns,
              elements: (0..<rows * columns).map { _ in
                Double(generator.next() >> 11) * 0x1p-52 - 1
              })
          }
          let a = ta ? random(shape.k, shape.m, seed) : random(shape.m, shape.k, seed)
          let b = tb ? random(shape.n, shape.k, seed + 1) : random(shape.k, shape.n, seed + 1)
          let opA = ta ? a.transposed() : a
          let opB = tb ? b.transposed() : b
          var expected = Matrix(rows: shape.m, columns: shape.n, repeating: 0.0)
          for i in 0..<shape.m {
            for j in 0..<shape.n {
              var sum = 0.0
              for p in 0..<shape.k { sum.addProduct(opA[i, p], opB[p, j]) }
              expected[i, j] = sum
            }
          }
          expectSameBitsEverywhere(expected, "\(shape) ta=\(ta) tb=\(tb)") {
            matrixProduct(a, b, transposingA: ta, transposingB: tb)
          }
        }
      }
    }

    @Test("Float within K·u·Σ|a·b| of the product in Double")
    func floatErrorBound() {
      for (index, shape) in productShapes.enumerated() {
        let a = randomMatrix(shape.m, shape.k, seed: UInt64(500 + index))
        let b = randomMatrix(shape.n, shape.k, seed: UInt64(600 + index))
        let c = matrixProduct(a, b, transposingB: true)
        for i in 0..<shape.m {
          for j in 0..<shape.n {
            var exact = 0.0
            var magnitude = 0.0
            for p in 0..<shape.k {
              let product = Double(a[i, p]) * Double(b[j, p])  // exact in Double
              exact += product
              magnitude += abs(product)
            }
            // Recursive summation: K roundings of relative size u = 2⁻²⁴,
            // plus the Double reference's own (K·2⁻⁵³, negligible).
            let bound = Double(shape.k) * 0x1p-24 * magnitude * 1.0001
            #expect(
              abs(Double(c[i, j]) - exact) <= bound,
              "\(shape) (\(i), \(j)): \(c[i, j]) vs \(exact), bound \(bound)")
          }
        }
      }
    }

    @Test("Accumulating continues each element's chain from C's value")
    func accumulating() {
      let a = randomMatrix(37, 300, seed: 7)
      let b = randomMatrix(300, 150, seed: 8)
      let start = randomMatrix(37, 150, seed: 9)
      var c = start
      a.elements.withUnsafeBufferPointer { pa in
        b.elements.withUnsafeBufferPointer { pb in
          c.withUnsafeMutableBufferPointer { pc in
            multiplyMatrices(
              transposingA: false, transposingB: false, m: 37, n: 150, k: 300, pa.baseAddress!,
              leadingA: 300, pb.baseAddress!, leadingB: 150, into: pc.baseAddress!, leadingC: 150,
              accumulating: true)
          }
        }
      }
      let expected = chainProduct(a, b, transposingA: false, transposingB: false, start: start)
      #expect(zip(c.elements, expected.elements).allSatisfy { $0.bitPattern == $1.bitPattern })
    }

    @Test("Double: the fused chain, and the textbook layer's numbers")
    func doubleProduct() {
      let o = Matrix<Double>([[1, 2, 3]])  // o1..o3
      let w = Matrix<Double>([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])  // w41..w63
      let z = matrixProduct(o, w, transposingB: true)
      let expected = [1.4, 3.2, 5.0]
      for j in 0..<3 { #expect(abs(z[0, j] - expected[j]) <= 4 * expected[j].ulp) }
      let empty = matrixProduct(
        Matrix<Double>(rows: 2, columns: 0, repeating: 0),
        Matrix<Double>(rows: 0, columns: 3, repeating: 0))
      #expect(empty.rows == 2 && empty.columns == 3 && empty.elements.allSatisfy { $0 == 0 })
    }
  }
}
