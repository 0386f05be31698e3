//===--- Adam.swift -------------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore
internal import _SoftmaxKernels

/// Adam on minibatches (Kingma & Ba, 2015, with bias correction; an L2
/// penalty is part of the gradient, as PyTorch's `weight_decay`):
///
///     m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
///     w ← w − η·m̂/(√v̂ + ε),  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)
///
/// computed as PyTorch does, with the corrections folded into two scalars
/// once a step: `w ← w − (η/(1−β₁ᵗ))·m / (√v·(1/√(1−β₂ᵗ)) + ε)`, one
/// square root and one division a parameter (the step's cost at 200,000
/// parameters is then a fraction of a minibatch's gradient).
///
/// The epochs, batches, schedule, early stopping and divergence test are
/// the minibatch loop's, shared with ``SGD``. Adam takes no L1 term.
public struct Adam: Sendable, Hashable {
  /// The base step size η (scaled by the schedule each epoch).
  public var learningRate: Double
  /// β₁, the gradient's moving average, in [0, 1).
  public var beta1: Double
  /// β₂, the squared gradient's moving average, in [0, 1).
  public var beta2: Double
  /// ε > 0.
  public var epsilon: Double

  /// Adam with PyTorch's defaults.
  public init(
    learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999,
    epsilon: Double = 1e-8
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
  }

  /// Minimizes the smooth part of `objective` from `start` in epochs of
  /// minibatches, as `training` says.
  ///
  /// - Precondition: the objective has no L1 term.
  /// - Throws: ``TrainingError`` when early stopping's held-out part
  ///   leaves no training rows.
  public func minimize<Objective: TrainingObjective>(
    _ objective: Objective, from start: [Double], training: StochasticOptions,
    progress: (IterationReport) -> Bool = { _ in true }
  ) throws(TrainingError) -> OptimizationResult {
    try MinibatchTraining(objective: objective, options: training, rule: .adam(self))
      .run(from: start, progress: progress)
  }

  /// One step of the `step`-th update (1-based), with the moments `m`, `v`.
  func update(
    _ x: inout [Double], _ g: [Double], _ m: inout [Double], _ v: inout [Double], eta: Double,
    step: Int
  ) {
    let beta1 = self.beta1
    let beta2 = self.beta2
    let stepSize = eta / (1 - Double.pow(beta1, Double(step)))
    let inverseRoot = 1 / (1 - Double.pow(beta2, Double(step))).squareRoot()
    let epsilon = self.epsilon
    let count = x.count
    x.withUnsafeMutableBufferPointer { x in
      g.withUnsafeBufferPointer { g in
        m.withUnsafeMutableBufferPointer { m in
          v.withUnsafeMutableBufferPointer { v in
            guard let x = x.baseAddress, let g = g.baseAddress, let m = m.baseAddress,
              let v = v.baseAddress
            else { return }
            // On every thread, in the C kernels (eight at a time at every
            // level): each element's operations are the scalar formula's,
            // rounded one by one in its order, so no split and no level
            // changes a bit.
            parallelFor(count: count, cost: 16, grain: 1 << 12) { begin, end in
              sk_adam_update(
                x, g, m, v, begin, end, beta1, beta2, stepSize, inverseRoot, epsilon)
            }
          }
        }
      }
    }
  }
}
