//===--- SoftmaxClassifier.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// A trained softmax-regression model: a dense layer `z = W·x̃ + b`
/// followed by softmax, with its class names and, optionally, the
/// standardization `x̃ = (x − mean)/scale` learned on the training data.
///
/// Train one with ``fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)``;
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

  // MARK: - Prediction

  /// The logits `z = W·x̃ + b` of every row (the decision function).
  ///
  /// A row whose logits overflow a `Double` (finite but huge weights or
  /// features) is computed again without overflow (see
  /// `overflowFreeShiftedLogits`) and returned shifted by its largest
  /// logit, `z − max(z)`: every value is finite or `−inf`, and softmax,
  /// log-softmax and the argmax are those of the exact logits. So
  /// probabilities are always finite, whatever the model and the data.
  ///
  /// - Parameter features: `n × d`, finite.
  /// - Returns: `n × k`.
  /// - Throws: ``TrainingError/Code/shapeMismatch`` if the column count is
  ///   not the model's, ``TrainingError/Code/nonFiniteValue`` for a NaN or
  ///   infinite feature.
  /// - Complexity: O(n·d·k), accumulated in `Double`.
  public func logits<T: SoftmaxScalar>(_ features: Matrix<T>) throws(TrainingError) -> Matrix<
    Double
  > {
    let d = featureCount
    guard features.columns == d else {
      throw TrainingError(
        .shapeMismatch, "the data has \(features.columns) feature columns; the model takes \(d)")
    }
    if let bad = firstNonFiniteIndex(features.elements) {
      throw TrainingError(
        .nonFiniteValue, nonFiniteMessage(at: bad, columns: d, features.elements, featureNames))
    }
    let k = classCount
    let n = features.rows
    let w = weight.elements
    let mean = standardization?.mean ?? [Double](repeating: 0, count: d)
    let inverseScale = standardization?.inverseScale ?? [Double](repeating: 1, count: d)
    var output = [Double](repeating: 0, count: n * k)
    var row = [Double](repeating: 0, count: d)
    output.withUnsafeMutableBufferPointer { output in
      features.forEachRowInDouble { i, x in
        for c in 0..<d { row[c] = (x[c] - mean[c]) * inverseScale[c] }
        var finite = true
        for j in 0..<k {
          var z = bias[j]
          for c in 0..<d { z += w[j * d + c] * row[c] }
          output[i * k + j] = z
          finite = finite && z.isFinite
        }
        if !finite {
          overflowFreeShiftedLogits(
            x: x, weight: w, bias: bias, mean: standardization?.mean,
            inverseScale: standardization?.inverseScale,
            into: UnsafeMutableBufferPointer(rebasing: output[(i * k)..<((i + 1) * k)]))
        }
      }
    }
    return Matrix(rows: n, columns: k, elements: output)
  }

  /// The class probabilities of every row: `n × k`, rows summing to 1.
  public func probabilities<T: SoftmaxScalar>(_ features: Matrix<T>) throws(TrainingError)
    -> Matrix<Double>
  {
    softmax(try logits(features))
  }

  /// The log-probabilities of every row (log-softmax of the logits, exact
  /// where the probability underflows): `n × k`.
  public func logProbabilities<T: SoftmaxScalar>(_ features: Matrix<T>) throws(TrainingError)
    -> Matrix<Double>
  {
    logSoftmax(try logits(features))
  }

  /// The index of the most probable class of every row (the first on ties).
  public func predictedClassIndices<T: SoftmaxScalar>(_ features: Matrix<T>) throws(TrainingError)
    -> [Int]
  {
    try logits(features).rowArrays.map(argmax)
  }

  /// The name of the most probable class of every row.
  public func predict<T: SoftmaxScalar>(_ features: Matrix<T>) throws(TrainingError) -> [String] {
    try predictedClassIndices(features).map { classes[$0] }
  }

  /// The `count` most probable classes of every row, most probable first
  /// (ties: the lower index first), with their probabilities.
  ///
  /// - Precondition: `count ≥ 1`; it is clipped to the class count.
  public func topClasses<T: SoftmaxScalar>(_ features: Matrix<T>, count: Int) throws(TrainingError)
    -> [[(classIndex: Int, probability: Double)]]
  {
    precondition(count >= 1, "count must be at least 1")
    return try probabilities(features).rowArrays.map { row in
      topIndices(row, count: count).map { ($0, row[$0]) }
    }
  }
}

/// The index of the largest value (the first of equals; NaN never wins).
func argmax(_ values: [Double]) -> Int {
  var best = 0
  for i in values.indices.dropFirst() where values[i] > values[best] { best = i }
  return best
}

/// The indices of the `count` largest values, largest first, lower index
/// first among equals.
func topIndices(_ values: [Double], count: Int) -> [Int] {
  let sorted = values.indices.sorted { a, b in
    values[a] != values[b] ? values[a] > values[b] : a < b
  }
  return Array(sorted.prefix(count))
}
