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
  /// A SciPy sparse matrix saved by `scipy.sparse.save_npz` (``NPZReader``),
  /// its labels in a file of their own.
  case npz
  /// Text in fastText's format, a document per line with `__label__`
  /// tokens (``TextReader``); features come from featurizing it
  /// (SoftmaxText), not from a reader.
  case fastText = "fasttext"

  /// The format a file name says: `.csv`, `.tsv` → CSV; `.svm`,
  /// `.libsvm`, `.svmlight` → LIBSVM; `.idx`, `-ubyte` or an `idxN` part
  /// (`train-images.idx3-ubyte`) → IDX; `.npy` → NPY; a compression's
  /// ending (`.gz`, `.bz2`, `.xz`) is looked through
  /// (`train-images-idx3-ubyte.gz`). `nil` when the name says none of
  /// these (`.txt`, `news20.t`, `dna.scale`): ``DataLoader`` then looks
  /// at the content (``init(content:)``).
  public init?(path: String) {
    var name = (path.split(separator: "/").last.map(String.init) ?? path).lowercased()
    for compression in Compression.allCases where name.hasSuffix("." + compression.fileExtension) {
      name.removeLast(compression.fileExtension.count + 1)
    }
    let dot = name.lastIndex(of: ".")
    let ext = dot.map { String(name[name.index(after: $0)...]) } ?? ""
    switch ext {
    case "csv", "tsv": self = .csv
    case "svm", "libsvm", "svmlight": self = .libsvm
    case "npy": self = .npy
    case "npz": self = .npz
    case "idx": self = .idx
    default:
      if name.hasSuffix("ubyte") || name.contains(".idx") || name.contains("-idx") {
        self = .idx
      } else {
        return nil
      }
    }
  }

  /// The format of a file that begins with `prefix` (its first bytes,
  /// decompressed; 64 KiB is plenty): NPY's and IDX's magic numbers; text
  /// (after a UTF-8 byte-order mark, if any) with a `__label__` token is
  /// fastText's, text whose lines are a label then `index:value` pairs is
  /// LIBSVM; other text is CSV. `nil` for binary data of no known format
  /// (UTF-16 text among it).
  public init?(content: [UInt8]) {
    let prefix = content.dropFirst(utf8ByteOrderMarkLength(content))
    if prefix.starts(with: [0x93] + Array("NUMPY".utf8)) {
      self = .npy
      return
    }
    // A zip archive: of the formats read, only `.npz` is one.
    if prefix.starts(with: [0x50, 0x4b, 0x03, 0x04]) {
      self = .npz
      return
    }
    // IDX: two zero bytes, an element type, 1 to 8 dimensions.
    let first = Array(prefix.prefix(4))
    if first.count == 4, first[0] == 0, first[1] == 0,
      [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E].contains(first[2]), (1...8).contains(first[3])
    {
      self = .idx
      return
    }
    if prefix.contains(0) { return nil }
    // The first lines (the last one may be cut by the prefix's end).
    var lines = prefix.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
    if lines.count > 1 && prefix.last != UInt8(ascii: "\n") { lines.removeLast() }
    let content = lines.prefix(100).filter { line in
      let trimmed = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
      return !trimmed.isEmpty && trimmed.first != UInt8(ascii: "#")
        && trimmed.first != UInt8(ascii: "\r")
    }
    let label = Array("__label__".utf8)
    if content.contains(where: { line in
      line.indices.contains { k in
        (k == line.startIndex || line[k - 1] == 0x20 || line[k - 1] == 0x09)
          && line[k...].starts(with: label)
      }
    }) {
      self = .fastText
    } else if !content.isEmpty && content.allSatisfy(Self.isLIBSVMLine) {
      self = .libsvm
    } else {
      self = .csv
    }
  }

  /// Whether `line` is a label followed by at least one `index:value`
  /// pair (or none, a row of zeros, when the label is a number).
  private static func isLIBSVMLine(_ line: ArraySlice<UInt8>) -> Bool {
    let tokens = line.split { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == 13 }
    guard let label = tokens.first, !label.contains(UInt8(ascii: ":")) else { return false }
    for token in tokens.dropFirst() {
      let comment = token.first == UInt8(ascii: "#")
      if comment { break }
      guard let colon = token.firstIndex(of: UInt8(ascii: ":")) else { return false }
      let index = token[token.startIndex..<colon]
      let isQID = index.elementsEqual("qid".utf8)
      guard isQID || (!index.isEmpty && index.allSatisfy { (48...57).contains($0) }) else {
        return false
      }
      guard colon + 1 < token.endIndex else { return false }
    }
    return tokens.count > 1 || Double(String(decoding: label, as: UTF8.self)) != nil
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
  /// The format of `path`: the one given, or the one its name says, or
  /// the one its first 64 KiB (decompressed) say (``DataFormat/init(content:)``).
  ///
  /// - Throws: ``DataError``: `.io` when the name does not say and the
  ///   file cannot be read; `.unsupported` when the content does not say
  ///   either (binary data of another format).
  public static func format(of path: String, given: DataFormat?) throws(DataError) -> DataFormat {
    if let given { return given }
    if let format = DataFormat(path: path) { return format }
    var reader = try BoundedReader(path: path, maximumBytes: Int.max)
    var prefix: [UInt8] = []
    _ = try reader.read(1 << 16, into: &prefix)
    guard let format = DataFormat(content: prefix) else {
      if prefix.starts(with: [0xFF, 0xFE]) || prefix.starts(with: [0xFE, 0xFF]) {
        throw DataError(
          .invalidEncoding, path: path,
          "UTF-16 text (it starts with a UTF-16 byte-order mark): the readers take UTF-8 (or latin-1) text; convert it first (iconv -f UTF-16 -t UTF-8)"
        )
      }
      throw DataError(
        .unsupported, path: path,
        "cannot tell the format: neither the name nor the content says (binary data that is not IDX or NPY); give the format (csv, libsvm, idx, npy, fasttext)"
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
    case .fastText:
      throw DataError(
        .unsupported, path: path,
        "text in fastText's format has no feature columns: featurize it (TextReader, then SoftmaxText's TextVectorizer; the command does so for a text file or folder)"
      )
    case .csv:
      var csv = options.csv
      if let label = options.label { csv.label = label }
      return try CSVReader.read(path, options: csv, as: Scalar.self)
    case .libsvm:
      return try LIBSVMReader.read(path, options: options.libsvm, as: Scalar.self)
    case .npz:
      let sparse = try NPZReader.readSparse(path, labels: options.labelsPath, as: Scalar.self)
      return DataSet(features: sparse.features.dense(), labels: sparse.labels)
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

/// 3 when `bytes` begin with UTF-8's byte-order mark (`EF BB BF`, which
/// Windows programs write at the start of UTF-8 text), else 0: the text
/// readers skip it, so that it is not part of the first label, word or
/// field (columns on the first line count from after it, as editors show
/// it).
func utf8ByteOrderMarkLength<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int {
  bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
}
