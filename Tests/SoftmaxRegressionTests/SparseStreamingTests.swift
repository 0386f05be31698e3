//===--- SparseStreamingTests.swift ---------------------------*- swift -*-===//
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

/// A sparse matrix handed out a chunk at a time as fresh copies (as a
/// file's reader does), counting its passes; it fails from pass
/// `failingPass` on, when given.
final class CopyingSparseStream<Scalar: SoftmaxScalar>: SparseRowStream, Sendable {
  let matrix: SparseMatrix<Scalar>
  let failingPass: Int?
  private let passCount = Mutex(0)

  init(_ matrix: SparseMatrix<Scalar>, failingPass: Int? = nil) {
    self.matrix = matrix
    self.failingPass = failingPass
  }

  var rows: Int { matrix.rows }
  var columns: Int { matrix.columns }
  var nonZeroCount: Int { matrix.nonZeroCount }
  var passes: Int { passCount.withLock { $0 } }

  struct Failure: Error, CustomStringConvertible {
    var description: String { "news20.svm: the file changed while training read it" }
  }

  func forEachChunk(rows chunkRows: Int, _ body: (Int, SparseMatrix<Scalar>) throws -> Void)
    throws
  {
    let pass = passCount.withLock { count in
      count += 1
      return count
    }
    if let failingPass, pass >= failingPass { throw Failure() }
    var first = 0
    while first < rows {
      let end = min(rows, first + chunkRows)
      try body(first, matrix.rows(first..<end))
      first = end
    }
  }

  func readRows(_ rows: Range<Int>) throws -> SparseMatrix<Scalar> {
    if let failingPass, passes >= failingPass { throw Failure() }
    return matrix.rows(rows)
  }
}

@Suite("Training on streamed sparse rows")
struct SparseStreamingTests {
  /// Digits stored sparse (about half of the pixels are 0), with its 10
  /// classes or folded into 3 (the objective in memory reads its copy of
  /// the entries by column from 5 classes on, and scatters rows below).
  static func digits<T: SoftmaxScalar>(_: T.Type, classes: Int = 10) throws -> (
    SparseMatrix<T>, [Int]
  ) {
    let data = try LabelledData(named: "digits")
    let features = data.features
    let dense = Matrix(
      rows: features.rows, columns: features.columns, elements: features.elements.map { T($0) })
    return (SparseMatrix(dense), data.labels.map { $0 % classes })
  }

