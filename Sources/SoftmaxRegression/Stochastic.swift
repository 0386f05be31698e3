//===--- Stochastic.swift -------------------------------------*- swift -*-===//
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

/// The minibatch optimizers: SGD (with momentum or Nesterov momentum, a
/// proximal step for L1) and Adam (Kingma & Ba, with bias correction; L2
/// added to the gradient, as PyTorch's `weight_decay`).
struct StochasticTrainer<T: SoftmaxScalar> {
  let objective: SoftmaxRegressionObjective<T>
  let options: StochasticOptions
  let adam: Bool
  let l1: Double
  let gradientTolerance: Double

  struct Outcome {
    var result: OptimizationResult
    var validationHistory: [Double]
  }

  /// Trains from `start`, or goes on from `state` (an earlier run's,
  /// after one of its epochs) exactly as if that run had not stopped.
  func run(
    from start: [Double], resuming state: StochasticState? = nil, reportsState: Bool = false,
    progress: (IterationReport) -> Bool
  ) throws(TrainingError) -> Outcome {
    var generator = SplitMix64(seed: options.seed)
    let (trainingRows, validationRows) = try split(using: &generator)
    if let state {
      generator = SplitMix64(seed: state.generator)
      guard state.order.count == trainingRows.count, Set(state.order) == Set(trainingRows) else {
        throw TrainingError(
          .invalidModel,
          "a damaged checkpoint: its row order is not an order of the \(trainingRows.count) training rows"
        )
      }
    }
    let rate = options.learningRate ?? (adam ? 0.001 : 0.1)
    let blowUp = divergenceThreshold()
    let weightCount = objective.classCount * objective.featureCount
    let count = state?.x.count ?? start.count
    var x = state?.x ?? start
    var gradient = [Double](repeating: 0, count: count)
    // SGD's v, Adam's m; Adam's v.
    var velocity = state?.velocity ?? [Double](repeating: 0, count: count)
    var second = state?.second ?? [Double](repeating: 0, count: adam ? count : 0)
    var step = state?.step ?? 0
    var order = state?.order ?? trainingRows
    // Never more than the rows (a batch size of 2^63 − 1 allocates nothing).
    let batchSize = min(options.batchSize, max(order.count, 1))
    var batch: [Int] = []
    batch.reserveCapacity(batchSize)
    var reason = state?.stop ?? StopReason.iterationLimit
    var validationHistory: [Double] = state?.validationHistory ?? []
    var best = (loss: state?.bestLoss ?? Double.infinity, parameters: state?.bestParameters ?? x)
    var epochsWithoutImprovement = state?.epochsWithoutImprovement ?? 0
    var epoch = state?.epoch ?? 0
    epochs: while reason == .iterationLimit && epoch < options.epochs {
      let epochStart = x
      let eta = rate * options.schedule.multiplier(epoch: epoch, epochs: options.epochs)
      if options.shuffle { generator.shuffle(&order) }
      var lossSum = 0.0
      var begin = 0
      while begin < order.count {
        let end = begin + min(batchSize, order.count - begin)
        batch.removeAll(keepingCapacity: true)
        batch.append(contentsOf: order[begin..<end])
        let loss = objective.minibatchValueAndGradient(rows: batch, at: x, gradient: &gradient)
        guard loss.isFinite, loss <= blowUp else {
          x = epochStart
          reason = .diverged
          break epochs
        }
        lossSum += loss * Double(end - begin)
        step += 1
        if adam {
          adamStep(&x, gradient, &velocity, &second, eta: eta, step: step)
        } else {
          sgdStep(&x, gradient, &velocity, eta: eta, weightCount: weightCount)
        }
        begin = end
      }
      // A step can leave inf or NaN parameters that no loss has seen yet:
      // the epoch diverged all the same.
      if !allFinite(x) {
        x = epochStart
        reason = .diverged
        break epochs
      }
      epoch += 1
      var validationLoss: Double? = nil
      if let early = options.earlyStopping {
        let loss = objective.crossEntropy(rows: validationRows, at: x)
        validationLoss = loss
        validationHistory.append(loss)
        if loss < best.loss - early.minImprovement {
          best = (loss, x)
          epochsWithoutImprovement = 0
        } else {
          epochsWithoutImprovement += 1
        }
        if !loss.isFinite {
          reason = .diverged
        } else if epochsWithoutImprovement >= early.patience {
          reason = .earlyStopping
        }
      }
      var report = IterationReport(
        iteration: epoch, objective: lossSum / Double(order.count), gradientNorm: .nan,
        evaluations: step, validationLoss: validationLoss, parameters: x)
      if reportsState {
        report.solverState = .stochastic(
          state: StochasticState(
            x: x, velocity: velocity, second: second, step: step, epoch: epoch, order: order,
            generator: generator.state, validationHistory: validationHistory,
            bestLoss: best.loss, bestParameters: best.parameters,
            epochsWithoutImprovement: epochsWithoutImprovement,
            stop: reason == .iterationLimit ? nil : reason))
      }
      let keepGoing = progress(report)
      if reason != .iterationLimit { break }
      if !keepGoing {
        reason = .cancelled
        break
      }
    }
    if let early = options.earlyStopping, early.restoreBest, best.loss.isFinite,
      reason == .earlyStopping || reason == .iterationLimit || reason == .diverged
    {
      x = best.parameters
    }
    // The exact objective over all rows at the returned point.
    let smooth = objective.smoothValueAndGradient(at: x, gradient: &gradient)
    let pseudo = pseudoGradient(x, gradient, l1: l1, l1Count: l1 > 0 ? weightCount : 0)
    let norm = maxAbs(pseudo)
    if reason == .iterationLimit && norm <= gradientTolerance {
      reason = .gradientTolerance
    }
    return Outcome(
      result: OptimizationResult(
        parameters: x, objective: smooth + objective.l1Term(x), gradientNorm: norm,
        iterations: epoch, evaluations: step, stopReason: reason),
      validationHistory: validationHistory)
  }

