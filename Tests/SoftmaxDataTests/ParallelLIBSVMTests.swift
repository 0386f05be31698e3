//===--- ParallelLIBSVMTests.swift ----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

/// A LIBSVM file of several 1 MiB windows, written from known rows, with
/// what a reader must step over scattered through it: comment lines,
/// blank lines, comments after the pairs, CRLF endings, tabs between
/// pairs, `qid:` tokens, rows without pairs.
private struct MixedLIBSVM {
  var text = "# made by ParallelLIBSVMTests\n"
  var rowOffsets = [0]
  var indices: [Int32] = []
  var values: [Double] = []
  var labels: [String] = []
  /// Each row's line, and where its pairs start (the first pair's column).
  var rowLines: [Int] = []
  var line = 2

  init(rows: Int, seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    for _ in 0..<rows {
      let label = ["1", "2", "-1", "7"][generator.next(below: 4)]
      var fields = [label]
      if generator.next(below: 40) == 0 { fields.append("qid:\(generator.next(below: 9))") }
      var index = 0
      for _ in 0..<generator.next(below: 30) {
        index += 1 + generator.next(below: 3000)
        let value =
          Double(bitPattern: generator.next() >> 2 | 0x3000_0000_0000_0000)
          * (generator.next() & 1 == 0 ? 1 : -1)
        fields.append("\(index):\(value)")
        indices.append(Int32(index - 1))
        values.append(value)
      }
      rowOffsets.append(indices.count)
      labels.append(label)
      rowLines.append(line)
      let separator = generator.next(below: 20) == 0 ? "\t" : " "
      var written = fields.joined(separator: separator)
      if generator.next(below: 30) == 0 { written += " # a note" }
      text += written + (generator.next(below: 25) == 0 ? "\r\n" : "\n")
      line += 1
      switch generator.next(below: 60) {
      case 0:
        text += "\n"
        line += 1
      case 1:
        text += "# a comment line\n"
        line += 1
      default: break
      }
    }
  }
}

@Suite("LIBSVM in parallel: the same rows, labels and errors as front to back")
struct ParallelLIBSVMTests {
  func write(_ text: String, _ name: String) throws -> String {
    try writeTemporary(text, name, ext: "svm")
  }

  /// The error reading `path` with `options` throws with `threads`.
  func error(_ path: String, _ options: LIBSVMOptions = LIBSVMOptions(), threads: Int)
    -> DataError?
  {
    withThreads(threads) { () -> DataError? in
      do {
        _ = try LIBSVMReader.readSparse(path, options: options, as: Double.self)
        return nil
      } catch { return error as? DataError }
    }
  }

  @Test("a file of several windows reads as written, with 1, 2 and 3 threads")
  func sameRows() throws {
    let table = MixedLIBSVM(rows: 30_000, seed: 3)
    #expect(table.text.utf8.count > 3 << 20)  // several 1 MiB windows
    let path = try write(table.text, "same")
    defer { unlink(path) }
    for threads in 1...3 {
      let data = try withThreads(threads) { try LIBSVMReader.readSparse(path, as: Double.self) }
      #expect(data.features.rowOffsets == table.rowOffsets, "\(threads) threads")
      #expect(data.features.columnIndices == table.indices, "\(threads) threads")
      #expect(data.features.values == table.values, "\(threads) threads")
      #expect(data.labels == table.labels.map(LIBSVMReader.canonicalLabel), "\(threads) threads")
      #expect(data.featureCount == Int(table.indices.max() ?? -1) + 1)
      let floats = try withThreads(threads) { try LIBSVMReader.readSparse(path, as: Float.self) }
      #expect(floats.features.values == table.values.map { Float($0) }, "\(threads) threads")
    }
  }

  /// A stream parses the file on every pass, in chunks of exactly the rows
  /// asked for: the chunks are the same with any thread count, and they
  /// make up the file's rows.
  @Test("a stream's chunks are the same with 1, 2 and 3 threads")
  func sameChunks() throws {
    let table = MixedLIBSVM(rows: 30_000, seed: 5)
    let path = try write(table.text, "chunks")
    defer { unlink(path) }
    var runs: [[(Int, SparseMatrix<Double>)]] = []
    for threads in 1...3 {
      let chunks = try withThreads(threads) { () throws -> [(Int, SparseMatrix<Double>)] in
        let stream = try LIBSVMRowStream(path: path, as: Double.self)
        var chunks: [(Int, SparseMatrix<Double>)] = []
        try stream.forEachChunk(rows: 997) { first, chunk in chunks.append((first, chunk)) }
        return chunks
      }
      #expect(chunks.dropLast().allSatisfy { $0.1.rows == 997 }, "\(threads) threads")
      #expect(chunks.map(\.0) == Array(stride(from: 0, to: 30_000, by: 997)))
      #expect(chunks.flatMap(\.1.values) == table.values, "\(threads) threads")
      runs.append(chunks)
    }
    for run in runs.dropFirst() {
      #expect(run.count == runs[0].count)
      for (a, b) in zip(run, runs[0]) {
        #expect(a.0 == b.0 && a.1.rowOffsets == b.1.rowOffsets)
        #expect(a.1.columnIndices == b.1.columnIndices && a.1.values == b.1.values)
      }
    }
  }

