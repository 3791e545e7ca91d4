/*
 * shmem.h -- the OpenSHMEM 1.5 C API of rshmem (with the 1.6 shmem_query_initialized).
 *
 * Link with -lrshmem (the rshmemcc / rshmemc++ wrappers do it). Every shmem_ routine is
 * also exported as pshmem_ (profiling interface); the shmem_ names are weak.
 *
 * Not yet provided: teams and contexts (shmem_team_*, shmem_ctx_*, ctx forms), collectives
 * other than shmem_barrier_all / shmem_sync_all, and symmetric global/static variables
 * (only shmem_malloc'ed memory is symmetric so far).
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
#define SHMEM_MINOR_VERSION 5
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

#define RSHMEM_P2P_TYPES(X) RSHMEM_AMO_STANDARD_TYPES(X)

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

uint64_t shmem_signal_fetch(const uint64_t *sig_addr);
uint64_t shmem_signal_wait_until(uint64_t *sig_addr, int cmp, uint64_t cmp_value);

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

/* ---- Point-to-point synchronization ------------------------------------------------ */

#define RSHMEM_DECL_P2P(T, N)                                                              \
    void shmem_##N##_wait_until(T *ivar, int cmp, T cmp_value);                            \
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

/* ---- Memory ordering, collectives, locks ------------------------------------------- */

void shmem_fence(void);
void shmem_quiet(void);
void shmem_barrier_all(void);
void shmem_sync_all(void);

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

#define shmem_put(dest, source, nelems, pe) RSHMEM_GENERIC_RMA(dest, put)(dest, source, nelems, pe)
#define shmem_get(dest, source, nelems, pe) RSHMEM_GENERIC_RMA(dest, get)(dest, source, nelems, pe)
#define shmem_put_nbi(dest, source, nelems, pe)                                            \
    RSHMEM_GENERIC_RMA(dest, put_nbi)(dest, source, nelems, pe)
#define shmem_get_nbi(dest, source, nelems, pe)                                            \
    RSHMEM_GENERIC_RMA(dest, get_nbi)(dest, source, nelems, pe)
#define shmem_p(dest, value, pe) RSHMEM_GENERIC_RMA(dest, p)(dest, value, pe)
#define shmem_g(source, pe) RSHMEM_GENERIC_RMA(source, g)(source, pe)
#define shmem_iput(dest, source, dst, sst, nelems, pe)                                     \
    RSHMEM_GENERIC_RMA(dest, iput)(dest, source, dst, sst, nelems, pe)
#define shmem_iget(dest, source, dst, sst, nelems, pe)                                     \
    RSHMEM_GENERIC_RMA(dest, iget)(dest, source, dst, sst, nelems, pe)
#define shmem_put_signal(dest, source, nelems, sig_addr, signal, sig_op, pe)               \
    RSHMEM_GENERIC_RMA(dest, put_signal)(dest, source, nelems, sig_addr, signal, sig_op, pe)
#define shmem_put_signal_nbi(dest, source, nelems, sig_addr, signal, sig_op, pe)           \
    RSHMEM_GENERIC_RMA(dest, put_signal_nbi)(dest, source, nelems, sig_addr, signal,       \
                                             sig_op, pe)

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

#define shmem_atomic_fetch(source, pe) RSHMEM_GENERIC_AMO_EXTENDED(source, atomic_fetch)(source, pe)
#define shmem_atomic_set(dest, value, pe)                                                  \
    RSHMEM_GENERIC_AMO_EXTENDED(dest, atomic_set)(dest, value, pe)
#define shmem_atomic_swap(dest, value, pe)                                                 \
    RSHMEM_GENERIC_AMO_EXTENDED(dest, atomic_swap)(dest, value, pe)
#define shmem_atomic_fetch_nbi(fetch, source, pe)                                          \
    RSHMEM_GENERIC_AMO_EXTENDED(source, atomic_fetch_nbi)(fetch, source, pe)
