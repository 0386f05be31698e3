//===--- SolverTests.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Every solver on functions whose minimum is known in closed form, and
// whose difficulty is known, through the same TrainingObjective protocol
// the softmax models use: an ill-conditioned quadratic, Rosenbrock's
// valley, an L1 problem with a sparse solution, and a sum over rows for
// the minibatch solvers.

import Foundation
import SoftmaxCore
import Testing
import _SoftmaxTestSupport

@testable import SoftmaxRegression

/// `f(x) = ½·Σ λᵢ·(xᵢ − cᵢ)²` with λ from 1 to κ (log-spaced): the minimum
/// is `c`, the Hessian's condition number κ. As a sum over rows, row r is
/// `f` with `c` replaced by `c + δ_r` (δ summing to 0): the same minimum.
struct Quadratic: TrainingObjective {
  var curvature: [Double]
  var center: [Double]
  var offsets: [[Double]]
  var l1Strength: Double = 0
  var l1Count: Int { l1Strength > 0 ? center.count : 0 }

  init(dimension n: Int, condition: Double, rows: Int = 1, l1: Double = 0) {
    curvature = (0..<n).map { Double.pow(condition, Double($0) / Double(max(n - 1, 1))) }
    center = (0..<n).map { Double(($0 * 7) % 11) / 5 - 1 }
    var generator = SplitMix64(seed: 9)
    var raw = (0..<rows).map { _ in
      (0..<n).map { _ in Double(generator.next(below: 2001)) / 1000 - 1 }
    }
    // Offsets with zero mean, so the minimum stays at `center`.
    for i in 0..<n {
      let mean = raw.map { $0[i] }.reduce(0, +) / Double(rows)
      for r in 0..<rows { raw[r][i] -= mean }
    }
    offsets = raw
    l1Strength = l1
  }

  var parameterCount: Int { center.count }
  var rowCount: Int { offsets.count }
  func makeWorkspace() {}

  func smoothValueAndGradient(
    at x: [Double], gradient: inout [Double], workspace: inout Void
  ) -> Double {
    smoothValueAndGradient(
      rows: Array(0..<rowCount), at: x, gradient: &gradient, workspace: &workspace)
  }

  func smoothValueAndGradient(
    rows: [Int], at x: [Double], gradient: inout [Double], workspace: inout Void
  ) -> Double {
    gradient = [Double](repeating: 0, count: x.count)
    var value = 0.0
    for r in rows {
      for i in x.indices {
        let e = x[i] - center[i] - offsets[r][i]
        value += 0.5 * curvature[i] * e * e
        gradient[i] += curvature[i] * e / Double(rows.count)
      }
    }
    return value / Double(rows.count)
  }

  func loss(rows: [Int], at x: [Double], workspace: inout Void) -> Double {
    var gradient: [Double] = []
    return smoothValueAndGradient(rows: rows, at: x, gradient: &gradient, workspace: &workspace)
  }

  func inverseHessianDiagonal() -> [Double]? { curvature.map { 1 / $0 } }

  func hessianVectorProduct(
    at x: [Double], direction: [Double], into product: inout [Double], workspace: inout Void
  ) -> Bool {
    product = zip(curvature, direction).map(*)
    return true
  }

  /// The minimum with the L1 term: `cᵢ` soft-thresholded by `λ₁/λᵢ`.
  var sparseMinimum: [Double] {
    zip(center, curvature).map { c, h in
      let t = l1Strength / h
      return c > t ? c - t : (c < -t ? c + t : 0)
    }
  }
}

/// Rosenbrock's function in n dimensions,
/// `Σ 100·(x_{i+1} − x_i²)² + (1 − x_i)²`: a curved valley, minimum at 1.
struct Rosenbrock: TrainingObjective {
  var parameterCount: Int
  var rowCount: Int { 1 }
  var l1Strength: Double { 0 }
  var l1Count: Int { 0 }
  func makeWorkspace() {}

  func smoothValueAndGradient(
    at x: [Double], gradient: inout [Double], workspace: inout Void
  ) -> Double {
    gradient = [Double](repeating: 0, count: x.count)
    var value = 0.0
    for i in 0..<(x.count - 1) {
      let a = x[i + 1] - x[i] * x[i]
      let b = 1 - x[i]
      value += 100 * a * a + b * b
      gradient[i] += -400 * x[i] * a - 2 * b
      gradient[i + 1] += 200 * a
    }
    return value
  }

