/*
 * shmem.h -- the OpenSHMEM 1.5 C API of rshmem, with the 1.6 additions
 * shmem_query_initialized, ibput/ibget, signal_add/signal_set, pe_quiet and the
 * (hint-only) communication sessions.
 *
 * Link with -lrshmem (the rshmemcc / rshmemc++ wrappers do it). Every shmem_ routine is
 * also exported as pshmem_ (profiling interface); the shmem_ names are weak.
 *
 * C11 generics accept a leading shmem_ctx_t (shmem_put(ctx, ...)); shmem_sync(team) and
 * the deprecated (1.3) AMO names are provided too. pshmem.h declares the pshmem_ names.
 */
#ifndef RSHMEM_SHMEM_H
#define RSHMEM_SHMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Library constants ------------------------------------------------------------- */

#define SHMEM_MAJOR_VERSION 1
#define SHMEM_MINOR_VERSION 6
#define SHMEM_MAX_NAME_LEN 256
#define SHMEM_VENDOR_STRING "rshmem 0.1.0"
#define _SHMEM_MAJOR_VERSION SHMEM_MAJOR_VERSION
#define _SHMEM_MINOR_VERSION SHMEM_MINOR_VERSION
#define _SHMEM_MAX_NAME_LEN SHMEM_MAX_NAME_LEN
#define _SHMEM_VENDOR_STRING SHMEM_VENDOR_STRING

#define SHMEM_THREAD_SINGLE 0
#define SHMEM_THREAD_FUNNELED 1
#define SHMEM_THREAD_SERIALIZED 2
#define SHMEM_THREAD_MULTIPLE 3

#define SHMEM_CMP_EQ 0
#define SHMEM_CMP_NE 1
#define SHMEM_CMP_GT 2
#define SHMEM_CMP_GE 3
#define SHMEM_CMP_LT 4
#define SHMEM_CMP_LE 5
#define _SHMEM_CMP_EQ SHMEM_CMP_EQ
#define _SHMEM_CMP_NE SHMEM_CMP_NE
#define _SHMEM_CMP_GT SHMEM_CMP_GT
#define _SHMEM_CMP_GE SHMEM_CMP_GE
#define _SHMEM_CMP_LT SHMEM_CMP_LT
#define _SHMEM_CMP_LE SHMEM_CMP_LE

#define SHMEM_SIGNAL_SET 0
#define SHMEM_SIGNAL_ADD 1

#define SHMEM_MALLOC_ATOMICS_REMOTE 1L
#define SHMEM_MALLOC_SIGNAL_REMOTE 2L

/* ---- Teams and contexts: handles and constants -------------------------------------- */

/* Opaque handles. A team handle is never dereferenced by the program; the predefined
 * values are small integers so that they are constant expressions. */
typedef struct rshmem_team_opaque *shmem_team_t;
typedef struct rshmem_ctx_opaque *shmem_ctx_t;

typedef struct {
    int num_contexts;
} shmem_team_config_t;

#define SHMEM_TEAM_NUM_CONTEXTS 1L
#define SHMEM_TEAM_INVALID ((shmem_team_t)0)
#define SHMEM_TEAM_WORLD ((shmem_team_t)(uintptr_t)1)
#define SHMEM_TEAM_SHARED ((shmem_team_t)(uintptr_t)2)

#define SHMEM_CTX_PRIVATE (1L << 0)
#define SHMEM_CTX_SERIALIZED (1L << 1)
#define SHMEM_CTX_NOSTORE (1L << 2)
#define SHMEM_CTX_INVALID ((shmem_ctx_t)0)
#define SHMEM_CTX_DEFAULT ((shmem_ctx_t)(uintptr_t)1)

/* pSync / pWrk sizes for the (active-set) collectives. */
#define SHMEM_SYNC_VALUE 0L
#define SHMEM_SYNC_SIZE 128
#define SHMEM_BCAST_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_BARRIER_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_REDUCE_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_COLLECT_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_ALLTOALL_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_ALLTOALLS_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_REDUCE_MIN_WRKDATA_SIZE 8
#define _SHMEM_SYNC_VALUE SHMEM_SYNC_VALUE
#define _SHMEM_BCAST_SYNC_SIZE SHMEM_BCAST_SYNC_SIZE
#define _SHMEM_BARRIER_SYNC_SIZE SHMEM_BARRIER_SYNC_SIZE
#define _SHMEM_REDUCE_SYNC_SIZE SHMEM_REDUCE_SYNC_SIZE
#define _SHMEM_COLLECT_SYNC_SIZE SHMEM_COLLECT_SYNC_SIZE
#define _SHMEM_REDUCE_MIN_WRKDATA_SIZE SHMEM_REDUCE_MIN_WRKDATA_SIZE

/* ---- Type tables (X-macros: X(TYPE, TYPENAME)) ------------------------------------- */
/* The library generates its routines from the same tables (capi/src/tables.rs); the test
 * capi/tests/tables.rs fails when an entry here differs from it, and when a declaration
 * below differs from the routine's definition. */

/* Standard RMA types, without long double (which C passes by value differently). */
#define RSHMEM_RMA_TYPES_BYVALUE(X)                                                        \
    X(float, float)                                                                        \
    X(double, double)                                                                      \
    X(char, char)                                                                          \
    X(signed char, schar)                                                                  \
    X(short, short)                                                                        \
    X(int, int)                                                                            \
    X(long, long)                                                                          \
    X(long long, longlong)                                                                 \
    X(unsigned char, uchar)                                                                \
    X(unsigned short, ushort)                                                              \
    X(unsigned int, uint)                                                                  \
    X(unsigned long, ulong)                                                                \
    X(unsigned long long, ulonglong)                                                       \
    X(int8_t, int8)                                                                        \
    X(int16_t, int16)                                                                      \
    X(int32_t, int32)                                                                      \
    X(int64_t, int64)                                                                      \
    X(uint8_t, uint8)                                                                      \
    X(uint16_t, uint16)                                                                    \
    X(uint32_t, uint32)                                                                    \
    X(uint64_t, uint64)                                                                    \
    X(size_t, size)                                                                        \
    X(ptrdiff_t, ptrdiff)

#define RSHMEM_RMA_TYPES(X) RSHMEM_RMA_TYPES_BYVALUE(X) X(long double, longdouble)

/* Standard AMO types (also the point-to-point synchronization types). */
#define RSHMEM_AMO_STANDARD_TYPES(X)                                                       \
    X(int, int)                                                                            \
    X(long, long)                                                                          \
    X(long long, longlong)                                                                 \
    X(unsigned int, uint)                                                                  \
    X(unsigned long, ulong)                                                                \
    X(unsigned long long, ulonglong)                                                       \
    X(int32_t, int32)                                                                      \
    X(int64_t, int64)                                                                      \
    X(uint32_t, uint32)                                                                    \
    X(uint64_t, uint64)                                                                    \
    X(size_t, size)                                                                        \
    X(ptrdiff_t, ptrdiff)

/* Extended AMO types: the standard ones plus float and double. */
#define RSHMEM_AMO_EXTENDED_TYPES(X) X(float, float) X(double, double) RSHMEM_AMO_STANDARD_TYPES(X)

/* Bitwise AMO types. */
#define RSHMEM_AMO_BITWISE_TYPES(X)                                                        \
    X(unsigned int, uint)                                                                  \
    X(unsigned long, ulong)                                                                \
    X(unsigned long long, ulonglong)                                                       \
    X(int32_t, int32)                                                                      \
    X(int64_t, int64)                                                                      \
    X(uint32_t, uint32)                                                                    \
    X(uint64_t, uint64)

/* Point-to-point synchronization types (the specification's 14: short and unsigned short
 * besides the standard AMO types). */
#define RSHMEM_P2P_TYPES(X) X(short, short) X(unsigned short, ushort) RSHMEM_AMO_STANDARD_TYPES(X)

/* Deprecated routines (the deprecated AMO names, shmem_wait, shmem_TYPE_wait, the long
 * shmem_wait_until, short/unsigned short shmem_TYPE_wait_until) carry RSHMEM_DEPRECATED:
 * a GCC/Clang deprecation warning naming the replacement when the program defines
 * RSHMEM_WARN_DEPRECATED, nothing otherwise (so that -Werror builds of old codes keep
 * building). */
#if defined(RSHMEM_WARN_DEPRECATED) && (defined(__GNUC__) || defined(__clang__))
#define RSHMEM_DEPRECATED(by) __attribute__((deprecated("use " #by)))
#else
#define RSHMEM_DEPRECATED(by)
#endif

/* ---- Setup, exit and query --------------------------------------------------------- */

void shmem_init(void);
int shmem_init_thread(int requested, int *provided);
void shmem_query_thread(int *provided);
void shmem_query_initialized(int *initialized);
void shmem_finalize(void);
void shmem_global_exit(int status);
int shmem_my_pe(void);
int shmem_n_pes(void);
int shmem_pe_accessible(int pe);
int shmem_addr_accessible(const void *addr, int pe);
void *shmem_ptr(const void *dest, int pe);
void shmem_info_get_version(int *major, int *minor);
void shmem_info_get_name(char *name);
/* Profiling control: a no-op for every level, for tools to intercept (pshmem_pcontrol). */
void shmem_pcontrol(const int level, ...);

/* ---- Memory management ------------------------------------------------------------- */

void *shmem_malloc(size_t size);
void *shmem_malloc_with_hints(size_t size, long hints);
void *shmem_calloc(size_t count, size_t size);
void *shmem_align(size_t alignment, size_t size);
void *shmem_realloc(void *ptr, size_t size);
void shmem_free(void *ptr);

