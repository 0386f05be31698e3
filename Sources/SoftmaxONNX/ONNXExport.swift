//===--- ONNXExport.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
public import SoftmaxRegression
import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A trained model as an ONNX file, for ONNX Runtime and every other
/// runtime that reads ONNX.
///
/// The graph uses only default-domain operators of opset
/// ``opsetVersion`` (no `ai.onnx.ml` operators, no ZipMap), with a dynamic
/// batch dimension `N`:
///
/// ```
/// features [N, d] ─ Sub(mean) ─ Mul(1/scale) ─┐      (with a standardization)
///   ┌─────────────────────────────────────────┘
///   └ Gemm(W₁ᵀ, b₁) ─ activation ─ … ─ Gemm(Wᵀ, b) ─ Div(τ) ─ Softmax(axis −1) ─ probabilities [N, k]
///                                                             └ ArgMax(axis 1) ─ Gather(classes) ─ label [N]
/// ```
///
/// Each hidden layer is a `Gemm` followed by `Relu`, `Tanh`, `Gelu` (the
/// exact erf form, as the library's), `Sigmoid`, or nothing (identity);
/// in `double`, GELU is written out with its `erf` computed in `float`
/// (ONNX Runtime has no double `Erf`), so a GELU network's double
/// probabilities agree with the library's to about 1e-7, not 1e-15;
/// the temperature's `Div` is left out when `τ = 1`. The standardization
/// is computed as the library computes it, `(x − mean)·(1/scale)`, not
/// folded into the weights. The input is named ``inputName``, the outputs
/// ``probabilitiesName`` (`float` or `double`, as the input) and
/// ``labelName`` (`string`: the class names). A model of text exports the
/// part after featurization: its input is the tf-idf vector of a document
/// (`d` = the vocabulary's size, dense), which the runtime's caller
/// computes.
///
/// In `float` the parameters are rounded to the nearest `Float` and the
/// runtime computes in `Float`: its probabilities differ from the
/// library's (computed in `Double`) by the rounding of `d`-term sums,
/// about 1e-7 relative of the logits' terms. In `double` they agree to
/// about 1e-15.
public enum ONNXExport {
  /// The element type of the graph's input, parameters and
  /// probabilities.
  public enum Precision: String, Sendable, Hashable, CaseIterable {
    /// `float` (ONNX's `FLOAT`, 32 bits).
    case float
    /// `double` (ONNX's `DOUBLE`, 64 bits).
    case double
  }

  /// The ONNX opset of the default domain the graph imports (20: the
  /// first with `Gelu`).
  public static let opsetVersion: Int64 = 20
  /// The ONNX IR version written (9, which opset 20 belongs to).
  public static let irVersion: Int64 = 9
  /// The graph's input: `[N, d]` features.
  public static let inputName = "features"
  /// The graph's probabilities output: `[N, k]`.
  public static let probabilitiesName = "probabilities"
  /// The graph's label output: `[N]` class names.
  public static let labelName = "label"

  /// The ONNX model of `model`, serialized (the bytes of a `.onnx` file).
  ///
  /// - Parameters:
  ///   - model: a trained model (linear or with hidden layers).
  ///   - precision: the element type of the graph.
  /// - Throws: ``ONNXExportError`` for a model that cannot predict (a
  ///   parameter that is not finite), or a parameter that overflows
  ///   `Float` in `float` precision (export it in `double`).
  /// - Complexity: O(parameters); the file holds each parameter once, 4 or
  ///   8 bytes.
  public static func serialized(_ model: SoftmaxClassifier, precision: Precision = .float)
    throws(ONNXExportError) -> [UInt8]
  {
    var builder = try GraphBuilder(model: model, precision: precision)
    let graph = try builder.graph()
    var proto = Onnx_ModelProto()
    proto.irVersion = irVersion
    proto.producerName = "swift-softmax"
    proto.producerVersion = "0.1.0"
    proto.docString =
      "A softmax classifier of \(model.classCount) classes over \(model.featureCount) features"
      + (model.hiddenLayers.isEmpty
        ? "" : " with hidden layers of widths \(model.hiddenLayers.map(\.outputCount))")
      + (model.temperature == 1 ? "" : ", temperature \(model.temperature)")
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = opsetVersion
    proto.opsetImport = [opset]
    proto.graph = graph
    var temperature = Onnx_StringStringEntryProto()
    temperature.key = "temperature"
    temperature.value = "\(model.temperature)"
    proto.metadataProps = [temperature]
    do {
      return try proto.serializedBytes()
    } catch {
      throw ONNXExportError("the ONNX model cannot be serialized: \(error)")
    }
  }
}

