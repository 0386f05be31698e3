//===--- SparseSoftmaxRegressionObjective+Hessian.swift -------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

extension SparseSoftmaxRegressionObjective {
  /// Provided (``hessianVectorProduct(at:direction:workspace:)``).
  public var providesHessianProducts: Bool { true }

  /// The Hessian of the smooth part at `parameters` times `direction`
  /// (`[V, c]`, the parameters' layout), as
  /// ``SoftmaxRegressionObjective/hessianVectorProduct(at:direction:workspace:)``
  /// defines it, with `x̃ = x/σ` (scaling without centering):
  ///
  ///     H·[V, c] = Σᵢ (sᵢ/Σs)·[r·x̃ᵢᵀ, r] + λ₂·[V, 0],
  ///     r = p ⊙ δz − p·(pᵀδz),  δz = V·x̃ + c.
  ///
  /// Cost: the stored entries' `2·nnz·k` multiply-adds (the direction's
  /// logits, then back through the rows as a gradient's residuals go),
  /// by the gradient's kernels and with its determinism (the same bits
  /// for every thread count). The probabilities `p` come from the last
  /// full evaluation when it was at `parameters` (after the first product
  /// every full evaluation keeps them, `n·k` doubles), or else from a
  /// forward pass made here.
  ///
  /// Accuracy: in `Double` throughout, a few ulps of each component's
  /// `Σ|terms|` (the tests bound it against the dense objective's
  /// reference on the same data).
  ///
  /// - Precondition: `parameters` and `direction` hold `parameterCount`
  ///   values.
  public func hessianVectorProduct(
    at parameters: [Double], direction: [Double], into product: inout [Double],
    workspace: inout Workspace
  ) -> Bool {
    precondition(
      parameters.count == parameterCount && direction.count == parameterCount,
      "\(parameters.count) parameters and \(direction.count) directions; the objective has \(parameterCount)"
    )
    workspace.curvature.isRecording = true
    if workspace.curvature.currentPoint != parameters
      && !workspace.curvature.promote(ifAt: parameters)
    {
      // A forward pass that keeps the probabilities.
      var unused: [Double] = []
      var current: CurvatureCache.Values? = workspace.curvature.takeCurrent()
      _ = withProbabilities(&current) { store in
        evaluate(
          parameters, rows: nil, gradient: &unused, wantGradient: false,
          denominator: weightTotal, workspace: &workspace, probabilities: store)
      }
      workspace.curvature.keepCurrent(current ?? .none, at: parameters)
    }
    var totals = blockSum.begin(
      direction, gradient: &product, wantGradient: true, workspace: &workspace.sums)
    guard case .double(let probabilities) = workspace.curvature.current else {
      preconditionFailure("no probabilities")
    }
    probabilities.withUnsafeBufferPointer { p in
      guard let p = p.baseAddress else { return }
      withKernel { kernel, columnKernel in
        blockSum.addHessianProduct(
          kernel, columns: columnKernel, direction: direction, rowCount: rowCount,
          probabilities: p, totals: &totals, workspace: &workspace.sums)
      }
    }
    _ = blockSum.finish(
      direction, gradient: &product, wantGradient: true, totals: totals,
      denominator: weightTotal, workspace: workspace.sums)
    return true
  }

  /// Calls `body` with room for every row's `k` probabilities in
  /// `values` (made or reused), or with `nil` when `values` is.
  func withProbabilities<R>(
    _ values: inout CurvatureCache.Values?, _ body: (UnsafeMutablePointer<Double>?) -> R
  ) -> R {
    guard var kept = values else { return body(nil) }
    values = nil
    defer { values = kept }
    return kept.withDoubles(count: rowCount * classCount) { body($0) }
  }
}
