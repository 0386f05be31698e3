//===--- ModelFile.swift --------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import SoftmaxText

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The model file: a JSON document holding everything prediction needs.
///
/// ```json
/// {
///   "format": "swift-softmax-model",
///   "version": 1,
///   "classes": ["setosa", "versicolor", "virginica"],
///   "feature_names": ["sepal_length_cm", ...],      // or null
///   "weights": [[...d numbers...], ... k rows],      // standardized space if "standardization"
///   "bias": [...k numbers...],
///   "standardization": {"mean": [...d], "scale": [...d]},   // or null
///   "input": {"format": "csv", "label_column": {"name": "species", "index": 4},
///             "zero_based_indices": null, "feature_count": 4,
///             "feature_means": [...d]},    // how the training file was read; or null
///   "text": {"options": {...}, "vocabulary": [...d terms], "inverse_document_frequencies": [...d],
///            "document_count": n},       // a model of text: its TextVectorizer; or null
///   "training": { "options": ..., "stop_reason": "gradientTolerance", "converged": true,
///                 "iterations": 97, "objective": 0.0638, ... }   // or null
/// }
/// ```
///
/// Numbers are written in the shortest form that reads back to the same
/// `Double`, so a model survives a round trip bit for bit. Reading checks
/// the format name, the version (a newer one is refused, naming both), the
/// shapes and that every parameter is finite, and says which field is
/// wrong. The bytes are the library's business; writing them whole or not
/// at all is the caller's (SoftmaxData's `AtomicFile`).
public enum ModelFile {
  /// The format name in every file.
  public static let formatName = "swift-softmax-model"
  /// The newest version this build reads, and the one it writes for a
  /// calibrated model (a ``SoftmaxClassifier/temperature`` other than 1:
  /// the `"temperature"` field, which an older build would not apply, so
  /// it refuses the file rather than give other probabilities).
  public static let currentVersion = 3
  /// The version of a network without a temperature (the `"hidden"`
  /// field, which version 1 does not have, so that an older build refuses
  /// the file rather than read only its head).
  public static let networkVersion = 2
  /// The version of a model without hidden layers or a temperature, as
  /// every earlier build wrote it: such a file reads in every build.
  public static let linearVersion = 1

  /// The format version `model` is written with: the oldest that holds
  /// it (1 for softmax regression, 2 for a network, 3 with a temperature).
  public static func formatVersion(of model: SoftmaxClassifier) -> Int {
    model.temperature != 1
      ? currentVersion : model.hiddenLayers.isEmpty ? linearVersion : networkVersion
  }

  /// The JSON text of a model, pretty-printed with sorted keys, ending in
  /// a newline.
  ///
  /// Values of the training record that are not finite (an objective
  /// history that overflowed) are written as the strings `"inf"`, `"-inf"`
  /// and `"nan"`, which ``decode(_:)`` reads back.
  ///
  /// - Throws: ``TrainingError/Code/outOfRange`` for a model that cannot
  ///   predict (a non-finite weight or bias, a bad standardization), and
  ///   ``TrainingError/Code/invalidModel`` for inconsistent shapes or
  ///   duplicate class or feature names: nothing is written for them.
  public static func encode(_ model: SoftmaxClassifier) throws(TrainingError) -> [UInt8] {
    let pieces = try encodedPieces(model)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
    for piece in pieces { bytes += piece }
    return bytes
  }

  /// The bytes of ``encode(_:)`` in pieces, to be written one after
  /// another: a large model's weights (each class's row of text is a
  /// piece) are not joined into a second copy of the file in memory.
  /// `AtomicFile.write(to:_:)` in SoftmaxData takes them so:
  ///
  /// ```swift
  /// let pieces = try ModelFile.encodedPieces(model)
  /// try AtomicFile.write(to: path) { append in
  ///   for piece in pieces { try append(piece) }
  /// }
  /// ```
  ///
  /// - Complexity: the text of every number once (about 47 ns each, on
  ///   all threads for the weights); the joined size in memory once.
  /// - Throws: as ``encode(_:)``.
  public static func encodedPieces(_ model: SoftmaxClassifier) throws(TrainingError)
    -> [[UInt8]]
  {
    try encodedPieces(model, writingArrays: true)
  }

