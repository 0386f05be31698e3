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
  ///
  /// A word of ASCII letters and digits (most words, in most text) is
  /// handed over as it lies in the text, or lower-cased into a scratch
  /// buffer; a word with other scalars goes through their Unicode
  /// properties, scalar by scalar.
  public func forEachWord(
    in text: inout String, _ body: (UnsafeBufferPointer<UInt8>) -> Void
  ) {
    text.makeContiguousUTF8()
    var state = WordState(minimum: minimumLength, lowercases: lowercases)
    text.utf8.withContiguousStorageIfAvailable { bytes in
      asciiKind.withUnsafeBufferPointer { kinds in
        let n = bytes.count
        var i = 0
        while i < n {
          let first = bytes[i]
          if first < 0x80 && kinds[Int(first)] == 0 {
            i += 1
            continue
          }
          // A word starts: its run of ASCII letters and digits.
          let start = i
          var upper: UInt8 = 0
          while i < n {
            let byte = bytes[i]
            guard byte < 0x80 else { break }
            let kind = kinds[Int(byte)]
            if kind == 0 { break }
            upper |= kind & 2
            i += 1
          }
          if i == n || bytes[i] < 0x80 {
            // All ASCII: it ends here.
            guard i - start >= state.minimum else { continue }
            if upper != 0 && state.lowercases {
              state.word.removeAll(keepingCapacity: true)
              for k in start..<i {
                let byte = bytes[k]
                state.word.append(kinds[Int(byte)] == 2 ? byte | 0x20 : byte)
              }
              state.word.withUnsafeBufferPointer { body($0) }
            } else {
              body(UnsafeBufferPointer(rebasing: bytes[start..<i]))
            }
            continue
          }
          // Other scalars in it: scalar by scalar, from its start to the
          // next ASCII separator (or the end).
          i = state.scalarByScalar(bytes, from: start, kinds: kinds, tokenizer: self, body)
        }
      }
    }
  }

  /// The general path's word in progress.
  private struct WordState {
    let minimum: Int
    let lowercases: Bool
    var word: [UInt8] = []
    /// Scalars in `word`.
    var length = 0

    init(minimum: Int, lowercases: Bool) {
      self.minimum = minimum
      self.lowercases = lowercases
      word.reserveCapacity(64)
    }

    mutating func flush(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
      if length >= minimum { word.withUnsafeBufferPointer { body($0) } }
      word.removeAll(keepingCapacity: true)
      length = 0
    }

    /// Reads scalars from `start` until an ASCII separator (which ends the
    /// word) or the end of the text; returns where it stopped.
    mutating func scalarByScalar(
      _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, kinds: UnsafeBufferPointer<UInt8>,
      tokenizer: Tokenizer, _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) -> Int {
      word.removeAll(keepingCapacity: true)
      length = 0
      var i = start
      let n = bytes.count
      while i < n {
        let byte = bytes[i]
        if byte < 0x80 {
          let kind = kinds[Int(byte)]
          if kind == 0 { break }
          word.append(kind == 2 && lowercases ? byte | 0x20 : byte)
          length += 1
          i += 1
          continue
        }
        // A multi-byte scalar (the text is valid UTF-8).
        let (value, width) = Tokenizer.multiByteScalar(bytes, at: i)
        i += width
        guard let scalar = Unicode.Scalar(value) else {
          if length > 0 { flush(body) }
          continue
        }
        if lowercases && scalar.value == 0x3A3 {
          // Greek capital sigma: ς at the end of a word, σ elsewhere
          // (Unicode's Final_Sigma, as Python's str.lower).
          let final = length > 0 && !tokenizer.startsCasedLetter(bytes, at: i)
          append(final ? "\u{3C2}" : "\u{3C3}", kinds: kinds, body)
        } else if lowercases && scalar.properties.changesWhenLowercased {
          for lower in scalar.properties.lowercaseMapping.unicodeScalars {
            append(lower, kinds: kinds, body)
          }
        } else {
          append(scalar, kinds: kinds, body)
        }
      }
      if length > 0 { flush(body) }
      return i
    }

    private mutating func append(
      _ scalar: Unicode.Scalar, kinds: UnsafeBufferPointer<UInt8>,
      _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
      if scalar.isASCII {
        let kind = kinds[Int(scalar.value)]
        if kind == 0 {
          if length > 0 { flush(body) }
        } else {
          word.append(UInt8(scalar.value))
          length += 1
        }
      } else if Tokenizer.isWordScalar(scalar) {
        word.append(contentsOf: String(scalar).utf8)
        length += 1
      } else if length > 0 {
        flush(body)
      }
    }
  }

  /// Whether the scalar at byte `i` of `bytes` (if any) is a cased letter.
  fileprivate func startsCasedLetter(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
    guard i < bytes.count else { return false }
    let byte = bytes[i]
    if byte < 0x80 { return asciiKind[Int(byte)] != 0 && !(0x30...0x39).contains(byte) }
    return Unicode.Scalar(Self.multiByteScalar(bytes, at: i).value)?.properties.isCased ?? false
  }

  /// The value and byte width of the multi-byte UTF-8 sequence starting at
  /// byte `i` (a lead byte ≥ 0xC0 of valid UTF-8).
  @inline(__always)
  fileprivate static func multiByteScalar(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int)
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
