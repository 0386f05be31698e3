//===--- SplitMix64Tests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import Testing

@Suite("SplitMix64: seeded draws and shuffles")
struct SplitMix64Tests {
  /// The published SplitMix64 stream for seed 0 (the first outputs of the
  /// reference C code by Vigna): the generator is the algorithm it names.
  @Test("matches the reference stream")
  func referenceStream() {
    var generator = SplitMix64(seed: 0)
    #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
    #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    #expect(generator.next() == 0x06C4_5D18_8009_454F)
  }

  /// 60 000 draws below 6: each value's count within 5 standard
  /// deviations (√(n·p·(1−p)) ≈ 91) of 10 000, and never out of range.
  @Test("next(below:) is uniform and in range")
  func boundedDrawsAreUniform() {
    var generator = SplitMix64(seed: 5)
    var counts = [Int](repeating: 0, count: 6)
    for _ in 0..<60_000 {
      let value = generator.next(below: 6)
      #expect((0..<6).contains(value))
      counts[min(max(value, 0), 5)] += 1
    }
    for count in counts { #expect(abs(count - 10_000) <= 5 * 91, "\(counts)") }
    #expect(generator.next(below: 1) == 0)
  }

  /// Shuffles are permutations, all 6 orders of 3 elements about equally
  /// often (5σ), and the same for the same seed.
  @Test("shuffle is a uniform, reproducible permutation")
  func shuffleIsUniform() {
    var generator = SplitMix64(seed: 9)
    var counts: [[Int]: Int] = [:]
    for _ in 0..<60_000 {
      var order = [0, 1, 2]
      generator.shuffle(&order)
      counts[order, default: 0] += 1
    }
    #expect(counts.count == 6)
    for count in counts.values { #expect(abs(count - 10_000) <= 5 * 91, "\(counts)") }
    var a = SplitMix64(seed: 77)
    var b = SplitMix64(seed: 77)
    var first = Array(0..<1000)
    var second = first
    a.shuffle(&first)
    b.shuffle(&second)
    #expect(first == second)
    #expect(first.sorted() == Array(0..<1000))
    #expect(first != Array(0..<1000))
  }
}
