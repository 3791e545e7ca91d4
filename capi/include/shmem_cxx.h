/*
 * shmem_cxx.h -- the C++ part of shmem.h (included from its end; do not include it
 * directly). Needs C++11.
 *
 * 1. The complex reductions, declared with std::complex<float> / std::complex<double>
 *    (the C++ standard gives std::complex<T> the layout of T[2], which is the layout of
 *    C's T _Complex: the same library symbols as the C declarations).
 * 2. C++ overloads of the type-generic names that C11 gets as _Generic macros:
 *    shmem_put/get/p/g/iput/iget/ibput/ibget/put_nbi/get_nbi/put_signal(_nbi), every
 *    shmem_atomic_*, shmem_wait_until*, shmem_test*, shmem_broadcast/collect/fcollect/
 *    alltoall(s), shmem_{and,or,xor,max,min,sum,prod}_reduce, shmem_sum_inscan/exscan,
 *    shmem_sync(team); the RMA, AMO and signal ones also with a leading shmem_ctx_t.
 *
 * How: every entry X(TYPE, TYPENAME) of the type tables of shmem.h (RSHMEM_RMA_TYPES,
 * RSHMEM_AMO_*_TYPES, RSHMEM_P2P_TYPES, RSHMEM_REDUCE_*_TYPES) defines a selector
 * rshmem_cxx_OP(TYPE *, rshmem_cxx_rank<R> *) returning &shmem_TYPENAME_OP, and the
 * overload shmem_OP is a template over the element type that calls the selector chosen by
 * overload resolution. Several TYPENAMEs name one C++ type (int64_t is long on LP64):
 * each TYPENAME has its own rank R (RSHMEM_CXX_RANK_*), and rshmem_cxx_rank<R> derives
 * from rshmem_cxx_rank<R-1>, so the selector of the highest rank wins without ambiguity
 * (a conversion to a nearer base is better). A TYPENAME added to a table without a rank
 * here is a compile error, not a silently missing overload.
 */
#ifndef RSHMEM_SHMEM_CXX_H
#define RSHMEM_SHMEM_CXX_H

#if defined(__cplusplus) && defined(RSHMEM_SHMEM_H)

#include <complex>

extern "C" {
int shmem_complexf_sum_reduce(shmem_team_t team, std::complex<float> *dest,
                              const std::complex<float> *source, size_t nreduce);
int shmem_complexd_sum_reduce(shmem_team_t team, std::complex<double> *dest,
                              const std::complex<double> *source, size_t nreduce);
int shmem_complexf_prod_reduce(shmem_team_t team, std::complex<float> *dest,
                               const std::complex<float> *source, size_t nreduce);
int shmem_complexd_prod_reduce(shmem_team_t team, std::complex<double> *dest,
                               const std::complex<double> *source, size_t nreduce);
#define RSHMEM_CXX_DECL_CX_TO_ALL(T, N, OP)                                                \
    void shmem_##N##_##OP##_to_all(T *dest, const T *source, int nreduce, int PE_start,    \
                                   int logPE_stride, int PE_size, T *pWrk, long *pSync);
RSHMEM_CXX_DECL_CX_TO_ALL(std::complex<float>, complexf, sum)
RSHMEM_CXX_DECL_CX_TO_ALL(std::complex<double>, complexd, sum)
RSHMEM_CXX_DECL_CX_TO_ALL(std::complex<float>, complexf, prod)
RSHMEM_CXX_DECL_CX_TO_ALL(std::complex<double>, complexd, prod)
int shmem_complexf_sum_inscan(shmem_team_t team, std::complex<float> *dest,
                              const std::complex<float> *source, size_t nelems);
int shmem_complexf_sum_exscan(shmem_team_t team, std::complex<float> *dest,
                              const std::complex<float> *source, size_t nelems);
int shmem_complexd_sum_inscan(shmem_team_t team, std::complex<double> *dest,
                              const std::complex<double> *source, size_t nelems);
int shmem_complexd_sum_exscan(shmem_team_t team, std::complex<double> *dest,
                              const std::complex<double> *source, size_t nelems);
} /* extern "C" */

/* ---- Ranks: which TYPENAME serves a C++ type named by several ------------------------ */

