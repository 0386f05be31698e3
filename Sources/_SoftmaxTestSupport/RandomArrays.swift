//===--- RandomArrays.swift -----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import SoftmaxCore

extension Array where Element: BinaryFloatingPoint, Element.RawSignificand: FixedWidthInteger {
  /// `count` values uniform in `range`, from `generator`.
  public static func random(
    count: Int, in range: ClosedRange<Element>, using generator: inout SplitMix64
  ) -> [Element] {
    (0..<count).map { _ in Element.random(in: range, using: &generator) }
  }
}
