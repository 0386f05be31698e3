//===--- main.swift (stream-timing) ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Times training on a float32 `.npy` file streamed from disk, for
// Benchmarks/out_of_core.py:
//
//     stream-timing FILE.npy LABELS [--iterations N] [--chunk-mib M] [--repeats R] [--in-memory]
//
// Prints JSON lines:
//   {"what": "read-pass", ...}  the file's rows read a chunk at a time and nothing
//                               else (NPYRowStream's pread into one buffer)
//   {"what": "fit", ...}        L-BFGS for N iterations on the stream (λ = 1/n): the
//                               seconds of an evaluation (one pass over the file:
//                               each iteration's seconds over its evaluations,
//                               median over the iterations after the first), the
//                               evaluations, the seconds before the first report
//   {"what": "fit-in-memory", ...}  with --in-memory: the same on the file loaded whole
//                               (NPYReader): the arithmetic of a pass without reading

import Foundation
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

let arguments = Array(CommandLine.arguments.dropFirst())
nonisolated func option(_ name: String) -> String? {
  guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
  return arguments[index + 1]
}
guard arguments.count >= 2 else {
  FileHandle.standardError.write(
    Data(
      "usage: stream-timing FILE.npy LABELS [--iterations N] [--chunk-mib M] [--repeats R]\n".utf8))
  exit(2)
}
let path = arguments[0]
let labelsPath = arguments[1]
let iterations = Int(option("--iterations") ?? "8") ?? 8
let chunkBytes = (Int(option("--chunk-mib") ?? "8") ?? 8) << 20
let repeats = Int(option("--repeats") ?? "3") ?? 3
let inMemory = arguments.contains("--in-memory")

nonisolated func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
nonisolated func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

do {
  let stream = try NPYRowStream<Float>(path: path)
  let bytes = stream.rows * stream.columns * 4
  let chunkRows = max(256, chunkBytes / (stream.columns * 4) / 256 * 256)
  var reads: [Double] = []
  var sink: Float = 0
  for _ in 0..<repeats {
    let start = now()
    try stream.forEachChunk(rows: chunkRows) { _, x in sink += x[x.count / 2] }
    reads.append(now() - start)
  }
  print(
    "{\"what\": \"read-pass\", \"seconds\": \(median(reads)), \"all\": \(reads), \"bytes\": \(bytes), \"gbps\": \(Double(bytes) / median(reads) / 1e9), \"sink\": \(sink.isFinite)}"
  )
  let encoding = ClassEncoding(labels: try NPYReader.readLabels(labelsPath))
  var options = TrainingOptions()
  options.l2 = 1 / Double(stream.rows)
  options.lbfgs.maxIterations = iterations
  options.lbfgs.gradientTolerance = 0
  options.lbfgs.relativeObjectiveTolerance = 0
  var stamps: [(seconds: Double, evaluations: Int)] = []
  let start = now()
  let model = try SoftmaxClassifier.fit(
    streaming: stream, labels: encoding.indices, classes: encoding.classes, options: options,
    chunkBytes: chunkBytes
  ) { report in
    stamps.append((now(), report.evaluations))
    return true
  }
  let steps = zip(stamps.dropFirst(), stamps).map {
    ($0.seconds - $1.seconds) / Double(max(1, $0.evaluations - $1.evaluations))
  }
  let record = model.training
  if inMemory {
    let features = try NPYReader.read(path, as: Float.self).features
    var memoryStamps: [(seconds: Double, evaluations: Int)] = []
    let memoryModel = try SoftmaxClassifier.fit(
      features: features, labels: encoding.indices, classes: encoding.classes, options: options
    ) { report in
      memoryStamps.append((now(), report.evaluations))
      return true
    }
    let memorySteps = zip(memoryStamps.dropFirst(), memoryStamps).map {
      ($0.seconds - $1.seconds) / Double(max(1, $0.evaluations - $1.evaluations))
    }
    print(
      "{\"what\": \"fit-in-memory\", \"pass_seconds\": \(median(memorySteps)), \"all\": \(memorySteps), \"same_parameters\": \(memoryModel.parameters == model.parameters)}"
    )
  }
  print(
    "{\"what\": \"fit\", \"threads\": \(SoftmaxConfiguration.threadCount), \"rows\": \(stream.rows), \"features\": \(stream.columns), \"classes\": \(encoding.classes.count), \"iterations\": \(record?.iterations ?? 0), \"evaluations\": \(record?.evaluations ?? 0), \"first_report_seconds\": \((stamps.first?.seconds ?? start) - start), \"pass_seconds\": \(median(steps)), \"all\": \(steps), \"objective\": \(record?.objective ?? .nan)}"
  )
} catch {
  FileHandle.standardError.write(Data("stream-timing: \(error)\n".utf8))
  exit(1)
}
