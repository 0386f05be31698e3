//===--- TokenizerTests.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import SoftmaxText

@Suite("Tokenizer: written examples")
struct TokenizerTests {
  @Test(
    "words of letters and digits, lower-cased, two or more",
    arguments: [
      ("Hello, WORLD! e-mail 42 Ünïcode_x a", ["hello", "world", "mail", "42", "ünïcode"]),
      ("don't stop-me now", ["don", "stop", "me", "now"]),
      ("3.14 x² ½ 2nd", ["14", "x²", "2nd"]),
      ("東京タワー and 東", ["東京タワー", "and"]),
      ("ΣΊΣΥΦΟΣ ΟΔΟΣ Σ", ["σίσυφος", "οδος"]),
      ("Straße STRASSE", ["straße", "strasse"]),
      ("naïve\tcafé\r\nCAFÉ", ["naïve", "café", "café"]),
      ("İstanbul", ["stanbul"]),  // İ lowers to i + U+0307, a mark: the word splits
      ("", []),
      ("!!! ... ,,,", []),
      ("tab\u{0}nul", ["tab", "nul"]),
    ] as [(String, [String])])
  func words(text: String, expected: [String]) {
    #expect(Tokenizer().words(in: text) == expected)
  }

  @Test("the minimum length and case are settings")
  func settings() {
    #expect(Tokenizer(minimumLength: 1).words(in: "a B c1") == ["a", "b", "c1"])
    #expect(Tokenizer(lowercases: false).words(in: "New York ÉTÉ") == ["New", "York", "ÉTÉ"])
    #expect(Tokenizer(minimumLength: 4).words(in: "one three ünï ünïc") == ["three", "ünïc"])
    // Length counts characters, not bytes: "ünï" is 3, under 4.
  }

  @Test("non-native strings (bridged, substrings) tokenize as native ones")
  func substrings() {
    let text = "Hello World again"
    let sub = String(text.dropFirst(6))
    #expect(Tokenizer().words(in: sub) == ["world", "again"])
  }
}
