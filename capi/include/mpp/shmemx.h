/*
 * mpp/shmemx.h -- the legacy include path of the extensions header: the same as
 * <shmemx.h>.
 */
#ifndef RSHMEM_MPP_SHMEMX_H
#define RSHMEM_MPP_SHMEMX_H
#include "../shmemx.h"
#endif /* RSHMEM_MPP_SHMEMX_H */
