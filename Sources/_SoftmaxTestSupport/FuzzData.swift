//===--- FuzzData.swift ---------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

/// The fixed data set the checkpoint fuzz target (Fuzz/Sources) resumes
/// checkpoints on, and its regression tests replay them on: 12 rows of 3
/// features in [-1, 1), labels 0, 1, 2 in turn. A checkpoint's data
/// fingerprint matches only this set, so both must build it the same way.
public func checkpointFuzzData() -> (features: Matrix<Double>, labels: [Int]) {
  var generator = SplitMix64(seed: 5)
  let labels = (0..<12).map { $0 % 3 }
  let features = Matrix<Double>(
    rows: 12, columns: 3,
    elements: (0..<36).map { _ in Double(generator.next(below: 2000)) / 1000 - 1 })
  return (features, labels)
}
