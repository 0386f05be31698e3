//===--- SparseObjectiveTests.swift ---------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import SoftmaxCore
import SoftmaxData
import Testing
import _SoftmaxTestSupport

@testable import SoftmaxRegression

/// A random sparse problem: each value stored with probability `density`
/// (at least one column of every kind: a never-stored column, a column of
/// one constant value), labels, weights and parameters.
func randomSparseProblem(
  rows n: Int, features d: Int, classes k: Int, density: Double, seed: UInt64
) -> (features: SparseMatrix<Double>, labels: [Int], sampleWeights: [Double], parameters: [Double])
{
  var generator = SplitMix64(seed: seed)
  var builder = SparseMatrix<Double>.Builder(columns: d)
  for _ in 0..<n {
    for c in 0..<d where c != 0 && Double.random(in: 0..<1, using: &generator) < density {
      // Column 0 is never stored; column 1 is always 2 where stored.
      builder.append(column: c, value: c == 1 ? 2 : Double.random(in: -3...3, using: &generator))
    }
    builder.endRow()
  }
  let labels = (0..<n).map { _ in Int.random(in: 0..<k, using: &generator) }
  let weights = [Double].random(count: n, in: 0.2...2, using: &generator)
  let parameters = [Double].random(count: k * (d + 1), in: -0.5...0.5, using: &generator)
  return (builder.matrix, labels, weights, parameters)
}

