//===--- LIBSVMLines.swift ------------------------------------*- swift -*-===//
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

/// LIBSVM lines as scanned: labels, row starts, indices as written (the
/// base is known at the end), values, and what ``LIBSVMReader/Scan``
/// records. ``LIBSVMReader/scan(_:options:as:chunkRows:keepsLabels:emit:)``
/// builds one front to back; for a large window each thread builds one
/// for its part, and they are appended in file order.
struct LIBSVMLines<Scalar: SoftmaxScalar> {
  let path: String
  let options: LIBSVMOptions
  let keepsLabels: Bool
  var labels: [String] = []
  var rowStarts: [Int] = [0]
  var indices: [Int32] = []
  var entries: [Scalar] = []
  var scan = LIBSVMReader.Scan()
  /// The lines read: the number of the last one (counted from this
  /// part's start for a part).
  var line = 0

  init(path: String, options: LIBSVMOptions, keepsLabels: Bool) {
    self.path = path
    self.options = options
    self.keepsLabels = keepsLabels
  }

  /// Reads the lines of `[start, end)`, each ending in a line feed.
  mutating func parseLines(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int)
    throws(DataError)
  {
    var position = start
    while position < end,
      let found = memchr(base + position, Int32(UInt8(ascii: "\n")), end - position)
    {
      let lineEnd = UnsafeRawPointer(found) - UnsafeRawPointer(base)
      line += 1
      try parseLine(base, position, lineEnd)
      position = lineEnd + 1
    }
  }

  /// Reads the lines between the first and the last of `cuts` (each cut
  /// just after a line feed) on all threads, a part per range between
  /// cuts: each part read into its own ``LIBSVMLines``, and the parts
  /// appended in order, `appended` called after each. The first error in
  /// the file's order is thrown, with its line counted from the file's
  /// start, after the rows before it are appended (and `appended`
  /// called): as a reading front to back leaves them.
  mutating func parseInParallel(
    _ base: UnsafePointer<UInt8>, cuts: [Int],
    appended: (inout LIBSVMLines) throws(DataError) -> Void = { _ throws(DataError) in }
  ) throws(DataError) {
    let span = cuts[cuts.count - 1] - cuts[0]
    let count = cuts.count - 1
    var parts = (0..<count).map { _ in
      LIBSVMLines(path: path, options: options, keepsLabels: keepsLabels)
    }
    var errors = [DataError?](repeating: nil, count: count)
    parts.withUnsafeMutableBufferPointer { parts in
      errors.withUnsafeMutableBufferPointer { errors in
        parallelFor(count: count, cost: span / count, grain: 1) { first, last in
          for k in first..<last {
            do throws(DataError) {
              try parts[k].parseLines(base, from: cuts[k], to: cuts[k + 1])
            } catch {
              errors[k] = error
            }
          }
        }
      }
    }
    for k in 0..<count {
      if var error = errors[k] {
        // The rows before the failing line; its entries so far dropped.
        var rows = parts[k]
        let kept = rows.rowStarts[rows.rowStarts.count - 1]
        rows.indices.removeLast(rows.indices.count - kept)
        rows.entries.removeLast(rows.entries.count - kept)
        error.line = error.line.map { $0 + line }
        append(rows)
        try appended(&self)
        throw error
      }
      append(parts[k])
      try appended(&self)
    }
  }

  /// Hands the first `count` rows to `emit` (as
  /// ``handOn(to:keepingCapacity:)``, keeping the capacity) and keeps the
  /// rows after them.
  mutating func handOnFirst(
    _ count: Int,
    to emit: (
      _ rowStarts: inout [Int], _ indices: inout [Int32], _ entries: inout [Scalar]
    ) throws(DataError) -> Void
  ) throws(DataError) {
    let split = rowStarts[count]
    let restStarts = rowStarts[(count + 1)...].map { $0 - split }
    let restIndices = Array(indices[split...])
    let restEntries = Array(entries[split...])
    rowStarts.removeLast(rowStarts.count - count - 1)
    indices.removeLast(indices.count - split)
    entries.removeLast(entries.count - split)
    try handOn(to: emit, keepingCapacity: true)
    rowStarts += restStarts
    indices += restIndices
    entries += restEntries
  }

  /// Hands the rows so far to `emit`, which may take the arrays; empty
  /// ones follow, of the same capacity when `keepingCapacity`.
  mutating func handOn(
    to emit: (
      _ rowStarts: inout [Int], _ indices: inout [Int32], _ entries: inout [Scalar]
    ) throws(DataError) -> Void,
    keepingCapacity: Bool
  ) throws(DataError) {
    let capacity = (rows: rowStarts.count, entries: indices.count)
    try emit(&rowStarts, &indices, &entries)
    rowStarts = [0]
    indices = []
    entries = []
    if keepingCapacity {
      rowStarts.reserveCapacity(capacity.rows)
      indices.reserveCapacity(capacity.entries)
      entries.reserveCapacity(capacity.entries)
    }
  }

  /// Appends the lines of `part`, read just after these.
  mutating func append(_ part: LIBSVMLines) {
    let offset = indices.count
    let lines = line
    labels.append(contentsOf: part.labels)
    for k in 1..<part.rowStarts.count { rowStarts.append(part.rowStarts[k] + offset) }
    indices.append(contentsOf: part.indices)
    entries.append(contentsOf: part.entries)
    scan.append(part.scan, lines: lines)
    line += part.line
  }

