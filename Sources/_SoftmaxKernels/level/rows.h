//===--- rows.h ---------------------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// One row of any length: the two-pass softmax, the single-read blocked softmax of long rows, and two short rows at once.
// Included once per CPU level by kernels_impl.h (SK_FN names the level).
//
//===----------------------------------------------------------------------===//

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
