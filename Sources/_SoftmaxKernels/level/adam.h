//===--- adam.h -------------------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// Adam's update of the parameters and its moments, in double, eight at a
// time. Included once per CPU level by kernels_impl.h (SK_FN names the
// level; SK_FN(pair_load_f64) comes from pair_dots.h).
//
//===----------------------------------------------------------------------===//

/// Adam's step over elements [begin, end): m = b1·m + (1 − b1)·g,
/// v = b2·v + (1 − b2)·g·g, x = x − step·m / (√v·root + eps), each product,
/// sum, quotient and square root rounded on its own (never fused), in
/// that order: the bits of the Swift loop it replaces, at every level.
void SK_FN(adam_update)(double *x, const double *g, double *m, double *v, long begin, long end,
                        double b1, double b2, double step, double root, double eps) {
#pragma clang fp contract(off)
  long i = begin;
  for (; i + 8 <= end; i += 8) {
    v8d gi = SK_FN(pair_load_f64)(g + i);
    v8d mi = b1 * SK_FN(pair_load_f64)(m + i) + (1 - b1) * gi;
    v8d vi = b2 * SK_FN(pair_load_f64)(v + i) + ((1 - b2) * gi) * gi;
    v8d xi = SK_FN(pair_load_f64)(x + i) - (step * mi) / (__builtin_elementwise_sqrt(vi) * root + eps);
    __builtin_memcpy(m + i, &mi, sizeof mi);
    __builtin_memcpy(v + i, &vi, sizeof vi);
    __builtin_memcpy(x + i, &xi, sizeof xi);
  }
  for (; i < end; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + ((1 - b2) * g[i]) * g[i];
    x[i] = x[i] - (step * m[i]) / (sqrt(v[i]) * root + eps);
  }
}
