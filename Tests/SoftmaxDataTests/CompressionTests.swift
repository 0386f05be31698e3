//===--- CompressionTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

/// Files compressed by Python's gzip, bz2 and lzma modules
/// (Scripts/make_compressed_fixtures.py) read as their plain forms do.
@Suite("Compressed files and formats told by content")
struct CompressionTests {
  static let iris =
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Data/iris.csv").standardized.path

  static func compressed(_ name: String) -> String { Fixtures.path("compressed/" + name) }

  static func bytes(_ path: String) throws -> [UInt8] {
    [UInt8](try #require(FileManager.default.contents(atPath: path)))
  }

  @Test(
    "gzip members, bzip2 and xz streams, concatenated: the plain file's data",
    arguments: ["iris.csv.gz", "iris.csv.bz2", "iris.csv.xz"])
  func sameAsPlain(name: String) throws {
    let plain = try DataLoader.load(Self.iris, as: Double.self)
    let read = try DataLoader.load(Self.compressed(name), as: Double.self)
    #expect(read.features == plain.features)
    #expect(read.labels == plain.labels)
    #expect(read.featureNames == plain.featureNames)
    let source = try ByteSource(path: Self.compressed(name))
    #expect(source.compression?.fileExtension == name.split(separator: ".").last.map(String.init))
  }

  @Test("a LIBSVM file named news20.t-like, gzipped: told LIBSVM by its content")
  func libsvmByContent() throws {
    let path = Self.compressed("sklearn.t.gz")
    #expect(DataFormat(path: path) == nil)
    #expect(try DataLoader.format(of: path, given: nil) == .libsvm)
    let read = try LIBSVMReader.readSparse(path, as: Double.self)
    let plain = try LIBSVMReader.readSparse(Fixtures.path("sklearn.svm"), as: Double.self)
    #expect(read.features == plain.features)
    #expect(read.labels == plain.labels)
  }

  @Test("MNIST's gzipped IDX pair: the images, and the labels found beside them")
  func idxPair() throws {
    let path = Self.compressed("tiny-images-idx3-ubyte.gz")
    #expect(DataFormat(path: path) == .idx)
    let read = try DataLoader.load(path, as: Float.self)
    let plain = try DataLoader.load(Fixtures.path("tiny-images-idx3-ubyte"), as: Float.self)
    #expect(read.features == plain.features)
    #expect(read.labels == plain.labels)
    #expect(read.labels != nil)
  }

  @Test("an error in compressed text names its line and column in the decompressed text")
  func errorLocation() throws {
    let path = Self.compressed("bad_value.csv.gz")
    #expect {
      try DataLoader.load(path, as: Double.self)
    } throws: { error in
      guard let error = error as? DataError else { return false }
      return error.code == .notANumber && error.line == 3 && error.column == 3
    }
  }

  /// Every cut of each file, a byte at a time at its end and at 40 points
  /// through it, is refused as truncated or corrupt (the cut just after a
  /// whole first member or stream is a shorter valid file: it reads).
  @Test(
    "truncated compressed files are refused, never read short",
    arguments: ["iris.csv.gz", "iris.csv.bz2", "iris.csv.xz"])
  func truncated(name: String) throws {
    let whole = try Self.bytes(Self.compressed(name))
    let cuts = Set(Array(whole.count - 40..<whole.count) + (1..<40).map { whole.count * $0 / 40 })
    var refused = 0
    for cut in cuts.sorted() where cut >= 7 {
      let path = try temporaryFile("cut-" + name, Array(whole[0..<cut]))
      switch Result(catching: { () throws(DataError) in
        try DataLoader.load(path, options: Self.formatCSV, as: Double.self)
      }) {
      case .success(let data):
        // Only a cut at a member boundary may read (the first 2000 bytes
        // of iris.csv): fewer rows than the whole file.
        #expect(data.count < 150, "cut at \(cut) of \(whole.count) read all rows")
      case .failure(let error):
        #expect(
          [.malformed, .notANumber, .shapeMismatch, .missingValue].contains(error.code),
          "cut at \(cut): \(error)")
        refused += 1
      }
    }
    #expect(refused >= cuts.count - 3)
  }

  static var formatCSV: LoadOptions {
    var options = LoadOptions()
    options.format = .csv
    return options
  }

  @Test(
    "a flipped byte in the compressed data is refused as corrupt",
    arguments: ["iris.csv.gz", "iris.csv.bz2", "iris.csv.xz"])
  func corrupt(name: String) throws {
    var bytes = try Self.bytes(Self.compressed(name))
    bytes[bytes.count / 4] ^= 0x55
    let path = try temporaryFile("flipped-" + name, bytes)
    #expect {
      try DataLoader.load(path, options: Self.formatCSV, as: Double.self)
    } throws: { error in
      guard let error = error as? DataError else { return false }
      return error.code == .malformed
        && (error.message.contains("corrupt") || error.message.contains("truncated"))
    }
  }

  @Test("bytes after the last member are refused, with their count")
  func trailingBytes() throws {
    let path = try temporaryFile(
      "tail.csv.gz", try Self.bytes(Self.compressed("iris.csv.gz")) + Array("garbage".utf8))
    #expect {
      try DataLoader.load(path, as: Double.self)
    } throws: { error in
      (error as? DataError)?.message.contains("7 bytes after the end of the gzip data") == true
    }
  }

  @Test(
    "zstd, zip and lz4 are named, not misread",
    arguments: [
      ([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3], "zstd"), ([0x50, 0x4b, 0x03, 0x04, 0, 0], "zip"),
      ([0x04, 0x22, 0x4d, 0x18, 9, 9], "lz4"),
    ] as [([UInt8], String)])
  func unsupported(magic: [UInt8], name: String) throws {
    let path = try temporaryFile("data.csv", magic + Array("1,2,3\n".utf8))
    #expect {
      try DataLoader.load(path, as: Double.self)
    } throws: { error in
      guard let error = error as? DataError else { return false }
      return error.code == .unsupported && error.message.contains(name)
    }
  }

  @Test("formats told by content: NPY, IDX, LIBSVM, CSV; binary is not guessed")
  func content() {
    #expect(DataFormat(content: [0x93] + Array("NUMPY\u{1}\u{0}".utf8)) == .npy)
    #expect(DataFormat(content: [0, 0, 0x08, 3, 0, 0, 0, 1]) == .idx)
    #expect(
      DataFormat(content: Array("1 3:0.5 10:2\n-1 1:1e-3 qid:3\n2\n# note\n".utf8)) == .libsvm)
    #expect(DataFormat(content: Array("a 1:2 7:3 # comment\nb 2:1\n".utf8)) == .libsvm)
    #expect(DataFormat(content: Array("sepal,petal,label\n1,2,a\n".utf8)) == .csv)
    #expect(DataFormat(content: Array("1 2 3\n4 5 6\n".utf8)) == .csv)
    #expect(DataFormat(content: Array("x 1:2 y\n".utf8)) == .csv)
    #expect(DataFormat(content: Array("PAR1\u{0}\u{15}".utf8)) == nil)
    // The last line of a prefix may be cut anywhere: it is not judged.
    #expect(DataFormat(content: Array("1 3:0.5\n2 4:1 5".utf8)) == .libsvm)
  }

  @Test("a plain LIBSVM file with a name that says nothing loads")
  func plainByContent() throws {
    let path = try temporaryFile("dna.scale", "1 1:0.5 3:1\n2 2:1\n3 4:-1\n")
    let data = try AnyDataSet.load(path)
    #expect(data.featureCount == 4)
    #expect(data.labels == ["1", "2", "3"])
  }
}
