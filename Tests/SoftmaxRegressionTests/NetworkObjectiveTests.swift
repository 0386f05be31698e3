//===--- NetworkObjectiveTests.swift --------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxRegression
import Testing

/// Features uniform in [-2, 2], labels and sample weights from one seed.
private func networkData<T: SoftmaxScalar>(
  rows: Int, columns: Int, classes: Int, seed: UInt64, as: T.Type = T.self
) -> (features: Matrix<T>, labels: [Int], weights: [Double]) {
  var generator = SplitMix64(seed: seed)
  let elements = (0..<rows * columns).map { _ in
    T(Double(generator.next() >> 11) * 0x1p-53 * 4 - 2)
  }
  let labels = (0..<rows).map { _ in generator.next(below: classes) }
  let weights = (0..<rows).map { _ in 0.5 + Double(generator.next() >> 11) * 0x1p-53 }
  return (Matrix(rows: rows, columns: columns, elements: elements), labels, weights)
}

/// The largest difference between the gradient and central differences of
/// the objective, relative to the gradient's largest component.
func finiteDifferenceError(
  _ value: ([Double]) -> Double, gradient: [Double], at x: [Double]
) -> Double {
  let scale = gradient.map { abs($0) }.max() ?? 0
  var worst = 0.0
  for i in x.indices {
    // Central differences: truncation h²·f‴/6 ≈ 1e-12 relative, rounding
    // ε·|f|/h ≈ 1e-11: both far below the 1e-6 asserted.
    let h = 1e-5 * max(1, abs(x[i]))
    var plus = x
    var minus = x
    plus[i] += h
    minus[i] -= h
    let estimate = (value(plus) - value(minus)) / (plus[i] - minus[i])
    worst = max(worst, abs(estimate - gradient[i]) / scale)
  }
  return worst
}

@Suite("Network objective")
struct NetworkObjectiveTests {
  @Test(
    "Every activation's gradient against central differences, in Double",
    arguments: Activation.allCases)
  func gradientMatchesFiniteDifferences(activation: Activation) throws {
    let (x, y, s) = networkData(rows: 11, columns: 5, classes: 3, seed: 3, as: Double.self)
    let standardization = Standardization(
      mean: [0.1, -0.2, 0, 0.3, 0], scale: [1.5, 0.5, 1, 2, 1])
    let objective = try NetworkObjective(
      features: x, labels: y, classCount: 3, hiddenWidths: [4, 3], activation: activation,
      sampleWeights: s, classWeights: [1, 2, 0.5], l2: 0.1, standardization: standardization)
    let start = objective.architecture.initialParameters(seed: 9)
    var gradient: [Double] = []
    _ = objective.smoothValueAndGradient(at: start, gradient: &gradient)
    let full = finiteDifferenceError(
      { objective.value(at: $0) }, gradient: gradient, at: start)
    #expect(full <= 1e-6, "\(activation): \(full)")

    // A minibatch, a row listed twice.
    let rows = [4, 0, 7, 7, 10]
    var batchGradient: [Double] = []
    _ = objective.minibatchValueAndGradient(rows: rows, at: start, gradient: &batchGradient)
    let batch = finiteDifferenceError(
      { p in
        var unused: [Double] = []
        return objective.minibatchValueAndGradient(rows: rows, at: p, gradient: &unused)
      }, gradient: batchGradient, at: start)
    #expect(batch <= 1e-6, "\(activation) minibatch: \(batch)")
  }

