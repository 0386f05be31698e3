//===--- MatrixProduct.swift ----------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

internal import _SoftmaxKernels

/// The product `op(A)·op(B)` of two matrices, `op(X)` being `X` or `Xᵀ`.
///
/// A dense layer's three products take each form: forward `Z = O·Wᵀ` (B
/// transposed), the weights' gradient `∂L/∂W = δᵀ·O` (A transposed), the
/// inputs' `∂L/∂O = δ·W` (neither).
///
/// Each element is one chain of fused multiply-adds over the shared
/// dimension in increasing order, `c = fma(aᵢₖ, bₖⱼ, c)` from `c = 0`,
/// rounded to `T` at each step: the same bits at every CPU level and for
/// any thread count. For `Float` and `Double` it runs in the C kernels
/// (packed panels, a register-blocked micro-kernel, both cores); other
/// types in a plain loop of the same definition.
///
/// - Parameters:
///   - a: `M × K` (`K × M` when `transposingA`).
///   - b: `K × N` (`N × K` when `transposingB`).
///   - transposingA: whether `op(A)` is `Aᵀ`.
///   - transposingB: whether `op(B)` is `Bᵀ`.
/// - Returns: `M × N`.
/// - Complexity: `2·M·N·K` floating-point operations.
///
/// Error bound: each element is within `K·u·Σₖ|aᵢₖ·bₖⱼ|` of the exact
/// product (`u` the unit roundoff of `T`, 2⁻²⁴ for `Float`), the bound of
/// recursive summation with one rounding a step.
///
/// - Precondition: the shared dimensions agree.
public func matrixProduct<T: SoftmaxScalar>(
  _ a: Matrix<T>, _ b: Matrix<T>, transposingA: Bool = false, transposingB: Bool = false
) -> Matrix<T> {
  let m = transposingA ? a.columns : a.rows
  let n = transposingB ? b.rows : b.columns
  var c = Matrix(rows: m, columns: n, repeating: T.zero)
  multiply(a, b, transposingA: transposingA, transposingB: transposingB, into: &c)
  return c
}

/// ``matrixProduct(_:_:transposingA:transposingB:)`` into an existing
/// matrix: `C = op(A)·op(B)`, or `C += op(A)·op(B)` when `accumulating`
/// (each element's chain then starts from its value in `C`, BLAS's
/// `β = 1`). No allocation: the fast path for repeated products.
///
/// - Parameters:
///   - a: `M × K` (`K × M` when `transposingA`).
///   - b: `K × N` (`N × K` when `transposingB`).
///   - transposingA: whether `op(A)` is `Aᵀ`.
///   - transposingB: whether `op(B)` is `Bᵀ`.
///   - c: `M × N`, overwritten (or added to).
///   - accumulating: whether the product is added to `c`.
/// - Precondition: the shared dimensions agree and `c` is `M × N`.
public func multiply<T: SoftmaxScalar>(
  _ a: Matrix<T>, _ b: Matrix<T>, transposingA: Bool = false, transposingB: Bool = false,
  into c: inout Matrix<T>, accumulating: Bool = false
) {
  let (m, k) = transposingA ? (a.columns, a.rows) : (a.rows, a.columns)
  let (kb, n) = transposingB ? (b.columns, b.rows) : (b.rows, b.columns)
  precondition(
    k == kb,
    "op(A) is \(m) × \(k) and op(B) is \(kb) × \(n): the shared dimensions differ")
  precondition(
    c.rows == m && c.columns == n, "C is \(c.rows) × \(c.columns); op(A)·op(B) is \(m) × \(n)")
  a.elements.withUnsafeBufferPointer { pa in
    b.elements.withUnsafeBufferPointer { pb in
      c.withUnsafeMutableBufferPointer { pc in
        guard let pc = pc.baseAddress else { return }  // an empty C
        guard let pa = pa.baseAddress, let pb = pb.baseAddress else {
          // K = 0: an empty sum.
          if !accumulating { pc.update(repeating: T.zero, count: m * n) }
          return
        }
        multiplyMatrices(
          transposingA: transposingA, transposingB: transposingB, m: m, n: n, k: k,
          pa, leadingA: a.columns, pb, leadingB: b.columns, into: pc, leadingC: n,
          accumulating: accumulating)
      }
    }
  }
}