/// The largest `|a − b|` over the largest `|a|` (1 at least).
func relativeDifference(_ a: [Double], _ b: [Double]) -> Double {
  let scale = max(1, a.map(abs).max() ?? 0)
  return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

@Suite("The sparse objective")
struct SparseObjectiveTests {
  /// The sparse and the dense objective are the same function: computed
  /// from the same values in other orders, they agree to a few roundings
  /// of each sum (terms of order 1, sums of a few hundred: 1e-13), so
  /// 1e-12 relative, for the value, the gradient, the minibatch value and
  /// gradient, the validation loss and the preconditioner, with every
  /// term on (sample and class weights, L2, the sparse scaling).
  ///
  /// The class counts cover both of the kernel's entry loops (up to four
  /// classes in registers; beyond, eight at a time with a tail of four
  /// and of one to three).
  @Test("equals the dense objective on the same data to 1e-12", arguments: [3, 5, 13, 20])
  func equalsDense(classes k: Int) throws {
    let classWeights = (0..<k).map { [1, 2, 0.5, 1.5, 1][$0 % 5] }
    for (density, scale) in [(0.1, false), (0.3, true), (0.02, true)] {
      let problem = randomSparseProblem(
        rows: 900, features: 40, classes: k, density: density, seed: 7)
      let dense = problem.features.dense()
      let standardization =
        scale
        ? Standardization(scaling: problem.features, sampleWeights: problem.sampleWeights) : nil
      let sparseObjective = try SparseSoftmaxRegressionObjective(
        features: problem.features, labels: problem.labels, classCount: k,
        sampleWeights: problem.sampleWeights, classWeights: classWeights, l2: 0.03,
        standardization: standardization)
      let denseObjective = try SoftmaxRegressionObjective(
        features: dense, labels: problem.labels, classCount: k,
        sampleWeights: problem.sampleWeights, classWeights: classWeights, l2: 0.03,
        standardization: standardization)
      var g1: [Double] = []
      var g2: [Double] = []
      let f1 = sparseObjective.valueAndGradient(at: problem.parameters, gradient: &g1)
      let f2 = denseObjective.valueAndGradient(at: problem.parameters, gradient: &g2)
      #expect(abs(f1 - f2) <= 1e-12 * abs(f2), "k \(k), density \(density): \(f1) vs \(f2)")
      #expect(relativeDifference(g2, g1) <= 1e-12, "k \(k), density \(density)")
      let batch = Array(stride(from: 5, to: 900, by: 3))
      let b1 = sparseObjective.minibatchValueAndGradient(
        rows: batch, at: problem.parameters, gradient: &g1)
      let b2 = denseObjective.minibatchValueAndGradient(
        rows: batch, at: problem.parameters, gradient: &g2)
      #expect(abs(b1 - b2) <= 1e-12 * abs(b2))
      #expect(relativeDifference(g2, g1) <= 1e-12)
      var w1 = sparseObjective.makeWorkspace()
      var w2 = denseObjective.makeWorkspace()
      let l1 = sparseObjective.loss(rows: batch, at: problem.parameters, workspace: &w1)
      let l2 = denseObjective.loss(rows: batch, at: problem.parameters, workspace: &w2)
      #expect(abs(l1 - l2) <= 1e-12 * abs(l2))
      let p1 = try #require(sparseObjective.inverseHessianDiagonal())
      let p2 = denseObjective.diagonalPreconditioner()
      #expect(zip(p1, p2).allSatisfy { abs($0 - $1) <= 1e-12 * abs($1) })
    }
  }

  /// The sparse Hessian product is the dense reference's on the same data
  /// (computed in Double in another order: 1e-12 relative, as for the
  /// gradient), with Float and Double storage, sample and class weights,
  /// L2 and the sparse scaling; for 1, 2 and 3 threads the same bits; and
  /// products after evaluations elsewhere are a fresh workspace's.
  @Test("H·v equals the dense reference; the same bits for 1–3 threads", arguments: [3, 13, 20])
  func hessianProducts(classes k: Int) throws {
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    let classWeights = (0..<k).map { [1, 2, 0.5, 1.5, 1][$0 % 5] }
    let problem = randomSparseProblem(
      rows: 1500, features: 40, classes: k, density: 0.2, seed: 11)
    let standardization = Standardization(
      scaling: problem.features, sampleWeights: problem.sampleWeights)
    let floats = try SparseMatrix(
      rows: problem.features.rows, columns: problem.features.columns,
      rowOffsets: problem.features.rowOffsets, columnIndices: problem.features.columnIndices,
      values: problem.features.values.map { Float($0) })
    let denseFloats = floats.dense()
    let dense = try SoftmaxRegressionObjective(
      features: Matrix(
        rows: denseFloats.rows, columns: denseFloats.columns,
        elements: denseFloats.elements.map { Double($0) }),
      labels: problem.labels, classCount: k,
      sampleWeights: problem.sampleWeights, classWeights: classWeights, l2: 0.03,
      standardization: standardization)
    let sparse = try SparseSoftmaxRegressionObjective(
      features: floats, labels: problem.labels, classCount: k,
      sampleWeights: problem.sampleWeights, classWeights: classWeights, l2: 0.03,
      standardization: standardization)
    var generator = SplitMix64(seed: UInt64(k))
    let v = [Double].random(count: sparse.parameterCount, in: -1...1, using: &generator)
    let w2 = [Double].random(count: sparse.parameterCount, in: -0.5...0.5, using: &generator)
    let reference = dense.referenceHessianVectorProduct(at: problem.parameters, direction: v)
    var bits: Set<[UInt64]> = []
    for threads in [1, 2, 3] {
      SoftmaxConfiguration.threadCount = threads
      var workspace = sparse.makeWorkspace()
      let product = try #require(
        sparse.hessianVectorProduct(at: problem.parameters, direction: v, workspace: &workspace))
      #expect(relativeDifference(reference, product) <= 1e-12, "k \(k), \(threads) threads")
      bits.insert(product.map(\.bitPattern))
      // A trial point evaluated (rejected), then accepted.
      var gradient: [Double] = []
      _ = sparse.smoothValueAndGradient(at: w2, gradient: &gradient, workspace: &workspace)
      let again = try #require(
        sparse.hessianVectorProduct(at: problem.parameters, direction: v, workspace: &workspace))
      #expect(again == product)
      _ = sparse.smoothValueAndGradient(at: w2, gradient: &gradient, workspace: &workspace)
      let atTrial = try #require(
        sparse.hessianVectorProduct(at: w2, direction: v, workspace: &workspace))
      var fresh = sparse.makeWorkspace()
      #expect(atTrial == sparse.hessianVectorProduct(at: w2, direction: v, workspace: &fresh))
    }
    #expect(bits.count == 1)
  }

  /// Central differences (h = 1e-5, error near 1e-10) against the analytic
  /// gradient; tolerance 1e-7 as for the dense objective.
  @Test("gradient matches central differences")
  func gradientMatchesFiniteDifferences() throws {
    let problem = randomSparseProblem(rows: 200, features: 9, classes: 3, density: 0.3, seed: 12)
    let objective = try SparseSoftmaxRegressionObjective(
      features: problem.features, labels: problem.labels, classCount: 3,
      sampleWeights: problem.sampleWeights, classWeights: [1, 3, 0.5], l2: 0.05,
      standardization: Standardization(scaling: problem.features))
    var gradient: [Double] = []
    _ = objective.valueAndGradient(at: problem.parameters, gradient: &gradient)
    let numeric = centralDifferenceGradient(at: problem.parameters) { objective.value(at: $0) }
    for (index, (analytic, difference)) in zip(gradient, numeric).enumerated() {
      #expect(
        abs(analytic - difference) <= 1e-7, "parameter \(index): \(analytic) vs \(difference)")
    }
  }

  /// `Float` values convert to `Double` exactly and everything is then
  /// computed in `Double`: the same data stored as `Float` gives the same
  /// bits.
  @Test("Float storage gives the bits of Double storage", arguments: [4, 20])
  func floatStorage(classes k: Int) throws {
    let problem = randomSparseProblem(rows: 400, features: 30, classes: k, density: 0.2, seed: 2)
    let x = problem.features
    let floats = try SparseMatrix<Float>(
      rows: x.rows, columns: x.columns, rowOffsets: x.rowOffsets, columnIndices: x.columnIndices,
      values: x.values.map { Float($0) })
    let doubles = try SparseMatrix<Double>(
      rows: x.rows, columns: x.columns, rowOffsets: x.rowOffsets, columnIndices: x.columnIndices,
      values: floats.values.map { Double($0) })
    let a = try SparseSoftmaxRegressionObjective(
      features: floats, labels: problem.labels, classCount: k, l2: 0.1)
    let b = try SparseSoftmaxRegressionObjective(
      features: doubles, labels: problem.labels, classCount: k, l2: 0.1)
    var g1: [Double] = []
    var g2: [Double] = []
    #expect(
      a.valueAndGradient(at: problem.parameters, gradient: &g1)
        == b.valueAndGradient(at: problem.parameters, gradient: &g2))
    #expect(Bool(g1 == g2))
  }

  /// Without features every row's logits are the biases: the objective is
  /// the cross-entropy of the bias softmax, a closed form.
  @Test("no features and empty rows")
  func emptyRows() throws {
    let features = SparseMatrix<Double>(rows: 4, columns: 0)
    let objective = try SparseSoftmaxRegressionObjective(
      features: features, labels: [0, 1, 1, 2], classCount: 3)
    let bias = [0.5, -1, 2.0]
    let lse = Double.log(bias.map { Double.exp($0) }.reduce(0, +))
    let expected = ((lse - 0.5) + 2 * (lse + 1) + (lse - 2)) / 4
    var gradient: [Double] = []
    let value = objective.valueAndGradient(at: bias, gradient: &gradient)
    #expect(abs(value - expected) <= 1e-15 * 4)
    let numeric = centralDifferenceGradient(at: bias) { objective.value(at: $0) }
    #expect(relativeDifference(numeric, gradient) <= 1e-8)
  }

  @Test("bad data and options throw, naming the value")
  func badInput() throws {
    let x = try SparseMatrix<Double>(
      rows: 2, columns: 3, rowOffsets: [0, 1, 3], columnIndices: [2, 0, 1],
      values: [1, .infinity, 3])
    do {
      _ = try SparseSoftmaxRegressionObjective(features: x, labels: [0, 1], classCount: 2)
      Issue.record("no error")
    } catch {
      #expect(error.code == .nonFiniteValue)
      #expect(error.message.contains("row 1, feature 0"), "\(error.message)")
      #expect(error.location?.row == 1)
    }
    let good = try SparseMatrix<Double>(
      rows: 2, columns: 2, rowOffsets: [0, 1, 2], columnIndices: [0, 1], values: [1, 2])
    do {
      _ = try SparseSoftmaxRegressionObjective(
        features: good, labels: [0, 1], classCount: 2,
        standardization: Standardization(mean: [0, 1], scale: [1, 1]))
      Issue.record("no error")
    } catch {
      #expect(error.code == .invalidOption)
      #expect(error.message.contains("centers feature 1"), "\(error.message)")
    }
    #expect(throws: TrainingError.self) {
      _ = try SparseSoftmaxRegressionObjective(features: good, labels: [0, 2], classCount: 2)
    }
    #expect(throws: TrainingError.self) {
      _ = try SparseSoftmaxRegressionObjective(
        features: good, labels: [0, 1], classCount: 2, sampleWeights: [0, 0])
    }
  }

  /// Scaling without centering: the scale is the column's standard
  /// deviation, zeros included, as the dense standardization computes it
  /// (two passes about the mean; the sparse one adds the zeros' share in
  /// closed form): 1e-13 relative; every mean 0.
  @Test("the sparse scaling is the dense standardization's scale, with means 0")
  func scaling() {
    let problem = randomSparseProblem(rows: 500, features: 12, classes: 2, density: 0.25, seed: 4)
    for weights in [nil, problem.sampleWeights] {
      let sparse = Standardization(scaling: problem.features, sampleWeights: weights)
      let dense = Standardization(fitting: problem.features.dense(), sampleWeights: weights)
      #expect(sparse.mean.allSatisfy { $0 == 0 })
      #expect(sparse.isScalingOnly)
      for c in 0..<12 {
        #expect(abs(sparse.scale[c] - dense.scale[c]) <= 1e-13 * dense.scale[c], "column \(c)")
      }
      // Never stored (column 0) and constant where stored (column 1, 2 or
      // 0: it spreads): 1 for the first, the dense value for the second.
      #expect(sparse.scale[0] == 1)
    }
  }

  /// Values near 1e200 have squares beyond Double: the scaling is computed
  /// on values scaled by a power of two, exactly as the dense one.
  @Test("the scaling of huge and tiny columns")
  func scalingExtremes() throws {
    let x = try SparseMatrix<Double>(
      rows: 4, columns: 2, rowOffsets: [0, 2, 3, 4, 4], columnIndices: [0, 1, 0, 1],
      values: [3e200, 1e-300, -1e200, 4e-300])
    let sparse = Standardization(scaling: x)
    let dense = Standardization(fitting: x.dense())
    for c in 0..<2 {
      #expect(sparse.scale[c].isFinite)
      #expect(abs(sparse.scale[c] - dense.scale[c]) <= 1e-14 * dense.scale[c])
    }
  }
}

