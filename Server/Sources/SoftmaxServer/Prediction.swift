//===--- Prediction.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
public import SoftmaxRegression

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A request that cannot be answered: its HTTP status, a message, and the
/// row (0-based) and field at fault when there is one. Written as
/// `{"error": {"status", "message", "row", "field"}}`.
public struct RequestError: Error, Sendable, Hashable {
  /// The HTTP status code (400, 404, 405, 413, 415, 422).
  public var status: Int
  /// What is wrong.
  public var message: String
  /// The row of `rows` or `documents`, when one is at fault.
  public var row: Int?
  /// The field of that row (a feature name or a 0-based position).
  public var field: String?

  /// An error.
  public init(status: Int, _ message: String, row: Int? = nil, field: String? = nil) {
    self.status = status
    self.message = message
    self.row = row
    self.field = field
  }

  /// The JSON body.
  public var json: [UInt8] {
    var out = JSONWriter()
    out.raw("{\"error\":{\"status\":")
    out.raw(String(status))
    out.raw(",\"message\":")
    out.string(message)
    out.raw(",\"row\":")
    if let row { out.raw(String(row)) } else { out.raw("null") }
    out.raw(",\"field\":")
    if let field { out.string(field) } else { out.raw("null") }
    out.raw("}}\n")
    return out.bytes
  }
}

/// What `POST /v1/predict` takes: `{"rows": [[x₁, …, x_d], …]}` (numbers in
/// the model's feature order), `{"rows": [{"name": x, …}, …]}` (named
/// features: every one of the model's, no other), or
/// `{"documents": ["text", …]}` for a model of text; and optionally
/// `"top_k": K`.
struct PredictRequest: Decodable {
  var rows: [Row]?
  var documents: [String]?
  var topK: Int?

  enum CodingKeys: String, CodingKey {
    case rows, documents
    case topK = "top_k"
  }

  /// One row: numbers in order, or numbers by feature name. A `null`
  /// value is kept to be named in the error.
  enum Row: Decodable {
    case values([Double?])
    case named([String: Double?])

    init(from decoder: any Decoder) throws {
      guard var array = try? decoder.unkeyedContainer() else {
        self = .named(try [String: Double?](from: decoder))
        return
      }
      // Element by element, so that an error names its position.
      var values: [Double?] = []
      values.reserveCapacity(array.count ?? 0)
      while !array.isAtEnd {
        values.append(try array.decodeNil() ? nil : try array.decode(Double.self))
      }
      self = .values(values)
    }
  }
}

/// Answers prediction requests with a model: parses, checks, predicts,
/// and writes the JSON answer.
public struct Predictor: Sendable {
  /// The most rows (or documents) one request may hold.
  public var maximumRows: Int

  /// A predictor taking at most `maximumRows` rows a request.
  public init(maximumRows: Int) {
    self.maximumRows = maximumRows
  }

