/* C11 generics taking a context first (put, get, p, g, put_nbi, get_nbi, iput, iget,
 * put_signal, signal_add, atomic_add/fetch_inc/compare_swap/set/fetch/xor) on a created
 * context, SHMEM_CTX_DEFAULT and a context on a reversed team (whose PE numbers differ from
 * the world's, so a plain routine chosen by mistake would hit the wrong PE); the
 * interposed shmem_ctx_long_put / shmem_ctx_long_atomic_fetch_inc (forwarding through
 * pshmem.h) count that the ctx routines were called. Then shmem_sync(team) next to the
 * deprecated shmem_sync(PE_start, logPE_stride, PE_size, pSync), and the deprecated (1.3)
 * AMO names, typed and generic. */
#include "check.h"
#include <pshmem.h>

static int ctx_puts, ctx_fincs;

void shmem_ctx_long_put(shmem_ctx_t ctx, long *dest, const long *source, size_t nelems,
                        int pe) {
    ctx_puts++;
    pshmem_ctx_long_put(ctx, dest, source, nelems, pe);
}

long shmem_ctx_long_atomic_fetch_inc(shmem_ctx_t ctx, long *dest, int pe) {
    ctx_fincs++;
    return pshmem_ctx_long_atomic_fetch_inc(ctx, dest, pe);
}

static long pSync[SHMEM_SYNC_SIZE];

