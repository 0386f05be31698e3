//===--- Standardization.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Per-column centring and scaling, `x̃ = (x − mean) / scale`, as
/// scikit-learn's `StandardScaler`: the mean and the population standard
/// deviation (ddof 0) of each column of the training data, with scale 1
/// for a constant column (so it maps to 0 instead of dividing by zero).
public struct Standardization: Sendable, Hashable, Codable {
  /// One mean per feature.
  public var mean: [Double]
  /// One positive scale per feature.
  public var scale: [Double]

  /// Creates a standardization from given means and scales.
  ///
  /// - Precondition: equal counts; every scale finite and positive.
  public init(mean: [Double], scale: [Double]) {
    precondition(mean.count == scale.count, "\(mean.count) means, \(scale.count) scales")
    precondition(scale.allSatisfy { $0 > 0 && $0.isFinite }, "scales must be finite and positive")
    self.mean = mean
    self.scale = scale
  }

  /// Learns the mean and population standard deviation of every column.
  ///
  /// Two passes in `Double` (mean, then Σ(x − mean)²), so a column with a
  /// large offset keeps its spread exactly; a column whose deviation is 0,
  /// or below `1e-300`, gets scale 1. Sample weights, if given, weight the
  /// mean and variance (as `StandardScaler.fit(sample_weight:)`).
  ///
  /// - Complexity: O(n·d), two reads of the data.
  public init<T: SoftmaxScalar>(fitting features: Matrix<T>, sampleWeights: [Double]? = nil) {
    let d = features.columns
    var mean = [Double](repeating: 0, count: d)
    var variance = [Double](repeating: 0, count: d)
    let total = sampleWeights?.reduce(0, +) ?? Double(features.rows)
    features.forEachRowInDouble { i, x in
      let w = sampleWeights?[i] ?? 1
      for c in 0..<d { mean[c] += w * x[c] }
    }
    for c in 0..<d { mean[c] /= total }
    features.forEachRowInDouble { i, x in
      let w = sampleWeights?[i] ?? 1
      for c in 0..<d {
        let deviation = x[c] - mean[c]
        variance[c] += w * deviation * deviation
      }
    }
    let scale = variance.map { v -> Double in
      let deviation = (v / total).squareRoot()
      return deviation > 1e-300 && deviation.isFinite ? deviation : 1
    }
    self.init(mean: mean, scale: scale)
  }

  /// `1 / scale` per feature: training and prediction compute
  /// `x̃ = (x − mean) · (1/scale)` with it.
  public var inverseScale: [Double] { scale.map { 1 / $0 } }

  /// `(x − mean) / scale` for every row.
  ///
  /// - Precondition: `features.columns == mean.count`.
  public func apply(to features: Matrix<Double>) -> Matrix<Double> {
    precondition(
      features.columns == mean.count, "\(features.columns) columns; expected \(mean.count)")
    let d = mean.count
    let elements = features.elements.enumerated().map { index, value in
      (value - mean[index % d]) / scale[index % d]
    }
    return Matrix(rows: features.rows, columns: d, elements: elements)
  }
}