/// Why a model cannot be exported.
public struct ONNXExportError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What is wrong, naming the parameter.
  public var message: String

  /// An error with `message`.
  public init(_ message: String) { self.message = message }

  /// The message.
  public var description: String { message }
}

/// Builds the graph of one model: nodes, initializers, inputs, outputs.
private struct GraphBuilder {
  let model: SoftmaxClassifier
  let precision: ONNXExport.Precision
  var nodes: [Onnx_NodeProto] = []
  var initializers: [Onnx_TensorProto] = []

  init(model: SoftmaxClassifier, precision: ONNXExport.Precision) throws(ONNXExportError) {
    if let problem = model.parameterProblem() {
      throw ONNXExportError("the model cannot be exported: \(problem)")
    }
    self.model = model
    self.precision = precision
  }

  var elementType: Int32 {
    (precision == .float ? Onnx_TensorProto.DataType.float : .double).rawValue.int32
  }

  mutating func graph() throws(ONNXExportError) -> Onnx_GraphProto {
    let d = model.featureCount
    let k = model.classCount
    var current = ONNXExport.inputName
    if let standardization = model.standardization {
      try addTensor("mean", standardization.mean, dims: [d])
      try addTensor("inverse_scale", standardization.inverseScale, dims: [d])
      addNode("Sub", [current, "mean"], ["centered"])
      addNode("Mul", ["centered", "inverse_scale"], ["standardized"])
      current = "standardized"
    }
    for (l, layer) in model.hiddenLayers.enumerated() {
      let name = "hidden\(l + 1)"
      try addTensor(
        "\(name)_weight", layer.weight.elements, dims: [layer.outputCount, layer.inputCount])
      try addTensor("\(name)_bias", layer.bias, dims: [layer.outputCount])
      addNode(
        "Gemm", [current, "\(name)_weight", "\(name)_bias"], ["\(name)_preactivation"],
        [Self.intAttribute("transB", 1)])
      current = "\(name)_preactivation"
      if model.activation == .gelu && precision == .double {
        try addDoubleGELU(current, output: "\(name)_output", layer: name)
        current = "\(name)_output"
      } else if let op = Self.operatorName(of: model.activation) {
        addNode(op, [current], ["\(name)_output"])
        current = "\(name)_output"
      }
    }
    try addTensor("weight", model.weight.elements, dims: [k, model.weight.columns])
    try addTensor("bias", model.bias, dims: [k])
    addNode("Gemm", [current, "weight", "bias"], ["logits"], [Self.intAttribute("transB", 1)])
    current = "logits"
    if model.temperature != 1 {
      try addTensor("temperature", [model.temperature], dims: [])
      addNode("Div", [current, "temperature"], ["scaled_logits"])
      current = "scaled_logits"
    }
    addNode(
      "Softmax", [current], [ONNXExport.probabilitiesName], [Self.intAttribute("axis", -1)])
    addNode(
      "ArgMax", [current], ["class_index"],
      [Self.intAttribute("axis", 1), Self.intAttribute("keepdims", 0)])
    var classes = Onnx_TensorProto()
    classes.name = "classes"
    classes.dims = [Int64(k)]
    classes.dataType = Onnx_TensorProto.DataType.string.rawValue.int32
    classes.stringData = model.classes.map { Data($0.utf8) }
    initializers.append(classes)
    addNode(
      "Gather", ["classes", "class_index"], [ONNXExport.labelName], [Self.intAttribute("axis", 0)])

    var graph = Onnx_GraphProto()
    graph.name = "softmax_classifier"
    graph.node = nodes
    graph.initializer = initializers
    var input = Self.valueInfo(ONNXExport.inputName, elementType, dims: [nil, d])
    if let names = model.featureNames {
      input.docString = "features, in this order: " + names.joined(separator: ", ")
    }
    graph.input = [input]
    graph.output = [
      Self.valueInfo(ONNXExport.probabilitiesName, elementType, dims: [nil, k]),
      Self.valueInfo(
        ONNXExport.labelName, Onnx_TensorProto.DataType.string.rawValue.int32, dims: [nil]),
    ]
    return graph
  }

