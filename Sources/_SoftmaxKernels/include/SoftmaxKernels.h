//===--- SoftmaxKernels.h -------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// The innermost Float loops of SoftmaxCore, compiled once per CPU level
// (baseline, AVX2+FMA, AVX-512) and chosen at run time. Implementation
// detail of SoftmaxCore: not API, call SoftmaxCore instead.
//
// Every function works on a range of rows (or columns) of a row-major
// matrix, so callers can split work between threads; each row's result
// depends only on that row, never on how the rows were split.
//
//===----------------------------------------------------------------------===//

#ifndef SOFTMAX_KERNELS_H
#define SOFTMAX_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Asks for the cache line at `address` ahead of its use (a hint: no
/// fault, no effect on any value), for reads at random addresses whose
/// order is known in advance (the sparse rows' weight columns).
static inline void sk_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// As sk_prefetch, for a line about to be written.
static inline void sk_prefetch_for_write(const void *address) {
  __builtin_prefetch(address, 1, 3);
}

/// CPU levels, in increasing order.
enum {
  SK_LEVEL_BASELINE = 0,  // any x86-64 (SSE2) or the target's baseline (NEON on arm64)
  SK_LEVEL_AVX2 = 1,      // AVX2 + FMA
  SK_LEVEL_AVX512 = 2,    // AVX-512 F/DQ/VL/BW + FMA
};

/// The operations of sk_rows / sk_columns.
enum {
  SK_OP_SOFTMAX = 0,
  SK_OP_LOG_SOFTMAX = 1,
  SK_OP_LOG_SUM_EXP = 2,  // one value per row (or column), written to y[i]
};

/// The highest level this CPU supports.
int sk_supported_level(void);

/// The level in use: the supported one, or SOFTMAX_CPU_LEVEL
/// (baseline | avx2 | avx512) if set and supported, or the last
/// sk_set_level.
int sk_level(void);

/// Forces a level (clamped to the supported one); returns the level set.
int sk_set_level(int level);

/// Name of a level: "baseline", "avx2", "avx512".
const char *sk_level_name(int level);

/// op along each row r in [row_begin, row_end) of x (rows × cols,
/// row-major). mask (optional, same layout, 0 = off) switches elements off.
/// Softmax / log-softmax write y (same layout); logsumexp writes y[r].
void sk_rows(int op, const float *x, const uint8_t *mask, float *y, long row_begin, long row_end,
             long cols);

/// op down each column c in [col_begin, col_end) of x (rows × cols).
/// Logsumexp writes y[c].
void sk_columns(int op, const float *x, const uint8_t *mask, float *y, long rows, long cols,
                long col_begin, long col_end);

/// Softmax VJP a ⊙ (v - ⟨v, a⟩) (log == 0) or log-softmax VJP
/// v - e^out·Σv (log != 0) along rows [row_begin, row_end).
void sk_vjp_rows(int log, const float *out, const float *v, float *g, long row_begin,
                 long row_end, long cols);

/// Fused cross-entropy with class indices, rows [row_begin, row_end):
/// loss_r = log Σ e^(x_rc - m) + (m - x_r,label) written to losses[r]
/// (rounded to float; a finite loss beyond float's range saturates), the
/// gradient row (softmax - onehot)·scale written to g. Labels must be in
/// [0, cols) (checked by the caller). Returns Σ losses, summed in double in
/// row order.
double sk_cross_entropy_rows(const float *x, const int64_t *labels, float *g, float *losses,
                             double scale, long row_begin, long row_end, long cols);

/// One block of the softmax-regression objective: for rows r < rows of x
/// (row stride d; row_index[r] of x, labels and row_weights when row_index
/// is not NULL, a minibatch gathered in place), x̃ = (x - mean)·inverse_scale (or x if mean is NULL),
/// z = w·x̃ + b (w is k × d; logits accumulated in float), and, in double,
/// out[k·d + k] += Σ_r row_weights[r]·(logsumexp(z_r) - z_r[label_r]);
/// with want_gradient, g_r = row_weights[r]·(softmax(z_r) - onehot),
/// out[k·d + j] += Σ_r g_rj and out[j·d + c] += Σ_r g_rj·x̃_rc (each
/// 16-column chunk summed over the block in float, in row order). The rows
/// go through in parts of about 192 KiB of x (sk_set_regression_part_bytes),
/// each part's backward pass prefetching the next part's rows into L2 and
/// carrying its float sums to it: the same sums as one part. scratch holds
/// rows·k floats. Labels must be in [0, k); x finite. With probabilities not
/// NULL, probabilities[r·k + j] = softmax(z_r)_j (rows·k floats), the
/// state that sk_regression_hessian_block needs.
void sk_regression_block(const float *x, const int64_t *row_index, long rows, long d,
                         const float *w, const float *b, long k, const float *mean,
                         const float *inverse_scale, const int64_t *labels,
                         const double *row_weights, int want_gradient, float *probabilities,
                         float *scratch, double *out);

/// Sets the bytes of X per part in which sk_regression_block and
/// sk_regression_hessian_block take a block's rows (0: the default, 192 KiB;
/// at least four rows a part). For tests: the parts change the time, never
/// the bits.
void sk_set_regression_part_bytes(long bytes);

/// One block of the objective's Hessian times a direction [v (k × d), c]:
/// for rows r < rows of x (contiguous), δz_r = v·x̃_r + c (float), then in
/// double g_rj = row_weights[r]·p_rj·(δz_rj − Σ_l p_rl·δz_rl) with p the
/// softmax probabilities at the parameters (from sk_regression_block),
/// rounded to float; out[k·d + j] += Σ_r g_rj and out[j·d + c] +=
/// Σ_r g_rj·x̃_rc (each 16-column chunk summed over the block in float).
/// scratch holds rows·k floats.
void sk_regression_hessian_block(const float *x, long rows, long d, const float *v, const float *c,
                                 long k, const float *mean, const float *inverse_scale,
                                 const float *probabilities, const double *row_weights,
                                 float *scratch, double *out);

