// The C++ overloads of the generic names (shmem_cxx.h): every family, with and without a
// context, on several element types (a wrong dispatch moves the wrong number of bytes or
// hits the wrong type, which the value checks see), plus the complex reductions declared
// with std::complex. Written from the 1.5/1.6 synopses ("C11" column, which C++ gets as
// overloads).
#include <shmem.h>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "FAIL PE %d %s:%d: %s: ", shmem_my_pe(), __FILE__,        \
                         __LINE__, #cond);                                                 \
            std::fprintf(stderr, __VA_ARGS__);                                             \
            std::fprintf(stderr, "\n");                                                    \
            std::fflush(stderr);                                                           \
            shmem_global_exit(1);                                                          \
        }                                                                                  \
    } while (0)

template <class T> static T *sym(size_t n) {
    T *p = static_cast<T *>(shmem_calloc(n, sizeof(T)));
    CHECK(p != nullptr, "shmem_calloc");
    return p;
}

static int me, npes, right, left;

static void rma(shmem_ctx_t ctx, int round) {
    const int N = 8;
    long *a = sym<long>(N);
    short *s = sym<short>(2 * N);
    double *d = sym<double>(2 * N);
    char *c = sym<char>(N);
    uint64_t *sig = sym<uint64_t>(2);
    long src[N];
    short ssrc[N];
    double dsrc[2 * N];
    char csrc[N];
    for (int i = 0; i < N; i++) {
        src[i] = me * 100 + i + round;
        ssrc[i] = (short)(me * 10 + i);
        csrc[i] = (char)('a' + me + i);
    }
    for (int i = 0; i < 2 * N; i++)
        dsrc[i] = me + i * 0.5;
    shmem_barrier_all();
    if (ctx == SHMEM_CTX_INVALID) {
        shmem_put(a, src, N, right);
        shmem_put_nbi(c, csrc, N, right);
        shmem_iput(s, ssrc, 2, 1, N, right); // s[0,2,4,..] = ssrc[0..N)
        shmem_ibput(d, dsrc, 4, 4, 2, 3, right); // blocks of 2 at 0,4,8
        shmem_p(&s[1], (short)(-me - 1), right);
        shmem_quiet();
    } else {
        shmem_put(ctx, a, src, N, right);
        shmem_put_nbi(ctx, c, csrc, N, right);
        shmem_iput(ctx, s, ssrc, 2, 1, N, right);
        shmem_ibput(ctx, d, dsrc, 4, 4, 2, 3, right);
        shmem_p(ctx, &s[1], (short)(-me - 1), right);
        shmem_ctx_quiet(ctx);
    }
    shmem_barrier_all();
    for (int i = 0; i < N; i++) {
        CHECK(a[i] == left * 100 + i + round, "put a[%d]=%ld", i, a[i]);
        CHECK(c[i] == (char)('a' + left + i), "put_nbi c[%d]", i);
        CHECK(s[2 * i] == (short)(left * 10 + i), "iput s[%d]=%d", 2 * i, s[2 * i]);
    }
    CHECK(s[1] == -left - 1, "p s[1]=%d", s[1]);
    for (int b = 0; b < 3; b++)
        for (int k = 0; k < 4; k++) {
            double want = k < 2 ? left + (4 * b + k) * 0.5 : 0.0;
            CHECK(d[4 * b + k] == want, "ibput d[%d]=%g want %g", 4 * b + k, d[4 * b + k], want);
        }
    // Reads back from the right neighbour what it holds (written by us).
    long got[N];
    short sgot[N];
    double dgot[6];
    char cgot[N];
    std::memset(dgot, 0, sizeof dgot);
    if (ctx == SHMEM_CTX_INVALID) {
        shmem_get(got, a, N, right);
        shmem_get_nbi(cgot, c, N, right);
        shmem_iget(sgot, s, 1, 2, N, right);
        shmem_ibget(dgot, d, 2, 4, 2, 3, right);
        shmem_quiet();
        CHECK(shmem_g(&s[1], right) == -me - 1, "g");
    } else {
        shmem_get(ctx, got, a, N, right);
        shmem_get_nbi(ctx, cgot, c, N, right);
        shmem_iget(ctx, sgot, s, 1, 2, N, right);
        shmem_ibget(ctx, dgot, d, 2, 4, 2, 3, right);
        shmem_ctx_quiet(ctx);
        CHECK(shmem_g(ctx, &s[1], right) == -me - 1, "g ctx");
    }
    for (int i = 0; i < N; i++) {
        CHECK(got[i] == src[i], "get[%d]=%ld", i, got[i]);
        CHECK(cgot[i] == csrc[i], "get_nbi[%d]", i);
        CHECK(sgot[i] == ssrc[i], "iget[%d]=%d", i, sgot[i]);
    }
    for (int b = 0; b < 3; b++)
        for (int k = 0; k < 2; k++)
            CHECK(dgot[2 * b + k] == dsrc[4 * b + k], "ibget[%d]", 2 * b + k);
    // put_signal: data then signal; the receiver waits on the signal only.
    shmem_barrier_all();
    for (int i = 0; i < N; i++)
        src[i] = -(me * 1000 + i);
    if (ctx == SHMEM_CTX_INVALID) {
        shmem_put_signal(a, src, N, &sig[0], 7, SHMEM_SIGNAL_SET, right);
        shmem_put_signal_nbi(d, dsrc, 2 * N, &sig[1], 2, SHMEM_SIGNAL_ADD, right);
    } else {
        shmem_put_signal(ctx, a, src, N, &sig[0], 7, SHMEM_SIGNAL_SET, right);
        shmem_put_signal_nbi(ctx, d, dsrc, 2 * N, &sig[1], 2, SHMEM_SIGNAL_ADD, right);
    }
    CHECK(shmem_signal_wait_until(&sig[0], SHMEM_CMP_EQ, 7) == 7, "signal set");
    CHECK(shmem_signal_wait_until(&sig[1], SHMEM_CMP_EQ, 2) == 2, "signal add");
    for (int i = 0; i < N; i++)
        CHECK(a[i] == -(left * 1000 + i), "put_signal a[%d]=%ld", i, a[i]);
    for (int i = 0; i < 2 * N; i++)
        CHECK(d[i] == left + i * 0.5, "put_signal_nbi d[%d]", i);
    shmem_barrier_all();
    if (ctx == SHMEM_CTX_INVALID)
        shmem_signal_add(&sig[1], 3, right);
    else
        shmem_signal_add(ctx, &sig[1], 3, right);
    shmem_barrier_all();
    CHECK(sig[1] == 5, "signal_add %llu", (unsigned long long)sig[1]);
    shmem_barrier_all();
    if (ctx == SHMEM_CTX_INVALID)
        shmem_signal_set(&sig[1], 11, right);
    else
        shmem_signal_set(ctx, &sig[1], 11, right);
    shmem_barrier_all();
    CHECK(sig[1] == 11, "signal_set");
    shmem_barrier_all();
    shmem_free(sig);
    shmem_free(c);
    shmem_free(d);
    shmem_free(s);
    shmem_free(a);
}

