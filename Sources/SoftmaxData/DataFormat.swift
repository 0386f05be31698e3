//===--- DataFormat.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The file formats the readers know.
public enum DataFormat: String, Sendable, Hashable, CaseIterable {
  /// Delimited text (``CSVReader``).
  case csv
  /// LIBSVM / svmlight sparse text (``LIBSVMReader``).
  case libsvm
  /// IDX binary arrays, as MNIST (``IDXReader``).
  case idx
  /// NumPy's `.npy` (``NPYReader``).
  case npy

  /// The format a file name says: `.csv`, `.tsv`, `.txt` → CSV;
  /// `.svm`, `.libsvm`, `.svmlight` → LIBSVM; `.idx`, `-ubyte` or an
  /// `idxN` part (`train-images.idx3-ubyte`) → IDX; `.npy` → NPY.
  /// `nil` when the name says none of these.
  public init?(path: String) {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    let lower = name.lowercased()
    let dot = lower.lastIndex(of: ".")
    let ext = dot.map { String(lower[lower.index(after: $0)...]) } ?? ""
    switch ext {
    case "csv", "tsv", "txt": self = .csv
    case "svm", "libsvm", "svmlight": self = .libsvm
    case "npy": self = .npy
    case "idx": self = .idx
    default:
      if lower.hasSuffix("ubyte") || lower.contains(".idx") || lower.contains("-idx") {
        self = .idx
      } else {
        return nil
      }
    }
  }
}

/// How to read a data file, whatever its format.
public struct LoadOptions: Sendable, Hashable {
  /// The format; `nil` takes it from the file name (``DataFormat/init(path:)``).
  public var format: DataFormat? = nil
  /// The label column (CSV; NPY, as an index); `nil` takes each format's
  /// default: the last CSV column, no column for NPY.
  public var label: LabelColumn? = nil
  /// A separate labels file (IDX; NPY: `.npy` or one label per line).
  /// For IDX, `nil` looks for MNIST's name beside the images
  /// (``IDXReader/labelsPath(forImages:)``), if that file exists.
  public var labelsPath: String? = nil
  /// CSV settings (its `label` is replaced by ``label`` when that is set).
  public var csv = CSVOptions()
  /// LIBSVM settings.
  public var libsvm = LIBSVMOptions()
  /// How to store the features (``AnyDataSet/load(_:options:precision:)``).
  public var layout = DataLayout.automatic

  /// Every setting detected or defaulted.
  public init() {}
}

/// Reads a data file in any of the ``DataFormat``s.
public enum DataLoader {
  /// The format of `path`: the one given, or the one its name says.
  ///
  /// - Throws: ``DataError`` (`.unsupported`) when neither tells.
  public static func format(of path: String, given: DataFormat?) throws(DataError) -> DataFormat {
    if let given { return given }
    guard let format = DataFormat(path: path) else {
      throw DataError(
        .unsupported, path: path,
        "cannot tell the format from the file name; name it .csv, .tsv, .svm, .npy or .idx, or give the format (csv, libsvm, idx, npy)"
      )
    }
    return format
  }

  /// Every file that reading `path` with `options` reads: the file, and a
  /// labels file given or found beside IDX images (so that a command can
  /// refuse an output that would replace one of them).
  public static func inputPaths(of path: String, options: LoadOptions) -> [String] {
    var paths = [path]
    if let labels = options.labelsPath { paths.append(labels) }
    if (try? format(of: path, given: options.format)) == .idx, options.labelsPath == nil,
      let guess = IDXReader.labelsPath(forImages: path), AtomicFile.exists(guess)
    {
      paths.append(guess)
    }
    return paths
  }

  /// Reads `path` into a data set of `Scalar`s.
  ///
  /// - Throws: ``DataError`` from the format's reader, naming the file
  ///   and, for text, the line and column; `.empty` when the file has no
  ///   feature columns (a CSV of labels only, text read as LIBSVM).
  public static func load<Scalar: SoftmaxScalar>(
    _ path: String, options: LoadOptions = LoadOptions(), as _: Scalar.Type = Scalar.self
  ) throws(DataError) -> DataSet<Scalar> {
    let data = try read(path, options: options, as: Scalar.self)
    try requireFeatures(data.featureCount, hasLabels: data.labels != nil, path: path)
    return data
  }

  /// Throws `.empty` for data without feature columns.
  static func requireFeatures(_ count: Int, hasLabels: Bool, path: String) throws(DataError) {
    guard count == 0 else { return }
    throw DataError(
      .empty, path: path,
      hasLabels
        ? "the file has labels but no feature columns (is it really in this format?)"
        : "the file has no feature columns")
  }

  private static func read<Scalar: SoftmaxScalar>(
    _ path: String, options: LoadOptions, as _: Scalar.Type
  ) throws(DataError) -> DataSet<Scalar> {
    switch try format(of: path, given: options.format) {
    case .csv:
      var csv = options.csv
      if let label = options.label { csv.label = label }
      return try CSVReader.read(path, options: csv, as: Scalar.self)
    case .libsvm:
      return try LIBSVMReader.read(path, options: options.libsvm, as: Scalar.self)
    case .idx:
      var labels = options.labelsPath
      if labels == nil, options.label != LabelColumn.none,
        let guess = IDXReader.labelsPath(forImages: path), AtomicFile.exists(guess)
      {
        labels = guess
      }
      return try IDXReader.read(images: path, labels: labels, as: Scalar.self)
    case .npy:
      var column: Int? = nil
      var columnIfExtra: (count: Int, index: Int)? = nil
      switch options.label {
      case .index(let index)?: column = index
      case .last?: column = -1
      case .lastUnlessFeatures(let count, _)?: columnIfExtra = (count, -1)
      case .modelLabel(let count, _, _, let index)?: columnIfExtra = (count, index ?? -1)
      case LabelColumn.none?, nil: column = nil
      case .name(let name)?:
        throw DataError(
          .labels, path: path,
          "an NPY array has no column names (asked for \"\(name)\"); give an index")
      }
      return try NPYReader.read(
        path, labels: column == nil ? options.labelsPath : nil, labelColumn: column,
        labelColumnIfExtra: columnIfExtra, as: Scalar.self)
    }
  }
}
