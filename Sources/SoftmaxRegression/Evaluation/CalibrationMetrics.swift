//===--- CalibrationMetrics.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// One bin of a reliability diagram: the rows whose confidence (the
/// probability of the predicted class) fell in `[lower, upper)` (the last
/// bin includes 1).
public struct ReliabilityBin: Sendable, Hashable, Codable {
  /// The bin's lower edge.
  public var lower: Double
  /// The bin's upper edge.
  public var upper: Double
  /// Rows in the bin.
  public var count: Int
  /// Their mean confidence (0 for an empty bin).
  public var meanConfidence: Double
  /// The fraction of them predicted correctly (0 for an empty bin).
  public var accuracy: Double
}

/// How well probabilities match outcomes: the Brier score and the
/// expected calibration error of the predicted class, with the bins of
/// its reliability diagram.
public struct CalibrationMetrics: Sendable, Hashable, Codable {
  /// The mean over rows of `Σⱼ (pⱼ − yⱼ)²` (`y` one-hot), in `[0, 2]`:
  /// scikit-learn's multiclass `brier_score_loss` (for two classes its
  /// default halves it).
  public var brierScore: Double
  /// `Σ_b (n_b/n)·|accuracy_b − confidence_b|` over ``bins`` (equal width
  /// on `[0, 1]`, by the predicted class's probability: Guo et al.'s
  /// top-label ECE), in `[0, 1]`.
  public var expectedCalibrationError: Double
  /// The equal-width bins, lowest first.
  public var bins: [ReliabilityBin]

  /// Sums the calibration metrics over blocks of rows.
  struct Accumulator {
    let binCount: Int
    var brier = 0.0
    var counts: [Int]
    var confidence: [Double]
    var correct: [Int]

    /// - Precondition: `binCount ≥ 1`.
    init(binCount: Int) {
      precondition(binCount >= 1, "at least one bin")
      self.binCount = binCount
      counts = [Int](repeating: 0, count: binCount)
      confidence = [Double](repeating: 0, count: binCount)
      correct = [Int](repeating: 0, count: binCount)
    }

    /// Adds one row given by its log-probabilities, its prediction and
    /// its (valid) label.
    mutating func add(logProbabilities row: [Double], predicted: Int, label: Int) {
      var squares = 0.0
      for (j, logP) in row.enumerated() {
        let difference = Double.exp(logP) - (j == label ? 1 : 0)
        squares += difference * difference
      }
      brier += squares
      let top = Double.exp(row[predicted])
      let bin = min(binCount - 1, Int(top * Double(binCount)))
      counts[bin] += 1
      confidence[bin] += top
      if predicted == label { correct[bin] += 1 }
    }

    /// The metrics of `n` rows added.
    func metrics(rows n: Int) -> CalibrationMetrics {
      var bins: [ReliabilityBin] = []
      var error = 0.0
      for b in 0..<binCount {
        let count = counts[b]
        let meanConfidence = count > 0 ? confidence[b] / Double(count) : 0
        let accuracy = count > 0 ? Double(correct[b]) / Double(count) : 0
        error += Double(count) / Double(n) * abs(accuracy - meanConfidence)
        bins.append(
          ReliabilityBin(
            lower: Double(b) / Double(binCount), upper: Double(b + 1) / Double(binCount),
            count: count, meanConfidence: meanConfidence, accuracy: accuracy))
      }
      return CalibrationMetrics(
        brierScore: brier / Double(n), expectedCalibrationError: error, bins: bins)
    }
  }
}
