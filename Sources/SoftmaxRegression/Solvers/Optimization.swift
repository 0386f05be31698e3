//===--- Optimization.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// What every solver shares: why it stopped, what it reports after each
// iteration, what it returns, the full-batch convergence test, and the
// vector arithmetic of the solvers.

import SoftmaxCore

/// Why an optimizer stopped.
public enum StopReason: String, Sendable, Hashable, Codable, CaseIterable {
  /// The largest gradient component (the pseudo-gradient with L1) fell
  /// below the gradient tolerance: converged.
  case gradientTolerance
  /// The objective changed by less than the relative tolerance in one
  /// iteration: converged.
  case objectiveTolerance
  /// The iteration or epoch limit was reached first: not converged.
  case iterationLimit
  /// No step along the search direction lowered the objective (rounding
  /// noise near an optimum, or a badly scaled problem): not converged.
  case lineSearchFailed
  /// The validation loss stopped improving for `patience` epochs; the best
  /// model was restored.
  case earlyStopping
  /// The progress callback asked to stop.
  case cancelled
  /// A minibatch loss or the parameters became infinite or NaN, or the
  /// loss grew beyond 10^10 times its value at zero parameters (the
  /// learning rate is too large for the data's scale): the parameters from
  /// before the failing epoch (or the best validated ones) are kept, which
  /// are finite. Not converged.
  case diverged

  /// Whether this reason means the optimum was reached.
  public var isConverged: Bool {
    self == .gradientTolerance || self == .objectiveTolerance || self == .earlyStopping
  }
}

/// What one iteration of an optimizer reached, for progress reports.
public struct IterationReport: Sendable, Hashable {
  /// 1 for the first iteration (or epoch).
  public var iteration: Int
  /// The objective after it; for the minibatch solvers, the mean of the
  /// epoch's minibatch objectives (as PyTorch loops report a running loss).
  public var objective: Double
  /// The largest component of the (pseudo-)gradient after it; NaN for the
  /// minibatch solvers, which compute no full gradient during training.
  public var gradientNorm: Double
  /// Objective and gradient evaluations so far: full passes over the data,
  /// or minibatch steps for the minibatch solvers.
  public var evaluations: Int
  /// The held-out loss after the epoch (early stopping) or iteration
  /// (``TrainingOptions/heldOutFraction``).
  public var validationLoss: Double?
  /// The parameters after it (the weights row-major, then the biases; in
  /// the standardized space when the model standardizes), for callers
  /// that measure the model as it trains. Shared, not copied, until the
  /// optimizer's next step.
  public var parameters: [Double]
  /// Everything needed to go on from here exactly as if never stopped,
  /// when ``SoftmaxClassifier/fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)-(Matrix<T>,_,_,_,_,_,_,_,_,_)``
  /// was asked for checkpoints; `nil` otherwise.
  public var checkpoint: TrainingCheckpoint? = nil
  /// The standardization the parameters are in, when
  /// ``SoftmaxClassifier/fit(features:labels:classes:sampleWeights:featureNames:options:warmStart:resumingFrom:checkpoints:progress:)-(Matrix<T>,_,_,_,_,_,_,_,_,_)``
  /// standardizes: with them, the model so far
  /// (``SoftmaxClassifier/init(classes:featureCount:parameters:standardization:featureNames:training:hidden:)``).
  public var standardization: Standardization? = nil
  /// The optimizer's state after this iteration (checkpoints only).
  var solverState: SolverState? = nil

  /// Creates a report.
  public init(
    iteration: Int, objective: Double, gradientNorm: Double, evaluations: Int,
    validationLoss: Double? = nil, parameters: [Double] = []
  ) {
    self.iteration = iteration
    self.objective = objective
    self.gradientNorm = gradientNorm
    self.evaluations = evaluations
    self.validationLoss = validationLoss
    self.parameters = parameters
  }
}

/// The outcome of a minimization.
public struct OptimizationResult: Sendable, Hashable {
  /// The last accepted point.
  public var parameters: [Double]
  /// The objective there.
  public var objective: Double
  /// The largest component of its (pseudo-)gradient.
  public var gradientNorm: Double
  /// Iterations done.
  public var iterations: Int
  /// Objective and gradient evaluations.
  public var evaluations: Int
  /// Why it stopped.
  public var stopReason: StopReason
  /// The held-out loss after each epoch, for the minibatch solvers with
  /// early stopping; empty otherwise.
  public var validationHistory: [Double] = []

  /// Creates a result.
  public init(
    parameters: [Double], objective: Double, gradientNorm: Double, iterations: Int,
    evaluations: Int, stopReason: StopReason
  ) {
    self.parameters = parameters
    self.objective = objective
    self.gradientNorm = gradientNorm
    self.iterations = iterations
    self.evaluations = evaluations
    self.stopReason = stopReason
  }
}

