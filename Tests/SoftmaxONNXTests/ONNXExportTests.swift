//===--- ONNXExportTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxData
import SoftmaxRegression
import SwiftProtobuf
import Testing

@testable import SoftmaxONNX

/// The repository's root, from this file's path.
private let repositoryRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A labelled data set of the project's `Data/` folder (or MNIST's IDX
/// files), with its class encoding.
private struct Labelled {
  var features: Matrix<Double>
  var labels: [Int]
  var classes: [String]

  init(csv name: String) throws {
    let data = try DataLoader.load(repositoryRoot + "/Data/\(name).csv", as: Double.self)
    let encoding = ClassEncoding(labels: data.labels ?? [])
    (features, labels, classes) = (data.features, encoding.indices, encoding.classes)
  }

  init(features: Matrix<Double>, labels: [Int], classes: [String]) {
    (self.features, self.labels, self.classes) = (features, labels, classes)
  }
}

private func fitted(_ data: Labelled, _ change: (inout TrainingOptions) -> Void) throws
  -> SoftmaxClassifier
{
  var options = TrainingOptions()
  change(&options)
  return try SoftmaxClassifier.fit(
    features: data.features, labels: data.labels, classes: data.classes, options: options)
}

/// A network of every activation on digits, briefly trained (the export
/// is checked, not the accuracy).
private func network(_ activation: Activation, data: Labelled) throws -> SoftmaxClassifier {
  try fitted(data) {
    $0.solver = .adam
    $0.standardize = true
    $0.hidden = TrainingOptions.HiddenLayers(widths: [12, 7], activation: activation)
    $0.stochastic.epochs = 2
    $0.stochastic.batchSize = 64
  }
}

@Suite("ONNX export: the graph")
struct ONNXGraphTests {
  @Test("A standardized linear model with a temperature: nodes, initializers bit for bit, names")
  func linearGraph() throws {
    let iris = try Labelled(csv: "iris")
    var model = try fitted(iris) { $0.standardize = true }
    model.temperature = 1.75
    for precision in ONNXExport.Precision.allCases {
      let bytes = try ONNXExport.serialized(model, precision: precision)
      let proto = try Onnx_ModelProto(serializedBytes: bytes)
      #expect(proto.irVersion == 9)
      #expect(proto.opsetImport.map(\.version) == [20])
      #expect(proto.opsetImport.map(\.domain) == [""])
      let graph = proto.graph
      #expect(
        graph.node.map(\.opType) == ["Sub", "Mul", "Gemm", "Div", "Softmax", "ArgMax", "Gather"])
      #expect(graph.input.map(\.name) == ["features"])
      #expect(graph.output.map(\.name) == ["probabilities", "label"])
      let dims = graph.input[0].type.tensorType.shape.dim
      #expect(dims.count == 2 && dims[0].dimParam == "N" && dims[1].dimValue == 4)
      let type: Int32 = precision == .float ? 1 : 11
      #expect(graph.input[0].type.tensorType.elemType == type)
      #expect(graph.output[1].type.tensorType.elemType == 8)  // string
      func tensor(_ name: String) throws -> Onnx_TensorProto {
        try #require(graph.initializer.first { $0.name == name })
      }
      // Every parameter exactly: as written (double) or rounded once.
      let weight = try tensor("weight")
      #expect(weight.dims == [3, 4])
      #expect(try values(weight) == model.weight.elements.map { rounded($0, precision) })
      #expect(try values(tensor("bias")) == model.bias.map { rounded($0, precision) })
      let scale = try #require(model.standardization?.inverseScale)
      #expect(try values(tensor("inverse_scale")) == scale.map { rounded($0, precision) })
      #expect(try values(tensor("temperature")) == [rounded(1.75, precision)])
      #expect(
        try tensor("classes").stringData.map { String(decoding: $0, as: UTF8.self) }
          == model.classes)
      let gemm = try #require(graph.node.first { $0.opType == "Gemm" })
      #expect(gemm.attribute.map { "\($0.name)=\($0.i)" } == ["transB=1"])
    }
  }

  @Test("Networks: a Gemm and the activation's operator per hidden layer; no Div at τ = 1")
  func networkGraph() throws {
    let digits = try Labelled(csv: "digits")
    let expected: [Activation: [String]] = [
      .relu: ["Relu"], .tanh: ["Tanh"], .gelu: ["Gelu"], .logistic: ["Sigmoid"], .identity: [],
    ]
    for activation in Activation.allCases {
      let model = try network(activation, data: digits)
      let graph = try Onnx_ModelProto(serializedBytes: ONNXExport.serialized(model)).graph
      let layer = ["Gemm"] + (expected[activation] ?? [])
      #expect(
        graph.node.map(\.opType)
          == ["Sub", "Mul"] + layer + layer + ["Gemm", "Softmax", "ArgMax", "Gather"],
        "\(activation)")
      let first = try #require(graph.initializer.first { $0.name == "hidden1_weight" })
      #expect(first.dims == [12, 64])
    }
  }

  @Test("Refused by name: a parameter beyond float32 (double exports it), a bad model")
  func refusals() throws {
    var model = SoftmaxClassifier(
      classes: ["a", "b"], weight: Matrix([[1, 1e300], [0, 1]]), bias: [0, 0])
    #expect {
      try ONNXExport.serialized(model, precision: .float)
    } throws: { ($0 as? ONNXExportError)?.message.contains("weight[1] = 1e+300 overflows") == true }
    _ = try ONNXExport.serialized(model, precision: .double)
    model.temperature = -1
    #expect(throws: ONNXExportError.self) { try ONNXExport.serialized(model, precision: .double) }
  }

  private func values(_ tensor: Onnx_TensorProto) throws -> [Double] {
    let bytes = [UInt8](tensor.rawData)
    switch tensor.dataType {
    case 1:
      return stride(from: 0, to: bytes.count, by: 4).map { offset in
        var bits: UInt32 = 0
        for b in 0..<4 { bits |= UInt32(bytes[offset + b]) << (8 * b) }
        return Double(Float(bitPattern: bits))
      }
    case 11:
      return stride(from: 0, to: bytes.count, by: 8).map { offset in
        var bits: UInt64 = 0
        for b in 0..<8 { bits |= UInt64(bytes[offset + b]) << (8 * b) }
        return Double(bitPattern: bits)
      }
    default:
      throw ONNXExportError("unexpected data type \(tensor.dataType)")
    }
  }

  private func rounded(_ value: Double, _ precision: ONNXExport.Precision) -> Double {
    precision == .float ? Double(Float(value)) : value
  }
}

