//===--- NPYRowStreamTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

/// An `.npy` file's bytes: version 1.0, `descr`, `shape`, the data as given.
func npyBytes(_ descr: String, shape: [Int], fortran: Bool = false, data: [UInt8]) -> [UInt8] {
  let dimensions = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
  var header =
    "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': (\(dimensions)), }"
  while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
  header += "\n"
  return [0x93] + Array("NUMPY".utf8)
    + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
    + Array(header.utf8) + data
}

/// The little-endian bytes of `values`.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
  values.flatMap { value in
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value.littleEndian >> (8 * $0)) }
  }
}

@Suite("NPY files streamed a chunk at a time")
struct NPYRowStreamTests {
  /// Every row of `stream` in chunks of `chunkRows`, with the first row of
  /// each chunk.
  static func rows<T: SoftmaxScalar>(_ stream: NPYRowStream<T>, chunkRows: Int) throws
    -> (elements: [T], firsts: [Int])
  {
    var elements: [T] = []
    var firsts: [Int] = []
    try stream.forEachChunk(rows: chunkRows) { first, x in
      firsts.append(first)
      elements.append(contentsOf: x)
    }
    return (elements, firsts)
  }

  @Test(
    "The rows are NPYReader's, bit for bit, in every chunk size and element type",
    arguments: [1, 3, 7, 64])
  func sameAsReader(chunkRows: Int) throws {
    var generator = SystemRandomNumberGenerator()
    let n = 23
    let d = 5
    let floats = (0..<(n * d)).map { _ in Float.random(in: -1e6...1e6, using: &generator) }
    let doubles = (0..<(n * d)).map { _ in Double.random(in: -1e30...1e30, using: &generator) }
    let halves = (0..<(n * d)).map { _ in Float16(Float.random(in: -100...100)) }
    let bytes = (0..<(n * d)).map { UInt8(truncatingIfNeeded: $0 * 37) }
    let ints = (0..<(n * d)).map { Int64($0 * 1_000_003 - 50_000) }
    let files: [(String, [UInt8])] = [
      (
        "f4.npy", npyBytes("<f4", shape: [n, d], data: littleEndianBytes(floats.map(\.bitPattern)))
      ),
      (
        "f8.npy",
        npyBytes("<f8", shape: [n, d], data: littleEndianBytes(doubles.map(\.bitPattern)))
      ),
      (
        "big_f8.npy",
        npyBytes(
          ">f8", shape: [n, d], data: littleEndianBytes(doubles.map { $0.bitPattern.byteSwapped }))
      ),
      (
        "f2.npy", npyBytes("<f2", shape: [n, d], data: littleEndianBytes(halves.map(\.bitPattern)))
      ),
      ("u1.npy", npyBytes("|u1", shape: [n, d], data: bytes)),
      ("i8.npy", npyBytes("<i8", shape: [n, d], data: littleEndianBytes(ints))),
    ]
    // The reader against the values written (its in-place path for
    // float32 as Float and float64 as Double, its converting path else).
    let f4 = try temporaryFile("f4-direct.npy", files[0].1)
    #expect(
      try NPYReader.read(f4, as: Float.self).features.elements.map(\.bitPattern)
        == floats.map(\.bitPattern))
    #expect(
      try NPYReader.read(f4, as: Double.self).features.elements == floats.map { Double($0) })
    let f8 = try temporaryFile("f8-direct.npy", files[1].1)
    #expect(
      try NPYReader.read(f8, as: Double.self).features.elements.map(\.bitPattern)
        == doubles.map(\.bitPattern))
    #expect(
      try NPYReader.read(f8, as: Float.self).features.elements.map(\.bitPattern)
        == doubles.map { Float($0).bitPattern })
    for (name, content) in files {
      let path = try temporaryFile(name, content)
      let expectedFloat = try NPYReader.read(path, as: Float.self).features
      let streamedFloat = try Self.rows(NPYRowStream<Float>(path: path), chunkRows: chunkRows)
      #expect(
        streamedFloat.elements.map(\.bitPattern) == expectedFloat.elements.map(\.bitPattern),
        "\(name) as Float")
      #expect(streamedFloat.firsts == Array(stride(from: 0, to: n, by: chunkRows)))
      let expectedDouble = try NPYReader.read(path, as: Double.self).features
      let stream = try NPYRowStream<Double>(path: path)
      #expect(stream.rows == n && stream.columns == d)
      let streamedDouble = try Self.rows(stream, chunkRows: chunkRows)
      #expect(
        streamedDouble.elements.map(\.bitPattern) == expectedDouble.elements.map(\.bitPattern),
        "\(name) as Double")
    }
  }

  @Test("A stream reads the same rows on every pass, and may be read by two passes at once")
  func passes() throws {
    let values = (0..<(40 * 3)).map { Float($0) / 7 }
    let path = try temporaryFile(
      "passes.npy",
      npyBytes("<f4", shape: [40, 3], data: littleEndianBytes(values.map(\.bitPattern))))
    let stream = try NPYRowStream<Float>(path: path)
    var inner: [[Float]] = []
    var outer: [Float] = []
    try stream.forEachChunk(rows: 16) { _, x in
      outer.append(contentsOf: x)
      inner.append(try Self.rows(stream, chunkRows: 5).elements)
    }
    #expect(outer == values)
    #expect(inner == [values, values, values])
  }

  @Test("Files it cannot stream are refused with the reason, naming the file")
  func refusals() throws {
    let data = [UInt8](repeating: 0, count: 6 * 4)
    let cases: [(String, [UInt8], DataError.Code, String)] = [
      (
        "fortran.npy", npyBytes("<f4", shape: [2, 3], fortran: true, data: data), .unsupported,
        "Fortran order"
      ),
      ("flat.npy", npyBytes("<f4", shape: [6], data: data), .shapeMismatch, "2-dimensional"),
      ("cube.npy", npyBytes("<f4", shape: [2, 1, 3], data: data), .shapeMismatch, "2-dimensional"),
      ("short.npy", npyBytes("<f4", shape: [3, 3], data: data), .malformed, "needs 36 bytes"),
      (
        "long.npy", npyBytes("<f4", shape: [1, 3], data: data), .malformed,
        "12 bytes after the 12 bytes"
      ),
      ("text.npy", Array("1,2,3\n".utf8), .malformed, "not an NPY file"),
      ("strings.npy", npyBytes("<U3", shape: [2, 1], data: data), .unsupported, "dtype '<U3'"),
    ]
    for (name, bytes, code, says) in cases {
      let path = try temporaryFile(name, bytes)
      let error = #expect(throws: DataError.self, "\(name)") {
        try NPYRowStream<Float>(path: path)
      }
      #expect(error?.code == code, "\(name): \(String(describing: error))")
      #expect(error?.path == path)
      #expect(error?.message.contains(says) == true, "\(name): \(String(describing: error))")
    }
    let gzipped = try temporaryFile(
      "zipped.npy", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3] + [UInt8](repeating: 0, count: 20))
    #expect(throws: DataError.self) { try NPYRowStream<Float>(path: gzipped) }
  }

  @Test("A NaN in a float32 file read in place is named as the converting path names it")
  func notFinite() throws {
    var values = [Float](repeating: 1, count: 40 * 3)
    values[3 * 25 + 2] = .nan
    let bytes = npyBytes("<f4", shape: [40, 3], data: littleEndianBytes(values.map(\.bitPattern)))
    let path = try temporaryFile("nan.npy", bytes)
    let inPlace = #expect(throws: DataError.self) { try NPYReader.read(path, as: Float.self) }
    let converted = #expect(throws: DataError.self) { try NPYReader.read(path, as: Double.self) }
    #expect(inPlace?.code == .notANumber)
    #expect(inPlace?.message.contains("element [25, 2] = nan is not a finite Float") == true)
    #expect(converted?.message.contains("element [25, 2] = nan is not a finite Double") == true)
  }

  @Test("A value beyond Float is named by its row in the file, not in the chunk")
  func outOfRange() throws {
    var values = [Double](repeating: 1, count: 30 * 2)
    values[2 * 17 + 1] = 1e300
    let path = try temporaryFile(
      "huge.npy",
      npyBytes("<f8", shape: [30, 2], data: littleEndianBytes(values.map(\.bitPattern))))
    let error = #expect(throws: DataError.self) {
      try Self.rows(NPYRowStream<Float>(path: path), chunkRows: 8)
    }
    #expect(error?.code == .notANumber)
    #expect(error?.message.contains("element [17, 1] = 1e+300") == true)
  }

  @Test("A file that changes between passes stops the next pass with a clear error")
  func changedFile() throws {
    let values = (0..<(8 * 2)).map { Float($0) }
    let path = try temporaryFile(
      "changing.npy",
      npyBytes("<f4", shape: [8, 2], data: littleEndianBytes(values.map(\.bitPattern))))
    let stream = try NPYRowStream<Float>(path: path)
    #expect(try Self.rows(stream, chunkRows: 3).elements == values)
    // Cut short: another size.
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: 100)
    try handle.close()
    let error = #expect(throws: DataError.self) { try Self.rows(stream, chunkRows: 3) }
    #expect(error?.code == .io)
    #expect(error?.message.contains("changed") == true)
    // Gone.
    try FileManager.default.removeItem(atPath: path)
    let gone = #expect(throws: DataError.self) { try Self.rows(stream, chunkRows: 3) }
    #expect(gone?.message.contains("cannot open") == true)
  }

  @Test("An error thrown by the body stops the pass and reaches the caller")
  func bodyError() throws {
    struct Stop: Error {}
    let values = (0..<(50 * 2)).map { Float($0) }
    let path = try temporaryFile(
      "stop.npy",
      npyBytes("<f4", shape: [50, 2], data: littleEndianBytes(values.map(\.bitPattern))))
    let stream = try NPYRowStream<Float>(path: path)
    var seen = 0
    #expect(throws: Stop.self) {
      try stream.forEachChunk(rows: 4) { first, _ in
        seen += 1
        if first >= 8 { throw Stop() }
      }
    }
    #expect(seen == 3)
    // The stream is still usable.
    #expect(try Self.rows(stream, chunkRows: 4).elements == values)
  }
}
