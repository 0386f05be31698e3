//===--- SoftmaxRegressionObjective.swift ---------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The training objective of softmax regression on dense features: the
/// first ``TrainingObjective``.
///
/// For features X (`n × d`), labels y, sample weights s (default 1) and class
/// weights c (default 1), parameters W (`k × d`) and b (`k`):
///
///     L(W, b) = Σᵢ sᵢ·c_yᵢ·nllᵢ / Σᵢ sᵢ + (λ₂/2)·‖W‖²_F + λ₁·‖W‖₁
///     nllᵢ = logsumexp(zᵢ) − zᵢ[yᵢ],  zᵢ = W·x̃ᵢ + b
///
/// where x̃ = (x − μ)/σ when a ``Standardization`` is given (learned on
/// the training data; constant columns have σ = 1) and x̃ = x otherwise.
/// The bias is not penalised. This has the same minimiser as scikit-learn's
/// `LogisticRegression(C:)`, whose objective is `½‖W‖² + C·Σᵢ wᵢ·nllᵢ`,
/// when λ₂ = 1/(C·Σᵢ sᵢ) (1/(C·n) without sample weights):
/// scikit-learn's objective is `C·Σᵢ sᵢ` times this one.
///
/// The gradient is `∂L/∂W = Gᵀ·X̃/Σs + λ₂·W`, `∂L/∂b = Gᵀ·1/Σs`, with
/// `G[i, j] = sᵢ·c_yᵢ·(softmax(zᵢ)ⱼ − [j = yᵢ])`: the textbook
/// `∂L/∂w_ji = (a_j − y_j)·o_i`, summed over the samples. The L1 term is
/// not differentiable at 0 and is left out of the smooth part; the solvers
/// handle it (OWL-QN, a proximal step).
///
/// Parameters are flattened as `[W row by row, b]` (`k·d + k` values).
///
/// Cost: one pass over X per evaluation, `2·n·d·k` multiply-adds, by
/// SoftmaxCore's fused block (`Float` features: the SIMD kernel, logits in
/// `Float`, sums in `Double`; other types in `Double` throughout). The rows
/// are cut into fixed blocks of ``blockRows``, each summed on its own and
/// added to the total in block order, so the result is bitwise the same
/// for every thread count; at most a wave of 32 blocks' partial sums is
/// held at once, whatever the row count.
///
/// A value: immutable and `Sendable`; an evaluation writes only its
/// ``Workspace``.
public struct SoftmaxRegressionObjective<T: SoftmaxScalar>: TrainingObjective {
  /// The rows of a block of a full pass: the unit of work and of summation.
  public static var blockRows: Int { 256 }

  /// The rows of a minibatch block (a 256-row batch is 2 blocks, one for
  /// each thread of two).
  public static var minibatchBlockRows: Int { 128 }

  /// `n × d` features.
  public let features: Matrix<T>
  /// Class index of each row, in `0..<classCount`.
  public let labels: [Int]
  /// `k`.
  public let classCount: Int
  /// `sᵢ·c_yᵢ` for each row.
  public let rowWeights: [Double]
  /// `Σᵢ sᵢ`: the denominator of the mean.
  public let weightTotal: Double
  /// `sᵢ` of each row (scaled by a power of two if their sum would not be
  /// finite), or `nil` when every row weighs 1.
  public let sampleWeights: [Double]?
  /// λ₂ ≥ 0.
  public let l2: Double
  /// λ₁ ≥ 0.
  public let l1: Double
  /// Applied to every row on the fly, if given.
  public let standardization: Standardization?

  /// The number of features `d`.
  public var featureCount: Int { features.columns }
  /// `k·d + k`.
  public var parameterCount: Int { classCount * (featureCount + 1) }
  /// `n`.
  public var rowCount: Int { features.rows }
  /// λ₁.
  public var l1Strength: Double { l1 }
  /// The weights `W` (not the biases).
  public var l1Count: Int { classCount * featureCount }
  /// The labels, for stratified validation splits.
  public var strata: (labels: [Int], classCount: Int)? { (labels, classCount) }

