//===--- NetworkObjective.swift -------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The training objective of a multi-layer softmax classifier
/// (``NetworkArchitecture``): a ``TrainingObjective`` like softmax
/// regression's, so every solver trains it.
///
/// For rows `xᵢ` with labels `yᵢ`, sample weights `s` and class weights `c`:
///
///     L = Σᵢ sᵢ·c_yᵢ·nllᵢ / Σᵢ sᵢ + (λ₂/2)·Σₗ ‖Wₗ‖²_F,  nllᵢ = logsumexp(z_L) − z_L[yᵢ]
///
/// (the biases are not penalised, as scikit-learn's `alpha`). The gradient
/// is the chain rule, layer by layer from the head down, as in the
/// textbook:
///
///     δ_L = (softmax(z_L) − onehot(y))·sᵢc_yᵢ/Σs          ∂L/∂z at the head
///     ∂L/∂Wₗ = δₗᵀ·aₗ₋₁,  ∂L/∂bₗ = Σᵢ δₗ                   each layer's weights
///     δₗ₋₁ = (δₗ·Wₗ) ⊙ f′(zₗ₋₁)                             down one layer
///
/// Rows are taken in fixed blocks of ``blockRows`` (a minibatch of up to
/// that many rows is one block): each block's forward and backward
/// products are SoftmaxCore's `matrixProduct`'s (for
/// `Float`, the C kernels on both cores), its weight gradient summed over
/// its rows in `T`, and the blocks' gradients and losses added in `Double`
/// in block order. Nothing depends on the thread count: the same
/// parameters give the same bits with 1 or 2 threads.
///
/// Cost per row: about `6·P` floating-point operations for `P` weights
/// (forward 2, backward 4; the first layer's input gradient is skipped),
/// plus one activation and its derivative per hidden unit.
///
/// Error: `Float` evaluates every layer in `Float` (each product's error
/// bound is `K·u·Σ|a·b|`, K its inner dimension), the loss and the softmax
/// of each row in `Double`; `Double` throughout for `Double` features
/// (what the finite-difference tests check).
///
/// Sparse features (``NetworkFeatures/sparse(_:)``): the first layer reads
/// only a row's stored entries, `z₁ = b₁ + Σ_c x_c·W₁[:, c]`, and its
/// weight gradient touches only the columns a block holds. The sums are
/// the dense products' own chains with the zero terms left out, so a
/// sparse objective gives the same value and gradient, bit for bit, as the
/// same rows dense. Cost per row: `2·entries·w₁` for the first layer
/// (forward and weight gradient), plus `O(w₁·d)` per evaluation to lay the
/// first layer's weights out by column and clear their gradient. With an
/// identity activation and a small first width this is fastText's
/// architecture: a document's embedding is the (weighted) sum of its
/// terms' embeddings, then a softmax.
public struct NetworkObjective<T: SoftmaxScalar>: TrainingObjective {
  /// The rows of a block: the unit of summation.
  public static var blockRows: Int { 256 }

  /// The network's shape.
  public let architecture: NetworkArchitecture
  /// `n × d` features, dense or sparse.
  public let features: NetworkFeatures<T>
  /// The class of each row, in `0..<classCount`.
  public let labels: [Int]
  /// `sᵢ·c_yᵢ` of each row.
  public let rowWeights: [Double]
  /// `Σᵢ sᵢ`.
  public let weightTotal: Double
  /// `sᵢ`, or `nil` when every row weighs 1.
  public let sampleWeights: [Double]?
  /// λ₂ ≥ 0, on the weights.
  public let l2: Double
  /// Applied to every row as it is read, if given.
  public let standardization: Standardization?
  /// The fraction p of hidden units dropped in a minibatch's gradient
  /// evaluation (inverted dropout: the kept ones scaled by 1/(1 − p)); 0
  /// for none. Full passes and ``loss(rows:at:workspace:)`` keep every
  /// unit.
  public let dropout: Double
  /// The seed of the dropout masks.
  public let dropoutSeed: UInt64
  /// The standardization in `T`: means and reciprocal scales.
  let inputShift: (mean: [T], inverseScale: [T])?

  /// ``NetworkArchitecture/parameterCount``.
  public var parameterCount: Int { architecture.parameterCount }
  /// `n`.
  public var rowCount: Int { features.rowCount }
  /// 0: networks take no L1 term.
  public var l1Strength: Double { 0 }
  /// 0.
  public var l1Count: Int { 0 }
  /// The labels, for stratified validation splits.
  public var strata: (labels: [Int], classCount: Int)? { (labels, architecture.classCount) }

