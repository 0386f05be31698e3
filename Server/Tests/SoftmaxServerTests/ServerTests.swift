//===--- ServerTests.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Hummingbird
import HummingbirdTesting
import SoftmaxCore
import SoftmaxRegression
import Testing

@testable import SoftmaxServer

/// Iris-like data: 4 named features, 3 classes, 30 rows.
func trainingData() -> (Matrix<Double>, [Int]) {
  var rows: [[Double]] = []
  var labels: [Int] = []
  for i in 0..<30 {
    let c = i % 3
    let t = Double(i) / 30
    rows.append([
      4.8 + Double(c) + t, 3.2 - 0.4 * Double(c) + t / 2, 1.4 + 2 * Double(c) - t,
      0.2 + Double(c) * 0.8,
    ])
    labels.append(c)
  }
  return (Matrix(rows), labels)
}

/// A model of 4 named features and 3 classes, written to `path`.
@discardableResult
func writeModel(
  to path: String, classes: [String] = ["setosa", "versicolor", "virginica"],
  temperature: Double = 1
) throws -> SoftmaxClassifier {
  let (features, labels) = trainingData()
  var options = TrainingOptions()
  options.standardize = true
  options.lbfgs.maxIterations = 50
  var model = try SoftmaxClassifier.fit(
    features: features, labels: labels, classes: classes,
    featureNames: ["sepal_length", "sepal_width", "petal_length", "petal_width"], options: options)
  model.temperature = temperature
  let bytes = try ModelFile.encode(model)
  let temporary = path + ".tmp"
  try Data(bytes).write(to: URL(fileURLWithPath: temporary))
  // Replaced atomically, as softmax train writes.
  guard rename(temporary, path) == 0 else { throw ServerError("rename failed") }
  return model
}

