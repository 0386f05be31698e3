//===--- CalibrationTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxRegression

/// `Fixtures/sklearn_temperature.json` (Scripts/make_calibration_fixtures.py):
/// two frozen logistic regressions on digits and scikit-learn's temperature
/// scaling of each on 400 held-out rows, unweighted and weighted.
private struct TemperatureFixture: Decodable {
  struct Case: Decodable {
    let name: String
    let weight: [[Double]]
    let bias: [Double]
    let sampleWeights: [Double]?
    let temperature: Double
    let logLossBefore: Double
    let logLossAfter: Double
    let brierAfter: Double?
    let eceAfter: Double?
  }
  let features: [[Double]]
  let labels: [Int]
  let cases: [Case]

  static func load() throws -> TemperatureFixture {
    let url = repositoryRoot.appendingPathComponent(
      "Tests/SoftmaxRegressionTests/Fixtures/sklearn_temperature.json")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(TemperatureFixture.self, from: Data(contentsOf: url))
  }
}

@Suite("Temperature scaling")
struct TemperatureScalingTests {
  @Test(
    "τ of scikit-learn's CalibratedClassifierCV(method=\"temperature\") within 1e-6, weighted too")
  func matchesScikitLearn() throws {
    let fixture = try TemperatureFixture.load()
    #expect(fixture.cases.count == 4)
    let features = Matrix(fixture.features)
    for testCase in fixture.cases {
      let model = SoftmaxClassifier(
        classes: (0..<10).map(String.init), weight: Matrix(testCase.weight), bias: testCase.bias)
      let (calibrated, fit) = try model.calibrated(
        features: features, labels: fixture.labels, sampleWeights: testCase.sampleWeights)
      // scikit-learn stops scipy's bounded Brent at about 1.5e-8 of log β
      // (√ε relative) and we at 1e-12 relative: both are far inside 1e-6
      // of the true minimizer.
      let relative = abs(fit.temperature - testCase.temperature) / testCase.temperature
      #expect(relative <= 1e-6, "\(testCase.name): τ \(fit.temperature) vs \(testCase.temperature)")
      #expect(calibrated.temperature == fit.temperature)
      // The log losses: the same sums in other orders, 1e-12 relative (at
      // the minimum the loss is flat: τ's 1e-8 moves it by ~1e-16).
      #expect(abs(fit.logLossBefore - testCase.logLossBefore) <= 1e-12 * testCase.logLossBefore)
      #expect(abs(fit.logLossAfter - testCase.logLossAfter) <= 1e-12 * testCase.logLossAfter)
      #expect(fit.logLossAfter < fit.logLossBefore)
      // Predictions never change; probabilities are softmax(z/τ).
      #expect(try calibrated.predict(features) == model.predict(features))
      if let brier = testCase.brierAfter, let ece = testCase.eceAfter {
        let metrics = try calibrated.evaluate(features: features, labels: fixture.labels)
        let calibration = try #require(metrics.calibration)
        // scikit-learn's τ is scipy's bounded Brent, whose tolerance is
        // √ε·|log β| + xatol/3 ≈ 1.5e-8 in log τ: the Brier score and the
        // ECE move with τ to first order (slopes below 1), so they agree
        // to 1e-7, not to the last bits.
        #expect(abs(calibration.brierScore - brier) <= 1e-7 * brier, "\(testCase.name) Brier")
        #expect(
          abs(calibration.expectedCalibrationError - ece) <= 1e-7, "\(testCase.name) ECE")
        #expect(abs(metrics.logLoss - testCase.logLossAfter) <= 1e-12 * testCase.logLossAfter)
      }
    }
  }

  @Test("The fitted τ is a minimizer: the loss is higher 1e-4 either side, and L′(1/τ) ≈ 0")
  func isAMinimum() throws {
    let fixture = try TemperatureFixture.load()
    let testCase = fixture.cases[0]
    let model = SoftmaxClassifier(
      classes: (0..<10).map(String.init), weight: Matrix(testCase.weight), bias: testCase.bias)
    let features = Matrix(fixture.features)
    let logits = try model.logits(features)
    let fit = try TemperatureScaling(logits: logits, labels: fixture.labels)
    // The loss computed independently, from log-softmax at a temperature.
    func loss(_ tau: Double) -> Double {
      let logP = logSoftmax(logits, temperature: tau)
      return zip(0..<logits.rows, fixture.labels).map { -logP[$0, $1] }.reduce(0, +)
        / Double(logits.rows)
    }
    let best = loss(fit.temperature)
    #expect(abs(best - fit.logLossAfter) <= 1e-12 * best)
    #expect(loss(fit.temperature * (1 + 1e-4)) > best)
    #expect(loss(fit.temperature * (1 - 1e-4)) > best)
    // A central difference of the loss in β = 1/τ at the optimum: the
    // slope is 0 to within the difference's error (h² · L‴ ~ 1e-10).
    let beta = 1 / fit.temperature
    let h = 1e-5 * beta
    let slope = (loss(1 / (beta + h)) - loss(1 / (beta - h))) / (2 * h)
    #expect(abs(slope) <= 1e-8, "L′(β*) = \(slope)")
  }

  @Test("Refused: held-out rows all ranked right (τ → 0), scores that favour wrong classes (τ → ∞)")
  func noFiniteOptimum() throws {
    let right = Matrix([[3.0, 1, 0], [0, 2, 1], [0, 0.5, 1]])
    #expect {
      try TemperatureScaling(logits: right, labels: [0, 1, 2])
    } throws: { ($0 as? TrainingError)?.code == .noFiniteOptimum }
    // One mistake makes a finite optimum.
    let fit = try TemperatureScaling(logits: right, labels: [0, 1, 1])
    #expect(fit.temperature > 0 && fit.temperature.isFinite)
    let wrong = Matrix([[3.0, 0, 0], [0, 3, 0], [0, 0, 3]])
    #expect {
      try TemperatureScaling(logits: wrong, labels: [1, 2, 0])
    } throws: { ($0 as? TrainingError)?.code == .noFiniteOptimum }
    // A weight of 0 leaves a row out.
    #expect {
      try TemperatureScaling(logits: right, labels: [0, 1, 1], sampleWeights: [1, 1, 0])
    } throws: { ($0 as? TrainingError)?.code == .noFiniteOptimum }
  }

  @Test("Bad input: no rows, counts, labels, non-finite logits, weights")
  func badInput() throws {
    let logits = Matrix([[1.0, 0], [0, 1], [1, 0]])
    func code(_ body: () throws -> Void) -> TrainingError.Code? {
      do {
        try body()
        return nil
      } catch let error as TrainingError {
        return error.code
      } catch {
        return nil
      }
    }
    #expect(
      code {
        _ = try TemperatureScaling(logits: Matrix(rows: 0, columns: 2, repeating: 0), labels: [])
      }
        == .emptyData)
    #expect(code { _ = try TemperatureScaling(logits: logits, labels: [0, 1]) } == .shapeMismatch)
    #expect(
      code { _ = try TemperatureScaling(logits: logits, labels: [0, 1, 2]) } == .labelOutOfRange)
    #expect(
      code {
        _ = try TemperatureScaling(logits: Matrix([[1.0, .nan], [0, 1]]), labels: [0, 1])
      } == .nonFiniteValue)
    #expect(
      code {
        _ = try TemperatureScaling(logits: logits, labels: [0, 1, 1], sampleWeights: [1, -1, 1])
      }
        == .invalidWeight)
    #expect(
      code {
        _ = try TemperatureScaling(logits: logits, labels: [0, 1, 1], sampleWeights: [0, 0, 0])
      }
        == .invalidWeight)
    #expect(
      code { _ = try TemperatureScaling(logits: logits, labels: [0, 1, 1], sampleWeights: [1]) }
        == .shapeMismatch)
  }

  @Test("Scaling the logits by s scales τ by s (the loss depends on z/τ only)")
  func scaleEquivariance() throws {
    let fixture = try TemperatureFixture.load()
    let testCase = fixture.cases[1]
    let model = SoftmaxClassifier(
      classes: (0..<10).map(String.init), weight: Matrix(testCase.weight), bias: testCase.bias)
    let logits = try model.logits(Matrix(fixture.features))
    let fit = try TemperatureScaling(logits: logits, labels: fixture.labels)
    // × 8 is exact in binary: the same problem in β/8.
    let scaled = Matrix(
      rows: logits.rows, columns: logits.columns, elements: logits.elements.map { $0 * 8 })
    let fitScaled = try TemperatureScaling(logits: scaled, labels: fixture.labels)
    // Each fit stops within 1e-12 of the minimizer (relative).
    #expect(abs(fitScaled.temperature / 8 - fit.temperature) <= 1e-10 * fit.temperature)
  }
}

