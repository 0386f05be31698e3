//===--- PipelineTarget.swift ---------------------------------------------===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Two targets that drive training end to end:
//
// - `pipeline`: the first 16 bytes of an input choose the options (solver,
//   standardization, L2, learning rate, batch size, epochs, class and
//   sample weights, precision, format), every number from a table of
//   extremes; the rest is a data file (CSV, LIBSVM or NPY). It is read,
//   trained on, saved, loaded back, and used to predict and evaluate, as
//   `softmax train`, `predict` and `eval` do.
// - `resume`: the input picks a checkpoint of each solver (made at start)
//   and numbers in it to replace with extremes (NaN, ±inf, ±1e308, 5e-324,
//   2^63, ...); the checkpoint is then resumed and its model saved.
//
// A typed error is the right answer; a trap, a hang or a large
// allocation is a finding.

import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The numbers a fuzzed option or value is drawn from.
let extremeNumbers: [Double] = [
  0, 1, 0.5, 1e-4, 0.1, 10, 1e20, 1e300, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
  .leastNormalMagnitude, 1e-300, -1, .infinity, .nan, 3,
]

/// Reads options from the first bytes, then trains on the rest.
func runPipeline(_ bytes: UnsafeRawBufferPointer) {
  guard bytes.count >= 16 else { return }
  let o = Array(bytes.prefix(16))
  let file = UnsafeRawBufferPointer(rebasing: bytes[16...])
  let format: DataFormat = [.csv, .libsvm, .npy][Int(o[0]) % 3]
  let path = writeInput(file, suffix: "." + format.rawValue)
  defer { unlink(path) }
  if o[1] & 1 == 0 {
    train(path, options: o, as: Double.self)
  } else {
    train(path, options: o, as: Float.self)
  }
}

func train<T: SoftmaxScalar>(_ path: String, options o: [UInt8], as _: T.Type) {
  var load = LoadOptions()
  load.csv.missingValues = [.error, .zero, .mean, .skipRow][Int(o[2]) % 4]
  guard let data = try? DataLoader.load(path, options: load, as: T.self), let labels = data.labels,
    data.count <= 2000, data.featureCount <= 64
  else { return }
  let encoding = ClassEncoding(labels: labels)
  guard encoding.classes.count >= 2, encoding.classes.count <= 64 else { return }
  var options = TrainingOptions()
  options.solver = TrainingOptions.Solver.allCases[Int(o[3]) % 4]
  options.standardize = o[4] & 1 == 1
  options.l2 = extremeNumbers[Int(o[5]) % extremeNumbers.count]
  options.l1 = o[6] & 3 == 0 ? extremeNumbers[Int(o[6] >> 2) % extremeNumbers.count] : 0
  options.learningRate = extremeNumbers[Int(o[7]) % extremeNumbers.count]
  options.stochastic.learningRate = options.learningRate
  options.stochastic.batchSize = [1, 3, 256, Int.max, 0][Int(o[8]) % 5]
  options.stochastic.epochs = Int(o[9]) % 4
  options.stochastic.momentum = o[10] & 1 == 1 ? 0.9 : 0
  options.lbfgs.maxIterations = Int(o[11]) % 25
  options.lbfgs.gradientTolerance = extremeNumbers[Int(o[12]) % extremeNumbers.count]
  switch o[13] % 3 {
  case 0: options.classWeighting = .uniform
  case 1: options.classWeighting = .balanced
  default:
    options.classWeighting = .custom(
      (0..<encoding.classes.count).map { extremeNumbers[(Int(o[14]) + $0) % extremeNumbers.count] })
  }
  if o[10] & 2 == 2 {
    options.stochastic.earlyStopping = EarlyStopping()
  }
  let weights: [Double]? =
    o[15] % 3 == 0
    ? nil
    : (0..<data.count).map { extremeNumbers[(Int(o[15]) * 7 + $0) % extremeNumbers.count] }
  guard
    let model = try? SoftmaxClassifier.fit(
      features: data.features, labels: encoding.indices, classes: encoding.classes,
      sampleWeights: weights, featureNames: data.featureNames, options: options)
  else { return }
  precondition(model.parameters.allSatisfy(\.isFinite), "fit returned a non-finite parameter")
  // Save, load, predict, evaluate: what the command does next.
  guard let bytes = try? ModelFile.encode(model) else {
    preconditionFailure("a model fit returned cannot be written")
  }
  guard let loaded = try? ModelFile.decode(bytes) else {
    preconditionFailure("a model file written cannot be read")
  }
  precondition((try? ModelFile.encode(loaded)) == bytes, "the model file does not round-trip")
  precondition(!(model.training?.objective.isNaN ?? false), "the objective is NaN")
  guard let probabilities = try? loaded.probabilities(data.features) else {
    preconditionFailure("a model cannot predict its own training data")
  }
  for row in probabilities.rowArrays {
    precondition(
      row.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "a probability is not in [0, 1]")
    precondition(abs(row.reduce(0, +) - 1) <= 1e-12, "probabilities do not sum to 1")
  }
  guard let metrics = try? loaded.evaluate(features: data.features, labels: encoding.indices)
  else { preconditionFailure("a model cannot be evaluated on its own training data") }
  precondition(!metrics.logLoss.isNaN, "the log loss is NaN")
  var withMetrics = loaded
  withMetrics.training?.metrics = metrics
  guard let again = try? ModelFile.encode(withMetrics), (try? ModelFile.decode(again)) != nil
  else { preconditionFailure("a model with its metrics does not round-trip") }
}

