//===--- HostileFileTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Files as they are written by their tools (an NPY header as a Python
// literal), streams that never end, and paths that are links or devices.

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

#if canImport(Glibc)
import Glibc
#endif

/// An NPY file of `payload` under the header text `header` (padded as
/// numpy pads it).
func npyFile(header: String, payload: [UInt8]) -> [UInt8] {
  var text = header
  while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
  text += "\n"
  let length = text.utf8.count
  return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
    + Array(text.utf8) + payload
}

/// Little-endian bytes of doubles (`<f8`).
func littleEndian(_ values: [Double]) -> [UInt8] {
  values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) }
  }
}

@Suite("NPY headers are Python literals; labels are exact")
struct NPYHeaderTests {
  /// The same 2 × 3 array, column-major, under headers numpy writes or
  /// accepts: every one reads as the C-order reference.
  @Test(
    "spacing, quotes, trailing commas and L suffixes do not change the reading",
    arguments: [
      "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
      "{'descr':'<f8','fortran_order':True,'shape':(2,3)}",
      "{\"descr\": \"<f8\", \"fortran_order\": True, \"shape\": (2, 3)}",
      "{ 'shape' : ( 2L , 3L , ) ,\n 'fortran_order' : True , 'descr' : '<f8' }",
    ])
  func headers(_ header: String) throws {
    let values: [[Double]] = [[1, 2, 3], [4, 5, 6]]
    let columnMajor = (0..<3).flatMap { c in (0..<2).map { r in values[r][c] } }
    let path = try temporaryFile(
      "a.npy", npyFile(header: header, payload: littleEndian(columnMajor)))
    #expect(rows(try NPYReader.read(path, as: Double.self).features) == values)
  }

  @Test(
    "a header that is not exactly numpy's three keys, or not a literal, is an error",
    arguments: [
      ("{'descr': '<f8', 'fortran_order': False}", "has the keys"),
      ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", "has the keys"),
      ("{'descr': '<f8', 'fortran_order': 'no', 'shape': (2, 3)}", "not True or False"),
      ("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,)}", "structured dtype"),
      ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3)}", "non-negative integers"),
      ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} x", "text after"),
      ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)", "never closed"),
      ("{'descr': '<f8', 'descr': '<f4', 'shape': (2, 3)}", "twice"),
    ])
  func badHeaders(_ header: String, _ reason: String) throws {
    let path = try temporaryFile(
      "b.npy", npyFile(header: header, payload: littleEndian([0, 0, 0, 0, 0, 0])))
    #expect { try NPYReader.read(path, as: Double.self) } throws: { error in
      guard let error = error as? DataError else { return false }
      return error.message.contains(reason)
    }
  }

  @Test("int64 labels up to 2^62 and beyond are whole numbers, exactly, from a file or a column")
  func bigIntegerLabels() throws {
    let labels: [Int64] = [1 << 62, (1 << 62) + 1, Int64.min, Int64.max]
    let bytes = labels.flatMap { v in
      (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * Int64($0))) }
    }
    let labelPath = try temporaryFile(
      "y.npy",
      npyFile(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", payload: bytes))
    let featurePath = try temporaryFile(
      "x.npy",
      npyFile(
        header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 1), }",
        payload: littleEndian([1, 2, 3, 4])))
    let data = try NPYReader.read(featurePath, labels: labelPath, as: Float.self)
    #expect(data.labels == labels.map { String($0) })
    // An int64 array whose last column is the label, read as Float
    // features (where 2^62 + 1 is not a Float).
    var table: [UInt8] = []
    for (i, label) in labels.enumerated() {
      for v in [Int64(i), label] {
        table += (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * Int64($0))) }
      }
    }
    let tablePath = try temporaryFile(
      "t.npy",
      npyFile(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (4, 2), }", payload: table)
    )
    let column = try NPYReader.read(tablePath, labelColumn: -1, as: Float.self)
    #expect(column.labels == labels.map { String($0) })
    #expect(rows(column.features) == [[0], [1], [2], [3]])
    let unsigned: [UInt64] = [UInt64.max, 7]
    let unsignedPath = try temporaryFile(
      "u.npy",
      npyFile(
        header: "{'descr': '<u8', 'fortran_order': False, 'shape': (2,), }",
        payload: unsigned.flatMap { v in
          (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
        }))
    #expect(
      try NPYReader.readArray(unsignedPath).labels(path: unsignedPath) == [
        "18446744073709551615", "7",
      ])
  }

  @Test("a labels text file is trimmed as CSV labels are; a NUL byte in it is an error")
  func labelsText() throws {
    let features = try temporaryFile(
      "x.npy",
      npyFile(
        header: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1), }",
        payload: littleEndian([1, 2, 3])))
    let labels = try temporaryFile("labels.txt", "dog\n  dog \t\ncat \r\n")
    #expect(
      try NPYReader.read(features, labels: labels, as: Double.self).labels == ["dog", "dog", "cat"])
    let binary = try temporaryFile("labels.bin", [0x64, 0x00, 0x0A, 0x63, 0x0A, 0x61, 0x0A])
    #expect { try NPYReader.read(features, labels: binary, as: Double.self) } throws: { error in
      (error as? DataError)?.code == .invalidEncoding
    }
  }
}

