//===--- SparseSoftmaxRegressionObjective.swift ---------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The training objective of softmax regression on sparse features
/// (bag-of-words, n-grams, LIBSVM data): the objective of
/// ``SoftmaxRegressionObjective`` with X stored as a `SparseMatrix`,
/// computed from the stored entries only.
///
///     L(W, b) = Σᵢ sᵢ·c_yᵢ·nllᵢ / Σᵢ sᵢ + (λ₂/2)·‖W‖²_F + λ₁·‖W‖₁
///     nllᵢ = logsumexp(zᵢ) − zᵢ[yᵢ],  zᵢ = W·x̃ᵢ + b,  x̃ = x/σ
///
/// A ``Standardization`` here only scales (its means must be 0, as
/// scikit-learn's `StandardScaler(with_mean=False)`): centering would make
/// every zero a non-zero.
///
/// Cost of a full evaluation: `2·k` multiply-adds per stored entry forward
/// (logits) and `k` backward (gradient), plus O(k·d) to lay the weights
/// out by column and the gradient back; memory two `k·d` buffers in the
/// workspace (backed by huge pages where the system allows: they are read
/// at random) and `k` doubles per row of a wave of rows. Each stored entry
/// reads and writes `k` consecutive doubles: the weights are kept
/// column-major in the workspace. With more than four classes the
/// objective also keeps a copy of the entries by column (a 4-byte row and
/// a value each), and the full-batch backward pass sums each gradient
/// column over its rows' residuals, which stay in the cache, instead of
/// scattering every row into the gradient, which does not (20 Newsgroups,
/// 20 classes: one evaluation 110 → 60 ms on one thread with the
/// prefetching of the forward pass, `sparse-timing --gradient`).
///
/// Deterministic: the forward pass runs in blocks of rows whose losses are
/// added in block order; the backward pass splits the columns among the
/// threads, and each gradient value is summed over the rows in their order
/// whatever the split. The result is bitwise the same for every thread
/// count, and equals the dense objective's on the same data up to
/// rounding (`SparseObjectiveTests`: within 1e-12 relative).
///
/// A value: immutable and `Sendable`; an evaluation writes only its
/// ``Workspace``.
public struct SparseSoftmaxRegressionObjective<T: SoftmaxScalar>: TrainingObjective {
  /// The rows of a block of the forward pass.
  public static var blockRows: Int { SparseBlockSum.blockRows }

  /// `n × d` features.
  public let features: SparseMatrix<T>
  /// Class index of each row, in `0..<classCount`.
  public var labels: [Int] { rows.labels }
  /// `k`.
  public var classCount: Int { rows.classCount }
  /// `sᵢ·c_yᵢ` for each row.
  public var rowWeights: [Double] { rows.rowWeights }
  /// `Σᵢ sᵢ`.
  public var weightTotal: Double { rows.weightTotal }
  /// λ₂ ≥ 0.
  public let l2: Double
  /// λ₁ ≥ 0.
  public let l1: Double
  /// The scaling applied to every entry, if given (means all 0).
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

  let rows: WeightedRows
  /// The sums over the rows, and the column split of the backward pass.
  let blockSum: SparseBlockSum
  /// The entries by column (rows, then values, in the order of
  /// `blockSum.columnEntries`) when there are more than four classes, for
  /// the backward pass; `nil` otherwise.
  let entriesByColumn: EntriesByColumn?
  let columnMoments: ColumnMoments

  /// What an evaluation writes: the weights and the gradient column-major,
  /// the residuals of a wave of rows, and the blocks' partial sums. One per
  /// caller.
  public struct Workspace {
    var sums = SparseBlockSum.Workspace()
    /// The softmax probabilities of every row at a point, for Hessian
    /// products there (``hessianVectorProduct(at:direction:workspace:)``).
    var curvature = CurvatureCache()
  }

  /// A new workspace.
  public func makeWorkspace() -> Workspace { Workspace() }