  func smoothValueAndGradient(
    rows: [Int], at x: [Double], gradient: inout [Double], workspace: inout Void
  ) -> Double {
    smoothValueAndGradient(at: x, gradient: &gradient, workspace: &workspace)
  }

  func loss(rows: [Int], at x: [Double], workspace: inout Void) -> Double {
    var gradient: [Double] = []
    return smoothValueAndGradient(at: x, gradient: &gradient, workspace: &workspace)
  }

  var providesHessianProducts: Bool { true }

  /// The Hessian (tridiagonal; indefinite where `x_i² > x_{i+1} + 1/200`,
  /// as near the classic start) times `v`.
  func hessianVectorProduct(
    at x: [Double], direction v: [Double], into product: inout [Double], workspace: inout Void
  ) -> Bool {
    product = [Double](repeating: 0, count: x.count)
    for i in 0..<(x.count - 1) {
      let diagonal = 1200 * x[i] * x[i] - 400 * x[i + 1] + 2
      let off = -400 * x[i]
      product[i] += diagonal * v[i] + off * v[i + 1]
      product[i + 1] += off * v[i] + 200 * v[i + 1]
    }
    return true
  }
}

/// `f(x) = ½·(x − c)ᵀA(x − c)` with `A = B·Bᵀ + μ·I` (B random, n × n):
/// a quadratic whose Hessian is not diagonal, so that conjugate gradients
/// and not the diagonal preconditioner solve it; minimum `c`.
struct DenseQuadratic: TrainingObjective {
  var matrix: [[Double]]
  var center: [Double]
  var parameterCount: Int { center.count }
  var rowCount: Int { 1 }
  var l1Strength: Double { 0 }
  var l1Count: Int { 0 }
  var providesHessianProducts: Bool { true }

  init(dimension n: Int, shift: Double, seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    let b = (0..<n).map { _ in [Double].random(count: n, in: -1...1, using: &generator) }
    var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n {
      for j in 0..<n {
        var sum: Double = i == j ? shift : 0
        for l in 0..<n { sum += b[i][l] * b[j][l] }
        a[i][j] = sum
      }
    }
    matrix = a
    center = [Double].random(count: n, in: -1...1, using: &generator)
  }

  func makeWorkspace() {}

  func times(_ v: [Double]) -> [Double] {
    matrix.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } }
  }

  func smoothValueAndGradient(
    at x: [Double], gradient: inout [Double], workspace: inout Void
  ) -> Double {
    let e = zip(x, center).map { $0 - $1 }
    gradient = times(e)
    return 0.5 * zip(e, gradient).reduce(0) { $0 + $1.0 * $1.1 }
  }

  func smoothValueAndGradient(
    rows: [Int], at x: [Double], gradient: inout [Double], workspace: inout Void
  ) -> Double {
    smoothValueAndGradient(at: x, gradient: &gradient, workspace: &workspace)
  }

  func loss(rows: [Int], at x: [Double], workspace: inout Void) -> Double {
    var gradient: [Double] = []
    return smoothValueAndGradient(at: x, gradient: &gradient, workspace: &workspace)
  }

  func hessianVectorProduct(
    at x: [Double], direction: [Double], into product: inout [Double], workspace: inout Void
  ) -> Bool {
    product = times(direction)
    return true
  }
}

func largestError(_ x: [Double], _ y: [Double]) -> Double {
  zip(x, y).map { abs($0 - $1) }.max() ?? 0
}

