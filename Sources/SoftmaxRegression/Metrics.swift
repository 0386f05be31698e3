//===--- Metrics.swift ----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Precision, recall and F1 of one class.
public struct ClassScores: Sendable, Hashable, Codable {
  /// Correct predictions of the class over all predictions of it (0 if
  /// it was never predicted, as scikit-learn's `zero_division=0`).
  public var precision: Double
  /// Correct predictions of the class over its true count (0 if absent).
  public var recall: Double
  /// The harmonic mean of precision and recall (0 if both are 0).
  public var f1: Double
  /// Rows whose true class this is.
  public var support: Int

  /// Creates scores.
  public init(precision: Double, recall: Double, f1: Double, support: Int) {
    self.precision = precision
    self.recall = recall
    self.f1 = f1
    self.support = support
  }
}

/// How well predictions match true labels: the metrics of scikit-learn's
/// `accuracy_score`, `log_loss`, `top_k_accuracy_score`,
/// `precision_recall_fscore_support` and `confusion_matrix`, unweighted.
public struct ClassificationMetrics: Sendable, Hashable, Codable {
  /// Rows evaluated.
  public var count: Int
  /// The fraction of rows whose most probable class is the true one.
  public var accuracy: Double
  /// The mean of `−log p(true class)`, from log-probabilities (exact where
  /// the probability underflows; no clipping).
  public var logLoss: Double
  /// The k of ``topKAccuracy``.
  public var topK: Int
  /// The fraction of rows whose true class is among the k most probable
  /// (ties broken toward the lower class index).
  public var topKAccuracy: Double
  /// `confusionMatrix[true][predicted]`: row counts.
  public var confusionMatrix: [[Int]]
  /// Per class, in class order.
  public var perClass: [ClassScores]
  /// The unweighted mean of the per-class F1 scores.
  public var macroF1: Double
  /// The mean of the per-class F1 scores weighted by support.
  public var weightedF1: Double

  /// Computes the metrics of a model's log-probabilities against labels.
  ///
  /// - Parameters:
  ///   - logProbabilities: `n × k` (``SoftmaxClassifier/logProbabilities(_:)``).
  ///   - labels: `n` class indices.
  ///   - topK: the k of the top-k accuracy (clipped to `k`).
  /// - Throws: ``TrainingError`` if counts disagree or a label is out of range.
  /// - Complexity: O(n·k·log k).
  public init(logProbabilities: Matrix<Double>, labels: [Int], topK: Int = 5) throws(TrainingError)
  {
    let n = logProbabilities.rows
    let k = logProbabilities.columns
    guard labels.count == n else {
      throw TrainingError(.shapeMismatch, "\(labels.count) labels for \(n) rows")
    }
    guard n > 0 else { throw TrainingError(.emptyData, "no rows to evaluate") }
    if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= k }) {
      throw TrainingError(.labelOutOfRange, "row \(bad): label \(labels[bad]) is not in 0..<\(k)")
    }
    let kTop = max(1, min(topK, k))
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    var correct = 0
    var topCorrect = 0
    var loss = 0.0
    for i in 0..<n {
      let row = Array(logProbabilities.row(i))
      let label = labels[i]
      let predicted = argmax(row)
      confusion[label][predicted] += 1
      if predicted == label { correct += 1 }
      if topIndices(row, count: kTop).contains(label) { topCorrect += 1 }
      loss -= row[label]
    }
    var scores: [ClassScores] = []
    for c in 0..<k {
      let truePositives = Double(confusion[c][c])
      let predictedCount = Double((0..<k).reduce(0) { $0 + confusion[$1][c] })
      let support = confusion[c].reduce(0, +)
      let precision = predictedCount > 0 ? truePositives / predictedCount : 0
      let recall = support > 0 ? truePositives / Double(support) : 0
      let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
      scores.append(ClassScores(precision: precision, recall: recall, f1: f1, support: support))
    }
    count = n
    accuracy = Double(correct) / Double(n)
    logLoss = loss / Double(n)
    self.topK = kTop
    topKAccuracy = Double(topCorrect) / Double(n)
    confusionMatrix = confusion
    perClass = scores
    macroF1 = scores.map(\.f1).reduce(0, +) / Double(k)
    weightedF1 = scores.map { $0.f1 * Double($0.support) }.reduce(0, +) / Double(n)
  }
}

extension SoftmaxClassifier {
  /// The metrics of this model on labelled data.
  ///
  /// - Throws: ``TrainingError`` for mismatched shapes or labels.
  public func evaluate<T: SoftmaxScalar>(features: Matrix<T>, labels: [Int], topK: Int = 5)
    throws(TrainingError) -> ClassificationMetrics
  {
    try ClassificationMetrics(
      logProbabilities: logProbabilities(features), labels: labels, topK: topK)
  }
}
