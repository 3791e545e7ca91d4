/* OpenSHMEM 1.6 additions: block-strided ibput/ibget (typed for several types, sized 8..128,
 * ctx forms on the default, a created and a reversed-team context, the C11 generic names)
 * with several strides and block sizes, checking every element that arrived AND that the
 * gaps between blocks (and past the last one) kept their sentinel; signal_set/signal_add
 * (+ ctx forms) observed by the target through shmem_signal_wait_until/signal_fetch;
 * pe_quiet / ctx_pe_quiet completing nbi puts before a signal; hint-only sessions.
 * Ring: every PE writes into its right neighbour and checks what its left neighbour wrote. */
#include "check.h"
#include <string.h>

#define MAXL 64 /* elements of every test array */
#define PAD 3   /* elements checked past the end of the last block */

static int me, npes, right, left;
static shmem_ctx_t g_ctx;  /* a context made by shmem_ctx_create */
static shmem_ctx_t g_rctx; /* a context on the reversed team: team PE k = world npes-1-k */

/* Value of element i written by PE pe (>= 1: never the sentinel). */
#define VAL(T, pe, i) ((T)((pe) * 7 + (i) + 1))
#define SCALAR_EQ(a, b) ((a) == (b))

typedef struct {
    uint64_t lo, hi;
} u128;
static u128 mk128(int pe, size_t i) {
    u128 v = {(uint64_t)pe << 32 | (uint64_t)i, ~(uint64_t)i};
    return v;
}
static int eq128(u128 a, u128 b) { return a.lo == b.lo && a.hi == b.hi; }
#define VAL128(T, pe, i) mk128(pe, i)
#define SENT128 ((u128){~(uint64_t)0, ~(uint64_t)0})

/* Is index j of an array written by blocks (dst apart, bsize long) inside block *b at *k? */
static int in_block(size_t j, ptrdiff_t dst, size_t bsize, size_t nblocks, size_t *b,
                    size_t *k) {
    if (bsize == 0 || nblocks == 0)
        return 0;
    *b = j / (size_t)dst;
    *k = j % (size_t)dst;
    return *b < nblocks && *k < bsize;
}

static size_t span(ptrdiff_t stride, size_t bsize, size_t nblocks) {
    return (bsize == 0 || nblocks == 0) ? 0 : (nblocks - 1) * (size_t)stride + bsize;
}

/* One ibput and one ibget of the given geometry (dst >= bsize: blocks do not overlap at the
 * destination), through PUTF/GETF (functions with the non-ctx ibput/ibget signature). */
#define IB_TEST(T, NAME, PUTF, GETF, MK, EQ, SENT)                                         \
    static void ib_##NAME(ptrdiff_t dst, ptrdiff_t sst, size_t bsize, size_t nblocks) {    \
        size_t L = span(dst, bsize, nblocks) + PAD, S = span(sst, bsize, nblocks) + PAD;   \
        CHECK(L <= MAXL && S <= MAXL, "test geometry too large");                          \
        T *a = shmem_malloc(MAXL * sizeof(T));                                             \
        T src[MAXL], loc[MAXL];                                                            \
        size_t b, k;                                                                       \
        CHECK(a != NULL, "malloc");                                                        \
        for (size_t i = 0; i < MAXL; i++) {                                                \
            a[i] = SENT;                                                                   \
            src[i] = MK(T, me, i);                                                         \
        }                                                                                  \
        shmem_barrier_all();                                                               \
        PUTF(a, src, dst, sst, bsize, nblocks, right);                                     \
        /* ibput returns when the source may be reused: clobber it */                      \
        for (size_t i = 0; i < MAXL; i++)                                                  \
            src[i] = SENT;                                                                 \
        shmem_barrier_all();                                                               \
        for (size_t j = 0; j < L; j++) {                                                   \
            if (in_block(j, dst, bsize, nblocks, &b, &k))                                  \
                CHECK(EQ(a[j], MK(T, left, b * (size_t)sst + k)),                          \
                      #PUTF " dst=%td sst=%td bsize=%zu nblocks=%zu: block %zu elem %zu",  \
                      dst, sst, bsize, nblocks, b, k);                                     \
            else                                                                           \
                CHECK(EQ(a[j], SENT),                                                      \
                      #PUTF " dst=%td sst=%td bsize=%zu nblocks=%zu: gap index %zu "       \
                            "was written",                                                 \
                      dst, sst, bsize, nblocks, j);                                        \
        }                                                                                  \
        /* ibget: my right neighbour's a[] holds its values; gather blocks into loc[] */   \
        shmem_barrier_all();                                                               \
        for (size_t i = 0; i < MAXL; i++) {                                                \
            a[i] = MK(T, me, i);                                                           \
            loc[i] = SENT;                                                                 \
        }                                                                                  \
        shmem_barrier_all();                                                               \
        GETF(loc, a, dst, sst, bsize, nblocks, right);                                     \
        for (size_t j = 0; j < L; j++) {                                                   \
            if (in_block(j, dst, bsize, nblocks, &b, &k))                                  \
                CHECK(EQ(loc[j], MK(T, right, b * (size_t)sst + k)),                       \
                      #GETF " dst=%td sst=%td bsize=%zu nblocks=%zu: block %zu elem %zu",  \
                      dst, sst, bsize, nblocks, b, k);                                     \
            else                                                                           \
                CHECK(EQ(loc[j], SENT),                                                    \
                      #GETF " dst=%td sst=%td bsize=%zu nblocks=%zu: gap index %zu "       \
                            "was written",                                                 \
                      dst, sst, bsize, nblocks, j);                                        \
        }                                                                                  \
        shmem_barrier_all();                                                               \
        shmem_free(a);                                                                     \
    }

