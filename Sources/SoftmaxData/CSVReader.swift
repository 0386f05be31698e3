//===--- CSVReader.swift -----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How to read a delimited text table.
public struct CSVOptions: Sendable, Hashable {
  /// The field separator (one ASCII character); `nil` detects it from
  /// the first line: the most frequent of `,`, `;` and tab outside quotes
  /// (`,` when there is none).
  public var delimiter: Unicode.Scalar? = nil
  /// Whether the first row names the columns; `nil` detects it: the
  /// first row is a header when none of its fields is a number, or when
  /// a column holds text in the first row and a number in the second.
  public var hasHeader: Bool? = nil
  /// The label column (the last by default).
  public var label: LabelColumn = .last
  /// What to do with missing or non-numeric feature values.
  public var missingValues: MissingValuePolicy = .error
  /// The values ``MissingValuePolicy/mean`` fills in, instead of the
  /// file's own column means: by feature name (files with a header), or
  /// by position among the feature columns. A model's training means, so
  /// that a row's prediction does not depend on the other rows.
  public var fillValues: FillValues? = nil

  /// Detect the delimiter and header; labels in the last column; missing
  /// values are errors.
  public init() {}
}

/// Values to put in place of missing ones, per feature column.
public enum FillValues: Sendable, Hashable {
  /// By the column's header name (a column not listed gets 0).
  case byName([String: Double])
  /// By the feature column's position (labels excluded), 0-based.
  case byPosition([Double])
}

/// Reads delimited text (CSV, TSV, semicolon-separated) into a
/// ``DataSet``.
///
/// The reader follows RFC 4180: fields in double quotes may hold the
/// delimiter, line breaks and doubled quotes (`""`); lines end in LF or
/// CRLF; a UTF-8 byte-order mark is skipped; blank lines are skipped.
/// It streams: the file passes through a 1 MiB window (longer records
/// grow it), so memory is the data set plus the window. Feature values
/// are parsed in place, correctly rounded (Eisel-Lemire, digits eight at
/// a time); labels are kept as text, checked to be UTF-8.
///
/// Records of numbers and an unquoted label (the usual numeric file) are
/// read in one pass over their bytes, and a window's records are split
/// among `SoftmaxConfiguration.threadCount` threads at line feeds; a
/// record with quotes, blanks or missing values is read by the general
/// path, in file order. Values, labels, reports and errors (their line
/// and column) are the same for any thread count.
///
/// Cost: O(file size). On the 2-core benchmark machine, 1.4–1.8× faster
/// than `pandas.read_csv` on MNIST as CSV, and 0.96–1.12× its time on
/// 17-digit floats (`Benchmarks/compare_loading.py`; <doc:Loading>).
public enum CSVReader {
  /// Reads the table at `path`.
  ///
  /// - Throws: ``DataError`` with the file, line and column of the first
  ///   problem: an unclosed quote, a row with a different number of
  ///   fields than the first, a missing or non-numeric feature (under
  ///   ``MissingValuePolicy/error``), an empty label, invalid UTF-8, no
  ///   data rows, a label column that is not there.
  public static func read<Scalar: SoftmaxScalar>(
    _ path: String, options: CSVOptions = CSVOptions(), as _: Scalar.Type = Scalar.self
  ) throws(DataError) -> DataSet<Scalar> {
    var parser = try CSVParser(path: path, options: options, isFloat: Scalar.self == Float.self)
    try parser.run()
    let matrix = parser.values.matrix(
      rows: parser.rowCount, columns: parser.featureCount, as: Scalar.self)
    return DataSet(
      features: matrix, labels: parser.labelIndex == nil ? nil : parser.labels,
      featureNames: parser.featureNames, report: parser.report)
  }
}

extension CSVReader {
  /// What ``CSVReader/forEachChunk(_:options:chunkRows:as:beforeFirstChunk:_:)`` read: everything a
  /// ``DataSet`` holds but its features.
  public struct ChunkedTable: Sendable {
    /// The data rows.
    public var rows: Int
    /// The feature columns.
    public var columns: Int
    /// Each row's label, or `nil` without a label column.
    public var labels: [String]?
    /// The feature columns' names, from the header.
    public var featureNames: [String]?
    /// What the reader did beyond reading.
    public var report: LoadReport
  }

