/* Team collectives on SHMEM_TEAM_WORLD and on the even PEs: broadcast(mem), collect(mem),
 * fcollect(mem), alltoall(s)(mem), every reduction op on every type the specification
 * lists for it (checked against a local reference computed from the same formula), long
 * double and complex reductions, the 1.6 sum scans, and the C11 generic names. */
#include "check.h"
#include <complex.h>
#include <string.h>

#define NR 5
static void *SRC, *DST, *AUX; /* symmetric pools, world-allocated */
static int ME;

/* Element i of world PE p's source. */
#define VAL(p, i) (((p) * 7 + (i) * 3 + 1) % 13 + 1)
#define BVAL(p, i) ((((p) * 37 + (i) * 11 + 5) & 0x7f) | (1 << ((p) % 7)))

#define F_AND(a, b) ((a) & (b))
#define F_OR(a, b) ((a) | (b))
#define F_XOR(a, b) ((a) ^ (b))
#define F_MAX(a, b) ((a) > (b) ? (a) : (b))
#define F_MIN(a, b) ((a) < (b) ? (a) : (b))
#define F_SUM(a, b) ((a) + (b))
#define F_PROD(a, b) ((a) * (b))

static int world_of(shmem_team_t t, int j) { return shmem_team_translate_pe(t, j, SHMEM_TEAM_WORLD); }

