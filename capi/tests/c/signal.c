/* put-with-signal: typed, sized and putmem forms, SET and ADD, blocking and nbi;
 * signal_wait_until returns the satisfying value; signal_fetch; data visible with signal. */
#include "check.h"

#define N 64
#define ROUNDS 20

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    int right = (me + 1) % npes, left = (me + npes - 1) % npes;
    long *data = shmem_calloc(N, sizeof(long));
    uint64_t *sig = shmem_calloc(4, sizeof(uint64_t));
    long src[N];
    CHECK(shmem_signal_fetch(&sig[0]) == 0, "signal starts at 0");
    shmem_barrier_all();

    /* Rounds of put_signal with SET: round r's signal is r+1; the data carry r. */
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N; i++)
            src[i] = me * 1000 + r * 10 + (i % 10);
        if (r % 2 == 0)
            shmem_long_put_signal(data, src, N, &sig[0], (uint64_t)r + 1, SHMEM_SIGNAL_SET, right);
        else
            shmem_long_put_signal_nbi(data, src, N, &sig[0], (uint64_t)r + 1, SHMEM_SIGNAL_SET,
                                      right);
        uint64_t s = shmem_signal_wait_until(&sig[0], SHMEM_CMP_EQ, (uint64_t)r + 1);
        CHECK(s == (uint64_t)r + 1, "signal_wait_until returned %llu", (unsigned long long)s);
        for (int i = 0; i < N; i++)
            CHECK(data[i] == left * 1000 + r * 10 + (i % 10), "round %d data[%d] = %ld", r, i,
                  data[i]);
        shmem_barrier_all(); /* the writer may reuse `data` only after I read it */
    }

    /* ADD: every PE adds (me+1) to PE 0's sig[1] along with a putmem to its own slot. */
    long mine = 100 + me;
    shmem_putmem_signal(&data[me], &mine, sizeof mine, &sig[1], (uint64_t)me + 1,
                        SHMEM_SIGNAL_ADD, 0);
    shmem_put64_signal_nbi(&data[N / 2 + me], &mine, 1, &sig[2], 1, SHMEM_SIGNAL_ADD, 0);
    if (me == 0) {
        uint64_t want = (uint64_t)npes * (npes + 1) / 2;
        uint64_t s = shmem_signal_wait_until(&sig[1], SHMEM_CMP_GE, want);
        CHECK(s == want, "ADD total %llu want %llu", (unsigned long long)s,
              (unsigned long long)want);
        shmem_signal_wait_until(&sig[2], SHMEM_CMP_EQ, (uint64_t)npes);
        for (int pe = 0; pe < npes; pe++) {
            CHECK(data[pe] == 100 + pe, "putmem_signal from PE %d: %ld", pe, data[pe]);
            CHECK(data[N / 2 + pe] == 100 + pe, "put64_signal_nbi from PE %d", pe);
        }
        CHECK(shmem_signal_fetch(&sig[1]) == want, "signal_fetch");
    }
    shmem_barrier_all();

    /* Generic name and a sized one with SET on sig[3]. */
    int *iv = shmem_calloc(4, sizeof(int));
    int isrc[4] = {me, me + 1, me + 2, me + 3};
    shmem_put_signal(iv, isrc, 4, &sig[3], 42, SHMEM_SIGNAL_SET, right);
    shmem_signal_wait_until(&sig[3], SHMEM_CMP_NE, 0);
    CHECK(iv[3] == left + 3 && shmem_signal_fetch(&sig[3]) == 42, "generic put_signal");
    shmem_barrier_all();
    shmem_put32_signal(iv, isrc, 2, &sig[3], 7, SHMEM_SIGNAL_SET, right);
    shmem_signal_wait_until(&sig[3], SHMEM_CMP_LT, 42);
    CHECK(iv[1] == left + 1, "put32_signal");
    shmem_barrier_all();

    if (me == 0)
        printf("signal: ok on %d PEs (%d rounds)\n", npes, ROUNDS);
    shmem_free(iv);
    shmem_free(sig);
    shmem_free(data);
    shmem_finalize();
    return 0;
}
