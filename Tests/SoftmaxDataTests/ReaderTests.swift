//===--- ReaderTests.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxData

/// The fixtures and what Python's readers made of them
/// (Scripts/make_data_fixtures.py).
enum Fixtures {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

  static func path(_ name: String) -> String { directory + "/" + name }

  struct Expected: Decodable {
    var features: [[Double]]?
    var labels: [String]?
    var featureNames: [String]?
    var zeroBased: Bool?
  }

  /// scipy's CSR arrays of a sparse data set.
  struct CSR: Decodable {
    var indptr: [Int]
    var indices: [Int]
    var data: [Double]
    var columns: Int
  }

  static let expected: [String: Expected] = {
    guard let data = FileManager.default.contents(atPath: path("expected.json")),
      let decoded = try? JSONDecoder().decode([String: Expected].self, from: data)
    else { return [:] }
    return decoded
  }()
}

func rows<T>(_ matrix: Matrix<T>) -> [[T]] { matrix.rowArrays }

/// Writes `bytes` to a new file in a temporary directory.
func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
  let path = try temporaryDirectory() + "/" + name
  try AtomicFile.write(bytes, to: path)
  return path
}

func temporaryFile(_ name: String, _ text: String) throws -> String {
  try temporaryFile(name, Array(text.utf8))
}

@Suite("Readers agree with Python's, value for value")
struct ReaderAgreementTests {
  @Test(
    "CSV dialects: comma, semicolon with CRLF, tab with a BOM; quotes, doubled quotes, blanks",
    arguments: ["comma.csv", "semicolon_crlf.csv", "tab_bom.tsv", "rounding.csv"])
  func csvDialects(name: String) throws {
    let expected = try #require(Fixtures.expected[name])
    let data = try DataLoader.load(Fixtures.path(name), as: Double.self)
    // Exact: Python's float() rounds correctly, and so must the reader.
    #expect(rows(data.features) == expected.features)
    #expect(data.labels == expected.labels)
    if let names = expected.featureNames { #expect(data.featureNames == names) }
  }

  @Test(
    "LIBSVM: labels, qid, comments, blank lines, 0- and 1-based indices detected",
    arguments: ["one_based.svm", "zero_based.svm"])
  func libsvm(name: String) throws {
    let expected = try #require(Fixtures.expected[name])
    let data = try DataLoader.load(Fixtures.path(name), as: Double.self)
    #expect(rows(data.features) == expected.features)
    #expect(data.labels == expected.labels)
    #expect(data.report.zeroBasedIndices == expected.zeroBased)
  }

  @Test("LIBSVM: a given feature count pads; a given base is obeyed")
  func libsvmOptions() throws {
    var options = LoadOptions()
    options.libsvm.featureCount = 6
    let padded = try DataLoader.load(
      Fixtures.path("one_based.svm"), options: options, as: Double.self)
    #expect(padded.featureCount == 6)
    #expect(padded.features[2, 3] == 7)
    options.libsvm.featureCount = 3
    #expect(throws: DataError.self) {
      try DataLoader.load(Fixtures.path("one_based.svm"), options: options, as: Double.self)
    }
    var zero = LoadOptions()
    zero.libsvm.zeroBased = true
    let shifted = try DataLoader.load(
      Fixtures.path("one_based.svm"), options: zero, as: Double.self)
    #expect(shifted.featureCount == 5)
    #expect(shifted.features[0, 1] == 0.5)
  }

  @Test(
    "NPY: float64, float32, uint8, Fortran order, big-endian, int16",
    arguments: ["f8.npy", "f4.npy", "u1.npy", "fortran_f8.npy", "big_endian_f4.npy", "i2.npy"])
  func npy(name: String) throws {
    let expected = try #require(Fixtures.expected[name])
    let data = try DataLoader.load(Fixtures.path(name), as: Double.self)
    #expect(rows(data.features) == expected.features)
    #expect(data.labels == nil)
  }