func scratch() throws -> String {
  let path = NSTemporaryDirectory() + "softmax-server-tests-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

func json(_ buffer: ByteBuffer) throws -> [String: Any] {
  try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
}

@Suite("The JSON API over HTTP (a live server on loopback)")
struct APITests {
  private func withServer(
    maximumRows: Int = 100, maximumBodyBytes: Int = 1 << 16, textModel: Bool = false,
    _ body: @Sendable (any TestClientProtocol, SoftmaxClassifier) async throws -> Void
  ) async throws {
    let directory = try scratch()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/model.json"
    let model: SoftmaxClassifier
    if textModel {
      model = try SoftmaxClassifier.fit(
        documents: [
          "rain and wind tonight", "sunny and warm", "the match ended in a draw",
          "a goal in the last minute", "heavy rain tomorrow", "the striker scored twice",
        ], labels: [["weather"], ["weather"], ["sport"], ["sport"], ["weather"], ["sport"]])
      try Data(ModelFile.encode(model)).write(to: URL(fileURLWithPath: path))
    } else {
      model = try writeModel(to: path, temperature: 1.5)
    }
    let store = try ModelStore(path: path)
    let configuration = ServerConfiguration(
      host: "127.0.0.1", port: 0, maximumBodyBytes: maximumBodyBytes, maximumRows: maximumRows)
    let app = PredictionServer.application(store: store, configuration: configuration)
    try await app.test(.live) { client in try await body(client, model) }
  }

  private func post(_ client: any TestClientProtocol, _ body: String) async throws -> (
    Int, [String: Any]
  ) {
    try await client.execute(
      uri: "/v1/predict", method: .post, headers: [.contentType: "application/json"],
      body: ByteBuffer(string: body)
    ) { response in
      (response.status.code, try json(response.body))
    }
  }

  private struct Answer: Decodable {
    struct Prediction: Decodable {
      var label: String
      var probabilities: [Double]
    }
    var predictions: [Prediction]
  }

  private func rawPost(_ client: any TestClientProtocol, _ body: String) async throws -> String {
    try await client.execute(
      uri: "/v1/predict", method: .post, body: ByteBuffer(string: body)
    ) { response in String(buffer: response.body) }
  }

  @Test("rows as numbers and by name, top-k: the library's probabilities and labels")
  func predict() async throws {
    try await withServer { client, model in
      let rows: [[Double]] = [[5.0, 3.3, 1.4, 0.2], [6.9, 2.9, 3.2, 1.1], [7.9, 2.6, 5.3, 1.8]]
      let text = "{\"rows\": \(rows), \"top_k\": 2}"
      let (status, answer) = try await post(client, text)
      #expect(status == 200)
      #expect(answer["classes"] as? [String] == model.classes)
      let predictions = try #require(answer["predictions"] as? [[String: Any]])
      let expected = try model.probabilities(Matrix(rows))
      #expect(predictions.map { $0["label"] as? String } == (try model.predict(Matrix(rows))))
      // Written in the shortest form that reads back: the same bits
      // (read with JSONDecoder; JSONSerialization's numbers can be an ulp
      // off).
      let decoded = try JSONDecoder().decode(
        Answer.self, from: Data((try await rawPost(client, text)).utf8))
      for i in 0..<rows.count {
        #expect(decoded.predictions[i].probabilities == Array(expected.row(i)))
      }
      for prediction in predictions {
        let top = try #require(prediction["top_k"] as? [[String: Any]])
        #expect(top.count == 2)
        #expect(top[0]["label"] as? String == prediction["label"] as? String)
      }
      // The same rows by name, in any order of keys.
      let named = rows.map { row in
        "{\"petal_width\": \(row[3]), \"sepal_length\": \(row[0]), \"petal_length\": \(row[2]), \"sepal_width\": \(row[1])}"
      }
      let (namedStatus, namedAnswer) = try await post(
        client, "{\"rows\": [\(named.joined(separator: ","))]}")
      #expect(namedStatus == 200)
      let namedPredictions = try #require(namedAnswer["predictions"] as? [[String: Any]])
      #expect(
        namedPredictions.map { $0["probabilities"] as? [Double] }
          == predictions.map { $0["probabilities"] as? [Double] })
      #expect(namedPredictions[0]["top_k"] == nil)
    }
  }

  @Test("GET /v1/model and /healthz")
  func modelAndHealth() async throws {
    try await withServer { client, model in
      try await client.execute(uri: "/v1/model", method: .get) { response in
        #expect(response.status == .ok)
        let description = try json(response.body)
        #expect(description["classes"] as? [String] == model.classes)
        #expect(description["feature_count"] as? Int == 4)
        #expect((description["feature_names"] as? [String])?.first == "sepal_length")
        #expect(description["format_version"] as? Int == 3)
        #expect((description["calibration"] as? [String: Any])?["temperature"] as? Double == 1.5)
        #expect(description["reloads"] as? Int == 0)
      }
      try await client.execute(uri: "/healthz", method: .get) { response in
        #expect(response.status == .ok)
        let status = try json(response.body)["status"] as? String
        #expect(status == "ok")
      }
    }
  }

  @Test("every kind of bad request: JSON error with status, message, row and field")
  func badRequests() async throws {
    try await withServer(maximumRows: 5, maximumBodyBytes: 4096) { client, _ in
      let cases: [(String, Int, Int?, String?, String)] = [
        ("{\"rows\": [[1, 2", 400, nil, nil, "not JSON"),
        ("[1, 2, 3]", 400, nil, nil, "must be a JSON object"),
        ("{}", 422, nil, nil, "needs \"rows\""),
        ("{\"rows\": []}", 422, nil, nil, "no rows"),
        ("{\"rows\": [[1, 2, 3, 4], [1, 2, 3]]}", 422, 1, nil, "row 1 has 3 values"),
        ("{\"rows\": [[1, 2, null, 4]]}", 422, 0, "2", "value 2 is null"),
        ("{\"rows\": [[1, 2, 3, 4], [1, \"x\", 3, 4]]}", 422, 1, "1", "rows[1][1]: not a number"),
        ("{\"rows\": [\"a\"]}", 422, 0, nil, "rows[0]"),
        (
          "{\"rows\": [{\"sepal_length\": 1, \"sepal_width\": 2, \"petal_length\": 3}]}", 422, 0,
          "petal_width", "is missing"
        ),
        (
          "{\"rows\": [{\"sepal_length\": 1, \"sepal_width\": 2, \"petal_length\": 3, \"petal_width\": 4, \"colour\": 1}]}",
          422, 0, "colour", "not one of the model's features"
        ),
        ("{\"rows\": [[1, 2, 3, 4]], \"top_k\": 0}", 422, nil, "top_k", "at least 1"),
        ("{\"documents\": [\"some text\"]}", 422, nil, "documents", "not trained on text"),
        (
          "{\"rows\": [[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4]]}", 413, nil,
          nil,
          "at most 5"
        ),
        (
          "{\"rows\": [[" + String(repeating: "1,", count: 3000) + "1]]}", 413, nil, nil,
          "over 4096 bytes"
        ),
      ]
      for (body, status, row, field, message) in cases {
        let (code, answer) = try await post(client, body)
        let error = try #require(answer["error"] as? [String: Any], "\(body.prefix(40))")
        #expect(code == status, "\(body.prefix(60)): \(answer)")
        #expect(error["status"] as? Int == status)
        #expect(error["row"] as? Int == row, "\(body.prefix(60)): \(answer)")
        #expect(error["field"] as? String == field, "\(body.prefix(60)): \(answer)")
        #expect(
          (error["message"] as? String ?? "").contains(message), "\(body.prefix(60)): \(answer)")
      }
      try await client.execute(uri: "/v1/other", method: .get) { response in
        #expect(response.status == .notFound)
        let error = try json(response.body)["error"] as? [String: Any]
        #expect(error?["status"] as? Int == 404)
      }
      try await client.execute(uri: "/v1/predict", method: .get) { response in
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "POST")
      }
    }
  }

  @Test("a model of text takes documents")
  func documents() async throws {
    try await withServer(textModel: true) { client, model in
      let documents = ["rain again tonight", "what a goal"]
      let (status, answer) = try await post(
        client, "{\"documents\": [\"rain again tonight\", \"what a goal\"], \"top_k\": 1}")
      #expect(status == 200)
      let predictions = try #require(answer["predictions"] as? [[String: Any]])
      #expect(
        predictions.map { $0["label"] as? String }
          == (try model.predict(model.features(documents: documents))))
      let (rowsStatus, _) = try await post(client, "{\"rows\": [[1, 2]]}")
      #expect(rowsStatus == 422)
    }
  }
}

