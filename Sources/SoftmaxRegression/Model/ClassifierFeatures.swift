//===--- ClassifierFeatures.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Rows of features a ``SoftmaxClassifier`` predicts from: a dense
/// `Matrix` or a sparse `SparseMatrix`, of any `SoftmaxScalar`. The
/// classifier's methods (probabilities, predictions, top classes, metrics)
/// take either; a model trained on one layout predicts the other.
public protocol ClassifierFeatures: Sendable {
  /// The number of rows.
  var rows: Int { get }
  /// The number of features.
  var columns: Int { get }

  /// The rows in `range`, in the same layout.
  ///
  /// - Precondition: `range` is within `0..<rows`.
  func rows(in range: Range<Int>) -> Self

  /// Throws unless `model` can take these rows: as many columns as its
  /// features, every value finite.
  ///
  /// - Throws: ``TrainingError/Code/shapeMismatch``,
  ///   ``TrainingError/Code/nonFiniteValue`` naming the row and column.
  func validate(for model: SoftmaxClassifier) throws(TrainingError)

  /// The model's logits of every row (see
  /// ``SoftmaxClassifier/logits(_:)-(Matrix<T>)``).
  func logits(by model: SoftmaxClassifier) throws(TrainingError) -> Matrix<Double>
}

extension Matrix: ClassifierFeatures where Scalar: SoftmaxScalar {
  /// The rows in `range`.
  public func rows(in range: Range<Int>) -> Matrix {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows out of range")
    return Matrix(
      rows: range.count, columns: columns,
      elements: Array(elements[(range.lowerBound * columns)..<(range.upperBound * columns)]))
  }

  /// Checks the column count and that every value is finite.
  public func validate(for model: SoftmaxClassifier) throws(TrainingError) {
    let d = model.featureCount
    guard columns == d else {
      throw TrainingError(
        .shapeMismatch, "the data has \(columns) feature columns; the model takes \(d)")
    }
    if let bad = firstNonFiniteIndex(elements) {
      throw TrainingError(
        .nonFiniteValue, nonFiniteMessage(at: bad, columns: d, elements, model.featureNames),
        location: ErrorLocation(row: bad / Swift.max(d, 1)))
    }
  }

  /// The model's logits.
  public func logits(by model: SoftmaxClassifier) throws(TrainingError) -> Matrix<Double> {
    try model.logits(self)
  }
}

extension SparseMatrix: ClassifierFeatures where Scalar: SoftmaxScalar {
  /// The rows in `range`.
  public func rows(in range: Range<Int>) -> SparseMatrix {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows out of range")
    return selectingRows(Array(range))
  }

  /// Checks the column count and that every stored value is finite.
  public func validate(for model: SoftmaxClassifier) throws(TrainingError) {
    let d = model.featureCount
    guard columns == d else {
      throw TrainingError(
        .shapeMismatch, "the data has \(columns) features; the model takes \(d)")
    }
    if let bad = firstNonFiniteEntry() {
      let row = rowOfEntry(bad)
      throw TrainingError(
        .nonFiniteValue,
        "row \(row), \(columnName(Int(columnIndices[bad]), model.featureNames)): "
          + "\(values[bad]) is not a finite number",
        location: ErrorLocation(row: row))
    }
  }

  /// The model's logits.
  public func logits(by model: SoftmaxClassifier) throws(TrainingError) -> Matrix<Double> {
    try model.logits(self)
  }
}