/* Reduce out of place and in place, compare every element with the reference. */
#define TEST_REDUCE(T, N, OP, F, V)                                                        \
    do {                                                                                   \
        T *src = (T *)SRC, *dst = (T *)DST;                                                \
        int tn = shmem_team_n_pes(team);                                                   \
        for (int i = 0; i < NR; i++)                                                       \
            src[i] = (T)V(ME, i);                                                          \
        CHECK(shmem_##N##_##OP##_reduce(team, dst, src, NR) == 0, #N "_" #OP " rc");       \
        for (int i = 0; i < NR; i++) {                                                     \
            T ref = (T)V(world_of(team, 0), i);                                            \
            for (int j = 1; j < tn; j++) {                                                 \
                T b = (T)V(world_of(team, j), i);                                          \
                ref = (T)F(ref, b);                                                        \
            }                                                                              \
            CHECK(dst[i] == ref, #N "_" #OP "_reduce[%d]: %g want %g", i, (double)dst[i],  \
                  (double)ref);                                                            \
        }                                                                                  \
        shmem_team_sync(team);                                                             \
        CHECK(shmem_##N##_##OP##_reduce(team, src, src, NR) == 0, "in place");             \
        for (int i = 0; i < NR; i++)                                                       \
            CHECK(src[i] == dst[i], #N "_" #OP " in place [%d]", i);                       \
        shmem_team_sync(team);                                                             \
    } while (0)

#define R_AND(T, N) TEST_REDUCE(T, N, and, F_AND, BVAL);
#define R_OR(T, N) TEST_REDUCE(T, N, or, F_OR, BVAL);
#define R_XOR(T, N) TEST_REDUCE(T, N, xor, F_XOR, BVAL);
#define R_MAX(T, N) TEST_REDUCE(T, N, max, F_MAX, VAL);
#define R_MIN(T, N) TEST_REDUCE(T, N, min, F_MIN, VAL);
#define R_SUM(T, N) TEST_REDUCE(T, N, sum, F_SUM, VAL);
#define R_PROD(T, N) TEST_REDUCE(T, N, prod, F_PROD, VAL);

static void reductions(shmem_team_t team) {
    RSHMEM_REDUCE_BITWISE_TYPES(R_AND)
    RSHMEM_REDUCE_BITWISE_TYPES(R_OR)
    RSHMEM_REDUCE_BITWISE_TYPES(R_XOR)
    RSHMEM_REDUCE_MINMAX_TYPES(R_MAX)
    RSHMEM_REDUCE_MINMAX_TYPES(R_MIN)
    RSHMEM_REDUCE_MINMAX_TYPES(R_SUM)
    RSHMEM_REDUCE_MINMAX_TYPES(R_PROD)
    /* long double (inline combiners in the header) */
    R_MAX(long double, longdouble)
    R_MIN(long double, longdouble)
    R_SUM(long double, longdouble)
    R_PROD(long double, longdouble)

    /* complex: z_p = (p+1) + i, sum and product against a local reference */
    int tn = shmem_team_n_pes(team);
    double _Complex *zs = (double _Complex *)SRC, *zd = (double _Complex *)DST;
    float _Complex *fs = (float _Complex *)AUX, *fd = (float _Complex *)AUX + NR;
    for (int i = 0; i < NR; i++) {
        zs[i] = (ME + 1 + i) + 1.0 * I;
        fs[i] = (float)(ME + 1) - (float)i * I;
    }
    double _Complex zsum = 0, zprod = 1;
    float _Complex fsum = 0, fprod = 1;
    for (int j = 0; j < tn; j++) {
        int p = world_of(team, j);
        zsum += (p + 1 + 2) + 1.0 * I;
        zprod *= (p + 1 + 2) + 1.0 * I;
        fsum += (float)(p + 1) - 2.0f * I;
        fprod *= (float)(p + 1) - 2.0f * I;
    }
    CHECK(shmem_complexd_sum_reduce(team, zd, zs, NR) == 0, "complexd sum");
    CHECK(zd[2] == zsum, "complexd sum %g%+gi", creal(zd[2]), cimag(zd[2]));
    CHECK(shmem_complexd_prod_reduce(team, zd, zs, NR) == 0, "complexd prod");
    CHECK(zd[2] == zprod, "complexd prod %g%+gi want %g%+gi", creal(zd[2]), cimag(zd[2]),
          creal(zprod), cimag(zprod));
    CHECK(shmem_complexf_sum_reduce(team, fd, fs, NR) == 0, "complexf sum");
    CHECK(fd[2] == fsum, "complexf sum");
    CHECK(shmem_complexf_prod_reduce(team, fd, fs, NR) == 0, "complexf prod");
    CHECK(fd[2] == fprod, "complexf prod");
    shmem_team_sync(team);
}

static void scans(shmem_team_t team) {
    int tme = shmem_team_my_pe(team);
    long *s = (long *)SRC, *d = (long *)DST;
    double *ds = (double *)AUX, *dd = (double *)AUX + NR;
    for (int i = 0; i < NR; i++) {
        s[i] = VAL(ME, i);
        ds[i] = 0.5 * VAL(ME, i);
    }
    CHECK(shmem_long_sum_inscan(team, d, s, NR) == 0, "inscan");
    for (int i = 0; i < NR; i++) {
        long ref = 0;
        for (int j = 0; j <= tme; j++)
            ref += VAL(world_of(team, j), i);
        CHECK(d[i] == ref, "inscan[%d] %ld want %ld", i, d[i], ref);
    }
    CHECK(shmem_double_sum_exscan(team, dd, ds, NR) == 0, "exscan");
    for (int i = 0; i < NR; i++) {
        double ref = 0;
        for (int j = 0; j < tme; j++)
            ref += 0.5 * VAL(world_of(team, j), i);
        CHECK(dd[i] == ref, "exscan[%d] %g want %g", i, dd[i], ref);
    }
    shmem_team_sync(team);
    /* generic */
    CHECK(shmem_sum_inscan(team, d, s, NR) == 0, "generic inscan");
    shmem_team_sync(team);
}

static void data(shmem_team_t team) {
    int tme = shmem_team_my_pe(team), tn = shmem_team_n_pes(team);
    int root = tn - 1;
    /* broadcast: the root's dest is written too (1.5) */
    int *is = (int *)SRC, *id = (int *)DST;
    for (int i = 0; i < NR; i++) {
        is[i] = 100 * ME + i;
        id[i] = -1;
    }
    /* 1.5: dest must be ready on every PE before any PE calls the broadcast */
    shmem_team_sync(team);
    CHECK(shmem_int_broadcast(team, id, is, NR, root) == 0, "broadcast");
    for (int i = 0; i < NR; i++)
        CHECK(id[i] == 100 * world_of(team, root) + i, "broadcast[%d] = %d", i, id[i]);
    shmem_team_sync(team);
    long double *ls = (long double *)SRC, *ld = (long double *)DST;
    ls[0] = 0.25L + ME;
    CHECK(shmem_longdouble_broadcast(team, ld, ls, 1, 0) == 0, "ld broadcast");
    CHECK(ld[0] == 0.25L + world_of(team, 0), "ld broadcast value");
    shmem_team_sync(team);
    memset(DST, 0, 64);
    ((char *)SRC)[0] = (char)('a' + ME);
    shmem_team_sync(team);
    CHECK(shmem_broadcastmem(team, DST, SRC, 1, 0) == 0, "broadcastmem");
    CHECK(((char *)DST)[0] == 'a' + world_of(team, 0), "broadcastmem value");
    shmem_team_sync(team);
    CHECK(shmem_int_broadcast(SHMEM_TEAM_INVALID, id, is, 1, 0) != 0, "invalid team accepted");

    /* collect: team PE j contributes j+1 ints of value 1000*j + k */
    for (int k = 0; k <= tme; k++)
        is[k] = 1000 * tme + k;
    CHECK(shmem_int_collect(team, id, is, (size_t)tme + 1) == 0, "collect");
    int at = 0;
    for (int j = 0; j < tn; j++)
        for (int k = 0; k <= j; k++, at++)
            CHECK(id[at] == 1000 * j + k, "collect[%d] = %d", at, id[at]);
    shmem_team_sync(team);
    CHECK(shmem_collectmem(team, DST, SRC, (size_t)tme * sizeof(int)) == 0, "collectmem");
    at = 0;
    for (int j = 0; j < tn; j++)
        for (int k = 0; k < j; k++, at++)
            CHECK(id[at] == 1000 * j + k, "collectmem[%d]", at);
    shmem_team_sync(team);

    /* fcollect: 2 longs each */
    long *lsrc = (long *)SRC, *ldst = (long *)DST;
    lsrc[0] = ME;
    lsrc[1] = -ME;
    CHECK(shmem_long_fcollect(team, ldst, lsrc, 2) == 0, "fcollect");
    for (int j = 0; j < tn; j++)
        CHECK(ldst[2 * j] == world_of(team, j) && ldst[2 * j + 1] == -world_of(team, j),
              "fcollect[%d]", j);
    shmem_team_sync(team);
    CHECK(shmem_fcollectmem(team, DST, SRC, sizeof(long)) == 0, "fcollectmem");
    for (int j = 0; j < tn; j++)
        CHECK(ldst[j] == world_of(team, j), "fcollectmem[%d]", j);
    shmem_team_sync(team);

    /* alltoall: block j of my source is for team PE j */
    for (int j = 0; j < tn; j++)
        for (int k = 0; k < 2; k++)
            is[2 * j + k] = 10000 * tme + 10 * j + k;
    CHECK(shmem_int_alltoall(team, id, is, 2) == 0, "alltoall");
    for (int j = 0; j < tn; j++)
        for (int k = 0; k < 2; k++)
            CHECK(id[2 * j + k] == 10000 * j + 10 * tme + k, "alltoall[%d][%d] = %d", j, k,
                  id[2 * j + k]);
    shmem_team_sync(team);
    CHECK(shmem_alltoallmem(team, DST, SRC, 2 * sizeof(int)) == 0, "alltoallmem");
    for (int j = 0; j < tn; j++)
        CHECK(id[2 * j] == 10000 * j + 10 * tme, "alltoallmem[%d]", j);
    shmem_team_sync(team);
    /* alltoalls: dst stride 2, sst stride 3, 2 elements per PE */
    long *as = (long *)SRC, *ad = (long *)DST;
    for (int x = 0; x < 3 * 2 * tn; x++)
        as[x] = 1000 * tme + x;
    for (int x = 0; x < 2 * 2 * tn; x++)
        ad[x] = -1;
    CHECK(shmem_long_alltoalls(team, ad, as, 2, 3, 2) == 0, "alltoalls");
    for (int j = 0; j < tn; j++)
        for (int k = 0; k < 2; k++) {
            long want = 1000 * j + 3 * (tme * 2 + k);
            CHECK(ad[2 * (j * 2 + k)] == want, "alltoalls[%d][%d] = %ld want %ld", j, k,
                  ad[2 * (j * 2 + k)], want);
            CHECK(ad[2 * (j * 2 + k) + 1] == -1, "alltoalls gap written");
        }
    shmem_team_sync(team);

    /* generic names */
    double *dsrc = (double *)SRC, *ddst = (double *)DST;
    dsrc[0] = ME + 0.5;
    CHECK(shmem_broadcast(team, ddst, dsrc, 1, 0) == 0, "generic broadcast");
    CHECK(ddst[0] == world_of(team, 0) + 0.5, "generic broadcast value");
    shmem_team_sync(team);
    CHECK(shmem_fcollect(team, ddst, dsrc, 1) == 0, "generic fcollect");
    CHECK(ddst[tn - 1] == world_of(team, tn - 1) + 0.5, "generic fcollect value");
    shmem_team_sync(team);
    CHECK(shmem_max_reduce(team, ddst, dsrc, 1) == 0, "generic max");
    double mx = 0;
    for (int j = 0; j < tn; j++)
        mx = F_MAX(mx, world_of(team, j) + 0.5);
    CHECK(ddst[0] == mx, "generic max value");
    unsigned int *us = (unsigned int *)SRC, *ud = (unsigned int *)DST;
    us[0] = 1u << ME;
    CHECK(shmem_or_reduce(team, ud, us, 1) == 0, "generic or");
    unsigned int all = 0;
    for (int j = 0; j < tn; j++)
        all |= 1u << world_of(team, j);
    CHECK(ud[0] == all, "generic or value %x want %x", ud[0], all);
    shmem_team_sync(team);
    int *gs = (int *)SRC, *gd = (int *)DST;
    gs[0] = 2;
    CHECK(shmem_sum_reduce(team, gd, gs, 1) == 0 && gd[0] == 2 * tn, "generic sum");
    shmem_team_sync(team);
    CHECK(shmem_alltoall(team, gd, gs, 0) == 0, "zero-length alltoall");
    CHECK(shmem_collect(team, gd, gs, 0) == 0, "zero-length collect");
}

int main(void) {
    shmem_init();
    ME = shmem_my_pe();
    int npes = shmem_n_pes();
    SRC = shmem_malloc(4096);
    DST = shmem_malloc(4096);
    AUX = shmem_malloc(4096);
    CHECK(SRC && DST && AUX, "malloc");

    data(SHMEM_TEAM_WORLD);
    reductions(SHMEM_TEAM_WORLD);
    scans(SHMEM_TEAM_WORLD);

    shmem_team_t evens;
    shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 2, (npes + 1) / 2, NULL, 0, &evens);
    if (evens != SHMEM_TEAM_INVALID) {
        data(evens);
        reductions(evens);
        scans(evens);
        shmem_team_destroy(evens);
    }
    /* a reversed team: team order differs from world order */
    shmem_team_t rev;
    shmem_team_split_strided(SHMEM_TEAM_WORLD, npes - 1, -1, npes, NULL, 0, &rev);
    data(rev);
    scans(rev);
    shmem_team_destroy(rev);

    shmem_barrier_all();
    if (ME == 0)
        printf("coll: ok on %d PEs\n", npes);
    shmem_free(AUX);
    shmem_free(DST);
    shmem_free(SRC);
    shmem_finalize();
    return 0;
}
