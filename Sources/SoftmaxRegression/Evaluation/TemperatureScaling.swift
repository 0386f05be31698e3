//===--- TemperatureScaling.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Temperature scaling: the one scalar `τ > 0` that makes a trained
/// model's probabilities `softmax(z/τ)` fit held-out data best (Guo et
/// al., 2017). It leaves every prediction as it is (the order of the
/// logits does not change) and only sharpens (`τ < 1`) or softens
/// (`τ > 1`) the probabilities.
///
/// `τ` minimizes the weighted mean held-out log loss
/// `L(β) = Σᵢ wᵢ·(log Σⱼ exp(β·zᵢⱼ) − β·zᵢ,yᵢ) / Σᵢ wᵢ` over the inverse
/// temperature `β = 1/τ`. `L` is convex in `β` (a log-sum-exp of functions
/// linear in `β`): its derivative `L′(β) = mean(E_p[z] − z_y)` rises from
/// `mean(z̄ − z_y)` at `β = 0` to `mean(max z − z_y)` as `β → ∞`, and
/// `L″(β)` is the mean variance of the logits under `p = softmax(β·z)`.
/// The fit is Newton's method on `L′(β) = 0`, kept inside a bracket that
/// shrinks every step (bisection when a Newton step leaves it), stopped
/// when a step moves `β` by at most 1e-12 relative (or the bracket is that
/// narrow): Newton's steps shrink quadratically, so `τ` is then correct to
/// about 1e-12 relative, inside the 1e-10 asked of it, without chasing the
/// rounding noise of the slope near the root. scikit-learn's
/// `CalibratedClassifierCV(method="temperature")` minimizes the same loss
/// over `log β` in `[−10, 10]` with Brent's method; within those bounds
/// both find the same minimizer.
public struct TemperatureScaling: Sendable, Hashable {
  /// `τ`: divide the logits by it before the softmax.
  public var temperature: Double
  /// The weighted mean log loss at `τ = 1` (the model as trained).
  public var logLossBefore: Double
  /// The weighted mean log loss at ``temperature`` (never above
  /// ``logLossBefore``).
  public var logLossAfter: Double
  /// Newton and bisection steps taken (each one pass over the logits).
  public var iterations: Int

  /// Fits `τ` to held-out logits and their true classes.
  ///
  /// - Parameters:
  ///   - logits: `n × k`, a model's scores before the softmax
  ///     (``SoftmaxClassifier/logits(_:)-(Matrix<T>)``), finite.
  ///   - labels: `n` class indices in `0..<k`.
  ///   - sampleWeights: `n` finite weights `≥ 0`, not all 0, or `nil`
  ///     for 1 each.
  /// - Throws: ``TrainingError`` for no rows, mismatched counts, a label
  ///   out of range, a logit that is not finite, a bad weight, and
  ///   ``TrainingError/Code/noFiniteOptimum`` when no `τ > 0` minimizes
  ///   the loss: every weighted row's true class already has the largest
  ///   logit (the loss falls towards 0 as `τ → 0`; more held-out data, with
  ///   the model's mistakes, are needed), or the logits favour the wrong
  ///   classes so much that the loss falls as `τ → ∞` (uniform
  ///   probabilities do better than the model's).
  /// - Complexity: O(n·k) a step, usually fewer than 20 steps; `n·k` calls
  ///   of `exp` a step, serial (the same bits on any thread count).
  public init(logits: Matrix<Double>, labels: [Int], sampleWeights: [Double]? = nil)
    throws(TrainingError)
  {
    let n = logits.rows
    let k = logits.columns
    guard n > 0 else { throw TrainingError(.emptyData, "no held-out rows to calibrate on") }
    guard labels.count == n else {
      throw TrainingError(.shapeMismatch, "\(labels.count) labels for \(n) rows")
    }
    if let sampleWeights, sampleWeights.count != n {
      throw TrainingError(.shapeMismatch, "\(sampleWeights.count) sample weights for \(n) rows")
    }
    if let row = labels.firstIndex(where: { $0 < 0 || $0 >= k }) {
      throw TrainingError(
        .labelOutOfRange, "row \(row): label \(labels[row]) is not in 0..<\(k)",
        location: ErrorLocation(row: row))
    }
    if let index = logits.elements.firstIndex(where: { !$0.isFinite }) {
      throw TrainingError(
        .nonFiniteValue, "row \(index / k): logit \(index % k) is \(logits.elements[index])",
        location: ErrorLocation(row: index / k))
    }
    let weights = sampleWeights ?? [Double](repeating: 1, count: n)
    if let row = weights.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
      throw TrainingError(
        .invalidWeight, "row \(row): sample weight \(weights[row]) is not finite and ≥ 0",
        location: ErrorLocation(row: row))
    }
    let totalWeight = weights.reduce(0, +)
    guard totalWeight > 0, totalWeight.isFinite else {
      throw TrainingError(.invalidWeight, "the sample weights sum to \(totalWeight)")
    }
    let loss = HeldOutLoss(logits: logits, labels: labels, weights: weights, total: totalWeight)

