//===--- HostileInputTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Reliability, round 2: what a new user or an attacker can give the
// `softmax` command beyond malformed files (those are in the catalogue):
// finite values at the edges of Double, absurd options, paths that name
// other files, streams, and files whose layout must not be guessed. Each
// test failed (a trap, a replaced file, a wrong reading) before the fix.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whether a run ended by itself (exit status), not by a crash: a trap
/// would end it by SIGILL or SIGTRAP and print a backtrace.
func endedCleanly(_ run: CommandResult) -> Bool {
  (run.status == 0 || run.status == 1 || run.status == 2)
    && !run.stderr.contains("Fatal error") && !run.stderr.contains("crashed")
}

/// Every number in a model file's weights and bias.
func parameters(ofModelAt path: String) throws -> [Double] {
  let object = try jsonObject(String(contentsOfFile: path, encoding: .utf8))
  let weights = try #require(object["weights"] as? [[Double]])
  let bias = try #require(object["bias"] as? [Double])
  return weights.flatMap { $0 } + bias
}

@Suite("Hostile values: finite extremes train, predict and print, or fail by name")
struct ExtremeValueTests {
  @Test(
    "features near 1e308, standardized: a finite model; unstandardized: an error naming the column")
  func hugeFeatures() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var rows = "a,b,label\n"
    for i in 0..<40 {
      rows += "\(Double(i % 7 + 1) * 2.5e307),\(Double(i) * 0.1),\(i % 2 == 0 ? "x" : "y")\n"
    }
    try write(rows, to: directory + "/huge.csv")
    let standardized = try softmax(
      ["train", "huge.csv", "--standardize", "--model", "s.json"], in: directory)
    #expect(standardized.status == 0, "\(standardized.stderr)")
    #expect(try parameters(ofModelAt: directory + "/s.json").allSatisfy(\.isFinite))
    let predicted = try softmax(["predict", "s.json", "huge.csv", "--proba"], in: directory)
    #expect(predicted.status == 0)
    for line in predicted.stdout.split(separator: "\n").dropFirst() {
      let p = line.split(separator: ",").dropFirst().compactMap { Double($0) }
      #expect(
        p.count == 2 && p.allSatisfy { $0 >= 0 && $0 <= 1 } && abs(p.reduce(0, +) - 1) < 1e-12)
    }
    let raw = try softmax(["train", "huge.csv", "--model", "r.json"], in: directory)
    #expect(raw.status == 1)
    #expect(raw.stderr.hasPrefix("softmax: feature 0 (\"a\") has values up to "))
    #expect(raw.stderr.contains("standardize the features"))
    #expect(!FileManager.default.fileExists(atPath: directory + "/r.json"))
    // Float data near Float's top, and values near the smallest Double.
    try write(
      "a,b,label\n3e38,1e-300,x\n-3e38,2e-300,y\n1e38,3e-300,x\n-2e38,4e-300,y\n",
      to: directory + "/edges.csv")
    for extra in [["--precision", "float"], ["--standardize"], ["--optimizer", "adam"]] {
      let run = try softmax(["train", "edges.csv", "--model", "e.json"] + extra, in: directory)
      #expect(endedCleanly(run), "\(extra): \(run.stderr)")
      if run.status == 0 {
        #expect(try parameters(ofModelAt: directory + "/e.json").allSatisfy(\.isFinite))
      }
    }
  }

  @Test("a log loss above Int.max is printed, in the report and in JSON")
  func hugeLoss() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try softmax(["train", iris, "--quiet"], in: directory)
    var lines = try String(contentsOfFile: iris, encoding: .utf8).split(separator: "\n").map(
      String.init)
    lines[5] = "1e22" + lines[5].drop { $0 != "," }
    try write(lines.joined(separator: "\n") + "\n", to: directory + "/far.csv")
    let report = try softmax(["eval", "model.json", "far.csv"], in: directory)
    #expect(report.status == 0, "\(report.stderr)")
    #expect(report.stdout.contains("log loss 6.") && report.stdout.contains("e+19"))
    let json = try softmax(["eval", "model.json", "far.csv", "--json"], in: directory)
    #expect((try jsonObject(json.stdout)["log_loss"] as? Double ?? 0) > 1e19)
    let test = try softmax(
      ["train", iris, "--test", "far.csv", "--model", "t.json"], in: directory)
    #expect(test.status == 0 && test.stdout.contains("e+19"))
  }

  @Test("explain with huge inputs, learning rates and steps prints inf and nan, never traps")
  func explainExtremes() throws {
    for arguments in [
      ["--inputs", "1e300,1,1"], ["--inputs", "1e308,-1e308,1e308"], ["--learning-rate", "1e300"],
      ["--fd-step", "1e308"], ["--fd-step", "5e-324"],
      ["--weights", "1e308,1e308,1e308,-1e308,-1e308,-1e308,1e308,-1e308,1e308"],
    ] {
      let text = try softmax(["explain"] + arguments)
      #expect(text.status == 0, "\(arguments): \(text.stderr)")
      #expect(text.stdout.contains("L after"))
      let json = try softmax(["explain", "--json"] + arguments)
      #expect(json.status == 0)
      _ = try jsonObject(json.stdout)
    }
  }

  @Test("SGD and Adam with a learning rate of 1e20: diverged, the last finite model written")
  func absurdLearningRate() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for optimizer in ["sgd", "adam", "gd"] {
      let run = try softmax(
        ["train", iris, "--optimizer", optimizer, "--learning-rate", "1e20", "--json"],
        in: directory)
      #expect(run.status == 0, "\(optimizer): \(run.stderr)")
      #expect(try parameters(ofModelAt: directory + "/model.json").allSatisfy(\.isFinite))
      let predicted = try softmax(["predict", "model.json", iris, "--proba"], in: directory)
      #expect(predicted.status == 0 && !predicted.stdout.contains("nan"))
    }
    let sgd = try softmax(
      ["train", iris, "--optimizer", "sgd", "--learning-rate", "1e20"], in: directory)
    #expect(sgd.stderr.contains("not converged (diverged)"))
  }

  @Test("a model of huge finite weights predicts finite probabilities")
  func hugeWeights() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try write(
      """
      {"format": "swift-softmax-model", "version": 1, "classes": ["a", "b", "c"],
       "feature_names": ["f1", "f2"], "bias": [0, 0, 1e308],
       "weights": [[1e308, 1e308], [-1e308, 1e308], [1e308, -1e308]]}
      """, to: directory + "/m.json")
    try write(
      "f1,f2,label\n1,1,a\n2,-3,c\n-1,-1,c\n0,0,c\n1e300,-1e300,c\n", to: directory + "/d.csv")
    let run = try softmax(["predict", "m.json", "d.csv", "--proba"], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    let rows = run.stdout.split(separator: "\n").dropFirst().map {
      $0.split(separator: ",").map(String.init)
    }
    // The exact logits' largest: a (2e308 against c's 1e308); c (6e308);
    // c (1e308 against b's 0); c (1e308); c (2e608 against a's 0).
    #expect(rows.map { $0[0] } == ["a", "c", "c", "c", "c"])
    for row in rows {
      let p = row.dropFirst().compactMap { Double($0) }
      #expect(p.count == 3 && p.allSatisfy { $0.isFinite && $0 >= 0 } && p.reduce(0, +) == 1)
    }
    let eval = try softmax(["eval", "m.json", "d.csv", "--json"], in: directory)
    #expect(eval.status == 0)
    #expect(try jsonObject(eval.stdout)["accuracy"] as? Double == 1)
  }

  @Test("apply: a tiny temperature gives the one-hot limit, a huge one the uniform, in both types")
  func applyTemperature() throws {
    for type in ["double", "float"] {
      for tau in ["1e-320", "1e-50", "1e-300"] {
        let run = try softmax(["apply", "--type", type, "--temperature", tau], input: "1,2,3\n")
        #expect(run.stdout == "0.0,0.0,1.0\n", "\(type) τ = \(tau)")
      }
      let uniform = try softmax(
        ["apply", "--type", type, "--temperature", "1e300"], input: "1,2\n")
      #expect(uniform.stdout == "0.5,0.5\n", "\(type)")
    }
  }
}

