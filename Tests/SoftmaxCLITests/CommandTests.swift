//===--- CommandTests.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@Suite("softmax train → predict → eval on the shipped data")
struct RoundTripTests {
  @Test("the three commands agree with each other and with the labels")
  func roundTrip() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let train = try softmax(
      ["train", iris, "--test-split", "0.2", "--json", "--plot", "curve.svg"], in: directory)
    #expect(train.status == 0, "\(train.stderr)")
    let result = try jsonObject(train.stdout)
    for field in [
      "objective", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "iterations",
      "converged", "seconds", "classes", "model",
    ] {
      #expect(result[field] != nil, "missing \(field)")
    }
    #expect(result["converged"] as? Bool == true)
    #expect(result["classes"] as? [String] == ["0", "1", "2"])
    #expect((result["test_accuracy"] as? Double ?? 0) > 0.85)
    #expect(result["rows"] as? Int == 120 && result["test_rows"] as? Int == 30)
    #expect(FileManager.default.fileExists(atPath: directory + "/model.json"))
    let svg = try String(contentsOfFile: directory + "/curve.svg", encoding: .utf8)
    #expect(svg.contains("<polyline"))

    let predict = try softmax(["predict", "model.json", iris, "--proba"], in: directory)
    #expect(predict.status == 0, "\(predict.stderr)")
    let lines = predict.stdout.split(separator: "\n")
    #expect(lines.first == "predicted,p_0,p_1,p_2")
    #expect(lines.count == 151)
    // Probabilities sum to 1 and the predicted class is the most likely.
    for line in lines.dropFirst() {
      let fields = line.split(separator: ",")
      let p = fields.dropFirst().compactMap { Double($0) }
      #expect(p.count == 3 && abs(p.reduce(0, +) - 1) < 1e-12)
      #expect(Int(fields[0]) == p.indices.max { p[$0] < p[$1] })
    }
    // Accuracy by hand from predict's output and the file's labels...
    let truth = try String(contentsOfFile: iris, encoding: .utf8).split(separator: "\n").dropFirst()
      .map { $0.split(separator: ",").last.map(String.init) ?? "" }
    let predicted = lines.dropFirst().map { String($0.split(separator: ",")[0]) }
    let correct = zip(truth, predicted).filter { $0 == $1 }.count
    // ... equals eval's.
    let eval = try softmax(["eval", "model.json", iris, "--json", "--top-k", "2"], in: directory)
    #expect(eval.status == 0, "\(eval.stderr)")
    let metrics = try jsonObject(eval.stdout)
    #expect(metrics["accuracy"] as? Double == Double(correct) / 150)
    #expect(metrics["top_k"] as? Int == 2)
    let confusion = try #require(metrics["confusion_matrix"] as? [[Int]])
    #expect(confusion.joined().reduce(0, +) == 150)
    #expect((0..<3).map { confusion[$0][$0] }.reduce(0, +) == correct)
    let perClass = try #require(metrics["per_class"] as? [[String: Any]])
    #expect(perClass.map { $0["support"] as? Int } == [50, 50, 50])
    #expect(metrics["log_loss"] is Double && metrics["top_k_accuracy"] is Double)

