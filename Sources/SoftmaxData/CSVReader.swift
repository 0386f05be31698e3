//===--- CSVReader.swift --------------------------------------*- swift -*-===//
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
/// are parsed in place, correctly rounded; labels are
/// kept as text, checked to be UTF-8.
///
/// Cost: one pass, O(file size); about as fast as the disk cache gives
/// bytes for numeric files (see the README's loading benchmark).
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

/// One field of a record: bytes `[start, end)` of the window (inside the
/// quotes for a quoted field).
struct CSVField {
  var start: Int
  var end: Int
  /// Holds doubled quotes to undo.
  var escaped: Bool
  var line: Int
  var column: Int
}

private let quote = UInt8(ascii: "\"")
private let newline = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")

struct CSVParser {
  let path: String
  let options: CSVOptions
  let file: ChunkedFile
  var delimiter: UInt8 = UInt8(ascii: ",")
  var position = 0
  var line = 1
  var fields: [CSVField] = []

  var columns = 0
  var hasHeader = false
  /// The header was detected, not given.
  var headerWasGuessed = false
  /// The first record's fields as text, in case it turns out to be a
  /// header after all (see `finish()`).
  var firstRecordTexts: [String] = []
  /// Whether every feature field of the first data row was a number.
  var firstRowNumeric = false
  var columnNames: [String]? = nil
  var labelIndex: Int? = nil
  var featureNames: [String]? = nil
  var featureCount: Int { labelIndex == nil ? columns : columns - 1 }

  var values: ValueBuffer
  var labels: [String] = []
  var rowCount = 0
  var report = LoadReport()
  /// Value positions filled under `.mean`, to replace at the end.
  var meanFills: [Int] = []

  init(path: String, options: CSVOptions, isFloat: Bool) throws(DataError) {
    self.path = path
    self.options = options
    file = try ChunkedFile(path: path)
    values = isFloat ? ValueBuffer(for: Float.self) : ValueBuffer(for: Double.self)
  }

  mutating func run() throws(DataError) {
    try file.refill(consumed: 0)
    if file.count >= 3, file.bytes[0] == 0xEF, file.bytes[1] == 0xBB, file.bytes[2] == 0xBF {
      position = 3
    }
    try file.rejectNULInFirstWindow(format: "CSV")
    if let given = options.delimiter {
      guard given.isASCII, given != "\"", given != "\n", given != "\r" else {
        throw DataError(
          .unsupported, path: path,
          "the delimiter must be one ASCII character other than a quote or a line break")
      }
      delimiter = UInt8(given.value)
    } else {
      delimiter = detectDelimiter()
    }
    try readHeader()
    while true {
      if position >= file.count {
        if file.atEnd { break }
        try file.refill(consumed: position)
        position = 0
        continue
      }
      guard let (next, lines) = try scanRecord() else {
        try file.refill(consumed: position)
        position = 0
        continue
      }
      if !isBlank() { try consumeRow() }
      position = next
      line += lines
    }
    try finish()
  }

  // MARK: The first rows

