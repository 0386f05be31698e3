//===--- ProcessTests.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HummingbirdTesting
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `softmax-server` binary built beside the test bundle.
private let serverBinary: String = {
  let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  for directory in [bundle, bundle.deletingLastPathComponent()] {
    let candidate = directory.appendingPathComponent("softmax-server").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
  }
  return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path + "/.build/debug/softmax-server"
}()

/// A `softmax-server` process on a free port of loopback.
private final class RunningServer: @unchecked Sendable {
  let process = Process()
  let port: Int
  let errorPath: String

  init(model: String, directory: String) throws {
    process.executableURL = URL(fileURLWithPath: serverBinary)
    process.arguments = [model, "--port", "0"]
    let out = Pipe()
    process.standardOutput = out
    errorPath = directory + "/server-stderr.txt"
    FileManager.default.createFile(atPath: errorPath, contents: nil)
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    try process.run()
    var seen = ""
    let deadline = Date().addingTimeInterval(60)
    while !seen.contains("\n"), Date() < deadline {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      seen += String(decoding: chunk, as: UTF8.self)
    }
    guard let last = seen.split(separator: ":").last,
      let port = Int(last.trimmingCharacters(in: .whitespacesAndNewlines))
    else { throw ServerTestError("no port in \(seen)") }
    self.port = port
  }

  var stderr: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

  func signal(_ number: Int32) { kill(process.processIdentifier, number) }

  /// Waits up to `seconds` for the process to end; its exit status.
  func wait(seconds: Double) -> Int32? {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning, Date() < deadline { usleep(20_000) }
    guard !process.isRunning else {
      process.terminate()
      return nil
    }
    return process.terminationStatus
  }
}

struct ServerTestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// One connection's request: status and the classes of the answer.
private func predict(_ client: TestClient, rows: Int) async throws -> (Int, [String]) {
  let row = "[5.0, 3.3, 1.4, 0.2]"
  let body = "{\"rows\": [" + Array(repeating: row, count: rows).joined(separator: ",") + "]}"
  let response = try await client.execute(
    .init("/v1/predict", method: .post, body: ByteBuffer(string: body)))
  let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body ?? ByteBuffer()))
  let classes = (object as? [String: Any])?["classes"] as? [String] ?? []
  return (Int(response.status.code), classes)
}

@Suite("The server as a process: reload and shutdown under traffic", .serialized)
struct ProcessTests {
  @Test("SIGHUP under traffic: no request fails; a good file is served, a bad one refused")
  func reloadUnderTraffic() async throws {
    let directory = try scratch()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/model.json"
    let first = ["setosa", "versicolor", "virginica"]
    let second = ["A", "B", "C"]
    try writeModel(to: path, classes: first)
    let server = try RunningServer(model: path, directory: directory)
    defer { _ = server.wait(seconds: 0) }
    let stop = Date().addingTimeInterval(3)
    let results = try await withThrowingTaskGroup(of: [(Int, [String])].self) { group in
      for _ in 0..<4 {
        group.addTask {
          let client = TestClient(host: "127.0.0.1", port: server.port)
          client.connect()
          var seen: [(Int, [String])] = []
          while Date() < stop { seen.append(try await predict(client, rows: 20)) }
          try await client.shutdown()
          return seen
        }
      }
      group.addTask {
        try await Task.sleep(for: .milliseconds(600))
        try writeModel(to: path, classes: second)
        server.signal(SIGHUP)
        try await Task.sleep(for: .milliseconds(900))
        // A damaged file, replaced atomically: refused, the second model stays.
        try Data("{\"format\": \"swift-softmax-model\", \"version\": 1".utf8).write(
          to: URL(fileURLWithPath: path + ".bad"))
        _ = rename(path + ".bad", path)
        server.signal(SIGHUP)
        return []
      }
      var all: [(Int, [String])] = []
      for try await part in group { all += part }
      return all
    }
    #expect(results.count > 20, "\(results.count) requests")
    #expect(results.allSatisfy { $0.0 == 200 }, "\(results.filter { $0.0 != 200 }.prefix(3))")
    #expect(results.allSatisfy { $0.1 == first || $0.1 == second })
    #expect(results.contains { $0.1 == first } && results.contains { $0.1 == second })
    // Requests after the reloads get the second model, once reloaded.
    let client = TestClient(host: "127.0.0.1", port: server.port)
    client.connect()
    let (status, classes) = try await predict(client, rows: 1)
    #expect(status == 200 && classes == second)
    let model = try await client.execute(.init("/v1/model", method: .get))
    let description = try JSONSerialization.jsonObject(
      with: Data(buffer: model.body ?? ByteBuffer()))
    #expect((description as? [String: Any])?["reloads"] as? Int == 1)
    try await client.shutdown()
    #expect(server.stderr.contains("reloaded"), "\(server.stderr)")
    #expect(
      server.stderr.contains("reload failed, still serving the previous model"), "\(server.stderr)")
    server.signal(SIGTERM)
    #expect(server.wait(seconds: 20) == 0)
  }

  @Test("SIGTERM under traffic: the requests in flight are answered, then the server exits 0")
  func shutdownUnderTraffic() async throws {
    let directory = try scratch()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/model.json"
    try writeModel(to: path)
    let server = try RunningServer(model: path, directory: directory)
    // Eight connections, each sending one large request (5,000 rows);
    // SIGTERM while they are being read and answered.
    let answers = try await withThrowingTaskGroup(of: (Int, Date).self) { group in
      for _ in 0..<8 {
        group.addTask {
          let client = TestClient(host: "127.0.0.1", port: server.port)
          client.connect()
          let (status, _) = try await predict(client, rows: 5000)
          let answered = Date()
          try? await client.shutdown()
          return (status, answered)
        }
      }
      group.addTask {
        try await Task.sleep(for: .milliseconds(30))
        server.signal(SIGTERM)
        return (0, Date())
      }
      var answers: [(Int, Date)] = []
      for try await answer in group { answers.append(answer) }
      return answers
    }
    #expect(answers.filter { $0.0 != 0 }.map(\.0) == Array(repeating: 200, count: 8))
    // Some answers came after the signal: they were in flight when it came.
    let signal = try #require(answers.first { $0.0 == 0 }?.1)
    let late = answers.filter { $0.0 != 0 && $0.1 > signal }.count
    print("SIGTERM under traffic: \(late) of 8 answers after the signal")
    #expect(late > 0)
    #expect(server.wait(seconds: 30) == 0)
  }
}