/// The convergence test of the full-batch solvers after an iteration that
/// took the objective from `previous` to `current`: the gradient tolerance
/// first, then the relative change of the objective
/// (`(f_k − f_{k+1}) ≤ tolerance · max(|f_k|, |f_{k+1}|, 1)`, off at 0);
/// `nil` to go on.
func convergence(
  previous: Double, current: Double, gradientNorm: Double, gradientTolerance: Double,
  relativeObjectiveTolerance: Double
) -> StopReason? {
  if gradientNorm <= gradientTolerance { return .gradientTolerance }
  if relativeObjectiveTolerance > 0,
    previous - current <= relativeObjectiveTolerance * max(abs(previous), abs(current), 1)
  {
    return .objectiveTolerance
  }
  return nil
}

// MARK: - Vector helpers

/// `strength · Σ_{i < count} |xᵢ|`: the L1 term over the leading `count`
/// coordinates (0 when `count` is 0).
func l1Penalty(_ x: [Double], strength: Double, count: Int) -> Double {
  guard count > 0 else { return 0 }
  var sum = 0.0
  for i in 0..<count { sum += abs(x[i]) }
  return strength * sum
}

/// The pseudo-gradient of smooth + λ₁·Σ_{i < count}|xᵢ|: the gradient where
/// it exists, the component of least magnitude of the subdifferential at 0.
func pseudoGradient(_ x: [Double], _ g: [Double], l1: Double, l1Count: Int) -> [Double] {
  guard l1Count > 0 else { return g }
  var pg = g
  for i in 0..<l1Count {
    if x[i] > 0 {
      pg[i] = g[i] + l1
    } else if x[i] < 0 {
      pg[i] = g[i] - l1
    } else if g[i] + l1 < 0 {
      pg[i] = g[i] + l1
    } else if g[i] - l1 > 0 {
      pg[i] = g[i] - l1
    } else {
      pg[i] = 0
    }
  }
  return pg
}

/// The elements a chunk of ``dot(_:_:)`` holds: a multiple of 8. Chunks
/// are summed one by one and their sums added in order, so that the bits
/// depend on the length only, never on how the chunks are shared out.
/// Parameter vectors of up to this many elements (MNIST's 7,850) are one
/// chunk.
let vectorChunk = 8192

/// `Σ aᵢbᵢ`: each chunk of ``vectorChunk`` elements in eight interleaved
/// partial sums (element i to sum i mod 8, the sums added pairwise, then
/// the chunk's tail in order), the chunks' sums added in order. The same
/// bits on every machine and for every thread count, and eight times the
/// throughput of one running sum, which waits on each addition (L-BFGS
/// takes about 20 of these per iteration, over every parameter). Error:
/// at most about (n/8 + 3)·ε relative to Σ|aᵢbᵢ|.
func dot(_ a: [Double], _ b: [Double]) -> Double {
  precondition(a.count == b.count, "dot of \(a.count) and \(b.count) values")
  return a.withUnsafeBufferPointer { a in
    b.withUnsafeBufferPointer { b in
      guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
      return chunkedSum(a.count) { Double.dotChunk(pa, pb, $0) }
    }
  }
}

/// `Σ chunk(range)` over the ranges of `vectorChunk` elements that cover
/// `0..<n`, added in order (one range: its sum as it is). The order of
/// ``dot(_:_:)`` and its kin. The chunks are summed on the worker threads
/// (their sums kept, then added in order: the same bits): L-BFGS's passes
/// over 20 Newsgroups' 2.6M parameters read one vector from memory and
/// the other, the direction, mostly from the cache, and a second core
/// shortens them.
@inline(__always)
func chunkedSum(_ n: Int, _ chunk: (Range<Int>) -> Double) -> Double {
  let chunks = (n + vectorChunk - 1) / vectorChunk
  if chunks <= 1 { return chunk(0..<n) }
  var sums = [Double](repeating: 0, count: chunks)
  sums.withUnsafeMutableBufferPointer { sums in
    guard let out = sums.baseAddress else { return }
    parallelFor(count: chunks, cost: vectorChunk, grain: 16) { begin, end in
      for c in begin..<end {
        out[c] = chunk((c * vectorChunk)..<min(n, (c + 1) * vectorChunk))
      }
    }
  }
  var total = 0.0
  for c in 0..<chunks { total += sums[c] }
  return total
}

