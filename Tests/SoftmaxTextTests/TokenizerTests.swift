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

/// The tokenizer's rules, written the plain way (every scalar through its
/// Unicode properties, no ASCII shortcut), for comparing on random text.
private func referenceWords(_ text: String, lowercases: Bool, minimum: Int) -> [String] {
  func isWord(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      return true
    default:
      return scalar.properties.numericType != nil
    }
  }
  let scalars = Array(text.unicodeScalars)
  var words: [String] = []
  var word = String.UnicodeScalarView()
  func flush() {
    if word.count >= minimum { words.append(String(word)) }
    word = String.UnicodeScalarView()
  }
  func take(_ scalar: Unicode.Scalar) {
    if isWord(scalar) { word.append(scalar) } else if !word.isEmpty { flush() }
  }
  for (index, scalar) in scalars.enumerated() {
    if lowercases && scalar.value == 0x3A3 {
      let next = index + 1 < scalars.count ? scalars[index + 1] : nil
      let final = !word.isEmpty && !(next?.properties.isCased ?? false)
      take(final ? "\u{3C2}" : "\u{3C3}")
    } else if lowercases {
      for lower in scalar.properties.lowercaseMapping.unicodeScalars { take(lower) }
    } else {
      take(scalar)
    }
  }
  if !word.isEmpty { flush() }
  return words
}

@Suite("Tokenizer: against the plain rules on random text")
struct TokenizerReferenceTests {
  @Test("random mixes of ASCII, accents, Greek, CJK, marks and punctuation")
  func randomText() {
    let pieces: [String] = [
      "a", "Z", "q", "7", "0", " ", " ", "\t", "\n", ",", ".", "-", "_", "'", "é", "É", "ß", "ẞ",
      "Σ", "σ", "ς", "Ο", "İ", "ı", "K", "\u{212A}", "\u{301}", "東", "タ", "²", "½", "Ⅻ", "—",
      "“", "\u{A0}", "😀", "ǅ", "ﬁ", "Ω", "\u{0}",
    ]
    var generator = SplitMix64(seed: 31)
    for trial in 0..<3000 {
      var text = ""
      for _ in 0..<Int(generator.next() % 40) {
        text += pieces[Int(generator.next() % UInt64(pieces.count))]
      }
      for (lowercases, minimum) in [(true, 2), (false, 1), (true, 3)] {
        let tokenizer = Tokenizer(lowercases: lowercases, minimumLength: minimum)
        let expected = referenceWords(text, lowercases: lowercases, minimum: minimum)
        #expect(tokenizer.words(in: text) == expected, "trial \(trial): \(text.debugDescription)")
      }
    }
  }
}

/// SplitMix64, for the random text (the test target does not see
/// SoftmaxCore's).
private struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
