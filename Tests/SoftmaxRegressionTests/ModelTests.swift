//===--- ModelTests.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxRegression
import Testing

@Suite("The model: prediction, metrics, file")
struct ModelTests {
  static func irisModel() throws -> (SoftmaxClassifier, LabelledData) {
    let data = try LabelledData(named: "iris")
    var options = TrainingOptions()
    options.l2 = TrainingOptions.l2(forC: 1, sampleWeightTotal: 150)
    options.standardize = true
    let model = try SoftmaxClassifier.fit(
      features: data.features, labels: data.labels, classes: ["setosa", "versicolor", "virginica"],
      featureNames: ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"],
      options: options)
    return (model, data)
  }

  @Test("probabilities are a true softmax of the logits, and predictions their argmax")
  func predictions() throws {
    let (model, data) = try Self.irisModel()
    let logits = try model.logits(data.features)
    let probabilities = try model.probabilities(data.features)
    let logProbabilities = try model.logProbabilities(data.features)
    let predicted = try model.predictedClassIndices(data.features)
    let top = try model.topClasses(data.features, count: 2)
    for i in 0..<data.features.rows {
      let row = Array(probabilities.row(i))
      #expect(abs(row.reduce(0, +) - 1) <= 4e-16)
      #expect(row.allSatisfy { $0 >= 0 && $0 <= 1 })
      let z = Array(logits.row(i))
      // Independent check: e^(z - max) / Σ in Double.
      let m = z.max()!
      let e = z.map { Double.exp($0 - m) }
      for j in 0..<3 {
        #expect(abs(row[j] - e[j] / e.reduce(0, +)) <= 1e-15)
        #expect(
          abs(logProbabilities[i, j] - Double.log(row[j])) <= 1e-12
            * max(1, abs(Double.log(row[j]))))
      }
      #expect(predicted[i] == z.firstIndex(of: m)!)
      #expect(top[i][0].classIndex == predicted[i])
      #expect(top[i][0].probability >= top[i][1].probability)
    }
    #expect(try model.predict(data.features)[0] == "setosa")
    // Iris with C = 1 and standardization: scikit-learn's training accuracy is 0.973.
    let metrics = try model.evaluate(features: data.features, labels: data.labels, topK: 2)
    #expect(metrics.accuracy >= 0.96)
    #expect(metrics.topKAccuracy >= metrics.accuracy)
  }

  @Test("a data set with the wrong number of columns is an error naming both counts")
  func wrongColumns() throws {
    let (model, _) = try Self.irisModel()
    let three = Matrix(rows: 1, columns: 3, elements: [1.0, 2, 3])
    #expect(
      throws: TrainingError(
        .shapeMismatch, "the data has 3 feature columns; the model takes 4")
    ) { _ = try model.predict(three) }
  }

  @Test("metrics: a hand-worked confusion matrix")
  func metrics() throws {
    // True 0,0,1,1,2 ; predicted 0,1,1,1,0 (from log-probabilities).
    let predicted = [0, 1, 1, 1, 0]
    let rows = predicted.map { p in (0..<3).map { $0 == p ? Double.log(0.8) : Double.log(0.1) } }
    let metrics = try ClassificationMetrics(
      logProbabilities: Matrix(rows), labels: [0, 0, 1, 1, 2], topK: 1)
    #expect(metrics.confusionMatrix == [[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    #expect(metrics.accuracy == 0.6)
    #expect(metrics.topKAccuracy == 0.6)
    // Class 0: precision 1/2, recall 1/2; class 1: precision 2/3, recall 1;
    // class 2: never predicted: 0.
    #expect(metrics.perClass[0] == ClassScores(precision: 0.5, recall: 0.5, f1: 0.5, support: 2))
    #expect(abs(metrics.perClass[1].f1 - 0.8) <= 1e-15)
    #expect(metrics.perClass[2].f1 == 0)
    #expect(abs(metrics.macroF1 - 1.3 / 3) <= 1e-15)
    #expect(abs(metrics.weightedF1 - (0.5 * 2 + 0.8 * 2) / 5) <= 1e-15)
    // Log loss: -mean log p(true): rows 0 and 2, 3 right (0.8), rows 1 and 4 wrong (0.1).
    let expected = -(3 * Double.log(0.8) + 2 * Double.log(0.1)) / 5
    #expect(abs(metrics.logLoss - expected) <= 1e-15)
  }

  @Test("the model file round-trips bit for bit")
  func roundTrip() throws {
    var (model, data) = try Self.irisModel()
    let metrics = try model.evaluate(features: data.features, labels: data.labels)
    model.training?.metrics = metrics
    let bytes = try ModelFile.encode(model)
    let decoded = try ModelFile.decode(bytes)
    #expect(decoded == model)
    #expect(decoded.training?.metrics?.accuracy == model.training?.metrics?.accuracy)
    #expect(decoded.training?.metrics != nil)
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text.contains("\"format\" : \"swift-softmax-model\""))
    #expect(text.contains("\"feature_names\""))
  }

  @Test(
    "a bad model file names what is wrong",
    arguments: [
      ("{", "not a model file"),
      ("{\"format\": \"other\", \"version\": 1}", "format is \"other\""),
      ("{\"format\": \"swift-softmax-model\", \"version\": 9}", "format version 9, newer"),
      ("{\"format\": \"swift-softmax-model\", \"version\": 1}", "missing field \"classes\""),
      (
        "{\"format\": \"swift-softmax-model\", \"version\": 1, \"classes\": [\"a\", \"b\"],"
          + " \"weights\": [[1, 2], [3]], \"bias\": [0, 0]}", "row 1 has 1 value;"
      ),
      (
        "{\"format\": \"swift-softmax-model\", \"version\": 1, \"classes\": [\"a\", \"b\"],"
          + " \"weights\": [[1], [3]], \"bias\": [0]}", "\"bias\" has 1 value;"
      ),
      (
        "{\"format\": \"swift-softmax-model\", \"version\": 1, \"classes\": [\"a\", \"a\"],"
          + " \"weights\": [[1], [3]], \"bias\": [0, 0]}", "duplicate"
      ),
      (
        "{\"format\": \"swift-softmax-model\", \"version\": 1, \"classes\": [\"a\", \"b\"],"
          + " \"weights\": [[1], [3]], \"bias\": [0, 0],"
          + " \"standardization\": {\"mean\": [0], \"scale\": [0]}}",
        "scale[0] = 0.0 is not positive"
      ),
    ])
  func badModelFile(text: String, expected: String) {
    do {
      _ = try ModelFile.decode(Array(text.utf8))
      Issue.record("accepted \(text)")
    } catch {
      #expect(error.code == .invalidModel)
      #expect(error.message.contains(expected), "\(error.message)")
    }
  }

  @Test("a truncated model file is refused")
  func truncated() throws {
    let (model, _) = try Self.irisModel()
    let bytes = try ModelFile.encode(model)
    for cut in stride(from: 0, to: bytes.count - 2, by: max(1, bytes.count / 40)) {
      #expect(throws: TrainingError.self) { _ = try ModelFile.decode(Array(bytes[0..<cut])) }
    }
  }

  @Test("class encoding sorts integers numerically and strings by code point")
  func classEncoding() {
    let numbers = ClassEncoding(labels: ["10", "2", "2", "-1"])
    #expect(numbers.classes == ["-1", "2", "10"])
    #expect(numbers.indices == [2, 1, 1, 0])
    let mixed = ClassEncoding(labels: ["b", "07", "7", "a"])
    #expect(mixed.classes == ["07", "7", "a", "b"])
    #expect(ClassEncoding(labels: [3, 1, 3]).indices == [1, 0, 1])
  }
}