  /// What an evaluation writes: the parameters rounded to `T`, and one
  /// block's activations, pre-activations, deltas and weight gradient, in
  /// one buffer. One per caller.
  public struct Workspace {
    var buffer: [T] = []
    /// Sparse features: each block's entries grouped by column.
    var columns = ColumnGrouping()
  }

  /// A new workspace.
  public func makeWorkspace() -> Workspace { Workspace() }

  /// Creates the objective over dense features.
  ///
  /// - Parameters:
  ///   - features: `n × d`, every value finite.
  ///   - labels: `n` class indices in `0..<classCount`.
  ///   - classCount: `k ≥ 1`.
  ///   - hiddenWidths: the hidden layers' widths (empty: softmax regression).
  ///   - activation: the hidden layers' activation.
  ///   - sampleWeights: `n` values ≥ 0 with a positive sum, or `nil` for 1.
  ///   - classWeights: `k` values ≥ 0, or `nil` for 1.
  ///   - l2: λ₂ ≥ 0 (weight decay on the weights).
  ///   - standardization: `d` means and scales, or `nil`.
  ///   - dropout: the fraction of hidden units a minibatch evaluation
  ///     drops, in [0, 1).
  ///   - dropoutSeed: the masks' seed. A unit's mask is a function of the
  ///     seed, the minibatch's list of rows, the row's position in it, the
  ///     layer and the unit: the same minibatch gives the same masks (so a
  ///     resumed run repeats them), another minibatch others.
  /// - Throws: ``TrainingError`` naming the first bad value (as
  ///   ``SoftmaxRegressionObjective``'s initializer), a bad shape, or
  ///   ``TrainingError/Code/insufficientMemory`` when the solvers' vectors
  ///   (six of the parameter count, in `Double`) take more than half of
  ///   `SoftmaxConfiguration.memoryLimit`.
  /// - Complexity: one scan of the features for non-finite values.
  public init(
    features: Matrix<T>, labels: [Int], classCount: Int, hiddenWidths: [Int],
    activation: Activation = .relu, sampleWeights: [Double]? = nil,
    classWeights: [Double]? = nil, l2: Double = 0, standardization: Standardization? = nil,
    dropout: Double = 0, dropoutSeed: UInt64 = 0
  ) throws(TrainingError) {
    try self.init(
      features: .dense(features), labels: labels, classCount: classCount,
      hiddenWidths: hiddenWidths, activation: activation, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, standardization: standardization, dropout: dropout,
      dropoutSeed: dropoutSeed)
  }

  /// Creates the objective over sparse features: the first layer reads the
  /// stored entries only (see the type's discussion).
  ///
  /// - Parameters:
  ///   - features: `n × d` CSR rows, every stored value finite.
  ///   - labels: `n` class indices in `0..<classCount`.
  ///   - classCount: `k ≥ 1`.
  ///   - hiddenWidths: the hidden layers' widths (empty: softmax regression).
  ///   - activation: the hidden layers' activation.
  ///   - sampleWeights: `n` values ≥ 0 with a positive sum, or `nil` for 1.
  ///   - classWeights: `k` values ≥ 0, or `nil` for 1.
  ///   - l2: λ₂ ≥ 0 (weight decay on the weights).
  ///   - standardization: `d` scales with every mean 0 (as
  ///     ``Standardization/init(scaling:sampleWeights:)`` learns; centering
  ///     would fill the rows), or `nil`.
  ///   - dropout: the fraction of hidden units a minibatch evaluation
  ///     drops, in [0, 1).
  ///   - dropoutSeed: the masks' seed (as the dense initializer's).
  /// - Throws: as the dense initializer, and
  ///   ``TrainingError/Code/invalidOption`` for a standardization that
  ///   centers.
  public init(
    features: SparseMatrix<T>, labels: [Int], classCount: Int, hiddenWidths: [Int],
    activation: Activation = .relu, sampleWeights: [Double]? = nil,
    classWeights: [Double]? = nil, l2: Double = 0, standardization: Standardization? = nil,
    dropout: Double = 0, dropoutSeed: UInt64 = 0
  ) throws(TrainingError) {
    try self.init(
      features: .sparse(features), labels: labels, classCount: classCount,
      hiddenWidths: hiddenWidths, activation: activation, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, standardization: standardization, dropout: dropout,
      dropoutSeed: dropoutSeed)
  }

