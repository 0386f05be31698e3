//===--- DistributedTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import Testing
import _SoftmaxTestSupport

@testable import SoftmaxCore
@testable import SoftmaxRegression

/// Members of a group as threads of this process: each collective waits
/// for every member, then hands each the element-wise sum or maximum
/// (combined in arrival order: integer sums and maxima do not depend on
/// it). State guarded by `condition`.
final class ThreadGroup: @unchecked Sendable {
  let size: Int
  private let condition = NSCondition()
  private var sums: [Int64] = []
  private var maxima: [Double] = []
  private var arrived = 0
  private var generation = 0
  private var doneSums: [Int64] = []
  private var doneMaxima: [Double] = []

  init(size: Int) { self.size = size }

  struct Member: Communicator {
    let group: ThreadGroup
    let rank: Int
    var size: Int { group.size }

    func allReduceSum(_ values: inout [Int64]) throws { values = group.sum(values) }
    func allReduceMax(_ values: inout [Double]) throws { values = group.maximum(values) }
  }

  func member(_ rank: Int) -> Member { Member(group: self, rank: rank) }

  func sum(_ values: [Int64]) -> [Int64] {
    condition.lock()
    defer { condition.unlock() }
    sums = arrived == 0 ? values : zip(sums, values).map { $0 &+ $1 }
    arrive()
    return doneSums
  }

  func maximum(_ values: [Double]) -> [Double] {
    condition.lock()
    defer { condition.unlock() }
    maxima = arrived == 0 ? values : zip(maxima, values).map { max($0, $1) }
    arrive()
    return doneMaxima
  }

  /// Counts this member in; the last one publishes and wakes the others.
  private func arrive() {
    arrived += 1
    let mine = generation
    if arrived == size {
      doneSums = sums
      doneMaxima = maxima
      arrived = 0
      generation += 1
      condition.broadcast()
    } else {
      while generation == mine { condition.wait() }
    }
  }
}

/// The last checkpoint a member reported.
final class SavedCheckpoint: Sendable {
  let value = Mutex<TrainingCheckpoint?>(nil)
}

@Suite("Training split between processes", .serialized)
struct DistributedTests {
  static let classes = (0..<10).map(String.init)

  /// digits ten times, each copy scaled differently: 17,970 rows, four
  /// superblocks of 4096 and a part of one.
  static func data() throws -> (Matrix<Float>, [Int]) {
    let data = try LabelledData(named: "digits")
    let elements = data.features.elements.map { Float($0) }
    var all: [Float] = []
    for copy in 0..<10 { all += elements.map { $0 * (1 + Float(copy) / 10) } }
    return (
      Matrix(rows: 10 * data.features.rows, columns: data.features.columns, elements: all),
      Array((0..<10).map { _ in data.labels }.joined())
    )
  }

  /// The models every member of a group of `size` trains, each on its
  /// share, on threads of their own.
  static func models(
    size: Int, options: TrainingOptions, resumingFrom checkpoint: TrainingCheckpoint? = nil,
    stopAfter: Int? = nil, saved: SavedCheckpoint? = nil
  ) throws -> [SoftmaxClassifier] {
    let (features, labels) = try data()
    let group = ThreadGroup(size: size)
    let results = Mutex([Int: Result<SoftmaxClassifier, TrainingError>]())
    let threads = (0..<size).map { rank in
      Thread {
        let share = SoftmaxClassifier.distributedShare(
          rows: features.rows, rank: rank, size: size)
        let rows = features.selectingRows(Array(share))
        let result = Result { () throws(TrainingError) -> SoftmaxClassifier in
          try SoftmaxClassifier.fit(
            distributed: rows, labels: Array(labels[share]), classes: classes,
            communicator: group.member(rank), options: options, chunkBytes: 1 << 16,
            resumingFrom: checkpoint, checkpoints: saved != nil
          ) { report in
            if rank == 0, let saved { saved.value.withLock { $0 = report.checkpoint } }
            return stopAfter.map { report.iteration < $0 } ?? true
          }
        }
        results.withLock { $0[rank] = result }
      }
    }
    for thread in threads {
      thread.stackSize = 8 << 20
      thread.start()
    }
    while results.withLock({ $0.count }) < size { usleep(1000) }
    return try (0..<size).map { rank in
      try #require(results.withLock { $0[rank] }).get()
    }
  }

  static let cases: [(String, TrainingOptions)] = {
    var plain = TrainingOptions()
    plain.l2 = 1e-3
    plain.lbfgs.maxIterations = 40
    var standardized = plain
    standardized.standardize = true
    standardized.classWeighting = .balanced
    var lasso = standardized
    lasso.l1 = 1e-3
    return [("plain", plain), ("standardized, balanced", standardized), ("OWL-QN", lasso)]
  }()

