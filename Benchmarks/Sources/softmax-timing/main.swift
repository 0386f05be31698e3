//===--- main.swift (softmax-timing) --------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Times SoftmaxCore's Float kernels the way ../shared/baselines/benchutil.py
// times the Python peers: 3 warm-up calls, calls per repeat calibrated so a
// repeat takes at least 50 ms, 21 repeats, the median per call. Output is
// preallocated (the `into:` API); the input is standard normal × 4 (× 2 for
// cross-entropy), as in the peers' scripts. One JSON object per line.
//
//   softmax-timing [--threads N] [--op softmax|log-softmax|logsumexp|
//                  softmax-axis0|vjp|cross-entropy] [--shapes 65536x10,...]

import Foundation
import SoftmaxCore

struct Options {
  var threads = 0
  var operation = "softmax"
  var shapes: [(Int, Int)] = [
    (65536, 10), (4096, 1000), (256, 32768), (16, 1_048_576), (1024, 128),
  ]
  var target = 0.05
  var repeats = 21

  init(_ arguments: [String]) {
    var i = 1
    while i < arguments.count {
      let value = i + 1 < arguments.count ? arguments[i + 1] : ""
      switch arguments[i] {
      case "--threads": threads = Int(value) ?? 0
      case "--op": operation = value
      case "--target": target = Double(value) ?? target
      case "--repeat": repeats = Int(value) ?? repeats
      case "--shapes":
        shapes = value.split(separator: ",").compactMap { item in
          let parts = item.split(separator: "x").compactMap { Int($0) }
          return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
      default:
        FileHandle.standardError.write(
          "unknown argument \(arguments[i])\n".data(using: .utf8) ?? Data())
        exit(2)
      }
      i += 2
    }
  }
}

func seconds() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// benchutil.bench: the median seconds per call, and the calls per repeat.
func bench(target: Double, repeats: Int, _ f: () -> Void) -> (
  median: Double, min: Double, number: Int
) {
  for _ in 0..<3 { f() }
  var number = 1
  while true {
    let t0 = seconds()
    for _ in 0..<number { f() }
    let dt = seconds() - t0
    if dt >= target || number >= 100_000 { break }
    number = min(100_000, max(number * 2, Int(Double(number) * target / max(dt, 1e-9) * 1.2)))
  }
  var times: [Double] = []
  for _ in 0..<repeats {
    let t0 = seconds()
    for _ in 0..<number { f() }
    times.append((seconds() - t0) / Double(number))
  }
  times.sort()
  return (times[times.count / 2], times[0], number)
}

/// Standard normal values (Box-Muller) from a fixed seed.
func normal(count: Int, scale: Float, seed: UInt64) -> [Float] {
  var state = seed
  func next() -> Double {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (Double(state >> 11) + 0.5) / Double(1 << 53)
  }
  return (0..<count).map { _ in
    Float((-2 * Double.log(next())).squareRoot() * Double.cos(2 * .pi * next())) * scale
  }
}

let options = Options(CommandLine.arguments)
if options.threads > 0 { SoftmaxConfiguration.threadCount = options.threads }
for (rows, columns) in options.shapes {
  let n = rows * columns
  let scale: Float = options.operation == "cross-entropy" ? 2 : 4
  let x = Matrix(rows: rows, columns: columns, elements: normal(count: n, scale: scale, seed: 0))
  var out = Matrix(rows: rows, columns: columns, repeating: Float(0))
  let labels = (0..<rows).map { ($0 &* 7919) % columns }
  let v = Matrix(rows: rows, columns: columns, elements: normal(count: n, scale: 1, seed: 1))
  let a = softmax(x)
  var sink = Float(0)
  let call: () -> Void
  switch options.operation {
  case "softmax": call = { softmax(x, into: &out) }
  case "log-softmax": call = { logSoftmax(x, into: &out) }
  case "softmax-axis0": call = { softmax(x, axis: 0, into: &out) }
  case "logsumexp": call = { sink += logSumExp(x)[0] }
  case "vjp": call = { sink += softmaxVJP(output: a, cotangent: v).elements[0] }
  case "cross-entropy":
    call = { sink += (try? crossEntropyWithGradient(logits: x, labels: labels))?.loss ?? 0 }
  default:
    FileHandle.standardError.write("unknown op \(options.operation)\n".data(using: .utf8) ?? Data())
    exit(2)
  }
  let r = bench(target: options.target, repeats: options.repeats, call)
  let bytes = Double(2 * n * 4)
  let record: [String: Any] = [
    "tool": "swift-softmax", "op": options.operation, "shape": [rows, columns],
    "threads": SoftmaxConfiguration.threadCount, "level": "\(SoftmaxConfiguration.cpuLevel)",
    "median_s": r.median, "min_s": r.min, "number": r.number, "gbps": bytes / r.median / 1e9,
  ]
  let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
  if sink.isNaN { print("") }
}