  /// The features in Double, for every type but Float (the same storage
  /// for Double); empty when the Float kernel reads them.
  let doubleFeatures: [Double]
  /// The kernels' sums over blocks of rows.
  let blockSum: DenseBlockSum<T>
  /// The columns' weighted squares, for the preconditioner.
  let columnMoments: ColumnMoments

  /// What an evaluation writes: partial sums of a wave of blocks, and the
  /// parameters rounded to `Float` for the Float kernel. One per caller.
  public struct Workspace {
    var blocks = DenseBlockSum<T>.Workspace()
    /// The softmax probabilities of every row at a point, for Hessian
    /// products there (``hessianVectorProduct(at:direction:workspace:)``).
    var curvature = CurvatureCache()
  }

  /// A new workspace.
  public func makeWorkspace() -> Workspace { Workspace() }

  /// Creates the objective over a data set.
  ///
  /// Sample weights are used as given, or multiplied by a power of two when
  /// their sum (or its reciprocal) would not be finite: the objective is a
  /// weighted mean, unchanged by a common factor, and ordinary weights are
  /// never rescaled.
  ///
  /// - Parameters:
  ///   - features: `n × d`, every value finite, every column's weighted
  ///     mean square (after standardization) finite.
  ///   - labels: `n` class indices in `0..<classCount`.
  ///   - classCount: `k ≥ 1`.
  ///   - sampleWeights: `n` values ≥ 0 with a positive sum, or `nil` for 1.
  ///   - classWeights: `k` values ≥ 0, or `nil` for 1.
  ///   - l2: λ₂ ≥ 0.
  ///   - l1: λ₁ ≥ 0.
  ///   - standardization: `d` means and scales, or `nil`.
  /// - Throws: ``TrainingError`` naming the first bad value; with
  ///   ``TrainingError/Code/outOfRange`` for a column whose squares
  ///   overflow (standardize it, or rescale it) or class weights whose
  ///   weighted sum does, and ``TrainingError/Code/insufficientMemory``
  ///   when `k·(d + 1)` parameters take more than half of
  ///   `SoftmaxConfiguration.memoryLimit`.
  /// - Complexity: one pass over X (the columns' mean squares, kept for
  ///   ``diagonalPreconditioner()``).
  public init(
    features: Matrix<T>, labels: [Int], classCount: Int, sampleWeights: [Double]? = nil,
    classWeights: [Double]? = nil, l2: Double = 0, l1: Double = 0,
    standardization: Standardization? = nil
  ) throws(TrainingError) {
    try self.init(
      features: features, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1, standardization: standardization,
      featureNames: nil)
  }

  /// As the public initializer; `featureNames` name the columns in errors.
  init(
    features: Matrix<T>, labels: [Int], classCount: Int, sampleWeights: [Double]?,
    classWeights: [Double]?, l2: Double, l1: Double, standardization: Standardization?,
    featureNames: [String]?
  ) throws(TrainingError) {
    let d = features.columns
    if classCount >= 1 {
      try WeightedRows.checkMemory(classCount: classCount, featureCount: d, vectors: 4)
    }
    let rows = try WeightedRows(
      rows: features.rows, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1)
    try features.checkFinite(featureNames: featureNames)
    if let standardization, let problem = standardization.problem(columns: d) {
      throw TrainingError(.shapeMismatch, problem)
    }
    let blockSum = DenseBlockSum<T>(
      classCount: classCount, featureCount: d, labels: labels, rowWeights: rows.rowWeights,
      l2: l2, standardization: standardization)
    self.features = features
    if T.self == Double.self {
      self.doubleFeatures = unsafeBitCast(features.elements, to: [Double].self)
    } else if blockSum.usesFloatKernel {
      self.doubleFeatures = []
    } else {
      self.doubleFeatures = features.elements.map { Double($0) }
    }
    self.blockSum = blockSum
    self.labels = labels
    self.classCount = classCount
    self.rowWeights = rows.rowWeights
    self.weightTotal = rows.weightTotal
    self.sampleWeights = rows.sampleWeights
    self.l2 = l2
    self.l1 = l1
    self.standardization = standardization
    self.columnMoments = try ColumnMoments(
      features: features, rowWeights: rows.rowWeights, weightTotal: rows.weightTotal,
      standardization: standardization, featureNames: featureNames)
  }

