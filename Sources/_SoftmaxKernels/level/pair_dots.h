//===--- pair_dots.h --------------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// Several dot products sharing one operand, in the solvers' order (L-BFGS's
// inner products of its correction pairs). Included once per CPU level by
// kernels_impl.h (SK_FN names the level).
//
// Each dot is that of the Swift `laneDot`: element i of the eights to lane
// i mod 8, products and sums in double and never fused (contraction off),
// the lanes added pairwise, then the tail in order. Eight lanes of one sum
// wait on each addition (four cycles for eight elements whatever the vector
// width); four dots in one loop keep four sums in flight, and every level
// gives the same bits.
//
//===----------------------------------------------------------------------===//

SK_INLINE double SK_FN(pair_lane_sum)(v8d l) {
#pragma clang fp contract(off)
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

SK_INLINE v8d SK_FN(pair_load_f64)(const double *p) {
  v8d v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

SK_INLINE v8d SK_FN(pair_load_f32)(const float *p) {
  v8f v;
  __builtin_memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, v8d);
}

/// out[k] = Σ_i A_k[i]·b[i], or Σ_i (A_k[i]·w[i])·b[i] when `w` is given,
/// for k < count; A_k = a[k] (`float` when `a32`, else `double`).
#define SK_PAIR_DOTS(NAME, T, LOAD)                                                          \
  void SK_FN(NAME)(long count, const T *const *a, const double *w, const double *b, long n, \
                   double *out) {                                                            \
    _Pragma("clang fp contract(off)") long full = n / 8 * 8;                                 \
    long k = 0;                                                                              \
    for (; k + 4 <= count; k += 4) {                                                         \
      const T *a0 = a[k], *a1 = a[k + 1], *a2 = a[k + 2], *a3 = a[k + 3];                    \
      v8d l0 = 0, l1 = 0, l2 = 0, l3 = 0;                                                    \
      if (w) {                                                                               \
        for (long i = 0; i < full; i += 8) {                                                 \
          v8d y = SK_FN(pair_load_f64)(b + i), ww = SK_FN(pair_load_f64)(w + i);             \
          l0 += (LOAD(a0 + i) * ww) * y;                                                     \
          l1 += (LOAD(a1 + i) * ww) * y;                                                     \
          l2 += (LOAD(a2 + i) * ww) * y;                                                     \
          l3 += (LOAD(a3 + i) * ww) * y;                                                     \
        }                                                                                    \
      } else {                                                                               \
        for (long i = 0; i < full; i += 8) {                                                 \
          v8d y = SK_FN(pair_load_f64)(b + i);                                               \
          l0 += LOAD(a0 + i) * y;                                                            \
          l1 += LOAD(a1 + i) * y;                                                            \
          l2 += LOAD(a2 + i) * y;                                                            \
          l3 += LOAD(a3 + i) * y;                                                            \
        }                                                                                    \
      }                                                                                      \
      double s[4] = {SK_FN(pair_lane_sum)(l0), SK_FN(pair_lane_sum)(l1),                     \
                     SK_FN(pair_lane_sum)(l2), SK_FN(pair_lane_sum)(l3)};                    \
      const T *as[4] = {a0, a1, a2, a3};                                                     \
      for (int j = 0; j < 4; j++) {                                                          \
        for (long i = full; i < n; i++)                                                      \
          s[j] += w ? ((double)as[j][i] * w[i]) * b[i] : (double)as[j][i] * b[i];            \
        out[k + j] = s[j];                                                                   \
      }                                                                                      \
    }                                                                                        \
    for (; k < count; k++) {                                                                 \
      const T *a0 = a[k];                                                                    \
      v8d l0 = 0;                                                                            \
      for (long i = 0; i < full; i += 8) {                                                   \
        v8d y = SK_FN(pair_load_f64)(b + i);                                                 \
        l0 += w ? (LOAD(a0 + i) * SK_FN(pair_load_f64)(w + i)) * y : LOAD(a0 + i) * y;        \
      }                                                                                      \
      double s = SK_FN(pair_lane_sum)(l0);                                                   \
      for (long i = full; i < n; i++) s += w ? ((double)a0[i] * w[i]) * b[i] : (double)a0[i] * b[i]; \
      out[k] = s;                                                                            \
    }                                                                                        \
  }

SK_PAIR_DOTS(pair_dots_f32, float, SK_FN(pair_load_f32))
SK_PAIR_DOTS(pair_dots_f64, double, SK_FN(pair_load_f64))
#undef SK_PAIR_DOTS

/// L-BFGS's direction from its pairs, element by element over
/// [begin, end): t = −v; t += alpha[j]·y[j] for j < m; t ← (t·M)·gamma
/// (t·M with no pairs; t·gamma without M); t += (−c[j])·s[j] for j < m;
/// d = t. Each product and sum rounded on its own (never fused), in that
/// order: the bits of the Swift loop it replaces, at every level.
#define SK_PAIR_COMBINE(NAME, T, LOAD)                                                       \
  void SK_FN(NAME)(long m, const T *const *y, const double *alpha, const T *const *s,        \
                   const double *c, const double *v, const double *M, double gamma,           \
                   long begin, long end, double *d) {                                         \
    _Pragma("clang fp contract(off)") long i = begin;                                        \
    for (; i + 8 <= end; i += 8) {                                                           \
      v8d t = -SK_FN(pair_load_f64)(v + i);                                                  \
      for (long j = 0; j < m; j++) t += alpha[j] * LOAD(y[j] + i);                           \
      if (M) {                                                                               \
        v8d w = SK_FN(pair_load_f64)(M + i);                                                 \
        t = m > 0 ? (t * w) * gamma : t * w;                                                 \
      } else if (m > 0) {                                                                    \
        t = t * gamma;                                                                       \
      }                                                                                      \
      for (long j = 0; j < m; j++) t += (-c[j]) * LOAD(s[j] + i);                            \
      __builtin_memcpy(d + i, &t, sizeof t);                                                 \
    }                                                                                        \
    for (; i < end; i++) {                                                                   \
      double t = -v[i];                                                                      \
      for (long j = 0; j < m; j++) t += alpha[j] * (double)y[j][i];                          \
      if (M) {                                                                               \
        t = m > 0 ? (t * M[i]) * gamma : t * M[i];                                           \
      } else if (m > 0) {                                                                    \
        t = t * gamma;                                                                       \
      }                                                                                      \
      for (long j = 0; j < m; j++) t += (-c[j]) * (double)s[j][i];                           \
      d[i] = t;                                                                              \
    }                                                                                        \
  }

SK_PAIR_COMBINE(pair_combine_f32, float, SK_FN(pair_load_f32))
SK_PAIR_COMBINE(pair_combine_f64, double, SK_FN(pair_load_f64))
#undef SK_PAIR_COMBINE
