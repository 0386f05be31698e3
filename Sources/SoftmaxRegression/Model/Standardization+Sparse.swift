//===--- Standardization+Sparse.swift -------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

extension Standardization {
  /// Learns a scaling of sparse features without centering: every mean
  /// is 0 and every scale is the column's population standard deviation
  /// (zeros included), as scikit-learn's
  /// `StandardScaler(with_mean=False)`. Centering would turn every zero
  /// of a sparse row into a non-zero; scaling keeps the zeros.
  ///
  /// The deviation is computed about the column's mean from the stored
  /// entries, `Σ wᵢ(xᵢ − μ)²` over them plus `μ²` times the weight of the
  /// rows that have no entry in the column, with the same power-of-two
  /// rescaling as ``init(fitting:sampleWeights:)`` for columns outside
  /// [2^-256, 2^256]. A column with no spread gets scale 1.
  ///
  /// - Precondition: every stored value finite; `sampleWeights`, if given,
  ///   has one finite weight ≥ 0 per row and a positive sum.
  /// - Complexity: three passes over the stored entries; O(d) memory.
  public init<T: SoftmaxScalar>(scaling features: SparseMatrix<T>, sampleWeights: [Double]? = nil) {
    self.init(
      scalingColumns: features.columns, rows: features.rows, sampleWeights: sampleWeights
    ) { body in body(0, features) }
  }

  /// ``init(scaling:sampleWeights:)`` over the chunks of rows that
  /// `forEachChunk` passes in order (`body(firstRow, chunk)`; a matrix in
  /// one chunk, or a stream): the same rows give the same bits.
  init<T: SoftmaxScalar, E: Error>(
    scalingColumns d: Int, rows: Int, sampleWeights: [Double]?,
    forEachChunk: (_ body: (Int, SparseMatrix<T>) -> Void) throws(E) -> Void
  ) throws(E) {
    let weights = sampleWeights.map(PowerOfTwoScaling.normalized)
    let total = weights?.reduce(0, +) ?? Double(rows)
    var largest = [Double](repeating: 0, count: d)
    try forEachChunk { _, chunk in
      chunk.forEachEntry { _, c, x in largest[c] = max(largest[c], abs(x)) }
    }
    // Column c is summed as x·2^-e[c]; e[c] = 0 for ordinary columns.
    let exponents = largest.map(PowerOfTwoScaling.exponent(bringingDown:))
    var mean = [Double](repeating: 0, count: d)
    var storedWeight = [Double](repeating: 0, count: d)
    try forEachChunk { first, chunk in
      chunk.forEachEntry { row, c, x in
        let w = weights?[first + row] ?? 1
        mean[c] += w * PowerOfTwoScaling.scale(x, by: -exponents[c])
        storedWeight[c] += w
      }
    }
    for c in 0..<d { mean[c] /= total }
    var variance = [Double](repeating: 0, count: d)
    try forEachChunk { first, chunk in
      chunk.forEachEntry { row, c, x in
        let w = weights?[first + row] ?? 1
        let deviation = PowerOfTwoScaling.scale(x, by: -exponents[c]) - mean[c]
        variance[c] += w * deviation * deviation
      }
    }
    let scale = (0..<d).map { c -> Double in
      // The rows without an entry in the column deviate by −μ.
      let zeros = max(total - storedWeight[c], 0)
      let sum = variance[c] + zeros * mean[c] * mean[c]
      let deviation = PowerOfTwoScaling.scale((sum / total).squareRoot(), by: exponents[c])
      return deviation >= Self.smallestScale && deviation.isFinite ? deviation : 1
    }
    self.init(mean: [Double](repeating: 0, count: d), scale: scale)
  }

  /// Whether it only scales (every mean is 0): the standardization sparse
  /// features take.
  public var isScalingOnly: Bool { mean.allSatisfy { $0 == 0 } }

  /// The error of a sparse objective given this standardization when it
  /// centers a column (sparse features are only scaled), naming the first
  /// such column by `featureNames` or its number; `nil` when it only scales.
  func centeringError(featureNames: [String]?) -> TrainingError? {
    guard let c = mean.firstIndex(where: { $0 != 0 }) else { return nil }
    return TrainingError(
      .invalidOption,
      "the standardization centers \(columnName(c, featureNames)) (mean \(mean[c])); "
        + "sparse features are scaled without centering (every mean 0)")
  }
}

extension SparseMatrix where Scalar: SoftmaxScalar {
  /// Calls `body(row, column, value)` for every stored entry in row order,
  /// the value in `Double`.
  func forEachEntry(_ body: (_ row: Int, _ column: Int, _ x: Double) -> Void) {
    rowOffsets.withUnsafeBufferPointer { offsets in
      columnIndices.withUnsafeBufferPointer { columns in
        values.withUnsafeBufferPointer { values in
          for i in 0..<rows {
            for entry in offsets[i]..<offsets[i + 1] {
              body(i, Int(columns[entry]), Double(values[entry]))
            }
          }
        }
      }
    }
  }
}
