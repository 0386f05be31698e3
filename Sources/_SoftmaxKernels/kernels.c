//===--- kernels.c --------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// Run-time CPU dispatch for the kernels in kernels_impl.h, which this file
// compiles once per CPU level, and the scalar special-value paths they
// share. No compiler flags are needed (the package stays consumable by
// version): the levels come from `target` attributes, and an unknown
// feature name is an error, not a silently dropped attribute.
//
//===----------------------------------------------------------------------===//

#pragma clang diagnostic error "-Wignored-attributes"
#pragma clang diagnostic error "-Wunknown-attributes"
// 16-lane vectors cross no function boundary: every helper is always
// inlined into a kernel of its own level, so the ABI note does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

#define SK_INLINE static inline __attribute__((always_inline))

#include "SoftmaxKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef float v16f __attribute__((ext_vector_type(16)));
typedef float v8f __attribute__((ext_vector_type(8)));
typedef int v16i __attribute__((ext_vector_type(16)));
typedef double v8d __attribute__((ext_vector_type(8)));
typedef double v4d __attribute__((ext_vector_type(4)));
typedef double v2d __attribute__((ext_vector_type(2)));
typedef float v4f __attribute__((ext_vector_type(4)));
typedef float v2f __attribute__((ext_vector_type(2)));
typedef uint8_t v16u8 __attribute__((ext_vector_type(16)));
typedef long v8l __attribute__((ext_vector_type(8)));

// MARK: - Special values (scalar, shared by every level)

/// The rules of the Special Values article for a lane (`count` elements
/// `stride` apart) whose active elements hold a NaN or +inf, are all -inf,
/// or are none.
static void special_lane(int op, const float *x, long stride, const uint8_t *mask, float *y,
                         long ystride, float *lse, long count) {
  long active = 0, positive_infinities = 0;
  int has_nan = 0;
  for (long i = 0; i < count; i++) {
    if (mask && !mask[i * stride]) continue;
    float v = x[i * stride];
    active++;
    if (v != v) has_nan = 1;
    else if (v == INFINITY) positive_infinities++;
  }
  float lse_value;
  if (active == 0) lse_value = -INFINITY;
  else if (has_nan) lse_value = NAN;
  else if (positive_infinities > 0) lse_value = INFINITY;
  else lse_value = -INFINITY;  // all active elements are -inf
  if (op == SK_OP_LOG_SUM_EXP) {
    *lse = lse_value;
    return;
  }
  long k = positive_infinities > 0 ? positive_infinities : active;
  float share = active > 0 ? (float)(1.0 / (double)k) : 0;
  float log_share = active > 0 ? (float)(-log((double)k)) : -INFINITY;
  for (long i = 0; i < count; i++) {
    int on = !mask || mask[i * stride];
    float v = x[i * stride];
    int wins = on && (positive_infinities > 0 ? v == INFINITY : 1);
    float out;
    if (op == SK_OP_SOFTMAX) out = has_nan && on ? NAN : (wins ? share : 0.0f);
    else out = has_nan && on ? NAN : (wins ? log_share : -INFINITY);
    y[i * ystride] = out;
  }
}

/// Cross-entropy of a row with special values: its softmax goes to g
/// (scaled, minus the one-hot target) and the loss is returned.
static double special_cross_entropy(const float *x, float *g, long cols, int64_t label,
                                    double scale) {
  special_lane(SK_OP_SOFTMAX, x, 1, 0, g, 1, 0, cols);
  // The loss from the special values: NaN anywhere, +inf entries (the
  // label's share among them), or a row of -inf (uniform).
  long positive_infinities = 0, nan = 0;
  for (long c = 0; c < cols; c++) {
    if (x[c] != x[c]) nan = 1;
    else if (x[c] == INFINITY) positive_infinities++;
  }
  double loss;
  if (nan) loss = NAN;
  else if (positive_infinities > 0) loss = x[label] == INFINITY ? log((double)positive_infinities) : INFINITY;
  else loss = log((double)cols);  // all -inf: uniform
  for (long c = 0; c < cols; c++) g[c] = (float)(((double)g[c] - (c == label ? 1.0 : 0.0)) * scale);
  return loss;
}

