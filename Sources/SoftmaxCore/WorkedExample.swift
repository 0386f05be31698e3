//===--- WorkedExample.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The textbook network, computed end to end: inputs o1..o3, a dense layer
/// to z4..z6 through weights w41..w63 and biases b4..b6, softmax a4..a6,
/// cross-entropy against a one-hot target, the softmax Jacobian, the chain
/// rule down to `∂L/∂w_ji = (a_j - y_j)·o_i`, one gradient-descent step,
/// and a central finite-difference check of every derivative.
///
/// Nothing here prints: the `softmax explain` command and the DocC
/// article <doc:TextbookExample> show these numbers, and the tests check them.
///
/// Indices are 0-based in code: output `j` (0, 1, 2) is z4, z5, z6 and input
/// `i` (0, 1, 2) is o1, o2, o3, so `weight[0, 0]` is w41.
public struct WorkedExample<T: SoftmaxScalar>: Sendable {
  /// The inputs o1, o2, o3.
  public var inputs: [T]
  /// The layer: `weight[j, i]` is `w_(j+4)(i+1)`, `bias[j]` is `b_(j+4)`.
  public var layer: DenseLayer<T>
  /// The index (0, 1 or 2) of the target class among z4, z5, z6.
  public var target: Int
  /// The learning rate η of the gradient-descent step.
  public var learningRate: T

  /// The defaults: o = (0.1, 0.2, 0.7); w41..w43 = 0.1, 0.2, 0.3;
  /// w51..w53 = 0.3, 0.2, 0.7; w61..w63 = 0.4, 0.3, 0.9; b = (1, 1, 1);
  /// target z4 (index 0); η = 0.5.
  public static var standard: WorkedExample {
    WorkedExample(
      inputs: [0.1, 0.2, 0.7],
      layer: DenseLayer(
        weight: Matrix([[0.1, 0.2, 0.3], [0.3, 0.2, 0.7], [0.4, 0.3, 0.9]]),
        bias: [1, 1, 1]),
      target: 0, learningRate: 0.5)
  }

  /// Creates an example from its inputs, layer, target and learning rate.
  ///
  /// - Precondition: `inputs.count == layer.inputCount` and `target` is in
  ///   `0..<layer.outputCount`.
  public init(inputs: [T], layer: DenseLayer<T>, target: Int, learningRate: T) {
    precondition(inputs.count == layer.inputCount, "need \(layer.inputCount) inputs")
    precondition(target >= 0 && target < layer.outputCount, "target out of range")
    self.inputs = inputs
    self.layer = layer
    self.target = target
    self.learningRate = learningRate
  }

  /// The one-hot target y.
  public var oneHotTarget: [T] {
    (0..<layer.outputCount).map { $0 == target ? 1 : 0 }
  }

  /// The logits `z = W·o + b` (z4, z5, z6).
  public var logits: [T] { layer(inputs) }

  /// The probabilities `a = softmax(z)` (a4, a5, a6).
  public var probabilities: [T] { softmax(logits) }

  /// The loss `L = -Σ y_i log a_i = -log a_target`.
  public var loss: T {
    Self.loss(layer: layer, inputs: inputs, target: target)
  }

  /// The Jacobian `∂a_i/∂z_j`: `a_i(1 - a_i)` on the diagonal, `-a_i·a_j` off it.
  public var jacobian: Matrix<T> { softmaxJacobian(output: probabilities) }

  /// `∂L/∂a_i = -y_i / a_i`.
  public var lossGradientWithRespectToProbabilities: [T] {
    zip(oneHotTarget, probabilities).map { y, a in -y / a }
  }

  /// `∂L/∂z = Jᵀ·∂L/∂a`, computed through the Jacobian (the long way).
  public var logitGradientThroughJacobian: [T] {
    let j = jacobian
    let g = lossGradientWithRespectToProbabilities
    return (0..<layer.outputCount).map { col in
      (0..<layer.outputCount).reduce(T.zero) { $0 + j[$1, col] * g[$1] }
    }
  }

  /// `∂L/∂z = a - y`, the collapsed form.
  public var logitGradient: [T] {
    zip(probabilities, oneHotTarget).map { $0 - $1 }
  }

  /// The three terms of the chain rule for `∂L/∂w_ji`:
  /// `(∂L/∂a_k)·(∂a_k/∂z_j)·(∂z_j/∂w_ji)` for each output k.
  public func chainRuleTerms(output j: Int, input i: Int) -> [T] {
    let g = lossGradientWithRespectToProbabilities
    let jac = jacobian
    return (0..<layer.outputCount).map { k in g[k] * jac[k, j] * inputs[i] }
  }

  /// The gradients of L with respect to W, b and o.
  public var gradients: DenseLayer<T>.Gradients {
    layer.gradients(
      input: Matrix(rows: 1, columns: inputs.count, elements: inputs),
      outputGradient: Matrix(rows: 1, columns: layer.outputCount, elements: logitGradient))
  }

  /// The layer after one step of gradient descent: `W - η·∂L/∂W`, `b - η·∂L/∂b`.
  public var updatedLayer: DenseLayer<T> { layer.descending(gradients, learningRate: learningRate) }

  /// The loss after the gradient-descent step.
  public var lossAfterStep: T {
    Self.loss(layer: updatedLayer, inputs: inputs, target: target)
  }

  /// Central finite differences `(L(θ + h) - L(θ - h)) / 2h` for every
  /// weight (`weight`), bias (`bias`) and logit (`logits`), with step `h`.
  ///
  /// Their difference from the analytic gradient is O(h²) plus rounding of
  /// order `u·L/h`; with `Double` and `h = 1e-5`, about 1e-10.
  public func finiteDifferences(step h: T) -> (weight: Matrix<T>, bias: [T], logits: [T]) {
    var weight = Matrix(rows: layer.outputCount, columns: layer.inputCount, repeating: T.zero)
    var bias = [T](repeating: 0, count: layer.outputCount)
    func centralDifference(_ perturb: (inout DenseLayer<T>, T) -> Void) -> T {
      var plus = layer
      var minus = layer
      perturb(&plus, h)
      perturb(&minus, -h)
      let up = Self.loss(layer: plus, inputs: inputs, target: target)
      let down = Self.loss(layer: minus, inputs: inputs, target: target)
      return (up - down) / (2 * h)
    }
    for j in 0..<layer.outputCount {
      bias[j] = centralDifference { $0.bias[j] += $1 }
      for i in 0..<layer.inputCount {
        weight[j, i] = centralDifference { $0.weight[j, i] += $1 }
      }
    }
    let z = logits
    let logitDifferences = (0..<z.count).map { k in
      var up = z
      var down = z
      up[k] += h
      down[k] -= h
      return (-logSoftmax(up)[target] + logSoftmax(down)[target]) / (2 * h)
    }
    return (weight, bias, logitDifferences)
  }

  static func loss(layer: DenseLayer<T>, inputs: [T], target: Int) -> T {
    -logSoftmax(layer(inputs))[target]
  }
}