  @Test(
    "Dropout: a minibatch's gradient against central differences of its value (the same masks); full passes and losses keep every unit"
  )
  func dropout() throws {
    let (x, y, s) = networkData(rows: 40, columns: 6, classes: 3, seed: 12, as: Double.self)
    let dropped = try NetworkObjective(
      features: x, labels: y, classCount: 3, hiddenWidths: [12, 7], activation: .tanh,
      sampleWeights: s, l2: 0.01, dropout: 0.3, dropoutSeed: 5)
    let whole = try NetworkObjective(
      features: x, labels: y, classCount: 3, hiddenWidths: [12, 7], activation: .tanh,
      sampleWeights: s, l2: 0.01)
    let p = dropped.architecture.initialParameters(seed: 2)
    let rows = [3, 17, 17, 0, 39, 22, 8]
    var g: [Double] = []
    let value = dropped.minibatchValueAndGradient(rows: rows, at: p, gradient: &g)
    let error = finiteDifferenceError(
      { q in
        var unused: [Double] = []
        return dropped.minibatchValueAndGradient(rows: rows, at: q, gradient: &unused)
      }, gradient: g, at: p)
    #expect(error <= 1e-6, "\(error)")
    // The masks change the minibatch's value; they are a function of the
    // rows (another minibatch, other masks; the same one, the same).
    var unused: [Double] = []
    let plain = whole.minibatchValueAndGradient(rows: rows, at: p, gradient: &unused)
    #expect(value != plain)
    #expect(dropped.minibatchValueAndGradient(rows: rows, at: p, gradient: &unused) == value)
    let other = dropped.minibatchValueAndGradient(
      rows: [17, 3, 17, 0, 39, 22, 8], at: p, gradient: &unused)
    #expect(other != value)
    // Full passes and held-out losses keep every unit.
    #expect(dropped.value(at: p) == whole.value(at: p))
    #expect(
      dropped.crossEntropyLoss(rows: rows, at: p) == whole.crossEntropyLoss(rows: rows, at: p))
    #expect(throws: TrainingError.self) {
      try NetworkObjective(
        features: x, labels: y, classCount: 3, hiddenWidths: [4], dropout: 1)
    }
  }

  @Test("With no hidden layer it is softmax regression (value and gradient to 1e-12)")
  func noHiddenLayerIsRegression() throws {
    let (x, y, s) = networkData(rows: 300, columns: 7, classes: 4, seed: 5, as: Double.self)
    let network = try NetworkObjective(
      features: x, labels: y, classCount: 4, hiddenWidths: [], sampleWeights: s, l2: 0.01)
    let regression = try SoftmaxRegressionObjective(
      features: x, labels: y, classCount: 4, sampleWeights: s, l2: 0.01)
    #expect(network.parameterCount == regression.parameterCount)
    var generator = SplitMix64(seed: 6)
    let p = (0..<network.parameterCount).map { _ in Double(generator.next() >> 11) * 0x1p-52 - 1 }
    var g1: [Double] = []
    var g2: [Double] = []
    let v1 = network.smoothValueAndGradient(at: p, gradient: &g1)
    let v2 = regression.smoothValueAndGradient(at: p, gradient: &g2)
    #expect(abs(v1 - v2) <= 1e-12 * abs(v2))
    let scale = g2.map { abs($0) }.max() ?? 1
    for i in p.indices { #expect(abs(g1[i] - g2[i]) <= 1e-12 * scale, "parameter \(i)") }
  }

  @Test("Float evaluation within Float's error of the Double one")
  func floatMatchesDouble() throws {
    let (xd, y, _) = networkData(rows: 700, columns: 40, classes: 5, seed: 7, as: Double.self)
    let xf = Matrix(rows: xd.rows, columns: xd.columns, elements: xd.elements.map { Float($0) })
    let double = try NetworkObjective(
      features: xd, labels: y, classCount: 5, hiddenWidths: [32, 16], activation: .gelu, l2: 1e-3)
    let float = try NetworkObjective(
      features: xf, labels: y, classCount: 5, hiddenWidths: [32, 16], activation: .gelu, l2: 1e-3)
    // Parameters that Float holds exactly: both see the same network.
    let p = double.architecture.initialParameters(seed: 1).map { Double(Float($0)) }
    var gd: [Double] = []
    var gf: [Double] = []
    let vd = double.smoothValueAndGradient(at: p, gradient: &gd)
    let vf = float.smoothValueAndGradient(at: p, gradient: &gf)
    // Products of inner dimension ≤ 256 (a block) with K·u·Σ|a·b| each:
    // 40·2⁻²⁴ ≈ 2.4e-6 relative per layer, a few layers deep and the
    // deltas' own rounding: 1e-4 of the largest component leaves room,
    // and a wrong layer would be off by O(1).
    #expect(abs(vf - vd) <= 1e-5 * abs(vd), "\(vf) vs \(vd)")
    let scale = gd.map { abs($0) }.max() ?? 1
    let worst = zip(gf, gd).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= 1e-4 * scale, "worst \(worst), scale \(scale)")
  }

  @Test("The architecture: shapes, offsets, seeded initialization, bad shapes")
  func architecture() throws {
    let a = try NetworkArchitecture(
      inputCount: 784, hiddenWidths: [256], activation: .relu, classCount: 10)
    #expect(a.parameterCount == 784 * 256 + 256 + 256 * 10 + 10)
    #expect(a.layers.map(\.weightOffset) == [0, 784 * 256 + 256])
    #expect(a.layers[1].biasOffset == a.parameterCount - 10)
    let p = a.initialParameters(seed: 4)
    #expect(p == a.initialParameters(seed: 4))
    #expect(p != a.initialParameters(seed: 5))
    let he = (6.0 / 784).squareRoot()
    let glorot = (6.0 / (256 + 10)).squareRoot()
    #expect(p[0..<(784 * 256)].allSatisfy { abs($0) <= he })
    #expect(p[(784 * 256)..<(784 * 256 + 256)].allSatisfy { $0 == 0 })
    #expect(p[a.layers[1].weightOffset..<a.layers[1].biasOffset].allSatisfy { abs($0) <= glorot })
    // Uniform on [−r, r]: the mean square is r²/3 (to 2 % over 200,704 draws).
    let meanSquare = p[0..<(784 * 256)].map { $0 * $0 }.reduce(0, +) / Double(784 * 256)
    #expect(abs(meanSquare / (he * he / 3) - 1) < 0.02)
    #expect(throws: TrainingError.self) {
      try NetworkArchitecture(
        inputCount: 3, hiddenWidths: [4, 0], activation: .tanh, classCount: 2)
    }
    #expect(throws: TrainingError.self) {
      try NetworkArchitecture(
        inputCount: 1 << 40, hiddenWidths: [1 << 40], activation: .tanh, classCount: 2)
    }
  }

  @Test("Parameters of another length trap (the protocol's precondition)")
  func wrongParameterCount() async {
    await #expect(processExitsWith: .failure) {
      let objective = try? NetworkObjective(
        features: Matrix<Double>([[1, 2]]), labels: [0], classCount: 2, hiddenWidths: [3])
      _ = objective?.value(at: [0, 0, 0])
    }
  }

  @Test("Activations and their derivatives against central differences")
  func activations() {
    let points: [Double] = [-30, -6, -2.5, -1, -0.3, -1e-3, 1e-3, 0.4, 1, 2.2, 7, 40]
    for activation in Activation.allCases {
      for z in points {
        let h = 1e-6
        let estimate = (activation(z + h) - activation(z - h)) / (2 * h)
        let exact = activation.derivative(at: z)
        #expect(abs(estimate - exact) <= 1e-7, "\(activation) at \(z): \(exact) vs \(estimate)")
        #expect(activation(z).isFinite && exact.isFinite)
      }
    }
    #expect(Activation.relu.derivative(at: 0.0) == 0)
    #expect(Activation.logistic(-800.0) == 0 && Activation.logistic(800.0) == 1)
    // GELU's left tail without cancellation: z·Φ(z) at −10 is about −7.6e-23.
    let tail = Activation.gelu(-10.0)
    #expect(tail < 0 && abs(tail / -7.619853024160527e-23 - 1) < 1e-12)
    #expect(abs(Activation.gelu(1.0) - 0.8413447460685429) < 1e-15)
  }
}