  @Test("NPY: labels from an .npy file, a text file, or a column")
  func npyLabels() throws {
    var options = LoadOptions()
    options.labelsPath = Fixtures.path("labels_i8.npy")
    let data = try DataLoader.load(Fixtures.path("f8.npy"), options: options, as: Float.self)
    #expect(data.labels == Fixtures.expected["labels_i8.npy"]?.labels)
    let text = try temporaryFile("labels.txt", "a\nb\n\nc\nd\ne\n")
    options.labelsPath = text
    #expect(
      try DataLoader.load(Fixtures.path("f8.npy"), options: options, as: Float.self).labels
        == ["a", "b", "c", "d", "e"])
    var column = LoadOptions()
    column.label = .index(0)
    let fromColumn = try DataLoader.load(Fixtures.path("i2.npy"), options: column, as: Double.self)
    let expected = try #require(Fixtures.expected["i2.npy"]?.features)
    #expect(fromColumn.labels == expected.map { String(Int($0[0])) })
    #expect(rows(fromColumn.features) == expected.map { [$0[1]] })
  }

  @Test("IDX: MNIST's layout with the labels file found by name; 32-bit floats")
  func idx() throws {
    let expected = try #require(Fixtures.expected["tiny-images-idx3-ubyte"])
    let data = try DataLoader.load(Fixtures.path("tiny-images-idx3-ubyte"), as: Float.self)
    #expect(rows(data.features).map { $0.map(Double.init) } == expected.features)
    #expect(data.labels == expected.labels)
    let floats = try DataLoader.load(Fixtures.path("floats.idx"), as: Double.self)
    #expect(rows(floats.features) == Fixtures.expected["floats.idx"]?.features)
  }

  @Test("The format from the file name")
  func formats() {
    #expect(DataFormat(path: "a/b.CSV") == .csv)
    #expect(DataFormat(path: "x.tsv") == .csv)
    #expect(DataFormat(path: "x.svm") == .libsvm)
    #expect(DataFormat(path: "x.libsvm") == .libsvm)
    #expect(DataFormat(path: "train-images-idx3-ubyte") == .idx)
    #expect(DataFormat(path: "t10k-images.idx3-ubyte") == .idx)
    #expect(DataFormat(path: "x.npy") == .npy)
    #expect(DataFormat(path: "x.parquet") == nil)
    #expect(
      IDXReader.labelsPath(forImages: "d/train-images-idx3-ubyte") == "d/train-labels-idx1-ubyte")
    #expect(IDXReader.labelsPath(forImages: "t10k-images.idx3-ubyte") == "t10k-labels.idx1-ubyte")
  }
}

@Suite("CSV reading: headers, labels, policies, streaming")
struct CSVBehaviourTests {
  @Test("header detection: text row over numbers; no header when the first row has numbers")
  func headerDetection() throws {
    let withHeader = try temporaryFile("h.csv", "a,b,c\n1,2,x\n3,4,y\n")
    #expect(try CSVReader.read(withHeader, as: Double.self).featureNames == ["a", "b"])
    let without = try temporaryFile("n.csv", "1,2,x\n3,4,y\n")
    let data = try CSVReader.read(without, as: Double.self)
    #expect(data.featureNames == nil)
    #expect(data.count == 2)
    // A numeric-looking header ("1","2") over numbers is still data unless told.
    var options = CSVOptions()
    options.hasHeader = true
    #expect(try CSVReader.read(without, options: options, as: Double.self).count == 1)
  }

