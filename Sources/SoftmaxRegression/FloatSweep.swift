//===--- FloatSweep.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import _SoftmaxKernels

/// The `Float` parameters of one objective evaluation, for the vectorized
/// block kernel `sk_regression_block` (see `SoftmaxKernels.h`).
struct FloatSweep {
  private(set) var weights: [Float]
  private(set) var bias: [Float]
  let mean: [Float]?
  let inverseScale: [Float]?
  let classCount: Int
  let featureCount: Int

  init(classCount: Int, featureCount: Int, standardization: Standardization?) {
    self.weights = [Float](repeating: 0, count: classCount * featureCount)
    self.bias = [Float](repeating: 0, count: classCount)
    self.mean = standardization.map { $0.mean.map { Float($0) } }
    self.inverseScale = standardization.map { $0.inverseScale.map { Float($0) } }
    self.classCount = classCount
    self.featureCount = featureCount
  }

  /// Whether the kernel can use `standardization`: every mean and every
  /// reciprocal scale is a finite `Float`, and no reciprocal rounds to 0
  /// (a scale below 1e-38 has a reciprocal beyond `Float`).
  static func represents(_ standardization: Standardization) -> Bool {
    standardization.mean.allSatisfy { Float($0).isFinite }
      && standardization.inverseScale.allSatisfy { Float($0).isFinite && Float($0) != 0 }
  }

  /// Rounds `[W, b]` (flattened as the objective's parameters) into the
  /// Float weights and biases, in place.
  mutating func load(_ parameters: [Double]) {
    let weightCount = classCount * featureCount
    parameters.withUnsafeBufferPointer { p in
      weights.withUnsafeMutableBufferPointer { w in
        for i in 0..<weightCount { w[i] = Float(p[i]) }
      }
      bias.withUnsafeMutableBufferPointer { b in
        for j in 0..<classCount { b[j] = Float(p[weightCount + j]) }
      }
    }
  }

  /// Adds the block's `[Gᵀ·X̃ (k·d), Gᵀ·1 (k), loss]` into `out`: the rows
  /// of `block` of the matrix at `x` (all of it, row stride d).
  func sweep(
    x: UnsafePointer<Float>, block: BlockRows, labels: [Int], rowWeights: [Double],
    wantGradient: Bool, into out: UnsafeMutableBufferPointer<Double>
  ) {
    let k = classCount
    let d = featureCount
    let rows = block.count
    withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, rows * k)) { scratch in
      labels.withUnsafeBufferPointer { labelBuffer in
        rowWeights.withUnsafeBufferPointer { weightBuffer in
          weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
              withOptionalPointer(mean) { meanPointer in
                withOptionalPointer(inverseScale) { scalePointer in
                  guard let labelBase = labelBuffer.baseAddress,
                    let weightBase = weightBuffer.baseAddress
                  else { return }
                  // The kernel reads Int as Int64 (checked by the objective).
                  let allLabels = UnsafeRawPointer(labelBase).assumingMemoryBound(to: Int64.self)
                  switch block {
                  case .range(let range):
                    let first = range.lowerBound
                    sk_regression_block(
                      x + first * d, nil, rows, d, w.baseAddress, b.baseAddress, k, meanPointer,
                      scalePointer, allLabels + first, weightBase + first, wantGradient ? 1 : 0,
                      scratch.baseAddress, out.baseAddress)
                  case .indices(let indices):
                    let index = indices.baseAddress.map {
                      UnsafeRawPointer($0).assumingMemoryBound(to: Int64.self)
                    }
                    sk_regression_block(
                      x, index, rows, d, w.baseAddress, b.baseAddress, k, meanPointer,
                      scalePointer, allLabels, weightBase, wantGradient ? 1 : 0,
                      scratch.baseAddress, out.baseAddress)
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// The rows of one block of a sweep: a contiguous range (a pass over the
/// data) or the row indices of a minibatch.
enum BlockRows {
  case range(Range<Int>)
  case indices(UnsafeBufferPointer<Int>)

  var count: Int {
    switch self {
    case .range(let range): range.count
    case .indices(let indices): indices.count
    }
  }
}

private func withOptionalPointer<R>(
  _ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R
) -> R {
  guard let array else { return body(nil) }
  return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
