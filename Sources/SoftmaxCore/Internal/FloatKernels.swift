//===--- FloatKernels.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

// The bridge from the generic API to the Float kernels of _SoftmaxKernels.
// The generic functions test `T.self == Float.self` (folded away when they
// are specialized) and call these non-generic entry points, which split the
// work between threads (see ParallelFor.swift) and call the C kernels.

internal import _SoftmaxKernels

@usableFromInline
enum KernelOperation: Int32 {
  case softmax = 0
  case logSoftmax = 1
  case logSumExp = 2
}

/// Reinterprets a buffer of `T` as `Float` when `T` is `Float`.
@inlinable @inline(__always)
func floatPointer<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
  UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
}

@inlinable @inline(__always)
func floatPointer<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

/// Softmax, log-softmax (into `output`, same shape) or logsumexp (into
/// `output`, one value per lane) of a Float matrix along `axis`.
@usableFromInline
func floatLanes(
  _ operation: KernelOperation, _ x: UnsafePointer<Float>, mask: UnsafePointer<Bool>?,
  _ output: UnsafeMutablePointer<Float>, rows: Int, columns: Int, axis: Int
) {
  let maskBytes = mask.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) }
  let op = operation.rawValue
  switch MatrixAxis(axis) {
  case .alongRows:
    // Short rows go 16 at a time through the kernels' transposed tiles.
    parallelFor(count: rows, cost: columns, grain: columns <= 16 ? 16 : 1) { begin, end in
      sk_rows(op, x, maskBytes, output, begin, end, columns)
    }
  case .alongColumns:
    parallelFor(count: columns, cost: rows, grain: 16) { begin, end in
      sk_columns(op, x, maskBytes, output, rows, columns, begin, end)
    }
  }
}

/// The softmax (or log-softmax) VJP of a Float matrix along its rows.
@usableFromInline
func floatVJPRows(
  logarithmic: Bool, output: UnsafePointer<Float>, cotangent: UnsafePointer<Float>,
  _ gradient: UnsafeMutablePointer<Float>, rows: Int, columns: Int
) {
  parallelFor(count: rows, cost: columns, grain: 1) { begin, end in
    sk_vjp_rows(logarithmic ? 1 : 0, output, cotangent, gradient, begin, end, columns)
  }
}

/// The fused cross-entropy of Float logits against class labels, without
/// weights, smoothing or ignored labels: per-sample losses, the gradient
/// scaled by `scale`, and the total loss. Rows go in fixed blocks of
/// `crossEntropyBlock`; each block's total is summed in row order and the
/// block totals in block order, so the total does not depend on the
/// number of threads.
@usableFromInline
func floatCrossEntropy(
  _ x: UnsafePointer<Float>, labels: UnsafePointer<Int>, gradient: UnsafeMutablePointer<Float>,
  losses: UnsafeMutablePointer<Float>, scale: Double, rows: Int, columns: Int
) -> Double {
  let labels64 = UnsafeRawPointer(labels).assumingMemoryBound(to: Int64.self)
  let blockCount = (rows + crossEntropyBlock - 1) / crossEntropyBlock
  var totals = [Double](repeating: 0, count: blockCount)
  totals.withUnsafeMutableBufferPointer { totals in
    parallelFor(count: blockCount, cost: crossEntropyBlock * columns, grain: 1) { begin, end in
      for block in begin..<end {
        let first = block * crossEntropyBlock
        let last = min(rows, first + crossEntropyBlock)
        totals[block] = sk_cross_entropy_rows(
          x, labels64, gradient, losses, scale, first, last, columns)
      }
    }
  }
  return totals.reduce(0, +)
}

/// Rows per block of the cross-entropy total (a multiple of the kernels'
/// 16-row tiles).
@usableFromInline
let crossEntropyBlock = 256

/// The Float fast path of softmax / log-softmax into a preallocated matrix:
/// returns false (doing nothing) unless `T` is `Float` and τ = 1.
@inlinable
func softmaxFastPath<T: SoftmaxScalar>(
  _ operation: KernelOperation, _ logits: Matrix<T>, axis: Int, temperature: T,
  mask: Matrix<Bool>?, into output: inout Matrix<T>
) -> Bool {
  guard T.self == Float.self, temperature == 1 else { return false }
  checkSameShape(logits, output, "Output")
  if let mask { checkSameShape(logits, mask, "Mask") }
  _ = MatrixAxis(axis)
  guard !logits.elements.isEmpty else { return true }
  withOptionalMask(mask) { maskBase in
    logits.elements.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { out in
        guard let xBase = x.baseAddress, let outBase = out.baseAddress else { return }
        floatLanes(
          operation, floatPointer(xBase), mask: maskBase, floatPointer(outBase),
          rows: logits.rows, columns: logits.columns, axis: axis)
      }
    }
  }
  return true
}

