//===--- TrustRegionNewton.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// A trust-region Newton method with preconditioned conjugate gradients:
/// LIBLINEAR's TRON (Lin, Weng & Keerthi, "Trust region Newton method for
/// large-scale logistic regression", JMLR 2008; the diagonal
/// preconditioner of Hsia, Chiang & Lin, 2018), for objectives that offer
/// a Hessian-vector product (``TrainingObjective/hessianVectorProduct(at:direction:workspace:)``).
///
/// Each iteration approximately minimizes the quadratic model
/// `q(s) = gᵀs + ½·sᵀHs` inside the trust region `‖s‖_M ≤ Δ` by
/// conjugate gradients on Hessian products (stopping when the
/// preconditioned residual falls below ``Options/conjugateGradientTolerance``
/// of the gradient's, or at the region's boundary), then takes the step
/// if the objective falls by at least 10⁻⁴ of what the model predicts,
/// and grows or shrinks Δ by how well the model predicted it. `M` is the
/// objective's Hessian diagonal (the reciprocal of
/// ``TrainingObjective/inverseHessianDiagonal()``), or the identity.
///
/// Near the optimum the steps are Newton steps: the convergence is
/// superlinear, where ``LBFGS`` is linear, so a tight optimum on an
/// ill-conditioned problem takes tens of iterations, not hundreds (see
/// TrainingSpeed.md for the measurements).
///
/// Deterministic: the same start and objective give the same iterates.
/// Cost per iteration: one evaluation of the objective and its gradient,
/// plus one Hessian product (about one gradient's arithmetic) per
/// conjugate-gradient step, plus `O(n)` vector work per step.
public struct TrustRegionNewton: Sendable {
  /// The settings of the trust-region Newton method.
  public struct Options: Sendable, Hashable {
    /// Newton iterations (accepted steps) at most.
    public var maxIterations: Int = 1000
    /// Stop when the largest gradient component is at most this.
    public var gradientTolerance: Double = 1e-6
    /// Stop when `(f_k − f_{k+1}) ≤ tolerance · max(|f_k|, |f_{k+1}|, 1)`;
    /// 0 disables the test.
    public var relativeObjectiveTolerance: Double = 1e-12
    /// Rejected steps in a row at most (each shrinks the region) before
    /// the method stops (``StopReason/lineSearchFailed``: rounding noise
    /// near an optimum).
    public var maxRejectedSteps: Int = 40
    /// A conjugate-gradient solve stops when its preconditioned residual
    /// `‖r‖_{M⁻¹}` is at most this fraction of the gradient's (LIBLINEAR's
    /// `eps_cg`, 0.1 there). 0.3 by measurement: on MNIST (C = 1) it
    /// reaches 1e-6 of the optimum in 478 Hessian products against 628
    /// for 0.1 and 496 for 0.5 (`regression-timing --solver newton`).
    public var conjugateGradientTolerance: Double = 0.3
    /// Conjugate-gradient steps per iteration at most; `nil` for the
    /// parameter count (at least 5), where CG in exact arithmetic ends.
    public var maxConjugateGradientSteps: Int? = nil

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
  /// - Precondition: the objective provides Hessian-vector products and
  ///   has no L1 term (use ``LBFGS``, OWL-QN, for one).
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
    _ objective: Objective, from start: [Double], resuming state: TrustRegionNewtonState?,
    reportsState: Bool, progress: (IterationReport) -> Bool
  ) -> OptimizationResult {
    precondition(
      objective.l1Strength == 0 || objective.l1Count == 0,
      "the trust-region Newton method does not take an L1 term")
    // The trust region's constants (LIBLINEAR's tron.cpp).
    let (eta0, eta1, eta2) = (1e-4, 0.25, 0.75)
    let (sigma1, sigma2, sigma3) = (0.25, 0.5, 4.0)
    var workspace = objective.makeWorkspace()
    var x = state?.x ?? start
    var g: [Double] = []
    // Resuming, f and g are computed again at x (the same bits for a true
    // checkpoint; the true values for a damaged one).
    var f = objective.smoothValueAndGradient(at: x, gradient: &g, workspace: &workspace)
    var evaluations = state?.evaluations ?? 1
    var iteration = state?.iteration ?? 0
    var reason = state?.stop ?? StopReason.iterationLimit
    let n = x.count
    let preconditioner = Self.preconditioner(objective, count: n)
    var radius = state?.radius ?? weightedNorm(g, preconditioner.inverse)
    if maxAbs(g) <= options.gradientTolerance { reason = .gradientTolerance }
    if !f.isFinite { reason = .lineSearchFailed }
    var rejected = 0
    let cgLimit = options.maxConjugateGradientSteps ?? max(n, 5)
    while reason == .iterationLimit && iteration < options.maxIterations {
      let solve = conjugateGradient(
        objective, at: x, gradient: g, radius: radius, preconditioner: preconditioner,
        limit: cgLimit, workspace: &workspace)
      evaluations += solve.products
      var trial: [Double] = []
      stepped(x, 1, solve.step, into: &trial)
      var trialGradient: [Double] = []
      let trialValue = objective.smoothValueAndGradient(
        at: trial, gradient: &trialGradient, workspace: &workspace)
      evaluations += 1
      let gs = dot(g, solve.step)
      let predicted = -0.5 * (gs - dot(solve.step, solve.residual))
      let actual = trialValue.isFinite ? f - trialValue : -Double.infinity
      let stepNorm = weightedNorm(solve.step, preconditioner.diagonal)
      if iteration == 0 && state == nil { radius = min(radius, stepNorm) }
      // The step's length that the quadratic through f, gᵀs and f(x + s)
      // along s minimises, as a multiple of the step.
      let curvature = trialValue - f - gs
      let alpha =
        curvature <= 0 || !curvature.isFinite ? sigma3 : max(sigma1, -0.5 * gs / curvature)
      if actual < eta0 * predicted {
        radius = min(alpha * stepNorm, sigma2 * radius)
      } else if actual < eta1 * predicted {
        radius = max(sigma1 * radius, min(alpha * stepNorm, sigma2 * radius))
      } else if actual < eta2 * predicted {
        radius = max(sigma1 * radius, min(alpha * stepNorm, sigma3 * radius))
      } else if solve.reachedBoundary {
        radius = sigma3 * radius
      } else {
        radius = max(radius, min(alpha * stepNorm, sigma3 * radius))
      }
      if actual > eta0 * predicted {
        rejected = 0
        let previous = f
        x = trial
        f = trialValue
        g = trialGradient
        iteration += 1
        let norm = maxAbs(g)
        var stop = convergence(
          previous: previous, current: f, gradientNorm: norm,
          gradientTolerance: options.gradientTolerance,
          relativeObjectiveTolerance: options.relativeObjectiveTolerance)
        if stop == nil && !(radius > 0) { stop = .lineSearchFailed }
        var report = IterationReport(
          iteration: iteration, objective: f, gradientNorm: norm, evaluations: evaluations,
          parameters: x)
        if reportsState {
          report.solverState = .newton(
            state: TrustRegionNewtonState(
              x: x, g: g, f: f, radius: radius, iteration: iteration, evaluations: evaluations,
              stop: stop))
        }
        let keepGoing = progress(report)
        if let stop {
          reason = stop
        } else if !keepGoing {
          reason = .cancelled
        }
      } else {
        rejected += 1
        // No decrease predicted (the model is flat: rounding noise), the
        // region collapsed, or too many rejections in a row.
        if !(predicted > 0) || !(radius > 0) || rejected >= max(options.maxRejectedSteps, 1) {
          reason = .lineSearchFailed
        }
      }
    }
    return OptimizationResult(
      parameters: x, objective: f, gradientNorm: maxAbs(g), iterations: iteration,
      evaluations: evaluations, stopReason: reason)
  }