template <int R> struct rshmem_cxx_rank : rshmem_cxx_rank<R - 1> {};
template <> struct rshmem_cxx_rank<0> {};
typedef rshmem_cxx_rank<40> rshmem_cxx_best;

/* The fundamental types first (highest), then the typedef names. */
#define RSHMEM_CXX_RANK_float 40
#define RSHMEM_CXX_RANK_double 39
#define RSHMEM_CXX_RANK_longdouble 38
#define RSHMEM_CXX_RANK_char 37
#define RSHMEM_CXX_RANK_schar 36
#define RSHMEM_CXX_RANK_short 35
#define RSHMEM_CXX_RANK_int 34
#define RSHMEM_CXX_RANK_long 33
#define RSHMEM_CXX_RANK_longlong 32
#define RSHMEM_CXX_RANK_uchar 31
#define RSHMEM_CXX_RANK_ushort 30
#define RSHMEM_CXX_RANK_uint 29
#define RSHMEM_CXX_RANK_ulong 28
#define RSHMEM_CXX_RANK_ulonglong 27
#define RSHMEM_CXX_RANK_complexf 26
#define RSHMEM_CXX_RANK_complexd 25
#define RSHMEM_CXX_RANK_int8 20
#define RSHMEM_CXX_RANK_int16 19
#define RSHMEM_CXX_RANK_int32 18
#define RSHMEM_CXX_RANK_int64 17
#define RSHMEM_CXX_RANK_uint8 16
#define RSHMEM_CXX_RANK_uint16 15
#define RSHMEM_CXX_RANK_uint32 14
#define RSHMEM_CXX_RANK_uint64 13
#define RSHMEM_CXX_RANK_size 12
#define RSHMEM_CXX_RANK_ptrdiff 11

/* ---- Selectors, one per table entry and routine ----------------------------------------- */

