//===--- Server.swift -----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import Hummingbird
import SoftmaxRegression

/// The limits and address of a prediction server.
public struct ServerConfiguration: Sendable {
  /// The address to listen on.
  public var host: String
  /// The port (0: any free port; the server prints the one it took).
  public var port: Int
  /// The largest request body, in bytes (a larger one gets 413).
  public var maximumBodyBytes: Int
  /// The most rows or documents a request may hold (more get 413).
  public var maximumRows: Int

  /// Loopback, port 8080, 16 MiB bodies, 10,000 rows a request.
  public init(
    host: String = "127.0.0.1", port: Int = 8080, maximumBodyBytes: Int = 16 << 20,
    maximumRows: Int = 10_000
  ) {
    self.host = host
    self.port = port
    self.maximumBodyBytes = maximumBodyBytes
    self.maximumRows = maximumRows
  }
}

/// The HTTP/1.1 JSON API of a model:
/// - `POST /v1/predict`: rows (numbers, or named features) or documents
///   in, labels, probabilities and top-k out (``Predictor``);
/// - `GET /v1/model`: the classes, features, format version, hidden
///   layers and temperature of the model now served;
/// - `GET /healthz`: `{"status":"ok"}`.
///
/// Every error is JSON, `{"error": {"status", "message", "row", "field"}}`
/// (``RequestError``), with its status code: 400 for a body that is not
/// JSON, 404 for another path, 405 for another method, 413 for a body or
/// a row count over the limits, 422 for rows the model cannot take.
public enum PredictionServer {
  /// The router of the API, answering with `store`'s model.
  public static func router(store: ModelStore, configuration: ServerConfiguration) -> Router<
    BasicRequestContext
  > {
    let router = Router()
    router.add(middleware: JSONErrorMiddleware())
    let predictor = Predictor(maximumRows: configuration.maximumRows)
    let maximumBody = configuration.maximumBodyBytes
    router.post("v1/predict") { request, _ -> Response in
      var request = request
      let body: ByteBuffer
      do {
        body = try await request.collectBody(upTo: maximumBody)
      } catch {
        return errorResponse(
          RequestError(
            status: 413, "the body is over \(maximumBody) bytes (--max-body-bytes)"))
      }
      let model = store.current.model
      do {
        let answer = try predictor.answer(Array(buffer: body), model: model)
        return jsonResponse(answer)
      } catch let error as RequestError {
        return errorResponse(error)
      }
    }
    router.get("v1/model") { _, _ -> Response in
      jsonResponse(describe(store))
    }
    router.get("healthz") { _, _ -> Response in
      jsonResponse(Array("{\"status\":\"ok\"}\n".utf8))
    }
    return router
  }

  /// The application: the router on the configured address.
  public static func application(
    store: ModelStore, configuration: ServerConfiguration,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
  ) -> some ApplicationProtocol {
    Application(
      router: router(store: store, configuration: configuration),
      configuration: .init(
        address: .hostname(configuration.host, port: configuration.port),
        serverName: "softmax-server"),
      onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) })
  }

  /// `GET /v1/model`'s answer.
  static func describe(_ store: ModelStore) -> [UInt8] {
    let state = store.current
    let model = state.model
    var out = JSONWriter()
    out.raw("{\"path\":")
    out.string(store.path)
    out.raw(",\"format_version\":\(state.formatVersion),\"reloads\":\(state.reloads)")
    out.raw(",\"classes\":[")
    for (j, name) in model.classes.enumerated() {
      if j > 0 { out.raw(",") }
      out.string(name)
    }
    out.raw("],\"feature_count\":\(model.featureCount),\"feature_names\":")
    if let names = model.featureNames {
      out.raw("[")
      for (j, name) in names.enumerated() {
        if j > 0 { out.raw(",") }
        out.string(name)
      }
      out.raw("]")
    } else {
      out.raw("null")
    }
    out.raw(",\"text\":\(model.text != nil),\"hidden\":")
    if let hidden = model.hidden {
      out.raw("[\(hidden.widths.map(String.init).joined(separator: ","))],\"activation\":")
      out.string(hidden.activation.rawValue)
    } else {
      out.raw("null,\"activation\":null")
    }
    out.raw(",\"calibration\":{\"temperature\":")
    out.number(model.temperature)
    out.raw("}}\n")
    return out.bytes
  }
}

func jsonResponse(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
  Response(
    status: status, headers: [.contentType: "application/json"],
    body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
}

func errorResponse(_ error: RequestError) -> Response {
  jsonResponse(error.json, status: HTTPResponse.Status(code: error.status))
}

/// Errors thrown below it (an unknown path or method) as JSON.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
  /// Each path's method, for 405 and its `Allow` header.
  static var endpoints: [String: String] {
    ["/v1/predict": "POST", "/v1/model": "GET", "/healthz": "GET"]
  }

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    do {
      return try await next(request, context)
    } catch let error as HTTPError {
      if error.status == .notFound, let allowed = Self.endpoints[request.uri.path] {
        var response = errorResponse(
          RequestError(
            status: 405, "\(request.uri.path) takes \(allowed), not \(request.method)"))
        response.headers[.allow] = allowed
        return response
      }
      let message =
        error.status == .notFound
        ? "no such endpoint: \(request.method) \(request.uri.path) (POST /v1/predict, GET /v1/model, GET /healthz)"
        : error.body ?? "\(error.status)"
      return errorResponse(RequestError(status: error.status.code, message))
    }
  }
}