/// A loss rounded to float: finite beyond float's range saturates (the true
/// loss of finite logits is finite), infinite stays infinite.
static inline float narrow_loss(double loss) {
  if (loss > 3.4028234663852886e38 && loss != INFINITY) return 3.40282347e38f;
  return (float)loss;
}

// The matrix product's blocks (level/gemm.h), the same at every level: k
// rows of a packed panel (a B micro-panel, KC × NR, stays in L1), rows of C
// per packed A block (KC × MC in L2), columns per packed B block. MC is a
// multiple of every level's MR.
#define SK_GEMM_KC 256
#define SK_GEMM_MC 96
#define SK_GEMM_NC 1024

/// The bytes of X per part of a regression block (SK_PART_BYTES unless a
/// test sets another: the size changes the time, never the bits).
static long sk_part_bytes_setting = 0;
void sk_set_regression_part_bytes(long bytes) {
  __atomic_store_n(&sk_part_bytes_setting, bytes, __ATOMIC_RELAXED);
}
static inline long sk_regression_part_bytes(long fallback) {
  long bytes = __atomic_load_n(&sk_part_bytes_setting, __ATOMIC_RELAXED);
  return bytes > 0 ? bytes : fallback;
}

// MARK: - The levels

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#define SK_FN(name) name##_avx512
#define SK_AVX512 1
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma"))), apply_to = function)
#include "kernels_impl.h"
#pragma clang attribute pop
#undef SK_FN
#undef SK_AVX512

#define SK_FN(name) name##_avx2
#define SK_AVX2 1
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "kernels_impl.h"
#pragma clang attribute pop
#undef SK_FN
#undef SK_AVX2

#endif

#define SK_FN(name) name##_baseline
#include "kernels_impl.h"
#undef SK_FN

// MARK: - Dispatch

int sk_supported_level(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("fma"))
    return SK_LEVEL_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SK_LEVEL_AVX2;
#endif
  return SK_LEVEL_BASELINE;
}

static int chosen_level = -1;

static int level_from_environment(void) {
  int supported = sk_supported_level();
  const char *forced = getenv("SOFTMAX_CPU_LEVEL");
  if (!forced || !*forced) return supported;
  int wanted = supported;
  if (!strcmp(forced, "baseline")) wanted = SK_LEVEL_BASELINE;
  else if (!strcmp(forced, "avx2")) wanted = SK_LEVEL_AVX2;
  else if (!strcmp(forced, "avx512")) wanted = SK_LEVEL_AVX512;
  return wanted < supported ? wanted : supported;
}

int sk_level(void) {
  int level = __atomic_load_n(&chosen_level, __ATOMIC_ACQUIRE);
  if (level < 0) {
    level = level_from_environment();
    __atomic_store_n(&chosen_level, level, __ATOMIC_RELEASE);
  }
  return level;
}

int sk_set_level(int level) {
  int supported = sk_supported_level();
  if (level < SK_LEVEL_BASELINE) level = SK_LEVEL_BASELINE;
  if (level > supported) level = supported;
  __atomic_store_n(&chosen_level, level, __ATOMIC_RELEASE);
  return level;
}

const char *sk_level_name(int level) {
  switch (level) {
  case SK_LEVEL_AVX512: return "avx512";
  case SK_LEVEL_AVX2: return "avx2";
  default: return "baseline";
  }
}

#if defined(__x86_64__) || defined(__i386__)
#define SK_DISPATCH(call)                                   \
  switch (sk_level()) {                                     \
  case SK_LEVEL_AVX512: return call##_avx512;               \
  case SK_LEVEL_AVX2: return call##_avx2;                   \
  default: return call##_baseline;                          \
  }
#else
#define SK_DISPATCH(call) return call##_baseline;
#endif

typedef void (*rows_fn)(int, const float *, const uint8_t *, float *, long, long, long);
static rows_fn pick_rows(void) { SK_DISPATCH(rows) }
void sk_rows(int op, const float *x, const uint8_t *mask, float *y, long row_begin, long row_end,
             long cols) {
  pick_rows()(op, x, mask, y, row_begin, row_end, cols);
}