@Suite("Network training", .serialized)
struct NetworkTrainingTests {
  @Test("Float evaluations (dropout too) are bitwise the same with 1 and 2 threads")
  func threadCountDoesNotChangeBits() throws {
    let (x, y, s) = networkData(rows: 600, columns: 300, classes: 10, seed: 8, as: Float.self)
    let objective = try NetworkObjective(
      features: x, labels: y, classCount: 10, hiddenWidths: [200, 64], activation: .relu,
      sampleWeights: s, l2: 1e-4, dropout: 0.25, dropoutSeed: 7)
    let p = objective.architecture.initialParameters(seed: 2)
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    var results: [(Double, [Double], Double, [Double])] = []
    for threads in [1, 2] {
      SoftmaxConfiguration.threadCount = threads
      var g: [Double] = []
      let v = objective.smoothValueAndGradient(at: p, gradient: &g)
      var gb: [Double] = []
      let vb = objective.minibatchValueAndGradient(
        rows: Array(stride(from: 599, to: 0, by: -3)), at: p, gradient: &gb)
      results.append((v, g, vb, gb))
    }
    #expect(results[0].0.bitPattern == results[1].0.bitPattern)
    #expect(results[0].1.map(\.bitPattern) == results[1].1.map(\.bitPattern))
    #expect(results[0].2.bitPattern == results[1].2.bitPattern)
    #expect(results[0].3.map(\.bitPattern) == results[1].3.map(\.bitPattern))
  }

