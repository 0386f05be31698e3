//===--- ColumnMoments.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// Each column's `Σᵢ wᵢ·x̃ᵢc²` (wᵢ = sᵢ·c_yᵢ), summed once when an
/// objective is made: the curvature of the objective at W = 0, for the
/// L-BFGS preconditioner, and the check that no column's squares overflow.
///
/// A column whose sum overflows is summed again on its values scaled by a
/// power of two, which gives its weighted mean square `Σᵢ wᵢ·x̃ᵢc² / Σᵢ sᵢ`;
/// a mean square beyond the largest `Double` is an error naming the
/// column.
struct ColumnMoments: Sendable {
  /// `Σᵢ wᵢ·x̃ᵢc²` per column (infinite for the rescaled ones).
  var squareSums: [Double]
  /// The weighted mean squares of the columns whose sum overflows.
  var rescaledMeanSquares: [Int: Double]

  init<T: SoftmaxScalar>(
    features: Matrix<T>, rowWeights: [Double], weightTotal: Double,
    standardization: Standardization?, featureNames: [String]?
  ) throws(TrainingError) {
    try self.init(
      columns: features.columns, rowWeights: rowWeights, weightTotal: weightTotal,
      standardization: standardization, featureNames: featureNames
    ) { body in features.forEachRowInDouble(body) }
  }

  /// As the matrix's, over the dense rows `forEachRow` reads in order (a
  /// matrix, or a stream: the same rows give the same bits).
  init(
    columns d: Int, rowWeights: [Double], weightTotal: Double,
    standardization: Standardization?, featureNames: [String]?,
    forEachRow: (_ body: (Int, UnsafeBufferPointer<Double>) -> Void) throws(TrainingError) -> Void
  ) throws(TrainingError) {
    let sums = try Self.squareSums(
      d, forEachRow, rowWeights: rowWeights, standardization: standardization, exponents: nil)
    let overflowed = (0..<d).filter { !sums[$0].isFinite }
    var meanSquares: [Int: Double] = [:]
    if !overflowed.isEmpty {
      var largest = [Double](repeating: 0, count: d)
      try Self.forEachStandardizedRow(d, forEachRow, standardization) { _, x in
        for c in overflowed { largest[c] = max(largest[c], abs(x[c])) }
      }
      var exponents = [Int](repeating: 0, count: d)
      for c in overflowed where largest[c].isFinite { exponents[c] = Int(largest[c].exponent) }
      let scaled = try Self.squareSums(
        d, forEachRow, rowWeights: rowWeights, standardization: standardization,
        exponents: exponents)
      for c in overflowed {
        // Σ w·x² / Σs = 4^e · (Σ w·(x·2^-e)²) / Σs.
        let meanSquare =
          largest[c].isFinite
          ? PowerOfTwoScaling.scale(scaled[c] / weightTotal, by: 2 * exponents[c]) : .infinity
        guard meanSquare.isFinite else {
          let name = columnName(c, featureNames)
          throw TrainingError(
            .outOfRange,
            largest[c].isFinite && standardization == nil
              ? "\(name) has values up to \(largest[c]): too large to train on, as their squares "
                + "overflow a Double; standardize the features, or rescale the column"
              : "\(name) has values too large to train on even standardized (x − mean "
                + "overflows a Double); rescale the column")
        }
        meanSquares[c] = meanSquare
      }
    }
    squareSums = sums
    rescaledMeanSquares = meanSquares
  }

  /// The reciprocal of the objective's Hessian diagonal at uniform
  /// probabilities (see `SoftmaxRegressionObjective.diagonalPreconditioner()`),
  /// floored at 1e-12 of the largest entry: finite and positive.
  func inverseHessianDiagonal(
    classCount k: Int, parameterCount: Int, rowWeights: [Double], weightTotal: Double,
    l2: Double
  ) -> [Double] {
    let d = squareSums.count
    let curvature = Double(k - 1) / Double(k * k) / weightTotal
    let biasCurvature = rowWeights.reduce(0, +) * curvature
    var columnCurvature = squareSums.map { curvature * $0 }
    for (c, meanSquare) in rescaledMeanSquares {
      columnCurvature[c] = Double(k - 1) / Double(k * k) * meanSquare
    }
    // The diagonal is k copies of the columns' values plus λ₂, then the k
    // biases' value: its largest finite value comes from `d + 1` values.
    // (A maximum is exact: the same floor as over the whole diagonal.)
    var largest = biasCurvature.isFinite ? max(0, biasCurvature) : 0
    if k > 0 {
      for c in 0..<d where (columnCurvature[c] + l2).isFinite {
        largest = max(largest, columnCurvature[c] + l2)
      }
    }
    let floor = max(1e-12 * largest, 1e-300)
    func inverse(_ value: Double) -> Double {
      value.isFinite && value >= floor ? 1 / value : 1 / floor
    }
    let weights = k * d
    // Written on the worker threads (hundreds of megabytes for large
    // vocabularies: the pages are cleared on every core).
    return [Double](unsafeUninitializedCapacity: parameterCount) { out, initialized in
      if let out = out.baseAddress {
        parallelFor(count: parameterCount, cost: 1, grain: 1 << 16) { begin, end in
          for i in begin..<end {
            (out + i).initialize(
              to: i < weights ? inverse(columnCurvature[i % d] + l2) : inverse(biasCurvature))
          }
        }
      }
      initialized = parameterCount
    }
  }

