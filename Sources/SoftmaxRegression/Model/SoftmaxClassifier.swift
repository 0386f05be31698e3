//===--- SoftmaxClassifier.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore
public import SoftmaxText

/// A trained softmax-regression model: a dense layer `z = W·x̃ + b`
/// followed by softmax, with its class names and, optionally, the
/// standardization `x̃ = (x − mean)/scale` learned on the training data.
///
/// Train one with ``fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)-(Matrix<T>,_,_,_,_,_,_,_,_,_)``;
/// predictions are computed in `Double` (logits accumulated in `Double`,
/// probabilities by SoftmaxCore's softmax: they sum to 1 within 1e-15 and
/// never exceed 1).
public struct SoftmaxClassifier: Sendable, Hashable {
  /// The class names; class index i is `classes[i]`.
  public var classes: [String]
  /// The feature names, if the data had them.
  public var featureNames: [String]?
  /// `k × d`, in the standardized space when ``standardization`` is set;
  /// with hidden layers, the softmax head's, `k ×` the last hidden width.
  public var weight: Matrix<Double>
  /// `k` biases.
  public var bias: [Double]
  /// The hidden layers, first to last, between the (standardized) features
  /// and the softmax head ``weight``, ``bias``: each `a = f(W·a′ + b)`
  /// with `f` = ``activation``. Empty for softmax regression.
  public var hiddenLayers: [DenseLayer<Double>] = []
  /// The hidden layers' activation (unused without them).
  public var activation: Activation = .relu
  /// Applied to every input row before the dense layer, if set.
  public var standardization: Standardization?
  /// How the model was trained and how well it did, if it was trained here.
  public var training: TrainingRecord?
  /// How its training data was read (label column, LIBSVM index base,
  /// feature means), if known: evaluation and prediction read other files
  /// the same way.
  public var input: InputDescription? = nil
  /// How documents become its features, for a model of text: predictions
  /// of documents (``probabilities(documents:)``) featurize them with it.
  /// Its `featureCount` is ``featureCount``.
  public var text: TextVectorizer? = nil
  /// `τ > 0`: the probabilities are `softmax(z/τ)` of the logits `z`. 1
  /// (the model as trained) unless the model was calibrated
  /// (``calibrated(features:labels:sampleWeights:)``,
  /// ``TemperatureScaling``). It changes no prediction, only how
  /// confident the probabilities are.
  public var temperature: Double = 1

  /// Creates a model from its parameters.
  ///
  /// - Precondition: `weight.rows == classes.count == bias.count`;
  ///   `standardization` (if any) and `featureNames` (if any) have
  ///   `weight.columns` entries.
  public init(
    classes: [String], weight: Matrix<Double>, bias: [Double],
    standardization: Standardization? = nil, featureNames: [String]? = nil,
    training: TrainingRecord? = nil
  ) {
    precondition(
      weight.rows == classes.count, "\(weight.rows) weight rows, \(classes.count) classes")
    precondition(bias.count == classes.count, "\(bias.count) biases, \(classes.count) classes")
    precondition(standardization.map { $0.mean.count == weight.columns } ?? true)
    precondition(featureNames.map { $0.count == weight.columns } ?? true)
    self.classes = classes
    self.weight = weight
    self.bias = bias
    self.standardization = standardization
    self.featureNames = featureNames
    self.training = training
  }

  /// What is wrong with the parameters (a non-finite weight or bias, a
  /// standardization of the wrong size or with a bad value, a temperature
  /// that is not finite and positive), or `nil`: a model without a
  /// problem predicts, and can be written and exported.
  public func parameterProblem() -> String? {
    if let index = weight.elements.firstIndex(where: { !$0.isFinite }) {
      return
        "weight [\(index / max(featureCount, 1))][\(index % max(featureCount, 1))] = \(weight.elements[index]) is not finite"
    }
    if let j = bias.firstIndex(where: { !$0.isFinite }) {
      return "bias [\(j)] = \(bias[j]) is not finite"
    }
    for (l, layer) in hiddenLayers.enumerated() {
      if let index = (layer.weight.elements + layer.bias).firstIndex(where: { !$0.isFinite }) {
        return "hidden layer \(l + 1): parameter \(index) is not finite"
      }
    }
    if let standardization, let problem = standardization.problem(columns: featureCount) {
      return problem
    }
    if !(temperature > 0) || !temperature.isFinite {
      return "temperature \(temperature) is not finite and positive"
    }
    return nil
  }