  @Test("A hidden layer learns what a linear model cannot (two rings), with Adam and L-BFGS")
  func learnsRings() throws {
    // Points in two rings around the origin: the class is the ring, no
    // line separates them (a linear model is near chance).
    var generator = SplitMix64(seed: 11)
    var elements: [Float] = []
    var labels: [Int] = []
    for i in 0..<800 {
      let label = i % 2
      let radius = (label == 0 ? 1.0 : 2.0) + (Double(generator.next() >> 11) * 0x1p-53 - 0.5) * 0.4
      let angle = Double(generator.next() >> 11) * 0x1p-53 * 2 * Double.pi
      elements += [Float(radius * Double.cos(angle)), Float(radius * Double.sin(angle))]
      labels.append(label)
    }
    let x = Matrix(rows: 800, columns: 2, elements: elements)
    func accuracy(_ objective: NetworkObjective<Float>, _ p: [Double]) -> Double {
      let probabilities = objective.probabilities(rows: Array(0..<800), at: p)
      var right = 0
      for i in 0..<800 where (probabilities[i, 1] > probabilities[i, 0] ? 1 : 0) == labels[i] {
        right += 1
      }
      return Double(right) / 800
    }
    let linear = try NetworkObjective(features: x, labels: labels, classCount: 2, hiddenWidths: [])
    let linearFit = LBFGS().minimize(linear, from: [Double](repeating: 0, count: 6))
    #expect(accuracy(linear, linearFit.parameters) < 0.7)

    let network = try NetworkObjective(
      features: x, labels: labels, classCount: 2, hiddenWidths: [16], activation: .tanh)
    let start = network.architecture.initialParameters(seed: 3)
    var options = StochasticOptions()
    options.epochs = 60
    options.batchSize = 32
    options.seed = 5
    let adam = try Adam(learningRate: 0.01).minimize(network, from: start, training: options)
    #expect(accuracy(network, adam.parameters) > 0.97)
    let again = try Adam(learningRate: 0.01).minimize(network, from: start, training: options)
    #expect(again.parameters == adam.parameters)

    let lbfgs = LBFGS().minimize(network, from: start)
    #expect(accuracy(network, lbfgs.parameters) > 0.97)
  }
}

/// `Fixtures/torch_network.json` (Scripts/make_network_fixtures.py): a
/// 4-5-3-3 network per activation, its loss and gradient from PyTorch's
/// autograd in float64.
private struct TorchNetworkFixture: Decodable {
  struct Case: Decodable {
    let activation: String
    let parameters: [Double]
    let loss: Double
    let gradient: [Double]
  }
  let hiddenWidths: [Int]
  let features: [[Double]]
  let labels: [Int]
  let sampleWeights: [Double]
  let classWeights: [Double]
  let l2: Double
  let cases: [Case]
}

