//===--- primitives.h ---------------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// Loads and stores, lane masks, max, sums, and the exp and log polynomials: the arithmetic every kernel of a level uses.
// Included once per CPU level by kernels_impl.h (SK_FN names the level).
//
//===----------------------------------------------------------------------===//

//
// The kernel bodies, written once with 16-lane clang vectors and included
// by kernels.c once per CPU level: SK_FN(name) appends the level's suffix,
// and a `#pragma clang attribute` around the include sets the target
// features (AVX-512: one zmm per vector; AVX2: two ymm; baseline: four
// xmm). Every helper is static inline so it is compiled with the
// features of the function that inlines it.
//
// Numerics (see SoftmaxCore's Accuracy article):
// - d = x - m is carried exactly as d + lo (2Sum); e^(d + lo) folds lo into
//   the reduced argument of a Cephes-style polynomial exp.
// - Row sums are accumulated in double, excluding the maximal elements
//   (counted instead), so log Σ = log1p(rest) stays exact when one element
//   dominates.
// - Rows with NaN, +inf, all -inf or no active element take the scalar
//   special-value path (special_lane in kernels.c), which follows the table
//   of the Special Values article exactly.
//
//===----------------------------------------------------------------------===//

SK_INLINE v16f SK_FN(load)(const float *p) {
  v16f v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

SK_INLINE void SK_FN(store)(float *p, v16f v) { __builtin_memcpy(p, &v, sizeof v); }

/// The first n (< 16) elements at p, the rest `fill`; reads nothing past
/// p[n - 1] (masked loads on AVX-512 and AVX2).
SK_INLINE v16f SK_FN(load_part)(const float *p, long n, float fill) {
#if defined(SK_AVX512)
  __mmask16 k = (__mmask16)((1u << n) - 1);
  return (v16f)_mm512_mask_loadu_ps(_mm512_set1_ps(fill), k, p);
#elif defined(SK_AVX2)
  const v16i lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  v16i m = lane < (v16i)(int)n;
  v8f lo = (v8f)_mm256_maskload_ps(p, (__m256i)m.lo);
  v8f hi = (v8f)_mm256_maskload_ps(p + 8, (__m256i)m.hi);
  v16f v = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return m ? v : (v16f)fill;
#else
  float buffer[16];
  for (int k = 0; k < 16; k++) buffer[k] = k < n ? p[k] : fill;
  return SK_FN(load)(buffer);
#endif
}

/// Stores the first n (< 16) lanes of v at p; writes nothing past p[n - 1].
SK_INLINE void SK_FN(store_part)(float *p, v16f v, long n) {
#if defined(SK_AVX512)
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
#elif defined(SK_AVX2)
  const v16i lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  v16i m = lane < (v16i)(int)n;
  _mm256_maskstore_ps(p, (__m256i)m.lo, (__m256)v.lo);
  _mm256_maskstore_ps(p + 8, (__m256i)m.hi, (__m256)v.hi);
#else
  float buffer[16];
  SK_FN(store)(buffer, v);
  for (long k = 0; k < n; k++) p[k] = buffer[k];
#endif
}

/// Lanes [0, n) that are active: all of them, or where the mask byte is set.
SK_INLINE v16i SK_FN(active)(const uint8_t *mask, long n) {
  const v16i lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  v16i in_range = lane < (v16i)(int)n;
  if (!mask) return in_range;
  v16u8 bytes = 0;
  if (n >= 16) {
    __builtin_memcpy(&bytes, mask, 16);
  } else {
    uint8_t buffer[16] = {0};
    for (long k = 0; k < n; k++) buffer[k] = mask[k];
    __builtin_memcpy(&bytes, buffer, 16);
  }
  return (__builtin_convertvector(bytes, v16i) != 0) & in_range;
}

SK_INLINE v16f SK_FN(select)(v16i m, v16f a, v16f b) { return m ? a : b; }

SK_INLINE v16f SK_FN(max)(v16f a, v16f b) { return a > b ? a : b; }

/// The largest lane (no NaN: rows with NaN never use it).
SK_INLINE float SK_FN(horizontal_max)(v16f v) {
  v8f a = v.lo > v.hi ? v.lo : v.hi;
  v4f b = a.lo > a.hi ? a.lo : a.hi;
  v2f c = b.lo > b.hi ? b.lo : b.hi;
  return c.x > c.y ? c.x : c.y;
}

SK_INLINE double SK_FN(sum_pair)(v8d a, v8d b) {
  v8d s = a + b;
  v4d q = s.lo + s.hi;
  v2d h = q.lo + q.hi;
  return h.x + h.y;
}

/// e^(d + lo) for -87.33 <= d <= 0 with |lo| <= ulp(d): Cody-Waite
/// reduction d = n·ln2 + r, e^r = 1 + r + r²·q(r) with q of degree 4
/// fitted for relative error on |r| <= 0.347 (3.1e-9 before rounding, the
/// fit in Scripts/fit_exp_polynomial.py; 1.1 ulp evaluated in float, as
/// Cephes' degree-7 expf), 2^n by exponent bits (vscalefps on AVX-512).
/// About 1.5 ulp in all; no clamp, no underflow select.
SK_INLINE v16f SK_FN(exp_in_range)(v16f d, v16f lo) {
#if defined(SK_AVX512)
  // n = round(d·log2 e) by vrndscaleps, 2^n·p by vscalefps: 2 operations
  // where the portable form below takes 5.
  v16f n = (v16f)_mm512_roundscale_ps((__m512)(d * 1.44269504088896341f),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#else
  const v16f magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  v16f t = d * 1.44269504088896341f + magic;
  v16f n = t - magic;
#endif
  v16f r = d - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  r = r + lo;
  v16f p = 1.3814455596730113e-3f;
  p = p * r + 8.368785493075848e-3f;
  p = p * r + 4.1668396443128586e-2f;
  p = p * r + 1.666651964187622e-1f;
  p = p * r + 4.999999403953552e-1f;
  p = p * (r * r) + r + 1.0f;
#if defined(SK_AVX512)
  return (v16f)_mm512_scalef_ps((__m512)p, (__m512)n);
#else
  v16i scale_bits = (((v16i)t - 0x4B400000) + 127) << 23;
  return p * (v16f)scale_bits;
#endif
}

/// e^(d + lo) for d <= 0: 0 where d < -87.33 (the result would be
/// subnormal or 0) and where d is -inf (lo is then NaN, and so is the
/// clamped computation, which the select discards).
SK_INLINE v16f SK_FN(exp)(v16f d, v16f lo) {
  v16i underflow = d < -87.33f;
  v16f e = SK_FN(exp_in_range)(SK_FN(max)(d, (v16f)-87.33f), lo);
  return SK_FN(select)(underflow, (v16f)0.0f, e);
}

/// e^y for y <= 0 (no correction term), 0 below -87.33.
SK_INLINE v16f SK_FN(exp_plain)(v16f y) { return SK_FN(exp)(y, (v16f)0.0f); }

/// log(u) in double for finite u >= 1: u = 2^e·m with m in [√½, √2),
/// log m = 2·atanh(s), s = (m - 1)/(m + 1), |s| <= 0.172, by its series to
/// s^13 (truncation below 2e-12 relative).
SK_INLINE v8d SK_FN(log_double)(v8d u) {
  v8l bits = (v8l)u;
  v8d e = __builtin_convertvector(((bits >> 52) & 0x7ff) - 1023, v8d);
  v8d m = (v8d)((bits & 0x000fffffffffffffL) | 0x3ff0000000000000L);  // [1, 2)
  v8l big = m > 1.4142135623730951;
  m = big ? m * 0.5 : m;
  e = e + (big ? (v8d)1.0 : (v8d)0.0);
  v8d s = (m - 1.0) / (m + 1.0);
  v8d s2 = s * s;
  v8d p = 1.0 / 13;
  p = p * s2 + 1.0 / 11;
  p = p * s2 + 1.0 / 9;
  p = p * s2 + 1.0 / 7;
  p = p * s2 + 1.0 / 5;
  p = p * s2 + 1.0 / 3;
  p = p * s2 + 1.0;
  return e * 0.6931471805599453 + 2.0 * s * p;
}

/// log1p(rest) for rest >= 0 in double (a series below 1e-4, where
/// 1 + rest would lose digits), rounded once to float.
SK_INLINE v16f SK_FN(log1p_rest)(v8d rest_lo, v8d rest_hi) {
  v8d series_lo = rest_lo * (1.0 - rest_lo * (0.5 - rest_lo * (1.0 / 3.0)));
  v8d series_hi = rest_hi * (1.0 - rest_hi * (0.5 - rest_hi * (1.0 / 3.0)));
  v8d lo = rest_lo < 1e-4 ? series_lo : SK_FN(log_double)(1.0 + rest_lo);
  v8d hi = rest_hi < 1e-4 ? series_hi : SK_FN(log_double)(1.0 + rest_hi);
  return __builtin_shufflevector(__builtin_convertvector(lo, v8f), __builtin_convertvector(hi, v8f),
                                 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
