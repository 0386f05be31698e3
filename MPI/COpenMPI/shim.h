// Open MPI's C interface, found by pkg-config (ompi-c).
#include <mpi.h>
