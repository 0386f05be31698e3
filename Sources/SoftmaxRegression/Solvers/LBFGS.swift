//===--- LBFGS.swift ------------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// The settings of the L-BFGS minimizer.
public struct LBFGSOptions: Sendable, Hashable, Codable {
  /// Correction pairs kept (scipy's `maxcor`, 10 by default; 0 or less:
  /// none, steepest descent on the preconditioner's scale).
  public var memory: Int = 10
  /// Iterations at most.
  public var maxIterations: Int = 1000
  /// Stop when the largest component of the gradient (the projected or
  /// pseudo-gradient with L1) is at most this (scipy's `pgtol`, the `tol`
  /// of scikit-learn's lbfgs solver).
  public var gradientTolerance: Double = 1e-6
  /// Stop when `(f_k − f_{k+1}) ≤ tolerance · max(|f_k|, |f_{k+1}|, 1)`
  /// (scipy's `factr · eps`). 0 disables the test.
  public var relativeObjectiveTolerance: Double = 1e-12
  /// Evaluations per line search at most (below 1: every line search
  /// fails at once, ``StopReason/lineSearchFailed``).
  public var maxLineSearchSteps: Int = 40
  /// Start each iteration's inverse-Hessian estimate from the diagonal of
  /// the objective's Hessian at uniform probabilities (per feature, its
  /// weighted mean square plus λ₂) rather than from the identity: the same
  /// optimum, fewer iterations when features are on different scales.
  public var diagonalPreconditioning: Bool = true
  /// How the correction pairs are stored: in `Float` for large models by
  /// default (half the memory and memory traffic; see
  /// ``CorrectionPairStorage``).
  public var pairStorage: CorrectionPairStorage = .automatic

  /// From this many parameters on, ``CorrectionPairStorage/automatic``
  /// keeps the pairs in `Float`: 2²⁰, where the ten pairs take 160 MB in
  /// `Double` and their reads bound an iteration (20 Newsgroups' 2.5M
  /// parameters); below, `Double`, and the bits of every earlier version.
  public static var floatPairsFrom: Int { 1 << 20 }

  /// The defaults.
  public init() {}

  /// Whether the pairs of a problem of `n` parameters are kept in `Float`.
  func storesPairsAsFloat(parameterCount n: Int) -> Bool {
    switch pairStorage {
    case .automatic: return n >= Self.floatPairsFrom
    case .double: return false
    case .float: return true
    }
  }
}

extension LBFGSOptions {
  private enum CodingKeys: String, CodingKey {
    case memory, maxIterations, gradientTolerance, relativeObjectiveTolerance
    case maxLineSearchSteps, diagonalPreconditioning, pairStorage
  }

  /// Encodes the settings; `pairStorage` only when it is not `automatic`
  /// (so that model files and checkpoints of the default settings keep
  /// their bytes, and earlier versions read them).
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(memory, forKey: .memory)
    try container.encode(maxIterations, forKey: .maxIterations)
    try container.encode(gradientTolerance, forKey: .gradientTolerance)
    try container.encode(relativeObjectiveTolerance, forKey: .relativeObjectiveTolerance)
    try container.encode(maxLineSearchSteps, forKey: .maxLineSearchSteps)
    try container.encode(diagonalPreconditioning, forKey: .diagonalPreconditioning)
    if pairStorage != .automatic { try container.encode(pairStorage, forKey: .pairStorage) }
  }

  /// Decodes the settings; `pairStorage`, newer than the others, is
  /// `automatic` when absent (files of earlier versions, and the default).
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    memory = try container.decode(Int.self, forKey: .memory)
    maxIterations = try container.decode(Int.self, forKey: .maxIterations)
    gradientTolerance = try container.decode(Double.self, forKey: .gradientTolerance)
    relativeObjectiveTolerance = try container.decode(
      Double.self, forKey: .relativeObjectiveTolerance)
    maxLineSearchSteps = try container.decode(Int.self, forKey: .maxLineSearchSteps)
    diagonalPreconditioning = try container.decode(Bool.self, forKey: .diagonalPreconditioning)
    pairStorage =
      try container.decodeIfPresent(CorrectionPairStorage.self, forKey: .pairStorage)
      ?? .automatic
  }
}

