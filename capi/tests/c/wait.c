/* Point-to-point synchronization: wait_until, wait_until_all/any/some (+_vector), test and
 * its variants, with status masks, for several types; the C11 generic names. */
#include "check.h"

static int me, npes;

#define P2P(T, NAME)                                                                       \
    static void p2p_##NAME(void) {                                                         \
        /* ivars[pe] on PE 0 is set to pe+1 by PE pe, in reverse PE order over time */     \
        T *iv = shmem_calloc((size_t)npes, sizeof(T));                                     \
        T *flag = shmem_calloc(1, sizeof(T));                                              \
        shmem_barrier_all();                                                               \
        if (me == 0) {                                                                     \
            size_t idx[64];                                                                \
            int status[64] = {0};                                                          \
            CHECK(shmem_##NAME##_test_any(iv, npes, NULL, SHMEM_CMP_NE, 0) == SIZE_MAX,    \
                  #NAME " test_any before");                                               \
            CHECK(shmem_##NAME##_test_all(iv, npes, NULL, SHMEM_CMP_EQ, 0) == 1,           \
                  #NAME " test_all before");                                               \
            CHECK(shmem_##NAME##_test_some(iv, npes, idx, NULL, SHMEM_CMP_NE, 0) == 0,     \
                  #NAME " test_some before");                                              \
            CHECK(shmem_##NAME##_test(&iv[0], SHMEM_CMP_EQ, 0) == 1, #NAME " test");       \
            shmem_##NAME##_atomic_set(&iv[0], (T)1, 0);                                    \
            if (npes > 1)                                                                  \
                shmem_##NAME##_p(flag, (T)1, npes - 1); /* start the chain at the last */  \
            size_t first = shmem_##NAME##_wait_until_any(iv, npes, NULL, SHMEM_CMP_GT, 0); \
            CHECK(first < (size_t)npes && iv[first] == (T)(first + 1), #NAME " any");      \
            size_t k = shmem_##NAME##_wait_until_some(iv, npes, idx, NULL, SHMEM_CMP_NE, 0);\
            CHECK(k >= 1 && k <= (size_t)npes, #NAME " some k=%zu", k);                    \
            for (size_t j = 0; j < k; j++)                                                 \
                CHECK(iv[idx[j]] == (T)(idx[j] + 1), #NAME " some index");                 \
            shmem_##NAME##_wait_until_all(iv, npes, NULL, SHMEM_CMP_NE, 0);                \
            T want[64];                                                                    \
            for (int pe = 0; pe < npes; pe++)                                              \
                want[pe] = (T)(pe + 1);                                                    \
            shmem_##NAME##_wait_until_all_vector(iv, npes, NULL, SHMEM_CMP_EQ, want);      \
            CHECK(shmem_##NAME##_test_all_vector(iv, npes, NULL, SHMEM_CMP_EQ, want) == 1, \
                  #NAME " test_all_vector");                                               \
            CHECK(shmem_##NAME##_wait_until_any_vector(iv, npes, NULL, SHMEM_CMP_GE,       \
                                                      want) < (size_t)npes,                \
                  #NAME " any_vector");                                                    \
            k = shmem_##NAME##_wait_until_some_vector(iv, npes, idx, NULL, SHMEM_CMP_LE,   \
                                                     want);                                \
            CHECK(k == (size_t)npes, #NAME " some_vector k=%zu", k);                       \
            /* masks: exclude element 0; comparisons against a too-large value */          \
            status[0] = 1;                                                                 \
            CHECK(shmem_##NAME##_test_any(iv, npes, status, SHMEM_CMP_EQ, 1) == SIZE_MAX,  \
                  #NAME " masked test_any");                                               \
            CHECK(shmem_##NAME##_test_some(iv, npes, idx, status, SHMEM_CMP_GE, 1) ==      \
                      (size_t)npes - 1,                                                    \
                  #NAME " masked test_some");                                              \
            CHECK(shmem_##NAME##_test_any_vector(iv, npes, status, SHMEM_CMP_LT, want) ==  \
                      SIZE_MAX,                                                            \
                  #NAME " test_any_vector");                                               \
            CHECK(shmem_##NAME##_test_some_vector(iv, npes, idx, NULL, SHMEM_CMP_EQ,       \
                                                  want) == (size_t)npes,                   \
                  #NAME " test_some_vector");                                              \
            for (int pe = 0; pe < npes; pe++)                                              \
                status[pe] = 1;                                                            \
            CHECK(shmem_##NAME##_wait_until_any(iv, npes, status, SHMEM_CMP_EQ, 0) ==      \
                      SIZE_MAX,                                                            \
                  #NAME " all masked");                                                    \
            CHECK(shmem_##NAME##_wait_until_some(iv, npes, idx, status, SHMEM_CMP_EQ, 0)   \
                      == 0,                                                                \
                  #NAME " all masked some");                                               \
            shmem_##NAME##_wait_until_all(iv, npes, status, SHMEM_CMP_EQ, 0);              \
            /* test_all on an empty test set: 0 when status excludes all nelems > 0 (even  \
               though every excluded entry satisfies GT 0), 1 when nelems is 0 */          \
            CHECK(shmem_##NAME##_test_all(iv, npes, status, SHMEM_CMP_GT, 0) == 0,         \
                  #NAME " test_all all masked");                                           \
            CHECK(shmem_##NAME##_test_all_vector(iv, npes, status, SHMEM_CMP_GE, want) == 0, \
                  #NAME " test_all_vector all masked");                                    \
            CHECK(shmem_##NAME##_test_all(iv, 0, status, SHMEM_CMP_EQ, 0) == 1,            \
                  #NAME " test_all nelems 0");                                             \
        }                                                                                  \
        /* the chain: PE pe>0 waits for its flag, sets iv[pe] on PE 0, passes to pe-1 */     \
        if (me > 0) {                                                                      \
            shmem_##NAME##_wait_until(flag, SHMEM_CMP_EQ, (T)1);                           \
            shmem_##NAME##_atomic_set(&iv[me], (T)(me + 1), 0);                            \
            if (me > 1)                                                                    \
                shmem_##NAME##_atomic_set(flag, (T)1, me - 1);                             \
        }                                                                                  \
        shmem_barrier_all();                                                               \
        shmem_free(flag);                                                                  \
        shmem_free(iv);                                                                    \
    }

P2P(int, int)
P2P(long, long)
P2P(long long, longlong)
P2P(unsigned int, uint)
P2P(unsigned long, ulong)
P2P(unsigned long long, ulonglong)
P2P(int32_t, int32)
P2P(int64_t, int64)
P2P(uint32_t, uint32)
P2P(uint64_t, uint64)
P2P(size_t, size)
P2P(ptrdiff_t, ptrdiff)

static void signed_and_generic(void) {
    long *v = shmem_calloc(2, sizeof(long));
    shmem_barrier_all();
    if (me == 0) {
        /* -5 < 0 as signed; as unsigned it would be huge */
        shmem_long_atomic_set(&v[0], -5L, 0);
        CHECK(shmem_test(&v[0], SHMEM_CMP_LT, 0L) == 1, "signed test");
        shmem_wait_until(&v[0], SHMEM_CMP_LE, -5L);
        unsigned long *u = (unsigned long *)&v[1];
        shmem_ulong_atomic_set(u, (unsigned long)-5L, 0);
        CHECK(shmem_test(u, SHMEM_CMP_GT, 0UL) == 1, "unsigned test");
        size_t idx[2];
        CHECK(shmem_test_some(v, 1, idx, NULL, SHMEM_CMP_EQ, -5L) == 1 && idx[0] == 0,
              "generic test_some");
        shmem_wait_until_all(v, 1, NULL, SHMEM_CMP_EQ, -5L);
        CHECK(shmem_wait_until_any(v, 1, NULL, SHMEM_CMP_EQ, -5L) == 0, "generic any");
    }
    shmem_barrier_all();
    shmem_free(v);
}

int main(void) {
    shmem_init();
    me = shmem_my_pe();
    npes = shmem_n_pes();
    CHECK(npes <= 64, "test written for <= 64 PEs");
    p2p_int();
    p2p_long();
    p2p_longlong();
    p2p_uint();
    p2p_ulong();
    p2p_ulonglong();
    p2p_int32();
    p2p_int64();
    p2p_uint32();
    p2p_uint64();
    p2p_size();
    p2p_ptrdiff();
    signed_and_generic();
    if (me == 0)
        printf("wait: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