@Suite("Calibration metrics")
struct CalibrationMetricsTests {
  @Test("Brier score and ECE of hand-worked probabilities")
  func handWorked() throws {
    // Rows: p = (0.9, 0.1) label 0; (0.65, 0.35) label 1; (0.17, 0.83)
    // label 1; (0.55, 0.45) label 0. Brier per row: 0.02, 0.845, 0.0578,
    // 0.405 → 1.3278/4. Confidences 0.9, 0.65, 0.83, 0.55 (none on a bin
    // edge) with 2 bins: [0, 0.5) empty; [0.5, 1]: all four, mean
    // confidence 0.7325, accuracy 3/4 (the second row is wrong) → ECE
    // |0.75 − 0.7325| = 0.0175.
    let p: [[Double]] = [[0.9, 0.1], [0.65, 0.35], [0.17, 0.83], [0.55, 0.45]]
    let logP = Matrix(p.map { $0.map { Double.log($0) } })
    let metrics = try ClassificationMetrics(
      logProbabilities: logP, labels: [0, 1, 1, 0], calibrationBins: 2)
    let calibration = try #require(metrics.calibration)
    // exp(log p) returns p within an ulp or two: 1e-14 absolute.
    #expect(abs(calibration.brierScore - 0.33195) <= 1e-14)
    #expect(abs(calibration.expectedCalibrationError - 0.0175) <= 1e-14)
    #expect(calibration.bins.map(\.count) == [0, 4])
    #expect(abs(calibration.bins[1].meanConfidence - 0.7325) <= 1e-14)
    #expect(calibration.bins[1].accuracy == 0.75)
    // The default, 15 bins: 0.55 in bin 8 (8.25), 0.65 in 9, 0.83 in 12,
    // 0.9 in 13.
    let ten = try #require(
      try ClassificationMetrics(logProbabilities: logP, labels: [0, 1, 1, 0]).calibration)
    #expect(ten.bins.count == 15)
    #expect(ten.bins.map(\.count) == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0])
    #expect {
      try ClassificationMetrics(logProbabilities: logP, labels: [0, 1, 1, 0], calibrationBins: 0)
    } throws: { ($0 as? TrainingError)?.code == .invalidOption }
  }
}

