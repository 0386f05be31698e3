//===--- kernels_impl.h ---------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
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

// MARK: - Per-vector steps shared by rows and columns

/// e^(v - m) for active lanes (0 elsewhere). Returns the term to add to
/// the row's sum: with `exclude_max`, lanes where v == m contribute 0 and
/// are counted in at_max instead (log-softmax needs log1p of the rest).
SK_INLINE v16f SK_FN(exp_term)(v16f v, v16f m, v16i a, v16f *e_out, v16i *at_max,
                               const int exclude_max, const int in_range) {
  v16f d = v - m;
  v16f bb = d - v;
  v16f lo = (v - (d - bb)) + (-m - bb);  // 2Sum: d + lo == v - m exactly
  v16f e = in_range ? SK_FN(exp_in_range)(d, lo) : SK_FN(exp)(d, lo);
  e = SK_FN(select)(a, e, (v16f)0.0f);
  *e_out = e;
  if (!exclude_max) return e;
  v16i eq = (v == m) & a;
  *at_max -= eq;
  return SK_FN(select)(eq, (v16f)0.0f, e);
}

SK_INLINE void SK_FN(add_to_sum)(v16f c, v8d *sum_lo, v8d *sum_hi) {
  *sum_lo += __builtin_convertvector(c.lo, v8d);
  *sum_hi += __builtin_convertvector(c.hi, v8d);
}

/// (v - m) - log Σ for active lanes, -inf elsewhere; a finite v whose
/// difference overflowed saturates at -FLT_MAX.
SK_INLINE v16f SK_FN(log_term)(v16f v, v16f m, v16f log_total, v16i a) {
  const v16f ninf = -__builtin_inff();
  v16f d = v - m;
  v16f bb = d - v;
  v16f lo = (v - (d - bb)) + (-m - bb);
  v16f out = (d - log_total) + lo;
  v16f floor = SK_FN(select)(v == ninf, ninf, (v16f)-3.40282347e38f);
  out = SK_FN(select)(d == ninf, floor, out);
  return SK_FN(select)(a, out, ninf);
}

// MARK: - One 16-lane block of lanes (columns of a matrix)

