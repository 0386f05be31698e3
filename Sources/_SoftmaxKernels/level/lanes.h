//===--- lanes.h --------------------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// The per-vector steps shared by rows and columns, and one 16-lane block of lanes (16 columns of a matrix, or 16 short rows transposed).
// Included once per CPU level by kernels_impl.h (SK_FN names the level).
//
//===----------------------------------------------------------------------===//

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