    let text = try softmax(["eval", "model.json", iris, "--plot", "confusion.svg"], in: directory)
    #expect(text.stdout.contains("confusion matrix (rows: true class, columns: predicted)"))
    #expect(FileManager.default.fileExists(atPath: directory + "/confusion.svg"))
  }

  /// scikit-learn 1.9.1's optimum (Tests/SoftmaxRegressionTests/Fixtures,
  /// Scripts/make_regression_fixtures.py): the CLI's objective must match
  /// it to the gradient tolerance (1e-6 gives |Δf| ≲ ‖g‖²/λ ≈ 1.5e-11).
  @Test("the objective of --C 0.1 --standardize is scikit-learn's optimum")
  func objectiveMatchesScikitLearn() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try softmax(["train", iris, "--C", "0.1", "--standardize", "--json"], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    let objective = try #require(try jsonObject(run.stdout)["objective"] as? Double)
    let reference = 0.4536317466985329
    #expect(abs(objective - reference) / reference < 1e-9)
  }

  /// The trust-region Newton solver reaches the same optimum (iris is
  /// read as Double: the Double kernels, exact to a few ulps), with the
  /// solver named in the model; with --hidden or --l1 it is refused.
  @Test("--optimizer newton: scikit-learn's optimum; refused for a network and for --l1")
  func newton() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try softmax(
      ["train", iris, "--C", "0.1", "--standardize", "--optimizer", "newton", "--json"],
      in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    let result = try jsonObject(run.stdout)
    let objective = try #require(result["objective"] as? Double)
    let reference = 0.4536317466985329
    #expect(abs(objective - reference) / reference < 1e-9)
    let model = try jsonObject(
      try String(contentsOfFile: directory + "/model.json", encoding: .utf8))
    let training = try #require(model["training"] as? [String: Any])
    let options = try #require(training["options"] as? [String: Any])
    #expect(options["solver"] as? String == "newton")
    let network = try softmax(
      ["train", iris, "--optimizer", "newton", "--hidden", "4", "-o", "net.json"], in: directory)
    #expect(network.status == 64 && network.stderr.contains("--optimizer newton is for softmax"))
    let l1 = try softmax(
      ["train", iris, "--optimizer", "newton", "--l1", "0.01", "-o", "l1.json"], in: directory)
    #expect(l1.status == 64 && l1.stderr.contains("--l1 needs --optimizer lbfgs or sgd"))
    #expect(!FileManager.default.fileExists(atPath: directory + "/net.json"))
    #expect(!FileManager.default.fileExists(atPath: directory + "/l1.json"))
  }

  /// Fewer correction pairs change the path, not the optimum: the same
  /// reference as above, to the same tolerance.
  @Test("--lbfgs-memory: scikit-learn's optimum with 3 pairs, kept in the model; 0 refused")
  func lbfgsMemory() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try softmax(
      ["train", iris, "--C", "0.1", "--standardize", "--lbfgs-memory", "3", "--json"],
      in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    let objective = try #require(try jsonObject(run.stdout)["objective"] as? Double)
    let reference = 0.4536317466985329
    #expect(abs(objective - reference) / reference < 1e-9)
    let model = try jsonObject(
      try String(contentsOfFile: directory + "/model.json", encoding: .utf8))
    let training = try #require(model["training"] as? [String: Any])
    let options = try #require(training["options"] as? [String: Any])
    let lbfgs = try #require(options["lbfgs"] as? [String: Any])
    #expect(lbfgs["memory"] as? Int == 3)
    let zero = try softmax(["train", iris, "--lbfgs-memory", "0"], in: directory)
    #expect(zero.status == 64 && zero.stderr.contains("--lbfgs-memory must be at least 1, not 0"))
  }

  @Test("predict: top-k, an output file, and a file without the label column")
  func predictForms() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try softmax(["train", iris, "--quiet", "--model", "m.json"], in: directory)
    let featuresOnly =
      "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"
    try write(featuresOnly, to: directory + "/new.csv")
    let top = try softmax(
      ["predict", "m.json", "new.csv", "--top-k", "2", "--output", "out.csv"], in: directory)
    #expect(top.status == 0 && top.stdout.isEmpty, "\(top.stderr)")
    let written = try String(contentsOfFile: directory + "/out.csv", encoding: .utf8).split(
      separator: "\n")
    #expect(written.first == "label_1,p_1,label_2,p_2")
    #expect(written.count == 3)
    #expect(written[1].hasPrefix("0,") && written[2].hasPrefix("2,"))
    // Columns in another order are matched by name.
    try write(
      "petal_width_cm,petal_length_cm,sepal_width_cm,sepal_length_cm\n0.2,1.4,3.5,5.1\n",
      to: directory + "/shuffled.csv")
    let shuffled = try softmax(["predict", "m.json", "shuffled.csv"], in: directory)
    #expect(shuffled.stdout == "predicted\n0\n")
  }
}

