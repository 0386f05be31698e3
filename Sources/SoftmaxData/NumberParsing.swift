//===--- NumberParsing.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a text field holds, read as a number.
enum ParsedNumber: Equatable {
  /// A decimal number, correctly rounded to the nearest `Double`
  /// (`±inf` when out of range, as `strtod`).
  case number(Double)
  /// `inf`, `-inf`, `infinity` (any case).
  case infinity(negative: Bool)
  /// Empty (or blank), or a usual spelling of "no value": `NA`, `N/A`,
  /// `#N/A`, `NaN`, `nan`, `-nan`, `null`, `NULL`, `None`, `?`.
  case missing
  /// Anything else.
  case text
}

/// Decimal text to `Double`, correctly rounded.
///
/// The syntax is `[+-]digits[.digits][(e|E)[+-]digits]` (a leading or
/// trailing `.` allowed, as C and Python accept), surrounded by optional
/// spaces or tabs. Clinger's fast path answers when the significand has
/// at most 19 digits, fits in 2^53 and the power of ten is within ±22
/// (exact, since both are exact doubles and one operation rounds once);
/// everything else goes to the C library's `strtod`, which rounds
/// correctly too. Cost: O(length), a few nanoseconds for a short field.
enum NumberParser {
  /// 10^e for 0 ≤ e ≤ 22, each exact in a double (a switch, not a table:
  /// no lazy global to check on every call).
  @inline(__always)
  private static func powerOfTen(_ e: Int) -> Double {
    switch e {
    case 0: return 1
    case 1: return 1e1
    case 2: return 1e2
    case 3: return 1e3
    case 4: return 1e4
    case 5: return 1e5
    case 6: return 1e6
    case 7: return 1e7
    case 8: return 1e8
    case 9: return 1e9
    case 10: return 1e10
    case 11: return 1e11
    case 12: return 1e12
    case 13: return 1e13
    case 14: return 1e14
    case 15: return 1e15
    case 16: return 1e16
    case 17: return 1e17
    case 18: return 1e18
    case 19: return 1e19
    case 20: return 1e20
    case 21: return 1e21
    default: return 1e22
    }
  }

  /// Parses the bytes `[start, end)` of `base`.
  static func parse(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> ParsedNumber {
    var start = start
    var end = end
    while start < end, base[start] == 0x20 || base[start] == 0x09 { start += 1 }
    while end > start, base[end - 1] == 0x20 || base[end - 1] == 0x09 { end -= 1 }
    if start == end { return .missing }
    var i = start
    var negative = false
    if base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+") {
      negative = base[i] == UInt8(ascii: "-")
      i += 1
    }
    var significand: UInt64 = 0
    var digits = 0  // significant digits taken into `significand`
    var truncated = false  // digits beyond the 19 kept
    var sawDigit = false
    var sawPoint = false
    var exponent = 0
    // The integer and fraction digits in one loop: a digit after the point
    // lowers the exponent; one beyond the 19 kept before the point raises it.
    while i < end {
      let byte = base[i]
      if byte == UInt8(ascii: "."), !sawPoint {
        sawPoint = true
        i += 1
        continue
      }
      guard byte &- 0x30 < 10 else { break }
      sawDigit = true
      let digit = UInt64(byte &- 0x30)
      if digits < 19 {
        if significand != 0 || digit != 0 {
          significand = significand &* 10 &+ digit
          digits += 1
        }
        if sawPoint { exponent -= 1 }
      } else {
        truncated = true
        if !sawPoint { exponent += 1 }
      }
      i += 1
    }
    if !sawDigit { return word(base, start, end) }
    var inexact = truncated
    if i < end, base[i] | 0x20 == UInt8(ascii: "e") {
      i += 1
      var exponentNegative = false
      if i < end, base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+") {
        exponentNegative = base[i] == UInt8(ascii: "-")
        i += 1
      }
      guard i < end, base[i] &- 0x30 < 10 else { return .text }
      var written = 0
      while i < end, base[i] &- 0x30 < 10 {
        if written < 100_000 { written = written * 10 + Int(base[i] &- 0x30) }
        i += 1
      }
      exponent += exponentNegative ? -written : written
      inexact = inexact || written >= 100_000
    }
    guard i == end else { return .text }
    if !inexact, significand <= (1 << 53), exponent >= -22, exponent <= 22 {
      var value = Double(significand)
      if exponent < 0 {
        value /= powerOfTen(-exponent)
      } else {
        value *= powerOfTen(exponent)
      }
      return .number(negative ? -value : value)
    }
    return .number(slowPath(base, start, end))
  }

  /// `strtod` on a copy of the field (already checked to be decimal).
  private static func slowPath(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double {
    var text = [CChar](repeating: 0, count: end - start + 1)
    for k in start..<end { text[k - start] = CChar(bitPattern: base[k]) }
    return text.withUnsafeBufferPointer { buffer in
      guard let pointer = buffer.baseAddress else { return .nan }
      return strtod(pointer, nil)
    }
  }

  /// The missing-value spellings and infinities, else `.text`.
  private static func word(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> ParsedNumber {
    let count = end - start
    guard count <= 9 else { return .text }
    var lower: [UInt8] = []
    lower.reserveCapacity(count)
    for k in start..<end {
      let byte = base[k]
      lower.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
    }
    var negative = false
    var body = lower[...]
    if let first = body.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
      negative = first == UInt8(ascii: "-")
      body = body.dropFirst()
    }
    switch String(decoding: body, as: UTF8.self) {
    case "inf", "infinity": return .infinity(negative: negative)
    case "nan": return .missing
    default: break
    }
    switch String(decoding: lower, as: UTF8.self) {
    case "na", "n/a", "#n/a", "null", "none", "?": return .missing
    default: return .text
    }
  }
}

extension NumberParser {
  /// Parses a Swift string (for tests and small inputs).
  static func parse(_ text: String) -> ParsedNumber {
    var bytes = Array(text.utf8)
    bytes.append(0)
    return bytes.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return .missing }
      return parse(base, 0, buffer.count - 1)
    }
  }
}
