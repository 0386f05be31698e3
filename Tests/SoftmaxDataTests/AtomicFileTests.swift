//===--- AtomicFileTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression
import Testing

/// A fresh empty directory under the system's temporary directory.
func temporaryDirectory() throws -> String {
  let path = NSTemporaryDirectory() + "swift-softmax-tests-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

@Suite("AtomicFile: whole or not at all")
struct AtomicFileTests {
  @Test("writes, replaces and reads back, leaving no temporary file")
  func writeReplaceRead() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/model.json"
    let first = Array("first version\n".utf8)
    let second = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    try AtomicFile.write(first, to: path)
    #expect(try AtomicFile.read(path) == first)
    try AtomicFile.write(second, to: path)
    #expect(try AtomicFile.read(path) == second)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.json"])
  }

  /// A new file gets 0666 less the umask, as `open` would give it; a
  /// replaced file keeps the mode it had.
  @Test("new files get the usual mode; replaced files keep theirs")
  func fileModes() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/out.csv"
    try AtomicFile.write([1, 2, 3], to: path)
    let mask = umask(0o022)
    umask(mask)
    let created = try FileManager.default.attributesOfItem(atPath: path)
    #expect((created[.posixPermissions] as? Int) == Int(0o666 & ~mask))
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    try AtomicFile.write([4, 5], to: path)
    let replaced = try FileManager.default.attributesOfItem(atPath: path)
    #expect((replaced[.posixPermissions] as? Int) == 0o600)
  }

  /// When the final rename fails (the target is a directory), the error
  /// names the path, the target is untouched and the temporary file is
  /// gone.
  @Test("a failed replace leaves the target as it was and no temporary file")
  func failedReplaceLosesNothing() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let target = directory + "/occupied"
    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
    try AtomicFile.write([9], to: target + "/inside")
    #expect {
      try AtomicFile.write(Array("new".utf8), to: target)
    } throws: { error in
      guard let error = error as? DataError else { return false }
      return error.code == .io && error.path == target && error.description.hasPrefix(target)
    }
    #expect(try AtomicFile.read(target + "/inside") == [9])
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["occupied"])
  }

  @Test("a missing directory or file is an error naming the path")
  func missingPaths() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let nowhere = directory + "/no/such/dir/model.json"
    #expect(throws: DataError.self) { try AtomicFile.write([1], to: nowhere) }
    do {
      _ = try AtomicFile.read(directory + "/absent.csv")
      Issue.record("reading a missing file succeeded")
    } catch {
      #expect(error.path == directory + "/absent.csv")
      #expect(error.message.contains("No such file"))
    }
  }

  /// The model file goes through AtomicFile and back bit for bit.
  @Test("a trained model survives a write and a read")
  func modelRoundTrip() throws {
    let features = Matrix<Double>([[0, 1], [1, 0], [1, 1], [0, 0], [2, 1], [1, 2]])
    var options = TrainingOptions()
    options.l2 = 0.1
    let model = try SoftmaxClassifier.fit(
      features: features, labels: [0, 1, 2, 0, 1, 2], classes: ["a", "b", "c"], options: options)
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/model.json"
    try AtomicFile.write(ModelFile.encode(model), to: path)
    let loaded = try ModelFile.decode(AtomicFile.read(path))
    #expect(loaded.parameters == model.parameters)
    #expect(loaded.classes == model.classes)
  }
}
