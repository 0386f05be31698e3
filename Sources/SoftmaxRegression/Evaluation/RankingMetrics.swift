//===--- RankingMetrics.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Precision and recall at k, as fastText's `test` prints them: each
/// document's predictions are its k most probable classes whose
/// probability is at least a threshold; precision is the fraction of all
/// predictions that are among their document's labels, recall the
/// fraction of all labels predicted. With one label a document and
/// k = 1, both are the accuracy.
public struct RankingMetrics: Sendable, Hashable, Codable {
  /// k.
  public var k: Int
  /// The least probability a prediction needs.
  public var threshold: Double
  /// The documents.
  public var documents: Int
  /// The predictions made (k a document, fewer under the threshold).
  public var predictions: Int
  /// The labels of all documents.
  public var labels: Int
  /// The predictions that are among their document's labels.
  public var correct: Int

  /// correct / predictions (0 without predictions).
  public var precision: Double { predictions > 0 ? Double(correct) / Double(predictions) : 0 }
  /// correct / labels (0 without labels).
  public var recall: Double { labels > 0 ? Double(correct) / Double(labels) : 0 }

  /// The metrics of `probabilities` (`n × classes`) against each row's
  /// label set.
  ///
  /// - Precondition: `labels.count == probabilities.rows`, `k ≥ 1`.
  /// - Complexity: O(n·k·log k).
  public init(probabilities: Matrix<Double>, labels: [[Int]], k: Int, threshold: Double = 0) {
    precondition(labels.count == probabilities.rows, "one label set per row")
    precondition(k >= 1, "k must be at least 1")
    self.k = k
    self.threshold = threshold
    documents = labels.count
    predictions = 0
    self.labels = labels.reduce(0) { $0 + $1.count }
    correct = 0
    for (ranked, truth) in zip(SoftmaxClassifier.ranked(probabilities, count: k), labels) {
      for prediction in ranked where prediction.probability >= threshold {
        predictions += 1
        if truth.contains(prediction.classIndex) { correct += 1 }
      }
    }
  }
}
