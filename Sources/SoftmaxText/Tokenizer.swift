//===--- Tokenizer.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Splits text into words: lower-cased (Unicode's full lower-case mapping,
/// as Python's `str.lower`), then cut at every character that is not a
/// letter or a digit; words shorter than ``minimumLength`` characters are
/// dropped.
///
/// A letter is a Unicode scalar of general category L (Lu, Ll, Lt, Lm,
/// Lo), a digit one with a numeric type (Nd, Nl, No and the CJK numerals):
/// Python's `str.isalnum`; a capital sigma lowers to `ς` at the end of a
/// word, as Python's `str.lower` has it. So the words are scikit-learn's with
/// `token_pattern=r"(?u)[^\W_]{2,}"` (its default, `\b\w\w+\b`, also keeps
/// underscores inside words):
///
///     Tokenizer().words(in: "Hello, WORLD! e-mail 42 Ünïcode_x a")
///     // ["hello", "world", "mail", "42", "ünïcode"]
///
/// Cost: one pass over the UTF-8 bytes; ASCII through a table, other
/// scalars through their Unicode properties.
public struct Tokenizer: Sendable, Hashable, Codable {
  /// Whether the text is lower-cased first.
  public var lowercases: Bool
  /// The fewest characters (Unicode scalars) a word keeps; 2 drops the
  /// one-letter words, as scikit-learn's default does.
  public var minimumLength: Int

  /// A tokenizer that lower-cases and keeps words of at least
  /// `minimumLength` characters.
  public init(lowercases: Bool = true, minimumLength: Int = 2) {
    self.lowercases = lowercases
    self.minimumLength = max(1, minimumLength)
  }

  /// The words of `text`, in order.
  public func words(in text: String) -> [String] {
    var words: [String] = []
    var text = text
    forEachWord(in: &text) { words.append(String(decoding: $0, as: UTF8.self)) }
    return words
  }

  /// Calls `body` with the UTF-8 bytes of each word of `text`, in order
  /// (the buffer is valid only during the call). `text` is made native
  /// (contiguous) if it is not.
  public func forEachWord(
    in text: inout String, _ body: (UnsafeBufferPointer<UInt8>) -> Void
  ) {
    text.makeContiguousUTF8()
    var word: [UInt8] = []
    word.reserveCapacity(64)
    var length = 0
    let minimum = minimumLength
    func flush() {
      if length >= minimum { word.withUnsafeBufferPointer { body($0) } }
      word.removeAll(keepingCapacity: true)
      length = 0
    }
    text.utf8.withContiguousStorageIfAvailable { bytes in
      var i = 0
      let n = bytes.count
      while i < n {
        let byte = bytes[i]
        if byte < 0x80 {
          let kind = asciiKind[Int(byte)]
          if kind == 0 {
            if length > 0 { flush() }
          } else {
            word.append(kind == 2 && lowercases ? byte | 0x20 : byte)
            length += 1
          }
          i += 1
          continue
        }
        // A multi-byte scalar (the text is valid UTF-8).
        let (value, width) = Self.multiByteScalar(bytes, at: i)
        i += width
        guard let scalar = Unicode.Scalar(value) else {
          if length > 0 { flush() }
          continue
        }
        if lowercases && scalar.value == 0x3A3 {
          // Greek capital sigma: ς at the end of a word, σ elsewhere
          // (Unicode's Final_Sigma, as Python's str.lower).
          append(length > 0 && !startsCasedLetter(bytes, at: i) ? "\u{3C2}" : "\u{3C3}")
        } else if lowercases && scalar.properties.changesWhenLowercased {
          for lower in scalar.properties.lowercaseMapping.unicodeScalars {
            append(lower)
          }
        } else {
          append(scalar)
        }
      }
    }
    if length > 0 { flush() }

    func append(_ scalar: Unicode.Scalar) {
      if scalar.isASCII {
        let kind = asciiKind[Int(scalar.value)]
        if kind == 0 {
          if length > 0 { flush() }
        } else {
          word.append(UInt8(scalar.value))
          length += 1
        }
      } else if Self.isWordScalar(scalar) {
        word.append(contentsOf: String(scalar).utf8)
        length += 1
      } else if length > 0 {
        flush()
      }
    }
  }

  /// Whether the scalar at byte `i` of `bytes` (if any) is a cased letter.
  private func startsCasedLetter(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
    guard i < bytes.count else { return false }
    let byte = bytes[i]
    if byte < 0x80 { return asciiKind[Int(byte)] != 0 && !(0x30...0x39).contains(byte) }
    return Unicode.Scalar(Self.multiByteScalar(bytes, at: i).value)?.properties.isCased ?? false
  }

  /// The value and byte width of the multi-byte UTF-8 sequence starting at
  /// byte `i` (a lead byte ≥ 0xC0 of valid UTF-8).
  @inline(__always)
  private static func multiByteScalar(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int)
    -> (value: UInt32, width: Int)
  {
    let byte = bytes[i]
    let width = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
    var value = UInt32(byte) & (width == 2 ? 0x1F : width == 3 ? 0x0F : 0x07)
    for k in 1..<width where i + k < bytes.count {
      value = value << 6 | UInt32(bytes[i + k] & 0x3F)
    }
    return (value, width)
  }

  /// Whether a scalar is a letter or a digit (Python's `str.isalnum`).
  static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      return true
    default:
      return scalar.properties.numericType != nil
    }
  }
}

/// 0: a separator; 1: a lower-case letter or a digit; 2: an upper-case
/// letter.
private let asciiKind: [UInt8] = (0..<128).map { byte -> UInt8 in
  switch byte {
  case 0x30...0x39, 0x61...0x7A: return 1
  case 0x41...0x5A: return 2
  default: return 0
  }
}
