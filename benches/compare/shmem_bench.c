/*
 * shmem_bench.c -- one OpenSHMEM microbenchmark source for rshmem and Open MPI's OSHMEM.
 *
 * Written against the OpenSHMEM 1.4 subset both implementations provide. Build:
 *   capi/rshmemcc -O2 benches/compare/shmem_bench.c -o shmem_bench.rshmem   (run: rshmemrun -n 2)
 *   oshcc         -O2 benches/compare/shmem_bench.c -o shmem_bench.oshmem   (run: oshrun -np 2)
 * Collectives are compiled in only where the header declares them (run.sh greps the
 * header and passes the flags):
 *   -DBENCH_HAVE_TO_ALL      shmem_long_sum_to_all   (1.4 active-set form, pWrk/pSync)
 *   -DBENCH_HAVE_BCAST64     shmem_broadcast64       (1.4 active-set form, pSync)
 *   -DBENCH_HAVE_TEAM_REDUCE shmem_long_sum_reduce(SHMEM_TEAM_WORLD, ...)   (1.5)
 *   -DBENCH_HAVE_TEAM_BCAST  shmem_long_broadcast(SHMEM_TEAM_WORLD, ...)    (1.5)
 *
 *   shmem_bench IMPL [--min-size N] [--max-size N] [--iters N] [--window N]
 *
 * Exactly 2 PEs. PE 0 is the origin, PE 1 the target; during one-sided tests PE 1 waits
 * in shmem_barrier_all (OSHMEM's atomics need the target inside a SHMEM call). Prints CSV
 * lines `impl,test,size,value,unit` on PE 0's stdout. Latencies are the mean over the
 * timed iterations (us), bandwidth in MB/s (10^6 bytes). Every test has a warm-up of
 * iters/10 (at least 2) untimed operations.
 */
#include <shmem.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static const char *impl = "?";
static int me;

static void emit(const char *test, size_t size, double value, const char *unit) {
    if (me == 0) {
        printf("%s,%s,%zu,%.4f,%s\n", impl, test, size, value, unit);
        fflush(stdout);
    }
}

/* Latency iterations for a message size: full count up to 8 KiB, scaled down above. */
static long lat_iters(long iters, size_t size) {
    if (size <= 8192) return iters;
    long n = (long)((double)iters * 8192.0 / (double)size);
    return n < 50 ? 50 : n;
}

static long warm(long n) { return n / 10 < 2 ? 2 : n / 10; }

int main(int argc, char **argv) {
    size_t min_size = 8, max_size = 1 << 20;
    long iters = 10000;
    int window = 64;
    if (argc > 1) impl = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--min-size")) min_size = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--max-size")) max_size = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--iters")) iters = strtol(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--window")) window = atoi(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }

    shmem_init();
    me = shmem_my_pe();
    if (shmem_n_pes() != 2) {
        if (me == 0) fprintf(stderr, "shmem_bench: needs exactly 2 PEs\n");
        shmem_global_exit(1);
    }

    /* Symmetric and private buffers, all page-aligned (no 4K-aliasing differences). */
    char *sym = shmem_align(4096, max_size);
    char *loc = aligned_alloc(4096, max_size);
    long *ctr = shmem_align(4096, sizeof(long) * 2);
    long *red_src = shmem_malloc(sizeof(long)), *red_dst = shmem_malloc(sizeof(long));
    long *bc_src = shmem_malloc(sizeof(long)), *bc_dst = shmem_malloc(sizeof(long));
    if (!sym || !loc || !ctr || !red_src || !red_dst || !bc_src || !bc_dst) {
        fprintf(stderr, "shmem_bench: allocation failed\n");
        shmem_global_exit(1);
    }
    memset(sym, 1, max_size);
    memset(loc, 2, max_size);
    ctr[0] = ctr[1] = 0;
    shmem_barrier_all();
    if (me == 0) { /* touch the peer's pages once, outside every timed loop */
        shmem_putmem(sym, loc, max_size, 1);
        shmem_getmem(loc, sym, max_size, 1);
        shmem_quiet();
    }
    shmem_barrier_all();

    /* ---- put latency: putmem + quiet ---- */
    for (size_t s = min_size; s <= max_size; s *= 2) {
        long n = lat_iters(iters, s), w = warm(n);
        shmem_barrier_all();
        if (me == 0) {
            for (long i = 0; i < w; i++) { shmem_putmem(sym, loc, s, 1); shmem_quiet(); }
            double t0 = now_us();
            for (long i = 0; i < n; i++) { shmem_putmem(sym, loc, s, 1); shmem_quiet(); }
            emit("put_lat", s, (now_us() - t0) / n, "us");
        }
        shmem_barrier_all();
    }

    /* ---- get latency: getmem (blocking) ---- */
    for (size_t s = min_size; s <= max_size; s *= 2) {
        long n = lat_iters(iters, s), w = warm(n);
        shmem_barrier_all();
        if (me == 0) {
            for (long i = 0; i < w; i++) shmem_getmem(loc, sym, s, 1);
            double t0 = now_us();
            for (long i = 0; i < n; i++) shmem_getmem(loc, sym, s, 1);
            emit("get_lat", s, (now_us() - t0) / n, "us");
        }
        shmem_barrier_all();
    }

    /* ---- put bandwidth: window x putmem_nbi, then quiet ---- */
    for (size_t s = min_size; s <= max_size; s *= 2) {
        long loops = s <= 65536 ? iters / 50 : (long)((double)iters / 50 * 65536.0 / (double)s);
        if (loops < 10) loops = 10;
        long w = warm(loops);
        shmem_barrier_all();
        if (me == 0) {
            for (long l = 0; l < w; l++) {
                for (int k = 0; k < window; k++) shmem_putmem_nbi(sym, loc, s, 1);
                shmem_quiet();
            }
            double t0 = now_us();
            for (long l = 0; l < loops; l++) {
                for (int k = 0; k < window; k++) shmem_putmem_nbi(sym, loc, s, 1);
                shmem_quiet();
            }
            double dt = now_us() - t0;
            emit("put_bw", s, (double)s * window * loops / dt, "MB/s");
        }
        shmem_barrier_all();
    }

    /* ---- 64-bit fetch-add latency (target PE waits in barrier_all) ---- */
    {
        long n = iters, w = warm(n), sink = 0;
        shmem_barrier_all();
        if (me == 0) {
            for (long i = 0; i < w; i++) sink += shmem_long_atomic_fetch_add(ctr, 1, 1);
            double t0 = now_us();
            for (long i = 0; i < n; i++) sink += shmem_long_atomic_fetch_add(ctr, 1, 1);
            emit("fadd_lat", 8, (now_us() - t0) / n, "us");
        }
        shmem_barrier_all();
        if (me == 1 && ctr[0] != n + w) {
            fprintf(stderr, "shmem_bench: fetch-add total %ld, expected %ld\n", ctr[0], n + w);
            shmem_global_exit(1);
        }
        (void)sink;
    }

    /* ---- barrier_all latency (both PEs) ---- */
    {
        long n = iters, w = warm(n);
        shmem_barrier_all();
        for (long i = 0; i < w; i++) shmem_barrier_all();
        double t0 = now_us();
        for (long i = 0; i < n; i++) shmem_barrier_all();
        emit("barrier_lat", 0, (now_us() - t0) / n, "us");
    }

    /* ---- 8-byte sum reduction (all PEs get the result) ---- */
