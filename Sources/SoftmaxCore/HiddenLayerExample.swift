//===--- HiddenLayerExample.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The textbook network with a hidden layer, computed end to end: the
/// inputs o feed a hidden layer `u = V·o + c`, `h = f(u)`, which feeds the
/// softmax layer `z = W·h + b`, `a = softmax(z)`, scored by
/// `L = −log a_target`; then backpropagation, the chain rule carried through
/// the hidden layer:
///
///     ∂L/∂z = a − y                      the softmax layer, as without a hidden layer
///     ∂L/∂W = (a − y)·hᵀ,  ∂L/∂b = a − y  h plays the inputs' part
///     ∂L/∂h = Wᵀ·(a − y)                  the error sent back through W
///     ∂L/∂u = ∂L/∂h ⊙ f′(u)               through the activation
///     ∂L/∂V = ∂L/∂u·oᵀ,  ∂L/∂c = ∂L/∂u    the hidden layer's own weights
///
/// one gradient-descent step, and a central finite-difference check of
/// every derivative.
///
/// Nothing here prints: `softmax explain --hidden N` shows these numbers,
/// and the tests check them (against finite differences and against the
/// training objective of a network, an independent implementation).
public struct HiddenLayerExample<T: SoftmaxScalar>: Sendable {
  /// The inputs o.
  public var inputs: [T]
  /// The hidden layer: `weight` is V (`m × n`), `bias` is c.
  public var hidden: DenseLayer<T>
  /// The hidden layer's activation f.
  public var activation: Activation
  /// The softmax layer: `weight` is W (`k × m`), `bias` is b.
  public var output: DenseLayer<T>
  /// The index of the target class.
  public var target: Int
  /// The learning rate η of the gradient-descent step.
  public var learningRate: T

  /// Creates an example.
  ///
  /// - Precondition: the shapes chain (`inputs.count == hidden.inputCount`,
  ///   `hidden.outputCount == output.inputCount`) and `target` is in
  ///   `0..<output.outputCount`.
  public init(
    inputs: [T], hidden: DenseLayer<T>, activation: Activation, output: DenseLayer<T>,
    target: Int, learningRate: T
  ) {
    precondition(inputs.count == hidden.inputCount, "need \(hidden.inputCount) inputs")
    precondition(
      hidden.outputCount == output.inputCount,
      "the hidden layer has \(hidden.outputCount) outputs; the softmax layer takes \(output.inputCount)"
    )
    precondition(target >= 0 && target < output.outputCount, "target out of range")
    self.inputs = inputs
    self.hidden = hidden
    self.activation = activation
    self.output = output
    self.target = target
    self.learningRate = learningRate
  }

  /// The textbook's inputs (o = (0.1, 0.2, 0.7) unless given), first
  /// output as the target and η = 0.5, with `width` hidden units and three
  /// outputs; the weights follow a fixed pattern of tenths (`v_ji = ((3j +
  /// 2i) mod 7 − 3)/10`, `w_ji = ((2j + 3i) mod 5 − 1)/10`), the biases are
  /// 0.1 (hidden) and 1 (outputs).
  ///
  /// - Precondition: `width ≥ 1` and at least one input.
  public static func standard(
    inputs: [T] = [T(0.1), T(0.2), T(0.7)], width: Int, activation: Activation = .tanh
  ) -> HiddenLayerExample {
    precondition(width >= 1, "a hidden layer needs at least one unit")
    precondition(!inputs.isEmpty, "at least one input")
    func tenths(_ count: Int) -> T { T(count) / 10 }
    let v: [[T]] = (0..<width).map { (j: Int) -> [T] in
      (0..<inputs.count).map { (i: Int) -> T in tenths((3 * j + 2 * i) % 7 - 3) }
    }
    let w: [[T]] = (0..<3).map { (j: Int) -> [T] in
      (0..<width).map { (i: Int) -> T in tenths((2 * j + 3 * i) % 5 - 1) }
    }
    return HiddenLayerExample(
      inputs: inputs,
      hidden: DenseLayer(weight: Matrix(v), bias: [T](repeating: T(0.1), count: width)),
      activation: activation,
      output: DenseLayer(weight: Matrix(w), bias: [1, 1, 1]), target: 0,
      learningRate: T(0.5))
  }