  /// ``encode(_:)``; `writingArrays` false leaves every array to
  /// JSONEncoder (the same bytes, slower: for tests).
  static func encode(_ model: SoftmaxClassifier, writingArrays: Bool) throws(TrainingError)
    -> [UInt8]
  {
    Array(try encodedPieces(model, writingArrays: writingArrays).joined())
  }

  /// ``encodedPieces(_:)``, or with `writingArrays` false every array
  /// left to JSONEncoder (one piece).
  static func encodedPieces(_ model: SoftmaxClassifier, writingArrays: Bool)
    throws(TrainingError) -> [[UInt8]]
  {
    if let problem = model.parameterProblem() {
      throw TrainingError(.outOfRange, "the model cannot be written: \(problem)")
    }
    var document = Document(
      format: formatName, version: formatVersion(of: model), classes: model.classes,
      featureNames: model.featureNames, weights: model.weight.rowArrays, bias: model.bias,
      standardization: model.standardization.map {
        StandardizationFields(mean: $0.mean, scale: $0.scale)
      }, input: model.input, text: model.text, training: model.training)
    if model.temperature != 1 { document.temperature = model.temperature }
    if !model.hiddenLayers.isEmpty {
      document.hidden = HiddenFields(
        activation: model.activation,
        layers: model.hiddenLayers.map {
          HiddenLayerFields(weights: $0.weight.rowArrays, bias: $0.bias)
        })
    }
    do {
      _ = try document.validated()
    } catch {
      throw TrainingError(.invalidModel, "the model cannot be written: \(error.message)")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    // The large arrays (weights, vocabulary, idf) go in as markers and are
    // written here: JSONEncoder takes about 0.6 µs a number.
    let arrays = LargeArrays()
    if writingArrays { encoder.userInfo[LargeArrays.key] = arrays }
    let encoded: [UInt8]
    do {
      encoded = Array(try encoder.encode(document))
    } catch {
      throw TrainingError(.invalidModel, "the model cannot be written: \(error)")
    }
    guard var pieces = arrays.splice(into: encoded) else {
      // A class, feature name or term spelled like a marker: JSONEncoder
      // writes every array (the same bytes, slower).
      return try encodedPieces(model, writingArrays: false)
    }
    pieces.append([0x0A])
    return pieces
  }

  /// Reads a model from the bytes of a model file.
  ///
  /// - Throws: ``TrainingError/Code/invalidModel`` naming what is wrong:
  ///   not JSON (with the line, column and reason), not a model file, a
  ///   format version this build does not read, a missing field, shapes
  ///   that disagree, duplicate class or feature names, a parameter that is
  ///   not finite, a bad standardization.
  public static func decode(_ bytes: [UInt8]) throws(TrainingError) -> SoftmaxClassifier {
    // A large file's arrays are read directly (ModelFile+FastRead.swift);
    // anything that path does not take is read, and judged, here.
    if let model = fastDecode(bytes) { return model }
    return try fullDecode(bytes)
  }

  /// ``decode(_:)`` through JSONDecoder alone (for tests: the same models).
  static func fullDecode(_ bytes: [UInt8]) throws(TrainingError) -> SoftmaxClassifier {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    // The header first, so that another version is named as such even if
    // its fields changed.
    let header: Header
    do {
      header = try decoder.decode(Header.self, from: Data(bytes))
    } catch {
      throw TrainingError(.invalidModel, "not a model file: \(describe(error, in: bytes))")
    }
    guard let format = header.format else {
      throw TrainingError(
        .invalidModel, "not a model file: it has no \"format\": \"\(formatName)\" field")
    }
    guard format == formatName else {
      throw TrainingError(
        .invalidModel, "format is \"\(format)\"; a model file says \"\(formatName)\"")
    }
    guard let version = header.version else {
      throw TrainingError(
        .invalidModel,
        "the model file has no numeric \"version\" (this build reads version \(currentVersion))")
    }
    guard version >= 1, version == version.rounded() else {
      throw TrainingError(
        .invalidModel,
        "format version \(versionText(version)) does not exist (this build reads version \(currentVersion))"
      )
    }
    guard version <= Double(currentVersion) else {
      throw TrainingError(
        .invalidModel,
        "the file has format version \(versionText(version)), newer than this build reads "
          + "(\(currentVersion)): upgrade swift-softmax")
    }
    let document: Document
    do {
      document = try decoder.decode(Document.self, from: Data(bytes))
    } catch {
      throw TrainingError(.invalidModel, "bad model file: \(describe(error, in: bytes))")
    }
    return try document.validated()
  }

  /// A version number as written: `2`, `1.5`, `1e+20`.
  private static func versionText(_ version: Double) -> String {
    version == version.rounded() && abs(version) < 1e15 ? String(Int(version)) : "\(version)"
  }

  private static func describe(_ error: any Error, in bytes: [UInt8]) -> String {
    if let error = error as? DecodingError {
      switch error {
      case .dataCorrupted(let context):
        // The decoder only says "not valid JSON"; say where and why.
        if context.codingPath.isEmpty {
          if let problem = JSONSyntaxCheck.firstProblem(in: bytes) {
            return "invalid JSON at \(problem.description)"
          }
          // Valid JSON the decoder still refused: a number too large for
          // its field, most often.
          return "a value does not fit its field (\(context.debugDescription))"
        }
        return context.debugDescription + path(context.codingPath)
      case .keyNotFound(let key, let context):
        return "missing field \"\(key.stringValue)\"" + path(context.codingPath)
      case .typeMismatch(_, let context), .valueNotFound(_, let context):
        return context.debugDescription + path(context.codingPath)
      @unknown default:
        return "\(error)"
      }
    }
    return "\(error)"
  }

  private static func path(_ codingPath: [any CodingKey]) -> String {
    guard !codingPath.isEmpty else { return "" }
    return " at "
      + codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
  }

  /// A standardization as written, validated after the shapes.
  struct StandardizationFields: Codable {
    var mean: [Double]
    var scale: [Double]
  }

  /// The two fields every version has; either may be absent or of the
  /// wrong type (`nil`).
  private struct Header: Decodable {
    var format: String?
    var version: Double?

    private enum Keys: String, CodingKey { case format, version }

    init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: Keys.self)
      format = try? container.decode(String.self, forKey: .format)
      version = try? container.decode(Double.self, forKey: .version)
    }
  }

  struct Document: Codable {
    var format: String
    var version: Int
    var classes: [String]
    var featureNames: [String]?
    var weights: [[Double]]
    var bias: [Double]
    var standardization: StandardizationFields?
    var input: InputDescription?
    var text: TextVectorizer?
    var training: TrainingRecord?
    /// A network's hidden layers (version 2), or `nil`.
    var hidden: HiddenFields? = nil
    /// The temperature of a calibrated model (version 3), or `nil` for 1.
    var temperature: Double? = nil

    /// As the synthesized encoding, but with the weights and the text's
    /// vocabulary and idf handed to the encoder's ``LargeArrays``, when it
    /// has one, to be written by it.
    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      let arrays = encoder.userInfo[LargeArrays.key] as? LargeArrays
      try container.encode(format, forKey: .format)
      try container.encode(version, forKey: .version)
      try container.encode(classes, forKey: .classes)
      try container.encodeIfPresent(featureNames, forKey: .featureNames)
      if let arrays, !weights.contains(where: \.isEmpty) {
        try container.encode(arrays.marker(pieces: LargeArrays.rows(weights)), forKey: .weights)
      } else {
        try container.encode(weights, forKey: .weights)
      }
      try container.encode(bias, forKey: .bias)
      try container.encodeIfPresent(standardization, forKey: .standardization)
      try container.encodeIfPresent(input, forKey: .input)
      if let text, let arrays {
        try container.encode(
          TextFields(
            options: text.options,
            vocabulary: arrays.marker(LargeArrays.strings(text.vocabulary, depth: 2)),
            inverseDocumentFrequencies: text.inverseDocumentFrequencies.map {
              arrays.marker(LargeArrays.numbers($0, depth: 2))
            }, documentCount: text.documentCount), forKey: .text)
      } else {
        try container.encodeIfPresent(text, forKey: .text)
      }
      try container.encodeIfPresent(training, forKey: .training)
      try container.encodeIfPresent(hidden, forKey: .hidden)
      try container.encodeIfPresent(temperature, forKey: .temperature)
    }

    func validated() throws(TrainingError) -> SoftmaxClassifier {
      func fail(_ message: String) -> TrainingError { TrainingError(.invalidModel, message) }
      let k = classes.count
      guard k >= 1 else { throw fail("\"classes\" is empty") }
      guard Set(classes).count == k else { throw fail("\"classes\" has duplicate names") }
      guard weights.count == k else {
        throw fail(
          "\"weights\" has \(counted(weights.count, "row")); there are \(counted(k, "class"))")
      }
      let headInputs = weights[0].count
      if let row = weights.firstIndex(where: { $0.count != headInputs }) {
        throw fail(
          "\"weights\" row \(row) has \(counted(weights[row].count, "value")); row 0 has \(headInputs)"
        )
      }
      guard bias.count == k else {
        throw fail("\"bias\" has \(counted(bias.count, "value")); there are \(counted(k, "class"))")
      }
      for (row, values) in weights.enumerated() {
        if let column = values.firstIndex(where: { !$0.isFinite }) {
          throw fail("\"weights\"[\(row)][\(column)] is not finite")
        }
      }
      if let j = bias.firstIndex(where: { !$0.isFinite }) {
        throw fail("\"bias\"[\(j)] is not finite")
      }
      // With hidden layers the head reads the last one: the features are
      // the first layer's inputs.
      let hiddenLayers = try hidden?.validatedLayers(headInputs: headInputs) ?? []
      let d = hiddenLayers.first?.inputCount ?? headInputs
      if let featureNames, featureNames.count != d {
        throw fail(
          "\"feature_names\" has \(counted(featureNames.count, "name")); the weights have \(counted(d, "column"))"
        )
      }
      if let featureNames, Set(featureNames).count != d {
        var seen = Set<String>()
        let duplicate = featureNames.first { !seen.insert($0).inserted } ?? ""
        throw fail("\"feature_names\" has \"\(duplicate)\" twice")
      }
      if let text, text.featureCount != d {
        throw fail(
          "\"text\" makes \(counted(text.featureCount, "feature")); the weights have \(counted(d, "column"))"
        )
      }
      if let input, let problem = input.problem(featureCount: d) {
        throw fail("\"input\": \(problem)")
      }
      if let standardization {
        guard standardization.mean.count == d, standardization.scale.count == d else {
          throw fail(
            "\"standardization\" has \(standardization.mean.count) means and "
              + "\(standardization.scale.count) scales; the weights have \(d) columns")
        }
        if let c = standardization.mean.firstIndex(where: { !$0.isFinite }) {
          throw fail("\"standardization\".mean[\(c)] is not finite")
        }
        if let c = standardization.scale.firstIndex(where: { !($0 > 0) || !$0.isFinite }) {
          throw fail(
            "\"standardization\".scale[\(c)] = \(standardization.scale[c]) is not positive")
        }
        if let c = standardization.scale.firstIndex(where: { $0 < Standardization.smallestScale }) {
          throw fail(
            "\"standardization\".scale[\(c)] = \(standardization.scale[c]) is below \(Standardization.smallestScale), whose reciprocal overflows"
          )
        }
      }
      if let temperature {
        guard version >= currentVersion else {
          throw fail(
            "\"temperature\" needs format version \(currentVersion); the file says version \(version) (a build that reads only version \(version) would not apply it)"
          )
        }
        guard temperature > 0, temperature.isFinite else {
          throw fail("\"temperature\" is \(temperature); it must be finite and positive")
        }
      }
      // The head first, then what its shape does not describe when there
      // are hidden layers (the features are their inputs).
      var model = SoftmaxClassifier(
        classes: classes, weight: Matrix(weights), bias: bias, training: training)
      if let hidden {
        model.hiddenLayers = hiddenLayers
        model.activation = hidden.activation
      }
      model.standardization = try standardization.map { fields throws(TrainingError) in
        try Standardization(validatingMean: fields.mean, scale: fields.scale)
      }
      model.featureNames = featureNames
      model.input = input
      model.text = text
      model.temperature = temperature ?? 1
      return model
    }
  }

  /// A network's hidden layers as the model file writes them.
  struct HiddenFields: Codable {
    var activation: Activation
    var layers: [HiddenLayerFields]

    /// The layers, checked: at least one, each `W` rectangular with one
    /// bias per row, each layer's outputs the next one's inputs (the
    /// head's `headInputs` last), every value finite.
    func validatedLayers(headInputs: Int) throws(TrainingError) -> [DenseLayer<Double>] {
      func fail(_ message: String) -> TrainingError { TrainingError(.invalidModel, message) }
      guard !layers.isEmpty else { throw fail("\"hidden\".layers is empty") }
      var result: [DenseLayer<Double>] = []
      for (l, layer) in layers.enumerated() {
        let name = "\"hidden\".layers[\(l)]"
        guard let inputs = layer.weights.first?.count, inputs >= 1 else {
          throw fail("\(name).weights is empty")
        }
        if let row = layer.weights.firstIndex(where: { $0.count != inputs }) {
          throw fail(
            "\(name).weights row \(row) has \(counted(layer.weights[row].count, "value")); row 0 has \(inputs)"
          )
        }
        guard layer.bias.count == layer.weights.count else {
          throw fail(
            "\(name).bias has \(counted(layer.bias.count, "value")); the weights have \(counted(layer.weights.count, "row"))"
          )
        }
        if let previous = result.last, previous.outputCount != inputs {
          throw fail(
            "\(name) takes \(counted(inputs, "input")); the layer before has \(counted(previous.outputCount, "output"))"
          )
        }
        for (row, values) in layer.weights.enumerated() {
          if let column = values.firstIndex(where: { !$0.isFinite }) {
            throw fail("\(name).weights[\(row)][\(column)] is not finite")
          }
        }
        if let j = layer.bias.firstIndex(where: { !$0.isFinite }) {
          throw fail("\(name).bias[\(j)] is not finite")
        }
        result.append(DenseLayer(weight: Matrix(layer.weights), bias: layer.bias))
      }
      if let last = result.last, last.outputCount != headInputs {
        throw fail(
          "the last hidden layer has \(counted(last.outputCount, "output")); \"weights\" has \(counted(headInputs, "column"))"
        )
      }
      return result
    }
  }

  /// One hidden layer as written: `W` row by row (outputs × inputs) and `b`.
  struct HiddenLayerFields: Codable {
    var weights: [[Double]]
    var bias: [Double]
  }
}