  /// The answer to the JSON `body` with `model`:
  /// `{"classes": [...], "predictions": [{"label", "probabilities": [k
  /// numbers, in class order], "top_k": [{"label", "probability"}]}]}`
  /// (`top_k` only when the request asks for it).
  ///
  /// - Throws: ``RequestError`` naming the row and field at fault: JSON
  ///   that does not parse (400), neither `rows` nor `documents`, a row of
  ///   the wrong length, a missing, unknown or `null` feature, documents
  ///   for a model that does not read text (422), more than
  ///   ``maximumRows`` rows (413).
  public func answer(_ body: [UInt8], model: SoftmaxClassifier) throws(RequestError) -> [UInt8] {
    let k = model.classCount
    // The usual request, rows of numbers, read directly; anything else
    // (and every error) through JSONDecoder.
    if model.text == nil, let fast = NumericRows(body, columns: model.featureCount) {
      try checkCount(fast.rows)
      let topK = try fast.topK.map { value throws(RequestError) -> Int in
        guard value >= 1 else {
          throw RequestError(status: 422, "top_k must be at least 1, not \(value)", field: "top_k")
        }
        return min(value, k)
      }
      let features = Matrix(rows: fast.rows, columns: model.featureCount, elements: fast.values)
      do {
        return Self.write(try model.probabilities(features), classes: model.classes, topK: topK)
      } catch {
        throw RequestError(status: 422, error.message, row: error.location?.row)
      }
    }
    let request: PredictRequest
    do {
      request = try JSONDecoder().decode(PredictRequest.self, from: Data(body))
    } catch let error as DecodingError {
      throw Self.requestError(error)
    } catch {
      throw RequestError(status: 400, "the body is not JSON: \(error)")
    }
    let topK = try request.topK.map { value throws(RequestError) -> Int in
      guard value >= 1 else {
        throw RequestError(status: 422, "top_k must be at least 1, not \(value)", field: "top_k")
      }
      return min(value, k)
    }
    let probabilities: Matrix<Double>
    do {
      if let documents = request.documents {
        guard request.rows == nil else {
          throw RequestError(status: 422, "give rows or documents, not both")
        }
        try checkCount(documents.count)
        guard model.text != nil else {
          throw RequestError(
            status: 422,
            "this model was not trained on text: send \"rows\" of \(model.featureCount) numbers",
            field: "documents")
        }
        probabilities = try model.probabilities(model.features(documents: documents))
      } else if let rows = request.rows {
        try checkCount(rows.count)
        probabilities = try model.probabilities(try features(rows, model: model))
      } else {
        throw RequestError(
          status: 422,
          model.text == nil
            ? "the body needs \"rows\": [[\(model.featureCount) numbers], ...]"
            : "the body needs \"documents\": [\"text\", ...]")
      }
    } catch let error as RequestError {
      throw error
    } catch let error as TrainingError {
      throw RequestError(status: 422, error.message, row: error.location?.row)
    } catch {
      throw RequestError(status: 500, "\(error)")
    }
    return Self.write(probabilities, classes: model.classes, topK: topK)
  }

  private func checkCount(_ count: Int) throws(RequestError) {
    guard count <= maximumRows else {
      throw RequestError(
        status: 413, "\(count) rows in one request; at most \(maximumRows) (--max-rows)")
    }
    guard count > 0 else { throw RequestError(status: 422, "no rows to predict") }
  }

  /// The rows as an `n × d` matrix, in the model's feature order.
  private func features(_ rows: [PredictRequest.Row], model: SoftmaxClassifier) throws(RequestError)
    -> Matrix<Double>
  {
    let d = model.featureCount
    var elements: [Double] = []
    elements.reserveCapacity(rows.count * d)
    var index: [String: Int]? = nil
    for (r, row) in rows.enumerated() {
      switch row {
      case .values(let values):
        guard values.count == d else {
          throw RequestError(
            status: 422, "row \(r) has \(values.count) values; the model has \(d) features",
            row: r)
        }
        for (c, value) in values.enumerated() {
          guard let value else {
            throw RequestError(
              status: 422, "row \(r): value \(c) is null", row: r, field: String(c))
          }
          elements.append(value)
        }
      case .named(let named):
        guard let names = model.featureNames else {
          throw RequestError(
            status: 422,
            "row \(r) names its features, but the model has no feature names: send \(d) numbers in order",
            row: r)
        }
        if index == nil {
          index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        }
        if let unknown = named.keys.sorted().first(where: { index?[$0] == nil }) {
          throw RequestError(
            status: 422, "row \(r): \"\(unknown)\" is not one of the model's features", row: r,
            field: unknown)
        }
        for name in names {
          guard let entry = named[name] else {
            throw RequestError(
              status: 422, "row \(r): feature \"\(name)\" is missing", row: r, field: name)
          }
          guard let value = entry else {
            throw RequestError(
              status: 422, "row \(r): feature \"\(name)\" is null", row: r, field: name)
          }
          elements.append(value)
        }
      }
    }
    return Matrix(rows: rows.count, columns: d, elements: elements)
  }