/// Limited-memory BFGS with a strong-Wolfe line search (Nocedal & Wright,
/// algorithms 7.4, 3.5 and 3.6, cubic interpolation), and OWL-QN (Andrew &
/// Gao, 2007) when an L1 term λ₁·Σ|xᵢ| over the first `l1Count`
/// coordinates is added to the smooth objective.
///
/// Deterministic: the same start and objective give the same iterates.
/// Cost per iteration: one or a few evaluations plus O(memory · n).
public struct LBFGS: Sendable {
  /// The settings.
  public var options: LBFGSOptions

  /// Creates a minimizer.
  public init(options: LBFGSOptions = LBFGSOptions()) {
    self.options = options
  }

  /// Minimizes an objective: its smooth part, plus its L1 term by OWL-QN,
  /// starting from `start`, with the objective's inverse-Hessian diagonal
  /// as the initial scale when `preconditioned` (and the options ask for
  /// it).
  ///
  /// - Parameters:
  ///   - objective: what to minimize; evaluated with one workspace.
  ///   - start: the first point (`objective.parameterCount` values).
  ///   - progress: called after every iteration; return `false` to stop.
  public func minimize<Objective: TrainingObjective>(
    _ objective: Objective, from start: [Double],
    progress: (IterationReport) -> Bool = { _ in true }
  ) -> OptimizationResult {
    minimize(objective, from: start, resuming: nil, reportsState: false, progress: progress)
  }

  /// As the public `minimize(_:from:progress:)`, going on from `state`
  /// (see the closure form).
  func minimize<Objective: TrainingObjective>(
    _ objective: Objective, from start: [Double], resuming state: LBFGSState?,
    reportsState: Bool, progress: (IterationReport) -> Bool
  ) -> OptimizationResult {
    var workspace = objective.makeWorkspace()
    return minimize(
      from: start, resuming: state, reportsState: reportsState, l1: objective.l1Strength,
      l1Count: objective.l1Count,
      preconditioner: options.diagonalPreconditioning ? objective.inverseHessianDiagonal() : nil,
      smooth: { objective.smoothValueAndGradient(at: $0, gradient: &$1, workspace: &workspace) },
      progress: progress)
  }

  /// Minimizes `smooth(x) + l1 · Σ_{i < l1Count} |xᵢ|`.
  ///
  /// - Parameters:
  ///   - start: the first point.
  ///   - l1: λ₁ ≥ 0 (0: plain L-BFGS).
  ///   - l1Count: how many leading coordinates the L1 term covers.
  ///   - smooth: the smooth part's value at x, its gradient into the
  ///     `inout` array (of x's count).
  ///   - preconditioner: positive values `M` (an estimate of the inverse
  ///     Hessian's diagonal, up to a common factor), or `nil` for the
  ///     identity: the initial inverse Hessian becomes `γ·diag(M)` with
  ///     `γ = sᵀy / yᵀMy` (Nocedal & Wright §7.2). The minimiser is the
  ///     same; badly scaled coordinates need fewer iterations.
  ///   - progress: called after every iteration; return `false` to stop.
  public func minimize(
    from start: [Double], l1: Double = 0, l1Count: Int = 0, preconditioner: [Double]? = nil,
    smooth: (_ x: [Double], _ gradient: inout [Double]) -> Double,
    progress: (IterationReport) -> Bool = { _ in true }
  ) -> OptimizationResult {
    minimize(
      from: start, resuming: nil, reportsState: false, l1: l1, l1Count: l1Count,
      preconditioner: preconditioner, smooth: smooth, progress: progress)
  }

