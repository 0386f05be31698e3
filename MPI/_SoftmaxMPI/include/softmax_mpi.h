//===--- softmax_mpi.h ----------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// The few MPI calls distributed training makes, as plain C functions:
// MPI's handles (MPI_COMM_WORLD, MPI_INT64_T, MPI_SUM, ...) are macros that
// Swift does not import. Every function returns MPI's error code (0 is
// MPI_SUCCESS); errors are returned, not fatal (MPI_ERRORS_RETURN).

#ifndef SOFTMAX_MPI_H
#define SOFTMAX_MPI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// MPI_Init_thread (MPI_THREAD_FUNNELED: one thread calls MPI), with
/// errors returned on MPI_COMM_WORLD.
int softmax_mpi_init(void);
/// MPI_Finalize.
int softmax_mpi_finalize(void);
/// This process's rank in MPI_COMM_WORLD and the world's size.
int softmax_mpi_rank(int *rank);
int softmax_mpi_size(int *size);
/// In-place element-wise sum of `count` int64 values over MPI_COMM_WORLD.
int softmax_mpi_allreduce_sum_int64(int64_t *values, int count);
/// In-place element-wise maximum of `count` doubles over MPI_COMM_WORLD.
int softmax_mpi_allreduce_max_double(double *values, int count);
/// MPI_Abort of MPI_COMM_WORLD: every process of the job stops.
void softmax_mpi_abort(int code);
/// The text of an MPI error code into `buffer`.
void softmax_mpi_error_text(int code, char *buffer, int capacity);

#ifdef __cplusplus
}
#endif

#endif