/// A Python with `onnx` and `onnxruntime`, named by `SOFTMAX_ONNX_PYTHON`
/// (CI makes one), or `nil`.
private let onnxPython: String? = {
  guard let path = ProcessInfo.processInfo.environment["SOFTMAX_ONNX_PYTHON"], !path.isEmpty
  else { return nil }
  return path
}()

@Suite(
  "ONNX export in ONNX Runtime",
  .enabled(
    if: onnxPython != nil, "set SOFTMAX_ONNX_PYTHON to a python with onnx and onnxruntime (CI does)"
  ))
struct ONNXRuntimeTests {
  /// Exports `model`, runs it in ONNX Runtime on `features` through
  /// Scripts/check_onnx.py (which also runs onnx's full checker), and
  /// returns its report.
  private func run(
    _ model: SoftmaxClassifier, on features: Matrix<Double>, precision: ONNXExport.Precision
  ) throws -> [String: Any] {
    let directory = NSTemporaryDirectory() + "softmax-onnx-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Data(ONNXExport.serialized(model, precision: precision)).write(
      to: URL(fileURLWithPath: directory + "/model.onnx"))
    // The library's predictions of the very values the runtime gets.
    var bytes: [UInt8] = []
    let probabilities: Matrix<Double>
    let labels: [String]
    if precision == .float {
      let narrow = Matrix(
        rows: features.rows, columns: features.columns,
        elements: features.elements.map { Float($0) })
      for x in narrow.elements { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes += $0 } }
      probabilities = try model.probabilities(narrow)
      labels = try model.predict(narrow)
    } else {
      for x in features.elements { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes += $0 } }
      probabilities = try model.probabilities(features)
      labels = try model.predict(features)
    }
    try Data(bytes).write(to: URL(fileURLWithPath: directory + "/features.bin"))
    var expected: [UInt8] = []
    for p in probabilities.elements {
      withUnsafeBytes(of: p.bitPattern.littleEndian) { expected += $0 }
    }
    try Data(expected).write(to: URL(fileURLWithPath: directory + "/probabilities.bin"))
    try Data(labels.joined(separator: "\n").utf8).write(
      to: URL(fileURLWithPath: directory + "/labels.txt"))
    let meta: [String: Any] = [
      "rows": features.rows, "features": features.columns, "classes": model.classCount,
      "dtype": precision.rawValue,
    ]
    try JSONSerialization.data(withJSONObject: meta).write(
      to: URL(fileURLWithPath: directory + "/meta.json"))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: onnxPython ?? "python3")
    process.arguments = [repositoryRoot + "/Scripts/check_onnx.py", directory]
    let out = Pipe()
    process.standardOutput = out
    let errorPath = directory + "/stderr.txt"
    FileManager.default.createFile(atPath: errorPath, contents: nil)
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
    #expect(process.terminationStatus == 0, "check_onnx.py failed: \(errors)")
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  /// Float: ONNX Runtime sums in float32 what the library sums in Double;
  /// the probabilities differ by the rounding of those sums, within
  /// `floatTolerance` (1e-6 unless the data needs more, see
  /// `floatTolerance(_:_:)`). Double: the same arithmetic in another order,
  /// within `doubleTolerance` (1e-12; 1e-6 for GELU, whose erf the double
  /// graph computes in float).
  private func check(
    _ model: SoftmaxClassifier, on features: Matrix<Double>, _ name: String,
    floatTolerance: Double = 1e-6, doubleTolerance: Double = 1e-12
  ) throws {
    for (precision, tolerance) in [
      (ONNXExport.Precision.float, floatTolerance), (.double, doubleTolerance),
    ] {
      let report = try run(model, on: features, precision: precision)
      let difference = try #require(report["max_abs_diff"] as? Double)
      #expect(difference <= tolerance, "\(name) \(precision): \(difference)")
      #expect(report["labels_equal"] as? Bool == true, "\(name) \(precision): \(report)")
      #expect(report["rows"] as? Int == features.rows)
    }
  }

  @Test("iris and digits (standardized, with a temperature): probabilities and labels")
  func linear() throws {
    let iris = try Labelled(csv: "iris")
    try check(try fitted(iris) { $0.standardize = true }, on: iris.features, "iris")
    let digits = try Labelled(csv: "digits")
    var model = try fitted(digits) { $0.standardize = true }
    model.temperature = 2.5
    try check(model, on: digits.features, "digits")
  }

  @Test("networks of every activation on digits")
  func networks() throws {
    let digits = try Labelled(csv: "digits")
    for activation in Activation.allCases {
      try check(
        try network(activation, data: digits), on: digits.features, "\(activation)",
        doubleTolerance: activation == .gelu ? 1e-6 : 1e-12)
    }
  }

  @Test("MNIST (../shared/data/mnist; skipped without it)")
  func mnist() throws {
    let directory = repositoryRoot + "/../shared/data/mnist"
    guard FileManager.default.fileExists(atPath: directory + "/t10k-images.idx3-ubyte") else {
      print("MNIST ONNX test skipped: \(directory) is absent")
      return
    }
    let test = try IDXReader.read(
      images: directory + "/t10k-images.idx3-ubyte", labels: directory + "/t10k-labels.idx1-ubyte",
      as: Double.self)
    let encoding = ClassEncoding(labels: test.labels ?? [])
    let data = Labelled(
      features: test.features, labels: encoding.indices, classes: encoding.classes)
    let model = try fitted(data) {
      $0.standardize = true
      $0.lbfgs.maxIterations = 30
    }
    try check(
      model, on: data.features, "MNIST", floatTolerance: floatTolerance(model, data.features))
  }

  /// How far float32 probabilities of a linear model may be from the
  /// library's: each logit is a sum of `d + 1` terms `Wₖⱼ·x̃ⱼ` and `bₖ`
  /// rounded in float32 (`u = 2⁻²⁴`), off by about `u·Σ|terms|` (the sum's
  /// condition; a few u, as the errors of pairwise or blocked sums do not
  /// grow with `d` in practice), and a probability moves by at most half
  /// the largest logit change. 8·u·max Σ|terms| leaves room for the
  /// standardization's own rounding; at least 1e-6. On MNIST Σ|terms|
  /// reaches about 200 (pixels of rare strokes standardize to ±100), so
  /// float32 cannot meet 1e-6 there.
  private func floatTolerance(_ model: SoftmaxClassifier, _ features: Matrix<Double>) -> Double {
    let mean = model.standardization?.mean ?? []
    let inverse = model.standardization?.inverseScale ?? []
    var largest = 0.0
    for i in 0..<features.rows {
      let x = features.row(i).enumerated().map { c, v in
        mean.isEmpty ? v : (v - mean[c]) * inverse[c]
      }
      for k in 0..<model.classCount {
        var sum = abs(model.bias[k])
        for (c, v) in x.enumerated() { sum += abs(model.weight[k, c] * v) }
        largest = max(largest, sum)
      }
    }
    return max(1e-6, 8 * 0x1p-24 * largest)
  }
}