  /// The shared checks of both initializers.
  init(
    features: NetworkFeatures<T>, labels: [Int], classCount: Int, hiddenWidths: [Int],
    activation: Activation, sampleWeights: [Double]?, classWeights: [Double]?, l2: Double,
    standardization: Standardization?, dropout: Double, dropoutSeed: UInt64
  ) throws(TrainingError) {
    guard dropout >= 0 && dropout < 1 else {
      throw TrainingError(.invalidOption, "dropout = \(dropout) must be in [0, 1)")
    }
    let architecture = try NetworkArchitecture(
      inputCount: features.columnCount, hiddenWidths: hiddenWidths, activation: activation,
      classCount: classCount)
    let (bytes, overflow) = architecture.parameterCount.multipliedReportingOverflow(by: 8 * 6)
    let limit = SoftmaxConfiguration.memoryLimit
    guard !overflow, bytes <= limit / 2 else {
      throw TrainingError(
        .insufficientMemory,
        "a network of \(architecture.parameterCount) parameters needs "
          + "\(overflow ? "more than 2^63 bytes" : byteText(bytes)) of memory to train, "
          + "more than half of the \(byteText(limit)) available")
    }
    let rows = try WeightedRows(
      rows: features.rowCount, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: 0)
    switch features {
    case .dense(let x): try x.checkFinite(featureNames: nil)
    case .sparse(let x): try x.checkFinite(featureNames: nil)
    }
    if let standardization {
      if let problem = standardization.problem(columns: features.columnCount) {
        throw TrainingError(.shapeMismatch, problem)
      }
      if case .sparse = features, let error = standardization.centeringError(featureNames: nil) {
        throw error
      }
    }
    self.architecture = architecture
    self.features = features
    self.labels = labels
    self.rowWeights = rows.rowWeights
    self.weightTotal = rows.weightTotal
    self.sampleWeights = rows.sampleWeights
    self.l2 = l2
    self.standardization = standardization
    self.dropout = dropout
    self.dropoutSeed = dropoutSeed
    self.inputShift = standardization.map {
      ($0.mean.map { T($0) }, $0.inverseScale.map { T($0) })
    }
  }

  // MARK: - Evaluations

  /// The smooth objective over every row, and its gradient.
  public func smoothValueAndGradient(
    at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    let (data, penalty) = evaluate(
      rows: nil, parameters, gradient: &gradient, wantGradient: true,
      denominator: weightTotal, workspace: &workspace)
    return data + penalty
  }

  /// The smooth objective on a minibatch: the weighted cross-entropy of the
  /// rows listed divided by their sample-weight sum (their count without
  /// sample weights, as PyTorch's mean `cross_entropy`), plus the penalty.
  public func smoothValueAndGradient(
    rows: [Int], at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    let (data, penalty) = evaluate(
      rows: rows, parameters, gradient: &gradient, wantGradient: true,
      denominator: denominator(rows), workspace: &workspace)
    return data + penalty
  }

  /// The weighted mean cross-entropy of the rows listed, without the
  /// penalty (a validation loss). Cost: the forward pass only.
  public func loss(rows: [Int], at parameters: [Double], workspace: inout Workspace) -> Double {
    var unused: [Double] = []
    return evaluate(
      rows: rows, parameters, gradient: &unused, wantGradient: false,
      denominator: denominator(rows), workspace: &workspace
    ).data
  }

  /// `Σ sᵢ` over `rows` (their count without sample weights).
  func denominator(_ rows: [Int]) -> Double {
    guard let sampleWeights else { return Double(rows.count) }
    var sum = 0.0
    for row in rows { sum += sampleWeights[row] }
    return sum
  }

  /// The class probabilities of `rows` of the features at `parameters`,
  /// `rows.count × k` (a forward pass in `T`, the softmax in `Double`).
  public func probabilities(rows: [Int], at parameters: [Double]) -> Matrix<Double> {
    let k = architecture.classCount
    var out = [Double](repeating: 0, count: rows.count * k)
    let logits = logits(rows: rows, at: parameters)
    for r in 0..<rows.count {
      var m = -Double.infinity
      for j in 0..<k { m = max(m, Double(logits[r * k + j])) }
      var sum = 0.0
      for j in 0..<k {
        out[r * k + j] = Double.exp(Double(logits[r * k + j]) - m)
        sum += out[r * k + j]
      }
      for j in 0..<k { out[r * k + j] /= sum }
    }
    return Matrix(rows: rows.count, columns: k, elements: out)
  }
}

/// The features of a ``NetworkObjective``: dense rows, or CSR rows whose
/// first layer reads only the stored entries.
public enum NetworkFeatures<T: SoftmaxScalar>: Sendable {
  /// `n × d` values.
  case dense(Matrix<T>)
  /// `n × d` CSR rows.
  case sparse(SparseMatrix<T>)

  /// `n`.
  public var rowCount: Int {
    switch self {
    case .dense(let x): x.rows
    case .sparse(let x): x.rows
    }
  }

  /// `d`.
  public var columnCount: Int {
    switch self {
    case .dense(let x): x.columns
    case .sparse(let x): x.columns
    }
  }
}
