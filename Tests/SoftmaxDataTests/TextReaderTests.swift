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
  }
}
