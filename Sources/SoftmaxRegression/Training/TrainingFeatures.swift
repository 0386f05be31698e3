//===--- TrainingFeatures.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// A layout of features that `fit` trains on (dense `Matrix`, sparse
/// `SparseMatrix`): what differs between layouts — the objective, the
/// standardization learned, the checks and the fingerprint — behind one
/// interface, so that `fit` is written once.
protocol TrainingFeatures: Sendable {
  /// The objective of softmax regression on this layout.
  associatedtype Objective: TrainingObjective
  /// The scalar of the features.
  associatedtype Scalar: SoftmaxScalar

  /// `n`.
  var rows: Int { get }
  /// `d`.
  var columns: Int { get }
  /// Vectors of `k·(d + 1)` doubles an evaluation's workspace holds
  /// beyond the solver's.
  static var workspaceVectors: Int { get }

  /// The rows at `indices`, in that order.
  func selectingRows(_ indices: [Int]) -> Self

  /// Throws ``TrainingError/Code/nonFiniteValue`` naming the first value
  /// that is NaN or infinite.
  func checkFinite(featureNames: [String]?) throws(TrainingError)

  /// The standardization `options.standardize` learns on this layout.
  func fittedStandardization(sampleWeights: [Double]?) throws(TrainingError) -> Standardization

  /// A hash of the data, for checkpoints.
  func fingerprint(labels: [Int], sampleWeights: [Double]?) throws(TrainingError)
    -> DataFingerprint

  /// These rows as a network's features.
  func networkFeatures() throws(TrainingError) -> NetworkFeatures<Scalar>

  /// Throws what reading the rows during training met (streamed rows; the
  /// others cannot fail).
  func checkReads() throws(TrainingError)

  /// The objective over these rows.
  func objective(
    labels: [Int], classCount: Int, sampleWeights: [Double]?, classWeights: [Double]?,
    l2: Double, l1: Double, standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) -> Objective
}

extension TrainingFeatures {
  /// Nothing to throw: the rows are in memory.
  func checkReads() throws(TrainingError) {}

  /// The objective of a network with these hidden layers over these rows.
  func networkObjective(
    hidden: TrainingOptions.HiddenLayers, labels: [Int], classCount: Int,
    sampleWeights: [Double]?, classWeights: [Double]?, l2: Double,
    standardization: Standardization?, dropoutSeed: UInt64
  ) throws(TrainingError) -> NetworkObjective<Scalar> {
    try NetworkObjective(
      features: networkFeatures(), labels: labels, classCount: classCount,
      hiddenWidths: hidden.widths, activation: hidden.activation, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, standardization: standardization,
      dropout: hidden.dropout, dropoutSeed: dropoutSeed)
  }
}

extension Matrix: TrainingFeatures where Scalar: SoftmaxScalar {
  static var workspaceVectors: Int { 0 }
  func networkFeatures() -> NetworkFeatures<Scalar> { .dense(self) }

  func checkFinite(featureNames: [String]?) throws(TrainingError) {
    if let bad = firstNonFiniteIndex(elements) {
      throw TrainingError(
        .nonFiniteValue, nonFiniteMessage(at: bad, columns: columns, elements, featureNames),
        location: ErrorLocation(row: bad / Swift.max(columns, 1)))
    }
  }

  func fittedStandardization(sampleWeights: [Double]?) -> Standardization {
    Standardization(fitting: self, sampleWeights: sampleWeights)
  }

  func fingerprint(labels: [Int], sampleWeights: [Double]?) -> DataFingerprint {
    DataFingerprint(features: self, labels: labels, sampleWeights: sampleWeights)
  }

  func objective(
    labels: [Int], classCount: Int, sampleWeights: [Double]?, classWeights: [Double]?,
    l2: Double, l1: Double, standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) -> SoftmaxRegressionObjective<Scalar> {
    try SoftmaxRegressionObjective(
      features: self, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1, standardization: standardization,
      featureNames: featureNames)
  }
}

extension SparseMatrix: TrainingFeatures where Scalar: SoftmaxScalar {
  /// The weights and the gradient laid out by column.
  static var workspaceVectors: Int { 2 }
  func networkFeatures() -> NetworkFeatures<Scalar> { .sparse(self) }

  func checkFinite(featureNames: [String]?) throws(TrainingError) {
    if let bad = firstNonFiniteEntry() {
      throw sparseNonFiniteError(
        row: rowOfEntry(bad), column: Int(columnIndices[bad]), values[bad], featureNames)
    }
  }

  func fittedStandardization(sampleWeights: [Double]?) -> Standardization {
    Standardization(scaling: self, sampleWeights: sampleWeights)
  }

  func fingerprint(labels: [Int], sampleWeights: [Double]?) -> DataFingerprint {
    DataFingerprint(features: self, labels: labels, sampleWeights: sampleWeights)
  }

  func objective(
    labels: [Int], classCount: Int, sampleWeights: [Double]?, classWeights: [Double]?,
    l2: Double, l1: Double, standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) -> SparseSoftmaxRegressionObjective<Scalar> {
    try SparseSoftmaxRegressionObjective(
      features: self, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1, standardization: standardization,
      featureNames: featureNames)
  }
}

/// "row 3, feature 7: nan is not a finite number", for a sparse entry (in
/// memory or streamed), located at its row.
func sparseNonFiniteError<V>(row: Int, column: Int, _ value: V, _ featureNames: [String]?)
  -> TrainingError
{
  TrainingError(
    .nonFiniteValue,
    "row \(row), \(columnName(column, featureNames)): \(value) is not a finite number",
    location: ErrorLocation(row: row))
}