@Suite("A calibrated model")
struct CalibratedModelTests {
  private static func model() throws -> (SoftmaxClassifier, Matrix<Double>) {
    let fixture = try TemperatureFixture.load()
    let model = SoftmaxClassifier(
      classes: (0..<10).map(String.init), weight: Matrix(fixture.cases[0].weight),
      bias: fixture.cases[0].bias)
    return (model, Matrix(fixture.features))
  }

  @Test("Probabilities are softmax(z/τ), bit for bit; logits and predictions do not change")
  func probabilities() throws {
    var (model, features) = try Self.model()
    let logits = try model.logits(features)
    model.temperature = 2.5
    let p = try model.probabilities(features)
    let expected = softmax(logits, temperature: 2.5)
    #expect(p.elements.map(\.bitPattern) == expected.elements.map(\.bitPattern))
    let logP = try model.logProbabilities(features)
    let expectedLog = logSoftmax(logits, temperature: 2.5)
    #expect(logP.elements.map(\.bitPattern) == expectedLog.elements.map(\.bitPattern))
    #expect(try model.logits(features) == logits)
    #expect(try model.predictedClassIndices(features) == logits.rowArrays.map(argmax))
  }

  @Test("The model file: version 3 with \"temperature\", read back the same; 1 writes no field")
  func modelFile() throws {
    var (model, features) = try Self.model()
    model.temperature = 0.3
    let bytes = try ModelFile.encode(model)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    #expect(json["version"] as? Int == 3)
    #expect(json["temperature"] as? Double == 0.3)
    let read = try ModelFile.decode(bytes)
    #expect(read == model)
    #expect(
      try read.probabilities(features).elements.map(\.bitPattern)
        == model.probabilities(features).elements.map(\.bitPattern))
    model.temperature = 1
    let plain = try #require(
      try JSONSerialization.jsonObject(with: Data(ModelFile.encode(model))) as? [String: Any])
    #expect(plain["version"] as? Int == 1)
    #expect(plain["temperature"] == nil)
  }

  private static func decodingError(_ bytes: [UInt8]) -> String? {
    do {
      _ = try ModelFile.decode(bytes)
      return nil
    } catch {
      return error.message
    }
  }

  @Test("A bad temperature in a file, or in a model to write, is an error naming it")
  func badTemperature() throws {
    var (model, _) = try Self.model()
    model.temperature = 2
    let text = String(decoding: try ModelFile.encode(model), as: UTF8.self)
    for (edit, expected) in [
      ("\"temperature\" : 0", "\"temperature\" is 0.0"),
      ("\"temperature\" : -1", "\"temperature\" is -1.0"),
      ("\"temperature\" : \"nan\"", "\"temperature\" is nan"),
      ("\"temperature\" : \"inf\"", "\"temperature\" is inf"),
    ] {
      let bytes = Array(text.replacingOccurrences(of: "\"temperature\" : 2", with: edit).utf8)
      let message = Self.decodingError(bytes)
      #expect(message?.contains(expected) == true, "\(edit): \(message ?? "no error")")
    }
    let old = Array(text.replacingOccurrences(of: "\"version\" : 3", with: "\"version\" : 2").utf8)
    #expect {
      try ModelFile.decode(old)
    } throws: { ($0 as? TrainingError)?.message.contains("needs format version 3") == true }
    for bad in [0.0, -1, .infinity, .nan] {
      model.temperature = bad
      #expect(throws: TrainingError.self) { try ModelFile.encode(model) }
    }
  }
}

