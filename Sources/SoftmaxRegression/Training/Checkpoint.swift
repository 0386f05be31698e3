//===--- Checkpoint.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An optimizer's state between two iterations.
enum SolverState: Sendable, Hashable, Codable {
  case lbfgs(state: LBFGSState)
  case gradientDescent(state: GradientDescentState)
  case stochastic(state: StochasticState)
  case newton(state: TrustRegionNewtonState)

  var lbfgs: LBFGSState? {
    if case .lbfgs(let state) = self { return state }
    return nil
  }

  var gradientDescent: GradientDescentState? {
    if case .gradientDescent(let state) = self { return state }
    return nil
  }

  var stochastic: StochasticState? {
    if case .stochastic(let state) = self { return state }
    return nil
  }

  var newton: TrustRegionNewtonState? {
    if case .newton(let state) = self { return state }
    return nil
  }

  /// What is inconsistent in a state read from a file, for `n`
  /// parameters and `rows` training rows; `nil` when it can be resumed.
  /// (A checkpoint is a file: a damaged one must be an error, not a trap.)
  /// Vectors must have their lengths and finite values; counters must be
  /// in their ranges.
  func problem(parameterCount n: Int, rows: Int, options: TrainingOptions) -> String? {
    func vector(_ name: String, _ values: [Double], _ count: Int) -> String? {
      guard values.count == count else { return "\(name) has \(values.count) values, not \(count)" }
      if let bad = values.firstIndex(where: { !$0.isFinite }) {
        return "\(name)[\(bad)] = \(values[bad]) is not finite"
      }
      return nil
    }
    func number(_ name: String, _ value: Double) -> String? {
      value.isFinite ? nil : "\(name) = \(value) is not finite"
    }
    func counter(_ name: String, _ value: Int, atMost limit: Int = 1 << 53) -> String? {
      value >= 0 && value <= limit ? nil : "\(name) = \(value) is out of 0...\(limit)"
    }
    var problems: [String?] = []
    switch self {
    case .lbfgs(let state):
      problems = [
        vector("x", state.x, n), vector("g", state.g, n), number("f", state.f),
        counter("iteration", state.iteration, atMost: max(options.lbfgs.maxIterations, 0)),
        counter("evaluations", state.evaluations),
        state.s.count == state.y.count && state.y.count == state.rho.count
          && state.s.count <= options.lbfgs.memory
          ? nil
          : "\(state.s.count) s, \(state.y.count) y and \(state.rho.count) ρ correction values",
        state.rho.allSatisfy { $0 > 0 && $0.isFinite } ? nil : "a ρ is not finite and positive",
      ]
      problems += state.s.map { vector("s", $0, n) } + state.y.map { vector("y", $0, n) }
    case .gradientDescent(let state):
      problems = [
        vector("x", state.x, n), vector("g", state.g, n), number("f", state.f),
        state.step > 0 && state.step.isFinite ? nil : "the step \(state.step) is not positive",
        counter("iteration", state.iteration, atMost: max(options.lbfgs.maxIterations, 0)),
        counter("evaluations", state.evaluations),
      ]
    case .newton(let state):
      problems = [
        vector("x", state.x, n), vector("g", state.g, n), number("f", state.f),
        state.radius > 0 && state.radius.isFinite
          ? nil : "the trust radius \(state.radius) is not positive",
        counter("iteration", state.iteration, atMost: max(options.lbfgs.maxIterations, 0)),
        counter("evaluations", state.evaluations),
      ]
    case .stochastic(let state):
      let adam = options.solver == .adam
      problems = [
        vector("x", state.x, n), vector("velocity", state.velocity, n),
        vector("second", state.second, adam ? n : 0),
        state.second.allSatisfy { $0 >= 0 } ? nil : "a second moment is negative",
        vector("best parameters", state.bestParameters, n),
        state.bestLoss.isNaN || state.bestLoss < 0
          ? "the best loss \(state.bestLoss) is not ≥ 0" : nil,
        counter("epoch", state.epoch, atMost: max(options.stochastic.epochs, 0)),
        counter("step", state.step),
        counter("epochs without improvement", state.epochsWithoutImprovement),
        state.order.count <= rows && Set(state.order).count == state.order.count
          && state.order.allSatisfy { $0 >= 0 && $0 < rows }
          ? nil : "the row order is not a set of distinct rows below \(rows)",
      ]
    }
    return problems.compactMap { $0 }.first
  }
}

/// Training stopped after an iteration (or epoch), with everything needed
/// to go on exactly as if it had not stopped: the optimizer's whole state
/// (point, gradient, L-BFGS's correction pairs, momentum and Adam's
/// moments, the shuffle's generator and row order, early stopping's
/// record), the histories, the standardization, the options, and a
/// fingerprint of the data.
///
/// Resuming (``SoftmaxClassifier/fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)-(Matrix<T>,_,_,_,_,_,_,_,_,_)``
/// with `resumingFrom:`) on the same data and options gives the model the
/// uninterrupted run gives, bit for bit. A checkpoint's file (``encoded()``,
/// JSON) holds every `Double` in its shortest round-tripping form.
///
/// Size: the parameters a few times over, plus `2·memory` vectors of them
/// for L-BFGS and the row order for the minibatch solvers.
public struct TrainingCheckpoint: Sendable, Hashable {
  /// Iterations (or epochs) done.
  public var iteration: Int {
    switch content.solver {
    case .lbfgs(let state): return state.iteration
    case .gradientDescent(let state): return state.iteration
    case .newton(let state): return state.iteration
    case .stochastic(let state): return state.epoch
    }
  }
  /// The training options it was made with.
  public var options: TrainingOptions { content.options }

  var content: Content