@Suite("Solvers on functions with known minima")
struct KnownFunctionSolverTests {
  @Test("L-BFGS: a quadratic of condition 10^4 from the identity, 10^8 preconditioned")
  func lbfgsQuadratic() {
    for preconditioned in [false, true] {
      let quadratic = Quadratic(dimension: 60, condition: preconditioned ? 1e8 : 1e4)
      var options = LBFGSOptions()
      options.gradientTolerance = 1e-10
      options.relativeObjectiveTolerance = 0
      options.maxIterations = 5000
      options.diagonalPreconditioning = preconditioned
      let result = LBFGS(options: options).minimize(
        quadratic, from: [Double](repeating: 0, count: 60))
      #expect(result.stopReason == .gradientTolerance, "\(result.stopReason)")
      // |x − c| ≤ |g|/λ_min = 1e-10.
      #expect(largestError(result.parameters, quadratic.center) <= 1e-9)
      // The exact inverse diagonal is the inverse Hessian: Newton's steps,
      // whatever the condition; from the identity, many more.
      #expect(
        preconditioned ? result.iterations <= 4 : result.iterations < 2000,
        "\(result.iterations) iterations")
    }
  }

  /// With no correction pairs kept (memory 0; it trapped on the first
  /// pair) L-BFGS is steepest descent on the preconditioner's scale with
  /// its line search: with the exact inverse diagonal of a diagonal
  /// quadratic, each step is Newton's, and it converges.
  @Test("L-BFGS with memory 0: steepest descent, no trap")
  func lbfgsWithoutMemory() {
    for preconditioned in [false, true] {
      let quadratic = Quadratic(dimension: 20, condition: 10)
      var options = LBFGSOptions()
      options.memory = 0
      options.gradientTolerance = 1e-9
      options.relativeObjectiveTolerance = 0
      options.diagonalPreconditioning = preconditioned
      let result = LBFGS(options: options).minimize(
        quadratic, from: [Double](repeating: 0, count: 20))
      #expect(result.stopReason == .gradientTolerance, "\(result.stopReason)")
      #expect(largestError(result.parameters, quadratic.center) <= 1e-8)
    }
  }

  /// (From four dimensions on, Rosenbrock's function also has a local
  /// minimum near (−1, 1, …, 1), which the classic start falls into.)
  @Test("L-BFGS: Rosenbrock's valley in 2 and 3 dimensions, from the classic start")
  func lbfgsRosenbrock() {
    for n in [2, 3] {
      var options = LBFGSOptions()
      options.gradientTolerance = 1e-9
      options.relativeObjectiveTolerance = 0
      var start = [Double](repeating: 1, count: n)
      start[0] = -1.2
      let result = LBFGS(options: options).minimize(Rosenbrock(parameterCount: n), from: start)
      #expect(result.stopReason == .gradientTolerance, "n = \(n): \(result.stopReason)")
      #expect(largestError(result.parameters, [Double](repeating: 1, count: n)) <= 1e-7)
      #expect(result.iterations < 200)
    }
  }

  @Test("OWL-QN: an L1 problem whose solution is the soft-threshold, with exact zeros")
  func owlqnSparse() {
    let problem = Quadratic(dimension: 40, condition: 100, l1: 0.3)
    var options = LBFGSOptions()
    options.gradientTolerance = 1e-10
    let result = LBFGS(options: options).minimize(
      problem, from: [Double](repeating: 0.5, count: 40))
    let expected = problem.sparseMinimum
    #expect(expected.contains(0) && expected.contains { $0 != 0 })
    #expect(largestError(result.parameters, expected) <= 1e-9)
    for (x, e) in zip(result.parameters, expected) where e == 0 { #expect(x == 0) }
  }

  @Test("gradient descent: a quadratic of condition 100; the backtracking limit is an option")
  func gradientDescentQuadratic() {
    let quadratic = Quadratic(dimension: 20, condition: 100)
    var options = GradientDescent.Options()
    options.gradientTolerance = 1e-9
    options.relativeObjectiveTolerance = 0
    options.maxIterations = 20_000
    let result = GradientDescent(options: options).minimize(
      quadratic, from: [Double](repeating: 0, count: 20))
    #expect(result.stopReason == .gradientTolerance)
    #expect(largestError(result.parameters, quadratic.center) <= 1e-8)
    // Step 1e9 with 3 halvings cannot decrease f: the iteration fails.
    options.initialStep = 1e9
    options.maxBacktrackingSteps = 3
    let failed = GradientDescent(options: options).minimize(
      quadratic, from: [Double](repeating: 0, count: 20))
    #expect(failed.stopReason == .lineSearchFailed && failed.iterations == 0)
  }

  @Test("trust-region Newton: the diagonal quadratic of condition 10^8 in Newton steps")
  func newtonDiagonalQuadratic() {
    let quadratic = Quadratic(dimension: 60, condition: 1e8)
    var options = TrustRegionNewton.Options()
    options.gradientTolerance = 1e-10
    options.relativeObjectiveTolerance = 0
    let result = TrustRegionNewton(options: options).minimize(
      quadratic, from: [Double](repeating: 0, count: 60))
    #expect(result.stopReason == .gradientTolerance, "\(result.stopReason)")
    #expect(largestError(result.parameters, quadratic.center) <= 1e-9)
    // The preconditioner is the exact Hessian: one CG step solves each
    // model; the first region (‖g‖ in M⁻¹'s norm) may cut the first step.
    #expect(result.iterations <= 3, "\(result.iterations) iterations")
  }

  /// A dense Hessian of condition about 10⁴ (μ = 10⁻², ‖A‖ ≈ 4n): CG
  /// needs many steps, the trust region grows to hold Newton's step, and
  /// the gradient falls to 1e-10 (so |x − c| ≤ 1e-10/μ = 1e-8).
  @Test("trust-region Newton: a dense quadratic of condition 10^4, every CG path")
  func newtonDenseQuadratic() {
    for seed: UInt64 in [1, 2, 3] {
      let quadratic = DenseQuadratic(dimension: 40, shift: 1e-2, seed: seed)
      var options = TrustRegionNewton.Options()
      options.gradientTolerance = 1e-10
      options.relativeObjectiveTolerance = 0
      let result = TrustRegionNewton(options: options).minimize(
        quadratic, from: [Double](repeating: 0, count: 40))
      #expect(result.stopReason == .gradientTolerance, "seed \(seed): \(result.stopReason)")
      #expect(largestError(result.parameters, quadratic.center) <= 1e-7)
      #expect(result.iterations <= 40, "\(result.iterations) iterations")
    }
  }

  /// The Hessian is indefinite near the classic start: CG meets negative
  /// curvature and goes to the region's boundary; near the minimum the
  /// steps are Newton's (quadratic convergence: few iterations).
  @Test("trust-region Newton: Rosenbrock's valley in 2 and 3 dimensions")
  func newtonRosenbrock() {
    for n in [2, 3] {
      var options = TrustRegionNewton.Options()
      options.gradientTolerance = 1e-9
      options.relativeObjectiveTolerance = 0
      var start = [Double](repeating: 1, count: n)
      start[0] = -1.2
      let result = TrustRegionNewton(options: options).minimize(
        Rosenbrock(parameterCount: n), from: start)
      #expect(result.stopReason == .gradientTolerance, "n = \(n): \(result.stopReason)")
      #expect(largestError(result.parameters, [Double](repeating: 1, count: n)) <= 1e-7)
      #expect(result.iterations < 100, "\(result.iterations) iterations")
    }
  }

  @Test("trust-region Newton: the limits stop it, with their reasons")
  func newtonLimits() {
    let quadratic = DenseQuadratic(dimension: 20, shift: 1e-2, seed: 4)
    var options = TrustRegionNewton.Options()
    options.maxIterations = 2
    options.gradientTolerance = 0
    options.relativeObjectiveTolerance = 0
    let start = [Double](repeating: 0, count: 20)
    let limited = TrustRegionNewton(options: options).minimize(quadratic, from: start)
    #expect(limited.stopReason == .iterationLimit && limited.iterations == 2)
    // Cancelled by the progress callback after the first iteration.
    options.maxIterations = 100
    var seen: [Int] = []
    let cancelled = TrustRegionNewton(options: options).minimize(quadratic, from: start) {
      seen.append($0.iteration)
      return false
    }
    #expect(cancelled.stopReason == .cancelled && seen == [1])
    // At the minimum already: no iteration.
    let there = TrustRegionNewton().minimize(quadratic, from: quadratic.center)
    #expect(there.stopReason == .gradientTolerance && there.iterations == 0)
    // With no tolerance at all, rounding noise ends it (rejected steps),
    // never a trap or an endless loop.
    options.maxIterations = 10_000
    let noise = TrustRegionNewton(options: options).minimize(quadratic, from: start)
    #expect(noise.stopReason == .lineSearchFailed, "\(noise.stopReason)")
    #expect(largestError(noise.parameters, quadratic.center) <= 1e-8)
  }

  @Test("SGD (momentum, Nesterov, proximal L1) and Adam on a sum over rows")
  func minibatchSolvers() throws {
    let rows = Quadratic(dimension: 8, condition: 10, rows: 64)
    var training = StochasticOptions()
    training.batchSize = 8
    training.epochs = 400
    training.schedule = .cosine
    // The start is about 1 away from the minimum; each run must end within
    // 1 % of that, the noise of the last steps (whose size falls to 0).
    let start = [Double](repeating: 0, count: 8)
    #expect(largestError(start, rows.center) >= 0.8)
    for sgd in [SGD(learningRate: 0.05), SGD(learningRate: 0.02, momentum: 0.9, nesterov: true)] {
      let result = try sgd.minimize(rows, from: start, training: training)
      #expect(largestError(result.parameters, rows.center) <= 1e-2, "\(sgd)")
    }
    let adam = try Adam(learningRate: 0.05).minimize(rows, from: start, training: training)
    #expect(largestError(adam.parameters, rows.center) <= 1e-2)
    let sparse = Quadratic(dimension: 8, condition: 10, rows: 64, l1: 0.3)
    let proximal = try SGD(learningRate: 0.05).minimize(sparse, from: start, training: training)
    #expect(largestError(proximal.parameters, sparse.sparseMinimum) <= 1e-2)
  }

  @Test("the quadratic's Hessian-vector product is the curvature times the direction")
  func hessianVectorProduct() throws {
    let quadratic = Quadratic(dimension: 5, condition: 10)
    var workspace: Void = ()
    let product = try #require(
      quadratic.hessianVectorProduct(
        at: [0, 0, 0, 0, 0], direction: [1, 1, 1, 1, 1], workspace: &workspace))
    #expect(product == quadratic.curvature)
  }
}

