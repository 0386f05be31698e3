//===--- FuzzTarget.swift -------------------------------------------------===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The libFuzzer entry point for every reader and the model loader. The
// reader under test is chosen by the environment variable
// `SOFTMAX_FUZZ_TARGET` (csv, libsvm, idx, npy, model, checkpoint, text,
// compressed);
// `Fuzz/run.sh`
// builds this with `-sanitize=fuzzer,address` and sets it.
//
// Each input is written to a file (the readers take paths, as users give
// them) and read in several ways. A thrown `DataError` or `TrainingError`
// is the right answer to a bad input; a trap, a hang or a large allocation
// is a finding.

import SoftmaxCore
import SoftmaxData
import SoftmaxRegression
import SoftmaxText
import _SoftmaxTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum FuzzedReader: String {
  case csv, libsvm, idx, npy, model, checkpoint, pipeline, resume, text, compressed
}

let fuzzedReader: FuzzedReader = {
  guard let name = getenv("SOFTMAX_FUZZ_TARGET"),
    let reader = FuzzedReader(rawValue: String(cString: name))
  else {
    fatalError(
      "set SOFTMAX_FUZZ_TARGET to csv, libsvm, idx, npy, model, checkpoint, pipeline, resume, text or compressed"
    )
  }
  return reader
}()

/// The input's file: in memory when `/dev/shm` is there, one per process.
let inputPath: String = {
  var directory = "/dev/shm"
  var status = stat()
  if stat(directory, &status) != 0 { directory = "/tmp" }
  return "\(directory)/softmax-fuzz-\(getpid())"
}()

func writeInput(_ bytes: UnsafeRawBufferPointer, suffix: String) -> String {
  write(bytes, to: inputPath + suffix)
}

@discardableResult
func write(_ bytes: UnsafeRawBufferPointer, to path: String) -> String {
  guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
  if bytes.count > 0, let base = bytes.baseAddress {
    guard fwrite(base, 1, bytes.count, file) == bytes.count else {
      fatalError("cannot write \(path)")
    }
  }
  fclose(file)
  return path
}

/// Checks a sparse data set's shapes and reads every entry.
func exercise<T: SoftmaxScalar>(_ data: SparseDataSet<T>) {
  let features = data.features
  if let labels = data.labels { precondition(labels.count == features.rows) }
  precondition(features.rowOffsets.count == features.rows + 1)
  var total = T.zero
  for i in 0..<features.rows {
    let (columns, values) = features.row(i)
    for (c, x) in zip(columns, values) {
      precondition(Int(c) < features.columns)
      total += x
    }
  }
  _ = total
}

/// Text as the command uses it: read every way, featurized three ways
/// (words and bigrams with a vocabulary, char n-grams, hashing), trained
/// briefly when labelled, and predicted.
func exerciseText(_ path: String) {
  for encoding in TextEncoding.allCases {
    _ = try? TextReader.read(path, encoding: encoding, requireLabels: false)
  }
  guard let text = try? TextReader.read(path), let labels = text.labels else { return }
  var words = TextFeatureOptions()
  words.wordNGrams = 2
  var characters = TextFeatureOptions()
  characters.characterNGrams = 1...3
  characters.termWeighting = .sublinear
  var hashed = TextFeatureOptions()
  hashed.buckets = 64
  hashed.inverseDocumentFrequency = false
  for options in [words, characters, hashed] {
    guard
      let set = try? TextTrainingSet(documents: text.documents, labels: labels, options: options)
    else { continue }
    precondition(set.features.rows == set.labels.count)
    precondition(set.features.columns == set.vectorizer.featureCount)
    var training = TrainingOptions()
    training.lbfgs.maxIterations = 3
    guard
      var model = try? SoftmaxClassifier.fit(
        features: set.features, labels: set.labels, classes: set.classes,
        sampleWeights: set.sampleWeights, options: training)
    else { continue }
    model.text = set.vectorizer
    if let probabilities = try? model.probabilities(documents: text.documents) {
      precondition(probabilities.rows == text.count)
    }
    precondition((try? ModelFile.encode(model)).flatMap { try? ModelFile.decode($0) } == model)
  }
}

/// Uses a data set the way the command does: a classifier's shapes and a
/// pass over the rows, so that a reader returning inconsistent shapes
/// traps here rather than going unnoticed.
func exercise<T: SoftmaxScalar>(_ data: DataSet<T>) {
  let features = data.features
  if let labels = data.labels { precondition(labels.count == features.rows) }
  var total = T.zero
  for i in 0..<features.rows {
    for j in 0..<features.columns { total += features[i, j] }
  }
  _ = total
}