/* Naming a routine that -DRSHMEM_WARN_DEPRECATED marks deprecated (the short waits) in a
 * selector is not a use of it: only a program's call through an overload is. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

#define RSHMEM_CXX_SEL(T, N, op)                                                           \
    inline decltype(&shmem_##N##_##op) rshmem_cxx_##op(T *,                                \
                                                      rshmem_cxx_rank<RSHMEM_CXX_RANK_##N> *) { \
        return &shmem_##N##_##op;                                                          \
    }
#define RSHMEM_CXX_SEL_CTX(T, N, op)                                                       \
    inline decltype(&shmem_ctx_##N##_##op) rshmem_cxx_ctx_##op(                            \
        T *, rshmem_cxx_rank<RSHMEM_CXX_RANK_##N> *) {                                     \
        return &shmem_ctx_##N##_##op;                                                      \
    }
#define RSHMEM_CXX_SEL2(T, N, op) RSHMEM_CXX_SEL(T, N, op) RSHMEM_CXX_SEL_CTX(T, N, op)

#define RSHMEM_CXX_SEL_RMA(T, N)                                                           \
    RSHMEM_CXX_SEL2(T, N, put)                                                             \
    RSHMEM_CXX_SEL2(T, N, get)                                                             \
    RSHMEM_CXX_SEL2(T, N, put_nbi)                                                         \
    RSHMEM_CXX_SEL2(T, N, get_nbi)                                                         \
    RSHMEM_CXX_SEL2(T, N, p)                                                               \
    RSHMEM_CXX_SEL2(T, N, g)                                                               \
    RSHMEM_CXX_SEL2(T, N, iput)                                                            \
    RSHMEM_CXX_SEL2(T, N, iget)                                                            \
    RSHMEM_CXX_SEL2(T, N, ibput)                                                           \
    RSHMEM_CXX_SEL2(T, N, ibget)                                                           \
    RSHMEM_CXX_SEL2(T, N, put_signal)                                                      \
    RSHMEM_CXX_SEL2(T, N, put_signal_nbi)                                                  \
    RSHMEM_CXX_SEL(T, N, broadcast)                                                        \
    RSHMEM_CXX_SEL(T, N, collect)                                                          \
    RSHMEM_CXX_SEL(T, N, fcollect)                                                         \
    RSHMEM_CXX_SEL(T, N, alltoall)                                                         \
    RSHMEM_CXX_SEL(T, N, alltoalls)
RSHMEM_RMA_TYPES(RSHMEM_CXX_SEL_RMA)

#define RSHMEM_CXX_SEL_AMO_EXTENDED(T, N)                                                  \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch)                                                    \
    RSHMEM_CXX_SEL2(T, N, atomic_set)                                                      \
    RSHMEM_CXX_SEL2(T, N, atomic_swap)                                                     \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_nbi)                                                \
    RSHMEM_CXX_SEL2(T, N, atomic_swap_nbi)
RSHMEM_AMO_EXTENDED_TYPES(RSHMEM_CXX_SEL_AMO_EXTENDED)

#define RSHMEM_CXX_SEL_AMO_STANDARD(T, N)                                                  \
    RSHMEM_CXX_SEL2(T, N, atomic_compare_swap)                                             \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_inc)                                                \
    RSHMEM_CXX_SEL2(T, N, atomic_inc)                                                      \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_add)                                                \
    RSHMEM_CXX_SEL2(T, N, atomic_add)                                                      \
    RSHMEM_CXX_SEL2(T, N, atomic_compare_swap_nbi)                                         \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_inc_nbi)                                            \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_add_nbi)
RSHMEM_AMO_STANDARD_TYPES(RSHMEM_CXX_SEL_AMO_STANDARD)

#define RSHMEM_CXX_SEL_AMO_BITWISE(T, N)                                                   \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_and)                                                \
    RSHMEM_CXX_SEL2(T, N, atomic_and)                                                      \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_and_nbi)                                            \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_or)                                                 \
    RSHMEM_CXX_SEL2(T, N, atomic_or)                                                       \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_or_nbi)                                             \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_xor)                                                \
    RSHMEM_CXX_SEL2(T, N, atomic_xor)                                                      \
    RSHMEM_CXX_SEL2(T, N, atomic_fetch_xor_nbi)
RSHMEM_AMO_BITWISE_TYPES(RSHMEM_CXX_SEL_AMO_BITWISE)

#define RSHMEM_CXX_SEL_P2P(T, N)                                                           \
    RSHMEM_CXX_SEL(T, N, wait_until)                                                       \
    RSHMEM_CXX_SEL(T, N, wait_until_all)                                                   \
    RSHMEM_CXX_SEL(T, N, wait_until_any)                                                   \
    RSHMEM_CXX_SEL(T, N, wait_until_some)                                                  \
    RSHMEM_CXX_SEL(T, N, wait_until_all_vector)                                            \
    RSHMEM_CXX_SEL(T, N, wait_until_any_vector)                                            \
    RSHMEM_CXX_SEL(T, N, wait_until_some_vector)                                           \
    RSHMEM_CXX_SEL(T, N, test)                                                             \
    RSHMEM_CXX_SEL(T, N, test_all)                                                         \
    RSHMEM_CXX_SEL(T, N, test_any)                                                         \
    RSHMEM_CXX_SEL(T, N, test_some)                                                        \
    RSHMEM_CXX_SEL(T, N, test_all_vector)                                                  \
    RSHMEM_CXX_SEL(T, N, test_any_vector)                                                  \
    RSHMEM_CXX_SEL(T, N, test_some_vector)
RSHMEM_P2P_TYPES(RSHMEM_CXX_SEL_P2P)

#define RSHMEM_CXX_SEL_BITWISE_REDUCE(T, N)                                                \
    RSHMEM_CXX_SEL(T, N, and_reduce) RSHMEM_CXX_SEL(T, N, or_reduce) RSHMEM_CXX_SEL(T, N, xor_reduce)
#define RSHMEM_CXX_SEL_MINMAX_REDUCE(T, N)                                                 \
    RSHMEM_CXX_SEL(T, N, max_reduce) RSHMEM_CXX_SEL(T, N, min_reduce)
#define RSHMEM_CXX_SEL_ARITH_REDUCE(T, N)                                                  \
    RSHMEM_CXX_SEL(T, N, sum_reduce) RSHMEM_CXX_SEL(T, N, prod_reduce)
#define RSHMEM_CXX_SEL_SCAN(T, N)                                                          \
    RSHMEM_CXX_SEL(T, N, sum_inscan) RSHMEM_CXX_SEL(T, N, sum_exscan)
RSHMEM_REDUCE_BITWISE_TYPES(RSHMEM_CXX_SEL_BITWISE_REDUCE)
RSHMEM_REDUCE_MINMAX_TYPES(RSHMEM_CXX_SEL_MINMAX_REDUCE)
RSHMEM_REDUCE_MINMAX_TYPES(RSHMEM_CXX_SEL_ARITH_REDUCE)
RSHMEM_REDUCE_MINMAX_TYPES(RSHMEM_CXX_SEL_SCAN)
/* long double (inline in shmem.h) and complex, outside the reduction tables. */
RSHMEM_CXX_SEL_MINMAX_REDUCE(long double, longdouble)
RSHMEM_CXX_SEL_ARITH_REDUCE(long double, longdouble)
RSHMEM_CXX_SEL_ARITH_REDUCE(std::complex<float>, complexf)
RSHMEM_CXX_SEL_ARITH_REDUCE(std::complex<double>, complexd)
RSHMEM_CXX_SEL_SCAN(long double, longdouble)
RSHMEM_CXX_SEL_SCAN(std::complex<float>, complexf)
RSHMEM_CXX_SEL_SCAN(std::complex<double>, complexd)

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* ---- The overloads ------------------------------------------------------------------- */

