//===--- TextReaderTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@testable import SoftmaxData

@Suite("Text: fastText's format and folders of class folders")
struct TextReaderTests {
  @Test("labels anywhere in the line, several, repeated once; CRLF; blank lines skipped")
  func fastTextLines() throws {
    let path = try temporaryFile(
      "train.txt",
      "__label__a first  doc\r\n\n  \nsecond __label__b doc __label__c __label__b\n__label__a\tthird\n"
    )
    let text = try TextReader.read(path)
    #expect(text.documents == ["first doc", "second doc", "third"])
    #expect(text.labels == [["a"], ["b", "c"], ["a"]])
    #expect(text.sources == ["\(path):1", "\(path):4", "\(path):5"])
    #expect(text.report.skippedRows == 2)
    #expect(DataFormat(content: Array("text __label__x more\n".utf8)) == .fastText)
    #expect(try DataLoader.format(of: path, given: nil) == .fastText)
  }

  @Test("a line without a label, or an empty label, is an error naming the line")
  func missingLabels() throws {
    let path = try temporaryFile("bad.txt", "__label__a one\ntwo words\n")
    #expect {
      try TextReader.read(path)
    } throws: { error in
      guard let error = error as? DataError else { return false }
      return error.code == .labels && error.line == 2
    }
    let unlabelled = try TextReader.read(path, requireLabels: false)
    #expect(unlabelled.labels == [["a"], []])
    // Text to predict keeps blank lines, as empty documents: a row for
    // every line. Labelled text skips them.
    let withBlank = try temporaryFile("predict.txt", "one two\n\n \t\nthree\n")
    let toPredict = try TextReader.read(withBlank, requireLabels: false)
    #expect(toPredict.documents == ["one two", "", "", "three"])
    #expect(
      toPredict.sources == ["\(withBlank):1", "\(withBlank):2", "\(withBlank):3", "\(withBlank):4"])
    #expect(toPredict.labels == nil)
    let empty = try temporaryFile("empty_label.txt", "__label__a one\nx __label__ y\n")
    #expect {
      try TextReader.read(empty)
    } throws: { error in
      guard let error = error as? DataError else { return false }
      return error.code == .labels && error.line == 2 && error.column == 3
    }
    let blank = try temporaryFile("blank.txt", "\n \n")
    #expect {
      try TextReader.read(blank)
    } throws: { error in
      (error as? DataError)?.code == .empty
    }
  }

  @Test("invalid UTF-8: latin-1 by default, said in a note; an error with --encoding utf-8")
  func encodings() throws {
    let bytes: [UInt8] =
      Array("__label__x caf".utf8) + [0xE9] + Array(" ok\n__label__y fine\n".utf8)
    let path = try temporaryFile("latin1.txt", bytes)
    let text = try TextReader.read(path)
    #expect(text.documents == ["café ok", "fine"])
    #expect(text.report.notes.first?.contains("1 lines were not valid UTF-8") == true)
    #expect {
      try TextReader.read(path, encoding: .utf8)
    } throws: { error in
      guard let error = error as? DataError else { return false }
      return error.code == .invalidEncoding && error.line == 1 && error.column == 15
    }
    let latin = try TextReader.read(path, encoding: .latin1)
    #expect(latin.documents == ["café ok", "fine"])
    #expect(latin.report.notes.isEmpty)
  }

  /// The files are read on the worker threads in batches of 256: more
  /// than two batches here, with latin-1 files in the first and the last.
  @Test("folders of several batches: file order, the latin-1 count, the first error in file order")
  func manyFiles() throws {
    let root = try temporaryDirectory()
    let fm = FileManager.default
    var expected: [String] = []
    for label in ["a", "b", "c"] {
      try fm.createDirectory(atPath: root + "/" + label, withIntermediateDirectories: true)
      for n in 0..<250 {
        let name = String(format: "%04d", n)
        let latin1 = (label == "a" && n == 3) || (label == "c" && n == 200)
        let bytes = Array("\(label) \(name) caf".utf8) + (latin1 ? [0xE9] : Array("é".utf8))
        fm.createFile(atPath: root + "/\(label)/\(name)", contents: Data(bytes))
        expected.append("\(label) \(name) café")
      }
    }
    let text = try TextReader.read(root)
    #expect(text.documents == expected)
    #expect(text.labels?.map { $0[0] } == expected.map { String($0.prefix(1)) })
    #expect(text.sources.last == root + "/c/0249")
    #expect(text.report.notes.first?.contains("2 files were not valid UTF-8") == true)
    #expect {
      try TextReader.read(root, encoding: .utf8)
    } throws: { error in
      (error as? DataError)?.path == root + "/a/0003"
    }
  }

  @Test("folders: classes and files in byte order, hidden names and loose files left out")
  func folders() throws {
    let root = try temporaryDirectory()
    let fm = FileManager.default
    for (label, files) in [("sport", ["b.txt", "a.txt", ".hidden"]), ("cooking", ["1"])] {
      try fm.createDirectory(atPath: root + "/" + label, withIntermediateDirectories: true)
      for file in files {
        fm.createFile(atPath: root + "/\(label)/\(file)", contents: Data("\(label) \(file)".utf8))
      }
    }
    try fm.createDirectory(atPath: root + "/.git", withIntermediateDirectories: true)
    fm.createFile(atPath: root + "/README", contents: Data("not a document".utf8))
    let text = try TextReader.read(root)
    #expect(text.documents == ["cooking 1", "sport a.txt", "sport b.txt"])
    #expect(text.labels == [["cooking"], ["sport"], ["sport"]])
    let none = try temporaryDirectory()
    #expect {
      try TextReader.read(none)
    } throws: { error in
      (error as? DataError)?.code == .labels
    }
    // A link to a document is one; a FIFO is an error naming it (reading
    // it blocked forever).
    try fm.createSymbolicLink(
      atPath: root + "/cooking/2", withDestinationPath: root + "/sport/a.txt")
    #expect(
      try TextReader.read(root).documents == [
        "cooking 1", "sport a.txt", "sport a.txt", "sport b.txt",
      ])
    let fifo = root + "/sport/c"
    #expect(mkfifo(fifo, 0o600) == 0)
    #expect {
      try TextReader.read(root)
    } throws: { error in
      let error = error as? DataError
      return error?.code == .io
        && error.map { "\($0)" }?.contains("\(fifo): not a regular file (a FIFO)") == true
    }
  }

  /// Windows programs begin UTF-8 text with a byte-order mark (EF BB BF).
  /// It is no part of the first label, word or field: read as one, it made
  /// a class "\u{FEFF}1" beside "1" in LIBSVM, a fastText file's first
  /// line label-less, and latin-1 documents start with "ï»¿".
  @Test("a UTF-8 byte-order mark is skipped by every text reader; UTF-16 is named as such")
  func byteOrderMarks() throws {
    let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
    // LIBSVM: the label of line 1 is "1", and columns count from after the mark.
    let svm = try temporaryFile("bom.svm", mark + Array("1 1:0.5\n2 2:1\n1 3:1\n".utf8))
    let sparse = try LIBSVMReader.readSparse(svm, as: Double.self)
    #expect(sparse.labels == ["1", "2", "1"])
    let badSVM = try temporaryFile("bom-bad.svm", mark + Array("1 1:x\n".utf8))
    #expect {
      try LIBSVMReader.readSparse(badSVM, as: Double.self)
    } throws: { error in
      let error = error as? DataError
      // The value "x", fifth after the mark (eighth counting it).
      return error?.location?.line == 1 && error?.location?.column == 5
    }
    // fastText's format: the first line's label, found by the content
    // check too (a one-line file, so no other line says it).
    let lines = try temporaryFile("bom-lines", mark + Array("__label__a one two\n".utf8))
    #expect(try DataLoader.format(of: lines, given: nil) == .fastText)
    let text = try TextReader.read(lines)
    #expect(text.labels == [["a"]])
    #expect(text.documents == ["one two"])
    // A document in a class folder, read as latin-1 (an invalid byte later).
    let root = try temporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: root + "/x", withIntermediateDirectories: true)
    FileManager.default.createFile(
      atPath: root + "/x/1", contents: Data(mark + Array("caf".utf8) + [0xE9]))
    #expect(try TextReader.read(root).documents == ["caf\u{E9}"])
    // CSV: the header's first name.
    let csv = try temporaryFile("bom.csv", mark + Array("a,label\n1,x\n2,y\n".utf8))
    #expect(try DataLoader.load(csv, as: Double.self).featureNames == ["a"])
    // UTF-16 text (little- or big-endian mark): named, not "binary data".
    for utf16 in [[0xFF, 0xFE] as [UInt8], [0xFE, 0xFF]] {
      let path = try temporaryFile("utf16.txt", utf16 + [0x5F, 0x00, 0x5F, 0x00])
      #expect {
        try DataLoader.format(of: path, given: nil)
      } throws: { error in
        let error = error as? DataError
        return error?.code == .invalidEncoding && error?.message.contains("UTF-16") == true
      }
    }
  }
}
