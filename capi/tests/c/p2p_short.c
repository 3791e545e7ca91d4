/* Point-to-point synchronization on every type of the specification's table, written from
 * its words: the 14 types include short and unsigned short (shmem_TYPENAME_wait_until,
 * _test, the _all/_any/_some and _vector forms, and the C11 generic names), and the
 * deprecated forms older programs use: shmem_TYPE_wait(ivar, cmp_value) for short, int,
 * long, long long ("wait until ivar is no longer equal to cmp_value"), shmem_wait(long *,
 * long) and shmem_wait_until(long *, int, long) as functions (C99/C++; here called as
 * (shmem_wait)(...) past the C11 macros), and the C11 generic shmem_wait. */
#include "check.h"
#include <stdint.h>

static int me, npes;

/* NEG: a value whose sign matters (short: negative; unsigned short: above 0x7fff).
 * SCMP/SVAL: a comparison that holds for NEG only with the type's own signedness. */
#define P2P16(T, N, NEG, SCMP, SVAL)                                                       \
    static void p2p_##N(void) {                                                            \
        T *iv = shmem_calloc((size_t)npes, sizeof(T));                                     \
        T *flag = shmem_calloc(1, sizeof(T));                                              \
        size_t idx[64];                                                                    \
        int status[64] = {0};                                                              \
        T want[64];                                                                        \
        CHECK(iv && flag && npes <= 64, #N " alloc");                                      \
        shmem_barrier_all();                                                               \
        /* a real wait: the left neighbour sets my flag */                                 \
        shmem_##N##_p(flag, (T)(NEG), (me + 1) % npes);                                   \
        shmem_##N##_wait_until(flag, SHMEM_CMP_EQ, (T)(NEG));                              \
        CHECK(*flag == (T)(NEG), #N " wait_until");                                        \
        for (int q = 0; q < npes; q++)                                                     \
            shmem_##N##_p(&iv[me], (T)(me + 1), q);                                        \
        shmem_##N##_wait_until_all(iv, (size_t)npes, NULL, SHMEM_CMP_NE, 0);               \
        for (int j = 0; j < npes; j++) {                                                   \
            CHECK(iv[j] == (T)(j + 1), #N " wait_until_all iv[%d]", j);                    \
            want[j] = (T)(j + 1);                                                          \
        }                                                                                  \
        shmem_barrier_all();                                                               \
        /* comparisons use the type's signedness */                                       \
        CHECK(shmem_##N##_test(flag, SCMP, (T)(SVAL)) == 1, #N " signed/unsigned test");   \
        CHECK(shmem_##N##_test(flag, SHMEM_CMP_NE, (T)(NEG)) == 0, #N " test false");      \
        CHECK(shmem_##N##_test_all(iv, (size_t)npes, NULL, SHMEM_CMP_GT, 0) == 1,          \
              #N " test_all");                                                             \
        CHECK(shmem_##N##_test_all(iv, (size_t)npes, NULL, SHMEM_CMP_GT, 1) == (npes == 0), \
              #N " test_all false");                                                       \
        size_t a = shmem_##N##_test_any(iv, (size_t)npes, NULL, SHMEM_CMP_GE, (T)npes);    \
        CHECK(a == (size_t)npes - 1, #N " test_any %zu", a);                               \
        CHECK(shmem_##N##_test_any(iv, (size_t)npes, NULL, SHMEM_CMP_GT, (T)npes) ==       \
                  SIZE_MAX,                                                                \
              #N " test_any none");                                                        \
        size_t k = shmem_##N##_test_some(iv, (size_t)npes, idx, NULL, SHMEM_CMP_LE, 2);    \
        CHECK(k == (npes > 1 ? 2u : 1u), #N " test_some k=%zu", k);                        \
        for (size_t j = 0; j < k; j++)                                                     \
            CHECK(idx[j] < 2, #N " test_some index %zu", idx[j]);                          \
        a = shmem_##N##_wait_until_any(iv, (size_t)npes, NULL, SHMEM_CMP_EQ, 1);           \
        CHECK(a == 0, #N " wait_until_any %zu", a);                                        \
        k = shmem_##N##_wait_until_some(iv, (size_t)npes, idx, NULL, SHMEM_CMP_NE, 0);     \
        CHECK(k == (size_t)npes, #N " wait_until_some k=%zu", k);                          \
        shmem_##N##_wait_until_all_vector(iv, (size_t)npes, NULL, SHMEM_CMP_EQ, want);     \
        a = shmem_##N##_wait_until_any_vector(iv, (size_t)npes, NULL, SHMEM_CMP_EQ, want); \
        CHECK(a < (size_t)npes, #N " wait_until_any_vector");                              \
        k = shmem_##N##_wait_until_some_vector(iv, (size_t)npes, idx, NULL, SHMEM_CMP_GE,  \
                                               want);                                      \
        CHECK(k == (size_t)npes, #N " wait_until_some_vector k=%zu", k);                   \
        CHECK(shmem_##N##_test_all_vector(iv, (size_t)npes, NULL, SHMEM_CMP_EQ, want) == 1, \
              #N " test_all_vector");                                                      \
        CHECK(shmem_##N##_test_any_vector(iv, (size_t)npes, NULL, SHMEM_CMP_NE, want) ==   \
                  SIZE_MAX,                                                                \
              #N " test_any_vector none");                                                 \
        CHECK(shmem_##N##_test_some_vector(iv, (size_t)npes, idx, NULL, SHMEM_CMP_LT,      \
                                           want) == 0,                                     \
              #N " test_some_vector none");                                                \
        /* status masks: element 0 excluded; everything excluded */                       \
        status[0] = 1;                                                                     \
        CHECK(shmem_##N##_test_any(iv, (size_t)npes, status, SHMEM_CMP_EQ, 1) == SIZE_MAX, \
              #N " masked test_any");                                                      \
        CHECK(shmem_##N##_test_some(iv, (size_t)npes, idx, status, SHMEM_CMP_GE, 1) ==     \
                  (size_t)npes - 1,                                                        \
              #N " masked test_some");                                                     \
        for (int j = 0; j < npes; j++)                                                     \
            status[j] = 1;                                                                 \
        CHECK(shmem_##N##_wait_until_any(iv, (size_t)npes, status, SHMEM_CMP_EQ, 0) ==     \
                  SIZE_MAX,                                                                \
              #N " all excluded any");                                                     \
        CHECK(shmem_##N##_wait_until_some(iv, (size_t)npes, idx, status, SHMEM_CMP_EQ, 0) == \
                  0,                                                                       \
              #N " all excluded some");                                                    \
        /* C11 generic names pick the typed routines */                                   \
        shmem_wait_until(flag, SHMEM_CMP_EQ, (T)(NEG));                                    \
        CHECK(shmem_test(flag, SCMP, (T)(SVAL)) == 1, #N " generic test");                 \
        CHECK(shmem_test_all(iv, (size_t)npes, NULL, SHMEM_CMP_NE, 0) == 1,                \
              #N " generic test_all");                                                     \
        CHECK(shmem_test_any(iv, (size_t)npes, NULL, SHMEM_CMP_EQ, (T)npes) ==             \
                  (size_t)npes - 1,                                                        \
              #N " generic test_any");                                                     \
        CHECK(shmem_wait_until_some(iv, (size_t)npes, idx, NULL, SHMEM_CMP_GT, 0) ==       \
                  (size_t)npes,                                                            \
              #N " generic wait_until_some");                                              \
        shmem_wait_until_all_vector(iv, (size_t)npes, NULL, SHMEM_CMP_EQ, want);           \
        CHECK(shmem_test_some_vector(iv, (size_t)npes, idx, NULL, SHMEM_CMP_EQ, want) ==   \
                  (size_t)npes,                                                            \
              #N " generic test_some_vector");                                             \
        /* deprecated generic shmem_wait: returns once *flag != 0 */                       \
        shmem_wait(flag, (T)0);                                                            \
        shmem_barrier_all();                                                               \
        shmem_free(flag);                                                                  \
        shmem_free(iv);                                                                    \
    }

P2P16(short, short, -7, SHMEM_CMP_LT, 0)
P2P16(unsigned short, ushort, 0xfff0, SHMEM_CMP_GT, 0x7fff)

/* Deprecated typed waits: the left neighbour changes my word, I wait for the change. */
#define DEPR_WAIT(T, N)                                                                    \
    static void depr_##N(void) {                                                           \
        T *w = shmem_calloc(1, sizeof(T));                                                 \
        CHECK(w != NULL, #N " alloc");                                                     \
        shmem_barrier_all();                                                               \
        shmem_##N##_p(w, (T)(me + 3), (me + 1) % npes);                                   \
        shmem_##N##_wait(w, (T)0);                                                         \
        CHECK(*w == (T)((me + npes - 1) % npes + 3), #N "_wait value");                    \
        shmem_barrier_all();                                                               \
        shmem_free(w);                                                                     \
    }
DEPR_WAIT(short, short)
DEPR_WAIT(int, int)
DEPR_WAIT(long, long)
DEPR_WAIT(long long, longlong)

int main(void) {
    shmem_init();
    me = shmem_my_pe();
    npes = shmem_n_pes();
    p2p_short();
    p2p_ushort();
    depr_short();
    depr_int();
    depr_long();
    depr_longlong();

    /* shmem_wait(long *, long) and shmem_wait_until(long *, int, long): the functions */
    long *lw = shmem_calloc(2, sizeof(long));
    CHECK(lw != NULL, "alloc");
    shmem_barrier_all();
    shmem_long_p(&lw[0], 5, (me + 1) % npes);
    (shmem_wait)(&lw[0], 0);
    CHECK(lw[0] == 5, "shmem_wait");
    shmem_long_p(&lw[1], -9, (me + 1) % npes);
    (shmem_wait_until)(&lw[1], SHMEM_CMP_LT, 0);
    CHECK(lw[1] == -9, "shmem_wait_until");
    shmem_barrier_all();
    shmem_free(lw);

    if (me == 0)
        printf("p2p_short: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