// Every AMO name on PE 0's words; ctx == SHMEM_CTX_INVALID means the plain forms.
#define AMO(op, ...) (ctx == SHMEM_CTX_INVALID ? shmem_##op(__VA_ARGS__) : shmem_##op(ctx, __VA_ARGS__))
static void amo(shmem_ctx_t ctx) {
    long *l = sym<long>(4);
    unsigned *u = sym<unsigned>(4);
    double *d = sym<double>(2);
    size_t *z = sym<size_t>(1);
    int *i32 = sym<int>(2);
    long fetched[4];
    shmem_barrier_all();
    AMO(atomic_add, &l[0], (long)(me + 1), 0);
    AMO(atomic_inc, &l[1], 0);
    long prev = AMO(atomic_fetch_add, &l[2], 10L, 0);
    CHECK(prev % 10 == 0 && prev >= 0 && prev < 10L * npes, "fetch_add %ld", prev);
    long pinc = AMO(atomic_fetch_inc, &l[3], 0);
    CHECK(pinc >= 0 && pinc < npes, "fetch_inc %ld", pinc);
    AMO(atomic_fetch_or, &u[0], 1u << me, 0);
    AMO(atomic_or, &u[1], 1u << me, 0);
    AMO(atomic_xor, &u[2], 1u << me, 0);
    AMO(atomic_add, z, (size_t)2, 0);
    AMO(atomic_fetch_xor, &i32[0], 1 << me, 0);
    shmem_barrier_all();
    if (me == 0) {
        CHECK(l[0] == (long)npes * (npes + 1) / 2, "add total %ld", l[0]);
        CHECK(l[1] == npes && l[2] == 10L * npes && l[3] == npes, "inc/fetch_add/fetch_inc");
        unsigned all = (1u << npes) - 1;
        CHECK(u[0] == all && u[1] == all && u[2] == all, "or/xor %x %x %x", u[0], u[1], u[2]);
        CHECK(*z == 2u * npes, "size_t add");
        CHECK(i32[0] == (int)all, "int fetch_xor");
    }
    shmem_barrier_all();
    // and, fetch_and, compare_swap (one winner), swap/set/fetch on double.
    AMO(atomic_and, &u[0], ~(1u << me), 0);
    unsigned before = AMO(atomic_fetch_and, &u[1], ~(1u << me), 0);
    CHECK(before & (1u << me), "fetch_and saw our bit");
    long old = AMO(atomic_compare_swap, &l[0], (long)npes * (npes + 1) / 2, -1L - me, 0);
    shmem_barrier_all();
    long winner = AMO(atomic_fetch, &l[0], 0);
    CHECK(winner < 0 && winner >= -npes, "compare_swap winner %ld", winner);
    CHECK((old == (long)npes * (npes + 1) / 2) == (winner == -1L - me), "one winner");
    if (me == 0) {
        CHECK(u[0] == 0 && u[1] == 0, "and");
        AMO(atomic_set, &d[0], 2.5, npes - 1);
        double was = AMO(atomic_swap, &d[0], 4.25, npes - 1);
        CHECK(was == 2.5, "double swap %g", was);
        CHECK(AMO(atomic_fetch, &d[0], npes - 1) == 4.25, "double fetch");
    }
    shmem_barrier_all();
    // The _nbi fetching forms, completed by a quiet.
    AMO(atomic_fetch_nbi, &fetched[0], &l[1], 0);
    AMO(atomic_fetch_inc_nbi, &fetched[1], &l[3], 0);
    AMO(atomic_fetch_add_nbi, &fetched[2], &l[2], 1L, 0);
    long sw = 0;
    AMO(atomic_swap_nbi, &sw, &l[1], (long)npes, 0);
    unsigned uf[3];
    AMO(atomic_fetch_or_nbi, &uf[0], &u[3], 1u << me, 0);
    AMO(atomic_fetch_xor_nbi, &uf[1], &u[2], 0u, 0);
    AMO(atomic_fetch_and_nbi, &uf[2], &u[0], ~0u, 0);
    long cs = 0;
    AMO(atomic_compare_swap_nbi, &cs, &l[3], -5L, 0L, 0); // never equal: no change
    if (ctx == SHMEM_CTX_INVALID)
        shmem_quiet();
    else
        shmem_ctx_quiet(ctx);
    CHECK(fetched[0] == npes, "fetch_nbi %ld", fetched[0]);
    CHECK(fetched[1] >= npes && fetched[1] < 2 * npes, "fetch_inc_nbi %ld", fetched[1]);
    CHECK(fetched[2] >= 10L * npes && fetched[2] < 11L * npes, "fetch_add_nbi %ld", fetched[2]);
    CHECK(sw == npes, "swap_nbi %ld", sw);
    CHECK(uf[1] == (1u << npes) - 1 && uf[2] == 0, "fetch_xor/and_nbi");
    CHECK(cs >= npes, "compare_swap_nbi fetched %ld", cs);
    shmem_barrier_all();
    if (me == 0)
        CHECK(u[3] == (1u << npes) - 1, "fetch_or_nbi");
    shmem_barrier_all();
    shmem_free(i32);
    shmem_free(z);
    shmem_free(d);
    shmem_free(u);
    shmem_free(l);
}
#undef AMO

