//===--- SoftmaxScalar.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import RealModule

/// A floating-point type that SoftmaxCore computes with: `Float`, `Double`
/// and, where the platform has it, `Float16`.
///
/// Every function in SoftmaxCore is generic over this protocol. The
/// elementwise work (differences, `exp`, `log`) is done in `Self`; every sum
/// over a row is done in the wider ``Accumulator`` type with compensated
/// (Neumaier) summation, so a row of a million elements sums with the error
/// of a handful of additions, not of a million.
///
/// | type | ``Accumulator`` | elementwise math |
/// |---|---|---|
/// | `Float` | `Double` | SIMD kernels (polynomial `exp`) at τ = 1, else `expf` |
/// | `Double` | `Double` | `Double` (glibc `exp`, `log`) |
/// | `Float16` | `Float` | computed in `Float` and rounded (RealModule) |
public protocol SoftmaxScalar: Real, BinaryFloatingPoint, Sendable {
  /// The type in which sums over a row are accumulated.
  associatedtype Accumulator: Real & BinaryFloatingPoint & Sendable

  /// Converts a value to the accumulator type (exactly).
  static func widen(_ x: Self) -> Accumulator

  /// Converts an accumulated value back to `Self`, rounding to nearest.
  static func narrow(_ x: Accumulator) -> Self
}

extension Float: SoftmaxScalar {
  /// Sums of `Float` rows are accumulated in `Double`.
  public typealias Accumulator = Double

  /// Converts a value to the accumulator type (exactly).
  @inlinable @inline(__always)
  public static func widen(_ x: Float) -> Double { Double(x) }

  /// Converts an accumulated value back to `Float`, rounding to nearest.
  @inlinable @inline(__always)
  public static func narrow(_ x: Double) -> Float { Float(x) }
}

extension Double: SoftmaxScalar {
  /// Sums of `Double` rows are accumulated in `Double`, compensated.
  public typealias Accumulator = Double

  /// Returns `x`: `Double` is its own accumulator.
  @inlinable @inline(__always)
  public static func widen(_ x: Double) -> Double { x }

  /// Returns `x`: `Double` is its own accumulator.
  @inlinable @inline(__always)
  public static func narrow(_ x: Double) -> Double { x }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
@available(macOS 11.0, iOS 14.0, tvOS 14.0, watchOS 7.0, *)
extension Float16: SoftmaxScalar {
  /// Sums of `Float16` rows are accumulated in `Float`.
  public typealias Accumulator = Float

  /// Converts a value to `Float` (exactly).
  @inlinable @inline(__always)
  public static func widen(_ x: Float16) -> Float { Float(x) }

  /// Converts a `Float` back to `Float16`, rounding to nearest.
  @inlinable @inline(__always)
  public static func narrow(_ x: Float) -> Float16 { Float16(x) }
}
#endif