  /// As the public `minimize`, going on from `state` (an earlier run's,
  /// exactly as if it had not stopped; `start` is then ignored), with the
  /// state in every report when `reportsState` (for checkpoints).
  func minimize(
    from start: [Double], resuming state: LBFGSState?, reportsState: Bool, l1: Double = 0,
    l1Count: Int = 0, preconditioner: [Double]? = nil,
    smooth: (_ x: [Double], _ gradient: inout [Double]) -> Double,
    progress: (IterationReport) -> Bool = { _ in true }
  ) -> OptimizationResult {
    let n = state?.x.count ?? start.count
    if options.storesPairsAsFloat(parameterCount: n) {
      return minimize(
        from: start, resuming: state, reportsState: reportsState, l1: l1, l1Count: l1Count,
        preconditioner: preconditioner, pairs: Float.self, smooth: smooth, progress: progress)
    }
    return minimize(
      from: start, resuming: state, reportsState: reportsState, l1: l1, l1Count: l1Count,
      preconditioner: preconditioner, pairs: Double.self, smooth: smooth, progress: progress)
  }

  /// The minimization, with the correction pairs in `P`.
  private func minimize<P: CorrectionPairScalar>(
    from start: [Double], resuming state: LBFGSState?, reportsState: Bool, l1: Double,
    l1Count: Int, preconditioner: [Double]?, pairs _: P.Type,
    smooth: (_ x: [Double], _ gradient: inout [Double]) -> Double,
    progress: (IterationReport) -> Bool
  ) -> OptimizationResult {
    let n = state?.x.count ?? start.count
    precondition(
      preconditioner.map { $0.count == n && $0.allSatisfy { $0 > 0 && $0.isFinite } } ?? true,
      "the preconditioner must hold \(n) finite positive values")
    var x = state?.x ?? start
    var g = filledArray(repeating: 0.0, count: n)
    var evaluations = state?.evaluations ?? 1
    let l1Count = l1 > 0 ? min(l1Count, n) : 0
    func l1Term(_ x: [Double]) -> Double { l1Penalty(x, strength: l1, count: l1Count) }
    // Resuming, the objective and gradient at x are computed again rather
    // than read from the state (the same bits for a true checkpoint; the
    // true values for a damaged one), and not counted again.
    var f = smooth(x, &g) + l1Term(x)
    var pg = pseudoGradient(x, g, l1: l1, l1Count: l1Count)
    // A checkpoint holds the pairs in Double (exactly: Float pairs widen
    // and narrow back without rounding).
    var pairs = CorrectionPairs<P>(
      capacity: options.memory, scaling: preconditioner,
      steps: state?.s.map { $0.map { P($0) } } ?? [],
      changes: state?.y.map { $0.map { P($0) } } ?? [], inverseCurvatures: state?.rho ?? [])
    var iteration = state?.iteration ?? 0
    var reason = StopReason.iterationLimit
    func result(_ reason: StopReason) -> OptimizationResult {
      OptimizationResult(
        parameters: x, objective: f, gradientNorm: maxAbs(pg), iterations: iteration,
        evaluations: evaluations, stopReason: reason)
    }
    if let stop = state?.stop { return result(stop) }
    if !f.isFinite { return result(.lineSearchFailed) }
    if maxAbs(pg) <= options.gradientTolerance { return result(.gradientTolerance) }

    /// OWL-QN: keep only the components that descend along -pg.
    func project(_ d: inout [Double]) {
      for i in 0..<l1Count where d[i] * pg[i] >= 0 { d[i] = 0 }
    }

    // Buffers of n values kept from one iteration to the next (the
    // direction, and the oldest correction pair once the memory is full),
    // so that an iteration does not allocate, and fault in, fresh pages.
    var d = filledArray(repeating: 0.0, count: n)
    var spareStep: [P] = []
    var spareChange: [P] = []
    var spare: (x: [Double], g: [Double]) = ([], [])
    while iteration < options.maxIterations {
      // Direction: −H·pg, H from the pairs and H₀ = γ·diag(M).
      pairs.direction(pg, into: &d)
      project(&d)
      var slope = dot(d, pg)
      if !(slope < 0) {
        // Not a descent direction (lost curvature): restart from −M·pg.
        pairs.removeAll()
        pairs.direction(pg, into: &d)
        project(&d)
        slope = dot(d, pg)
      }
      let firstStep = pairs.count == 0 ? min(1, 1 / max(maxAbs(d), 1e-300)) : 1

      let accepted: (x: [Double], g: [Double], f: Double)?
      if l1Count > 0 {
        accepted = owlqnSearch(
          x: x, f: f, d: d, pg: pg, firstStep: firstStep, l1: l1, l1Count: l1Count,
          l1Term: l1Term, smooth: smooth, evaluations: &evaluations)
      } else {
        accepted = wolfeSearch(
          x: x, f: f, slope: slope, d: d, firstStep: firstStep, smooth: smooth,
          evaluations: &evaluations, spare: &spare)
      }
      guard let next = accepted else {
        reason = .lineSearchFailed
        break
      }
      iteration += 1
      var step = spareStep
      var change = spareChange
      spareStep = []
      spareChange = []
      let (curvature, changeSquared) = correctionPair(
        x1: next.x, x0: x, g1: next.g, g0: g, step: &step, change: &change)
      let previous = f
      // The point left behind lends its buffers to the next line search.
      spare = (x, g)
      x = next.x
      g = next.g
      f = next.f
      pg = pseudoGradient(x, g, l1: l1, l1Count: l1Count)
      if options.memory > 0, curvature > 1e-10 * changeSquared {
        if let dropped = pairs.append(step: step, change: change, curvature: curvature) {
          (spareStep, spareChange) = dropped
        }
      } else {
        spareStep = step
        spareChange = change
      }
      let gradientNorm = maxAbs(pg)
      let stop = convergence(
        previous: previous, current: f, gradientNorm: gradientNorm,
        gradientTolerance: options.gradientTolerance,
        relativeObjectiveTolerance: options.relativeObjectiveTolerance)
      var report = IterationReport(
        iteration: iteration, objective: f, gradientNorm: gradientNorm,
        evaluations: evaluations, parameters: x)
      if reportsState {
        report.solverState = .lbfgs(
          state: LBFGSState(
            x: x, g: g, f: f, s: pairs.steps.map { $0.map { Double($0) } },
            y: pairs.changes.map { $0.map { Double($0) } }, rho: pairs.inverseCurvatures,
            iteration: iteration,
            evaluations: evaluations, stop: stop))
      }
      let keepGoing = progress(report)
      if let stop {
        reason = stop
        break
      }
      if !keepGoing {
        reason = .cancelled
        break
      }
    }
    return result(reason)
  }

