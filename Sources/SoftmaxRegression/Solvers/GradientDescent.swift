//===--- GradientDescent.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Full-batch gradient descent, the textbook algorithm, with a
/// backtracking (Armijo) step so that it never diverges: the step η halves
/// until `f(w − η·g) ≤ f(w) − ½·η·‖g‖²`, then grows by 1.5 for the next
/// iteration.
///
/// Deterministic: the same start and objective give the same iterates.
/// Cost per iteration: one evaluation, plus one per halving.
public struct GradientDescent: Sendable {
  /// The settings of gradient descent.
  public struct Options: Sendable, Hashable {
    /// Iterations at most.
    public var maxIterations: Int = 1000
    /// Stop when the largest gradient component is at most this.
    public var gradientTolerance: Double = 1e-6
    /// Stop when `(f_k − f_{k+1}) ≤ tolerance · max(|f_k|, |f_{k+1}|, 1)`;
    /// 0 disables the test.
    public var relativeObjectiveTolerance: Double = 1e-12
    /// The first step η.
    public var initialStep: Double = 1
    /// Halvings of a step at most before the iteration fails
    /// (``StopReason/lineSearchFailed``).
    public var maxBacktrackingSteps: Int = 60

    /// The defaults.
    public init() {}
  }

  /// The settings.
  public var options: Options

  /// Creates a minimizer.
  public init(options: Options = Options()) {
    self.options = options
  }

  /// Minimizes the smooth part of `objective` from `start`.
  ///
  /// - Precondition: the objective has no L1 term (use ``LBFGS`` (OWL-QN)
  ///   or ``SGD``'s proximal step for one).
  public func minimize<Objective: TrainingObjective>(
    _ objective: Objective, from start: [Double],
    progress: (IterationReport) -> Bool = { _ in true }
  ) -> OptimizationResult {
    minimize(objective, from: start, resuming: nil, reportsState: false, progress: progress)
  }

  /// As the public `minimize`, going on from `state` (an earlier run's,
  /// exactly as if it had not stopped; `start` is then ignored), with the
  /// state in every report when `reportsState` (for checkpoints).
  func minimize<Objective: TrainingObjective>(
    _ objective: Objective, from start: [Double], resuming state: GradientDescentState?,
    reportsState: Bool, progress: (IterationReport) -> Bool
  ) -> OptimizationResult {
    precondition(
      objective.l1Strength == 0 || objective.l1Count == 0,
      "gradient descent does not take an L1 term")
    var workspace = objective.makeWorkspace()
    var x = state?.x ?? start
    var g: [Double] = []
    // Resuming, f and g are computed again at x (the same bits for a true
    // checkpoint; the true values for a damaged one).
    var f = objective.smoothValueAndGradient(at: x, gradient: &g, workspace: &workspace)
    var evaluations = state?.evaluations ?? 1
    var step = state?.step ?? options.initialStep
    var iteration = state?.iteration ?? 0
    var reason = state?.stop ?? StopReason.iterationLimit
    if maxAbs(g) <= options.gradientTolerance { reason = .gradientTolerance }
    while reason == .iterationLimit && iteration < options.maxIterations {
      let squaredNorm = dot(g, g)
      var accepted = false
      for _ in 0..<max(options.maxBacktrackingSteps, 0) {
        var trial = x
        axpy(-step, g, &trial)
        var trialGradient: [Double] = []
        let value = objective.smoothValueAndGradient(
          at: trial, gradient: &trialGradient, workspace: &workspace)
        evaluations += 1
        if value.isFinite, value <= f - 0.5 * step * squaredNorm {
          let previous = f
          x = trial
          f = value
          g = trialGradient
          accepted = true
          iteration += 1
          step *= 1.5
          let norm = maxAbs(g)
          let stop = convergence(
            previous: previous, current: f, gradientNorm: norm,
            gradientTolerance: options.gradientTolerance,
            relativeObjectiveTolerance: options.relativeObjectiveTolerance)
          var report = IterationReport(
            iteration: iteration, objective: f, gradientNorm: norm, evaluations: evaluations,
            parameters: x)
          if reportsState {
            report.solverState = .gradientDescent(
              state: GradientDescentState(
                x: x, g: g, f: f, step: step, iteration: iteration, evaluations: evaluations,
                stop: stop))
          }
          let keepGoing = progress(report)
          if let stop {
            reason = stop
          } else if !keepGoing {
            reason = .cancelled
          }
          break
        }
        step *= 0.5
      }
      if !accepted {
        reason = .lineSearchFailed
      }
    }
    return OptimizationResult(
      parameters: x, objective: f, gradientNorm: maxAbs(g), iterations: iteration,
      evaluations: evaluations, stopReason: reason)
  }
}

/// Gradient descent between two iterations (see ``LBFGSState``).
struct GradientDescentState: Sendable, Hashable, Codable {
  var x: [Double]
  var g: [Double]
  var f: Double
  var step: Double
  var iteration: Int
  var evaluations: Int
  var stop: StopReason?
}
