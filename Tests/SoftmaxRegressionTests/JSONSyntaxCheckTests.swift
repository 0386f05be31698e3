//===--- JSONSyntaxCheckTests.swift ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import Testing

@testable import SoftmaxRegression

/// Any JSON value, decoded by Foundation: the independent judge of what
/// is valid JSON.
private enum AnyJSON: Decodable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([AnyJSON])
  case object([String: AnyJSON])

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([AnyJSON].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: AnyJSON].self))
    }
  }
}

@Suite("Where a model file's JSON goes wrong")
struct JSONSyntaxCheckTests {
  func problem(_ text: String) -> JSONSyntaxCheck.Problem? {
    JSONSyntaxCheck.firstProblem(in: Array(text.utf8))
  }

  @Test("valid JSON has no problem")
  func valid() {
    for text in [
      "{}", "[]", "[[]]", " {\"a\": [1, -2.5e-3, true, false, null, \"x\\\"\\u00e9\"]}\n", "0",
      "-0.0", "{\"a\": {\"b\": {}}, \"c\": []}",
    ] {
      #expect(problem(text) == nil, "\(text)")
    }
  }

  @Test("each kind of mistake, at its line and column")
  func mistakes() {
    let cases: [(String, Int, Int, String)] = [
      ("", 1, 1, "ends before"),
      ("{\"a\": [1, 2,\n 3", 2, 3, "ends before"),
      ("{\"a\": \"cut", 1, 11, "never closed"),
      ("{\"a\": 1e999}", 1, 7, "the number 1e999 is beyond"),
      ("[1,]", 1, 4, "unexpected ']'"),
      ("{\"a\" 1}", 1, 6, "unexpected '1'"),
      ("[1] x", 1, 5, "text after"),
      ("[\"a\u{1}\"]", 1, 4, "control character"),
      ("[\"\\q\"]", 1, 4, "unknown escape"),
      ("[\"\\u12\"]", 1, 7, "four hexadecimal"),
      ("[01]", 1, 3, "leading zero"),
      ("[-]", 1, 3, "unexpected ']'"),
      ("[1.]", 1, 4, "unexpected ']'"),
      ("{\"a\": tru}", 1, 7, "unexpected 't'"),
      ("\u{0}", 1, 1, "byte 0x0"),
    ]
    for (text, line, column, says) in cases {
      let found = problem(text)
      #expect(
        found?.line == line && found?.column == column,
        "\(text.debugDescription): \(String(describing: found))")
      #expect(
        found?.message.contains(says) == true,
        "\(text.debugDescription): \(String(describing: found))")
    }
  }

  @Test("a million nested brackets: an answer, not a stack overflow")
  func deepNesting() {
    let deep = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
    #expect(JSONSyntaxCheck.firstProblem(in: deep)?.message.contains("ends before") == true)
    let closed = deep + [UInt8](repeating: UInt8(ascii: "]"), count: 1_000_000)
    #expect(JSONSyntaxCheck.firstProblem(in: closed) == nil)
  }

  @Test("on 20,000 damaged model files, a problem found whenever Foundation's decoder fails")
  func agreesWithFoundation() throws {
    var model = SoftmaxClassifier(
      classes: ["a", "b", "c"], weight: Matrix([[0.5, -1.25], [2e-3, 4], [1e10, -0.0]]),
      bias: [0.1, 0.2, -0.3], featureNames: ["x", "y"])
    model.standardization = nil
    let text = try ModelFile.encode(model)
    // Damage from an alphabet of JSON's own characters, so that a fair
    // share of the damaged files are still valid.
    let alphabet = Array(#"{}[],:"0123456789-+.eE tfnrul "#.utf8) + [0x0A]
    var generator = SplitMix64(seed: 7)
    var agreedValid = 0
    var rejected = 0
    for _ in 0..<20_000 {
      var bytes = text
      for _ in 0...generator.next(below: 3) {
        let at = generator.next(below: bytes.count)
        switch generator.next(below: 4) {
        case 0: bytes.remove(at: at)
        case 1: bytes.insert(alphabet[generator.next(below: alphabet.count)], at: at)
        case 2: bytes[at] = alphabet[generator.next(below: alphabet.count)]
        default: bytes.removeSubrange(at...)
        }
        if bytes.isEmpty { break }
      }
      let foundation = (try? JSONDecoder().decode(AnyJSON.self, from: Data(bytes))) != nil
      let ours = JSONSyntaxCheck.firstProblem(in: bytes) == nil
      // Every file Foundation rejects gets a place and a reason. (The
      // converse does not hold: Foundation also takes a trailing comma,
      // which RFC 8259 does not; the check is only asked after a failure.)
      if ours {
        // Foundation on Linux also rejects a zero with an exponent
        // (`0e2`, `0.00E1`), which RFC 8259 allows: that is its quirk.
        let text = String(decoding: bytes, as: UTF8.self)
        let zeroWithExponent = text.contains(/(^|[^0-9.])-?0(\.0*)?[eE]/)
        #expect(foundation || zeroWithExponent, "no problem found in \(text)")
        agreedValid += 1
      }
      if !foundation { rejected += 1 }
    }
    // Both answers must occur, or the comparison says little.
    #expect(agreedValid > 1000 && rejected > 1000, "\(agreedValid) valid, \(rejected) rejected")
  }
}