@Suite("Streams: headers first, every read bounded")
struct StreamTests {
  /// Writes `bytes` into a new FIFO from another thread, and returns its
  /// path; the writer closes when done.
  func fifo(_ bytes: [UInt8]) throws -> String {
    let path = try temporaryDirectory() + "/stream"
    #expect(mkfifo(path, 0o600) == 0)
    Thread.detachNewThread {
      let descriptor = open(path, O_WRONLY)
      guard descriptor >= 0 else { return }
      var offset = 0
      while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes {
          write(descriptor, $0.baseAddress, $0.count)
        }
        if written <= 0 { break }
        offset += written
      }
      close(descriptor)
    }
    return path
  }

  @Test("an NPY stream reads as its file; one cut short or with bytes after is an error")
  func npyStream() throws {
    let file = npyFile(
      header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
      payload: littleEndian([1, 2, 3, 4]))
    #expect(
      rows(try NPYReader.read(try fifo(file), as: Double.self).features) == [[1, 2], [3, 4]])
    #expect { try NPYReader.read(try fifo(Array(file.dropLast(3))), as: Double.self) } throws: {
      error in
      (error as? DataError)?.message.contains("needs 32 bytes of data; the file has 29") == true
    }
    #expect { try NPYReader.read(try fifo(file + [1, 2]), as: Double.self) } throws: { error in
      (error as? DataError)?.message.contains("the stream goes on after the 32 bytes") == true
    }
  }

  @Test("an IDX stream whose header claims more than memory holds is refused before reading")
  func idxClaims() throws {
    // 2^31 × 2^31 bytes, from a stream that could feed them forever.
    let header: [UInt8] = [0, 0, 8, 2, 0x80, 0, 0, 0, 0x80, 0, 0, 0]
    #expect {
      try IDXReader.read(images: try fifo(header + [1, 2, 3]), labels: nil, as: Float.self)
    } throws: { error in
      (error as? DataError)?.message.contains("more than the memory available") == true
    }
  }

  @Test("/dev/zero as text, NPY, IDX and the labels file: an error at once")
  func devZero() throws {
    #expect(throws: DataError.self) { try CSVReader.read("/dev/zero", as: Double.self) }
    #expect(throws: DataError.self) { try LIBSVMReader.read("/dev/zero", as: Double.self) }
    #expect(throws: DataError.self) { try NPYReader.read("/dev/zero", as: Double.self) }
    #expect(throws: DataError.self) {
      try IDXReader.read(images: "/dev/zero", labels: nil, as: Double.self)
    }
    #expect(throws: DataError.self) { try AtomicFile.readText("/dev/zero") }
    #expect(throws: DataError.self) { try AtomicFile.read("/dev/zero", maximumBytes: 1 << 20) }
  }

  @Test("a NUL byte far into a LIBSVM file is refused where it is")
  func lateNUL() throws {
    var text = Array(String(repeating: "1 1:0.5 2:0.25\n", count: 100_000).utf8)
    text[1_200_000] = 0
    let path = try temporaryFile("late.svm", text)
    #expect { try LIBSVMReader.read(path, as: Double.self) } throws: { error in
      (error as? DataError)?.message
        == "a NUL byte at byte 1200000: this is not a text file (binary, compressed, or UTF-16?)"
    }
  }
}