  @Test("label column by name, by index, negative index, none, and unless the count matches")
  func labelColumns() throws {
    let path = try temporaryFile("l.csv", "x,kind,y\n1,a,2\n3,b,4\n")
    var options = CSVOptions()
    options.label = .name("kind")
    var data = try CSVReader.read(path, options: options, as: Double.self)
    #expect(data.labels == ["a", "b"])
    #expect(rows(data.features) == [[1, 2], [3, 4]])
    #expect(data.featureNames == ["x", "y"])
    options.label = .index(-2)
    #expect(try CSVReader.read(path, options: options, as: Double.self).labels == ["a", "b"])
    let numeric = try temporaryFile("m.csv", "1,2\n3,4\n")
    options.label = .none
    data = try CSVReader.read(numeric, options: options, as: Double.self)
    #expect(data.labels == nil && data.featureCount == 2)
    options.label = .lastUnlessFeatures(count: 2, names: nil)
    #expect(try CSVReader.read(numeric, options: options, as: Double.self).labels == nil)
    options.label = .lastUnlessFeatures(count: 1, names: ["x"])
    #expect(try CSVReader.read(numeric, options: options, as: Double.self).labels == ["2", "4"])
    // With a header, the names decide: "kind" is not a feature, so it is
    // the label even though the count matches a 3-feature model.
    let named = try temporaryFile("k.csv", "x,y,kind\n1,2,a\n3,4,b\n")
    options.label = .lastUnlessFeatures(count: 3, names: ["x", "y", "z"])
    #expect(try CSVReader.read(named, options: options, as: Double.self).labels == ["a", "b"])
    options.label = .lastUnlessFeatures(count: 2, names: ["x", "y", "kind"])
    #expect { try CSVReader.read(named, options: options, as: Double.self) } throws: { error in
      (error as? DataError)?.code == .notANumber
    }
  }

  @Test("missing values: skip the row, zero, or the column's mean")
  func missingPolicies() throws {
    let path = try temporaryFile("p.csv", "a,b,y\n1,NA,x\n3,4,y\n,8,z\n5,?,w\n")
    var options = CSVOptions()
    options.missingValues = .skipRow
    var data = try CSVReader.read(path, options: options, as: Double.self)
    #expect(rows(data.features) == [[3, 4]])
    #expect(data.labels == ["y"])
    #expect(data.report.skippedRows == 3)
    options.missingValues = .zero
    data = try CSVReader.read(path, options: options, as: Double.self)
    #expect(rows(data.features) == [[1, 0], [3, 4], [0, 8], [5, 0]])
    options.missingValues = .mean
    data = try CSVReader.read(path, options: options, as: Double.self)
    #expect(rows(data.features) == [[1, 6], [3, 4], [3, 8], [5, 6]])
    #expect(data.report.filledValues == 3)
  }

  /// Records straddle the 1 MiB window and one record is longer than it:
  /// the result must equal a plain split of the same text.
  @Test("streaming: a file of several windows, and a record longer than one")
  func streaming() throws {
    var generator = SplitMix64(seed: 3)
    var lines: [String] = []
    var expected: [[Double]] = []
    for i in 0..<40_000 {
      let values = (0..<6).map { _ in Double(generator.next() % 2_000_000) / 1000 - 1000 }
      expected.append(values)
      lines.append(values.map { "\($0)" }.joined(separator: ",") + ",c\(i % 7)")
    }
    let wide = (0..<150_000).map { Double($0 % 97) }
    let widePath = try temporaryFile(
      "wide.csv",
      wide.map { "\($0)" }.joined(separator: ",") + ",w\n"
        + wide.map { "\($0 + 1)" }.joined(separator: ",") + ",v")
    let text = lines.joined(separator: "\r\n") + "\r\n"
    #expect(text.utf8.count > 2 << 20)
    let path = try temporaryFile("big.csv", text)
    let data = try CSVReader.read(path, as: Double.self)
    #expect(rows(data.features) == expected)
    #expect(data.labels == (0..<40_000).map { "c\($0 % 7)" })
    let long = try CSVReader.read(widePath, as: Float.self)
    #expect(long.count == 2 && long.featureCount == wide.count)
    #expect(long.features[1, 149_999] == Float(wide[149_999] + 1))
  }
}

@Suite("Malformed files: typed errors with the file, line and column")
struct MalformedInputTests {
  struct Case: CustomStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var code: DataError.Code
    var line: Int?
    var column: Int?
    var says: String
    var description: String { name }

    init(
      _ name: String, _ text: String, _ code: DataError.Code, _ line: Int?, _ column: Int?,
      _ says: String
    ) {
      self.init(name, Array(text.utf8), code, line, column, says)
    }

