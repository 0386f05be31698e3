//===--- mpi_shim.c -------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

#include "softmax_mpi.h"

#include <mpi.h>
#include <string.h>

int softmax_mpi_init(void) {
  int provided = 0;
  int status = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
  if (status != MPI_SUCCESS) return status;
  return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

int softmax_mpi_finalize(void) { return MPI_Finalize(); }

int softmax_mpi_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }

int softmax_mpi_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }

int softmax_mpi_allreduce_sum_int64(int64_t *values, int count) {
  return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
}

int softmax_mpi_allreduce_max_double(double *values, int count) {
  return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
}

void softmax_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

void softmax_mpi_error_text(int code, char *buffer, int capacity) {
  if (capacity <= 0) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  if (length >= capacity) length = capacity - 1;
  memcpy(buffer, text, (size_t)length);
  buffer[length] = 0;
}