@Suite("Hostile sizes: options and class counts are checked against the data and the memory")
struct SizeTests {
  @Test("--batch-size 2^63 - 1 and 10^12: full batches, with a note")
  func hugeBatch() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for size in ["9223372036854775807", "1000000000000"] {
      let run = try softmax(
        ["train", iris, "--optimizer", "sgd", "--batch-size", size, "--epochs", "3"], in: directory)
      #expect(run.status == 0, "\(run.stderr)")
      #expect(run.stderr.contains("is more than the 150 training rows"))
    }
  }

  @Test("more classes than memory holds: a clear error before allocating")
  func tooManyClasses() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    // 20,000 classes: a 20000 × 20000 confusion matrix is 3 GiB; the limit
    // here is 256 MiB.
    var text = "a,b,label\n"
    for i in 0..<20_000 { text += "\(i % 10),\(i % 7),c\(i)\n" }
    try write(text, to: directory + "/many.csv")
    let run = try softmax(
      ["train", "many.csv"], in: directory, environment: ["SOFTMAX_MEMORY_LIMIT": "256M"])
    #expect(run.status == 1)
    #expect(
      run.stderr
        == "softmax: 20000 classes: their 20000 × 20000 confusion matrix needs 3.0 GiB, more than half of the 256.0 MiB of memory available\n"
    )
    // The parameters alone, for a wide file: k·(d + 1) beyond the limit.
    var wide = (0..<400).map { "f\($0)" }.joined(separator: ",") + ",label\n"
    for i in 0..<600 {
      wide += (0..<400).map { String(($0 + i) % 5) }.joined(separator: ",") + ",c\(i)\n"
    }
    try write(wide, to: directory + "/wide.csv")
    let parameters = try softmax(
      ["train", "wide.csv"], in: directory, environment: ["SOFTMAX_MEMORY_LIMIT": "32M"])
    #expect(parameters.status == 1)
    #expect(
      parameters.stderr.contains("600 classes × 401 weights per class"), "\(parameters.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory + "/model.json"))
  }
}

