//===--- WeightedRows.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// The labels and weights of the rows of a softmax-regression objective,
/// checked: what every feature layout (dense, sparse) shares.
///
/// `rowWeights[i] = sᵢ·c_yᵢ` (sample weight times class weight) and
/// `weightTotal = Σᵢ sᵢ`, the denominator of the weighted mean.
struct WeightedRows: Sendable {
  /// The class of each row, in `0..<classCount`.
  var labels: [Int]
  /// `k`.
  var classCount: Int
  /// `sᵢ·c_yᵢ` for each row.
  var rowWeights: [Double]
  /// `Σᵢ sᵢ`.
  var weightTotal: Double
  /// `sᵢ` (scaled by a power of two if their sum would not be finite), or
  /// `nil` when every row weighs 1.
  var sampleWeights: [Double]?

  /// Checks labels, weights and the penalties' strengths for `n` rows.
  ///
  /// - Throws: ``TrainingError`` naming the first bad value: no rows, a
  ///   label count other than `n`, a label out of range, λ₁ or λ₂ negative
  ///   or not finite, a bad sample or class weight, class weights whose
  ///   weighted loss overflows.
  init(
    rows n: Int, labels: [Int], classCount: Int, sampleWeights: [Double]?,
    classWeights: [Double]?, l2: Double, l1: Double
  ) throws(TrainingError) {
    guard n > 0 else { throw TrainingError(.emptyData, "the data set has no rows") }
    guard labels.count == n else {
      throw TrainingError(.shapeMismatch, "\(labels.count) labels for \(n) rows")
    }
    guard classCount >= 1 else { throw TrainingError(.shapeMismatch, "no classes") }
    if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
      throw TrainingError(
        .labelOutOfRange, "row \(bad): label \(labels[bad]) is not in 0..<\(classCount)",
        location: ErrorLocation(row: bad))
    }
    try Self.checkPenalties(l2: l2, l1: l1)
    let weights = try Self.validatedSampleWeights(sampleWeights, rows: n)
    var sample = weights ?? [Double](repeating: 1, count: n)
    let total = sample.reduce(0, +)
    if let classWeights {
      guard classWeights.count == classCount else {
        throw TrainingError(
          .shapeMismatch, "\(classWeights.count) class weights for \(classCount) classes")
      }
      if let bad = classWeights.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
        throw TrainingError(
          .invalidWeight, "class weight \(classWeights[bad]) of class \(bad) must be finite and ≥ 0"
        )
      }
      for i in 0..<n { sample[i] *= classWeights[labels[i]] }
      // The loss at W = 0 is Σ wᵢ·log k / Σ sᵢ: it must be finite.
      let weighted = sample.reduce(0, +) / total
      guard weighted.isFinite, (weighted * Double.log(Double(max(classCount, 2)))).isFinite
      else {
        throw TrainingError(
          .outOfRange,
          "the class weights (largest \(classWeights.max() ?? 0)) make the weighted loss overflow a Double: use smaller class weights"
        )
      }
    }
    self.labels = labels
    self.classCount = classCount
    self.rowWeights = sample
    self.weightTotal = total
    self.sampleWeights = weights
  }

  /// Throws unless λ₂ and λ₁ are finite and ≥ 0.
  static func checkPenalties(l2: Double, l1: Double) throws(TrainingError) {
    guard l2 >= 0, l2.isFinite else {
      throw TrainingError(.invalidOption, "l2 = \(l2) must be ≥ 0")
    }
    guard l1 >= 0, l1.isFinite else {
      throw TrainingError(.invalidOption, "l1 = \(l1) must be ≥ 0")
    }
  }

  /// Sample weights checked (one per row, finite, ≥ 0, a positive sum) and
  /// scaled by a power of two when their sum would overflow or underflow;
  /// `nil` stays `nil`.
  static func validatedSampleWeights(_ weights: [Double]?, rows n: Int) throws(TrainingError)
    -> [Double]?
  {
    guard let weights else { return nil }
    guard weights.count == n else {
      throw TrainingError(.shapeMismatch, "\(weights.count) sample weights for \(n) rows")
    }
    if let bad = weights.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
      throw TrainingError(
        .invalidWeight, "sample weight \(weights[bad]) of row \(bad) must be finite and ≥ 0")
    }
    let normalized = PowerOfTwoScaling.normalized(weights)
    guard normalized.reduce(0, +) > 0 else {
      throw TrainingError(.invalidWeight, "the sample weights sum to 0")
    }
    return normalized
  }

  /// Throws unless `vectors` vectors of `k·(d + 1)` parameters, in
  /// `Double`, take at most half of `SoftmaxConfiguration.memoryLimit`
  /// (the other half for the data).
  static func checkMemory(classCount k: Int, featureCount d: Int, vectors: Int)
    throws(TrainingError)
  {
    let (columns, overflow1) = d.addingReportingOverflow(1)
    let (parameters, overflow2) = k.multipliedReportingOverflow(by: columns)
    let (bytes, overflow3) = parameters.multipliedReportingOverflow(by: 8 * vectors)
    let limit = SoftmaxConfiguration.memoryLimit
    guard overflow1 || overflow2 || overflow3 || bytes > limit / 2 else { return }
    let size = overflow1 || overflow2 || overflow3 ? "more than 2^63 bytes" : byteText(bytes)
    throw TrainingError(
      .insufficientMemory,
      "\(k) classes × \(d + 1) weights per class (features and bias) need \(size) of memory to train, "
        + "more than half of the \(byteText(limit)) available")
  }
}

/// `(λ₂/2)·‖W‖²` over the first `weightCount` parameters from their
/// `Σ w²` (`sumOfSquares`): 0 when λ₂ = 0, and, when the sum overflows,
/// `Σ (√λ₂·w)² / 2`, which does not (the true penalty of huge weights and
/// a tiny λ₂ is finite); never NaN.
func l2Penalty(_ parameters: [Double], weightCount: Int, l2: Double, sumOfSquares: Double)
  -> Double
{
  guard l2 > 0 else { return 0 }
  let penalty = 0.5 * l2 * sumOfSquares
  guard !penalty.isFinite || penalty == 0 && sumOfSquares > 0 else { return penalty }
  let root = l2.squareRoot()
  var scaled = 0.0
  for index in 0..<weightCount {
    let v = root * parameters[index]
    scaled += v * v
  }
  return 0.5 * scaled
}
