//===--- ParallelCSVTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

/// A CSV file of several windows, written from known values, with the
/// records the fast path leaves to the general one scattered through it:
/// quoted fields (some with line breaks, so that a cut can fall inside
/// one), blanks around numbers, CRLF endings, blank lines, missing values.
private struct MixedTable {
  var text = "a,b,c,d,e,label\n"
  var values: [Double] = []
  var labels: [String] = []
  /// The line and column of every data row's first field.
  var rowLines: [Int] = []
  var line = 2

  init(rows: Int, seed: UInt64, missingEvery: Int? = nil) {
    var generator = SplitMix64(seed: seed)
    for row in 0..<rows {
      var fields: [String] = []
      var rowValues: [Double] = []
      var lineBreaks = 0
      for _ in 0..<5 {
        let value =
          Double(bitPattern: generator.next() >> 2 | 0x3000_0000_0000_0000)
          * (generator.next() & 1 == 0 ? 1 : -1)
        rowValues.append(value)
        switch generator.next(below: 40) {
        case 0: fields.append("\"\(value)\"")
        case 1: fields.append(" \(value) ")
        default: fields.append("\(value)")
        }
      }
      var label = ["alpha", "beta", "gamma"][generator.next(below: 3)]
      switch generator.next(below: 60) {
      case 0:
        label = "multi\nline \(row % 5)"
        fields.append("\"\(label)\"")
        lineBreaks = 1
      case 1:
        label = "say \"hi\""
        fields.append("\"say \"\"hi\"\"\"")
      default: fields.append(label)
      }
      if let missingEvery, row % missingEvery == missingEvery - 1 {
        fields[Int(generator.next(below: 5))] = ""
        rowLines.append(line)
        text += fields.joined(separator: ",") + "\n"
        line += 1 + lineBreaks
        continue
      }
      values += rowValues
      labels.append(label)
      rowLines.append(line)
      text += fields.joined(separator: ",") + (generator.next(below: 30) == 0 ? "\r\n" : "\n")
      line += 1 + lineBreaks
      if generator.next(below: 50) == 0 {
        text += "\n"
        line += 1
      }
    }
  }
}

@Suite("CSV in parallel: the same values, labels and errors as front to back")
struct ParallelCSVTests {
  func write(_ text: String, _ name: String) throws -> String {
    try writeTemporary(text, name, ext: "csv")
  }

  @Test("a file of several windows reads as written, with 1, 2 and 3 threads")
  func sameValues() throws {
    let table = MixedTable(rows: 40_000, seed: 5)
    #expect(table.text.utf8.count > 3 << 20)  // several 1 MiB windows
    let path = try write(table.text, "values")
    defer { unlink(path) }
    for threads in [1, 2, 3] {
      let data = try withThreads(threads) { try CSVReader.read(path, as: Double.self) }
      #expect(data.count == table.labels.count)
      #expect(Bool(data.features.elements == table.values), "\(threads) threads")
      #expect(Bool(data.labels == table.labels), "\(threads) threads")
      let floats = try withThreads(threads) { try CSVReader.read(path, as: Float.self) }
      #expect(
        Bool(floats.features.elements == table.values.map { Float($0) }), "\(threads) threads")
    }
  }

  @Test("every record with a line break in quotes: cuts fall inside fields, and are found out")
  func cutsInsideQuotes() throws {
    var text = "x,y,label\n"
    var values: [Double] = []
    var labels: [String] = []
    for row in 0..<60_000 {
      let x = Double(row) / 7
      let y = -Double(row) * 1.5
      values += [x, y]
      // The quoted line looks like a plain record of its own.
      let label = "row \(row % 11)\n1,2,\(row % 3)"
      labels.append(label)
      text += "\(x),\(y),\"\(label)\"\n"
    }
    let path = try write(text, "quotes")
    defer { unlink(path) }
    for threads in [1, 2, 3] {
      let data = try withThreads(threads) { try CSVReader.read(path, as: Double.self) }
      #expect(Bool(data.features.elements == values), "\(threads) threads")
      #expect(Bool(data.labels == labels), "\(threads) threads")
    }
  }

  @Test("skipped rows: the same rows kept and counted")
  func skippedRows() throws {
    let table = MixedTable(rows: 30_000, seed: 9, missingEvery: 97)
    let path = try write(table.text, "skip")
    defer { unlink(path) }
    var options = CSVOptions()
    options.missingValues = .skipRow
    for threads in [1, 2] {
      let data = try withThreads(threads) {
        try CSVReader.read(path, options: options, as: Double.self)
      }
      #expect(Bool(data.features.elements == table.values), "\(threads) threads")
      #expect(Bool(data.labels == table.labels))
      #expect(data.report.skippedRows == 30_000 / 97)
    }
  }

  @Test("an error deep in the file names the same line and column with any thread count")
  func errorsAtTheSamePlace() throws {
    let table = MixedTable(rows: 30_000, seed: 13)
    var lines = physicalLines(table.text)
    var checked = 0
    for (target, replacement) in [
      (29_000, "x"), (20_001, "1e400"), (15_000, ""), (27_003, "1.5.2"), (22_222, "-3.5e38"),
    ] {
      let line = table.rowLines[target]
      var broken = lines
      // The row's third field, wherever it starts.
      var fields = broken[line - 1].split(separator: ",", omittingEmptySubsequences: false)
      guard !fields[2].hasPrefix("\""), !fields[2].hasPrefix(" ") else { continue }
      let column = fields[0].count + fields[1].count + 3
      fields[2] = Substring(replacement)
      broken[line - 1] = fields.joined(separator: ",")
      let path = try write(broken.joined(separator: "\n"), "error")
      defer { unlink(path) }
      for threads in [1, 2] {
        let thrown = withThreads(threads) { () -> DataError? in
          do {
            _ = try CSVReader.read(path, as: Float.self)
            return nil
          } catch { return error as? DataError }
        }
        let error = try #require(thrown, "\(replacement) at line \(line)")
        #expect(error.line == line, "\(threads) threads: \(error)")
        #expect(error.column == column, "\(threads) threads: \(error)")
      }
      checked += 1
    }
    #expect(checked >= 2)
    lines.removeAll()
  }

  @Test("a row with a field too many, deep in the file")
  func fieldCount() throws {
    let table = MixedTable(rows: 30_000, seed: 21)
    var lines = physicalLines(table.text)
    let line = table.rowLines[25_000]
    lines[line - 1] += ",7"
    let path = try write(lines.joined(separator: "\n"), "count")
    defer { unlink(path) }
    for threads in [1, 2] {
      let thrown = withThreads(threads) { () -> DataError? in
        do {
          _ = try CSVReader.read(path, as: Double.self)
          return nil
        } catch { return error as? DataError }
      }
      let error = try #require(thrown)
      #expect(error.line == line, "\(threads) threads: \(error)")
      #expect(error.code == .shapeMismatch)
    }
  }
}