extension SparseObjectiveTests {
  /// Beyond four classes the full-batch backward pass goes by column (each
  /// gradient column summed over its rows' residuals); a minibatch listing
  /// every row goes by row (each row's residual scattered into its
  /// columns). Both sum each gradient value over the rows in order, so
  /// they give the same bits — over 20,000 rows, which are two waves (of
  /// at most 64 blocks of 256 rows; the second wave's rows are found in
  /// each column by binary search), with and without the sparse scaling.
  @Test("the backward pass by column equals the pass by row, bit for bit", arguments: [3, 7, 20])
  func backwardByColumnEqualsByRow(classes k: Int) throws {
    let problem = randomSparseProblem(
      rows: 20_000, features: 60, classes: k, density: 0.05, seed: 31)
    for scaling in [nil, Standardization(scaling: problem.features)] {
      let objective = try SparseSoftmaxRegressionObjective(
        features: problem.features, labels: problem.labels, classCount: k, l2: 1e-3,
        standardization: scaling)
      var byColumn: [Double] = []
      var byRow: [Double] = []
      let full = objective.valueAndGradient(at: problem.parameters, gradient: &byColumn)
      let listed = objective.minibatchValueAndGradient(
        rows: Array(0..<20_000), at: problem.parameters, gradient: &byRow)
      #expect(full == listed)
      #expect(Bool(byColumn == byRow))
    }
  }
}

