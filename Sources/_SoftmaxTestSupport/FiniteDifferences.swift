//===--- FiniteDifferences.swift ------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

/// The gradient of `f` at `x` by central differences,
/// `(f(x + h·e_k) - f(x - h·e_k)) / 2h`, in `Double`.
///
/// The truncation error is `h²/6·|f'''|`, the rounding error about
/// `u·|f|/h`; `h = 1e-5` balances them near 1e-10 for functions of order 1.
public func centralDifferenceGradient(
  at x: [Double], step h: Double = 1e-5, _ f: ([Double]) -> Double
) -> [Double] {
  (0..<x.count).map { k in
    var up = x
    var down = x
    up[k] += h
    down[k] -= h
    return (f(up) - f(down)) / (2 * h)
  }
}

/// The Jacobian `J[i][k] = ∂f_i/∂x_k` of a vector function by central
/// differences, in `Double`.
public func centralDifferenceJacobian(
  at x: [Double], step h: Double = 1e-5, _ f: ([Double]) -> [Double]
) -> [[Double]] {
  let columns = (0..<x.count).map { k -> [Double] in
    var up = x
    var down = x
    up[k] += h
    down[k] -= h
    return zip(f(up), f(down)).map { ($0 - $1) / (2 * h) }
  }
  let n = columns.first?.count ?? 0
  return (0..<n).map { i in columns.map { $0[i] } }
}