/* ctx wrappers with the plain signature */
#define CTX_WRAP(T, NAME, CTX, TAG, TOPE)                                                  \
    static void TAG##_##NAME##_ibput(T *d, const T *s, ptrdiff_t dst, ptrdiff_t sst,       \
                                     size_t bs, size_t nb, int pe) {                       \
        shmem_ctx_##NAME##_ibput(CTX, d, s, dst, sst, bs, nb, TOPE(pe));                   \
    }                                                                                      \
    static void TAG##_##NAME##_ibget(T *d, const T *s, ptrdiff_t dst, ptrdiff_t sst,       \
                                     size_t bs, size_t nb, int pe) {                       \
        shmem_ctx_##NAME##_ibget(CTX, d, s, dst, sst, bs, nb, TOPE(pe));                   \
    }
#define SAME(pe) (pe)
#define REV(pe) (npes - 1 - (pe)) /* world PE -> reversed-team PE */

CTX_WRAP(int, int, SHMEM_CTX_DEFAULT, dflt, SAME)
CTX_WRAP(double, double, g_ctx, made, SAME)
CTX_WRAP(long, long, g_rctx, rev, REV)
CTX_WRAP(uint32_t, uint32, g_rctx, rev, REV)

/* sized ctx forms (void pointers) */
static void ctx_ibput64(uint64_t *d, const uint64_t *s, ptrdiff_t dst, ptrdiff_t sst,
                        size_t bs, size_t nb, int pe) {
    shmem_ctx_ibput64(g_rctx, d, s, dst, sst, bs, nb, REV(pe));
}
static void ctx_ibget64(uint64_t *d, const uint64_t *s, ptrdiff_t dst, ptrdiff_t sst,
                        size_t bs, size_t nb, int pe) {
    shmem_ctx_ibget64(g_rctx, d, s, dst, sst, bs, nb, REV(pe));
}
static void ctx_ibput16(uint16_t *d, const uint16_t *s, ptrdiff_t dst, ptrdiff_t sst,
                        size_t bs, size_t nb, int pe) {
    shmem_ctx_ibput16(g_ctx, d, s, dst, sst, bs, nb, pe);
}
static void ctx_ibget16(uint16_t *d, const uint16_t *s, ptrdiff_t dst, ptrdiff_t sst,
                        size_t bs, size_t nb, int pe) {
    shmem_ctx_ibget16(g_ctx, d, s, dst, sst, bs, nb, pe);
}
/* C11 generic names */
static void gen_ibput(short *d, const short *s, ptrdiff_t dst, ptrdiff_t sst, size_t bs,
                      size_t nb, int pe) {
    shmem_ibput(d, s, dst, sst, bs, nb, pe);
}
static void gen_ibget(short *d, const short *s, ptrdiff_t dst, ptrdiff_t sst, size_t bs,
                      size_t nb, int pe) {
    shmem_ibget(d, s, dst, sst, bs, nb, pe);
}
static void gen_ibput_f(float *d, const float *s, ptrdiff_t dst, ptrdiff_t sst, size_t bs,
                        size_t nb, int pe) {
    shmem_ibput(d, s, dst, sst, bs, nb, pe);
}
static void gen_ibget_f(float *d, const float *s, ptrdiff_t dst, ptrdiff_t sst, size_t bs,
                        size_t nb, int pe) {
    shmem_ibget(d, s, dst, sst, bs, nb, pe);
}