static void contexts(int me, int npes) {
    int right = (me + 1) % npes, left = (me + npes - 1) % npes;
    int leftleft = (left + npes - 1) % npes;
    long *buf = shmem_calloc(16, sizeof(long));
    int *isum = shmem_calloc(1, sizeof(int));
    long *lctr = shmem_calloc(1, sizeof(long));
    long *cs = shmem_calloc(1, sizeof(long));
    long *wins = shmem_calloc(1, sizeof(long));
    unsigned long *bits = shmem_calloc(1, sizeof(unsigned long));
    double *dv = shmem_calloc(1, sizeof(double));
    uint64_t *sig = shmem_calloc(2, sizeof(uint64_t));
    CHECK(buf && isum && lctr && cs && wins && bits && dv && sig, "shmem_calloc");

    shmem_team_t rev = SHMEM_TEAM_INVALID;
    CHECK(shmem_team_split_strided(SHMEM_TEAM_WORLD, npes - 1, -1, npes, NULL, 0, &rev) == 0,
          "reversed team");
    shmem_ctx_t created = SHMEM_CTX_INVALID, revctx = SHMEM_CTX_INVALID;
    CHECK(shmem_ctx_create(0, &created) == 0, "ctx_create");
    CHECK(shmem_team_create_ctx(rev, 0, &revctx) == 0, "team_create_ctx");
    shmem_ctx_t ctxs[3] = {created, SHMEM_CTX_DEFAULT, revctx};
    unsigned long mask = npes >= 64 ? ~0UL : (1UL << npes) - 1;

    for (int k = 0; k < 3; k++) {
        shmem_ctx_t ctx = ctxs[k];
        /* PE numbers in the context's team: the reversed team numbers world PE p npes-1-p. */
        int R = k == 2 ? npes - 1 - right : right;
        int L = k == 2 ? npes - 1 - left : left;
        int Z = k == 2 ? npes - 1 : 0; /* world PE 0 */
        int puts0 = ctx_puts, fincs0 = ctx_fincs;
        long v[4] = {100L * k + me, 100L * k + me + 1, 100L * k + me + 2, 100L * k + me + 3};

        shmem_put(ctx, buf, v, 4, R);
        shmem_p(ctx, buf + 4, 10L * me + k, R);
        shmem_put_nbi(ctx, buf + 5, v, 2, R);
        shmem_iput(ctx, buf + 7, v, 2, 1, 2, R); /* buf[7], buf[9] */
        shmem_ctx_quiet(ctx);
        shmem_barrier_all();
        for (int i = 0; i < 4; i++)
            CHECK(buf[i] == 100L * k + left + i, "ctx %d: shmem_put(ctx): buf[%d] = %ld", k, i,
                  buf[i]);
        CHECK(buf[4] == 10L * left + k, "ctx %d: shmem_p(ctx): %ld", k, buf[4]);
        CHECK(buf[5] == 100L * k + left && buf[6] == 100L * k + left + 1,
              "ctx %d: shmem_put_nbi(ctx)", k);
        CHECK(buf[7] == 100L * k + left && buf[9] == 100L * k + left + 1,
              "ctx %d: shmem_iput(ctx)", k);
        CHECK(ctx_puts == puts0 + 1, "ctx %d: shmem_put(ctx, ...) called shmem_ctx_long_put %d times",
              k, ctx_puts - puts0);

        long g[4] = {-1, -1, -1, -1};
        shmem_get(ctx, g, buf, 4, R);
        for (int i = 0; i < 4; i++)
            CHECK(g[i] == 100L * k + me + i, "ctx %d: shmem_get(ctx): g[%d] = %ld", k, i, g[i]);
        CHECK(shmem_g(ctx, buf + 4, R) == 10L * me + k, "ctx %d: shmem_g(ctx)", k);
        shmem_get_nbi(ctx, g, buf + 5, 2, L);
        shmem_ctx_quiet(ctx);
        CHECK(g[0] == 100L * k + leftleft && g[1] == 100L * k + leftleft + 1,
              "ctx %d: shmem_get_nbi(ctx): %ld %ld", k, g[0], g[1]);
        shmem_iget(ctx, g, buf + 7, 1, 2, 2, R);
        CHECK(g[0] == 100L * k + me && g[1] == 100L * k + me + 1, "ctx %d: shmem_iget(ctx)", k);

        /* put_signal (data before signal) and 1.6 signal_add, each PE from its left */
        shmem_put_signal(ctx, buf + 12, v, 2, sig, (uint64_t)k + 1, SHMEM_SIGNAL_SET, R);
        CHECK(shmem_signal_wait_until(sig, SHMEM_CMP_EQ, (uint64_t)k + 1) == (uint64_t)k + 1,
              "ctx %d: signal", k);
        CHECK(buf[12] == 100L * k + left && buf[13] == 100L * k + left + 1,
              "ctx %d: shmem_put_signal(ctx) data", k);
        shmem_signal_add(ctx, sig + 1, 1, R);
        CHECK(shmem_signal_wait_until(sig + 1, SHMEM_CMP_EQ, (uint64_t)k + 1) == (uint64_t)k + 1,
              "ctx %d: shmem_signal_add(ctx)", k);

        /* AMOs on world PE 0 */
        shmem_atomic_add(ctx, isum, 2, Z);
        long f = shmem_atomic_fetch_inc(ctx, lctr, Z);
        CHECK(f >= 0 && f < (long)npes * (k + 1), "ctx %d: fetch_inc returned %ld", k, f);
        CHECK(ctx_fincs == fincs0 + 1, "ctx %d: shmem_atomic_fetch_inc(ctx) not the ctx routine",
              k);
        long old = shmem_atomic_compare_swap(ctx, cs, (long)k, (long)k + 1, Z);
        CHECK(old == k || old == k + 1, "ctx %d: compare_swap returned %ld", k, old);
        if (old == k)
            shmem_atomic_add(ctx, wins, 1L, Z);
        shmem_atomic_xor(ctx, bits, 1UL << (me % 64), Z);
        shmem_atomic_set(ctx, dv, me + 0.5, R);
        shmem_ctx_quiet(ctx);
        shmem_barrier_all();
        CHECK(*dv == left + 0.5, "ctx %d: shmem_atomic_set(ctx): %g", k, *dv);
        CHECK(shmem_atomic_fetch(ctx, dv, R) == me + 0.5, "ctx %d: shmem_atomic_fetch(ctx)", k);
        if (me == 0) {
            CHECK(*isum == 2 * npes * (k + 1), "ctx %d: atomic_add total %d", k, *isum);
            CHECK(*lctr == (long)npes * (k + 1), "ctx %d: fetch_inc total %ld", k, *lctr);
            CHECK(*cs == k + 1 && *wins == k + 1, "ctx %d: compare_swap %ld, %ld winners", k,
                  *cs, *wins);
            CHECK(*bits == (k % 2 == 0 ? mask : 0UL), "ctx %d: atomic_xor %#lx", k, *bits);
        }
        shmem_barrier_all();
    }

    /* The plain generics still pick the plain routines. */
    int puts0 = ctx_puts;
    long w = 7 + me;
    shmem_put(buf + 14, &w, 1, right);
    shmem_quiet();
    CHECK(shmem_atomic_fetch_inc(lctr, 0) >= 0, "plain fetch_inc");
    shmem_barrier_all();
    CHECK(buf[14] == 7 + left && ctx_puts == puts0, "plain shmem_put");

    shmem_ctx_destroy(created);
    shmem_ctx_destroy(revctx);
    shmem_team_destroy(rev);
    shmem_free(buf);
    shmem_free(isum);
    shmem_free(lctr);
    shmem_free(cs);
    shmem_free(wins);
    shmem_free(bits);
    shmem_free(dv);
    shmem_free(sig);
}

