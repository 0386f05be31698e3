//===--- InputDescription.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// How a model's training data was read, kept in the model file so that
/// evaluation and prediction read other files the same way: where the
/// label column was, how LIBSVM indices were numbered, and each feature's
/// training mean (what a missing value is filled with).
///
/// The model knows no files: these are plain values that the readers
/// (SoftmaxData) and the `softmax` command interpret.
public struct InputDescription: Sendable, Hashable, Codable {
  /// The label column of a table.
  public struct LabelColumn: Sendable, Hashable, Codable {
    /// Its header name, when the file had a header.
    public var name: String?
    /// Its 0-based position among all `columnCount` columns.
    public var index: Int
    /// The columns of the table, features and label.
    public var columnCount: Int

    /// Creates a description.
    public init(name: String?, index: Int, columnCount: Int) {
      self.name = name
      self.index = index
      self.columnCount = columnCount
    }
  }

  /// The training file's format (`"csv"`, `"libsvm"`, `"idx"`, `"npy"`).
  public var format: String?
  /// The label column, for tables (CSV, and NPY with a label column).
  public var labelColumn: LabelColumn?
  /// LIBSVM: whether the feature indices started at 0.
  public var zeroBasedIndices: Bool?
  /// The training features' means, in the model's feature order.
  public var featureMeans: [Double]?

  /// Nothing known.
  public init(
    format: String? = nil, labelColumn: LabelColumn? = nil, zeroBasedIndices: Bool? = nil,
    featureMeans: [Double]? = nil
  ) {
    self.format = format
    self.labelColumn = labelColumn
    self.zeroBasedIndices = zeroBasedIndices
    self.featureMeans = featureMeans
  }

  /// What is inconsistent with a model of `featureCount` features, or
  /// `nil`.
  func problem(featureCount d: Int) -> String? {
    if let means = featureMeans {
      guard means.count == d else {
        return "\"feature_means\" has \(means.count) values; the model has \(d) features"
      }
      if let c = means.firstIndex(where: { !$0.isFinite }) {
        return "\"feature_means\"[\(c)] is not finite"
      }
    }
    if let label = labelColumn {
      guard label.columnCount == d + 1, label.index >= 0, label.index < label.columnCount else {
        return
          "\"label_column\" is column \(label.index) of \(label.columnCount); the model has \(d) features and one label"
      }
    }
    return nil
  }
}
