//===--- Activation.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import RealModule

/// The nonlinearity `a = f(z)` of a hidden layer, and its derivative
/// `f′(z)`, the factor the chain rule multiplies by on the way back:
/// `δ = (Wᵀδ′) ⊙ f′(z)`.
///
/// Each is evaluated in `T` by the elementary functions of
/// swift-numerics (the platform's libm): within a few ulps of the exact
/// value, except where noted.
public enum Activation: String, Sendable, Hashable, Codable, CaseIterable {
  /// `max(z, 0)`; `f′ = 1` for `z > 0`, else 0 (0 at the kink, as PyTorch).
  case relu
  /// `tanh z`; `f′ = 1 − tanh² z`.
  case tanh
  /// `z·Φ(z) = ½·z·(1 + erf(z/√2))`, the exact form (PyTorch's default,
  /// not its tanh approximation); `f′ = Φ(z) + z·φ(z)`,
  /// `φ(z) = e^{−z²/2}/√(2π)`.
  case gelu
  /// `1/(1 + e^{−z})`, computed without overflow on either side;
  /// `f′ = f·(1 − f)`.
  case logistic
  /// `z` (a linear bottleneck); `f′ = 1`.
  case identity

  /// `f(z)`.
  @inlinable
  public func callAsFunction<T: SoftmaxScalar>(_ z: T) -> T {
    switch self {
    case .relu:
      return z > 0 ? z : 0
    case .tanh:
      return T.tanh(z)
    case .gelu:
      return z * Self.normalCDF(z)
    case .logistic:
      if z >= 0 { return 1 / (1 + T.exp(-z)) }
      let e = T.exp(z)
      return e / (1 + e)
    case .identity:
      return z
    }
  }

  /// `f′(z)`.
  @inlinable
  public func derivative<T: SoftmaxScalar>(at z: T) -> T {
    switch self {
    case .relu:
      return z > 0 ? 1 : 0
    case .tanh:
      let t = T.tanh(z)
      return 1 - t * t
    case .gelu:
      // φ(z) = e^{−z²/2}/√(2π); z² overflows only where φ is 0 anyway.
      let density = T.exp(-z * z / 2) * T(0.398_942_280_401_432_677_94)
      return Self.normalCDF(z) + z * density
    case .logistic:
      let f = callAsFunction(z)
      return f * (1 - f)
    case .identity:
      return 1
    }
  }

  /// `Φ(z) = ½·(1 + erf(z/√2))`, or `½·erfc(−z/√2)` below 0 (no
  /// cancellation in the left tail).
  @inlinable
  static func normalCDF<T: SoftmaxScalar>(_ z: T) -> T {
    let scaled = z * T(0.707_106_781_186_547_524_40)
    return z >= 0 ? (1 + T.erf(scaled)) / 2 : T.erfc(-scaled) / 2
  }

  /// Whether a layer with this activation is best started with He's
  /// scale (`relu`, `gelu`: half the inputs pass) rather than Glorot's.
  public var prefersHeInitialization: Bool { self == .relu || self == .gelu }
}