/* ---- Remote memory access ---------------------------------------------------------- */

#define RSHMEM_DECL_RMA(T, N)                                                              \
    void shmem_##N##_put(T *dest, const T *source, size_t nelems, int pe);                 \
    void shmem_##N##_get(T *dest, const T *source, size_t nelems, int pe);                 \
    void shmem_##N##_put_nbi(T *dest, const T *source, size_t nelems, int pe);             \
    void shmem_##N##_get_nbi(T *dest, const T *source, size_t nelems, int pe);             \
    void shmem_##N##_iput(T *dest, const T *source, ptrdiff_t dst, ptrdiff_t sst,          \
                          size_t nelems, int pe);                                          \
    void shmem_##N##_iget(T *dest, const T *source, ptrdiff_t dst, ptrdiff_t sst,          \
                          size_t nelems, int pe);                                          \
    void shmem_##N##_ibput(T *dest, const T *source, ptrdiff_t dst, ptrdiff_t sst,         \
                           size_t bsize, size_t nblocks, int pe);                          \
    void shmem_##N##_ibget(T *dest, const T *source, ptrdiff_t dst, ptrdiff_t sst,         \
                           size_t bsize, size_t nblocks, int pe);                          \
    void shmem_##N##_put_signal(T *dest, const T *source, size_t nelems,                   \
                                uint64_t *sig_addr, uint64_t signal, int sig_op, int pe);  \
    void shmem_##N##_put_signal_nbi(T *dest, const T *source, size_t nelems,               \
                                    uint64_t *sig_addr, uint64_t signal, int sig_op,       \
                                    int pe);
RSHMEM_RMA_TYPES(RSHMEM_DECL_RMA)

#define RSHMEM_DECL_PG(T, N)                                                               \
    void shmem_##N##_p(T *dest, T value, int pe);                                          \
    T shmem_##N##_g(const T *source, int pe);
RSHMEM_RMA_TYPES_BYVALUE(RSHMEM_DECL_PG)

/* long double is passed in x87 registers, which the library (written in Rust) cannot
 * take: its p/g are inline wrappers over put/get. */
static inline void shmem_longdouble_p(long double *dest, long double value, int pe) {
    shmem_longdouble_put(dest, &value, 1, pe);
}
static inline long double shmem_longdouble_g(const long double *source, int pe) {
    long double v;
    shmem_longdouble_get(&v, source, 1, pe);
    return v;
}

#define RSHMEM_DECL_SIZED(S)                                                               \
    void shmem_put##S(void *dest, const void *source, size_t nelems, int pe);              \
    void shmem_get##S(void *dest, const void *source, size_t nelems, int pe);              \
    void shmem_put##S##_nbi(void *dest, const void *source, size_t nelems, int pe);        \
    void shmem_get##S##_nbi(void *dest, const void *source, size_t nelems, int pe);        \
    void shmem_iput##S(void *dest, const void *source, ptrdiff_t dst, ptrdiff_t sst,       \
                       size_t nelems, int pe);                                             \
    void shmem_iget##S(void *dest, const void *source, ptrdiff_t dst, ptrdiff_t sst,       \
                       size_t nelems, int pe);                                             \
    void shmem_ibput##S(void *dest, const void *source, ptrdiff_t dst, ptrdiff_t sst,      \
                        size_t bsize, size_t nblocks, int pe);                             \
    void shmem_ibget##S(void *dest, const void *source, ptrdiff_t dst, ptrdiff_t sst,      \
                        size_t bsize, size_t nblocks, int pe);                             \
    void shmem_put##S##_signal(void *dest, const void *source, size_t nelems,              \
                               uint64_t *sig_addr, uint64_t signal, int sig_op, int pe);   \
    void shmem_put##S##_signal_nbi(void *dest, const void *source, size_t nelems,          \
                                   uint64_t *sig_addr, uint64_t signal, int sig_op,        \
                                   int pe);
RSHMEM_DECL_SIZED(8)
RSHMEM_DECL_SIZED(16)
RSHMEM_DECL_SIZED(32)
RSHMEM_DECL_SIZED(64)
RSHMEM_DECL_SIZED(128)

void shmem_putmem(void *dest, const void *source, size_t nelems, int pe);
void shmem_getmem(void *dest, const void *source, size_t nelems, int pe);
void shmem_putmem_nbi(void *dest, const void *source, size_t nelems, int pe);
void shmem_getmem_nbi(void *dest, const void *source, size_t nelems, int pe);
void shmem_putmem_signal(void *dest, const void *source, size_t nelems, uint64_t *sig_addr,
                         uint64_t signal, int sig_op, int pe);
void shmem_putmem_signal_nbi(void *dest, const void *source, size_t nelems,
                             uint64_t *sig_addr, uint64_t signal, int sig_op, int pe);

#define RSHMEM_DECL_CTX_RMA(T, N)                                                          \
    void shmem_ctx_##N##_put(shmem_ctx_t ctx, T *dest, const T *source, size_t nelems,      \
                             int pe);                                                      \
    void shmem_ctx_##N##_get(shmem_ctx_t ctx, T *dest, const T *source, size_t nelems,      \
                             int pe);                                                      \
    void shmem_ctx_##N##_put_nbi(shmem_ctx_t ctx, T *dest, const T *source, size_t nelems,  \
                                 int pe);                                                  \
    void shmem_ctx_##N##_get_nbi(shmem_ctx_t ctx, T *dest, const T *source, size_t nelems,  \
                                 int pe);                                                  \
    void shmem_ctx_##N##_iput(shmem_ctx_t ctx, T *dest, const T *source, ptrdiff_t dst,    \
                              ptrdiff_t sst, size_t nelems, int pe);                       \
    void shmem_ctx_##N##_iget(shmem_ctx_t ctx, T *dest, const T *source, ptrdiff_t dst,    \
                              ptrdiff_t sst, size_t nelems, int pe);                       \
    void shmem_ctx_##N##_ibput(shmem_ctx_t ctx, T *dest, const T *source, ptrdiff_t dst,   \
                               ptrdiff_t sst, size_t bsize, size_t nblocks, int pe);       \
    void shmem_ctx_##N##_ibget(shmem_ctx_t ctx, T *dest, const T *source, ptrdiff_t dst,   \
                               ptrdiff_t sst, size_t bsize, size_t nblocks, int pe);       \
    void shmem_ctx_##N##_put_signal(shmem_ctx_t ctx, T *dest, const T *source,             \
                                    size_t nelems, uint64_t *sig_addr, uint64_t signal,    \
                                    int sig_op, int pe);                                   \
    void shmem_ctx_##N##_put_signal_nbi(shmem_ctx_t ctx, T *dest, const T *source,         \
                                        size_t nelems, uint64_t *sig_addr,                 \
                                        uint64_t signal, int sig_op, int pe);
RSHMEM_RMA_TYPES(RSHMEM_DECL_CTX_RMA)

#define RSHMEM_DECL_CTX_PG(T, N)                                                           \
    void shmem_ctx_##N##_p(shmem_ctx_t ctx, T *dest, T value, int pe);                     \
    T shmem_ctx_##N##_g(shmem_ctx_t ctx, const T *source, int pe);
RSHMEM_RMA_TYPES_BYVALUE(RSHMEM_DECL_CTX_PG)

static inline void shmem_ctx_longdouble_p(shmem_ctx_t ctx, long double *dest, long double value,
                                          int pe) {
    shmem_ctx_longdouble_put(ctx, dest, &value, 1, pe);
}
static inline long double shmem_ctx_longdouble_g(shmem_ctx_t ctx, const long double *source,
                                                 int pe) {
    long double v;
    shmem_ctx_longdouble_get(ctx, &v, source, 1, pe);
    return v;
}

#define RSHMEM_DECL_CTX_SIZED(S)                                                           \
    void shmem_ctx_put##S(shmem_ctx_t ctx, void *dest, const void *source, size_t nelems,  \
                          int pe);                                                         \
    void shmem_ctx_get##S(shmem_ctx_t ctx, void *dest, const void *source, size_t nelems,  \
                          int pe);                                                         \
    void shmem_ctx_put##S##_nbi(shmem_ctx_t ctx, void *dest, const void *source,           \
                                size_t nelems, int pe);                                    \
    void shmem_ctx_get##S##_nbi(shmem_ctx_t ctx, void *dest, const void *source,           \
                                size_t nelems, int pe);                                    \
    void shmem_ctx_iput##S(shmem_ctx_t ctx, void *dest, const void *source, ptrdiff_t dst, \
                           ptrdiff_t sst, size_t nelems, int pe);                          \
    void shmem_ctx_iget##S(shmem_ctx_t ctx, void *dest, const void *source, ptrdiff_t dst, \
                           ptrdiff_t sst, size_t nelems, int pe);                          \
    void shmem_ctx_ibput##S(shmem_ctx_t ctx, void *dest, const void *source,               \
                            ptrdiff_t dst, ptrdiff_t sst, size_t bsize, size_t nblocks,    \
                            int pe);                                                       \
    void shmem_ctx_ibget##S(shmem_ctx_t ctx, void *dest, const void *source,               \
                            ptrdiff_t dst, ptrdiff_t sst, size_t bsize, size_t nblocks,    \
                            int pe);                                                       \
    void shmem_ctx_put##S##_signal(shmem_ctx_t ctx, void *dest, const void *source,        \
                                   size_t nelems, uint64_t *sig_addr, uint64_t signal,     \
                                   int sig_op, int pe);                                    \
    void shmem_ctx_put##S##_signal_nbi(shmem_ctx_t ctx, void *dest, const void *source,    \
                                       size_t nelems, uint64_t *sig_addr, uint64_t signal, \
                                       int sig_op, int pe);