@Suite("softmax explain and apply: the math, checked")
struct MathCommandTests {
  @Test("explain: every derivative matches its finite difference; the JSON is the closed form")
  func explain() throws {
    let text = try softmax(["explain"])
    #expect(text.status == 0)
    for section in ["== 1.", "== 4. The Jacobian", "a4(1 - a4)", "-a4·a5", "∂L/∂w41", "L after"] {
      #expect(text.stdout.contains(section), "\(section)")
    }
    let run = try softmax(["explain", "--json", "--target", "5", "--learning-rate", "0.1"])
    let json = try jsonObject(run.stdout)
    let o = [0.1, 0.2, 0.7]
    let w = [[0.1, 0.2, 0.3], [0.3, 0.2, 0.7], [0.4, 0.3, 0.9]]
    let z = w.map { row in zip(row, o).map(*).reduce(1, +) }
    let e = z.map { exp($0) }
    let a = e.map { $0 / e.reduce(0, +) }
    let y = [0.0, 1, 0]
    let reportedA = try #require(json["probabilities"] as? [Double])
    for j in 0..<3 { #expect(abs(reportedA[j] - a[j]) < 1e-15) }
    #expect(abs((json["loss"] as? Double ?? 0) + log(a[1])) < 1e-14)
    let gradient = try #require(json["weight_gradient"] as? [[Double]])
    let differences = try #require(json["weight_gradient_finite_difference"] as? [[Double]])
    for j in 0..<3 {
      for i in 0..<3 {
        #expect(abs(gradient[j][i] - (a[j] - y[j]) * o[i]) < 1e-15)
        #expect(abs(gradient[j][i] - differences[j][i]) < 1e-9)
      }
    }
    let jacobian = try #require(json["jacobian"] as? [[Double]])
    for i in 0..<3 {
      for j in 0..<3 {
        #expect(abs(jacobian[i][j] - (i == j ? a[i] * (1 - a[i]) : -a[i] * a[j])) < 1e-15)
      }
    }
    #expect((json["loss_after_step"] as? Double ?? .infinity) < (json["loss"] as? Double ?? 0))
    let bad = try softmax(["explain", "--weights", "1,2"])
    #expect(bad.status == 64 && bad.stderr.contains("--weights"))
  }

  @Test("apply: softmax, log-softmax and logsumexp of rows, round-tripping")
  func apply() throws {
    let rows = try softmax(["apply"], input: "1,2,3\n\n0 -inf 5\n")
    #expect(rows.status == 0)
    let lines = rows.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 4 && lines[1].isEmpty)
    let first = lines[0].split(separator: ",").compactMap { Double($0) }
    let e = [1.0, 2, 3].map { exp($0) }
    for j in 0..<3 {
      #expect(abs(first[j] - e[j] / e.reduce(0, +)) <= 2 * Double.ulpOfOne * first[j])
    }
    #expect(lines[2].split(separator: " ")[1] == "0.0")
    let lse = try softmax(["apply", "--op", "logsumexp"], input: "1000 1000\nnan 1\n")
    #expect(lse.stdout == "\(1000 + log(2.0))\nnan\n")
    let logs = try softmax(
      ["apply", "--op", "log-softmax", "--type", "float", "--temperature", "2"], input: "2,4\n")
    let values = logs.stdout.dropLast().split(separator: ",").compactMap { Float($0) }
    #expect(values.count == 2 && abs(values[0] - (1 - Float(log(exp(1.0) + exp(2.0))))) < 1e-6)
    let columns = try softmax(["apply", "--axis", "0"], input: "0,1\n0,1\n")
    #expect(columns.stdout == "0.5,0.5\n0.5,0.5\n")
    let bad = try softmax(["apply"], input: "1,2\n3,x\n")
    #expect(bad.status == 1 && bad.stderr == "softmax: <stdin>:2:3: \"x\" is not a number\n")
  }
}

