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

internal import _SoftmaxKernels

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

  /// How many entries ahead the weight (or gradient) columns are
  /// prefetched when `k > 4`.
  static var prefetchDistance: Int { 16 }

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
  /// exponentials); with `probabilities`, `softmax(z)` there (`k`
  /// doubles).
  ///
  /// - Parameters:
  ///   - weightsByColumn: `d × k`, column-major weights.
  ///   - bias: `k` biases.
  package func forward(
    row: Int, weightsByColumn: UnsafePointer<Double>, bias: UnsafePointer<Double>,
    residual: UnsafeMutablePointer<Double>, wantResidual: Bool,
    probabilities: UnsafeMutablePointer<Double>? = nil
  ) -> Double {
    let k = classCount
    logits(row: row, weightsByColumn: weightsByColumn, bias: bias, into: residual)
    let label = labels[row]
    let weight = rowWeights[row]
    let (nll, sum) = softmaxCrossEntropy(residual, count: k, label: label)
    if let probabilities {
      for j in 0..<k { probabilities[j] = residual[j] / sum }
    }
    if wantResidual {
      // As the dense block computes it.
      for j in 0..<k { residual[j] = weight * (residual[j] / sum - (j == label ? 1 : 0)) }
    }
    return weight * nll
  }

  /// `z = b + Σ_e w_{·c_e}·x_e` of row `row` into `z` (`k` doubles), each
  /// class's sum in entry order: the logits of ``forward(row:weightsByColumn:bias:residual:wantResidual:probabilities:)``,
  /// or a direction's change of them (Hessian products).
  package func logits(
    row: Int, weightsByColumn: UnsafePointer<Double>, bias: UnsafePointer<Double>,
    into z: UnsafeMutablePointer<Double>
  ) {
    for j in 0..<classCount { z[j] = bias[j] }
    let entries = rowOffsets[row]..<rowOffsets[row + 1]
    switch values {
    case .float(let values):
      forwardEntries(entries, values, weightsByColumn, z) { Double($0) }
    case .double(let values):
      forwardEntries(entries, values, weightsByColumn, z) { $0 }
    }
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

  /// Calls `body(c·k, x)` for each entry of `entries` in order (`c` its
  /// column, `x` its value), with the `k` values of the column 16 entries
  /// ahead in `base` prefetched (for reading, or for writing).
  @inline(__always)
  private func forEachEntry<V>(
    _ entries: Range<Int>, _ values: UnsafePointer<V>, prefetching base: UnsafePointer<Double>,
    write: Bool, _ toDouble: (V) -> Double, _ body: (_ column: Int, _ x: Double) -> Void
  ) {
    let k = classCount
    let ahead = Self.prefetchDistance
    for entry in entries {
      if entry + ahead < entries.upperBound {
        prefetchColumn(base + Int(columnIndices[entry + ahead]) * k, count: k, write: write)
      }
      body(Int(columnIndices[entry]) * k, toDouble(values[entry]))
    }
  }

  /// `residual += Σ_e w_{·c_e}·x_e` over `entries`, each class's sum in
  /// entry order (the same bits whichever way the classes are grouped).
  ///
  /// Up to four classes, their sums stay in registers over the row's
  /// entries. Beyond, an entry's `k` weights are read together, eight
  /// classes at a time into the sums in `residual` (which stay in the L1
  /// cache): the weights' cache lines are requested at once, where a pass
  /// over the entries for every four classes waited on each line in turn
  /// (20 Newsgroups, k = 20: the forward pass took about 3× as long).
  @inline(__always)
  private func forwardEntries<V>(
    _ entries: Range<Int>, _ values: UnsafePointer<V>, _ weightsByColumn: UnsafePointer<Double>,
    _ residual: UnsafeMutablePointer<Double>, _ toDouble: (V) -> Double
  ) {
    let k = classCount
    if k > 4 {
      forEachEntry(entries, values, prefetching: weightsByColumn, write: false, toDouble) {
        column, x in
        addScaled(weightsByColumn + column, x, into: residual, count: k)
      }
      return
    }
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

  /// `g_{·c_e} += residual·x_e` over `entries`: up to four classes with
  /// their residuals in registers, classes four (then two, then one) at a
  /// time; beyond, each entry's `k` gradient values together (as the
  /// forward pass reads the weights).
  @inline(__always)
  private func backwardEntries<V>(
    _ entries: Range<Int>, _ values: UnsafePointer<V>, _ residual: UnsafePointer<Double>,
    _ gradientByColumn: UnsafeMutablePointer<Double>, _ toDouble: (V) -> Double
  ) {
    let k = classCount
    if k > 4 {
      forEachEntry(entries, values, prefetching: gradientByColumn, write: true, toDouble) {
        column, x in
        addScaled(residual, x, into: gradientByColumn + column, count: k)
      }
      return
    }
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

/// Prefetches the cache lines of `count` doubles from `start`.
@inline(__always)
private func prefetchColumn(_ start: UnsafePointer<Double>, count: Int, write: Bool) {
  let first = Int(bitPattern: start) & ~63
  let last = Int(bitPattern: start + count - 1) & ~63
  var line = first
  while line <= last {
    if let address = UnsafeRawPointer(bitPattern: line) {
      if write { sk_prefetch_for_write(address) } else { sk_prefetch(address) }
    }
    line += 64
  }
}

/// `sum[j] += a[j]·x` for `j < count` (each a product then a sum, as the
/// scalar loop: the same bits), eight values at a time.
@inline(__always)
private func addScaled(
  _ a: UnsafePointer<Double>, _ x: Double, into sum: UnsafeMutablePointer<Double>, count: Int
) {
  let source = UnsafeRawPointer(a)
  let target = UnsafeMutableRawPointer(sum)
  let x8 = SIMD8<Double>(repeating: x)
  var j = 0
  while count - j >= 8 {
    let offset = j * 8
    let product = source.loadUnaligned(fromByteOffset: offset, as: SIMD8<Double>.self) * x8
    let total = target.loadUnaligned(fromByteOffset: offset, as: SIMD8<Double>.self) + product
    target.storeBytes(of: total, toByteOffset: offset, as: SIMD8<Double>.self)
    j += 8
  }
  if count - j >= 4 {
    let offset = j * 8
    let x4 = SIMD4<Double>(repeating: x)
    let product = source.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self) * x4
    let total = target.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self) + product
    target.storeBytes(of: total, toByteOffset: offset, as: SIMD4<Double>.self)
    j += 4
  }
  while j < count {
    sum[j] += a[j] * x
    j += 1
  }
}

/// The stored entries of a sparse matrix by column (CSC: each column's
/// rows increasing), for the backward pass of many classes: each gradient
/// column is summed over its entries' rows in order, reading the rows'
/// residuals (a wave's, which stay in the cache) instead of scattering
/// into the gradient (which does not). Pointers stay valid for the calls.
package struct SparseRegressionColumns {
  /// `d + 1` offsets: column `c`'s entries are `offsets[c]..<offsets[c+1]`.
  package var offsets: UnsafePointer<Int>
  /// The row of each entry.
  package var rows: UnsafePointer<Int32>
  /// The value of each entry.
  package var values: SparseRegressionRows.Values
  /// `k`.
  package var classCount: Int

  package init(
    offsets: UnsafePointer<Int>, rows: UnsafePointer<Int32>,
    values: SparseRegressionRows.Values, classCount: Int
  ) {
    self.offsets = offsets
    self.rows = rows
    self.values = values
    self.classCount = classCount
  }

  /// The backward pass of the rows `wave` over the columns `columns`:
  /// adds `residual_r·x_rc` to the `k` gradient values of each column,
  /// over the column's rows in `wave` in increasing order — the sums and
  /// the bits of ``SparseRegressionRows/backward(row:residual:columns:into:)``
  /// called for each row of the wave in order.
  ///
  /// - Parameters:
  ///   - residuals: the wave's residuals, row `r`'s `k` values at
  ///     `(r − wave.lowerBound)·k`.
  ///   - gradientByColumn: `d × k`, column-major.
  package func backward(
    rows wave: Range<Int>, columns: Range<Int>, residuals: UnsafePointer<Double>,
    into gradientByColumn: UnsafeMutablePointer<Double>
  ) {
    switch values {
    case .float(let values):
      backwardColumns(wave, columns, values, residuals, gradientByColumn) { Double($0) }
    case .double(let values):
      backwardColumns(wave, columns, values, residuals, gradientByColumn) { $0 }
    }
  }

  @inline(__always)
  private func backwardColumns<V>(
    _ wave: Range<Int>, _ columns: Range<Int>, _ values: UnsafePointer<V>,
    _ residuals: UnsafePointer<Double>, _ gradientByColumn: UnsafeMutablePointer<Double>,
    _ toDouble: (V) -> Double
  ) {
    let k = classCount
    for c in columns {
      var entry = offsets[c]
      var end = offsets[c + 1]
      // The column's entries in the wave: its rows are increasing.
      if wave.lowerBound > 0 { entry = firstEntry(atLeast: wave.lowerBound, in: entry..<end) }
      if wave.upperBound <= Int(Int32.max) {
        end = firstEntry(atLeast: wave.upperBound, in: entry..<end)
      }
      let gradient = gradientByColumn + c * k
      while entry < end {
        let residual = residuals + (Int(rows[entry]) - wave.lowerBound) * k
        addScaled(residual, toDouble(values[entry]), into: gradient, count: k)
        entry += 1
      }
    }
  }

  /// The first entry of `entries` whose row is at least `row`
  /// (`entries.upperBound` if none).
  @inline(__always)
  private func firstEntry(atLeast row: Int, in entries: Range<Int>) -> Int {
    var low = entries.lowerBound
    var high = entries.upperBound
    while low < high {
      let middle = (low + high) / 2
      if Int(rows[middle]) < row { low = middle + 1 } else { high = middle }
    }
    return low
  }
}