  /// `Σᵢ wᵢ·x̃ᵢc²` of each column from its entries by column, rows with
  /// weight 0 left out, columns on the worker threads.
  private static func columnSquareSums<V: BinaryFloatingPoint>(
    _ sums: inout [Double], offsets: [Int], rows: [Int32], values: [V], rowWeights: [Double],
    inverseScale: [Double]?
  ) {
    let d = sums.count
    let cost = max(1, (offsets.last ?? 0) / max(d, 1))
    sums.withUnsafeMutableBufferPointer { sums in
      parallelFor(count: d, cost: cost, grain: 256) { begin, end in
        for c in begin..<end {
          let scale = inverseScale?[c] ?? 1
          var sum = 0.0
          for entry in offsets[c]..<offsets[c + 1] {
            let weight = rowWeights[Int(rows[entry])]
            guard weight != 0 else { continue }
            let x = Double(values[entry]) * scale
            sum += weight * x * x
          }
          sums[c] = sum
        }
      }
    }
  }

  /// `Σᵢ wᵢ·(x̃ᵢc·2^-e[c])²` per column (`e` all 0 when `nil`).
  private static func squareSums(
    _ d: Int,
    _ forEachRow: (_ body: (Int, UnsafeBufferPointer<Double>) -> Void) throws(TrainingError) ->
      Void,
    rowWeights: [Double], standardization: Standardization?, exponents: [Int]?
  ) throws(TrainingError) -> [Double] {
    var sums = [Double](repeating: 0, count: d)
    // Through pointers: a captured array would be checked for uniqueness
    // at every element (a pass over MNIST took 150 ms instead of 25).
    try sums.withUnsafeMutableBufferPointer { sums throws(TrainingError) in
      try rowWeights.withUnsafeBufferPointer { w throws(TrainingError) in
        try forEachStandardizedRow(d, forEachRow, standardization) { i, x in
          let weight = w[i]
          guard weight != 0 else { return }
          if let exponents {
            for c in 0..<d where exponents[c] != 0 {
              let v = PowerOfTwoScaling.scale(x[c], by: -exponents[c])
              sums[c] += weight * v * v
            }
          } else {
            for c in 0..<d { sums[c] += weight * x[c] * x[c] }
          }
        }
      }
    }
    return sums
  }

  /// Calls `body(i, x̃ᵢ)` for every row `forEachRow` reads, standardized
  /// in `Double` when a standardization is given.
  private static func forEachStandardizedRow(
    _ d: Int,
    _ forEachRow: (_ body: (Int, UnsafeBufferPointer<Double>) -> Void) throws(TrainingError) ->
      Void,
    _ standardization: Standardization?,
    _ body: (Int, UnsafeMutableBufferPointer<Double>) -> Void
  ) throws(TrainingError) {
    let mean = standardization?.mean
    let inverseScale = standardization?.inverseScale
    var row = [Double](repeating: 0, count: d)
    // (`forEachRow` calls the body and nothing else: it cannot re-enter.)
    try withoutActuallyEscaping(body) { body throws(TrainingError) in
      try row.withUnsafeMutableBufferPointer { out throws(TrainingError) in
        try forEachRow { i, x in
          if let mean, let inverseScale {
            for c in 0..<d { out[c] = (x[c] - mean[c]) * inverseScale[c] }
          } else {
            for c in 0..<d { out[c] = x[c] }
          }
          body(i, out)
        }
      }
    }
  }
}

extension ColumnMoments {
  /// The moments from their parts.
  init(squareSums: [Double], rescaledMeanSquares: [Int: Double]) {
    self.squareSums = squareSums
    self.rescaledMeanSquares = rescaledMeanSquares
  }