#if defined(BENCH_HAVE_TEAM_REDUCE) || defined(BENCH_HAVE_TO_ALL)
    {
        long n = iters, w = warm(n);
#if !defined(BENCH_HAVE_TEAM_REDUCE)
        /* two pSync arrays used alternately: a call may reuse a pSync only after the
         * previous call on the other one has completed on every PE (OSU does the same) */
        long *psync = shmem_malloc(2 * SHMEM_REDUCE_SYNC_SIZE * sizeof(long));
        long *pwrk = shmem_malloc(2 * SHMEM_REDUCE_MIN_WRKDATA_SIZE * sizeof(long));
        for (int i = 0; i < 2 * SHMEM_REDUCE_SYNC_SIZE; i++) psync[i] = SHMEM_SYNC_VALUE;
#endif
        *red_src = me + 1;
        shmem_barrier_all();
        double t0 = 0;
        for (long i = 0; i < w + n; i++) {
            if (i == w) t0 = now_us();
#if defined(BENCH_HAVE_TEAM_REDUCE)
            shmem_long_sum_reduce(SHMEM_TEAM_WORLD, red_dst, red_src, 1);
#else
            int k = (int)(i & 1);
            shmem_long_sum_to_all(red_dst, red_src, 1, 0, 0, 2,
                                  pwrk + k * SHMEM_REDUCE_MIN_WRKDATA_SIZE,
                                  psync + k * SHMEM_REDUCE_SYNC_SIZE);
#endif
        }
        emit("reduce_lat", 8, (now_us() - t0) / n, "us");
        if (*red_dst != 3) {
            fprintf(stderr, "shmem_bench: reduction gave %ld, expected 3\n", *red_dst);
            shmem_global_exit(1);
        }
        shmem_barrier_all();
    }
#endif

    /* ---- 8-byte broadcast from PE 0 ---- */
#if defined(BENCH_HAVE_TEAM_BCAST) || defined(BENCH_HAVE_BCAST64)
    {
        long n = iters, w = warm(n);
#if !defined(BENCH_HAVE_TEAM_BCAST)
        long *psync = shmem_malloc(2 * SHMEM_BCAST_SYNC_SIZE * sizeof(long));
        for (int i = 0; i < 2 * SHMEM_BCAST_SYNC_SIZE; i++) psync[i] = SHMEM_SYNC_VALUE;
#endif
        *bc_src = 42;
        *bc_dst = 0;
        shmem_barrier_all();
        double t0 = 0;
        for (long i = 0; i < w + n; i++) {
            if (i == w) t0 = now_us();
#if defined(BENCH_HAVE_TEAM_BCAST)
            shmem_long_broadcast(SHMEM_TEAM_WORLD, bc_dst, bc_src, 1, 0);
#else
            int k = (int)(i & 1);
            shmem_broadcast64(bc_dst, bc_src, 1, 0, 0, 0, 2, psync + k * SHMEM_BCAST_SYNC_SIZE);
#endif
        }
        emit("bcast_lat", 8, (now_us() - t0) / n, "us");
        if (me == 1 && *bc_dst != 42) {
            fprintf(stderr, "shmem_bench: broadcast gave %ld, expected 42\n", *bc_dst);
            shmem_global_exit(1);
        }
        shmem_barrier_all();
    }
#endif

    shmem_barrier_all();
    free(loc);
    shmem_finalize();
    return 0;
}