  /// A decoding error as a request error naming the row and field.
  static func requestError(_ error: DecodingError) -> RequestError {
    func located(_ path: [any CodingKey], _ message: String) -> RequestError {
      var row: Int? = nil
      var field: String? = nil
      if path.count >= 2, path[0].stringValue == "rows" || path[0].stringValue == "documents" {
        row = path[1].intValue
        if path.count >= 3 {
          field = path[2].intValue.map(String.init) ?? path[2].stringValue
        }
      } else if let first = path.first {
        field = first.stringValue
      }
      let place = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      return RequestError(
        status: path.isEmpty ? 400 : 422, place.isEmpty ? message : "\(place): \(message)",
        row: row, field: field)
    }
    switch error {
    case .dataCorrupted(let context):
      if context.codingPath.isEmpty {
        let reason = (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        return RequestError(status: 400, "the body is not JSON: \(reason)")
      }
      return located(context.codingPath, context.debugDescription)
    case .typeMismatch(let type, let context):
      if context.codingPath.isEmpty {
        return RequestError(
          status: 400, "the body must be a JSON object with \"rows\" or \"documents\"")
      }
      let what =
        type == Double.self
        ? "not a number" : type == String.self ? "not a string" : "not the expected kind of value"
      return located(context.codingPath, what)
    case .valueNotFound(_, let context):
      return located(context.codingPath, "a value is missing")
    case .keyNotFound(let key, let context):
      return located(context.codingPath + [key], "missing")
    @unknown default:
      return RequestError(status: 400, "\(error)")
    }
  }

  /// The JSON answer.
  static func write(_ probabilities: Matrix<Double>, classes: [String], topK: Int?) -> [UInt8] {
    var out = JSONWriter()
    out.raw("{\"classes\":[")
    for (j, name) in classes.enumerated() {
      if j > 0 { out.raw(",") }
      out.string(name)
    }
    out.raw("],\"predictions\":[")
    let ranked = topK.map { SoftmaxClassifier.ranked(probabilities, count: $0) }
    let k = probabilities.columns
    probabilities.elements.withUnsafeBufferPointer { p in
      for i in 0..<probabilities.rows {
        if i > 0 { out.raw(",") }
        let row = UnsafeBufferPointer(rebasing: p[(i * k)..<((i + 1) * k)])
        var best = 0
        for j in 1..<max(k, 1) where row[j] > row[best] { best = j }
        out.raw("{\"label\":")
        out.string(classes[best])
        out.raw(",\"probabilities\":[")
        for j in 0..<k {
          if j > 0 { out.raw(",") }
          out.number(row[j])
        }
        out.raw("]")
        if let ranked {
          out.raw(",\"top_k\":[")
          for (n, entry) in ranked[i].enumerated() {
            if n > 0 { out.raw(",") }
            out.raw("{\"label\":")
            out.string(classes[entry.classIndex])
            out.raw(",\"probability\":")
            out.number(entry.probability)
            out.raw("}")
          }
          out.raw("]")
        }
        out.raw("}")
      }
    }
    out.raw("]}\n")
    return out.bytes
  }
}

/// JSON text written byte by byte.
struct JSONWriter {
  var bytes: [UInt8] = []

  mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

  /// A finite number in the shortest form that reads back the same.
  mutating func number(_ value: Double) {
    raw(value.isFinite ? "\(value)" : "null")
  }

  /// A string, escaped.
  mutating func string(_ text: String) {
    bytes.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): raw("\\\"")
      case UInt8(ascii: "\\"): raw("\\\\")
      case 0x0A: raw("\\n")
      case 0x0D: raw("\\r")
      case 0x09: raw("\\t")
      case 0..<0x20:
        let hex = Array("0123456789abcdef".utf8)
        raw("\\u00")
        bytes.append(hex[Int(byte >> 4)])
        bytes.append(hex[Int(byte & 15)])
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }
}
