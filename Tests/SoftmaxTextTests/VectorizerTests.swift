//===--- VectorizerTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxText

/// scikit-learn's TfidfVectorizer on the same documents
/// (Scripts/make_text_fixtures.py).
struct SklearnTfidf: Decodable {
  struct Case: Decodable {
    var vocabulary: [String]
    var idf: [Double]?
    var indptr: [Int]
    var indices: [Int]
    var data: [Double]
  }
  var documents: [String]
  var cases: [String: Case]

  static let fixture: SklearnTfidf? = {
    let path =
      URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/sklearn_tfidf.json").path
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONDecoder().decode(SklearnTfidf.self, from: data)
  }()
}

@Suite("TextVectorizer")
struct VectorizerTests {
  static let settings: [(String, TextFeatureOptions)] = {
    var words = TextFeatureOptions()
    var bigrams = TextFeatureOptions()
    bigrams.wordNGrams = 2
    bigrams.minimumDocumentCount = 2
    var sublinear = TextFeatureOptions()
    sublinear.termWeighting = .sublinear
    sublinear.normalizesRows = false
    var binary = TextFeatureOptions()
    binary.termWeighting = .binary
    binary.inverseDocumentFrequency = false
    words.tokenizer = Tokenizer()
    return [
      ("words", words), ("bigrams_min2", bigrams), ("sublinear_no_norm", sublinear),
      ("binary_no_idf", binary),
    ]
  }()

  /// The vocabulary, idf and every value of scikit-learn's tf-idf: values
  /// within 4 ulps (both compute w·idf/‖row‖ in Double, the norm's sum in
  /// another order at worst), structure exactly.
  @Test("scikit-learn's TfidfVectorizer: vocabulary, idf, CSR values", arguments: 0..<4)
  func scikitLearn(setting: Int) throws {
    let fixture = try #require(SklearnTfidf.fixture)
    let (name, options) = Self.settings[setting]
    let expected = try #require(fixture.cases[name])
    let (vectorizer, x) = try TextVectorizer.fit(fixture.documents, options: options)
    #expect(vectorizer.vocabulary == expected.vocabulary)
    if let idf = expected.idf {
      let got = try #require(vectorizer.inverseDocumentFrequencies)
      for (a, b) in zip(got, idf) { #expect(abs(a - b) <= 4 * b.ulp) }
    } else {
      #expect(vectorizer.inverseDocumentFrequencies == nil)
    }
    #expect(x.rowOffsets == expected.indptr)
    #expect(x.columnIndices.map(Int.init) == expected.indices)
    #expect(x.values.count == expected.data.count)
    var worst = 0.0
    for (a, b) in zip(x.values, expected.data) { worst = max(worst, abs(a - b) / b.ulp) }
    #expect(worst <= 4, "worst difference \(worst) ulps")
    // Transforming the same documents gives the same matrix.
    #expect(vectorizer.transform(fixture.documents, as: Double.self) == x)
  }

  @Test("terms are looked up by text; unknown terms are left out")
  func columns() throws {
    var options = TextFeatureOptions()
    options.wordNGrams = 2
    let (vectorizer, _) = try TextVectorizer.fit(["new york city", "new jersey"], options: options)
    #expect(
      vectorizer.vocabulary == [
        "city", "jersey", "new", "new jersey", "new york", "york", "york city",
      ])
    #expect(vectorizer.column(of: "new york") == 4)
    #expect(vectorizer.column(of: "boston") == nil)
    let row = vectorizer.transform(["Boston, New York!"], as: Float.self)
    #expect(row.columnIndices == [2, 4, 5])
  }

