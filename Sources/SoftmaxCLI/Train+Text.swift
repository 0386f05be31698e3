//===--- Train+Text.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxData
import SoftmaxRegression
import SoftmaxText

extension Train {
  /// Reads labelled text, splits off or reads the test documents, fits the
  /// vectorizer on the training documents only, and lays out the rows
  /// (``TextTrainingSet``: a document with m labels is m rows of weight
  /// 1/m).
  func loadTrainingText() throws -> TrainingData {
    let text = try dataOptions.loadText(data, requireLabels: true)
    let labels = text.labels ?? []
    let firstLabels = ClassEncoding(labels: labels.map { $0[0] })
    var trainingDocuments = text
    var testDocuments: (set: TextDataSet, name: String)? = nil
    if let testSplit {
      let (kept, heldOut) = try split(
        firstLabels.indices, classCount: firstLabels.classes.count, fraction: testSplit,
        of: "documents")
      trainingDocuments = text.documents(kept)
      testDocuments = (text.documents(heldOut), "test split")
    } else if let test {
      testDocuments = (try dataOptions.loadText(test, requireLabels: true), test)
    }
    let set: TextTrainingSet
    do {
      set = try TextTrainingSet(
        documents: trainingDocuments.documents, labels: trainingDocuments.labels ?? [],
        options: textOptions.featureOptions)
    } catch {
      throw CommandFailure("\(data): \(error.message)")
    }
    guard set.classes.count >= 2 else {
      throw CommandFailure(
        "\(data): every document has the label \"\(set.classes.first ?? "")\"; a classifier needs at least 2 classes"
      )
    }
    // Tf-idf values in Double, or rounded to Float with --precision float
    // (half the memory traffic; a network's layers then run in Float).
    let float = dataOptions.precision == .float
    let labelNames = set.labels.map { set.classes[$0] }
    let training =
      float
      ? AnyDataSet.sparseFloat(
        SparseDataSet(
          features: set.features.roundedToFloat(), labels: labelNames,
          report: trainingDocuments.report))
      : AnyDataSet.sparseDouble(
        SparseDataSet(features: set.features, labels: labelNames, report: trainingDocuments.report))
    var result = TrainingData(
      all: training, classes: set.classes, training: training, trainingLabels: set.labels)
    result.trainingWeights = set.sampleWeights
    result.vectorizer = set.vectorizer
    if let (documents, name) = testDocuments {
      result.testing = try testRows(documents, name: name, set: set)
    }
    return result
  }

  /// The test documents with one label as rows for the usual metrics
  /// (documents with several count in precision and recall at k, which
  /// `eval` reports).
  private func testRows(_ documents: TextDataSet, name: String, set: TextTrainingSet) throws
    -> (data: AnyDataSet, labels: [Int], name: String)
  {
    let single = (documents.labels ?? []).indices.filter { documents.labels?[$0].count == 1 }
    guard !single.isEmpty else {
      throw CommandFailure("\(name): no test document has exactly one label")
    }
    let chosen = documents.documents(single)
    let labels = (chosen.labels ?? []).map { $0[0] }
    let indices = try chosen.classIndices(of: set.classes).map { $0[0] }
    if dataOptions.precision == .float {
      let features = set.vectorizer.transform(chosen.documents, as: Float.self)
      return (.sparseFloat(SparseDataSet(features: features, labels: labels)), indices, name)
    }
    let features = set.vectorizer.transform(chosen.documents, as: Double.self)
    return (.sparseDouble(SparseDataSet(features: features, labels: labels)), indices, name)
  }
}

extension SparseMatrix<Double> {
  /// The same entries, each value rounded to the nearest `Float`.
  fileprivate func roundedToFloat() -> SparseMatrix<Float> {
    SparseMatrix<Float>(
      unchecked: rows, columns: columns, rowOffsets: rowOffsets, columnIndices: columnIndices,
      values: values.map { Float($0) })
  }
}