// MARK: - Resume

/// A checkpoint of each solver on ``checkpointData``, made once.
let resumeSeeds: [[UInt8]] = checkpointSeeds().map { $0.encoded() }

/// Replaces numbers of a seed checkpoint's JSON, then resumes it.
func runResume(_ bytes: UnsafeRawBufferPointer) {
  guard let text = mutatedCheckpoint(bytes),
    let checkpoint = try? TrainingCheckpoint.decode(text)
  else { return }
  if let model = resume(checkpoint) {
    precondition(model.parameters.allSatisfy(\.isFinite), "a resumed model is not finite")
    precondition((try? ModelFile.encode(model)) != nil, "a resumed model cannot be written")
  }
}

/// The checkpoint text a `resume` input makes: its first byte picks a
/// seed, each following three bytes a number (two bytes) and what to put
/// there (one). `SOFTMAX_FUZZ_EXPAND=finding` prints it, for a regression
/// test to keep.
func mutatedCheckpoint(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
  guard let first = bytes.first, !resumeSeeds.isEmpty else { return nil }
  var text = resumeSeeds[Int(first) % resumeSeeds.count]
  let literals = [
    "\"nan\"", "\"inf\"", "\"-inf\"", "1e308", "-1e308", "5e-324", "0", "-1", "1e20",
    "9223372036854775807", "-9223372036854775808", "1e-300", "2", "1.5", "100000000", "-0",
  ]
  var index = 1
  while index + 2 < bytes.count {
    let which = Int(bytes[index]) << 8 | Int(bytes[index + 1])
    text = replacingNumber(which, in: text, with: literals[Int(bytes[index + 2]) % literals.count])
    index += 3
  }
  return text
}

/// `text` with its `n`-th number (modulo their count; outside strings)
/// replaced by `literal`.
func replacingNumber(_ n: Int, in text: [UInt8], with literal: String) -> [UInt8] {
  var spans: [Range<Int>] = []
  var i = 0
  var inString = false
  while i < text.count {
    let byte = text[i]
    if inString {
      if byte == UInt8(ascii: "\\") {
        i += 1
      } else if byte == UInt8(ascii: "\"") {
        inString = false
      }
      i += 1
      continue
    }
    if byte == UInt8(ascii: "\"") {
      inString = true
      i += 1
      continue
    }
    if byte == UInt8(ascii: "-") || (byte >= 0x30 && byte <= 0x39) {
      let start = i
      i += 1
      while i < text.count, "0123456789.eE+-".utf8.contains(text[i]) { i += 1 }
      spans.append(start..<i)
      continue
    }
    i += 1
  }
  guard !spans.isEmpty else { return text }
  var result = text
  result.replaceSubrange(spans[n % spans.count], with: Array(literal.utf8))
  return result
}

/// Checkpoints after 3 iterations of every solver on ``checkpointData``.
func checkpointSeeds() -> [TrainingCheckpoint] {
  var options = TrainingOptions()
  options.lbfgs.maxIterations = 20
  options.stochastic.epochs = 6
  options.stochastic.batchSize = 4
  var seeds: [TrainingCheckpoint] = []
  for solver in TrainingOptions.Solver.allCases {
    var variant = options
    variant.solver = solver
    variant.l2 = 0.01
    variant.standardize = solver == .gradientDescent
    if solver == .sgd { variant.stochastic.momentum = 0.5 }
    if solver == .adam { variant.stochastic.earlyStopping = EarlyStopping() }
    if solver == .lbfgs { variant.l1 = 0.001 }
    var saved: TrainingCheckpoint? = nil
    _ = try? SoftmaxClassifier.fit(
      features: checkpointData.features, labels: checkpointData.labels, classes: ["a", "b", "c"],
      options: variant, checkpoints: true
    ) { report in
      if report.iteration == 3 { saved = report.checkpoint }
      return true
    }
    if let saved { seeds.append(saved) }
  }
  return seeds
}