  /// The one-hot target y.
  public var oneHotTarget: [T] { (0..<output.outputCount).map { $0 == target ? 1 : 0 } }
  /// `u = V·o + c`.
  public var hiddenPreactivations: [T] { hidden(inputs) }
  /// `h = f(u)`.
  public var hiddenOutputs: [T] { hiddenPreactivations.map { activation($0) } }
  /// `f′(u)`.
  public var activationDerivatives: [T] {
    hiddenPreactivations.map { activation.derivative(at: $0) }
  }
  /// `z = W·h + b`.
  public var logits: [T] { output(hiddenOutputs) }
  /// `a = softmax(z)`.
  public var probabilities: [T] { softmax(logits) }
  /// `L = −log a_target`, computed as `−logSoftmax(z)[target]`.
  public var loss: T { Self.loss(hidden: hidden, output: output, example: self) }

  /// `∂L/∂z = a − y`.
  public var logitGradient: [T] { zip(probabilities, oneHotTarget).map { $0 - $1 } }
  /// `∂L/∂h = Wᵀ·(a − y)`.
  public var hiddenOutputGradient: [T] {
    let delta = logitGradient
    return (0..<output.inputCount).map { i in
      var sum = T.widen(0)
      for j in 0..<output.outputCount {
        sum += T.widen(output.weight[j, i]) * T.widen(delta[j])
      }
      return T.narrow(sum)
    }
  }
  /// `∂L/∂u = ∂L/∂h ⊙ f′(u)`.
  public var hiddenPreactivationGradient: [T] {
    zip(hiddenOutputGradient, activationDerivatives).map { $0 * $1 }
  }

  /// The softmax layer's gradients (`∂L/∂W`, `∂L/∂b`, and `∂L/∂h` as
  /// `input`).
  public var outputGradients: DenseLayer<T>.Gradients {
    output.gradients(
      input: Matrix(rows: 1, columns: output.inputCount, elements: hiddenOutputs),
      outputGradient: Matrix(rows: 1, columns: output.outputCount, elements: logitGradient))
  }

  /// The hidden layer's gradients (`∂L/∂V`, `∂L/∂c`, and `∂L/∂o` as
  /// `input`).
  public var hiddenGradients: DenseLayer<T>.Gradients {
    hidden.gradients(
      input: Matrix(rows: 1, columns: inputs.count, elements: inputs),
      outputGradient: Matrix(
        rows: 1, columns: hidden.outputCount, elements: hiddenPreactivationGradient))
  }

  /// Both layers after one step of gradient descent, `θ − η·∂L/∂θ`.
  public var updated: (hidden: DenseLayer<T>, output: DenseLayer<T>) {
    (
      hidden.descending(hiddenGradients, learningRate: learningRate),
      output.descending(outputGradients, learningRate: learningRate)
    )
  }

  /// The loss after the step.
  public var lossAfterStep: T {
    let (h, o) = updated
    return Self.loss(hidden: h, output: o, example: self)
  }

  /// Central finite differences `(L(θ + h) − L(θ − h)) / 2h` for every
  /// parameter of both layers, shaped as the layers.
  ///
  /// Their difference from the analytic gradient is O(h²) plus rounding of
  /// order `u·L/h`; with `Double` and `h = 1e-5`, about 1e-10 (ReLU's kink
  /// aside: a `u` within `h` of 0 has no derivative).
  public func finiteDifferences(step h: T) -> (hidden: DenseLayer<T>, output: DenseLayer<T>) {
    func central(_ perturb: (inout DenseLayer<T>, inout DenseLayer<T>, T) -> Void) -> T {
      var (h1, o1) = (hidden, output)
      var (h2, o2) = (hidden, output)
      perturb(&h1, &o1, h)
      perturb(&h2, &o2, -h)
      return
        (Self.loss(hidden: h1, output: o1, example: self)
        - Self.loss(hidden: h2, output: o2, example: self)) / (2 * h)
    }
    var dh = hidden
    var doutput = output
    for j in 0..<hidden.outputCount {
      dh.bias[j] = central { layer, _, d in layer.bias[j] += d }
      for i in 0..<hidden.inputCount {
        dh.weight[j, i] = central { layer, _, d in layer.weight[j, i] += d }
      }
    }
    for j in 0..<output.outputCount {
      doutput.bias[j] = central { _, layer, d in layer.bias[j] += d }
      for i in 0..<output.inputCount {
        doutput.weight[j, i] = central { _, layer, d in layer.weight[j, i] += d }
      }
    }
    return (dh, doutput)
  }

  static func loss(hidden: DenseLayer<T>, output: DenseLayer<T>, example: Self) -> T {
    let h = hidden(example.inputs).map { example.activation($0) }
    return -logSoftmax(output(h))[example.target]
  }
}
