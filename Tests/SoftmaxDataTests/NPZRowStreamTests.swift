//===--- NPZRowStreamTests.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

/// SciPy sparse matrices saved by `scipy.sparse.save_npz`
/// (Scripts/make_npz_fixtures.py), with the canonical CSR arrays SciPy
/// reads back.
@Suite("SciPy .npz sparse matrices, whole and in chunks")
struct NPZRowStreamTests {
  struct Expected: Decodable {
    var shape: [Int]
    var indptr: [Int]
    var indices: [Int]
    var data: [Double]
  }

  static let expected: [String: Expected] = {
    guard let json = FileManager.default.contents(atPath: Fixtures.path("npz/expected.json")),
      let decoded = try? JSONDecoder().decode([String: Expected].self, from: json)
    else { return [:] }
    return decoded
  }()

  static let names = [
    "deflated_f8.npz", "stored_f8.npz", "f4_i8.npz", "counts_i1.npz", "unsorted.npz",
  ]

  @Test("the reader gives SciPy's canonical CSR arrays, value for value", arguments: names)
  func whole(name: String) throws {
    let expected = try #require(Self.expected[name])
    let read = try NPZReader.readSparse(Fixtures.path("npz/" + name), as: Double.self)
    #expect([read.features.rows, read.features.columns] == expected.shape)
    #expect(read.features.rowOffsets == expected.indptr)
    #expect(read.features.columnIndices.map(Int.init) == expected.indices)
    #expect(read.features.values.map(\.bitPattern) == expected.data.map(\.bitPattern))
    #expect(read.labels == nil)
    // In Float: each value rounded once from the file's.
    let floats = try NPZReader.readSparse(Fixtures.path("npz/" + name), as: Float.self)
    #expect(floats.features.values == expected.data.map { Float($0) })
  }

  @Test(
    "chunks of any size join into the whole matrix, on every pass",
    arguments: names, [1, 2, 7, 57, 100])
  func chunks(name: String, chunkRows: Int) throws {
    let path = Fixtures.path("npz/" + name)
    let whole = try NPZReader.readSparse(path, as: Float.self).features
    let stream = try NPZRowStream(path: path, as: Float.self)
    #expect(stream.nonZeroCount == whole.nonZeroCount)
    for _ in 0..<2 {
      var builder = SparseMatrix<Float>.Builder(columns: stream.columns)
      var expectedFirst = 0
      try stream.forEachChunk(rows: chunkRows) { first, chunk in
        #expect(first == expectedFirst)
        #expect(chunk.rows == min(chunkRows, stream.rows - first))
        expectedFirst += chunk.rows
        for r in 0..<chunk.rows {
          let (columns, values) = chunk.row(r)
          for (c, v) in zip(columns, values) { builder.append(column: Int(c), value: v) }
          builder.endRow()
        }
      }
      #expect(builder.matrix == whole)
    }
  }

