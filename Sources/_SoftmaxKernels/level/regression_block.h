//===--- regression_block.h ---------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// One block of softmax regression: the dense layer, the cross-entropy and the gradient of the rows of a block, fused.
// Included once per CPU level by kernels_impl.h (SK_FN names the level).
//
//===----------------------------------------------------------------------===//

// MARK: - Softmax regression: one block of the fused objective (forward, cross-entropy, backward)

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

/// Σ_r gz[r][j]·x̃[r][c] for classes [j0, j0 + G), each 16-column chunk
/// summed over the rows in float: added to the double partial `out_w`
/// (`acc` null), or carried in `acc` (k rows of `stride` floats, started
/// from 0 when `first`), so that a block's rows can come in parts, each
/// lane summing the same rows in the same order. With `next` (the rows
/// the caller reads next, contiguous), each step prefetches the same line
/// of the next part's row into L2, hiding its fetch behind this part's
/// arithmetic.
SK_INLINE void SK_FN(regression_backward)(const float *x, const int64_t *index, long rows,
                                          long d, const float *gz, long k, long j0, const int G,
                                          const float *mu, const float *inv, double *out_w,
                                          float *acc, long stride, int first,
                                          const float *next, long next_rows,
                                          const int standardized) {
  long c = 0;
#if defined(SK_AVX512)
  // Two 16-column chunks at once: 2·G accumulators, and per row 2 loads
  // of x̃ and G broadcasts for 2·G FMAs (one chunk's G + 1 loads for G
  // FMAs left the load ports the bound). Each lane's sum runs over the
  // rows in the same order: the same bits as one chunk at a time.
  for (; c + 32 <= d; c += 32) {
    v16f lo[SK_GROUP_MAX], hi[SK_GROUP_MAX];
    for (int g = 0; g < G; g++) {
      if (acc && !first) {
        lo[g] = SK_FN(load)(acc + (j0 + g) * stride + c);
        hi[g] = SK_FN(load)(acc + (j0 + g) * stride + c + 16);
      } else {
        lo[g] = hi[g] = 0.0f;
      }
    }
    for (long r = 0; r < rows; r++) {
      const float *xr = x + SK_ROW(index, r) * d;
      if (index && r + 8 < rows) {
        __builtin_prefetch(x + index[r + 8] * d + c, 0, 3);
        __builtin_prefetch(x + index[r + 8] * d + c + 16, 0, 3);
      }
      if (next && r < next_rows) {
        __builtin_prefetch(next + r * d + c, 0, 2);
        __builtin_prefetch(next + r * d + c + 16, 0, 2);
      }
      v16f a = SK_FN(feature_chunk)(xr, c, mu, inv, standardized);
      v16f b = SK_FN(feature_chunk)(xr, c + 16, mu, inv, standardized);
      const float *gr = gz + r * k + j0;
      for (int g = 0; g < G; g++) {
        v16f s = (v16f)gr[g];
        lo[g] = lo[g] + s * a;
        hi[g] = hi[g] + s * b;
      }
    }
    for (int g = 0; g < G; g++) {
      if (acc) {
        SK_FN(store)(acc + (j0 + g) * stride + c, lo[g]);
        SK_FN(store)(acc + (j0 + g) * stride + c + 16, hi[g]);
        continue;
      }
      double *o = out_w + (j0 + g) * d + c;
      float lanes_out[32];
      SK_FN(store)(lanes_out, lo[g]);
      SK_FN(store)(lanes_out + 16, hi[g]);
      for (long l = 0; l < 32; l++) o[l] += (double)lanes_out[l];
    }
  }
#endif
  for (; c < d; c += 16) {
    long lanes = d - c < 16 ? d - c : 16;
    v16f acc_v[SK_GROUP_MAX];
    for (int g = 0; g < G; g++)
      acc_v[g] = acc && !first ? SK_FN(load)(acc + (j0 + g) * stride + c) : (v16f)0.0f;
    if (lanes == 16) {
      for (long r = 0; r < rows; r++) {
        // Gathered rows: no stride for the hardware to follow; fetch ahead.
        if (index && r + 8 < rows) __builtin_prefetch(x + index[r + 8] * d + c, 0, 3);
        if (next && r < next_rows) __builtin_prefetch(next + r * d + c, 0, 2);
        v16f xv = SK_FN(feature_chunk)(x + SK_ROW(index, r) * d, c, mu, inv, standardized);
        const float *gr = gz + r * k + j0;
        for (int g = 0; g < G; g++) acc_v[g] = acc_v[g] + (v16f)gr[g] * xv;
      }
    } else {
      for (long r = 0; r < rows; r++) {
        if (next && r < next_rows) __builtin_prefetch(next + r * d + c, 0, 2);
        v16f xv =
            SK_FN(feature_tail)(x + SK_ROW(index, r) * d, c, lanes, mu, inv, standardized);
        const float *gr = gz + r * k + j0;
        for (int g = 0; g < G; g++) acc_v[g] = acc_v[g] + (v16f)gr[g] * xv;
      }
    }
    for (int g = 0; g < G; g++) {
      if (acc) {
        SK_FN(store)(acc + (j0 + g) * stride + c, acc_v[g]);
        continue;
      }
      double *o = out_w + (j0 + g) * d + c;
      float lanes_out[16];
      SK_FN(store)(lanes_out, acc_v[g]);
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

/// z[r·k + j] = w[j]·x̃_r + b[j] for the block's rows, four rows at a time
/// (the last group repeats its last row).
static void SK_FN(regression_logits)(const float *x, const int64_t *index, long rows, long d,
                                     const float *w, const float *b, long k, const float *mu,
                                     const float *inv, float *z) {
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
}

/// out[j·d + c] += Σ_r z[r·k + j]·x̃_rc for every class, in groups of
/// classes that fit the registers; or, with `acc`, the float sums carried
/// there (see ``regression_backward``).
static void SK_FN(regression_backward_all)(const float *x, const int64_t *index, long rows,
                                           long d, const float *z, long k, const float *mu,
                                           const float *inv, double *out, float *acc,
                                           long stride, int first, const float *next,
                                           long next_rows) {
  const long group = SK_FN(group_size)(k, SK_GROUP_MAX);
  for (long j0 = 0; j0 < k; j0 += group) {
    long size = k - j0 < group ? k - j0 : group;
    // The next rows are prefetched during the first class group only.
    const float *ahead = j0 == 0 ? next : 0;
    switch (size) {
#define SK_BACKWARD_CASE(G)                                                                   \
  case G:                                                                                 \
    if (mu)                                                                               \
      SK_FN(regression_backward)(x, index, rows, d, z, k, j0, G, mu, inv, out, acc, stride,  \
                                 first, ahead, next_rows, 1);                              \
    else                                                                                  \
      SK_FN(regression_backward)(x, index, rows, d, z, k, j0, G, mu, inv, out, acc, stride,  \
                                 first, ahead, next_rows, 0);                              \
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

#ifndef SK_PART_BYTES
/// A block's rows go through the forward, the softmax and the backward pass
/// in parts of about this many bytes of X (a multiple of four rows): the
/// backward pass reads a part from L2 while it prefetches the next part's
/// rows, so the forward pass reads them from L2 too instead of waiting on
/// memory.
#define SK_PART_BYTES (192 << 10)
#endif
/// The float sums carried from part to part: at most this many (64 KB).
#define SK_CARRIED_MAX 16384

/// Rows per part of a block of `rows` (all of them when the block is one
/// part, or when k classes' carried sums would not fit).
SK_INLINE long SK_FN(part_rows)(long rows, long d, long k) {
  const long stride = (d + 15) & ~15L;
  if (k * stride > SK_CARRIED_MAX) return rows;
  long part = (sk_regression_part_bytes(SK_PART_BYTES) / (d * 4)) & ~3L;
  if (part < 4) part = 4;
  return part < rows ? part : rows;
}

/// out[j·d + c] += acc[j·stride + c]: a block's float sums, once, into
/// its double partial.
SK_INLINE void SK_FN(add_carried)(const float *acc, long stride, long d, long k, double *out) {
  for (long j = 0; j < k; j++)
    for (long c = 0; c < d; c++) out[j * d + c] += (double)acc[j * stride + c];
}

static void SK_FN(regression_block)(const float *x, const int64_t *index, long rows, long d,
                                    const float *w, const float *b, long k, const float *mu,
                                    const float *inv, const int64_t *labels,
                                    const double *row_weights, int want_gradient,
                                    float *probabilities, float *z, double *out) {
  const long stride = (d + 15) & ~15L;
  const long part = SK_FN(part_rows)(rows, d, k);
  const int carries = part < rows && want_gradient;
  float carried[carries ? k * stride : 1];
  float *acc = carries ? carried : 0;
  double *out_b = out + k * d;
  double loss = 0;
  for (long s = 0; s < rows; s += part) {
    const long n = rows - s < part ? rows - s : part;
    // The part's rows: contiguous from x + s·d, or index[s ..< s + n]
    // (labels and weights are then indexed by the whole array's rows).
    const float *xp = index ? x : x + s * d;
    const int64_t *ip = index ? index + s : 0;
    const int64_t *lp = index ? labels : labels + s;
    const double *wp = index ? row_weights : row_weights + s;
    float *zp = z + s * k;
    SK_FN(regression_logits)(xp, ip, n, d, w, b, k, mu, inv, zp);
    // Softmax cross-entropy per row: loss in double, z replaced by the
    // weighted gradient w_r·(softmax - onehot).
    for (long r = 0; r < n; r++) {
      float *zr = zp + r * k;
      float m = -__builtin_inff();
      for (long j = 0; j < k; j += 16) {
        long lanes = k - j < 16 ? k - j : 16;
        m = fmaxf(m, SK_FN(horizontal_max)(SK_FN(load_part)(zr + j, lanes, -__builtin_inff())));
      }
      const long label = (long)lp[SK_ROW(ip, r)];
      const float top_gap = zr[label] - m;  // exact when |z| are within a factor 2 (Sterbenz)
      double sum = 0;
      for (long j = 0; j < k; j += 16) {
        long lanes = k - j < 16 ? k - j : 16;
        v16f e = SK_FN(exp_plain)(SK_FN(load_part)(zr + j, lanes, -__builtin_inff()) - m);
        sum += (double)SK_FN(lane_sum)(e);
        if (want_gradient || probabilities) SK_FN(store_part)(zr + j, e, lanes);
      }
      const double weight = wp[SK_ROW(ip, r)];
      loss += weight * (log(sum) - (double)top_gap);
      if (probabilities) {
        // softmax(z_r), kept for Hessian products at these parameters.
        const float inverse = (float)(1.0 / sum);
        float *pr = probabilities + (s + r) * k;
        for (long j = 0; j < k; j++) pr[j] = zr[j] * inverse;
      }
      if (!want_gradient) continue;
      const float scale = (float)(weight / sum);
      for (long j = 0; j < k; j++) zr[j] *= scale;
      zr[label] -= (float)weight;
      for (long j = 0; j < k; j++) out_b[j] += (double)zr[j];
    }
    if (!want_gradient) continue;
    // Contiguous rows: the next part's (or, after the last, the rows that
    // follow the block: usually this thread's next block) are prefetched.
    // A prefetch never faults, so rows past the end of x cost nothing.
    const float *next = index ? 0 : x + (s + n) * d;
    const long next_rows = part;
    SK_FN(regression_backward_all)(xp, ip, n, d, zp, k, mu, inv, out, acc, stride, s == 0,
                                   next, next_rows);
  }
  out[k * d + k] += loss;
  if (acc) SK_FN(add_carried)(acc, stride, d, k, out);
}

static void SK_FN(regression_hessian_block)(const float *x, long rows, long d, const float *v,
                                            const float *c, long k, const float *mu,
                                            const float *inv, const float *probabilities,
                                            const double *row_weights, float *z, double *out) {
  const long stride = (d + 15) & ~15L;
  const long part = SK_FN(part_rows)(rows, d, k);
  const int carries = part < rows;
  float carried[carries ? k * stride : 1];
  float *acc = carries ? carried : 0;
  double *out_b = out + k * d;
  for (long s = 0; s < rows; s += part) {
    const long n = rows - s < part ? rows - s : part;
    const float *xp = x + s * d;
    float *zp = z + s * k;
    // δz = V·x̃ + c, the direction's change of the logits.
    SK_FN(regression_logits)(xp, 0, n, d, v, c, k, mu, inv, zp);
    // r = s·(p ⊙ δz − p·(pᵀδz)): δz through the softmax's Hessian.
    for (long r = 0; r < n; r++) {
      float *zr = zp + r * k;
      const float *pr = probabilities + (s + r) * k;
      double dot = 0;
      for (long j = 0; j < k; j++) dot += (double)pr[j] * (double)zr[j];
      const double weight = row_weights[s + r];
      for (long j = 0; j < k; j++) {
        zr[j] = (float)(weight * (double)pr[j] * ((double)zr[j] - dot));
        out_b[j] += (double)zr[j];
      }
    }
    SK_FN(regression_backward_all)(xp, 0, n, d, zp, k, mu, inv, out, acc, stride, s == 0,
                                   x + (s + n) * d, part);
  }
  if (acc) SK_FN(add_carried)(acc, stride, d, k, out);
}
#undef SK_GROUP_MAX
#undef SK_FORWARD_GROUP
