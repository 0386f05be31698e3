//===--- NetworkModelTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxRegression
import Testing

/// A network trained on the shipped digits with Adam (seeded).
private func digitsNetwork() throws -> (model: SoftmaxClassifier, data: LabelledData) {
  let data = try LabelledData(named: "digits")
  var options = TrainingOptions()
  options.solver = .adam
  options.standardize = true
  options.hidden = TrainingOptions.HiddenLayers(widths: [24], activation: .relu)
  options.stochastic.epochs = 15
  options.stochastic.batchSize = 32
  options.stochastic.learningRate = 0.01
  options.stochastic.seed = 4
  options.l2 = 1e-4
  let model = try SoftmaxClassifier.fit(
    features: data.features, labels: data.labels, classes: (0..<10).map(String.init),
    options: options)
  return (model, data)
}

@Suite("Network models: training, prediction and the model file")
struct NetworkModelTests {
  @Test("fit with hidden layers: the network's shape, and it learns digits")
  func fitsDigits() throws {
    let (model, data) = try digitsNetwork()
    #expect(model.hiddenLayers.count == 1)
    #expect(model.hiddenLayers[0].inputCount == 64 && model.hiddenLayers[0].outputCount == 24)
    #expect(model.weight.rows == 10 && model.weight.columns == 24)
    #expect(model.featureCount == 64)
    #expect(model.hidden == TrainingOptions.HiddenLayers(widths: [24], activation: .relu))
    #expect(model.parameters.count == 64 * 24 + 24 + 24 * 10 + 10)
    let metrics = try model.evaluate(features: data.features, labels: data.labels)
    // The training rows: a linear model fits them to about 99 %, a network
    // of 24 units at least as well (a network that did not learn would be
    // near 10 %, one with a broken layer far below 97 %).
    #expect(metrics.accuracy > 0.97, "accuracy \(metrics.accuracy)")
  }

