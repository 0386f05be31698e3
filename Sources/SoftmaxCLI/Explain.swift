//===--- Explain.swift ----------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import SoftmaxCore

struct Explain: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Work the textbook softmax network out step by step, with numbers.",
    discussion: """
      Inputs o1..o3 feed outputs z4..z6 through weights w41..w63 (w_ji joins input i to \
      output j) and biases b4..b6: z = W·o + b, a = softmax(z), L = -Σ y_i log a_i for a \
      one-hot target y. Shows the Jacobian ∂a_i/∂z_j with its two cases, the chain rule \
      collapsing to ∂L/∂z = a - y, ∂L/∂w41 term by term, the whole gradient, one step of \
      gradient descent and the loss after it; every derivative is checked against central \
      finite differences and the difference printed. Any size works: n inputs and k \
      outputs number 1..n and n+1..n+k.

      Examples:
        softmax explain
        softmax explain --target 5 --learning-rate 0.1
        softmax explain --inputs 1,0,-1 --weights 0.5,0.1,0.2,0.3,0.2,0.1,0.4,0.3,0.9 --bias 0,0,0
        softmax explain --json
        softmax explain --hidden 2 --activation relu

      With --hidden N the network has a hidden layer: u = V·o + c, h = f(u), z = W·h + b, \
      and the chain rule is carried through it: ∂L/∂h = Wᵀ(a - y), ∂L/∂u = ∂L/∂h ⊙ f′(u), \
      ∂L/∂V = ∂L/∂u·oᵀ; with --hidden the outputs are numbered 1 to 3.
      """)

  @Option(help: ArgumentHelp("The inputs o1..on, comma-separated.", valueName: "o1,o2,..."))
  var inputs: String = "0.1,0.2,0.7"

  @Option(
    help: ArgumentHelp(
      "The weights row by row (output j's weights together): w41,w42,w43,w51,...,w63.",
      valueName: "w41,w42,..."))
  var weights: String = Explain.textbookWeights

  /// The textbook's weights, `--weights`' default.
  static let textbookWeights = "0.1,0.2,0.3,0.3,0.2,0.7,0.4,0.3,0.9"

  @Option(help: ArgumentHelp("The biases b4..b(n+k) (default: all 1).", valueName: "b4,b5,..."))
  var bias: String?

  @Option(help: "The target output, by its number (4 is the first of three inputs' outputs).")
  var target: Int?

  @Option(help: "The learning rate η of the gradient-descent step.")
  var learningRate: Double = 0.5

  @Option(name: .customLong("fd-step"), help: "The step h of the central finite differences.")
  var finiteDifferenceStep: Double = 1e-5

  @Option(
    help: ArgumentHelp(
      "Put a hidden layer of this many units between the inputs and the softmax (its weights and the softmax layer's follow a fixed pattern of tenths; --inputs, --target and --learning-rate still apply).",
      valueName: "units"))
  var hidden: Int?

  @Option(help: "The hidden layer's activation (with --hidden).")
  var activation: ActivationChoice = .tanh

  @Flag(help: "Print one JSON object with every number.")
  var json = false

  func parseList(_ text: String, _ name: String) throws -> [Double] {
    let parts = text.split { $0 == "," || $0 == " " }
    let values = parts.compactMap { Double($0) }
    guard values.count == parts.count, !values.isEmpty, values.allSatisfy(\.isFinite) else {
      throw ValidationError("\(name) takes finite numbers separated by commas, not \"\(text)\"")
    }
    return values
  }

  func example() throws -> WorkedExample<Double> {
    let o = try parseList(inputs, "--inputs")
    let w = try parseList(weights, "--weights")
    let n = o.count
    guard w.count % n == 0, w.count >= 2 * n else {
      throw ValidationError(
        "--weights has \(w.count) values; with \(n) inputs it needs k·\(n) values for k ≥ 2 outputs"
      )
    }
    let k = w.count / n
    let b = try bias.map { try parseList($0, "--bias") } ?? [Double](repeating: 1, count: k)
    guard b.count == k else {
      throw ValidationError("--bias has \(b.count) values for \(k) outputs")
    }
    let first = n + 1
    let targetNumber = target ?? first
    guard targetNumber >= first, targetNumber < first + k else {
      throw ValidationError(
        "--target must be an output number, \(first) to \(first + k - 1), not \(targetNumber)")
    }
    guard learningRate.isFinite, learningRate > 0 else {
      throw ValidationError("--learning-rate must be finite and > 0")
    }
    guard finiteDifferenceStep.isFinite, finiteDifferenceStep > 0 else {
      throw ValidationError("--fd-step must be finite and > 0")
    }
    return WorkedExample(
      inputs: o, layer: DenseLayer(weight: Matrix(rows: k, columns: n, elements: w), bias: b),
      target: targetNumber - first, learningRate: learningRate)
  }

  /// The example with a hidden layer, for `--hidden`.
  func hiddenExample(width: Int) throws -> HiddenLayerExample<Double> {
    guard width >= 1, width <= 64 else {
      throw ValidationError("--hidden takes 1 to 64 units (every number is printed), not \(width)")
    }
    guard weights == Self.textbookWeights, bias == nil else {
      throw ValidationError(
        "--weights and --bias are for the network without a hidden layer; with --hidden the weights follow a fixed pattern"
      )
    }
    let o = try parseList(inputs, "--inputs")
    let targetNumber = target ?? 1
    guard targetNumber >= 1, targetNumber <= 3 else {
      throw ValidationError(
        "--target with --hidden is an output number, 1 to 3, not \(targetNumber)")
    }
    guard learningRate.isFinite, learningRate > 0 else {
      throw ValidationError("--learning-rate must be finite and > 0")
    }
    guard finiteDifferenceStep.isFinite, finiteDifferenceStep > 0 else {
      throw ValidationError("--fd-step must be finite and > 0")
    }
    var example = HiddenLayerExample<Double>.standard(
      inputs: o, width: width, activation: activation.activation)
    example.target = targetNumber - 1
    example.learningRate = learningRate
    return example
  }

  func run() throws {
    if let hidden {
      let explanation = HiddenExplanation(
        example: try hiddenExample(width: hidden), step: finiteDifferenceStep)
      print(json ? explanation.json.rendered : explanation.text)
      return
    }
    let example = try example()
    let explanation = Explanation(example: example, step: finiteDifferenceStep)
    if json {
      print(explanation.json.rendered)
    } else {
      print(explanation.text)
    }
  }
}