/// A text model's vectorizer as the model file writes it, its large
/// arrays as markers (``LargeArrays``); read back as a `TextVectorizer`.
private struct TextFields: Encodable {
  var options: TextFeatureOptions
  var vocabulary: String
  var inverseDocumentFrequencies: String?
  var documentCount: Int

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(options, forKey: .options)
    try container.encode(vocabulary, forKey: .vocabulary)
    try container.encode(inverseDocumentFrequencies, forKey: .inverseDocumentFrequencies)
    try container.encode(documentCount, forKey: .documentCount)
  }

  private enum CodingKeys: String, CodingKey {
    case options, vocabulary, inverseDocumentFrequencies, documentCount
  }
}

/// JSON arrays written directly: the encoder writes a marker string in
/// their place (`"\u0001<n>\u0001"`, which no other value of a model
/// file can hold), and ``splice(into:)`` puts the arrays' text there,
/// byte for byte as JSONEncoder's pretty printing writes them (numbers in
/// Swift's shortest round-trip form, `.0` dropped; strings escaped as it
/// escapes them), about 20 times faster.
private final class LargeArrays: @unchecked Sendable {
  static let key: CodingUserInfoKey = {
    guard let key = CodingUserInfoKey(rawValue: "swift-softmax.large-arrays") else {
      preconditionFailure("a non-empty key is valid")
    }
    return key
  }()
  /// Each array's JSON, in pieces written one after another (a large
  /// model's rows are not joined first: the splice is their one copy).
  private var texts: [[[UInt8]]] = []