  struct Content: Sendable, Hashable, Codable {
    var format: String
    var version: Int
    var options: TrainingOptions
    var classes: [String]
    var featureNames: [String]?
    var data: DataFingerprint
    var standardization: Standardization?
    var objectiveHistory: [Double]
    var solver: SolverState
    /// The held-out losses so far of a full-batch run that holds rows out.
    var validationHistory: [Double]? = nil
  }

  /// The format name in every checkpoint file.
  public static let formatName = "swift-softmax-checkpoint"
  /// The version this build writes and the newest it reads.
  public static let currentVersion = 1

  /// The checkpoint as JSON (sorted keys, a newline at the end); write it
  /// with SoftmaxData's `AtomicFile`, whole or not at all.
  public func encoded() -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    // Every field encodes (non-finite values become strings), so this
    // does not throw; if it ever did, that would be a programmer error.
    do {
      return Array(try encoder.encode(content)) + [0x0A]
    } catch {
      fatalError("a checkpoint failed to encode: \(error)")
    }
  }

  /// Reads a checkpoint from the bytes of its file.
  ///
  /// - Throws: ``TrainingError/Code/invalidModel`` for a file that is not
  ///   a checkpoint, from a newer version, or damaged.
  public static func decode(_ bytes: [UInt8]) throws(TrainingError) -> TrainingCheckpoint {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    struct Header: Decodable {
      var format: String
      var version: Int
    }
    guard let header = try? decoder.decode(Header.self, from: Data(bytes)),
      header.format == formatName
    else {
      throw TrainingError(.invalidModel, "not a training checkpoint (\(formatName))")
    }
    guard header.version <= currentVersion else {
      throw TrainingError(
        .invalidModel,
        "the checkpoint has format version \(header.version), newer than this build reads "
          + "(\(currentVersion))")
    }
    do {
      return TrainingCheckpoint(content: try decoder.decode(Content.self, from: Data(bytes)))
    } catch {
      throw TrainingError(.invalidModel, "a damaged checkpoint: \(error)")
    }
  }
}

/// What identifies a training set: its shape, classes, and a 64-bit hash of
/// every feature's bits, label and sample weight, so that a checkpoint is
/// not resumed on other data.
struct DataFingerprint: Sendable, Hashable, Codable {
  var rows: Int
  var features: Int
  var hash: String

  /// A fingerprint from its parts.
  init(rows: Int, features: Int, hash: String) {
    self.rows = rows
    self.features = features
    self.hash = hash
  }

  init<T: SoftmaxScalar>(features: Matrix<T>, labels: [Int], sampleWeights: [Double]?) {
    self.init(
      rows: features.rows, columns: features.columns, labels: labels,
      sampleWeights: sampleWeights
    ) { body in features.forEachRowInDouble(body) }
  }

  /// The fingerprint of dense rows that `forEachRow` reads in order (a
  /// matrix, or a stream: the same rows give the same fingerprint).
  init<E: Error>(
    rows: Int, columns: Int, labels: [Int], sampleWeights: [Double]?,
    forEachRow: (_ body: (Int, UnsafeBufferPointer<Double>) -> Void) throws(E) -> Void
  ) throws(E) {
    self.rows = rows
    self.features = columns
    var h: UInt64 = 0x6A09_E667_F3BC_C908
    func mix(_ word: UInt64) {
      // A SplitMix64 step per word: every bit of every word reaches the
      // hash. Not cryptographic; it catches another file, not an attack.
      h = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
      h ^= h >> 29
    }
    try forEachRow { _, row in
      for value in row { mix(value.bitPattern) }
    }
    for label in labels { mix(UInt64(bitPattern: Int64(label))) }
    for weight in sampleWeights ?? [] { mix(weight.bitPattern) }
    hash = String(h, radix: 16)
  }

  /// The fingerprint of sparse data: its row offsets, column indices and
  /// values (the same data stored dense has another fingerprint).
  init<T: SoftmaxScalar>(features: SparseMatrix<T>, labels: [Int], sampleWeights: [Double]?) {
    self.init(
      sparseRows: features.rows, columns: features.columns, labels: labels,
      sampleWeights: sampleWeights
    ) { body in body(0, features) }
  }

  /// The fingerprint of sparse rows that `forEachChunk` passes in order
  /// (`body(firstRow, chunk)`; a matrix in one chunk, or a stream): the
  /// same rows give the same fingerprint. Three passes: the offsets, the
  /// columns, the values.
  init<T: SoftmaxScalar, E: Error>(
    sparseRows rows: Int, columns: Int, labels: [Int], sampleWeights: [Double]?,
    forEachChunk: (_ body: (Int, SparseMatrix<T>) -> Void) throws(E) -> Void
  ) throws(E) {
    self.rows = rows
    self.features = columns
    var h: UInt64 = 0xBB67_AE85_84CA_A73B
    func mix(_ word: UInt64) {
      h = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
      h ^= h >> 29
    }
    // The offsets of all the rows, as one matrix's.
    mix(0)
    var entriesBefore = 0
    try forEachChunk { _, chunk in
      for offset in chunk.rowOffsets.dropFirst() { mix(UInt64(entriesBefore + offset)) }
      entriesBefore += chunk.nonZeroCount
    }
    try forEachChunk { _, chunk in
      for column in chunk.columnIndices { mix(UInt64(UInt32(bitPattern: column))) }
    }
    try forEachChunk { _, chunk in
      for value in chunk.values { mix(Double(value).bitPattern) }
    }
    for label in labels { mix(UInt64(bitPattern: Int64(label))) }
    for weight in sampleWeights ?? [] { mix(weight.bitPattern) }
    hash = String(h, radix: 16)
  }
}
