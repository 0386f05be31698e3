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

SK_INLINE v16f SK_FN(load_part)(const float *p, long n, float fill) {
  float buffer[16];
  for (int k = 0; k < 16; k++) buffer[k] = k < n ? p[k] : fill;
  return SK_FN(load)(buffer);
}

SK_INLINE void SK_FN(store_part)(float *p, v16f v, long n) {
  float buffer[16];
  SK_FN(store)(buffer, v);
  for (long k = 0; k < n; k++) p[k] = buffer[k];
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

SK_INLINE v16f SK_FN(select)(v16i m, v16f a, v16f b) {
  return (v16f)(((v16i)a & m) | ((v16i)b & ~m));
}

SK_INLINE v16f SK_FN(max)(v16f a, v16f b) { return SK_FN(select)(a > b, a, b); }

SK_INLINE double SK_FN(sum_pair)(v8d a, v8d b) {
  v8d s = a + b;
  v4d q = s.lo + s.hi;
  v2d h = q.lo + q.hi;
  return h.x + h.y;
}

/// e^(d + lo) for d <= 0 with |lo| <= ulp(d); 0 where d < -87.33 (the
/// result would be subnormal or 0) and where d is -inf. Error about 1.5 ulp.
SK_INLINE v16f SK_FN(exp)(v16f d, v16f lo) {
  const v16f magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  v16i underflow = d < -87.33f;
  v16f dc = SK_FN(select)(underflow, (v16f)-87.33f, d);
  v16f t = dc * 1.44269504088896341f + magic;
  v16f n = t - magic;
  v16f r = dc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  r = r + SK_FN(select)(underflow, (v16f)0.0f, lo);
  v16f p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  v16i scale_bits = (((v16i)t - 0x4B400000) + 127) << 23;
  v16f e = p * (v16f)scale_bits;
  return SK_FN(select)(underflow, (v16f)0.0f, e);
}

/// e^y for y <= 0 (no correction term), 0 below -87.33.
SK_INLINE v16f SK_FN(exp_plain)(v16f y) { return SK_FN(exp)(y, (v16f)0.0f); }

/// log(u) for finite u >= 1 (Cephes logf), about 1 ulp.
SK_INLINE v16f SK_FN(log_ge1)(v16f u) {
  v16i bits = (v16i)u;
  v16f e = __builtin_convertvector(((bits >> 23) & 0xff) - 126, v16f);
  v16f x = (v16f)((bits & 0x807fffff) | 0x3f000000);  // [0.5, 1)
  v16i small = x < 0.707106781186547524f;
  e = e - SK_FN(select)(small, (v16f)1.0f, (v16f)0.0f);
  x = SK_FN(select)(small, x + x, x) - 1.0f;
  v16f z = x * x;
  v16f y = 7.0376836292e-2f;
  y = y * x - 1.1514610310e-1f;
  y = y * x + 1.1676998740e-1f;
  y = y * x - 1.2420140846e-1f;
  y = y * x + 1.4249322787e-1f;
  y = y * x - 1.6668057665e-1f;
  y = y * x + 2.0000714765e-1f;
  y = y * x - 2.4999993993e-1f;
  y = y * x + 3.3333331174e-1f;
  y = y * x * z;
  y = y + e * -2.12194440e-4f;
  y = y - z * 0.5f;
  return x + y + e * 0.693359375f;
}

/// log1p(rest) for rest >= 0, from rest in double: log(u)·rest/(u - 1)
/// with u = 1 + rest rounded (Goldberg), a few ulps even for tiny rest.
SK_INLINE v16f SK_FN(log1p_rest)(v8d rest_lo, v8d rest_hi) {
  v16f rest = __builtin_shufflevector(__builtin_convertvector(rest_lo, v8f),
                                      __builtin_convertvector(rest_hi, v8f), 0, 1, 2, 3, 4, 5,
                                      6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  v16f u = 1.0f + rest;
  v16i exact = u == 1.0f;
  v16f denominator = SK_FN(select)(exact, (v16f)1.0f, u - 1.0f);
  v16f l = SK_FN(log_ge1)(u) * rest / denominator;
  return SK_FN(select)(exact, rest, l);
}

// MARK: - One 16-lane block of lanes (columns of a matrix)

/// op down 16 (or `lanes`) adjacent columns of x: `count` rows with leading
/// dimension ld. y has leading dimension yld (softmax, log-softmax);
/// logsumexp writes lse[0..<lanes]. Lanes with special values are finished
/// by special_lane. If stats is given, stats[k] receives lane k's max m and
/// stats[16 + k] its log Σ e^(x - m) (NaN for special lanes).
static void SK_FN(column_block)(int op, const float *x, long ld, const uint8_t *mask, float *y,
                                long yld, float *lse, long count, long lanes, float *stats) {
  const v16f ninf = -__builtin_inff();
  v16f vmax = ninf;
  v16i bad = 0, active_count = 0;
  for (long r = 0; r < count; r++) {
    v16i a = SK_FN(active)(mask ? mask + r * ld : 0, lanes);
    v16f v = lanes == 16 ? SK_FN(load)(x + r * ld) : SK_FN(load_part)(x + r * ld, lanes, 0.0f);
    v = SK_FN(select)(a, v, ninf);
    bad |= (v != v) | (v == __builtin_inff());
    active_count -= a;
    vmax = SK_FN(max)(vmax, v);
  }
  const v16i lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  v16i special = (bad | (vmax == ninf)) & (lane < (v16i)(int)lanes);
  v16i regular = ~special & (lane < (v16i)(int)lanes);
  v16f m = SK_FN(select)(regular, vmax, (v16f)0.0f);

  v8d sum_lo = 0, sum_hi = 0;
  v16i at_max = 0;
  for (long r = 0; r < count; r++) {
    v16i a = SK_FN(active)(mask ? mask + r * ld : 0, lanes) & regular;
    v16f v = lanes == 16 ? SK_FN(load)(x + r * ld) : SK_FN(load_part)(x + r * ld, lanes, 0.0f);
    v16f d = v - m;
    v16f bb = d - v;
    v16f lo = (v - (d - bb)) + (-m - bb);
    v16f e = SK_FN(select)(a, SK_FN(exp)(d, lo), (v16f)0.0f);
    v16i eq = (v == m) & a;
    at_max -= eq;
    v16f c = SK_FN(select)(eq, (v16f)0.0f, e);
    sum_lo += __builtin_convertvector(c.lo, v8d);
    sum_hi += __builtin_convertvector(c.hi, v8d);
    if (op == SK_OP_SOFTMAX) {
      if (lanes == 16) SK_FN(store)(y + r * yld, e);
      else SK_FN(store_part)(y + r * yld, e, lanes);
    }
  }
  v16i extra = at_max - 1;
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
    for (long r = 0; r < count; r++) {
      float *row = y + r * yld;
      if (lanes == 16) SK_FN(store)(row, SK_FN(load)(row) * inv);
      else SK_FN(store_part)(row, SK_FN(load_part)(row, lanes, 0.0f) * inv, lanes);
    }
  } else {
    v16f log_total = SK_FN(log1p_rest)(rest_lo, rest_hi);
    if (op == SK_OP_LOG_SUM_EXP) {
      // m + log Σ, summed in double: exact enough, and never overflows.
      v16f total = __builtin_shufflevector(
          __builtin_convertvector(__builtin_convertvector(m.lo, v8d) +
                                      __builtin_convertvector(log_total.lo, v8d), v8f),
          __builtin_convertvector(__builtin_convertvector(m.hi, v8d) +
                                      __builtin_convertvector(log_total.hi, v8d), v8f),
          0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      SK_FN(store_part)(lse, total, lanes);
    } else {
      for (long r = 0; r < count; r++) {
        v16i a = SK_FN(active)(mask ? mask + r * ld : 0, lanes);
        v16f v = lanes == 16 ? SK_FN(load)(x + r * ld) : SK_FN(load_part)(x + r * ld, lanes, 0.0f);
        v16f d = v - m;
        v16f bb = d - v;
        v16f lo = (v - (d - bb)) + (-m - bb);
        v16f out = (d - log_total) + lo;
        // d = -inf: x = -inf gives -inf; a finite x (overflowed d) saturates.
        v16f floor = SK_FN(select)(v == ninf, ninf, (v16f)-3.40282347e38f);
        out = SK_FN(select)(d == ninf, floor, out);
        out = SK_FN(select)(a, out, ninf);
        if (lanes == 16) SK_FN(store)(y + r * yld, out);
        else SK_FN(store_part)(y + r * yld, out, lanes);
      }
    }
  }
  if (__builtin_reduce_or(special)) {
    for (long k = 0; k < lanes; k++) {
      if (special[k]) special_lane(op, x + k, ld, mask ? mask + k : 0, y + k, yld, lse + k, count);
    }
  }
}

// MARK: - One long row

/// op along one row of n elements. If stats is given, it receives the max m
/// and log Σ e^(x - m) (NaN for a special row).
static void SK_FN(row)(int op, const float *x, const uint8_t *mask, float *y, float *lse, long n,
                       float *stats) {
  const v16f ninf = -__builtin_inff();
  v16f vmax = ninf;
  v16i bad = 0;
  for (long i = 0; i < n; i += 16) {
    long lanes = n - i < 16 ? n - i : 16;
    v16i a = SK_FN(active)(mask ? mask + i : 0, lanes);
    v16f v = lanes == 16 ? SK_FN(load)(x + i) : SK_FN(load_part)(x + i, lanes, 0.0f);
    v = SK_FN(select)(a, v, ninf);
    bad |= (v != v) | (v == __builtin_inff());
    vmax = SK_FN(max)(vmax, v);
  }
  float m = __builtin_reduce_max(vmax);
  if (__builtin_reduce_or(bad) || m == -__builtin_inff()) {
    special_lane(op, x, 1, mask, y, 1, lse, n);
    if (stats) stats[0] = stats[1] = __builtin_nanf("");
    return;
  }
  v8d sum_lo = 0, sum_hi = 0;
  v16i at_max = 0;
  for (long i = 0; i < n; i += 16) {
    long lanes = n - i < 16 ? n - i : 16;
    v16i a = SK_FN(active)(mask ? mask + i : 0, lanes);
    v16f v = lanes == 16 ? SK_FN(load)(x + i) : SK_FN(load_part)(x + i, lanes, 0.0f);
    v16f d = v - m;
    v16f bb = d - v;
    v16f lo = (v - (d - bb)) + (-m - bb);
    v16f e = SK_FN(select)(a, SK_FN(exp)(d, lo), (v16f)0.0f);
    v16i eq = (v == m) & a;
    at_max -= eq;
    v16f c = SK_FN(select)(eq, (v16f)0.0f, e);
    sum_lo += __builtin_convertvector(c.lo, v8d);
    sum_hi += __builtin_convertvector(c.hi, v8d);
    if (op == SK_OP_SOFTMAX) {
      if (lanes == 16) SK_FN(store)(y + i, e);
      else SK_FN(store_part)(y + i, e, lanes);
    }
  }
  double rest = (double)(__builtin_reduce_add(at_max) - 1) + SK_FN(sum_pair)(sum_lo, sum_hi);
  if (stats) {
    stats[0] = m;
    stats[1] = (float)log1p(rest);
  }
  if (op == SK_OP_SOFTMAX) {
    v16f inv = (float)(1.0 / (1.0 + rest));
    long i = 0;
    for (; i + 16 <= n; i += 16) SK_FN(store)(y + i, SK_FN(load)(y + i) * inv);
    for (; i < n; i++) y[i] *= inv[0];
    return;
  }
  double log_total = log1p(rest);
  if (op == SK_OP_LOG_SUM_EXP) {
    *lse = (float)((double)m + log_total);
    return;
  }
  v16f l = (float)log_total;
  for (long i = 0; i < n; i += 16) {
    long lanes = n - i < 16 ? n - i : 16;
    v16i a = SK_FN(active)(mask ? mask + i : 0, lanes);
    v16f v = lanes == 16 ? SK_FN(load)(x + i) : SK_FN(load_part)(x + i, lanes, 0.0f);
    v16f d = v - m;
    v16f bb = d - v;
    v16f lo = (v - (d - bb)) + (-m - bb);
    v16f out = (d - l) + lo;
    v16f floor = SK_FN(select)(v == ninf, ninf, (v16f)-3.40282347e38f);
    out = SK_FN(select)(d == ninf, floor, out);
    out = SK_FN(select)(a, out, ninf);
    if (lanes == 16) SK_FN(store)(y + i, out);
    else SK_FN(store_part)(y + i, out, lanes);
  }
}

// MARK: - Entry points of this level

/// Rows shorter than this go 16 at a time through a transposed tile.
#define SK_TILE_COLUMNS 16

static void SK_FN(rows)(int op, const float *x, const uint8_t *mask, float *y, long row_begin,
                        long row_end, long cols) {
  long r = row_begin;
  if (cols <= SK_TILE_COLUMNS && cols > 0) {
    float tile[SK_TILE_COLUMNS * 16], out[SK_TILE_COLUMNS * 16], lse[16];
    uint8_t tile_mask[SK_TILE_COLUMNS * 16];
    for (; r + 16 <= row_end; r += 16) {
      const float *xr = x + r * cols;
      for (long k = 0; k < 16; k++)
        for (long c = 0; c < cols; c++) tile[c * 16 + k] = xr[k * cols + c];
      if (mask) {
        const uint8_t *mr = mask + r * cols;
        for (long k = 0; k < 16; k++)
          for (long c = 0; c < cols; c++) tile_mask[c * 16 + k] = mr[k * cols + c];
      }
      SK_FN(column_block)(op, tile, 16, mask ? tile_mask : 0, out, 16, lse, cols, 16, 0);
      if (op == SK_OP_LOG_SUM_EXP) {
        for (long k = 0; k < 16; k++) y[r + k] = lse[k];
      } else {
        float *yr = y + r * cols;
        for (long k = 0; k < 16; k++)
          for (long c = 0; c < cols; c++) yr[k * cols + c] = out[c * 16 + k];
      }
    }
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
                                        double *losses, double scale, long row_begin,
                                        long row_end, long cols) {
  double total = 0;
  long r = row_begin;
  if (cols <= SK_TILE_COLUMNS) {
    float tile[SK_TILE_COLUMNS * 16], out[SK_TILE_COLUMNS * 16], stats[32];
    for (; r + 16 <= row_end; r += 16) {
      const float *xr = x + r * cols;
      float *gr = g + r * cols;
      for (long k = 0; k < 16; k++)
        for (long c = 0; c < cols; c++) tile[c * 16 + k] = xr[k * cols + c];
      SK_FN(column_block)(SK_OP_SOFTMAX, tile, 16, 0, out, 16, 0, cols, 16, stats);
      for (long k = 0; k < 16; k++)
        for (long c = 0; c < cols; c++) gr[k * cols + c] = out[c * 16 + k];
      for (long k = 0; k < 16; k++) {
        double loss = SK_FN(finish_cross_entropy)(xr + k * cols, gr + k * cols, cols,
                                                  labels[r + k], stats[k], stats[16 + k], scale);
        losses[r + k] = loss;
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
    losses[r] = loss;
    total += loss;
  }
  return total;
}
