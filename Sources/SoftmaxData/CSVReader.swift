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