  // MARK: - Line searches

  private typealias Point = (step: Double, value: Double, slope: Double, x: [Double], g: [Double])

  /// Strong Wolfe conditions, c₁ = 1e-4, c₂ = 0.9.
  private func wolfeSearch(
    x: [Double], f: Double, slope: Double, d: [Double], firstStep: Double,
    smooth: ([Double], inout [Double]) -> Double, evaluations: inout Int,
    spare: inout (x: [Double], g: [Double])
  ) -> (x: [Double], g: [Double], f: Double)? {
    let c1 = 1e-4
    let c2 = 0.9
    var budget = options.maxLineSearchSteps
    func evaluate(_ step: Double) -> Point {
      // x + step·d and a zeroed gradient, in the spare buffers when
      // there are (the same values as a copy of x and axpy).
      var xs = spare.x
      var gs = spare.g
      spare = ([], [])
      stepped(x, step, d, into: &xs)
      zeroed(&gs, count: x.count)
      let value = smooth(xs, &gs)
      evaluations += 1
      budget -= 1
      return (step, value.isNaN ? .infinity : value, dot(gs, d), xs, gs)
    }
    func done(_ p: Point) -> (x: [Double], g: [Double], f: Double) { (p.x, p.g, p.value) }
    func zoom(_ lo: Point, _ hi: Point) -> (x: [Double], g: [Double], f: Double)? {
      var lo = lo
      var hi = hi
      while budget > 0 {
        let step = interpolate(lo, hi)
        let p = evaluate(step)
        if p.value > f + c1 * p.step * slope || p.value >= lo.value {
          hi = p
        } else {
          if abs(p.slope) <= -c2 * slope { return done(p) }
          if p.slope * (hi.step - lo.step) >= 0 { hi = lo }
          lo = p
        }
        if abs(hi.step - lo.step) <= 1e-14 * max(lo.step, hi.step) { break }
      }
      // Out of budget or interval: take the best point with a sufficient
      // decrease, if any.
      return lo.step > 0 && lo.value < f ? done(lo) : nil
    }
    var previous: Point = (0, f, slope, x, [])
    var step = firstStep
    var first = true
    while budget > 0 {
      let p = evaluate(step)
      if p.value > f + c1 * step * slope || (!first && p.value >= previous.value) {
        return zoom(previous, p)
      }
      if abs(p.slope) <= -c2 * slope { return done(p) }
      if p.slope >= 0 { return zoom(p, previous) }
      previous = p
      first = false
      step *= 4
    }
    return previous.step > 0 ? done(previous) : nil
  }