  /// A marker for `text`, an array's JSON.
  func marker(_ text: [UInt8]) -> String { marker(pieces: [text]) }

  /// A marker for the JSON that `pieces` make one after another.
  func marker(pieces: [[UInt8]]) -> String {
    texts.append(pieces)
    return "\u{1}\(texts.count - 1)\u{1}"
  }

  private static func indent(_ depth: Int) -> [UInt8] {
    [UInt8(ascii: "\n")] + [UInt8](repeating: UInt8(ascii: " "), count: 2 * depth)
  }

  /// An array of arrays of numbers, its key at `depth`, in pieces: the
  /// bytes ``elements(_:depth:_:)`` would join.
  ///
  /// The rows are written on all threads (each row's text depends only on
  /// the row).
  static func rows(_ rows: [[Double]], depth: Int = 1) -> [[UInt8]] {
    guard !rows.isEmpty else { return [elements(0, depth: depth) { _, _ in }] }
    var texts = [[UInt8]](repeating: [], count: rows.count)
    texts.withUnsafeMutableBufferPointer { texts in
      let cost = rows.first?.count ?? 0
      parallelFor(count: rows.count, cost: cost * 64, grain: 1) { first, last in
        for r in first..<last { texts[r] = numbers(rows[r], depth: depth + 1) }
      }
    }
    let frame = frame(depth: depth)
    var pieces: [[UInt8]] = []
    pieces.reserveCapacity(2 * rows.count + 1)
    for r in rows.indices {
      pieces.append(r == 0 ? frame.open : frame.separator)
      pieces.append(texts[r])
    }
    pieces.append(frame.close)
    return pieces
  }