@Suite("softmax errors: the old output kept, Ctrl-C (the catalogue is CatalogueTests)")
struct CommandErrorTests {
  @Test("eval and predict: wrong columns, an unknown label, a broken model; the old output kept")
  func modelErrors() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try softmax(["train", iris, "--quiet"], in: directory)
    try write("a,b,c\n1,2,3\n", to: directory + "/three.csv")
    try write("keep me\n", to: directory + "/out.csv")
    let columns = try softmax(
      ["predict", "model.json", "three.csv", "--output", "out.csv"], in: directory)
    #expect(columns.status == 1)
    #expect(
      columns.stderr.contains(
        "three.csv: the columns do not match the model's features: missing \"sepal_length_cm\""))
    #expect(try String(contentsOfFile: directory + "/out.csv", encoding: .utf8) == "keep me\n")
    try write("1,2,3\n", to: directory + "/bare.csv")
    let count = try softmax(["predict", "model.json", "bare.csv", "--no-header"], in: directory)
    #expect(count.stderr == "softmax: bare.csv: 2 feature columns; the model expects 4\n")
    try write(
      "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,label\n5,3,1,0.2,7\n",
      to: directory + "/unknown.csv")
    let unknown = try softmax(["eval", "model.json", "unknown.csv"], in: directory)
    #expect(unknown.status == 1)
    #expect(
      unknown.stderr.contains(
        "unknown.csv: row 1: label \"7\" is not one of the model's classes (0, 1, 2)"))
    try write("{\"format\": \"swift-softmax-model\"", to: directory + "/broken.json")
    let broken = try softmax(["eval", "broken.json", iris], in: directory)
    #expect(broken.status == 1 && broken.stderr.hasPrefix("softmax: broken.json: "))
  }

  @Test("Ctrl-C stops training, keeps the model so far, and exits 130")
  func interrupt() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    // Interrupted once training has started (its first progress line).
    let run = try interruptedSoftmax(
      ["train", digits, "--optimizer", "gd", "--max-iter", "1000000", "--tol", "0"],
      in: directory, after: "iteration 1/")
    #expect(run.status == 130, "\(run.stderr)")
    #expect(run.stderr.contains("softmax: interrupted; saved the model after"))
    #expect(run.stdout.contains("not converged (cancelled)"))
    let eval = try softmax(["eval", "model.json", digits, "--json"], in: directory)
    #expect(eval.status == 0)
  }
}

@Suite("--help and --version")
struct HelpTests {
  /// Snapshots in Tests/SoftmaxCLITests/Snapshots; run with
  /// SOFTMAX_UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate change.
  @Test(
    "help of every command matches its snapshot",
    arguments: [
      "", "train", "eval", "predict", "calibrate", "export", "convert", "explain", "apply",
    ])
  func help(command: String) throws {
    let run = try softmax((command.isEmpty ? [] : [command]) + ["--help"])
    #expect(run.status == 0)
    #expect(run.stdout.contains("Examples:"))
    let snapshot =
      repositoryRoot
      + "/Tests/SoftmaxCLITests/Snapshots/help-\(command.isEmpty ? "softmax" : command).txt"
    if ProcessInfo.processInfo.environment["SOFTMAX_UPDATE_SNAPSHOTS"] == "1" {
      try write(run.stdout, to: snapshot)
    }
    let expected = try String(contentsOfFile: snapshot, encoding: .utf8)
    #expect(run.stdout == expected)
  }

  @Test("version, and shell completions from argument-parser")
  func version() throws {
    #expect(try softmax(["--version"]).stdout == "0.1.0\n")
    let completion = try softmax(["--generate-completion-script", "bash"])
    #expect(completion.status == 0 && completion.stdout.contains("_softmax"))
  }
}
