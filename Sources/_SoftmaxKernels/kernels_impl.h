//===--- kernels_impl.h ---------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

#include "level/primitives.h"
#include "level/lanes.h"
#include "level/rows.h"
#include "level/entry_points.h"
#include "level/cross_entropy.h"
#include "level/regression_block.h"
#include "level/pair_dots.h"
#include "level/adam.h"
#include "level/gemm.h"
#include "level/sparse_layer.h"