  /// What surrounds the elements of a non-empty array whose key is at
  /// `depth`: `[` and the first element's indent, `,` and the next one's,
  /// and the closing indent and `]`.
  private static func frame(depth: Int) -> (open: [UInt8], separator: [UInt8], close: [UInt8]) {
    let inner = indent(depth + 1)
    return ([UInt8(ascii: "[")] + inner, [UInt8(ascii: ",")] + inner, indent(depth) + [93])
  }

  /// An array of numbers, its key at `depth`: each as Swift's shortest
  /// round-trip text, without a trailing `.0` (JSONEncoder's spelling).
  /// The bytes of ``elements(_:depth:_:)``, written without its closure
  /// and its per-element array of separator bytes: about 47 ns a number
  /// against 57 (Swift's formatting itself is most of it).
  static func numbers(_ values: [Double], depth: Int) -> [UInt8] {
    guard !values.isEmpty else { return elements(0, depth: depth) { _, _ in } }
    let frame = frame(depth: depth)
    var stream = ByteStream()
    stream.bytes.reserveCapacity(
      values.count * (frame.separator.count + 24) + frame.open.count + frame.close.count)
    stream.bytes += frame.open
    frame.separator.withUnsafeBufferPointer { separator in
      for i in values.indices {
        if i > 0 { stream.bytes.append(contentsOf: separator) }
        let start = stream.bytes.count
        values[i].write(to: &stream)
        let end = stream.bytes.count
        if end - start > 2, stream.bytes[end - 1] == UInt8(ascii: "0"),
          stream.bytes[end - 2] == UInt8(ascii: ".")
        {
          stream.bytes.removeLast(2)
        }
      }
    }
    stream.bytes += frame.close
    return stream.bytes
  }