  @Test("character n-grams: the padded word's n-grams, behind #")
  func characterNGrams() throws {
    var options = TextFeatureOptions()
    options.characterNGrams = 2...3
    options.inverseDocumentFrequency = false
    options.normalizesRows = false
    let (vectorizer, x) = try TextVectorizer.fit(["cat"], options: options)
    #expect(
      Set(vectorizer.vocabulary)
        == ["cat", "# c", "#ca", "#at", "#t ", "# ca", "#cat", "#at "])
    #expect(x.values.allSatisfy { $0 == 1 })
    // Characters, not bytes: "né" pads to 4 characters, 3 bigrams.
    let (accented, _) = try TextVectorizer.fit(["né"], options: options)
    #expect(Set(accented.vocabulary) == ["né", "# n", "#né", "#é ", "# né", "#né "])
  }

  @Test("hashing: the column is the term's FNV-1a bucket; idf per bucket")
  func hashing() throws {
    var options = TextFeatureOptions()
    options.buckets = 16
    options.normalizesRows = false
    options.inverseDocumentFrequency = false
    let documents = ["alpha beta beta", "gamma alpha"]
    let (vectorizer, x) = try TextVectorizer.fit(documents, options: options)
    #expect(vectorizer.featureCount == 16)
    #expect(vectorizer.vocabulary.isEmpty)
    let alpha = try #require(vectorizer.column(of: "alpha"))
    let beta = try #require(vectorizer.column(of: "beta"))
    #expect(alpha == beta ? x[0, alpha] == 3 : x[0, alpha] == 1 && x[0, beta] == 2)
    var seeded = options
    seeded.hashSeed = 99
    let (other, _) = try TextVectorizer.fit(documents, options: seeded)
    let columns = ["alpha", "beta", "gamma", "delta", "epsilon"].map { other.column(of: $0) }
    let unseeded = ["alpha", "beta", "gamma", "delta", "epsilon"].map { vectorizer.column(of: $0) }
    #expect(columns != unseeded)  // 16^-5 chance of a false alarm
  }

  @Test("a vocabulary left empty, and settings out of range, are errors")
  func errors() {
    #expect(throws: TextError.self) { try TextVectorizer.fit(["a b", "!"]) }
    var options = TextFeatureOptions()
    options.minimumDocumentCount = 3
    #expect {
      try TextVectorizer.fit(["one two", "two three"], options: options)
    } throws: { error in
      (error as? TextError)?.code == .emptyVocabulary
    }
    options.minimumDocumentCount = 1
    options.wordNGrams = 0
    #expect {
      try TextVectorizer.fit(["one"], options: options)
    } throws: { error in
      (error as? TextError)?.code == .invalidOptions
    }
  }

  @Test("Codable round trip; a stored vectorizer that does not hold together is refused")
  func codable() throws {
    var options = TextFeatureOptions()
    options.wordNGrams = 2
    options.characterNGrams = 3...4
    let (vectorizer, x) = try TextVectorizer.fit(
      ["one two three", "two three four"], options: options)
    let data = try JSONEncoder().encode(vectorizer)
    let decoded = try JSONDecoder().decode(TextVectorizer.self, from: data)
    #expect(decoded == vectorizer)
    #expect(decoded.transform(["one two three", "two three four"], as: Double.self) == x)
    #expect(throws: TextError.self) {
      try TextVectorizer(
        options: TextFeatureOptions(), vocabulary: ["b", "a"], inverseDocumentFrequencies: [1, 1],
        documentCount: 2)
    }
    #expect(throws: TextError.self) {
      try TextVectorizer(
        options: TextFeatureOptions(), vocabulary: ["a", "a"], inverseDocumentFrequencies: [1, 1],
        documentCount: 2)
    }
    #expect(throws: TextError.self) {
      try TextVectorizer(
        options: TextFeatureOptions(), vocabulary: ["a", "b"], inverseDocumentFrequencies: [1],
        documentCount: 2)
    }
    #expect(throws: TextError.self) {
      try TextVectorizer(
        options: TextFeatureOptions(), vocabulary: ["a"], inverseDocumentFrequencies: [.nan],
        documentCount: 2)
    }
  }

  @Test("the same documents give the same matrix in any order of first sight; rows are independent")
  func determinism() throws {
    let documents = ["zeta alpha", "beta zeta", "alpha gamma"]
    let (a, x) = try TextVectorizer.fit(documents)
    let (b, _) = try TextVectorizer.fit(documents.reversed())
    #expect(a.vocabulary == b.vocabulary)
    let whole = a.transform(documents, as: Double.self)
    #expect(whole == x)
    let parts = documents.map { a.transform([$0], as: Double.self) }
    for (r, part) in parts.enumerated() {
      #expect(Array(part.row(0).values) == Array(whole.row(r).values))
    }
  }
}

@Suite("TermTable")
struct TermTableTests {
  /// The vocabulary's order: `memcmp` on the arena must give the order of
  /// `lexicographicallyPrecedes` on the bytes (unsigned bytes, a prefix
  /// before its extensions, the empty term first).
  @Test("sortByBytes is the byte order of lexicographicallyPrecedes")
  func sortByBytes() {
    var generator = SoftmaxCore.SplitMix64(seed: 5)
    var table = TermTable()
    var terms: [[UInt8]] = [
      [], [0x61], [0x61, 0x61], [0x61, 0x00], [0xC3, 0xA9], [0xFF], [0x7F],
    ]
    for _ in 0..<2_000 {
      let length = Int.random(in: 0...6, using: &generator)
      // Few distinct bytes, so that terms share prefixes.
      let alphabet: [UInt8] = [0x00, 0x61, 0x62, 0x80, 0xFF]
      terms.append((0..<length).map { _ in alphabet[Int.random(in: 0..<5, using: &generator)] })
    }
    var unique: [[UInt8]] = []
    for term in terms {
      let id = term.withUnsafeBufferPointer { table.insert($0) }
      if id == unique.count { unique.append(term) }
    }
    var order = Array(0..<table.count)
    table.sortByBytes(&order)
    let expected = (0..<unique.count).sorted { unique[$0].lexicographicallyPrecedes(unique[$1]) }
    #expect(order == expected)
  }

