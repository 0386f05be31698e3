//===--- StreamingTests.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Synchronization
import Testing
import _SoftmaxTestSupport

@testable import SoftmaxCore
@testable import SoftmaxRegression

/// A matrix handed out a chunk at a time through a buffer of its own (as a
/// file's reader does: nothing aliases the matrix), counting its passes;
/// it fails from pass `failingPass` on, when given.
final class CopyingStream<Scalar: SoftmaxScalar>: RowStream, Sendable {
  let matrix: Matrix<Scalar>
  let failingPass: Int?
  private let passCount = Mutex(0)

  init(_ matrix: Matrix<Scalar>, failingPass: Int? = nil) {
    self.matrix = matrix
    self.failingPass = failingPass
  }

  var rows: Int { matrix.rows }
  var columns: Int { matrix.columns }
  var passes: Int { passCount.withLock { $0 } }

  struct Failure: Error, CustomStringConvertible {
    var description: String { "rows.npy: the file was truncated" }
  }

  func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Scalar>) throws {
    if let failingPass, passes >= failingPass { throw Failure() }
    matrix.readRows(rows, into: buffer)
  }

  func forEachChunk(
    rows chunkRows: Int, _ body: (Int, UnsafeBufferPointer<Scalar>) throws -> Void
  ) throws {
    let pass = passCount.withLock { count in
      count += 1
      return count
    }
    if let failingPass, pass >= failingPass { throw Failure() }
    try matrix.forEachChunk(rows: chunkRows) { first, elements in
      let copy = Array(elements)
      try copy.withUnsafeBufferPointer { try body(first, $0) }
    }
  }
}

@Suite("Training on streamed rows")
struct StreamingTests {
  static func digits<T: SoftmaxScalar>(_: T.Type) throws -> (Matrix<T>, [Int]) {
    let data = try LabelledData(named: "digits")
    let features = data.features
    return (
      Matrix(
        rows: features.rows, columns: features.columns,
        elements: features.elements.map { T($0) }),
      data.labels
    )
  }

  static let classes = (0..<10).map(String.init)

  /// The options each case trains with: every full-batch path (L-BFGS,
  /// OWL-QN, gradient descent), standardized or not, weighted or not, with
  /// a validation split.
  static let cases: [(String, TrainingOptions, weighted: Bool)] = {
    var lbfgs = TrainingOptions()
    lbfgs.l2 = 1e-3
    lbfgs.standardize = true
    lbfgs.lbfgs.maxIterations = 40
    var owlqn = lbfgs
    owlqn.l1 = 1e-3
    var descent = lbfgs
    descent.solver = .gradientDescent
    descent.lbfgs.maxIterations = 15
    var raw = TrainingOptions()
    raw.l2 = 1e-2
    raw.lbfgs.maxIterations = 25
    raw.classWeighting = .balanced
    var split = lbfgs
    split.heldOutFraction = 0.2
    return [
      ("L-BFGS standardized", lbfgs, false), ("OWL-QN", owlqn, true),
      ("gradient descent", descent, false), ("raw, balanced classes", raw, true),
      ("validation split", split, false),
    ]
  }()

