//===--- SparseRegressionKernels.swift ------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// Softmax regression on sparse rows, for training (SoftmaxRegression calls
// it; package API): the forward pass of a row — the dense layer over the
// row's stored entries, then `softmaxCrossEntropy` — leaves the row's
// residual `s·(softmax(z) − onehot(y))`, and the backward pass adds
// `residual·x` into the gradient of the columns the row touches.
//
// The weights are read column-major (`k` weights of a column side by side,
// `weightsByColumn[c·k + j] = w_jc`), so that each stored entry reads and
// writes `k` consecutive values. Everything is in `Double`; `Float` values
// convert exactly.
//
// The backward pass takes a range of columns: the caller splits the
// columns among threads, and each gradient value is summed over the rows
// in their order whatever the split, so the result is bitwise the same for
// every thread count.

/// The rows of a sparse softmax-regression problem; pointers stay valid
/// for the calls.
///
/// Not generic: the values are `Float` or `Double`, told apart once per
/// row (a generic kernel called from another module runs unspecialized,
/// its conversions costing more than the arithmetic).
package struct SparseRegressionRows {
  /// The stored values of a matrix.
  package enum Values {
    case float(UnsafePointer<Float>)
    case double(UnsafePointer<Double>)
  }

  /// CSR arrays of the whole matrix.
  package var rowOffsets: UnsafePointer<Int>
  package var columnIndices: UnsafePointer<Int32>
  package var values: Values
  /// `k`.
  package var classCount: Int
  /// The class of every row, in `0..<k`.
  package var labels: UnsafePointer<Int>
  /// `s_r` of every row.
  package var rowWeights: UnsafePointer<Double>

  package init(
    rowOffsets: UnsafePointer<Int>, columnIndices: UnsafePointer<Int32>,
    values: Values, classCount: Int, labels: UnsafePointer<Int>,
    rowWeights: UnsafePointer<Double>
  ) {
    self.rowOffsets = rowOffsets
    self.columnIndices = columnIndices
    self.values = values
    self.classCount = classCount
    self.labels = labels
    self.rowWeights = rowWeights
  }

  /// The forward pass of row `row`: `z = b + Σ_e w_{·c_e}·x_e`, its
  /// weighted loss `s·nll` (returned), and in `residual` (`k` doubles)
  /// `s·(softmax(z) − onehot(y))` when `wantResidual` (else the
  /// exponentials).
  ///
  /// - Parameters:
  ///   - weightsByColumn: `d × k`, column-major weights.
  ///   - bias: `k` biases.
  package func forward(
    row: Int, weightsByColumn: UnsafePointer<Double>, bias: UnsafePointer<Double>,
    residual: UnsafeMutablePointer<Double>, wantResidual: Bool
  ) -> Double {
    let k = classCount
    for j in 0..<k { residual[j] = bias[j] }
    let entries = rowOffsets[row]..<rowOffsets[row + 1]
    switch values {
    case .float(let values):
      forwardEntries(entries, values, weightsByColumn, residual) { Double($0) }
    case .double(let values):
      forwardEntries(entries, values, weightsByColumn, residual) { $0 }
    }
    let label = labels[row]
    let weight = rowWeights[row]
    let (nll, sum) = softmaxCrossEntropy(residual, count: k, label: label)
    if wantResidual {
      // As the dense block computes it.
      for j in 0..<k { residual[j] = weight * (residual[j] / sum - (j == label ? 1 : 0)) }
    }
    return weight * nll
  }

  /// The backward pass of row `row` over the columns in `columns`: adds
  /// `residual·x_e` to the `k` gradient values of each such entry's
  /// column in `gradientByColumn` (`d × k`, column-major).
  package func backward(
    row: Int, residual: UnsafePointer<Double>, columns: Range<Int>,
    into gradientByColumn: UnsafeMutablePointer<Double>
  ) {
    var entry = rowOffsets[row]
    var end = rowOffsets[row + 1]
    // The row's entries in `columns`: its columns are increasing.
    if columns.lowerBound > 0 {
      var high = end
      while entry < high {
        let middle = (entry + high) / 2
        if Int(columnIndices[middle]) < columns.lowerBound {
          entry = middle + 1
        } else {
          high = middle
        }
      }
    }
    if columns.upperBound <= Int(Int32.max) {
      var low = entry
      while low < end {
        let middle = (low + end) / 2
        if Int(columnIndices[middle]) < columns.upperBound {
          low = middle + 1
        } else {
          end = middle
        }
      }
    }
    switch values {
    case .float(let values):
      backwardEntries(entry..<end, values, residual, gradientByColumn) { Double($0) }
    case .double(let values):
      backwardEntries(entry..<end, values, residual, gradientByColumn) { $0 }
    }
  }

  /// `residual += Σ_e w_{·c_e}·x_e` over `entries`, each class's sum in
  /// entry order. Classes go four (then two, then one) at a time, their
  /// sums in registers over the row's entries: through the pointer, every
  /// addition would be a store and a load (it may alias the weights).
  @inline(__always)
  private func forwardEntries<V>(
    _ entries: Range<Int>, _ values: UnsafePointer<V>, _ weightsByColumn: UnsafePointer<Double>,
    _ residual: UnsafeMutablePointer<Double>, _ toDouble: (V) -> Double
  ) {
    let k = classCount
    var j = 0
    while k - j >= 4 {
      var a0 = residual[j]
      var a1 = residual[j + 1]
      var a2 = residual[j + 2]
      var a3 = residual[j + 3]
      for entry in entries {
        let x = toDouble(values[entry])
        let w = weightsByColumn + Int(columnIndices[entry]) * k + j
        a0 += w[0] * x
        a1 += w[1] * x
        a2 += w[2] * x
        a3 += w[3] * x
      }
      residual[j] = a0
      residual[j + 1] = a1
      residual[j + 2] = a2
      residual[j + 3] = a3
      j += 4
    }
    if k - j >= 2 {
      var a0 = residual[j]
      var a1 = residual[j + 1]
      for entry in entries {
        let x = toDouble(values[entry])
        let w = weightsByColumn + Int(columnIndices[entry]) * k + j
        a0 += w[0] * x
        a1 += w[1] * x
      }
      residual[j] = a0
      residual[j + 1] = a1
      j += 2
    }
    if k - j == 1 {
      var a0 = residual[j]
      for entry in entries {
        a0 += weightsByColumn[Int(columnIndices[entry]) * k + j] * toDouble(values[entry])
      }
      residual[j] = a0
    }
  }

  /// `g_{·c_e} += residual·x_e` over `entries`, classes four (then two,
  /// then one) at a time with their residuals in registers.
  @inline(__always)
  private func backwardEntries<V>(
    _ entries: Range<Int>, _ values: UnsafePointer<V>, _ residual: UnsafePointer<Double>,
    _ gradientByColumn: UnsafeMutablePointer<Double>, _ toDouble: (V) -> Double
  ) {
    let k = classCount
    var j = 0
    while k - j >= 4 {
      let r0 = residual[j]
      let r1 = residual[j + 1]
      let r2 = residual[j + 2]
      let r3 = residual[j + 3]
      for entry in entries {
        let x = toDouble(values[entry])
        let g = gradientByColumn + Int(columnIndices[entry]) * k + j
        g[0] += r0 * x
        g[1] += r1 * x
        g[2] += r2 * x
        g[3] += r3 * x
      }
      j += 4
    }
    if k - j >= 2 {
      let r0 = residual[j]
      let r1 = residual[j + 1]
      for entry in entries {
        let x = toDouble(values[entry])
        let g = gradientByColumn + Int(columnIndices[entry]) * k + j
        g[0] += r0 * x
        g[1] += r1 * x
      }
      j += 2
    }
    if k - j == 1 {
      let r0 = residual[j]
      for entry in entries {
        gradientByColumn[Int(columnIndices[entry]) * k + j] += r0 * toDouble(values[entry])
      }
    }
  }
}
