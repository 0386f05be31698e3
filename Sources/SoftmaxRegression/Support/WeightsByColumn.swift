//===--- WeightsByColumn.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// `out[c·k + j] = w[j·d + c]·s_c` for every class `j < k` and column
/// `c < d`, with `s` = `columnScale` (1 when `nil`): W, `k × d` class by
/// class, laid out column by column, so that a stored entry of column `c`
/// reads its `k` weights side by side (the sparse objective's forward pass
/// and sparse prediction).
///
/// Written on the worker threads front to back, W read as `k` sequential
/// streams; `out` may be uninitialized (its `k·d` values are initialized).
/// Each value is a copy or one product: the same bits for any split.
/// Cost: O(k·d).
func layOutWeightsByColumn(
  _ w: UnsafePointer<Double>, classes k: Int, columns d: Int, columnScale: [Double]?,
  into out: UnsafeMutablePointer<Double>
) {
  parallelFor(count: d, cost: k, grain: 1024) { begin, end in
    if let columnScale {
      for c in begin..<end {
        let column = out + c &* k
        let factor = columnScale[c]
        for j in 0..<k { (column + j).initialize(to: w[j &* d &+ c] * factor) }
      }
    } else {
      for c in begin..<end {
        let column = out + c &* k
        for j in 0..<k { (column + j).initialize(to: w[j &* d &+ c]) }
      }
    }
  }
}
