//===--- StreamedSoftmaxRegressionObjective.swift -------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// ``SoftmaxRegressionObjective`` over rows streamed from a ``RowStream``:
/// the same function, the same bits, with one chunk of rows in memory.
///
/// A full evaluation streams every row once, chunk by chunk; each chunk's
/// blocks go through the same ``DenseBlockSum`` as the matrix's, in the
/// same order (chunks hold whole blocks), so the value and the gradient
/// are bitwise those of the objective over the matrix in memory, for
/// every chunk size and thread count. Labels and weights stay in memory
/// (16 bytes a row).
///
/// Minibatches of rows in any order are not read from a stream (they need
/// the rows at random): `fit` trains streamed data with the full-batch
/// solvers. A list of rows that is every row in order (a validation
/// loss) is one pass.
///
/// A read that fails is recorded in the features' ``ReadFailure``; the
/// evaluation returns NaN and every later one reads nothing.
struct StreamedSoftmaxRegressionObjective<Source: RowStream>: TrainingObjective {
  typealias T = Source.Scalar

  /// The rows.
  let features: StreamedFeatures<Source>
  /// Class index of each row.
  let labels: [Int]
  /// `k`.
  let classCount: Int
  /// `Σᵢ sᵢ`.
  let weightTotal: Double
  /// `sᵢ`, or `nil` for 1.
  let sampleWeights: [Double]?
  /// λ₁.
  let l1: Double
  /// The kernels' sums over blocks of rows.
  let blockSum: DenseBlockSum<T>
  /// The columns' weighted squares, for the preconditioner.
  let columnMoments: ColumnMoments

  var featureCount: Int { features.columns }
  var parameterCount: Int { classCount * (featureCount + 1) }
  var rowCount: Int { features.rows }
  var l1Strength: Double { l1 }
  var l1Count: Int { classCount * featureCount }
  var strata: (labels: [Int], classCount: Int)? { (labels, classCount) }

  /// The block sums' scratch, and a chunk in `Double` for scalars other
  /// than Float and Double.
  struct Workspace {
    var blocks = DenseBlockSum<T>.Workspace()
    var doubles: [Double] = []
  }

  func makeWorkspace() -> Workspace { Workspace() }

  /// Checks as ``SoftmaxRegressionObjective``'s initializer does, and sums
  /// the columns' squares in one pass over the stream.
  init(
    features: StreamedFeatures<Source>, labels: [Int], classCount: Int,
    sampleWeights: [Double]?, classWeights: [Double]?, l2: Double, l1: Double,
    standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) {
    let d = features.columns
    if classCount >= 1 {
      try WeightedRows.checkMemory(classCount: classCount, featureCount: d, vectors: 4)
    }
    let rows = try WeightedRows(
      rows: features.rows, labels: labels, classCount: classCount, sampleWeights: sampleWeights,
      classWeights: classWeights, l2: l2, l1: l1)
    if let standardization, let problem = standardization.problem(columns: d) {
      throw TrainingError(.shapeMismatch, problem)
    }
    self.features = features
    self.labels = labels
    self.classCount = classCount
    self.weightTotal = rows.weightTotal
    self.sampleWeights = rows.sampleWeights
    self.l1 = l1
    self.blockSum = DenseBlockSum(
      classCount: classCount, featureCount: d, labels: labels, rowWeights: rows.rowWeights,
      l2: l2, standardization: standardization)
    self.columnMoments = try ColumnMoments(
      columns: d, rowWeights: rows.rowWeights, weightTotal: rows.weightTotal,
      standardization: standardization, featureNames: featureNames
    ) { body throws(TrainingError) in try features.forEachRowInDouble(body) }
  }

  func smoothValueAndGradient(
    at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    let (data, penalty) = pass(
      parameters, blockRows: SoftmaxRegressionObjective<T>.blockRows, gradient: &gradient,
      wantGradient: true, workspace: &workspace)
    return data + penalty
  }

