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
  /// `k × d`, in the standardized space when ``standardization`` is set.
  public var weight: Matrix<Double>
  /// `k` biases.
  public var bias: [Double]
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
  /// standardization of the wrong size or with a bad value), or `nil`.
  func parameterProblem() -> String? {
    if let index = weight.elements.firstIndex(where: { !$0.isFinite }) {
      return
        "weight [\(index / max(featureCount, 1))][\(index % max(featureCount, 1))] = \(weight.elements[index]) is not finite"
    }
    if let j = bias.firstIndex(where: { !$0.isFinite }) {
      return "bias [\(j)] = \(bias[j]) is not finite"
    }
    if let standardization, let problem = standardization.problem(columns: featureCount) {
      return problem
    }
    return nil
  }

  /// `k`.
  public var classCount: Int { classes.count }
  /// `d`.
  public var featureCount: Int { weight.columns }

  /// The parameters flattened as ``SoftmaxRegressionObjective`` takes them.
  public var parameters: [Double] { weight.elements + bias }

  /// Creates a model from parameters flattened as
  /// ``SoftmaxRegressionObjective`` takes them: `[W row by row (k × d),
  /// b (k)]`, `k = classes.count`.
  ///
  /// - Precondition: `parameters.count == k·(d + 1)` for `d = featureCount`;
  ///   `standardization` and `featureNames`, if any, have `d` entries.
  public init(
    classes: [String], featureCount d: Int, parameters: [Double],
    standardization: Standardization? = nil, featureNames: [String]? = nil,
    training: TrainingRecord? = nil
  ) {
    let k = classes.count
    precondition(
      parameters.count == k * (d + 1),
      "\(parameters.count) parameters for \(k) classes and \(d) features")
    self.init(
      classes: classes,
      weight: Matrix(rows: k, columns: d, elements: Array(parameters[0..<(k * d)])),
      bias: Array(parameters[(k * d)...]), standardization: standardization,
      featureNames: featureNames, training: training)
  }
}
