//===--- ModelFile+FastRead.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxText

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// Reading a large model (20 Newsgroups: 126,498 terms × 20 classes, 80 MB)
// through JSONDecoder takes seconds. The large arrays — "weights" and the
// text's "vocabulary" and "inverse_document_frequencies" — are read here
// directly and cut out, and JSONDecoder reads the rest. Anything unusual
// (an escaped key, a repeated key, a number that is not a finite JSON
// number, another format version — a network's files are left to it — a
// model that does not validate) gives
// up, and the full decoder reads the file and says what is wrong: this
// path only ever returns what that one would.

extension ModelFile {
  /// The model in `bytes`, or `nil` to leave the file to the full decoder.
  static func fastDecode(_ bytes: [UInt8]) -> SoftmaxClassifier? {
    guard bytes.count >= 1 << 16, var cut = LargeArrayCut(bytes: bytes), cut.run(),
      let weights = cut.weights
    else { return nil }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    guard let rest = try? decoder.decode(Rest.self, from: Data(cut.stripped())),
      rest.format == formatName,
      rest.version == Double(linearVersion) || rest.version == Double(currentVersion),
      rest.hidden == nil
    else { return nil }
    var text: TextVectorizer? = nil
    if let fields = rest.text {
      guard let vocabulary = cut.vocabulary,
        let vectorizer = try? TextVectorizer(
          options: fields.options, vocabulary: vocabulary,
          inverseDocumentFrequencies: cut.inverseDocumentFrequencies,
          documentCount: fields.documentCount)
      else { return nil }
      text = vectorizer
    } else if cut.vocabulary != nil {
      return nil
    }
    let document = Document(
      format: rest.format, version: Int(rest.version), classes: rest.classes,
      featureNames: rest.featureNames, weights: weights, bias: rest.bias,
      standardization: rest.standardization.map {
        StandardizationFields(mean: $0.mean, scale: $0.scale)
      }, input: rest.input, text: text, training: rest.training, temperature: rest.temperature)
    return try? document.validated()
  }

  /// The model file without its large arrays.
  private struct Rest: Decodable {
    struct StandardizationFields: Decodable {
      var mean: [Double]
      var scale: [Double]
    }
    struct TextFields: Decodable {
      var options: TextFeatureOptions
      var documentCount: Int
    }
    var format: String
    var version: Double
    var classes: [String]
    var featureNames: [String]?
    var bias: [Double]
    var standardization: StandardizationFields?
    var input: InputDescription?
    var text: TextFields?
    var training: TrainingRecord?
    var temperature: Double?
    /// Present in a network's file, which this path leaves to the full
    /// decoder (its value is not read here).
    var hidden: Present?
  }

  /// Any JSON value, not read.
  private struct Present: Decodable {
    init(from decoder: any Decoder) throws {}
  }
}

/// Finds the large arrays of a model file, parses them, and remembers
/// where they were.
private struct LargeArrayCut {
  let bytes: [UInt8]
  var i = 0
  var weights: [[Double]]? = nil
  var vocabulary: [String]? = nil
  var inverseDocumentFrequencies: [Double]? = nil
  /// The byte ranges of the arrays read, replaced by `[]` in ``stripped()``.
  var ranges: [Range<Int>] = []

  init?(bytes: [UInt8]) { self.bytes = bytes }

  /// Reads the top-level object; `false` gives up.
  mutating func run() -> Bool {
    skipSpace()
    guard object(depth: 1) else { return false }
    skipSpace()
    return i == bytes.count
  }