typedef void (*columns_fn)(int, const float *, const uint8_t *, float *, long, long, long, long);
static columns_fn pick_columns(void) { SK_DISPATCH(columns) }
void sk_columns(int op, const float *x, const uint8_t *mask, float *y, long rows, long cols,
                long col_begin, long col_end) {
  pick_columns()(op, x, mask, y, rows, cols, col_begin, col_end);
}

typedef void (*vjp_fn)(int, const float *, const float *, float *, long, long, long);
static vjp_fn pick_vjp(void) { SK_DISPATCH(vjp_rows) }
void sk_vjp_rows(int log, const float *out, const float *v, float *g, long row_begin,
                 long row_end, long cols) {
  pick_vjp()(log, out, v, g, row_begin, row_end, cols);
}

typedef double (*ce_fn)(const float *, const int64_t *, float *, float *, double, long, long,
                        long);
static ce_fn pick_ce(void) { SK_DISPATCH(cross_entropy_rows) }
double sk_cross_entropy_rows(const float *x, const int64_t *labels, float *g, float *losses,
                             double scale, long row_begin, long row_end, long cols) {
  return pick_ce()(x, labels, g, losses, scale, row_begin, row_end, cols);
}

typedef void (*regression_fn)(const float *, const int64_t *, long, long, const float *,
                              const float *, long, const float *, const float *, const int64_t *,
                              const double *, int, float *, float *, double *);
static regression_fn pick_regression(void) { SK_DISPATCH(regression_block) }
void sk_regression_block(const float *x, const int64_t *row_index, long rows, long d,
                         const float *w, const float *b, long k, const float *mean,
                         const float *inverse_scale, const int64_t *labels,
                         const double *row_weights, int want_gradient, float *probabilities,
                         float *scratch, double *out) {
  pick_regression()(x, row_index, rows, d, w, b, k, mean, inverse_scale, labels, row_weights,
                    want_gradient, probabilities, scratch, out);
}

typedef void (*regression_hessian_fn)(const float *, long, long, const float *, const float *,
                                      long, const float *, const float *, const float *,
                                      const double *, float *, double *);
static regression_hessian_fn pick_regression_hessian(void) {
  SK_DISPATCH(regression_hessian_block)
}
void sk_regression_hessian_block(const float *x, long rows, long d, const float *v, const float *c,
                                 long k, const float *mean, const float *inverse_scale,
                                 const float *probabilities, const double *row_weights,
                                 float *scratch, double *out) {
  pick_regression_hessian()(x, rows, d, v, c, k, mean, inverse_scale, probabilities, row_weights,
                            scratch, out);
}

typedef void (*pair_dots_f32_fn)(long, const float *const *, const double *, const double *, long,
                                 double *);
static pair_dots_f32_fn pick_pair_dots_f32(void) { SK_DISPATCH(pair_dots_f32) }
void sk_pair_dots_f32(long count, const float *const *a, const double *w, const double *b, long n,
                      double *out) {
  pick_pair_dots_f32()(count, a, w, b, n, out);
}

typedef void (*pair_dots_f64_fn)(long, const double *const *, const double *, const double *,
                                 long, double *);
static pair_dots_f64_fn pick_pair_dots_f64(void) { SK_DISPATCH(pair_dots_f64) }
void sk_pair_dots_f64(long count, const double *const *a, const double *w, const double *b, long n,
                      double *out) {
  pick_pair_dots_f64()(count, a, w, b, n, out);
}

typedef void (*pair_combine_f32_fn)(long, const float *const *, const double *,
                                    const float *const *, const double *, const double *,
                                    const double *, double, long, long, double *);
static pair_combine_f32_fn pick_pair_combine_f32(void) { SK_DISPATCH(pair_combine_f32) }
void sk_pair_combine_f32(long m, const float *const *y, const double *alpha, const float *const *s,
                         const double *c, const double *v, const double *scaling, double gamma,
                         long begin, long end, double *d) {
  pick_pair_combine_f32()(m, y, alpha, s, c, v, scaling, gamma, begin, end, d);
}

typedef void (*pair_combine_f64_fn)(long, const double *const *, const double *,
                                    const double *const *, const double *, const double *,
                                    const double *, double, long, long, double *);
