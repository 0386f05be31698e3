//===--- SoftmaxRegressionObjective+Hessian.swift -------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

extension SoftmaxRegressionObjective {
  /// The Hessian of the smooth part at `parameters` (`[W (k × d), b]`)
  /// times `direction` (`[V, c]`, the same layout): for each row, the
  /// direction's change of the logits `δz = V·x̃ + c` goes through the
  /// softmax's Hessian `diag(p) − p·pᵀ` and back,
  ///
  ///     H·[V, c] = Σᵢ (sᵢ/Σs)·[r·x̃ᵢᵀ, r] + λ₂·[V, 0],
  ///     r = p ⊙ δz − p·(pᵀδz),
  ///
  /// the product a trust-region Newton solver (LIBLINEAR's TRON) needs, in
  /// about one gradient's arithmetic.
  ///
  /// Computed in `Double`, row by row in order on one thread (`O(n·d·k)`):
  /// deterministic, a reference for the faster kernels to come, not yet
  /// one of them. Accuracy: the rounding of those sums, checked against
  /// central differences of the gradient in the tests.
  ///
  /// - Precondition: `parameters` and `direction` hold `parameterCount`
  ///   values.
  public func hessianVectorProduct(
    at parameters: [Double], direction: [Double], workspace: inout Workspace
  ) -> [Double]? {
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