@Suite("CSV: headers that look like data, and training means")
struct CSVHeaderGuessTests {
  @Test("a first row of column positions is a header; one of other numbers is data")
  func positions() throws {
    let pandas = try temporaryFile("p.csv", "0,1,2,y\n1.5,2,3,a\n4,5,6,b\n")
    let data = try CSVReader.read(pandas, as: Double.self)
    #expect(data.featureNames == ["0", "1", "2"] && data.count == 2)
    let numbers = try temporaryFile("n.csv", "1,2,3,a\n4,5,6,b\n")
    #expect(try CSVReader.read(numbers, as: Double.self).count == 2)
  }

  @Test("a first row whose label no other row has is the header, and the report says so")
  func uniqueLabel() throws {
    let path = try temporaryFile("u.csv", "5,3,kind\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n")
    let data = try CSVReader.read(path, as: Double.self)
    #expect(data.labels == ["a", "b", "a", "b"] && data.featureNames == ["5", "3"])
    #expect(data.report.notes.count == 1)
    #expect(data.report.labelName == "kind")
    // Told there is no header, it is data; and a label seen twice is data.
    var options = CSVOptions()
    options.hasHeader = false
    #expect(try CSVReader.read(path, options: options, as: Double.self).count == 5)
    let twice = try temporaryFile("t.csv", "5,3,a\n1,2,a\n3,4,b\n5,6,b\n")
    #expect(try CSVReader.read(twice, as: Double.self).count == 4)
  }

  @Test("--missing mean fills with given values, by name or by position")
  func fillValues() throws {
    let path = try temporaryFile("f.csv", "x,y,label\n1,,a\n,4,b\n")
    var options = CSVOptions()
    options.missingValues = .mean
    #expect(
      rows(try CSVReader.read(path, options: options, as: Double.self).features) == [
        [1, 4], [1, 4],
      ])
    options.fillValues = .byName(["y": 10, "x": -1])
    #expect(
      rows(try CSVReader.read(path, options: options, as: Double.self).features) == [
        [1, 10], [-1, 4],
      ])
    options.fillValues = .byPosition([7, 8])
    #expect(
      rows(try CSVReader.read(path, options: options, as: Double.self).features) == [
        [1, 8], [7, 4],
      ])
  }
}

@Suite("AtomicFile: links, devices, identity")
struct AtomicFileLinkTests {
  @Test("a link is written through, a loop is an error, a device is written in place")
  func links() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try AtomicFile.write([1], to: directory + "/target")
    #expect(symlink("target", directory + "/link") == 0)
    try AtomicFile.write([2, 3], to: directory + "/link")
    #expect(try AtomicFile.read(directory + "/target") == [2, 3])
    #expect(
      try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/link") == "target")
    #expect(
      symlink("loop-b", directory + "/loop-a") == 0 && symlink("loop-a", directory + "/loop-b") == 0
    )
    #expect(throws: DataError.self) { try AtomicFile.write([1], to: directory + "/loop-a") }
    try AtomicFile.write([1, 2, 3], to: "/dev/null")
    var status = stat()
    #expect(stat("/dev/null", &status) == 0 && (status.st_mode & S_IFMT) == S_IFCHR)
  }

  @Test("sameFile: through links and hard links, and new paths by their resolved directory")
  func identity() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try AtomicFile.write([1], to: directory + "/a")
    #expect(link(directory + "/a", directory + "/hard") == 0)
    #expect(symlink(directory + "/a", directory + "/soft") == 0)
    #expect(AtomicFile.sameFile(directory + "/a", directory + "/hard"))
    #expect(AtomicFile.sameFile(directory + "/soft", directory + "/a"))
    #expect(!AtomicFile.sameFile(directory + "/a", directory + "/new"))
    #expect(AtomicFile.sameFile(directory + "/new", directory + "/./new"))
    #expect(!AtomicFile.sameFile(directory + "/new", directory + "/other"))
  }
}