RSHMEM_DECL_CTX_SIZED(8)
RSHMEM_DECL_CTX_SIZED(16)
RSHMEM_DECL_CTX_SIZED(32)
RSHMEM_DECL_CTX_SIZED(64)
RSHMEM_DECL_CTX_SIZED(128)

void shmem_ctx_putmem(shmem_ctx_t ctx, void *dest, const void *source, size_t nelems, int pe);
void shmem_ctx_getmem(shmem_ctx_t ctx, void *dest, const void *source, size_t nelems, int pe);
void shmem_ctx_putmem_nbi(shmem_ctx_t ctx, void *dest, const void *source, size_t nelems,
                          int pe);
void shmem_ctx_getmem_nbi(shmem_ctx_t ctx, void *dest, const void *source, size_t nelems,
                          int pe);
void shmem_ctx_putmem_signal(shmem_ctx_t ctx, void *dest, const void *source, size_t nelems,
                             uint64_t *sig_addr, uint64_t signal, int sig_op, int pe);
void shmem_ctx_putmem_signal_nbi(shmem_ctx_t ctx, void *dest, const void *source,
                                 size_t nelems, uint64_t *sig_addr, uint64_t signal,
                                 int sig_op, int pe);

uint64_t shmem_signal_fetch(const uint64_t *sig_addr);
uint64_t shmem_signal_wait_until(uint64_t *sig_addr, int cmp, uint64_t cmp_value);
/* 1.6: atomic update of a remote signal word. */
void shmem_signal_add(uint64_t *sig_addr, uint64_t signal, int pe);
void shmem_signal_set(uint64_t *sig_addr, uint64_t signal, int pe);
void shmem_ctx_signal_add(shmem_ctx_t ctx, uint64_t *sig_addr, uint64_t signal, int pe);
void shmem_ctx_signal_set(shmem_ctx_t ctx, uint64_t *sig_addr, uint64_t signal, int pe);

/* ---- Atomic memory operations ------------------------------------------------------ */

#define RSHMEM_DECL_AMO_EXTENDED(T, N)                                                     \
    T shmem_##N##_atomic_fetch(const T *source, int pe);                                   \
    void shmem_##N##_atomic_set(T *dest, T value, int pe);                                 \
    T shmem_##N##_atomic_swap(T *dest, T value, int pe);                                   \
    void shmem_##N##_atomic_fetch_nbi(T *fetch, const T *source, int pe);                  \
    void shmem_##N##_atomic_swap_nbi(T *fetch, T *dest, T value, int pe);
RSHMEM_AMO_EXTENDED_TYPES(RSHMEM_DECL_AMO_EXTENDED)

#define RSHMEM_DECL_AMO_STANDARD(T, N)                                                     \
    T shmem_##N##_atomic_compare_swap(T *dest, T cond, T value, int pe);                   \
    T shmem_##N##_atomic_fetch_inc(T *dest, int pe);                                       \
    void shmem_##N##_atomic_inc(T *dest, int pe);                                          \
    T shmem_##N##_atomic_fetch_add(T *dest, T value, int pe);                              \
    void shmem_##N##_atomic_add(T *dest, T value, int pe);                                 \
    void shmem_##N##_atomic_compare_swap_nbi(T *fetch, T *dest, T cond, T value, int pe);  \
    void shmem_##N##_atomic_fetch_inc_nbi(T *fetch, T *dest, int pe);                      \
    void shmem_##N##_atomic_fetch_add_nbi(T *fetch, T *dest, T value, int pe);
RSHMEM_AMO_STANDARD_TYPES(RSHMEM_DECL_AMO_STANDARD)

#define RSHMEM_DECL_AMO_BITWISE(T, N)                                                      \
    T shmem_##N##_atomic_fetch_and(T *dest, T value, int pe);                              \
    void shmem_##N##_atomic_and(T *dest, T value, int pe);                                 \
    void shmem_##N##_atomic_fetch_and_nbi(T *fetch, T *dest, T value, int pe);             \
    T shmem_##N##_atomic_fetch_or(T *dest, T value, int pe);                               \
    void shmem_##N##_atomic_or(T *dest, T value, int pe);                                  \
    void shmem_##N##_atomic_fetch_or_nbi(T *fetch, T *dest, T value, int pe);              \
    T shmem_##N##_atomic_fetch_xor(T *dest, T value, int pe);                              \
    void shmem_##N##_atomic_xor(T *dest, T value, int pe);                                 \
    void shmem_##N##_atomic_fetch_xor_nbi(T *fetch, T *dest, T value, int pe);
RSHMEM_AMO_BITWISE_TYPES(RSHMEM_DECL_AMO_BITWISE)

#define RSHMEM_DECL_CTX_AMO_EXTENDED(T, N)                                                 \
    T shmem_ctx_##N##_atomic_fetch(shmem_ctx_t ctx, const T *source, int pe);              \
    void shmem_ctx_##N##_atomic_set(shmem_ctx_t ctx, T *dest, T value, int pe);            \
    T shmem_ctx_##N##_atomic_swap(shmem_ctx_t ctx, T *dest, T value, int pe);              \
    void shmem_ctx_##N##_atomic_fetch_nbi(shmem_ctx_t ctx, T *fetch, const T *source,      \
                                          int pe);                                         \
    void shmem_ctx_##N##_atomic_swap_nbi(shmem_ctx_t ctx, T *fetch, T *dest, T value,      \
                                         int pe);
RSHMEM_AMO_EXTENDED_TYPES(RSHMEM_DECL_CTX_AMO_EXTENDED)

#define RSHMEM_DECL_CTX_AMO_STANDARD(T, N)                                                 \
    T shmem_ctx_##N##_atomic_compare_swap(shmem_ctx_t ctx, T *dest, T cond, T value,       \
                                          int pe);                                         \
    T shmem_ctx_##N##_atomic_fetch_inc(shmem_ctx_t ctx, T *dest, int pe);                  \
    void shmem_ctx_##N##_atomic_inc(shmem_ctx_t ctx, T *dest, int pe);                     \
    T shmem_ctx_##N##_atomic_fetch_add(shmem_ctx_t ctx, T *dest, T value, int pe);         \
    void shmem_ctx_##N##_atomic_add(shmem_ctx_t ctx, T *dest, T value, int pe);            \
    void shmem_ctx_##N##_atomic_compare_swap_nbi(shmem_ctx_t ctx, T *fetch, T *dest,       \
                                                 T cond, T value, int pe);                 \
    void shmem_ctx_##N##_atomic_fetch_inc_nbi(shmem_ctx_t ctx, T *fetch, T *dest, int pe); \
    void shmem_ctx_##N##_atomic_fetch_add_nbi(shmem_ctx_t ctx, T *fetch, T *dest, T value, \
                                              int pe);
RSHMEM_AMO_STANDARD_TYPES(RSHMEM_DECL_CTX_AMO_STANDARD)

#define RSHMEM_DECL_CTX_AMO_BITWISE(T, N)                                                  \
    T shmem_ctx_##N##_atomic_fetch_and(shmem_ctx_t ctx, T *dest, T value, int pe);         \
    void shmem_ctx_##N##_atomic_and(shmem_ctx_t ctx, T *dest, T value, int pe);            \
    void shmem_ctx_##N##_atomic_fetch_and_nbi(shmem_ctx_t ctx, T *fetch, T *dest, T value, \
                                              int pe);                                     \
    T shmem_ctx_##N##_atomic_fetch_or(shmem_ctx_t ctx, T *dest, T value, int pe);          \
    void shmem_ctx_##N##_atomic_or(shmem_ctx_t ctx, T *dest, T value, int pe);             \
    void shmem_ctx_##N##_atomic_fetch_or_nbi(shmem_ctx_t ctx, T *fetch, T *dest, T value,  \
                                             int pe);                                      \
    T shmem_ctx_##N##_atomic_fetch_xor(shmem_ctx_t ctx, T *dest, T value, int pe);         \
    void shmem_ctx_##N##_atomic_xor(shmem_ctx_t ctx, T *dest, T value, int pe);            \
    void shmem_ctx_##N##_atomic_fetch_xor_nbi(shmem_ctx_t ctx, T *fetch, T *dest, T value, \
                                              int pe);
RSHMEM_AMO_BITWISE_TYPES(RSHMEM_DECL_CTX_AMO_BITWISE)

/* ---- Point-to-point synchronization ------------------------------------------------ */

