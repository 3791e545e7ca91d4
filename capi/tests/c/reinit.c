/* OpenSHMEM 1.6: the library may be initialized again after the last shmem_finalize.
 * Three rounds of init / work / finalize; each round allocates from a fresh heap, puts to
 * the right neighbour through the heap and through a global, runs a collective, and checks
 * everything; query_initialized follows the state. */
#include "check.h"

long global_in;        /* .bss: symmetric in every round */
long round_seen = -1;  /* .data: survives the rounds (the remap copies it) */

int main(void) {
    int inited = -1;
    int n = 0, me = 0;
    for (long round = 0; round < 3; round++) {
        shmem_query_initialized(&inited);
        if (inited != 0) {
            fprintf(stderr, "FAIL: initialized before round %ld\n", round);
            return 1;
        }
        shmem_init();
        me = shmem_my_pe();
        n = shmem_n_pes();
        CHECK(round_seen == round - 1, "global lost between rounds: %ld", round_seen);
        int right = (me + 1) % n, left = (me + n - 1) % n;
        long *box = shmem_malloc(4 * sizeof(long));
        CHECK(box != NULL, "malloc in round %ld", round);
        box[0] = -1;
        global_in = -1;
        shmem_barrier_all();
        shmem_long_p(&box[0], 1000 * round + me, right);
        shmem_long_p(&global_in, 2000 * round + me, right);
        shmem_barrier_all();
        CHECK(box[0] == 1000 * round + left, "round %ld: heap put got %ld", round, box[0]);
        CHECK(global_in == 2000 * round + left, "round %ld: global put got %ld", round,
              global_in);
        long *src = shmem_malloc(sizeof(long)), *dst = shmem_malloc(sizeof(long));
        *src = me + round;
        shmem_barrier_all();
        shmem_long_sum_reduce(SHMEM_TEAM_WORLD, dst, src, 1);
        CHECK(*dst == (long)n * (n - 1) / 2 + round * n, "round %ld: sum %ld", round, *dst);
        round_seen = round;
        shmem_free(dst);
        shmem_free(src);
        shmem_free(box);
        shmem_finalize();
        shmem_query_initialized(&inited);
        if (inited != 0) {
            fprintf(stderr, "FAIL: still initialized after round %ld\n", round);
            return 1;
        }
    }
    if (me == 0) printf("reinit: ok on %d PEs (3 rounds)\n", n);
    return 0;
}
