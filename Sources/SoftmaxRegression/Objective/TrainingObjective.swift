//===--- TrainingObjective.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// A function of parameters that a solver minimizes: a smooth part, a sum
/// over rows (samples) plus a penalty, and an optional L1 term over the
/// leading parameters, which the solvers handle themselves (OWL-QN, a
/// proximal step).
///
/// The solvers (``LBFGS``, ``TrustRegionNewton``, ``GradientDescent``,
/// minibatch training with ``SGD`` or ``Adam``) know nothing else of the
/// model: a new model
/// (sparse features, hidden layers) is a new conformer, not a new solver,
/// as LIBLINEAR's solvers take any `function {fun, grad, Hv}`.
///
/// An objective is an immutable value, safe to share between threads
/// (`Sendable`): what an evaluation writes (partial sums, rounded
/// parameters) lives in a ``Workspace`` that each caller makes and owns,
/// so several threads evaluate one objective at once, each with its own.
///
/// Every evaluation is deterministic: the same parameters give the same
/// bits whatever the thread count.
public protocol TrainingObjective: Sendable {
  /// The scratch an evaluation writes: one per caller (thread).
  associatedtype Workspace

  /// The number of parameters.
  var parameterCount: Int { get }

  /// The rows the smooth part sums over (the samples); minibatches list
  /// rows in `0..<rowCount`.
  var rowCount: Int { get }

  /// λ₁ of the L1 term `λ₁·Σ_{i < l1Count} |xᵢ|` (0 for none).
  var l1Strength: Double { get }

  /// How many leading parameters the L1 term covers.
  var l1Count: Int { get }

  /// The class of every row and the class count, for stratified
  /// validation splits; `nil` when rows have no classes.
  var strata: (labels: [Int], classCount: Int)? { get }

  /// A new workspace for evaluations of this objective.
  func makeWorkspace() -> Workspace

  /// The smooth part at `parameters` over every row, and its gradient
  /// into `gradient` (resized to ``parameterCount``).
  ///
  /// - Precondition: `parameters.count == parameterCount`.
  func smoothValueAndGradient(
    at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double

  /// The smooth part over the listed rows only (their weighted mean plus
  /// the penalty), and its gradient.
  ///
  /// - Precondition: `rows` is not empty and every row is in
  ///   `0..<rowCount`.
  func smoothValueAndGradient(
    rows: [Int], at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double

  /// The loss of the listed rows without any penalty (a validation loss).
  func loss(rows: [Int], at parameters: [Double], workspace: inout Workspace) -> Double

  /// Positive values proportional to the diagonal of the inverse Hessian
  /// (L-BFGS's starting scale), or `nil` for the identity.
  func inverseHessianDiagonal() -> [Double]?

  /// Whether ``hessianVectorProduct(at:direction:into:workspace:)`` gives
  /// products (the ``TrustRegionNewton`` solver needs them).
  var providesHessianProducts: Bool { get }

  /// The Hessian of the smooth part at `parameters` times `direction`
  /// into `product` (resized to ``parameterCount``; its storage reused
  /// when it has that length, so that a solver's products allocate
  /// nothing); `false`, and `product` untouched, when the objective does
  /// not provide it.
  func hessianVectorProduct(
    at parameters: [Double], direction: [Double], into product: inout [Double],
    workspace: inout Workspace
  ) -> Bool
}

extension TrainingObjective {
  /// No classes: validation splits are not stratified.
  public var strata: (labels: [Int], classCount: Int)? { nil }

  /// The identity.
  public func inverseHessianDiagonal() -> [Double]? { nil }

  /// Not provided.
  public var providesHessianProducts: Bool { false }

  /// Not provided.
  public func hessianVectorProduct(
    at parameters: [Double], direction: [Double], into product: inout [Double],
    workspace: inout Workspace
  ) -> Bool { false }

  /// The Hessian of the smooth part at `parameters` times `direction`
  /// (``hessianVectorProduct(at:direction:into:workspace:)`` into a new
  /// array), or `nil` when the objective does not provide it.
  public func hessianVectorProduct(
    at parameters: [Double], direction: [Double], workspace: inout Workspace
  ) -> [Double]? {
    var product: [Double] = []
    return hessianVectorProduct(
      at: parameters, direction: direction, into: &product, workspace: &workspace)
      ? product : nil
  }

  /// `λ₁·Σ_{i < l1Count} |xᵢ|`.
  public func l1Term(_ parameters: [Double]) -> Double {
    l1Penalty(parameters, strength: l1Strength, count: l1Strength > 0 ? l1Count : 0)
  }

  /// The smooth part and its gradient, with a workspace made for the call.
  public func smoothValueAndGradient(at parameters: [Double], gradient: inout [Double]) -> Double {
    var workspace = makeWorkspace()
    return smoothValueAndGradient(at: parameters, gradient: &gradient, workspace: &workspace)
  }

  /// The whole objective at `parameters` (L1 term included).
  public func value(at parameters: [Double]) -> Double {
    var unused: [Double] = []
    return smoothValueAndGradient(at: parameters, gradient: &unused) + l1Term(parameters)
  }

  /// The whole objective and its gradient; the L1 term's gradient is taken
  /// as λ₁·sign(x) (0 at 0).
  public func valueAndGradient(at parameters: [Double], gradient: inout [Double]) -> Double {
    let smooth = smoothValueAndGradient(at: parameters, gradient: &gradient)
    if l1Strength > 0 {
      for index in 0..<min(l1Count, parameters.count) {
        let x = parameters[index]
        gradient[index] += x > 0 ? l1Strength : (x < 0 ? -l1Strength : 0)
      }
    }
    return smooth + l1Term(parameters)
  }

  /// The smooth part over the listed rows, with a workspace made for the
  /// call.
  public func minibatchValueAndGradient(
    rows: [Int], at parameters: [Double], gradient: inout [Double]
  ) -> Double {
    var workspace = makeWorkspace()
    return smoothValueAndGradient(
      rows: rows, at: parameters, gradient: &gradient, workspace: &workspace)
  }
}