    init(
      _ name: String, _ bytes: [UInt8], _ code: DataError.Code, _ line: Int?, _ column: Int?,
      _ says: String
    ) {
      self.name = name
      self.bytes = bytes
      self.code = code
      self.line = line
      self.column = column
      self.says = says
    }
  }

  static func npyHeader(_ descr: String, _ shapeRows: Int) -> [UInt8] {
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shapeRows), 2), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    return [0x93] + Array("NUMPY".utf8) + [
      1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8),
    ]
      + Array(header.utf8)
  }

  static let cases: [Case] = [
    Case("empty.csv", "", .empty, nil, nil, "no rows"),
    Case("blank.csv", "\n\n  \n", .empty, nil, nil, "no rows"),
    Case("header_only.csv", "a,b,label\n", .empty, 2, nil, "header but no data rows"),
    Case(
      "ragged.csv", "a,b,y\n1,2,x\n3,4,5,y\n", .shapeMismatch, 3, 7, "4 fields; the first row has 3"
    ),
    Case("short.csv", "a,b,y\n1,2,x\n3,y\n", .shapeMismatch, 3, 4, "2 fields"),
    Case(
      "missing.csv", "a,b,y\n1,2,x\n3,,y\n", .missingValue, 3, 3,
      "missing value in column 2 (\"b\")"),
    Case("nan.csv", "a,b,y\n1,NaN,x\n", .missingValue, 2, 3, "missing value"),
    Case(
      "text.csv", "a,b,y\n1,2,x\n3,abc,y\n", .notANumber, 3, 3,
      "\"abc\" in column 2 (\"b\") is not a finite number"),
    Case("inf.csv", "a,b,y\n1,inf,x\n", .notANumber, 2, 3, "\"inf\""),
    Case("huge.csv", "a,b,y\n1,1e999,x\n", .notANumber, 2, 3, "out of the finite range"),
    Case("unclosed.csv", "a,b,y\n1,2,\"x\n3,4,y\n", .malformed, 2, 5, "never closed"),
    Case("after_quote.csv", "a,b,y\n1,2,\"x\"z\n", .malformed, 2, 8, "after a closing quote"),
    Case("duplicate_header.csv", "a,a,y\n1,2,x\n", .malformed, 1, 3, "duplicate column name \"a\""),
    Case("empty_label.csv", "a,b,y\n1,2,\n", .labels, 2, 5, "empty label"),
    Case(
      "bad_utf8.csv", Array("a,b,y\n1,2,".utf8) + [0xC3, 0x28] + Array("\n".utf8), .invalidEncoding,
      2, 5, "not valid UTF-8"),
    Case("no_colon.svm", "1 1:2 3\n", .malformed, 1, 7, "\"3\" is not an index:value pair"),
    Case("unsorted.svm", "1 3:1 2:1\n", .malformed, 1, 7, "index 2 comes after 3"),
    Case("repeated.svm", "1 2:1 2:5\n", .malformed, 1, 7, "index 2 appears twice"),
    Case("negative.svm", "1 -2:1\n", .malformed, 1, 3, "not a non-negative integer"),
    Case("bad_value.svm", "1 2:x\n", .notANumber, 1, 5, "not a finite number"),
    Case("label_missing.svm", "1:2 3:4\n", .labels, 1, 1, "not a label"),
    Case("empty.svm", "# nothing\n", .empty, nil, nil, "no data rows"),
    Case("not.npy", "hello, world", .malformed, nil, nil, "not an NPY file"),
    Case(
      "strings.npy", npyHeader("<U5", 1) + [UInt8](repeating: 0, count: 40), .unsupported, nil, nil,
      "dtype '<U5'"),
    Case(
      "complex.npy", npyHeader("<c16", 1) + [UInt8](repeating: 0, count: 32), .unsupported, nil,
      nil, "dtype '<c16'"),
    Case(
      "short.npy", npyHeader("<f8", 1000) + [UInt8](repeating: 0, count: 16), .malformed, nil, nil,
      "needs 16000 bytes of data; the file has 16"),
    Case(
      "lying.npy", npyHeader("<f8", 1 << 62) + [UInt8](repeating: 0, count: 16), .malformed, nil,
      nil, "too large"),
    Case(
      "lying-idx3-ubyte",
      [0, 0, 8, 3, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0x70, 0, 0, 0, 0x70, 0, 1, 2, 3], .malformed, nil,
      nil, "the file has 3"),
    Case("type.idx", [0, 0, 0x0A, 1, 0, 0, 0, 1, 5], .unsupported, nil, nil, "element type 0xa"),
    Case("cut.idx", [0, 0, 8, 3, 0, 0], .malformed, nil, nil, "ends inside its header"),
    Case("magic.idx", [1, 2, 8, 1, 0, 0, 0, 1, 5], .malformed, nil, nil, "not an IDX file"),
  ]

  @Test("each malformed file gets its error", arguments: cases)
  func malformed(_ item: Case) throws {
    let path = try temporaryFile(item.name, item.bytes)
    do {
      let data = try DataLoader.load(path, as: Double.self)
      Issue.record("read \(data.count) rows from \(item.name)")
    } catch {
      #expect(error.code == item.code, "\(error)")
      #expect(error.path == path)
      #expect(error.line == item.line, "\(error)")
      #expect(error.column == item.column, "\(error)")
      #expect(error.message.contains(item.says), "\(error)")
      #expect(error.description.hasPrefix(path + (item.line.map { ":\($0)" } ?? "")))
    }
  }

  @Test("a label column that is not there; an unknown format; a missing file")
  func otherErrors() throws {
    let path = try temporaryFile("x.csv", "a,b\n1,2\n")
    var options = LoadOptions()
    options.label = .name("species")
    #expect { try DataLoader.load(path, options: options, as: Double.self) } throws: { error in
      let error = error as? DataError
      return error?.code == .labels && error?.message.contains("\"a\", \"b\"") == true
    }
    options.label = .index(5)
    #expect(throws: DataError.self) { try DataLoader.load(path, options: options, as: Double.self) }
    let parquet = try temporaryFile("data.parquet", Array("PAR1".utf8) + [0, 0x15, 0, 7])
    #expect { try DataLoader.load(parquet, as: Double.self) } throws: { error in
      (error as? DataError)?.code == .unsupported
    }
    #expect { try DataLoader.load("/nonexistent/x.csv", as: Double.self) } throws: { error in
      (error as? DataError)?.message.contains("No such file") == true
    }
  }
}

