//===--- LaneApplication.swift --------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// Calls `body` with a pointer to the mask's elements, or with nil.
@inlinable
func withOptionalMask<R>(
  _ mask: Matrix<Bool>?, _ body: (UnsafePointer<Bool>?) -> R
) -> R {
  guard let mask else { return body(nil) }
  return mask.elements.withUnsafeBufferPointer { body($0.baseAddress) }
}

@inlinable
func checkSameShape<A, B>(_ a: Matrix<A>, _ b: Matrix<B>, _ what: String) {
  precondition(
    a.rows == b.rows && a.columns == b.columns,
    "\(what) is \(b.rows) x \(b.columns); input is \(a.rows) x \(a.columns)")
}

/// Runs a lane-to-lane kernel over every lane of `input` along `axis`,
/// writing into `output` (same shape). The kernel gets the lane's offset in
/// the row-major storage, so it can address other matrices of that shape.
@inlinable
func mapLanes<T: SoftmaxScalar>(
  _ input: Matrix<T>, axis: Int, mask: Matrix<Bool>?, into output: inout Matrix<T>,
  _ kernel: (
    _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ offset: Int, _ count: Int,
    _ stride: Int, _ mask: UnsafePointer<Bool>?
  ) -> Void
) {
  checkSameShape(input, output, "Output")
  if let mask { checkSameShape(input, mask, "Mask") }
  let lanes = Lanes(rows: input.rows, columns: input.columns, axis: axis)
  guard !input.elements.isEmpty else { return }
  withOptionalMask(mask) { maskBase in
    input.elements.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { out in
        guard let xBase = x.baseAddress, let outBase = out.baseAddress else { return }
        for lane in 0..<lanes.count {
          let offset = lanes.offset(of: lane)
          kernel(
            xBase + offset, outBase + offset, offset, lanes.length, lanes.stride,
            maskBase.map { $0 + offset })
        }
      }
    }
  }
}

/// Runs a kernel over the matching lanes of two matrices of one shape,
/// writing into `output` (same shape).
@inlinable
func zipLanes<T: SoftmaxScalar>(
  _ first: Matrix<T>, _ second: Matrix<T>, axis: Int, into output: inout Matrix<T>,
  _ kernel: (
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
    _ count: Int, _ stride: Int
  ) -> Void
) {
  checkSameShape(first, second, "Second operand")
  second.elements.withUnsafeBufferPointer { b in
    mapLanes(first, axis: axis, mask: nil, into: &output) { a, out, offset, count, stride, _ in
      guard let bBase = b.baseAddress else { return }
      kernel(a, bBase + offset, out, count, stride)
    }
  }
}

/// Runs a lane-to-scalar kernel over every lane of `input` along `axis`.
@inlinable
func reduceLanes<T: SoftmaxScalar, R>(
  _ input: Matrix<T>, axis: Int, mask: Matrix<Bool>?,
  _ kernel: (
    _ x: UnsafePointer<T>, _ offset: Int, _ count: Int, _ stride: Int,
    _ mask: UnsafePointer<Bool>?
  ) -> R
) -> [R] {
  if let mask { checkSameShape(input, mask, "Mask") }
  let lanes = Lanes(rows: input.rows, columns: input.columns, axis: axis)
  // An empty matrix still has lanes (3 x 0 has three empty rows); they are
  // handed a valid pointer that a kernel never reads.
  let storage = input.elements.isEmpty ? [T.zero] : input.elements
  return withOptionalMask(mask) { maskBase in
    storage.withUnsafeBufferPointer { x in
      guard let base = x.baseAddress else { preconditionFailure("storage is never empty") }
      return (0..<lanes.count).map { lane in
        let offset = input.elements.isEmpty ? 0 : lanes.offset(of: lane)
        return kernel(
          base + offset, offset, lanes.length, lanes.stride, maskBase.map { $0 + offset })
      }
    }
  }
}

/// A single lane (a plain array) as a one-row matrix, and a mask likewise.
@inlinable
func singleRow<S>(_ x: [S]) -> Matrix<S> {
  Matrix(rows: 1, columns: x.count, elements: x)
}

@inlinable
func singleRowMask(_ mask: [Bool]?, count: Int) -> Matrix<Bool>? {
  guard let mask else { return nil }
  precondition(mask.count == count, "Mask has \(mask.count) elements; input has \(count)")
  return Matrix(rows: 1, columns: count, elements: mask)
}
