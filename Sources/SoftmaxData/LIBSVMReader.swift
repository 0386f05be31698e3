//===--- LIBSVMReader.swift -----------------------------------*- swift -*-===//
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

/// How to read a LIBSVM / svmlight file.
public struct LIBSVMOptions: Sendable, Hashable {
  /// Whether feature indices start at 0; `nil` detects it as
  /// scikit-learn's `zero_based="auto"`: 0-based when some index is 0,
  /// 1-based otherwise.
  public var zeroBased: Bool? = nil
  /// The number of features; `nil` takes the largest index seen. Give a
  /// model's feature count to read data for it (an index beyond it is an
  /// error).
  public var featureCount: Int? = nil

  /// Detect the index base; as many features as the largest index.
  public init() {}
}

/// Reads LIBSVM / svmlight sparse text into a dense ``DataSet``.
///
/// Each line is `label index:value index:value ... [# comment]`;
/// `qid:n` pairs are skipped, blank lines and `#` lines too. Indices must
/// be ascending within a line (as scikit-learn requires). Integer-valued
/// labels are written canonically (`+1` and `1.0` are both `"1"`), so
/// that they sort as numbers.
///
/// Cost: one streaming pass, O(file size), then O(n·d) to densify. The
/// dense matrix may hold at most ``maximumDenseValues(fileSize:)``
/// values, so that a large index in a small file is an error rather than
/// a large allocation.
public enum LIBSVMReader {
  /// Reads the file at `path`.
  ///
  /// - Throws: ``DataError`` with the line and column of the first
  ///   problem: a pair without `:`, an index that is not a non-negative
  ///   integer, out of order, repeated, or beyond `featureCount`, a value
  ///   that is not a finite number, a line with no label, no data rows.
  public static func read<Scalar: SoftmaxScalar>(
    _ path: String, options: LIBSVMOptions = LIBSVMOptions(), as _: Scalar.Type = Scalar.self
  ) throws(DataError) -> DataSet<Scalar> {
    let file = try ChunkedFile(path: path)
    try file.refill(consumed: 0)
    try file.rejectNULInFirstWindow(format: "LIBSVM")
    var labels: [String] = []
    var rowStarts: [Int] = [0]
    var indices: [Int] = []
    var entries: [Double] = []
    var largest = -1
    var largestAt = (line: 0, column: 0)
    var sawZero = false
    var position = 0
    var line = 0
    while true {
      if position >= file.count {
        if file.atEnd { break }
        try file.refill(consumed: position)
        position = 0
        continue
      }
      let remaining = file.count - position
      guard let found = memchr(file.bytes + position, Int32(UInt8(ascii: "\n")), remaining) else {
        if !file.atEnd {
          try file.refill(consumed: position)
          position = 0
          continue
        }
        line += 1
        try parseLine(position, file.count)
        position = file.count
        continue
      }
      let end = UnsafeMutableRawPointer(found).assumingMemoryBound(to: UInt8.self) - file.bytes
      line += 1
      try parseLine(position, end)
      position = end + 1
    }

    func parseLine(_ start: Int, _ lineEnd: Int) throws(DataError) {
      let base = UnsafePointer(file.bytes)
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
      labels.append(canonicalLabel(labelText))
      var previous = -1
      while true {
        skipBlanks()
        if i == end { break }
        let column = i - start + 1
        let (from, to) = token()
        var colon = from
        while colon < to, base[colon] != UInt8(ascii: ":") { colon += 1 }
        let pairText = String(
          decoding: UnsafeBufferPointer(start: base + from, count: min(to - from, 40)),
          as: UTF8.self)
        guard colon < to else {
          throw DataError(
            .malformed, path: path, line: line, column: column,
            "\"\(pairText)\" is not an index:value pair")
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
            "the index in \"\(pairText)\" is not a non-negative integer below 10^10")
        }
        guard index > previous else {
          throw DataError(
            .malformed, path: path, line: line, column: column,
            index == previous
              ? "index \(index) appears twice on the line"
              : "index \(index) comes after \(previous): indices must be ascending")
        }
        previous = index
        guard case .number(let value) = NumberParser.parse(base, colon + 1, to), value.isFinite,
          Scalar.self != Float.self || Float(value).isFinite
        else {
          throw DataError(
            .notANumber, path: path, line: line, column: colon + 1 - start + 1,
            "the value in \"\(pairText)\" is not a finite number")
        }
        if index == 0 { sawZero = true }
        if index > largest {
          largest = index
          largestAt = (line, column)
        }
        indices.append(index)
        entries.append(value)
      }
      rowStarts.append(indices.count)
    }

    guard !labels.isEmpty else { throw DataError(.empty, path: path, "the file has no data rows") }
    let zeroBased = options.zeroBased ?? sawZero
    if !zeroBased && sawZero {
      throw DataError(.malformed, path: path, "index 0 in a file read as 1-based")
    }
    let offset = zeroBased ? 0 : 1
    let d = options.featureCount ?? max(largest + 1 - offset, 0)
    if largest - offset >= d {
      throw DataError(
        .shapeMismatch, path: path, line: largestAt.line, column: largestAt.column,
        "feature index \(largest) is beyond the \(d) features expected")
    }
    let n = labels.count
    let (dense, overflow) = n.multipliedReportingOverflow(by: d)
    let allowed = LIBSVMReader.maximumDenseValues(fileSize: file.bytesRead)
    guard !overflow, dense <= allowed else {
      throw DataError(
        .unsupported, path: path, line: largestAt.line, column: largestAt.column,
        "feature index \(largest) makes the dense matrix \(n) × \(d) = \(overflow ? "more than Int.max" : String(dense)) values, more than the \(allowed) allowed for a \(file.bytesRead)-byte file: too sparse to read as a dense matrix"
      )
    }
    var values = ValueBuffer(for: Scalar.self)
    for _ in 0..<dense { _ = values.append(0) }
    for row in 0..<n {
      for p in rowStarts[row]..<rowStarts[row + 1] {
        values.set(row * d + indices[p] - offset, entries[p])
      }
    }
    var report = LoadReport()
    report.zeroBasedIndices = zeroBased
    return DataSet(
      features: values.matrix(rows: n, columns: d, as: Scalar.self), labels: labels,
      featureNames: nil, report: report)
  }

  /// The most values a file of `fileSize` bytes may densify to:
  /// 256 per byte, and at least 2^24 (128 MiB of `Double`s).
  ///
  /// A sparse file's dense size is rows × (largest index + 1), a number
  /// written in the file rather than its length: one 20-byte line
  /// `1 4000000000:1` would otherwise ask for 32 GB. Real sparse data sets
  /// stay well inside (rcv1: about 73 values per byte; MNIST: under 1).
  public static func maximumDenseValues(fileSize: Int) -> Int {
    let (scaled, overflow) = fileSize.multipliedReportingOverflow(by: 256)
    return overflow ? Int.max : max(scaled, 1 << 24)
  }

  /// `+1`, `1.0`, `1e0` → `"1"`; other labels as written.
  static func canonicalLabel(_ text: String) -> String {
    guard case .number(let value) = NumberParser.parse(text), value.isFinite,
      value == value.rounded(), abs(value) < 9e15
    else { return text }
    return String(Int(value))
  }
}
