//===--- JSONSyntaxCheck.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Finds where a JSON text first goes wrong, for the model file's error
/// message: `JSONDecoder` only says "The given data was not valid JSON".
///
/// A scan of RFC 8259's grammar with an explicit stack (no recursion, so
/// `[[[[…` cannot overflow the call stack), plus the one check JSON leaves
/// to the reader: a number must be a finite `Double`. Cost: O(n).
enum JSONSyntaxCheck {
  struct Problem: Equatable {
    /// 1-based line and column (in bytes) of the offending byte.
    var line: Int
    var column: Int
    var message: String

    var description: String { "line \(line), column \(column): \(message)" }
  }

  /// The first syntax error in `bytes`, or `nil` when they are valid JSON.
  static func firstProblem(in bytes: [UInt8]) -> Problem? {
    var scanner = Scanner(bytes: bytes)
    return scanner.run().map { offset, message in
      var line = 1
      var lineStart = 0
      for k in 0..<min(offset, bytes.count) where bytes[k] == 0x0A {
        line += 1
        lineStart = k + 1
      }
      return Problem(line: line, column: offset - lineStart + 1, message: message)
    }
  }

  private struct Scanner {
    let bytes: [UInt8]
    var i = 0

    enum Container { case array, object }

    mutating func skipSpace() {
      while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    func unexpected() -> (Int, String) {
      guard i < bytes.count else {
        return (i, "the text ends before the JSON is complete (is the file cut short?)")
      }
      let byte = bytes[i]
      let shown =
        byte >= 0x20 && byte < 0x7F
        ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
      return (i, "unexpected \(shown)")
    }

    /// Scans a string starting at its opening quote.
    mutating func string() -> (Int, String)? {
      i += 1
      while i < bytes.count {
        switch bytes[i] {
        case 0x22:
          i += 1
          return nil
        case 0x5C:
          i += 1
          guard i < bytes.count else { break }
          if bytes[i] == 0x75 {  // \uXXXX
            for _ in 0..<4 {
              i += 1
              guard i < bytes.count, isHexDigit(bytes[i]) else {
                return (i, "\\u needs four hexadecimal digits")
              }
            }
          } else if !Array(#""\/bfnrt"#.utf8).contains(bytes[i]) {
            return (i, "an unknown escape in a string")
          }
          i += 1
        case 0x00..<0x20:
          return (i, "a control character inside a string")
        default:
          i += 1
        }
      }
      return (i, "a string is never closed (is the file cut short?)")
    }

    func isHexDigit(_ byte: UInt8) -> Bool {
      (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    mutating func number() -> (Int, String)? {
      let start = i
      if i < bytes.count, bytes[i] == 0x2D { i += 1 }
      if i + 1 < bytes.count, bytes[i] == 0x30, (0x30...0x39).contains(bytes[i + 1]) {
        i += 1
        return (i, "a number with a leading zero")
      }
      func digits(_ scanner: inout Scanner) -> Int {
        let from = scanner.i
        while scanner.i < scanner.bytes.count, (0x30...0x39).contains(scanner.bytes[scanner.i]) {
          scanner.i += 1
        }
        return scanner.i - from
      }
      guard digits(&self) > 0 else { return unexpected() }
      if i < bytes.count, bytes[i] == 0x2E {
        i += 1
        guard digits(&self) > 0 else { return unexpected() }
      }
      if i < bytes.count, bytes[i] == 0x65 || bytes[i] == 0x45 {
        i += 1
        if i < bytes.count, bytes[i] == 0x2B || bytes[i] == 0x2D { i += 1 }
        guard digits(&self) > 0 else { return unexpected() }
      }
      let text = String(decoding: bytes[start..<i], as: UTF8.self)
      guard let value = Double(text), value.isFinite else {
        return (start, "the number \(text) is beyond the range of a Double")
      }
      return nil
    }

    mutating func literal(_ word: String) -> (Int, String)? {
      let expected = Array(word.utf8)
      guard bytes.count - i >= expected.count, Array(bytes[i..<(i + expected.count)]) == expected
      else { return unexpected() }
      i += expected.count
      return nil
    }

    /// Scans a string, number or literal at `i`.
    mutating func scalar() -> (Int, String)? {
      switch bytes[i] {
      case 0x22: return string()
      case 0x74: return literal("true")
      case 0x66: return literal("false")
      case 0x6E: return literal("null")
      default: return number()
      }
    }

    /// Scans `"key" :` inside an object.
    mutating func key() -> (Int, String)? {
      skipSpace()
      guard i < bytes.count, bytes[i] == 0x22 else { return unexpected() }
      if let problem = string() { return problem }
      skipSpace()
      guard i < bytes.count, bytes[i] == 0x3A else { return unexpected() }
      i += 1
      return nil
    }

    mutating func run() -> (Int, String)? {
      var stack: [Container] = []
      var needValue = true
      while true {
        if needValue {
          skipSpace()
          guard i < bytes.count else { return unexpected() }
          switch bytes[i] {
          case 0x7B, 0x5B:
            let container: Container = bytes[i] == 0x7B ? .object : .array
            i += 1
            skipSpace()
            if i < bytes.count, bytes[i] == (container == .object ? 0x7D : 0x5D) {
              i += 1  // empty
            } else {
              stack.append(container)
              if container == .object, let problem = key() { return problem }
              continue  // its first value
            }
          default:
            if let problem = scalar() { return problem }
          }
          needValue = false
        }
        // A value just ended: close containers or go on to the next one.
        guard let top = stack.last else { break }
        skipSpace()
        guard i < bytes.count else { return unexpected() }
        if bytes[i] == (top == .array ? 0x5D : 0x7D) {
          i += 1
          stack.removeLast()
          continue
        }
        guard bytes[i] == 0x2C else { return unexpected() }
        i += 1
        if top == .object, let problem = key() { return problem }
        needValue = true
      }
      skipSpace()
      return i < bytes.count ? (i, "text after the end of the JSON value") : nil
    }
  }
}
