//===--- NetworkArchitecture.swift ----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The shape of a multi-layer softmax classifier: `d` inputs, hidden
/// dense layers of the given widths with one activation, and a softmax
/// head of `k` classes.
///
///     a₀ = x,  zₗ = Wₗ·aₗ₋₁ + bₗ,  aₗ = f(zₗ)  (l = 1 … L−1),
///     z_L = W_L·a_{L−1} + b_L,  p = softmax(z_L)
///
/// With no hidden layers it is softmax regression. The parameters are one
/// flat vector, layer by layer, each layer its weights row by row
/// (`Wₗ[j, i]` connects input `i` to output `j`, as `DenseLayer`) and then
/// its biases: what the solvers see.
public struct NetworkArchitecture: Sendable, Hashable, Codable {
  /// `d`.
  public let inputCount: Int
  /// The widths of the hidden layers, first to last (empty: softmax
  /// regression).
  public let hiddenWidths: [Int]
  /// The hidden layers' activation.
  public let activation: Activation
  /// `k`.
  public let classCount: Int

  /// Where one layer's parameters are in the flat vector.
  public struct Layer: Sendable, Hashable {
    /// Inputs (columns of `W`).
    public let inputs: Int
    /// Outputs (rows of `W`, biases).
    public let outputs: Int
    /// The index of `W[0, 0]`; `W[j, i]` is at `weightOffset + j·inputs + i`.
    public let weightOffset: Int
    /// The index of `b[0]`, right after the weights.
    public var biasOffset: Int { weightOffset + inputs * outputs }
    /// The index after the layer.
    public var end: Int { biasOffset + outputs }
  }

  /// The layers, first hidden to the head.
  public let layers: [Layer]

  /// Checks the shape.
  ///
  /// - Throws: ``TrainingError/Code/shapeMismatch`` for a count or width
  ///   below 1, ``TrainingError/Code/insufficientMemory`` when the
  ///   parameter count overflows `Int`.
  public init(inputCount: Int, hiddenWidths: [Int], activation: Activation, classCount: Int)
    throws(TrainingError)
  {
    guard inputCount >= 1 else {
      throw TrainingError(.shapeMismatch, "a network needs at least one input feature")
    }
    guard classCount >= 1 else { throw TrainingError(.shapeMismatch, "no classes") }
    if let bad = hiddenWidths.firstIndex(where: { $0 < 1 }) {
      throw TrainingError(
        .shapeMismatch, "hidden layer \(bad + 1) has width \(hiddenWidths[bad]): widths must be ≥ 1"
      )
    }
    let widths = [inputCount] + hiddenWidths + [classCount]
    var layers: [Layer] = []
    var offset = 0
    for l in 1..<widths.count {
      let (weights, o1) = widths[l].multipliedReportingOverflow(by: widths[l - 1])
      let (size, o2) = weights.addingReportingOverflow(widths[l])
      let (next, o3) = offset.addingReportingOverflow(size)
      guard !o1, !o2, !o3 else {
        throw TrainingError(
          .insufficientMemory, "a network of widths \(widths) has more than 2^63 parameters")
      }
      layers.append(Layer(inputs: widths[l - 1], outputs: widths[l], weightOffset: offset))
      offset = next
    }
    self.inputCount = inputCount
    self.hiddenWidths = hiddenWidths
    self.activation = activation
    self.classCount = classCount
    self.layers = layers
  }

  private enum CodingKeys: String, CodingKey {
    case inputCount, hiddenWidths, activation, classCount
  }

  /// Reads the four settings and checks them as ``init(inputCount:hiddenWidths:activation:classCount:)``.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(
      inputCount: c.decode(Int.self, forKey: .inputCount),
      hiddenWidths: c.decode([Int].self, forKey: .hiddenWidths),
      activation: c.decode(Activation.self, forKey: .activation),
      classCount: c.decode(Int.self, forKey: .classCount))
  }

  /// Writes the four settings.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(inputCount, forKey: .inputCount)
    try c.encode(hiddenWidths, forKey: .hiddenWidths)
    try c.encode(activation, forKey: .activation)
    try c.encode(classCount, forKey: .classCount)
  }

  /// Every layer's weights and biases: `Σₗ (inputsₗ + 1)·outputsₗ`.
  public var parameterCount: Int { layers.last?.end ?? 0 }

  /// The indices of the weights (not the biases), for an L2 penalty.
  public var weightRanges: [Range<Int>] { layers.map { $0.weightOffset..<$0.biasOffset } }

  /// Starting parameters: every weight uniform in `[−r, r]` with He's
  /// `r = √(6/inputs)` for a layer followed by ReLU or GELU and Glorot's
  /// `r = √(6/(inputs + outputs))` otherwise (the head, tanh, logistic,
  /// identity), drawn layer by layer, row by row from `SplitMix64`
  /// seeded with `seed`; every bias 0. The same seed gives the same bits.
  ///
  /// Cost: one draw a weight.
  public func initialParameters(seed: UInt64) -> [Double] {
    var generator = SplitMix64(seed: seed)
    var parameters = [Double](repeating: 0, count: parameterCount)
    for (index, layer) in layers.enumerated() {
      let isHead = index == layers.count - 1
      let fanSum =
        isHead || !activation.prefersHeInitialization
        ? layer.inputs + layer.outputs : layer.inputs
      let bound = (6 / Double(fanSum)).squareRoot()
      for i in layer.weightOffset..<layer.biasOffset {
        // 53 random bits: uniform in [0, 1), then to [−r, r).
        let unit = Double(generator.next() >> 11) * 0x1p-53
        parameters[i] = (2 * unit - 1) * bound
      }
    }
    return parameters
  }
}
