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
  /// `float` for IDX, NPY and NPZ, `double` for CSV and LIBSVM.
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
    case .automatic: return format == .idx || format == .npy || format == .npz
    }
  }
}

/// How the features of a data set are stored.
public enum DataLayout: String, Sendable, Hashable, CaseIterable {
  /// Sparse for LIBSVM files whose density is below
  /// ``LIBSVMReader/denseDensityThreshold(float:)`` (or too large to store dense)
  /// and for text; dense otherwise.
  case automatic = "auto"
  /// A dense matrix.
  case dense
  /// A sparse matrix (its stored entries).
  case sparse
}

/// A data set read in the precision its file asks for (``DataPrecision``)
/// and stored in the layout it needs (``DataLayout``): one type for the
/// code that handles any of them.
public enum AnyDataSet: Sendable {
  /// Dense features in `Float`.
  case float(DataSet<Float>)
  /// Dense features in `Double`.
  case double(DataSet<Double>)
  /// Sparse features in `Float`.
  case sparseFloat(SparseDataSet<Float>)
  /// Sparse features in `Double`.
  case sparseDouble(SparseDataSet<Double>)

  /// Reads `path` (see ``DataLoader/load(_:options:as:)``) in `precision`,
  /// in the layout of `options.layout`.
  ///
  /// - Throws: ``DataError`` from the format's reader.
  public static func load(
    _ path: String, options: LoadOptions = LoadOptions(), precision: DataPrecision = .automatic
  ) throws(DataError) -> AnyDataSet {
    // The format once: told by content, it costs reading (and
    // decompressing) the file's first 64 KiB.
    var options = options
    let format = try DataLoader.format(of: path, given: options.format)
    options.format = format
    let float = precision.readsFloat(format)
    if format == .libsvm {
      return float
        ? try libsvm(
          LIBSVMReader.parse(path, options: options.libsvm, as: Float.self), options.layout, path)
        : try libsvm(
          LIBSVMReader.parse(path, options: options.libsvm, as: Double.self), options.layout, path)
    }
    if format == .npz {
      // Sparse as saved; dense only when asked.
      if float {
        let data = try NPZReader.readSparse(path, labels: options.labelsPath, as: Float.self)
        return options.layout == .dense ? .float(data.dense()) : .sparseFloat(data)
      }
      let data = try NPZReader.readSparse(path, labels: options.labelsPath, as: Double.self)
      return options.layout == .dense ? .double(data.dense()) : .sparseDouble(data)
    }
    if float {
      let data = try DataLoader.load(path, options: options, as: Float.self)
      return options.layout == .sparse ? .sparseFloat(try data.sparse(path: path)) : .float(data)
    }
    let data = try DataLoader.load(path, options: options, as: Double.self)
    return options.layout == .sparse ? .sparseDouble(try data.sparse(path: path)) : .double(data)
  }

  /// A LIBSVM file in the layout asked for; automatic: dense when its
  /// density reaches the threshold and its dense size is allowed.
  private static func libsvm<Scalar: SoftmaxScalar>(
    _ parsed: LIBSVMReader.Parsed<Scalar>, _ layout: DataLayout, _ path: String
  ) throws(DataError) -> AnyDataSet {
    let sparse = parsed.data
    try DataLoader.requireFeatures(sparse.featureCount, hasLabels: true, path: path)
    let cells = Double(sparse.count) * Double(max(sparse.featureCount, 1))
    let density = Double(sparse.features.nonZeroCount) / cells
    let dense: Bool
    switch layout {
    case .dense: dense = true
    case .sparse: dense = false
    case .automatic:
      dense =
        density >= LIBSVMReader.denseDensityThreshold(float: Scalar.self == Float.self)
        && cells <= Double(LIBSVMReader.maximumDenseValues(fileSize: parsed.fileSize))
    }
    if dense {
      let data = try parsed.dense(path: path)
      if let data = data as? DataSet<Float> { return .float(data) }
      if let data = data as? DataSet<Double> { return .double(data) }
    }
    if let data = sparse as? SparseDataSet<Float> { return .sparseFloat(data) }
    if let data = sparse as? SparseDataSet<Double> { return .sparseDouble(data) }
    preconditionFailure("LIBSVM data of \(Scalar.self)")
  }

  /// Whether the features are `Float`.
  public var isFloat: Bool {
    switch self {
    case .float, .sparseFloat: return true
    case .double, .sparseDouble: return false
    }
  }

  /// Whether the features are stored sparse.
  public var isSparse: Bool {
    switch self {
    case .sparseFloat, .sparseDouble: return true
    case .float, .double: return false
    }
  }

  /// The labels as written, or `nil`.
  public var labels: [String]? {
    switch self {
    case .float(let data): return data.labels
    case .double(let data): return data.labels
    case .sparseFloat(let data): return data.labels
    case .sparseDouble(let data): return data.labels
    }
  }

  /// The column names, or `nil`.
  public var featureNames: [String]? {
    switch self {
    case .float(let data): return data.featureNames
    case .double(let data): return data.featureNames
    case .sparseFloat(let data): return data.featureNames
    case .sparseDouble(let data): return data.featureNames
    }
  }

  /// Rows.
  public var count: Int {
    switch self {
    case .float(let data): return data.count
    case .double(let data): return data.count
    case .sparseFloat(let data): return data.count
    case .sparseDouble(let data): return data.count
    }
  }

  /// Features.
  public var featureCount: Int {
    switch self {
    case .float(let data): return data.featureCount
    case .double(let data): return data.featureCount
    case .sparseFloat(let data): return data.featureCount
    case .sparseDouble(let data): return data.featureCount
    }
  }

  /// What the reader did beyond reading.
  public var report: LoadReport {
    switch self {
    case .float(let data): return data.report
    case .double(let data): return data.report
    case .sparseFloat(let data): return data.report
    case .sparseDouble(let data): return data.report
    }
  }

  /// The rows at `indices`, in that order.
  ///
  /// - Precondition: every index is in `0..<count`.
  public func rows(_ indices: [Int]) -> AnyDataSet {
    switch self {
    case .float(let data): return .float(data.rows(indices))
    case .double(let data): return .double(data.rows(indices))
    case .sparseFloat(let data): return .sparseFloat(data.rows(indices))
    case .sparseDouble(let data): return .sparseDouble(data.rows(indices))
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
    case .sparseFloat(let data):
      return .sparseFloat(
        try data.dense().selectingFeatures(named: names, path: path).sparse(path: path))
    case .sparseDouble(let data):
      return .sparseDouble(
        try data.dense().selectingFeatures(named: names, path: path).sparse(path: path))
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
