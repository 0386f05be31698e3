//===--- TestData.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore

/// The repository's root, from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A numeric CSV of the project's `Data/` folder (header, label last).
struct LabelledData {
  var features: Matrix<Double>
  var labels: [Int]

  init(named name: String) throws {
    let text = try String(
      contentsOf: repositoryRoot.appendingPathComponent("Data/\(name).csv"), encoding: .utf8)
    var rows: [[Double]] = []
    var labels: [Int] = []
    for line in text.split(separator: "\n").dropFirst() where !line.isEmpty {
      let fields = try line.split(separator: ",").map { field in
        guard let value = Double(field) else { throw DataError(text: String(line)) }
        return value
      }
      guard let label = fields.last else { throw DataError(text: String(line)) }
      rows.append(Array(fields.dropLast()))
      labels.append(Int(label))
    }
    features = Matrix(rows)
    self.labels = labels
  }

  init(features: Matrix<Double>, labels: [Int]) {
    self.features = features
    self.labels = labels
  }

  /// The given rows, in that order.
  func subset(_ rows: [Int]) -> LabelledData {
    LabelledData(
      features: Matrix(rows.map { Array(features.row($0)) }), labels: rows.map { labels[$0] })
  }
}

struct DataError: Error {
  var text: String
}

/// The reference optima written by Scripts/make_regression_fixtures.py.
struct OptimumFixture: Decodable {
  struct Case: Decodable {
    var name: String
    var dataset: String
    var inverseStrength: Double
    var l2: Double
    var standardize: Bool
    var balanced: Bool
    var sampleWeights: Bool
    var rows: [Int]?
    var iterations: Int
    var objective: Double
    var weights: [[Double]]
    var bias: [Double]

    enum CodingKeys: String, CodingKey {
      case name, dataset, l2, standardize, balanced, rows, iterations, objective, weights, bias
      case inverseStrength = "C"
      case sampleWeights = "sample_weights"
    }
  }
  var sklearnVersion: String
  var cases: [Case]

  enum CodingKeys: String, CodingKey {
    case cases
    case sklearnVersion = "sklearn_version"
  }

  static func load() throws -> OptimumFixture {
    let url = repositoryRoot.appendingPathComponent(
      "Tests/SoftmaxRegressionTests/Fixtures/sklearn_optima.json")
    return try JSONDecoder().decode(OptimumFixture.self, from: Data(contentsOf: url))
  }
}

/// The sample weights of the fixtures: 0.5 + (i mod 3).
func fixtureSampleWeights(_ count: Int) -> [Double] {
  (0..<count).map { 0.5 + Double($0 % 3) }
}
