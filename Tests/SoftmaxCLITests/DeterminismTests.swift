//===--- DeterminismTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@Suite("Determinism: the same data, options and seed give the same model file, byte for byte")
struct DeterminismTests {
  static let runs: [[String]] = [
    ["--standardize"],
    ["--standardize", "--precision", "float", "--l1", "1e-4"],
    [
      "--optimizer", "sgd", "--epochs", "5", "--batch-size", "50", "--momentum", "0.5", "--seed",
      "3",
    ],
    ["--optimizer", "adam", "--epochs", "5", "--validation-split", "0.2", "--precision", "float"],
    // Networks: minibatches, and full batches whose products are split
    // between the threads (blocks of 256 rows × 256 units × 64 inputs).
    [
      "--hidden", "32,16", "--epochs", "3", "--batch-size", "64", "--precision", "float",
      "--dropout", "0.2",
    ],
    [
      "--hidden", "256", "--activation", "gelu", "--optimizer", "lbfgs", "--max-iter", "4",
      "--precision", "float", "--standardize",
    ],
  ]

  @Test("1 thread, 2 threads, and 2 threads again", arguments: runs)
  func sameBytes(_ options: [String]) throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var files: [Data] = []
    for (index, threads) in ["1", "2", "2"].enumerated() {
      let run = try softmax(
        ["train", digits, "--quiet", "--threads", threads, "--model", "m\(index).json"] + options,
        in: directory)
      #expect(run.status == 0, "\(run.stderr)")
      files.append(
        try #require(FileManager.default.contents(atPath: directory + "/m\(index).json")))
    }
    #expect(files[0] == files[1], "1 and 2 threads differ")
    #expect(files[1] == files[2], "a second run differs")
  }
}