@Suite("Held-out rows of training")
struct HeldOutRowsTests {
  @Test("heldOutRows are the rows L-BFGS and Adam validated on: their loss is the reported one")
  func sameRowsAsTraining() throws {
    let fixture = try TemperatureFixture.load()
    let features = Matrix(fixture.features)
    let classes = (0..<10).map(String.init)
    var options = TrainingOptions()
    options.standardize = true
    options.heldOutFraction = 0.25
    options.stochastic.seed = 11
    options.lbfgs.maxIterations = 30
    var early = EarlyStopping()
    early.validationFraction = 0.25
    early.patience = 100
    var adam = options
    adam.solver = .adam
    adam.stochastic.epochs = 4
    adam.stochastic.earlyStopping = early
    for options in [options, adam] {
      let model = try SoftmaxClassifier.fit(
        features: features, labels: fixture.labels, classes: classes, options: options)
      let rows = try #require(
        try SoftmaxClassifier.heldOutRows(labels: fixture.labels, classCount: 10, options: options))
      // Each class gives round(0.25 · its count) rows, halves to even.
      let perClass = (0..<10).map { c in fixture.labels.filter { $0 == c }.count }
      let expected = perClass.map { Int((0.25 * Double($0)).rounded(.toNearestOrEven)) }.reduce(
        0, +)
      #expect(rows.count == expected, "\(options.solver)")
      let heldOut = try model.evaluate(
        features: features.selectingRows(rows), labels: rows.map { fixture.labels[$0] })
      // The validation loss of the returned parameters (the last
      // iteration's for L-BFGS, the best epoch's for Adam), the same sum
      // in another order: 1e-12 relative.
      let history = try #require(model.training?.validationHistory)
      #expect(
        history.contains { abs($0 - heldOut.logLoss) <= 1e-12 * heldOut.logLoss },
        "\(options.solver): \(heldOut.logLoss) not in \(history)")
    }
    #expect(
      try SoftmaxClassifier.heldOutRows(
        labels: fixture.labels, classCount: 10, options: TrainingOptions()) == nil)
  }
}
