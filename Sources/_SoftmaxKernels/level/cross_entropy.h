//===--- cross_entropy.h ------------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// The fused cross-entropy of rows with class indices.
// Included once per CPU level by kernels_impl.h (SK_FN names the level).
//
//===----------------------------------------------------------------------===//

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