/* A value argument of the element type that does not take part in deducing it (so that
 * shmem_p(long_ptr, 1, pe) works). */
template <class T> struct rshmem_cxx_nd {
    typedef T type;
};
#define RSHMEM_CXX_V typename rshmem_cxx_nd<T>::type
#define RSHMEM_CXX_PICK(op) rshmem_cxx_##op((T *)0, (rshmem_cxx_best *)0)
#define RSHMEM_CXX_PICK_CTX(op) rshmem_cxx_ctx_##op((T *)0, (rshmem_cxx_best *)0)
#define RSHMEM_CXX_WITH_CTX(...) (shmem_ctx_t ctx, __VA_ARGS__)
#define RSHMEM_CXX_ARGS_CTX(...) (ctx, __VA_ARGS__)

/* shmem_OP PARAMS and shmem_OP(shmem_ctx_t ctx, PARAMS), returning R. */
#define RSHMEM_CXX_OP(R, op, PARAMS, ARGS)                                                 \
    template <class T> inline R shmem_##op PARAMS { return RSHMEM_CXX_PICK(op) ARGS; }     \
    template <class T> inline R shmem_##op RSHMEM_CXX_WITH_CTX PARAMS {                    \
        return RSHMEM_CXX_PICK_CTX(op) RSHMEM_CXX_ARGS_CTX ARGS;                           \
    }
/* Without a context form. */
#define RSHMEM_CXX_OP1(R, op, PARAMS, ARGS)                                                \
    template <class T> inline R shmem_##op PARAMS { return RSHMEM_CXX_PICK(op) ARGS; }

/* RMA */
RSHMEM_CXX_OP(void, put, (T *dest, const T *source, size_t nelems, int pe),
              (dest, source, nelems, pe))
RSHMEM_CXX_OP(void, get, (T *dest, const T *source, size_t nelems, int pe),
              (dest, source, nelems, pe))
RSHMEM_CXX_OP(void, put_nbi, (T *dest, const T *source, size_t nelems, int pe),
              (dest, source, nelems, pe))
RSHMEM_CXX_OP(void, get_nbi, (T *dest, const T *source, size_t nelems, int pe),
              (dest, source, nelems, pe))
