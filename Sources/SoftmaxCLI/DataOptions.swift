//===--- DataOptions.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import ArgumentParser
import SoftmaxCore
public import SoftmaxData
import SoftmaxRegression

extension DataFormat: ExpressibleByArgument {}
extension MissingValuePolicy: ExpressibleByArgument {}

/// The precision features are read and trained in.
enum Precision: String, ExpressibleByArgument, CaseIterable {
  /// `float` for binary files of bytes or floats (IDX, NPY), `double`
  /// for text.
  case auto
  case float
  case double
}

/// How every command reads data files.
struct DataOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "The file format (default: from the extension).", valueName: "csv|libsvm|idx|npy"))
  var format: DataFormat?

  @Option(
    help: ArgumentHelp(
      "The label column: a header name or a 0-based index, negative from the end (default: the last column; for predict, the last unless it is one of the model's features, by name, or by count without a header)."
    ))
  var label: String?

  @Option(
    help: ArgumentHelp(
      "A labels file (IDX: default is MNIST's name beside the images; NPY: .npy or one label per line).",
      valueName: "path"))
  var labels: String?

  @Option(
    help: ArgumentHelp(
      "The CSV field separator (default: detected among , ; tab).", valueName: "char"))
  var delimiter: String?

  @Flag(
    inversion: .prefixedNo,
    help: "Whether the CSV's first row names the columns (default: detected).")
  var header: Bool?

  @Option(
    help: ArgumentHelp(
      "What to do with a missing or non-numeric feature value.", valueName: "error|skip|zero|mean"))
  var missing: MissingValuePolicy = .error

  @Flag(
    inversion: .prefixedNo,
    help:
      "Whether LIBSVM indices start at 0 (default: detected, as scikit-learn's zero_based='auto').")
  var zeroBased: Bool?

  @Option(
    help: ArgumentHelp(
      "Read features as float or double (auto: float for IDX and NPY, double for text).",
      valueName: "auto|float|double"))
  var precision: Precision = .auto

  func validate() throws {
    if let delimiter, delimiterScalar == nil {
      throw ValidationError("--delimiter takes one character (or 'tab'), not \"\(delimiter)\"")
    }
  }

  /// The `--delimiter` character (`tab` and `\t` spell a tab).
  var delimiterScalar: Unicode.Scalar? {
    guard let delimiter else { return nil }
    if delimiter == "tab" || delimiter == "\\t" { return "\t" }
    return delimiter.unicodeScalars.count == 1 ? delimiter.unicodeScalars.first : nil
  }

  /// The label column as the readers take it.
  var labelColumn: LabelColumn? {
    guard let label else { return nil }
    if let index = Int(label) { return .index(index) }
    return .name(label)
  }

  /// The readers' options. With a `model` (eval, predict), the file is
  /// read as the model's training file was, unless an option says
  /// otherwise: its label column (by name, or by position when the file
  /// has one column more than the features; `labelsOptional` lets predict
  /// read a file without one), its LIBSVM index base and feature count,
  /// and, under `--missing mean`, its training means.
  func loadOptions(for model: SoftmaxClassifier? = nil, labelsOptional: Bool = false) throws
    -> LoadOptions
  {
    var options = LoadOptions()
    options.format = format
    options.label = labelColumn
    let input = model?.input
    if let model, labelColumn == nil {
      if let trained = input?.labelColumn {
        options.label = .modelLabel(
          count: model.featureCount, names: model.featureNames, trainedName: trained.name,
          trainedIndex: trained.index)
      } else if labelsOptional {
        options.label = .lastUnlessFeatures(count: model.featureCount, names: model.featureNames)
      }
    }
    options.labelsPath = labels
    options.csv.delimiter = delimiterScalar
    options.csv.hasHeader = header
    options.csv.missingValues = missing
    if missing == .mean, let model, let means = input?.featureMeans {
      if let names = model.featureNames {
        options.csv.fillValues = .byName(
          Dictionary(zip(names, means), uniquingKeysWith: { first, _ in first }))
      } else {
        options.csv.fillValues = .byPosition(means)
      }
    }
    options.libsvm.zeroBased = zeroBased ?? input?.zeroBasedIndices
    options.libsvm.featureCount = model?.featureCount
    return options
  }

  /// Every file reading `path` reads (the data, a labels file).
  func inputPaths(of path: String, for model: SoftmaxClassifier? = nil) throws -> [String] {
    DataLoader.inputPaths(of: path, options: try loadOptions(for: model))
  }

  /// Whether to read `path` as `Float`.
  func readsFloat(_ path: String) throws -> Bool {
    switch precision {
    case .float: return true
    case .double: return false
    case .auto:
      let format = try DataLoader.format(of: path, given: format)
      return format == .idx || format == .npy
    }
  }
}

/// A data set in the precision the options chose.
enum LoadedData {
  case float(DataSet<Float>)
  case double(DataSet<Double>)

