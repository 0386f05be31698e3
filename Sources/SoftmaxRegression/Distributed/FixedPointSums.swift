//===--- FixedPointSums.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Sums of vectors of doubles that do not depend on the order of the
/// addends, nor on how they are split between processes: each addend is
/// rounded toward zero onto a fixed grid, `2^(e − 160)` for a coordinate
/// whose every partial sum stays below `2^e`, and the grid values are added
/// as integers, exactly.
///
/// A coordinate is five `Int64` limbs of 32-bit digits and a count of the
/// addends that were not finite or beyond the bound (its sum is then
/// infinite, on every process alike). Each digit limb has 31
/// bits to spare, so up to 2^31 addends (and processes' sums of them) add
/// without a carry, and a sum of `Int64`s in any order — MPI's
/// `MPI_SUM` of any tree — gives the same limbs. ``values()`` carries them
/// into canonical digits and rounds once to `Double`: the same integer
/// gives the same bits.
///
/// Error: an addend loses what lies below `2^(e − 160)`; with `e` from a
/// bound `B` on the coordinate's partial sums (`e ≈ log₂ B + 2`), the sum is
/// within `count · 2^(e − 160)` of the exact sum of the addends, far below
/// one ulp of any sum above `B · 2^-100`.
struct FixedPointSums: Sendable {
  /// Digit limbs per coordinate.
  static let digitCount = 5
  /// Limbs per coordinate: the digits and the count of bad addends.
  static let limbCount = 6
  /// The power of two every partial sum of each coordinate stays below.
  let exponents: [Int]
  /// The limbs, coordinate after coordinate, most significant first.
  var limbs: [Int64]

  /// Zero sums for coordinates bounded by `2^exponents[c]`.
  init(exponents: [Int]) {
    self.exponents = exponents
    limbs = [Int64](repeating: 0, count: exponents.count * Self.limbCount)
  }

  /// The exponent for a coordinate whose partial sums stay within
  /// `bound` in magnitude: `2^e > 2·bound` (0 for a zero bound).
  ///
  /// - Precondition: `bound` is finite and ≥ 0.
  static func exponent(bounding bound: Double) -> Int {
    precondition(bound.isFinite && bound >= 0, "a bound must be finite and ≥ 0, not \(bound)")
    return bound > 0 ? Int(bound.exponent) + 2 : 0
  }

  /// Adds `values` (one value per coordinate).
  mutating func add(_ values: UnsafePointer<Double>) {
    let count = exponents.count
    exponents.withUnsafeBufferPointer { exponents in
      limbs.withUnsafeMutableBufferPointer { limbs in
        for c in 0..<count {
          var m = Double(sign: .plus, exponent: -exponents[c], significand: 1) * values[c]
          let base = c * Self.limbCount
          guard abs(m) < 1 else {
            // Not finite, or beyond the bound: the sum is infinite.
            limbs[base + Self.digitCount] &+= 1
            continue
          }
          for l in 0..<Self.digitCount {
            m *= 0x1p32
            let digit = m.rounded(.towardZero)
            m -= digit
            limbs[base + l] &+= Int64(digit)
          }
        }
      }
    }
  }

  /// Adds another set of sums over the same coordinates.
  mutating func add(_ other: FixedPointSums) {
    precondition(other.exponents == exponents, "sums over other coordinates")
    for index in limbs.indices { limbs[index] &+= other.limbs[index] }
  }

  /// The sums as doubles: the limbs carried into canonical digits (a
  /// function of the integer alone), then added from the least
  /// significant digit up.
  func values() -> [Double] {
    let count = exponents.count
    var result = [Double](repeating: 0, count: count)
    for c in 0..<count {
      let base = c * Self.limbCount
      guard limbs[base + Self.digitCount] == 0 else {
        result[c] = .infinity
        continue
      }
      var digits = Array(limbs[base..<(base + Self.digitCount)])
      for l in stride(from: Self.digitCount - 1, to: 0, by: -1) {
        let carry = digits[l] >> 32
        digits[l] -= carry << 32
        digits[l - 1] += carry
      }
      var total = 0.0
      for l in stride(from: Self.digitCount - 1, through: 0, by: -1) {
        total +=
          Double(digits[l])
          * Double(sign: .plus, exponent: exponents[c] - 32 * (l + 1), significand: 1)
      }
      result[c] = total
    }
    return result
  }
}