@Suite("Hostile paths: a command never replaces a file it should not touch")
struct PathTests {
  @Test("--model through a symbolic link updates the target and keeps the link")
  func symbolicLinks() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createDirectory(
      atPath: directory + "/models", withIntermediateDirectories: true)
    try write("old\n", to: directory + "/models/v1.json")
    try FileManager.default.createSymbolicLink(
      atPath: directory + "/current.json", withDestinationPath: "models/v1.json")
    let run = try softmax(["train", iris, "--model", "current.json", "--quiet"], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    let link = try FileManager.default.destinationOfSymbolicLink(
      atPath: directory + "/current.json")
    #expect(link == "models/v1.json", "the link is still a link")
    #expect(
      try String(contentsOfFile: directory + "/models/v1.json", encoding: .utf8).contains(
        "swift-softmax-model"))
    // A dangling link creates its target.
    try FileManager.default.createSymbolicLink(
      atPath: directory + "/next.json", withDestinationPath: "models/v2.json")
    #expect(
      try softmax(["train", iris, "--model", "next.json", "--quiet"], in: directory).status == 0)
    #expect(FileManager.default.fileExists(atPath: directory + "/models/v2.json"))
    // A link to the training data is the training data.
    try FileManager.default.createSymbolicLink(
      atPath: directory + "/alias.csv", withDestinationPath: iris)
    let clash = try softmax(["train", iris, "--model", "alias.csv"], in: directory)
    #expect(clash.status == 2 && clash.stderr.contains("is the training data"))
    // A hard link too.
    try FileManager.default.copyItem(atPath: iris, toPath: directory + "/copy.csv")
    try FileManager.default.linkItem(
      atPath: directory + "/copy.csv", toPath: directory + "/hard.csv")
    let hard = try softmax(
      ["predict", "current.json", "copy.csv", "--output", "hard.csv"], in: directory)
    #expect(hard.status == 2 && hard.stderr.contains("is the data"))
  }

  @Test("devices and standard output are written in place, never replaced")
  func devices() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try softmax(["train", iris, "--quiet"], in: directory)
    for output in ["/dev/null", "/dev/stdout", "-"] {
      let run = try softmax(["predict", "model.json", iris, "--output", output], in: directory)
      #expect(run.status == 0, "\(output): \(run.stderr)")
      #expect(output == "/dev/null" ? run.stdout.isEmpty : run.stdout.hasPrefix("predicted\n0\n"))
    }
    var status = stat()
    #expect(stat("/dev/null", &status) == 0 && (status.st_mode & S_IFMT) == S_IFCHR)
    let plot = try softmax(["train", iris, "--plot", "/dev/null", "--quiet"], in: directory)
    #expect(plot.status == 0)
  }

  @Test("Ctrl-C while the data is still loading: exit 130, every file as it was")
  func interruptWhileLoading() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try write("the old model\n", to: directory + "/model.json")
    let fifo = directory + "/slow.csv"
    #expect(mkfifo(fifo, 0o600) == 0)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: softmaxBinary)
    process.arguments = ["train", "slow.csv"]
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let err = Pipe()
    process.standardError = err
    process.standardOutput = Pipe()
    try process.run()
    // Half a file, and the stream left open: the command is loading.
    let writer = try #require(FileHandle(forWritingAtPath: fifo))
    writer.write(Data("a,b,label\n1,2,x\n3,4,y\n".utf8))
    usleep(300_000)
    kill(process.processIdentifier, SIGINT)
    process.waitUntilExit()
    try? writer.close()
    #expect(process.terminationReason == .exit && process.terminationStatus == 130)
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(message.contains("interrupted before training began; nothing written"))
    #expect(
      try String(contentsOfFile: directory + "/model.json", encoding: .utf8) == "the old model\n")
  }
}