  /// The columns' `Σᵢ wᵢ·x̃ᵢc²` of sparse rows, over their stored entries
  /// (the others are 0), with `x̃ = x·(1/σ)` when `inverseScale` is given;
  /// a column whose sum overflows is summed again scaled by a power of
  /// two, as for dense rows.
  ///
  /// - Complexity: one pass over the entries (two with a column whose
  ///   squares overflow).
  ///
  /// With `byColumn`, the same entries by column (`offsets`: the `d + 1`
  /// starts of the columns), the sums go column by column on the worker
  /// threads, each in increasing row order: the same bits as the pass over
  /// the rows.
  init<T: SoftmaxScalar>(
    features: SparseMatrix<T>, rowWeights: [Double], weightTotal: Double,
    inverseScale: [Double]?, featureNames: [String]?,
    byColumn: (offsets: [Int], entries: EntriesByColumn)? = nil
  ) throws(TrainingError) {
    try self.init(
      columns: features.columns, rowWeights: rowWeights, weightTotal: weightTotal,
      inverseScale: inverseScale, featureNames: featureNames, byColumn: byColumn
    ) { body in body(0, features) }
  }

  /// The moments of sparse rows that `forEachChunk` passes in order
  /// (`body(firstRow, chunk)`: a matrix in one chunk, or a stream), as
  /// ``init(features:rowWeights:weightTotal:inverseScale:featureNames:byColumn:)``:
  /// the same rows give the same bits.
  init<T: SoftmaxScalar>(
    columns d: Int, rowWeights: [Double], weightTotal: Double, inverseScale: [Double]?,
    featureNames: [String]?, byColumn: (offsets: [Int], entries: EntriesByColumn)? = nil,
    forEachChunk: (_ body: (Int, SparseMatrix<T>) -> Void) throws(TrainingError) -> Void
  ) throws(TrainingError) {
    // Every stored entry of a row of positive weight: (weight, column,
    // x·(1/σ)).
    func forEachWeighted(
      _ chunk: SparseMatrix<T>, first: Int, _ body: (Double, Int, Double) -> Void
    ) {
      chunk.forEachEntry { row, c, x in
        let weight = rowWeights[first + row]
        if weight != 0 { body(weight, c, x * (inverseScale?[c] ?? 1)) }
      }
    }
    var sums = [Double](repeating: 0, count: d)
    if let byColumn {
      switch byColumn.entries.values {
      case .float(let values):
        Self.columnSquareSums(
          &sums, offsets: byColumn.offsets, rows: byColumn.entries.rows, values: values,
          rowWeights: rowWeights, inverseScale: inverseScale)
      case .double(let values):
        Self.columnSquareSums(
          &sums, offsets: byColumn.offsets, rows: byColumn.entries.rows, values: values,
          rowWeights: rowWeights, inverseScale: inverseScale)
      }
    } else {
      try forEachChunk { first, chunk in
        forEachWeighted(chunk, first: first) { weight, c, x in sums[c] += weight * x * x }
      }
    }
    let overflowed = Set((0..<d).filter { !sums[$0].isFinite })
    var meanSquares: [Int: Double] = [:]
    if !overflowed.isEmpty {
      var largest: [Int: Double] = [:]
      try forEachChunk { first, chunk in
        forEachWeighted(chunk, first: first) { _, c, x in
          if overflowed.contains(c) { largest[c] = max(largest[c] ?? 0, abs(x)) }
        }
      }
      var scaled: [Int: Double] = [:]
      try forEachChunk { first, chunk in
        forEachWeighted(chunk, first: first) { weight, c, x in
          guard overflowed.contains(c), let top = largest[c], top.isFinite else { return }
          let v = PowerOfTwoScaling.scale(x, by: -Int(top.exponent))
          scaled[c, default: 0] += weight * v * v
        }
      }
      for c in overflowed.sorted() {
        let top = largest[c] ?? .infinity
        let meanSquare =
          top.isFinite
          ? PowerOfTwoScaling.scale((scaled[c] ?? 0) / weightTotal, by: 2 * Int(top.exponent))
          : .infinity
        guard meanSquare.isFinite else {
          throw TrainingError(
            .outOfRange,
            "\(columnName(c, featureNames)) has values up to \(top): too large to train on, as "
              + "their squares overflow a Double; standardize the features, or rescale the column")
        }
        meanSquares[c] = meanSquare
      }
    }
    self.init(squareSums: sums, rescaledMeanSquares: meanSquares)
  }
}