  /// Reads the table at `path` a chunk of rows at a time, in bounded
  /// memory: `body` gets the features of consecutive rows (at least
  /// `chunkRows` of them but the last chunk, fewer than `chunkRows` plus a
  /// window's), exactly as ``read(_:options:as:)`` reads them; only the
  /// labels are kept whole.
  ///
  /// Two passes: the first finds the delimiter, the header (including a
  /// first row that turns out to be one), the row count and the labels,
  /// keeping no values, and hands them to `prepare`; the second reads the
  /// values with those settings.
  ///
  /// - Throws: ``DataError`` as ``read(_:options:as:)``; `.unsupported`
  ///   for ``MissingValuePolicy/mean`` without given `fillValues` (the
  ///   means need every row first); `.io` when the file changes between
  ///   the passes; what `body` throws.
  public static func forEachChunk<Scalar: SoftmaxScalar>(
    _ path: String, options: CSVOptions = CSVOptions(), chunkRows: Int,
    as _: Scalar.Type = Scalar.self,
    beforeFirstChunk prepare: (ChunkedTable) throws(DataError) -> Void = { _ throws(DataError) in },
    _ body: (_ firstRow: Int, _ features: Matrix<Scalar>) throws(DataError) -> Void
  ) throws(DataError) -> ChunkedTable {
    precondition(chunkRows >= 1, "a chunk holds at least one row")
    if options.missingValues == .mean && options.fillValues == nil {
      throw DataError(
        .unsupported, path: path,
        "--missing mean needs every row before it can fill one: read the file whole, or use zero or skip"
      )
    }
    let (table, settings) = try survey(path, options: options, isFloat: Scalar.self == Float.self)
    try prepare(table)
    try readSettled(
      path, settings: settings, table: table, chunkRows: chunkRows, as: Scalar.self, body)
    return table
  }

  /// The first pass: the table without its values, and the options that
  /// read it again the same way (the header and delimiter decided).
  static func survey(_ path: String, options: CSVOptions, isFloat: Bool) throws(DataError)
    -> (ChunkedTable, CSVOptions)
  {
    var survey = try CSVParser(path: path, options: options, isFloat: isFloat)
    survey.chunkRows = 1 << 12
    survey.sink = { _, _ throws(DataError) in }
    try survey.run()
    let table = ChunkedTable(
      rows: survey.rowCount, columns: survey.featureCount,
      labels: survey.labelIndex == nil ? nil : survey.labels,
      featureNames: survey.featureNames, report: survey.report)
    var settings = options
    settings.hasHeader = survey.hasHeader
    settings.delimiter = Unicode.Scalar(survey.delimiter)
    return (table, settings)
  }

  /// A pass with decided settings: the values, a chunk at a time; throws
  /// when the file no longer has `table`'s rows and columns.
  static func readSettled<Scalar: SoftmaxScalar>(
    _ path: String, settings: CSVOptions, table: ChunkedTable, chunkRows: Int,
    as _: Scalar.Type,
    _ body: (_ firstRow: Int, _ features: Matrix<Scalar>) throws(DataError) -> Void
  ) throws(DataError) {
    var parser = try CSVParser(path: path, options: settings, isFloat: Scalar.self == Float.self)
    parser.chunkRows = chunkRows
    parser.dropsLabels = true
    let d = table.columns
    var first = 0
    // (The parser drops the sink when `run` returns.)
    try withoutActuallyEscaping(body) { body throws(DataError) in
      parser.sink = { values, rows throws(DataError) in
        try body(first, values.matrix(rows: rows, columns: d, as: Scalar.self))
        first += rows
      }
      defer { parser.sink = nil }
      try parser.run()
    }
    guard parser.rowCount == table.rows, parser.featureCount == d else {
      throw DataError(
        .io, path: path,
        "the file changed while it was read (\(table.rows) rows, then \(parser.rowCount))")
    }
  }
}
