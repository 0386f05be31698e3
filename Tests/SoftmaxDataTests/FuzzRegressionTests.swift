//===--- FuzzRegressionTests.swift ----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxData
import Testing

/// Every input the fuzzer (`Fuzz/run.sh`) found to crash, hang or
/// allocate too much, kept in `Fixtures/FuzzRegressions` and read here
/// the ways the fuzz target reads it. Each must now end in its typed
/// error, quickly and in little memory.
@Suite("Fuzzer findings stay fixed")
struct FuzzRegressionTests {
  static let directory = Fixtures.path("FuzzRegressions")

  /// The finding's file name → the error it must now give. The name
  /// starts with the reader (`csv-`, `libsvm-`, `idx-`, `npy-`).
  static let expected: [String: DataError.Code] = [
    // Shape [4294967295, 0, …]: 0 values, so the size check passed, then
    // 4 billion empty rows looped (a timeout).
    "idx-zero-dimension-timeout": .empty,
    // `4294967296:2` in a 59-byte file: a dense matrix of 2^32 columns
    // was allocated (out of memory). The file also holds a NUL byte,
    // which the reader now refuses first (no text file has one).
    "libsvm-huge-index-oom": .invalidEncoding,
  ]

  @Test("every finding in the folder has its expected error here")
  func everyFindingListed() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory)
    #expect(Set(names) == Set(Self.expected.keys))
  }

  @Test("each finding gives its typed error", arguments: expected.keys.sorted())
  func finding(_ name: String) throws {
    let path = Self.directory + "/" + name
    let code = try #require(Self.expected[name])
    var format = LoadOptions()
    format.format = DataFormat(rawValue: String(name.prefix { $0 != "-" }))
    #expect(format.format != nil, "the name starts with the reader")
    #expect { try DataLoader.load(path, options: format, as: Double.self) } throws: { error in
      (error as? DataError)?.code == code
    }
    #expect { try DataLoader.load(path, options: format, as: Float.self) } throws: { error in
      (error as? DataError)?.code == code
    }
  }
}