#define RSHMEM_DECL_P2P(T, N)                                                              \
    void shmem_##N##_wait_until_all(T *ivars, size_t nelems, const int *status, int cmp,   \
                                    T cmp_value);                                          \
    size_t shmem_##N##_wait_until_any(T *ivars, size_t nelems, const int *status, int cmp, \
                                      T cmp_value);                                        \
    size_t shmem_##N##_wait_until_some(T *ivars, size_t nelems, size_t *indices,           \
                                       const int *status, int cmp, T cmp_value);           \
    void shmem_##N##_wait_until_all_vector(T *ivars, size_t nelems, const int *status,     \
                                           int cmp, const T *cmp_values);                  \
    size_t shmem_##N##_wait_until_any_vector(T *ivars, size_t nelems, const int *status,   \
                                             int cmp, const T *cmp_values);                \
    size_t shmem_##N##_wait_until_some_vector(T *ivars, size_t nelems, size_t *indices,    \
                                              const int *status, int cmp,                  \
                                              const T *cmp_values);                        \
    int shmem_##N##_test(T *ivar, int cmp, T cmp_value);                                   \
    int shmem_##N##_test_all(T *ivars, size_t nelems, const int *status, int cmp,          \
                             T cmp_value);                                                 \
    size_t shmem_##N##_test_any(T *ivars, size_t nelems, const int *status, int cmp,       \
                                T cmp_value);                                              \
    size_t shmem_##N##_test_some(T *ivars, size_t nelems, size_t *indices,                 \
                                 const int *status, int cmp, T cmp_value);                 \
    int shmem_##N##_test_all_vector(T *ivars, size_t nelems, const int *status, int cmp,   \
                                    const T *cmp_values);                                  \
    size_t shmem_##N##_test_any_vector(T *ivars, size_t nelems, const int *status,         \
                                       int cmp, const T *cmp_values);                      \
    size_t shmem_##N##_test_some_vector(T *ivars, size_t nelems, size_t *indices,          \
                                        const int *status, int cmp, const T *cmp_values);
RSHMEM_P2P_TYPES(RSHMEM_DECL_P2P)
#define RSHMEM_DECL_WAIT_UNTIL(T, N) void shmem_##N##_wait_until(T *ivar, int cmp, T cmp_value);
RSHMEM_AMO_STANDARD_TYPES(RSHMEM_DECL_WAIT_UNTIL)
/* The short and unsigned short wait_until are in a DeprecateBlock of the specification's
 * wait_until page (1.5: ivars are updated with AMOs, which have no 2-byte types); the
 * other point-to-point routines keep both types. */
RSHMEM_DEPRECATED(shmem_int_wait_until on an int)
void shmem_short_wait_until(short *ivar, int cmp, short cmp_value);
RSHMEM_DEPRECATED(shmem_uint_wait_until on an unsigned int)
void shmem_ushort_wait_until(unsigned short *ivar, int cmp, unsigned short cmp_value);

/* Deprecated (1.4) waits: shmem_TYPE_wait(ivar, v) returns once *ivar != v; shmem_wait
 * and shmem_wait_until are the functions on long. */
RSHMEM_DEPRECATED(shmem_long_wait_until with SHMEM_CMP_NE)
void shmem_wait(long *ivar, long cmp_value);
RSHMEM_DEPRECATED(shmem_long_wait_until)
void shmem_wait_until(long *ivar, int cmp, long cmp_value);
#define RSHMEM_DECL_WAIT(T, N)                                                             \
    RSHMEM_DEPRECATED(shmem_##N##_wait_until with SHMEM_CMP_NE)                            \
    void shmem_##N##_wait(T *ivar, T cmp_value);
RSHMEM_DECL_WAIT(short, short)
RSHMEM_DECL_WAIT(int, int)
RSHMEM_DECL_WAIT(long, long)
RSHMEM_DECL_WAIT(long long, longlong)

/* ---- Memory ordering, collectives, locks ------------------------------------------- */

void shmem_fence(void);
void shmem_quiet(void);
/* 1.6: completion of the operations to the npes PEs at target_pes (not read when npes is
 * 0); implemented as a full quiet. */
void shmem_pe_quiet(const int *target_pes, size_t npes);
void shmem_barrier_all(void);
void shmem_sync_all(void);

/* ---- Teams ------------------------------------------------------------------------ */

int shmem_team_my_pe(shmem_team_t team);
int shmem_team_n_pes(shmem_team_t team);
int shmem_team_get_config(shmem_team_t team, long config_mask, shmem_team_config_t *config);
int shmem_team_translate_pe(shmem_team_t src_team, int src_pe, shmem_team_t dest_team);
int shmem_team_split_strided(shmem_team_t parent_team, int start, int stride, int size,
                             const shmem_team_config_t *config, long config_mask,
                             shmem_team_t *new_team);
int shmem_team_split_2d(shmem_team_t parent_team, int xrange,
                        const shmem_team_config_t *xaxis_config, long xaxis_mask,
                        shmem_team_t *xaxis_team, const shmem_team_config_t *yaxis_config,
                        long yaxis_mask, shmem_team_t *yaxis_team);
void shmem_team_destroy(shmem_team_t team);
int shmem_team_sync(shmem_team_t team);
void *shmem_team_ptr(shmem_team_t team, const void *dest, int pe);

/* ---- Contexts ---------------------------------------------------------------------- */

int shmem_ctx_create(long options, shmem_ctx_t *ctx);
int shmem_team_create_ctx(shmem_team_t team, long options, shmem_ctx_t *ctx);
void shmem_ctx_destroy(shmem_ctx_t ctx);
int shmem_ctx_get_team(shmem_ctx_t ctx, shmem_team_t *team);
void shmem_ctx_quiet(shmem_ctx_t ctx);
void shmem_ctx_fence(shmem_ctx_t ctx);
void shmem_ctx_pe_quiet(shmem_ctx_t ctx, const int *target_pes, size_t npes);

/* 1.6 communication sessions: hints only (accepted, no effect on rshmem). */
typedef struct {
    size_t total_ops;
} shmem_ctx_session_config_t;
#define SHMEM_CTX_SESSION_BATCH (1L << 0)
#define SHMEM_CTX_SESSION_SAME_AMO (1L << 1)
#define SHMEM_CTX_SESSION_TOTAL_OPS (1L << 0)
void shmem_ctx_session_start(shmem_ctx_t ctx, long options,
                             const shmem_ctx_session_config_t *config, long config_mask);
void shmem_ctx_session_stop(shmem_ctx_t ctx);

/* ---- Collectives on teams ---------------------------------------------------------- */

#define RSHMEM_DECL_COLL(T, N)                                                             \
    int shmem_##N##_broadcast(shmem_team_t team, T *dest, const T *source, size_t nelems,  \
                              int PE_root);                                                \
    int shmem_##N##_collect(shmem_team_t team, T *dest, const T *source, size_t nelems);   \
    int shmem_##N##_fcollect(shmem_team_t team, T *dest, const T *source, size_t nelems);  \
    int shmem_##N##_alltoall(shmem_team_t team, T *dest, const T *source, size_t nelems);  \
    int shmem_##N##_alltoalls(shmem_team_t team, T *dest, const T *source, ptrdiff_t dst,  \
                              ptrdiff_t sst, size_t nelems);
RSHMEM_RMA_TYPES(RSHMEM_DECL_COLL)

int shmem_broadcastmem(shmem_team_t team, void *dest, const void *source, size_t nelems,
                       int PE_root);
int shmem_collectmem(shmem_team_t team, void *dest, const void *source, size_t nelems);
int shmem_fcollectmem(shmem_team_t team, void *dest, const void *source, size_t nelems);
int shmem_alltoallmem(shmem_team_t team, void *dest, const void *source, size_t nelems);
int shmem_alltoallsmem(shmem_team_t team, void *dest, const void *source, ptrdiff_t dst,
                       ptrdiff_t sst, size_t nelems);

/* Reduction types (Table "reduction types" of the specification); long double and the
 * complex types are handled below. */
#define RSHMEM_REDUCE_BITWISE_TYPES(X)                                                     \
    X(unsigned char, uchar)                                                                \
    X(unsigned short, ushort)                                                              \
    X(unsigned int, uint)                                                                  \
    X(unsigned long, ulong)                                                                \
    X(unsigned long long, ulonglong)                                                       \
    X(int8_t, int8)                                                                        \
    X(int16_t, int16)                                                                      \
    X(int32_t, int32)                                                                      \
    X(int64_t, int64)                                                                      \
    X(uint8_t, uint8)                                                                      \
    X(uint16_t, uint16)                                                                    \
    X(uint32_t, uint32)                                                                    \
    X(uint64_t, uint64)                                                                    \
    X(size_t, size)

#define RSHMEM_REDUCE_MINMAX_TYPES(X)                                                      \
    X(char, char)                                                                          \
    X(signed char, schar)                                                                  \
    X(short, short)                                                                        \
    X(int, int)                                                                            \
    X(long, long)                                                                          \
    X(long long, longlong)                                                                 \
    X(ptrdiff_t, ptrdiff)                                                                  \
    X(unsigned char, uchar)                                                                \
    X(unsigned short, ushort)                                                              \
    X(unsigned int, uint)                                                                  \
    X(unsigned long, ulong)                                                                \
    X(unsigned long long, ulonglong)                                                       \
    X(int8_t, int8)                                                                        \
    X(int16_t, int16)                                                                      \
    X(int32_t, int32)                                                                      \
    X(int64_t, int64)                                                                      \
    X(uint8_t, uint8)                                                                      \
    X(uint16_t, uint16)                                                                    \
    X(uint32_t, uint32)                                                                    \
    X(uint64_t, uint64)                                                                    \
    X(size_t, size)                                                                        \
    X(float, float)                                                                        \
    X(double, double)

#define RSHMEM_DECL_REDUCE(T, N, OP)                                                       \
    int shmem_##N##_##OP##_reduce(shmem_team_t team, T *dest, const T *source,             \
                                  size_t nreduce);