  /// The minimizer of the cubic through two points with their slopes,
  /// kept at least a tenth of the interval from either end (bisection if
  /// the cubic has no minimum there).
  private func interpolate(_ a: Point, _ b: Point) -> Double {
    let lower = min(a.step, b.step)
    let upper = max(a.step, b.step)
    let width = upper - lower
    let d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.step - b.step)
    let radicand = d1 * d1 - a.slope * b.slope
    var t = (lower + upper) / 2
    if radicand >= 0, a.value.isFinite, b.value.isFinite {
      let d2 = (b.step > a.step ? 1.0 : -1.0) * radicand.squareRoot()
      let candidate =
        b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2)
      if candidate.isFinite { t = candidate }
    }
    return min(max(t, lower + 0.1 * width), upper - 0.1 * width)
  }

  /// OWL-QN's projected backtracking: steps halve until
  /// f(π(x + αd)) ≤ f(x) + c₁·pg·(π(x + αd) − x).
  private func owlqnSearch(
    x: [Double], f: Double, d: [Double], pg: [Double], firstStep: Double, l1: Double,
    l1Count: Int, l1Term: ([Double]) -> Double, smooth: ([Double], inout [Double]) -> Double,
    evaluations: inout Int
  ) -> (x: [Double], g: [Double], f: Double)? {
    let orthant = (0..<l1Count).map { i -> Double in
      x[i] != 0 ? (x[i] > 0 ? 1 : -1) : (pg[i] < 0 ? 1 : -1)
    }
    var step = firstStep
    for _ in 0..<max(options.maxLineSearchSteps, 0) {
      var xs = x
      axpy(step, d, &xs)
      for i in 0..<l1Count where xs[i] * orthant[i] <= 0 { xs[i] = 0 }
      var gs = [Double](repeating: 0, count: x.count)
      let value = smooth(xs, &gs)
      evaluations += 1
      let total = value + l1Term(xs)
      var decrease = 0.0
      for i in 0..<x.count { decrease += pg[i] * (xs[i] - x[i]) }
      if total.isFinite, total <= f + 1e-4 * decrease { return (xs, gs, total) }
      step *= 0.5
    }
    return nil
  }
}

/// L-BFGS between two iterations: the point, its smooth gradient and
/// objective, the correction pairs, the counters, and the stop the last
/// iteration called for (so that going on from a final state stops too).
struct LBFGSState: Sendable, Hashable, Codable {
  var x: [Double]
  var g: [Double]
  var f: Double
  var s: [[Double]]
  var y: [[Double]]
  var rho: [Double]
  var iteration: Int
  var evaluations: Int
  var stop: StopReason?
}