static pair_combine_f64_fn pick_pair_combine_f64(void) { SK_DISPATCH(pair_combine_f64) }
void sk_pair_combine_f64(long m, const double *const *y, const double *alpha,
                         const double *const *s, const double *c, const double *v,
                         const double *scaling, double gamma, long begin, long end, double *d) {
  pick_pair_combine_f64()(m, y, alpha, s, c, v, scaling, gamma, begin, end, d);
}

typedef void (*gemm_f32_fn)(int, int, long, long, long, const float *, long, const float *, long,
                            float *, long, int, float *);
static gemm_f32_fn pick_gemm_f32(void) { SK_DISPATCH(gemm_f32) }
typedef void (*gemm_f64_fn)(int, int, long, long, long, const double *, long, const double *,
                            long, double *, long, int, double *);
static gemm_f64_fn pick_gemm_f64(void) { SK_DISPATCH(gemm_f64) }
/// Each thread's packing buffers, made on its first product of the type
/// and kept (the same size at every level: KC·(NC + MC) scalars, about
/// 1.1 MB for float and 2.2 MB for double).
static __thread float *gemm_work_f32;
static __thread double *gemm_work_f64;
int sk_gemm_f32(int trans_a, int trans_b, long m, long n, long k, const float *a, long lda,
                const float *b, long ldb, float *c, long ldc, int accumulate) {
  if (!gemm_work_f32) {
    gemm_work_f32 =
        aligned_alloc(64, (size_t)SK_GEMM_KC * (SK_GEMM_NC + SK_GEMM_MC) * sizeof(float));
    if (!gemm_work_f32) return -1;
  }
  pick_gemm_f32()(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate, gemm_work_f32);
  return 0;
}
int sk_gemm_f64(int trans_a, int trans_b, long m, long n, long k, const double *a, long lda,
                const double *b, long ldb, double *c, long ldc, int accumulate) {
  if (!gemm_work_f64) {
    gemm_work_f64 =
        aligned_alloc(64, (size_t)SK_GEMM_KC * (SK_GEMM_NC + SK_GEMM_MC) * sizeof(double));
    if (!gemm_work_f64) return -1;
  }
  pick_gemm_f64()(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate, gemm_work_f64);
  return 0;
}

typedef void (*adam_update_fn)(double *, const double *, double *, double *, long, long, double,
                               double, double, double, double);
static adam_update_fn pick_adam_update(void) { SK_DISPATCH(adam_update) }
void sk_adam_update(double *x, const double *g, double *m, double *v, long begin, long end,
                    double b1, double b2, double step, double root, double eps) {
  pick_adam_update()(x, g, m, v, begin, end, b1, b2, step, root, eps);
}

#define SK_SPARSE_ENTRY(T, NAME)                                                                  \
  typedef void (*NAME##_forward_fn)(long, const long *, long, const long *, const int32_t *,      \
                                    const T *, const T *, const T *, const T *, long, T *);       \
  static NAME##_forward_fn pick_##NAME##_forward(void) { SK_DISPATCH(NAME##_forward) }            \
  void sk_##NAME##_forward(long count, const long *rows, long first_row, const long *offsets,     \
                           const int32_t *columns, const T *values, const T *scale,               \
                           const T *weights_by_column, const T *bias, long h, T *out) {           \
    pick_##NAME##_forward()(count, rows, first_row, offsets, columns, values, scale,              \
                            weights_by_column, bias, h, out);                                     \
  }                                                                                               \
  typedef void (*NAME##_gradient_fn)(long, const int32_t *, const long *, const int32_t *,        \
                                     const long *, const T *, const T *, const T *, long, long,   \
                                     T *, double *);                                              \
  static NAME##_gradient_fn pick_##NAME##_gradient(void) { SK_DISPATCH(NAME##_gradient) }         \
  void sk_##NAME##_gradient(long groups, const int32_t *group_columns, const long *group_starts,  \
                            const int32_t *entry_rows, const long *entry_index, const T *values,  \
                            const T *scale, const T *delta, long h, long d, T *acc,               \
                            double *gradient) {                                                   \
    pick_##NAME##_gradient()(groups, group_columns, group_starts, entry_rows, entry_index, values, \
                             scale, delta, h, d, acc, gradient);                                  \
  }
SK_SPARSE_ENTRY(float, sparse_layer_f32)
SK_SPARSE_ENTRY(double, sparse_layer_f64)
