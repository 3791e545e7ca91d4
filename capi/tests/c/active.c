/* Deprecated active-set collectives: shmem_barrier, shmem_sync, broadcast32/64 (the root's
 * dest is left alone), collect32/64, fcollect32/64, alltoall32/64, alltoalls32/64 and the
 * TYPE_OP_to_all reductions, on the whole job and on the even PEs (odd PEs do not call).
 * As the specification requires, every collective is entered only once its dest is ready on
 * every PE of the set (a shmem_sync after the previous results were read): the whole-job set
 * runs the runtime's push-based algorithms, which write other PEs' dest directly. */
#include "check.h"
#include <complex.h>
#include <stdint.h>

static long pSync[SHMEM_REDUCE_SYNC_SIZE];
static long pWrkL[SHMEM_REDUCE_MIN_WRKDATA_SIZE];
static int ME;
#define VAL(p, i) (((p) * 5 + (i) * 3 + 2) % 11 + 1)

static void run(int start, int log, int size) {
    int stride = 1 << log, idx = (ME - start) / stride;
    /* shmem_malloc is collective over the job: the PEs outside the set call it too */
    int32_t *s32 = shmem_malloc(64 * sizeof(int64_t));
    int32_t *d32 = shmem_malloc(64 * sizeof(int64_t));
    int64_t *s64 = shmem_malloc(64 * sizeof(int64_t));
    int64_t *d64 = shmem_malloc(64 * sizeof(int64_t));
    shmem_barrier(start, log, size, pSync);
    shmem_sync(start, log, size, pSync);

    for (int i = 0; i < 4; i++) {
        s32[i] = 100 * ME + i;
        d32[i] = -1;
    }
    /* dest must be ready on every PE of the set before any of them calls the broadcast */
    shmem_sync(start, log, size, pSync);
    shmem_broadcast32(d32, s32, 4, 0, start, log, size, pSync);
    for (int i = 0; i < 4; i++)
        CHECK(d32[i] == (idx == 0 ? -1 : 100 * start + i), "broadcast32[%d] = %d", i, d32[i]);
    s64[0] = ME;
    d64[0] = -1;
    shmem_sync(start, log, size, pSync);
    shmem_broadcast64(d64, s64, 1, size - 1, start, log, size, pSync);
    CHECK(d64[0] == (idx == size - 1 ? -1 : start + (size - 1) * stride), "broadcast64");

    /* collect32: idx+1 elements each */
    for (int k = 0; k <= idx; k++)
        s32[k] = 1000 * idx + k;
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_collect32(d32, s32, (size_t)idx + 1, start, log, size, pSync);
    int at = 0;
    for (int j = 0; j < size; j++)
        for (int k = 0; k <= j; k++, at++)
            CHECK(d32[at] == 1000 * j + k, "collect32[%d]", at);
    s64[0] = ME;
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_collect64(d64, s64, 1, start, log, size, pSync);
    for (int j = 0; j < size; j++)
        CHECK(d64[j] == start + j * stride, "collect64[%d]", j);
    s64[0] = 7 * ME;
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_fcollect64(d64, s64, 1, start, log, size, pSync);
    for (int j = 0; j < size; j++)
        CHECK(d64[j] == 7 * (start + j * stride), "fcollect64[%d]", j);
    s32[0] = ME;
    s32[1] = ME + 1;
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_fcollect32(d32, s32, 2, start, log, size, pSync);
    for (int j = 0; j < size; j++)
        CHECK(d32[2 * j] == start + j * stride && d32[2 * j + 1] == start + j * stride + 1,
              "fcollect32[%d]", j);

    for (int j = 0; j < size; j++)
        s32[j] = 100 * idx + j;
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_alltoall32(d32, s32, 1, start, log, size, pSync);
    for (int j = 0; j < size; j++)
        CHECK(d32[j] == 100 * j + idx, "alltoall32[%d] = %d", j, d32[j]);
    for (int j = 0; j < size; j++)
        s64[j] = 100 * idx + j;
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_alltoall64(d64, s64, 1, start, log, size, pSync);
    for (int j = 0; j < size; j++)
        CHECK(d64[j] == 100 * j + idx, "alltoall64[%d]", j);
    for (int x = 0; x < 2 * size; x++) {
        s64[x] = 100 * idx + x;
        d64[x] = -1;
    }
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_alltoalls64(d64, s64, 2, 2, 1, start, log, size, pSync);
    for (int j = 0; j < size; j++)
        CHECK(d64[2 * j] == 100 * j + 2 * idx && d64[2 * j + 1] == -1, "alltoalls64[%d]", j);
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_alltoalls32(d32, s32, 1, 1, 1, start, log, size, pSync);
    for (int j = 0; j < size; j++)
        CHECK(d32[j] == 100 * j + idx, "alltoalls32[%d]", j);

    /* reductions */
#define TO_ALL(T, N, OP, F)                                                                \
    do {                                                                                   \
        T *s = (T *)s64, *d = (T *)d64;                                                    \
        for (int i = 0; i < 4; i++)                                                        \
            s[i] = (T)VAL(ME, i);                                                          \
        shmem_##N##_##OP##_to_all(d, s, 4, start, log, size, (T *)pWrkL, pSync);           \
        for (int i = 0; i < 4; i++) {                                                      \
            T ref = (T)VAL(start, i);                                                      \
            for (int j = 1; j < size; j++) {                                               \
                T b = (T)VAL(start + j * stride, i);                                       \
                ref = (T)(F);                                                              \
            }                                                                              \
            CHECK(d[i] == ref, #N "_" #OP "_to_all[%d] %g want %g", i, (double)d[i],       \
                  (double)ref);                                                            \
        }                                                                                  \
    } while (0)
#define INT_OPS(T, N)                                                                      \
    TO_ALL(T, N, and, ref & b);                                                            \
    TO_ALL(T, N, or, ref | b);                                                             \
    TO_ALL(T, N, xor, ref ^ b);
#define REAL_OPS(T, N)                                                                     \
    TO_ALL(T, N, max, ref > b ? ref : b);                                                  \
    TO_ALL(T, N, min, ref < b ? ref : b);                                                  \
    TO_ALL(T, N, sum, ref + b);                                                            \
    TO_ALL(T, N, prod, ref *b);
    INT_OPS(short, short)
    INT_OPS(int, int)
    INT_OPS(long, long)
    INT_OPS(long long, longlong)
    REAL_OPS(short, short)
    REAL_OPS(int, int)
    REAL_OPS(long, long)
    REAL_OPS(long long, longlong)
    REAL_OPS(float, float)
    REAL_OPS(double, double)
    REAL_OPS(long double, longdouble)
    double _Complex *zs = (double _Complex *)s64, *zd = (double _Complex *)d64;
    zs[0] = ME + 1.0 * I;
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_complexd_sum_to_all(zd, zs, 1, start, log, size, (double _Complex *)pWrkL, pSync);
    double _Complex want = 0;
    for (int j = 0; j < size; j++)
        want += (start + j * stride) + 1.0 * I;
    CHECK(zd[0] == want, "complexd_sum_to_all");
    /* in place */
    s64[0] = 1;
    shmem_sync(start, log, size, pSync); /* dest ready everywhere */
    shmem_long_sum_to_all((long *)s64, (long *)s64, 1, start, log, size, pWrkL, pSync);
    CHECK(s64[0] == size, "in-place sum_to_all %ld", (long)s64[0]);
    shmem_barrier(start, log, size, pSync);
}