  /// Creates the objective over a sparse data set.
  ///
  /// - Parameters:
  ///   - features: `n × d`, every stored value finite.
  ///   - labels: `n` class indices in `0..<classCount`.
  ///   - classCount: `k ≥ 1`.
  ///   - sampleWeights: `n` values ≥ 0 with a positive sum, or `nil` for 1.
  ///   - classWeights: `k` values ≥ 0, or `nil` for 1.
  ///   - l2: λ₂ ≥ 0.
  ///   - l1: λ₁ ≥ 0.
  ///   - standardization: `d` scales with every mean 0, or `nil`.
  /// - Throws: ``TrainingError`` naming the first bad value (as
  ///   ``SoftmaxRegressionObjective``), and
  ///   ``TrainingError/Code/invalidOption`` for a standardization that
  ///   centers.
  /// - Complexity: one pass over the stored entries.
  public init(
    features: SparseMatrix<T>, labels: [Int], classCount: Int, sampleWeights: [Double]? = nil,
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
    features: SparseMatrix<T>, labels: [Int], classCount: Int, sampleWeights: [Double]?,
    classWeights: [Double]?, l2: Double, l1: Double, standardization: Standardization?,
    featureNames: [String]?
  ) throws(TrainingError) {
    let d = features.columns
    if classCount >= 1 {
      // The solver's vectors and the workspace's two column-major copies.
      try WeightedRows.checkMemory(classCount: classCount, featureCount: d, vectors: 6)
    }
    let rows = try WeightedRows(
      rows: features.rows, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1)
    try features.checkFinite(featureNames: featureNames)
    if let standardization {
      if let problem = standardization.problem(columns: d) {
        throw TrainingError(.shapeMismatch, problem)
      }
      if let error = standardization.centeringError(featureNames: featureNames) { throw error }
    }
    var entries = [Int](repeating: 0, count: d + 1)
    for c in features.columnIndices { entries[Int(c) + 1] += 1 }
    for c in 0..<d { entries[c + 1] += entries[c] }
    let inverseScale = standardization?.inverseScale
    self.entriesByColumn =
      Self.keepsEntriesByColumn(features, classCount: classCount)
      ? Self.byColumn(features, offsets: entries) : nil
    self.features = features
    self.rows = rows
    self.l2 = l2
    self.l1 = l1
    self.standardization = standardization
    self.blockSum = SparseBlockSum(
      classCount: classCount, featureCount: d, l2: l2, inverseScale: inverseScale,
      columnEntries: entries,
      averageEntries: max(1, features.nonZeroCount / max(features.rows, 1)))
    self.columnMoments = try ColumnMoments(
      features: features, rowWeights: rows.rowWeights, weightTotal: rows.weightTotal,
      inverseScale: inverseScale, featureNames: featureNames,
      byColumn: entriesByColumn.map { (entries, $0) })
  }

  /// Beyond this many classes, the backward pass goes by column (see
  /// `SparseRegressionColumns`): a row's `k` gradient values then span
  /// several cache lines, and scattering them over a gradient larger than
  /// the cache costs more than reading the wave's residuals by column (20
  /// Newsgroups, k = 20: the backward pass about 3× faster). Up to it, a
  /// row's values share a line, and the copy of the entries by column
  /// (4 bytes and one value each) is not worth its memory.
  static var columnBackwardClasses: Int { 4 }

  /// Whether the entries are copied by column: more than
  /// ``columnBackwardClasses`` classes, row indices that fit 32 bits, and
  /// a copy (4 bytes and one value an entry) of at most an eighth of
  /// `memoryLimit`. Otherwise the backward pass scatters rows, with the
  /// same bits.
  static func keepsEntriesByColumn(
    _ x: SparseMatrix<T>, classCount: Int,
    memoryLimit: Int = SoftmaxConfiguration.memoryLimit
  ) -> Bool {
    let bytes = x.nonZeroCount.multipliedReportingOverflow(by: 4 + MemoryLayout<T>.stride)
    return classCount > columnBackwardClasses && x.rows <= Int(Int32.max) && !bytes.overflow
      && bytes.partialValue <= memoryLimit / 8
  }

  /// The entries of `x` by column: each column's rows in increasing order.
  private static func byColumn(_ x: SparseMatrix<T>, offsets: [Int]) -> EntriesByColumn {
    let (rows, entries) = columnOrder(
      rowOffsets: x.rowOffsets, columnIndices: x.columnIndices, columnOffsets: offsets)
    // Not generic below: unspecialized, a generic copy would look up
    // its type's metadata for every value.
    if T.self == Float.self {
      let values = unsafeBitCast(x.values, to: [Float].self)
      return EntriesByColumn(rows: rows, values: .float(gathered(values, at: entries)))
    }
    if T.self == Double.self {
      let values = unsafeBitCast(x.values, to: [Double].self)
      return EntriesByColumn(rows: rows, values: .double(gathered(values, at: entries)))
    }
    let values = x.values.map { Double($0) }
    return EntriesByColumn(rows: rows, values: .double(gathered(values, at: entries)))
  }

  // MARK: - Evaluations

  /// The smooth objective over every row and its gradient.
  public func smoothValueAndGradient(
    at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    // Once a solver has asked for Hessian products, every full pass keeps
    // its rows' probabilities (n·k values).
    var recorded = workspace.curvature.takeRecorded()
    let (data, penalty) = withProbabilities(&recorded) { store in
      evaluate(
        parameters, rows: nil, gradient: &gradient, wantGradient: true,
        denominator: weightTotal, workspace: &workspace, probabilities: store)
    }
    if let recorded { workspace.curvature.keepRecorded(recorded, at: parameters) }
    return data + penalty
  }

  /// The smooth objective on a minibatch and its gradient: the weighted
  /// cross-entropy of the rows listed divided by their sample-weight sum
  /// (their count without sample weights), plus (λ₂/2)·‖W‖².
  ///
  /// Cost: the rows' entries, and O(k·d) for the dense gradient.
  public func smoothValueAndGradient(
    rows listed: [Int], at parameters: [Double], gradient: inout [Double],
    workspace: inout Workspace
  ) -> Double {
    let (data, penalty) = evaluate(
      parameters, rows: listed, gradient: &gradient, wantGradient: true,
      denominator: denominator(of: listed), workspace: &workspace)
    return data + penalty
  }

