//===--- main.swift -------------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Prints the textbook softmax network, worked step by step with numbers:
//
//     swift run worked-example
//
// The `softmax explain` command will take this over; the math lives in
// SoftmaxCore's `WorkedExample`.

import SoftmaxCore

let example = WorkedExample<Double>.standard
let outputNames = ["4", "5", "6"]
let inputNames = ["1", "2", "3"]

func format(_ x: Double) -> String {
  let rounded = (x * 1e6).rounded() / 1e6
  let text = "\(rounded == 0 ? 0 : rounded)"
  return x >= 0 ? " " + text : text
}

func section(_ title: String) {
  print("\n== \(title)")
}

section("Inputs and weights (z_j = w_j1·o1 + w_j2·o2 + w_j3·o3 + b_j)")
for (i, o) in example.inputs.enumerated() { print("  o\(inputNames[i]) = \(format(o))") }
for j in 0..<3 {
  let ws = (0..<3).map {
    "w\(outputNames[j])\(inputNames[$0]) = \(format(example.layer.weight[j, $0]))"
  }
  print(
    "  " + ws.joined(separator: "   ") + "   b\(outputNames[j]) = \(format(example.layer.bias[j]))")
}

section("Forward: logits, softmax a_j = e^z_j / Σ e^z_k, cross-entropy")
let z = example.logits
let a = example.probabilities
for j in 0..<3 {
  print("  z\(outputNames[j]) = \(format(z[j]))   a\(outputNames[j]) = \(format(a[j]))")
}
print("  Σ a = \(format(a.reduce(0, +)))")
print("  target: z\(outputNames[example.target]), y = \(example.oneHotTarget.map { Int($0) })")
print("  L = -log a\(outputNames[example.target]) = \(format(example.loss))")

section("The softmax Jacobian ∂a_i/∂z_j: a_i(1 - a_i) if i = j, -a_i·a_j if i ≠ j")
let jac = example.jacobian
for i in 0..<3 {
  let row = (0..<3).map { j in
    let formula =
      i == j ? "a\(outputNames[i])(1-a\(outputNames[i]))" : "-a\(outputNames[i])a\(outputNames[j])"
    return "\(formula) = \(format(jac[i, j]))"
  }
  print("  " + row.joined(separator: "   "))
}

section("Chain rule: ∂L/∂z = Jᵀ·∂L/∂a collapses to a - y")
let viaJacobian = example.logitGradientThroughJacobian
let collapsed = example.logitGradient
for j in 0..<3 {
  print(
    "  ∂L/∂z\(outputNames[j]): Jᵀ·(-y/a) = \(format(viaJacobian[j]))   a - y = \(format(collapsed[j]))"
  )
}

section("Down to the weights: ∂L/∂w41 = Σ_k ∂L/∂a_k · ∂a_k/∂z4 · ∂z4/∂w41")
let terms = example.chainRuleTerms(output: 0, input: 0)
for (k, t) in terms.enumerated() {
  print("  k = \(outputNames[k]): \(format(t))")
}
print(
  "  sum = \(format(terms.reduce(0, +)))   (a4 - y4)·o1 = \(format(collapsed[0] * example.inputs[0]))"
)

section("The whole gradient ∂L/∂w_ji = (a_j - y_j)·o_i, checked by central differences (h = 1e-5)")
let g = example.gradients
let fd = example.finiteDifferences(step: 1e-5)
for j in 0..<3 {
  for i in 0..<3 {
    let diff = abs(g.weight[j, i] - fd.weight[j, i])
    print(
      "  ∂L/∂w\(outputNames[j])\(inputNames[i]) = \(format(g.weight[j, i]))   finite difference \(format(fd.weight[j, i]))   |diff| = \(diff)"
    )
  }
  print(
    "  ∂L/∂b\(outputNames[j])  = \(format(g.bias[j]))   finite difference \(format(fd.bias[j]))   |diff| = \(abs(g.bias[j] - fd.bias[j]))"
  )
}

section("One gradient-descent step, η = \(example.learningRate)")
print("  L before = \(format(example.loss))   L after = \(format(example.lossAfterStep))")
