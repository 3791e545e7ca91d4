/*
 * shmemx.h -- rshmem extensions to the OpenSHMEM API, compatible with Sandia OpenSHMEM's
 * shmemx.h so that programs written against it build unchanged. Includes shmem.h.
 *
 * - shmemx_ names of routines that OpenSHMEM 1.6 standardized (static inline renames of
 *   the shmem_ routines): shmemx_TYPE_ibput/ibget (and sized, ctx forms),
 *   shmemx_signal_add/set (and ctx forms), shmemx_TYPE_sum_inscan/exscan,
 *   shmemx_pe_quiet/ctx_pe_quiet.
 * - shmemx_wtime: seconds on a monotonic clock (HAVE_SHMEMX_WTIME).
 * - SHMEMX_TEAM_NODE / shmemx_team_node: the team of the PEs on this node (rshmem's
 *   SHMEM_TEAM_SHARED; see capi/README.md for the RSHMEM_TRANSPORT=verbs exception).
 * - Performance counters shmemx_pcntr_*: this PE's puts, gets and atomics, issued and
 *   known complete (issued by a thread before its last quiet), counted by the runtime
 *   (all contexts together).
 * - shmem_malloc_with_hints(size, SHMEMX_MALLOC_NO_BARRIER): no closing barrier.
 * - shmemx_register_gettid: accepted (rshmem does not need thread ids).
 */
#ifndef RSHMEM_SHMEMX_H
#define RSHMEM_SHMEMX_H

#include <shmem.h>

/* The implementation behind shmem.h, for conditional compilation. */
#define RSHMEM 1
#define RSHMEM_VERSION_MAJOR 0
#define RSHMEM_VERSION_MINOR 1
#define RSHMEM_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

#define HAVE_SHMEMX_WTIME 1
double shmemx_wtime(void);

/* Teams */
#define SHMEMX_TEAM_NODE SHMEM_TEAM_SHARED
#define shmemx_team_node SHMEMX_TEAM_NODE

/* Memory: shmem_malloc_with_hints hint (Sandia's value). */
#define SHMEMX_MALLOC_NO_BARRIER (1L << 2)

/* Performance counters */
typedef struct {
    uint64_t pending_put;
    uint64_t pending_get;
    uint64_t completed_put;
    uint64_t completed_get;
    uint64_t target;
} shmemx_pcntr_t;
void shmemx_pcntr_get_issued_write(shmem_ctx_t ctx, uint64_t *cntr_value);
void shmemx_pcntr_get_issued_read(shmem_ctx_t ctx, uint64_t *cntr_value);
void shmemx_pcntr_get_completed_write(shmem_ctx_t ctx, uint64_t *cntr_value);
void shmemx_pcntr_get_completed_read(shmem_ctx_t ctx, uint64_t *cntr_value);
void shmemx_pcntr_get_completed_target(uint64_t *cntr_value);
void shmemx_pcntr_get_all(shmem_ctx_t ctx, shmemx_pcntr_t *pcntr);

void shmemx_register_gettid(uint64_t (*gettid_fn)(void));

/* ---- shmemx_ names of what OpenSHMEM 1.6 standardized ------------------------------- */

#define RSHMEMX_IB(T, N)                                                                   \
    static inline void shmemx_##N##_ibput(T *dest, const T *source, ptrdiff_t dst,         \
                                          ptrdiff_t sst, size_t bsize, size_t nblocks,     \
                                          int pe) {                                        \
        shmem_##N##_ibput(dest, source, dst, sst, bsize, nblocks, pe);                     \
    }                                                                                      \
    static inline void shmemx_##N##_ibget(T *dest, const T *source, ptrdiff_t dst,         \
                                          ptrdiff_t sst, size_t bsize, size_t nblocks,     \
                                          int pe) {                                        \
        shmem_##N##_ibget(dest, source, dst, sst, bsize, nblocks, pe);                     \
    }                                                                                      \
    static inline void shmemx_ctx_##N##_ibput(shmem_ctx_t ctx, T *dest, const T *source,   \
                                              ptrdiff_t dst, ptrdiff_t sst, size_t bsize,  \
                                              size_t nblocks, int pe) {                    \
        shmem_ctx_##N##_ibput(ctx, dest, source, dst, sst, bsize, nblocks, pe);            \
    }                                                                                      \
    static inline void shmemx_ctx_##N##_ibget(shmem_ctx_t ctx, T *dest, const T *source,   \
                                              ptrdiff_t dst, ptrdiff_t sst, size_t bsize,  \
                                              size_t nblocks, int pe) {                    \
        shmem_ctx_##N##_ibget(ctx, dest, source, dst, sst, bsize, nblocks, pe);            \
    }
