//===--- FiniteScan.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxCore

/// The index of the first NaN or infinity in `elements`, or `nil`.
///
/// Float and Double take a branch-free scan of the exponent bits (an
/// exponent of all ones is a NaN or an infinity) over chunks of 4096 that
/// the compiler vectorizes, at memory speed even when the caller is not
/// specialized; other types test `isFinite` one by one.
func firstNonFiniteIndex<T: SoftmaxScalar>(_ elements: [T]) -> Int? {
  elements.withUnsafeBufferPointer { firstNonFiniteIndex($0) }
}

/// The index of the first NaN or infinity in `elements`, or `nil` (as the
/// array's).
func firstNonFiniteIndex<T: SoftmaxScalar>(_ elements: UnsafeBufferPointer<T>) -> Int? {
  let raw = UnsafeRawBufferPointer(elements)
  if T.self == Float.self {
    return firstAllOnesExponent(raw.bindMemory(to: UInt32.self), exponent: 0x7F80_0000)
  }
  if T.self == Double.self {
    return firstAllOnesExponent(raw.bindMemory(to: UInt64.self), exponent: 0x7FF0_0000_0000_0000)
  }
  return elements.firstIndex { !$0.isFinite }
}

/// The first value whose `exponent` bits are all set. `(bits & e) + lsb(e)`
/// carries into the sign bit exactly when every exponent bit is set.
private func firstAllOnesExponent<U: FixedWidthInteger & UnsignedInteger>(
  _ values: UnsafeBufferPointer<U>, exponent: U
) -> Int? {
  let lowest = exponent & (0 &- exponent)
  let sign = U(1) << (U.bitWidth - 1)
  var begin = 0
  while begin < values.count {
    let end = min(values.count, begin + 4096)
    var any: U = 0
    for i in begin..<end { any |= ((values[i] & exponent) &+ lowest) & sign }
    if any != 0 {
      return (begin..<end).first { (values[$0] & exponent) == exponent }
    }
    begin = end
  }
  return nil
}