/// out[k] = Σ_i a[k][i]·b[i], or Σ_i (a[k][i]·w[i])·b[i] when `w` is not
/// NULL, for k < count, over i < n: each in the solvers' chunk order
/// (element i to lane i mod 8, products and sums in double, never fused,
/// the lanes added pairwise, then the tail in order), the same bits at
/// every level; four at a time, so that four sums are in flight.
void sk_pair_dots_f32(long count, const float *const *a, const double *w, const double *b, long n,
                      double *out);
/// As sk_pair_dots_f32, with the a[k] in double.
void sk_pair_dots_f64(long count, const double *const *a, const double *w, const double *b, long n,
                      double *out);

/// L-BFGS's direction from its pairs over elements [begin, end): d = t with
/// t = −v, t += alpha[j]·y[j] (j < m), t ← (t·scaling)·gamma (t·scaling
/// with no pairs, t·gamma when scaling is NULL), t += (−c[j])·s[j]; every
/// product and sum rounded on its own, the same bits at every level.
void sk_pair_combine_f32(long m, const float *const *y, const double *alpha, const float *const *s,
                         const double *c, const double *v, const double *scaling, double gamma,
                         long begin, long end, double *d);
/// As sk_pair_combine_f32, with the pairs in double.
void sk_pair_combine_f64(long m, const double *const *y, const double *alpha,
                         const double *const *s, const double *c, const double *v,
                         const double *scaling, double gamma, long begin, long end, double *d);

/// Adam's step over elements [begin, end): m = b1·m + (1 − b1)·g,
/// v = b2·v + (1 − b2)·g·g, x = x − step·m / (√v·root + eps); every
/// operation rounded on its own (never fused), in that order: the same
/// bits at every level.
void sk_adam_update(double *x, const double *g, double *m, double *v, long begin, long end,
                    double b1, double b2, double step, double root, double eps);

/// A network's first layer on sparse (CSR) rows, forward: for each of the
/// `count` rows (rows[r], or first_row + r when rows is NULL),
/// out[r·h + j] = bias[j], then for each stored entry e of the row in
/// order, out[r·h + j] = fma(x, weights_by_column[c·h + j], out[r·h + j])
/// with c = columns[e] and x = values[e]·scale[c] (values[e] when scale is
/// NULL). The dense product's chain (sk_gemm_f32) with the zero terms left
/// out: the same bits at every level, up to the sign of a zero.
void sk_sparse_layer_f32_forward(long count, const long *rows, long first_row,
                                 const long *offsets, const int32_t *columns, const float *values,
                                 const float *scale, const float *weights_by_column,
                                 const float *bias, long h, float *out);
/// As sk_sparse_layer_f32_forward, in double.
void sk_sparse_layer_f64_forward(long count, const long *rows, long first_row,
                                 const long *offsets, const int32_t *columns, const double *values,
                                 const double *scale, const double *weights_by_column,
                                 const double *bias, long h, double *out);
/// The first layer's weight gradient from a block of sparse rows, column
/// group by column group: for group g (column c = group_columns[g], its
/// entries group_starts[g] ..< group_starts[g + 1] in row order, each the
/// block row entry_rows[e] and the stored entry entry_index[e]),
/// acc[j] = 0, then acc[j] = fma(delta[row·h + j], x, acc[j]) per entry
/// (x as in the forward), then gradient[j·d + c] += (double)acc[j]. acc
/// holds h scratch values. The dense weight-gradient product's chain with
/// the zero terms left out.
void sk_sparse_layer_f32_gradient(long groups, const int32_t *group_columns,
                                  const long *group_starts, const int32_t *entry_rows,
                                  const long *entry_index, const float *values,
                                  const float *scale, const float *delta, long h, long d,
                                  float *acc, double *gradient);
/// As sk_sparse_layer_f32_gradient, in double.
void sk_sparse_layer_f64_gradient(long groups, const int32_t *group_columns,
                                  const long *group_starts, const int32_t *entry_rows,
                                  const long *entry_index, const double *values,
                                  const double *scale, const double *delta, long h, long d,
                                  double *acc, double *gradient);

/// C[i][j] = (accumulate ? C[i][j] : 0) + Σ_k op(A)(i, k)·op(B)(k, j) for
/// i < m, j < n, with op(A)(i, k) = a[i·lda + k] (a[k·lda + i] when
/// trans_a) and op(B)(k, j) = b[k·ldb + j] (b[j·ldb + k] when trans_b).
/// Each element is one chain of fused multiply-adds over k in increasing
/// order, rounded to float at each step: the same bits at every level and
/// for any split of C between calls. Packed panels in a buffer per thread,
/// made on the thread's first call (about 1.1 MB, kept). Returns 0, or -1
/// when that buffer could not be allocated (C untouched).
int sk_gemm_f32(int trans_a, int trans_b, long m, long n, long k, const float *a, long lda,
                const float *b, long ldb, float *c, long ldc, int accumulate);
/// As sk_gemm_f32, in double (each element one chain of fused
/// multiply-adds rounded to double; a buffer of about 2.2 MB a thread).
int sk_gemm_f64(int trans_a, int trans_b, long m, long n, long k, const double *a, long lda,
                const double *b, long ldb, double *c, long ldc, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