  /// A minibatch loss above which training has diverged though it is
  /// finite: 10^10 times the loss at W = 0 (log k nats, at least 1), times
  /// the largest class weight. No model that learns comes near it (a loss
  /// of 10^10 nats is a probability of e^-10^10 for the true class); a
  /// learning rate of 1e300 reaches it in one step.
  private func divergenceThreshold() -> Double {
    var classWeight = 1.0
    for (i, weight) in objective.rowWeights.enumerated() {
      let sample = objective.sampleWeights?[i] ?? 1
      if sample > 0 { classWeight = max(classWeight, weight / sample) }
    }
    return 1e10 * max(1, Double.log(Double(objective.classCount))) * classWeight
  }

  /// Whether every value is finite.
  private func allFinite(_ values: [Double]) -> Bool {
    values.withUnsafeBufferPointer { buffer in
      var finite = true
      for v in buffer { finite = finite && v.isFinite }
      return finite
    }
  }

  /// `v ← μ·v + g`; `w ← w − η·v` (or `w − η·(g + μ·v)` with Nesterov);
  /// then, with L1, the proximal step `w ← sign(w)·max(|w| − η·λ₁, 0)` on
  /// the weights.
  private func sgdStep(
    _ x: inout [Double], _ g: [Double], _ v: inout [Double], eta: Double, weightCount: Int
  ) {
    let mu = options.momentum
    let nesterov = options.nesterov
    let l1 = self.l1
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
          for i in 0..<weightCount {
            let w = x[i]
            x[i] = w > threshold ? w - threshold : (w < -threshold ? w + threshold : 0)
          }
        }
      }
    }
  }

  /// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
  /// `w ← w − η·m̂/(√v̂ + ε)` with `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`.
  private func adamStep(
    _ x: inout [Double], _ g: [Double], _ m: inout [Double], _ v: inout [Double], eta: Double,
    step: Int
  ) {
    let beta1 = options.beta1
    let beta2 = options.beta2
    let correction1 = 1 - Double.pow(beta1, Double(step))
    let correction2 = 1 - Double.pow(beta2, Double(step))
    let epsilon = options.epsilon
    x.withUnsafeMutableBufferPointer { x in
      g.withUnsafeBufferPointer { g in
        m.withUnsafeMutableBufferPointer { m in
          v.withUnsafeMutableBufferPointer { v in
            for i in 0..<x.count {
              m[i] = beta1 * m[i] + (1 - beta1) * g[i]
              v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
              x[i] -= eta * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon)
            }
          }
        }
      }
    }
  }

  /// The training and validation rows (all rows and none without early
  /// stopping), stratified by class, in ascending order.
  private func split(using generator: inout SplitMix64) throws(TrainingError) -> ([Int], [Int]) {
    let n = objective.features.rows
    guard let early = options.earlyStopping else { return (Array(0..<n), []) }
    let (training, validation) = try StratifiedSplit.split(
      labels: objective.labels, classCount: objective.classCount,
      fraction: early.validationFraction, using: &generator)
    guard validation.count < n else {
      throw TrainingError(
        .invalidOption,
        "a validation fraction of \(early.validationFraction) leaves no training rows of \(n)")
    }
    return (training, validation)
  }
}