/* typed */
IB_TEST(int, int, shmem_int_ibput, shmem_int_ibget, VAL, SCALAR_EQ, (int)-1)
IB_TEST(long, long, shmem_long_ibput, shmem_long_ibget, VAL, SCALAR_EQ, (long)-1)
IB_TEST(double, double, shmem_double_ibput, shmem_double_ibget, VAL, SCALAR_EQ, -1.0)
IB_TEST(long double, longdouble, shmem_longdouble_ibput, shmem_longdouble_ibget, VAL,
        SCALAR_EQ, -1.0L)
IB_TEST(char, char, shmem_char_ibput, shmem_char_ibget, VAL, SCALAR_EQ, (char)-1)
IB_TEST(unsigned char, uchar, shmem_uchar_ibput, shmem_uchar_ibget, VAL, SCALAR_EQ,
        (unsigned char)0xff)
IB_TEST(short, short, shmem_short_ibput, shmem_short_ibget, VAL, SCALAR_EQ, (short)-1)
IB_TEST(uint64_t, uint64, shmem_uint64_ibput, shmem_uint64_ibget, VAL, SCALAR_EQ,
        UINT64_MAX)
IB_TEST(ptrdiff_t, ptrdiff, shmem_ptrdiff_ibput, shmem_ptrdiff_ibget, VAL, SCALAR_EQ,
        (ptrdiff_t)-1)
/* sized */
IB_TEST(uint8_t, s8, shmem_ibput8, shmem_ibget8, VAL, SCALAR_EQ, (uint8_t)0xff)
IB_TEST(uint16_t, s16, shmem_ibput16, shmem_ibget16, VAL, SCALAR_EQ, (uint16_t)0xffff)
IB_TEST(uint32_t, s32, shmem_ibput32, shmem_ibget32, VAL, SCALAR_EQ, UINT32_MAX)
IB_TEST(uint64_t, s64, shmem_ibput64, shmem_ibget64, VAL, SCALAR_EQ, UINT64_MAX)
IB_TEST(u128, s128, shmem_ibput128, shmem_ibget128, VAL128, eq128, SENT128)
/* ctx */
IB_TEST(int, ctx_dflt_int, dflt_int_ibput, dflt_int_ibget, VAL, SCALAR_EQ, (int)-1)
IB_TEST(double, ctx_made_double, made_double_ibput, made_double_ibget, VAL, SCALAR_EQ, -1.0)
IB_TEST(long, ctx_rev_long, rev_long_ibput, rev_long_ibget, VAL, SCALAR_EQ, (long)-1)
IB_TEST(uint32_t, ctx_rev_uint32, rev_uint32_ibput, rev_uint32_ibget, VAL, SCALAR_EQ,
        UINT32_MAX)
IB_TEST(uint64_t, ctx_s64, ctx_ibput64, ctx_ibget64, VAL, SCALAR_EQ, UINT64_MAX)
IB_TEST(uint16_t, ctx_s16, ctx_ibput16, ctx_ibget16, VAL, SCALAR_EQ, (uint16_t)0xffff)
/* generic */
IB_TEST(short, gen_short, gen_ibput, gen_ibget, VAL, SCALAR_EQ, (short)-1)
IB_TEST(float, gen_float, gen_ibput_f, gen_ibget_f, VAL, SCALAR_EQ, -1.0f)

typedef void (*ib_fn)(ptrdiff_t, ptrdiff_t, size_t, size_t);

/* dst, sst, bsize, nblocks (dst >= bsize) */
static const struct {
    ptrdiff_t dst, sst;
    size_t bsize, nblocks;
} geoms[] = {
    {3, 2, 2, 4},  /* 1-element gaps at dest, contiguous source */
    {5, 7, 3, 3},  /* gaps on both sides */
    {4, 4, 4, 3},  /* dst == sst == bsize: contiguous */
    {2, 5, 1, 6},  /* bsize 1: an iput with a stride */
    {6, 3, 3, 1},  /* one block */
    {4, 2, 3, 3},  /* overlapping source blocks (allowed for the source) */
    {7, 1, 5, 4},  /* source blocks shifted by one element */
    {1, 1, 1, 9},  /* all contiguous, block of 1 */
    {3, 1, 0, 4},  /* bsize 0: nothing moves */
    {3, 3, 2, 0},  /* nblocks 0: nothing moves */
};

static const ib_fn fns[] = {ib_int,          ib_long,         ib_double,       ib_longdouble,
                         ib_char,         ib_uchar,        ib_short,        ib_uint64,
                         ib_ptrdiff,      ib_s8,           ib_s16,          ib_s32,
                         ib_s64,          ib_s128,         ib_ctx_dflt_int, ib_ctx_made_double,
                         ib_ctx_rev_long, ib_ctx_rev_uint32, ib_ctx_s64,   ib_ctx_s16,
                         ib_gen_short,    ib_gen_float};