  @Test("the model file: version 2, read back to the same model and the same probabilities")
  func roundTrip() throws {
    let (model, data) = try digitsNetwork()
    let bytes = try ModelFile.encode(model)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    #expect(json["version"] as? Int == 2)
    let read = try ModelFile.decode(bytes)
    #expect(read == model)
    #expect(try ModelFile.encode(read) == bytes)
    let p = try model.probabilities(data.features)
    let q = try read.probabilities(data.features)
    #expect(p.elements.map(\.bitPattern) == q.elements.map(\.bitPattern))
    // Sparse rows of the same values: the same probabilities.
    let sparse = try read.probabilities(SparseMatrix(data.features))
    #expect(sparse.elements.map(\.bitPattern) == p.elements.map(\.bitPattern))

    // A model without hidden layers is still written as version 1.
    let linear = SoftmaxClassifier(
      classes: ["a", "b"], weight: Matrix([[1, 2], [3, 4]]), bias: [0, 1])
    let linearJSON = try #require(
      try JSONSerialization.jsonObject(with: Data(ModelFile.encode(linear))) as? [String: Any])
    #expect(linearJSON["version"] as? Int == 1)
    #expect(linearJSON["hidden"] == nil)
  }

  @Test("damaged hidden layers in a model file: an error naming the field, never a trap")
  func damagedFiles() throws {
    let (model, _) = try digitsNetwork()
    let bytes = try ModelFile.encode(model)
    func damaged(_ change: (inout [String: Any]) -> Void) throws -> [UInt8] {
      var json = try #require(
        try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
      change(&json)
      return Array(try JSONSerialization.data(withJSONObject: json))
    }
    func hidden(_ json: [String: Any]) -> [String: Any] { json["hidden"] as? [String: Any] ?? [:] }
    func layer(_ json: [String: Any]) -> [String: Any] {
      (hidden(json)["layers"] as? [[String: Any]])?.first ?? [:]
    }
    let cases: [(String, ([String: Any]) -> [String: Any])] = [
      (
        "\"hidden\".layers is empty",
        { json in
          var json = json
          var h = hidden(json)
          h["layers"] = [[String: Any]]()
          json["hidden"] = h
          return json
        }
      ),
      (
        "\"hidden\".layers[0].bias has 23 values",
        { json in
          var json = json
          var h = hidden(json)
          var l = layer(json)
          l["bias"] = Array((l["bias"] as? [Double] ?? []).dropLast())
          h["layers"] = [l]
          json["hidden"] = h
          return json
        }
      ),
      (
        "the last hidden layer has 24 outputs; \"weights\" has 23 columns",
        { json in
          var json = json
          json["weights"] = (json["weights"] as? [[Double]] ?? []).map { Array($0.dropLast()) }
          return json
        }
      ),
      (
        "\"hidden\".layers[0].weights row 3 has 63 values",
        { json in
          var json = json
          var h = hidden(json)
          var l = layer(json)
          var w = l["weights"] as? [[Double]] ?? []
          w[3].removeLast()
          l["weights"] = w
          h["layers"] = [l]
          json["hidden"] = h
          return json
        }
      ),
      (
        "\"hidden\".layers[0].weights[2][5] is not finite",
        { json in
          var json = json
          var h = hidden(json)
          var l = layer(json)
          var w = (l["weights"] as? [[Double]] ?? []).map { $0.map { $0 as Any } }
          w[2][5] = "nan"
          l["weights"] = w
          h["layers"] = [l]
          json["hidden"] = h
          return json
        }
      ),
      (
        "standardization",
        { json in
          var json = json
          json["standardization"] = ["mean": [0.0], "scale": [1.0]]
          return json
        }
      ),
    ]
    for (message, change) in cases {
      let file = try damaged { json in json = change(json) }
      do {
        _ = try ModelFile.decode(file)
        Issue.record("accepted: \(message)")
      } catch {
        #expect(error.code == .invalidModel, "\(message): \(error)")
        #expect(error.message.contains(message), "\(message): \(error.message)")
      }
    }
  }

  @Test("a warm start of other hidden layers, or L1 for a network: errors")
  func refusals() throws {
    let (model, data) = try digitsNetwork()
    var options = TrainingOptions()
    options.hidden = TrainingOptions.HiddenLayers(widths: [16])
    #expect(throws: TrainingError.self) {
      _ = try SoftmaxClassifier.fit(
        features: data.features, labels: data.labels, classes: model.classes, options: options,
        warmStart: model)
    }
    options.l1 = 0.01
    #expect(throws: TrainingError.self) {
      _ = try SoftmaxClassifier.fit(
        features: data.features, labels: data.labels, classes: model.classes, options: options)
    }
  }

  @Test("a network with dropout resumed from a checkpoint ends with the uninterrupted model's bits")
  func resumes() throws {
    let data = try LabelledData(named: "iris")
    var options = TrainingOptions()
    options.solver = .adam
    options.hidden = TrainingOptions.HiddenLayers(widths: [6, 5], activation: .tanh, dropout: 0.2)
    options.stochastic.epochs = 12
    options.stochastic.batchSize = 16
    options.stochastic.seed = 9
    let classes = ["0", "1", "2"]
    let whole = try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: classes, options: options)
    var saved: TrainingCheckpoint?
    _ = try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: classes, options: options,
      checkpoints: true
    ) { report in
      if report.iteration == 5 { saved = report.checkpoint }
      return report.iteration < 5
    }
    let checkpoint = try #require(saved)
    let resumed = try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: classes, options: options,
      resumingFrom: checkpoint)
    #expect(resumed.parameters.map(\.bitPattern) == whole.parameters.map(\.bitPattern))
    #expect(resumed.hidden?.widths == [6, 5])
    // Dropout applies to training only: the model keeps every unit.
    #expect(resumed.hidden?.dropout == 0)
    options.solver = .lbfgs
    #expect(throws: TrainingError.self) {
      _ = try SoftmaxClassifier.fit(
        features: data.features, labels: data.labels, classes: classes, options: options)
    }
  }
}
