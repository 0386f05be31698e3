//===--- CSVParser+Header.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The first rows of a table: the delimiter, whether the first row is a
// header (and, at the end, whether a first row read as data was one), the
// label column, and the capacity to reserve.

import SoftmaxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension CSVParser {
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
    // (Read in chunks, the first row is gone already: the caller reads the
    // file again knowing it is a header.)
    if emittedRows == 0 { values.removeFirst(d) }
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
