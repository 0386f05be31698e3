//===--- StreamCommandTests.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@Suite("train --stream: an NPY file read from disk on every pass")
struct StreamCommandTests {
  /// A scratch directory holding digits as `digits.npy` and
  /// `digits.labels.txt`.
  static func digitsAsNPY() throws -> String {
    let directory = try scratchDirectory()
    let run = try softmax(["convert", digits, "digits.npy"], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    return directory
  }

  @Test(
    "The streamed model file is the in-memory one, byte for byte",
    arguments: [
      ["--standardize"], ["--l1", "0.001", "--max-iter", "30"],
      ["--optimizer", "gd", "--max-iter", "20", "--class-weight", "balanced"],
      ["--validation-split", "0.2", "--standardize", "--max-iter", "40"],
    ])
  func sameModel(options: [String]) throws {
    let directory = try Self.digitsAsNPY()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let common = ["train", "digits.npy", "--labels", "digits.labels.txt"] + options
    let streamed = try softmax(
      common + ["--stream", "--model", "streamed.json", "--json"], in: directory)
    #expect(streamed.status == 0, "\(streamed.stderr)")
    let loaded = try softmax(common + ["--model", "loaded.json", "--json"], in: directory)
    #expect(loaded.status == 0, "\(loaded.stderr)")
    let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/streamed.json"))
    let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/loaded.json"))
    #expect(a == b, "\(options)")
    // The report says the same.
    let reportA = try jsonObject(streamed.stdout)
    let reportB = try jsonObject(loaded.stdout)
    for key in ["objective", "train_loss", "train_accuracy", "validation_loss", "iterations"] {
      #expect(
        String(describing: reportA[key]) == String(describing: reportB[key]), "\(key) \(options)")
    }
  }