/// The numbers `explain` shows, computed once.
struct Explanation {
  let example: WorkedExample<Double>
  let step: Double
  let n: Int
  let k: Int
  let z: [Double]
  let a: [Double]
  let y: [Double]
  let jacobian: Matrix<Double>
  let jacobianByDifferences: Matrix<Double>
  let throughJacobian: [Double]
  let collapsed: [Double]
  let differences: (weight: Matrix<Double>, bias: [Double], logits: [Double])
  let gradients: DenseLayer<Double>.Gradients

  init(example: WorkedExample<Double>, step: Double) {
    self.example = example
    self.step = step
    n = example.inputs.count
    k = example.layer.outputCount
    z = example.logits
    a = example.probabilities
    y = example.oneHotTarget
    jacobian = example.jacobian
    throughJacobian = example.logitGradientThroughJacobian
    collapsed = example.logitGradient
    differences = example.finiteDifferences(step: step)
    gradients = example.gradients
    // ∂a_i/∂z_j by central differences of softmax itself.
    var byDifferences = Matrix(rows: k, columns: k, repeating: 0.0)
    for j in 0..<k {
      var up = z
      var down = z
      up[j] += step
      down[j] -= step
      let (plus, minus) = (softmax(up), softmax(down))
      for i in 0..<k { byDifferences[i, j] = (plus[i] - minus[i]) / (2 * step) }
    }
    jacobianByDifferences = byDifferences
  }

  func input(_ i: Int) -> String { "o\(i + 1)" }
  func output(_ j: Int) -> String { "\(n + j + 1)" }
  func weightName(_ j: Int, _ i: Int) -> String {
    n + k < 10 ? "w\(output(j))\(i + 1)" : "w\(output(j)),\(i + 1)"
  }

  /// Six decimals, a space for the sign.
  func number(_ x: Double) -> String { signedFixed(x) }