  // MARK: - Evaluations

  /// The smooth objective over every row and its gradient (see the type).
  public func smoothValueAndGradient(
    at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    let n = features.rows
    let blockRows = Self.blockRows
    // Once a solver has asked for Hessian products, every full pass keeps
    // its rows' probabilities (n·k values), so that products at the next
    // accepted point need no pass of their own.
    var recorded = workspace.curvature.takeRecorded()
    let (data, penalty) = withProbabilityStore(&recorded, rows: n) { store in
      sumBlocks(
        parameters, blockCount: (n + blockRows - 1) / blockRows, gradient: &gradient,
        wantGradient: true, denominator: weightTotal, workspace: &workspace,
        probabilities: store
      ) { block in
        .range((block * blockRows)..<min(n, (block + 1) * blockRows))
      }
    }
    if let recorded { workspace.curvature.keepRecorded(recorded, at: parameters) }
    return data + penalty
  }

  /// The smooth objective on a minibatch, and its gradient: the weighted
  /// cross-entropy of the rows listed, divided by their sample-weight sum
  /// (their count without sample weights, as PyTorch's mean
  /// `cross_entropy`), plus (λ₂/2)·‖W‖².
  ///
  /// With every row listed in order it is the full smooth objective (up to
  /// the order of summation). The rows are cut into fixed blocks of
  /// ``minibatchBlockRows`` summed in order: bitwise the same result for
  /// every thread count.
  ///
  /// Cost: `2·b·d·k` multiply-adds for `b` rows, read in place (no copy).
  public func smoothValueAndGradient(
    rows: [Int], at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    let (data, penalty) = sumBlocks(
      rows: rows, parameters, gradient: &gradient, wantGradient: true, workspace: &workspace)
    return data + penalty
  }

  /// The weighted mean cross-entropy of the rows listed, without penalties:
  /// `Σ sᵢ·c_yᵢ·nllᵢ / Σ sᵢ` over them (a validation loss).
  ///
  /// Cost: the forward half of a minibatch evaluation.
  public func loss(rows: [Int], at parameters: [Double], workspace: inout Workspace) -> Double {
    var unused: [Double] = []
    return sumBlocks(
      rows: rows, parameters, gradient: &unused, wantGradient: false, workspace: &workspace
    ).data
  }

  /// ``loss(rows:at:workspace:)`` with a workspace made for the call.
  public func crossEntropy(rows: [Int], at parameters: [Double]) -> Double {
    var workspace = makeWorkspace()
    return loss(rows: rows, at: parameters, workspace: &workspace)
  }

  /// ``diagonalPreconditioner()``.
  public func inverseHessianDiagonal() -> [Double]? { diagonalPreconditioner() }

  /// An inverse-Hessian diagonal for ``LBFGS``: the objective's Hessian at
  /// uniform probabilities (W = 0, b = 0) has diagonal
  /// `(k−1)/k² · Σᵢ wᵢ·x̃ᵢc² / Σᵢ sᵢ + λ₂` for weight `(j, c)` and
  /// `(k−1)/k² · Σᵢ wᵢ / Σᵢ sᵢ` for a bias (wᵢ = sᵢ·c_yᵢ). Returned as
  /// reciprocals, each floored at 1e-12 of the largest diagonal entry so
  /// that an all-zero column with λ₂ = 0 gets a finite value: every
  /// value is finite and positive, whatever the data.
  ///
  /// Cost: O(k·d) (the columns' squares are summed when the objective is
  /// made).
  public func diagonalPreconditioner() -> [Double] {
    columnMoments.inverseHessianDiagonal(
      classCount: classCount, parameterCount: parameterCount, rowWeights: rowWeights,
      weightTotal: weightTotal, l2: l2)
  }
}
