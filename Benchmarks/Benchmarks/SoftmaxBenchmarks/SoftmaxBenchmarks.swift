//===--- SoftmaxBenchmarks.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// package-benchmark suite for SoftmaxCore's Float kernels:
//
//   swift package --package-path Benchmarks benchmark
//
// Each shape is measured for the fast kernels and, in the same run, for a
// plain scalar Swift softmax (max, exp, sum, scale with `Float.exp`), the
// baseline to quote ratios against. Side by side with the Python peers and
// C: Benchmarks/compare.py.

import Benchmark
import SoftmaxCore

#if canImport(Glibc)
import Glibc
#endif

let shapes = [(65536, 10), (4096, 1000), (256, 32768), (16, 1_048_576), (1024, 128)]

func logits(rows: Int, columns: Int) -> Matrix<Float> {
  var state: UInt64 = 42
  let values = (0..<rows * columns).map { _ -> Float in
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (Float(state >> 40) / Float(1 << 24) - 0.5) * 16
  }
  return Matrix(rows: rows, columns: columns, elements: values)
}

/// The scalar baseline: a textbook stable softmax over each row.
func scalarSoftmax(_ x: Matrix<Float>, into y: inout [Float]) {
  x.elements.withUnsafeBufferPointer { xs in
    y.withUnsafeMutableBufferPointer { ys in
      for r in 0..<x.rows {
        let base = r * x.columns
        var m = -Float.infinity
        for c in 0..<x.columns { m = max(m, xs[base + c]) }
        var s: Float = 0
        for c in 0..<x.columns {
          let e = expf(xs[base + c] - m)
          ys[base + c] = e
          s += e
        }
        for c in 0..<x.columns { ys[base + c] /= s }
      }
    }
  }
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .throughput], warmupIterations: 3, maxDuration: .seconds(2),
    maxIterations: 1000)
  for (rows, columns) in shapes {
    let tags = ["shape": "\(rows)x\(columns)"]
    Benchmark("softmax fast", configuration: .init(tags: tags)) { benchmark, x in
      var y = Matrix(rows: rows, columns: columns, repeating: Float(0))
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations { softmax(x, into: &y) }
      blackHole(y)
    } setup: {
      logits(rows: rows, columns: columns)
    }
    Benchmark("softmax scalar baseline", configuration: .init(tags: tags)) { benchmark, x in
      var y = [Float](repeating: 0, count: rows * columns)
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations { scalarSoftmax(x, into: &y) }
      blackHole(y)
    } setup: {
      logits(rows: rows, columns: columns)
    }
  }
  for (rows, columns) in [(65536, 10), (4096, 1000)] {
    let labels = (0..<rows).map { ($0 &* 7919) % columns }
    Benchmark("cross-entropy fwd+bwd", configuration: .init(tags: ["shape": "\(rows)x\(columns)"]))
    {
      benchmark, x in
      for _ in benchmark.scaledIterations {
        blackHole(try crossEntropyWithGradient(logits: x, labels: labels))
      }
    } setup: {
      logits(rows: rows, columns: columns)
    }
  }
}