  /// The ONNX operator of a hidden layer's activation, `nil` for identity.
  static func operatorName(of activation: Activation) -> String? {
    switch activation {
    case .relu: return "Relu"
    case .tanh: return "Tanh"
    case .gelu: return "Gelu"
    case .logistic: return "Sigmoid"
    case .identity: return nil
    }
  }

  /// GELU in double, `½·x·(1 + erf(x/√2))` node by node with `erf` in
  /// float: ONNX Runtime has no double `Erf` (which its `Gelu` expands
  /// into), so the graph casts for that one operator.
  mutating func addDoubleGELU(_ input: String, output: String, layer: String)
    throws(ONNXExportError)
  {
    if !initializers.contains(where: { $0.name == "gelu_scale" }) {
      try addTensor("gelu_scale", [(0.5 as Double).squareRoot()], dims: [])
      try addTensor("one", [1], dims: [])
      try addTensor("half", [0.5], dims: [])
    }
    addNode("Mul", [input, "gelu_scale"], ["\(layer)_scaled"])
    addNode(
      "Cast", ["\(layer)_scaled"], ["\(layer)_scaled_float"],
      [Self.intAttribute("to", Int64(Onnx_TensorProto.DataType.float.rawValue))])
    addNode("Erf", ["\(layer)_scaled_float"], ["\(layer)_erf_float"])
    addNode(
      "Cast", ["\(layer)_erf_float"], ["\(layer)_erf"],
      [Self.intAttribute("to", Int64(Onnx_TensorProto.DataType.double.rawValue))])
    addNode("Add", ["\(layer)_erf", "one"], ["\(layer)_one_plus_erf"])
    addNode("Mul", [input, "\(layer)_one_plus_erf"], ["\(layer)_twice"])
    addNode("Mul", ["\(layer)_twice", "half"], [output])
  }

  mutating func addNode(
    _ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []
  ) {
    var node = Onnx_NodeProto()
    node.opType = op
    node.name = "\(op.lowercased())_\(nodes.count)"
    node.input = inputs
    node.output = outputs
    node.attribute = attributes
    nodes.append(node)
  }

  /// An initializer of `values` in the graph's precision, little-endian
  /// raw bytes.
  mutating func addTensor(_ name: String, _ values: [Double], dims: [Int]) throws(ONNXExportError) {
    var tensor = Onnx_TensorProto()
    tensor.name = name
    tensor.dims = dims.map(Int64.init)
    tensor.dataType = elementType
    var bytes = Data()
    switch precision {
    case .float:
      bytes.reserveCapacity(values.count * 4)
      for (index, value) in values.enumerated() {
        let narrow = Float(value)
        guard narrow.isFinite else {
          throw ONNXExportError(
            "\(name)[\(index)] = \(value) overflows float32; export in double precision")
        }
        withUnsafeBytes(of: narrow.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
      }
    case .double:
      bytes.reserveCapacity(values.count * 8)
      for value in values {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
      }
    }
    tensor.rawData = bytes
    initializers.append(tensor)
  }

  static func intAttribute(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
    var attribute = Onnx_AttributeProto()
    attribute.name = name
    attribute.type = .int
    attribute.i = value
    return attribute
  }

  /// A tensor's type and shape; a `nil` dimension is the batch, `N`.
  static func valueInfo(_ name: String, _ elementType: Int32, dims: [Int?]) -> Onnx_ValueInfoProto {
    var shape = Onnx_TensorShapeProto()
    shape.dim = dims.map { size in
      var dimension = Onnx_TensorShapeProto.Dimension()
      if let size { dimension.dimValue = Int64(size) } else { dimension.dimParam = "N" }
      return dimension
    }
    var tensorType = Onnx_TypeProto.Tensor()
    tensorType.elemType = elementType
    tensorType.shape = shape
    var type = Onnx_TypeProto()
    type.tensorType = tensorType
    var info = Onnx_ValueInfoProto()
    info.name = name
    info.type = type
    return info
  }
}

extension Int {
  fileprivate var int32: Int32 { Int32(self) }
}
