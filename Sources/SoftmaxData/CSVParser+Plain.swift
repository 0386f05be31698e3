//===--- CSVParser+Plain.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Plain records, the fast path: most numeric files are plain throughout,
// read in one pass over the bytes, and in parallel.

import SoftmaxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads plain records: on one line, ending in LF or CRLF inside the
/// window (or at the file's end), every feature a number with nothing
/// around it, the label unquoted, non-empty, without blanks around it,
/// valid UTF-8. Anything else (quotes, blanks, missing values, text, a
/// wrong field count, a value out of range, the window's end) is not
/// plain: ``record(at:into:labels:row:)`` returns `nil` with nothing kept, and
/// the general path (`scanRecord`, `consumeRow`) reads the record again,
/// with its policies and exact errors. A value here is the one the
/// general path would give (the same `NumberParser`), so the fast path
/// changes no result, only the time.
struct PlainRecordScanner {
  let base: UnsafePointer<UInt8>
  /// Valid bytes in the window.
  let count: Int
  /// The window ends at the file's end.
  let atEnd: Bool
  let delimiter: UInt8
  let columns: Int
  let labelIndex: Int?
  /// The labels met most recently, so that a label repeated (the usual
  /// case: a few classes) is not decoded into a new String each row.
  private var recentLabels: [(bytes: [UInt8], text: String)] = []

  init(
    base: UnsafePointer<UInt8>, count: Int, atEnd: Bool, delimiter: UInt8, columns: Int,
    labelIndex: Int?
  ) {
    self.base = base
    self.count = count
    self.atEnd = atEnd
    self.delimiter = delimiter
    self.columns = columns
    self.labelIndex = labelIndex
  }

  /// Reads the plain record at `start` into `values` and `labels`; its
  /// values are gathered in `row` (room for `columns` values; the part of
  /// the buffer's precision is used) and appended together at the
  /// record's end.
  ///
  /// - Returns: where the next record starts, or `nil` (nothing appended)
  ///   when the record is not plain.
  @inline(__always)
  mutating func record(
    at start: Int, into values: inout ValueBuffer, labels: inout [String],
    row: RowScratch
  ) -> Int? {
    let isFloat = values.isFloat
    var i = start
    var label: String? = nil
    var n = 0
    for j in 0..<columns {
      if j == labelIndex {
        let fieldStart = i
        while i < count {
          let byte = base[i]
          if byte == delimiter || byte == newline || byte == carriageReturn || byte == quote {
            break
          }
          i += 1
        }
        guard i > fieldStart, let text = labelText(fieldStart, i) else { return nil }
        label = text
      } else {
        guard let (value, end) = NumberParser.scanNumber(base, i, count) else { return nil }
        if isFloat {
          let narrow = NumberParser.nearestFloat(value, base, i, end)
          guard narrow.isFinite else { return nil }
          row.floats[n] = narrow
        } else {
          guard value.isFinite else { return nil }
          row.doubles[n] = value
        }
        n &+= 1
        i = end
      }
      if j < columns - 1 {
        guard i < count, base[i] == delimiter else { return nil }
        i += 1
        continue
      }
      // The record's end.
      if i < count && base[i] == newline {
        i += 1
      } else if i + 1 < count && base[i] == carriageReturn && base[i + 1] == newline {
        i += 2
      } else if !(i == count && atEnd) {
        return nil
      }
    }
    if isFloat {
      values.floats.append(contentsOf: UnsafeBufferPointer(start: row.floats, count: n))
    } else {
      values.doubles.append(contentsOf: UnsafeBufferPointer(start: row.doubles, count: n))
    }
    if let label { labels.append(label) }
    return i
  }

  /// Plain records from `start` up to `end` (a record boundary); stops
  /// at the first record that is not plain.
  ///
  /// - Returns: where it stopped and the records read.
  mutating func records(
    from start: Int, to end: Int, into values: inout ValueBuffer, labels: inout [String]
  ) -> (stop: Int, rows: Int) {
    let row = RowScratch(columns: columns)
    defer { row.deallocate() }
    var i = start
    var rows = 0
    while i < end, let next = record(at: i, into: &values, labels: &labels, row: row) {
      i = next
      rows += 1
    }
    return (i, rows)
  }

  /// The label `[start, end)` as text: `nil` when it has blanks around it
  /// or is not UTF-8 (the general path trims or names the problem).
  private mutating func labelText(_ start: Int, _ end: Int) -> String? {
    let first = base[start]
    let last = base[end - 1]
    guard first != 0x20, first != 0x09, last != 0x20, last != 0x09 else { return nil }
    let bytes = UnsafeBufferPointer(start: base + start, count: end - start)
    for entry in recentLabels
    where entry.bytes.count == bytes.count && entry.bytes.elementsEqual(bytes) {
      return entry.text
    }
    guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
    if recentLabels.count == 16 { recentLabels.removeFirst() }
    recentLabels.append((Array(bytes), text))
    return text
  }
}