  /// The weighted mean cross-entropy of the rows listed, without penalties.
  public func loss(rows listed: [Int], at parameters: [Double], workspace: inout Workspace)
    -> Double
  {
    var unused: [Double] = []
    return evaluate(
      parameters, rows: listed, gradient: &unused, wantGradient: false,
      denominator: denominator(of: listed), workspace: &workspace
    ).data
  }

  /// The preconditioner of ``SoftmaxRegressionObjective/diagonalPreconditioner()``,
  /// from the stored entries.
  public func inverseHessianDiagonal() -> [Double]? {
    columnMoments.inverseHessianDiagonal(
      classCount: classCount, parameterCount: parameterCount, rowWeights: rowWeights,
      weightTotal: weightTotal, l2: l2)
  }

  /// `Σ sᵢ` over the listed rows (their count without sample weights).
  private func denominator(of listed: [Int]) -> Double {
    precondition(!listed.isEmpty, "no rows")
    let n = rowCount
    precondition(listed.allSatisfy { $0 >= 0 && $0 < n }, "a row is out of 0..<\(n)")
    guard let sampleWeights = rows.sampleWeights else { return Double(listed.count) }
    var total = 0.0
    for row in listed { total += sampleWeights[row] }
    return total
  }
}

/// `values[positions[i]]` for every `i`, on the worker threads.
private func gathered<V: BitwiseCopyable>(_ values: [V], at positions: [Int]) -> [V] {
  [V](unsafeUninitializedCapacity: positions.count) { out, initialized in
    values.withUnsafeBufferPointer { values in
      positions.withUnsafeBufferPointer { positions in
        guard let out = out.baseAddress else { return }
        parallelFor(count: positions.count, cost: 2, grain: 4096) { begin, end in
          for i in begin..<end { (out + i).initialize(to: values[positions[i]]) }
        }
      }
    }
    initialized = positions.count
  }
}

/// The stored entries of a sparse matrix by column (CSC), in the order of
/// the objective's `blockSum.columnEntries`.
struct EntriesByColumn: Sendable {
  /// The values, as the kernels read them.
  enum Values: Sendable {
    case float([Float])
    case double([Double])
  }

  /// The row of each entry.
  var rows: [Int32]
  /// The value of each entry.
  var values: Values
}

/// The rows of the entries by column, and the position in the CSR arrays
/// of each (each column's rows increasing).
private func columnOrder(rowOffsets: [Int], columnIndices: [Int32], columnOffsets: [Int]) -> (
  rows: [Int32], entries: [Int]
) {
  let count = columnIndices.count
  let n = rowOffsets.count - 1
  let d = columnOffsets.count - 1
  guard count > 0 else { return ([], []) }
  // Runs of rows on the worker threads (at most 8, with at least 2^16
  // entries each and no more column counters than entries): each run
  // counts its entries per column, which gives it where its entries of
  // each column start, after those of the runs before it; each then
  // scatters its own. A column's rows stay in increasing order: the same
  // arrays as one pass over the rows.
  let runs = max(1, min(SoftmaxConfiguration.threadCount, 8, count >> 16, count / max(d, 1)))
  var bounds = [0]
  for r in 1..<runs {
    let target = count * r / runs
    var low = bounds[r - 1]
    var high = n
    while low < high {  // the first row whose entries start at or after target
      let middle = (low + high) / 2
      if rowOffsets[middle] < target { low = middle + 1 } else { high = middle }
    }
    bounds.append(low)
  }
  bounds.append(n)
  var next = [Int](repeating: 0, count: runs * d)
  next.withUnsafeMutableBufferPointer { next in
    guard let base = next.baseAddress else { return }
    parallelForEach(count: runs, cost: count / runs) { r in
      let counts = base + r * d
      for entry in rowOffsets[bounds[r]]..<rowOffsets[bounds[r + 1]] {
        counts[Int(columnIndices[entry])] += 1
      }
    }
  }
  for c in 0..<d {
    var start = columnOffsets[c]
    for r in 0..<runs {
      let entries = next[r * d + c]
      next[r * d + c] = start
      start += entries
    }
  }
  var rows = [Int32](repeating: 0, count: count)
  var entries = [Int](repeating: 0, count: count)
  rows.withUnsafeMutableBufferPointer { rows in
    entries.withUnsafeMutableBufferPointer { entries in
      next.withUnsafeMutableBufferPointer { next in
        guard let base = next.baseAddress else { return }
        parallelForEach(count: runs, cost: count / runs) { r in
          let next = base + r * d
          for row in bounds[r]..<bounds[r + 1] {
            for entry in rowOffsets[row]..<rowOffsets[row + 1] {
              let c = Int(columnIndices[entry])
              rows[next[c]] = Int32(truncatingIfNeeded: row)
              entries[next[c]] = entry
              next[c] += 1
            }
          }
        }
      }
    }
  }
  return (rows, entries)
}
