//===--- DenseLayerTests.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
import Testing
import _SoftmaxTestSupport

@Suite("Dense layer and its chain rule")
struct DenseLayerTests {
  @Test("z = W·o + b by hand for the textbook layer")
  func forwardByHand() {
    let layer = DenseLayer<Double>(
      weight: Matrix([[1, 2, 3], [4, 5, 6]]), bias: [0.5, -1])
    let expected: [Double] = [1 - 3 + 0.5, 4 - 6 - 1]
    #expect(layer([1, 0, -1]) == expected)
    let batch = Matrix<Double>([[1, 0, -1], [0, 1, 0]])
    let expectedBatch: [[Double]] = [[-1.5, -3], [2.5, 4]]
    #expect(layer(batch).rowArrays == expectedBatch)
  }

  @Test("Backward through dense + softmax + cross-entropy equals finite differences")
  func chainRuleByFiniteDifferences() throws {
    var generator = SplitMix64(seed: 41)
    let (batch, inputs, outputs) = (5, 4, 3)
    let o = Matrix(
      rows: batch, columns: inputs,
      elements: [Double].random(count: batch * inputs, in: -2...2, using: &generator))
    let w = [Double].random(count: outputs * inputs, in: -1...1, using: &generator)
    let b = [Double].random(count: outputs, in: -1...1, using: &generator)
    let labels = [0, 2, 1, 1, 0]
    func loss(_ w: [Double], _ b: [Double], _ o: Matrix<Double>) -> Double {
      let layer = DenseLayer(weight: Matrix(rows: outputs, columns: inputs, elements: w), bias: b)
      return (try? crossEntropy(logits: layer(o), labels: labels)) ?? .nan
    }
    let layer = DenseLayer(weight: Matrix(rows: outputs, columns: inputs, elements: w), bias: b)
    let g = try crossEntropyWithGradient(logits: layer(o), labels: labels).gradient
    let grads = layer.gradients(input: o, outputGradient: g)
    let dW = centralDifferenceGradient(at: w) { loss($0, b, o) }
    let db = centralDifferenceGradient(at: b) { loss(w, $0, o) }
    let dO = centralDifferenceGradient(at: o.elements) {
      loss(w, b, Matrix(rows: batch, columns: inputs, elements: $0))
    }
    for (x, y) in zip(grads.weight.elements, dW) { #expect(abs(x - y) < 1e-9) }
    for (x, y) in zip(grads.bias, db) { #expect(abs(x - y) < 1e-9) }
    for (x, y) in zip(grads.input.elements, dO) { #expect(abs(x - y) < 1e-9) }
  }

  @Test("For one sample, ∂L/∂w_ji = (a_j - y_j)·o_i")
  func textbookFormula() throws {
    let o: [Double] = [0.2, -0.4, 0.9]
    let layer = DenseLayer<Double>(
      weight: Matrix([[0.1, 0.2, 0.3], [-0.3, 0.2, 0.7], [0.4, -0.3, 0.9]]), bias: [0, 0.1, -0.1])
    let a = softmax(layer(o))
    let y: [Double] = [0, 1, 0]
    let g = try crossEntropyWithGradient(logits: Matrix([layer(o)]), labels: [1]).gradient
    let grads = layer.gradients(input: Matrix([o]), outputGradient: g)
    for j in 0..<3 {
      #expect(abs(grads.bias[j] - (a[j] - y[j])) < 1e-16)
      for i in 0..<3 {
        #expect(abs(grads.weight[j, i] - (a[j] - y[j]) * o[i]) < 1e-16)
      }
    }
  }
}