/// Room for one record's values, in either precision, so that a record
/// is appended to its buffer at once (one capacity check and one copy)
/// rather than value by value.
struct RowScratch {
  let doubles: UnsafeMutablePointer<Double>
  let floats: UnsafeMutablePointer<Float>

  init(columns: Int) {
    doubles = .allocate(capacity: max(columns, 1))
    floats = .allocate(capacity: max(columns, 1))
  }

  func deallocate() {
    doubles.deallocate()
    floats.deallocate()
  }
}

/// What one part of a window read: its values, labels, records, and
/// where it stopped (its end, unless a record was not plain).
struct PlainPart {
  var values: ValueBuffer
  var labels: [String] = []
  var start = 0
  var end = 0
  var stop = 0
  var rows = 0
}

extension CSVParser {
  func plainScanner() -> PlainRecordScanner {
    PlainRecordScanner(
      base: UnsafePointer(file.bytes), count: file.count, atEnd: file.atEnd,
      delimiter: delimiter, columns: columns, labelIndex: labelIndex)
  }

  /// Reads the complete records of the window from `position`: the plain
  /// ones in parallel (when the window is large and there are threads),
  /// the others by the general path in file order, so
  /// that values, labels, line numbers and the first error are those of
  /// a reading front to back. Leaves `position` at the first record the
  /// window does not hold whole.
  mutating func readWindow() throws(DataError) {
    // The records the window holds whole end at its last line feed (or
    // at the file's end), unless a quoted field holds that line feed.
    let end = file.atEnd ? file.count : file.endOfCompleteLines(from: position)
    guard end > position else { return }
    let threads = SoftmaxConfiguration.threadCount
    let span = end - position
    guard threads > 1, span >= ChunkedFile.parallelBytes else {
      try readRecords(to: end)
      return
    }
    // Parts of about equal size, cut after a line feed.
    let cuts = file.cutsAfterLineFeeds(from: position, to: end, parts: threads)
    let isFloat = values.isFloat
    while parts.count < cuts.count - 1 {
      parts.append(
        PlainPart(values: isFloat ? ValueBuffer(for: Float.self) : ValueBuffer(for: Double.self)))
    }
    for k in 0..<(cuts.count - 1) {
      parts[k].values.removeAll()
      parts[k].labels.removeAll(keepingCapacity: true)
      parts[k].start = cuts[k]
      parts[k].end = cuts[k + 1]
    }
    let used = cuts.count - 1
    let scanner = plainScanner()
    // The first part goes straight into the data set's buffers (no copy);
    // the others into their own, appended after it.
    withUnsafeMutablePointer(to: &values) { mainValues in
      withUnsafeMutablePointer(to: &labels) { mainLabels in
        parts.withUnsafeMutableBufferPointer { parts in
          parallelFor(count: used, cost: span / used, grain: 1) { first, last in
            var scanner = scanner
            for k in first..<last {
              if k == 0 {
                (parts[k].stop, parts[k].rows) = scanner.records(
                  from: parts[k].start, to: parts[k].end, into: &mainValues.pointee,
                  labels: &mainLabels.pointee)
              } else {
                (parts[k].stop, parts[k].rows) = scanner.records(
                  from: parts[k].start, to: parts[k].end, into: &parts[k].values,
                  labels: &parts[k].labels)
              }
            }
          }
        }
      }
    }
    // A cut is a record boundary when the reading front to back reaches
    // it exactly. It does not when it fell inside a quoted field with a
    // line break: the record holding the quote is not plain, the general
    // path reads it across the cut, and the parts after it are dropped
    // (read again, record by record, from where the reading is).
    for k in 0..<used {
      if k > 0 {
        values.append(contentsOf: parts[k].values)
        labels.append(contentsOf: parts[k].labels)
      }
      rowCount += parts[k].rows
      line += parts[k].rows
      position = parts[k].stop
      try readRecords(to: parts[k].end)
      guard position == parts[k].end else { return }
    }
  }

  /// Reads the records from `position` to `end` (a record boundary inside
  /// the window) one by one: plain ones on the fast path, the others by
  /// the general path.
  mutating func readRecords(to end: Int) throws(DataError) {
    var scanner = plainScanner()
    while position < end {
      let (stop, rows) = scanner.records(from: position, to: end, into: &values, labels: &labels)
      rowCount += rows
      line += rows
      position = stop
      // The general path may read a record past `end` (a quoted field
      // with a line break), or stop at the window's end.
      guard position < end, let (next, lines) = try scanRecord() else { return }
      if !isBlank() { try consumeRow() }
      position = next
      line += lines
    }
  }
}
