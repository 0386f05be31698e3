//===--- RegressionBlockKernels.swift -------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The fused block of softmax regression, for training (SoftmaxRegression
// calls it; it is package API, not public): for each row of a block,
// the dense layer z = W·x̃ + b, the softmax cross-entropy
// logsumexp(z) − z[y], and its gradient (softmax(z) − onehot(y)) carried
// back through the layer, ∂L/∂W += g·x̃ᵀ, ∂L/∂b += g. This is the training
// form of the math of `DenseLayer` and `crossEntropyWithGradient`, fused
// so that each row is read once; one home for it, here.
//
// Accuracy: the fast form, not the exact one of the public API. z − max
// is rounded once (no 2Sum), exp and log are the library's (Double) or
// the kernels' polynomial (Float). For Double rows every quantity is a
// few ulps of the exact one. For Float rows the logits are accumulated in
// Float (error up to d·2⁻²⁴·Σ|w·x̃|), the exponentials in Float (under 2
// ulps), their sums and the gradient totals in Double: the loss of a row
// is within about (d + 4)·2⁻²⁴·(1 + Σ|w·x̃|) of the Double path's, which
// `FloatKernelTests` checks on random and on real data, with the
// gradient against central differences.

internal import _SoftmaxKernels

/// The rows of one block: a contiguous range (a pass over the data) or the
/// row indices of a minibatch, gathered in place.
package enum BlockRows {
  case range(Range<Int>)
  case indices(UnsafeBufferPointer<Int>)

  /// The number of rows.
  package var count: Int {
    switch self {
    case .range(let range): range.count
    case .indices(let indices): indices.count
    }
  }
}

/// The parameters and data of a block of softmax regression; pointers
/// stay valid for the call. `out` receives `[∂W (k·d), ∂b (k), loss]`
/// added to what it holds: `Σ_r s_r·(softmax(z_r) − onehot(y_r))·x̃_rᵀ`,
/// the same without `x̃`, and `Σ_r s_r·nll_r`.
package struct RegressionBlock<Scalar> {
  /// The whole feature matrix, `n × d` row-major.
  package var x: UnsafePointer<Scalar>
  package var featureCount: Int
  package var classCount: Int
  /// `k × d` weights and `k` biases.
  package var weights: UnsafePointer<Scalar>
  package var bias: UnsafePointer<Scalar>
  /// The standardization `(x − mean)·inverseScale`, or `nil`.
  package var mean: UnsafePointer<Scalar>?
  package var inverseScale: UnsafePointer<Scalar>?
  /// The class of every row of the whole matrix, in `0..<k`.
  package var labels: UnsafePointer<Int>
  /// `s_r` of every row of the whole matrix.
  package var rowWeights: UnsafePointer<Double>

  package init(
    x: UnsafePointer<Scalar>, featureCount: Int, classCount: Int, weights: UnsafePointer<Scalar>,
    bias: UnsafePointer<Scalar>, mean: UnsafePointer<Scalar>?,
    inverseScale: UnsafePointer<Scalar>?, labels: UnsafePointer<Int>,
    rowWeights: UnsafePointer<Double>
  ) {
    self.x = x
    self.featureCount = featureCount
    self.classCount = classCount
    self.weights = weights
    self.bias = bias
    self.mean = mean
    self.inverseScale = inverseScale
    self.labels = labels
    self.rowWeights = rowWeights
  }
}