@Suite("Rows of numbers read directly")
struct NumericRowsTests {
  private struct Body: Decodable {
    var rows: [[Double]]
    var topK: Int?

    enum CodingKeys: String, CodingKey {
      case rows
      case topK = "top_k"
    }
  }

  @Test("the same values as JSONDecoder, whatever the spacing and spelling of the numbers")
  func sameAsDecoder() throws {
    let bodies = [
      "{\"rows\": [[1, 2.5], [-0.0, 1e5]]}",
      " { \"top_k\" : 2 ,\n\t\"rows\" : [ [ 0.1 , 123456789012345678901234567890 ] ] } ",
      "{\"rows\":[[1E-7,-3.14159265358979323846],[2.2250738585072014e-308,5e-324]],\"top_k\":1}",
      "{\"rows\": [[0.30000000000000004, 9007199254740993]]}",
    ]
    for body in bodies {
      let fast = try #require(NumericRows(Array(body.utf8), columns: 2), "\(body)")
      let decoded = try JSONDecoder().decode(Body.self, from: Data(body.utf8))
      #expect(
        fast.values.map(\.bitPattern) == decoded.rows.flatMap { $0 }.map(\.bitPattern), "\(body)")
      #expect(fast.rows == decoded.rows.count)
      #expect(fast.topK == decoded.topK)
    }
  }

  @Test("anything else is left to JSONDecoder: other keys, names, null, JSON it rejects, lengths")
  func leftToDecoder() {
    let bodies = [
      "{\"rows\": [[1, 2]], \"extra\": 1}", "{\"rows\": [{\"a\": 1, \"b\": 2}]}",
      "{\"rows\": [[1, null]]}", "{\"rows\": [[01, 2]]}", "{\"rows\": [[+1, 2]]}",
      "{\"rows\": [[1., 2]]}", "{\"rows\": [[.5, 2]]}", "{\"rows\": [[1, 2, 3]]}",
      "{\"rows\": [[1, 2]]", "{\"rows\": [[1, 2]]} x", "{\"rows\": []}",
      "{\"ro\\u0077s\": [[1, 2]]}",
      "{\"rows\": [[1, 2]], \"rows\": [[3, 4]]}", "{\"rows\": [[1e999, 2]]}",
      "{\"rows\": [[1, 2]], \"top_k\": 1.5}",
      "{}", "[]", "",
    ]
    for body in bodies {
      #expect(NumericRows(Array(body.utf8), columns: 2) == nil, "\(body)")
    }
  }
}
