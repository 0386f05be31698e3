//===--- Train+Data.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxData
import SoftmaxRegression
import SoftmaxText

/// What `train` reads: the data file, its classes, the rows to train on
/// and, from `--test-split` or `--test`, the rows to test on.
struct TrainingData {
  var all: AnyDataSet
  var classes: [String]
  var training: AnyDataSet
  var trainingLabels: [Int]
  var testing: (data: AnyDataSet, labels: [Int], name: String)?
  /// Each training row's weight (text documents with several labels).
  var trainingWeights: [Double]? = nil
  /// Text: the vectorizer fitted on the training documents.
  var vectorizer: TextVectorizer? = nil

  /// What the report says of it.
  var summary: TrainingSummary {
    TrainingSummary(
      rows: training.count, features: training.featureCount, classes: classes,
      testName: testing?.name, testRows: testing?.data.count, isFloat: all.isFloat)
  }

  /// How the training file was read, for the model to read other files
  /// the same way.
  func inputDescription(of path: String, format: DataFormat?) throws -> InputDescription {
    let report = all.report
    return InputDescription(
      format: try DataLoader.format(of: path, given: format).rawValue,
      labelColumn: report.labelColumn.map {
        InputDescription.LabelColumn(
          name: report.labelName, index: $0,
          columnCount: report.columnCount ?? training.featureCount + 1)
      }, zeroBasedIndices: report.zeroBasedIndices, featureMeans: training.featureMeans)
  }
}

extension Train {
  /// `--test-split`: the kept and held-out indices of a stratified split
  /// of `labels` (seeded by `--seed`), for data or documents (`what`, in
  /// the message when nothing is kept).
  func split(
    _ labels: [Int], classCount: Int, fraction: Double, of what: String
  ) throws -> (kept: [Int], heldOut: [Int]) {
    var generator = SplitMix64(seed: seed)
    let (kept, heldOut) = try StratifiedSplit.split(
      labels: labels, classCount: classCount, fraction: fraction, using: &generator)
    guard !kept.isEmpty else {
      throw CommandFailure("--test-split \(fraction) leaves no training \(what)")
    }
    return (kept, heldOut)
  }

  /// Reads the data, encodes its labels, and splits off or reads the test
  /// rows.
  func loadTrainingData() throws -> TrainingData {
    if dataOptions.isText(data) { return try loadTrainingText() }
    // Text settings on data that is not text would be dropped silently.
    if let setting = textOptions.changedSettings.first {
      throw CommandFailure(
        "\(data): \(setting) is for text (a file in fastText's format or a folder of class folders); this data is \((try? DataLoader.format(of: data, given: dataOptions.format))?.rawValue.uppercased() ?? "not text")"
      )
    }
    let all = try dataOptions.load(data)
    guard let labels = all.labels else {
      throw CommandFailure("\(data): no labels (give --label, or --labels for IDX and NPY)")
    }
    let encoding = ClassEncoding(labels: labels)
    guard encoding.classes.count >= 2 else {
      throw CommandFailure(
        "\(data): every row has the label \"\(encoding.classes.first ?? "")\"; a classifier needs at least 2 classes"
      )
    }
    var result = TrainingData(
      all: all, classes: encoding.classes, training: all, trainingLabels: encoding.indices)
    if let testSplit {
      let (kept, heldOut) = try split(
        encoding.indices, classCount: encoding.classes.count, fraction: testSplit, of: "rows")
      result.training = all.rows(kept)
      result.trainingLabels = kept.map { encoding.indices[$0] }
      result.testing = (all.rows(heldOut), heldOut.map { encoding.indices[$0] }, "test split")
    } else if let test {
      // Read as the training file was (precision, LIBSVM base); missing
      // values take the training data's means, as a model's predictions do.
      let loaded = try dataOptions.load(
        test, like: all, fillValues: dataOptions.missing == .mean ? all.meanFillValues : nil,
        precision: all.isFloat ? .float : .double
      ).aligned(
        toFeatureNames: all.featureNames, count: all.featureCount,
        reference: "the training data has", path: test)
      guard loaded.labels != nil else { throw CommandFailure("\(test): no labels") }
      result.testing = (loaded, try loaded.classIndices(of: encoding.classes, path: test), test)
    }
    return result
  }
}
