/* shmemx.h as Sandia OpenSHMEM programs use it: the shmemx_ names of 1.6 routines,
 * shmemx_wtime, SHMEMX_TEAM_NODE, the performance counters, shmem_malloc_with_hints with
 * SHMEMX_MALLOC_NO_BARRIER, shmemx_register_gettid. */
#include <shmemx.h>
#include "check.h"

static uint64_t my_gettid(void) { return 42; }

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    int right = (me + 1) % npes, left = (me + npes - 1) % npes;

    /* wtime: positive, monotonic. */
    double t0 = shmemx_wtime();
    CHECK(t0 > 0, "wtime %g", t0);
    volatile double x = 0;
    for (int i = 0; i < 1000000; i++)
        x += i;
    double t1 = shmemx_wtime();
    CHECK(t1 > t0, "wtime not increasing: %g then %g", t0, t1);

    /* The node team: every PE of this (single-node) job. */
    CHECK(shmem_team_n_pes(SHMEMX_TEAM_NODE) == npes, "node team size %d",
          shmem_team_n_pes(SHMEMX_TEAM_NODE));
    CHECK(shmem_team_my_pe(shmemx_team_node) == me, "node team rank");

    shmemx_register_gettid(my_gettid);

    /* Counters: exactly the operations issued between two reads. */
    long *buf = shmem_calloc(8, sizeof(long));
    long src[8] = {1, 2, 3, 4, 5, 6, 7, 8}, dst[8];
    shmem_barrier_all();
    uint64_t w0, w1, r0, r1, cw, cr, tgt = 99;
    shmemx_pcntr_get_issued_write(SHMEM_CTX_DEFAULT, &w0);
    shmemx_pcntr_get_issued_read(SHMEM_CTX_DEFAULT, &r0);
    for (int i = 0; i < 5; i++)
        shmem_long_put_nbi(&buf[i], &src[i], 1, right);
    for (int i = 0; i < 3; i++)
        shmem_long_atomic_add(&buf[7], 1, right);
    for (int i = 0; i < 4; i++)
        shmem_long_get(&dst[i], &buf[i], 1, right);
    shmemx_pcntr_get_issued_write(SHMEM_CTX_DEFAULT, &w1);
    shmemx_pcntr_get_issued_read(SHMEM_CTX_DEFAULT, &r1);
    CHECK(w1 - w0 == 8, "issued writes %llu, want 5 puts + 3 atomics",
          (unsigned long long)(w1 - w0));
    CHECK(r1 - r0 == 4, "issued reads %llu, want 4", (unsigned long long)(r1 - r0));
    shmem_quiet();
    shmemx_pcntr_get_completed_write(SHMEM_CTX_DEFAULT, &cw);
    shmemx_pcntr_get_completed_read(SHMEM_CTX_DEFAULT, &cr);
    CHECK(cw >= w1 && cr >= r1, "completed after quiet: %llu/%llu writes, %llu/%llu reads",
          (unsigned long long)cw, (unsigned long long)w1, (unsigned long long)cr,
          (unsigned long long)r1);
    shmemx_pcntr_t all;
    shmemx_pcntr_get_all(SHMEM_CTX_DEFAULT, &all);
    CHECK(all.pending_put == 0 && all.pending_get == 0, "pending after quiet %llu %llu",
          (unsigned long long)all.pending_put, (unsigned long long)all.pending_get);
    CHECK(all.completed_put >= w1 && all.completed_get >= r1, "get_all completed");
    shmemx_pcntr_get_completed_target(&tgt);
    CHECK(tgt == 0, "completed_target %llu", (unsigned long long)tgt);
    shmem_barrier_all();
    CHECK(buf[7] == 3 && buf[4] == 5, "counted operations landed");

    /* SHMEMX_MALLOC_NO_BARRIER: PE 0 allocates only after every other PE has returned
     * from its own call and told PE 0 so; with a barrier inside, this would deadlock. */
    long *arrived = shmem_calloc(1, sizeof(long));
    long *nb;
    if (me != 0) {
        nb = shmem_malloc_with_hints(16 * sizeof(long), SHMEMX_MALLOC_NO_BARRIER);
        shmem_long_atomic_inc(arrived, 0);
    } else {
        shmem_long_wait_until(arrived, SHMEM_CMP_EQ, npes - 1);
        nb = shmem_malloc_with_hints(16 * sizeof(long), SHMEMX_MALLOC_NO_BARRIER);
    }
    CHECK(nb != NULL, "malloc_with_hints(NO_BARRIER)");
    shmem_barrier_all();
    shmem_long_p(&nb[3], 100 + me, right);
    shmem_barrier_all();
    CHECK(nb[3] == 100 + left, "NO_BARRIER block is symmetric: %ld", nb[3]);

    /* shmemx_ names of 1.6 routines. */
    int *ib = shmem_calloc(12, sizeof(int));
    int isrc[6] = {1, 2, 3, 4, 5, 6};
    shmem_barrier_all();
    shmemx_int_ibput(ib, isrc, 4, 2, 2, 3, right); /* isrc blocks {1,2},{3,4},{5,6} */
    shmemx_ctx_int_ibput(SHMEM_CTX_DEFAULT, ib + 2, isrc, 4, 2, 1, 3, right);
    shmemx_pe_quiet(&right, 1);
    shmem_barrier_all();
    int want_ib[12] = {1, 2, 1, 0, 3, 4, 3, 0, 5, 6, 5, 0};
    for (int i = 0; i < 12; i++)
        CHECK(ib[i] == want_ib[i], "ibput ib[%d]=%d want %d", i, ib[i], want_ib[i]);
    int got[6] = {0};
    shmemx_int_ibget(got, ib, 2, 4, 2, 3, right);
    for (int i = 0; i < 6; i++)
        CHECK(got[i] == isrc[i], "ibget got[%d]=%d", i, got[i]);
    long long g64[2] = {0, 0};
    shmemx_ibget64(g64, &buf[0], 1, 2, 1, 2, right); /* buf[0], buf[2] of right */
    CHECK(g64[0] == 1 && g64[1] == 3, "ibget64");

    uint64_t *sig = shmem_calloc(2, sizeof(uint64_t));
    shmem_barrier_all();
    shmemx_signal_add(&sig[0], 5, right);
    shmemx_ctx_signal_add(SHMEM_CTX_DEFAULT, &sig[0], 2, right);
    shmemx_signal_set(&sig[1], 9, right);
    shmemx_ctx_pe_quiet(SHMEM_CTX_DEFAULT, &right, 1);
    shmem_barrier_all();
    CHECK(sig[0] == 7 && sig[1] == 9, "signal add/set %llu %llu", (unsigned long long)sig[0],
          (unsigned long long)sig[1]);
    shmem_barrier_all();
    shmemx_ctx_signal_set(SHMEM_CTX_DEFAULT, &sig[1], 1, right);
    shmem_barrier_all();
    CHECK(sig[1] == 1, "ctx signal_set");

    int *sin = shmem_malloc(sizeof(int)), *sout = shmem_malloc(sizeof(int));
    *sin = me + 1;
    shmem_barrier_all();
    CHECK(shmemx_int_sum_inscan(SHMEM_TEAM_WORLD, sout, sin, 1) == 0, "inscan");
    CHECK(*sout == (me + 1) * (me + 2) / 2, "inscan %d", *sout);
    shmem_team_sync(SHMEM_TEAM_WORLD);
    CHECK(shmemx_int_sum_exscan(SHMEM_TEAM_WORLD, sout, sin, 1) == 0, "exscan");
    CHECK(me == 0 || *sout == me * (me + 1) / 2, "exscan %d", *sout);

    shmem_barrier_all();
    if (me == 0)
        printf("shmemx: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