#define NFNS (sizeof fns / sizeof fns[0])
#define NGEOMS (sizeof geoms / sizeof geoms[0])

static void test_ib(void) {
    for (size_t f = 0; f < NFNS; f++)
        for (size_t g = 0; g < NGEOMS; g++)
            fns[f](geoms[g].dst, geoms[g].sst, geoms[g].bsize, geoms[g].nblocks);
}

static void test_signal(void) {
    uint64_t *sig = shmem_calloc(8, sizeof(uint64_t));
    CHECK(sig != NULL, "calloc");
    shmem_barrier_all();

    /* signal_set: the target sees exactly my value */
    shmem_signal_set(&sig[0], 1000 + (uint64_t)me, right);
    uint64_t s = shmem_signal_wait_until(&sig[0], SHMEM_CMP_NE, 0);
    CHECK(s == 1000 + (uint64_t)left, "signal_set: got %llu want %d", (unsigned long long)s,
          1000 + left);
    CHECK(shmem_signal_fetch(&sig[0]) == 1000 + (uint64_t)left, "signal_fetch after set");
    shmem_barrier_all();
    /* a second set overwrites (not adds) */
    shmem_signal_set(&sig[0], 5, right);
    shmem_barrier_all();
    s = shmem_signal_fetch(&sig[0]);
    CHECK(s == 5, "second signal_set: %llu", (unsigned long long)s);

    /* signal_add: every PE adds me+1 to sig[1] on every PE, twice */
    for (int rep = 0; rep < 2; rep++)
        for (int pe = 0; pe < npes; pe++)
            shmem_signal_add(&sig[1], (uint64_t)me + 1, pe);
    uint64_t want = (uint64_t)npes * (uint64_t)(npes + 1); /* 2 * n(n+1)/2 */
    s = shmem_signal_wait_until(&sig[1], SHMEM_CMP_GE, want);
    CHECK(s == want, "signal_add total %llu want %llu", (unsigned long long)s,
          (unsigned long long)want);
    shmem_barrier_all();
    CHECK(shmem_signal_fetch(&sig[1]) == want, "signal_add overshoot: %llu",
          (unsigned long long)shmem_signal_fetch(&sig[1]));

    /* add wraps modulo 2^64 */
    shmem_signal_set(&sig[2], UINT64_MAX - 1, me);
    shmem_signal_add(&sig[2], 3, me);
    CHECK(shmem_signal_fetch(&sig[2]) == 1, "signal_add wrap: %llu",
          (unsigned long long)shmem_signal_fetch(&sig[2]));

    /* ctx forms: default context, a created one and the reversed team's (team PE
     * npes-1-right is my right neighbour) */
    shmem_signal_add(&sig[3], 50, right);
    shmem_quiet();
    shmem_ctx_signal_set(SHMEM_CTX_DEFAULT, &sig[3], 7, right); /* overwrites the 50 */
    shmem_ctx_quiet(SHMEM_CTX_DEFAULT); /* the set lands before the adds (other contexts) */
    shmem_ctx_signal_add(g_ctx, &sig[3], 10, right);
    shmem_ctx_signal_add(g_rctx, &sig[3], 100, REV(right));
    s = shmem_signal_wait_until(&sig[3], SHMEM_CMP_GE, 117);
    CHECK(s == 117, "ctx signal_set/add: %llu", (unsigned long long)s);
    shmem_barrier_all();
    shmem_ctx_signal_set(g_rctx, &sig[4], 40 + (uint64_t)me, REV(right));
    s = shmem_signal_wait_until(&sig[4], SHMEM_CMP_NE, 0);
    CHECK(s == 40 + (uint64_t)left, "reversed-team ctx signal_set came from %llu",
          (unsigned long long)s - 40);
    shmem_barrier_all();
    shmem_free(sig);
}

