//===--- SplitMix64.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A small seeded random number generator (SplitMix64, Steele, Lea &
/// Flood 2014): the same seed gives the same 64-bit stream on every
/// machine, platform and Swift version. Used for shuffling and splits in
/// training, and for reproducible test data.
///
/// Cost: a few integer operations per value. Not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
  /// The generator's whole state: `SplitMix64(seed: g.state)` continues
  /// `g`'s stream exactly (how a training checkpoint saves a shuffle).
  public private(set) var state: UInt64

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

  /// A value uniform in `0..<upperBound`, by Lemire's multiply-and-reject
  /// method: unbiased, and fixed by the seed (unlike the standard
  /// library's `random(in:using:)`, whose algorithm may change).
  ///
  /// - Precondition: `upperBound > 0`.
  public mutating func next(below upperBound: Int) -> Int {
    precondition(upperBound > 0, "upper bound \(upperBound) must be positive")
    let bound = UInt64(upperBound)
    var product = next().multipliedFullWidth(by: bound)
    if product.low < bound {
      let threshold = (0 &- bound) % bound
      while product.low < threshold {
        product = next().multipliedFullWidth(by: bound)
      }
    }
    return Int(product.high)
  }

  /// Shuffles `elements` in place (Fisher–Yates with ``next(below:)``):
  /// every permutation equally likely, the same one for the same seed
  /// everywhere. Cost: `n − 1` draws.
  public mutating func shuffle<C: MutableCollection & RandomAccessCollection>(
    _ elements: inout C
  ) {
    var remaining = elements.count
    var position = elements.startIndex
    while remaining > 1 {
      let offset = next(below: remaining)
      elements.swapAt(position, elements.index(position, offsetBy: offset))
      elements.formIndex(after: &position)
      remaining -= 1
    }
  }
}