RSHMEM_RMA_TYPES(RSHMEMX_IB)

#define RSHMEMX_IB_SIZED(S)                                                                \
    static inline void shmemx_ibput##S(void *dest, const void *source, ptrdiff_t dst,      \
                                       ptrdiff_t sst, size_t bsize, size_t nblocks,        \
                                       int pe) {                                           \
        shmem_ibput##S(dest, source, dst, sst, bsize, nblocks, pe);                        \
    }                                                                                      \
    static inline void shmemx_ibget##S(void *dest, const void *source, ptrdiff_t dst,      \
                                       ptrdiff_t sst, size_t bsize, size_t nblocks,        \
                                       int pe) {                                           \
        shmem_ibget##S(dest, source, dst, sst, bsize, nblocks, pe);                        \
    }                                                                                      \
    static inline void shmemx_ctx_ibput##S(shmem_ctx_t ctx, void *dest, const void *source, \
                                           ptrdiff_t dst, ptrdiff_t sst, size_t bsize,     \
                                           size_t nblocks, int pe) {                       \
        shmem_ctx_ibput##S(ctx, dest, source, dst, sst, bsize, nblocks, pe);               \
    }                                                                                      \
    static inline void shmemx_ctx_ibget##S(shmem_ctx_t ctx, void *dest, const void *source, \
                                           ptrdiff_t dst, ptrdiff_t sst, size_t bsize,     \
                                           size_t nblocks, int pe) {                       \
        shmem_ctx_ibget##S(ctx, dest, source, dst, sst, bsize, nblocks, pe);               \
    }
RSHMEMX_IB_SIZED(8)
RSHMEMX_IB_SIZED(16)
RSHMEMX_IB_SIZED(32)
RSHMEMX_IB_SIZED(64)
RSHMEMX_IB_SIZED(128)

static inline void shmemx_signal_add(uint64_t *sig_addr, uint64_t signal, int pe) {
    shmem_signal_add(sig_addr, signal, pe);
}
static inline void shmemx_signal_set(uint64_t *sig_addr, uint64_t signal, int pe) {
    shmem_signal_set(sig_addr, signal, pe);
}
static inline void shmemx_ctx_signal_add(shmem_ctx_t ctx, uint64_t *sig_addr, uint64_t signal,
                                         int pe) {
    shmem_ctx_signal_add(ctx, sig_addr, signal, pe);
}
static inline void shmemx_ctx_signal_set(shmem_ctx_t ctx, uint64_t *sig_addr, uint64_t signal,
                                         int pe) {
    shmem_ctx_signal_set(ctx, sig_addr, signal, pe);
}

#define RSHMEMX_SCAN(T, N)                                                                 \
    static inline int shmemx_##N##_sum_inscan(shmem_team_t team, T *dest, const T *source, \
                                              size_t nelems) {                             \
        return shmem_##N##_sum_inscan(team, dest, source, nelems);                         \
    }                                                                                      \
    static inline int shmemx_##N##_sum_exscan(shmem_team_t team, T *dest, const T *source, \
                                              size_t nelems) {                             \
        return shmem_##N##_sum_exscan(team, dest, source, nelems);                         \
    }
RSHMEM_REDUCE_MINMAX_TYPES(RSHMEMX_SCAN)

static inline void shmemx_pe_quiet(const int *target_pes, size_t npes) {
    shmem_pe_quiet(target_pes, npes);
}
static inline void shmemx_ctx_pe_quiet(shmem_ctx_t ctx, const int *target_pes, size_t npes) {
    shmem_ctx_pe_quiet(ctx, target_pes, npes);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RSHMEM_SHMEMX_H */
