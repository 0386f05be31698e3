//===--- CLITestSupport.swift ---------------------------------*- swift -*-===//
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

/// The repository's root, from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The `softmax` binary that `swift test` built beside the test bundle.
let softmaxBinary: String = {
  let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  for directory in [bundle, bundle.deletingLastPathComponent()] {
    let candidate = directory.appendingPathComponent("softmax").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
  }
  return repositoryRoot + "/.build/debug/softmax"
}()

struct CommandResult {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// Runs `softmax` with `arguments` in `directory`, feeding `input`.
@discardableResult
func softmax(
  _ arguments: [String], in directory: String? = nil, input: String? = nil,
  environment: [String: String] = [:]
) throws -> CommandResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: softmaxBinary)
  process.arguments = arguments
  if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
  var env = ProcessInfo.processInfo.environment
  env["COLUMNS"] = "100"
  for (key, value) in environment { env[key] = value }
  process.environment = env
  let out = Pipe()
  let inPipe = Pipe()
  // stderr goes to a file, so that neither pipe can fill while the other
  // is read.
  let errPath = NSTemporaryDirectory() + "softmax-stderr-\(UUID().uuidString)"
  FileManager.default.createFile(atPath: errPath, contents: nil)
  defer { try? FileManager.default.removeItem(atPath: errPath) }
  let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
  process.standardOutput = out
  process.standardError = errHandle
  process.standardInput = inPipe
  try process.run()
  if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
  try inPipe.fileHandleForWriting.close()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  try errHandle.close()
  let errData = FileManager.default.contents(atPath: errPath) ?? Data()
  return CommandResult(
    status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs `softmax` with `arguments` in `directory`, sends it Ctrl-C
/// (SIGINT) once `marker` (its first progress line) is on stderr, and
/// waits for it to end.
func interruptedSoftmax(_ arguments: [String], in directory: String, after marker: String)
  throws -> CommandResult
{
  let process = Process()
  process.executableURL = URL(fileURLWithPath: softmaxBinary)
  process.arguments = arguments
  process.currentDirectoryURL = URL(fileURLWithPath: directory)
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  var seen = ""
  let deadline = Date().addingTimeInterval(120)
  while !seen.contains(marker), Date() < deadline {
    let chunk = err.fileHandleForReading.availableData
    if chunk.isEmpty { break }
    seen += String(decoding: chunk, as: UTF8.self)
  }
  kill(process.processIdentifier, SIGINT)
  let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  seen += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  return CommandResult(status: process.terminationStatus, stdout: stdout, stderr: seen)
}

/// A fresh empty directory.
func scratchDirectory() throws -> String {
  let path = NSTemporaryDirectory() + "softmax-cli-tests-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

func write(_ text: String, to path: String) throws {
  try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// The JSON object printed on stdout.
func jsonObject(_ text: String) throws -> [String: Any] {
  let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
  return try #require(object as? [String: Any])
}

let iris = repositoryRoot + "/Data/iris.csv"
let digits = repositoryRoot + "/Data/digits.csv"
