/* SHMEM_DEBUG=1: collectives whose arguments differ between the PEs of the team must end
 * the job with a message naming the routine, the PEs and the values (run by
 * c_programs.rs on 2 PEs; argv[1] picks the mismatch). With "agree" every collective
 * gets the same arguments everywhere and the program must pass, with SHMEM_DEBUG or not. */
#include "check.h"
#include <string.h>

int main(int argc, char **argv) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    const char *what = argc > 1 ? argv[1] : "agree";
    long *src = shmem_calloc(64, sizeof(long));
    long *dest = shmem_calloc(64 * npes, sizeof(long));
    long *psync = shmem_calloc(SHMEM_REDUCE_SYNC_SIZE, sizeof(long));
    long *pwrk = shmem_calloc(SHMEM_REDUCE_MIN_WRKDATA_SIZE + 64, sizeof(long));
    for (int i = 0; i < 64; i++)
        src[i] = me + i;
    shmem_barrier_all();
    if (!strcmp(what, "broadcast-root"))
        shmem_long_broadcast(SHMEM_TEAM_WORLD, dest, src, 2, me % 2);
    else if (!strcmp(what, "fcollect-nelems"))
        shmem_long_fcollect(SHMEM_TEAM_WORLD, dest, src, 1 + me);
    else if (!strcmp(what, "reduce-op")) {
        if (me == 0)
            shmem_long_sum_reduce(SHMEM_TEAM_WORLD, dest, src, 4);
        else
            shmem_long_max_reduce(SHMEM_TEAM_WORLD, dest, src, 4);
    } else if (!strcmp(what, "alltoalls-stride"))
        shmem_long_alltoalls(SHMEM_TEAM_WORLD, dest, src, 1 + me, 1, 2);
    else if (!strcmp(what, "to-all-nreduce"))
        shmem_long_sum_to_all(dest, src, 3 + me, 0, 0, npes, pwrk, psync);
    else if (!strcmp(what, "agree")) {
        shmem_long_broadcast(SHMEM_TEAM_WORLD, dest, src, 2, 0);
        CHECK(dest[1] == 1, "broadcast %ld", dest[1]);
        shmem_long_collect(SHMEM_TEAM_WORLD, dest, src, 1 + me); /* nelems may differ */
        CHECK(dest[0] == 0, "collect %ld", dest[0]);
        shmem_long_fcollect(SHMEM_TEAM_WORLD, dest, src, 2);
        shmem_long_alltoall(SHMEM_TEAM_WORLD, dest, src, 1);
        shmem_long_alltoalls(SHMEM_TEAM_WORLD, dest, src, 2, 1, 2);
        shmem_long_sum_reduce(SHMEM_TEAM_WORLD, dest, src, 4);
        CHECK(dest[0] == (long)npes * (npes - 1) / 2, "sum %ld", dest[0]);
        shmem_long_sum_inscan(SHMEM_TEAM_WORLD, dest, src, 4);
        shmem_long_sum_to_all(dest, src, 3, 0, 0, npes, pwrk, psync);
        shmem_team_t evens;
        shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 2, (npes + 1) / 2, NULL, 0, &evens);
        if (evens != SHMEM_TEAM_INVALID) {
            shmem_long_broadcast(evens, dest, src, 4, 0);
            CHECK(dest[3] == 3, "team broadcast %ld", dest[3]);
            shmem_team_destroy(evens);
        }
        shmem_barrier_all();
        if (me == 0)
            printf("debug_args: ok on %d PEs\n", npes);
        shmem_finalize();
        return 0;
    } else
        CHECK(0, "unknown case '%s'", what);
    shmem_barrier_all();
    printf("%s: not caught\n", what);
    shmem_finalize();
    return 0;
}
