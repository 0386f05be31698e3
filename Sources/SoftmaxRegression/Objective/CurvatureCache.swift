//===--- CurvatureCache.swift ---------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The softmax probabilities of every row at one point of parameter
/// space: the state of Hessian products there, kept in an objective's
/// workspace. Two slots: the point the products are taken at (`current`),
/// and the point of the last full pass (`recorded`), which becomes current
/// when a product is asked at it (a trust-region solver evaluates a trial
/// point, then takes products at it if it accepts the step, or at the old
/// point if not).
struct CurvatureCache {
  /// Probabilities, `n·k` values stored as the kernel computes them.
  enum Values {
    case none
    case float([Float])
    case double([Double])

    /// Calls `body` with `count` Floats, this value's storage reused
    /// when it holds as many (their contents are then kept until written).
    mutating func withFloats<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
      var buffer: [Float] = []
      if case .float(let kept) = self, kept.count == max(count, 1) { buffer = kept }
      self = .none
      if buffer.isEmpty { buffer = [Float](repeating: 0, count: max(count, 1)) }
      defer { self = .float(buffer) }
      return buffer.withUnsafeMutableBufferPointer { values in
        // At least one value: there is an address.
        guard let base = values.baseAddress else { preconditionFailure("an empty buffer") }
        return body(base)
      }
    }

    /// ``withFloats(count:_:)`` for Doubles.
    mutating func withDoubles<R>(count: Int, _ body: (UnsafeMutablePointer<Double>) -> R) -> R {
      var buffer: [Double] = []
      if case .double(let kept) = self, kept.count == max(count, 1) { buffer = kept }
      self = .none
      if buffer.isEmpty { buffer = [Double](repeating: 0, count: max(count, 1)) }
      defer { self = .double(buffer) }
      return buffer.withUnsafeMutableBufferPointer { values in
        // At least one value: there is an address.
        guard let base = values.baseAddress else { preconditionFailure("an empty buffer") }
        return body(base)
      }
    }
  }

  var current: Values = .none
  var currentPoint: [Double]? = nil
  var recorded: Values = .none
  var recordedPoint: [Double]? = nil
  /// Whether full passes record their probabilities: from the first
  /// Hessian product on.
  var isRecording = false

  /// Makes the recorded slot current when it holds `point`.
  mutating func promote(ifAt point: [Double]) -> Bool {
    guard let recordedPoint, recordedPoint == point else { return false }
    swap(&current, &recorded)
    currentPoint = recordedPoint
    self.recordedPoint = nil
    return true
  }

  /// The recorded slot's values, moved out (so that a pass writes them
  /// without a copy) when full passes record, else `nil`; its point is
  /// forgotten until ``keepRecorded(_:at:)``.
  mutating func takeRecorded() -> Values? {
    guard isRecording else { return nil }
    recordedPoint = nil
    var values = Values.none
    swap(&values, &recorded)
    return values
  }

  /// Puts back the values of a full pass at `point`.
  mutating func keepRecorded(_ values: Values, at point: [Double]) {
    recorded = values
    recordedPoint = point
  }

  /// The current slot's values, moved out, its point forgotten until
  /// ``keepCurrent(_:at:)``.
  mutating func takeCurrent() -> Values {
    currentPoint = nil
    var values = Values.none
    swap(&values, &current)
    return values
  }

  /// Puts back the current slot's values, at `point`.
  mutating func keepCurrent(_ values: Values, at point: [Double]) {
    current = values
    currentPoint = point
  }
}
