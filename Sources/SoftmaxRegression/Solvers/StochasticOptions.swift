//===--- StochasticOptions.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// The learning rate of each epoch, as a multiple of the base rate.
///
/// The rate is set at the start of every epoch (0-based `e`, of `E`
/// epochs) and held through it, as PyTorch's schedulers stepped once an
/// epoch.
public enum LearningRateSchedule: Sendable, Hashable, Codable {
  /// 1 (no decay).
  case constant
  /// `factor^⌊e / every⌋` (PyTorch's `StepLR`).
  case step(every: Int, factor: Double)
  /// `factor^e` (PyTorch's `ExponentialLR`).
  case exponential(factor: Double)
  /// `½·(1 + cos(π·e/E))`, from 1 down towards 0 (PyTorch's
  /// `CosineAnnealingLR` with `T_max = E`, `eta_min = 0`).
  case cosine
  /// `1 / (1 + decay·e)`.
  case inverseTime(decay: Double)

  /// The multiplier of epoch `epoch` (0-based) of `epochs`.
  public func multiplier(epoch: Int, epochs: Int) -> Double {
    switch self {
    case .constant:
      return 1
    case .step(let every, let factor):
      return Double.pow(factor, Double(epoch / max(every, 1)))
    case .exponential(let factor):
      return Double.pow(factor, Double(epoch))
    case .cosine:
      return 0.5 * (1 + Double.cos(Double.pi * Double(epoch) / Double(max(epochs, 1))))
    case .inverseTime(let decay):
      return 1 / (1 + decay * Double(epoch))
    }
  }
}

/// Stop when the loss on a held-out part of the training data stops
/// improving, and go back to the best model.
public struct EarlyStopping: Sendable, Hashable, Codable {
  /// The fraction of rows held out, stratified by class (each class
  /// gives `round(fraction · its count)` rows, at least one row in all),
  /// chosen by the training seed.
  public var validationFraction: Double = 0.1
  /// Stop after this many epochs in a row without improvement.
  public var patience: Int = 5
  /// An epoch improves when its validation loss is below the best so far
  /// by more than this (in nats).
  public var minImprovement: Double = 1e-4
  /// Return the parameters of the best epoch rather than the last.
  public var restoreBest: Bool = true

  /// 10 % held out, patience 5, improvement 1e-4, restore the best.
  public init() {}
}

/// The settings of the minibatch solvers, ``TrainingOptions/Solver/sgd``
/// and ``TrainingOptions/Solver/adam``.
public struct StochasticOptions: Sendable, Hashable, Codable {
  /// Rows per step; the last batch of an epoch may be smaller. A batch
  /// size above the training rows' count takes them all in one batch
  /// (full-batch steps).
  public var batchSize: Int = 256
  /// Passes over the (training part of the) data.
  public var epochs: Int = 10
  /// The base step size; `nil` takes 0.1 for SGD and 0.001 for Adam.
  public var learningRate: Double? = nil
  /// How the step size changes from epoch to epoch.
  public var schedule: LearningRateSchedule = .constant
  /// SGD's momentum μ in [0, 1): `v ← μ·v + g`, `w ← w − η·v` (PyTorch's
  /// form, dampening 0).
  public var momentum: Double = 0
  /// SGD: use Nesterov's momentum, `w ← w − η·(g + μ·v)` (needs μ > 0).
  public var nesterov: Bool = false
  /// Adam's β₁ (the gradient's moving average).
  public var beta1: Double = 0.9
  /// Adam's β₂ (the squared gradient's moving average).
  public var beta2: Double = 0.999
  /// Adam's ε.
  public var epsilon: Double = 1e-8
  /// Reorder the rows at every epoch.
  public var shuffle: Bool = true
  /// Shuffle by chunks of this many consecutive rows, or `nil` for all
  /// rows at once: every epoch then takes the chunks `[0, c)`, `[c, 2c)`, …
  /// in a shuffled order and the rows of each chunk in a shuffled order,
  /// so that rows mix only within their chunk (and batches across two
  /// neighbours in the epoch's order). This is how streamed training reads
  /// a file larger than memory (`fit(streaming:)` sets it to its chunk's
  /// rows); set it to train the same model on the rows in memory.
  public var shuffleChunkRows: Int? = nil
  /// The seed of the shuffles and of the validation split: the same seed
  /// and data give the same model, for every thread count.
  public var seed: UInt64 = 0
  /// Hold out part of the data and stop when its loss stops improving.
  public var earlyStopping: EarlyStopping? = nil

  /// Batch 256, 10 epochs, the optimizer's default rate, no momentum.
  public init() {}
}

/// The minibatch optimizers between two epochs: the parameters, the
/// moments, the counters, the rows' current order and the shuffle's
/// generator, early stopping's record, and the stop the last epoch called
/// for (see ``LBFGSState``).
struct StochasticState: Sendable, Hashable, Codable {
  var x: [Double]
  var velocity: [Double]
  var second: [Double]
  var step: Int
  var epoch: Int
  var order: [Int]
  var generator: UInt64
  var validationHistory: [Double]
  var bestLoss: Double
  var bestParameters: [Double]
  var epochsWithoutImprovement: Int
  var stop: StopReason?
}
