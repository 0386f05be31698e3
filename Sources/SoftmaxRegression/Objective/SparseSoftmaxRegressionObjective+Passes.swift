//===--- SparseSoftmaxRegressionObjective+Passes.swift --------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

// The evaluation of the sparse objective: the weights laid out by column,
// then waves of rows — a forward pass in blocks of rows (in parallel, the
// blocks' sums added in block order) leaving each row's residual, and a
// backward pass over the wave's rows in order, with the columns split
// among the threads — and the gradient laid back out by class.

extension SparseSoftmaxRegressionObjective {
  /// `loss / denominator` over `listed` rows (every row when `nil`), the
  /// penalty `(λ₂/2)·‖W‖²`, and the gradient of their sum.
  ///
  /// With `probabilities` (every row), each row's softmax goes there.
  func evaluate(
    _ parameters: [Double], rows listed: [Int]?, gradient: inout [Double], wantGradient: Bool,
    denominator: Double, workspace: inout Workspace,
    probabilities: UnsafeMutablePointer<Double>? = nil
  ) -> (data: Double, penalty: Double) {
    var totals = blockSum.begin(
      parameters, gradient: &gradient, wantGradient: wantGradient, workspace: &workspace.sums)
    withKernel { kernel, columnKernel in
      blockSum.add(
        kernel, columns: columnKernel, parameters: parameters,
        rowCount: listed?.count ?? rowCount, listed: listed, wantGradient: wantGradient,
        totals: &totals, workspace: &workspace.sums, probabilities: probabilities)
    }
    return blockSum.finish(
      parameters, gradient: &gradient, wantGradient: wantGradient, totals: totals,
      denominator: denominator, workspace: workspace.sums)
  }

  /// Calls `body` with the kernel over this objective's rows, and over its
  /// entries by column when it keeps them.
  func withKernel(
    _ body: (SparseRegressionRows, SparseRegressionColumns?) -> Void
  ) {
    rows.labels.withUnsafeBufferPointer { labels in
      rows.rowWeights.withUnsafeBufferPointer { weights in
        guard let labels = labels.baseAddress, let weights = weights.baseAddress else { return }
        withColumnKernel { columnKernel in
          withSparseRows(
            features, classCount: classCount, labels: labels, rowWeights: weights
          ) { body($0, columnKernel) }
        }
      }
    }
  }

  /// Calls `body` with the kernel over the entries by column, `nil` when
  /// they are not kept.
  private func withColumnKernel(_ body: (SparseRegressionColumns?) -> Void) {
    guard let entriesByColumn else { return body(nil) }
    func call(_ values: SparseRegressionRows.Values?) {
      entriesByColumn.rows.withUnsafeBufferPointer { rows in
        blockSum.columnEntries.withUnsafeBufferPointer { offsets in
          guard let values, let rows = rows.baseAddress, let offsets = offsets.baseAddress
          else { return body(nil) }
          body(
            SparseRegressionColumns(
              offsets: offsets, rows: rows, values: values, classCount: classCount))
        }
      }
    }
    switch entriesByColumn.values {
    case .float(let values):
      values.withUnsafeBufferPointer { call($0.baseAddress.map { .float($0) }) }
    case .double(let values):
      values.withUnsafeBufferPointer { call($0.baseAddress.map { .double($0) }) }
    }
  }
}

/// Calls `body` with the kernel over the rows of `features`, whose labels
/// and row weights start at `labels` and `rowWeights` (values of a type
/// other than `Float` and `Double`, as `Float16`, are converted to
/// `Double` for the call).
func withSparseRows<T: SoftmaxScalar>(
  _ features: SparseMatrix<T>, classCount: Int, labels: UnsafePointer<Int>,
  rowWeights: UnsafePointer<Double>, _ body: (SparseRegressionRows) -> Void
) {
  func call(_ values: SparseRegressionRows.Values?) {
    features.rowOffsets.withUnsafeBufferPointer { offsets in
      features.columnIndices.withUnsafeBufferPointer { columns in
        // Empty arrays may have no base address: a 1-entry stand-in is
        // never read (no row has entries then).
        let column0: Int32 = 0
        let value0 = 0.0
        withUnsafePointer(to: column0) { column0 in
          withUnsafePointer(to: value0) { value0 in
            guard let offsets = offsets.baseAddress else { return }
            body(
              SparseRegressionRows(
                rowOffsets: offsets, columnIndices: columns.baseAddress ?? column0,
                values: values ?? .double(value0), classCount: classCount, labels: labels,
                rowWeights: rowWeights))
          }
        }
      }
    }
  }
  if T.self != Float.self && T.self != Double.self {
    let converted = features.values.map { Double($0) }
    converted.withUnsafeBufferPointer { values in call(values.baseAddress.map { .double($0) }) }
  } else {
    features.values.withUnsafeBufferPointer { values in
      let raw = values.baseAddress.map(UnsafeRawPointer.init)
      call(
        raw.map {
          T.self == Float.self
            ? .float($0.assumingMemoryBound(to: Float.self))
            : .double($0.assumingMemoryBound(to: Double.self))
        })
    }
  }
}