@Suite("Number parsing: correctly rounded, as the C library's strtod")
struct NumberParsingTests {
  @Test("random decimal strings parse to the same Double as Swift's own parser")
  func agreesWithStrtod() {
    var generator = SplitMix64(seed: 11)
    for _ in 0..<20_000 {
      let digits = Int(generator.next(below: 25)) + 1
      var text = generator.next() & 1 == 0 ? "-" : ""
      let point = Int(generator.next(below: digits + 1))
      for k in 0..<digits {
        if k == point { text += "." }
        text += String(generator.next(below: 10))
      }
      if generator.next() & 1 == 0 {
        text += "e" + String(Int(generator.next(below: 700)) - 350)
      }
      guard let reference = Double(text) else { continue }
      #expect(NumberParser.parse(text) == .number(reference), "\(text)")
    }
  }

  @Test(
    "hard cases (ties, a hair either side, long digits, subnormals, range edges) as Python's float()"
  )
  func hardCases() throws {
    struct File: Decodable { var cases: [[String]] }
    let data = try #require(
      FileManager.default.contents(atPath: Fixtures.path("hard_numbers.json")))
    let cases = try JSONDecoder().decode(File.self, from: data).cases
    #expect(cases.count > 3000)
    for pair in cases {
      let expected = Double(bitPattern: try #require(UInt64(pair[1])))
      let parsed = NumberParser.parse(pair[0])
      #expect(parsed == .number(expected), "\(pair[0].prefix(60)) → \(parsed), not \(expected)")
      // The public entry point (the server's JSON) gives the same.
      let bytes = Array(pair[0].utf8)
      let value = bytes.withUnsafeBufferPointer { DecimalText.value($0) }
      #expect(value?.bitPattern == expected.bitPattern, "\(pair[0].prefix(60))")
    }
    for text in ["", "1,5", "abc", "nan", "inf", "1e"] {
      let bytes = Array(text.utf8)
      #expect(bytes.withUnsafeBufferPointer { DecimalText.value($0) } == nil, "\(text)")
    }
  }

