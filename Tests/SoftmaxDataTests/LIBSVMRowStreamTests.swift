//===--- LIBSVMRowStreamTests.swift ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

@Suite("LIBSVM files streamed in chunks")
struct LIBSVMRowStreamTests {
  /// Every chunk of `stream` in order, joined into one matrix, and the
  /// chunks' sizes.
  static func joined<T: SoftmaxScalar>(_ stream: LIBSVMRowStream<T>, chunkRows: Int) throws -> (
    SparseMatrix<T>, [Int]
  ) {
    var builder = SparseMatrix<T>.Builder(columns: stream.columns)
    var sizes: [Int] = []
    var expectedFirst = 0
    try stream.forEachChunk(rows: chunkRows) { first, chunk in
      #expect(first == expectedFirst)
      #expect(chunk.columns == stream.columns)
      expectedFirst += chunk.rows
      sizes.append(chunk.rows)
      for r in 0..<chunk.rows {
        let (columns, values) = chunk.row(r)
        for (c, v) in zip(columns, values) { builder.append(column: Int(c), value: v) }
        builder.endRow()
      }
    }
    return (builder.matrix, sizes)
  }

  /// Files of every shape the reader takes: 1- and 0-based, comments,
  /// qid, CRLF, blank lines and empty rows, no final newline, a byte-order
  /// mark, gzip; the options that change what is read.
  static let files: [(String, String, LIBSVMOptions)] = {
    var fewer = LIBSVMOptions()
    fewer.featureCount = 12
    var dropping = LIBSVMOptions()
    dropping.featureCount = 3
    dropping.ignoresUnknownFeatures = true
    var oneBased = LIBSVMOptions()
    oneBased.zeroBased = false
    return [
      ("one_based.svm", Fixtures.path("one_based.svm"), LIBSVMOptions()),
      ("zero_based.svm", Fixtures.path("zero_based.svm"), LIBSVMOptions()),
      ("sklearn.svm", Fixtures.path("sklearn.svm"), LIBSVMOptions()),
      ("sklearn.t.gz", Fixtures.path("compressed/sklearn.t.gz"), LIBSVMOptions()),
      ("sklearn.svm, 1-based given", Fixtures.path("sklearn.svm"), oneBased),
      ("one_based.svm, 12 features", Fixtures.path("one_based.svm"), fewer),
      ("one_based.svm, 3 features, the rest left out", Fixtures.path("one_based.svm"), dropping),
    ]
  }()

  /// Every pass hands on the reader's rows, whatever the chunk size; the
  /// labels, the report and the counts are the reader's.
  @Test("the chunks are the reader's rows", arguments: files.indices, [1, 2, 3, 64, 4096])
  func sameAsReader(index: Int, chunkRows: Int) throws {
    let (_, path, options) = Self.files[index]
    let read = try LIBSVMReader.readSparse(path, options: options, as: Float.self)
    let stream = try LIBSVMRowStream(path: path, options: options, as: Float.self)
    #expect(stream.rows == read.count)
    #expect(stream.columns == read.featureCount)
    #expect(stream.nonZeroCount == read.features.nonZeroCount)
    #expect(stream.labels == read.labels)
    #expect(stream.report == read.report)
    for _ in 0..<2 {
      let (joined, sizes) = try Self.joined(stream, chunkRows: chunkRows)
      #expect(joined == read.features)
      #expect(sizes.dropLast().allSatisfy { $0 == chunkRows })
      #expect((sizes.last ?? 0) <= chunkRows)
    }
  }

  /// A Double stream reads the values as the Double reader does.
  @Test("Double: the reader's values")
  func double() throws {
    let path = Fixtures.path("sklearn.svm")
    let read = try LIBSVMReader.readSparse(path, as: Double.self)
    let stream = try LIBSVMRowStream(path: path, as: Double.self)
    #expect(try Self.joined(stream, chunkRows: 5).0 == read.features)
  }

  /// A bad file fails when the stream is made, with the reader's error.
  @Test(
    "a bad file: the reader's error, with its line and column",
    arguments: [
      "1 1:1\n2 3:1 2:2\n", "1 1:1\n2 x\n", "1 1:nan\n", "\n\n", "1 0:1 2:1\n",
      "1 1:1\n1:2 3:4\n",
    ])
  func badFile(text: String) throws {
    let path = try temporaryFile("bad.svm", text)
    var options = LIBSVMOptions()
    if text.hasPrefix("1 0:") { options.zeroBased = false }
    var expected: DataError? = nil
    do { _ = try LIBSVMReader.readSparse(path, options: options, as: Float.self) } catch {
      expected = error
    }
    let readerError = try #require(expected)
    #expect {
      try LIBSVMRowStream(path: path, options: options, as: Float.self)
    } throws: { error in
      let error = error as? DataError
      return error?.message == readerError.message && error?.location == readerError.location
        && error?.code == readerError.code
    }
  }

  /// A file that changes after the stream is made fails the next pass
  /// with an error naming it; one with an index now out of range never
  /// reaches the caller.
  @Test("a file changed between passes: an error naming it")
  func changedFile() throws {
    let path = try temporaryFile("changing.svm", "1 1:1 2:2\n2 3:1\n1 2:5\n")
    let stream = try LIBSVMRowStream(path: path, as: Float.self)
    _ = try Self.joined(stream, chunkRows: 2)
    // Later than the first write's modification time, whatever the clock.
    Thread.sleep(forTimeInterval: 0.02)
    try AtomicFile.write(Array("1 1:1 2:2\n2 3:1\n1 9:5\n".utf8), to: path)
    #expect {
      try Self.joined(stream, chunkRows: 2)
    } throws: { error in
      let error = error as? DataError
      return error?.path == path && error?.message.contains("the file changed") == true
    }
    try FileManager.default.removeItem(atPath: path)
    #expect(throws: DataError.self) { try Self.joined(stream, chunkRows: 2) }
  }

  /// Text is read front to back: rows at random are refused, naming what
  /// to use.
  @Test("rows at random: refused, naming .npz")
  func noRandomAccess() throws {
    let stream = try LIBSVMRowStream(path: Fixtures.path("sklearn.svm"), as: Float.self)
    #expect {
      try stream.readRows(0..<2)
    } throws: { error in
      (error as? DataError)?.message.contains("convert it to .npz") == true
    }
  }

  /// An error thrown by the body stops the pass and comes out as it is.
  @Test("an error from the body stops the pass")
  func bodyError() throws {
    struct Stop: Error {}
    let stream = try LIBSVMRowStream(path: Fixtures.path("sklearn.svm"), as: Float.self)
    var calls = 0
    #expect(throws: Stop.self) {
      try stream.forEachChunk(rows: 2) { _, _ in
        calls += 1
        throw Stop()
      }
    }
    #expect(calls == 1)
  }
}