func readAll(_ path: String) {
  switch fuzzedReader {
  case .csv:
    var lenient = CSVOptions()
    lenient.missingValues = .mean
    lenient.label = .none
    var named = CSVOptions()
    named.label = .name("y")
    named.missingValues = .skipRow
    for options in [CSVOptions(), lenient, named] {
      if let data = try? CSVReader.read(path, options: options, as: Double.self) { exercise(data) }
      if let data = try? CSVReader.read(path, options: options, as: Float.self) { exercise(data) }
    }
  case .libsvm:
    var fixed = LIBSVMOptions()
    fixed.featureCount = 8
    var ignoring = fixed
    ignoring.ignoresUnknownFeatures = true
    for options in [LIBSVMOptions(), fixed, ignoring] {
      if let data = try? LIBSVMReader.read(path, options: options, as: Double.self) {
        exercise(data)
      }
      if let data = try? LIBSVMReader.read(path, options: options, as: Float.self) {
        exercise(data)
      }
      if let data = try? LIBSVMReader.readSparse(path, options: options, as: Double.self) {
        exercise(data)
      }
    }
  case .idx:
    if let data = try? IDXReader.read(images: path, labels: nil, as: Float.self) { exercise(data) }
    if let data = try? IDXReader.read(images: path, labels: path, as: Double.self) {
      exercise(data)
    }
  case .npy:
    if let data = try? NPYReader.read(path, as: Double.self) { exercise(data) }
    if let data = try? NPYReader.read(path, labelColumn: -1, as: Float.self) { exercise(data) }
    if let data = try? NPYReader.read(path, labels: path, as: Double.self) { exercise(data) }
  case .pipeline, .resume:
    break  // in-memory targets (fuzzOneInput)
  case .text:
    exerciseText(path)
  case .compressed:
    // Whatever the magic bytes say: every reader through the decoder.
    if let format = try? DataLoader.format(of: path, given: nil) { _ = format }
    if let data = try? CSVReader.read(path, as: Double.self) { exercise(data) }
    if let data = try? LIBSVMReader.readSparse(path, as: Double.self) { exercise(data) }
    if let data = try? IDXReader.read(images: path, labels: nil, as: Float.self) { exercise(data) }
    if let data = try? NPYReader.read(path, as: Double.self) { exercise(data) }
    _ = try? TextReader.read(path, requireLabels: false)
  case .model:
    guard let bytes = try? AtomicFile.read(path),
      let model = try? ModelFile.decode(bytes)
    else { return }
    // A model that loads must predict, here two rows of ones.
    let row = Matrix<Double>(rows: 2, columns: model.featureCount, repeating: 1)
    if let probabilities = try? model.probabilities(row) {
      precondition(probabilities.rows == 2 && probabilities.columns == model.classCount)
    }
    // A model that loads is valid: it must save.
    precondition((try? ModelFile.encode(model)) != nil, "a model read cannot be written")
  case .checkpoint:
    guard let bytes = try? AtomicFile.read(path),
      let checkpoint = try? TrainingCheckpoint.decode(bytes)
    else { return }
    _ = checkpoint.encoded()
    if let model = resume(checkpoint) {
      precondition((try? ModelFile.encode(model)) != nil, "a resumed model cannot be written")
    }
  }
}

/// The fixed data set a fuzzed checkpoint is resumed on.
let checkpointData = checkpointFuzzData()

func resume(_ checkpoint: TrainingCheckpoint) -> SoftmaxClassifier? {
  let options = checkpoint.options
  // The options come from the file: skip long runs, which are not bugs.
  guard options.lbfgs.maxIterations <= 50, options.stochastic.epochs <= 50,
    options.lbfgs.maxLineSearchSteps <= 50, options.lbfgs.memory <= 50
  else { return nil }
  return try? SoftmaxClassifier.fit(
    features: checkpointData.features, labels: checkpointData.labels, classes: ["a", "b", "c"],
    options: options, resumingFrom: checkpoint)
}

/// Checkpoints of every solver on ``checkpointData`` (``checkpointSeeds()``):
/// the seed corpus of the checkpoint target (their fingerprint matches, so
/// mutations reach the resume code).
func writeCheckpointSeeds(to directory: String) {
  for (index, seed) in checkpointSeeds().enumerated() {
    _ = seed.encoded().withUnsafeBytes { write($0, to: "\(directory)/seed-\(index).json") }
  }
}

/// libFuzzer's entry point: reads one input every way `readAll` does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count)
  switch fuzzedReader {
  case .pipeline:
    runPipeline(bytes)
    return 0
  case .resume:
    runResume(bytes)
    return 0
  default:
    break
  }
  let suffix = [
    FuzzedReader.csv: ".csv", .libsvm: ".svm", .idx: ".idx", .npy: ".npy", .text: ".txt",
    .compressed: ".gz",
  ][fuzzedReader, default: ".json"]
  let path = writeInput(bytes, suffix: suffix)
  readAll(path)
  unlink(path)
  return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; it hands
// control to libFuzzer's driver, which parses libFuzzer's flags.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The executable's entry point: runs libFuzzer's driver.
@_cdecl("SoftmaxFuzz_main")
public func fuzzMain(
  _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
  var count = argc
  var arguments = argv
  if let finding = getenv("SOFTMAX_FUZZ_EXPAND"),
    let bytes = try? AtomicFile.read(String(cString: finding))
  {
    let text = bytes.withUnsafeBytes { mutatedCheckpoint($0) } ?? []
    _ = text.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
    return 0
  }
  if let directory = getenv("SOFTMAX_FUZZ_CHECKPOINT_SEEDS") {
    writeCheckpointSeeds(to: String(cString: directory))
    return 0
  }
  _ = fuzzedReader  // fail early without SOFTMAX_FUZZ_TARGET
  return runFuzzerDriver(&count, &arguments, fuzzOneInput)
}