  /// Reads `path` as `options` say, for `model` if given (see
  /// ``DataOptions/loadOptions(for:labelsOptional:)``); `fillValues`, if
  /// given, are what `--missing mean` fills in (another file's means).
  static func load(
    _ path: String, options: DataOptions, for model: SoftmaxClassifier? = nil,
    labelsOptional: Bool = false, fillValues: FillValues? = nil, like reference: LoadedData? = nil
  ) throws -> LoadedData {
    var load = try options.loadOptions(for: model, labelsOptional: labelsOptional)
    if let fillValues { load.csv.fillValues = fillValues }
    // A LIBSVM file read beside another (a test file beside the training
    // file) takes its index base and feature count.
    if let reference, let zeroBased = reference.report.zeroBasedIndices {
      load.libsvm.zeroBased = options.zeroBased ?? zeroBased
      load.libsvm.featureCount = reference.featureCount
    }
    if try options.readsFloat(path) {
      return .float(try DataLoader.load(path, options: load, as: Float.self))
    }
    return .double(try DataLoader.load(path, options: load, as: Double.self))
  }

  var labels: [String]? {
    switch self {
    case .float(let data): return data.labels
    case .double(let data): return data.labels
    }
  }

  var featureNames: [String]? {
    switch self {
    case .float(let data): return data.featureNames
    case .double(let data): return data.featureNames
    }
  }

  var count: Int {
    switch self {
    case .float(let data): return data.count
    case .double(let data): return data.count
    }
  }

  var featureCount: Int {
    switch self {
    case .float(let data): return data.featureCount
    case .double(let data): return data.featureCount
    }
  }

  var report: LoadReport {
    switch self {
    case .float(let data): return data.report
    case .double(let data): return data.report
    }
  }

  /// Calls `body` with consecutive blocks of at most `size` rows.
  func forEachBlock(of size: Int, _ body: (LoadedData) throws -> Void) throws {
    var first = 0
    while first < count {
      let end = min(count, first + size)
      try body(first == 0 && end == count ? self : rows(Array(first..<end)))
      first = end
    }
  }

  /// The model's class probabilities of every row.
  func probabilities(_ model: SoftmaxClassifier) throws -> Matrix<Double> {
    switch self {
    case .float(let set): return try model.probabilities(set.features)
    case .double(let set): return try model.probabilities(set.features)
    }
  }

  func rows(_ indices: [Int]) -> LoadedData {
    switch self {
    case .float(let data): return .float(data.rows(indices))
    case .double(let data): return .double(data.rows(indices))
    }
  }

  /// The columns in the order of `names`, matched by name, when both this
  /// data and the reference (a model, or the training data) have names;
  /// otherwise the column count must be `count`.
  ///
  /// - Parameter reference: how the count error names the reference
  ///   ("the model expects", "the training data has").
  func aligned(toFeatureNames names: [String]?, count: Int, reference: String, path: String)
    throws -> LoadedData
  {
    guard let names, featureNames != nil else {
      guard featureCount == count else {
        throw CommandFailure("\(path): \(featureCount) feature columns; \(reference) \(count)")
      }
      return self
    }
    do {
      switch self {
      case .float(let data): return .float(try data.selectingFeatures(named: names, path: path))
      case .double(let data): return .double(try data.selectingFeatures(named: names, path: path))
      }
    } catch {
      // No label column was found, and a column the model does not know
      // is there: most likely the labels, under another name.
      if labels == nil, let extra = featureNames?.first(where: { !names.contains($0) }) {
        throw CommandFailure(
          "\(error.description) (if \"\(extra)\" holds the labels, give --label \(extra))")
      }
      throw error
    }
  }

  /// The columns in `model`'s order (see ``aligned(toFeatureNames:count:reference:path:)``).
  func matching(_ model: SoftmaxClassifier, path: String) throws -> LoadedData {
    try aligned(
      toFeatureNames: model.featureNames, count: model.featureCount,
      reference: "the model expects", path: path)
  }

  /// Its feature means as `--missing mean` takes them, by name when the
  /// file has names.
  var meanFillValues: FillValues {
    let means = featureMeans
    if let names = featureNames {
      return .byName(Dictionary(zip(names, means), uniquingKeysWith: { first, _ in first }))
    }
    return .byPosition(means)
  }

  /// Says on stderr what the reader filled in, skipped or decided.
  func noteReport(_ path: String) {
    for note in report.notes { StandardError.write("softmax: note: \(path): \(note)\n") }
    if report.filledValues > 0 {
      StandardError.write("softmax: \(path): filled \(report.filledValues) missing values\n")
    }
    if report.skippedRows > 0 {
      StandardError.write(
        "softmax: \(path): skipped \(report.skippedRows) rows with missing values\n")
    }
  }
}

/// The class index of each label, by the model's (or the training set's)
/// classes; a label not among them is an error naming it and its row.
///
/// `labelColumn` (the 0-based column the labels were read from, for
/// tables) is named in the error, with how to choose another.
func classIndices(_ labels: [String], classes: [String], path: String, labelColumn: Int? = nil)
  throws -> [Int]
{
  var index: [String: Int] = [:]
  for (k, name) in classes.enumerated() { index[name] = k }
  var result: [Int] = []
  result.reserveCapacity(labels.count)
  for (row, label) in labels.enumerated() {
    guard let k = index[label] else {
      let shown = classes.prefix(10).joined(separator: ", ") + (classes.count > 10 ? ", ..." : "")
      let column =
        labelColumn.map { "; labels read from column \($0) (--label N reads another)" } ?? ""
      throw CommandFailure(
        "\(path): row \(row + 1): label \"\(label)\" is not one of the model's classes (\(shown))\(column)"
      )
    }
    result.append(k)
  }
  return result
}
