//===--- NumberText.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Every number the command prints goes through these: any `Double`, huge,
// tiny, infinite or NaN, has a text, and none of them converts a `Double`
// to an `Int` it may not fit.

extension String {
  /// `value` with `digits` decimals (`0.687641`, `-12.50`); a magnitude
  /// whose decimals a `Double` does not carry (from 2^53 / 10^digits up)
  /// in the shortest exponent form that reads back (`1e+22`); `inf`,
  /// `-inf` and `nan` as such. `digits` is clipped to 0...15.
  init(fixed value: Double, digits: Int) {
    guard value.isFinite else {
      self = String(exact: value)
      return
    }
    let digits = Swift.min(Swift.max(digits, 0), 15)
    var power = 1
    for _ in 0..<digits { power *= 10 }
    let scaled = (abs(value) * Double(power)).rounded()
    guard scaled < 0x1p53 else {
      self = String(exact: value)
      return
    }
    let whole = Int(scaled)  // exact: below 2^53
    let sign = value < 0 && whole != 0 ? "-" : ""
    guard digits > 0 else {
      self = "\(sign)\(whole)"
      return
    }
    var fraction = String(whole % power)
    while fraction.count < digits { fraction = "0" + fraction }
    self = "\(sign)\(whole / power).\(fraction)"
  }

  /// `value` as `m.de±x` with `digits` decimals in `m` (`3.2e-7`, `1.0e3`);
  /// `0`, `inf`, `-inf`, `nan` as such.
  init(scientific value: Double, digits: Int) {
    guard value.isFinite, value != 0 else {
      self = value == 0 ? "0" : String(exact: value)
      return
    }
    let magnitude = abs(value)
    var exponent = Int(Double.log10(magnitude).rounded(.down))
    // magnitude / 10^exponent, in two steps where 10^exponent is subnormal
    // or beyond Double.
    func mantissa(_ e: Int) -> Double {
      if e < -290 { return magnitude * 1e290 / Double.pow(10, Double(e + 290)) }
      if e > 290 { return magnitude / 1e290 / Double.pow(10, Double(e - 290)) }
      return magnitude / Double.pow(10, Double(e))
    }
    var m = mantissa(exponent)
    if m >= 10 {
      exponent += 1
      m = mantissa(exponent)
    } else if m < 1 {
      exponent -= 1
      m = mantissa(exponent)
    }
    var text = String(fixed: m, digits: digits)
    if text.hasPrefix("10") {  // rounded up to 10.0
      exponent += 1
      text = String(fixed: mantissa(exponent), digits: digits)
    }
    self = (value < 0 ? "-" : "") + text + "e\(exponent)"
  }

  /// The shortest text that reads back as the same `Double` (`0.1`,
  /// `1e+22`, `5e-324`), and `inf`, `-inf`, `nan`.
  init(exact value: Double) {
    if value.isNaN {
      self = "nan"
    } else if value.isInfinite {
      self = value < 0 ? "-inf" : "inf"
    } else {
      self = "\(value)"
    }
  }

  /// Left-padded to `width`.
  func padded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }

  /// Right-padded to `width`.
  func rightPadded(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}

/// `seconds` as `1.2s`, `3m04s`, `27h05m`; `?` when not finite or negative.
func formatDuration(_ seconds: Double) -> String {
  guard seconds.isFinite, seconds >= 0 else { return "?" }
  if seconds < 10 { return String(fixed: seconds, digits: 2) + "s" }
  if seconds < 60 { return String(fixed: seconds, digits: 1) + "s" }
  guard seconds < 1e12 else { return String(scientific: seconds, digits: 1) + "s" }
  let whole = Int(seconds.rounded())
  if whole >= 360_000 { return "\(whole / 3600)h" }
  let hours = whole / 3600
  let minutes = whole / 60 % 60
  let rest = whole % 60
  if hours > 0 { return "\(hours)h\(minutes < 10 ? "0" : "")\(minutes)m" }
  return "\(minutes)m\(rest < 10 ? "0" : "")\(rest)s"
}

/// `bytes` as "1.5 GiB", "12 MiB", "900 bytes".
func byteSize(_ bytes: Int) -> String {
  let units = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
  for (size, name) in units where bytes >= size {
    let value = (Double(bytes) / Double(size) * 10).rounded() / 10
    return "\(value) \(name)"
  }
  return "\(bytes) bytes"
}