    // L′ at the ends of (0, ∞): a minimizer exists only between a
    // negative slope at 0 and a positive one at ∞.
    let (slopeAtZero, slopeAtInfinity) = loss.limitSlopes()
    guard slopeAtZero < 0 else {
      throw TrainingError(
        .noFiniteOptimum,
        "the held-out log loss falls as τ grows without bound: the model's scores favour the wrong classes (uniform probabilities do better), so no temperature calibrates it"
      )
    }
    guard slopeAtInfinity > 0 else {
      throw TrainingError(
        .noFiniteOptimum,
        "every one of the \(n) held-out rows already has its true class ranked first, so the log loss falls towards 0 as τ → 0 and no temperature minimizes it; calibrate on more held-out rows, including some the model gets wrong"
      )
    }

    // A bracket [low, high] of β with L′(low) < 0 < L′(high).
    var iterations = 0
    var low = 0.0
    var beta = 1.0
    var point = loss.evaluate(beta: beta)
    iterations += 1
    while point.slope < 0 && beta < 0x1p1000 {
      low = beta
      beta *= 2
      point = loss.evaluate(beta: beta)
      iterations += 1
    }
    var high = beta
    // Newton's method, bisection when a step would leave the bracket.
    while iterations < 400 {
      if point.slope == 0 { break }
      if point.slope < 0 { low = beta } else { high = beta }
      let newton = point.curvature > 0 ? beta - point.slope / point.curvature : .nan
      // Converged: the next Newton step is below 1e-12 of β (taking it
      // would only chase the slope's rounding noise).
      if abs(newton - beta) <= 1e-12 * beta { break }
      beta = newton > low && newton < high ? newton : low + (high - low) / 2
      point = loss.evaluate(beta: beta)
      iterations += 1
      if high - low <= 1e-12 * high { break }
    }
    temperature = 1 / beta
    logLossBefore = loss.evaluate(beta: 1).value
    logLossAfter = min(point.value, logLossBefore)
    self.iterations = iterations
  }
}

/// The held-out loss `L(β)` of ``TemperatureScaling`` with its first two
/// derivatives, one serial pass over the logits each.
private struct HeldOutLoss {
  let logits: Matrix<Double>
  let labels: [Int]
  let weights: [Double]
  let total: Double

  /// `L′(0)` and `lim L′(β)` as `β → ∞`.
  func limitSlopes() -> (atZero: Double, atInfinity: Double) {
    let k = logits.columns
    var atZero = 0.0
    var atInfinity = 0.0
    logits.elements.withUnsafeBufferPointer { z in
      for i in 0..<logits.rows where weights[i] > 0 {
        let row = UnsafeBufferPointer(rebasing: z[(i * k)..<((i + 1) * k)])
        let top = row.max() ?? 0
        let mean = row.reduce(0, +) / Double(k)
        let truth = row[labels[i]]
        atZero += weights[i] * (mean - truth)
        atInfinity += weights[i] * (top - truth)
      }
    }
    return (atZero / total, atInfinity / total)
  }

  /// `L(β)`, `L′(β)` and `L″(β)`, each row shifted by its largest logit.
  func evaluate(beta: Double) -> (value: Double, slope: Double, curvature: Double) {
    let k = logits.columns
    var value = 0.0
    var slope = 0.0
    var curvature = 0.0
    logits.elements.withUnsafeBufferPointer { z in
      for i in 0..<logits.rows where weights[i] > 0 {
        let row = UnsafeBufferPointer(rebasing: z[(i * k)..<((i + 1) * k)])
        let top = row.max() ?? 0
        var sum = 0.0
        var first = 0.0  // Σ e·(z − top)
        for x in row {
          let e = Double.exp(beta * (x - top))
          sum += e
          first += e * (x - top)
        }
        let mean = first / sum  // E_p[z] − top
        var variance = 0.0
        for x in row {
          let e = Double.exp(beta * (x - top))
          let d = (x - top) - mean
          variance += e * d * d
        }
        variance /= sum
        let truth = row[labels[i]] - top
        value += weights[i] * (Double.log(sum) - beta * truth)
        slope += weights[i] * (mean - truth)
        curvature += weights[i] * variance
      }
    }
    return (value / total, slope / total, curvature / total)
  }
}

extension SoftmaxClassifier {
  /// This model with its ``temperature`` fitted to held-out labelled
  /// data (``TemperatureScaling``): the same predictions, calibrated
  /// probabilities. The fit starts from the model's raw logits whatever its
  /// current temperature.
  ///
  /// - Parameters:
  ///   - features: held-out rows (not the training rows: on those the model
  ///     is overconfident by construction), `n × d`.
  ///   - labels: their `n` class indices.
  ///   - sampleWeights: `n` weights, or `nil` for 1 each.
  /// - Returns: the model with ``temperature`` set, and the fit.
  /// - Throws: ``TrainingError`` as ``TemperatureScaling/init(logits:labels:sampleWeights:)``
  ///   and for features that do not fit the model.
  /// - Complexity: one pass of the model over the rows, then
  ///   ``TemperatureScaling``'s O(n·k) steps.
  public func calibrated<F: ClassifierFeatures>(
    features: F, labels: [Int], sampleWeights: [Double]? = nil
  ) throws(TrainingError) -> (model: SoftmaxClassifier, fit: TemperatureScaling) {
    guard labels.count == features.rows else {
      throw TrainingError(.shapeMismatch, "\(labels.count) labels for \(features.rows) rows")
    }
    try features.validate(for: self)
    let fit = try TemperatureScaling(
      logits: try features.logits(by: self), labels: labels, sampleWeights: sampleWeights)
    var model = self
    model.temperature = fit.temperature
    return (model, fit)
  }
}