#define shmem_atomic_swap_nbi(fetch, dest, value, pe)                                      \
    RSHMEM_GENERIC_AMO_EXTENDED(dest, atomic_swap_nbi)(fetch, dest, value, pe)
#define shmem_atomic_compare_swap(dest, cond, value, pe)                                   \
    RSHMEM_GENERIC_AMO_STANDARD(dest, atomic_compare_swap)(dest, cond, value, pe)
#define shmem_atomic_compare_swap_nbi(fetch, dest, cond, value, pe)                        \
    RSHMEM_GENERIC_AMO_STANDARD(dest, atomic_compare_swap_nbi)(fetch, dest, cond, value, pe)
#define shmem_atomic_fetch_inc(dest, pe)                                                   \
    RSHMEM_GENERIC_AMO_STANDARD(dest, atomic_fetch_inc)(dest, pe)
#define shmem_atomic_fetch_inc_nbi(fetch, dest, pe)                                        \
    RSHMEM_GENERIC_AMO_STANDARD(dest, atomic_fetch_inc_nbi)(fetch, dest, pe)
#define shmem_atomic_inc(dest, pe) RSHMEM_GENERIC_AMO_STANDARD(dest, atomic_inc)(dest, pe)
#define shmem_atomic_fetch_add(dest, value, pe)                                            \
    RSHMEM_GENERIC_AMO_STANDARD(dest, atomic_fetch_add)(dest, value, pe)
#define shmem_atomic_fetch_add_nbi(fetch, dest, value, pe)                                 \
    RSHMEM_GENERIC_AMO_STANDARD(dest, atomic_fetch_add_nbi)(fetch, dest, value, pe)
#define shmem_atomic_add(dest, value, pe)                                                  \
    RSHMEM_GENERIC_AMO_STANDARD(dest, atomic_add)(dest, value, pe)
#define shmem_atomic_fetch_and(dest, value, pe)                                            \
    RSHMEM_GENERIC_AMO_BITWISE(dest, atomic_fetch_and)(dest, value, pe)
#define shmem_atomic_fetch_and_nbi(fetch, dest, value, pe)                                 \
    RSHMEM_GENERIC_AMO_BITWISE(dest, atomic_fetch_and_nbi)(fetch, dest, value, pe)
#define shmem_atomic_and(dest, value, pe)                                                  \
    RSHMEM_GENERIC_AMO_BITWISE(dest, atomic_and)(dest, value, pe)
#define shmem_atomic_fetch_or(dest, value, pe)                                             \
    RSHMEM_GENERIC_AMO_BITWISE(dest, atomic_fetch_or)(dest, value, pe)
#define shmem_atomic_fetch_or_nbi(fetch, dest, value, pe)                                  \
    RSHMEM_GENERIC_AMO_BITWISE(dest, atomic_fetch_or_nbi)(fetch, dest, value, pe)
#define shmem_atomic_or(dest, value, pe)                                                   \
    RSHMEM_GENERIC_AMO_BITWISE(dest, atomic_or)(dest, value, pe)
#define shmem_atomic_fetch_xor(dest, value, pe)                                            \
    RSHMEM_GENERIC_AMO_BITWISE(dest, atomic_fetch_xor)(dest, value, pe)
#define shmem_atomic_fetch_xor_nbi(fetch, dest, value, pe)                                 \
    RSHMEM_GENERIC_AMO_BITWISE(dest, atomic_fetch_xor_nbi)(fetch, dest, value, pe)
#define shmem_atomic_xor(dest, value, pe)                                                  \
    RSHMEM_GENERIC_AMO_BITWISE(dest, atomic_xor)(dest, value, pe)

#define RSHMEM_GENERIC_P2P(ptr, op) RSHMEM_GENERIC_AMO_STANDARD(ptr, op)

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

#endif /* C11 */

#endif /* RSHMEM_SHMEM_H */
