/* Argument errors that used to wrap, crash or overwrite memory silently must end the job
 * with the runtime's message naming the routine and the values (run by c_programs.rs,
 * which expects a failing exit and the message on stderr). argv[1] picks the misuse;
 * every PE commits it. Run on 2 PEs. */
#include "check.h"
#include <string.h>

static int small_global[4];

int main(int argc, char **argv) {
    shmem_init();
    int npes = shmem_n_pes();
    const char *what = argc > 1 ? argv[1] : "";
    /* A destination one member short of the result, then a neighbour that must survive. */
    int *src = shmem_malloc(16 * sizeof(int));
    int *dest = shmem_malloc(16 * (npes - 1) * sizeof(int) + 4);
    int *next = shmem_malloc(64 * sizeof(int));
    int local[64] = {0};
    for (int i = 0; i < 16; i++)
        src[i] = i;
    for (int i = 0; i < 64; i++)
        next[i] = -1;
    shmem_barrier_all();
    if (!strcmp(what, "iput-stride"))
        shmem_int_iput(src, local, (ptrdiff_t)1 << 62, 1, 3, 0);
    else if (!strcmp(what, "iget-stride"))
        shmem_long_iget((long *)local, (long *)src, 1, (ptrdiff_t)1 << 61, 2, 0);
    else if (!strcmp(what, "iput-count"))
        shmem_iput64(src, local, 2, 1, (size_t)1 << 62, 0);
    else if (!strcmp(what, "alltoalls-stride"))
        shmem_int_alltoalls(SHMEM_TEAM_WORLD, dest, src, (ptrdiff_t)1 << 62, 1, 2);
    else if (!strcmp(what, "fcollect-dest"))
        shmem_int_fcollect(SHMEM_TEAM_WORLD, dest, src, 16);
    else if (!strcmp(what, "collect-dest"))
        shmem_int_collect(SHMEM_TEAM_WORLD, dest, src, 16);
    else if (!strcmp(what, "collect64-dest"))
        shmem_collect64(dest, src, 8, 0, 0, npes, (long *)next);
    else if (!strcmp(what, "alltoall-dest"))
        shmem_int_alltoall(SHMEM_TEAM_WORLD, dest, src, 16);
    else if (!strcmp(what, "broadcast-dest"))
        shmem_int_broadcast(SHMEM_TEAM_WORLD, next + 60, src, 16, 0);
    else if (!strcmp(what, "reduce-dest"))
        shmem_int_sum_reduce(SHMEM_TEAM_WORLD, next + 60, src, 16);
    else if (!strcmp(what, "to-all-dest"))
        shmem_int_sum_to_all(next + 60, src, 16, 0, 0, npes, local, (long *)src);
    else if (!strcmp(what, "inscan-dest"))
        shmem_int_sum_inscan(SHMEM_TEAM_WORLD, next + 60, src, 16);
    else if (!strcmp(what, "alltoalls-dest"))
        shmem_int_alltoalls(SHMEM_TEAM_WORLD, next, src, 40, 1, 2);
    else if (!strcmp(what, "global-dest"))
        /* globals are checked against their segment: far past it here */
        shmem_int_fcollect(SHMEM_TEAM_WORLD, small_global, src, (size_t)1 << 30);
    else if (!strcmp(what, "freed-dest")) {
        shmem_free(next);
        shmem_int_fcollect(SHMEM_TEAM_WORLD, next, src, 1);
    } else
        CHECK(0, "unknown case '%s'", what);
    for (int i = 0; i < 64; i++)
        CHECK(next[i] == -1, "next[%d] = %d: the neighbouring allocation was overwritten", i,
              next[i]);
    printf("%s: not caught\n", what);
    shmem_finalize();
    return 0;
}