  @Test("Float data: the text's nearest float, not the double's (exact rational fixture)")
  func nearestFloat() throws {
    struct File: Decodable { var float32: [[String]] }
    let data = try #require(
      FileManager.default.contents(atPath: Fixtures.path("hard_numbers.json")))
    let cases = try JSONDecoder().decode(File.self, from: data).float32
    #expect(cases.count >= 1500)
    var twice = 0  // cases where Float(Double(text)) is wrong
    var csv = "x,label\n"
    var libsvm = ""
    for pair in cases {
      let expected = Float(bitPattern: try #require(UInt32(pair[1])))
      var bytes = Array(pair[0].utf8)
      bytes.append(0)
      let got = bytes.withUnsafeBufferPointer { buffer -> Float? in
        guard let base = buffer.baseAddress,
          case .number(let value) = NumberParser.parse(base, 0, buffer.count - 1)
        else { return nil }
        if Float(value) != expected { twice += 1 }
        return NumberParser.nearestFloat(value, base, 0, buffer.count - 1)
      }
      #expect(got == expected, "\(pair[0].prefix(50))")
      csv += "\(pair[0]),a\n"
      libsvm += "a 1:\(pair[0])\n"
    }
    #expect(twice >= 100)  // the fixture holds the hard cases
    // The same through the readers.
    let directory = NSTemporaryDirectory() + "softmax-float-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Data(csv.utf8).write(to: URL(fileURLWithPath: directory + "/f.csv"))
    try Data(libsvm.utf8).write(to: URL(fileURLWithPath: directory + "/f.svm"))
    let expected = try cases.map { Float(bitPattern: try #require(UInt32($0[1]))) }
    let table = try CSVReader.read(directory + "/f.csv", as: Float.self)
    #expect(Bool(table.features.elements == expected))
    let sparse = try LIBSVMReader.readSparse(directory + "/f.svm", as: Float.self)
    #expect(Bool(sparse.features.dense().elements == expected))
  }

  @Test("random doubles round-trip through 17, 19, 20 and 25 significant digits")
  func roundTrips() {
    var generator = SplitMix64(seed: 17)
    for _ in 0..<40_000 {
      let value = Double(bitPattern: generator.next() & 0x7FFF_FFFF_FFFF_FFFF)
      guard value.isFinite else { continue }
      #expect(NumberParser.parse(value.description) == .number(value), "\(value)")
      for digits in [17, 19, 20, 25] {
        let text = String(format: "%.\(digits - 1)e", value)
        guard let reference = Double(text) else { continue }
        #expect(NumberParser.parse(text) == .number(reference), "\(text)")
      }
    }
  }

  @Test("Eisel-Lemire answers or declines, and an answer is strtod's")
  func eiselLemireAgrees() {
    var generator = SplitMix64(seed: 23)
    var answered = 0
    let total = 100_000
    for _ in 0..<total {
      let w = generator.next() >> generator.next(below: 64) | 1
      let q = Int(generator.next(below: 700)) - 350
      guard let value = NumberParser.eiselLemire(w, q) else { continue }
      answered += 1
      let reference = Double("\(w)e\(q)")
      #expect(value == reference, "\(w)e\(q)")
    }
    // It declines only subnormal results and near-ties: about 1 in 20 here.
    #expect(answered > total * 9 / 10)
  }

  @Test("missing spellings, infinities and text")
  func words() {
    for missing in ["", "  ", "NA", "n/a", "#N/A", "NaN", "-nan", "null", "None", "?"] {
      #expect(NumberParser.parse(missing) == .missing, "\(missing)")
    }
    #expect(NumberParser.parse("-Infinity") == .infinity(negative: true))
    #expect(NumberParser.parse("inf") == .infinity(negative: false))
    // Bytes next to the digits in ASCII (/ and :) inside runs of eight.
    let neighbours = ["12345678:1", "1234567/89", "1234567:", "/2345678", "123456789012345678x"]
    for text in ["abc", "1e", "1.2.3", "0x10", "--1", "1 2", "e5"] + neighbours {
      #expect(NumberParser.parse(text) == .text, "\(text)")
    }
    #expect(NumberParser.parse(" 42 ") == .number(42))
    #expect(NumberParser.parse("+.5") == .number(0.5))
  }
}
