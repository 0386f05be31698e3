//===--- CrashSafetyTests.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Starts `softmax` without waiting for it; output is thrown away.
func startSoftmax(
  _ arguments: [String], in directory: String, environment: [String: String] = [:]
) throws -> Process {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: softmaxBinary)
  process.arguments = arguments
  process.currentDirectoryURL = URL(fileURLWithPath: directory)
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  process.standardOutput = FileHandle.nullDevice
  process.standardError = FileHandle.nullDevice
  try process.run()
  return process
}

func killHard(_ process: Process) {
  kill(process.processIdentifier, SIGKILL)
  process.waitUntilExit()
}

func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

/// The temporary files `AtomicFile` left beside `name` in `directory`.
func temporaries(of name: String, in directory: String) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
    .filter { $0.hasPrefix(".\(name).tmp-") }
}

@Suite("Crash safety: SIGKILL never leaves a torn file, and --resume finishes the job", .serialized)
struct CrashSafetyTests {
  /// SIGKILL at `points` moments spread over the write of `output`
  /// (slowed to 4 KiB per `pause` µs by the debug builds' fault
  /// injection): after each, `output` must hold exactly the old bytes or
  /// exactly the new ones.
  func killWhileWriting(
    _ arguments: [String], output: String, in directory: String, points: Int, pause: Int
  ) throws {
    let path = directory + "/" + output
    // The complete new file, from an undisturbed run.
    try softmax(arguments, in: directory)
    let new = try #require(contents(path))
    let old = Data("the old file, which must survive\n".utf8)
    let chunks = (new.count + 4095) / 4096
    #expect(chunks >= 5, "the file spans several writes")
    let window = Double(chunks * pause) / 1e6
    var tornTemporaries = 0
    var sawNew = 0
    for point in 0..<points {
      try old.write(to: URL(fileURLWithPath: path))
      let process = try startSoftmax(
        arguments, in: directory, environment: ["SOFTMAX_TEST_SLOW_WRITE": String(pause)])
      // Wait for the write to begin (its temporary file appears), then
      // kill at the point-th of `points` moments across it.
      let deadline = Date().addingTimeInterval(30)
      while temporaries(of: output, in: directory).isEmpty && process.isRunning
        && Date() < deadline
      {
        usleep(200)
      }
      usleep(UInt32(window * 1e6 * Double(point) / Double(points)))
      killHard(process)
      let after = contents(path)
      #expect(after == old || after == new, "kill \(point): a torn \(output)")
      if after == new { sawNew += 1 }
      for temporary in temporaries(of: output, in: directory) {
        let size = contents(directory + "/" + temporary)?.count ?? 0
        if size < new.count { tornTemporaries += 1 }
        try FileManager.default.removeItem(atPath: directory + "/" + temporary)
      }
    }
    // Evidence that the kills landed inside writes: half-written
    // temporaries were left (and the target was never one of them).
    #expect(tornTemporaries >= points / 2, "\(tornTemporaries) kills inside a write")
    #expect(sawNew < points, "some kills came before the rename")
  }

  @Test("killed while writing a predictions file")
  func predictions() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try softmax(["train", digits, "--quiet", "--max-iter", "5"], in: directory)
    try killWhileWriting(
      ["predict", "model.json", digits, "--proba", "--output", "out.csv"], output: "out.csv",
      in: directory, points: 16, pause: 1000)
  }

  @Test("killed while writing a model file")
  func model() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try killWhileWriting(
      ["train", digits, "--quiet", "--max-iter", "3", "--model", "m.json"], output: "m.json",
      in: directory, points: 12, pause: 8000)
  }

  /// Trains with a checkpoint after every iteration, killed `kills` times
  /// (each a little after a newer checkpoint than the last appeared),
  /// resuming each time, then finishes: the model must equal the
  /// uninterrupted run's, byte for byte.
  func killAndResume(_ options: [String], kills: Int) throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let base = ["train", digits, "--standardize", "--quiet"] + options
    try softmax(base + ["--model", "uninterrupted.json"], in: directory)
    let expected = try #require(contents(directory + "/uninterrupted.json"))
    let resumable = base + ["--model", "m.json", "--checkpoint", "ck.json", "--resume"]
    func checkpointIteration() -> Int? {
      guard let checkpoint = contents(directory + "/ck.json"),
        let object = try? JSONSerialization.jsonObject(with: checkpoint) as? [String: Any],
        let history = object["objective_history"] as? [Any]
      else { return nil }
      return history.count
    }
    var killedAfter: [Int] = []
    for round in 0..<kills {
      let before = checkpointIteration() ?? 0
      let process = try startSoftmax(resumable + ["--checkpoint-every", "1"], in: directory)
      let deadline = Date().addingTimeInterval(60)
      while process.isRunning && (checkpointIteration() ?? 0) <= before && Date() < deadline {
        usleep(1000)
      }
      usleep(UInt32(10_000 * (round + 1)))
      killHard(process)
      killedAfter.append(checkpointIteration() ?? 0)
    }
    let finish = try softmax(resumable.filter { $0 != "--quiet" }, in: directory)
    #expect(finish.status == 0, "\(finish.stderr)")
    #expect(finish.stderr.contains("resuming from ck.json, after "))
    #expect(contents(directory + "/m.json") == expected, "the resumed model differs")
    #expect(Set(killedAfter).count == kills, "killed after iterations \(killedAfter)")
  }

  @Test("L-BFGS killed three times with SIGKILL, resumed: the uninterrupted model")
  func resumeLBFGS() throws {
    try killAndResume([], kills: 3)
  }

  @Test("SGD with momentum killed twice, resumed: the uninterrupted model")
  func resumeSGD() throws {
    try killAndResume(
      ["--optimizer", "sgd", "--epochs", "30", "--batch-size", "32", "--momentum", "0.9"],
      kills: 2)
  }

  @Test("Ctrl-C saves a checkpoint; --resume finishes with the uninterrupted model")
  func interruptThenResume() throws {
    let directory = try scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let base = ["train", digits, "--standardize", "--optimizer", "adam", "--epochs", "150"]
    try softmax(base + ["--quiet", "--model", "uninterrupted.json"], in: directory)
    let resumable = base + ["--model", "m.json", "--checkpoint", "ck.json", "--resume"]
    // No --checkpoint-every: the checkpoint comes from Ctrl-C itself.
    let interrupted = try interruptedSoftmax(resumable, in: directory, after: "epoch 1/")
    #expect(interrupted.status == 130, "\(interrupted.stderr)")
    #expect(contents(directory + "/ck.json") != nil, "Ctrl-C saved the checkpoint")
    let finish = try softmax(resumable, in: directory)
    #expect(finish.status == 0)
    #expect(finish.stderr.contains("resuming from ck.json, after epoch "), "\(finish.stderr)")
    #expect(
      contents(directory + "/m.json") == contents(directory + "/uninterrupted.json"),
      "the resumed model differs")
  }
}
