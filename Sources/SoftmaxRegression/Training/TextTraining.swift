//===--- TextTraining.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore
public import SoftmaxText

/// Labelled documents featurized for training: the vectorizer fitted on
/// them and a sparse row per (document, label) pair.
///
/// A document with m labels (fastText's format allows several) becomes m
/// rows of weight 1/m, one per label: the objective then holds the cross
/// entropy against the uniform mixture of its labels, the expectation of
/// fastText's softmax training, which picks one of them at random each
/// time it sees the document. With one label each, every weight is 1 and
/// ``sampleWeights`` is `nil`.
public struct TextTrainingSet: Sendable {
  /// Fitted on the documents.
  public let vectorizer: TextVectorizer
  /// A row per (document, label) pair; `rows × vectorizer.featureCount`.
  public let features: SparseMatrix<Double>
  /// The class index of each row.
  public let labels: [Int]
  /// Each row's weight (1/m for a document with m labels), or `nil` when
  /// every document has one label.
  public let sampleWeights: [Double]?
  /// The classes, sorted as ``ClassEncoding`` sorts them.
  public let classes: [String]
  /// The document of each row.
  public let documentOfRow: [Int]

  /// Fits a vectorizer on `documents` and lays out their rows.
  ///
  /// - Parameters:
  ///   - documents: the training documents.
  ///   - labels: each document's labels, at least one each.
  ///   - options: how documents become features.
  ///   - classes: the classes to encode labels by; `nil` takes the
  ///     labels' own (sorted).
  /// - Throws: ``TrainingError``: `.emptyData` without documents;
  ///   `.labelOutOfRange` for a document without labels or a label not
  ///   among `classes`; `.invalidOption` for the text options or a
  ///   vocabulary left empty.
  public init(
    documents: [String], labels: [[String]], options: TextFeatureOptions = TextFeatureOptions(),
    classes: [String]? = nil
  ) throws(TrainingError) {
    guard !documents.isEmpty else { throw TrainingError(.emptyData, "no documents") }
    precondition(labels.count == documents.count, "one label list per document")
    if let empty = labels.firstIndex(where: \.isEmpty) {
      throw TrainingError(
        .labelOutOfRange, "document \(empty + 1) has no label",
        location: ErrorLocation(row: empty))
    }
    let fitted: (vectorizer: TextVectorizer, features: SparseMatrix<Double>)
    do {
      fitted = try TextVectorizer.fit(documents, options: options)
    } catch {
      throw TrainingError(.invalidOption, error.message)
    }
    let flat = labels.flatMap { $0 }
    let encoding = classes.map(ClassEncoding.init(classes:)) ?? ClassEncoding(labels: flat)
    let indices = try encoding.indices(of: flat)
    var documentOfRow: [Int] = []
    var weights: [Double] = []
    documentOfRow.reserveCapacity(flat.count)
    for (d, list) in labels.enumerated() {
      for _ in list {
        documentOfRow.append(d)
        weights.append(1 / Double(list.count))
      }
    }
    let single = flat.count == documents.count
    self.vectorizer = fitted.vectorizer
    self.features = single ? fitted.features : fitted.features.selectingRows(documentOfRow)
    self.labels = indices
    self.sampleWeights = single ? nil : weights
    self.classes = encoding.classes
    self.documentOfRow = documentOfRow
  }
}

extension SoftmaxClassifier {
  /// Trains a model of text: featurizes `documents` with
  /// ``TextTrainingSet`` (a vectorizer fitted on them), trains on the
  /// sparse rows, and keeps the vectorizer in the model (``text``), so
  /// that ``probabilities(documents:)`` featurizes new text the same way.
  ///
  ///     let model = try SoftmaxClassifier.fit(
  ///       documents: ["a goal in the last minute", "rates rise again"],
  ///       labels: [["sports"], ["finance"]])
  ///     try model.predict(documents: ["the goal keeper"])   // ["sports"]
  ///
  /// - Throws: ``TrainingError``, as ``TextTrainingSet/init(documents:labels:options:classes:)``
  ///   and the sparse fit.
  public static func fit(
    documents: [String], labels: [[String]], text: TextFeatureOptions = TextFeatureOptions(),
    options: TrainingOptions = TrainingOptions(),
    progress: (IterationReport) -> Bool = { _ in true }
  ) throws(TrainingError) -> SoftmaxClassifier {
    let set = try TextTrainingSet(documents: documents, labels: labels, options: text)
    var model = try fit(
      features: set.features, labels: set.labels, classes: set.classes,
      sampleWeights: set.sampleWeights, options: options, progress: progress)
    model.text = set.vectorizer
    return model
  }

  /// The rows of `documents` through the model's vectorizer.
  ///
  /// - Throws: ``TrainingError/Code/invalidModel`` for a model without one.
  public func features(documents: [String]) throws(TrainingError) -> SparseMatrix<Double> {
    guard let text else {
      throw TrainingError(
        .invalidModel, "the model was not trained on text: it has no vectorizer for documents")
    }
    return text.transform(documents, as: Double.self)
  }

  /// Each document's class probabilities (`n × k`).
  ///
  /// - Throws: ``TrainingError/Code/invalidModel`` for a model without a
  ///   vectorizer.
  public func probabilities(documents: [String]) throws(TrainingError) -> Matrix<Double> {
    try probabilities(features(documents: documents))
  }

  /// The most probable class of each document.
  ///
  /// - Throws: ``TrainingError/Code/invalidModel`` for a model without a
  ///   vectorizer.
  public func predict(documents: [String]) throws(TrainingError) -> [String] {
    try predict(features(documents: documents))
  }
}
