//===--- Export.swift -----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxData
import SoftmaxONNX
import SoftmaxRegression

/// `--precision` of `export`.
enum ExportPrecision: String, ExpressibleByArgument, CaseIterable {
  case float, double

  var precision: ONNXExport.Precision { self == .float ? .float : .double }
}

struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a model for another runtime: ONNX.",
    discussion: """
      Writes MODEL as an ONNX graph of default-domain operators (opset 20, no ai.onnx.ml, no \
      ZipMap) with a dynamic batch dimension: input "features" [N, d]; outputs \
      "probabilities" [N, k] (softmax of the logits over the model's temperature) and "label" \
      [N] (the class names). Standardization, hidden layers and their activations, and the \
      temperature are in the graph. A model of text exports the part after featurization: its \
      input is a document's tf-idf vector. --precision float (default) computes in float32, \
      as most runtimes do; double reproduces the library's probabilities to about 1e-15.

      Examples:
        softmax export model.json --onnx model.onnx
        softmax export model.json --onnx model.onnx --precision double
      """)

  @Argument(help: "The model file (from softmax train).")
  var model: String

  @Option(help: ArgumentHelp("Where to write the ONNX model.", valueName: "path.onnx"))
  var onnx: String

  @Option(help: "The graph's element type: float (float32) or double.")
  var precision: ExportPrecision = .float

  func run() throws {
    try reportingFailures {
      try checkOutputs(
        [NamedPath(role: "--onnx", path: onnx)],
        against: [NamedPath(role: "the model", path: model)])
      let classifier = try loadModel(model)
      let bytes: [UInt8]
      do {
        bytes = try ONNXExport.serialized(classifier, precision: precision.precision)
      } catch let error as ONNXExportError {
        throw CommandFailure("\(model): \(error.message)")
      }
      try AtomicFile.write(bytes, to: onnx)
      print(
        "ONNX model written to \(onnx) (\(precision.rawValue), \(bytes.count) bytes): input \"\(ONNXExport.inputName)\" [N, \(classifier.featureCount)], outputs \"\(ONNXExport.probabilitiesName)\" [N, \(classifier.classCount)] and \"\(ONNXExport.labelName)\" [N]"
      )
    }
  }
}
