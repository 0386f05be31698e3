//===--- DeterminismTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Results are bitwise identical whatever the thread count: every row (or
// column) is computed by one kernel call, and totals are summed in a fixed
// order. The shapes are large enough to be split between threads.

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

extension GlobalSettingsTests {
  @Suite("Bitwise identical results for every thread count")
  struct DeterminismTests {
    /// `parallelForEach` hands out indices as threads free up: each must
    /// run exactly once, whichever thread takes it and whatever the work.
    @Test("parallelForEach runs every index once, for 1, 2 and 7 threads")
    func parallelForEachRunsEveryIndexOnce() {
      let saved = SoftmaxConfiguration.threadCount
      defer { SoftmaxConfiguration.threadCount = saved }
      for threads in [1, 2, 7] {
        SoftmaxConfiguration.threadCount = threads
        let count = 1000
        var runs = [Int](repeating: 0, count: count)
        runs.withUnsafeMutableBufferPointer { runs in
          parallelForEach(count: count, cost: 1 << 16) { i in
            // Unequal work, so that threads take different numbers of items.
            var sink = 0
            for k in 0..<(i % 7) * 1000 { sink &+= k }
            runs[i] += 1 + (sink == -1 ? 1 : 0)
          }
        }
        #expect(runs.allSatisfy { $0 == 1 }, "\(threads) threads")
      }
    }

    @Test(arguments: [(300, 1000), (5000, 10), (70, 4097)])
    func sameBitsForEveryThreadCount(rows: Int, columns: Int) throws {
      var generator = SplitMix64(seed: UInt64(rows))
      let x = Matrix(
        rows: rows, columns: columns,
        elements: [Float].random(count: rows * columns, in: -20...20, using: &generator))
      let labels = (0..<rows).map { _ in Int.random(in: 0..<columns, using: &generator) }
      let saved = SoftmaxConfiguration.threadCount
      defer { SoftmaxConfiguration.threadCount = saved }

      func everything() throws -> [[UInt32]] {
        let ce = try crossEntropyWithGradient(logits: x, labels: labels)
        let results: [[Float]] = [
          softmax(x).elements, softmax(x, axis: 0).elements, logSoftmax(x).elements,
          logSumExp(x), logSumExp(x, axis: 0),
          softmaxVJP(output: softmax(x), cotangent: x).elements,
          ce.gradient.elements, ce.losses, [ce.loss],
        ]
        return results.map { $0.map(\.bitPattern) }
      }
      SoftmaxConfiguration.threadCount = 1
      let single = try everything()
      for threads in [2, 3, 4] {
        SoftmaxConfiguration.threadCount = threads
        for attempt in 0..<2 {
          let results = try everything()
          for (index, (a, b)) in zip(results, single).enumerated() {
            let differing = zip(a, b).filter { $0 != $1 }.count
            #expect(
              a == b,
              "\(threads) threads, attempt \(attempt): result \(index) differs in \(differing) places"
            )
          }
        }
      }
    }
  }
}
