//===--- CSVParser.swift -----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

let quote = UInt8(ascii: "\"")
let newline = UInt8(ascii: "\n")
let carriageReturn = UInt8(ascii: "\r")

struct CSVParser {
  let path: String
  let options: CSVOptions
  let file: ChunkedFile
  var delimiter: UInt8 = UInt8(ascii: ",")
  var position = 0
  var line = 1
  var fields: [CSVField] = []
  /// The parts of a window read in parallel, kept from window to window
  /// so that their buffers are allocated (and their pages touched) once.
  var parts: [PlainPart] = []

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
  /// Reading in chunks: the rows read so far go to `sink` (their values,
  /// their count) once there are `chunkRows` of them, and are dropped;
  /// `nil` keeps every row.
  var sink: ((ValueBuffer, Int) throws(DataError) -> Void)? = nil
  var chunkRows = 1
  /// Rows given to the sink.
  var emittedRows = 0
  /// Whether the labels of the rows given to the sink are dropped too.
  var dropsLabels = false

  init(path: String, options: CSVOptions, isFloat: Bool) throws(DataError) {
    self.path = path
    self.options = options
    file = try ChunkedFile(path: path)
    values = isFloat ? ValueBuffer(for: Float.self) : ValueBuffer(for: Double.self)
  }

  mutating func run() throws(DataError) {
    try file.refill(consumed: 0)
    position = utf8ByteOrderMarkLength(UnsafeBufferPointer(start: file.bytes, count: file.count))
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
      try readWindow()
      try emitIfFull()
      guard position < file.count else { continue }
      guard let (next, lines) = try scanRecord() else {
        try file.refill(consumed: position)
        position = 0
        continue
      }
      if !isBlank() { try consumeRow() }
      try emitIfFull()
      position = next
      line += lines
    }
    try finish()
    if sink != nil { try emit() }
  }

  /// Gives the rows held to the sink when there are `chunkRows` of them.
  mutating func emitIfFull() throws(DataError) {
    if sink != nil && rowCount - emittedRows >= chunkRows { try emit() }
  }

  /// Gives the rows held to the sink and drops them.
  mutating func emit() throws(DataError) {
    guard let sink, rowCount > emittedRows else { return }
    try sink(values, rowCount - emittedRows)
    emittedRows = rowCount
    values.removeAll()
    if dropsLabels { labels.removeAll(keepingCapacity: true) }
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
        if values.append(value, text: base, field.start, field.end) { continue }
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
}