extension SparseObjectiveTests {
  /// The copy by column is kept for more than four classes when it takes
  /// at most an eighth of the memory limit (otherwise the row scatter,
  /// whose bits the test above shows are the same).
  @Test("the entries are copied by column only for many classes and within memory")
  func copyByColumnWithinMemory() {
    let problem = randomSparseProblem(rows: 300, features: 20, classes: 5, density: 0.3, seed: 3)
    let x = problem.features
    let copy = x.nonZeroCount * (4 + 8)
    typealias Objective = SparseSoftmaxRegressionObjective<Double>
    #expect(Objective.keepsEntriesByColumn(x, classCount: 5, memoryLimit: 8 * copy))
    #expect(!Objective.keepsEntriesByColumn(x, classCount: 5, memoryLimit: 8 * copy - 8))
    #expect(!Objective.keepsEntriesByColumn(x, classCount: 4, memoryLimit: 1 << 40))
  }
}

/// Changes the process-wide thread count: one test at a time.
@Suite("Sparse determinism", .serialized)
struct SparseDeterminismTests {
  /// The forward blocks are summed in block order and every gradient value
  /// over the rows in order, whatever the split of columns: the same bits
  /// for 1, 2 and 3 threads, full batch and minibatch, the same model (with
  /// L-BFGS's pairs in Double and in Float), and
  /// the same logits of sparse rows (computed on the threads by rows).
  @Test("bitwise the same for 1, 2 and 3 threads")
  func threadCountDoesNotMatter() throws {
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    let problem = randomSparseProblem(
      rows: 20_000, features: 300, classes: 7, density: 0.05, seed: 9)
    let objective = try SparseSoftmaxRegressionObjective(
      features: problem.features, labels: problem.labels, classCount: 7,
      sampleWeights: problem.sampleWeights, l2: 1e-3)
    var results: [[Double]] = []
    var models: [SoftmaxClassifier] = []
    var logits: [[Double]] = []
    var floatPairModels: [SoftmaxClassifier] = []
    var options = TrainingOptions()
    options.l2 = 1e-3
    options.standardize = true
    options.lbfgs.maxIterations = 15
    for threads in [1, 2, 3] {
      SoftmaxConfiguration.threadCount = threads
      var gradient: [Double] = []
      let value = objective.valueAndGradient(at: problem.parameters, gradient: &gradient)
      var batchGradient: [Double] = []
      let batch = objective.minibatchValueAndGradient(
        rows: Array(stride(from: 1, to: 20_000, by: 2)), at: problem.parameters,
        gradient: &batchGradient)
      results.append([value, batch] + gradient + batchGradient)
      let model = try SoftmaxClassifier.fit(
        features: problem.features, labels: problem.labels,
        classes: (0..<7).map(String.init), sampleWeights: problem.sampleWeights,
        options: options)
      models.append(model)
      var floatPairs = options
      floatPairs.lbfgs.pairStorage = .float
      floatPairModels.append(
        try SoftmaxClassifier.fit(
          features: problem.features, labels: problem.labels,
          classes: (0..<7).map(String.init), sampleWeights: problem.sampleWeights,
          options: floatPairs))
      // The model of one thread's run, so that only the prediction varies.
      logits.append(try (models.first ?? model).logits(problem.features).elements)
    }
    #expect(Bool(results[0] == results[1]))
    #expect(Bool(results[0] == results[2]))
    #expect(models[0] == models[1])
    #expect(models[0] == models[2])
    #expect(floatPairModels[0] == floatPairModels[1])
    #expect(floatPairModels[0] == floatPairModels[2])
    #expect(Bool(logits[0] == logits[1]))
    #expect(Bool(logits[0] == logits[2]))
  }
}