  /// The diagonal `M` of the trust region's norm and the preconditioner,
  /// and its reciprocal: the objective's Hessian diagonal, or ones.
  static func preconditioner<Objective: TrainingObjective>(
    _ objective: Objective, count n: Int
  ) -> (diagonal: [Double], inverse: [Double]) {
    guard let inverse = objective.inverseHessianDiagonal(), inverse.count == n else {
      let ones = [Double](repeating: 1, count: n)
      return (ones, ones)
    }
    return (inverse.map { 1 / $0 }, inverse)
  }

  /// What a conjugate-gradient solve returns: the step `s`, the residual
  /// `r = −g − H·s`, whether it stopped at the region's boundary, and the
  /// Hessian products it took.
  struct Solve {
    var step: [Double]
    var residual: [Double]
    var reachedBoundary: Bool
    var products: Int
  }

  /// Approximately minimizes `gᵀs + ½·sᵀHs` subject to `‖s‖_M ≤ radius`
  /// by conjugate gradients preconditioned by `M` (Steihaug's method, as
  /// LIBLINEAR's `trpcg`).
  ///
  /// - Precondition: the objective gives Hessian products.
  func conjugateGradient<Objective: TrainingObjective>(
    _ objective: Objective, at x: [Double], gradient g: [Double], radius: Double,
    preconditioner: (diagonal: [Double], inverse: [Double]), limit: Int,
    workspace: inout Objective.Workspace
  ) -> Solve {
    let n = g.count
    let (m, inverse) = preconditioner
    var s = [Double](repeating: 0, count: n)
    var r = g.map { -$0 }
    var z = zip(r, inverse).map { $0 * $1 }
    var d = z
    var zr = dot(z, r)
    let tolerance = options.conjugateGradientTolerance * zr.squareRoot()
    var products = 0
    var reachedBoundary = false
    var hd: [Double] = []
    // ‖s‖²_M, kept up to date (s starts at 0): ‖s + α·d‖²_M is then
    // sMs + 2α·sMd + α²·dMd, with no trial vector made.
    var sMs = 0.0
    while products < limit {
      if !(zr.squareRoot() > tolerance) { break }
      guard
        objective.hessianVectorProduct(at: x, direction: d, into: &hd, workspace: &workspace)
      else { preconditionFailure("the objective provides no Hessian-vector product") }
      products += 1
      let (curvature, sMd, dMd) = curvatureSums(d: d, hd: hd, s: s, m: m)
      var alpha = zr / curvature
      let trialNorm = sMs + 2 * alpha * sMd + alpha * alpha * dMd
      if !(curvature > 0) || !(trialNorm <= radius * radius) {
        // To the boundary along d: the root α ≥ 0 of ‖s + α·d‖_M = Δ.
        reachedBoundary = true
        let room = max(radius * radius - sMs, 0)
        let root = (sMd * sMd + dMd * room).squareRoot()
        alpha = sMd >= 0 ? room / (sMd + root) : (root - sMd) / dMd
        if !alpha.isFinite { alpha = 0 }
        axpy(alpha, d, &s)
        axpy(-alpha, hd, &r)
        break
      }
      sMs = max(trialNorm, 0)
      let next = conjugateStep(
        alpha: alpha, d: d, hd: hd, s: &s, r: &r, z: &z, inverse: inverse)
      let beta = next / zr
      nextDirection(z: z, beta: beta, d: &d)
      zr = next
    }
    return Solve(step: s, residual: r, reachedBoundary: reachedBoundary, products: products)
  }
}