  @Test(
    "1, 2, 3, 4 and 6 members train the same model, byte for byte (6: one with no rows)",
    arguments: cases.indices)
  func sameModel(index: Int) throws {
    try withStableCPULevel {
      let (name, options) = Self.cases[index]
      var files: [[UInt8]] = []
      for size in [1, 2, 3, 4, 6] {
        let models = try Self.models(size: size, options: options)
        let encoded = try models.map { try ModelFile.encode($0) }
        #expect(Set(encoded).count == 1, "\(name): the \(size) members disagree")
        files.append(encoded[0])
      }
      #expect(Set(files).count == 1, "\(name): the model depends on the member count")
      // Near the single-process optimum (another summation, the same function).
      let (features, labels) = try Self.data()
      let single = try SoftmaxClassifier.fit(
        features: features, labels: labels, classes: Self.classes, options: options)
      let distributed = try Self.models(size: 2, options: options)[0]
      let objective = try #require(distributed.training?.objective)
      let reference = try #require(single.training?.objective)
      #expect(abs(objective - reference) <= 1e-9 * reference, "\(name)")
    }
  }

  /// Minibatch options: SGD with momentum and L1 (batches of 100 rows,
  /// some within one superblock, some across two), Adam with early
  /// stopping and balanced classes.
  static let minibatchCases: [(String, TrainingOptions)] = {
    var sgd = TrainingOptions()
    sgd.solver = .sgd
    sgd.standardize = true
    sgd.l2 = 1e-3
    sgd.l1 = 1e-5
    sgd.stochastic.epochs = 2
    sgd.stochastic.batchSize = 100
    sgd.stochastic.momentum = 0.9
    sgd.stochastic.learningRate = 0.02
    var adam = TrainingOptions()
    adam.solver = .adam
    adam.standardize = true
    adam.classWeighting = .balanced
    adam.stochastic.epochs = 3
    adam.stochastic.batchSize = 700
    adam.stochastic.learningRate = 0.01
    var early = EarlyStopping()
    early.validationFraction = 0.1
    early.patience = 1
    adam.stochastic.earlyStopping = early
    return [("SGD momentum L1", sgd), ("Adam early stopping", adam)]
  }()

  @Test(
    "SGD and Adam: 1, 2, 3 and 4 members train the same model, byte for byte",
    arguments: minibatchCases.indices)
  func sameMinibatchModel(index: Int) throws {
    try withStableCPULevel {
      let (name, options) = Self.minibatchCases[index]
      var files: [[UInt8]] = []
      for size in [1, 2, 3, 4] {
        let models = try Self.models(size: size, options: options)
        let encoded = try models.map { try ModelFile.encode($0) }
        #expect(Set(encoded).count == 1, "\(name): the \(size) members disagree")
        files.append(encoded[0])
      }
      #expect(Set(files).count == 1, "\(name): the model depends on the member count")
      // It learned as the single-process run does: the same steps up to
      // the sums' rounding (and early stopping's rows, drawn here without
      // stratification), so the training accuracy within 2 points.
      let (features, labels) = try Self.data()
      let model = try Self.models(size: 2, options: options)[0]
      let accuracy = try model.evaluate(features: features, labels: labels).accuracy
      let single = try SoftmaxClassifier.fit(
        features: features, labels: labels, classes: Self.classes, options: options)
      let reference = try single.evaluate(features: features, labels: labels).accuracy
      #expect(abs(accuracy - reference) <= 0.02, "\(name): \(accuracy) against \(reference)")
      #expect(reference > 0.85, "\(name): the single-process run learned (\(reference))")
    }
  }

  @Test("An SGD run stopped on 2 members and resumed on 3: the uninterrupted model")
  func minibatchResume() throws {
    try withStableCPULevel {
      var options = Self.minibatchCases[0].1
      options.stochastic.epochs = 4
      let uninterrupted = try ModelFile.encode(Self.models(size: 1, options: options)[0])
      let saved = SavedCheckpoint()
      _ = try Self.models(size: 2, options: options, stopAfter: 2, saved: saved)
      let checkpoint = try #require(saved.value.withLock { $0 })
      let resumed = try Self.models(size: 3, options: options, resumingFrom: checkpoint)
      #expect(try ModelFile.encode(resumed[0]) == uninterrupted)
    }
  }

