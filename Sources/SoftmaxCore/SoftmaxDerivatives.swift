//===--- SoftmaxDerivatives.swift -----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

public import RealModule

// The derivative of a = softmax(z) has two cases:
//
//     ∂a_i/∂z_j = a_i (1 - a_i)   if i == j
//     ∂a_i/∂z_j = -a_i a_j        if i != j
//
// i.e. J = diag(a) - a·aᵀ, a symmetric matrix. Backpropagation never needs
// J itself: the vector-Jacobian product Jᵀv = a ⊙ (v - ⟨v, a⟩) costs O(n).
// For log a = logSoftmax(z): ∂log a_i/∂z_j = δ_ij - a_j, J = I - 1·aᵀ.

/// The Jacobian of softmax, `J[i][j] = ∂a_i/∂z_j`, from its output `a`.
///
/// `J = diag(a) - a·aᵀ`: the diagonal holds `a_i(1 - a_i)` and the rest
/// `-a_i·a_j`. Use it for teaching and tests; for backpropagation use
/// ``softmaxVJP(output:cotangent:)-([T],_)``, which is O(n) instead of O(n²).
///
/// - Parameter output: The softmax output `a` (e.g. `softmax(z)`).
/// - Returns: The n × n Jacobian. It is symmetric and each row sums to 0.
/// - Complexity: O(n²) time and memory.
///
/// Error bound: each entry is one product (and one subtraction on the
/// diagonal), within 1.5 ulps of the exact value for the given `a`.
@inlinable
public func softmaxJacobian<T: SoftmaxScalar>(output: [T]) -> Matrix<T> {
  let a = output
  let n = a.count
  var jacobian = Matrix(rows: n, columns: n, repeating: T.zero)
  for i in 0..<n {
    for j in 0..<n {
      jacobian[i, j] = i == j ? a[i] * (1 - a[i]) : -a[i] * a[j]
    }
  }
  return jacobian
}

/// The Jacobian of log-softmax, `J[i][j] = ∂log a_i/∂z_j = δ_ij - a_j`,
/// from its output `log a`.
///
/// - Parameter output: The log-softmax output (e.g. `logSoftmax(z)`).
/// - Returns: The n × n Jacobian `I - 1·aᵀ`; each row sums to 0.
/// - Complexity: O(n²) time and memory, n calls of `exp`.
@inlinable
public func logSoftmaxJacobian<T: SoftmaxScalar>(output: [T]) -> Matrix<T> {
  let n = output.count
  let a = output.map { T.exp($0) }
  var jacobian = Matrix(rows: n, columns: n, repeating: T.zero)
  for i in 0..<n {
    for j in 0..<n {
      jacobian[i, j] = (i == j ? 1 : 0) - a[j]
    }
  }
  return jacobian
}

/// The vector-Jacobian product of softmax: `Jᵀv = a ⊙ (v - ⟨v, a⟩)`.
///
/// This is the backward pass of softmax: given the gradient `v = ∂L/∂a` of
/// a loss with respect to the output, it returns `∂L/∂z`, without building
/// the Jacobian. Because J is symmetric, this is also the Jacobian-vector
/// product ``softmaxJVP(output:tangent:)-([T],_)``.
///
/// - Parameters:
///   - output: The softmax output `a` (masked-out entries are 0 and get 0).
///   - cotangent: `v`, same count.
/// - Returns: `∂L/∂z`, same count.
/// - Complexity: O(n), one pass for the dot product (compensated, in
///   ``SoftmaxScalar/Accumulator``), one for the result.
///
/// Error bound: each entry within 1 ulp of `a_i·(v_i - ⟨v, a⟩)` computed
/// exactly, plus the cancellation of `v_i - ⟨v, a⟩`: absolute error at most
/// `2u·|a_i|·(|v_i| + Σ|v_j a_j|)`.
@inlinable
public func softmaxVJP<T: SoftmaxScalar>(output: [T], cotangent: [T]) -> [T] {
  softmaxVJP(output: singleRow(output), cotangent: singleRow(cotangent)).elements
}

/// The softmax vector-Jacobian product for each row (`axis: -1`) or column
/// (`axis: 0`) of a batch.
///
/// - Complexity: O(rows × columns).
/// - Precondition: `output` and `cotangent` have the same shape.
@inlinable
public func softmaxVJP<T: SoftmaxScalar>(
  output a: Matrix<T>, cotangent v: Matrix<T>, axis: Int = -1
) -> Matrix<T> {
  vjpFastPath(a, v, axis: axis, logarithmic: false)
    ?? projectedProduct(a, v, axis: axis, logarithmic: false)
}