@Suite("One objective, many threads")
struct ConcurrentObjectiveTests {
  /// A full and a minibatch evaluation at `point`, with a new workspace.
  static func evaluate<O: TrainingObjective>(_ objective: O, _ point: [Double]) -> [Double] {
    var workspace = objective.makeWorkspace()
    var gradient: [Double] = []
    let value = objective.smoothValueAndGradient(
      at: point, gradient: &gradient, workspace: &workspace)
    let batch: [Int] = Array(stride(from: 3, to: 900, by: 7))
    var batchGradient: [Double] = []
    let batchValue = objective.smoothValueAndGradient(
      rows: batch, at: point, gradient: &batchGradient, workspace: &workspace)
    return [value, batchValue] + gradient + batchGradient
  }

  /// The evaluations at every point, all at once in a task group.
  static func concurrently<O: TrainingObjective>(_ objective: O, _ points: [[Double]]) async
    -> [[Double]]
  {
    await withTaskGroup(of: (Int, [Double]).self) { group in
      for (index, point) in points.enumerated() {
        group.addTask { (index, evaluate(objective, point)) }
      }
      var results = [[Double]](repeating: [], count: points.count)
      for await (index, result) in group { results[index] = result }
      return results
    }
  }

  /// Eight evaluations at once, each task with its own workspace, give
  /// the bits of the same evaluations one after another (Double and Float
  /// features; run under ThreadSanitizer by Scripts/sanitizers.sh).
  @Test func concurrentEvaluations() async throws {
    let data = try LabelledData(named: "digits")
    let floats = Matrix(
      rows: data.features.rows, columns: data.features.columns,
      elements: data.features.elements.map { Float($0) })
    let doubles = try SoftmaxRegressionObjective(
      features: data.features, labels: data.labels, classCount: 10, l2: 0.01)
    let singles = try SoftmaxRegressionObjective(
      features: floats, labels: data.labels, classCount: 10, l2: 0.01)
    let count = doubles.parameterCount
    var points: [[Double]] = []
    for seed in 0..<8 {
      points.append(
        (0..<count).map { index -> Double in
          Double((index * 31 + seed * 17) % 97) / 970 - 0.05
        })
    }
    let serialDoubles = points.map { Self.evaluate(doubles, $0) }
    #expect(await Self.concurrently(doubles, points) == serialDoubles)
    let serialFloats = points.map { Self.evaluate(singles, $0) }
    #expect(await Self.concurrently(singles, points) == serialFloats)
  }
}

