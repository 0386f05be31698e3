//===--- SoftmaxRegressionObjective+Hessian.swift -------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

extension SoftmaxRegressionObjective {
  /// Provided (``hessianVectorProduct(at:direction:workspace:)``).
  public var providesHessianProducts: Bool { true }

  /// Calls `body` with a store for `rows·k` probabilities in `values`
  /// (made or reused, of the kernel's kind), or with `nil` when `values`
  /// is.
  func withProbabilityStore<R>(
    _ values: inout CurvatureCache.Values?, rows: Int,
    _ body: (DenseBlockSum<T>.ProbabilityStore?) -> R
  ) -> R {
    guard var kept = values else { return body(nil) }
    values = nil
    defer { values = kept }
    let count = rows * classCount
    if blockSum.usesFloatKernel {
      return kept.withFloats(count: count) { body(.float($0)) }
    } else {
      return kept.withDoubles(count: count) { body(.double($0)) }
    }
  }

  /// The Hessian of the smooth part at `parameters` (`[W (k × d), b]`)
  /// times `direction` (`[V, c]`, the same layout): for each row, the
  /// direction's change of the logits `δz = V·x̃ + c` goes through the
  /// softmax's Hessian `diag(p) − p·pᵀ` and back,
  ///
  ///     H·[V, c] = Σᵢ (sᵢ/Σs)·[r·x̃ᵢᵀ, r] + λ₂·[V, 0],
  ///     r = p ⊙ δz − p·(pᵀδz),
  ///
  /// the product a trust-region Newton solver (``TrustRegionNewton``)
  /// takes several times at each point.
  ///
  /// Cost: `2·n·d·k` multiply-adds (a forward pass of the direction and a
  /// backward pass), by the same blocked kernels as the gradient and
  /// with its determinism (the same bits for every thread count). The
  /// probabilities `p` at `parameters` come from the workspace: from the
  /// last full evaluation when it was at `parameters` (after the first
  /// product, every full evaluation keeps them, `n·k` values), or else
  /// from a forward pass made here.
  ///
  /// Accuracy: `Double` features, a few ulps of the products' sums;
  /// `Float` features (the SIMD kernel): `p` and `δz` in `Float`, so a
  /// relative error of a few times `d·2⁻²⁴` of `Σ|terms|`, the
  /// inexactness that a truncated Newton method absorbs (its steps are
  /// accepted on the exact objective). The tests bound both against
  /// `referenceHessianVectorProduct(at:direction:)` (internal) and central
  /// differences.
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
    let n = features.rows
    let k = classCount
    let weightCount = k * featureCount
    let blockRows = Self.blockRows
    workspace.curvature.isRecording = true
    if workspace.curvature.currentPoint != parameters
      && !workspace.curvature.promote(ifAt: parameters)
    {
      // A forward pass that keeps the probabilities.
      var unused: [Double] = []
      var current: CurvatureCache.Values? = workspace.curvature.takeCurrent()
      withProbabilityStore(&current, rows: n) { store in
        _ = sumBlocks(
          parameters, blockCount: (n + blockRows - 1) / blockRows, gradient: &unused,
          wantGradient: false, denominator: weightTotal, workspace: &workspace,
          probabilities: store
        ) { block in
          .range((block * blockRows)..<min(n, (block + 1) * blockRows))
        }
      }
      workspace.curvature.keepCurrent(current ?? .none, at: parameters)
    }
    var totals = DenseBlockSum<T>.Totals()
    let current = workspace.curvature.current
    withFeatures { x in
      withStore(current) { store in
        blockSum.addHessianProduct(
          x, direction: direction, probabilities: store, firstRow: 0, rowCount: n,
          product: &product, totals: &totals, workspace: &workspace.blocks)
      }
    }
    let scale = weightTotal > 0 ? 1 / weightTotal : 0
    for index in 0..<(weightCount + k) {
      product[index] = product[index] * scale + (index < weightCount ? l2 * direction[index] : 0)
    }
    return true
  }

  /// Calls `body` with a store over probabilities kept in `values`.
  private func withStore(
    _ values: CurvatureCache.Values, _ body: (DenseBlockSum<T>.ProbabilityStore) -> Void
  ) {
    switch values {
    case .none:
      preconditionFailure("no probabilities")
    case .float(let buffer):
      // Read only (the store's pointer type is shared with the passes
      // that write it).
      buffer.withUnsafeBufferPointer {
        if let p = $0.baseAddress { body(.float(UnsafeMutablePointer(mutating: p))) }
      }
    case .double(let buffer):
      buffer.withUnsafeBufferPointer {
        if let p = $0.baseAddress { body(.double(UnsafeMutablePointer(mutating: p))) }
      }
    }
  }

  /// ``hessianVectorProduct(at:direction:workspace:)`` computed in
  /// `Double`, row by row in order on one thread, with the probabilities
  /// computed on the spot (`O(n·d·k)`): the reference the kernels are
  /// tested against. Accuracy: the rounding of those sums, a few ulps of
  /// `Σ|terms|` per component.
  func referenceHessianVectorProduct(at parameters: [Double], direction: [Double]) -> [Double] {
    let k = classCount
    let d = featureCount
    let weightCount = k * d
    precondition(
      parameters.count == parameterCount && direction.count == parameterCount,
      "\(parameters.count) parameters and \(direction.count) directions; the objective has \(parameterCount)"
    )
    var product = [Double](repeating: 0, count: parameterCount)
    let mean = standardization?.mean
    let inverseScale = standardization?.inverseScale
    let scale = weightTotal > 0 ? 1 / weightTotal : 0
    var x = [Double](repeating: 0, count: d)
    var z = [Double](repeating: 0, count: k)
    var dz = [Double](repeating: 0, count: k)
    features.forEachRowInDouble { i, row in
      let s = rowWeights[i]
      guard s != 0 else { return }
      for c in 0..<d {
        x[c] = mean.map { (row[c] - $0[c]) * (inverseScale?[c] ?? 1) } ?? row[c]
      }
      for j in 0..<k {
        var logit = parameters[weightCount + j]
        var change = direction[weightCount + j]
        let base = j * d
        for c in 0..<d {
          logit += parameters[base + c] * x[c]
          change += direction[base + c] * x[c]
        }
        z[j] = logit
        dz[j] = change
      }
      // p = softmax(z), then r = p ⊙ δz − p·(pᵀδz), weighted.
      var top = -Double.infinity
      for j in 0..<k { top = max(top, z[j]) }
      var sum = 0.0
      for j in 0..<k {
        z[j] = Double.exp(z[j] - top)
        sum += z[j]
      }
      var dot = 0.0
      for j in 0..<k {
        z[j] /= sum
        dot += z[j] * dz[j]
      }
      let weight = s * scale
      for j in 0..<k {
        let r = weight * z[j] * (dz[j] - dot)
        let base = j * d
        for c in 0..<d { product[base + c] += r * x[c] }
        product[weightCount + j] += r
      }
    }
    for index in 0..<weightCount { product[index] += l2 * direction[index] }
    return product
  }
}
