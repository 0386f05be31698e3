//===--- main.swift (network-timing) --------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// A multi-layer network on MNIST, timed per epoch; JSON lines on stdout.
//
//   network-timing [--mnist DIR] [--hidden 256] [--activation relu] [--epochs 20]
//                  [--batch 128] [--lr 0.001] [--seed 1] [--threads N] [--sparse]
//
// Pixels/255 in Float, the network 784-hidden-10, He initialization from
// the seed, Adam (PyTorch's defaults but the rate), minibatches shuffled by
// the seed each epoch, no weight decay. Prints, after each epoch, its wall
// time (the minibatch steps only: the test accuracy is measured outside
// the timed part, from the epoch's parameters) and the test accuracy:
//   {"epoch": 1, "seconds": 0.93, "test_accuracy": 0.9612, "loss": 0.27}
// and at the end the peak resident memory of the training (VmHWM, reset
// once the data is loaded, through /proc/self/clear_refs), with the
// float32 size of X and of the network, the yardstick:
//   {"peak_rss_mb": 231.0, "x_mb": 188.2, "network_mb": 0.8, "ratio": 1.22}
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
  guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
  return arguments[i + 1]
}
let directory = option("--mnist") ?? "../shared/data/mnist"
let hidden = (option("--hidden") ?? "256").split(separator: ",").compactMap { Int($0) }
let activation = Activation(rawValue: option("--activation") ?? "relu") ?? .relu
let epochs = Int(option("--epochs") ?? "20") ?? 20
let batch = Int(option("--batch") ?? "128") ?? 128
let rate = Double(option("--lr") ?? "0.001") ?? 0.001
let seed = UInt64(option("--seed") ?? "1") ?? 1
if let threads = option("--threads").flatMap(Int.init) {
  SoftmaxConfiguration.threadCount = threads
}

guard FileManager.default.fileExists(atPath: "\(directory)/train-images.idx3-ubyte") else {
  FileHandle.standardError.write(Data("no MNIST at \(directory); pass --mnist DIR\n".utf8))
  exit(2)
}
/// An IDX image file and its labels through SoftmaxData: pixels/255.
func readMNIST(_ images: String, _ labels: String) throws -> (Matrix<Float>, [Int]) {
  let data = try IDXReader.read(
    images: "\(directory)/\(images)", labels: "\(directory)/\(labels)", as: Float.self)
  let pixels = data.features
  return (
    Matrix(rows: pixels.rows, columns: pixels.columns, elements: pixels.elements.map { $0 / 255 }),
    (data.labels ?? []).compactMap { Int($0) }
  )
}
let (features, labels) = try readMNIST("train-images.idx3-ubyte", "train-labels.idx1-ubyte")
let (testFeatures, testLabels) = try readMNIST("t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte")

// --sparse: the first layer reads each image's non-zero pixels (19 % of
// MNIST's), the same model bit for bit as the dense one.
let sparse = arguments.contains("--sparse")
let objective =
  sparse
  ? try NetworkObjective(
    features: SparseMatrix(features), labels: labels, classCount: 10, hiddenWidths: hidden,
    activation: activation)
  : try NetworkObjective(
    features: features, labels: labels, classCount: 10, hiddenWidths: hidden,
    activation: activation)
let test = try NetworkObjective(
  features: testFeatures, labels: testLabels, classCount: 10, hiddenWidths: hidden,
  activation: activation)

func now() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

@MainActor func accuracy(_ parameters: [Double]) -> Double {
  let p = test.probabilities(rows: Array(0..<test.rowCount), at: parameters)
  var right = 0
  for i in 0..<test.rowCount {
    var best = 0
    for j in 1..<10 where p[i, j] > p[i, best] { best = j }
    if best == testLabels[i] { right += 1 }
  }
  return Double(right) / Double(test.rowCount)
}

/// VmHWM or VmRSS of /proc/self/status, in MB (nil off Linux).
func residentMB(_ field: String) -> Double? {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
    return nil
  }
  for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
    let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first
    return kilobytes.map { $0 / 1024 }
  }
  return nil
}
// "5" resets the peak to the current resident size (Linux 4.0 and later).
try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)

var options = StochasticOptions()
options.epochs = epochs
options.batchSize = batch
options.seed = seed
var epochStart = now()
_ = try Adam(learningRate: rate).minimize(
  objective, from: objective.architecture.initialParameters(seed: seed), training: options
) { report in
  let seconds = now() - epochStart
  let accuracy = accuracy(report.parameters)
  print(
    "{\"epoch\": \(report.iteration), \"seconds\": \(seconds), \"test_accuracy\": \(accuracy), "
      + "\"loss\": \(report.objective)}")
  fflush(nil)
  epochStart = now()
  return true
}
let xMB = Double(features.elements.count * 4) / 1_048_576
let networkMB = Double(objective.parameterCount * 4) / 1_048_576
if let peak = residentMB("VmHWM") {
  print(
    "{\"peak_rss_mb\": \(peak), \"x_mb\": \(xMB), \"network_mb\": \(networkMB), "
      + "\"ratio\": \(peak / (xMB + networkMB))}")
}
