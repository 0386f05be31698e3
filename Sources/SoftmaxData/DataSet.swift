//===--- DataSet.swift ----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Features and labels read from a file: an `n × d` feature matrix, one
/// label per row (as the file writes it), and the column names when the
/// file has them.
public struct DataSet<Scalar: SoftmaxScalar>: Sendable {
  /// `n × d`, one row per sample; finite (every reader checks).
  public var features: Matrix<Scalar>
  /// `n` labels as written in the file (`"setosa"`, `"7"`), or `nil` when
  /// the file has none (data to predict).
  public var labels: [String]?
  /// `d` column names, from a CSV header; `nil` otherwise.
  public var featureNames: [String]?
  /// What the reader did to the data beyond reading it.
  public var report: LoadReport

  /// Creates a data set.
  ///
  /// - Precondition: `labels` and `featureNames`, when given, have `n`
  ///   and `d` entries.
  public init(
    features: Matrix<Scalar>, labels: [String]?, featureNames: [String]? = nil,
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

  /// The rows at `indices`, in that order. O(|indices| · d).
  ///
  /// - Precondition: every index is in `0..<count`.
  public func rows(_ indices: [Int]) -> DataSet {
    let d = features.columns
    let source = features.elements
    var elements: [Scalar] = []
    elements.reserveCapacity(indices.count * d)
    for i in indices {
      precondition(i >= 0 && i < count, "row \(i) out of range 0..<\(count)")
      elements.append(contentsOf: source[(i * d)..<((i + 1) * d)])
    }
    return DataSet(
      features: Matrix(rows: indices.count, columns: d, elements: elements),
      labels: labels.map { all in indices.map { all[$0] } }, featureNames: featureNames,
      report: report)
  }

  /// The data with its columns reordered to `names` (a model's feature
  /// names), matched by name.
  ///
  /// - Throws: ``DataError`` (`.shapeMismatch`) naming the columns the
  ///   data lacks and the ones the model does not know; `path` names the
  ///   file in the message.
  public func selectingFeatures(named names: [String], path: String) throws(DataError)
    -> DataSet
  {
    guard let own = featureNames else {
      guard names.count == featureCount else {
        throw DataError(
          .shapeMismatch, path: path,
          "\(featureCount) feature columns; the model expects \(names.count)")
      }
      return self
    }
    if own == names { return self }
    var position: [String: Int] = [:]
    for (j, name) in own.enumerated() where position[name] == nil { position[name] = j }
    let missing = names.filter { position[$0] == nil }
    let extra = own.filter { !names.contains($0) }
    guard missing.isEmpty, extra.isEmpty, own.count == names.count else {
      var parts: [String] = []
      if !missing.isEmpty { parts.append("missing \(quotedList(missing))") }
      if !extra.isEmpty { parts.append("not in the model \(quotedList(extra))") }
      if parts.isEmpty { parts.append("\(own.count) columns for the model's \(names.count)") }
      throw DataError(
        .shapeMismatch, path: path,
        "the columns do not match the model's features: " + parts.joined(separator: "; "))
    }
    let order = names.compactMap { position[$0] }
    let d = names.count
    let source = features.elements
    let reordered = Matrix<Scalar>(rows: count, columns: d) { out in
      for i in 0..<count {
        for (j, column) in order.enumerated() { out[i * d + j] = source[i * d + column] }
      }
    }
    return DataSet(features: reordered, labels: labels, featureNames: names, report: report)
  }
}

/// What a reader did beyond reading: values it filled in, rows it skipped.
public struct LoadReport: Sendable, Hashable {
  /// Missing or non-numeric feature values replaced under the
  /// ``MissingValuePolicy``.
  public var filledValues: Int = 0
  /// Rows skipped under ``MissingValuePolicy/skipRow``.
  public var skippedRows: Int = 0
  /// LIBSVM: whether the indices were read as 0-based.
  public var zeroBasedIndices: Bool? = nil
  /// Tables (CSV; NPY with a label column): the label column's 0-based
  /// position among all ``columnCount`` columns, and its header name.
  public var labelColumn: Int? = nil
  /// Tables: the columns of the file, features and label.
  public var columnCount: Int? = nil
  /// Tables with a header: the label column's name.
  public var labelName: String? = nil
  /// What the reader decided that the user should hear (a first row
  /// taken as a header, ...), one sentence each.
  public var notes: [String] = []

