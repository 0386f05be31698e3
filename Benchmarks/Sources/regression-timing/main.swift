//===--- main.swift (regression-timing) -----------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// Times softmax regression on MNIST (60000 × 784, pixels/255, 10 classes,
// C = 1, i.e. λ = 1/60000), printing JSON lines:
//   {"what": "read-pass", ...}   one plain read of X (sum of all floats) on one thread
//   {"what": "read-pass-2", ...} the same read on two threads (two halves, four sums
//                                each): the memory floor of a two-thread gradient
//   {"what": "gradient", ...}    one objective + gradient evaluation (the fused pass)
//   {"what": "fit", ...}         L-BFGS to the tight optimum, with the objective reached
//   {"what": "minibatch-pass", ...}  with --step-profile: one epoch of minibatch gradients
//                                (no updates), shuffled batches of 256 and 60000, and
//                                in-order batches of 256
//   {"what": "sgd", ...}         with --sgd: minibatch SGD (batch 256, momentum 0.9,
//                                lr 0.1, 5 epochs, no penalty) as the NumPy loop of
//                                ../shared/baselines/bench_train.py: epoch times,
//                                accuracies, and the peak memory while training
// Timing: median of repeats (the read passes and the gradient are interleaved
// so all see the same machine).
//
//   regression-timing [--mnist DIR] [--threads N] [--repeats R] [--no-fit] [--sgd [--no-shuffle] [--batch B]]
//                     [--step-profile] [--solver lbfgs|newton]
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxRegression

let arguments = Array(CommandLine.arguments.dropFirst())
nonisolated func option(_ name: String) -> String? {
  guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
  return arguments[index + 1]
}
let directory = option("--mnist") ?? "../shared/data/mnist"
let repeats = Int(option("--repeats") ?? "15") ?? 15
if let threads = option("--threads").flatMap(Int.init) {
  SoftmaxConfiguration.threadCount = threads
}
let fit = !arguments.contains("--no-fit")

func readIDX(_ path: String) throws -> (dimensions: [Int], bytes: [UInt8]) {
  let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
  let rank = Int(data[3])
  var dimensions: [Int] = []
  for axis in 0..<rank {
    let offset = 4 + 4 * axis
    dimensions.append(data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) })
  }
  return (dimensions, Array(data[(4 + 4 * rank)...]))
}

guard FileManager.default.fileExists(atPath: "\(directory)/train-images.idx3-ubyte") else {
  FileHandle.standardError.write(Data("no MNIST at \(directory); pass --mnist DIR\n".utf8))
  exit(2)
}
/// An IDX image file as an `n × (rows·columns)` matrix of pixels/255; the
/// bytes are freed before it returns.
func readImages(_ path: String) throws -> Matrix<Float> {
  let images = try readIDX(path)
  return Matrix(
    rows: images.dimensions[0], columns: images.dimensions[1] * images.dimensions[2],
    elements: images.bytes.map { Float($0) / 255 })
}
let features = try readImages("\(directory)/train-images.idx3-ubyte")
let labels = try readIDX("\(directory)/train-labels.idx1-ubyte").bytes.map { Int($0) }
let n = features.rows
let d = features.columns
let l2 = TrainingOptions.l2(forC: 1, sampleWeightTotal: Double(n))
let objective = try SoftmaxRegressionObjective(
  features: features, labels: labels, classCount: 10, l2: l2)

func now() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