@Suite("The solvers' vector helpers")
struct VectorHelperTests {
  /// `maxAbs` runs eight lanes and a tail on the worker threads; a maximum
  /// is exact, so it must equal the scalar fold, NaN passed over as
  /// `max(m, .nan)` passes it, −0 read as 0 (lengths around the lane width
  /// and past 2^16, where the threads split the vector).
  @Test("maxAbs equals the scalar fold: lanes, tail, NaN, −0, the largest at either end")
  func maxAbsEqualsScalarFold() {
    var generator = SplitMix64(seed: 43)
    for n in [0, 1, 7, 8, 9, 17, 65_536, 200_003] {
      for largest in Set([0, n / 3, n - 1]) where n > 0 {
        var a = [Double].random(count: n, in: -3...3, using: &generator)
        if n > 3 {
          a[(largest + n / 2) % n] = .nan
          a[(largest + 1) % n] = -0.0
        }
        a[largest] = -9.25  // in a lane, in the tail, or on the other thread
        let reference = a.reduce(0.0) { max($0, abs($1)) }
        #expect(reference == 9.25)
        #expect(maxAbs(a) == reference, "n = \(n), largest at \(largest)")
      }
    }
    #expect(maxAbs([]) == 0)
    #expect(maxAbs([-0.0, -0.0]).sign == .plus)
  }
}

