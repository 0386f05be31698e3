//===--- SparseDataSet.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Features stored sparse (a `SparseMatrix`) and labels, read from a
/// file: LIBSVM data, bag-of-words and n-gram features of text.
public struct SparseDataSet<Scalar: SoftmaxScalar>: Sendable {
  /// `n × d`, one row per sample; every stored value finite.
  public var features: SparseMatrix<Scalar>
  /// `n` labels as written in the file, or `nil` when it has none.
  public var labels: [String]?
  /// `d` feature names, when the reader has them; `nil` otherwise.
  public var featureNames: [String]?
  /// What the reader did to the data beyond reading it.
  public var report: LoadReport

  /// Creates a data set.
  ///
  /// - Precondition: `labels` and `featureNames`, when given, have `n`
  ///   and `d` entries.
  public init(
    features: SparseMatrix<Scalar>, labels: [String]?, featureNames: [String]? = nil,
    report: LoadReport = LoadReport()
  ) {
    precondition(labels.map { $0.count == features.rows } ?? true, "one label per row")
    precondition(
      featureNames.map { $0.count == features.columns } ?? true, "one feature name per column")
    self.features = features
    self.labels = labels
    self.featureNames = featureNames
    self.report = report
  }

  /// Rows (samples).
  public var count: Int { features.rows }
  /// Columns (features).
  public var featureCount: Int { features.columns }

  /// The rows at `indices`, in that order.
  ///
  /// - Precondition: every index is in `0..<count`.
  public func rows(_ indices: [Int]) -> SparseDataSet {
    SparseDataSet(
      features: features.selectingRows(indices),
      labels: labels.map { all in indices.map { all[$0] } }, featureNames: featureNames,
      report: report)
  }

  /// The same data stored dense.
  ///
  /// - Complexity: O(n·d) memory and time.
  public func dense() -> DataSet<Scalar> {
    DataSet(
      features: features.dense(), labels: labels, featureNames: featureNames, report: report)
  }
}

extension DataSet {
  /// The same data stored sparse (its non-zero values).
  ///
  /// - Parameter path: the file the data came from, for the error.
  /// - Throws: ``DataError`` (`.unsupported`) when the data has more
  ///   columns than a sparse matrix indexes (`SparseMatrix.maximumColumns`,
  ///   2^31 − 1).
  /// - Complexity: O(n·d).
  public func sparse(path: String = "") throws(DataError) -> SparseDataSet<Scalar> {
    try sparse(path: path, columnLimit: SparseMatrix<Scalar>.maximumColumns)
  }

  /// ``sparse(path:)`` with the column limit given (tests use a small one).
  func sparse(path: String, columnLimit: Int) throws(DataError) -> SparseDataSet<Scalar> {
    guard featureCount <= columnLimit else {
      throw DataError(
        .unsupported, path: path,
        "\(featureCount) feature columns: sparse data holds at most \(columnLimit) (read it dense)")
    }
    return SparseDataSet(
      features: SparseMatrix(features), labels: labels, featureNames: featureNames,
      report: report)
  }
}
