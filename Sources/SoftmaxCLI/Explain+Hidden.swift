//===--- Explain+Hidden.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// The numbers `explain --hidden N` shows: the textbook network with a
/// hidden layer, forward, backpropagation through the hidden layer, every
/// derivative against central finite differences, one step.
struct HiddenExplanation {
  let example: HiddenLayerExample<Double>
  let step: Double
  let differences: (hidden: DenseLayer<Double>, output: DenseLayer<Double>)

  init(example: HiddenLayerExample<Double>, step: Double) {
    self.example = example
    self.step = step
    differences = example.finiteDifferences(step: step)
  }

  func number(_ x: Double) -> String { signedFixed(x) }

  func vector(_ values: [Double]) -> String {
    "(" + values.map { number($0) }.joined(separator: ", ") + ")"
  }

  /// The largest |analytic − finite difference| over a layer's parameters.
  func largestDifference(_ g: DenseLayer<Double>.Gradients, _ d: DenseLayer<Double>) -> Double {
    let weights = zip(g.weight.elements, d.weight.elements).map { abs($0 - $1) }
    let biases = zip(g.bias, d.bias).map { abs($0 - $1) }
    return (weights + biases).max() ?? 0
  }

  var text: String {
    let e = example
    let m = e.hidden.outputCount
    let f = e.activation.rawValue
    let out = e.outputGradients
    let hid = e.hiddenGradients
    var lines: [String] = []
    func section(_ title: String) {
      lines.append("")
      lines.append("== \(title)")
    }
    section(
      "1. The network: \(e.inputs.count) inputs, a hidden layer of \(m) (\(f)), \(e.output.outputCount) outputs"
    )
    lines.append("  u = V·o + c,  h = \(f)(u),  z = W·h + b,  a = softmax(z),  L = -log a_target")
    lines.append("  o = \(vector(e.inputs))")
    for j in 0..<m {
      lines.append(
        "  V row \(j + 1) = \(vector(Array(e.hidden.weight.row(j))))   c\(j + 1) = \(number(e.hidden.bias[j]))"
      )
    }
    for j in 0..<e.output.outputCount {
      lines.append(
        "  W row \(j + 1) = \(vector(Array(e.output.weight.row(j))))   b\(j + 1) = \(number(e.output.bias[j]))"
      )
    }
    section("2. Forward")
    lines.append("  u = V·o + c      = \(vector(e.hiddenPreactivations))")
    lines.append(
      "  h = \(f)(u)\(String(repeating: " ", count: max(0, 9 - f.count))) = \(vector(e.hiddenOutputs))"
    )
    lines.append("  z = W·h + b      = \(vector(e.logits))")
    lines.append("  a = softmax(z)   = \(vector(e.probabilities))")
    lines.append(
      "  L = -log a\(e.target + 1)      = \(number(e.loss))   (target output \(e.target + 1), y = \(e.oneHotTarget.map { Int($0) }))"
    )
    section("3. Backward: the chain rule through the hidden layer")
    lines.append(
      "  ∂L/∂z = a - y              = \(vector(e.logitGradient))   (as without a hidden layer)")
    lines.append("  ∂L/∂W = (a - y)·hᵀ,  ∂L/∂b = a - y   (h in the inputs' place)")
    for j in 0..<e.output.outputCount {
      lines.append("    ∂L/∂W row \(j + 1) = \(vector(Array(out.weight.row(j))))")
    }
    lines.append(
      "  ∂L/∂h = Wᵀ·(a - y)         = \(vector(e.hiddenOutputGradient))   (the error sent back through W)"
    )
    lines.append(
      "  f′(u)                      = \(vector(e.activationDerivatives))   (\(derivativeFormula))")
    lines.append("  ∂L/∂u = ∂L/∂h ⊙ f′(u)      = \(vector(e.hiddenPreactivationGradient))")
    lines.append("  ∂L/∂V = ∂L/∂u·oᵀ,  ∂L/∂c = ∂L/∂u")
    for j in 0..<m {
      lines.append("    ∂L/∂V row \(j + 1) = \(vector(Array(hid.weight.row(j))))")
    }
    section("4. Every derivative against central differences (h = \(step))")
    lines.append(
      "  softmax layer (W, b): largest |diff| \(String(scientific: largestDifference(out, differences.output), digits: 1))"
    )
    lines.append(
      "  hidden layer (V, c):  largest |diff| \(String(scientific: largestDifference(hid, differences.hidden), digits: 1))"
    )
    lines.append("  (O(h²) truncation plus rounding of order ε·L/h)")
    section(
      "5. One step of gradient descent, η = \(e.learningRate): θ ← θ - η·∂L/∂θ for V, c, W, b")
    lines.append("  L before = \(number(e.loss))   L after = \(number(e.lossAfterStep))")
    return lines.dropFirst().joined(separator: "\n")
  }

  /// The derivative of the activation, as a formula.
  var derivativeFormula: String {
    switch example.activation {
    case .relu: "1 where u > 0, else 0"
    case .tanh: "1 - tanh²(u)"
    case .gelu: "Φ(u) + u·φ(u)"
    case .logistic: "σ(u)(1 - σ(u))"
    case .identity: "1"
    }
  }

  var json: JSON {
    func matrix(_ m: Matrix<Double>) -> JSON { .array(m.rowArrays.map { JSON.numbers($0) }) }
    let e = example
    let out = e.outputGradients
    let hid = e.hiddenGradients
    let (nextHidden, nextOutput) = e.updated
    return .object([
      ("inputs", .numbers(e.inputs)),
      ("activation", .string(e.activation.rawValue)),
      ("hidden_weights", matrix(e.hidden.weight)),
      ("hidden_bias", .numbers(e.hidden.bias)),
      ("weights", matrix(e.output.weight)),
      ("bias", .numbers(e.output.bias)),
      ("target_index", .int(e.target)),
      ("hidden_preactivations", .numbers(e.hiddenPreactivations)),
      ("hidden_outputs", .numbers(e.hiddenOutputs)),
      ("logits", .numbers(e.logits)),
      ("probabilities", .numbers(e.probabilities)),
      ("loss", .number(e.loss)),
      ("logit_gradient", .numbers(e.logitGradient)),
      ("weight_gradient", matrix(out.weight)),
      ("weight_gradient_finite_difference", matrix(differences.output.weight)),
      ("bias_gradient", .numbers(out.bias)),
      ("bias_gradient_finite_difference", .numbers(differences.output.bias)),
      ("hidden_output_gradient", .numbers(e.hiddenOutputGradient)),
      ("activation_derivatives", .numbers(e.activationDerivatives)),
      ("hidden_preactivation_gradient", .numbers(e.hiddenPreactivationGradient)),
      ("hidden_weight_gradient", matrix(hid.weight)),
      ("hidden_weight_gradient_finite_difference", matrix(differences.hidden.weight)),
      ("hidden_bias_gradient", .numbers(hid.bias)),
      ("hidden_bias_gradient_finite_difference", .numbers(differences.hidden.bias)),
      ("finite_difference_step", .number(step)),
      ("learning_rate", .number(e.learningRate)),
      ("hidden_weights_after_step", matrix(nextHidden.weight)),
      ("weights_after_step", matrix(nextOutput.weight)),
      ("loss_after_step", .number(e.lossAfterStep)),
    ])
  }
}