@Suite("L-BFGS's correction pairs in Float")
struct FloatCorrectionPairTests {
  /// Widening a Float to Double is exact, and the C kernels take the
  /// Swift dot's lanes and order with no fused operation: each equals the
  /// Double helper on the widened values, bit for bit, for 1 to 7 dots at
  /// once (four in a loop, then the rest), lengths around the lane width
  /// and up to a chunk of 8,192; the direction's element-wise sum equals
  /// the same operations written out in Swift.
  @Test("the pair kernels equal the Double helpers on widened values, bit for bit")
  func helpersMatchDouble() {
    var generator = SplitMix64(seed: 41)
    for n in [1, 7, 8, 9, 1_000, 8_191, 8_192] {
      let a = (0..<7).map { _ in
        [Double].random(count: n, in: -3...3, using: &generator).map { Float($0) }
      }
      let x = [Double].random(count: n, in: -3...3, using: &generator)
      let w = [Double].random(count: n, in: 0.1...2, using: &generator)
      let wide = a.map { $0.map { Double($0) } }
      #expect(Float.dot(a[0], a[1]) == dot(wide[0], wide[1]), "n = \(n)")
      for count in 1...7 {
        for weights in [nil, w] {
          var floats = [Double](repeating: .nan, count: count)
          var doubles = [Double](repeating: .nan, count: count)
          withBaseAddresses(Array(a[0..<count])) { pa in
            withBaseAddresses(Array(wide[0..<count])) { pw in
              x.withUnsafeBufferPointer { px in
                (weights ?? []).withUnsafeBufferPointer { pweights in
                  guard let px = px.baseAddress else { return }
                  let pweights = weights == nil ? nil : pweights.baseAddress
                  floats.withUnsafeMutableBufferPointer { out in
                    guard let out = out.baseAddress else { return }
                    Float.pairDots(pa, weights: pweights, px, count: n, into: out)
                  }
                  doubles.withUnsafeMutableBufferPointer { out in
                    guard let out = out.baseAddress else { return }
                    Double.pairDots(pw, weights: pweights, px, count: n, into: out)
                  }
                }
              }
            }
          }
          // Σ (aₖ·w)·x is the dot of x with the products aₖ·w: one product
          // commutes exactly.
          let expected = (0..<count).map { k in
            weights.map { dot(x, zip(wide[k], $0).map { $0 * $1 }) } ?? dot(wide[k], x)
          }
          #expect(Bool(floats == expected), "n = \(n), \(count) dots, weights: \(weights != nil)")
          #expect(Bool(doubles == expected), "n = \(n), \(count) dots, weights: \(weights != nil)")
        }
      }
      // The direction: t = −v, t += αⱼyⱼ, t ← (t·M)·γ, t += (−cⱼ)sⱼ.
      let alpha = [0.5, -1.25, 2.0]
      let c = [0.75, -0.5, 1.5]
      for scaling in [nil, w] {
        for m in [0, 3] {
          let gamma = m > 0 ? 0.8 : 1
          var expected = x.map { -$0 }
          for i in 0..<n {
            for j in 0..<m { expected[i] += alpha[j] * wide[j][i] }
            if let scaling {
              expected[i] = m > 0 ? (expected[i] * scaling[i]) * gamma : expected[i] * scaling[i]
            } else if m > 0 {
              expected[i] = expected[i] * gamma
            }
            for j in 0..<m { expected[i] += (-c[j]) * wide[3 + j][i] }
          }
          var d = [Double](repeating: .nan, count: n)
          withBaseAddresses(Array(a[0..<m])) { y in
            withBaseAddresses(Array(a[3..<(3 + m)])) { s in
              x.withUnsafeBufferPointer { px in
                (scaling ?? []).withUnsafeBufferPointer { pm in
                  d.withUnsafeMutableBufferPointer { pd in
                    guard let px = px.baseAddress, let pd = pd.baseAddress else { return }
                    Float.pairCombine(
                      changes: y, alpha: Array(alpha[0..<m]), steps: s,
                      coefficients: Array(c[0..<m]), px,
                      scaling: scaling == nil ? nil : pm.baseAddress, gamma: gamma, 0..<n,
                      into: pd)
                  }
                }
              }
            }
          }
          #expect(Bool(d == expected), "n = \(n), m = \(m), M: \(scaling != nil)")
        }
      }
      var step: [Float] = []
      var change: [Float] = []
      let (curvature, changeSquared) = correctionPair(
        x1: x, x0: w, g1: wide[0], g0: x, step: &step, change: &change)
      #expect(Bool(step == zip(x, w).map { Float($0 - $1) }), "n = \(n)")
      #expect(Bool(change == zip(wide[0], x).map { Float($0 - $1) }), "n = \(n)")
      #expect(curvature == Float.dot(step, change), "n = \(n)")
      #expect(changeSquared == Float.dot(change, change), "n = \(n)")
    }
  }