  /// The options each case trains with: every full-batch path (L-BFGS,
  /// OWL-QN, gradient descent), scaled or not, weighted or not, with a
  /// validation split.
  static let cases: [(String, TrainingOptions, weighted: Bool, classes: Int)] = {
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
      ("L-BFGS scaled", lbfgs, false, 10), ("OWL-QN", owlqn, true, 10),
      ("gradient descent, 3 classes", descent, false, 3),
      ("raw, balanced classes, 3 classes", raw, true, 3), ("validation split", split, false, 10),
    ]
  }()

  /// The model files of `fit` on the matrix and on the stream in chunks of
  /// `chunkRows` rows, and the stream's passes.
  static func bothModels<T: SoftmaxScalar>(
    _: T.Type, case index: Int, chunkRows: Int
  ) throws -> (inMemory: [UInt8], streamed: [UInt8], passes: Int) {
    let (_, options, weighted, k) = cases[index]
    let (features, labels) = try digits(T.self, classes: k)
    let classes = (0..<k).map(String.init)
    let weights = weighted ? (0..<features.rows).map { Double($0 % 7 + 1) / 4 } : nil
    let inMemory = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: classes, sampleWeights: weights,
      options: options)
    let stream = CopyingSparseStream(features)
    // The budget of `chunkRows` rows at the stream's average entries.
    let rowBytes =
      8 + (4 + MemoryLayout<T>.stride) * (features.nonZeroCount / features.rows)
    let streamed = try SoftmaxClassifier.fit(
      streaming: stream, labels: labels, classes: classes, sampleWeights: weights,
      options: options, chunkBytes: chunkRows * rowBytes)
    return (try ModelFile.encode(inMemory), try ModelFile.encode(streamed), stream.passes)
  }

  @Test(
    "The streamed model is the in-memory model, byte for byte (several chunk sizes)",
    arguments: cases.indices, [256, 512, 1792])
  func modelBytes(index: Int, chunkRows: Int) throws {
    let (inMemory, streamed, passes) = try Self.bothModels(
      Float.self, case: index, chunkRows: chunkRows)
    #expect(inMemory == streamed, "\(Self.cases[index].0), chunks of \(chunkRows) rows")
    #expect(passes > 2, "the stream was read \(passes) times")
  }

  @Test("Double and Float16: the in-memory model", arguments: [0, 3])
  func otherScalars(index: Int) throws {
    let double = try Self.bothModels(Double.self, case: index, chunkRows: 256)
    #expect(double.inMemory == double.streamed, "\(Self.cases[index].0), Double")
    let half = try Self.bothModels(Float16.self, case: index, chunkRows: 512)
    #expect(half.inMemory == half.streamed, "\(Self.cases[index].0), Float16")
  }

  @Test(
    "The objective over a stream is the matrix's, bit for bit, for 1, 2 and 3 threads",
    arguments: [10, 3])
  func objectiveBits(classes k: Int) throws {
    let (features, labels) = try Self.digits(Double.self, classes: k)
    let scaling = Standardization(scaling: features)
    let weights = (0..<features.rows).map { Double($0 % 5) }
    let inMemory = try SparseSoftmaxRegressionObjective(
      features: features, labels: labels, classCount: k, sampleWeights: weights, l2: 0.01,
      standardization: scaling)
    var generator = SplitMix64(seed: 11)
    let parameters = [Double].random(
      count: inMemory.parameterCount, in: -0.05...0.05, using: &generator)
    var expected: [Double] = []
    let value = inMemory.smoothValueAndGradient(at: parameters, gradient: &expected)
    let all = Array(0..<features.rows)
    var expectedListed: [Double] = []
    let listed = inMemory.minibatchValueAndGradient(
      rows: all, at: parameters, gradient: &expectedListed)
    let batch = [5, 1790, 3, 3, 600, 257]
    var expectedBatch: [Double] = []
    let batchValue = inMemory.minibatchValueAndGradient(
      rows: batch, at: parameters, gradient: &expectedBatch)
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    for threads in [1, 2, 3] {
      SoftmaxConfiguration.threadCount = threads
      do {
        let streamed = try StreamedSparseFeatures(
          source: CopyingSparseStream(features), chunkRows: 768
        ).objective(
          labels: labels, classCount: k, sampleWeights: weights, classWeights: nil, l2: 0.01,
          l1: 0, standardization: scaling, featureNames: nil)
        var got: [Double] = []
        let streamedValue = streamed.smoothValueAndGradient(at: parameters, gradient: &got)
        #expect(value.bitPattern == streamedValue.bitPattern, "\(threads) threads")
        #expect(expected.map(\.bitPattern) == got.map(\.bitPattern), "\(threads) threads")
        #expect(inMemory.inverseHessianDiagonal() == streamed.inverseHessianDiagonal())
        let streamedListed = streamed.minibatchValueAndGradient(
          rows: all, at: parameters, gradient: &got)
        #expect(listed.bitPattern == streamedListed.bitPattern)
        #expect(expectedListed.map(\.bitPattern) == got.map(\.bitPattern))
        // Rows out of order and repeated: gathered from one pass.
        let streamedBatch = streamed.minibatchValueAndGradient(
          rows: batch, at: parameters, gradient: &got)
        #expect(batchValue.bitPattern == streamedBatch.bitPattern)
        #expect(expectedBatch.map(\.bitPattern) == got.map(\.bitPattern))
      }
    }
  }

  @Test("Scaling, fingerprint, a selection and the finite check read a stream as the matrix")
  func passes() throws {
    let (features, labels) = try Self.digits(Float.self)
    let weights = (0..<features.rows).map { Double($0 % 5) }
    let streamed = StreamedSparseFeatures(source: CopyingSparseStream(features), chunkRows: 256)
    let fitted = try streamed.fittedStandardization(sampleWeights: weights)
    let expected = Standardization(scaling: features, sampleWeights: weights)
    #expect(fitted.mean.map(\.bitPattern) == expected.mean.map(\.bitPattern))
    #expect(fitted.scale.map(\.bitPattern) == expected.scale.map(\.bitPattern))
    #expect(
      try streamed.fingerprint(labels: labels, sampleWeights: weights)
        == DataFingerprint(features: features, labels: labels, sampleWeights: weights))
    // A selection streams the rows it names, in order, in whole chunks.
    let rows = Array(stride(from: 1, to: 1797, by: 3))
    var builder = SparseMatrix<Float>.Builder(columns: features.columns)
    var firsts: [Int] = []
    try streamed.selectingRows(rows).forEachChunk { first, chunk in
      firsts.append(first)
      for r in 0..<chunk.rows {
        let (columns, values) = chunk.row(r)
        for (c, v) in zip(columns, values) { builder.append(column: Int(c), value: v) }
        builder.endRow()
      }
    }
    #expect(builder.matrix == features.selectingRows(rows))
    #expect(firsts == [0, 256, 512])
    // A NaN is named by its row and column, wherever its chunk.
    var builderWithNaN = SparseMatrix<Float>.Builder(columns: 4)
    for r in 0..<600 {
      builderWithNaN.append(column: r % 4, value: r == 517 ? .nan : 1)
      builderWithNaN.endRow()
    }
    let error = #expect(throws: TrainingError.self) {
      try StreamedSparseFeatures(
        source: CopyingSparseStream(builderWithNaN.matrix), chunkRows: 256
      ).checkFinite(featureNames: nil)
    }
    #expect(error?.code == .nonFiniteValue)
    #expect(error?.location?.row == 517)
    #expect(error?.message.contains("row 517, feature 1:") == true)
  }

  @Test("A checkpoint made in memory resumes on the stream to the uninterrupted model")
  func checkpointResumes() throws {
    let (features, labels) = try Self.digits(Float.self)
    let classes = (0..<10).map(String.init)
    var options = TrainingOptions()
    options.l2 = 1e-3
    options.lbfgs.maxIterations = 30
    let uninterrupted = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: classes, options: options)
    var saved: TrainingCheckpoint? = nil
    _ = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: classes, options: options, checkpoints: true
    ) { report in
      if report.iteration == 12 { saved = report.checkpoint }
      return report.iteration < 12
    }
    let checkpoint = try #require(saved)
    let resumed = try SoftmaxClassifier.fit(
      streaming: CopyingSparseStream(features), labels: labels, classes: classes,
      options: options, chunkBytes: 1 << 16, resumingFrom: checkpoint)
    #expect(try ModelFile.encode(resumed) == ModelFile.encode(uninterrupted))
  }

  @Test("Evaluating a stream gives the matrix's metrics")
  func evaluation() throws {
    let (features, labels) = try Self.digits(Float.self)
    var options = TrainingOptions()
    options.lbfgs.maxIterations = 10
    let model = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: (0..<10).map(String.init), options: options)
    let expected = try model.evaluate(features: features, labels: labels, topK: 3)
    let streamed = try model.evaluate(
      streaming: CopyingSparseStream(features), labels: labels, topK: 3, chunkBytes: 1 << 14)
    #expect(streamed == expected)
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
        streaming: CopyingSparseStream(features, failingPass: 5), labels: labels,
        classes: (0..<10).map(String.init), options: options, chunkBytes: 1 << 16)
    }
    #expect(error?.code == .unreadableData)
    #expect(error?.message == "news20.svm: the file changed while training read it")
  }

  /// Minibatch options: SGD with momentum and L1, Adam with early
  /// stopping and weights.
  static let minibatchCases: [(String, TrainingOptions, weighted: Bool)] = {
    var sgd = TrainingOptions()
    sgd.solver = .sgd
    sgd.standardize = true
    sgd.l2 = 1e-3
    sgd.l1 = 1e-5
    sgd.stochastic.epochs = 3
    sgd.stochastic.batchSize = 100
    sgd.stochastic.momentum = 0.9
    sgd.stochastic.learningRate = 0.05
    var adam = TrainingOptions()
    adam.solver = .adam
    adam.stochastic.epochs = 4
    adam.stochastic.batchSize = 300
    var early = EarlyStopping()
    early.validationFraction = 0.15
    early.patience = 2
    adam.stochastic.earlyStopping = early
    return [("SGD momentum L1", sgd, false), ("Adam early stopping, weighted", adam, true)]
  }()

  @Test(
    "Streamed SGD and Adam are in-memory SGD and Adam with the stream's chunked shuffle",
    arguments: minibatchCases.indices, [256, 768])
  func minibatch(index: Int, chunkRows: Int) throws {
    let (name, options, weighted) = Self.minibatchCases[index]
    let (features, labels) = try Self.digits(Float.self)
    let classes = (0..<10).map(String.init)
    let weights = weighted ? (0..<features.rows).map { Double($0 % 7 + 1) / 4 } : nil
    var inMemoryOptions = options
    inMemoryOptions.stochastic.shuffleChunkRows = chunkRows
    let inMemory = try SoftmaxClassifier.fit(
      features: features, labels: labels, classes: classes, sampleWeights: weights,
      options: inMemoryOptions)
    let rowBytes = 8 + 8 * (features.nonZeroCount / features.rows)
    let streamed = try SoftmaxClassifier.fit(
      streaming: CopyingSparseStream(features), labels: labels, classes: classes,
      sampleWeights: weights, options: options, chunkBytes: chunkRows * rowBytes)
    #expect(
      try ModelFile.encode(inMemory) == ModelFile.encode(streamed),
      "\(name), chunks of \(chunkRows) rows")
  }

  @Test("Hidden layers are refused for streamed sparse rows")
  func refusals() throws {
    let (features, labels) = try Self.digits(Float.self)
    var options = TrainingOptions()
    options.hidden = .init(widths: [8], activation: .relu)
    let error = #expect(throws: TrainingError.self) {
      try SoftmaxClassifier.fit(
        streaming: features, labels: labels, classes: (0..<10).map(String.init),
        options: options)
    }
    #expect(error?.code == .invalidOption)
  }
}