RSHMEM_CXX_OP(void, p, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(T, g, (const T *source, int pe), (source, pe))
RSHMEM_CXX_OP(void, iput,
              (T *dest, const T *source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems, int pe),
              (dest, source, dst, sst, nelems, pe))
RSHMEM_CXX_OP(void, iget,
              (T *dest, const T *source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems, int pe),
              (dest, source, dst, sst, nelems, pe))
RSHMEM_CXX_OP(void, ibput,
              (T *dest, const T *source, ptrdiff_t dst, ptrdiff_t sst, size_t bsize,
               size_t nblocks, int pe),
              (dest, source, dst, sst, bsize, nblocks, pe))
RSHMEM_CXX_OP(void, ibget,
              (T *dest, const T *source, ptrdiff_t dst, ptrdiff_t sst, size_t bsize,
               size_t nblocks, int pe),
              (dest, source, dst, sst, bsize, nblocks, pe))
RSHMEM_CXX_OP(void, put_signal,
              (T *dest, const T *source, size_t nelems, uint64_t *sig_addr, uint64_t signal,
               int sig_op, int pe),
              (dest, source, nelems, sig_addr, signal, sig_op, pe))
RSHMEM_CXX_OP(void, put_signal_nbi,
              (T *dest, const T *source, size_t nelems, uint64_t *sig_addr, uint64_t signal,
               int sig_op, int pe),
              (dest, source, nelems, sig_addr, signal, sig_op, pe))

/* 1.6 signal_add/set with a context, next to the C functions of the same names. */
inline void shmem_signal_add(shmem_ctx_t ctx, uint64_t *sig_addr, uint64_t signal, int pe) {
    shmem_ctx_signal_add(ctx, sig_addr, signal, pe);
}
inline void shmem_signal_set(shmem_ctx_t ctx, uint64_t *sig_addr, uint64_t signal, int pe) {
    shmem_ctx_signal_set(ctx, sig_addr, signal, pe);
}

/* AMOs */
RSHMEM_CXX_OP(T, atomic_fetch, (const T *source, int pe), (source, pe))
RSHMEM_CXX_OP(void, atomic_set, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(T, atomic_swap, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(void, atomic_fetch_nbi, (T *fetch, const T *source, int pe), (fetch, source, pe))
RSHMEM_CXX_OP(void, atomic_swap_nbi, (T *fetch, T *dest, RSHMEM_CXX_V value, int pe),
              (fetch, dest, value, pe))
RSHMEM_CXX_OP(T, atomic_compare_swap, (T *dest, RSHMEM_CXX_V cond, RSHMEM_CXX_V value, int pe),
              (dest, cond, value, pe))
RSHMEM_CXX_OP(void, atomic_compare_swap_nbi,
              (T *fetch, T *dest, RSHMEM_CXX_V cond, RSHMEM_CXX_V value, int pe),
              (fetch, dest, cond, value, pe))
RSHMEM_CXX_OP(T, atomic_fetch_inc, (T *dest, int pe), (dest, pe))
RSHMEM_CXX_OP(void, atomic_inc, (T *dest, int pe), (dest, pe))
RSHMEM_CXX_OP(void, atomic_fetch_inc_nbi, (T *fetch, T *dest, int pe), (fetch, dest, pe))
RSHMEM_CXX_OP(T, atomic_fetch_add, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(void, atomic_add, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(void, atomic_fetch_add_nbi, (T *fetch, T *dest, RSHMEM_CXX_V value, int pe),
              (fetch, dest, value, pe))
RSHMEM_CXX_OP(T, atomic_fetch_and, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(void, atomic_and, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(void, atomic_fetch_and_nbi, (T *fetch, T *dest, RSHMEM_CXX_V value, int pe),
              (fetch, dest, value, pe))
RSHMEM_CXX_OP(T, atomic_fetch_or, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(void, atomic_or, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(void, atomic_fetch_or_nbi, (T *fetch, T *dest, RSHMEM_CXX_V value, int pe),
              (fetch, dest, value, pe))
RSHMEM_CXX_OP(T, atomic_fetch_xor, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(void, atomic_xor, (T *dest, RSHMEM_CXX_V value, int pe), (dest, value, pe))
RSHMEM_CXX_OP(void, atomic_fetch_xor_nbi, (T *fetch, T *dest, RSHMEM_CXX_V value, int pe),
              (fetch, dest, value, pe))

/* Point-to-point synchronization */
RSHMEM_CXX_OP1(void, wait_until, (T *ivar, int cmp, RSHMEM_CXX_V cmp_value),
               (ivar, cmp, cmp_value))
RSHMEM_CXX_OP1(void, wait_until_all,
               (T *ivars, size_t nelems, const int *status, int cmp, RSHMEM_CXX_V cmp_value),
               (ivars, nelems, status, cmp, cmp_value))
RSHMEM_CXX_OP1(size_t, wait_until_any,
               (T *ivars, size_t nelems, const int *status, int cmp, RSHMEM_CXX_V cmp_value),
               (ivars, nelems, status, cmp, cmp_value))
RSHMEM_CXX_OP1(size_t, wait_until_some,
               (T *ivars, size_t nelems, size_t *indices, const int *status, int cmp,
                RSHMEM_CXX_V cmp_value),
               (ivars, nelems, indices, status, cmp, cmp_value))
RSHMEM_CXX_OP1(void, wait_until_all_vector,
               (T *ivars, size_t nelems, const int *status, int cmp, const T *cmp_values),
               (ivars, nelems, status, cmp, cmp_values))
RSHMEM_CXX_OP1(size_t, wait_until_any_vector,
               (T *ivars, size_t nelems, const int *status, int cmp, const T *cmp_values),
               (ivars, nelems, status, cmp, cmp_values))
RSHMEM_CXX_OP1(size_t, wait_until_some_vector,
               (T *ivars, size_t nelems, size_t *indices, const int *status, int cmp,
                const T *cmp_values),
               (ivars, nelems, indices, status, cmp, cmp_values))
RSHMEM_CXX_OP1(int, test, (T *ivar, int cmp, RSHMEM_CXX_V cmp_value), (ivar, cmp, cmp_value))
RSHMEM_CXX_OP1(int, test_all,
               (T *ivars, size_t nelems, const int *status, int cmp, RSHMEM_CXX_V cmp_value),
               (ivars, nelems, status, cmp, cmp_value))
RSHMEM_CXX_OP1(size_t, test_any,
               (T *ivars, size_t nelems, const int *status, int cmp, RSHMEM_CXX_V cmp_value),
               (ivars, nelems, status, cmp, cmp_value))
RSHMEM_CXX_OP1(size_t, test_some,
               (T *ivars, size_t nelems, size_t *indices, const int *status, int cmp,
                RSHMEM_CXX_V cmp_value),
               (ivars, nelems, indices, status, cmp, cmp_value))
RSHMEM_CXX_OP1(int, test_all_vector,
               (T *ivars, size_t nelems, const int *status, int cmp, const T *cmp_values),
               (ivars, nelems, status, cmp, cmp_values))
RSHMEM_CXX_OP1(size_t, test_any_vector,
               (T *ivars, size_t nelems, const int *status, int cmp, const T *cmp_values),
               (ivars, nelems, status, cmp, cmp_values))
RSHMEM_CXX_OP1(size_t, test_some_vector,
               (T *ivars, size_t nelems, size_t *indices, const int *status, int cmp,
                const T *cmp_values),
               (ivars, nelems, indices, status, cmp, cmp_values))

/* Team collectives */
RSHMEM_CXX_OP1(int, broadcast,
               (shmem_team_t team, T *dest, const T *source, size_t nelems, int PE_root),
               (team, dest, source, nelems, PE_root))
RSHMEM_CXX_OP1(int, collect, (shmem_team_t team, T *dest, const T *source, size_t nelems),
               (team, dest, source, nelems))
RSHMEM_CXX_OP1(int, fcollect, (shmem_team_t team, T *dest, const T *source, size_t nelems),
               (team, dest, source, nelems))
RSHMEM_CXX_OP1(int, alltoall, (shmem_team_t team, T *dest, const T *source, size_t nelems),
               (team, dest, source, nelems))
RSHMEM_CXX_OP1(int, alltoalls,
               (shmem_team_t team, T *dest, const T *source, ptrdiff_t dst, ptrdiff_t sst,
                size_t nelems),
               (team, dest, source, dst, sst, nelems))
#define RSHMEM_CXX_REDUCE(op)                                                              \
    RSHMEM_CXX_OP1(int, op, (shmem_team_t team, T *dest, const T *source, size_t n),       \
                   (team, dest, source, n))
RSHMEM_CXX_REDUCE(and_reduce)
RSHMEM_CXX_REDUCE(or_reduce)
RSHMEM_CXX_REDUCE(xor_reduce)
RSHMEM_CXX_REDUCE(max_reduce)
RSHMEM_CXX_REDUCE(min_reduce)
RSHMEM_CXX_REDUCE(sum_reduce)
RSHMEM_CXX_REDUCE(prod_reduce)
RSHMEM_CXX_REDUCE(sum_inscan)
RSHMEM_CXX_REDUCE(sum_exscan)

/* shmem_sync(team): 1.5's generic name of shmem_team_sync, next to the deprecated
 * active-set shmem_sync(PE_start, logPE_stride, PE_size, pSync). */
inline int shmem_sync(shmem_team_t team) { return shmem_team_sync(team); }

#endif /* __cplusplus && RSHMEM_SHMEM_H */

#endif /* RSHMEM_SHMEM_CXX_H */