static void p2p() {
    int *flag = sym<int>(4);
    long *vec = sym<long>(3);
    shmem_barrier_all();
    shmem_p(&flag[0], 1, right);
    shmem_wait_until(&flag[0], SHMEM_CMP_EQ, 1);
    for (int i = 0; i < 3; i++)
        shmem_p(&vec[i], (long)(i + 1), right);
    shmem_quiet();
    int status[3] = {0, 0, 0};
    size_t idx[3];
    long want[3] = {1, 2, 3};
    shmem_wait_until_all(vec, 3, status, SHMEM_CMP_GT, 0L);
    CHECK(shmem_wait_until_any(vec, 3, status, SHMEM_CMP_EQ, 2L) == 1, "wait_until_any");
    CHECK(shmem_wait_until_some(vec, 3, idx, status, SHMEM_CMP_GE, 2L) == 2, "wait_until_some");
    shmem_wait_until_all_vector(vec, 3, status, SHMEM_CMP_EQ, want);
    CHECK(shmem_wait_until_any_vector(vec, 3, status, SHMEM_CMP_EQ, want) < 3, "any_vector");
    CHECK(shmem_wait_until_some_vector(vec, 3, idx, status, SHMEM_CMP_EQ, want) == 3,
          "some_vector");
    CHECK(shmem_test(&flag[0], SHMEM_CMP_EQ, 1) == 1, "test");
    CHECK(shmem_test(&flag[1], SHMEM_CMP_EQ, 1) == 0, "test false");
    CHECK(shmem_test_all(vec, 3, status, SHMEM_CMP_NE, 0L) == 1, "test_all");
    CHECK(shmem_test_any(vec, 3, status, SHMEM_CMP_EQ, 3L) == 2, "test_any");
    CHECK(shmem_test_some(vec, 3, idx, status, SHMEM_CMP_LE, 2L) == 2, "test_some");
    CHECK(shmem_test_all_vector(vec, 3, status, SHMEM_CMP_EQ, want) == 1, "test_all_vector");
    CHECK(shmem_test_any_vector(vec, 3, status, SHMEM_CMP_EQ, want) < 3, "test_any_vector");
    CHECK(shmem_test_some_vector(vec, 3, idx, status, SHMEM_CMP_EQ, want) == 3,
          "test_some_vector");
    shmem_barrier_all();
    shmem_free(vec);
    shmem_free(flag);
}