// A point away from zero, so that the softmax is not uniform.
let parameters = (0..<objective.parameterCount).map { Double(($0 * 7919) % 201 - 100) * 1e-4 }
// One workspace, as a solver keeps one for its evaluations.
var workspace = objective.makeWorkspace()
let allRows = Array(0..<n)
var gradient: [Double] = []
var readTimes: [Double] = []
var gradientTimes: [Double] = []
var valueTimes: [Double] = []
var read2Times: [Double] = []
var sink: Float = 0
for _ in 0..<repeats {
  let t0 = now()
  sink += features.elements.withUnsafeBufferPointer { buffer -> Float in
    // 16 independent sums so the read is not latency-bound.
    var sums = SIMD16<Float>()
    guard let address = buffer.baseAddress else { return 0 }
    let base = UnsafeRawPointer(address)
    let vectors = buffer.count / 16
    for v in 0..<vectors {
      sums += base.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self)
    }
    return sums.sum()
  }
  let t1 = now()
  // The same read on two threads (four sums each, in two halves).
  let partSums = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2)
  partSums.initialize(repeating: 0)
  let sumsAddress = Int(bitPattern: partSums.baseAddress)
  features.elements.withUnsafeBufferPointer { buffer in
    let address = Int(bitPattern: buffer.baseAddress)
    parallelForX(count: buffer.count / 64) { part, first, last in
      guard let base = UnsafeRawPointer(bitPattern: address),
        let sums = UnsafeMutablePointer<Float>(bitPattern: sumsAddress)
      else { return }
      var s0 = SIMD16<Float>()
      var s1 = SIMD16<Float>()
      var s2 = SIMD16<Float>()
      var s3 = SIMD16<Float>()
      for v in first..<last {
        let o = v * 256
        s0 += base.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
        s1 += base.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self)
        s2 += base.loadUnaligned(fromByteOffset: o + 128, as: SIMD16<Float>.self)
        s3 += base.loadUnaligned(fromByteOffset: o + 192, as: SIMD16<Float>.self)
      }
      sums[part] = (s0 + s1 + s2 + s3).sum()
    }
  }
  sink += partSums[0] + partSums[1]
  partSums.deallocate()
  let t1b = now()
  read2Times.append(t1b - t1)
  let t1c = now()
  _ = objective.smoothValueAndGradient(at: parameters, gradient: &gradient, workspace: &workspace)
  let t2 = now()
  _ = objective.loss(rows: allRows, at: parameters, workspace: &workspace)
  valueTimes.append(now() - t2)
  readTimes.append(t1 - t0)
  gradientTimes.append(t2 - t1c)
}
let bytes = Double(n * d * 4)
print(
  "{\"what\": \"read-pass\", \"seconds\": \(median(readTimes)), \"gbps\": \(bytes / median(readTimes) / 1e9), \"threads\": 1, \"sink\": \(sink.isFinite)}"
)
print(
  "{\"what\": \"read-pass-2\", \"seconds\": \(median(read2Times)), \"gbps\": \(bytes / median(read2Times) / 1e9), \"threads\": 2}"
)
print(
  "{\"what\": \"gradient\", \"seconds\": \(median(gradientTimes)), \"threads\": \(SoftmaxConfiguration.threadCount), \"level\": \"\(SoftmaxConfiguration.cpuLevel)\"}"
)

print(
  "{\"what\": \"value\", \"seconds\": \(median(valueTimes)), \"threads\": \(SoftmaxConfiguration.threadCount)}"
)

/// The resident-set high-water mark (VmHWM), in bytes.
func peakResidentBytes() -> Int {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
    let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
    let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
  else { return -1 }
  return kilobytes * 1024
}

if arguments.contains("--step-profile") {
  var generator = SplitMix64(seed: 1)
  var order = Array(0..<n)
  generator.shuffle(&order)
  var g: [Double] = []
  for batch in [256, 60000] {
    let t0 = now()
    var begin = 0
    while begin < n {
      let rows = Array(order[begin..<min(n, begin + batch)])
      _ = objective.smoothValueAndGradient(
        rows: rows, at: parameters, gradient: &g, workspace: &workspace)
      begin += batch
    }
    print("{\"what\": \"minibatch-pass\", \"batch\": \(batch), \"seconds\": \(now() - t0)}")
  }
  let t0 = now()
  var begin = 0
  while begin < n {
    let rows = Array(begin..<min(n, begin + 256))
    _ = objective.smoothValueAndGradient(
      rows: rows, at: parameters, gradient: &g, workspace: &workspace)
    begin += 256
  }
  print("{\"what\": \"minibatch-pass-in-order\", \"batch\": 256, \"seconds\": \(now() - t0)}")
}

