//===--- SplitMix64.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A tiny seeded random number generator (SplitMix64), so that every test
/// sees the same "random" data on every run and machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  /// Creates a generator from a seed.
  public init(seed: UInt64) { state = seed }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension Array where Element: BinaryFloatingPoint, Element.RawSignificand: FixedWidthInteger {
  /// `count` values uniform in `range`, from `generator`.
  public static func random(
    count: Int, in range: ClosedRange<Element>, using generator: inout SplitMix64
  ) -> [Element] {
    (0..<count).map { _ in Element.random(in: range, using: &generator) }
  }
}