/// `(dᵀ·hd, sᵀM·d, dᵀM·d)` in one pass over the four vectors (`M` the
/// diagonal `m`): each in chunks of ``vectorChunk`` summed in eight lanes,
/// the chunks added in order (``chunkedSums(_:width:_:)``): the same bits
/// for every thread count.
func curvatureSums(d: [Double], hd: [Double], s: [Double], m: [Double]) -> (
  Double, Double, Double
) {
  precondition(
    d.count == hd.count && s.count == d.count && m.count == d.count, "sums of unequal lengths")
  let sums = d.withUnsafeBufferPointer { d in
    hd.withUnsafeBufferPointer { hd in
      s.withUnsafeBufferPointer { s in
        m.withUnsafeBufferPointer { m in
          chunkedSums(d.count, width: 3) { range, out in
            guard let pd = d.baseAddress, let ph = hd.baseAddress, let ps = s.baseAddress,
              let pm = m.baseAddress
            else {
              out.update(repeating: 0, count: 3)
              return
            }
            var a = SIMD8<Double>()
            var b = SIMD8<Double>()
            var c = SIMD8<Double>()
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
              let dv = UnsafeRawPointer(pd + i).loadUnaligned(as: SIMD8<Double>.self)
              let hv = UnsafeRawPointer(ph + i).loadUnaligned(as: SIMD8<Double>.self)
              let sv = UnsafeRawPointer(ps + i).loadUnaligned(as: SIMD8<Double>.self)
              let mv = UnsafeRawPointer(pm + i).loadUnaligned(as: SIMD8<Double>.self)
              let md = mv * dv
              a += dv * hv
              b += sv * md
              c += dv * md
              i += 8
            }
            var (ta, tb, tc) = (0.0, 0.0, 0.0)
            while i < range.upperBound {
              let md = pm[i] * pd[i]
              ta += pd[i] * ph[i]
              tb += ps[i] * md
              tc += pd[i] * md
              i += 1
            }
            out[0] = laneSum(a) + ta
            out[1] = laneSum(b) + tb
            out[2] = laneSum(c) + tc
          }
        }
      }
    }
  }
  return (sums[0], sums[1], sums[2])
}

