//===--- GoldenModelTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Golden model files: every solver on iris, digits (in Double and in
// Float) and MNIST (Float, from ../shared/data when it is there), with
// fixed seeds, hashed. A redesign that keeps behaviour keeps every byte.
//
// The Double path is the same on every machine; Float goes through the
// SIMD kernels, whose bits differ between CPU levels (FMA contraction), so
// Float hashes are kept per level and the current one is compared.
//
// Re-recorded deliberately, the L-BFGS and OWL-QN hashes only (the other
// solvers' bytes did not change): when the solvers' dot product went from
// one running sum to eight interleaved ones (issue 16), and when the
// two-loop recursion's direction came from inner products of the pairs
// (`CorrectionPairs`, the same algebra in other roundings; issue 16);
// and the Adam hashes only, when its bias corrections were folded into
// two scalars a step, as PyTorch does (one division and one square root a
// parameter instead of three divisions; issue 17).
//
// To print the hashes after a deliberate change (one level at a time):
//   SOFTMAX_GOLDEN_PRINT=1 SOFTMAX_CPU_LEVEL=avx512 swift test --filter GoldenModelTests

import Foundation
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression
import Testing
import _SoftmaxTestSupport

/// FNV-1a, 64 bits: a fingerprint of a model file's bytes.
func fnv1a(_ bytes: [UInt8]) -> String {
  var hash: UInt64 = 0xCBF2_9CE4_8422_2325
  for byte in bytes {
    hash ^= UInt64(byte)
    hash = hash &* 0x0100_0000_01B3
  }
  return String(hash, radix: 16)
}

@Suite("Golden model files: the same bytes as when recorded")
struct GoldenModelTests {
  /// A solver's configuration, small enough for a debug build.
  struct Configuration: CustomStringConvertible, Sendable {
    var name: String
    var options: @Sendable (_ rows: Int, _ large: Bool) -> TrainingOptions
    var description: String { name }
  }

  static let configurations: [Configuration] = [
    Configuration(name: "lbfgs") { rows, large in
      var options = TrainingOptions()
      options.standardize = true
      options.l2 = TrainingOptions.l2(forC: 1, sampleWeightTotal: Double(rows))
      options.lbfgs.maxIterations = large ? 6 : 200
      return options
    },
    Configuration(name: "owlqn") { rows, large in
      var options = TrainingOptions()
      options.standardize = true
      options.l1 = 1e-3
      options.l2 = TrainingOptions.l2(forC: 10, sampleWeightTotal: Double(rows))
      options.classWeighting = .balanced
      options.lbfgs.maxIterations = large ? 6 : 150
      return options
    },
    Configuration(name: "gd") { rows, large in
      var options = TrainingOptions()
      options.solver = .gradientDescent
      options.standardize = true
      options.l2 = TrainingOptions.l2(forC: 1, sampleWeightTotal: Double(rows))
      options.lbfgs.maxIterations = large ? 3 : 40
      return options
    },
    Configuration(name: "sgd-nesterov") { rows, large in
      var options = TrainingOptions()
      options.solver = .sgd
      options.standardize = true
      options.l2 = TrainingOptions.l2(forC: 1, sampleWeightTotal: Double(rows))
      options.stochastic.momentum = 0.9
      options.stochastic.nesterov = true
      options.stochastic.learningRate = 0.05
      options.stochastic.batchSize = large ? 256 : 32
      options.stochastic.epochs = large ? 1 : 6
      options.stochastic.seed = 7
      return options
    },
    Configuration(name: "adam-cosine-early") { rows, large in
      var options = TrainingOptions()
      options.solver = .adam
      options.standardize = true
      options.l2 = TrainingOptions.l2(forC: 1, sampleWeightTotal: Double(rows))
      options.stochastic.learningRate = 0.01
      options.stochastic.schedule = .cosine
      options.stochastic.batchSize = large ? 512 : 16
      options.stochastic.epochs = large ? 2 : 12
      options.stochastic.seed = 11
      var early = EarlyStopping()
      early.validationFraction = 0.2
      early.patience = 3
      options.stochastic.earlyStopping = early
      return options
    },
  ]

