/*
 * mpi_rma_bench.c -- the MPI-RMA equivalent of shmem_bench.c (same tests, sizes, iteration
 * counts and CSV output `impl,test,size,value,unit`).
 *
 *   mpicc.mpich   -O2 benches/compare/mpi_rma_bench.c -o mpi_rma_bench.mpich    (mpiexec.hydra -n 2)
 *   mpicc.openmpi -O2 benches/compare/mpi_rma_bench.c -o mpi_rma_bench.openmpi  (mpirun.openmpi -np 2)
 *   mpi_rma_bench IMPL [--min-size N] [--max-size N] [--iters N] [--window N]
 *
 * One window from MPI_Win_allocate (1 MiB + a counter), passive target for the whole run:
 * MPI_Win_lock_all once, then
 *   put_lat   MPI_Put + MPI_Win_flush(1)
 *   get_lat   MPI_Get + MPI_Win_flush(1)
 *   put_bw    window x MPI_Put, then MPI_Win_flush(1)
 *   fadd_lat  MPI_Fetch_and_op(MPI_SUM, MPI_LONG) + MPI_Win_flush(1)
 *   barrier_lat  MPI_Barrier
 *   reduce_lat   MPI_Allreduce of one long (MPI_SUM)   -- two-sided collective
 *   bcast_lat    MPI_Bcast of one long from rank 0     -- two-sided collective
 * Rank 1 waits in MPI_Barrier during the one-sided tests (as PE 1 does in shmem_bench).
 */
#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *impl = "?";
static int me;

static void emit(const char *test, size_t size, double value, const char *unit) {
    if (me == 0) {
        printf("%s,%s,%zu,%.4f,%s\n", impl, test, size, value, unit);
        fflush(stdout);
    }
}

static long lat_iters(long iters, size_t size) {
    if (size <= 8192) return iters;
    long n = (long)((double)iters * 8192.0 / (double)size);
    return n < 50 ? 50 : n;
}

static long warm(long n) { return n / 10 < 2 ? 2 : n / 10; }

