//===--- Main.swift (softmax-server) --------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Dispatch
import Foundation
import Hummingbird
import SoftmaxServer

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct SoftmaxServerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "softmax-server",
    abstract: "Serve a softmax model over HTTP/1.1 with a JSON API.",
    discussion: """
      POST /v1/predict  {"rows": [[x1, ..., xd], ...]} or {"rows": [{"name": x, ...}]} or \
      {"documents": ["text", ...]} (a model of text), optionally "top_k": K; answers \
      {"classes": [...], "predictions": [{"label", "probabilities": [...], "top_k": [...]}]}.
      GET /v1/model     classes, features, format version, hidden layers, temperature.
      GET /healthz      {"status":"ok"}.
      Errors are JSON: {"error": {"status", "message", "row", "field"}}.

      SIGHUP reads the model file again (replace it atomically, e.g. with softmax train, \
      which writes whole files): requests in flight finish with the old model, later ones \
      get the new; a file that does not read is reported on stderr and the old model keeps \
      serving. SIGTERM or SIGINT stops accepting connections and finishes the requests in \
      flight, then exits 0.

      Examples:
        softmax-server model.json --port 8080
        curl -s localhost:8080/v1/predict -d '{"rows": [[5.1, 3.5, 1.4, 0.2]], "top_k": 2}'
      """)

  @Argument(help: "The model file (from softmax train or softmax calibrate).")
  var model: String

  @Option(help: "The address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "The port (0: any free port, printed at start).")
  var port = 8080

  @Option(name: .customLong("max-body-bytes"), help: "The largest request body, in bytes.")
  var maximumBodyBytes = 16 << 20

  @Option(name: .customLong("max-rows"), help: "The most rows or documents in one request.")
  var maximumRows = 10_000

  func validate() throws {
    guard (0...65535).contains(port) else {
      throw ValidationError("--port must be in 0...65535, not \(port)")
    }
    guard maximumBodyBytes >= 1 else {
      throw ValidationError("--max-body-bytes must be at least 1, not \(maximumBodyBytes)")
    }
    guard maximumRows >= 1 else {
      throw ValidationError("--max-rows must be at least 1, not \(maximumRows)")
    }
  }

  func run() async throws {
    let store: ModelStore
    do {
      store = try ModelStore(path: model)
    } catch {
      FileHandle.standardError.write("softmax-server: \(error)\n")
      throw ExitCode(1)
    }
    // SIGHUP: read the model again, in the background.
    signal(SIGHUP, SIG_IGN)
    let hangUp = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
    hangUp.setEventHandler {
      do {
        let state = try store.reload()
        FileHandle.standardError.write(
          "softmax-server: reloaded \(store.path) (format version \(state.formatVersion), \(state.model.classCount) classes; reload \(state.reloads))\n"
        )
      } catch {
        FileHandle.standardError.write(
          "softmax-server: reload failed, still serving the previous model: \(error)\n")
      }
    }
    hangUp.resume()
    let configuration = ServerConfiguration(
      host: host, port: port, maximumBodyBytes: maximumBodyBytes, maximumRows: maximumRows)
    let application = PredictionServer.application(store: store, configuration: configuration) {
      port in
      print("softmax-server: listening on http://\(host):\(port)")
      fflush(nil)
    }
    try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    hangUp.cancel()
    print("softmax-server: stopped")
  }
}

extension FileHandle {
  fileprivate func write(_ text: String) { write(Data(text.utf8)) }
}
