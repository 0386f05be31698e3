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
///
/// Every mean is finite and every scale is finite and at least
/// ``smallestScale``, so that `1/scale` is finite too: ``init(mean:scale:)``
/// traps otherwise (a programmer error), ``init(validatingMean:scale:)``
/// and decoding throw.
public struct Standardization: Sendable, Hashable, Codable {
  /// One mean per feature.
  public var mean: [Double]
  /// One scale per feature, finite and at least ``smallestScale``.
  public var scale: [Double]

  /// The smallest scale: `1e-300`, whose reciprocal is finite. A column
  /// whose deviation is below it is treated as constant (scale 1).
  public static let smallestScale = 1e-300

  /// Creates a standardization from given means and scales.
  ///
  /// - Precondition: equal counts; every mean finite; every scale finite
  ///   and at least ``smallestScale``. (Values from a file go through
  ///   ``init(validatingMean:scale:)`` instead.)
  public init(mean: [Double], scale: [Double]) {
    if let problem = Self.problem(mean: mean, scale: scale) { preconditionFailure(problem) }
    self.mean = mean
    self.scale = scale
  }

  /// Creates a standardization from means and scales that may be wrong
  /// (read from a file).
  ///
  /// - Throws: ``TrainingError/Code/invalidModel`` naming the first bad
  ///   value: counts that differ, a mean that is not finite, a scale that
  ///   is not finite or below ``smallestScale``.
  public init(validatingMean mean: [Double], scale: [Double]) throws(TrainingError) {
    if let problem = Self.problem(mean: mean, scale: scale) {
      throw TrainingError(.invalidModel, problem)
    }
    self.mean = mean
    self.scale = scale
  }

  /// Reads and validates a standardization (see
  /// ``init(validatingMean:scale:)``); a bad one is a `DecodingError`.
  public init(from decoder: any Decoder) throws {
    enum Keys: String, CodingKey { case mean, scale }
    let container = try decoder.container(keyedBy: Keys.self)
    let mean = try container.decode([Double].self, forKey: .mean)
    let scale = try container.decode([Double].self, forKey: .scale)
    if let problem = Self.problem(mean: mean, scale: scale) {
      throw DecodingError.dataCorrupted(
        DecodingError.Context(codingPath: decoder.codingPath, debugDescription: problem))
    }
    self.mean = mean
    self.scale = scale
  }

  /// What is wrong with these means and scales, or `nil`.
  static func problem(mean: [Double], scale: [Double]) -> String? {
    guard mean.count == scale.count else {
      return "the standardization has \(mean.count) means and \(scale.count) scales"
    }
    if let c = mean.firstIndex(where: { !$0.isFinite }) {
      return "the standardization's mean[\(c)] = \(mean[c]) is not finite"
    }
    if let c = scale.firstIndex(where: { !($0 >= smallestScale) || !$0.isFinite }) {
      return
        "the standardization's scale[\(c)] = \(scale[c]) is not a finite number ≥ \(smallestScale)"
    }
    return nil
  }

  /// What is wrong with this standardization for data of `columns`
  /// features, or `nil` (its fields are public and may have been changed
  /// since it was made).
  func problem(columns: Int) -> String? {
    if let problem = Self.problem(mean: mean, scale: scale) { return problem }
    guard mean.count == columns else {
      return "the standardization has \(mean.count) columns; the data has \(columns)"
    }
    return nil
  }

