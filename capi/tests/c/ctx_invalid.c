/* SHMEM_CTX_INVALID, from the specification's words: a handle may hold
 * SHMEM_CTX_INVALID so that programs can compare against it; shmem_ctx_quiet,
 * shmem_ctx_fence and shmem_ctx_destroy "perform no operation" on it (1.5), and
 * shmem_ctx_get_team sets team to SHMEM_TEAM_INVALID and returns nonzero; the session
 * routines perform no action either. rshmem extends the no-op to shmem_ctx_pe_quiet (the
 * specification leaves it undefined on SHMEM_CTX_INVALID). The common
 * pattern: a context creation that fails leaves SHMEM_CTX_INVALID, and the program keeps
 * calling the ordering routines on the handle unconditionally. */
#include "check.h"

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    int *x = shmem_calloc(1, sizeof(int));
    CHECK(x != NULL, "alloc");
    shmem_barrier_all();

    shmem_ctx_t ctx = SHMEM_CTX_INVALID;
    CHECK(shmem_team_create_ctx(SHMEM_TEAM_INVALID, 0, &ctx) != 0, "create on invalid team");
    CHECK(ctx == SHMEM_CTX_INVALID, "failed creation gives SHMEM_CTX_INVALID");

    shmem_int_p(x, me + 1, (me + 1) % npes);
    shmem_ctx_fence(ctx);
    shmem_ctx_quiet(ctx);
    shmem_ctx_fence(SHMEM_CTX_INVALID);
    shmem_ctx_quiet(SHMEM_CTX_INVALID);
    int peer = (me + 1) % npes;
    shmem_ctx_pe_quiet(SHMEM_CTX_INVALID, &peer, 1);
    shmem_ctx_pe_quiet(ctx, &peer, 1);
    shmem_ctx_pe_quiet(SHMEM_CTX_INVALID, NULL, 0);
    shmem_ctx_session_start(SHMEM_CTX_INVALID, 0, NULL, 0);
    shmem_ctx_session_stop(SHMEM_CTX_INVALID);
    shmem_team_t team = SHMEM_TEAM_WORLD;
    CHECK(shmem_ctx_get_team(SHMEM_CTX_INVALID, &team) != 0, "get_team returns nonzero");
    CHECK(team == SHMEM_TEAM_INVALID, "get_team gives SHMEM_TEAM_INVALID");
    shmem_ctx_destroy(ctx);
    shmem_ctx_destroy(SHMEM_CTX_INVALID);

    shmem_barrier_all();
    CHECK(*x == (me + npes - 1) % npes + 1, "the put on the default context arrived");
    shmem_barrier_all();
    shmem_free(x);
    if (me == 0)
        printf("ctx_invalid: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
