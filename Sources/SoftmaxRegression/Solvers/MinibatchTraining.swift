//===--- MinibatchTraining.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// The update of one batch of ``MinibatchTraining``.
enum MinibatchRule: Sendable {
  case sgd(SGD)
  case adam(Adam)

  var learningRate: Double {
    switch self {
    case .sgd(let sgd): sgd.learningRate
    case .adam(let adam): adam.learningRate
    }
  }

  var isAdam: Bool {
    if case .adam = self { return true }
    return false
  }
}

/// The epochs of the minibatch solvers, ``SGD`` and ``Adam``: the rows
/// (less a stratified held-out part with early stopping) reshuffled every
/// epoch by the seed, cut into batches read in place, one update per
/// batch; the learning rate set per epoch by the schedule; divergence
/// (a minibatch loss or a parameter that is not finite, or a loss 10^10
/// times the loss at zero parameters) stops training with the parameters
/// from before the failing epoch; early stopping keeps the best epoch.
///
/// Deterministic: the same seed and data give the same parameters for
/// every thread count, and resuming a state gives the bits of the run that
/// did not stop.
struct MinibatchTraining<Objective: TrainingObjective> {
  let objective: Objective
  let options: StochasticOptions
  let rule: MinibatchRule
  /// The final gradient test (the full gradient is computed once, at the
  /// end): below it, an epoch-limited run counts as converged.
  var gradientTolerance: Double = 1e-6

  /// Trains from `start`, or goes on from `state` (an earlier run's,
  /// after one of its epochs) exactly as if that run had not stopped.
  func run(
    from start: [Double], resuming state: StochasticState? = nil, reportsState: Bool = false,
    progress: (IterationReport) -> Bool
  ) throws(TrainingError) -> OptimizationResult {
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
    let rate = rule.learningRate
    // The divergence threshold is evaluated only for a loss that may pass
    // it (above 10^10): ordinary runs never pay for it.
    var threshold: Double? = nil
    let count = state?.x.count ?? start.count
    var workspace = objective.makeWorkspace()
    var x = state?.x ?? start
    var gradient = [Double](repeating: 0, count: count)
    // SGD's v, Adam's m; Adam's v.
    var velocity = state?.velocity ?? [Double](repeating: 0, count: count)
    var second = state?.second ?? [Double](repeating: 0, count: rule.isAdam ? count : 0)
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
      if options.shuffle {
        if let chunkRows = options.shuffleChunkRows {
          order = Self.chunkShuffled(trainingRows, chunkRows: chunkRows, using: &generator)
        } else {
          generator.shuffle(&order)
        }
      }
      var lossSum = 0.0
      var begin = 0
      while begin < order.count {
        let end = begin + min(batchSize, order.count - begin)
        batch.removeAll(keepingCapacity: true)
        batch.append(contentsOf: order[begin..<end])
        let loss = objective.smoothValueAndGradient(
          rows: batch, at: x, gradient: &gradient, workspace: &workspace)
        var diverged = !loss.isFinite
        if !diverged && loss > 1e10 {
          let limit = threshold ?? divergenceThreshold()
          threshold = limit
          diverged = loss > limit
        }
        guard !diverged else {
          x = epochStart
          reason = .diverged
          break epochs
        }
        lossSum += loss * Double(end - begin)
        step += 1
        switch rule {
        case .adam(let adam):
          adam.update(&x, gradient, &velocity, &second, eta: eta, step: step)
        case .sgd(let sgd):
          sgd.update(
            &x, gradient, &velocity, eta: eta, l1: objective.l1Strength, l1Count: objective.l1Count)
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
        let loss = objective.loss(rows: validationRows, at: x, workspace: &workspace)
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
    let smooth = objective.smoothValueAndGradient(at: x, gradient: &gradient, workspace: &workspace)
    let l1 = objective.l1Strength
    let pseudo = pseudoGradient(x, gradient, l1: l1, l1Count: l1 > 0 ? objective.l1Count : 0)
    let norm = maxAbs(pseudo)
    if reason == .iterationLimit && norm <= gradientTolerance {
      reason = .gradientTolerance
    }
    var result = OptimizationResult(
      parameters: x, objective: smooth + objective.l1Term(x), gradientNorm: norm,
      iterations: epoch, evaluations: step, stopReason: reason)
    result.validationHistory = validationHistory
    return result
  }

  /// `rows` (ascending) in an epoch's order by chunks of `chunkRows`
  /// consecutive rows: the chunks in a shuffled order, the rows of each in
  /// a shuffled order (``StochasticOptions/shuffleChunkRows``).
  static func chunkShuffled(_ rows: [Int], chunkRows: Int, using generator: inout SplitMix64)
    -> [Int]
  {
    var groups: [[Int]] = []
    var current = -1
    for row in rows {
      let chunk = row / chunkRows
      if chunk != current {
        groups.append([])
        current = chunk
      }
      groups[groups.count - 1].append(row)
    }
    var chunkOrder = Array(groups.indices)
    generator.shuffle(&chunkOrder)
    var order: [Int] = []
    order.reserveCapacity(rows.count)
    for index in chunkOrder {
      var group = groups[index]
      generator.shuffle(&group)
      order.append(contentsOf: group)
    }
    return order
  }

  /// Whether every value is finite.
  private func allFinite(_ values: [Double]) -> Bool {
    values.withUnsafeBufferPointer { buffer in
      var finite = true
      for v in buffer { finite = finite && v.isFinite }
      return finite
    }
  }

  /// A minibatch loss above which training has diverged though it is
  /// finite: 10^10 times the loss at zero parameters (log k nats for
  /// softmax regression), and at least 10^10. No model that learns comes
  /// near it (a loss of 10^10 nats is a probability of e^-10^10 for the
  /// true class); a learning rate of 1e300 reaches it in one step.
  private func divergenceThreshold() -> Double {
    var gradient: [Double] = []
    let zero = [Double](repeating: 0, count: objective.parameterCount)
    let atZero = objective.smoothValueAndGradient(at: zero, gradient: &gradient)
    return 1e10 * (atZero.isFinite ? max(1, atZero) : 1)
  }

  /// The training and validation rows (all rows and none without early
  /// stopping), stratified by class, in ascending order.
  private func split(using generator: inout SplitMix64) throws(TrainingError) -> ([Int], [Int]) {
    let n = objective.rowCount
    guard let early = options.earlyStopping else { return (Array(0..<n), []) }
    let strata = objective.strata ?? ([Int](repeating: 0, count: n), 1)
    let (training, validation) = try StratifiedSplit.split(
      labels: strata.labels, classCount: strata.classCount,
      fraction: early.validationFraction, using: &generator)
    guard validation.count < n else {
      throw TrainingError(
        .invalidOption,
        "a validation fraction of \(early.validationFraction) leaves no training rows of \(n)")
    }
    return (training, validation)
  }
}