  @Test("rows at random: the whole matrix's rows; a compressed archive says to store it")
  func randomAccess() throws {
    for name in ["stored_f8.npz", "unsorted.npz"] {
      let path = Fixtures.path("npz/" + name)
      let whole = try NPZReader.readSparse(path, as: Float.self).features
      // unsorted.npz is deflated (save_npz's default).
      let stream = try NPZRowStream(path: path, as: Float.self)
      for range in [0..<1, 3..<4, 5..<30, 50..<57, 0..<57] {
        if name == "unsorted.npz" {
          #expect {
            try stream.readRows(range)
          } throws: { error in
            (error as? DataError)?.message.contains("compressed=False") == true
          }
        } else {
          #expect(try stream.readRows(range) == whole.rows(range), "\(name) \(range)")
        }
      }
    }
    // An archive this writer stored: unsorted rows come back sorted.
    let unsorted = try NPZReader.readSparse(Fixtures.path("npz/unsorted.npz"), as: Double.self)
    let path = try temporaryDirectory() + "/stored.npz"
    try NPZWriter.write(unsorted.features, to: path)
    let stream = try NPZRowStream(path: path, as: Double.self)
    #expect(try stream.readRows(10..<20) == unsorted.features.rows(10..<20))
  }

  @Test("labels come from their own file, one per row")
  func labels() throws {
    let path = Fixtures.path("npz/stored_f8.npz")
    let labelsPath = try temporaryFile(
      "npz.labels.txt", (0..<57).map { "c\($0 % 3)" }.joined(separator: "\n") + "\n")
    let read = try NPZReader.readSparse(path, labels: labelsPath, as: Double.self)
    #expect(read.labels?.count == 57)
    #expect(read.labels?[4] == "c1")
    let short = try temporaryFile("short.labels.txt", "a\nb\n")
    #expect {
      try NPZReader.readSparse(path, labels: short, as: Double.self)
    } throws: { error in
      (error as? DataError)?.message.contains("2 labels for the 57 rows") == true
    }
  }

  @Test(
    "refused with a message naming what to do",
    arguments: [
      ("csc.npz", "a CSC matrix: save it by rows"),
      ("repeated.npz", "row 0 has column 2 twice"),
      // A deflated indptr claiming 2^40 offsets (8 TiB), refused before
      // anything is allocated.
      ("claims_2e40_rows.npz", "more than half of the memory limit"),
    ])
  func refusals(name: String, says: String) throws {
    #expect {
      try NPZReader.readSparse(Fixtures.path("npz/" + name), as: Double.self)
    } throws: { error in
      (error as? DataError)?.message.contains(says) == true
    }
  }

  @Test("damaged archives: errors naming the file, never a crash")
  func damaged() throws {
    let bytes = try #require(
      FileManager.default.contents(atPath: Fixtures.path("npz/deflated_f8.npz")))
    // Cut at every 97th byte, and one byte flipped every 61st.
    for cut in stride(from: 0, to: bytes.count, by: 97) {
      let path = try temporaryFile("cut.npz", Array(bytes.prefix(cut)))
      #expect(throws: DataError.self, "cut at \(cut)") {
        try NPZReader.readSparse(path, as: Double.self)
      }
    }
    for position in stride(from: 0, to: bytes.count, by: 61) {
      var damaged = Array(bytes)
      damaged[position] ^= 0x5A
      let path = try temporaryFile("flipped.npz", damaged)
      // Either an error, or (a byte the reader does not look at, as a
      // checksum) the same matrix.
      if let read = try? NPZReader.readSparse(path, as: Double.self) {
        _ = read.features.nonZeroCount
      }
    }
    let notZip = try temporaryFile("plain.npz", "1 1:1\n")
    #expect {
      try NPZReader.readSparse(notZip, as: Double.self)
    } throws: { error in
      (error as? DataError)?.message.contains("not a zip archive") == true
    }
  }

  @Test("a file changed between passes: an error naming it")
  func changedFile() throws {
    let bytes = try #require(
      FileManager.default.contents(atPath: Fixtures.path("npz/stored_f8.npz")))
    let path = try temporaryFile("changing.npz", Array(bytes))
    let stream = try NPZRowStream(path: path, as: Float.self)
    try stream.forEachChunk(rows: 10) { _, _ in }
    Thread.sleep(forTimeInterval: 0.02)
    try AtomicFile.write(Array(bytes), to: path)
    #expect {
      try stream.forEachChunk(rows: 10) { _, _ in }
    } throws: { error in
      (error as? DataError)?.message.contains("the file changed") == true
    }
  }
}

@Suite("Sparse matrices written as .npz")
struct NPZWriterTests {
  @Test("CRC-32 of the standard check string")
  func checksum() {
    var crc = CRC32()
    crc.update(Array("123456789".utf8))
    #expect(crc.value == 0xCBF4_3926)
    // In pieces of every length: the same.
    let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
    var whole = CRC32()
    whole.update(bytes)
    for piece in [1, 3, 8, 13, 999] {
      var parts = CRC32()
      var start = 0
      while start < bytes.count {
        parts.update(Array(bytes[start..<min(bytes.count, start + piece)]))
        start += piece
      }
      #expect(parts.value == whole.value, "pieces of \(piece)")
    }
  }

  @Test("written, then read back: the same matrix, in Float and Double", arguments: [1, 5, 1000])
  func roundTrip(chunkRows: Int) throws {
    let source = try NPZReader.readSparse(Fixtures.path("npz/unsorted.npz"), as: Double.self)
    let path = try temporaryDirectory() + "/written.npz"
    try NPZWriter.write(source.features, to: path, chunkRows: chunkRows)
    let back = try NPZReader.readSparse(path, as: Double.self)
    #expect(back.features == source.features)
    let floats = SparseMatrix(
      unchecked: source.features.rows, columns: source.features.columns,
      rowOffsets: source.features.rowOffsets, columnIndices: source.features.columnIndices,
      values: source.features.values.map { Float($0) })
    try NPZWriter.write(floats, to: path, chunkRows: chunkRows)
    let member = try #require(ZipArchive(path: path).members["data.npy"])
    #expect(try NPZArray(ZipArchive(path: path), member).layout.typeName == "'<f4'")
    #expect(try NPZReader.readSparse(path, as: Float.self).features == floats)
  }

  @Test("a byte changed in a stored member: its checksum names it")
  func damagedMember() throws {
    let source = try NPZReader.readSparse(Fixtures.path("npz/stored_f8.npz"), as: Double.self)
    let path = try temporaryDirectory() + "/damaged.npz"
    try NPZWriter.write(source.features, to: path)
    var bytes = try #require(FileManager.default.contents(atPath: path).map(Array.init))
    let member = try #require(ZipArchive(path: path).members["data.npy"])
    // A value's low byte, past the member's NPY header.
    bytes[member.dataOffset + 200] ^= 1
    try AtomicFile.write(bytes, to: path)
    #expect {
      try NPZReader.readSparse(path, as: Double.self)
    } throws: { error in
      let message = (error as? DataError)?.message ?? ""
      return message.contains("data.npy: its CRC-32") && message.contains("a damaged file")
    }
  }
}
