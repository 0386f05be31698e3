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

extension DataPrecision: ExpressibleByArgument {}

/// `--dense` or `--sparse`.
enum LayoutFlag: String, EnumerableFlag {
  case dense
  case sparse

  static func help(for value: LayoutFlag) -> ArgumentHelp? {
    switch value {
    case .dense:
      "Store the features dense (default for LIBSVM: dense from 5% non-zeros read as float, from 85% as double; sparse below)."
    case .sparse:
      "Store the features sparse: memory in proportion to the non-zeros; --standardize then scales without centering (centering would fill every zero)."
    }
  }
}

/// How every command reads data files.
struct DataOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "The file format (default: from the extension, else the content).",
      valueName: "csv|libsvm|idx|npy|npz|fasttext"))
  var format: DataFormat?

  @Option(
    help: ArgumentHelp(
      "The label column: a header name or a 0-based index, negative from the end (default: the last column; for predict, the last unless it is one of the model's features, by name, or by count without a header)."
    ))
  var label: String?

  @Option(
    help: ArgumentHelp(
      "A labels file (IDX: default is MNIST's name beside the images; NPY and NPZ: .npy or one label per line).",
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
  var precision: DataPrecision = .automatic

  @Flag var layout: LayoutFlag?

  @Option(
    help: ArgumentHelp(
      "How text is decoded: UTF-8, with latin-1 for a document that is not valid UTF-8 (auto), or one of them.",
      valueName: "auto|utf-8|latin-1"))
  var encoding: TextEncoding = .automatic

  @Flag(
    help:
      "With a model (eval, predict): leave out LIBSVM entries whose index is beyond the model's features (it never saw them) instead of stopping."
  )
  var ignoreUnknownFeatures = false

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
    options.libsvm.ignoresUnknownFeatures = ignoreUnknownFeatures
    options.layout = layout.map { $0 == .dense ? .dense : .sparse } ?? .automatic
    return options
  }

  /// Every file reading `path` reads (the data, a labels file).
  func inputPaths(of path: String, for model: SoftmaxClassifier? = nil) throws -> [String] {
    DataLoader.inputPaths(of: path, options: try loadOptions(for: model))
  }

  /// ``inputPaths(of:for:)`` named for messages: the first as `role`
  /// ("the data", "the test data"), a labels file as "its labels file".
  func namedInputs(of path: String, role: String) throws -> [NamedPath] {
    try inputPaths(of: path).enumerated().map {
      NamedPath(role: $0.offset == 0 ? role : "its labels file", path: $0.element)
    }
  }

  /// Reads `path` as these options say, for `model` if given (see
  /// ``loadOptions(for:labelsOptional:)``), a LIBSVM file like `reference`
  /// if given, with `fillValues` for `--missing mean` if given.
  func load(
    _ path: String, for model: SoftmaxClassifier? = nil, labelsOptional: Bool = false,
    like reference: AnyDataSet? = nil, fillValues: FillValues? = nil,
    precision: DataPrecision? = nil
  ) throws -> AnyDataSet {
    var options = try loadOptions(for: model, labelsOptional: labelsOptional)
    if let fillValues { options.csv.fillValues = fillValues }
    if let reference { options.readLIBSVM(like: reference) }
    let data = try AnyDataSet.load(path, options: options, precision: precision ?? self.precision)
    data.noteReport(path)
    return data
  }
}
