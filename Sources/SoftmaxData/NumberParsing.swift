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
/// spaces or tabs. Three paths, each correctly rounded:
/// - Clinger's: the significand fits in 2^53 and the power of ten is
///   within ±22 (both exact doubles, one operation rounds once);
/// - Eisel and Lemire's: the first 19 significant digits times a 128-bit
///   power of five (``eiselLemire(_:_:)``), for long significands such as
///   the 17 digits of a round-tripped double; when the digits go beyond
///   19, the truncated significand and its successor must round alike;
/// - the C library's `strtod` for what is left: subnormal results, and
///   products too near a rounding boundary to decide from 128 bits (about
///   one input in 2^70, and true halfway cases beyond 2^53).
/// Digits are read eight at a time (SWAR). Cost: O(length); about 12 ns a
/// small integer and 40 ns a field of 17 digits on one core of the
/// benchmark machine, the CSV scanning included
/// (`Benchmarks/compare_loading.py`, `SOFTMAX_THREADS=1`).
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

  /// Parses the bytes `[start, end)` of `base`: the whole field must be
  /// one number (blanks around it aside).
  static func parse(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> ParsedNumber {
    var start = start
    var end = end
    while start < end, base[start] == 0x20 || base[start] == 0x09 { start += 1 }
    while end > start, base[end - 1] == 0x20 || base[end - 1] == 0x09 { end -= 1 }
    if start == end { return .missing }
    guard let (value, stop) = scanNumber(base, start, end) else { return word(base, start, end) }
    return stop == end ? .number(value) : .text
  }

  /// 10^n for 0 ≤ n ≤ 8.
  private static let smallPowersOfTen: [UInt64] = [
    1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
  ]

  /// Digits from `i` (at most up to `limit`) into `value` (wrapping past
  /// 19 digits; the caller counts them); returns where they stop.
  ///
  /// Eight bytes at a time (SWAR): a mask of the bytes that are digits
  /// gives the length of the run among them, and the run's value comes
  /// from three multiplications, whatever its length.
  @inline(__always)
  private static func digits(
    _ base: UnsafePointer<UInt8>, _ i: Int, _ limit: Int, into value: inout UInt64
  ) -> Int {
    var i = i
    // At most two probes (sixteen digits: a double's); a longer run ends
    // byte by byte.
    var probes = 0
    while probes < 2 && limit - i >= 8 {
      probes += 1
      let bytes = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
      // Per byte, without carries between bytes: a digit is < 0x80,
      // ≥ 0x30 (+0x50 reaches 0x80) and < 0x3A (+0x46 stays below 0x80).
      let seven = bytes & 0x7F7F_7F7F_7F7F_7F7F
      let isDigit =
        ~bytes & (seven &+ 0x5050_5050_5050_5050) & ~(seven &+ 0x4646_4646_4646_4646)
        & 0x8080_8080_8080_8080
      let run = (~isDigit & 0x8080_8080_8080_8080).trailingZeroBitCount >> 3  // 0...8
      if run == 0 { return i }
      // The run's bytes are the low ones (the first in memory); a borrow
      // from a byte after them only reaches higher bytes. Shifting the run
      // to the top leaves zeros, leading zero digits, below it.
      let low = (bytes &- 0x3030_3030_3030_3030) << UInt64(64 - 8 * run)
      let pairs = (low &* 10 &+ (low >> 8)) & 0x00FF_00FF_00FF_00FF
      let quads = (pairs &* 100 &+ (pairs >> 16)) & 0x0000_FFFF_0000_FFFF
      value = value &* smallPowersOfTen[run] &+ ((quads &* 10_000 &+ (quads >> 32)) & 0xFFFF_FFFF)
      i += run
      if run < 8 { return i }
    }
    while i < limit, base[i] &- 0x30 < 10 {
      value = value &* 10 &+ UInt64(base[i] &- 0x30)
      i += 1
    }
    return i
  }

  /// Reads the longest decimal number `[+-]digits[.digits][(e|E)[+-]digits]`
  /// starting at `start` (not past `limit`), correctly rounded: its value
  /// and where it stops, or `nil` when there is no digit before the
  /// exponent. An `e` not followed by digits is not part of the number.
  @inline(__always)
  static func scanNumber(
    _ base: UnsafePointer<UInt8>, _ start: Int, _ limit: Int
  ) -> (value: Double, end: Int)? {
    var i = start
    var negative = false
    if i < limit, base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+") {
      negative = base[i] == UInt8(ascii: "-")
      i += 1
    }
    let mantissaStart = i
    var significand: UInt64 = 0
    // One digit before the point (most values between -10 and 10) is
    // taken as it is, without the eight-byte probe.
    if i + 1 < limit, base[i] &- 0x30 < 10, base[i + 1] == UInt8(ascii: ".") {
      significand = UInt64(base[i] &- 0x30)
      i += 1
    } else {
      i = digits(base, i, limit, into: &significand)
    }
    var digitCount = i - mantissaStart
    var exponent = 0
    if i < limit, base[i] == UInt8(ascii: ".") {
      let fractionStart = i + 1
      i = digits(base, fractionStart, limit, into: &significand)
      exponent = fractionStart - i
      digitCount += i - fractionStart
    }
    guard digitCount > 0 else { return nil }
    let mantissaEnd = i
    var clamped = false  // an exponent too long to hold
    if i < limit, base[i] | 0x20 == UInt8(ascii: "e") {
      var k = i + 1
      var exponentNegative = false
      if k < limit, base[k] == UInt8(ascii: "-") || base[k] == UInt8(ascii: "+") {
        exponentNegative = base[k] == UInt8(ascii: "-")
        k += 1
      }
      if k < limit, base[k] &- 0x30 < 10 {
        var written = 0
        while k < limit, base[k] &- 0x30 < 10 {
          if written < 100_000 { written = written * 10 + Int(base[k] &- 0x30) }
          k += 1
        }
        exponent += exponentNegative ? -written : written
        clamped = written >= 100_000
        i = k
      }
    }
    var truncated = false  // significant digits beyond the 19 kept
    if digitCount > 19 {
      // Leading zeros do not count; beyond 19 significant digits, keep 19.
      (significand, exponent, truncated) = longSignificand(
        base, mantissaStart, mantissaEnd, exponent: exponent)
    }
    let value = decimalToDouble(
      significand, exponent, truncated: truncated, clamped: clamped, base, mantissaStart, i)
    return (negative ? -value : value, i)
  }

  /// The first 19 significant digits of `[start, end)` (digits and at
  /// most one point), with the exponent moved to match, and whether a
  /// digit was dropped. `exponent` is the one for all fraction digits.
  private static func longSignificand(
    _ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, exponent: Int
  ) -> (UInt64, Int, Bool) {
    var significand: UInt64 = 0
    var kept = 0
    var dropped = 0  // digits after the 19 kept, point aside
    var sawPoint = false
    var fractionDigits = 0
    for k in start..<end {
      let byte = base[k]
      if byte == UInt8(ascii: ".") {
        sawPoint = true
        continue
      }
      if sawPoint { fractionDigits += 1 }
      if kept < 19 {
        if significand != 0 || byte != 0x30 {
          significand = significand * 10 + UInt64(byte - 0x30)
          kept += 1
        }
      } else {
        dropped += 1
      }
    }
    // exponent = written − fractionDigits; the value is
    // significand × 10^(written − fractionDigits + dropped).
    return (significand, exponent + dropped, dropped > 0)
  }

  /// `significand × 10^exponent` correctly rounded; `truncated` says
  /// digits were dropped, and then only an answer that the next
  /// significand shares is taken; `clamped`, that the exponent was too
  /// long to hold. `strtod` on the (unsigned) text `[start, end)` answers
  /// the rest.
  @inline(__always)
  private static func decimalToDouble(
    _ significand: UInt64, _ exponent: Int, truncated: Bool, clamped: Bool,
    _ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int
  ) -> Double {
    if !truncated, significand <= (1 << 53), exponent >= -22, exponent <= 22 {
      let value = Double(significand)
      return exponent < 0 ? value / powerOfTen(-exponent) : value * powerOfTen(exponent)
    }
    if significand == 0 { return 0 }
    if !clamped, let value = eiselLemire(significand, exponent) {
      if !truncated { return value }
      // The digits dropped put the value in [w, w + 1) × 10^q.
      if let above = eiselLemire(significand + 1, exponent), above == value { return value }
    }
    return slowPath(base, start, end)
  }

  /// `w × 10^q` correctly rounded to a double, or `nil` when 128 bits of
  /// `5^q` do not decide it (the caller then asks `strtod`). `w > 0`.
  ///
  /// Eisel and Lemire's method: with `w` shifted so that its top bit is
  /// set and `T` = 5^q to 128 bits (``powersOfFive``), the 192-bit
  /// product `w·T` holds the result's 53 bits, its rounding bit and the
  /// bits below. `T` is exact for 0 ≤ q ≤ 55 (so is the product, and
  /// ties round to even) and within one unit of its last bit otherwise,
  /// so the product is within 2^64 (2^65 after normalizing) of the true
  /// value: when the bits below the rounding bit are at least that far
  /// from all zeros and all ones, the true value rounds the same way and
  /// is no tie. Subnormal results are left to `strtod`.
  static func eiselLemire(_ w: UInt64, _ q: Int) -> Double? {
    if q < smallestPowerOfFive { return 0 }  // below half the least subnormal
    if q > largestPowerOfFive { return .infinity }
    let leadingZeros = w.leadingZeroBitCount
    let normalized = w << UInt64(leadingZeros)
    let index = 2 * (q - smallestPowerOfFive)
    let (a1, a0) = normalized.multipliedFullWidth(by: powersOfFive[index])
    let (b1, b0) = normalized.multipliedFullWidth(by: powersOfFive[index + 1])
    var (mid, carry) = a0.addingReportingOverflow(b1)
    var high = a1 &+ (carry ? 1 : 0)
    var low = b0
    var shifted = 0
    if high >> 63 == 0 {
      high = high << 1 | mid >> 63
      mid = mid << 1 | low >> 63
      low <<= 1
      shifted = 1
    }
    // The value is (high:mid:low) / 2^191 × 2^exponent.
    let exponent = ((217_706 * q) >> 16) + 64 - leadingZeros - shifted
    var mantissa = high >> 11  // 53 bits, the top one set
    let roundBit = high >> 10 & 1
    let below = high & 0x3FF  // with mid and low: the bits under the round bit
    let roundUp: Bool
    if q >= 0 && q <= 55 {
      let sticky = below != 0 || mid != 0 || low != 0
      roundUp = roundBit == 1 && (sticky || mantissa & 1 == 1)
    } else {
      // Decided when (below:mid) is neither within 2 of 0 nor of 2^74 - 1.
      if below == 0 && mid < 2 { return nil }
      if below == 0x3FF && mid > UInt64.max - 2 { return nil }
      roundUp = roundBit == 1
    }
    var biased = exponent + 1023  // the value is in [2^exponent, 2^(exponent + 1))
    if roundUp {
      mantissa += 1
      if mantissa == 1 << 53 {
        mantissa = 1 << 52
        biased += 1
      }
    }
    if biased <= 0 { return nil }
    if biased >= 0x7FF { return .infinity }
    return Double(bitPattern: UInt64(biased) << 52 | mantissa & ((1 << 52) - 1))
  }

  /// The decimal text `[start, end)` of `base`, which parses to `value`
  /// (correctly rounded to a double), correctly rounded to a `Float`.
  ///
  /// `Float(value)` rounds twice, and the two roundings differ from one
  /// only when `value` lands exactly on the midpoint between two floats
  /// while the decimal is not that midpoint (every float midpoint is a
  /// double, and rounding is monotonic: a decimal on one side of it
  /// rounds to a double on that side or onto it). That case, about one
  /// input in 2^29 of random 17-digit text, is given to the C library's
  /// `strtof`. Cost: a few operations more than `Float(value)`.
  @inline(__always)
  static func nearestFloat(
    _ value: Double, _ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int
  ) -> Float {
    let rounded = Float(value)
    let bits = value.bitPattern
    if (bits >> 52) & 0x7FF >= 1023 - 126 {
      // In the normal floats' range a midpoint has its 29 bits below the
      // float's 24 exactly 1000…0.
      if bits & 0x1FFF_FFFF != 0x1000_0000 { return rounded }
    } else {
      // Among the subnormal floats: compare with the neighbours.
      let back = Double(rounded)
      if back == value { return rounded }
      let neighbour = value > back ? rounded.nextUp : rounded.nextDown
      guard (back + Double(neighbour)) * 0.5 == value else { return rounded }
    }
    return cString(base, start, end) { strtof($0, nil) }
  }

  /// `strtod` on a copy of the field (already checked to be decimal).
  private static func slowPath(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double {
    cString(base, start, end) { strtod($0, nil) }
  }

  /// `body` on a NUL-terminated copy of the bytes `[start, end)` (ASCII:
  /// a number's syntax was checked), for the C library's parsers.
  private static func cString<R>(
    _ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ body: (UnsafePointer<CChar>) -> R
  ) -> R {
    String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
      .withCString(body)
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

/// Decimal text to `Double`, correctly rounded: the number parser of every
/// reader here, for other front ends that read numbers from bytes (the
/// prediction server's JSON).
public enum DecimalText {
  /// The value of the decimal number that is exactly `bytes`
  /// (`[+-]digits[.digits][(e|E)[+-]digits]`), correctly rounded to the
  /// nearest `Double` (`±inf` beyond its range, as `strtod`), or `nil` when
  /// the bytes are anything else (blanks around the number are allowed).
  ///
  /// - Complexity: O(length); about 20–40 ns for up to 17 digits (digits
  ///   eight at a time; Eisel–Lemire for long significands, `strtod` only
  ///   for the rare cases 128 bits cannot decide).
  public static func value(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    guard let base = bytes.baseAddress,
      case .number(let value) = NumberParser.parse(base, 0, bytes.count)
    else { return nil }
    return value
  }
}