extension SparseDeterminismTests {
  /// The copy of the entries by column is built by runs of rows on the
  /// threads (one run for one thread: the pass over the rows), and the
  /// column moments from it column by column: the same arrays for 1, 2
  /// and 3 threads, and the moments of the pass over the rows.
  @Test("the copy by column and the column moments: the same for 1, 2 and 3 threads")
  func copyByColumnForEveryThreadCount() throws {
    let saved = SoftmaxConfiguration.threadCount
    defer { SoftmaxConfiguration.threadCount = saved }
    // 3 × 10^5 entries over 300 columns: up to three runs of rows.
    let problem = randomSparseProblem(
      rows: 20_000, features: 300, classes: 7, density: 0.05, seed: 17)
    var copies: [[Double]] = []
    var moments: [[Double]] = []
    for threads in [1, 2, 3] {
      SoftmaxConfiguration.threadCount = threads
      let objective = try SparseSoftmaxRegressionObjective(
        features: problem.features, labels: problem.labels, classCount: 7,
        sampleWeights: problem.sampleWeights, l2: 1e-3,
        standardization: Standardization(scaling: problem.features))
      let copy = try #require(objective.entriesByColumn)
      guard case .double(let values) = copy.values else {
        Issue.record("Double features give Double values")
        return
      }
      copies.append(copy.rows.map(Double.init) + values)
      moments.append(objective.columnMoments.squareSums)
    }
    #expect(Bool(copies[0] == copies[1]) && Bool(copies[0] == copies[2]))
    #expect(Bool(moments[0] == moments[1]) && Bool(moments[0] == moments[2]))
    let byRows = try ColumnMoments(
      features: problem.features, rowWeights: problem.sampleWeights,
      weightTotal: problem.sampleWeights.reduce(0, +),
      inverseScale: Standardization(scaling: problem.features).inverseScale, featureNames: nil)
    #expect(Bool(moments[0] == byRows.squareSums))
  }
}