#define RSHMEM_DECL_AND(T, N) RSHMEM_DECL_REDUCE(T, N, and)
#define RSHMEM_DECL_OR(T, N) RSHMEM_DECL_REDUCE(T, N, or)
#define RSHMEM_DECL_XOR(T, N) RSHMEM_DECL_REDUCE(T, N, xor)
#define RSHMEM_DECL_MAX(T, N) RSHMEM_DECL_REDUCE(T, N, max)
#define RSHMEM_DECL_MIN(T, N) RSHMEM_DECL_REDUCE(T, N, min)
#define RSHMEM_DECL_SUM(T, N) RSHMEM_DECL_REDUCE(T, N, sum)
#define RSHMEM_DECL_PROD(T, N) RSHMEM_DECL_REDUCE(T, N, prod)
RSHMEM_REDUCE_BITWISE_TYPES(RSHMEM_DECL_AND)
RSHMEM_REDUCE_BITWISE_TYPES(RSHMEM_DECL_OR)
RSHMEM_REDUCE_BITWISE_TYPES(RSHMEM_DECL_XOR)
RSHMEM_REDUCE_MINMAX_TYPES(RSHMEM_DECL_MAX)
RSHMEM_REDUCE_MINMAX_TYPES(RSHMEM_DECL_MIN)
RSHMEM_REDUCE_MINMAX_TYPES(RSHMEM_DECL_SUM)
RSHMEM_REDUCE_MINMAX_TYPES(RSHMEM_DECL_PROD)

/* OpenSHMEM 1.6 prefix sums. */
#define RSHMEM_DECL_SCAN(T, N)                                                             \
    int shmem_##N##_sum_inscan(shmem_team_t team, T *dest, const T *source, size_t nelems); \
    int shmem_##N##_sum_exscan(shmem_team_t team, T *dest, const T *source, size_t nelems);
RSHMEM_REDUCE_MINMAX_TYPES(RSHMEM_DECL_SCAN)

#ifndef __cplusplus
/* Complex reductions (C only: C++ has no _Complex). */
int shmem_complexf_sum_reduce(shmem_team_t team, float _Complex *dest,
                              const float _Complex *source, size_t nreduce);
int shmem_complexd_sum_reduce(shmem_team_t team, double _Complex *dest,
                              const double _Complex *source, size_t nreduce);
int shmem_complexf_prod_reduce(shmem_team_t team, float _Complex *dest,
                               const float _Complex *source, size_t nreduce);
int shmem_complexd_prod_reduce(shmem_team_t team, double _Complex *dest,
                               const double _Complex *source, size_t nreduce);
RSHMEM_DECL_SCAN(float _Complex, complexf)
RSHMEM_DECL_SCAN(double _Complex, complexd)
#endif

/* ---- Deprecated active-set collectives (pSync/pWrk accepted, not used) ------------- */

void shmem_barrier(int PE_start, int logPE_stride, int PE_size, long *pSync);
void shmem_sync(int PE_start, int logPE_stride, int PE_size, long *pSync);

#define RSHMEM_DECL_ACTIVE_DATA(S)                                                         \
    void shmem_broadcast##S(void *dest, const void *source, size_t nelems, int PE_root,    \
                            int PE_start, int logPE_stride, int PE_size, long *pSync);     \
    void shmem_collect##S(void *dest, const void *source, size_t nelems, int PE_start,     \
                          int logPE_stride, int PE_size, long *pSync);                     \
    void shmem_fcollect##S(void *dest, const void *source, size_t nelems, int PE_start,    \
                           int logPE_stride, int PE_size, long *pSync);                    \
    void shmem_alltoall##S(void *dest, const void *source, size_t nelems, int PE_start,    \
                           int logPE_stride, int PE_size, long *pSync);                    \
    void shmem_alltoalls##S(void *dest, const void *source, ptrdiff_t dst, ptrdiff_t sst,  \
                            size_t nelems, int PE_start, int logPE_stride, int PE_size,    \
                            long *pSync);
RSHMEM_DECL_ACTIVE_DATA(32)
RSHMEM_DECL_ACTIVE_DATA(64)

#define RSHMEM_DECL_TO_ALL(T, N, OP)                                                       \
    void shmem_##N##_##OP##_to_all(T *dest, const T *source, int nreduce, int PE_start,    \
                                   int logPE_stride, int PE_size, T *pWrk, long *pSync);
#define RSHMEM_TO_ALL_INT(X, OP)                                                           \
    X(short, short, OP) X(int, int, OP) X(long, long, OP) X(long long, longlong, OP)
#define RSHMEM_TO_ALL_REAL(X, OP) RSHMEM_TO_ALL_INT(X, OP) X(float, float, OP) X(double, double, OP)
RSHMEM_TO_ALL_INT(RSHMEM_DECL_TO_ALL, and)
RSHMEM_TO_ALL_INT(RSHMEM_DECL_TO_ALL, or)
RSHMEM_TO_ALL_INT(RSHMEM_DECL_TO_ALL, xor)
RSHMEM_TO_ALL_REAL(RSHMEM_DECL_TO_ALL, max)
RSHMEM_TO_ALL_REAL(RSHMEM_DECL_TO_ALL, min)
RSHMEM_TO_ALL_REAL(RSHMEM_DECL_TO_ALL, sum)
RSHMEM_TO_ALL_REAL(RSHMEM_DECL_TO_ALL, prod)
#ifndef __cplusplus
RSHMEM_DECL_TO_ALL(float _Complex, complexf, sum)
RSHMEM_DECL_TO_ALL(double _Complex, complexd, sum)
RSHMEM_DECL_TO_ALL(float _Complex, complexf, prod)
RSHMEM_DECL_TO_ALL(double _Complex, complexd, prod)
#endif

/* ---- long double reductions ---------------------------------------------------------
 * The library (Rust) has no long double arithmetic: it gathers the members' elements and
 * calls back into these inline combiners (rshmem_*_reduce_cb are internal entry points). */
typedef void (*rshmem_combine_fn)(void *acc, const void *in, size_t n);
int rshmem_team_reduce_cb(shmem_team_t team, void *dest, const void *source, size_t nreduce,
                          size_t esize, rshmem_combine_fn combine);
void rshmem_active_reduce_cb(void *dest, const void *source, int nreduce, int PE_start,
                             int logPE_stride, int PE_size, long *pSync, size_t esize,
                             rshmem_combine_fn combine);