static void coll() {
    shmem_team_t w = SHMEM_TEAM_WORLD;
    const int N = 3;
    int *src = sym<int>(N);
    int *dst = sym<int>(N * npes);
    double *fs = sym<double>(N);
    double *fd = sym<double>(N * npes);
    unsigned long *us = sym<unsigned long>(1);
    unsigned long *ud = sym<unsigned long>(1);
    long double *ls = sym<long double>(1);
    long double *ld = sym<long double>(1);
    std::complex<double> *cs = sym<std::complex<double>>(1);
    std::complex<double> *cd = sym<std::complex<double>>(1);
    std::complex<float> *xs = sym<std::complex<float>>(1);
    std::complex<float> *xd = sym<std::complex<float>>(1);
    for (int i = 0; i < N; i++) {
        src[i] = me * 10 + i;
        fs[i] = me + i * 0.25;
    }
    *us = 1ul << me;
    *ls = me + 1;
    *cs = std::complex<double>(me, 1);
    *xs = std::complex<float>(1, (float)me);
    shmem_barrier_all();
    CHECK(shmem_broadcast(w, dst, src, N, npes - 1) == 0, "broadcast");
    for (int i = 0; i < N; i++)
        CHECK(dst[i] == (npes - 1) * 10 + i, "broadcast[%d]=%d", i, dst[i]);
    shmem_sync(w);
    CHECK(shmem_fcollect(w, fd, fs, N) == 0, "fcollect");
    for (int p = 0; p < npes; p++)
        for (int i = 0; i < N; i++)
            CHECK(fd[p * N + i] == p + i * 0.25, "fcollect[%d]", p * N + i);
    shmem_sync(w);
    CHECK(shmem_collect(w, dst, src, 1) == 0, "collect");
    for (int p = 0; p < npes; p++)
        CHECK(dst[p] == p * 10, "collect[%d]=%d", p, dst[p]);
    shmem_sync(w);
    int *a2 = sym<int>(npes);
    int *b2 = sym<int>(npes);
    for (int p = 0; p < npes; p++)
        a2[p] = me * 100 + p;
    shmem_barrier_all();
    CHECK(shmem_alltoall(w, b2, a2, 1) == 0, "alltoall");
    for (int p = 0; p < npes; p++)
        CHECK(b2[p] == p * 100 + me, "alltoall[%d]=%d", p, b2[p]);
    shmem_sync(w);
    CHECK(shmem_alltoalls(w, b2, a2, 1, 1, 1) == 0, "alltoalls");
    for (int p = 0; p < npes; p++)
        CHECK(b2[p] == p * 100 + me, "alltoalls[%d]", p);
    shmem_sync(w);
    // Reductions.
    unsigned long all = (1ul << npes) - 1;
    CHECK(shmem_or_reduce(w, ud, us, 1) == 0 && *ud == all, "or_reduce %lx", *ud);
    shmem_sync(w);
    CHECK(shmem_xor_reduce(w, ud, us, 1) == 0 && *ud == all, "xor_reduce");
    shmem_sync(w);
    CHECK(shmem_and_reduce(w, ud, us, 1) == 0 && *ud == (npes == 1 ? 1ul : 0ul), "and_reduce");
    shmem_sync(w);
    CHECK(shmem_max_reduce(w, dst, src, N) == 0 && dst[2] == (npes - 1) * 10 + 2, "max_reduce");
    shmem_sync(w);
    CHECK(shmem_min_reduce(w, dst, src, N) == 0 && dst[1] == 1, "min_reduce");
    shmem_sync(w);
    CHECK(shmem_sum_reduce(w, fd, fs, N) == 0 && fd[0] == npes * (npes - 1) / 2.0, "sum_reduce");
    shmem_sync(w);
    CHECK(shmem_prod_reduce(w, ld, ls, 1) == 0, "prod_reduce ld");
    long double fact = 1;
    for (int p = 1; p <= npes; p++)
        fact *= p;
    CHECK(*ld == fact, "longdouble prod %Lg", *ld);
    shmem_sync(w);
    CHECK(shmem_sum_reduce(w, cd, cs, 1) == 0, "complexd sum");
    CHECK(*cd == std::complex<double>(npes * (npes - 1) / 2.0, npes), "complexd sum value");
    shmem_sync(w);
    CHECK(shmem_prod_reduce(w, xd, xs, 1) == 0, "complexf prod");
    std::complex<float> want(1, 0);
    for (int p = 0; p < npes; p++)
        want *= std::complex<float>(1, (float)p);
    CHECK(*xd == want, "complexf prod (%g,%g)", xd->real(), xd->imag());
    shmem_sync(w);
    CHECK(shmem_complexd_prod_reduce(w, cd, cs, 1) == 0, "typed complexd prod");
    shmem_sync(w);
    CHECK(shmem_sum_inscan(w, dst, src, N) == 0, "inscan");
    CHECK(dst[0] == 10 * me * (me + 1) / 2, "inscan[0]=%d", dst[0]);
    shmem_sync(w);
    CHECK(shmem_sum_exscan(w, fd, fs, N) == 0, "exscan");
    CHECK(me == 0 || fd[0] == me * (me - 1) / 2.0, "exscan[0]=%g", fd[0]);
    CHECK(shmem_sync(w) == 0, "shmem_sync(team)");
    CHECK(shmem_sync(SHMEM_TEAM_INVALID) != 0, "shmem_sync(invalid)");
    shmem_barrier_all();
    shmem_free(b2);
    shmem_free(a2);
}

int main() {
    shmem_init();
    me = shmem_my_pe();
    npes = shmem_n_pes();
    right = (me + 1) % npes;
    left = (me + npes - 1) % npes;
    shmem_ctx_t ctx;
    CHECK(shmem_ctx_create(0, &ctx) == 0, "ctx_create");
    rma(SHMEM_CTX_INVALID, 0); // plain forms
    rma(SHMEM_CTX_DEFAULT, 1);
    rma(ctx, 2);
    amo(SHMEM_CTX_INVALID);
    amo(ctx);
    p2p();
    coll();
    shmem_ctx_destroy(ctx);
    if (me == 0)
        std::printf("cxx_generic: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