  /// Nothing done.
  public init() {}
}

/// What to do with a feature field that is missing (empty, `NA`, `NaN`,
/// `?`, ...) or is not a finite number.
public enum MissingValuePolicy: String, Sendable, Hashable, CaseIterable {
  /// Stop with a ``DataError`` naming the file, line and column (the
  /// default).
  case error
  /// Leave the row out.
  case skipRow = "skip"
  /// Put 0 in its place.
  case zero
  /// Put the mean of the column's readable values in its place (0 when
  /// the column has none), or the value ``CSVOptions/fillValues`` gives
  /// for the column (a model's training means).
  case mean
}

/// Which column of a table holds the labels.
public enum LabelColumn: Sendable, Hashable {
  /// The last column.
  case last
  /// The column at this 0-based index; negative counts from the end
  /// (`-1` is the last).
  case index(Int)
  /// The column with this header name.
  case name(String)
  /// No label column: every column is a feature.
  case none
  /// How `predict` reads a file with or without its labels, given the
  /// model's feature `count` and `names`: when the file has a header and
  /// `names` are given, the last column is the label unless its name is
  /// one of `names`; otherwise it is the label unless the file has exactly
  /// `count` columns.
  case lastUnlessFeatures(count: Int, names: [String]?)
  /// How `eval` and `predict` find the label column of data for a model
  /// that remembers where its training file had it (`trainedName`,
  /// `trainedIndex`): with a header and the model's feature `names`, the
  /// column named `trainedName` if there is one, else the last column
  /// unless it is a feature; without names, no label column when the file
  /// has `count` columns, the column at `trainedIndex` when it has
  /// `count + 1`, the last otherwise.
  case modelLabel(count: Int, names: [String]?, trainedName: String?, trainedIndex: Int?)
}

func quotedList(_ names: [String]) -> String {
  let shown = names.prefix(5).map { "\"\($0)\"" }.joined(separator: ", ")
  return names.count > 5 ? shown + " and \(names.count - 5) more" : shown
}

/// Feature values as they are read, in the precision of the data set to
/// come, so that a `Float` data set never holds a `Double` copy.
struct ValueBuffer {
  let isFloat: Bool
  var floats: [Float] = []
  var doubles: [Double] = []

  init<Scalar: SoftmaxScalar>(for _: Scalar.Type) {
    isFloat = Scalar.self == Float.self
  }

  var count: Int { isFloat ? floats.count : doubles.count }

  /// Appends `value`; `false` when it is out of the finite range of the
  /// precision stored.
  @inline(__always)
  mutating func append(_ value: Double) -> Bool {
    if isFloat {
      let narrow = Float(value)
      floats.append(narrow)
      return narrow.isFinite
    }
    doubles.append(value)
    return value.isFinite
  }

  /// Removes every value, keeping the capacity.
  mutating func removeAll() {
    floats.removeAll(keepingCapacity: true)
    doubles.removeAll(keepingCapacity: true)
  }

  /// Appends the values of `other` (of the same precision).
  mutating func append(contentsOf other: ValueBuffer) {
    if isFloat {
      floats.append(contentsOf: other.floats)
    } else {
      doubles.append(contentsOf: other.doubles)
    }
  }

  /// Appends `value`, read from the decimal text `[start, end)` of
  /// `base`: a `Float` buffer takes the text's nearest float (see
  /// `NumberParser.nearestFloat`), not `Float(value)`. `false` when it is
  /// out of the finite range of the precision stored.
  @inline(__always)
  mutating func append(
    _ value: Double, text base: UnsafePointer<UInt8>, _ start: Int, _ end: Int
  ) -> Bool {
    if isFloat {
      let narrow = NumberParser.nearestFloat(value, base, start, end)
      floats.append(narrow)
      return narrow.isFinite
    }
    doubles.append(value)
    return value.isFinite
  }

  mutating func set(_ index: Int, _ value: Double) {
    if isFloat { floats[index] = Float(value) } else { doubles[index] = value }
  }

  func value(_ index: Int) -> Double { isFloat ? Double(floats[index]) : doubles[index] }

  mutating func removeLast(_ count: Int) {
    if isFloat { floats.removeLast(count) } else { doubles.removeLast(count) }
  }

  mutating func removeFirst(_ count: Int) {
    if isFloat { floats.removeFirst(count) } else { doubles.removeFirst(count) }
  }

  /// The values as a matrix, without a copy when the precision matches.
  func matrix<Scalar: SoftmaxScalar>(rows: Int, columns: Int, as _: Scalar.Type) -> Matrix<Scalar> {
    if isFloat, Scalar.self == Float.self {
      return Matrix(
        rows: rows, columns: columns, elements: unsafeBitCast(floats, to: [Scalar].self))
    }
    if Scalar.self == Double.self {
      return Matrix(
        rows: rows, columns: columns, elements: unsafeBitCast(doubles, to: [Scalar].self))
    }
    return Matrix(rows: rows, columns: columns, elements: doubles.map { Scalar($0) })
  }
}