#define RSHMEM_LD_OP(OP, EXPR)                                                             \
    static inline void rshmem_ld_##OP(void *acc, const void *in, size_t n) {              \
        long double *a = (long double *)acc;                                               \
        const long double *b = (const long double *)in;                                    \
        size_t i;                                                                          \
        for (i = 0; i < n; i++)                                                            \
            a[i] = (EXPR);                                                                 \
    }                                                                                      \
    static inline int shmem_longdouble_##OP##_reduce(shmem_team_t team, long double *dest, \
                                                     const long double *source,           \
                                                     size_t nreduce) {                     \
        return rshmem_team_reduce_cb(team, dest, source, nreduce, sizeof(long double),     \
                                     rshmem_ld_##OP);                                      \
    }                                                                                      \
    static inline void shmem_longdouble_##OP##_to_all(                                     \
        long double *dest, const long double *source, int nreduce, int PE_start,           \
        int logPE_stride, int PE_size, long double *pWrk, long *pSync) {                   \
        (void)pWrk;                                                                        \
        rshmem_active_reduce_cb(dest, source, nreduce, PE_start, logPE_stride, PE_size,    \
                                pSync, sizeof(long double), rshmem_ld_##OP);               \
    }
RSHMEM_LD_OP(max, b[i] > a[i] ? b[i] : a[i])
RSHMEM_LD_OP(min, b[i] < a[i] ? b[i] : a[i])
RSHMEM_LD_OP(sum, a[i] + b[i])
RSHMEM_LD_OP(prod, a[i] * b[i])

/* long double prefix sums (1.6), over the internal rshmem_team_scan_cb. */
int rshmem_team_scan_cb(shmem_team_t team, void *dest, const void *source, size_t nelems,
                        size_t esize, int inclusive, rshmem_combine_fn combine);
static inline int shmem_longdouble_sum_inscan(shmem_team_t team, long double *dest,
                                              const long double *source, size_t nelems) {
    return rshmem_team_scan_cb(team, dest, source, nelems, sizeof(long double), 1,
                               rshmem_ld_sum);
}
static inline int shmem_longdouble_sum_exscan(shmem_team_t team, long double *dest,
                                              const long double *source, size_t nelems) {
    return rshmem_team_scan_cb(team, dest, source, nelems, sizeof(long double), 0,
                               rshmem_ld_sum);
}

/* ---- Locks ------------------------------------------------------------------------- */

void shmem_set_lock(long *lock);
int shmem_test_lock(long *lock);
void shmem_clear_lock(long *lock);

/* ---- Deprecated names -------------------------------------------------------------- */

void start_pes(int npes);
int _my_pe(void);
int _num_pes(void);
void *shmalloc(size_t size);
void shfree(void *ptr);
void *shmemalign(size_t alignment, size_t size);
void *shrealloc(void *ptr, size_t size);
void shmem_clear_cache_inv(void);
void shmem_set_cache_inv(void);
void shmem_clear_cache_line_inv(void *dest);
void shmem_set_cache_line_inv(void *dest);
void shmem_udcflush(void);
void shmem_udcflush_line(void *dest);


/* ---- Deprecated AMO names (OpenSHMEM 1.3; deprecated in 1.4) ----------------------------
 * Source compatibility for older codes: inline wrappers over the shmem_TYPE_atomic_
 * routines, for the types 1.3 had. Not marked deprecated unless RSHMEM_WARN_DEPRECATED is
 * defined (so that -Werror builds of old codes keep building; RSHMEM_DEPRECATED above). */

#define RSHMEM_DEPR_AMO_STANDARD(T, N)                                                     \
    RSHMEM_DEPRECATED(shmem_##N##_atomic_add)                                              \
    static inline void shmem_##N##_add(T *dest, T value, int pe) {                         \
        shmem_##N##_atomic_add(dest, value, pe);                                           \
    }                                                                                      \
    RSHMEM_DEPRECATED(shmem_##N##_atomic_inc)                                              \
    static inline void shmem_##N##_inc(T *dest, int pe) { shmem_##N##_atomic_inc(dest, pe); } \
    RSHMEM_DEPRECATED(shmem_##N##_atomic_fetch_add)                                        \
    static inline T shmem_##N##_fadd(T *dest, T value, int pe) {                           \
        return shmem_##N##_atomic_fetch_add(dest, value, pe);                              \
    }                                                                                      \
    RSHMEM_DEPRECATED(shmem_##N##_atomic_fetch_inc)                                        \
    static inline T shmem_##N##_finc(T *dest, int pe) {                                    \
        return shmem_##N##_atomic_fetch_inc(dest, pe);                                     \
    }                                                                                      \
    RSHMEM_DEPRECATED(shmem_##N##_atomic_compare_swap)                                     \
    static inline T shmem_##N##_cswap(T *dest, T cond, T value, int pe) {                  \
        return shmem_##N##_atomic_compare_swap(dest, cond, value, pe);                     \
    }
#define RSHMEM_DEPR_AMO_EXTENDED(T, N)                                                     \
    RSHMEM_DEPRECATED(shmem_##N##_atomic_swap)                                             \
    static inline T shmem_##N##_swap(T *dest, T value, int pe) {                           \
        return shmem_##N##_atomic_swap(dest, value, pe);                                   \
    }                                                                                      \
    RSHMEM_DEPRECATED(shmem_##N##_atomic_fetch)                                            \
    static inline T shmem_##N##_fetch(const T *source, int pe) {                           \
        return shmem_##N##_atomic_fetch(source, pe);                                       \
    }                                                                                      \
    RSHMEM_DEPRECATED(shmem_##N##_atomic_set)                                              \
    static inline void shmem_##N##_set(T *dest, T value, int pe) {                         \
        shmem_##N##_atomic_set(dest, value, pe);                                           \
    }
#define RSHMEM_DEPR_AMO_TYPES(X) X(int, int) X(long, long) X(long long, longlong)
RSHMEM_DEPR_AMO_TYPES(RSHMEM_DEPR_AMO_STANDARD)
RSHMEM_DEPR_AMO_TYPES(RSHMEM_DEPR_AMO_EXTENDED)
RSHMEM_DEPR_AMO_EXTENDED(float, float)
RSHMEM_DEPR_AMO_EXTENDED(double, double)

#ifdef __cplusplus
} /* extern "C" */
#endif

/* ---- C11 type-generic interfaces --------------------------------------------------- */

#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L

/* The controlling expression is the pointed-to type (lvalue conversion drops const). The
 * fixed-width and size_t/ptrdiff_t types are typedefs of these on LP64 systems. */
#define RSHMEM_GENERIC_RMA(ptr, op)                                                        \
    _Generic(*(ptr),                                                                       \
        float: shmem_float_##op,                                                           \
        double: shmem_double_##op,                                                         \
        long double: shmem_longdouble_##op,                                                \
        char: shmem_char_##op,                                                             \
        signed char: shmem_schar_##op,                                                     \
        short: shmem_short_##op,                                                           \
        int: shmem_int_##op,                                                               \
        long: shmem_long_##op,                                                             \
        long long: shmem_longlong_##op,                                                    \
        unsigned char: shmem_uchar_##op,                                                   \
        unsigned short: shmem_ushort_##op,                                                 \
        unsigned int: shmem_uint_##op,                                                     \
        unsigned long: shmem_ulong_##op,                                                   \
        unsigned long long: shmem_ulonglong_##op)

#define RSHMEM_GENERIC_RMA_CTX(ptr, op)                                                    \
    _Generic(*(ptr),                                                                       \
        float: shmem_ctx_float_##op,                                                       \
        double: shmem_ctx_double_##op,                                                     \
        long double: shmem_ctx_longdouble_##op,                                            \
        char: shmem_ctx_char_##op,                                                         \
        signed char: shmem_ctx_schar_##op,                                                 \
        short: shmem_ctx_short_##op,                                                       \
        int: shmem_ctx_int_##op,                                                           \
        long: shmem_ctx_long_##op,                                                         \
        long long: shmem_ctx_longlong_##op,                                                \
        unsigned char: shmem_ctx_uchar_##op,                                               \
        unsigned short: shmem_ctx_ushort_##op,                                             \
        unsigned int: shmem_ctx_uint_##op,                                                 \
        unsigned long: shmem_ctx_ulong_##op,                                               \
        unsigned long long: shmem_ctx_ulonglong_##op)

/* Context-first forms (OpenSHMEM 1.5, "C11 generic" synopses): every RMA, AMO and signal
 * generic name also takes a leading shmem_ctx_t. The macros are variadic; the outer
 * _Generic looks at the first argument: a shmem_ctx_t (a pointer to a struct type of its
 * own, never confused with a data pointer) selects the shmem_ctx_TYPE_ routine, anything
 * else the plain one. RSHMEM_TYPED_ARG is the data pointer that picks TYPE: the second
 * argument after a context, else the first; the branch not taken only has to be a valid
 * expression. Nothing here is evaluated but the call. (The dummy last argument keeps
 * -pedantic quiet about an empty "...".) */
#define RSHMEM_ARG0_(a, ...) a
#define RSHMEM_ARG0(...) RSHMEM_ARG0_(__VA_ARGS__, rshmem_unused)
#define RSHMEM_ARG1_(a, b, ...) b
#define RSHMEM_ARG1(...) RSHMEM_ARG1_(__VA_ARGS__, rshmem_unused)
#define RSHMEM_TYPED_ARG(...)                                                              \
    _Generic((RSHMEM_ARG0(__VA_ARGS__)),                                                   \
        shmem_ctx_t: (RSHMEM_ARG1(__VA_ARGS__)),                                           \
        default: (RSHMEM_ARG0(__VA_ARGS__)))
#define RSHMEM_CTX_DISPATCH(PLAIN, CTX, op, ...)                                           \
    _Generic((RSHMEM_ARG0(__VA_ARGS__)),                                                   \
        shmem_ctx_t: CTX(RSHMEM_TYPED_ARG(__VA_ARGS__), op),                               \
        default: PLAIN(RSHMEM_TYPED_ARG(__VA_ARGS__), op))(__VA_ARGS__)

#define RSHMEM_RMA_DISPATCH(op, ...)                                                       \
    RSHMEM_CTX_DISPATCH(RSHMEM_GENERIC_RMA, RSHMEM_GENERIC_RMA_CTX, op, __VA_ARGS__)

/* shmem_put([ctx,] dest, source, nelems, pe) and so on. */
#define shmem_put(...) RSHMEM_RMA_DISPATCH(put, __VA_ARGS__)
#define shmem_get(...) RSHMEM_RMA_DISPATCH(get, __VA_ARGS__)
#define shmem_put_nbi(...) RSHMEM_RMA_DISPATCH(put_nbi, __VA_ARGS__)
#define shmem_get_nbi(...) RSHMEM_RMA_DISPATCH(get_nbi, __VA_ARGS__)
#define shmem_p(...) RSHMEM_RMA_DISPATCH(p, __VA_ARGS__)
#define shmem_g(...) RSHMEM_RMA_DISPATCH(g, __VA_ARGS__)
#define shmem_iput(...) RSHMEM_RMA_DISPATCH(iput, __VA_ARGS__)
#define shmem_iget(...) RSHMEM_RMA_DISPATCH(iget, __VA_ARGS__)
#define shmem_ibput(...) RSHMEM_RMA_DISPATCH(ibput, __VA_ARGS__)
#define shmem_ibget(...) RSHMEM_RMA_DISPATCH(ibget, __VA_ARGS__)
#define shmem_put_signal(...) RSHMEM_RMA_DISPATCH(put_signal, __VA_ARGS__)
#define shmem_put_signal_nbi(...) RSHMEM_RMA_DISPATCH(put_signal_nbi, __VA_ARGS__)

/* 1.6: shmem_signal_add/set(ctx, sig_addr, signal, pe) next to the C functions of the
 * same names (a function-like macro does not hide the functions' addresses). */
#define shmem_signal_add(...)                                                              \
    _Generic((RSHMEM_ARG0(__VA_ARGS__)),                                                   \
        shmem_ctx_t: shmem_ctx_signal_add,                                                 \
        default: shmem_signal_add)(__VA_ARGS__)
#define shmem_signal_set(...)                                                              \
    _Generic((RSHMEM_ARG0(__VA_ARGS__)),                                                   \
        shmem_ctx_t: shmem_ctx_signal_set,                                                 \
        default: shmem_signal_set)(__VA_ARGS__)

#define RSHMEM_GENERIC_AMO_STANDARD(ptr, op)                                               \
    _Generic(*(ptr),                                                                       \
        int: shmem_int_##op,                                                               \
        long: shmem_long_##op,                                                             \
        long long: shmem_longlong_##op,                                                    \
        unsigned int: shmem_uint_##op,                                                     \
        unsigned long: shmem_ulong_##op,                                                   \
        unsigned long long: shmem_ulonglong_##op)

#define RSHMEM_GENERIC_AMO_EXTENDED(ptr, op)                                               \
    _Generic(*(ptr),                                                                       \
        float: shmem_float_##op,                                                           \
        double: shmem_double_##op,                                                         \
        int: shmem_int_##op,                                                               \
        long: shmem_long_##op,                                                             \
        long long: shmem_longlong_##op,                                                    \
        unsigned int: shmem_uint_##op,                                                     \
        unsigned long: shmem_ulong_##op,                                                   \
        unsigned long long: shmem_ulonglong_##op)

#define RSHMEM_GENERIC_AMO_BITWISE(ptr, op)                                                \
    _Generic(*(ptr),                                                                       \
        int: shmem_int32_##op,                                                             \
        long: shmem_int64_##op,                                                            \
        unsigned int: shmem_uint_##op,                                                     \
        unsigned long: shmem_ulong_##op,                                                   \
        unsigned long long: shmem_ulonglong_##op)

#define RSHMEM_GENERIC_AMO_STANDARD_CTX(ptr, op)                                           \
    _Generic(*(ptr),                                                                       \
        int: shmem_ctx_int_##op,                                                           \
        long: shmem_ctx_long_##op,                                                         \
        long long: shmem_ctx_longlong_##op,                                                \
        unsigned int: shmem_ctx_uint_##op,                                                 \
        unsigned long: shmem_ctx_ulong_##op,                                               \
        unsigned long long: shmem_ctx_ulonglong_##op)

#define RSHMEM_GENERIC_AMO_EXTENDED_CTX(ptr, op)                                           \
    _Generic(*(ptr),                                                                       \
        float: shmem_ctx_float_##op,                                                       \
        double: shmem_ctx_double_##op,                                                     \
        int: shmem_ctx_int_##op,                                                           \
        long: shmem_ctx_long_##op,                                                         \
        long long: shmem_ctx_longlong_##op,                                                \
        unsigned int: shmem_ctx_uint_##op,                                                 \
        unsigned long: shmem_ctx_ulong_##op,                                               \
        unsigned long long: shmem_ctx_ulonglong_##op)

#define RSHMEM_GENERIC_AMO_BITWISE_CTX(ptr, op)                                            \
    _Generic(*(ptr),                                                                       \
        int: shmem_ctx_int32_##op,                                                         \
        long: shmem_ctx_int64_##op,                                                        \
        unsigned int: shmem_ctx_uint_##op,                                                 \
        unsigned long: shmem_ctx_ulong_##op,                                               \
        unsigned long long: shmem_ctx_ulonglong_##op)

#define RSHMEM_AMO_STANDARD_DISPATCH(op, ...)                                              \
    RSHMEM_CTX_DISPATCH(RSHMEM_GENERIC_AMO_STANDARD, RSHMEM_GENERIC_AMO_STANDARD_CTX, op,   \
                        __VA_ARGS__)
#define RSHMEM_AMO_EXTENDED_DISPATCH(op, ...)                                              \
    RSHMEM_CTX_DISPATCH(RSHMEM_GENERIC_AMO_EXTENDED, RSHMEM_GENERIC_AMO_EXTENDED_CTX, op,   \
                        __VA_ARGS__)
#define RSHMEM_AMO_BITWISE_DISPATCH(op, ...)                                               \
    RSHMEM_CTX_DISPATCH(RSHMEM_GENERIC_AMO_BITWISE, RSHMEM_GENERIC_AMO_BITWISE_CTX, op,     \
                        __VA_ARGS__)

/* shmem_atomic_OP([ctx,] ...): the type comes from the first pointer argument (fetch for
 * the _nbi forms, which has the type of dest/source). */
#define shmem_atomic_fetch(...) RSHMEM_AMO_EXTENDED_DISPATCH(atomic_fetch, __VA_ARGS__)
#define shmem_atomic_set(...) RSHMEM_AMO_EXTENDED_DISPATCH(atomic_set, __VA_ARGS__)
#define shmem_atomic_swap(...) RSHMEM_AMO_EXTENDED_DISPATCH(atomic_swap, __VA_ARGS__)
#define shmem_atomic_fetch_nbi(...) RSHMEM_AMO_EXTENDED_DISPATCH(atomic_fetch_nbi, __VA_ARGS__)
#define shmem_atomic_swap_nbi(...) RSHMEM_AMO_EXTENDED_DISPATCH(atomic_swap_nbi, __VA_ARGS__)
#define shmem_atomic_compare_swap(...) RSHMEM_AMO_STANDARD_DISPATCH(atomic_compare_swap, __VA_ARGS__)
#define shmem_atomic_compare_swap_nbi(...) RSHMEM_AMO_STANDARD_DISPATCH(atomic_compare_swap_nbi, __VA_ARGS__)
#define shmem_atomic_fetch_inc(...) RSHMEM_AMO_STANDARD_DISPATCH(atomic_fetch_inc, __VA_ARGS__)
#define shmem_atomic_fetch_inc_nbi(...) RSHMEM_AMO_STANDARD_DISPATCH(atomic_fetch_inc_nbi, __VA_ARGS__)
#define shmem_atomic_inc(...) RSHMEM_AMO_STANDARD_DISPATCH(atomic_inc, __VA_ARGS__)
#define shmem_atomic_fetch_add(...) RSHMEM_AMO_STANDARD_DISPATCH(atomic_fetch_add, __VA_ARGS__)
#define shmem_atomic_fetch_add_nbi(...) RSHMEM_AMO_STANDARD_DISPATCH(atomic_fetch_add_nbi, __VA_ARGS__)
#define shmem_atomic_add(...) RSHMEM_AMO_STANDARD_DISPATCH(atomic_add, __VA_ARGS__)
#define shmem_atomic_fetch_and(...) RSHMEM_AMO_BITWISE_DISPATCH(atomic_fetch_and, __VA_ARGS__)
#define shmem_atomic_fetch_and_nbi(...) RSHMEM_AMO_BITWISE_DISPATCH(atomic_fetch_and_nbi, __VA_ARGS__)
#define shmem_atomic_and(...) RSHMEM_AMO_BITWISE_DISPATCH(atomic_and, __VA_ARGS__)
#define shmem_atomic_fetch_or(...) RSHMEM_AMO_BITWISE_DISPATCH(atomic_fetch_or, __VA_ARGS__)
#define shmem_atomic_fetch_or_nbi(...) RSHMEM_AMO_BITWISE_DISPATCH(atomic_fetch_or_nbi, __VA_ARGS__)
#define shmem_atomic_or(...) RSHMEM_AMO_BITWISE_DISPATCH(atomic_or, __VA_ARGS__)
#define shmem_atomic_fetch_xor(...) RSHMEM_AMO_BITWISE_DISPATCH(atomic_fetch_xor, __VA_ARGS__)
#define shmem_atomic_fetch_xor_nbi(...) RSHMEM_AMO_BITWISE_DISPATCH(atomic_fetch_xor_nbi, __VA_ARGS__)
#define shmem_atomic_xor(...) RSHMEM_AMO_BITWISE_DISPATCH(atomic_xor, __VA_ARGS__)

#define RSHMEM_GENERIC_P2P(ptr, op)                                                        \
    _Generic(*(ptr),                                                                       \
        short: shmem_short_##op,                                                           \
        unsigned short: shmem_ushort_##op,                                                 \
        int: shmem_int_##op,                                                               \
        long: shmem_long_##op,                                                             \
        long long: shmem_longlong_##op,                                                    \
        unsigned int: shmem_uint_##op,                                                     \
        unsigned long: shmem_ulong_##op,                                                   \
        unsigned long long: shmem_ulonglong_##op)

/* Deprecated (1.4): shmem_wait(ivar, cmp_value) waits until *ivar != cmp_value. In C11
 * shmem_wait and shmem_wait_until are these type-generic macros; (shmem_wait)(...) and
 * (shmem_wait_until)(...) still name the deprecated long functions. */
#define shmem_wait(ivar, cmp_value)                                                        \
    RSHMEM_GENERIC_P2P(ivar, wait_until)(ivar, SHMEM_CMP_NE, cmp_value)

#define shmem_wait_until(ivar, cmp, cmp_value)                                             \
    RSHMEM_GENERIC_P2P(ivar, wait_until)(ivar, cmp, cmp_value)
#define shmem_wait_until_all(ivars, nelems, status, cmp, cmp_value)                        \
    RSHMEM_GENERIC_P2P(ivars, wait_until_all)(ivars, nelems, status, cmp, cmp_value)
#define shmem_wait_until_any(ivars, nelems, status, cmp, cmp_value)                        \
    RSHMEM_GENERIC_P2P(ivars, wait_until_any)(ivars, nelems, status, cmp, cmp_value)
#define shmem_wait_until_some(ivars, nelems, indices, status, cmp, cmp_value)              \
    RSHMEM_GENERIC_P2P(ivars, wait_until_some)(ivars, nelems, indices, status, cmp,        \
                                                cmp_value)
#define shmem_wait_until_all_vector(ivars, nelems, status, cmp, cmp_values)                \
    RSHMEM_GENERIC_P2P(ivars, wait_until_all_vector)(ivars, nelems, status, cmp, cmp_values)
#define shmem_wait_until_any_vector(ivars, nelems, status, cmp, cmp_values)                \
    RSHMEM_GENERIC_P2P(ivars, wait_until_any_vector)(ivars, nelems, status, cmp, cmp_values)
#define shmem_wait_until_some_vector(ivars, nelems, indices, status, cmp, cmp_values)      \
    RSHMEM_GENERIC_P2P(ivars, wait_until_some_vector)(ivars, nelems, indices, status, cmp, \
                                                       cmp_values)
#define shmem_test(ivar, cmp, cmp_value) RSHMEM_GENERIC_P2P(ivar, test)(ivar, cmp, cmp_value)
#define shmem_test_all(ivars, nelems, status, cmp, cmp_value)                              \
    RSHMEM_GENERIC_P2P(ivars, test_all)(ivars, nelems, status, cmp, cmp_value)
#define shmem_test_any(ivars, nelems, status, cmp, cmp_value)                              \
    RSHMEM_GENERIC_P2P(ivars, test_any)(ivars, nelems, status, cmp, cmp_value)
#define shmem_test_some(ivars, nelems, indices, status, cmp, cmp_value)                    \
    RSHMEM_GENERIC_P2P(ivars, test_some)(ivars, nelems, indices, status, cmp, cmp_value)
#define shmem_test_all_vector(ivars, nelems, status, cmp, cmp_values)                      \
    RSHMEM_GENERIC_P2P(ivars, test_all_vector)(ivars, nelems, status, cmp, cmp_values)
#define shmem_test_any_vector(ivars, nelems, status, cmp, cmp_values)                      \
    RSHMEM_GENERIC_P2P(ivars, test_any_vector)(ivars, nelems, status, cmp, cmp_values)
#define shmem_test_some_vector(ivars, nelems, indices, status, cmp, cmp_values)            \
    RSHMEM_GENERIC_P2P(ivars, test_some_vector)(ivars, nelems, indices, status, cmp,       \
                                                 cmp_values)

/* Collectives. */
#define shmem_broadcast(team, dest, source, nelems, PE_root)                               \
    RSHMEM_GENERIC_RMA(dest, broadcast)(team, dest, source, nelems, PE_root)
#define shmem_collect(team, dest, source, nelems)                                          \
    RSHMEM_GENERIC_RMA(dest, collect)(team, dest, source, nelems)
#define shmem_fcollect(team, dest, source, nelems)                                         \
    RSHMEM_GENERIC_RMA(dest, fcollect)(team, dest, source, nelems)
#define shmem_alltoall(team, dest, source, nelems)                                         \
    RSHMEM_GENERIC_RMA(dest, alltoall)(team, dest, source, nelems)
#define shmem_alltoalls(team, dest, source, dst, sst, nelems)                              \
    RSHMEM_GENERIC_RMA(dest, alltoalls)(team, dest, source, dst, sst, nelems)

#define RSHMEM_GENERIC_REDUCE_BITWISE(ptr, op)                                             \
    _Generic(*(ptr),                                                                       \
        unsigned char: shmem_uchar_##op,                                                   \
        unsigned short: shmem_ushort_##op,                                                 \
        unsigned int: shmem_uint_##op,                                                     \
        unsigned long: shmem_ulong_##op,                                                   \
        unsigned long long: shmem_ulonglong_##op,                                          \
        signed char: shmem_int8_##op,                                                      \
        short: shmem_int16_##op,                                                           \
        int: shmem_int32_##op,                                                             \
        long: shmem_int64_##op)

#define RSHMEM_GENERIC_REDUCE_MINMAX(ptr, op)                                              \
    _Generic(*(ptr),                                                                       \
        char: shmem_char_##op,                                                             \
        signed char: shmem_schar_##op,                                                     \
        short: shmem_short_##op,                                                           \
        int: shmem_int_##op,                                                               \
        long: shmem_long_##op,                                                             \
        long long: shmem_longlong_##op,                                                    \
        unsigned char: shmem_uchar_##op,                                                   \
        unsigned short: shmem_ushort_##op,                                                 \
        unsigned int: shmem_uint_##op,                                                     \
        unsigned long: shmem_ulong_##op,                                                   \
        unsigned long long: shmem_ulonglong_##op,                                          \
        float: shmem_float_##op,                                                           \
        double: shmem_double_##op,                                                         \
        long double: shmem_longdouble_##op)

#define RSHMEM_GENERIC_REDUCE_ARITH(ptr, op)                                               \
    _Generic(*(ptr),                                                                       \
        char: shmem_char_##op,                                                             \
        signed char: shmem_schar_##op,                                                     \
        short: shmem_short_##op,                                                           \
        int: shmem_int_##op,                                                               \
        long: shmem_long_##op,                                                             \
        long long: shmem_longlong_##op,                                                    \
        unsigned char: shmem_uchar_##op,                                                   \
        unsigned short: shmem_ushort_##op,                                                 \
        unsigned int: shmem_uint_##op,                                                     \
        unsigned long: shmem_ulong_##op,                                                   \
        unsigned long long: shmem_ulonglong_##op,                                          \
        float: shmem_float_##op,                                                           \
        double: shmem_double_##op,                                                         \
        long double: shmem_longdouble_##op,                                                \
        float _Complex: shmem_complexf_##op,                                               \
        double _Complex: shmem_complexd_##op)

#define shmem_and_reduce(team, dest, source, nreduce)                                      \
    RSHMEM_GENERIC_REDUCE_BITWISE(dest, and_reduce)(team, dest, source, nreduce)
#define shmem_or_reduce(team, dest, source, nreduce)                                       \
    RSHMEM_GENERIC_REDUCE_BITWISE(dest, or_reduce)(team, dest, source, nreduce)
#define shmem_xor_reduce(team, dest, source, nreduce)                                      \
    RSHMEM_GENERIC_REDUCE_BITWISE(dest, xor_reduce)(team, dest, source, nreduce)
#define shmem_max_reduce(team, dest, source, nreduce)                                      \
    RSHMEM_GENERIC_REDUCE_MINMAX(dest, max_reduce)(team, dest, source, nreduce)
#define shmem_min_reduce(team, dest, source, nreduce)                                      \
    RSHMEM_GENERIC_REDUCE_MINMAX(dest, min_reduce)(team, dest, source, nreduce)
#define shmem_sum_reduce(team, dest, source, nreduce)                                      \
    RSHMEM_GENERIC_REDUCE_ARITH(dest, sum_reduce)(team, dest, source, nreduce)
#define shmem_prod_reduce(team, dest, source, nreduce)                                     \
    RSHMEM_GENERIC_REDUCE_ARITH(dest, prod_reduce)(team, dest, source, nreduce)

#define RSHMEM_GENERIC_SCAN(ptr, op)                                                       \
    _Generic(*(ptr),                                                                       \
        char: shmem_char_##op,                                                             \
        signed char: shmem_schar_##op,                                                     \
        short: shmem_short_##op,                                                           \
        int: shmem_int_##op,                                                               \
        long: shmem_long_##op,                                                             \
        long long: shmem_longlong_##op,                                                    \
        unsigned char: shmem_uchar_##op,                                                   \
        unsigned short: shmem_ushort_##op,                                                 \
        unsigned int: shmem_uint_##op,                                                     \
        unsigned long: shmem_ulong_##op,                                                   \
        unsigned long long: shmem_ulonglong_##op,                                          \
        float: shmem_float_##op,                                                           \
        double: shmem_double_##op,                                                         \
        long double: shmem_longdouble_##op,                                                \
        float _Complex: shmem_complexf_##op,                                               \
        double _Complex: shmem_complexd_##op)
#define shmem_sum_inscan(team, dest, source, nelems)                                       \
    RSHMEM_GENERIC_SCAN(dest, sum_inscan)(team, dest, source, nelems)
#define shmem_sum_exscan(team, dest, source, nelems)                                       \
    RSHMEM_GENERIC_SCAN(dest, sum_exscan)(team, dest, source, nelems)

/* Deprecated (1.3) generic AMO names, over the atomic generics (no context forms). */
#define shmem_add(dest, value, pe) shmem_atomic_add(dest, value, pe)
#define shmem_inc(dest, pe) shmem_atomic_inc(dest, pe)
#define shmem_fadd(dest, value, pe) shmem_atomic_fetch_add(dest, value, pe)
#define shmem_finc(dest, pe) shmem_atomic_fetch_inc(dest, pe)
#define shmem_cswap(dest, cond, value, pe) shmem_atomic_compare_swap(dest, cond, value, pe)
#define shmem_swap(dest, value, pe) shmem_atomic_swap(dest, value, pe)
#define shmem_fetch(source, pe) shmem_atomic_fetch(source, pe)
#define shmem_set(dest, value, pe) shmem_atomic_set(dest, value, pe)

/* shmem_sync(team) (1.5 C11 synopsis; the C/C++ name is shmem_team_sync) next to the
 * deprecated active-set shmem_sync(PE_start, logPE_stride, PE_size, pSync): chosen by the
 * number of arguments. (1.5 has no team form of shmem_barrier.) */
#define RSHMEM_SYNC_SELECT_(a1, a2, a3, a4, name, ...) name
#define shmem_sync(...)                                                                    \
    RSHMEM_SYNC_SELECT_(__VA_ARGS__, shmem_sync, shmem_sync_takes_1_or_4_arguments,        \
                        shmem_sync_takes_1_or_4_arguments, shmem_team_sync,                \
                        rshmem_unused)(__VA_ARGS__)

#endif /* C11 */

/* ---- C++: complex reductions (std::complex) and overloads of the generic names ---- */
#ifdef __cplusplus
#include "shmem_cxx.h"
#endif

#endif /* RSHMEM_SHMEM_H */