extension RegressionBlock where Scalar == Float {
  /// Adds the block's sums into `out` (`k·d + k + 1` doubles) with the
  /// SIMD kernel of this CPU's level. `scratch` holds `rows·k` floats.
  ///
  /// - Precondition: labels in `0..<k`; 64-bit `Int` (the kernel reads
  ///   the labels and indices as `Int64`).
  ///
  /// With `probabilities` (a range of rows only), `softmax(z_r)` of each
  /// row goes to `probabilities[(r − first)·k ..< …+k]`: what
  /// ``hessianProduct(_:probabilities:scratch:into:)`` reads.
  package func accumulate(
    _ rows: BlockRows, wantGradient: Bool, probabilities: UnsafeMutablePointer<Float>? = nil,
    scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Double>
  ) {
    precondition(MemoryLayout<Int>.size == 8, "the Float kernel needs a 64-bit Int")
    let d = featureCount
    let k = classCount
    let labels64 = UnsafeRawPointer(labels).assumingMemoryBound(to: Int64.self)
    switch rows {
    case .range(let range):
      let first = range.lowerBound
      sk_regression_block(
        x + first * d, nil, range.count, d, weights, bias, k, mean, inverseScale,
        labels64 + first, rowWeights + first, wantGradient ? 1 : 0, probabilities, scratch, out)
    case .indices(let indices):
      precondition(probabilities == nil, "probabilities of gathered rows")
      let index = indices.baseAddress.map {
        UnsafeRawPointer($0).assumingMemoryBound(to: Int64.self)
      }
      sk_regression_block(
        x, index, indices.count, d, weights, bias, k, mean, inverseScale, labels64, rowWeights,
        wantGradient ? 1 : 0, nil, scratch, out)
    }
  }

  /// Adds the block's part of the Hessian times a direction into `out`
  /// (`k·d + k` doubles): `weights` and `bias` hold the direction
  /// `[V, c]` rounded to Float, `probabilities` the rows' softmax at the
  /// parameters (`rows.count·k`, from ``accumulate(_:wantGradient:probabilities:scratch:into:)``),
  /// and each row adds `r·x̃ᵀ` and `r`, `r = s·(p ⊙ δz − p·(pᵀδz))`,
  /// `δz = V·x̃ + c`. `scratch` holds `rows·k` floats.
  ///
  /// Accuracy: δz in Float (error up to d·2⁻²⁴·Σ|v·x̃|), r in Double
  /// rounded to Float, the sums over each 16-column chunk of the block in
  /// Float, then Double: a relative error of a few times 2⁻²⁴·d per
  /// product, the inexactness a truncated Newton method tolerates.
  package func hessianProduct(
    _ rows: Range<Int>, probabilities: UnsafePointer<Float>,
    scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Double>
  ) {
    let d = featureCount
    let first = rows.lowerBound
    sk_regression_hessian_block(
      x + first * d, rows.count, d, weights, bias, classCount, mean, inverseScale,
      probabilities, rowWeights + first, scratch, out)
  }
}

extension RegressionBlock where Scalar == Double {
  /// Adds the block's sums into `out` (`k·d + k + 1` doubles), in Double
  /// throughout. `scratch` holds `d + k` doubles. With `probabilities` (a
  /// range of rows only), `softmax(z_r)` of each row goes to
  /// `probabilities[(r − first)·k ..< …+k]`.
  package func accumulate(
    _ rows: BlockRows, wantGradient: Bool, probabilities: UnsafeMutablePointer<Double>? = nil,
    scratch: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>
  ) {
    let d = featureCount
    let k = classCount
    let standardized = scratch
    let logits = scratch + d
    let index: UnsafePointer<Int>?
    let first: Int
    switch rows {
    case .range(let range): (index, first) = (nil, range.lowerBound)
    case .indices(let indices): (index, first) = (indices.baseAddress, 0)
    }
    var loss = 0.0
    for r in 0..<rows.count {
      let i = index?[r] ?? first + r
      let weight = rowWeights[i]
      let row = x + i * d
      // x̃ = (x − μ)·(1/σ), the layer's input.
      if let mean, let inverseScale {
        for c in 0..<d { standardized[c] = (row[c] - mean[c]) * inverseScale[c] }
      } else {
        for c in 0..<d { standardized[c] = row[c] }
      }
      // Forward: z = W·x̃ + b.
      for j in 0..<k {
        var z = bias[j]
        let wj = weights + j * d
        for c in 0..<d { z += wj[c] * standardized[c] }
        logits[j] = z
      }
      let label = labels[i]
      let (nll, sum) = softmaxCrossEntropy(logits, count: k, label: label)
      loss += weight * nll
      if let probabilities {
        precondition(index == nil, "probabilities of gathered rows")
        for j in 0..<k { probabilities[r * k + j] = logits[j] / sum }
      }
      guard wantGradient, weight != 0 else { continue }
      // Backward: ∂L/∂z = s·(a − y), then ∂L/∂b += it, ∂L/∂W += it·x̃ᵀ.
      for j in 0..<k {
        let g = weight * (logits[j] / sum - (j == label ? 1 : 0))
        out[k * d + j] += g
        let gw = out + j * d
        for c in 0..<d { gw[c] += g * standardized[c] }
      }
    }
    out[k * d + k] += loss
  }

