/* Contexts: ctx_create with each option, SHMEM_CTX_DEFAULT, team contexts (PE numbers are
 * the team's), ctx RMA (put/get/p/g/nbi/iput/iget/putmem/sized/put_signal), ctx AMOs,
 * ctx_quiet/ctx_fence, ctx_get_team, ctx_destroy. */
#include "check.h"

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    int right = (me + 1) % npes, left = (me + npes - 1) % npes;
    long *buf = shmem_calloc(16, sizeof(long));
    long *ctr = shmem_calloc(1, sizeof(long));
    uint64_t *sig = shmem_calloc(1, sizeof(uint64_t));

    long opts[] = {0, SHMEM_CTX_PRIVATE, SHMEM_CTX_SERIALIZED, SHMEM_CTX_NOSTORE,
                   SHMEM_CTX_PRIVATE | SHMEM_CTX_SERIALIZED};
    for (int o = 0; o < 5; o++) {
        shmem_ctx_t ctx = SHMEM_CTX_INVALID;
        CHECK(shmem_ctx_create(opts[o], &ctx) == 0 && ctx != SHMEM_CTX_INVALID, "ctx_create");
        shmem_team_t t = SHMEM_TEAM_INVALID;
        CHECK(shmem_ctx_get_team(ctx, &t) == 0 && t == SHMEM_TEAM_WORLD, "ctx team");
        long v[4] = {me, me + 1, me + 2, me + 3};
        shmem_ctx_long_put(ctx, buf, v, 4, right);
        shmem_ctx_long_p(ctx, buf + 4, 10L * me, right);
        shmem_ctx_long_put_nbi(ctx, buf + 5, v, 2, right);
        shmem_ctx_putmem(ctx, buf + 7, v, sizeof(long), right);
        shmem_ctx_put64(ctx, buf + 8, v + 1, 1, right);
        shmem_ctx_long_iput(ctx, buf + 9, v, 2, 1, 2, right); /* buf[9], buf[11] = v0, v1 */
        shmem_ctx_quiet(ctx);
        shmem_barrier_all();
        CHECK(buf[0] == left && buf[3] == left + 3, "ctx put");
        CHECK(buf[4] == 10L * left, "ctx p");
        CHECK(buf[5] == left && buf[6] == left + 1, "ctx put_nbi");
        CHECK(buf[7] == left && buf[8] == left + 1, "ctx putmem/put64");
        CHECK(buf[9] == left && buf[11] == left + 1, "ctx iput");
        long g[4];
        shmem_ctx_long_get(ctx, g, buf, 4, right);
        CHECK(g[0] == me && g[3] == me + 3, "ctx get");
        CHECK(shmem_ctx_long_g(ctx, buf + 4, right) == 10L * me, "ctx g");
        shmem_ctx_long_get_nbi(ctx, g, buf + 5, 2, left);
        shmem_ctx_getmem_nbi(ctx, g + 2, buf + 7, sizeof(long), left);
        shmem_ctx_quiet(ctx);
        CHECK(g[0] == (left + npes - 1) % npes && g[2] == (left + npes - 1) % npes, "ctx get_nbi");
        shmem_ctx_long_iget(ctx, g, buf + 9, 1, 2, 2, right);
        CHECK(g[0] == me && g[1] == me + 1, "ctx iget");

        /* AMOs through the context */
        shmem_ctx_long_atomic_add(ctx, ctr, 1, 0);
        shmem_ctx_long_atomic_inc(ctx, ctr, 0);
        (void)shmem_ctx_long_atomic_fetch_add(ctx, ctr, 2, 0);
        long f;
        shmem_ctx_long_atomic_fetch_inc_nbi(ctx, &f, ctr, 0);
        shmem_ctx_fence(ctx);
        shmem_ctx_quiet(ctx);
        shmem_barrier_all();
        if (me == 0)
            CHECK(*ctr == 5L * npes * (o + 1), "ctx amo total %ld", *ctr);
        shmem_barrier_all();
        CHECK(shmem_ctx_long_atomic_fetch(ctx, ctr, 0) == 5L * npes * (o + 1), "ctx fetch");
        shmem_ctx_uint64_atomic_or(ctx, (uint64_t *)(buf + 12), 1ull << me, 0);
        shmem_ctx_destroy(ctx);
        shmem_barrier_all();
    }
    if (me == 0)
        CHECK(buf[12] == (long)((1ull << npes) - 1), "ctx or %lx", buf[12]);

    /* SHMEM_CTX_DEFAULT */
    shmem_team_t t;
    CHECK(shmem_ctx_get_team(SHMEM_CTX_DEFAULT, &t) == 0 && t == SHMEM_TEAM_WORLD, "default team");
    shmem_ctx_int_p(SHMEM_CTX_DEFAULT, (int *)(buf + 13), me, right);
    shmem_ctx_quiet(SHMEM_CTX_DEFAULT);
    shmem_barrier_all();
    CHECK(*(int *)(buf + 13) == left, "default ctx p");
    CHECK(shmem_ctx_get_team(SHMEM_CTX_INVALID, &t) != 0 && t == SHMEM_TEAM_INVALID,
          "invalid ctx team");

    /* A context on a reversed team: PE k of the context is world PE npes-1-k. */
    shmem_team_t rev;
    shmem_team_config_t cfg = {.num_contexts = 1};
    CHECK(shmem_team_split_strided(SHMEM_TEAM_WORLD, npes - 1, -1, npes, &cfg,
                                   SHMEM_TEAM_NUM_CONTEXTS, &rev) == 0,
          "split");
    shmem_ctx_t tc;
    CHECK(shmem_team_create_ctx(rev, SHMEM_CTX_PRIVATE, &tc) == 0, "team_create_ctx");
    CHECK(shmem_ctx_get_team(tc, &t) == 0 && t == rev, "team ctx team");
    /* write my world PE into slot 14 of team PE 0 (= world PE npes-1) via signal put */
    long mine = me;
    if (me == 0)
        shmem_ctx_long_put_signal(tc, buf + 14, &mine, 1, sig, 1, SHMEM_SIGNAL_SET, 0);
    if (me == npes - 1) {
        shmem_signal_wait_until(sig, SHMEM_CMP_EQ, 1);
        CHECK(buf[14] == 0, "team ctx put_signal landed %ld", buf[14]);
    }
    CHECK(shmem_ctx_int_atomic_fetch_add(tc, (int *)(buf + 15), 1, npes - 1) >= 0, "team amo");
    shmem_ctx_quiet(tc);
    shmem_barrier_all();
    if (me == 0)
        CHECK(*(int *)(buf + 15) == npes, "team ctx amo to team PE npes-1 = world 0: %d",
              *(int *)(buf + 15));
    shmem_ctx_destroy(tc);
    shmem_team_destroy(rev);
    CHECK(shmem_team_create_ctx(SHMEM_TEAM_INVALID, 0, &tc) != 0 && tc == SHMEM_CTX_INVALID,
          "ctx on invalid team");

    shmem_barrier_all();
    if (me == 0)
        printf("ctx: ok on %d PEs\n", npes);
    shmem_free(sig);
    shmem_free(ctr);
    shmem_free(buf);
    shmem_finalize();
    return 0;
}
