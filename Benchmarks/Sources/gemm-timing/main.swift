//===--- main.swift (gemm-timing) -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// The Float matrix product against the machine's measured FMA peak.
//
//   gemm-timing [--threads 1,2] [--repeats 7]
//
// First the peak: 12 independent chains of fused multiply-adds on 16-float
// vectors (8-float without AVX-512), on one thread and on as many threads
// as the list's largest, each thread its own loop (the pipes' peak, no
// memory). Then `multiply(_:_:into:)` (C made once) on the shapes one Adam step of a
// 784-256-10 network with batch 128 multiplies (forward, the head's
// backward, the first layer's weight gradient) and a square 1024 one, at
// each thread count: the median of `--repeats` timings, each of enough
// products to take 20 ms. Prints GFLOP/s (2·M·N·K / seconds) and the
// fraction of the peak of as many cores as threads; one JSON line per
// measurement on stdout, a table on stderr.
//
//===----------------------------------------------------------------------===//

import Dispatch
import FMAPeak
import Foundation
import SoftmaxCore

var threadCounts = [1, 2]
var repeats = 7
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--threads":
    threadCounts = (arguments.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
  case "--repeats": repeats = Int(arguments.popFirst() ?? "") ?? repeats
  default:
    FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
    exit(2)
  }
}

func seconds(_ body: () -> Void) -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

// MARK: - Peak

let width: Int32 = fma_peak_supported(16) != 0 ? 16 : 8
let iterations = 20_000_000
var sink: Float = 0

/// A pointer the peak's threads each write one element of.
struct Results: @unchecked Sendable {
  let buffer: UnsafeMutableBufferPointer<Float>
}

/// GFLOP/s of `threads` threads each running the FMA loop, and the
/// results' sum.
@MainActor func peak(threads: Int) -> (gflops: Double, checksum: Float) {
  var times: [Double] = []
  var checksum: Float = 0
  for _ in 0..<repeats {
    let results = Results(buffer: .allocate(capacity: threads))
    defer { results.buffer.deallocate() }
    let t = seconds {
      DispatchQueue.concurrentPerform(iterations: threads) { index in
        results.buffer[index] = fma_peak_run(iterations, width)
      }
    }
    checksum += results.buffer.reduce(0, +)
    times.append(t)
  }
  return (
    2 * 12 * Double(width) * Double(iterations) * Double(threads) / median(times) / 1e9, checksum
  )
}

guard fma_peak_supported(width) != 0 else {
  print("{\"error\": \"no AVX2 + FMA on this CPU: no peak to compare with\"}")
  exit(1)
}
var peaks: [Int: Double] = [:]
for threads in threadCounts {
  let (gflops, checksum) = peak(threads: threads)
  sink += checksum
  peaks[threads] = gflops
  print("{\"peak_gflops\": \(gflops), \"threads\": \(threads), \"vector_width\": \(width)}")
}

// MARK: - Products

struct Shape {
  let name: String
  let m, n, k: Int
  let transposingA, transposingB: Bool
}

let shapes = [
  Shape(
    name: "layer 1 forward  X·W1ᵀ", m: 128, n: 256, k: 784, transposingA: false, transposingB: true),
  Shape(
    name: "layer 1 gradient δ1ᵀ·X", m: 256, n: 784, k: 128, transposingA: true, transposingB: false),
  Shape(
    name: "head forward     H·W2ᵀ", m: 128, n: 10, k: 256, transposingA: false, transposingB: true),
  Shape(
    name: "head gradient    δ2ᵀ·H", m: 10, n: 256, k: 128, transposingA: true, transposingB: false),
  Shape(
    name: "head backward    δ2·W2", m: 128, n: 256, k: 10, transposingA: false, transposingB: false),
  Shape(name: "square 1024", m: 1024, n: 1024, k: 1024, transposingA: false, transposingB: false),
]

var generator = SplitMix64(seed: 1)
@MainActor func random(_ rows: Int, _ columns: Int) -> Matrix<Float> {
  Matrix(
    rows: rows, columns: columns,
    elements: (0..<rows * columns).map { _ in Float(generator.next() >> 40) * 0x1p-23 - 1 })
}

var table = "| product | M × N × K | threads | GFLOP/s | of peak |\n|---|---|---|---|---|\n"
for shape in shapes {
  let a = shape.transposingA ? random(shape.k, shape.m) : random(shape.m, shape.k)
  let b = shape.transposingB ? random(shape.n, shape.k) : random(shape.k, shape.n)
  let flops = 2 * Double(shape.m * shape.n * shape.k)
  for threads in threadCounts {
    SoftmaxConfiguration.threadCount = threads
    // Into a matrix made once (`multiply(_:_:into:)`): a fresh C of
    // 0.8 MB a call would time the kernel's page faults, not the product.
    var product = matrixProduct(
      a, b, transposingA: shape.transposingA, transposingB: shape.transposingB)
    let once = seconds {
      multiply(
        a, b, transposingA: shape.transposingA, transposingB: shape.transposingB, into: &product)
    }
    let calls = max(1, Int(0.02 / max(once, 1e-7)))
    var times: [Double] = []
    for _ in 0..<repeats {
      times.append(
        seconds {
          for _ in 0..<calls {
            multiply(
              a, b, transposingA: shape.transposingA, transposingB: shape.transposingB,
              into: &product)
          }
        } / Double(calls))
    }
    sink += product[0, 0]
    let gflops = flops / median(times) / 1e9
    let fraction = gflops / (peaks[threads] ?? .nan)
    print(
      "{\"product\": \"\(shape.name)\", \"m\": \(shape.m), \"n\": \(shape.n), \"k\": \(shape.k), "
        + "\"threads\": \(threads), \"gflops\": \(gflops), \"fraction_of_peak\": \(fraction)}")
    table +=
      "| \(shape.name) | \(shape.m) × \(shape.n) × \(shape.k) | \(threads) | "
      + String(format: "%.1f | %.0f %% |\n", gflops, 100 * fraction)
  }
}
for threads in threadCounts {
  table += String(format: "\npeak, %d thread(s): %.1f GFLOP/s", threads, peaks[threads] ?? .nan)
}
FileHandle.standardError.write(Data((table + "\n(checksum \(sink))\n").utf8))