  /// The bytes with each array read replaced by `[]`.
  func stripped() -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count - ranges.reduce(0) { $0 + $1.count } + 2 * ranges.count)
    var start = 0
    for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      out += bytes[start..<range.lowerBound]
      out += [UInt8(ascii: "["), UInt8(ascii: "]")]
      start = range.upperBound
    }
    out += bytes[start...]
    return out
  }

  mutating func skipSpace() {
    while i < bytes.count,
      bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09
    {
      i += 1
    }
  }

  /// An object whose keys are looked at: at depth 1 "weights" and "text",
  /// at depth 2 (inside "text") "vocabulary" and
  /// "inverse_document_frequencies"; every other value is skipped.
  mutating func object(depth: Int) -> Bool {
    guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return false }
    i += 1
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
      i += 1
      return true
    }
    var seen = Set<String>()
    while true {
      skipSpace()
      guard let key = plainKey(), seen.insert(key).inserted else { return false }
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return false }
      i += 1
      skipSpace()
      let start = i
      switch (depth, key) {
      case (1, "weights"):
        guard let rows = numberRows() else { return false }
        weights = rows
        ranges.append(start..<i)
      case (1, "text"):
        if !literal("null") {
          guard object(depth: 2) else { return false }
        }
      case (2, "vocabulary"):
        guard let terms = stringArray() else { return false }
        vocabulary = terms
        ranges.append(start..<i)
      case (2, "inverse_document_frequencies"):
        if !literal("null") {
          guard let values = numberArray() else { return false }
          inverseDocumentFrequencies = values
          ranges.append(start..<i)
        }
      default:
        guard skipValue() else { return false }
      }
      skipSpace()
      guard i < bytes.count else { return false }
      if bytes[i] == UInt8(ascii: ",") {
        i += 1
        continue
      }
      guard bytes[i] == UInt8(ascii: "}") else { return false }
      i += 1
      return true
    }
  }

  /// A key without escapes (a key with one gives up).
  mutating func plainKey() -> String? {
    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
    let start = i + 1
    var k = start
    while k < bytes.count, bytes[k] != UInt8(ascii: "\"") {
      if bytes[k] == UInt8(ascii: "\\") || bytes[k] < 0x20 { return nil }
      k += 1
    }
    guard k < bytes.count else { return nil }
    i = k + 1
    return String(decoding: bytes[start..<k], as: UTF8.self)
  }

  mutating func literal(_ word: String) -> Bool {
    let text = Array(word.utf8)
    guard bytes[i...].starts(with: text) else { return false }
    i += text.count
    return true
  }

  /// Skips any JSON value (strings with escapes, nested arrays and
  /// objects, numbers, literals), without recursion.
  mutating func skipValue() -> Bool {
    var depth = 0
    repeat {
      skipSpace()
      guard i < bytes.count else { return false }
      switch bytes[i] {
      case UInt8(ascii: "\""):
        guard skipString() else { return false }
      case UInt8(ascii: "["), UInt8(ascii: "{"):
        depth += 1
        i += 1
      case UInt8(ascii: "]"), UInt8(ascii: "}"):
        depth -= 1
        i += 1
      case UInt8(ascii: ","), UInt8(ascii: ":"):
        i += 1
      default:
        let start = i
        while i < bytes.count, !isDelimiter(bytes[i]) { i += 1 }
        guard i > start else { return false }
      }
    } while depth > 0
    return depth == 0
  }

  func isDelimiter(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")
      || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
  }

  mutating func skipString() -> Bool {
    i += 1
    while i < bytes.count {
      switch bytes[i] {
      case UInt8(ascii: "\""):
        i += 1
        return true
      case UInt8(ascii: "\\"): i += 2
      default: i += 1
      }
    }
    return false
  }

  /// `[e, …]`, each element read by `element`; `nil` when one is not.
  mutating func array<Element>(_ element: (inout LargeArrayCut) -> Element?) -> [Element]? {
    guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else { return nil }
    i += 1
    var values: [Element] = []
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
      i += 1
      return values
    }
    while true {
      skipSpace()
      guard let value = element(&self) else { return nil }
      values.append(value)
      skipSpace()
      guard i < bytes.count else { return nil }
      if bytes[i] == UInt8(ascii: ",") {
        i += 1
        continue
      }
      guard bytes[i] == UInt8(ascii: "]") else { return nil }
      i += 1
      return values
    }
  }

  /// `[[n, …], …]`.
  mutating func numberRows() -> [[Double]]? { array { $0.numberArray() } }

  /// `[n, …]` of finite JSON numbers.
  mutating func numberArray() -> [Double]? { array { $0.number() } }

  /// A JSON number (`-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?`) that is a finite
  /// `Double`, correctly rounded.
  mutating func number() -> Double? {
    let start = i
    func digits() -> Int {
      let first = i
      while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
      return i - first
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
    guard i < bytes.count else { return nil }
    if bytes[i] == 0x30 {
      i += 1
    } else if digits() == 0 {
      return nil
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
      i += 1
      guard digits() > 0 else { return nil }
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      i += 1
      if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
      guard digits() > 0 else { return nil }
    }
    guard let value = Double(String(decoding: bytes[start..<i], as: UTF8.self)), value.isFinite
    else { return nil }
    return value
  }

  /// `["…", …]`, unescaped (an escape other than JSON's gives up).
  mutating func stringArray() -> [String]? { array { $0.string() } }

  mutating func string() -> String? {
    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
    i += 1
    let start = i
    // Without escapes (nearly every term): the bytes as they are.
    while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"),
      bytes[i] >= 0x20
    {
      i += 1
    }
    guard i < bytes.count else { return nil }
    if bytes[i] == UInt8(ascii: "\"") {
      i += 1
      return String(validating: bytes[start..<(i - 1)], as: UTF8.self)
    }
    // With escapes: JSONDecoder reads it (a string's bytes are short).
    i = start - 1
    guard skipString() else { return nil }
    let quoted = Array(bytes[(start - 1)..<i])
    return try? JSONDecoder().decode(String.self, from: Data(quoted))
  }
}
