//===--- TextCommandTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

let texts = repositoryRoot + "/Data/texts.txt"

@Suite("Text through the command")
struct TextCommandTests {
  @Test("train on a fastText file, predict from stdin and from a folder, eval with P@k")
  func textEndToEnd() throws {
    let directory = try scratchDirectory()
    let train = try softmax(
      ["train", texts, "--ngrams", "2", "--test-split", "0.25", "--json", "--model", "m.json"],
      in: directory)
    #expect(train.status == 0, "\(train.stderr)")
    let report = try jsonObject(train.stdout)
    #expect((report["test_accuracy"] as? Double ?? 0) > 0.9)
    let model = try jsonObject(
      String(
        decoding: try Data(contentsOf: URL(fileURLWithPath: directory + "/m.json")), as: UTF8.self))
    let text = try #require(model["text"] as? [String: Any])
    let options = try #require(text["options"] as? [String: Any])
    #expect(options["word_n_grams"] as? Int == 2)

    let predicted = try softmax(
      ["predict", "m.json", "-", "--top-k", "2", "--threshold", "0.2"], in: directory,
      input: "The keeper saved a penalty in the last minute\nBake the bread and whisk the eggs\n")
    #expect(predicted.status == 0, "\(predicted.stderr)")
    let lines = predicted.stdout.split(separator: "\n")
    #expect(lines.count == 3)
    #expect(lines[1].hasPrefix("football,"))
    #expect(lines[2].hasPrefix("cooking,"))
    // Every row has 2k fields, empty below the threshold.
    #expect(
      lines.dropFirst().allSatisfy {
        $0.split(separator: ",", omittingEmptySubsequences: false).count == 4
      })

    // A blank line is a document too: one row per input line, in order,
    // as fastText's predict (`paste lines.txt predictions.csv` lines up).
    let blank = try softmax(
      ["predict", "m.json", "-"], in: directory,
      input: "The keeper saved a penalty\n\nBake the bread and whisk the eggs\n")
    #expect(blank.status == 0, "\(blank.stderr)")
    let rows = blank.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(rows.count == 5, "\(blank.stdout)")  // the header, 3 rows, the last line feed
    #expect(rows.count == 5 && rows[1] == "football" && rows[3] == "cooking")

    let folder = directory + "/docs"
    for (label, body) in [("football", "the striker scored"), ("weather", "rain and wind tonight")]
    {
      try FileManager.default.createDirectory(
        atPath: folder + "/" + label, withIntermediateDirectories: true)
      try write(body, to: folder + "/\(label)/1.txt")
    }
    let evaluated = try softmax(["eval", "m.json", folder], in: directory)
    #expect(evaluated.status == 0, "\(evaluated.stderr)")
    #expect(evaluated.stdout.contains("P@1 1.0000   R@1 1.0000   (2 documents, 2 labels)"))

    // A label the model does not know is named with its document's line
    // (not its place among the line's labels).
    try write(
      "__label__football a goal\n\n__label__cooking __label__opera an aria\n",
      to: directory + "/unseen.txt")
    let unseen = try softmax(["eval", "m.json", "unseen.txt"], in: directory)
    #expect(unseen.status == 1)
    #expect(
      unseen.stderr.contains("unseen.txt:3: label \"opera\" is not one of the model's classes"),
      "\(unseen.stderr)")

    let all = try softmax(["eval", "m.json", texts, "--json"], in: directory)
    let metrics = try jsonObject(all.stdout)
    #expect(metrics["precision_at_1"] as? Double != nil)
    #expect(all.stderr.contains("24 documents with several labels count in P@k and R@k only"))
  }

  @Test("the same model bytes with 1 and 2 threads")
  func threads() throws {
    let directory = try scratchDirectory()
    for threads in ["1", "2"] {
      let run = try softmax(
        [
          "train", texts, "--ngrams", "2", "--threads", threads, "--quiet", "--model",
          "m\(threads).json",
        ],
        in: directory)
      #expect(run.status == 0, "\(run.stderr)")
    }
    let one = try Data(contentsOf: URL(fileURLWithPath: directory + "/m1.json"))
    let two = try Data(contentsOf: URL(fileURLWithPath: directory + "/m2.json"))
    #expect(one == two)
  }

  @Test(
    "a text network (fastText's architecture: --hidden with --activation identity), in Float and Double, the same model bytes with 1 and 2 threads"
  )
  func embeddingNetwork() throws {
    let directory = try scratchDirectory()
    var accuracies: [String: Double] = [:]
    for precision in ["float", "double"] {
      for threads in ["1", "2"] {
        let run = try softmax(
          [
            "train", texts, "--hidden", "8", "--activation", "identity", "--optimizer", "adam",
            "--learning-rate", "0.01", "--batch-size", "16", "--epochs", "40", "--test-split",
            "0.25", "--precision", precision, "--threads", threads, "--json", "--model",
            "\(precision)\(threads).json",
          ],
          in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        #expect(report["hidden"] as? [Int] == [8], "\(run.stdout)")
        accuracies[precision] = report["test_accuracy"] as? Double
      }
      let one = try Data(contentsOf: URL(fileURLWithPath: directory + "/\(precision)1.json"))
      let two = try Data(contentsOf: URL(fileURLWithPath: directory + "/\(precision)2.json"))
      #expect(one == two, "\(precision): 1 and 2 threads differ")
    }
    // The float model is not the double one (the features were rounded),
    // and both learn the held-out quarter.
    let float = try Data(contentsOf: URL(fileURLWithPath: directory + "/float1.json"))
    let double = try Data(contentsOf: URL(fileURLWithPath: directory + "/double1.json"))
    #expect(float != double)
    #expect((accuracies["float"] ?? 0) > 0.9 && (accuracies["double"] ?? 0) > 0.9, "\(accuracies)")
    let predicted = try softmax(
      ["predict", "float1.json", "-"], in: directory,
      input: "The keeper saved a penalty in the last minute\nBake the bread and whisk the eggs\n")
    #expect(predicted.status == 0, "\(predicted.stderr)")
    #expect(
      predicted.stdout.split(separator: "\n").dropFirst().map(String.init) == [
        "football", "cooking",
      ])
  }
}