  /// Six decimals, trailing zeros dropped, for numbers inside formulas.
  func plain(_ x: Double) -> String {
    var text = String(fixed: x, digits: 6)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text == "-0" ? "0" : text
  }

  /// A difference as `3.2e-7` (`0` for none).
  func difference(_ x: Double) -> String { String(scientific: abs(x), digits: 1) }

  var text: String {
    var lines: [String] = []
    func section(_ title: String) {
      lines.append("")
      lines.append("== \(title)")
    }
    let target = example.target
    section("1. The network: \(n) inputs, \(k) outputs, z_j = Σ_i w_ji·o_i + b_j")
    lines.append(
      "  " + (0..<n).map { "\(input($0)) = \(number(example.inputs[$0]))" }.joined(separator: "   ")
    )
    for j in 0..<k {
      let ws = (0..<n).map { "\(weightName(j, $0)) = \(number(example.layer.weight[j, $0]))" }
      lines.append(
        "  " + ws.joined(separator: "   ") + "   b\(output(j)) = \(number(example.layer.bias[j]))")
    }
    section("2. Forward: logits, softmax a_j = e^z_j / Σ_k e^z_k")
    for j in 0..<k {
      let terms = (0..<n).map {
        "\(plain(example.layer.weight[j, $0]))·\(plain(example.inputs[$0]))"
      }
      lines.append(
        "  z\(output(j)) = \(terms.joined(separator: " + ")) + \(plain(example.layer.bias[j])) = \(number(z[j]))"
      )
    }
    let sum = z.map { Double.exp($0) }.reduce(0, +)
    lines.append("  Σ e^z = \(number(sum))")
    for j in 0..<k {
      lines.append("  a\(output(j)) = e^\(plain(z[j])) / \(plain(sum)) = \(number(a[j]))")
    }
    lines.append("  Σ a = \(number(a.reduce(0, +)))")
    section("3. Cross-entropy for the target z\(output(target)) (y = \(y.map { Int($0) }))")
    lines.append(
      "  L = -Σ y_i log a_i = -log a\(output(target)) = -log \(plain(a[target])) = \(number(example.loss))"
    )
    section("4. The Jacobian ∂a_i/∂z_j: a_i(1 - a_i) if i = j, -a_i·a_j if i ≠ j")
    for i in 0..<k {
      for j in 0..<k {
        let formula =
          i == j
          ? "a\(output(i))(1 - a\(output(i))) = \(plain(a[i]))·\(plain(1 - a[i]))"
          : "-a\(output(i))·a\(output(j)) = -\(plain(a[i]))·\(plain(a[j]))"
        lines.append(
          "  ∂a\(output(i))/∂z\(output(j)) = \(formula) = \(number(jacobian[i, j]))   finite difference \(number(jacobianByDifferences[i, j]))   |diff| \(difference(jacobian[i, j] - jacobianByDifferences[i, j]))"
        )
      }
    }
    section(
      "5. Chain rule: ∂L/∂z_j = Σ_i ∂L/∂a_i · ∂a_i/∂z_j, with ∂L/∂a_i = -y_i/a_i, collapses to a_j - y_j"
    )
    for j in 0..<k {
      lines.append(
        "  ∂L/∂z\(output(j)): Σ_i (-y_i/a_i)·∂a_i/∂z\(output(j)) = \(number(throughJacobian[j]))   a\(output(j)) - y\(output(j)) = \(plain(a[j])) - \(Int(y[j])) = \(number(collapsed[j]))   finite difference \(number(differences.logits[j]))   |diff| \(difference(collapsed[j] - differences.logits[j]))"
      )
    }
    section(
      "6. Down to one weight: ∂L/∂\(weightName(0, 0)) = Σ_i ∂L/∂a_i · ∂a_i/∂z\(output(0)) · ∂z\(output(0))/∂\(weightName(0, 0))"
    )
    let terms = example.chainRuleTerms(output: 0, input: 0)
    for (i, term) in terms.enumerated() {
      lines.append(
        "  i = \(output(i)): (\(plain(-y[i] / a[i])))·(\(plain(jacobian[i, 0])))·(\(plain(example.inputs[0]))) = \(number(term))"
      )
    }
    lines.append(
      "  sum = \(number(terms.reduce(0, +)))   = (a\(output(0)) - y\(output(0)))·o1 = \(plain(collapsed[0]))·\(plain(example.inputs[0])) = \(number(collapsed[0] * example.inputs[0]))"
    )
    section(
      "7. The whole gradient ∂L/∂w_ji = (a_j - y_j)·o_i, ∂L/∂b_j = a_j - y_j, checked by central differences (h = \(step))"
    )
    var largest = 0.0
    for j in 0..<k {
      for i in 0..<n {
        let diff = abs(gradients.weight[j, i] - differences.weight[j, i])
        largest = max(largest, diff)
        lines.append(
          "  ∂L/∂\(weightName(j, i)) = \(number(gradients.weight[j, i]))   finite difference \(number(differences.weight[j, i]))   |diff| \(difference(diff))"
        )
      }
      let diff = abs(gradients.bias[j] - differences.bias[j])
      largest = max(largest, diff)
      lines.append(
        "  ∂L/∂b\(output(j))\(String(repeating: " ", count: weightName(0, 0).count - 1 - output(j).count)) = \(number(gradients.bias[j]))   finite difference \(number(differences.bias[j]))   |diff| \(difference(diff))"
      )
    }
    lines.append(
      "  largest |diff| \(difference(largest)) (O(h²) truncation plus rounding of order ε·L/h)")
    section("8. One step of gradient descent, η = \(example.learningRate): w ← w - η·∂L/∂w")
    let next = example.updatedLayer
    for j in 0..<k {
      let ws = (0..<n).map { "\(weightName(j, $0)) = \(number(next.weight[j, $0]))" }
      lines.append(
        "  " + ws.joined(separator: "   ") + "   b\(output(j)) = \(number(next.bias[j]))")
    }
    let after = next(example.inputs)
    lines.append(
      "  z after = [\(after.map { number($0) }.joined(separator: ", "))]   a after = [\(softmax(after).map { number($0) }.joined(separator: ", "))]"
    )
    lines.append(
      "  L before = \(number(example.loss))   L after = \(number(example.lossAfterStep))")
    return lines.dropFirst().joined(separator: "\n")
  }

