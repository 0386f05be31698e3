//===--- CatalogueTests.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

/// The catalogue of malformed and hostile inputs: the files in
/// `Fixtures/Malformed` (written by `Scripts/make_malformed_catalogue.py`)
/// and, in its `catalogue.json`, the command each one is given to, the
/// exit code and the first line of stderr the user must see, written by
/// hand.
@Suite("The malformed-input catalogue: each input gets its message and exit code, nothing written")
struct CatalogueTests {
  struct Case: Decodable, CustomStringConvertible, Sendable {
    var `case`: String
    var what: String
    var arguments: [String]
    var exit: Int32
    var stderr: String
    var description: String { `case` }
  }

  static let directory = repositoryRoot + "/Tests/SoftmaxCLITests/Fixtures/Malformed"

  static let cases: [Case] = {
    guard let data = FileManager.default.contents(atPath: directory + "/catalogue.json"),
      let cases = try? JSONDecoder().decode([Case].self, from: data)
    else { return [] }
    return cases
  }()

  @Test("the catalogue is there and holds at least 40 inputs")
  func catalogueSize() {
    #expect(Self.cases.count >= 40)
    #expect(Set(Self.cases.map(\.case)).count == Self.cases.count, "case names are unique")
  }

  @Test("each input: exit code, message, no file written", arguments: cases)
  func input(_ item: Case) throws {
    // A copy, so that a command that wrongly succeeds cannot write into
    // the source tree.
    let scratch = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    for name in try FileManager.default.contentsOfDirectory(atPath: Self.directory) {
      try FileManager.default.copyItem(
        atPath: Self.directory + "/" + name, toPath: scratch + "/" + name)
    }
    let before = try FileManager.default.contentsOfDirectory(atPath: scratch).sorted()
    let run = try softmax(item.arguments, in: scratch)
    #expect(run.status == item.exit, "\(run.stderr)")
    let firstLine = run.stderr.split(separator: "\n", omittingEmptySubsequences: false).first
    #expect(firstLine.map(String.init) == item.stderr)
    #expect(run.stdout.isEmpty, "nothing on stdout for a failure")
    let after = try FileManager.default.contentsOfDirectory(atPath: scratch).sorted()
    #expect(after == before, "no model, output or temporary file left behind")
  }
}