@Suite("Training on sparse features")
struct SparseTrainingTests {
  /// L-BFGS on the sparse and on the dense form of the same data reach the
  /// same optimum (tolerance 1e-10 on the gradient norm): the objectives
  /// agree to 1e-12, so the optima agree to about √(1e-12/curvature); the
  /// models' parameters within 1e-5 and their objective within 1e-10.
  @Test("L-BFGS: the optimum of the dense form")
  func lbfgsMatchesDense() throws {
    let problem = randomSparseProblem(rows: 600, features: 25, classes: 4, density: 0.2, seed: 21)
    var options = TrainingOptions()
    options.l2 = 0.01
    options.lbfgs.gradientTolerance = 1e-10
    options.lbfgs.maxIterations = 2000
    let classes = (0..<4).map(String.init)
    let sparse = try SoftmaxClassifier.fit(
      features: problem.features, labels: problem.labels, classes: classes, options: options)
    let dense = try SoftmaxClassifier.fit(
      features: problem.features.dense(), labels: problem.labels, classes: classes,
      options: options)
    #expect(relativeDifference(dense.parameters, sparse.parameters) <= 1e-5)
    let objective = try SoftmaxRegressionObjective(
      features: problem.features.dense(), labels: problem.labels, classCount: 4, l2: 0.01)
    let f1 = objective.value(at: sparse.parameters)
    let f2 = objective.value(at: dense.parameters)
    #expect(abs(f1 - f2) <= 1e-10 * abs(f2), "\(f1) vs \(f2)")
  }

  /// A model trained on sparse rows predicts sparse and dense rows alike:
  /// with a scaling standardization, the sparse forward sums the dense
  /// forward's nonzero terms in the same order, so the logits are the same
  /// bits; with a centering one (a model trained dense), the means are
  /// folded into the biases: 1e-12 relative.
  @Test("predictions of sparse rows equal those of their dense form")
  func predictions() throws {
    let problem = randomSparseProblem(rows: 300, features: 20, classes: 3, density: 0.3, seed: 5)
    let classes = ["a", "b", "c"]
    var options = TrainingOptions()
    options.standardize = true
    options.lbfgs.maxIterations = 30
    let sparseModel = try SoftmaxClassifier.fit(
      features: problem.features, labels: problem.labels, classes: classes, options: options)
    #expect(sparseModel.standardization?.isScalingOnly == true)
    let dense = problem.features.dense()
    #expect(try sparseModel.logits(problem.features) == sparseModel.logits(dense))
    #expect(try sparseModel.predict(problem.features) == sparseModel.predict(dense))
    // Rows holding fewer entries than the model has features read the
    // weights as stored, class by class over the rows, rather than a copy
    // laid out by column: the same values in the same order, so the same
    // bits.
    let all = try sparseModel.logits(problem.features)
    for picked in [[0], [7, 3], [299]] {
      let few = problem.features.selectingRows(picked)
      #expect(few.nonZeroCount < few.columns, "the path of few entries: \(few.nonZeroCount)")
      let z = try sparseModel.logits(few)
      for (r, row) in picked.enumerated() {
        #expect(Bool(z.rowArrays[r] == all.rowArrays[row]), "row \(row)")
      }
    }
    let denseModel = try SoftmaxClassifier.fit(
      features: dense, labels: problem.labels, classes: classes, options: options)
    #expect(denseModel.standardization?.isScalingOnly == false)
    let z1 = try denseModel.logits(problem.features)
    let z2 = try denseModel.logits(dense)
    #expect(relativeDifference(z2.elements, z1.elements) <= 1e-12)
    let m1 = try denseModel.evaluate(features: problem.features, labels: problem.labels)
    let m2 = try denseModel.evaluate(features: dense, labels: problem.labels)
    #expect(m1.confusionMatrix == m2.confusionMatrix)
    #expect(abs(m1.logLoss - m2.logLoss) <= 1e-12 * m2.logLoss)
  }