  /// - Precondition: `rows` is every row in order (`0..<rowCount`).
  func smoothValueAndGradient(
    rows: [Int], at parameters: [Double], gradient: inout [Double], workspace: inout Workspace
  ) -> Double {
    checkEveryRow(rows)
    let (data, penalty) = pass(
      parameters, blockRows: SoftmaxRegressionObjective<T>.minibatchBlockRows,
      gradient: &gradient, wantGradient: true, workspace: &workspace)
    return data + penalty
  }

  /// - Precondition: `rows` is every row in order (`0..<rowCount`).
  func loss(rows: [Int], at parameters: [Double], workspace: inout Workspace) -> Double {
    checkEveryRow(rows)
    var unused: [Double] = []
    return pass(
      parameters, blockRows: SoftmaxRegressionObjective<T>.minibatchBlockRows,
      gradient: &unused, wantGradient: false, workspace: &workspace
    ).data
  }

  func inverseHessianDiagonal() -> [Double]? {
    columnMoments.inverseHessianDiagonal(
      classCount: classCount, parameterCount: parameterCount, rowWeights: blockSum.rowWeights,
      weightTotal: weightTotal, l2: blockSum.l2)
  }

  /// Traps unless `rows` is `0..<rowCount` in order: a programmer error
  /// (`fit` trains streamed data with the full-batch solvers only).
  private func checkEveryRow(_ rows: [Int]) {
    precondition(
      rows.count == rowCount && rows.enumerated().allSatisfy { $0.offset == $0.element },
      "streamed rows are read in order: minibatches of a stream are not supported")
  }

  /// One pass over the stream in blocks of `blockRows` (a divisor of the
  /// chunk's rows), divided by the sample-weight sum; NaN after a failed
  /// read.
  private func pass(
    _ parameters: [Double], blockRows: Int, gradient: inout [Double], wantGradient: Bool,
    workspace: inout Workspace
  ) -> (data: Double, penalty: Double) {
    guard features.failure.first == nil else { return (.nan, .nan) }
    let d = featureCount
    blockSum.begin(
      parameters, gradient: &gradient, wantGradient: wantGradient, workspace: &workspace.blocks)
    var totals = DenseBlockSum<T>.Totals()
    var doubles = workspace.doubles
    var blocks = workspace.blocks
    do {
      try features.forEachChunk { first, count, x in
        let blockCount = (count + blockRows - 1) / blockRows
        let rows = { (block: Int) -> BlockRows in
          .range((block * blockRows)..<min(count, (block + 1) * blockRows))
        }
        func add(_ kernelRows: DenseBlockSum<T>.Features) {
          blockSum.add(
            kernelRows, parameters: parameters, firstRow: first, blockCount: blockCount,
            gradient: &gradient, wantGradient: wantGradient, totals: &totals,
            workspace: &blocks, rows: rows)
        }
        guard let base = x.baseAddress, d > 0 else { return }
        let raw = UnsafeRawPointer(base)
        if blockSum.usesFloatKernel {
          add(.float(raw.assumingMemoryBound(to: Float.self)))
        } else if T.self == Double.self {
          add(.double(raw.assumingMemoryBound(to: Double.self)))
        } else {
          if doubles.count < x.count { doubles = [Double](repeating: 0, count: x.count) }
          for index in 0..<x.count { doubles[index] = Double(x[index]) }
          doubles.withUnsafeBufferPointer { converted in
            if let converted = converted.baseAddress { add(.double(converted)) }
          }
        }
      }
    } catch {
      features.failure.record(error)
      workspace.blocks = blocks
      return (.nan, .nan)
    }
    workspace.doubles = doubles
    workspace.blocks = blocks
    return blockSum.finish(
      parameters, gradient: &gradient, wantGradient: wantGradient, totals: totals,
      denominator: weightTotal(blockRows: blockRows))
  }

  /// The denominator of a pass: `Σᵢ sᵢ` as the matrix's objective divides
  /// a full pass (256-row blocks) and a pass over listed rows (their
  /// count, or their weights summed in order).
  private func weightTotal(blockRows: Int) -> Double {
    if blockRows == SoftmaxRegressionObjective<T>.blockRows { return weightTotal }
    guard let sampleWeights else { return Double(rowCount) }
    var total = 0.0
    for weight in sampleWeights { total += weight }
    return total
  }
}