static void sync_forms(int me, int npes) {
    int right = (me + 1) % npes, left = (me + npes - 1) % npes;
    int *x = shmem_calloc(2, sizeof(int));
    CHECK(x, "shmem_calloc");
    shmem_barrier_all();
    shmem_int_p(x, 10 + me, right);
    shmem_quiet();
    int rc = shmem_sync(SHMEM_TEAM_WORLD); /* C11: shmem_team_sync */
    CHECK(rc == 0, "shmem_sync(SHMEM_TEAM_WORLD) returned %d", rc);
    CHECK(x[0] == 10 + left, "after shmem_sync(team): %d", x[0]);
    shmem_int_p(x + 1, 20 + me, right);
    shmem_quiet();
    shmem_sync(0, 0, npes, pSync); /* deprecated active set: the whole job */
    CHECK(x[1] == 20 + left, "after shmem_sync(0, 0, npes, pSync): %d", x[1]);
    CHECK(shmem_sync(SHMEM_TEAM_INVALID) != 0, "shmem_sync(SHMEM_TEAM_INVALID) succeeded");
    shmem_sync(SHMEM_TEAM_WORLD);
    shmem_free(x);
}

static void deprecated_amos(int me, int npes) {
    int right = (me + 1) % npes, left = (me + npes - 1) % npes;
    int *di = shmem_calloc(1, sizeof(int));
    long *dl = shmem_calloc(1, sizeof(long));
    long long *dll = shmem_calloc(1, sizeof(long long));
    int *dcs = shmem_calloc(1, sizeof(int));
    int *wins = shmem_calloc(1, sizeof(int));
    float *df = shmem_calloc(1, sizeof(float));
    double *dd = shmem_calloc(1, sizeof(double));
    int *si = shmem_calloc(1, sizeof(int));
    long *sl = shmem_calloc(1, sizeof(long));
    long long *sll = shmem_calloc(1, sizeof(long long));
    CHECK(di && dl && dll && dcs && wins && df && dd && si && sl && sll, "shmem_calloc");
    shmem_barrier_all();

    /* contention on PE 0 */
    shmem_int_add(di, 2, 0);
    shmem_int_inc(di, 0);
    shmem_add(di, 4, 0);
    shmem_inc(di, 0); /* 8 per PE */
    long r1 = shmem_long_fadd(dl, 10, 0), r2 = shmem_fadd(dl, 10L, 0);
    CHECK(r1 % 10 == 0 && r2 % 10 == 0 && r1 < 20L * npes && r2 < 20L * npes,
          "fadd returned %ld, %ld", r1, r2);
    shmem_barrier_all(); /* only fadds of 10 on dl so far */
    long long q1 = shmem_longlong_finc(dll, 0), q2 = shmem_finc(dll, 0);
    shmem_longlong_add(dll, 3, 0);
    shmem_long_inc(dl, 0);
    shmem_longlong_inc(dll, 0);
    shmem_long_add(dl, 1, 0);
    CHECK(q1 >= 0 && q2 > q1 && q2 < 6LL * npes, "finc returned %lld, %lld", q1, q2);
    int fi = shmem_int_finc(di, 0) + shmem_int_fadd(di, -1, 0);
    CHECK(fi > 0, "int finc/fadd returned %d", fi);
    long fl = shmem_long_finc(dl, 0) + shmem_longlong_fadd(dll, 0, 0);
    CHECK(fl > 0, "long finc / longlong fadd returned %ld", fl);
    int old = shmem_int_cswap(dcs, 0, me + 1, 0);
    if (old == 0)
        shmem_int_add(wins, 1, 0);
    shmem_barrier_all();
    if (me == 0) {
        CHECK(*di == 8 * npes, "int add/inc total %d", *di);
        CHECK(*dl == 23L * npes, "long fadd/inc/add/finc total %ld", *dl);
        CHECK(*dll == 6LL * npes, "longlong finc/add/inc total %lld", *dll);
        CHECK(*wins == 1 && *dcs >= 1 && *dcs <= npes, "int cswap: %d winners, value %d", *wins,
              *dcs);
    }
    shmem_barrier_all();
    int cur = shmem_int_fetch(dcs, 0);
    CHECK(shmem_cswap(dcs, cur + 100, -5, 0) == cur, "generic cswap (no match)");
    CHECK(shmem_long_cswap(dl, 23L * npes, 23L * npes, 0) == 23L * npes, "long cswap");
    CHECK(shmem_longlong_cswap(dll, -1, 0, 0) == 6LL * npes, "longlong cswap");
    shmem_barrier_all();

    /* swap / fetch / set: each PE owns its right neighbour's words */
    shmem_double_set(dd, me + 0.25, right);
    shmem_float_set(df, me + 0.5f, right);
    shmem_int_set(si, 1000 + me, right);
    shmem_long_set(sl, 2000L + me, right);
    shmem_set(sll, 3000LL + me, right);
    shmem_quiet();
    shmem_barrier_all();
    CHECK(*dd == left + 0.25 && *df == left + 0.5f, "double/float set: %g %g", *dd, (double)*df);
    CHECK(*si == 1000 + left && *sl == 2000L + left && *sll == 3000LL + left, "int/long/ll set");
    shmem_barrier_all(); /* everyone has looked before the swaps below */
    CHECK(shmem_double_fetch(dd, right) == me + 0.25, "double fetch");
    CHECK(shmem_float_fetch(df, right) == me + 0.5f, "float fetch");
    CHECK(shmem_int_fetch(si, right) == 1000 + me, "int fetch");
    CHECK(shmem_long_fetch(sl, right) == 2000L + me, "long fetch");
    CHECK(shmem_longlong_fetch(sll, right) == 3000LL + me, "longlong fetch");
    CHECK(shmem_fetch(dd, right) == me + 0.25, "generic fetch");
    CHECK(shmem_double_swap(dd, 7.0, right) == me + 0.25, "double swap");
    CHECK(shmem_float_swap(df, 8.0f, right) == me + 0.5f, "float swap");
    CHECK(shmem_int_swap(si, 9, right) == 1000 + me, "int swap");
    CHECK(shmem_long_swap(sl, 10L, right) == 2000L + me, "long swap");
    CHECK(shmem_longlong_swap(sll, 11LL, right) == 3000LL + me, "longlong swap");
    CHECK(shmem_swap(sl, 12L, right) == 10L, "generic swap");
    shmem_quiet();
    shmem_barrier_all();
    CHECK(*dd == 7.0 && *df == 8.0f && *si == 9 && *sl == 12L && *sll == 11LL,
          "values after swap: %g %g %d %ld %lld", *dd, (double)*df, *si, *sl, *sll);
    shmem_barrier_all();
    shmem_free(di);
    shmem_free(dl);
    shmem_free(dll);
    shmem_free(dcs);
    shmem_free(wins);
    shmem_free(df);
    shmem_free(dd);
    shmem_free(si);
    shmem_free(sl);
    shmem_free(sll);
}

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    contexts(me, npes);
    sync_forms(me, npes);
    deprecated_amos(me, npes);
    /* The profiling names are callable directly. */
    CHECK(pshmem_my_pe() == me && pshmem_n_pes() == npes, "pshmem_my_pe / pshmem_n_pes");
    pshmem_barrier_all();
    if (me == 0)
        printf("generic_ctx: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
