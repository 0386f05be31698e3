//===--- CalibrationCommandTests.swift ------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@Suite("Calibration from the command: calibrate, train --calibrate, eval")
struct CalibrationCommandTests {
  /// An overconfident digits model (C = 100) trained on the first 1,000
  /// rows, and the other 797 rows as held-out data, in `directory`.
  private static func setUp(_ directory: String) throws {
    let lines = try String(contentsOfFile: digits, encoding: .utf8).split(separator: "\n")
    try write(lines[0...1000].joined(separator: "\n") + "\n", to: directory + "/train.csv")
    try write(
      ([lines[0]] + lines[1001...]).joined(separator: "\n") + "\n", to: directory + "/held.csv")
    let run = try softmax(
      ["train", "train.csv", "--C", "100", "--model", "m.json", "--quiet"], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
  }

  @Test("calibrate writes the model with τ: same predictions, a lower held-out log loss")
  func calibrate() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Self.setUp(directory)
    let run = try softmax(
      [
        "calibrate", "m.json", "held.csv", "--output", "c.json", "--json",
        "--reliability-plot", "r.svg",
      ], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    let report = try jsonObject(run.stdout)
    let tau = try #require(report["temperature"] as? Double)
    #expect(tau > 1, "an overconfident model softens: τ = \(tau)")
    let before = try #require(report["before"] as? [String: Any])
    let after = try #require(report["after"] as? [String: Any])
    let lossBefore = try #require(before["log_loss"] as? Double)
    let lossAfter = try #require(after["log_loss"] as? Double)
    #expect(lossAfter < lossBefore)
    #expect((after["calibration_bins"] as? [Any])?.count == 15)
    // The file: version 3 with the temperature; the input is untouched.
    let model = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: directory + "/c.json"))) as? [String: Any])
    #expect(model["version"] as? Int == 3)
    #expect(model["temperature"] as? Double == tau)
    let original = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: directory + "/m.json"))) as? [String: Any])
    #expect(original["temperature"] == nil)
    let svg = try String(contentsOfFile: directory + "/r.svg", encoding: .utf8)
    #expect(svg.contains("<svg") && svg.contains("perfect"))

    // Predictions are the same; eval on the held-out rows gives the
    // calibrated log loss and reports τ = 1 beside it.
    let plain = try softmax(["predict", "m.json", "held.csv"], in: directory)
    let calibrated = try softmax(["predict", "c.json", "held.csv"], in: directory)
    #expect(plain.status == 0 && calibrated.status == 0)
    #expect(plain.stdout == calibrated.stdout)
    let eval = try softmax(["eval", "c.json", "held.csv", "--json"], in: directory)
    #expect(eval.status == 0, "\(eval.stderr)")
    let metrics = try jsonObject(eval.stdout)
    #expect(metrics["temperature"] as? Double == tau)
    let evalLoss = try #require(metrics["log_loss"] as? Double)
    #expect(abs(evalLoss - lossAfter) <= 1e-12 * lossAfter)
    let uncalibrated = try #require(metrics["uncalibrated"] as? [String: Any])
    let uncalibratedLoss = try #require(uncalibrated["log_loss"] as? Double)
    #expect(abs(uncalibratedLoss - lossBefore) <= 1e-12 * lossBefore)
    // Text output names both.
    let text = try softmax(["eval", "c.json", "held.csv"], in: directory)
    #expect(text.stdout.contains("expected calibration error"))
    #expect(text.stdout.contains("at τ = 1"))
  }

  @Test("refusals: --output over the model or the data, no finite optimum, bad --bins")
  func refusals() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Self.setUp(directory)
    let overModel = try softmax(["calibrate", "m.json", "held.csv", "-o", "m.json"], in: directory)
    #expect(overModel.status == 2)
    #expect(overModel.stderr.contains("--output m.json is the model"), "\(overModel.stderr)")
    let overData = try softmax(
      ["calibrate", "m.json", "held.csv", "-o", "held.csv"], in: directory)
    #expect(overData.status == 2)
    #expect(overData.stderr.contains("is the data"), "\(overData.stderr)")
    // Iris's first 20 rows, all setosa: ranked first every time.
    let lines = try String(contentsOfFile: iris, encoding: .utf8).split(separator: "\n")
    try write(lines[0...20].joined(separator: "\n") + "\n", to: directory + "/setosa.csv")
    let trained = try softmax(["train", iris, "--model", "iris.json", "--quiet"], in: directory)
    #expect(trained.status == 0, "\(trained.stderr)")
    let separated = try softmax(
      ["calibrate", "iris.json", "setosa.csv", "-o", "out.json"], in: directory)
    #expect(separated.status == 1)
    #expect(separated.stderr.contains("setosa.csv"), "\(separated.stderr)")
    #expect(separated.stderr.contains("no temperature minimizes it"), "\(separated.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory + "/out.json"))
    let bins = try softmax(
      ["calibrate", "m.json", "held.csv", "-o", "c.json", "--bins", "0"], in: directory)
    #expect(bins.status == 64 || bins.status == 2)
    #expect(bins.stderr.contains("--bins"), "\(bins.stderr)")
  }

  @Test("train --calibrate FILE and --calibrate-on-validation store τ; options checked")
  func train() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Self.setUp(directory)
    let withFile = try softmax(
      [
        "train", "train.csv", "--C", "100", "--calibrate", "held.csv", "--model", "f.json",
        "--json",
      ], in: directory)
    #expect(withFile.status == 0, "\(withFile.stderr)")
    let report = try jsonObject(withFile.stdout)
    let tau = try #require(report["temperature"] as? Double)
    // The same fit as calibrating the separately trained model.
    let separate = try softmax(
      ["calibrate", "m.json", "held.csv", "-o", "c.json", "--json"], in: directory)
    #expect(try jsonObject(separate.stdout)["temperature"] as? Double == tau)

    let validation = try softmax(
      [
        "train", "train.csv", "--C", "100", "--validation-split", "0.3",
        "--calibrate-on-validation", "--model", "v.json",
      ], in: directory)
    #expect(validation.status == 0, "\(validation.stderr)")
    #expect(validation.stdout.contains("of the validation split"), "\(validation.stdout)")
    let model = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: directory + "/v.json"))) as? [String: Any])
    #expect((model["temperature"] as? Double ?? 1) > 1)

    let noSplit = try softmax(
      ["train", "train.csv", "--calibrate-on-validation", "--model", "x.json"], in: directory)
    #expect(noSplit.status != 0)
    #expect(noSplit.stderr.contains("needs --validation-split"), "\(noSplit.stderr)")
    let overInput = try softmax(
      ["train", "train.csv", "--calibrate", "held.csv", "--model", "held.csv"], in: directory)
    #expect(overInput.status == 2)
    #expect(overInput.stderr.contains("the calibration data"), "\(overInput.stderr)")
  }
}