  /// The most frequent of `,` `;` tab on the first line, outside quotes.
  func detectDelimiter() -> UInt8 {
    var counts: [UInt8: Int] = [:]
    var inQuotes = false
    var i = position
    while i < file.count {
      let byte = file.bytes[i]
      if byte == quote {
        inQuotes.toggle()
      } else if !inQuotes {
        if byte == newline || byte == carriageReturn { break }
        if byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") || byte == 0x09 {
          counts[byte, default: 0] += 1
        }
      }
      i += 1
    }
    let ranked = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09].max {
      counts[$0, default: 0] < counts[$1, default: 0]
    }
    return ranked.flatMap { counts[$0, default: 0] > 0 ? $0 : nil } ?? UInt8(ascii: ",")
  }

  /// Reads the first two records (growing the window if needed), decides
  /// whether the first is a header, and resolves the label column. The
  /// window is left at the first data record.
  mutating func readHeader() throws(DataError) {
    let start = position
    let startLine = line
    var first: [CSVField] = []
    var second: [CSVField] = []
    var firstLine = line
    var scanned = 0
    while scanned < 2 {
      if position >= file.count && file.atEnd { break }
      guard let (next, lines) = try scanRecord() else {
        try file.refill(consumed: 0)  // keeps offsets: the window only grows
        continue
      }
      if !isBlank() {
        if scanned == 0 {
          first = fields
          firstLine = line
        } else {
          second = fields
        }
        scanned += 1
      }
      position = next
      line += lines
    }
    position = start
    line = startLine
    guard scanned > 0 else { throw DataError(.empty, path: path, "the file has no rows") }
    columns = first.count
    let names = try first.enumerated().map { j, field throws(DataError) in
      try text(field, column: j)
    }
    firstRecordTexts = names
    if let given = options.hasHeader {
      hasHeader = given
    } else if case .name = options.label {
      hasHeader = true
    } else {
      let firstKinds = first.map { kind(of: $0) }
      let secondKinds = second.map { kind(of: $0) }
      hasHeader =
        !firstKinds.contains(.number)
        || zip(firstKinds, secondKinds).contains { $0 == .text && $1 == .number }
        || numbersAreColumnPositions(first)
      headerWasGuessed = true
    }
    if hasHeader {
      var seen: [String: Int] = [:]
      for (j, name) in names.enumerated() {
        if let earlier = seen[name] {
          throw DataError(
            .malformed, path: path, line: firstLine, column: first[j].column,
            "duplicate column name \"\(name)\" (columns \(earlier + 1) and \(j + 1))")
        }
        seen[name] = j
      }
      columnNames = names
    }
    labelIndex = try resolveLabel()
    if let columnNames {
      featureNames = columnNames.enumerated().filter { $0.offset != labelIndex }.map(\.element)
    }
    report.columnCount = columns
    report.labelColumn = labelIndex
    report.labelName = labelIndex.flatMap { columnNames?[$0] }
    if !hasHeader {
      firstRowNumeric = first.enumerated().allSatisfy { j, field in
        j == labelIndex || kind(of: field) == .number
      }
    }
    if hasHeader {
      // Skip the header (and the blank lines before it).
      while true {
        guard let (next, lines) = try scanRecord() else {
          try file.refill(consumed: 0)
          continue
        }
        position = next
        line += lines
        if !isBlank() { break }
      }
      if position >= file.count && file.atEnd {
        throw DataError(.empty, path: path, line: line, "the file has a header but no data rows")
      }
    }
    values = values.isFloat ? ValueBuffer(for: Float.self) : ValueBuffer(for: Double.self)
    reserveCapacity()
  }

  /// Reserves room for the values the file will hold, estimated from its
  /// size and the bytes per row of the first window, so that the arrays
  /// do not grow (and copy) a dozen times on a large file.
  mutating func reserveCapacity() {
    var status = stat()
    guard stat(path, &status) == 0, status.st_size > 0 else { return }
    var newlines = 0
    for i in position..<file.count where file.bytes[i] == newline { newlines += 1 }
    guard newlines > 0 else { return }
    let bytesPerRow = Double(file.count - position) / Double(newlines)
    let rows = Int(Double(status.st_size) / bytesPerRow * 1.05) + 16
    let (capacity, overflow) = rows.multipliedReportingOverflow(by: max(featureCount, 1))
    guard !overflow, capacity < 1 << 34 else { return }
    if values.isFloat {
      values.floats.reserveCapacity(capacity)
    } else {
      values.doubles.reserveCapacity(capacity)
    }
    if labelIndex != nil { labels.reserveCapacity(rows) }
  }

  enum Kind { case number, missing, text }

  /// Whether the numbers of a first row are their own 0-based column
  /// positions, written as integers (`0,1,2,…,12,y`: what pandas'
  /// `to_csv(index=False)` writes for a frame without column names), at
  /// least three of them: a header, not data.
  func numbersAreColumnPositions(_ fields: [CSVField]) -> Bool {
    var count = 0
    for (j, field) in fields.enumerated() {
      guard case .number = parse(field) else { continue }
      let digits = UnsafeBufferPointer(
        start: file.bytes + field.start, count: field.end - field.start)
      guard digits.elementsEqual(String(j).utf8) else { return false }
      count += 1
    }
    return count >= 3
  }

  func kind(of field: CSVField) -> Kind {
    switch parse(field) {
    case .number: return .number
    case .missing: return .missing
    case .infinity, .text: return .text
    }
  }

  func resolveLabel() throws(DataError) -> Int? {
    switch options.label {
    case .none:
      return nil
    case .last:
      return columns - 1
    case .lastUnlessFeatures(let count, let names):
      if let names, let last = columnNames?.last {
        return names.contains(last) ? nil : columns - 1
      }
      return columns == count ? nil : columns - 1
    case .modelLabel(let count, let names, let trainedName, let trainedIndex):
      if let names, let columnNames {
        if let trainedName, !names.contains(trainedName),
          let index = columnNames.firstIndex(of: trainedName)
        {
          return index
        }
        guard let last = columnNames.last else { return nil }
        return names.contains(last) ? nil : columns - 1
      }
      if columns == count { return nil }
      if columns == count + 1, let trainedIndex, trainedIndex >= 0, trainedIndex < columns {
        return trainedIndex
      }
      return columns - 1
    case .index(let index):
      let resolved = index < 0 ? columns + index : index
      guard resolved >= 0, resolved < columns else {
        throw DataError(
          .labels, path: path,
          "label column \(index) is out of range: the file has \(columns) columns (0-based)")
      }
      return resolved
    case .name(let name):
      guard let names = columnNames, let index = names.firstIndex(of: name) else {
        let known = columnNames.map { "; the columns are " + quotedList($0) } ?? ""
        throw DataError(.labels, path: path, "no column named \"\(name)\"\(known)")
      }
      return index
    }
  }

  // MARK: Records

  /// Scans one record from `position` into `fields`.
  ///
  /// - Returns: the position after it and the lines it spans, or `nil`
  ///   when the window ends inside it and the file goes on.
  mutating func scanRecord() throws(DataError) -> (next: Int, lines: Int)? {
    fields.removeAll(keepingCapacity: true)
    let base = file.bytes
    let count = file.count
    let atEnd = file.atEnd
    var i = position
    var currentLine = line
    var lineStart = position
    while true {
      let fieldStart = i
      let column = i - lineStart + 1
      let fieldLine = currentLine
      if i < count && base[i] == quote {
        i += 1
        var escaped = false
        var closing = -1
        while i < count {
          let byte = base[i]
          if byte == quote {
            if i + 1 < count {
              if base[i + 1] == quote {
                escaped = true
                i += 2
                continue
              }
            } else if !atEnd {
              return nil
            }
            closing = i
            i += 1
            break
          }
          if byte == newline {
            currentLine += 1
            lineStart = i + 1
          }
          i += 1
        }
        if closing < 0 {
          if !atEnd { return nil }
          throw DataError(
            .malformed, path: path, line: fieldLine, column: column,
            "the quoted field that starts here is never closed")
        }
        fields.append(
          CSVField(
            start: fieldStart + 1, end: closing, escaped: escaped, line: fieldLine, column: column))
        if i < count, base[i] != delimiter, base[i] != newline, base[i] != carriageReturn {
          throw DataError(
            .malformed, path: path, line: currentLine, column: i - lineStart + 1,
            "unexpected character after a closing quote (a quote inside a quoted field is written \"\")"
          )
        }
      } else {
        while i < count {
          let byte = base[i]
          if byte == delimiter || byte == newline || byte == carriageReturn { break }
          i += 1
        }
        fields.append(
          CSVField(start: fieldStart, end: i, escaped: false, line: fieldLine, column: column))
      }
      if i >= count {
        if !atEnd { return nil }
        return (i, currentLine - line + 1)
      }
      let byte = base[i]
      if byte == delimiter {
        i += 1
        continue
      }
      if byte == carriageReturn {
        if i + 1 < count {
          i += base[i + 1] == newline ? 2 : 1
        } else if !atEnd {
          return nil
        } else {
          i += 1
        }
      } else {
        i += 1
      }
      return (i, currentLine - line + 1)
    }
  }

  /// A record of one unquoted field of blanks.
  func isBlank() -> Bool {
    guard fields.count == 1, let field = fields.first else { return false }
    if field.start > 0, file.bytes[field.start - 1] == quote, field.end < file.count,
      file.bytes[field.end] == quote
    {
      return false
    }
    for k in field.start..<field.end where file.bytes[k] != 0x20 && file.bytes[k] != 0x09 {
      return false
    }
    return true
  }

  func parse(_ field: CSVField) -> ParsedNumber {
    if field.escaped { return .text }  // a number never holds a quote
    return NumberParser.parse(UnsafePointer(file.bytes), field.start, field.end)
  }

  /// The field's text: doubled quotes undone, blanks trimmed, UTF-8
  /// checked; `column` (0-based) names it in the error.
  func text(_ field: CSVField, column: Int) throws(DataError) -> String {
    var bytes = UnsafeBufferPointer(
      start: file.bytes + field.start, count: field.end - field.start)[...]
    while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
    while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
    var unescaped: [UInt8] = []
    if field.escaped {
      var previousWasQuote = false
      for byte in bytes {
        if byte == quote && previousWasQuote {
          previousWasQuote = false
          continue
        }
        previousWasQuote = byte == quote
        unescaped.append(byte)
      }
    }
    let decoded =
      field.escaped
      ? String(validating: unescaped, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    guard let string = decoded else {
      throw DataError(
        .invalidEncoding, path: path, line: field.line, column: field.column,
        "\(columnLabel(column)) is not valid UTF-8 text")
    }
    return string
  }

  func columnLabel(_ j: Int) -> String {
    if let name = columnNames?[j] { return "column \(j + 1) (\"\(name)\")" }
    return "column \(j + 1)"
  }

  mutating func consumeRow() throws(DataError) {
    guard fields.count == columns else {
      let at = fields.count > columns ? fields[columns] : fields[fields.count - 1]
      throw DataError(
        .shapeMismatch, path: path, line: at.line,
        column: fields.count > columns ? at.column : at.end - at.start + at.column,
        "\(fields.count) field\(fields.count == 1 ? "" : "s"); the first row has \(columns)")
    }
    let rowStart = values.count
    let base = UnsafePointer(file.bytes)
    var skip = false
    for j in 0..<columns where j != labelIndex {
      let field = fields[j]
      let parsed =
        field.escaped ? ParsedNumber.text : NumberParser.parse(base, field.start, field.end)
      let problem: String
      switch parsed {
      case .number(let value):
        if values.append(value) { continue }
        values.removeLast(1)
        problem =
          "\(quotedText(field)) in \(columnLabel(j)) is out of the finite range of \(values.isFloat ? "Float" : "Double")"
      case .missing:
        problem = "missing value in \(columnLabel(j))"
      case .infinity, .text:
        problem = "\(quotedText(field)) in \(columnLabel(j)) is not a finite number"
      }
      switch options.missingValues {
      case .error:
        let code: DataError.Code = parsed == .missing ? .missingValue : .notANumber
        var error = DataError(code, path: path, line: field.line, column: field.column, problem)
        error.field = j
        throw error
      case .skipRow:
        skip = true
      case .zero:
        _ = values.append(0)
        report.filledValues += 1
      case .mean:
        meanFills.append(values.count)
        _ = values.append(0)
        report.filledValues += 1
      }
      if skip { break }
    }
    var label = ""
    if let labelIndex, !skip {
      let field = fields[labelIndex]
      label = try text(field, column: labelIndex)
      if label.isEmpty {
        if options.missingValues == .skipRow {
          skip = true
        } else {
          throw DataError(
            .labels, path: path, line: field.line, column: field.column,
            "empty label in \(columnLabel(labelIndex))")
        }
      }
    }
    if skip {
      values.removeLast(values.count - rowStart)
      while let last = meanFills.last, last >= rowStart { meanFills.removeLast() }
      report.skippedRows += 1
      return
    }
    if labelIndex != nil { labels.append(label) }
    rowCount += 1
  }

  func quotedText(_ field: CSVField) -> String {
    let bytes = UnsafeBufferPointer(
      start: file.bytes + field.start, count: min(field.end - field.start, 40))
    let shown = String(decoding: bytes, as: UTF8.self)
    return "\"\(shown)\(field.end - field.start > 40 ? "…" : "")\""
  }

  mutating func finish() throws(DataError) {
    guard rowCount > 0 else {
      let why = report.skippedRows > 0 ? " (every row was skipped for missing values)" : ""
      throw DataError(.empty, path: path, "the file has no data rows\(why)")
    }
    try takeFirstRowAsHeaderIfItIsOne()
    guard !meanFills.isEmpty else { return }
    let d = featureCount
    if let given = options.fillValues {
      for index in meanFills {
        let j = index % d
        switch given {
        case .byName(let byName): values.set(index, featureNames.flatMap { byName[$0[j]] } ?? 0)
        case .byPosition(let list): values.set(index, j < list.count ? list[j] : 0)
        }
      }
      return
    }
    var sums = [Double](repeating: 0, count: d)
    var counts = [Int](repeating: rowCount, count: d)
    for index in 0..<values.count { sums[index % d] += values.value(index) }
    for index in meanFills { counts[index % d] -= 1 }  // filled values hold 0
    for index in meanFills {
      let j = index % d
      values.set(index, counts[j] > 0 ? sums[j] / Double(counts[j]) : 0)
    }
  }

  /// A detected header can be wrong the other way: a first row of numbers
  /// whose label is no class of the other rows (`x1,x2,y` above numeric
  /// data, with `y` read as a class of one row) names the columns. It is
  /// taken as the header when every other label occurs at least twice,
  /// and the report says so.
  mutating func takeFirstRowAsHeaderIfItIsOne() throws(DataError) {
    guard headerWasGuessed, !hasHeader, firstRowNumeric, let labelIndex, rowCount >= 3,
      report.skippedRows == 0, meanFills.first.map({ $0 >= featureCount }) ?? true,
      Set(firstRecordTexts).count == columns, let first = labels.first
    else { return }
    var counts: [String: Int] = [:]
    for label in labels { counts[label, default: 0] += 1 }
    guard counts[first] == 1, counts.allSatisfy({ $0.key == first || $0.value >= 2 }) else {
      return
    }
    let d = featureCount
    values.removeFirst(d)
    meanFills = meanFills.map { $0 - d }
    labels.removeFirst()
    rowCount -= 1
    hasHeader = true
    columnNames = firstRecordTexts
    featureNames = firstRecordTexts.enumerated().filter { $0.offset != labelIndex }.map(\.element)
    report.labelName = firstRecordTexts[labelIndex]
    report.notes.append(
      "the first row was read as the header: its label \"\(first)\" is no class of the other rows (--no-header reads it as data)"
    )
  }
}