  /// Reads one line, `[start, lineEnd)` without its line feed, whose
  /// number is ``line``.
  mutating func parseLine(
    _ base: UnsafePointer<UInt8>, _ start: Int, _ lineEnd: Int
  ) throws(DataError) {
    var end = lineEnd
    if end > start, base[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    // The comment, if any, ends the line.
    var k = start
    while k < end, base[k] != UInt8(ascii: "#") { k += 1 }
    end = k
    var i = start
    func skipBlanks() { while i < end, base[i] == 0x20 || base[i] == 0x09 { i += 1 } }
    func token() -> (Int, Int) {
      let from = i
      while i < end, base[i] != 0x20, base[i] != 0x09 { i += 1 }
      return (from, i)
    }
    skipBlanks()
    if i == end { return }
    let (labelStart, labelEnd) = token()
    let labelBytes = UnsafeBufferPointer(start: base + labelStart, count: labelEnd - labelStart)
    guard let labelText = String(validating: labelBytes, as: UTF8.self) else {
      throw DataError(
        .invalidEncoding, path: path, line: line, column: labelStart - start + 1,
        "the label is not valid UTF-8")
    }
    if labelText.contains(":") {
      throw DataError(
        .labels, path: path, line: line, column: labelStart - start + 1,
        "the line starts with \"\(labelText)\", not a label (each line is: label index:value ...)"
      )
    }
    if keepsLabels { labels.append(LIBSVMReader.canonicalLabel(labelText)) }
    scan.rows += 1
    var previous = -1
    while true {
      skipBlanks()
      if i == end { break }
      let column = i - start + 1
      let (from, to) = token()
      var colon = from
      while colon < to, base[colon] != UInt8(ascii: ":") { colon += 1 }
      func pairText() -> String {
        String(
          decoding: UnsafeBufferPointer(start: base + from, count: min(to - from, 40)),
          as: UTF8.self)
      }
      guard colon < to else {
        throw DataError(
          .malformed, path: path, line: line, column: column,
          "\"\(pairText())\" is not an index:value pair")
      }
      if colon - from == 3, base[from] == UInt8(ascii: "q"), base[from + 1] == UInt8(ascii: "i"),
        base[from + 2] == UInt8(ascii: "d")
      {
        continue
      }
      var index = 0
      var digits = 0
      for p in from..<colon {
        let digit = Int(base[p]) - 0x30
        guard digit >= 0, digit < 10, digits < 10 else {
          digits = -1
          break
        }
        index = index * 10 + digit
        digits += 1
      }
      guard digits > 0 else {
        throw DataError(
          .malformed, path: path, line: line, column: column,
          "the index in \"\(pairText())\" is not a non-negative integer below 10^10")
      }
      guard index <= Int(Int32.max) else {
        throw DataError(
          .unsupported, path: path, line: line, column: column,
          "index \(index) is beyond the largest feature index this reader takes (2^31 − 1)")
      }
      guard index > previous else {
        throw DataError(
          .malformed, path: path, line: line, column: column,
          index == previous
            ? "index \(index) appears twice on the line"
            : "index \(index) comes after \(previous): indices must be ascending")
      }
      previous = index
      // A Float is the text's nearest, not the double's (two roundings).
      guard case .number(let parsed) = NumberParser.parse(base, colon + 1, to),
        parsed.isFinite
      else {
        throw DataError(
          .notANumber, path: path, line: line, column: colon + 1 - start + 1,
          "the value in \"\(pairText())\" is not a finite number")
      }
      let value =
        Scalar.self == Float.self
        ? Double(NumberParser.nearestFloat(parsed, base, colon + 1, to)) : parsed
      guard value.isFinite else {
        throw DataError(
          .notANumber, path: path, line: line, column: colon + 1 - start + 1,
          "the value in \"\(pairText())\" is not a finite number")
      }
      if index == 0 && !scan.sawZero {
        scan.sawZero = true
        scan.firstZero = (line, column)
      }
      if index > scan.largest {
        scan.largest = index
        scan.largestAt = (line, column)
      }
      if let count = options.featureCount, index >= count {
        if scan.firstAtOrAbove == nil { scan.firstAtOrAbove = (index, line, column) }
        scan.atOrAboveCount += 1
        if index > count {
          if scan.firstAbove == nil { scan.firstAbove = (index, line, column) }
          scan.aboveCount += 1
        }
      }
      indices.append(Int32(index))
      entries.append(Scalar(value))
    }
    scan.entries += indices.count - rowStarts[rowStarts.count - 1]
    rowStarts.append(indices.count)
  }

}

extension LIBSVMReader.Scan {
  /// Adds what a scan of the lines after `lines` lines found: counts
  /// summed, the first occurrences kept (the later ones' lines moved by
  /// `lines`), the largest index the first of its largest.
  mutating func append(_ other: Self, lines: Int) {
    rows += other.rows
    entries += other.entries
    if other.largest > largest {
      largest = other.largest
      largestAt = (other.largestAt.line + lines, other.largestAt.column)
    }
    if firstAbove == nil, let first = other.firstAbove {
      firstAbove = (first.index, first.line + lines, first.column)
    }
    if firstAtOrAbove == nil, let first = other.firstAtOrAbove {
      firstAtOrAbove = (first.index, first.line + lines, first.column)
    }
    aboveCount += other.aboveCount
    atOrAboveCount += other.atOrAboveCount
    if !sawZero && other.sawZero {
      sawZero = true
      firstZero = (other.firstZero.line + lines, other.firstZero.column)
    }
  }
}