  /// The model file of `fit` on the matrix and on the stream in chunks of
  /// `chunkRows` rows.
  static func bothModels<T: SoftmaxScalar>(
    _: T.Type, options: TrainingOptions, weighted: Bool, chunkRows: Int
  ) throws -> (inMemory: [UInt8], streamed: [UInt8], passes: Int) {
    let (features, labels) = try digits(T.self)
    let weights = weighted ? (0..<features.rows).map { Double($0 % 7 + 1) / 4 } : nil
    let inMemory = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: classes, sampleWeights: weights,
      options: options)
    let stream = CopyingStream(features)
    let streamed = try SoftmaxClassifier.fit(
      streaming: stream, labels: labels, classes: classes, sampleWeights: weights,
      options: options, chunkBytes: chunkRows * features.columns * MemoryLayout<T>.stride)
    return (try ModelFile.encode(inMemory), try ModelFile.encode(streamed), stream.passes)
  }

  @Test(
    "The streamed model is the in-memory model, byte for byte (Float, several chunk sizes)",
    arguments: cases.indices, [256, 512, 1792])
  func floatModelBytes(index: Int, chunkRows: Int) throws {
    try withStableCPULevel {
      let (name, options, weighted) = Self.cases[index]
      let (inMemory, streamed, passes) = try Self.bothModels(
        Float.self, options: options, weighted: weighted, chunkRows: chunkRows)
      #expect(inMemory == streamed, "\(name), chunks of \(chunkRows) rows")
      #expect(passes > 2, "\(name): the stream was read \(passes) times")
    }
  }

  @Test("The streamed model is the in-memory model in Double and Float16", arguments: [0, 3])
  func otherScalars(index: Int) throws {
    try withStableCPULevel {
      let (name, options, weighted) = Self.cases[index]
      let double = try Self.bothModels(
        Double.self, options: options, weighted: weighted, chunkRows: 256)
      #expect(double.inMemory == double.streamed, "\(name), Double")
      let half = try Self.bothModels(
        Float16.self, options: options, weighted: weighted, chunkRows: 512)
      #expect(half.inMemory == half.streamed, "\(name), Float16")
    }
  }

  @Test("The objective's value and gradient over a stream are the matrix's, bit for bit")
  func objectiveBits() throws {
    try withStableCPULevel {
      let (features, labels) = try Self.digits(Float.self)
      let standardization = Standardization(fitting: features)
      let inMemory = try SoftmaxRegressionObjective(
        features: features, labels: labels, classCount: 10, l2: 0.01,
        standardization: standardization)
      let streamed = try StreamedFeatures(source: CopyingStream(features), chunkRows: 768)
        .objective(
          labels: labels, classCount: 10, sampleWeights: nil, classWeights: nil, l2: 0.01, l1: 0,
          standardization: standardization, featureNames: nil)
      var generator = SplitMix64(seed: 7)
      let parameters = [Double].random(
        count: inMemory.parameterCount, in: -0.05...0.05, using: &generator)
      var expected: [Double] = []
      var got: [Double] = []
      let value = inMemory.smoothValueAndGradient(at: parameters, gradient: &expected)
      let streamedValue = streamed.smoothValueAndGradient(at: parameters, gradient: &got)
      #expect(value.bitPattern == streamedValue.bitPattern)
      #expect(expected.map(\.bitPattern) == got.map(\.bitPattern))
      #expect(inMemory.diagonalPreconditioner() == streamed.inverseHessianDiagonal())
      let all = Array(0..<features.rows)
      // Every row listed in order: 128-row blocks, as the matrix's.
      let listed = inMemory.minibatchValueAndGradient(
        rows: all, at: parameters, gradient: &expected)
      let streamedListed = streamed.minibatchValueAndGradient(
        rows: all, at: parameters, gradient: &got)
      #expect(listed.bitPattern == streamedListed.bitPattern)
      #expect(expected.map(\.bitPattern) == got.map(\.bitPattern))
      var workspace = streamed.makeWorkspace()
      #expect(
        inMemory.crossEntropy(rows: all, at: parameters).bitPattern
          == streamed.loss(rows: all, at: parameters, workspace: &workspace).bitPattern)
    }
  }

  @Test("Standardization, fingerprint and the finite check read a stream as the matrix")
  func passes() throws {
    let (features, labels) = try Self.digits(Float.self)
    let weights = (0..<features.rows).map { Double($0 % 5) }
    let streamed = StreamedFeatures(source: CopyingStream(features), chunkRows: 256)
    let fitted = try streamed.fittedStandardization(sampleWeights: weights)
    let expected = Standardization(fitting: features, sampleWeights: weights)
    #expect(fitted.mean.map(\.bitPattern) == expected.mean.map(\.bitPattern))
    #expect(fitted.scale.map(\.bitPattern) == expected.scale.map(\.bitPattern))
    #expect(
      try streamed.fingerprint(labels: labels, sampleWeights: weights)
        == DataFingerprint(features: features, labels: labels, sampleWeights: weights))
    // A selection streams the rows it names, in order.
    let rows = [3, 4, 300, 301, 1796]
    let selected = streamed.selectingRows(rows)
    var seen: [[Double]] = []
    try selected.forEachRowInDouble { _, row in seen.append(Array(row)) }
    #expect(seen == rows.map { features.row($0).map(Double.init) })
    // A NaN is named by its row and column, wherever its chunk.
    var bad = features
    bad[1000, 17] = .nan
    let error = #expect(throws: TrainingError.self) {
      try StreamedFeatures(source: CopyingStream(bad), chunkRows: 256)
        .checkFinite(featureNames: nil)
    }
    #expect(error?.code == .nonFiniteValue)
    #expect(error?.location?.row == 1000)
    #expect(error?.message.contains("row 1000, column 17") == true)
  }

  @Test("A stream that fails mid-training stops fit with its error")
  func failingStream() throws {
    let (features, labels) = try Self.digits(Float.self)
    var options = TrainingOptions()
    options.l2 = 1e-3
    // The first pass checks the values, the second sums the columns'
    // squares; the training's passes fail from the fifth.
    let error = #expect(throws: TrainingError.self) {
      try SoftmaxClassifier.fit(
        streaming: CopyingStream(features, failingPass: 5), labels: labels,
        classes: Self.classes, options: options, chunkBytes: 1 << 16)
    }
    #expect(error?.code == .unreadableData)
    #expect(error?.message == "rows.npy: the file was truncated")
  }

  @Test("Hidden layers are refused for streamed rows")
  func refusals() throws {
    let (features, labels) = try Self.digits(Float.self)
    var options = TrainingOptions()
    options.hidden = .init(widths: [8], activation: .relu)
    let error = #expect(throws: TrainingError.self) {
      try SoftmaxClassifier.fit(
        streaming: features, labels: labels, classes: Self.classes, options: options)
    }
    #expect(error?.code == .invalidOption)
  }

  /// Minibatch options: SGD with momentum, Adam with early stopping and a
  /// cosine schedule, SGD with L1 and weights.
  static let minibatchCases: [(String, TrainingOptions, weighted: Bool)] = {
    var sgd = TrainingOptions()
    sgd.solver = .sgd
    sgd.standardize = true
    sgd.l2 = 1e-3
    sgd.stochastic.epochs = 4
    sgd.stochastic.batchSize = 100
    sgd.stochastic.momentum = 0.9
    sgd.stochastic.learningRate = 0.05
    var adam = TrainingOptions()
    adam.solver = .adam
    adam.standardize = true
    adam.stochastic.epochs = 6
    adam.stochastic.batchSize = 300
    adam.stochastic.schedule = .cosine
    var early = EarlyStopping()
    early.validationFraction = 0.15
    early.patience = 2
    adam.stochastic.earlyStopping = early
    var lasso = sgd
    lasso.l1 = 1e-4
    lasso.classWeighting = .balanced
    return [
      ("SGD momentum", sgd, false), ("Adam early stopping", adam, false), ("SGD L1", lasso, true),
    ]
  }()

  @Test(
    "SGD and Adam on a stream give the in-memory model with the same chunked shuffle, byte for byte",
    arguments: minibatchCases.indices, [256, 768])
  func minibatch(index: Int, chunkRows: Int) throws {
    try withStableCPULevel {
      let (name, options, weighted) = Self.minibatchCases[index]
      let (features, labels) = try Self.digits(Float.self)
      let weights = weighted ? (0..<features.rows).map { Double($0 % 7 + 1) / 4 } : nil
      var inMemoryOptions = options
      inMemoryOptions.stochastic.shuffleChunkRows = chunkRows
      let inMemory = try SoftmaxClassifier.fit(
        features: features, labels: labels, classes: Self.classes, sampleWeights: weights,
        options: inMemoryOptions)
      let stream = CopyingStream(features)
      let streamed = try SoftmaxClassifier.fit(
        streaming: stream, labels: labels, classes: Self.classes, sampleWeights: weights,
        options: options, chunkBytes: chunkRows * features.columns * 4)
      #expect(
        try ModelFile.encode(inMemory) == ModelFile.encode(streamed),
        "\(name), chunks of \(chunkRows)")
      #expect(streamed.training?.options.stochastic.shuffleChunkRows == chunkRows)
    }
  }

  @Test("A streamed SGD run stopped and resumed from its checkpoint gives the uninterrupted model")
  func minibatchResume() throws {
    try withStableCPULevel {
      let (features, labels) = try Self.digits(Float.self)
      let options = Self.minibatchCases[0].1
      let whole = try SoftmaxClassifier.fit(
        streaming: CopyingStream(features), labels: labels, classes: Self.classes, options: options,
        chunkBytes: 1 << 16)
      var saved: TrainingCheckpoint? = nil
      _ = try SoftmaxClassifier.fit(
        streaming: CopyingStream(features), labels: labels, classes: Self.classes, options: options,
        chunkBytes: 1 << 16, checkpoints: true
      ) { report in
        saved = report.checkpoint
        return report.iteration < 2
      }
      let checkpoint = try #require(saved)
      let resumed = try SoftmaxClassifier.fit(
        streaming: CopyingStream(features), labels: labels, classes: Self.classes, options: options,
        chunkBytes: 1 << 16, resumingFrom: checkpoint)
      #expect(resumed.parameters == whole.parameters)
    }
  }

  @Test("The chunked shuffle: a permutation that mixes rows only within their chunks, seeded")
  func chunkShuffle() {
    let rows = (0..<1000).filter { $0 % 7 != 3 }
    var generator = SplitMix64(seed: 11)
    let order = MinibatchTraining<SoftmaxRegressionObjective<Float>>.chunkShuffled(
      rows, chunkRows: 128, using: &generator)
    #expect(order.sorted() == rows)
    // Consecutive runs of one chunk each, every chunk once.
    var runs: [Int] = []
    for row in order where runs.last != row / 128 { runs.append(row / 128) }
    #expect(runs.sorted() == Array(0..<8))
    #expect(runs != Array(0..<8), "the chunks' order is shuffled")
    #expect(order != rows, "the rows are shuffled")
    var again = SplitMix64(seed: 11)
    #expect(
      MinibatchTraining<SoftmaxRegressionObjective<Float>>.chunkShuffled(
        rows, chunkRows: 128, using: &again) == order)
  }
}
