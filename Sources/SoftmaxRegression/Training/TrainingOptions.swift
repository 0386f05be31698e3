//===--- TrainingOptions.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// How classes are weighted in the loss.
public enum ClassWeighting: Sendable, Hashable, Codable {
  /// Every class weighs 1.
  case uniform
  /// Class c weighs `n / (k · count_c)` (scikit-learn's `"balanced"`):
  /// with sample weights, n and count_c are sums of sample weights, as
  /// scikit-learn ≥ 1.8 counts them. A class with no rows weighs 0.
  case balanced
  /// One weight per class, in class order.
  case custom([Double])
}

/// The settings of ``SoftmaxClassifier/fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)-(Matrix<T>,_,_,_,_,_,_,_,_,_)``.
public struct TrainingOptions: Sendable, Hashable, Codable {
  /// The optimizer.
  public enum Solver: String, Sendable, Hashable, Codable, CaseIterable {
    /// L-BFGS with a strong-Wolfe line search (OWL-QN with an L1 term):
    /// the default, for data that fits in memory.
    case lbfgs
    /// Full-batch gradient descent, the textbook algorithm, with a
    /// backtracking (Armijo) step so that it never diverges.
    case gradientDescent
    /// Minibatch stochastic gradient descent, with momentum or Nesterov
    /// momentum (``StochasticOptions``); L1 by a proximal step.
    case sgd
    /// Adam on minibatches (``StochasticOptions``).
    case adam
    /// The trust-region Newton method with conjugate gradients
    /// (``TrustRegionNewton``, LIBLINEAR's TRON): for softmax regression
    /// in memory, dense or sparse; no L1 term. Superlinear near the
    /// optimum: the fastest way to a tight optimum on ill-conditioned
    /// data.
    case newton

    /// Whether the solver works on minibatches (``StochasticOptions``).
    public var isStochastic: Bool { self == .sgd || self == .adam }
  }

  /// The optimizer.
  public var solver: Solver = .lbfgs
  /// λ₂ of the objective (see ``SoftmaxRegressionObjective``).
  public var l2: Double = 0
  /// λ₁ of the objective.
  public var l1: Double = 0
  /// Learn a ``Standardization`` and train in the standardized space.
  public var standardize: Bool = false
  /// Class weights.
  public var classWeighting: ClassWeighting = .uniform
  /// The stopping rules and memory of L-BFGS; `maxIterations` and the two
  /// tolerances also bound gradient descent.
  public var lbfgs = LBFGSOptions()
  /// The settings of ``TrustRegionNewton``: `lbfgs`'s iteration limit,
  /// tolerances and line-search steps (as the limit of rejected steps in
  /// a row); the model file keeps them under `lbfgs`.
  public var newtonOptions: TrustRegionNewton.Options {
    var result = TrustRegionNewton.Options()
    result.maxIterations = lbfgs.maxIterations
    result.gradientTolerance = lbfgs.gradientTolerance
    result.relativeObjectiveTolerance = lbfgs.relativeObjectiveTolerance
    result.maxRejectedSteps = lbfgs.maxLineSearchSteps
    return result
  }

  /// The first step of gradient descent (it halves until the objective
  /// decreases enough, and grows by 1.5 after a success); the minibatch
  /// solvers take theirs from ``stochastic``.
  public var learningRate: Double = 1
  /// Gradient descent's halvings of a step at most before it fails; `nil`
  /// for 60.
  public var gradientDescentBacktrackingSteps: Int? = nil
  /// Batch size, epochs, step sizes, momentum, seed and early stopping of
  /// the minibatch solvers.
  public var stochastic = StochasticOptions()
  /// For L-BFGS and gradient descent: hold out this fraction of the rows
  /// (stratified, by `stochastic.seed`), train on the rest, and report the
  /// held-out loss after every iteration (``IterationReport/validationLoss``,
  /// ``TrainingRecord/validationHistory``). The minibatch solvers hold out
  /// rows with `stochastic.earlyStopping` instead. `nil`: none.
  public var heldOutFraction: Double? = nil

  /// Hidden layers between the features and the softmax head: their
  /// widths and activation (``NetworkObjective``). `nil`: softmax
  /// regression, and no key in the files (a file without it reads as
  /// `nil`).
  public var hidden: HiddenLayers? = nil

