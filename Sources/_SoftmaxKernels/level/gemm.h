//===--- gemm.h -------------------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// Matrix products C (+)= op(A)·op(B) in float and in double, blocked as BLIS does: B packed in
// panels of NR columns and KC rows, A in panels of MR rows, and a micro-kernel
// that keeps an MR × NR tile of C in registers (gemm_body.h, once per type).
// Included once per CPU level by kernels_impl.h (SK_FN names the level).
//
// Every element of C is one chain of fused multiply-adds over k in increasing
// order, started from 0 (or from C's value when accumulating) and rounded to
// the type at each step: the blocking, the tile sizes, the vector width and the
// split of C between threads change no bit, so every level and every thread
// count gives the same C.
//
//===----------------------------------------------------------------------===//

// SK_GEMM_KC, SK_GEMM_MC and SK_GEMM_NC (the blocks, the same at every
// level and type) are in kernels.c.

#define SK_GEMM_CAT2(a, b) SK_FN(a##_##b)
#define SK_GEMM_CAT(a, b) SK_GEMM_CAT2(a, b)

// float: 12 × 32 tiles with AVX-512, 6 × 16 with AVX2, 4 × 8 otherwise.
#define SK_GEMM_T float
#define SK_GEMM_NAME(name) SK_GEMM_CAT(name, f32)
#if defined(SK_AVX512)
#define SK_GEMM_VEC v16f
#define SK_GEMM_W 16
#define SK_GEMM_MR 12
#elif defined(SK_AVX2)
#define SK_GEMM_VEC v8f
#define SK_GEMM_W 8
#define SK_GEMM_MR 6
#else
#define SK_GEMM_VEC v4f
#define SK_GEMM_W 4
#define SK_GEMM_MR 4
#endif
#include "gemm_body.h"
#undef SK_GEMM_T
#undef SK_GEMM_NAME
#undef SK_GEMM_VEC
#undef SK_GEMM_W
#undef SK_GEMM_MR

// double: 12 × 16 tiles with AVX-512, 6 × 8 with AVX2, 4 × 4 otherwise.
#define SK_GEMM_T double
#define SK_GEMM_NAME(name) SK_GEMM_CAT(name, f64)
#if defined(SK_AVX512)
#define SK_GEMM_VEC v8d
#define SK_GEMM_W 8
#define SK_GEMM_MR 12
#elif defined(SK_AVX2)
#define SK_GEMM_VEC v4d
#define SK_GEMM_W 4
#define SK_GEMM_MR 6
#else
#define SK_GEMM_VEC v2d
#define SK_GEMM_W 2
#define SK_GEMM_MR 4
#endif
#include "gemm_body.h"
#undef SK_GEMM_T
#undef SK_GEMM_NAME
#undef SK_GEMM_VEC
#undef SK_GEMM_W
#undef SK_GEMM_MR
#undef SK_GEMM_CAT
#undef SK_GEMM_CAT2
