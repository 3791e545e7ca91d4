/* Atomics: contention totals (inc/fetch_inc/add/fetch_add, and the _nbi fetching forms)
 * for several standard AMO types, compare_swap with exactly one winner, fetch/set/swap
 * including float and double, bitwise and/or/xor, and the C11 generic names. */
#include "check.h"

#define ITERS 200

static int me, npes;

#define CONTENTION(T, NAME)                                                                \
    static void contention_##NAME(void) {                                                  \
        T *c = shmem_calloc(4, sizeof(T));                                                 \
        CHECK(c != NULL, "calloc");                                                        \
        T fetched, seen_max = 0;                                                           \
        for (int i = 0; i < ITERS; i++) {                                                  \
            shmem_##NAME##_atomic_inc(&c[0], 0);                                           \
            T old = shmem_##NAME##_atomic_fetch_inc(&c[1], 0);                             \
            if (old > seen_max)                                                            \
                seen_max = old;                                                            \
            shmem_##NAME##_atomic_add(&c[2], (T)3, 0);                                     \
            (void)shmem_##NAME##_atomic_fetch_add(&c[3], (T)2, 0);                         \
            shmem_##NAME##_atomic_fetch_inc_nbi(&fetched, &c[1], 0);                       \
            shmem_##NAME##_atomic_fetch_add_nbi(&fetched, &c[3], (T)1, 0);                 \
        }                                                                                  \
        shmem_quiet();                                                                     \
        CHECK(seen_max < (T)(2 * ITERS * npes), #NAME " fetch_inc returned %lld",          \
              (long long)seen_max);                                                        \
        shmem_barrier_all();                                                               \
        T total = (T)(ITERS * npes);                                                       \
        CHECK(shmem_##NAME##_atomic_fetch(&c[0], 0) == total, #NAME " inc total");         \
        CHECK(shmem_##NAME##_atomic_fetch(&c[1], 0) == 2 * total, #NAME " fetch_inc tot"); \
        CHECK(shmem_##NAME##_atomic_fetch(&c[2], 0) == 3 * total, #NAME " add total");     \
        CHECK(shmem_##NAME##_atomic_fetch(&c[3], 0) == 3 * total, #NAME " fetch_add tot"); \
        shmem_barrier_all();                                                               \
        /* compare_swap: exactly one PE moves c[0] from total to its own id + 1 */         \
        T old = shmem_##NAME##_atomic_compare_swap(&c[0], total, (T)(me + 1), 0);          \
        int won = old == total;                                                            \
        int *wins = shmem_calloc(1, sizeof(int));                                          \
        if (won)                                                                           \
            shmem_int_atomic_inc(wins, 0);                                                 \
        shmem_barrier_all();                                                               \
        if (me == 0) {                                                                     \
            CHECK(*wins == 1, #NAME " compare_swap winners %d", *wins);                    \
            T v = c[0];                                                                    \
            CHECK(v >= 1 && v <= (T)npes, #NAME " compare_swap value");                    \
        }                                                                                  \
        T f;                                                                               \
        shmem_##NAME##_atomic_compare_swap_nbi(&f, &c[0], (T)12345, (T)0, 0);              \
        shmem_quiet();                                                                     \
        CHECK(f >= 1 && f <= (T)npes, #NAME " compare_swap_nbi fetched");                  \
        /* set / swap / fetch_nbi / swap_nbi on my own right neighbour's c[2] */           \
        shmem_barrier_all();                                                               \
        int right = (me + 1) % npes;                                                       \
        shmem_##NAME##_atomic_set(&c[2], (T)(me + 10), right);                             \
        shmem_barrier_all();                                                               \
        CHECK(c[2] == (T)((me + npes - 1) % npes + 10), #NAME " set");                     \
        shmem_barrier_all();                                                               \
        T prev = shmem_##NAME##_atomic_swap(&c[2], (T)(me + 20), right);                   \
        CHECK(prev == (T)(me + 10), #NAME " swap old");                                    \
        shmem_##NAME##_atomic_fetch_nbi(&f, &c[2], right);                                 \
        shmem_quiet();                                                                     \
        CHECK(f == (T)(me + 20), #NAME " fetch_nbi");                                      \
        shmem_##NAME##_atomic_swap_nbi(&f, &c[2], (T)7, right);                            \
        shmem_quiet();                                                                     \
        CHECK(f == (T)(me + 20), #NAME " swap_nbi");                                       \
        shmem_barrier_all();                                                               \
        shmem_free(wins);                                                                  \
        shmem_free(c);                                                                     \
    }

CONTENTION(int, int)
CONTENTION(long, long)
CONTENTION(long long, longlong)
CONTENTION(unsigned int, uint)
CONTENTION(unsigned long, ulong)
CONTENTION(unsigned long long, ulonglong)
CONTENTION(int32_t, int32)
CONTENTION(int64_t, int64)
CONTENTION(uint32_t, uint32)
CONTENTION(uint64_t, uint64)
CONTENTION(size_t, size)
CONTENTION(ptrdiff_t, ptrdiff)

#define BITWISE(T, NAME)                                                                   \
    static void bitwise_##NAME(void) {                                                     \
        T *w = shmem_malloc(3 * sizeof(T));                                                \
        w[0] = 0;                                                                          \
        w[1] = (T)~(T)0;                                                                   \
        w[2] = 0;                                                                          \
        shmem_barrier_all();                                                               \
        T bit = (T)((T)1 << me);                                                           \
        T f;                                                                               \
        if (me % 2 == 0) {                                                                 \
            shmem_##NAME##_atomic_or(&w[0], bit, 0);                                       \
            shmem_##NAME##_atomic_and(&w[1], (T)~bit, 0);                                  \
            shmem_##NAME##_atomic_xor(&w[2], bit, 0);                                      \
        } else {                                                                           \
            (void)shmem_##NAME##_atomic_fetch_or(&w[0], bit, 0);                           \
            shmem_##NAME##_atomic_fetch_and_nbi(&f, &w[1], (T)~bit, 0);                    \
            shmem_##NAME##_atomic_fetch_xor_nbi(&f, &w[2], bit, 0);                        \
            shmem_quiet();                                                                 \
        }                                                                                  \
        shmem_barrier_all();                                                               \
        T all = (T)(((T)1 << npes) - 1);                                                   \
        CHECK(shmem_##NAME##_atomic_fetch(&w[0], 0) == all, #NAME " or");                  \
        CHECK(shmem_##NAME##_atomic_fetch(&w[1], 0) == (T)~all, #NAME " and");             \
        CHECK(shmem_##NAME##_atomic_fetch(&w[2], 0) == all, #NAME " xor");                 \
        shmem_barrier_all();                                                               \
        /* xor twice (once as fetch_xor) restores 0; fetch_and returns the old word */     \
        (void)shmem_##NAME##_atomic_fetch_xor(&w[2], bit, 0);                              \
        shmem_##NAME##_atomic_fetch_or_nbi(&f, &w[0], bit, 0);                             \
        shmem_quiet();                                                                     \
        CHECK((f & bit) == bit, #NAME " fetch_or_nbi");                                    \
        shmem_barrier_all();                                                               \
        CHECK(shmem_##NAME##_atomic_fetch(&w[2], 0) == 0, #NAME " xor back");              \
        if (me == 0)                                                                       \
            CHECK(shmem_##NAME##_atomic_fetch_and(&w[0], (T)0, 0) == all, #NAME " f_and"); \
        shmem_barrier_all();                                                               \
        shmem_free(w);                                                                     \
    }

BITWISE(unsigned int, uint)
BITWISE(unsigned long, ulong)
BITWISE(unsigned long long, ulonglong)
BITWISE(int32_t, int32)
BITWISE(int64_t, int64)
BITWISE(uint32_t, uint32)
BITWISE(uint64_t, uint64)

static void floats(void) {
    float *f = shmem_malloc(sizeof(float));
    double *d = shmem_malloc(sizeof(double));
    int right = (me + 1) % npes;
    shmem_barrier_all();
    shmem_float_atomic_set(f, 1.5f + (float)me, right);
    shmem_double_atomic_set(d, -2.25 * (me + 1), right);
    shmem_barrier_all();
    int left = (me + npes - 1) % npes;
    CHECK(*f == 1.5f + (float)left, "float set: %f", (double)*f);
    CHECK(*d == -2.25 * (left + 1), "double set: %f", *d);
    shmem_barrier_all();
    CHECK(shmem_float_atomic_fetch(f, right) == 1.5f + (float)me, "float fetch");
    CHECK(shmem_double_atomic_swap(d, 0.125, right) == -2.25 * (me + 1), "double swap");
    float ff;
    shmem_float_atomic_swap_nbi(&ff, f, 3.0f, right);
    shmem_quiet();
    CHECK(ff == 1.5f + (float)me, "float swap_nbi");
    double df;
    shmem_double_atomic_fetch_nbi(&df, d, right);
    shmem_quiet();
    CHECK(df == 0.125, "double fetch_nbi");
    /* C11 generic names */
    CHECK(shmem_atomic_fetch(f, right) == 3.0f, "generic float fetch");
    shmem_atomic_set(d, 4.0, right);
    shmem_barrier_all();
    CHECK(*d == 4.0, "generic double set");
    shmem_barrier_all();
    shmem_free(d);
    shmem_free(f);
}

static void generic(void) {
    long *x = shmem_calloc(2, sizeof(long));
    unsigned int *u = shmem_calloc(1, sizeof(unsigned int));
    shmem_barrier_all();
    shmem_atomic_inc(&x[0], 0);
    (void)shmem_atomic_fetch_inc(&x[0], 0);
    shmem_atomic_add(&x[1], 5L, 0);
    (void)shmem_atomic_fetch_add(&x[1], 5L, 0);
    shmem_atomic_or(u, 1u << me, 0);
    shmem_barrier_all();
    CHECK(shmem_atomic_fetch(&x[0], 0) == 2L * npes, "generic inc");
    CHECK(shmem_atomic_fetch(&x[1], 0) == 10L * npes, "generic add");
    CHECK(shmem_atomic_fetch(u, 0) == (1u << npes) - 1, "generic or");
    shmem_barrier_all();
    if (me == 0) {
        CHECK(shmem_atomic_compare_swap(&x[0], 2L * npes, -1L, 0) == 2L * npes, "generic cswap");
        CHECK(shmem_atomic_swap(&x[0], 9L, 0) == -1L, "generic swap");
    }
    shmem_barrier_all();
    shmem_free(u);
    shmem_free(x);
}

int main(void) {
    shmem_init();
    me = shmem_my_pe();
    npes = shmem_n_pes();
    contention_int();
    contention_long();
    contention_longlong();
    contention_uint();
    contention_ulong();
    contention_ulonglong();
    contention_int32();
    contention_int64();
    contention_uint32();
    contention_uint64();
    contention_size();
    contention_ptrdiff();
    bitwise_uint();
    bitwise_ulong();
    bitwise_ulonglong();
    bitwise_int32();
    bitwise_int64();
    bitwise_uint32();
    bitwise_uint64();
    floats();
    generic();
    if (me == 0)
        printf("amo: ok on %d PEs (totals %d per counter)\n", npes, ITERS * npes);
    shmem_finalize();
    return 0;
}