  /// Every solver runs on the sparse objective and lowers it.
  @Test("every solver trains on sparse features", arguments: TrainingOptions.Solver.allCases)
  func everySolver(_ solver: TrainingOptions.Solver) throws {
    let problem = randomSparseProblem(rows: 500, features: 30, classes: 3, density: 0.2, seed: 8)
    var options = TrainingOptions()
    options.solver = solver
    options.l2 = 0.01
    options.l1 = solver == .lbfgs || solver == .sgd ? 1e-3 : 0
    options.lbfgs.maxIterations = 100
    options.stochastic.epochs = 20
    let model = try SoftmaxClassifier.fit(
      features: problem.features, labels: problem.labels, classes: ["a", "b", "c"],
      options: options)
    let objective = try SparseSoftmaxRegressionObjective(
      features: problem.features, labels: problem.labels, classCount: 3, l2: 0.01,
      l1: options.l1)
    let start = objective.value(at: [Double](repeating: 0, count: objective.parameterCount))
    #expect(objective.value(at: model.parameters) < start - 0.01, "\(solver)")
    if options.l1 > 0 {
      // The L1 term makes some weights exactly 0.
      #expect(model.weight.elements.contains(0), "\(solver)")
    }
  }
}

@Suite("Sparse: scikit-learn's optimum")
struct SparseOptimumTests {
  struct Fixture: Decodable {
    var data: String
    var features: Int
    var classes: Int
    var l2: Double
    var objective: Double
    var weights: [[Double]]
    var bias: [Double]
  }

  /// scikit-learn's `LogisticRegression(lbfgs, tol=1e-12)` fitted on the
  /// CSR matrix of a bag-of-words-like problem (Scripts/make_sparse_fixtures.py):
  /// L-BFGS and trust-region Newton on the sparse objective from zeros
  /// reach its objective
  /// within 1e-6 relative and not below it by more than 1e-9 (the two
  /// objectives are the same function; the gap is scikit-learn's own
  /// distance to the optimum), and the fixture's weights evaluate to the
  /// fixture's objective within 1e-12 (the same function).
  @Test(
    "L-BFGS and Newton reach scikit-learn's tight optimum within 1e-6",
    arguments: [TrainingOptions.Solver.lbfgs, .newton])
  func reachesOptimum(solver: TrainingOptions.Solver) throws {
    let directory = repositoryRoot.appendingPathComponent("Tests/SoftmaxRegressionTests/Fixtures")
    let reference = try JSONDecoder().decode(
      Fixture.self,
      from: Data(contentsOf: directory.appendingPathComponent("sklearn_sparse_optimum.json")))
    var options = LIBSVMOptions()
    options.featureCount = reference.features
    options.zeroBased = false
    let data = try LIBSVMReader.readSparse(
      directory.appendingPathComponent(reference.data).path, options: options, as: Double.self)
    let labels = try #require(data.labels).map { Int($0)! }
    let objective = try SparseSoftmaxRegressionObjective(
      features: data.features, labels: labels, classCount: reference.classes, l2: reference.l2)
    let theirs = objective.value(at: reference.weights.flatMap { $0 } + reference.bias)
    #expect(abs(theirs - reference.objective) <= 1e-12 * reference.objective)
    var training = TrainingOptions()
    training.solver = solver
    training.l2 = reference.l2
    training.lbfgs.maxIterations = 20_000
    training.lbfgs.gradientTolerance = 1e-8
    training.lbfgs.relativeObjectiveTolerance = 0
    let model = try SoftmaxClassifier.fit(
      features: data.features, labels: labels, classes: (0..<reference.classes).map(String.init),
      options: training)
    let record = try #require(model.training)
    let relative = (record.objective - reference.objective) / reference.objective
    #expect(
      abs(relative) <= 1e-6, "\(solver): objective \(record.objective) vs \(reference.objective)")
    #expect(relative >= -1e-9, "below scikit-learn's optimum by \(relative)")
    #expect(record.converged, "\(record.stopReason)")
  }
}