if arguments.contains("--sgd") {
  var options = TrainingOptions()
  options.solver = .sgd
  options.stochastic.batchSize = 256
  options.stochastic.momentum = 0.9
  options.stochastic.learningRate = 0.1
  options.stochastic.epochs = 5
  options.stochastic.shuffle = !arguments.contains("--no-shuffle")
  if let batch = option("--batch").flatMap(Int.init) { options.stochastic.batchSize = batch }
  let residentBefore = peakResidentBytes()
  // Reset the high-water mark (Linux: clear_refs 5) so it covers training only.
  if let file = fopen("/proc/self/clear_refs", "w") {
    fputs("5", file)
    fclose(file)
  }
  let residentAtStart = peakResidentBytes()
  var epochTimes: [Double] = []
  var running: [Double] = []
  var last = now()
  let model = try SoftmaxClassifier.fit(
    features: features, labels: labels, classes: (0..<10).map(String.init), options: options
  ) { report in
    let t = now()
    epochTimes.append(t - last)
    running.append(report.objective)
    last = t
    return true
  }
  let peak = peakResidentBytes()
  guard let record = model.training else { fatalError("fit returns a training record") }
  let testFeatures = try readImages("\(directory)/t10k-images.idx3-ubyte")
  let testLabels = try readIDX("\(directory)/t10k-labels.idx1-ubyte").bytes.map { Int($0) }
  let train = try model.evaluate(features: features, labels: labels)
  let test = try model.evaluate(features: testFeatures, labels: testLabels)
  print(
    "{\"what\": \"sgd\", \"threads\": \(SoftmaxConfiguration.threadCount), \"epoch_times_s\": \(epochTimes), \"epoch_median_s\": \(median(epochTimes)), \"epoch_min_s\": \(epochTimes.min() ?? 0), \"running_epoch_loss\": \(running), \"final_train_loss\": \(train.logLoss), \"final_train_acc\": \(train.accuracy), \"test_acc\": \(test.accuracy), \"objective\": \(record.objective), \"peak_resident_bytes_before\": \(residentBefore), \"resident_bytes_at_start\": \(residentAtStart), \"peak_resident_bytes_training\": \(peak), \"x_float32_bytes\": \(n * d * 4)}"
  )
}

if fit {
  var options = TrainingOptions()
  options.l2 = l2
  options.lbfgs.maxIterations = 5000
  options.lbfgs.gradientTolerance = 1e-7
  options.lbfgs.relativeObjectiveTolerance = 0
  if option("--solver") == "newton" { options.solver = .newton }
  let target = 0.2321177  // scikit-learn's tight optimum in this form (../shared/BASELINES.md)
  var reachedAt: (iteration: Int, seconds: Double)? = nil
  let start = now()
  let model = try SoftmaxClassifier.fit(
    features: features, labels: labels, classes: (0..<10).map(String.init), options: options
  ) { report in
    if reachedAt == nil, (report.objective - target) / target <= 1e-6 {
      reachedAt = (report.iteration, now() - start)
    }
    return true
  }
  let seconds = now() - start
  guard let record = model.training else { fatalError("fit returns a training record") }
  let accuracy = try model.evaluate(features: features, labels: labels).accuracy
  print(
    "{\"what\": \"fit\", \"solver\": \"\(options.solver)\", \"seconds\": \(seconds), \"iterations\": \(record.iterations), \"evaluations\": \(record.evaluations), \"objective\": \(record.objective), \"stop\": \"\(record.stopReason)\", \"target\": \(target), \"reached_1e-6_at_iteration\": \(reachedAt.map { String($0.iteration) } ?? "null"), \"reached_1e-6_seconds\": \(reachedAt.map { String($0.seconds) } ?? "null"), \"train_accuracy\": \(accuracy)}"
  )
}

/// `body(part, first, last)` on [0, count/2) here and [count/2, count) on
/// a new thread (its start, tens of microseconds, is in the time: the
/// two-thread read pass is a slight overestimate).
func parallelForX(count: Int, _ body: @escaping @Sendable (Int, Int, Int) -> Void) {
  let half = count / 2
  let done = DispatchSemaphore(value: 0)
  let t = Thread {
    body(1, half, count)
    done.signal()
  }
  t.start()
  body(0, 0, half)
  done.wait()
}
