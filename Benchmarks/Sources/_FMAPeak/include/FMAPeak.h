//===--- FMAPeak.h --------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

#ifndef FMA_PEAK_H
#define FMA_PEAK_H

/// Runs `iterations` rounds of 12 independent fused multiply-adds on
/// 16-float vectors (AVX-512), or on 8-float vectors (AVX2 + FMA) when
/// `width` is 8: 2·12·width·iterations floating-point operations, the
/// FMA pipes' peak (every add waits only on itself, 12 chains in flight).
/// Returns a value that depends on every result (so that none is elided);
/// 0 if this CPU lacks the instructions.
float fma_peak_run(long iterations, int width);

/// Whether this CPU runs `fma_peak_run` at `width` (16 or 8).
int fma_peak_supported(int width);

#endif
