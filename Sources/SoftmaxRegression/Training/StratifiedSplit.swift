//===--- StratifiedSplit.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// Splits rows in two keeping each class's share, as scikit-learn's
/// `train_test_split(..., stratify=y)`.
public enum StratifiedSplit {
  /// Holds out `round(fraction · count)` rows of every class (half to
  /// even; at least one row in all), picked by a Fisher-Yates shuffle
  /// from `generator`; the same generator state gives the same split on
  /// every platform.
  ///
  /// - Parameters:
  ///   - labels: class indices in `0..<classCount`.
  ///   - classCount: the number of classes.
  ///   - fraction: in (0, 1).
  ///   - generator: the random source of the shuffle.
  /// - Returns: the kept and held-out row indices, each ascending.
  ///   The kept part is empty when `fraction` takes every row.
  /// - Throws: ``TrainingError`` (`.invalidOption`) for a fraction outside
  ///   (0, 1) or a class count below 1, (`.labelOutOfRange`) for a label
  ///   outside `0..<classCount`.
  /// - Complexity: O(n).
  public static func split(
    labels: [Int], classCount: Int, fraction: Double, using generator: inout SplitMix64
  ) throws(TrainingError) -> (kept: [Int], heldOut: [Int]) {
    guard fraction > 0, fraction < 1 else {
      throw TrainingError(
        .invalidOption, "the fraction to hold out, \(fraction), must be in (0, 1)")
    }
    guard classCount >= 1 else { throw TrainingError(.invalidOption, "no classes") }
    if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
      throw TrainingError(
        .labelOutOfRange, "row \(bad): label \(labels[bad]) is not in 0..<\(classCount)")
    }
    let n = labels.count
    var shuffled = Array(0..<n)
    generator.shuffle(&shuffled)
    var classCounts = [Int](repeating: 0, count: classCount)
    for label in labels { classCounts[label] += 1 }
    var quota = classCounts.map { Int((fraction * Double($0)).rounded(.toNearestOrEven)) }
    if quota.allSatisfy({ $0 == 0 }), let first = shuffled.first {
      quota[labels[first]] = 1
    }
    var heldOut = [Bool](repeating: false, count: n)
    for row in shuffled where quota[labels[row]] > 0 {
      quota[labels[row]] -= 1
      heldOut[row] = true
    }
    return ((0..<n).filter { !heldOut[$0] }, (0..<n).filter { heldOut[$0] })
  }
}
