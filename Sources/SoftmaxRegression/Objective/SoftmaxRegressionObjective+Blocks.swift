//===--- SoftmaxRegressionObjective+Blocks.swift --------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

// Every evaluation goes through `DenseBlockSum`: blocks of rows computed in
// parallel by SoftmaxCore's fused kernel, added to the totals in block
// order.

extension SoftmaxRegressionObjective {
  /// The sums over blocks of listed rows (``minibatchBlockRows`` each),
  /// divided by their sample-weight sum (their count without sample
  /// weights).
  func sumBlocks(
    rows: [Int], _ parameters: [Double], gradient: inout [Double], wantGradient: Bool,
    workspace: inout Workspace
  ) -> (data: Double, penalty: Double) {
    let n = features.rows
    precondition(!rows.isEmpty, "no rows")
    precondition(rows.allSatisfy { $0 >= 0 && $0 < n }, "a row is out of 0..<\(n)")
    var denominator = Double(rows.count)
    if let sampleWeights {
      denominator = 0
      for row in rows { denominator += sampleWeights[row] }
    }
    let blockRows = Self.minibatchBlockRows
    let blocks = (rows.count + blockRows - 1) / blockRows
    return rows.withUnsafeBufferPointer { indices in
      sumBlocks(
        parameters, blockCount: blocks, gradient: &gradient, wantGradient: wantGradient,
        denominator: denominator, workspace: &workspace
      ) { block in
        let begin = block * blockRows
        let end = min(indices.count, begin + blockRows)
        return .indices(UnsafeBufferPointer(rebasing: indices[begin..<end]))
      }
    }
  }

  /// Sums the blocks `rows(0)…rows(blockCount − 1)` of the whole matrix
  /// with ``DenseBlockSum``: returns `loss / denominator` and
  /// `(λ₂/2)·‖W‖²`, and the gradient of their sum. Memory: one wave of
  /// partial sums, whatever the row count; the result is bitwise the same
  /// for every thread count.
  ///
  /// With `probabilities` (a full pass in row order), each row's softmax
  /// probabilities go there.
  func sumBlocks(
    _ parameters: [Double], blockCount: Int, gradient: inout [Double], wantGradient: Bool,
    denominator: Double, workspace: inout Workspace,
    probabilities: DenseBlockSum<T>.ProbabilityStore? = nil, rows: (Int) -> BlockRows
  ) -> (data: Double, penalty: Double) {
    blockSum.begin(
      parameters, gradient: &gradient, wantGradient: wantGradient, workspace: &workspace.blocks)
    var totals = DenseBlockSum<T>.Totals()
    withFeatures { x in
      blockSum.add(
        x, parameters: parameters, firstRow: 0, blockCount: blockCount, gradient: &gradient,
        wantGradient: wantGradient, totals: &totals, workspace: &workspace.blocks, rows: rows,
        probabilities: probabilities)
    }
    return blockSum.finish(
      parameters, gradient: &gradient, wantGradient: wantGradient, totals: totals,
      denominator: denominator)
  }

  /// Calls `body` with the features as the kernel reads them: the matrix's
  /// Floats, or the Doubles made when the objective was.
  func withFeatures(_ body: (DenseBlockSum<T>.Features) -> Void) {
    if blockSum.usesFloatKernel {
      features.elements.withUnsafeBytes { raw in
        if let x = raw.baseAddress?.assumingMemoryBound(to: Float.self) { body(.float(x)) }
      }
    } else {
      doubleFeatures.withUnsafeBufferPointer { x in
        if let x = x.baseAddress { body(.double(x)) }
      }
    }
  }
}