  /// The hidden layers of a network: widths first to last, one
  /// activation.
  public struct HiddenLayers: Sendable, Hashable, Codable {
    /// The widths, first to last, each ≥ 1.
    public var widths: [Int]
    /// The activation of every hidden layer.
    public var activation: Activation
    /// The fraction of hidden units each minibatch step drops, in [0, 1)
    /// (``NetworkObjective/dropout``; minibatch solvers only). Training
    /// only: the model keeps every unit.
    public var dropout: Double = 0

    /// Hidden layers of these widths and activation (ReLU by default),
    /// with `dropout` (none by default).
    public init(widths: [Int], activation: Activation = .relu, dropout: Double = 0) {
      self.widths = widths
      self.activation = activation
      self.dropout = dropout
    }

    private enum CodingKeys: String, CodingKey { case widths, activation, dropout }

    /// Reads the fields; a missing `dropout` is 0.
    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      widths = try c.decode([Int].self, forKey: .widths)
      activation = try c.decode(Activation.self, forKey: .activation)
      dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0
    }
  }

  /// The defaults: L-BFGS, no regularization, no standardization.
  public init() {}

  /// The settings of ``GradientDescent``: `lbfgs`'s iteration limit and
  /// tolerances (the full-batch stopping rules; the model file keeps them
  /// under `lbfgs`), ``learningRate`` as the first step, and
  /// ``gradientDescentBacktrackingSteps`` (60 when `nil`).
  public var gradientDescentOptions: GradientDescent.Options {
    var result = GradientDescent.Options()
    result.maxIterations = lbfgs.maxIterations
    result.gradientTolerance = lbfgs.gradientTolerance
    result.relativeObjectiveTolerance = lbfgs.relativeObjectiveTolerance
    result.initialStep = learningRate
    if let gradientDescentBacktrackingSteps {
      result.maxBacktrackingSteps = gradientDescentBacktrackingSteps
    }
    return result
  }

  /// ``SGD`` (the default rate 0.1) or ``Adam`` (0.001) from
  /// ``stochastic``'s settings.
  var minibatchRule: MinibatchRule {
    if solver == .adam {
      return .adam(
        Adam(
          learningRate: stochastic.learningRate ?? 0.001, beta1: stochastic.beta1,
          beta2: stochastic.beta2, epsilon: stochastic.epsilon))
    }
    return .sgd(
      SGD(
        learningRate: stochastic.learningRate ?? 0.1, momentum: stochastic.momentum,
        nesterov: stochastic.nesterov))
  }

  /// About how many parameter-sized vectors of `Double` the solver keeps
  /// (L-BFGS: its correction pairs, up to one per iteration, and a dozen
  /// working vectors; the others: a dozen), for the memory check of
  /// ``SoftmaxClassifier/fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)-(Matrix<T>,_,_,_,_,_,_,_,_,_)``.
  var solverVectors: Int {
    guard solver == .lbfgs else { return 12 }
    return 2 * min(max(lbfgs.memory, 0), max(lbfgs.maxIterations, 0), 1 << 20) + 12
  }

  /// λ₂ with the same minimiser as scikit-learn's `LogisticRegression(C:)`:
  /// `1 / (C · Σ sample weights)` (`1 / (C·n)` without weights).
  public static func l2(forC c: Double, sampleWeightTotal: Double) -> Double {
    1 / (c * sampleWeightTotal)
  }
}

/// What training did, stored with the model.
public struct TrainingRecord: Sendable, Hashable, Codable {
  /// The options used.
  public var options: TrainingOptions
  /// Why it stopped, and whether that is convergence.
  public var stopReason: StopReason
  /// ``StopReason/isConverged`` of ``stopReason``.
  public var converged: Bool
  /// Iterations (or epochs) done.
  public var iterations: Int
  /// Objective and gradient evaluations: full passes, or minibatch steps
  /// for the minibatch solvers.
  public var evaluations: Int
  /// The final objective (mean weighted cross-entropy + penalties) over
  /// all the training rows, computed exactly at the returned parameters.
  public var objective: Double
  /// The largest component of the final (pseudo-)gradient, exact.
  public var gradientNorm: Double
  /// The objective after each iteration (the running minibatch mean of
  /// each epoch for the minibatch solvers).
  public var objectiveHistory: [Double]
  /// The held-out loss after each epoch (early stopping) or iteration
  /// (``TrainingOptions/heldOutFraction``).
  public var validationHistory: [Double]? = nil
  /// Metrics measured after training, for the model file to carry: set by
  /// the caller, on whichever data it holds out or trains on
  /// (`let m = try model.evaluate(features:labels:)`, then
  /// `model.training?.metrics = m`).
  public var metrics: ClassificationMetrics? = nil
  /// Training rows.
  public var sampleCount: Int
}