  var json: JSON {
    func matrix(_ m: Matrix<Double>) -> JSON { .array(m.rowArrays.map { JSON.numbers($0) }) }
    let next = example.updatedLayer
    return .object([
      ("inputs", .numbers(example.inputs)),
      ("weights", matrix(example.layer.weight)),
      ("bias", .numbers(example.layer.bias)),
      ("target", .int(n + example.target + 1)),
      ("target_index", .int(example.target)),
      ("logits", .numbers(z)),
      ("probabilities", .numbers(a)),
      ("loss", .number(example.loss)),
      ("jacobian", matrix(jacobian)),
      ("jacobian_finite_difference", matrix(jacobianByDifferences)),
      ("loss_gradient_probabilities", .numbers(example.lossGradientWithRespectToProbabilities)),
      ("logit_gradient_through_jacobian", .numbers(throughJacobian)),
      ("logit_gradient", .numbers(collapsed)),
      ("logit_gradient_finite_difference", .numbers(differences.logits)),
      ("chain_rule_terms_first_weight", .numbers(example.chainRuleTerms(output: 0, input: 0))),
      ("weight_gradient", matrix(gradients.weight)),
      ("weight_gradient_finite_difference", matrix(differences.weight)),
      ("bias_gradient", .numbers(gradients.bias)),
      ("bias_gradient_finite_difference", .numbers(differences.bias)),
      ("finite_difference_step", .number(step)),
      ("learning_rate", .number(example.learningRate)),
      ("weights_after_step", matrix(next.weight)),
      ("bias_after_step", .numbers(next.bias)),
      ("loss_after_step", .number(example.lossAfterStep)),
    ])
  }
}

/// Six decimals, a space for the sign (so that columns of numbers line up).
func signedFixed(_ x: Double) -> String {
  let text = String(fixed: x, digits: 6)
  return x < 0 && text.hasPrefix("-") ? text : " " + text
}