  @Test(
    "A CSV file parsed on every pass writes the in-memory model file, byte for byte",
    arguments: [
      ["--standardize"], ["--precision", "float", "--l1", "0.001", "--max-iter", "40"],
      ["--optimizer", "gd", "--max-iter", "20", "--validation-split", "0.2"],
    ])
  func csv(options: [String]) throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for file in [digits, repositoryRoot + "/Data/iris.csv"] {
      let streamed = try softmax(
        ["train", file, "--stream", "--model", "streamed.json"] + options, in: directory)
      #expect(streamed.status == 0, "\(streamed.stderr)")
      #expect(streamed.stderr.contains("parsed on every pass"), "\(streamed.stderr)")
      let loaded = try softmax(["train", file, "--model", "loaded.json"] + options, in: directory)
      #expect(loaded.status == 0, "\(loaded.stderr)")
      let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/streamed.json"))
      let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/loaded.json"))
      #expect(a == b, "\(file) \(options)")
    }
    // Minibatches need rows at random, --missing mean every row first,
    // Newton's Hessian products the rows' probabilities in memory.
    for refused in [["--optimizer", "sgd"], ["--missing", "mean"], ["--optimizer", "newton"]] {
      let run = try softmax(["train", digits, "--stream"] + refused, in: directory)
      #expect(run.status == 64, "\(refused): \(run.stderr)")
      #expect(run.stderr.contains("needs the rows in memory"), "\(run.stderr)")
    }
  }

  @Test("Streamed SGD is in-memory SGD with --shuffle-chunk of the stream's chunk rows")
  func minibatch() throws {
    let directory = try Self.digitsAsNPY()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let common = [
      "train", "digits.npy", "--labels", "digits.labels.txt", "--standardize", "--optimizer",
      "sgd", "--epochs", "3", "--momentum", "0.9", "--learning-rate", "0.05",
    ]
    let streamed = try softmax(common + ["--stream", "--model", "streamed.json"], in: directory)
    #expect(streamed.status == 0, "\(streamed.stderr)")
    // digits' 64 float32 columns: 8 MiB chunks of 32768 rows.
    #expect(streamed.stderr.contains("in chunks of 32768 rows (8.0 MiB)"), "\(streamed.stderr)")
    let loaded = try softmax(
      common + ["--shuffle-chunk", "32768", "--model", "loaded.json"], in: directory)
    #expect(loaded.status == 0, "\(loaded.stderr)")
    let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/streamed.json"))
    let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/loaded.json"))
    #expect(a == b)
    let bad = try softmax(common + ["--shuffle-chunk", "0"], in: directory)
    #expect(bad.status == 64)
  }

  @Test("A streamed run says so and tests on --test; Ctrl-C and --resume give the in-memory model")
  func progressTestAndResume() throws {
    let directory = try Self.digitsAsNPY()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let common = ["train", "digits.npy", "--labels", "digits.labels.txt", "--standardize"]
    let run = try softmax(
      common + ["--stream", "--test", digits, "--model", "m.json"], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.contains("streaming digits.npy (1797 rows × 64 '<f4') in chunks of"))
    #expect(run.stdout.contains("test           loss"), "\(run.stdout)")
    try softmax(common + ["--quiet", "--model", "uninterrupted.json"], in: directory)
    let resumable =
      common + ["--stream", "--model", "resumed.json", "--checkpoint", "ck.json", "--resume"]
    let interrupted = try interruptedSoftmax(resumable, in: directory, after: "iteration 1/")
    #expect(interrupted.status == 130, "\(interrupted.stderr)")
    let finish = try softmax(resumable, in: directory)
    #expect(finish.status == 0, "\(finish.stderr)")
    #expect(finish.stderr.contains("resuming from ck.json, after iteration "), "\(finish.stderr)")
    let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/uninterrupted.json"))
    let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/resumed.json"))
    #expect(a == b, "the resumed streamed model differs from the in-memory one")
  }

  @Test(
    "Options that need the rows in memory are refused, naming the alternative",
    arguments: [
      (["--test-split", "0.2"], "--test-split needs the rows in memory"),
      (["--hidden", "8"], "--hidden needs the rows in memory"),
      (
        ["--validation-split", "0.2", "--calibrate-on-validation"],
        "--calibrate-on-validation needs the rows in memory"
      ),
      (["--memory-limit", "1M"], "give --memory-limit"),
    ])
  func refusals(options: [String], says: String) throws {
    let directory = try Self.digitsAsNPY()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try softmax(
      ["train", "digits.npy", "--labels", "digits.labels.txt", "--stream"] + options,
      in: directory)
    #expect(run.status == 64, "\(run.stderr)")
    #expect(run.stderr.contains(says), "\(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory + "/model.json"))
  }

  /// Digits written as LIBSVM (1-based, the zero pixels left out) in
  /// `directory`.
  static func digitsAsLIBSVM(in directory: String) throws -> String {
    let text = try String(contentsOfFile: digits, encoding: .utf8)
    var out = ""
    for line in text.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: ",")
      guard let label = fields.last else { continue }
      out += label
      for (i, value) in fields.dropLast().enumerated() where Double(value) != 0 {
        out += " \(i + 1):\(value)"
      }
      out += "\n"
    }
    let path = directory + "/digits.svm"
    try write(out, to: path)
    return path
  }

  @Test(
    "A LIBSVM file parsed on every pass writes the in-memory sparse model file, byte for byte",
    arguments: [
      ["--standardize"], ["--precision", "float", "--l1", "0.001", "--max-iter", "40"],
      ["--optimizer", "gd", "--max-iter", "20", "--validation-split", "0.2"],
      ["--memory-limit", "66M", "--class-weight", "balanced", "--max-iter", "30"],
    ])
  func libsvm(options: [String]) throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    _ = try Self.digitsAsLIBSVM(in: directory)
    let streamed = try softmax(
      ["train", "digits.svm", "--stream", "--model", "streamed.json", "--json"] + options,
      in: directory)
    #expect(streamed.status == 0, "\(streamed.stderr)")
    let loaded = try softmax(
      ["train", "digits.svm", "--sparse", "--model", "loaded.json", "--json"] + options,
      in: directory)
    #expect(loaded.status == 0, "\(loaded.stderr)")
    let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/streamed.json"))
    let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/loaded.json"))
    #expect(a == b, "\(options)")
    let reportA = try jsonObject(streamed.stdout)
    let reportB = try jsonObject(loaded.stdout)
    for key in ["objective", "train_loss", "train_accuracy", "validation_loss", "iterations"] {
      #expect(
        String(describing: reportA[key]) == String(describing: reportB[key]), "\(key) \(options)")
    }
    // The model predicts the file as one trained in memory does.
    let predicted = try softmax(["predict", "streamed.json", "digits.svm"], in: directory)
    let expected = try softmax(["predict", "loaded.json", "digits.svm"], in: directory)
    #expect(predicted.status == 0, "\(predicted.stderr)")
    #expect(predicted.stdout == expected.stdout)
    // Minibatches need rows at random; a streamed file trains sparse.
    for refused in [["--optimizer", "adam"], ["--dense"]] {
      let run = try softmax(["train", "digits.svm", "--stream"] + refused, in: directory)
      #expect(run.status == 64, "\(refused): \(run.stderr)")
    }
  }

  @Test(
    "convert writes a LIBSVM file as a SciPy .npz; streamed, it trains the in-memory model",
    arguments: [
      ["--standardize"], ["--l1", "0.001", "--max-iter", "40"],
      ["--optimizer", "gd", "--max-iter", "20", "--validation-split", "0.2"],
    ])
  func npz(options: [String]) throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    _ = try Self.digitsAsLIBSVM(in: directory)
    let converted = try softmax(["convert", "digits.svm", "digits.npz"], in: directory)
    #expect(converted.status == 0, "\(converted.stderr)")
    #expect(
      converted.stdout.contains(
        "1797 rows × 64 features (sparse, float32) written to digits.npz; labels to digits.labels.txt"
      ), "\(converted.stdout)")
    let common = ["train", "digits.npz", "--labels", "digits.labels.txt"] + options
    let streamed = try softmax(common + ["--stream", "--model", "streamed.json"], in: directory)
    #expect(streamed.status == 0, "\(streamed.stderr)")
    #expect(streamed.stderr.contains("58736 stored entries)"), "\(streamed.stderr)")
    let loaded = try softmax(common + ["--model", "loaded.json"], in: directory)
    #expect(loaded.status == 0, "\(loaded.stderr)")
    let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/streamed.json"))
    let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/loaded.json"))
    #expect(a == b, "\(options)")
    // The same rows as the LIBSVM file, read as float: the same model.
    let fromText = try softmax(
      ["train", "digits.svm", "--sparse", "--precision", "float", "--model", "text.json"]
        + options, in: directory)
    #expect(fromText.status == 0, "\(fromText.stderr)")
    let modelA = try jsonObject(String(decoding: a, as: UTF8.self))
    let modelC = try jsonObject(
      String(
        decoding: try Data(contentsOf: URL(fileURLWithPath: directory + "/text.json")),
        as: UTF8.self))
    #expect(
      String(describing: modelA["weights"]) == String(describing: modelC["weights"]),
      "\(options)")
    // SGD reads the stored archive's chunks at random: in-memory SGD with
    // --shuffle-chunk of the stream's chunk rows (digits: 32 entries a
    // row, 8 MiB chunks of 31744 rows).
    let sgd =
      ["train", "digits.npz", "--labels", "digits.labels.txt", "--optimizer", "sgd"]
      + ["--epochs", "2", "--momentum", "0.9", "--standardize"]
    let streamedSGD = try softmax(
      sgd + ["--stream", "--model", "sgd-streamed.json"], in: directory)
    #expect(streamedSGD.status == 0, "\(streamedSGD.stderr)")
    #expect(streamedSGD.stderr.contains("in chunks of 31744 rows"), "\(streamedSGD.stderr)")
    let loadedSGD = try softmax(
      sgd + ["--shuffle-chunk", "31744", "--model", "sgd-loaded.json"], in: directory)
    #expect(loadedSGD.status == 0, "\(loadedSGD.stderr)")
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: directory + "/sgd-streamed.json"))
        == Data(contentsOf: URL(fileURLWithPath: directory + "/sgd-loaded.json")))
    // Without labels, streaming says what to give.
    let unlabelled = try softmax(["train", "digits.npz", "--stream"], in: directory)
    #expect(unlabelled.status == 1)
    #expect(unlabelled.stderr.contains("--labels PATH"), "\(unlabelled.stderr)")
  }

  @Test(
    "--stream needs an NPY, NPZ, CSV or LIBSVM file and its labels; --memory-limit needs a size")
  func usage() throws {
    let directory = try Self.digitsAsNPY()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try write("__label__a one two\n__label__b three\n", to: directory + "/small.txt")
    let text = try softmax(["train", "small.txt", "--stream"], in: directory)
    #expect(text.status == 64, "\(text.stderr)")
    #expect(
      text.stderr.contains("--stream reads NPY, NPZ, CSV and LIBSVM files"), "\(text.stderr)")
    // A LIBSVM file streamed says so.
    try write("1 1:0.5 3:1\n0 2:1\n1 1:1\n0 3:0.25\n", to: directory + "/small.svm")
    let libsvm = try softmax(["train", "small.svm", "--stream"], in: directory)
    #expect(libsvm.status == 0, "\(libsvm.stderr)")
    #expect(
      libsvm.stderr.contains("(4 rows × 3 features, 5 stored entries, parsed on every pass)"),
      "\(libsvm.stderr)")
    let unlabelled = try softmax(["train", "digits.npy", "--stream"], in: directory)
    #expect(unlabelled.status == 1)
    #expect(unlabelled.stderr.contains("--labels PATH"), "\(unlabelled.stderr)")
    let size = try softmax(
      ["train", "digits.npy", "--labels", "digits.labels.txt", "--memory-limit", "lots"],
      in: directory)
    #expect(size.status == 64)
    #expect(size.stderr.contains("--memory-limit takes a byte count"), "\(size.stderr)")
  }
}