/// `width` sums over the chunks of `0..<n` at once: `chunk(range, sums)`
/// writes a chunk's `width` sums; sum `w` of the result is
/// ``chunkedSum(_:_:)`` of the `w`-th (the same bits), and every chunk is
/// visited once, so that the data of many sums is read in one pass.
@inline(__always)
func chunkedSums(
  _ n: Int, width: Int, _ chunk: (Range<Int>, UnsafeMutablePointer<Double>) -> Void
) -> [Double] {
  let chunks = (n + vectorChunk - 1) / vectorChunk
  guard width > 0 else { return [] }
  var sums = [Double](repeating: 0, count: max(chunks, 1) * width)
  sums.withUnsafeMutableBufferPointer { sums in
    guard let out = sums.baseAddress else { return }
    if chunks <= 1 {
      chunk(0..<n, out)
      return
    }
    parallelFor(count: chunks, cost: vectorChunk * width, grain: 1) { begin, end in
      for c in begin..<end {
        chunk((c * vectorChunk)..<min(n, (c + 1) * vectorChunk), out + c * width)
      }
    }
  }
  if chunks <= 1 { return sums }
  var totals = [Double](repeating: 0, count: width)
  for c in 0..<chunks {
    for w in 0..<width { totals[w] += sums[c * width + w] }
  }
  return totals
}

/// The eight lanes of a chunk added pairwise.
@inline(__always)
func laneSum(_ lanes: SIMD8<Double>) -> Double {
  ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
    + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
}

/// `out = x + α·d` (the bits of a copy of x and ``axpy(_:_:_:)``),
/// reusing `out`'s storage when it has the length.
func stepped(_ x: [Double], _ alpha: Double, _ d: [Double], into out: inout [Double]) {
  precondition(x.count == d.count, "step of \(x.count) and \(d.count) values")
  if out.count != x.count { out = filledArray(repeating: 0, count: x.count) }
  x.withUnsafeBufferPointer { x in
    d.withUnsafeBufferPointer { d in
      out.withUnsafeMutableBufferPointer { out in
        guard let px = x.baseAddress, let pd = d.baseAddress, let po = out.baseAddress else {
          return
        }
        forEachPart(x.count) { range in
          for i in range { po[i] = px[i] + alpha * pd[i] }
        }
      }
    }
  }
}

/// `count` zeros in `out`, reusing its storage when it has the length.
func zeroed(_ out: inout [Double], count: Int) {
  if out.count != count {
    out = filledArray(repeating: 0, count: count)
  } else {
    out.withUnsafeMutableBufferPointer { out in
      guard let base = out.baseAddress else { return }
      forEachPart(count) { range in
        (base + range.lowerBound).update(repeating: 0, count: range.count)
      }
    }
  }
}

/// `y += α·x`.
func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
  precondition(x.count == y.count, "axpy of \(x.count) and \(y.count) values")
  x.withUnsafeBufferPointer { x in
    y.withUnsafeMutableBufferPointer { y in
      guard let px = x.baseAddress, let py = y.baseAddress else { return }
      forEachPart(y.count) { range in
        for i in range { py[i] += alpha * px[i] }
      }
    }
  }
}

/// `max |aᵢ|` (0 when empty; NaN is skipped).
func maxAbs(_ a: [Double]) -> Double {
  let parts = max(1, min(SoftmaxConfiguration.threadCount, a.count >> 16))
  var maxima = [Double](repeating: 0, count: parts)
  a.withUnsafeBufferPointer { a in
    maxima.withUnsafeMutableBufferPointer { maxima in
      guard let pa = a.baseAddress, let out = maxima.baseAddress else { return }
      parallelFor(count: parts, cost: 1 << 16, grain: 1) { begin, end in
        for part in begin..<end {
          // Eight lanes (a scalar maximum is one long dependency chain); a
          // maximum is exact, so the lanes give the scalar loop's value.
          // NaN is passed over, as `max(m, .nan)` returns `m`.
          let range = (a.count * part / parts)..<(a.count * (part + 1) / parts)
          let full = range.lowerBound + range.count / 8 * 8
          var lanes = SIMD8<Double>()
          var i = range.lowerBound
          while i < full {
            var v = UnsafeRawPointer(pa + i).loadUnaligned(as: SIMD8<Double>.self)
            v.replace(with: -v, where: v .< 0)
            lanes.replace(with: v, where: v .> lanes)
            i += 8
          }
          var m = 0.0
          for lane in 0..<8 { m = max(m, lanes[lane]) }
          while i < range.upperBound {
            m = max(m, abs(pa[i]))
            i += 1
          }
          out[part] = m
        }
      }
    }
  }
  return maxima.reduce(0) { max($0, $1) }
}

/// Calls `body` with parts of `0..<n` on the worker threads, for
/// element-by-element work (whose values do not depend on the parts);
/// on one thread for short vectors.
@inline(__always)
func forEachPart(_ n: Int, _ body: (Range<Int>) -> Void) {
  parallelFor(count: n, cost: 1, grain: 1 << 16) { body($0..<$1) }
}