  @Test("Stopped on 2 members and resumed on 3 (or 1): the uninterrupted model, byte for byte")
  func resume() throws {
    try withStableCPULevel {
      let options = Self.cases[1].1
      let whole = try ModelFile.encode(Self.models(size: 1, options: options)[0])
      let saved = SavedCheckpoint()
      _ = try Self.models(size: 2, options: options, stopAfter: 6, saved: saved)
      let checkpoint = try #require(saved.value.withLock { $0 })
      #expect(checkpoint.iteration == 6)
      for size in [3, 1] {
        let resumed = try Self.models(size: size, options: options, resumingFrom: checkpoint)
        #expect(try ModelFile.encode(resumed[0]) == whole, "resumed on \(size)")
      }
      // Other data: refused on every member.
      var other = options
      other.l2 = 2e-3
      #expect(throws: TrainingError.self) {
        try Self.models(size: 2, options: other, resumingFrom: checkpoint)
      }
    }
  }

  @Test("The same model for every thread count")
  func threads() throws {
    try withStableCPULevel {
      let options = Self.cases[1].1
      let saved = SoftmaxConfiguration.threadCount
      defer { SoftmaxConfiguration.threadCount = saved }
      var files: [Int: [UInt8]] = [:]
      for threads in [1, 2, 3, 7] {
        SoftmaxConfiguration.threadCount = threads
        files[threads] = try ModelFile.encode(Self.models(size: 3, options: options)[0])
      }
      #expect(Set(files.values).count == 1, "\(files.mapValues { $0.count })")
    }
  }

  @Test("Fixed-point sums: any order and any split give the same bits")
  func fixedPoint() {
    var generator = SplitMix64(seed: 3)
    let vectors = (0..<200).map { _ in
      [Double].random(count: 4, in: -1e3...1e3, using: &generator).map {
        $0 * Double.random(in: 1e-12...1, using: &generator)
      }
    }
    let exponents = [4e5, 4e5, 4e5, 4e5].map(FixedPointSums.exponent(bounding:))
    func total(_ parts: [[[Double]]]) -> [Double] {
      var sums = FixedPointSums(exponents: exponents)
      for part in parts {
        var partSums = FixedPointSums(exponents: exponents)
        for vector in part {
          vector.withUnsafeBufferPointer { if let base = $0.baseAddress { partSums.add(base) } }
        }
        sums.add(partSums)
      }
      return sums.values()
    }
    let whole = total([vectors])
    let shuffled = total([vectors.shuffled(using: &generator)])
    let split = total([Array(vectors[0..<70]), Array(vectors[70..<71]), Array(vectors[71...])])
    #expect(whole.map(\.bitPattern) == shuffled.map(\.bitPattern))
    #expect(whole.map(\.bitPattern) == split.map(\.bitPattern))
    // Within rounding of the exact sum (Float80 reference).
    for c in 0..<4 {
      let exact = vectors.reduce(Float80(0)) { $0 + Float80($1[c]) }
      #expect(abs(Float80(whole[c]) - exact) <= Float80(whole[c].ulp) + 1e-30)
    }
    // A value beyond the bound, or not finite, makes the sum infinite.
    var bad = FixedPointSums(exponents: [0])
    [Double.nan].withUnsafeBufferPointer { if let base = $0.baseAddress { bad.add(base) } }
    #expect(bad.values() == [.infinity])
  }

  @Test("Shares are whole blocks, in order, covering every row")
  func shares() {
    for n in [0, 1, 4095, 4096, 4097, 17970, 100_000] {
      for size in 1...5 {
        let shares = (0..<size).map {
          SoftmaxClassifier.distributedShare(rows: n, rank: $0, size: size)
        }
        #expect(shares.first?.lowerBound == 0 && shares.last?.upperBound == n)
        #expect(zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(shares.dropLast().allSatisfy { $0.count % 4096 == 0 })
      }
    }
  }

  @Test("A member with a bad value stops every member, naming its rank")
  func badValue() throws {
    let (features, labels) = try Self.data()
    var corrupted = features
    corrupted[12000, 5] = .nan
    let bad = corrupted
    let group = ThreadGroup(size: 2)
    let errors = Mutex([Int: TrainingError]())
    let threads = (0..<2).map { rank in
      Thread {
        let share = SoftmaxClassifier.distributedShare(rows: bad.rows, rank: rank, size: 2)
        do {
          _ = try SoftmaxClassifier.fit(
            distributed: bad.selectingRows(Array(share)), labels: Array(labels[share]),
            classes: Self.classes, communicator: group.member(rank))
        } catch let error as TrainingError {
          errors.withLock { $0[rank] = error }
        } catch {}
      }
    }
    for thread in threads { thread.start() }
    let deadline = Date().addingTimeInterval(60)
    while errors.withLock({ $0.count }) < 2 && Date() < deadline { usleep(1000) }
    let found = errors.withLock { $0 }
    #expect(found[1]?.code == .nonFiniteValue)
    #expect(found[1]?.message.hasPrefix("rank 1: row ") == true, "\(String(describing: found[1]))")
    #expect(found[0]?.message.contains("rank 1 stopped") == true, "\(String(describing: found[0]))")
  }
}