  /// Adds the block's part of the Hessian times the direction `[V, c]`
  /// (`weights`, `bias`) into `out` (`k·d + k` doubles), in Double
  /// throughout: `r = s·(p ⊙ δz − p·(pᵀδz))`, `δz = V·x̃ + c`, adds
  /// `r·x̃ᵀ` and `r`. `probabilities` holds the rows' softmax at the
  /// parameters (`rows.count·k`); `scratch` holds `d + k` doubles.
  package func hessianProduct(
    _ rows: Range<Int>, probabilities: UnsafePointer<Double>,
    scratch: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>
  ) {
    let d = featureCount
    let k = classCount
    let standardized = scratch
    let change = scratch + d
    for (r, i) in rows.enumerated() {
      let row = x + i * d
      if let mean, let inverseScale {
        for c in 0..<d { standardized[c] = (row[c] - mean[c]) * inverseScale[c] }
      } else {
        for c in 0..<d { standardized[c] = row[c] }
      }
      let p = probabilities + r * k
      var dot = 0.0
      for j in 0..<k {
        var z = bias[j]
        let vj = weights + j * d
        for c in 0..<d { z += vj[c] * standardized[c] }
        change[j] = z
        dot += p[j] * z
      }
      let weight = rowWeights[i]
      for j in 0..<k {
        let g = weight * p[j] * (change[j] - dot)
        out[k * d + j] += g
        let gw = out + j * d
        for c in 0..<d { gw[c] += g * standardized[c] }
      }
    }
  }
}

/// The softmax cross-entropy of one row of `k` logits, in `Double`, as
/// training computes it: `nll = log Σⱼ e^(zⱼ − m) − (z_y − m)` with
/// `m = max z`, and the logits replaced by `e^(zⱼ − m)`, whose sum (at
/// least 1) is returned with it, so that `softmax(z)ⱼ = zⱼ' / sum` and
/// the gradient `∂nll/∂zⱼ = zⱼ' / sum − [j = y]`. Every training path
/// (dense and sparse rows) computes the loss of a row here.
///
/// Accuracy: `z − m` rounded once, `exp` and `log` of the platform: a few
/// ulps of the exact value, but near 0 where `log(sum)` cancels
/// `z_y − m` (a confident right answer), whose absolute error is about
/// 2⁻⁵³·|z_y − m|.
@inline(__always)
package func softmaxCrossEntropy(
  _ logits: UnsafeMutablePointer<Double>, count k: Int, label: Int
) -> (nll: Double, sum: Double) {
  var top = -Double.infinity
  for j in 0..<k { top = max(top, logits[j]) }
  let zLabel = logits[label]
  var sum = 0.0
  for j in 0..<k {
    logits[j] = Double.exp(logits[j] - top)
    sum += logits[j]
  }
  // The sum is at least 1 (the maximum's term).
  return (Double.log(sum) - (zLabel - top), sum)
}

/// Sets the bytes of X per part in which the Float kernels take a block's
/// rows (`nil`: the default, 192 KiB; at least four rows a part); returns
/// the setting it replaced. Parts change the time, never the bits: each
/// 16-column sum of the backward pass is carried from part to part in the
/// same row order. For tests, which check exactly that.
@discardableResult
package func setRegressionPartBytes(_ bytes: Int?) -> Int? {
  let previous = regressionPartBytes
  regressionPartBytes = bytes
  sk_set_regression_part_bytes(bytes ?? 0)
  return previous
}

/// The current ``setRegressionPartBytes(_:)`` setting.
nonisolated(unsafe) private var regressionPartBytes: Int? = nil