  /// `k`.
  public var classCount: Int { classes.count }
  /// `d`.
  public var featureCount: Int { hiddenLayers.first?.inputCount ?? weight.columns }

  /// The shape of the hidden layers, or `nil` for softmax regression.
  public var hidden: TrainingOptions.HiddenLayers? {
    hiddenLayers.isEmpty
      ? nil
      : TrainingOptions.HiddenLayers(
        widths: hiddenLayers.map(\.outputCount), activation: activation)
  }

  /// The parameters flattened as the objective takes them: layer by layer
  /// (hidden first, the head last), each `W` row by row then `b`; `[W, b]`
  /// for softmax regression (``SoftmaxRegressionObjective``'s layout).
  public var parameters: [Double] {
    hiddenLayers.flatMap { $0.weight.elements + $0.bias } + weight.elements + bias
  }

  /// Creates a model from parameters flattened as
  /// ``SoftmaxRegressionObjective`` takes them: `[W row by row (k × d),
  /// b (k)]`, `k = classes.count`.
  ///
  /// - Precondition: `parameters.count == k·(d + 1)` for `d = featureCount`;
  ///   `standardization` and `featureNames`, if any, have `d` entries.
  ///
  /// With `hidden`, the parameters are a network's
  /// (``NetworkArchitecture``'s layout: layer by layer, each `W` row by
  /// row then `b`, the head last).
  ///
  /// - Precondition: as many parameters as the shape has (for a network,
  ///   the shape is valid: ``NetworkArchitecture`` accepts it).
  public init(
    classes: [String], featureCount d: Int, parameters: [Double],
    standardization: Standardization? = nil, featureNames: [String]? = nil,
    training: TrainingRecord? = nil, hidden: TrainingOptions.HiddenLayers? = nil
  ) {
    let k = classes.count
    var layers: [DenseLayer<Double>] = []
    var headInputs = d
    var offset = 0
    if let hidden {
      guard
        let architecture = try? NetworkArchitecture(
          inputCount: d, hiddenWidths: hidden.widths, activation: hidden.activation,
          classCount: k)
      else { preconditionFailure("a network of widths \(hidden.widths) cannot be built") }
      precondition(
        parameters.count == architecture.parameterCount,
        "\(parameters.count) parameters for a network of \(architecture.parameterCount)")
      for layer in architecture.layers.dropLast() {
        layers.append(
          DenseLayer(
            weight: Matrix(
              rows: layer.outputs, columns: layer.inputs,
              elements: Array(parameters[layer.weightOffset..<layer.biasOffset])),
            bias: Array(parameters[layer.biasOffset..<layer.end])))
        headInputs = layer.outputs
        offset = layer.end
      }
    }
    precondition(
      parameters.count == offset + k * (headInputs + 1),
      "\(parameters.count) parameters for \(k) classes and \(d) features")
    let weightEnd = offset + k * headInputs
    self.init(
      classes: classes,
      weight: Matrix(rows: k, columns: headInputs, elements: Array(parameters[offset..<weightEnd])),
      bias: Array(parameters[weightEnd...]), standardization: nil, featureNames: nil,
      training: training)
    self.hiddenLayers = layers
    self.activation = hidden?.activation ?? .relu
    precondition(standardization.map { $0.mean.count == d } ?? true)
    precondition(featureNames.map { $0.count == d } ?? true)
    self.standardization = standardization
    self.featureNames = featureNames
  }
}
