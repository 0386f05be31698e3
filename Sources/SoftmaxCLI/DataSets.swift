//===--- DataSets.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxData
import SoftmaxRegression

// The command's glue between data sets of either precision and models:
// one switch each, the work in the libraries.

extension AnyDataSet {
  /// The features, whatever their precision and layout, as the
  /// classifier's methods take them.
  var features: any ClassifierFeatures {
    switch self {
    case .float(let set): return set.features
    case .double(let set): return set.features
    case .sparseFloat(let set): return set.features
    case .sparseDouble(let set): return set.features
    }
  }

  /// The model's metrics on these rows.
  func evaluate(
    _ model: SoftmaxClassifier, labels: [Int], topK: Int, calibrationBins: Int = 15
  ) throws -> ClassificationMetrics {
    try model.evaluate(
      features: features, labels: labels, topK: min(topK, model.classCount),
      calibrationBins: calibrationBins)
  }

  /// `model` with its temperature fitted on these rows.
  func calibrate(_ model: SoftmaxClassifier, labels: [Int]) throws
    -> (model: SoftmaxClassifier, fit: TemperatureScaling)
  {
    try model.calibrated(features: features, labels: labels)
  }

  /// The model's class probabilities of every row.
  func probabilities(_ model: SoftmaxClassifier) throws -> Matrix<Double> {
    try model.probabilities(features)
  }

  /// The fraction of these rows whose most probable class is the label,
  /// or `nil` without rows.
  func accuracy(_ model: SoftmaxClassifier, labels: [Int]) -> Double? {
    guard let predicted = try? model.predictedClassIndices(features), !labels.isEmpty else {
      return nil
    }
    return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
  }

  /// Each feature's mean (exact for any finite values; see
  /// `Standardization(fitting:)`), for the model to fill missing values
  /// with at prediction; `nil` for sparse data, which has none missing.
  var featureMeans: [Double]? {
    switch self {
    case .float(let set): return Standardization(fitting: set.features).mean
    case .double(let set): return Standardization(fitting: set.features).mean
    case .sparseFloat, .sparseDouble: return nil
    }
  }

  /// Its feature means as `--missing mean` takes them, by name when the
  /// file has names.
  var meanFillValues: FillValues? {
    guard let means = featureMeans else { return nil }
    if let names = featureNames {
      return .byName(Dictionary(zip(names, means), uniquingKeysWith: { first, _ in first }))
    }
    return .byPosition(means)
  }

  /// The columns in `model`'s order (see
  /// `aligned(toFeatureNames:count:reference:path:)`); when no label
  /// column was found and a column the model does not know is there, the
  /// error says it may be the labels.
  func matching(_ model: SoftmaxClassifier, path: String) throws -> AnyDataSet {
    do {
      return try aligned(
        toFeatureNames: model.featureNames, count: model.featureCount,
        reference: "the model expects", path: path)
    } catch {
      if labels == nil, let names = model.featureNames,
        let extra = featureNames?.first(where: { !names.contains($0) })
      {
        throw CommandFailure(
          "\(error.description) (if \"\(extra)\" holds the labels, give --label \(extra))")
      }
      throw error
    }
  }

  /// Says on stderr what the reader filled in, skipped or decided.
  func noteReport(_ path: String) { noteLoadReport(report, of: path) }

  /// The class index of every label by `classes`; a label not among them
  /// is an error naming the file, its row and the column it was read from.
  func classIndices(of classes: [String], path: String) throws -> [Int] {
    guard let labels else {
      throw CommandFailure(
        "\(path): no labels to evaluate against (give --label, or --labels for IDX and NPY)")
    }
    do {
      return try ClassEncoding(classes: classes).indices(of: labels)
    } catch {
      let column = report.labelColumn.map {
        "; labels read from column \($0) (--label N reads another)"
      }
      throw CommandFailure("\(path): \(error.message)\(column ?? "")")
    }
  }
}

/// Says on stderr what reading `path` did beyond reading it: notes, filled
/// values, skipped rows.
func noteLoadReport(_ report: LoadReport, of path: String) {
  for note in report.notes { StandardError.write("softmax: note: \(path): \(note)\n") }
  if report.filledValues > 0 {
    StandardError.write("softmax: \(path): filled \(report.filledValues) missing values\n")
  }
  if report.skippedRows > 0 {
    StandardError.write(
      "softmax: \(path): skipped \(report.skippedRows) rows with missing values\n")
  }
}