  /// The pairs' precision changes the path, not the optimum: on the
  /// quadratic and on Rosenbrock's valley, Float pairs converge to the
  /// same tolerance as Double pairs, in about as many iterations.
  @Test("Float pairs reach the optima of Double pairs")
  func sameOptima() {
    for storage in [CorrectionPairStorage.float, .double] {
      var options = LBFGSOptions()
      options.pairStorage = storage
      options.gradientTolerance = 1e-9
      options.relativeObjectiveTolerance = 0
      options.maxIterations = 5000
      options.diagonalPreconditioning = false
      let quadratic = Quadratic(dimension: 60, condition: 1e4)
      let q = LBFGS(options: options).minimize(quadratic, from: [Double](repeating: 0, count: 60))
      #expect(q.stopReason == .gradientTolerance, "\(storage): \(q.stopReason)")
      #expect(largestError(q.parameters, quadratic.center) <= 1e-8, "\(storage)")
      var start = [Double](repeating: 1, count: 3)
      start[0] = -1.2
      let r = LBFGS(options: options).minimize(Rosenbrock(parameterCount: 3), from: start)
      #expect(r.stopReason == .gradientTolerance, "\(storage): \(r.stopReason)")
      #expect(largestError(r.parameters, [1, 1, 1]) <= 1e-7, "\(storage)")
      #expect(r.iterations < 200)
    }
  }

  /// `automatic` is Float from 2²⁰ parameters on; the setting is written
  /// only when it is not the default (model files of the default settings
  /// keep their bytes) and read as `automatic` when absent.
  @Test("pairStorage: automatic by size, written only when set")
  func storageSetting() throws {
    var options = LBFGSOptions()
    #expect(!options.storesPairsAsFloat(parameterCount: LBFGSOptions.floatPairsFrom - 1))
    #expect(options.storesPairsAsFloat(parameterCount: LBFGSOptions.floatPairsFrom))
    let plain = try JSONEncoder().encode(options)
    #expect(!String(decoding: plain, as: UTF8.self).contains("pairStorage"))
    #expect(try JSONDecoder().decode(LBFGSOptions.self, from: plain) == options)
    options.pairStorage = .double
    #expect(!options.storesPairsAsFloat(parameterCount: 1 << 30))
    let set = try JSONEncoder().encode(options)
    #expect(String(decoding: set, as: UTF8.self).contains("\"pairStorage\":\"double\""))
    #expect(try JSONDecoder().decode(LBFGSOptions.self, from: set) == options)
    options.pairStorage = .float
    #expect(options.storesPairsAsFloat(parameterCount: 1))
  }
}