  /// An array of strings, its key at `depth`.
  static func strings(_ values: [String], depth: Int) -> [UInt8] {
    let hex = Array("0123456789abcdef".utf8)
    return elements(values.count, depth: depth) { i, out in
      out.append(UInt8(ascii: "\""))
      for byte in values[i].utf8 {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
          out += [UInt8(ascii: "\\"), byte]
        case 0x0A: out += Array("\\n".utf8)
        case 0x0D: out += Array("\\r".utf8)
        case 0x09: out += Array("\\t".utf8)
        case 0x08: out += Array("\\b".utf8)
        case 0x0C: out += Array("\\f".utf8)
        case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
        default: out.append(byte)
        }
      }
      out.append(UInt8(ascii: "\""))
    }
  }

  /// `[`, the elements a line each at `depth + 1`, `]` at `depth`; `[]`
  /// when empty. About 24 bytes an element are reserved at once (growing
  /// by doubling would copy the text again and again).
  private static func elements(
    _ count: Int, depth: Int, _ element: (Int, inout [UInt8]) -> Void
  ) -> [UInt8] {
    guard count > 0 else { return Array("[\n\n".utf8) + indent(depth).dropFirst() + [93] }
    let frame = frame(depth: depth)
    var out: [UInt8] = []
    out.reserveCapacity(count * 24 + 2 * depth + 4)
    for i in 0..<count {
      out += i == 0 ? frame.open : frame.separator
      element(i, &out)
    }
    out += frame.close
    return out
  }

  /// `json` with each quoted marker replaced by its array, in pieces (the
  /// JSON between markers, and each array's pieces, not joined), or `nil`
  /// when the markers found are not each of ours exactly once: a string of
  /// the model (a class named `"\u{1}0\u{1}"`) looks like one, and
  /// splicing would put an array in its place.
  func splice(into json: [UInt8]) -> [[UInt8]]? {
    guard !texts.isEmpty else { return [json] }
    var pieces: [[UInt8]] = []
    var spliced = [Bool](repeating: false, count: texts.count)
    let prefix = Array("\"\\u0001".utf8)
    let suffix = Array("\\u0001\"".utf8)
    // The JSON from `segment` to the next marker is one piece.
    var segment = 0
    var i = 0
    while i < json.count {
      if json[i] == UInt8(ascii: "\""), json[i...].starts(with: prefix) {
        var j = i + prefix.count
        var number = 0
        while j < json.count, json[j] >= 0x30, json[j] <= 0x39, number < texts.count {
          number = number * 10 + Int(json[j] - 0x30)
          j += 1
        }
        if j > i + prefix.count, json[j...].starts(with: suffix) {
          guard number < texts.count, !spliced[number] else { return nil }
          spliced[number] = true
          if segment < i { pieces.append(Array(json[segment..<i])) }
          pieces += texts[number]
          i = j + suffix.count
          segment = i
          continue
        }
      }
      i += 1
    }
    if segment < json.count { pieces.append(Array(json[segment...])) }
    return spliced.allSatisfy { $0 } ? pieces : nil
  }
}

/// "1 value", "2 values", "3 classes".
private func counted(_ n: Int, _ noun: String) -> String {
  n == 1 ? "1 \(noun)" : "\(n) \(noun)\(noun.hasSuffix("s") ? "es" : "s")"
}

/// Bytes as a text stream: a number's shortest round-trip text (what
/// `description` gives) is appended without a `String` made for it, which
/// for most parameters would be allocated (texts of more than 15 bytes).
private struct ByteStream: TextOutputStream {
  var bytes: [UInt8] = []

  mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }

  /// The standard library's numbers write their ASCII text through this
  /// requirement of `TextOutputStream` (its default makes a `String`).
  mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
    bytes.append(contentsOf: buffer)
  }
}
