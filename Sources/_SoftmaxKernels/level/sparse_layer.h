//===--- sparse_layer.h -----------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// A network's first layer on sparse (CSR) rows, in float and in double:
// the forward products from a row's stored entries, and the weight gradient
// of the columns a block holds. Included once per CPU level by
// kernels_impl.h (SK_FN names the level).
//
// Every sum is the dense product's chain (gemm.h) with its zero terms left
// out: fused multiply-adds in increasing column (forward) or row (gradient)
// order. A skipped term x·w = ±0 changes no nonzero sum, so the results are
// the dense product's, up to the sign of a zero.
//
//===----------------------------------------------------------------------===//

#define SK_SPARSE_BODY(T, NAME, FMA)                                                              \
  void SK_FN(NAME##_forward)(long count, const long *rows, long first_row, const long *offsets,    \
                             const int32_t *columns, const T *values, const T *scale,              \
                             const T *weights_by_column, const T *bias, long h, T *out) {          \
    _Pragma("clang fp contract(off)");                                                            \
    for (long r = 0; r < count; r++) {                                                            \
      long row = rows ? rows[r] : first_row + r;                                                  \
      T *restrict o = out + r * h;                                                                \
      for (long j = 0; j < h; j++) o[j] = bias[j];                                                \
      for (long e = offsets[row]; e < offsets[row + 1]; e++) {                                    \
        long c = columns[e];                                                                      \
        T x = scale ? values[e] * scale[c] : values[e];                                           \
        const T *restrict w = weights_by_column + c * h;                                          \
        for (long j = 0; j < h; j++) o[j] = FMA(x, w[j], o[j]);                                   \
      }                                                                                           \
    }                                                                                             \
  }                                                                                               \
  void SK_FN(NAME##_gradient)(long groups, const int32_t *group_columns, const long *group_starts, \
                              const int32_t *entry_rows, const long *entry_index,                 \
                              const T *values, const T *scale, const T *delta, long h, long d,    \
                              T *acc, double *gradient) {                                         \
    _Pragma("clang fp contract(off)");                                                            \
    for (long g = 0; g < groups; g++) {                                                           \
      long c = group_columns[g];                                                                  \
      T *restrict a = acc;                                                                        \
      for (long j = 0; j < h; j++) a[j] = 0;                                                      \
      for (long e = group_starts[g]; e < group_starts[g + 1]; e++) {                              \
        long i = entry_index[e];                                                                  \
        T x = scale ? values[i] * scale[c] : values[i];                                           \
        const T *restrict dr = delta + (long)entry_rows[e] * h;                                   \
        for (long j = 0; j < h; j++) a[j] = FMA(dr[j], x, a[j]);                                  \
      }                                                                                           \
      for (long j = 0; j < h; j++) gradient[j * d + c] += (double)a[j];                           \
    }                                                                                             \
  }

SK_SPARSE_BODY(float, sparse_layer_f32, __builtin_fmaf)
SK_SPARSE_BODY(double, sparse_layer_f64, __builtin_fma)
#undef SK_SPARSE_BODY