  /// Tables laid end to end (the vocabulary's groups) number the chosen
  /// terms in order, as inserting them one by one would, from the parts'
  /// hashes; a term left out is not found.
  @Test("concatenating tables numbers the chosen terms in order")
  func concatenating() {
    var generator = SoftmaxCore.SplitMix64(seed: 8)
    var parts: [(table: TermTable, entries: [Int])] = []
    var chosen: [[UInt8]] = []
    var left: [[UInt8]] = []
    for p in 0..<4 {
      var table = TermTable()
      for k in 0..<(p * 300) {
        let term = [UInt8(p)] + Array("term\(k)".utf8)  // distinct across parts
        _ = term.withUnsafeBufferPointer { table.insert($0) }
      }
      var entries = (0..<table.count).filter { _ in Bool.random(using: &generator) }
      entries.shuffle(using: &generator)
      for id in 0..<table.count where !entries.contains(id) { left.append(Array(table.term(id))) }
      chosen += entries.map { Array(table.term($0)) }
      parts.append((table, entries))
    }
    let joined = TermTable(concatenating: parts)
    #expect(joined.count == chosen.count)
    for (index, term) in chosen.enumerated() {
      #expect(Array(joined.term(index)) == term)
      #expect(term.withUnsafeBufferPointer { joined.index(of: $0) } == index)
    }
    for term in left { #expect(term.withUnsafeBufferPointer { joined.index(of: $0) } == nil) }
  }
}

@Suite("Vectorizer: documents read in parts, on any number of threads")
struct VectorizerPartsTests {
  /// Documents of Zipf-distributed words, some upper-case or accented.
  static func documents(_ count: Int) -> [String] {
    var state: UInt64 = 99
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    let stems = ["data", "Model", "naïve", "ΣΟΦΙΑ", "soft", "max", "x2", "東京", "café", "Zeta"]
    return (0..<count).map { _ in
      (0..<(5 + Int(next() % 40))).map { _ -> String in
        let rank = Int(Double(next() % 10_000) / 10_000 * Double(next() % 300 + 1))
        return stems[rank % stems.count] + String(rank)
      }.joined(separator: next() % 7 == 0 ? ", " : " ")
    }
  }

  @Test("fit and transform give the same rows for 1, 2 and 3 threads", arguments: [false, true])
  func threads(hashing: Bool) throws {
    let documents = Self.documents(3000)
    var options = TextFeatureOptions()
    options.wordNGrams = 2
    options.minimumDocumentCount = 2
    if hashing { options.buckets = 1 << 12 }
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    var results: [(TextVectorizer, SparseMatrix<Double>, SparseMatrix<Double>)] = []
    for threads in [1, 2, 3] {
      SoftmaxConfiguration.threadCount = threads
      let (vectorizer, features) = try TextVectorizer.fit(documents, options: options)
      let again = vectorizer.transform(documents, as: Double.self)
      results.append((vectorizer, features, again))
    }
    let (vectorizer, features, again) = results[0]
    #expect(features.rows == 3000)
    // The vocabulary in byte order, each term once (it is merged by the
    // terms' first byte from the parts' tables).
    let bytes = vectorizer.vocabulary.map { Array($0.utf8) }
    #expect(zip(bytes, bytes.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) })
    #expect(Bool(features == again), "fit's rows are transform's")
    for (other, otherFeatures, otherAgain) in results.dropFirst() {
      #expect(Bool(other.vocabulary == vectorizer.vocabulary))
      #expect(Bool(other.inverseDocumentFrequencies == vectorizer.inverseDocumentFrequencies))
      #expect(Bool(otherFeatures == features))
      #expect(Bool(otherAgain == again))
    }
    // Transforming in two calls joins to the same matrix.
    let first = vectorizer.transform(Array(documents[..<1234]), as: Double.self)
    let second = vectorizer.transform(Array(documents[1234...]), as: Double.self)
    #expect(first.rows + second.rows == 3000)
    #expect(Bool(Array(first.values + second.values) == features.values))
  }
}