/// One conjugate-gradient update in one pass: `s += α·d`, `r −= α·hd`,
/// `z = r ⊙ inverse`, returning `zᵀr` (chunked and summed in eight lanes
/// as ``curvatureSums(d:hd:s:m:)``: the same bits for every thread
/// count).
func conjugateStep(
  alpha: Double, d: [Double], hd: [Double], s: inout [Double], r: inout [Double],
  z: inout [Double], inverse: [Double]
) -> Double {
  let n = d.count
  precondition(
    hd.count == n && s.count == n && r.count == n && z.count == n && inverse.count == n,
    "a step of unequal lengths")
  return d.withUnsafeBufferPointer { d in
    hd.withUnsafeBufferPointer { hd in
      inverse.withUnsafeBufferPointer { inverse in
        s.withUnsafeMutableBufferPointer { s in
          r.withUnsafeMutableBufferPointer { r in
            z.withUnsafeMutableBufferPointer { z in
              guard let pd = d.baseAddress, let ph = hd.baseAddress,
                let pv = inverse.baseAddress, let ps = s.baseAddress, let pr = r.baseAddress,
                let pz = z.baseAddress
              else { return 0 }
              let step = SIMD8<Double>(repeating: alpha)
              return chunkedSum(n) { range in
                var sum = SIMD8<Double>()
                var i = range.lowerBound
                while i + 8 <= range.upperBound {
                  let dv = UnsafeRawPointer(pd + i).loadUnaligned(as: SIMD8<Double>.self)
                  let hv = UnsafeRawPointer(ph + i).loadUnaligned(as: SIMD8<Double>.self)
                  let sv = UnsafeRawPointer(ps + i).loadUnaligned(as: SIMD8<Double>.self)
                  let rv = UnsafeRawPointer(pr + i).loadUnaligned(as: SIMD8<Double>.self)
                  let iv = UnsafeRawPointer(pv + i).loadUnaligned(as: SIMD8<Double>.self)
                  let newS = sv + step * dv
                  let newR = rv - step * hv
                  let newZ = newR * iv
                  UnsafeMutableRawPointer(ps + i).storeBytes(of: newS, as: SIMD8<Double>.self)
                  UnsafeMutableRawPointer(pr + i).storeBytes(of: newR, as: SIMD8<Double>.self)
                  UnsafeMutableRawPointer(pz + i).storeBytes(of: newZ, as: SIMD8<Double>.self)
                  sum += newZ * newR
                  i += 8
                }
                var tail = 0.0
                while i < range.upperBound {
                  ps[i] += alpha * pd[i]
                  pr[i] -= alpha * ph[i]
                  pz[i] = pr[i] * pv[i]
                  tail += pz[i] * pr[i]
                  i += 1
                }
                return laneSum(sum) + tail
              }
            }
          }
        }
      }
    }
  }
}

/// `d = z + β·d`, element by element on the worker threads.
func nextDirection(z: [Double], beta: Double, d: inout [Double]) {
  precondition(z.count == d.count, "a direction of unequal lengths")
  z.withUnsafeBufferPointer { z in
    d.withUnsafeMutableBufferPointer { d in
      guard let pz = z.baseAddress, let pd = d.baseAddress else { return }
      forEachPart(d.count) { range in
        for i in range { pd[i] = pz[i] + beta * pd[i] }
      }
    }
  }
}

/// `Σ aᵢ·mᵢ·bᵢ`, in the chunk order of ``dot(_:_:)``: the same bits for
/// every thread count.
func weightedDot(_ a: [Double], _ m: [Double], _ b: [Double]) -> Double {
  precondition(a.count == b.count && m.count == a.count, "weighted dot of unequal lengths")
  return a.withUnsafeBufferPointer { a in
    m.withUnsafeBufferPointer { m in
      b.withUnsafeBufferPointer { b in
        chunkedSum(a.count) { range in
          var sum = 0.0
          for i in range { sum += a[i] * m[i] * b[i] }
          return sum
        }
      }
    }
  }
}

/// `‖a‖_M = (Σ mᵢ·aᵢ²)^½`.
func weightedNorm(_ a: [Double], _ m: [Double]) -> Double {
  weightedDot(a, m, a).squareRoot()
}

/// The trust-region Newton method between two iterations (see
/// ``LBFGSState``).
struct TrustRegionNewtonState: Sendable, Hashable, Codable {
  var x: [Double]
  var g: [Double]
  var f: Double
  var radius: Double
  var iteration: Int
  var evaluations: Int
  var stop: StopReason?
}
