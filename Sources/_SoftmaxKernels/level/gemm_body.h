//===--- gemm_body.h --------------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// The matrix product's packing, micro-kernel and blocking for one scalar
// type, included by gemm.h once per type (SK_GEMM_T, SK_GEMM_VEC, SK_GEMM_W,
// SK_GEMM_MR, SK_GEMM_NAME) and so once per type and CPU level.
//
//===----------------------------------------------------------------------===//

// Two vectors a row of the tile: NR columns.
#define SK_GEMM_NR (2 * SK_GEMM_W)

SK_INLINE SK_GEMM_VEC SK_GEMM_NAME(gemm_load)(const SK_GEMM_T *p) {
  SK_GEMM_VEC v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

SK_INLINE void SK_GEMM_NAME(gemm_store)(SK_GEMM_T *p, SK_GEMM_VEC v) { __builtin_memcpy(p, &v, sizeof v); }

/// The MR × NR tile at `c` (row stride `ldc`) plus the product of a packed
/// A panel (kc × MR, k major) and a packed B panel (kc × NR, k major); the
/// tile starts from 0 unless `load`.
SK_INLINE void SK_GEMM_NAME(gemm_micro)(long kc, const SK_GEMM_T *restrict ap, const SK_GEMM_T *restrict bp,
                                 SK_GEMM_T *c, long ldc, int load) {
  SK_GEMM_VEC acc0[SK_GEMM_MR], acc1[SK_GEMM_MR];
#pragma clang loop unroll(full)
  for (int i = 0; i < SK_GEMM_MR; i++) {
    if (load) {
      acc0[i] = SK_GEMM_NAME(gemm_load)(c + i * ldc);
      acc1[i] = SK_GEMM_NAME(gemm_load)(c + i * ldc + SK_GEMM_W);
    } else {
      acc0[i] = 0;
      acc1[i] = 0;
    }
  }
  for (long p = 0; p < kc; p++) {
    SK_GEMM_VEC b0 = SK_GEMM_NAME(gemm_load)(bp), b1 = SK_GEMM_NAME(gemm_load)(bp + SK_GEMM_W);
#pragma clang loop unroll(full)
    for (int i = 0; i < SK_GEMM_MR; i++) {
      SK_GEMM_VEC a = ap[i];
      acc0[i] = __builtin_elementwise_fma(a, b0, acc0[i]);
      acc1[i] = __builtin_elementwise_fma(a, b1, acc1[i]);
    }
    ap += SK_GEMM_MR;
    bp += SK_GEMM_NR;
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < SK_GEMM_MR; i++) {
    SK_GEMM_NAME(gemm_store)(c + i * ldc, acc0[i]);
    SK_GEMM_NAME(gemm_store)(c + i * ldc + SK_GEMM_W, acc1[i]);
  }
}

/// Packs rows [i0, i0 + mc) and k in [p0, p0 + kc) of op(A) into panels of
/// MR rows, zero beyond row `m`.
SK_INLINE void SK_GEMM_NAME(gemm_pack_a)(int trans, const SK_GEMM_T *a, long lda, long i0, long mc, long m,
                                  long p0, long kc, SK_GEMM_T *out) {
  for (long r = 0; r < mc; r += SK_GEMM_MR) {
    SK_GEMM_T *panel = out + r * kc;
    long height = mc - r < SK_GEMM_MR ? mc - r : SK_GEMM_MR;
    if (i0 + r + height > m) height = m - (i0 + r);
    if (trans) {
      // op(A)(i, k) = a[k·lda + i]: a panel's rows at one k are adjacent.
      for (long p = 0; p < kc; p++) {
        const SK_GEMM_T *row = a + (p0 + p) * lda + i0 + r;
        SK_GEMM_T *dst = panel + p * SK_GEMM_MR;
        long ii = 0;
        for (; ii < height; ii++) dst[ii] = row[ii];
        for (; ii < SK_GEMM_MR; ii++) dst[ii] = 0;
      }
      continue;
    }
    for (long ii = 0; ii < SK_GEMM_MR; ii++) {
      long i = i0 + r + ii;
      if (ii >= height) {
        for (long p = 0; p < kc; p++) panel[p * SK_GEMM_MR + ii] = 0;
      } else {
        const SK_GEMM_T *row = a + i * lda + p0;
        for (long p = 0; p < kc; p++) panel[p * SK_GEMM_MR + ii] = row[p];
      }
    }
  }
}

/// Packs columns [j0, j0 + nc) and k in [p0, p0 + kc) of op(B) into panels
/// of NR columns, zero beyond column `n`.
SK_INLINE void SK_GEMM_NAME(gemm_pack_b)(int trans, const SK_GEMM_T *b, long ldb, long j0, long nc, long n,
                                  long p0, long kc, SK_GEMM_T *out) {
  for (long q = 0; q < nc; q += SK_GEMM_NR) {
    SK_GEMM_T *panel = out + q * kc;
    long width = nc - q < SK_GEMM_NR ? nc - q : SK_GEMM_NR;
    if (j0 + q + width > n) width = n - (j0 + q);
    if (trans) {
      // B(k, j) = b[j·ldb + k]: each column of op(B) is a row of b.
      for (long jj = 0; jj < SK_GEMM_NR; jj++) {
        if (jj >= width) {
          for (long p = 0; p < kc; p++) panel[p * SK_GEMM_NR + jj] = 0;
          continue;
        }
        const SK_GEMM_T *column = b + (j0 + q + jj) * ldb + p0;
        for (long p = 0; p < kc; p++) panel[p * SK_GEMM_NR + jj] = column[p];
      }
    } else {
      for (long p = 0; p < kc; p++) {
        const SK_GEMM_T *row = b + (p0 + p) * ldb + j0 + q;
        SK_GEMM_T *dst = panel + p * SK_GEMM_NR;
        long jj = 0;
        for (; jj < width; jj++) dst[jj] = row[jj];
        for (; jj < SK_GEMM_NR; jj++) dst[jj] = 0;
      }
    }
  }
}

/// C[i][j] = (accumulate ? C[i][j] : 0) + Σ_k op(A)(i, k)·op(B)(k, j) for
/// i < m, j < n; op(A)(i, k) = a[i·lda + k] (a[k·lda + i] when transA),
/// op(B)(k, j) = b[k·ldb + j] (b[j·ldb + k] when transB). `work` holds
/// KC·(MC + NC) scalars.
void SK_GEMM_NAME(gemm)(int trans_a, int trans_b, long m, long n, long k, const SK_GEMM_T *a, long lda,
                     const SK_GEMM_T *b, long ldb, SK_GEMM_T *c, long ldc, int accumulate, SK_GEMM_T *work) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (long i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(SK_GEMM_T));
    return;
  }
  SK_GEMM_T *packed_b = work;
  SK_GEMM_T *packed_a = work + SK_GEMM_KC * SK_GEMM_NC;
  SK_GEMM_T tile[SK_GEMM_MR * SK_GEMM_NR];
  for (long j0 = 0; j0 < n; j0 += SK_GEMM_NC) {
    long nc = n - j0 < SK_GEMM_NC ? n - j0 : SK_GEMM_NC;
    for (long p0 = 0; p0 < k; p0 += SK_GEMM_KC) {
      long kc = k - p0 < SK_GEMM_KC ? k - p0 : SK_GEMM_KC;
      int load = accumulate || p0 > 0;
      SK_GEMM_NAME(gemm_pack_b)(trans_b, b, ldb, j0, nc, n, p0, kc, packed_b);
      for (long i0 = 0; i0 < m; i0 += SK_GEMM_MC) {
        long mc = m - i0 < SK_GEMM_MC ? m - i0 : SK_GEMM_MC;
        SK_GEMM_NAME(gemm_pack_a)(trans_a, a, lda, i0, mc, m, p0, kc, packed_a);
        for (long q = 0; q < nc; q += SK_GEMM_NR) {
          long width = nc - q < SK_GEMM_NR ? nc - q : SK_GEMM_NR;
          const SK_GEMM_T *bp = packed_b + q * kc;
          for (long r = 0; r < mc; r += SK_GEMM_MR) {
            long height = mc - r < SK_GEMM_MR ? mc - r : SK_GEMM_MR;
            const SK_GEMM_T *ap = packed_a + r * kc;
            SK_GEMM_T *cp = c + (i0 + r) * ldc + j0 + q;
            if (height == SK_GEMM_MR && width == SK_GEMM_NR) {
              SK_GEMM_NAME(gemm_micro)(kc, ap, bp, cp, ldc, load);
            } else {
              // An edge tile: through a full tile in memory.
              for (long i = 0; i < SK_GEMM_MR; i++)
                for (long j = 0; j < SK_GEMM_NR; j++)
                  tile[i * SK_GEMM_NR + j] = load && i < height && j < width ? cp[i * ldc + j] : 0;
              SK_GEMM_NAME(gemm_micro)(kc, ap, bp, tile, SK_GEMM_NR, 1);
              for (long i = 0; i < height; i++)
                for (long j = 0; j < width; j++) cp[i * ldc + j] = tile[i * SK_GEMM_NR + j];
            }
          }
        }
      }
    }
  }
}

#undef SK_GEMM_NR