@Suite("Hostile formats: files read as their writer meant, or an error")
struct FormatTests {
  @Test("streams: a FIFO as NPY data and a pipe as the model file")
  func streams() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try softmax(["train", iris, "--quiet"], in: directory)
    let model = try String(contentsOfFile: directory + "/model.json", encoding: .utf8)
    // The model through standard input, as `<(cat model.json)` gives it.
    let piped = try softmax(["predict", "/dev/stdin", iris], in: directory, input: model)
    #expect(piped.status == 0 && piped.stdout.hasPrefix("predicted\n0\n"), "\(piped.stderr)")
  }

  @Test("LIBSVM: eval and predict read with the index base the model was trained with")
  func libsvmBase() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    // 0-based training data; a test file without any index 0 would be
    // read 1-based by detection, shifting every feature.
    try write(
      "0 0:1 1:2\n1 0:-1 2:2\n0 0:1 1:2.5\n1 0:-1 2:2.5\n0 0:0.5 1:2\n1 0:-0.5 2:2\n",
      to: directory + "/train.svm")
    try write("0 1:2\n1 2:2\n0 1:3\n1 2:3\n", to: directory + "/test.svm")
    #expect(try softmax(["train", "train.svm", "--quiet"], in: directory).status == 0)
    // train --test reads the test file as the training file was read.
    let tested = try softmax(
      ["train", "train.svm", "--test", "test.svm", "--json", "--model", "t.json"], in: directory)
    #expect(tested.status == 0, "\(tested.stderr)")
    #expect(try jsonObject(tested.stdout)["test_accuracy"] as? Double == 1)
    let eval = try softmax(["eval", "model.json", "test.svm", "--json"], in: directory)
    #expect(eval.status == 0, "\(eval.stderr)")
    #expect(try jsonObject(eval.stdout)["accuracy"] as? Double == 1)
    let told = try softmax(
      ["predict", "model.json", "test.svm", "--zero-based"], in: directory)
    let detected = try softmax(["predict", "model.json", "test.svm"], in: directory)
    #expect(told.stdout == detected.stdout && told.stdout == "predicted\n0\n1\n0\n1\n")
  }

  @Test("CSV: a header of column positions, or over a label no other row has, is a header")
  func numericHeader() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let names = ["0": "setosa", "1": "versicolor", "2": "virginica"]
    let numeric = try String(contentsOfFile: iris, encoding: .utf8).split(separator: "\n")
      .dropFirst().map(String.init)
    let text = numeric.map { line in
      let fields = line.split(separator: ",").map(String.init)
      return (fields.dropLast() + [names[fields[4]] ?? "?"]).joined(separator: ",")
    }
    func classes(_ file: String, _ header: [String], _ rows: [String], _ extra: [String] = [])
      throws -> (classes: [String]?, stderr: String)
    {
      try write((header + rows).joined(separator: "\n") + "\n", to: directory + "/" + file)
      let run = try softmax(["train", file, "--json"] + extra, in: directory)
      #expect(run.status == 0, "\(run.stderr)")
      return (try jsonObject(run.stdout)["classes"] as? [String], run.stderr)
    }
    // pandas' to_csv(index=False) of an unnamed frame: 0,1,2,3 then the label.
    #expect(try classes("pandas.csv", ["0,1,2,3,y"], text).classes == names.values.sorted())
    #expect(try classes("positions.csv", ["0,1,2,3,4"], numeric).classes == ["0", "1", "2"])
    // Numbers that are not positions, over a label seen in no other row.
    let named = try classes("named.csv", ["5,3,1.5,0.2,species"], text)
    #expect(named.classes == names.values.sorted())
    #expect(named.stderr.contains("the first row was read as the header"))
    let asData = try classes("named.csv", ["5,3,1.5,0.2,species"], text, ["--no-header"])
    #expect(asData.classes == (names.values + ["species"]).sorted())
  }

  @Test("predict --missing mean fills with the training means, whatever the other rows")
  func missingMean() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try softmax(["train", iris, "--quiet"], in: directory)
    let header = "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm"
    try write("\(header)\n6.2,,4.4,1.4\n", to: directory + "/one.csv")
    try write("\(header)\n6.2,,4.4,1.4\n7.9,100,6.9,2.5\n", to: directory + "/two.csv")
    // The training mean of sepal_width_cm (3.0573…), filled by hand.
    try write("\(header)\n6.2,3.0573333333333337,4.4,1.4\n", to: directory + "/filled.csv")
    let one = try softmax(
      ["predict", "model.json", "one.csv", "--missing", "mean", "--proba"], in: directory)
    let two = try softmax(
      ["predict", "model.json", "two.csv", "--missing", "mean", "--proba"], in: directory)
    let filled = try softmax(["predict", "model.json", "filled.csv", "--proba"], in: directory)
    let firstRow = { (run: CommandResult) in run.stdout.split(separator: "\n")[1] }
    #expect(firstRow(one) == firstRow(two), "a row's prediction does not depend on its neighbours")
    let p = firstRow(one).split(separator: ",").dropFirst().compactMap { Double($0) }
    let q = firstRow(filled).split(separator: ",").dropFirst().compactMap { Double($0) }
    #expect(p.count == 3 && zip(p, q).allSatisfy { abs($0 - $1) <= 1e-12 })
  }

  @Test("eval and predict find the label column where training had it")
  func labelColumn() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let lines = try String(contentsOfFile: iris, encoding: .utf8).split(separator: "\n").dropFirst()
    let first = lines.map { line -> String in
      let fields = line.split(separator: ",")
      return ([fields[4]] + fields[0..<4]).joined(separator: ",")
    }
    try write(first.joined(separator: "\n") + "\n", to: directory + "/first.csv")
    #expect(
      try softmax(["train", "first.csv", "--label", "0", "--quiet"], in: directory).status == 0)
    let eval = try softmax(["eval", "model.json", "first.csv", "--json"], in: directory)
    #expect(eval.status == 0, "\(eval.stderr)")
    #expect((try jsonObject(eval.stdout)["accuracy"] as? Double ?? 0) > 0.9)
    // A model trained with its label last, on a file laid out otherwise:
    // the hint names --label.
    try softmax(["train", iris, "--model", "last.json", "--quiet"], in: directory)
    try write("species," + "a,b,c,d\n" + "setosa,5.1,3.5,1.4,0.2\n", to: directory + "/text.csv")
    let hinted = try softmax(["eval", "last.json", "text.csv", "--no-header"], in: directory)
    #expect(hinted.status == 1)
    #expect(hinted.stderr.contains("give --label 0"), "\(hinted.stderr)")
  }
}

