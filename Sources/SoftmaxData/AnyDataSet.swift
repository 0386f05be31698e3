//===--- AnyDataSet.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The precision features are read in: `Float` for the binary formats of
/// bytes and floats (IDX, NPY), `Double` for text, unless chosen.
public enum DataPrecision: String, Sendable, Hashable, CaseIterable {
  /// `float` for IDX and NPY, `double` for CSV and LIBSVM.
  case automatic = "auto"
  /// `Float`.
  case float
  /// `Double`.
  case double

  /// Whether a file of `format` is read as `Float`.
  public func readsFloat(_ format: DataFormat) -> Bool {
    switch self {
    case .float: return true
    case .double: return false
    case .automatic: return format == .idx || format == .npy
    }
  }
}

/// A data set read in the precision its file asks for (``DataPrecision``):
/// one type for the code that handles either.
public enum AnyDataSet: Sendable {
  /// Features in `Float`.
  case float(DataSet<Float>)
  /// Features in `Double`.
  case double(DataSet<Double>)

  /// Reads `path` (see ``DataLoader/load(_:options:as:)``) in `precision`.
  ///
  /// - Throws: ``DataError`` from the format's reader.
  public static func load(
    _ path: String, options: LoadOptions = LoadOptions(), precision: DataPrecision = .automatic
  ) throws(DataError) -> AnyDataSet {
    let format = try DataLoader.format(of: path, given: options.format)
    if precision.readsFloat(format) {
      return .float(try DataLoader.load(path, options: options, as: Float.self))
    }
    return .double(try DataLoader.load(path, options: options, as: Double.self))
  }

  /// Whether the features are `Float`.
  public var isFloat: Bool {
    if case .float = self { return true }
    return false
  }

  /// The labels as written, or `nil`.
  public var labels: [String]? {
    switch self {
    case .float(let data): return data.labels
    case .double(let data): return data.labels
    }
  }

  /// The column names, or `nil`.
  public var featureNames: [String]? {
    switch self {
    case .float(let data): return data.featureNames
    case .double(let data): return data.featureNames
    }
  }

  /// Rows.
  public var count: Int {
    switch self {
    case .float(let data): return data.count
    case .double(let data): return data.count
    }
  }

  /// Features.
  public var featureCount: Int {
    switch self {
    case .float(let data): return data.featureCount
    case .double(let data): return data.featureCount
    }
  }

  /// What the reader did beyond reading.
  public var report: LoadReport {
    switch self {
    case .float(let data): return data.report
    case .double(let data): return data.report
    }
  }

  /// The rows at `indices`, in that order.
  ///
  /// - Precondition: every index is in `0..<count`.
  public func rows(_ indices: [Int]) -> AnyDataSet {
    switch self {
    case .float(let data): return .float(data.rows(indices))
    case .double(let data): return .double(data.rows(indices))
    }
  }

  /// Consecutive blocks of at most `size` rows (the data itself when it
  /// fits in one).
  ///
  /// - Precondition: `size ≥ 1`.
  public func blocks(of size: Int) -> [AnyDataSet] {
    precondition(size >= 1, "a block holds at least one row")
    guard count > size else { return [self] }
    return stride(from: 0, to: count, by: size).map { first in
      rows(Array(first..<min(count, first + size)))
    }
  }

  /// The columns in the order of `names`, matched by name, when both this
  /// data and the reference (a model, or the training data) have names;
  /// otherwise the column count must be `count`.
  ///
  /// - Parameters:
  ///   - names: the reference's feature names, or `nil`.
  ///   - count: the reference's feature count.
  ///   - reference: how the count error names the reference ("the model
  ///     expects", "the training data has").
  ///   - path: the file, for the error.
  /// - Throws: ``DataError`` (`.shapeMismatch`) naming the columns that
  ///   differ, or both counts.
  public func aligned(
    toFeatureNames names: [String]?, count: Int, reference: String, path: String
  ) throws(DataError) -> AnyDataSet {
    guard let names, featureNames != nil else {
      guard featureCount == count else {
        throw DataError(
          .shapeMismatch, path: path, "\(featureCount) feature columns; \(reference) \(count)")
      }
      return self
    }
    switch self {
    case .float(let data): return .float(try data.selectingFeatures(named: names, path: path))
    case .double(let data): return .double(try data.selectingFeatures(named: names, path: path))
    }
  }
}

extension LoadOptions {
  /// Reads a LIBSVM file as `reference` was read (a test file beside its
  /// training file): the same index base, unless one is given, and the
  /// same feature count.
  public mutating func readLIBSVM(like reference: AnyDataSet) {
    guard let zeroBased = reference.report.zeroBasedIndices else { return }
    libsvm.zeroBased = libsvm.zeroBased ?? zeroBased
    libsvm.featureCount = reference.featureCount
  }
}