/// `C = op(A)·op(B)`, or `C += op(A)·op(B)` when `accumulating` (each
/// element's chain then starts from its value in `C`), on row-major
/// buffers with leading dimensions (row strides) `leadingA`, `leadingB`,
/// `leadingC`; see ``matrixProduct(_:_:transposingA:transposingB:)``.
///
/// `op(A)` is `m × k`: element `(i, p)` is `a[i·leadingA + p]`, or
/// `a[p·leadingA + i]` when `transposingA`; `op(B)` is `k × n` likewise.
/// `Float` and `Double` split `C` between the worker threads (by columns,
/// or by rows when it is narrow); no split changes a bit.
///
/// Traps when the kernels' packing buffer (about 1.1 MB a thread, made
/// once) cannot be allocated, as an array that cannot be allocated does.
package func multiplyMatrices<T: SoftmaxScalar>(
  transposingA: Bool, transposingB: Bool, m: Int, n: Int, k: Int,
  _ a: UnsafePointer<T>, leadingA: Int, _ b: UnsafePointer<T>, leadingB: Int,
  into c: UnsafeMutablePointer<T>, leadingC: Int, accumulating: Bool
) {
  guard m > 0, n > 0 else { return }
  if T.self == Float.self || T.self == Double.self {
    let ta: Int32 = transposingA ? 1 : 0
    let tb: Int32 = transposingB ? 1 : 0
    let add: Int32 = accumulating ? 1 : 0
    func run(_ i0: Int, _ i1: Int, _ j0: Int, _ j1: Int) {
      let aStart = transposingA ? a + i0 : a + i0 * leadingA
      let bStart = transposingB ? b + j0 * leadingB : b + j0
      let cStart = c + i0 * leadingC + j0
      let status: Int32
      if T.self == Float.self {
        status = sk_gemm_f32(
          ta, tb, i1 - i0, j1 - j0, k, floatPointer(aStart), leadingA, floatPointer(bStart),
          leadingB, floatPointer(cStart), leadingC, add)
      } else {
        status = sk_gemm_f64(
          ta, tb, i1 - i0, j1 - j0, k, doublePointer(aStart), leadingA, doublePointer(bStart),
          leadingB, doublePointer(cStart), leadingC, add)
      }
      precondition(status == 0, "cannot allocate the matrix product's packing buffer")
    }
    if m * n * k < 1 << 21 {
      // Below about 20 µs of work, waking a second thread costs more than
      // it saves (MNIST's head: 128 × 10 × 256).
      run(0, m, 0, n)
    } else if n >= 128 {
      parallelFor(count: n, cost: m * max(k, 1), grain: 64) { j0, j1 in run(0, m, j0, j1) }
    } else {
      parallelFor(count: m, cost: n * max(k, 1), grain: 16) { i0, i1 in run(i0, i1, 0, n) }
    }
    return
  }
  for i in 0..<m {
    for j in 0..<n {
      var sum = accumulating ? c[i * leadingC + j] : T.zero
      for p in 0..<k {
        let x = transposingA ? a[p * leadingA + i] : a[i * leadingA + p]
        let y = transposingB ? b[j * leadingB + p] : b[p * leadingB + j]
        sum.addProduct(x, y)
      }
      c[i * leadingC + j] = sum
    }
  }
}

/// Reinterprets a buffer of `T` as `Double` when `T` is `Double`.
@inline(__always)
private func doublePointer<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Double> {
  UnsafeRawPointer(p).assumingMemoryBound(to: Double.self)
}

@inline(__always)
private func doublePointer<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Double> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self)
}
