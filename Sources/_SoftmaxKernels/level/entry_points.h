//===--- entry_points.h -------------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// The level's entry points: rows (through 16 × 16 tiles when short), columns, the softmax VJP.
// Included once per CPU level by kernels_impl.h (SK_FN names the level).
//
//===----------------------------------------------------------------------===//

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
