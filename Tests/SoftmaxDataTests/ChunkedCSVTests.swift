//===--- ChunkedCSVTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

@Suite("CSV read a chunk of rows at a time")
struct ChunkedCSVTests {
  /// The chunks of `path` put back together, with what the reader found.
  static func chunked(
    _ path: String, options: CSVOptions = CSVOptions(), chunkRows: Int
  ) throws -> (features: Matrix<Float>, table: CSVReader.ChunkedTable, firsts: [Int]) {
    var elements: [Float] = []
    var firsts: [Int] = []
    var announced: CSVReader.ChunkedTable? = nil
    let table = try CSVReader.forEachChunk(
      path, options: options, chunkRows: chunkRows, as: Float.self,
      beforeFirstChunk: { announced = $0 },
      { first, features throws(DataError) in
        firsts.append(first)
        elements += features.elements
      })
    #expect(announced?.rows == table.rows)
    return (
      Matrix(rows: table.rows, columns: table.columns, elements: elements), table, firsts
    )
  }

  static var files: [(String, String, CSVOptions)] {
    var skip = CSVOptions()
    skip.missingValues = .skipRow
    var zero = CSVOptions()
    zero.missingValues = .zero
    var semicolons = CSVOptions()
    semicolons.label = .index(0)
    // A first row that is numeric but a header all the same: its label is
    // no class of the other rows.
    let guessedHeader = "1,2,y\n3,4,b\n5,6,b\n7,8,c\n9,10,c\n11,12,b\n"
    var rows = "a,b,c,label\n"
    for i in 0..<5000 { rows += "\(Double(i) / 7),\(i % 13),-\(i)e-3,class\(i % 4)\n" }
    return [
      ("header.csv", rows, CSVOptions()),
      ("guessed.csv", guessedHeader, CSVOptions()),
      ("plain.csv", "1,2,x\n3,4,y\n5.5,6,x\n", CSVOptions()),
      ("quoted.csv", "f,g,l\n1,\"2\",\"a\nb\"\n3,4,c\n\n5,6,\"d,e\"\n", CSVOptions()),
      ("skip.csv", "f,g,l\n1,,a\n3,4,b\n,6,a\n7,8,c\n", skip),
      ("zero.csv", "f,g,l\n1,,a\n3,4,b\n,6,a\n", zero),
      ("semicolons.csv", "l;f;g\nx;1;2\ny;3;4\n", semicolons),
    ]
  }

  @Test(
    "Chunks put together are what read(_:) reads, with the same labels, names and report",
    arguments: [1, 2, 7, 1000])
  func sameAsWhole(chunkRows: Int) throws {
    for (name, text, options) in Self.files {
      let path = try temporaryFile(name, text)
      let whole = try CSVReader.read(path, options: options, as: Float.self)
      let (features, table, firsts) = try Self.chunked(path, options: options, chunkRows: chunkRows)
      #expect(
        features.elements.map(\.bitPattern) == whole.features.elements.map(\.bitPattern),
        "\(name), chunks of \(chunkRows)")
      #expect(table.rows == whole.features.rows && table.columns == whole.features.columns)
      #expect(table.labels == whole.labels, "\(name)")
      #expect(table.featureNames == whole.featureNames, "\(name)")
      #expect(table.report == whole.report, "\(name)")
      #expect(firsts.first == 0)
    }
  }

  @Test("A file larger than a window, read by several threads: the same values")
  func largeFile() throws {
    var text = "x,y,z,w,label\n"
    var generator = SystemRandomNumberGenerator()
    for i in 0..<60_000 {
      let values = (0..<4).map { _ in String(Double.random(in: -1e6...1e6, using: &generator)) }
      text += values.joined(separator: ",") + ",c\(i % 10)\n"
    }
    let path = try temporaryFile("large.csv", text)
    let whole = try CSVReader.read(path, as: Float.self)
    let (features, table, firsts) = try Self.chunked(path, chunkRows: 4096)
    #expect(features.elements.map(\.bitPattern) == whole.features.elements.map(\.bitPattern))
    #expect(table.labels == whole.labels)
    #expect(firsts.count > 3, "\(firsts.count) chunks")
  }

  @Test("Errors are read(_:)'s: the same code, line and column, from any chunk")
  func errors() throws {
    var text = "a,b,label\n"
    for i in 0..<3000 { text += "\(i),\(i * 2),x\(i % 3)\n" }
    text += "1,oops,x1\n"
    let path = try temporaryFile("late-error.csv", text)
    let whole = #expect(throws: DataError.self) { try CSVReader.read(path, as: Float.self) }
    let chunked = #expect(throws: DataError.self) { try Self.chunked(path, chunkRows: 100) }
    #expect(chunked == whole)
    #expect(chunked?.line == 3002)
    var mean = CSVOptions()
    mean.missingValues = .mean
    let refused = #expect(throws: DataError.self) {
      try Self.chunked(path, options: mean, chunkRows: 100)
    }
    #expect(refused?.code == .unsupported)
  }

  @Test("CSVRowStream: exact chunks of read(_:)'s values on every pass; no random access")
  func rowStream() throws {
    var text = "a,b,label\n"
    for i in 0..<1000 { text += "\(Double(i) / 3),\(i % 17),c\(i % 3)\n" }
    let path = try temporaryFile("stream.csv", text)
    let whole = try CSVReader.read(path, as: Double.self)
    let stream = try CSVRowStream<Double>(path: path)
    #expect(stream.rows == 1000 && stream.columns == 2)
    #expect(stream.table.labels == whole.labels)
    for chunkRows in [1, 64, 333, 5000] {
      var elements: [Double] = []
      var sizes: [Int] = []
      try stream.forEachChunk(rows: chunkRows) { first, x in
        #expect(first == elements.count / 2)
        sizes.append(x.count / 2)
        elements += x
      }
      #expect(elements == whole.features.elements, "chunks of \(chunkRows)")
      #expect(sizes.dropLast().allSatisfy { $0 == chunkRows })
    }
    var buffer = [Double](repeating: 0, count: 2)
    #expect(throws: DataError.self) {
      try buffer.withUnsafeMutableBufferPointer { try stream.readRows(0..<1, into: $0) }
    }
    // A changed file stops the next pass.
    try Data((text + "1,2,c1\n").utf8).write(to: URL(fileURLWithPath: path))
    let changed = #expect(throws: DataError.self) {
      try stream.forEachChunk(rows: 100) { _, _ in }
    }
    #expect(changed?.message.contains("changed") == true)
  }

  @Test("A file written in pieces is whole or not at all")
  func atomicPieces() throws {
    let path = try temporaryFile("pieces.bin", [1, 2, 3])
    try AtomicFile.write(to: path) { append throws(DataError) in
      try append([4, 5])
      try append([6])
    }
    #expect(try AtomicFile.read(path) == [4, 5, 6])
    #expect(throws: DataError.self) {
      try AtomicFile.write(to: path) { append throws(DataError) in
        try append([9, 9, 9, 9])
        throw DataError(.malformed, path: "x", "stopped")
      }
    }
    #expect(try AtomicFile.read(path) == [4, 5, 6])
    let directory = (path as NSString).deletingLastPathComponent
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory)
      .filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty)
  }
}