  /// Learns the mean and population standard deviation of every column.
  ///
  /// Passes in `Double`: each column's largest magnitude, its mean, then
  /// Σ(x − mean)², so a column with a large offset keeps its spread
  /// exactly; a column whose deviation is 0, or below ``smallestScale``,
  /// gets scale 1. Sample weights, if given, weight the mean and variance
  /// (as `StandardScaler.fit(sample_weight:)`).
  ///
  /// Any finite values work: a column whose sums could overflow (values
  /// above 2^256, whose squares summed can) or underflow (values below
  /// 2^-256) is summed on its values scaled by a power of two, exactly,
  /// and the results scaled back; weights whose sum could overflow are
  /// scaled the same way. Ordinary data is never rescaled.
  ///
  /// - Precondition: every value finite; `sampleWeights`, if given, has one
  ///   finite weight ≥ 0 per row and a positive sum.
  /// - Complexity: O(n·d), three reads of the data.
  public init<T: SoftmaxScalar>(fitting features: Matrix<T>, sampleWeights: [Double]? = nil) {
    self.init(columns: features.columns, rows: features.rows, sampleWeights: sampleWeights) {
      body in features.forEachRowInDouble(body)
    }
  }

  /// ``init(fitting:sampleWeights:)`` over rows streamed from `rows`, one
  /// chunk of about `chunkBytes` at a time: the same means and scales, bit
  /// for bit (three passes).
  ///
  /// - Parameters:
  ///   - rows: `n × d` finite values, the same on every pass.
  ///   - sampleWeights: `n` weights, or `nil`.
  ///   - chunkBytes: the bytes of a chunk.
  /// - Precondition: as the matrix's.
  /// - Throws: ``TrainingError/Code/unreadableData`` with the stream's
  ///   error.
  public init<Rows: RowStream>(
    streaming rows: Rows, sampleWeights: [Double]? = nil, chunkBytes: Int = 8 << 20
  ) throws(TrainingError) {
    self = try StreamedFeatures(
      source: rows,
      chunkRows: StreamedFeatures<Rows>.chunkRows(columns: rows.columns, chunkBytes: chunkBytes)
    ).fittedStandardization(sampleWeights: sampleWeights)
  }

  /// As ``init(fitting:sampleWeights:)``, over the rows `forEachRow` reads
  /// in order (three passes): a matrix in memory, or a stream.
  init<E: Error>(
    columns d: Int, rows n: Int, sampleWeights: [Double]?,
    forEachRow: (_ body: (Int, UnsafeBufferPointer<Double>) -> Void) throws(E) -> Void
  ) throws(E) {
    let weights = sampleWeights.map(PowerOfTwoScaling.normalized)
    let total = weights?.reduce(0, +) ?? Double(n)
    var largest = [Double](repeating: 0, count: d)
    try forEachRow { _, x in
      for c in 0..<d { largest[c] = max(largest[c], abs(x[c])) }
    }
    // Column c is summed as x·2^-e[c]; e[c] = 0 for ordinary columns.
    let exponents = largest.map(PowerOfTwoScaling.exponent(bringingDown:))
    func scaled(_ x: UnsafeBufferPointer<Double>, _ c: Int) -> Double {
      PowerOfTwoScaling.scale(x[c], by: -exponents[c])
    }
    var mean = [Double](repeating: 0, count: d)
    var variance = [Double](repeating: 0, count: d)
    try forEachRow { i, x in
      let w = weights?[i] ?? 1
      for c in 0..<d { mean[c] += w * scaled(x, c) }
    }
    for c in 0..<d { mean[c] /= total }
    try forEachRow { i, x in
      let w = weights?[i] ?? 1
      for c in 0..<d {
        let deviation = scaled(x, c) - mean[c]
        variance[c] += w * deviation * deviation
      }
    }
    let scale = (0..<d).map { c -> Double in
      let deviation = PowerOfTwoScaling.scale((variance[c] / total).squareRoot(), by: exponents[c])
      return deviation >= Self.smallestScale && deviation.isFinite ? deviation : 1
    }
    for c in 0..<d { mean[c] = PowerOfTwoScaling.scale(mean[c], by: exponents[c]) }
    self.init(mean: mean, scale: scale)
  }

  /// `1 / scale` per feature: training and prediction compute
  /// `x̃ = (x − mean) · (1/scale)` with it (finite, as every scale is at
  /// least ``smallestScale``).
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