/// op down `lanes` (≤ 16) adjacent columns of x: `count` rows with leading
/// dimension ld; y has leading dimension yld (softmax, log-softmax);
/// logsumexp writes lse[0..<lanes]. If stats is given, stats[k] receives
/// lane k's max m and stats[16 + k] its log Σ e^(x - m) (NaN for special
/// lanes). Lanes with special values are finished by special_lane.
/// `full` (lanes == 16) and `masked` are constants in each instantiation.
SK_INLINE void SK_FN(column_block_impl)(int op, const float *x, long ld, const uint8_t *mask,
                                        float *y, long yld, float *lse, long count, long lanes,
                                        float *stats, const int full, const int masked) {
  const v16f ninf = -__builtin_inff();
  const v16i lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const v16i in_range = full ? (v16i)-1 : lane < (v16i)(int)lanes;
#define SK_LOAD(p) (full ? SK_FN(load)(p) : SK_FN(load_part)((p), lanes, 0.0f))
#define SK_STORE(p, v) (full ? SK_FN(store)((p), (v)) : SK_FN(store_part)((p), (v), lanes))
#define SK_ACTIVE(r) (masked ? SK_FN(active)(mask + (r) * ld, lanes) : in_range)
  v16f vmax = ninf, vmin = __builtin_inff();
  v16i bad = 0;
  for (long r = 0; r < count; r++) {
    v16i a = SK_ACTIVE(r);
    v16f raw = SK_LOAD(x + r * ld);
    v16f v = SK_FN(select)(a, raw, ninf);
    bad |= (v != v) | (v == __builtin_inff()) | ((raw == ninf) & a);
    vmax = SK_FN(max)(vmax, v);
    vmin = SK_FN(select)(a, raw < vmin ? raw : vmin, vmin);
  }
  // The fast softmax (see row_impl): every lane finite, shifted by
  // m' = max(m, -min) >= |x| so Fast2Sum is exact, spread below 87.
  if (op == SK_OP_SOFTMAX && !stats && !__builtin_reduce_or(bad & in_range)) {
    v16f shift = SK_FN(max)(vmax, -vmin);
    v16i fits = (shift - vmax <= 16.0f) & (shift - vmin <= 87.0f);
    if (!__builtin_reduce_or(~fits & in_range)) {
      shift = SK_FN(select)(in_range, shift, (v16f)0.0f);
      v16f neg = -shift;
      v8d sum_lo = 0, sum_hi = 0;
      for (long r = 0; r < count; r++) {
        v16f v = full ? SK_FN(load)(x + r * ld) : SK_FN(load_part)(x + r * ld, lanes, 0.0f);
        v16f d = v + neg;
        v16f e = SK_FN(exp_in_range)(d, v - (d + shift));
        e = SK_FN(select)(SK_ACTIVE(r), e, (v16f)0.0f);
        SK_FN(add_to_sum)(e, &sum_lo, &sum_hi);
        SK_STORE(y + r * yld, e);
      }
      v8d inv_lo = 1.0 / sum_lo, inv_hi = 1.0 / sum_hi;
      v16f inv = __builtin_shufflevector(__builtin_convertvector(inv_lo, v8f),
                                         __builtin_convertvector(inv_hi, v8f), 0, 1, 2, 3, 4, 5,
                                         6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      for (long r = 0; r < count; r++) SK_STORE(y + r * yld, SK_LOAD(y + r * yld) * inv);
      return;
    }
  }
  // A -inf among finite values is not special; only NaN, +inf, all -inf
  // or nothing active are.
  bad = 0;
  for (long r = 0; r < count; r++) {
    v16f v = SK_FN(select)(SK_ACTIVE(r), SK_LOAD(x + r * ld), ninf);
    bad |= (v != v) | (v == __builtin_inff());
  }
  v16i special = (bad | (vmax == ninf)) & in_range;
  v16i regular = ~special & in_range;
  v16f m = SK_FN(select)(regular, vmax, (v16f)0.0f);

  v8d sum_lo = 0, sum_hi = 0;
  v16i at_max = 0;
  // Softmax needs only 1 + rest; log-softmax and logsumexp need the rest
  // itself, without the maximal elements.
  const int exclude_max = op != SK_OP_SOFTMAX || stats;
  // No element can underflow when every lane's spread is below 87 (and no
  // lane holds a -inf): then exp needs no clamp and no select.
  v16i narrow = (vmin - vmax >= -87.0f) | ~regular;
  if (!__builtin_reduce_or(~narrow & in_range)) {
    for (long r = 0; r < count; r++) {
      v16f e;
      v16f c = SK_FN(exp_term)(SK_LOAD(x + r * ld), m, SK_ACTIVE(r) & regular, &e, &at_max,
                               exclude_max, 1);
      SK_FN(add_to_sum)(c, &sum_lo, &sum_hi);
      if (op == SK_OP_SOFTMAX) SK_STORE(y + r * yld, e);
    }
  } else {
    for (long r = 0; r < count; r++) {
      v16f e;
      v16f c = SK_FN(exp_term)(SK_LOAD(x + r * ld), m, SK_ACTIVE(r) & regular, &e, &at_max,
                               exclude_max, 0);
      SK_FN(add_to_sum)(c, &sum_lo, &sum_hi);
      if (op == SK_OP_SOFTMAX) SK_STORE(y + r * yld, e);
    }
  }
  v16i extra = exclude_max ? at_max - 1 : (v16i)-1;
  v8d rest_lo = sum_lo + __builtin_convertvector(extra.lo, v8d);
  v8d rest_hi = sum_hi + __builtin_convertvector(extra.hi, v8d);

  if (stats) {
    v16f nan = __builtin_nanf("");
    SK_FN(store)(stats, SK_FN(select)(regular, m, nan));
    SK_FN(store)(stats + 16, SK_FN(select)(regular, SK_FN(log1p_rest)(rest_lo, rest_hi), nan));
  }
  if (op == SK_OP_SOFTMAX) {
    v8d inv_lo = 1.0 / (1.0 + rest_lo), inv_hi = 1.0 / (1.0 + rest_hi);
    v16f inv = __builtin_shufflevector(__builtin_convertvector(inv_lo, v8f),
                                       __builtin_convertvector(inv_hi, v8f), 0, 1, 2, 3, 4, 5,
                                       6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (long r = 0; r < count; r++) SK_STORE(y + r * yld, SK_LOAD(y + r * yld) * inv);
  } else {
    v16f log_total = SK_FN(log1p_rest)(rest_lo, rest_hi);
    if (op == SK_OP_LOG_SUM_EXP) {
      // m + log Σ, summed in double: never overflows.
      v16f total = __builtin_shufflevector(
          __builtin_convertvector(__builtin_convertvector(m.lo, v8d) +
                                      __builtin_convertvector(log_total.lo, v8d), v8f),
          __builtin_convertvector(__builtin_convertvector(m.hi, v8d) +
                                      __builtin_convertvector(log_total.hi, v8d), v8f),
          0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      SK_FN(store_part)(lse, total, lanes);
    } else {
      for (long r = 0; r < count; r++) {
        SK_STORE(y + r * yld, SK_FN(log_term)(SK_LOAD(x + r * ld), m, log_total, SK_ACTIVE(r)));
      }
    }
  }
#undef SK_LOAD
#undef SK_STORE
#undef SK_ACTIVE
  if (__builtin_reduce_or(special)) {
    for (long k = 0; k < lanes; k++) {
      if (special[k]) special_lane(op, x + k, ld, mask ? mask + k : 0, y + k, yld, lse + k, count);
    }
  }
}

static void SK_FN(column_block)(int op, const float *x, long ld, const uint8_t *mask, float *y,
                                long yld, float *lse, long count, long lanes, float *stats) {
  if (lanes == 16) {
    if (mask) SK_FN(column_block_impl)(op, x, ld, mask, y, yld, lse, count, 16, stats, 1, 1);
    else SK_FN(column_block_impl)(op, x, ld, mask, y, yld, lse, count, 16, stats, 1, 0);
  } else {
    if (mask) SK_FN(column_block_impl)(op, x, ld, mask, y, yld, lse, count, lanes, stats, 0, 1);
    else SK_FN(column_block_impl)(op, x, ld, mask, y, yld, lse, count, lanes, stats, 0, 0);
  }
}

// MARK: - One long row

/// Pass 2 of a row: e^(x - m) for every element (stored to y for softmax),
/// summed in blocks of 8 vectors as a float tree (depth 3: at most 3u
/// relative) widened to double; see exp_term for exclude_max.
SK_INLINE void SK_FN(row_sums)(int op, const float *x, const uint8_t *mask, float *y, long n,
                               v16f vm, const int exclude_max, const int masked,
                               const int in_range, v16i *at_max, v8d *sum_lo, v8d *sum_hi) {
  const v16i all = -1;
  const long full = n & ~15L, tail = n - full;
#define SK_ACTIVE(i) (masked ? SK_FN(active)(mask + (i), 16) : all)
  long i = 0;
  for (; i + 128 <= full; i += 128) {
    v16f c[8], e[8];
    for (int k = 0; k < 8; k++) {
      c[k] = SK_FN(exp_term)(SK_FN(load)(x + i + 16 * k), vm, SK_ACTIVE(i + 16 * k), &e[k],
                             at_max, exclude_max, in_range);
      if (op == SK_OP_SOFTMAX) SK_FN(store)(y + i + 16 * k, e[k]);
    }
    v16f t = ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
    SK_FN(add_to_sum)(t, sum_lo, sum_hi);
  }
  for (; i < full; i += 16) {
    v16f e;
    v16f c = SK_FN(exp_term)(SK_FN(load)(x + i), vm, SK_ACTIVE(i), &e, at_max, exclude_max,
                             in_range);
    SK_FN(add_to_sum)(c, sum_lo, sum_hi);
    if (op == SK_OP_SOFTMAX) SK_FN(store)(y + i, e);
  }
  if (tail) {
    v16f e;
    v16f c = SK_FN(exp_term)(SK_FN(load_part)(x + full, tail, 0.0f), vm,
                             SK_FN(active)(masked ? mask + full : 0, tail), &e, at_max,
                             exclude_max, in_range);
    SK_FN(add_to_sum)(c, sum_lo, sum_hi);
    if (op == SK_OP_SOFTMAX) SK_FN(store_part)(y + full, e, tail);
  }
#undef SK_ACTIVE
}

/// Pass 1 over n unmasked elements: max, min, and whether any element is
/// not finite (v - v is NaN exactly for ±inf and NaN; its bits are ORed,
/// a 1-cycle chain). Two accumulators each, so the max/min chains do not
/// bound the loop. The tail (n % 16) is included.
SK_INLINE void SK_FN(scan)(const float *x, long n, float *max_out, float *min_out,
                           int *all_finite) {
  const long full = n & ~15L, tail = n - full;
  v16f max0 = -__builtin_inff(), max1 = max0, min0 = __builtin_inff(), min1 = min0;
  v16i bits0 = 0, bits1 = 0;
  long i = 0;
  for (; i + 32 <= full; i += 32) {
    v16f a = SK_FN(load)(x + i), b = SK_FN(load)(x + i + 16);
    bits0 |= (v16i)(a - a);
    bits1 |= (v16i)(b - b);
    max0 = SK_FN(max)(max0, a);
    max1 = SK_FN(max)(max1, b);
    min0 = a < min0 ? a : min0;
    min1 = b < min1 ? b : min1;
  }
  for (; i < full; i += 16) {
    v16f a = SK_FN(load)(x + i);
    bits0 |= (v16i)(a - a);
    max0 = SK_FN(max)(max0, a);
    min0 = a < min0 ? a : min0;
  }
  if (tail) {
    v16f a = SK_FN(load_part)(x + full, tail, x[0]);  // x[0] is neutral for all three
    bits0 |= (v16i)(a - a);
    max0 = SK_FN(max)(max0, a);
    min0 = a < min0 ? a : min0;
  }
  *max_out = SK_FN(horizontal_max)(SK_FN(max)(max0, max1));
  v16f lowest = min0 < min1 ? min0 : min1;
  *min_out = -SK_FN(horizontal_max)(-lowest);
  *all_finite = !__builtin_reduce_or(bits0 | bits1);
}

/// Pass 2 of the fast softmax: y = e^(x - shift) (Fast2Sum-exact argument,
/// no underflow possible), summed in blocks of 8 vectors as a float tree
/// widened to double, then one vector at a time.
SK_INLINE void SK_FN(fast_exp_pass)(const float *x, float *y, long n, float shift, v8d *sum_lo,
                                    v8d *sum_hi) {
  const long full = n & ~15L;
  const v16f vs = shift, neg = -shift;
  long i = 0;
  for (; i + 128 <= full; i += 128) {
    v16f e[8];
    for (int k = 0; k < 8; k++) {
      v16f v = SK_FN(load)(x + i + 16 * k);
      v16f d = v + neg;
      e[k] = SK_FN(exp_in_range)(d, v - (d + vs));
      SK_FN(store)(y + i + 16 * k, e[k]);
    }
    SK_FN(add_to_sum)(((e[0] + e[1]) + (e[2] + e[3])) + ((e[4] + e[5]) + (e[6] + e[7])), sum_lo,
                      sum_hi);
  }
  for (; i < n; i += 16) {
    long lanes = n - i < 16 ? n - i : 16;
    v16f v = lanes == 16 ? SK_FN(load)(x + i) : SK_FN(load_part)(x + i, lanes, shift);
    v16f d = v + neg;
    v16f e = SK_FN(exp_in_range)(d, v - (d + vs));
    e = SK_FN(select)(SK_FN(active)(0, lanes), e, (v16f)0.0f);
    if (lanes == 16) SK_FN(store)(y + i, e);
    else SK_FN(store_part)(y + i, e, lanes);
    SK_FN(add_to_sum)(e, sum_lo, sum_hi);
  }
}

/// Rows at least this long take the blocked single-read softmax.
#define SK_BLOCKED_MIN 8192
/// Elements per block of the blocked softmax: x and y of a block (16 KiB)
/// stay in L1 between its max pass and its exp pass.
#define SK_BLOCK 2048

/// Softmax of a long, unmasked row reading x once: for each block, its own
/// max and shift, e^(x - shift_b) to y and the block's sum; then one
/// rescaling pass y *= e^(shift_b - M) / Σ_b S_b·e^(shift_b - M), the factor
/// computed in double. Returns 0, having written nothing final, if the row
/// holds a non-finite value (the caller then takes the general path).
static int SK_FN(row_softmax_blocked)(const float *x, float *y, long n) {
  long blocks = (n + SK_BLOCK - 1) / SK_BLOCK;
  float shifts_small[512];
  double sums_small[512];
  float *shifts = blocks <= 512 ? shifts_small : malloc(blocks * sizeof(float));
  double *sums = blocks <= 512 ? sums_small : malloc(blocks * sizeof(double));
  if (!shifts || !sums) {
    if (shifts != shifts_small) free(shifts);
    if (sums != sums_small) free(sums);
    return 0;
  }
  int ok = 1;
  for (long b = 0; b < blocks && ok; b++) {
    const float *xb = x + b * SK_BLOCK;
    float *yb = y + b * SK_BLOCK;
    long len = n - b * SK_BLOCK < SK_BLOCK ? n - b * SK_BLOCK : SK_BLOCK;
    float m, lowest;
    int finite;
    SK_FN(scan)(xb, len, &m, &lowest, &finite);
    if (!finite) {
      ok = 0;
      break;
    }
    float shift = m > -lowest ? m : -lowest;
    v8d sum_lo = 0, sum_hi = 0;
    if (shift - m <= 16.0f && shift - lowest <= 87.0f) {
      // |shift| >= |x|: Fast2Sum is exact; no x can underflow.
      SK_FN(fast_exp_pass)(xb, yb, len, shift, &sum_lo, &sum_hi);
    } else {
      // A wide block: shift by its max, exact difference by 2Sum, exp
      // with underflow handling.
      shift = m;
      v16i unused = 0;
      SK_FN(row_sums)(SK_OP_SOFTMAX, xb, 0, yb, len, (v16f)m, 0, 0, 0, &unused, &sum_lo,
                      &sum_hi);
    }
    shifts[b] = shift;
    sums[b] = SK_FN(sum_pair)(sum_lo, sum_hi);
  }
  if (ok) {
    float top = shifts[0];
    for (long b = 1; b < blocks; b++) top = shifts[b] > top ? shifts[b] : top;
    double total = 0;
    for (long b = 0; b < blocks; b++) total += sums[b] * exp((double)shifts[b] - (double)top);
    for (long b = 0; b < blocks; b++) {
      float *yb = y + b * SK_BLOCK;
      long len = n - b * SK_BLOCK < SK_BLOCK ? n - b * SK_BLOCK : SK_BLOCK;
      float factor = (float)(exp((double)shifts[b] - (double)top) / total);
      const v16f f = factor;
      long i = 0;
      for (; i + 16 <= len; i += 16) SK_FN(store)(yb + i, SK_FN(load)(yb + i) * f);
      for (; i < len; i++) yb[i] *= factor;
    }
  }
  if (shifts != shifts_small) free(shifts);
  if (sums != sums_small) free(sums);
  return ok;
}

/// op along one row of n elements (`masked` is a constant per
/// instantiation). If stats is given, it receives the max m and
/// log Σ e^(x - m) (NaN for a special row).
SK_INLINE void SK_FN(row_impl)(int op, const float *x, const uint8_t *mask, float *y, float *lse,
                               long n, float *stats, const int masked) {
  const v16f ninf = -__builtin_inff();
  const v16i all = -1;
  const long full = n & ~15L, tail = n - full;
  const int exclude_max = op != SK_OP_SOFTMAX || stats;
#define SK_ACTIVE(i) (masked ? SK_FN(active)(mask + (i), 16) : all)
#define SK_TAIL_ACTIVE() SK_FN(active)(masked ? mask + full : 0, tail)
  if (op == SK_OP_SOFTMAX && !stats && !masked && n >= SK_BLOCKED_MIN &&
      SK_FN(row_softmax_blocked)(x, y, n))
    return;
  // Pass 1: max, min, and whether anything is not finite (x·0 is NaN
  // exactly for ±inf and NaN), at 3 operations a vector.
  const v16f pinf = __builtin_inff();
  float m, lowest;
  int all_finite;
  if (!masked) {
    SK_FN(scan)(x, n, &m, &lowest, &all_finite);
  } else {
    v16f vmax = ninf, vmin = pinf, nonfinite = 0.0f;
    for (long i = 0; i < full; i += 16) {
      v16f v = SK_FN(load)(x + i);
      v16i a = SK_ACTIVE(i);
      nonfinite += SK_FN(select)(a, v, (v16f)0.0f) * 0.0f;
      vmin = SK_FN(select)(a, v < vmin ? v : vmin, vmin);
      vmax = SK_FN(max)(vmax, SK_FN(select)(a, v, ninf));
    }
    if (tail) {
      v16i a = SK_TAIL_ACTIVE();
      v16f v = SK_FN(load_part)(x + full, tail, 0.0f);
      nonfinite += SK_FN(select)(a, v, (v16f)0.0f) * 0.0f;
      vmin = SK_FN(select)(a, v < vmin ? v : vmin, vmin);
      vmax = SK_FN(max)(vmax, SK_FN(select)(a, v, ninf));
    }
    m = SK_FN(horizontal_max)(vmax);
    lowest = -SK_FN(horizontal_max)(-vmin);
    all_finite = !__builtin_reduce_or((v16i)(nonfinite != nonfinite));
  }
  if (!all_finite || m == -__builtin_inff()) {
    // Rare: look closer. NaN, +inf, all -inf or nothing active: the
    // special-value rules; some -inf among finite values: the general path.
    v16i bad = 0;
    for (long i = 0; i < n; i += 16) {
      long lanes = n - i < 16 ? n - i : 16;
      v16i a = SK_FN(active)(masked ? mask + i : 0, lanes);
      v16f v = SK_FN(select)(a, SK_FN(load_part)(x + i, lanes, 0.0f), ninf);
      bad |= (v != v) | (v == pinf);
    }
    if (__builtin_reduce_or(bad) || m == -__builtin_inff()) {
      special_lane(op, x, 1, mask, y, 1, lse, n);
      if (stats) stats[0] = stats[1] = __builtin_nanf("");
      return;
    }
  }

  // The fast softmax: shift by m' = max(m, -lowest) >= |x| for every x, so
  // that Fast2Sum (2 operations) makes x - m' exact, as long as m' stays
  // within 16 of m; and skip the underflow handling when no x can underflow
  // (spread below 87). e^(x - m') / Σ e^(x - m') is the same softmax.
  if (op == SK_OP_SOFTMAX && !stats && all_finite) {
    float shift = m > -lowest ? m : -lowest;
    if (shift - m <= 16.0f && shift - lowest <= 87.0f) {
      v8d sum_lo = 0, sum_hi = 0;
      long i = 0;
      if (!masked) {
        SK_FN(fast_exp_pass)(x, y, n, shift, &sum_lo, &sum_hi);
        i = n;
      }
      const v16f vs = shift, neg = -shift;
      for (; i + 128 <= full; i += 128) {
        v16f e[8];
        for (int k = 0; k < 8; k++) {
          v16f v = SK_FN(load)(x + i + 16 * k);
          v16f d = v + neg;
          v16f lo = v - (d + vs);
          e[k] = SK_FN(exp_in_range)(d, lo);
          if (masked) e[k] = SK_FN(select)(SK_ACTIVE(i + 16 * k), e[k], (v16f)0.0f);
          SK_FN(store)(y + i + 16 * k, e[k]);
        }
        SK_FN(add_to_sum)(((e[0] + e[1]) + (e[2] + e[3])) + ((e[4] + e[5]) + (e[6] + e[7])),
                          &sum_lo, &sum_hi);
      }
      for (; i < n; i += 16) {
        long lanes = n - i < 16 ? n - i : 16;
        v16f v = lanes == 16 ? SK_FN(load)(x + i) : SK_FN(load_part)(x + i, lanes, shift);
        v16f d = v + neg;
        v16f lo = v - (d + vs);
        v16f e = SK_FN(exp_in_range)(d, lo);
        e = SK_FN(select)(SK_FN(active)(masked ? mask + i : 0, lanes), e, (v16f)0.0f);
        if (lanes == 16) SK_FN(store)(y + i, e);
        else SK_FN(store_part)(y + i, e, lanes);
        SK_FN(add_to_sum)(e, &sum_lo, &sum_hi);
      }
      const v16f inv = (float)(1.0 / SK_FN(sum_pair)(sum_lo, sum_hi));
      for (i = 0; i < full; i += 16) SK_FN(store)(y + i, SK_FN(load)(y + i) * inv);
      for (; i < n; i++) y[i] *= inv[0];
      return;
    }
  }

  const v16f vm = m;
  v8d sum_lo = 0, sum_hi = 0;
  v16i at_max = 0;
  if (lowest - m >= -87.0f) {
    SK_FN(row_sums)(op, x, mask, y, n, vm, exclude_max, masked, 1, &at_max, &sum_lo, &sum_hi);
  } else {
    SK_FN(row_sums)(op, x, mask, y, n, vm, exclude_max, masked, 0, &at_max, &sum_lo, &sum_hi);
  }
  // Σ e^(x - m) = 1 + rest.
  double rest = exclude_max
                    ? (double)(__builtin_reduce_add(at_max) - 1) + SK_FN(sum_pair)(sum_lo, sum_hi)
                    : SK_FN(sum_pair)(sum_lo, sum_hi) - 1.0;
  if (stats) {
    stats[0] = m;
    stats[1] = (float)log1p(rest);
  }
  if (op == SK_OP_SOFTMAX) {
    float inverse = (float)(1.0 / (1.0 + rest));
    const v16f inv = inverse;
    for (long i = 0; i < full; i += 16) SK_FN(store)(y + i, SK_FN(load)(y + i) * inv);
    for (long i = full; i < n; i++) y[i] *= inverse;
    return;
  }
  double log_total = log1p(rest);
  if (op == SK_OP_LOG_SUM_EXP) {
    *lse = (float)((double)m + log_total);
    return;
  }
  const v16f l = (float)log_total;
  for (long i = 0; i < full; i += 16) {
    SK_FN(store)(y + i, SK_FN(log_term)(SK_FN(load)(x + i), vm, l, SK_ACTIVE(i)));
  }
  if (tail) {
    v16f out = SK_FN(log_term)(SK_FN(load_part)(x + full, tail, 0.0f), vm, l, SK_TAIL_ACTIVE());
    SK_FN(store_part)(y + full, out, tail);
  }
#undef SK_ACTIVE
#undef SK_TAIL_ACTIVE
}

static void SK_FN(row)(int op, const float *x, const uint8_t *mask, float *y, float *lse, long n,
                       float *stats) {
  if (mask) SK_FN(row_impl)(op, x, mask, y, lse, n, stats, 1);
  else SK_FN(row_impl)(op, x, mask, y, lse, n, stats, 0);
}

/// Plain softmax of two unmasked rows of n (< SK_BLOCKED_MIN) elements in
/// lockstep, so that the latency of one row's reductions (max, then sum
/// and division) overlaps the other's work. Each row's arithmetic is
/// exactly that of row_impl's fast path, so a row gives the same bits
/// whether it is paired or not. Returns 0, writing nothing, unless both
/// rows qualify for the fast path (finite, shift within 16, spread < 87).
static int SK_FN(row_pair_softmax)(const float *xa, const float *xb, float *ya, float *yb,
                                   long n) {
  const long full = n & ~15L;
  float m_a, low_a, m_b, low_b;
  int finite_a, finite_b;
  SK_FN(scan)(xa, n, &m_a, &low_a, &finite_a);
  SK_FN(scan)(xb, n, &m_b, &low_b, &finite_b);
  if (!finite_a || !finite_b) return 0;
  float s_a = m_a > -low_a ? m_a : -low_a, s_b = m_b > -low_b ? m_b : -low_b;
  if (!(s_a - m_a <= 16.0f && s_a - low_a <= 87.0f && s_b - m_b <= 16.0f && s_b - low_b <= 87.0f))
    return 0;
  // Pass 2 row after row (interleaving vectors would spill registers); the
  // reductions of one row overlap the other's loop all the same.
  v8d sum_a_lo = 0, sum_a_hi = 0, sum_b_lo = 0, sum_b_hi = 0;
  SK_FN(fast_exp_pass)(xa, ya, n, s_a, &sum_a_lo, &sum_a_hi);
  SK_FN(fast_exp_pass)(xb, yb, n, s_b, &sum_b_lo, &sum_b_hi);
  float inverse_a = (float)(1.0 / SK_FN(sum_pair)(sum_a_lo, sum_a_hi));
  float inverse_b = (float)(1.0 / SK_FN(sum_pair)(sum_b_lo, sum_b_hi));
  const v16f inv_a = inverse_a, inv_b = inverse_b;
  long i = 0;
  for (; i < full; i += 16) {
    SK_FN(store)(ya + i, SK_FN(load)(ya + i) * inv_a);
    SK_FN(store)(yb + i, SK_FN(load)(yb + i) * inv_b);
  }
  for (; i < n; i++) {
    ya[i] *= inverse_a;
    yb[i] *= inverse_b;
  }
  return 1;
}

// MARK: - Entry points of this level

/// Rows of at most this many columns go 16 at a time through a transposed
/// tile: one vector lane per row.
#define SK_TILE_COLUMNS 16

/// Transposes a 16 × 16 block held in 16 vectors (unpack, unpack, two
/// 128-bit-lane shuffles: 64 shuffles).
SK_INLINE void SK_FN(transpose16)(v16f r[16]) {
#define SK_UNPACKLO(a, b) __builtin_shufflevector(a, b, 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29)
#define SK_UNPACKHI(a, b) __builtin_shufflevector(a, b, 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31)
#define SK_UNPACKLO2(a, b) __builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29)
#define SK_UNPACKHI2(a, b) __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31)
#define SK_LANES02(a, b) __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27)
#define SK_LANES13(a, b) __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31)
  v16f t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = SK_UNPACKLO(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = SK_UNPACKHI(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i + 0] = SK_UNPACKLO2(t[4 * i + 0], t[4 * i + 2]);
    r[4 * i + 1] = SK_UNPACKHI2(t[4 * i + 0], t[4 * i + 2]);
    r[4 * i + 2] = SK_UNPACKLO2(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = SK_UNPACKHI2(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int h = 0; h < 2; h++) {
    for (int i = 0; i < 4; i++) {
      t[8 * h + i] = SK_LANES02(r[8 * h + i], r[8 * h + 4 + i]);
      t[8 * h + 4 + i] = SK_LANES13(r[8 * h + i], r[8 * h + 4 + i]);
    }
  }
  for (int i = 0; i < 8; i++) {
    r[i] = SK_LANES02(t[i], t[8 + i]);
    r[8 + i] = SK_LANES13(t[i], t[8 + i]);
  }
#undef SK_UNPACKLO
#undef SK_UNPACKHI
#undef SK_UNPACKLO2
#undef SK_UNPACKHI2
#undef SK_LANES02
#undef SK_LANES13
}

/// Loads rows xr[0..<16] of `cols` (≤ 16) elements and writes them
/// transposed: tile[16·c + k] = xr[k·cols + c]. Each row is one 16-wide
/// load (lanes past `cols` read the next rows and are ignored) unless it
/// would pass the end of the 16 rows, then it is partial.
SK_INLINE void SK_FN(tile_in)(const float *xr, const long cols, float *tile) {
  v16f v[16];
  for (long k = 0; k < 16; k++) {
    v[k] = k * cols + 16 <= 16 * cols ? SK_FN(load)(xr + k * cols)
                                      : SK_FN(load_part)(xr + k * cols, cols, 0.0f);
  }
  SK_FN(transpose16)(v);
  for (long c = 0; c < cols; c++) SK_FN(store)(tile + 16 * c, v[c]);
}

/// The inverse of tile_in, times `scale`: yr[k·cols + c] = out[16·c + k]·scale.
/// Rows are stored in order, each 16-wide store's excess being overwritten
/// by the next row's; a store that would pass the end of the 16 rows is
/// partial.
SK_INLINE void SK_FN(tile_out)(const float *out, const long cols, v16f scale, float *yr) {
  v16f v[16];
  for (long c = 0; c < 16; c++) v[c] = c < cols ? SK_FN(load)(out + 16 * c) * scale : 0.0f;
  SK_FN(transpose16)(v);
  for (long k = 0; k < 16; k++) {
    if (k * cols + 16 <= 16 * cols) SK_FN(store)(yr + k * cols, v[k]);
    else SK_FN(store_part)(yr + k * cols, v[k], cols);
  }
}

/// op on rows [r, r + 16) of rows of `cols` (a constant per instantiation)
/// columns: transposed in registers (tile_in) so that each vector holds one
/// column, computed as a 16-lane column block, and transposed back
/// (tile_out).
SK_INLINE void SK_FN(tile)(int op, const float *x, const uint8_t *mask, float *y, long r,
                           const long cols) {
  float tile[SK_TILE_COLUMNS * 16], out[SK_TILE_COLUMNS * 16], lse[16];
  uint8_t tile_mask[SK_TILE_COLUMNS * 16];
  SK_FN(tile_in)(x + r * cols, cols, tile);
  if (mask) {
    const uint8_t *mr = mask + r * cols;
    for (long k = 0; k < 16; k++)
      for (long c = 0; c < cols; c++) tile_mask[c * 16 + k] = mr[k * cols + c];
  }
  SK_FN(column_block)(op, tile, 16, mask ? tile_mask : 0, out, 16, lse, cols, 16, 0);
  if (op == SK_OP_LOG_SUM_EXP) {
    for (long k = 0; k < 16; k++) y[r + k] = lse[k];
    return;
  }
  SK_FN(tile_out)(out, cols, (v16f)1.0f, y + r * cols);  // × 1 is exact
}

static void SK_FN(rows)(int op, const float *x, const uint8_t *mask, float *y, long row_begin,
                        long row_end, long cols) {
  long r = row_begin;
  switch (cols) {
#define SK_TILE_CASE(C)                                                                         \
  case C:                                                                                       \
    for (; r + 16 <= row_end; r += 16) SK_FN(tile)(op, x, mask, y, r, C);                       \
    break;
    SK_TILE_CASE(1) SK_TILE_CASE(2) SK_TILE_CASE(3) SK_TILE_CASE(4) SK_TILE_CASE(5)
    SK_TILE_CASE(6) SK_TILE_CASE(7) SK_TILE_CASE(8) SK_TILE_CASE(9) SK_TILE_CASE(10)
    SK_TILE_CASE(11) SK_TILE_CASE(12) SK_TILE_CASE(13) SK_TILE_CASE(14) SK_TILE_CASE(15)
    SK_TILE_CASE(16)
#undef SK_TILE_CASE
  default:
    // Plain softmax of rows short enough for the per-row latency to
    // matter: two rows in lockstep (measured: 1.3-1.4x at 128 columns,
    // slower at 1000, where one row already fills the pipeline).
    if (op == SK_OP_SOFTMAX && !mask && cols <= 256) {
      for (; r + 2 <= row_end; r += 2) {
        const float *xa = x + r * cols;
        float *ya = y + r * cols;
        if (!SK_FN(row_pair_softmax)(xa, xa + cols, ya, ya + cols, cols)) {
          SK_FN(row)(op, xa, 0, ya, 0, cols, 0);
          SK_FN(row)(op, xa + cols, 0, ya + cols, 0, cols, 0);
        }
      }
    }
    break;
  }
  for (; r < row_end; r++) {
    float *out = op == SK_OP_LOG_SUM_EXP ? 0 : y + r * cols;
    SK_FN(row)(op, x + r * cols, mask ? mask + r * cols : 0, out, y + r, cols, 0);
  }
}

static void SK_FN(columns)(int op, const float *x, const uint8_t *mask, float *y, long rows,
                           long cols, long col_begin, long col_end) {
  for (long c = col_begin; c < col_end; c += 16) {
    long lanes = col_end - c < 16 ? col_end - c : 16;
    SK_FN(column_block)(op, x + c, cols, mask ? mask + c : 0, op == SK_OP_LOG_SUM_EXP ? 0 : y + c,
                        cols, y + c, rows, lanes, 0);
  }
}

static void SK_FN(vjp_rows)(int log, const float *out, const float *v, float *g, long row_begin,
                            long row_end, long cols) {
  for (long r = row_begin; r < row_end; r++) {
    const float *o = out + r * cols, *vr = v + r * cols;
    float *gr = g + r * cols;
    v8d acc_lo = 0, acc_hi = 0;
    for (long i = 0; i < cols; i += 16) {
      long lanes = cols - i < 16 ? cols - i : 16;
      v16f vv = lanes == 16 ? SK_FN(load)(vr + i) : SK_FN(load_part)(vr + i, lanes, 0.0f);
      v16f t = vv;
      if (!log) t = vv * (lanes == 16 ? SK_FN(load)(o + i) : SK_FN(load_part)(o + i, lanes, 0.0f));
      acc_lo += __builtin_convertvector(t.lo, v8d);
      acc_hi += __builtin_convertvector(t.hi, v8d);
    }
    float s = (float)SK_FN(sum_pair)(acc_lo, acc_hi);
    for (long i = 0; i < cols; i += 16) {
      long lanes = cols - i < 16 ? cols - i : 16;
      v16f vv = lanes == 16 ? SK_FN(load)(vr + i) : SK_FN(load_part)(vr + i, lanes, 0.0f);
      v16f oo = lanes == 16 ? SK_FN(load)(o + i) : SK_FN(load_part)(o + i, lanes, 0.0f);
      v16f result = log ? vv - SK_FN(exp_plain)(oo) * s : oo * (vv - s);
      if (lanes == 16) SK_FN(store)(gr + i, result);
      else SK_FN(store_part)(gr + i, result, lanes);
    }
  }
}

/// Loss and gradient of one row from its softmax (already in gr), max m
/// and log Σ e^(x - m): loss = L + (m - x_label), two non-negative terms,
/// so a tiny loss keeps its relative accuracy.
SK_INLINE double SK_FN(finish_cross_entropy)(const float *xr, float *gr, long cols,
                                                 int64_t label, float m, float log_total,
                                                 double scale) {
  if (m != m) return special_cross_entropy(xr, gr, cols, label, scale);
  double target = (double)gr[label] - 1.0;
  v16f s = (float)scale;
  long c = 0;
  for (; c + 16 <= cols; c += 16) SK_FN(store)(gr + c, SK_FN(load)(gr + c) * s);
  for (; c < cols; c++) gr[c] = gr[c] * s[0];
  gr[label] = (float)(target * scale);
  return (double)log_total + ((double)m - (double)xr[label]);
}

static double SK_FN(cross_entropy_rows)(const float *x, const int64_t *labels, float *g,
                                        float *losses, double scale, long row_begin,
                                        long row_end, long cols) {
  double total = 0;
  long r = row_begin;
  if (cols <= SK_TILE_COLUMNS) {
    float tile[SK_TILE_COLUMNS * 16], out[SK_TILE_COLUMNS * 16], stats[32];
    const v16f vscale = (float)scale;
    for (; r + 16 <= row_end; r += 16) {
      const float *xr = x + r * cols;
      float *gr = g + r * cols;
      SK_FN(tile_in)(xr, cols, tile);
      SK_FN(column_block)(SK_OP_SOFTMAX, tile, 16, 0, out, 16, 0, cols, 16, stats);
      SK_FN(tile_out)(out, cols, vscale, gr);
      for (long k = 0; k < 16; k++) {
        const float *row = xr + k * cols;
        int64_t label = labels[r + k];
        double loss;
        if (stats[k] != stats[k]) {
          loss = special_cross_entropy(row, gr + k * cols, cols, label, scale);
        } else {
          gr[k * cols + label] = (float)(((double)out[label * 16 + k] - 1.0) * scale);
          loss = (double)stats[16 + k] + ((double)stats[k] - (double)row[label]);
        }
        losses[r + k] = narrow_loss(loss);
        total += loss;
      }
    }
  }
  for (; r < row_end; r++) {
    const float *xr = x + r * cols;
    float *gr = g + r * cols;
    float stats[2];
    SK_FN(row)(SK_OP_SOFTMAX, xr, 0, gr, 0, cols, stats);
    double loss = SK_FN(finish_cross_entropy)(xr, gr, cols, labels[r], stats[0], stats[1], scale);
    losses[r] = narrow_loss(loss);
    total += loss;
  }
  return total;
}

// MARK: - Softmax regression: one block of the fused objective sweep

// Classes per group: the forward pass keeps 4 rows × SK_FORWARD_GROUP
// accumulators in registers, the backward pass SK_GROUP_MAX (32 zmm
// registers on AVX-512, 16 ymm on AVX2, 16 xmm on the baseline).
#if defined(SK_AVX512)
#define SK_GROUP_MAX 10
#define SK_FORWARD_GROUP 5
#elif defined(SK_AVX2)
#define SK_GROUP_MAX 4
#define SK_FORWARD_GROUP 1
#else
#define SK_GROUP_MAX 2
#define SK_FORWARD_GROUP 1
#endif

#ifndef SK_PREFETCH_ROWS
#define SK_PREFETCH_ROWS 4
#endif
#ifndef SK_ROW
/// Row r of a block: index[r] of the whole array, or r of a contiguous block.
#define SK_ROW(index, r) ((index) ? (long)(index)[r] : (r))
#endif

/// The sum of the 16 lanes, in a fixed tree order.
SK_INLINE float SK_FN(lane_sum)(v16f v) {
  v8f h = v.lo + v.hi;
  v4f q = h.lo + h.hi;
  v2f t = q.lo + q.hi;
  return t.x + t.y;
}

/// Features [c, c + 16) of a row, standardized if `standardized` (a
/// constant after inlining).
SK_INLINE v16f SK_FN(feature_chunk)(const float *xr, long c, const float *mu, const float *inv,
                                    const int standardized) {
  v16f v = SK_FN(load)(xr + c);
  return standardized ? (v - SK_FN(load)(mu + c)) * SK_FN(load)(inv + c) : v;
}

/// The last, partial chunk [c, d): lanes past d are 0.
SK_INLINE v16f SK_FN(feature_tail)(const float *xr, long c, long lanes, const float *mu,
                                   const float *inv, const int standardized) {
  v16f v = SK_FN(load_part)(xr + c, lanes, 0.0f);
  if (!standardized) return v;
  return (v - SK_FN(load_part)(mu + c, lanes, 0.0f)) * SK_FN(load_part)(inv + c, lanes, 0.0f);
}

/// a[r][g] += x̃_r[c, c + lanes) · w[g·d + (0, lanes)] for four rows and G
/// classes; `lanes` is 16 (plain loads, the hot loop) or the tail's count
/// (masked loads), a constant after inlining either way.
SK_INLINE void SK_FN(forward_chunk)(v16f a[4][SK_FORWARD_GROUP], const float *const xs[4],
                                    const float *w, long d, const int G, long c, long lanes,
                                    const float *mu, const float *inv, const int standardized) {
  v16f v[4];
  for (int r = 0; r < 4; r++)
    v[r] = lanes == 16 ? SK_FN(feature_chunk)(xs[r], c, mu, inv, standardized)
                       : SK_FN(feature_tail)(xs[r], c, lanes, mu, inv, standardized);
  for (int g = 0; g < G; g++) {
    v16f wv = lanes == 16 ? SK_FN(load)(w + g * d) : SK_FN(load_part)(w + g * d, lanes, 0.0f);
    for (int r = 0; r < 4; r++) a[r][g] = a[r][g] + v[r] * wv;
  }
}

/// Logits of classes [j0, j0 + G) for four rows (repeated pointers allowed):
/// 4·G accumulators, and per 16 columns 4 + G loads for 4·G FMAs.
///
/// With `ahead` (the next four rows of a gathered minibatch, whose
/// addresses the hardware prefetcher cannot guess), each 16-column step
/// also prefetches the same line of those rows.
SK_INLINE void SK_FN(regression_forward)(const float *const xs[4], const float *const *ahead,
                                         long d, const float *w, const float *b, long j0,
                                         const int G, const float *mu, const float *inv,
                                         float *const zs[4], const int standardized) {
  v16f a[4][SK_FORWARD_GROUP];
  for (int g = 0; g < G; g++) a[0][g] = a[1][g] = a[2][g] = a[3][g] = 0.0f;
  long c = 0;
  for (; c + 16 <= d; c += 16) {
    if (ahead)
      for (int q = 0; q < 4; q++) __builtin_prefetch(ahead[q] + c, 0, 3);
    SK_FN(forward_chunk)(a, xs, w + j0 * d + c, d, G, c, 16, mu, inv, standardized);
  }
  if (c < d) SK_FN(forward_chunk)(a, xs, w + j0 * d + c, d, G, c, d - c, mu, inv, standardized);
  for (int r = 0; r < 4; r++)
    for (int g = 0; g < G; g++) zs[r][j0 + g] = b[j0 + g] + SK_FN(lane_sum)(a[r][g]);
}

/// out_w[j][c] += Σ_r gz[r][j]·x̃[r][c] for classes [j0, j0 + G), each
/// 16-column chunk summed over the block's rows in float, then added to
/// the double partial.
SK_INLINE void SK_FN(regression_backward)(const float *x, const int64_t *index, long rows,
                                          long d, const float *gz, long k, long j0, const int G,
                                          const float *mu, const float *inv, double *out_w,
                                          const int standardized) {
  for (long c = 0; c < d; c += 16) {
    long lanes = d - c < 16 ? d - c : 16;
    v16f acc[SK_GROUP_MAX];
    for (int g = 0; g < G; g++) acc[g] = 0.0f;
    if (lanes == 16) {
      for (long r = 0; r < rows; r++) {
        // Gathered rows: no stride for the hardware to follow; fetch ahead.
        if (index && r + 8 < rows) __builtin_prefetch(x + index[r + 8] * d + c, 0, 3);
        v16f xv = SK_FN(feature_chunk)(x + SK_ROW(index, r) * d, c, mu, inv, standardized);
        const float *gr = gz + r * k + j0;
        for (int g = 0; g < G; g++) acc[g] = acc[g] + (v16f)gr[g] * xv;
      }
    } else {
      for (long r = 0; r < rows; r++) {
        v16f xv =
            SK_FN(feature_tail)(x + SK_ROW(index, r) * d, c, lanes, mu, inv, standardized);
        const float *gr = gz + r * k + j0;
        for (int g = 0; g < G; g++) acc[g] = acc[g] + (v16f)gr[g] * xv;
      }
    }
    for (int g = 0; g < G; g++) {
      double *o = out_w + (j0 + g) * d + c;
      float lanes_out[16];
      SK_FN(store)(lanes_out, acc[g]);
      for (long l = 0; l < lanes; l++) o[l] += (double)lanes_out[l];
    }
  }
}

/// The size of each of the fewest equal groups of at most `most` classes
/// that cover k (the last may be smaller).
SK_INLINE long SK_FN(group_size)(long k, long most) {
  const long groups = (k + most - 1) / most;
  return (k + groups - 1) / groups;
}

static void SK_FN(regression_block)(const float *x, const int64_t *index, long rows, long d,
                                    const float *w, const float *b, long k, const float *mu,
                                    const float *inv, const int64_t *labels,
                                    const double *row_weights, int want_gradient, float *z,
                                    double *out) {
  const long group = SK_FN(group_size)(k, SK_GROUP_MAX);
  // Logits, four rows at a time (the last group repeats its last row).
  const long fgroup = SK_FN(group_size)(k, SK_FORWARD_GROUP);
  for (long r = 0; r < rows; r += 4) {
    const float *xs[4];
    const float *next[4];
    float *zs[4];
    for (int q = 0; q < 4; q++) {
      long row = r + q < rows ? r + q : rows - 1;
      long following = r + SK_PREFETCH_ROWS + q < rows ? r + SK_PREFETCH_ROWS + q : rows - 1;
      xs[q] = x + SK_ROW(index, row) * d;
      next[q] = x + SK_ROW(index, following) * d;
      zs[q] = z + row * k;
    }
    for (long j0 = 0; j0 < k; j0 += fgroup) {
      long size = k - j0 < fgroup ? k - j0 : fgroup;
      // Gathered rows: prefetch the next four during the first class group.
      const float *const *ahead = j0 == 0 ? next : 0;
      switch (size) {
#define SK_FORWARD_CASE(G)                                                              \
  case G:                                                                               \
    if (mu) SK_FN(regression_forward)(xs, ahead, d, w, b, j0, G, mu, inv, zs, 1);       \
    else SK_FN(regression_forward)(xs, ahead, d, w, b, j0, G, mu, inv, zs, 0);          \
    break;
        SK_FORWARD_CASE(1)
#if SK_FORWARD_GROUP >= 2
        SK_FORWARD_CASE(2)
#endif
#if SK_FORWARD_GROUP >= 5
        SK_FORWARD_CASE(3)
        SK_FORWARD_CASE(4)
        SK_FORWARD_CASE(5)
#endif
#undef SK_FORWARD_CASE
      default: break;
      }
    }
  }
  // Softmax cross-entropy per row: loss in double, z replaced by the
  // weighted gradient w_r·(softmax - onehot).
  double *out_b = out + k * d;
  double loss = 0;
  for (long r = 0; r < rows; r++) {
    float *zr = z + r * k;
    float m = -__builtin_inff();
    for (long j = 0; j < k; j += 16) {
      long lanes = k - j < 16 ? k - j : 16;
      m = fmaxf(m, SK_FN(horizontal_max)(SK_FN(load_part)(zr + j, lanes, -__builtin_inff())));
    }
    const long label = (long)labels[SK_ROW(index, r)];
    const float top_gap = zr[label] - m;  // exact when |z| are within a factor 2 (Sterbenz)
    double sum = 0;
    for (long j = 0; j < k; j += 16) {
      long lanes = k - j < 16 ? k - j : 16;
      v16f e = SK_FN(exp_plain)(SK_FN(load_part)(zr + j, lanes, -__builtin_inff()) - m);
      sum += (double)SK_FN(lane_sum)(e);
      if (want_gradient) SK_FN(store_part)(zr + j, e, lanes);
    }
    const double weight = row_weights[SK_ROW(index, r)];
    loss += weight * (log(sum) - (double)top_gap);
    if (!want_gradient) continue;
    const float scale = (float)(weight / sum);
    for (long j = 0; j < k; j++) zr[j] *= scale;
    zr[label] -= (float)weight;
    for (long j = 0; j < k; j++) out_b[j] += (double)zr[j];
  }
  out[k * d + k] += loss;
  if (!want_gradient) return;
  for (long j0 = 0; j0 < k; j0 += group) {
    long size = k - j0 < group ? k - j0 : group;
    switch (size) {
#define SK_BACKWARD_CASE(G)                                                                   \
  case G:                                                                                 \
    if (mu) SK_FN(regression_backward)(x, index, rows, d, z, k, j0, G, mu, inv, out, 1);   \
    else SK_FN(regression_backward)(x, index, rows, d, z, k, j0, G, mu, inv, out, 0);      \
    break;
      SK_BACKWARD_CASE(1)
      SK_BACKWARD_CASE(2)
#if SK_GROUP_MAX >= 4
      SK_BACKWARD_CASE(3)
      SK_BACKWARD_CASE(4)
#endif
#if SK_GROUP_MAX >= 10
      SK_BACKWARD_CASE(5)
      SK_BACKWARD_CASE(6)
      SK_BACKWARD_CASE(7)
      SK_BACKWARD_CASE(8)
      SK_BACKWARD_CASE(9)
      SK_BACKWARD_CASE(10)
#endif
#undef SK_BACKWARD_CASE
    default: break;
    }
  }
}
#undef SK_GROUP_MAX
#undef SK_FORWARD_GROUP