  /// `data/configuration` (Double) or `data/configuration/level` (Float) →
  /// the FNV-1a hash of `ModelFile.encode(fit(...))`.
  static let expected: [String: String] = [
    "digits-float/adam-cosine-early/avx2": "c2507962e065eb48",
    "digits-float/adam-cosine-early/avx512": "c2507962e065eb48",
    "digits-float/adam-cosine-early/baseline": "d9fcc9f04816afe1",
    "digits-float/gd/avx2": "3dc36f903878cdb6",
    "digits-float/gd/avx512": "3dc36f903878cdb6",
    "digits-float/gd/baseline": "c20688baf344c9c8",
    "digits-float/lbfgs/avx2": "6c6946b48775c026",
    "digits-float/lbfgs/avx512": "6c6946b48775c026",
    "digits-float/lbfgs/baseline": "86186dcedc5ac1a",
    "digits-float/owlqn/avx2": "9059a975ff8948c9",
    "digits-float/owlqn/avx512": "9059a975ff8948c9",
    "digits-float/owlqn/baseline": "6ebfe716f61dea61",
    "digits-float/sgd-nesterov/avx2": "5eaa844916b648aa",
    "digits-float/sgd-nesterov/avx512": "5eaa844916b648aa",
    "digits-float/sgd-nesterov/baseline": "e1e0d73995744543",
    "digits/adam-cosine-early": "f68f20beda46587b",
    "digits/gd": "7a6a443c80e450b1",
    "digits/lbfgs": "107757722d5fa183",
    "digits/owlqn": "a45878bf346500b0",
    "digits/sgd-nesterov": "da0176cfbd44b",
    "iris/adam-cosine-early": "437328d9127b0501",
    "iris/gd": "6811fc1fc4f50f35",
    "iris/lbfgs": "30c9c5c2d88c4875",
    "iris/owlqn": "b1f4ad9f3457c96b",
    "iris/sgd-nesterov": "c80a9fabf0174b38",
    "mnist/adam-cosine-early/avx2": "2861d672ecf3f4b",
    "mnist/adam-cosine-early/avx512": "2861d672ecf3f4b",
    "mnist/adam-cosine-early/baseline": "1ae59b6dbc0cee02",
    "mnist/gd/avx2": "f2c3284aafdfdb63",
    "mnist/gd/avx512": "f2c3284aafdfdb63",
    "mnist/gd/baseline": "1e15ada8034f57e1",
    "mnist/lbfgs/avx2": "a94ee39bec8cfc30",
    "mnist/lbfgs/avx512": "a94ee39bec8cfc30",
    "mnist/lbfgs/baseline": "9a16b9e8a5c418a7",
    "mnist/owlqn/avx2": "aa395f9cadf64f44",
    "mnist/owlqn/avx512": "aa395f9cadf64f44",
    "mnist/owlqn/baseline": "37fb60a4a008eed1",
    "mnist/sgd-nesterov/avx2": "fbf750f27bda242e",
    "mnist/sgd-nesterov/avx512": "fbf750f27bda242e",
    "mnist/sgd-nesterov/baseline": "c92c339c69abb72",
  ]

  static let shared = repositoryRoot.deletingLastPathComponent().appendingPathComponent(
    "shared/data/mnist")

  /// The data sets: name, features, labels, whether it is large.
  static func dataSet(_ name: String) throws -> (Matrix<Double>?, Matrix<Float>?, [Int], Bool)? {
    switch name {
    case "iris", "digits":
      let data = try LabelledData(named: name)
      return (data.features, nil, data.labels, false)
    case "digits-float":
      let data = try LabelledData(named: "digits")
      let floats = Matrix(
        rows: data.features.rows, columns: data.features.columns,
        elements: data.features.elements.map { Float($0) })
      return (nil, floats, data.labels, false)
    default:
      let images = shared.appendingPathComponent("train-images.idx3-ubyte").path
      guard FileManager.default.fileExists(atPath: images) else { return nil }
      let set = try IDXReader.read(
        images: images, labels: shared.appendingPathComponent("train-labels.idx1-ubyte").path,
        as: Float.self)
      let labels = (set.labels ?? []).compactMap { Int($0) }
      return (nil, set.features, labels, true)
    }
  }

  @Test(
    "every solver, on iris, digits (Double and Float) and MNIST",
    arguments: ["iris", "digits", "digits-float", "mnist"], configurations)
  func golden(_ dataName: String, _ configuration: Configuration) throws {
    // Float bits depend on the CPU level, which Core's tests switch.
    try withStableCPULevel { try goldenModel(dataName, configuration) }
  }

  func goldenModel(_ dataName: String, _ configuration: Configuration) throws {
    guard let (doubles, floats, labels, large) = try Self.dataSet(dataName) else {
      print("skipped: \(dataName) is in ../shared/data, which this clone does not have")
      return
    }
    let classes = (0..<((labels.max() ?? 0) + 1)).map(String.init)
    let rows = doubles?.rows ?? floats?.rows ?? 0
    let options = configuration.options(rows, large)
    let model: SoftmaxClassifier
    if let doubles {
      model = try SoftmaxClassifier.fit(
        features: doubles, labels: labels, classes: classes, options: options)
    } else {
      model = try SoftmaxClassifier.fit(
        features: try #require(floats), labels: labels, classes: classes, options: options)
    }
    let key =
      doubles != nil
      ? "\(dataName)/\(configuration.name)"
      : "\(dataName)/\(configuration.name)/\(SoftmaxConfiguration.cpuLevel)"
    let hash = fnv1a(try ModelFile.encode(model))
    if ProcessInfo.processInfo.environment["SOFTMAX_GOLDEN_PRINT"] == "1" {
      print("GOLDEN \"\(key)\": \"\(hash)\",")
    }
    #expect(Self.expected[key] == hash, "\(key)")
  }
}