  @Test("an error deep in the file names the same line and column with any thread count")
  func errorsAtTheSamePlace() throws {
    let table = MixedLIBSVM(rows: 30_000, seed: 7)
    // The lines before the final line feed.
    let lines = Array(physicalLines(table.text).dropLast())
    var checked = 0
    // The bad pair goes after the row's pairs; `offset` is where in it
    // the error is (a value's error names the value's column).
    for (row, replacement, offset, code) in [
      (29_000, "x", 0, DataError.Code.malformed), (20_001, "999999990:abc", 10, .notANumber),
      (12_345, "999999999:1 5:1", 12, .malformed), (27_003, "1.5:2", 0, .malformed),
    ] {
      let line = table.rowLines[row]
      var broken = lines
      var text = broken[line - 1]
      if text.hasSuffix("\r") { text.removeLast() }
      if let comment = text.firstIndex(of: "#") { text = String(text[..<comment]) }
      let trimmed = text.trimmingCharacters(in: .whitespaces)
      let column = trimmed.utf8.count + 2 + offset
      broken[line - 1] = trimmed + " " + replacement
      let path = try write(broken.joined(separator: "\n") + "\n", "error")
      defer { unlink(path) }
      for threads in [1, 2, 3] {
        let thrown = try #require(error(path, threads: threads), "\(replacement) at line \(line)")
        #expect(thrown.line == line, "\(threads) threads: \(thrown)")
        #expect(thrown.column == column, "\(threads) threads: \(thrown)")
        #expect(thrown.code == code, "\(threads) threads: \(thrown)")
        // A stream's first pass, in chunks, finds it at the same place.
        let streamed = withThreads(threads) { () -> DataError? in
          do {
            _ = try LIBSVMRowStream(path: path, as: Double.self)
            return nil
          } catch { return error as? DataError }
        }
        #expect(streamed?.line == line && streamed?.column == column, "\(threads) threads")
      }
      checked += 1
    }
    #expect(checked == 4)
  }

  @Test(
    "what the whole scan finds (index 0, the largest index, unknown features) is placed the same")
  func scanFindings() throws {
    let table = MixedLIBSVM(rows: 30_000, seed: 11)
    // The lines before the final line feed.
    let lines = Array(physicalLines(table.text).dropLast())
    // Index 0 on two rows, far apart: read as 1-based, the first is named.
    let zeroLines = [table.rowLines[21_000], table.rowLines[28_000]]
    var withZeros = lines
    for line in zeroLines { withZeros[line - 1] = "1 0:2.5" }
    let zeros = try write(withZeros.joined(separator: "\n") + "\n", "zeros")
    defer { unlink(zeros) }
    var oneBased = LIBSVMOptions()
    oneBased.zeroBased = false
    for threads in [1, 2] {
      let thrown = try #require(error(zeros, oneBased, threads: threads))
      #expect(thrown.line == zeroLines[0], "\(threads) threads: \(thrown)")
      #expect(thrown.column == 3)
      // Detected, index 0 makes the file 0-based: no error.
      let data = try withThreads(threads) { try LIBSVMReader.readSparse(zeros, as: Double.self) }
      #expect(data.report.zeroBasedIndices == true)
    }
    // Indices beyond a model's features: the first is named; left out
    // when asked, counted the same.
    let largest = Int(table.indices.max() ?? 0) + 1  // 1-based, as written
    let beyondLines = [table.rowLines[17_000], table.rowLines[25_000], table.rowLines[29_999]]
    var beyond = lines
    for line in beyondLines { beyond[line - 1] = "2 \(largest + 10):1" }
    let path = try write(beyond.joined(separator: "\n") + "\n", "beyond")
    defer { unlink(path) }
    var model = LIBSVMOptions()
    model.zeroBased = false
    model.featureCount = largest
    var ignoring = model
    ignoring.ignoresUnknownFeatures = true
    var notes: [[String]] = []
    for threads in [1, 2, 3] {
      let thrown = try #require(error(path, model, threads: threads))
      #expect(thrown.line == beyondLines[0], "\(threads) threads: \(thrown)")
      #expect(thrown.code == .shapeMismatch)
      let data = try withThreads(threads) {
        try LIBSVMReader.readSparse(path, options: ignoring, as: Double.self)
      }
      notes.append(data.report.notes)
      #expect(data.featureCount == largest)
    }
    #expect(notes.allSatisfy { $0 == notes[0] })
    #expect(notes[0].contains { $0.contains("left out 3 entries") }, "\(notes[0])")
  }
}
