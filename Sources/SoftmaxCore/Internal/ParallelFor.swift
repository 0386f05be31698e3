//===--- ParallelFor.swift ------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Runs `body(begin, end)` over `0..<count`, split into ranges whose
/// boundaries are multiples of `grain`. `cost` is the work per item (in
/// elements), used to keep small jobs on one thread.
///
/// Results never depend on the split: each item is computed by one call,
/// and every kernel's result for an item depends only on that item.
@usableFromInline
func parallelFor(count: Int, cost: Int, grain: Int, _ body: (Int, Int) -> Void) {
  guard count > 0 else { return }
  body(0, count)
}
