//===--- SoftmaxCommand.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser

/// `softmax`: train, evaluate and use softmax classifiers on data files,
/// and explain the math.
@main
struct SoftmaxCommand: ParsableCommand {
  /// The version `--version` prints.
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "softmax",
    abstract: "Softmax classification: train, evaluate, predict, and the math explained.",
    discussion: """
      Data files: CSV/TSV (header and delimiter detected, label in the last column or \
      --label), LIBSVM/svmlight, IDX (MNIST), NumPy .npy and SciPy sparse .npz, told apart by \
      extension or --format. Models are JSON files written atomically.

      Examples:
        softmax train Data/iris.csv --test-split 0.2
        softmax eval model.json Data/iris.csv
        softmax predict model.json Data/iris.csv --proba
        softmax explain
        echo 1,2,3 | softmax apply
      """,
    version: version,
    subcommands: [
      Train.self, Evaluate.self, Predict.self, Calibrate.self, Export.self, Convert.self,
      Explain.self,
      Apply.self,
    ])
}
