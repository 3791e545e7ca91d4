/* Distributed locks: set_lock/clear_lock protect a non-atomic read-modify-write of a
 * counter on PE 0 (get, +1, put); test_lock returns 0 when acquired, non-zero when held. */
#include "check.h"

#define ITERS 100

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    long *lock = shmem_calloc(1, sizeof(long));
    long *count = shmem_calloc(1, sizeof(long));
    int *flag = shmem_calloc(1, sizeof(int));
    shmem_barrier_all();
    for (int i = 0; i < ITERS; i++) {
        shmem_set_lock(lock);
        long v = shmem_long_g(count, 0);
        shmem_long_p(count, v + 1, 0);
        shmem_quiet();
        shmem_clear_lock(lock);
    }
    shmem_barrier_all();
    CHECK(shmem_long_g(count, 0) == (long)ITERS * npes, "locked total %ld want %ld",
          shmem_long_g(count, 0), (long)ITERS * npes);
    shmem_barrier_all();

    /* test_lock: PE 0 holds the lock; everyone else must fail to take it. */
    if (me == 0) {
        CHECK(shmem_test_lock(lock) == 0, "test_lock on a free lock");
    }
    shmem_barrier_all();
    if (me != 0)
        CHECK(shmem_test_lock(lock) != 0, "test_lock succeeded on a held lock");
    shmem_barrier_all();
    if (me == 0)
        shmem_clear_lock(lock);
    shmem_barrier_all();
    /* Now everyone spins on test_lock until it gets it once. */
    int tries = 0;
    while (shmem_test_lock(lock) != 0)
        tries++;
    shmem_int_atomic_inc(flag, 0);
    shmem_clear_lock(lock);
    shmem_barrier_all();
    if (me == 0) {
        CHECK(*flag == npes, "test_lock holders %d", *flag);
        printf("lock: ok on %d PEs (total %ld)\n", npes, *count);
    }
    (void)tries;
    shmem_free(flag);
    shmem_free(count);
    shmem_free(lock);
    shmem_finalize();
    return 0;
}
