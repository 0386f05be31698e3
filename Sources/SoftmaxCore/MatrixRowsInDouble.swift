//===--- MatrixRowsInDouble.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

extension Matrix where Scalar: SoftmaxScalar {
  /// Calls `body(i, row)` for every row `i` in order, the row converted to
  /// `Double` (exactly: every `SoftmaxScalar` is a subset of `Double`) in
  /// one buffer reused from row to row.
  ///
  /// `Float` and `Double` rows convert in a concrete loop, so that code
  /// generic over the scalar type, called unspecialized from another
  /// module, still reads a `Float` matrix at memory speed rather than
  /// through a generic conversion per element.
  ///
  /// - Complexity: O(rows × columns); `columns` doubles of memory.
  public func forEachRowInDouble(
    _ body: (_ index: Int, _ row: UnsafeBufferPointer<Double>) throws -> Void
  ) rethrows {
    let d = columns
    var buffer = [Double](repeating: 0, count: d)
    try buffer.withUnsafeMutableBufferPointer { row in
      try storage.withUnsafeBufferPointer { x in
        let out = UnsafeBufferPointer(row)
        if Scalar.self == Double.self {
          try x.withMemoryRebound(to: Double.self) { doubles in
            for i in 0..<rows {
              try body(i, UnsafeBufferPointer(rebasing: doubles[(i * d)..<((i + 1) * d)]))
            }
          }
        } else if Scalar.self == Float.self {
          try x.withMemoryRebound(to: Float.self) { floats in
            for i in 0..<rows {
              let base = i * d
              for c in 0..<d { row[c] = Double(floats[base + c]) }
              try body(i, out)
            }
          }
        } else {
          for i in 0..<rows {
            let base = i * d
            for c in 0..<d { row[c] = Double(x[base + c]) }
            try body(i, out)
          }
        }
      }
    }
  }
}