@Suite("export --onnx from the command")
struct ExportCommandTests {
  @Test("writes an ONNX file (float and double); refuses the model as output and bad precision")
  func export() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let train = try softmax(
      ["train", iris, "--standardize", "--model", "m.json", "--quiet"], in: directory)
    #expect(train.status == 0, "\(train.stderr)")
    for precision in ["float", "double"] {
      let run = try softmax(
        ["export", "m.json", "--onnx", "m-\(precision).onnx", "--precision", precision],
        in: directory)
      #expect(run.status == 0, "\(run.stderr)")
      #expect(run.stdout.contains("input \"features\" [N, 4]"), "\(run.stdout)")
      let bytes = try #require(
        FileManager.default.contents(atPath: directory + "/m-\(precision).onnx"))
      // A protobuf ModelProto starts with field 1 (ir_version, varint): 0x08.
      #expect(bytes.first == 0x08)
      // The double file holds the 15 parameters and the standardization in 8 bytes each.
      #expect(bytes.count > (precision == "double" ? 8 * 23 : 4 * 23))
    }
    let over = try softmax(["export", "m.json", "--onnx", "m.json"], in: directory)
    #expect(over.status == 2)
    #expect(over.stderr.contains("--onnx m.json is the model"), "\(over.stderr)")
    let bad = try softmax(
      ["export", "m.json", "--onnx", "x.onnx", "--precision", "half"], in: directory)
    #expect(bad.status != 0)
    #expect(!FileManager.default.fileExists(atPath: directory + "/x.onnx"))
  }
}

@Suite("convert: data as .npy and a labels file")
struct ConvertCommandTests {
  @Test("digits as .npy trains the model the CSV trains (float32 both ways); refusals")
  func convert() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try softmax(["convert", digits, "digits.npy"], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("1797 rows × 64 features (float32)"), "\(run.stdout)")
    let labels = try String(contentsOfFile: directory + "/digits.labels.txt", encoding: .utf8)
    #expect(labels.split(separator: "\n").count == 1797)
    let fromNPY = try softmax(
      ["train", "digits.npy", "--labels", "digits.labels.txt", "--model", "npy.json", "--json"],
      in: directory)
    let fromCSV = try softmax(
      ["train", digits, "--precision", "float", "--model", "csv.json", "--json"], in: directory)
    #expect(fromNPY.status == 0 && fromCSV.status == 0, "\(fromNPY.stderr) \(fromCSV.stderr)")
    let a = try jsonObject(
      String(contentsOfFile: directory + "/npy.json", encoding: .utf8))
    let b = try jsonObject(
      String(contentsOfFile: directory + "/csv.json", encoding: .utf8))
    #expect(a["weights"] as? [[Double]] == b["weights"] as? [[Double]])
    #expect(a["bias"] as? [Double] == b["bias"] as? [Double])
    // Never over an input; text is refused.
    let over = try softmax(["convert", digits, digits], in: directory)
    #expect(over.status == 2)
    let labelsOver = try softmax(
      ["convert", digits, "x.npy", "--labels-out", digits], in: directory)
    #expect(labelsOver.status == 2)
    #expect(!FileManager.default.fileExists(atPath: directory + "/x.npy"))
    let text = try softmax(
      ["convert", repositoryRoot + "/Data/texts.txt", "t.npy"], in: directory)
    #expect(text.status == 1)
    #expect(text.stderr.contains("convert takes numeric data"), "\(text.stderr)")
  }
}