/// The Jacobian-vector product of softmax: `J·u = a ⊙ (u - ⟨a, u⟩)`, the
/// change of the output for a change `u` of the logits (forward mode).
///
/// Softmax's Jacobian is symmetric, so this equals the VJP.
///
/// - Complexity: O(n).
@inlinable
public func softmaxJVP<T: SoftmaxScalar>(output a: [T], tangent u: [T]) -> [T] {
  softmaxVJP(output: a, cotangent: u)
}

/// The softmax Jacobian-vector product for each row (or column) of a batch.
///
/// - Complexity: O(rows × columns).
@inlinable
public func softmaxJVP<T: SoftmaxScalar>(
  output a: Matrix<T>, tangent u: Matrix<T>, axis: Int = -1
) -> Matrix<T> {
  softmaxVJP(output: a, cotangent: u, axis: axis)
}

/// The vector-Jacobian product of log-softmax: `Jᵀv = v - a·Σ_j v_j`,
/// where `a = e^output` is the softmax.
///
/// This is PyTorch's `log_softmax` backward. With `v = -onehot(y)` it gives
/// the cross-entropy gradient `a - onehot(y)`.
///
/// - Parameters:
///   - output: The log-softmax output `log a`.
///   - cotangent: `v = ∂L/∂(log a)`, same count.
/// - Complexity: O(n), n calls of `exp`.
///
/// Error bound: absolute error at most `2u·(|v_i| + a_i·Σ|v_j|)` per entry.
@inlinable
public func logSoftmaxVJP<T: SoftmaxScalar>(output: [T], cotangent: [T]) -> [T] {
  logSoftmaxVJP(output: singleRow(output), cotangent: singleRow(cotangent)).elements
}

/// The log-softmax vector-Jacobian product for each row (or column).
///
/// - Complexity: O(rows × columns).
@inlinable
public func logSoftmaxVJP<T: SoftmaxScalar>(
  output logA: Matrix<T>, cotangent v: Matrix<T>, axis: Int = -1
) -> Matrix<T> {
  vjpFastPath(logA, v, axis: axis, logarithmic: true)
    ?? projectedProduct(logA, v, axis: axis, logarithmic: true)
}

/// The Jacobian-vector product of log-softmax: `J·u = u - ⟨a, u⟩·1`.
///
/// - Parameters:
///   - output: The log-softmax output `log a`.
///   - tangent: `u`, a change of the logits.
/// - Complexity: O(n), n calls of `exp`.
@inlinable
public func logSoftmaxJVP<T: SoftmaxScalar>(output: [T], tangent: [T]) -> [T] {
  logSoftmaxJVP(output: singleRow(output), tangent: singleRow(tangent)).elements
}

/// The log-softmax Jacobian-vector product for each row (or column).
///
/// - Complexity: O(rows × columns).
@inlinable
public func logSoftmaxJVP<T: SoftmaxScalar>(
  output logA: Matrix<T>, tangent u: Matrix<T>, axis: Int = -1
) -> Matrix<T> {
  var result = Matrix(rows: u.rows, columns: u.columns, repeating: T.zero)
  zipLanes(logA, u, axis: axis, into: &result) { logA, u, out, count, stride in
    var dot = CompensatedSum<T.Accumulator>()
    for i in 0..<count {
      dot.add(T.widen(T.exp(logA[i * stride])) * T.widen(u[i * stride]))
    }
    let projection = dot.value
    for i in 0..<count {
      out[i * stride] = T.narrow(T.widen(u[i * stride]) - projection)
    }
  }
  return result
}

/// The shared kernel of the two VJPs:
/// softmax: `a ⊙ (v - ⟨v, a⟩)`; log-softmax: `v - a·Σv` with `a = e^output`.
@inlinable
func projectedProduct<T: SoftmaxScalar>(
  _ output: Matrix<T>, _ v: Matrix<T>, axis: Int, logarithmic: Bool
) -> Matrix<T> {
  var result = Matrix(rows: v.rows, columns: v.columns, repeating: T.zero)
  zipLanes(output, v, axis: axis, into: &result) { y, v, out, count, stride in
    var reduction = CompensatedSum<T.Accumulator>()
    for i in 0..<count {
      let o = i * stride
      reduction.add(logarithmic ? T.widen(v[o]) : T.widen(v[o]) * T.widen(y[o]))
    }
    let r = reduction.value
    for i in 0..<count {
      let o = i * stride
      if logarithmic {
        out[o] = T.narrow(T.widen(v[o]) - T.widen(T.exp(y[o])) * r)
      } else {
        out[o] = T.narrow(T.widen(y[o]) * (T.widen(v[o]) - r))
      }
    }
  }
  return result
}