int main(int argc, char **argv) {
    size_t min_size = 8, max_size = 1 << 20;
    long iters = 10000;
    int window = 64, np;
    if (argc > 1) impl = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--min-size")) min_size = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--max-size")) max_size = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--iters")) iters = strtol(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--window")) window = atoi(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (np != 2) {
        if (me == 0) fprintf(stderr, "mpi_rma_bench: needs exactly 2 ranks\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }

    char *base;
    MPI_Win win;
    MPI_Aint ctr_disp = (MPI_Aint)max_size;
    MPI_Win_allocate((MPI_Aint)max_size + 4096, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win);
    char *loc = aligned_alloc(4096, max_size);
    memset(base, 1, max_size + 4096);
    memset(base + max_size, 0, sizeof(long));
    memset(loc, 2, max_size);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_lock_all(0, win);
    if (me == 0) {
        MPI_Put(loc, (int)max_size, MPI_BYTE, 1, 0, (int)max_size, MPI_BYTE, win);
        MPI_Win_flush(1, win);
        MPI_Get(loc, (int)max_size, MPI_BYTE, 1, 0, (int)max_size, MPI_BYTE, win);
        MPI_Win_flush(1, win);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    for (size_t s = min_size; s <= max_size; s *= 2) {
        long n = lat_iters(iters, s), w = warm(n);
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 0) {
            for (long i = 0; i < w; i++) {
                MPI_Put(loc, (int)s, MPI_BYTE, 1, 0, (int)s, MPI_BYTE, win);
                MPI_Win_flush(1, win);
            }
            double t0 = MPI_Wtime();
            for (long i = 0; i < n; i++) {
                MPI_Put(loc, (int)s, MPI_BYTE, 1, 0, (int)s, MPI_BYTE, win);
                MPI_Win_flush(1, win);
            }
            emit("put_lat", s, (MPI_Wtime() - t0) * 1e6 / n, "us");
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }

    for (size_t s = min_size; s <= max_size; s *= 2) {
        long n = lat_iters(iters, s), w = warm(n);
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 0) {
            for (long i = 0; i < w; i++) {
                MPI_Get(loc, (int)s, MPI_BYTE, 1, 0, (int)s, MPI_BYTE, win);
                MPI_Win_flush(1, win);
            }
            double t0 = MPI_Wtime();
            for (long i = 0; i < n; i++) {
                MPI_Get(loc, (int)s, MPI_BYTE, 1, 0, (int)s, MPI_BYTE, win);
                MPI_Win_flush(1, win);
            }
            emit("get_lat", s, (MPI_Wtime() - t0) * 1e6 / n, "us");
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }

    for (size_t s = min_size; s <= max_size; s *= 2) {
        long loops = s <= 65536 ? iters / 50 : (long)((double)iters / 50 * 65536.0 / (double)s);
        if (loops < 10) loops = 10;
        long w = warm(loops);
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 0) {
            for (long l = 0; l < w; l++) {
                for (int k = 0; k < window; k++)
                    MPI_Put(loc, (int)s, MPI_BYTE, 1, 0, (int)s, MPI_BYTE, win);
                MPI_Win_flush(1, win);
            }
            double t0 = MPI_Wtime();
            for (long l = 0; l < loops; l++) {
                for (int k = 0; k < window; k++)
                    MPI_Put(loc, (int)s, MPI_BYTE, 1, 0, (int)s, MPI_BYTE, win);
                MPI_Win_flush(1, win);
            }
            double dt = (MPI_Wtime() - t0) * 1e6;
            emit("put_bw", s, (double)s * window * loops / dt, "MB/s");
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }

    {
        long n = iters, w = warm(n), one = 1, old, sink = 0;
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 0) {
            for (long i = 0; i < w; i++) {
                MPI_Fetch_and_op(&one, &old, MPI_LONG, 1, ctr_disp, MPI_SUM, win);
                MPI_Win_flush(1, win);
                sink += old;
            }
            double t0 = MPI_Wtime();
            for (long i = 0; i < n; i++) {
                MPI_Fetch_and_op(&one, &old, MPI_LONG, 1, ctr_disp, MPI_SUM, win);
                MPI_Win_flush(1, win);
                sink += old;
            }
            emit("fadd_lat", 8, (MPI_Wtime() - t0) * 1e6 / n, "us");
        }
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 1) {
            long v;
            MPI_Win_sync(win);
            memcpy(&v, base + max_size, sizeof v);
            if (v != n + w) {
                fprintf(stderr, "mpi_rma_bench: fetch-and-op total %ld, expected %ld\n", v, n + w);
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
        }
        (void)sink;
    }

    {
        long n = iters, w = warm(n);
        MPI_Barrier(MPI_COMM_WORLD);
        for (long i = 0; i < w; i++) MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (long i = 0; i < n; i++) MPI_Barrier(MPI_COMM_WORLD);
        emit("barrier_lat", 0, (MPI_Wtime() - t0) * 1e6 / n, "us");
    }

    {
        long n = iters, w = warm(n), src = me + 1, dst = 0;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = 0;
        for (long i = 0; i < w + n; i++) {
            if (i == w) t0 = MPI_Wtime();
            MPI_Allreduce(&src, &dst, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        }
        emit("reduce_lat", 8, (MPI_Wtime() - t0) * 1e6 / n, "us");
        if (dst != 3) {
            fprintf(stderr, "mpi_rma_bench: allreduce gave %ld\n", dst);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }

    {
        long n = iters, w = warm(n), v = me == 0 ? 42 : 0;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = 0;
        for (long i = 0; i < w + n; i++) {
            if (i == w) t0 = MPI_Wtime();
            MPI_Bcast(&v, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        }
        emit("bcast_lat", 8, (MPI_Wtime() - t0) * 1e6 / n, "us");
        if (v != 42) MPI_Abort(MPI_COMM_WORLD, 1);
    }

    MPI_Win_unlock_all(win);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_free(&win);
    free(loc);
    MPI_Finalize();
    return 0;
}
