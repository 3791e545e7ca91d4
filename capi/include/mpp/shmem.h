/*
 * mpp/shmem.h -- the legacy include path of the OpenSHMEM header (SGI/Cray SHMEM, and
 * shipped by Sandia OpenSHMEM and Open MPI's OSHMEM): the same as <shmem.h>.
 */
#ifndef RSHMEM_MPP_SHMEM_H
#define RSHMEM_MPP_SHMEM_H
#include "../shmem.h"
#endif /* RSHMEM_MPP_SHMEM_H */
