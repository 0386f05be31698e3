//===--- SGD.swift --------------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Minibatch stochastic gradient descent, with momentum or Nesterov
/// momentum (PyTorch's form, dampening 0), and a proximal step for the
/// objective's L1 term:
///
///     v ← μ·v + g;  w ← w − η·v   (w ← w − η·(g + μ·v) with Nesterov)
///     w ← sign(w)·max(|w| − η·λ₁, 0)   on the L1 coordinates
///
/// The epochs, batches, schedule, early stopping and divergence test are
/// the minibatch loop's, shared with ``Adam``.
public struct SGD: Sendable, Hashable {
  /// The base step size η (scaled by the schedule each epoch).
  public var learningRate: Double
  /// μ in [0, 1).
  public var momentum: Double
  /// Nesterov's momentum (needs μ > 0).
  public var nesterov: Bool

  /// An SGD step of size `learningRate`, plain by default.
  public init(learningRate: Double = 0.1, momentum: Double = 0, nesterov: Bool = false) {
    self.learningRate = learningRate
    self.momentum = momentum
    self.nesterov = nesterov
  }

  /// Minimizes `objective` from `start` in epochs of minibatches, as
  /// `training` says.
  ///
  /// - Throws: ``TrainingError`` when early stopping's held-out part
  ///   leaves no training rows.
  public func minimize<Objective: TrainingObjective>(
    _ objective: Objective, from start: [Double], training: StochasticOptions,
    progress: (IterationReport) -> Bool = { _ in true }
  ) throws(TrainingError) -> OptimizationResult {
    try MinibatchTraining(objective: objective, options: training, rule: .sgd(self))
      .run(from: start, progress: progress)
  }

  /// One step: `x` moved along `g` with the momentum `v` and the proximal
  /// L1 step on the first `l1Count` coordinates.
  func update(
    _ x: inout [Double], _ g: [Double], _ v: inout [Double], eta: Double, l1: Double,
    l1Count: Int
  ) {
    let mu = momentum
    let nesterov = self.nesterov
    x.withUnsafeMutableBufferPointer { x in
      g.withUnsafeBufferPointer { g in
        v.withUnsafeMutableBufferPointer { v in
          if mu == 0 {
            for i in 0..<x.count { x[i] -= eta * g[i] }
          } else if nesterov {
            for i in 0..<x.count {
              v[i] = mu * v[i] + g[i]
              x[i] -= eta * (g[i] + mu * v[i])
            }
          } else {
            for i in 0..<x.count {
              v[i] = mu * v[i] + g[i]
              x[i] -= eta * v[i]
            }
          }
          guard l1 > 0 else { return }
          let threshold = eta * l1
          for i in 0..<min(l1Count, x.count) {
            let w = x[i]
            x[i] = w > threshold ? w - threshold : (w < -threshold ? w + threshold : 0)
          }
        }
      }
    }
  }
}