@Suite("Hostile checkpoints: damage is an error naming the file; resuming on other data says so")
struct CheckpointDamageTests {
  /// Trains 4 iterations with a checkpoint in `directory`, then rewrites
  /// the checkpoint with `damage` applied to its document and to its
  /// L-BFGS state.
  func damageCheckpoint(
    in directory: String,
    _ damage: (_ document: inout [String: Any], _ state: inout [String: Any]) throws -> Void
  ) throws {
    let run = try softmax(
      ["train", iris, "--checkpoint", "ck.json", "--max-iter", "4", "--quiet"], in: directory)
    #expect(run.status == 0)
    var document = try jsonObject(String(contentsOfFile: directory + "/ck.json", encoding: .utf8))
    var solver = try #require(document["solver"] as? [String: Any])
    var lbfgs = try #require(solver["lbfgs"] as? [String: Any])
    var state = try #require(lbfgs["state"] as? [String: Any])
    try damage(&document, &state)
    lbfgs["state"] = state
    solver["lbfgs"] = lbfgs
    document["solver"] = solver
    try JSONSerialization.data(withJSONObject: document).write(
      to: URL(fileURLWithPath: directory + "/ck.json"))
  }

  @Test(
    "NaN, inf, counters, ρ, short vectors, a zero scale: each a typed error naming the file",
    arguments: ["x nan", "x inf", "iteration", "rho", "short g", "scale 0", "mean nan", "f nan"])
  func damaged(_ damage: String) throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var standardize = false
    try damageCheckpoint(in: directory) { document, state in
      var x = try #require(state["x"] as? [Any])
      switch damage {
      case "x nan": x[0] = "nan"
      case "x inf": x[1] = "-inf"
      case "iteration": state["iteration"] = 1 << 60
      case "rho": state["rho"] = (state["rho"] as? [Any] ?? []).map { _ in -1.0 }
      case "short g": state["g"] = [0.0]
      case "f nan": state["f"] = "nan"
      default:
        standardize = true
        document["standardization"] = [
          "mean": damage == "mean nan" ? ["nan", 0, 0, 0] : [0, 0, 0, 0],
          "scale": damage == "scale 0" ? [0, 1, 1, 1] : [1, 1, 1, 1],
        ]
        var options = try #require(document["options"] as? [String: Any])
        options["standardize"] = true
        document["options"] = options
      }
      state["x"] = x
    }
    let run = try softmax(
      ["train", iris, "--checkpoint", "ck.json", "--resume", "--max-iter", "4"]
        + (standardize ? ["--standardize"] : []), in: directory)
    #expect(run.status == 1, "\(damage): \(run.stderr)")
    #expect(run.stderr.contains("softmax: ck.json: "), "\(damage): \(run.stderr)")
    #expect(endedCleanly(run))
  }

  @Test("huge finite parameters resume into a model whose printed objective is its own")
  func hugeParameters() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try damageCheckpoint(in: directory) { _, state in
      let count = (state["x"] as? [Any])?.count ?? 0
      state["x"] = (0..<count).map { Double($0 % 3) * 1e300 }
    }
    let run = try softmax(
      ["train", iris, "--checkpoint", "ck.json", "--resume", "--max-iter", "4", "--json"],
      in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    let printed = try jsonObject(run.stdout)["objective"]
    let model = try jsonObject(String(contentsOfFile: directory + "/model.json", encoding: .utf8))
    let recorded = (model["training"] as? [String: Any])?["objective"]
    // JSON cannot hold inf: the report prints null, the model file "inf".
    #expect(printed is NSNull || printed as? Double == recorded as? Double)
    #expect(recorded as? String == "inf" || (recorded as? Double)?.isFinite == true)
  }

  @Test("resuming on other data says other data, not other options")
  func otherData() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try damageCheckpoint(in: directory) { _, _ in }
    let lines = try String(contentsOfFile: iris, encoding: .utf8).split(separator: "\n")
    try write(lines.prefix(120).joined(separator: "\n") + "\n", to: directory + "/fewer.csv")
    let run = try softmax(
      ["train", "fewer.csv", "--checkpoint", "ck.json", "--resume", "--max-iter", "4"],
      in: directory)
    #expect(run.status == 1)
    #expect(run.stderr.contains("the checkpoint was made on other data"), "\(run.stderr)")
  }
}
