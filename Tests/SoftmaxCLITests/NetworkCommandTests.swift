//===--- NetworkCommandTests.swift ----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@Suite("Networks from the command: --hidden, --activation")
struct NetworkCommandTests {
  @Test("train --hidden writes a version-2 model that eval and predict read, and that learns")
  func trainEvalPredict() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try softmax(
      [
        "train", digits, "--hidden", "32", "--activation", "tanh", "--epochs", "15",
        "--batch-size", "32", "--standardize", "--test-split", "0.2", "--model", "net.json",
        "--json",
      ], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    let report = try #require(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(report["optimizer"] as? String == "adam")  // the default for a network
    #expect(report["hidden"] as? [Int] == [32])
    #expect(report["activation"] as? String == "tanh")
    // Digits (1,797 rows, 10 classes): a linear model reaches about 96 %.
    let accuracy = try #require(report["test_accuracy"] as? Double)
    #expect(accuracy > 0.93, "test accuracy \(accuracy)")

    let bytes = try #require(FileManager.default.contents(atPath: directory + "/net.json"))
    let model = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
    #expect(model["version"] as? Int == 2)
    let hidden = try #require(model["hidden"] as? [String: Any])
    #expect(hidden["activation"] as? String == "tanh")
    let layers = try #require(hidden["layers"] as? [[String: Any]])
    #expect(layers.count == 1)
    #expect((layers[0]["weights"] as? [[Double]])?.count == 32)
    #expect((layers[0]["weights"] as? [[Double]])?.first?.count == 64)
    #expect((model["weights"] as? [[Double]])?.first?.count == 32)

    let eval = try softmax(["eval", "net.json", digits, "--json"], in: directory)
    #expect(eval.status == 0, "\(eval.stderr)")
    let metrics = try #require(
      try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
    #expect((metrics["accuracy"] as? Double ?? 0) > 0.93)

    let predict = try softmax(["predict", "net.json", digits, "--proba"], in: directory)
    #expect(predict.status == 0, "\(predict.stderr)")
    let lines = predict.stdout.split(separator: "\n")
    #expect(lines.count == 1798)  // a header and a row per row of the file
    let probabilities = lines[1].split(separator: ",").dropFirst().compactMap { Double($0) }
    #expect(probabilities.count == 10)
    #expect(abs(probabilities.reduce(0, +) - 1) < 1e-12)
  }

  @Test("bad --hidden and --activation settings are refused, naming them")
  func badSettings() throws {
    for (arguments, message) in [
      (["--hidden", "0"], "--hidden takes widths"),
      (["--hidden", "16,x"], "--hidden takes widths"),
      (["--hidden", ""], "--hidden takes widths"),
      (["--activation", "tanh"], "--activation is for a network"),
      (["--hidden", "8", "--l1", "0.1"], "--l1 is for softmax regression"),
      (["--hidden", "8", "--activation", "swish"], "swish"),
      (["--dropout", "0.2"], "--dropout is for a network"),
      (["--hidden", "8", "--dropout", "1"], "--dropout must be in [0, 1)"),
      (
        ["--hidden", "8", "--dropout", "0.2", "--optimizer", "lbfgs"],
        "--dropout is for --optimizer sgd or adam"
      ),
    ] {
      let run = try softmax(["train", iris, "--model", "/dev/null"] + arguments)
      #expect(run.status == 64, "\(arguments): \(run.stderr)")  // a usage error
      #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
    }
  }

  @Test("sparse data with --hidden: trained from the stored entries, predicted as the rows dense")
  func sparseData() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/small.svm"
    let rows = (0..<60).map { i in
      let label = i % 2
      let a = 1 + (i * 7) % 5
      return "\(label) \(a):0.5 \(6 + label):1 \(8 + i % 3):0.25"
    }
    try (rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    let model = directory + "/m.json"
    for mode in ["--sparse", "--dense"] {
      let run = try softmax(
        [
          "train", path, mode, "--hidden", "4", "--activation", "identity", "--optimizer", "lbfgs",
          "--model", model + mode,
        ])
      #expect(run.status == 0, "\(mode): \(run.stderr)")
    }
    // Trained sparse or dense, predicted sparse or dense: the same
    // probabilities, to the last digit.
    var outputs: Set<String> = []
    for trained in ["--sparse", "--dense"] {
      for read in ["--sparse", "--dense"] {
        let run = try softmax(["predict", model + trained, path, read, "--proba"])
        #expect(run.status == 0, "\(trained) \(read): \(run.stderr)")
        outputs.insert(run.stdout)
      }
    }
    #expect(outputs.count == 1 && outputs.first?.isEmpty == false, "\(outputs)")
    let eval = try softmax(["eval", model + "--sparse", path, "--json"])
    #expect(eval.status == 0, "\(eval.stderr)")
    let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
    #expect(report?["accuracy"] as? Double == 1, "\(eval.stdout)")
  }

  @Test("explain --hidden: every derivative within 1e-8 of its finite difference, text and JSON")
  func explainHidden() throws {
    for activation in ["relu", "tanh", "gelu", "logistic", "identity"] {
      let run = try softmax(["explain", "--hidden", "3", "--activation", activation, "--json"])
      #expect(run.status == 0, "\(run.stderr)")
      let json = try #require(
        try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
      for (analytic, numeric) in [
        ("weight_gradient", "weight_gradient_finite_difference"),
        ("hidden_weight_gradient", "hidden_weight_gradient_finite_difference"),
      ] {
        let a = try #require(json[analytic] as? [[Double]]).flatMap { $0 }
        let d = try #require(json[numeric] as? [[Double]]).flatMap { $0 }
        #expect(a.count == d.count && !a.isEmpty)
        #expect(zip(a, d).allSatisfy { abs($0 - $1) <= 1e-8 }, "\(activation) \(analytic)")
      }
      let before = try #require(json["loss"] as? Double)
      let after = try #require(json["loss_after_step"] as? Double)
      #expect(after < before)
    }
    let text = try softmax(["explain", "--hidden", "2"])
    #expect(text.status == 0)
    #expect(text.stdout.contains("∂L/∂u = ∂L/∂h ⊙ f′(u)"))
    #expect(text.stdout.contains("largest |diff|"))
    for (arguments, message) in [
      (["--hidden", "0"], "--hidden takes 1 to 64 units"),
      (["--hidden", "2", "--weights", "1,2,3,4,5,6"], "fixed pattern"),
      (["--hidden", "2", "--target", "4"], "1 to 3"),
    ] {
      let run = try softmax(["explain"] + arguments)
      #expect(run.status == 64, "\(arguments): \(run.stderr)")
      #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
    }
  }
}
