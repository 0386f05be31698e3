//===--- peak.c -----------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

#include "FMAPeak.h"

#if defined(__x86_64__)

typedef float v16f __attribute__((ext_vector_type(16)));
typedef float v8f __attribute__((ext_vector_type(8)));

// Twelve chains in named variables (an array would live on the stack):
// more than the FMA latency times the pipes on any current x86 core.
#define PEAK_LOOP(T)                                                          \
  T a0 = (T)1.000f, a1 = (T)1.001f, a2 = (T)1.002f, a3 = (T)1.003f;           \
  T a4 = (T)1.004f, a5 = (T)1.005f, a6 = (T)1.006f, a7 = (T)1.007f;           \
  T a8 = (T)1.008f, a9 = (T)1.009f, a10 = (T)1.010f, a11 = (T)1.011f;         \
  T m = (T)0.999999f, c = (T)1e-7f;                                           \
  for (long i = 0; i < iterations; i++) {                                     \
    a0 = __builtin_elementwise_fma(a0, m, c);                                 \
    a1 = __builtin_elementwise_fma(a1, m, c);                                 \
    a2 = __builtin_elementwise_fma(a2, m, c);                                 \
    a3 = __builtin_elementwise_fma(a3, m, c);                                 \
    a4 = __builtin_elementwise_fma(a4, m, c);                                 \
    a5 = __builtin_elementwise_fma(a5, m, c);                                 \
    a6 = __builtin_elementwise_fma(a6, m, c);                                 \
    a7 = __builtin_elementwise_fma(a7, m, c);                                 \
    a8 = __builtin_elementwise_fma(a8, m, c);                                 \
    a9 = __builtin_elementwise_fma(a9, m, c);                                 \
    a10 = __builtin_elementwise_fma(a10, m, c);                               \
    a11 = __builtin_elementwise_fma(a11, m, c);                               \
    __asm__ volatile("" : "+v"(m));                                           \
  }                                                                           \
  T sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)); \
  return sum[0];

__attribute__((target("avx512f,fma"))) static float run16(long iterations) { PEAK_LOOP(v16f) }
__attribute__((target("avx2,fma"))) static float run8(long iterations) { PEAK_LOOP(v8f) }

int fma_peak_supported(int width) {
  __builtin_cpu_init();
  if (width == 16) return __builtin_cpu_supports("avx512f");
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

float fma_peak_run(long iterations, int width) {
  if (!fma_peak_supported(width)) return 0;
  return width == 16 ? run16(iterations) : run8(iterations);
}

#else

int fma_peak_supported(int width) { return 0; }
float fma_peak_run(long iterations, int width) { return 0; }

#endif