/* Large messages (several scratch segments per call) on three overlapping sets in turn:
 * sum_to_all of BIG longs and broadcast64 of BIG words; a PE in both sets calls them in
 * the same order as the others, as the spec requires. */
#define BIG 20000
static long pWrkBig[BIG / 2 + 1 + SHMEM_REDUCE_MIN_WRKDATA_SIZE];
static long pSyncA[SHMEM_REDUCE_SYNC_SIZE], pSyncB[SHMEM_REDUCE_SYNC_SIZE],
    pSyncC[SHMEM_REDUCE_SYNC_SIZE];

static void big(int start, int log, int size, long *ps, long *s, long *d, int iter) {
    int stride = 1 << log;
    for (int i = 0; i < BIG; i++)
        s[i] = (long)ME * 1000003 + i * 7 + iter;
    shmem_long_sum_to_all(d, s, BIG, start, log, size, pWrkBig, ps);
    for (int i = 0; i < BIG; i++) {
        long want = 0;
        for (int j = 0; j < size; j++)
            want += (long)(start + j * stride) * 1000003 + i * 7 + iter;
        if (d[i] != want) {
            CHECK(0, "big sum_to_all set %d/%d/%d iter %d [%d] = %ld want %ld", start, log,
                  size, iter, i, d[i], want);
        }
    }
    shmem_sync(start, log, size, ps); /* everyone read d before it is written again */
    int root = iter % size;
    shmem_broadcast64(d, s, BIG, root, start, log, size, ps);
    int me = (ME - start) / stride;
    if (me != root)
        for (int i = 0; i < BIG; i++)
            if (d[i] != (long)(start + root * stride) * 1000003 + i * 7 + iter) {
                CHECK(0, "big broadcast64 set %d/%d/%d iter %d [%d]", start, log, size, iter, i);
            }
    shmem_sync(start, log, size, ps);
}

