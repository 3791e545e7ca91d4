/*
 * shmemx.h -- rshmem extensions to the OpenSHMEM API. Includes shmem.h.
 *
 * Nothing beyond the specification is provided yet; this header exists so that codes
 * written for other implementations, which include it unconditionally, build.
 */
#ifndef RSHMEM_SHMEMX_H
#define RSHMEM_SHMEMX_H

#include <shmem.h>

/* The implementation behind shmem.h, for conditional compilation. */
#define RSHMEM 1
#define RSHMEM_VERSION_MAJOR 0
#define RSHMEM_VERSION_MINOR 1
#define RSHMEM_VERSION_PATCH 0

#endif /* RSHMEM_SHMEMX_H */