static void test_pe_quiet(void) {
    long *data = shmem_calloc((size_t)npes * 2, sizeof(long));
    uint64_t *sig = shmem_calloc(2, sizeof(uint64_t));
    int *all = malloc((size_t)npes * sizeof(int));
    CHECK(data != NULL && sig != NULL && all != NULL, "alloc");
    for (int i = 0; i < npes; i++)
        all[i] = i;
    shmem_barrier_all();

    /* npes == 0: target_pes is not read */
    shmem_pe_quiet(NULL, 0);
    shmem_ctx_pe_quiet(SHMEM_CTX_DEFAULT, NULL, 0);

    /* nbi puts to every PE, pe_quiet on all of them, then one signal each: whoever sees the
     * signal count reach npes sees every put */
    long v[2];
    for (int pe = 0; pe < npes; pe++) {
        v[0] = 10L * me + pe + 1;
        shmem_long_put_nbi(&data[me], &v[0], 1, pe);
    }
    shmem_pe_quiet(all, (size_t)npes);
    for (int pe = 0; pe < npes; pe++)
        shmem_signal_add(&sig[0], 1, pe);
    shmem_signal_wait_until(&sig[0], SHMEM_CMP_EQ, (uint64_t)npes);
    for (int pe = 0; pe < npes; pe++)
        CHECK(data[pe] == 10L * pe + me + 1, "pe_quiet: data from PE %d = %ld", pe, data[pe]);

    /* a single target, through contexts: right neighbour by world and by reversed team */
    v[0] = 500 + me;
    v[1] = 600 + me;
    shmem_ctx_long_put_nbi(g_ctx, &data[npes], &v[0], 1, right);
    shmem_ctx_pe_quiet(g_ctx, &right, 1);
    int rev_right = REV(right);
    shmem_ctx_long_put_nbi(g_rctx, &data[npes + 1], &v[1], 1, rev_right);
    shmem_ctx_pe_quiet(g_rctx, &rev_right, 1);
    shmem_signal_add(&sig[1], 1, right);
    shmem_signal_wait_until(&sig[1], SHMEM_CMP_EQ, 1);
    CHECK(data[npes] == 500 + left, "ctx_pe_quiet: %ld", data[npes]);
    CHECK(data[npes + 1] == 600 + left, "reversed ctx_pe_quiet: %ld", data[npes + 1]);
    shmem_barrier_all();
    free(all);
    shmem_free(sig);
    shmem_free(data);
}

/* Sessions are hints: a batch of nbi AMOs/puts inside a session behaves as without one. */
static void test_session(void) {
    long *cnt = shmem_calloc(2, sizeof(long));
    CHECK(cnt != NULL, "calloc");
    shmem_barrier_all();
    shmem_ctx_session_config_t cfg = {.total_ops = 2 * (size_t)npes};
    shmem_ctx_session_start(g_ctx, SHMEM_CTX_SESSION_BATCH, &cfg, SHMEM_CTX_SESSION_TOTAL_OPS);
    shmem_ctx_session_start(g_ctx, 0, NULL, 0); /* combining: defaults, no config */
    for (int pe = 0; pe < npes; pe++) {
        shmem_ctx_long_atomic_add(g_ctx, &cnt[0], me + 1, pe);
        long v = me;
        shmem_ctx_long_put_nbi(g_ctx, &cnt[1], &v, 1, right);
    }
    shmem_ctx_session_stop(g_ctx);
    shmem_ctx_session_stop(g_ctx); /* stopping twice has no effect */
    shmem_ctx_session_start(SHMEM_CTX_INVALID, SHMEM_CTX_SESSION_BATCH, NULL, 0); /* no-op */
    shmem_ctx_session_stop(SHMEM_CTX_INVALID);
    shmem_ctx_quiet(g_ctx);
    shmem_barrier_all();
    CHECK(cnt[0] == (long)npes * (npes + 1) / 2, "session AMO total %ld", cnt[0]);
    CHECK(cnt[1] == left, "session put %ld", cnt[1]);
    shmem_barrier_all();
    shmem_free(cnt);
}

int main(void) {
    shmem_init();
    me = shmem_my_pe();
    npes = shmem_n_pes();
    right = (me + 1) % npes;
    left = (me + npes - 1) % npes;

    CHECK(shmem_ctx_create(0, &g_ctx) == 0, "ctx_create");
    shmem_team_t rev;
    shmem_team_config_t cfg = {.num_contexts = 1};
    CHECK(shmem_team_split_strided(SHMEM_TEAM_WORLD, npes - 1, -1, npes, &cfg,
                                   SHMEM_TEAM_NUM_CONTEXTS, &rev) == 0,
          "split reversed");
    CHECK(shmem_team_create_ctx(rev, 0, &g_rctx) == 0, "team_create_ctx");

    test_ib();
    test_signal();
    test_pe_quiet();
    test_session();

    shmem_ctx_destroy(g_rctx);
    shmem_ctx_destroy(g_ctx);
    shmem_team_destroy(rev);
    shmem_barrier_all();
    if (me == 0)
        printf("v16: ok on %d PEs (%zu ibput/ibget variants x %zu geometries)\n", npes,
               NFNS, NGEOMS);
    shmem_finalize();
    return 0;
}