int main(void) {
    shmem_init();
    ME = shmem_my_pe();
    int npes = shmem_n_pes();
    for (int i = 0; i < SHMEM_REDUCE_SYNC_SIZE; i++)
        pSync[i] = SHMEM_SYNC_VALUE;
    run(0, 0, npes);
    /* the even PEs; odd PEs only take part in the (job-collective) allocations */
    int nev = (npes + 1) / 2;
    if (ME % 2 == 0) {
        run(0, 1, nev);
    } else {
        for (int k = 0; k < 4; k++)
            shmem_malloc(64 * sizeof(int64_t));
    }
    /* the upper half, as a contiguous set not starting at 0 */
    if (npes >= 2) {
        int h = npes / 2;
        if (ME >= h)
            run(h, 0, npes - h);
        else
            for (int k = 0; k < 4; k++)
                shmem_malloc(64 * sizeof(int64_t));
    }
    /* overlapping sets in turn, large messages */
    for (int i = 0; i < SHMEM_REDUCE_SYNC_SIZE; i++)
        pSyncA[i] = pSyncB[i] = pSyncC[i] = SHMEM_SYNC_VALUE;
    long *bs = shmem_malloc(3 * BIG * sizeof(long)), *bd = shmem_malloc(3 * BIG * sizeof(long));
    if (npes >= 2) {
        int h = npes / 2;
        for (int it = 0; it < 6; it++) {
            if (ME % 2 == 0)
                big(0, 1, nev, pSyncA, bs, bd, it);
            if (ME >= h)
                big(h, 0, npes - h, pSyncB, bs + BIG, bd + BIG, it);
            /* all but PE 0: its members' indices collide with the evens' on purpose */
            if (npes >= 3 && ME >= 1)
                big(1, 0, npes - 1, pSyncC, bs + 2 * BIG, bd + 2 * BIG, it);
        }
    }
    shmem_free(bs);
    shmem_free(bd);
    /* back-to-back barriers on overlapping sets */
    for (int i = 0; i < 20; i++) {
        shmem_barrier(0, 0, npes, pSync);
        if (ME % 2 == 0)
            shmem_barrier(0, 1, nev, pSync);
    }
    shmem_barrier_all();
    if (ME == 0)
        printf("active: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
