/* Fairness of shmem_test_any / shmem_wait_until_any (and the _vector forms), from the
 * specification's words: "If an entry i in ivars within the test set satisfies the test
 * condition, a series of calls to shmem_test_any must eventually return i." Several
 * entries satisfy the condition and stay satisfied; a series of calls must return each of
 * them (and never an entry that does not satisfy it, nor an excluded one), also when the
 * calls on one array are interleaved with calls on another. */
#include "check.h"
#include <stdint.h>

#define K 6
#define CALLS (4 * K)

static int me, npes;

/* Runs CALL (an expression giving the index) CALLS times and checks that the indices seen
 * are exactly those with expect[i] set. */
#define SERIES(what, CALL, expect)                                                         \
    do {                                                                                   \
        int seen[K] = {0};                                                                 \
        for (int c = 0; c < CALLS; c++) {                                                  \
            size_t r = (CALL);                                                             \
            CHECK(r < K && (expect)[r], "%s returned %zu", what, r);                       \
            seen[r] = 1;                                                                   \
        }                                                                                  \
        for (int i = 0; i < K; i++)                                                        \
            CHECK(seen[i] == (expect)[i], "%s: index %d seen %d, expected %d", what, i,    \
                  seen[i], (expect)[i]);                                                   \
    } while (0)

#define FAIR(T, N)                                                                         \
    static void fair_##N(void) {                                                           \
        T *iv = shmem_calloc(K, sizeof(T));                                                \
        CHECK(iv != NULL, "alloc");                                                        \
        shmem_barrier_all();                                                               \
        /* entries 1, 3 and 4 of every PE's array are set to 7 by the right neighbour */   \
        int right = (me + 1) % npes;                                                       \
        shmem_##N##_p(&iv[1], 7, right);                                                   \
        shmem_##N##_p(&iv[3], 7, right);                                                   \
        shmem_##N##_p(&iv[4], 7, right);                                                   \
        shmem_barrier_all();                                                               \
        const int all[K] = {0, 1, 0, 1, 1, 0};                                             \
        const int masked[K] = {0, 1, 0, 0, 1, 0};                                          \
        int status[K] = {0, 0, 0, 1, 0, 0};                                                \
        T cmp_values[K] = {7, 7, 7, 7, 7, 7};                                              \
        SERIES(#N "_test_any", shmem_##N##_test_any(iv, K, NULL, SHMEM_CMP_EQ, 7), all);  \
        SERIES(#N "_wait_until_any",                                                       \
               shmem_##N##_wait_until_any(iv, K, NULL, SHMEM_CMP_EQ, 7), all);             \
        SERIES(#N "_test_any_vector",                                                      \
               shmem_##N##_test_any_vector(iv, K, NULL, SHMEM_CMP_EQ, cmp_values), all);   \
        SERIES(#N "_wait_until_any_vector",                                                \
               shmem_##N##_wait_until_any_vector(iv, K, NULL, SHMEM_CMP_EQ, cmp_values),   \
               all);                                                                       \
        SERIES(#N "_test_any masked",                                                      \
               shmem_##N##_test_any(iv, K, status, SHMEM_CMP_NE, 0), masked);              \
        SERIES(#N "_wait_until_any masked",                                                \
               shmem_##N##_wait_until_any(iv, K, status, SHMEM_CMP_GT, 0), masked);        \
        SERIES("generic test_any", shmem_test_any(iv, K, NULL, SHMEM_CMP_EQ, (T)7), all);  \
        shmem_barrier_all();                                                               \
        shmem_free(iv);                                                                    \
    }

FAIR(int, int)
FAIR(unsigned long, ulong)
FAIR(int64_t, int64)

/* Calls on two arrays interleaved: A (4 elements) has entries 0 and 3 satisfied, B (3
 * elements) entry 2. Alternating test_any(B), test_any(A) must still return both of A's
 * entries (a cursor shared between the arrays would return A's 3 forever). */
static void interleaved(void) {
    int *a = shmem_calloc(4, sizeof(int)), *b = shmem_calloc(3, sizeof(int));
    CHECK(a && b, "alloc");
    a[0] = a[3] = 1;
    b[2] = 1;
    int seen_a[4] = {0}, seen_wa[4] = {0};
    for (int c = 0; c < 8; c++) {
        size_t rb = shmem_int_test_any(b, 3, NULL, SHMEM_CMP_EQ, 1);
        CHECK(rb == 2, "interleaved test_any(B) returned %zu", rb);
        size_t ra = shmem_int_test_any(a, 4, NULL, SHMEM_CMP_EQ, 1);
        CHECK(ra == 0 || ra == 3, "interleaved test_any(A) returned %zu", ra);
        seen_a[ra] = 1;
    }
    for (int c = 0; c < 8; c++) {
        size_t rb = shmem_int_wait_until_any(b, 3, NULL, SHMEM_CMP_NE, 0);
        CHECK(rb == 2, "interleaved wait_until_any(B) returned %zu", rb);
        size_t ra = shmem_int_wait_until_any(a, 4, NULL, SHMEM_CMP_NE, 0);
        CHECK(ra == 0 || ra == 3, "interleaved wait_until_any(A) returned %zu", ra);
        seen_wa[ra] = 1;
    }
    CHECK(seen_a[0] && seen_a[3], "interleaved test_any(A) never returned %d",
          seen_a[0] ? 3 : 0);
    CHECK(seen_wa[0] && seen_wa[3], "interleaved wait_until_any(A) never returned %d",
          seen_wa[0] ? 3 : 0);
    shmem_barrier_all();
    shmem_free(b);
    shmem_free(a);
}

int main(void) {
    shmem_init();
    me = shmem_my_pe();
    npes = shmem_n_pes();
    fair_int();
    fair_ulong();
    fair_int64();
    interleaved();
    if (me == 0)
        printf("test_any_fair: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