@Suite("Network objective against PyTorch")
struct NetworkTorchTests {
  @Test("Loss and every gradient component of PyTorch's autograd, every activation, to 1e-12")
  func matchesAutograd() throws {
    let url = repositoryRoot.appendingPathComponent(
      "Tests/SoftmaxRegressionTests/Fixtures/torch_network.json")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let fixture = try decoder.decode(TorchNetworkFixture.self, from: Data(contentsOf: url))
    #expect(fixture.cases.count == Activation.allCases.count)
    for testCase in fixture.cases {
      let activation = try #require(Activation(rawValue: testCase.activation))
      let objective = try NetworkObjective(
        features: Matrix(fixture.features), labels: fixture.labels, classCount: 3,
        hiddenWidths: fixture.hiddenWidths, activation: activation,
        sampleWeights: fixture.sampleWeights, classWeights: fixture.classWeights, l2: fixture.l2)
      var gradient: [Double] = []
      let loss = objective.smoothValueAndGradient(at: testCase.parameters, gradient: &gradient)
      // Both in float64, the same formulas in other orders (PyTorch's
      // matrix products and log-softmax): a few ulps, far below 1e-12.
      #expect(abs(loss - testCase.loss) <= 1e-12 * abs(testCase.loss), "\(activation) loss")
      #expect(gradient.count == testCase.gradient.count)
      let scale = testCase.gradient.map { abs($0) }.max() ?? 1
      for (i, (ours, theirs)) in zip(gradient, testCase.gradient).enumerated() {
        #expect(abs(ours - theirs) <= 1e-12 * scale, "\(activation) parameter \(i)")
      }
    }
  }
}

@Suite("The textbook network with a hidden layer")
struct HiddenLayerExampleTests {
  @Test(
    "Its backpropagation equals the network objective's gradient and central differences",
    arguments: Activation.allCases)
  func agreesWithObjective(activation: Activation) throws {
    for width in [1, 2, 5] {
      let example = HiddenLayerExample<Double>.standard(width: width, activation: activation)
      // The two derivations: the example's layer by layer (DenseLayer's
      // gradients) and the objective's blocked passes (matrix products).
      let objective = try NetworkObjective(
        features: Matrix([example.inputs]), labels: [example.target], classCount: 3,
        hiddenWidths: [width], activation: activation)
      let parameters =
        example.hidden.weight.elements + example.hidden.bias + example.output.weight.elements
        + example.output.bias
      var gradient: [Double] = []
      let loss = objective.smoothValueAndGradient(at: parameters, gradient: &gradient)
      #expect(abs(loss - example.loss) <= 1e-14 * abs(loss), "\(activation) \(width)")
      let ours =
        example.hiddenGradients.weight.elements + example.hiddenGradients.bias
        + example.outputGradients.weight.elements + example.outputGradients.bias
      #expect(ours.count == gradient.count)
      for (i, (a, b)) in zip(ours, gradient).enumerated() {
        #expect(abs(a - b) <= 1e-14 + 1e-12 * abs(b), "\(activation) \(width) parameter \(i)")
      }
      // Central differences: O(h²) + ε·L/h ≈ 1e-10 with h = 1e-5.
      let (dh, doutput) = example.finiteDifferences(step: 1e-5)
      let differences =
        dh.weight.elements + dh.bias + doutput.weight.elements + doutput.bias
      for (i, (a, d)) in zip(ours, differences).enumerated() {
        #expect(abs(a - d) <= 1e-8, "\(activation) \(width) parameter \(i): \(a) vs \(d)")
      }
      #expect(example.lossAfterStep < example.loss, "one step lowers the loss")
    }
  }
}

extension NetworkObjective {
  /// The held-out loss of `rows`, with a workspace made for the call.
  fileprivate func crossEntropyLoss(rows: [Int], at parameters: [Double]) -> Double {
    var workspace = makeWorkspace()
    return loss(rows: rows, at: parameters, workspace: &workspace)
  }
}