/// The Float fast path of logsumexp: nil unless `T` is `Float` and τ = 1.
@inlinable
func logSumExpFastPath<T: SoftmaxScalar>(
  _ values: Matrix<T>, axis: Int, temperature: T, mask: Matrix<Bool>?
) -> [T]? {
  guard T.self == Float.self, temperature == 1 else { return nil }
  if let mask { checkSameShape(values, mask, "Mask") }
  let lanes = Lanes(rows: values.rows, columns: values.columns, axis: axis)
  var result = [T](repeating: -T.infinity, count: lanes.count)
  guard !values.elements.isEmpty else { return result }
  withOptionalMask(mask) { maskBase in
    values.elements.withUnsafeBufferPointer { x in
      result.withUnsafeMutableBufferPointer { out in
        guard let xBase = x.baseAddress, let outBase = out.baseAddress else { return }
        floatLanes(
          .logSumExp, floatPointer(xBase), mask: maskBase, floatPointer(outBase),
          rows: values.rows, columns: values.columns, axis: axis)
      }
    }
  }
  return result
}

/// The Float fast path of the two VJPs along rows: nil unless `T` is
/// `Float` and the axis is the last.
@inlinable
func vjpFastPath<T: SoftmaxScalar>(
  _ output: Matrix<T>, _ v: Matrix<T>, axis: Int, logarithmic: Bool
) -> Matrix<T>? {
  guard T.self == Float.self, MatrixAxis(axis) == .alongRows else { return nil }
  checkSameShape(output, v, "Cotangent")
  var result = Matrix(rows: v.rows, columns: v.columns, repeating: T.zero)
  guard !v.elements.isEmpty else { return result }
  output.elements.withUnsafeBufferPointer { a in
    v.elements.withUnsafeBufferPointer { vv in
      result.withUnsafeMutableBufferPointer { g in
        guard let aBase = a.baseAddress, let vBase = vv.baseAddress, let gBase = g.baseAddress
        else { return }
        floatVJPRows(
          logarithmic: logarithmic, output: floatPointer(aBase), cotangent: floatPointer(vBase),
          floatPointer(gBase), rows: v.rows, columns: v.columns)
      }
    }
  }
  return result
}

/// The Float fast path of cross-entropy with class labels and no options:
/// nil unless `T` is `Float`, there are no weights, no smoothing, and no
/// label equals the ignored one. Labels must already be validated.
@inlinable
func crossEntropyFastPath<T: SoftmaxScalar>(
  logits: Matrix<T>, labels: [Int], classWeights: [T]?, sampleWeights: [T]?,
  ignoredLabel: Int?, labelSmoothing: T, reduction: LossReduction
) -> CrossEntropyResult<T>? {
  guard T.self == Float.self, MemoryLayout<Int>.size == 8, classWeights == nil,
    sampleWeights == nil, labelSmoothing == 0, logits.rows > 0, logits.columns > 0
  else { return nil }
  if let ignoredLabel, labels.contains(ignoredLabel) { return nil }
  let n = logits.rows
  let scale = reduction == .mean ? 1 / Double(n) : 1
  // Every element of both outputs is written by the kernel.
  var total = 0.0
  var gradient = Matrix<T>(rows: n, columns: logits.columns, uninitializedElementsBy: { _ in })
  let losses = [T](unsafeUninitializedCapacity: n) { lossBuffer, count in
    logits.elements.withUnsafeBufferPointer { x in
      labels.withUnsafeBufferPointer { y in
        gradient.withUnsafeMutableBufferPointer { g in
          guard let xBase = x.baseAddress, let yBase = y.baseAddress, let gBase = g.baseAddress,
            let lBase = lossBuffer.baseAddress
          else { return }
          total = floatCrossEntropy(
            floatPointer(xBase), labels: yBase, gradient: floatPointer(gBase),
            losses: floatPointer(lBase), scale: scale, rows: n, columns: logits.columns)
        }
      }
    }
    count = n
  }
  let loss = reduction == .mean ? total / Double(n) : total
  // A finite Double beyond Float's range (the true loss of finite logits)
  // saturates; an infinite one (a -inf target logit) stays infinite.
  let narrowedLoss = loss.isFinite ? saturated(T(loss)) : T(loss)
  return CrossEntropyResult(loss: narrowedLoss, losses: losses, gradient: gradient)
}
