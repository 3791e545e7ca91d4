/* RMA: typed put/get/p/g/iput/iget (+nbi) for many types, the C11 generic names, putmem/
 * getmem, put8..put128 and the sized strided forms. Ring: every PE writes into its right
 * neighbour and checks what its left neighbour wrote. */
#include "check.h"
#include <string.h>

#define N 16

static int me, npes, right, left;

/* Value written by PE `pe` at index `i`, for any arithmetic type. */
#define VAL(T, pe, i) ((T)((pe) * 7 + (i) + 1))

#define TEST_TYPE(T, NAME)                                                                 \
    static void test_##NAME(void) {                                                        \
        T *a = shmem_malloc(2 * N * sizeof(T));                                            \
        T src[2 * N], dst[2 * N];                                                          \
        CHECK(a != NULL, "malloc");                                                        \
        for (int i = 0; i < 2 * N; i++) {                                                  \
            src[i] = VAL(T, me, i);                                                        \
            a[i] = (T)0;                                                                   \
        }                                                                                  \
        shmem_barrier_all();                                                               \
        /* put: a[0..N) on the right neighbour */                                          \
        shmem_##NAME##_put(a, src, N, right);                                              \
        /* put_nbi: a[N..N+4) */                                                           \
        shmem_##NAME##_put_nbi(a + N, src + N, 4, right);                                  \
        /* p: a[N+4] */                                                                    \
        shmem_##NAME##_p(a + N + 4, VAL(T, me, N + 4), right);                             \
        /* iput: src[0,2,4] -> a[N+5, N+8, N+11] */                                        \
        shmem_##NAME##_iput(a + N + 5, src, 3, 2, 3, right);                               \
        shmem_quiet();                                                                     \
        shmem_barrier_all();                                                               \
        for (int i = 0; i < N + 5; i++)                                                    \
            CHECK(a[i] == VAL(T, left, i), #NAME " put/p index %d", i);                    \
        for (int k = 0; k < 3; k++)                                                        \
            CHECK(a[N + 5 + 3 * k] == VAL(T, left, 2 * k), #NAME " iput %d", k);           \
        CHECK(a[N + 6] == (T)0, #NAME " iput wrote between strides");                      \
        /* get / get_nbi / g / iget from the right neighbour, which holds my values */     \
        memset(dst, 0, sizeof dst);                                                        \
        shmem_##NAME##_get(dst, a, N, right);                                              \
        for (int i = 0; i < N; i++)                                                        \
            CHECK(dst[i] == VAL(T, me, i), #NAME " get index %d", i);                      \
        memset(dst, 0, sizeof dst);                                                        \
        shmem_##NAME##_get_nbi(dst, a + N, 4, right);                                      \
        shmem_quiet();                                                                     \
        for (int i = 0; i < 4; i++)                                                        \
            CHECK(dst[i] == VAL(T, me, N + i), #NAME " get_nbi index %d", i);              \
        CHECK(shmem_##NAME##_g(a + N + 4, right) == VAL(T, me, N + 4), #NAME " g");        \
        memset(dst, 0, sizeof dst);                                                        \
        shmem_##NAME##_iget(dst, a, 2, 3, 4, right); /* a[0,3,6,9] -> dst[0,2,4,6] */      \
        for (int k = 0; k < 4; k++)                                                        \
            CHECK(dst[2 * k] == VAL(T, me, 3 * k), #NAME " iget %d", k);                   \
        CHECK(dst[1] == (T)0, #NAME " iget wrote between strides");                        \
        shmem_barrier_all();                                                               \
        shmem_free(a);                                                                     \
    }

TEST_TYPE(float, float)
TEST_TYPE(double, double)
TEST_TYPE(long double, longdouble)
TEST_TYPE(char, char)
TEST_TYPE(signed char, schar)
TEST_TYPE(short, short)
TEST_TYPE(int, int)
TEST_TYPE(long, long)
TEST_TYPE(long long, longlong)
TEST_TYPE(unsigned char, uchar)
TEST_TYPE(unsigned short, ushort)
TEST_TYPE(unsigned int, uint)
TEST_TYPE(unsigned long, ulong)
TEST_TYPE(unsigned long long, ulonglong)
TEST_TYPE(int8_t, int8)
TEST_TYPE(int16_t, int16)
TEST_TYPE(int32_t, int32)
TEST_TYPE(int64_t, int64)
TEST_TYPE(uint8_t, uint8)
TEST_TYPE(uint16_t, uint16)
TEST_TYPE(uint32_t, uint32)
TEST_TYPE(uint64_t, uint64)
TEST_TYPE(size_t, size)
TEST_TYPE(ptrdiff_t, ptrdiff)

static void test_generic(void) {
    long *l = shmem_malloc(8 * sizeof(long));
    double *d = shmem_malloc(8 * sizeof(double));
    long ls[8];
    double ds[8];
    for (int i = 0; i < 8; i++) {
        ls[i] = me * 100 + i;
        ds[i] = me + i * 0.5;
    }
    shmem_barrier_all();
    shmem_put(l, ls, 4, right);
    shmem_put_nbi(d, ds, 4, right);
    shmem_p(l + 4, (long)me * 100 + 4, right);
    shmem_p(d + 4, me + 2.0, right);
    shmem_iput(l + 5, ls, 1, 1, 3, right);
    shmem_barrier_all();
    for (int i = 0; i < 4; i++) {
        CHECK(l[i] == left * 100 + i, "generic put %d: %ld", i, l[i]);
        CHECK(d[i] == left + i * 0.5, "generic put_nbi %d", i);
    }
    CHECK(l[4] == left * 100 + 4 && d[4] == left + 2.0, "generic p");
    CHECK(l[5] == left * 100 && l[7] == left * 100 + 2, "generic iput");
    long lg[4];
    shmem_get(lg, l, 4, right);
    CHECK(lg[3] == me * 100 + 3, "generic get");
    double dg[4];
    shmem_get_nbi(dg, d, 4, right);
    shmem_quiet();
    CHECK(dg[2] == me + 1.0, "generic get_nbi");
    CHECK(shmem_g(l + 4, right) == me * 100 + 4, "generic g");
    CHECK(shmem_g(d + 4, right) == me + 2.0, "generic g double");
    long li[2];
    shmem_iget(li, l, 1, 2, 2, right);
    CHECK(li[0] == me * 100 && li[1] == me * 100 + 2, "generic iget");
    shmem_barrier_all();
    shmem_free(d);
    shmem_free(l);
}

static void test_mem_and_sized(void) {
    enum { B = 256 };
    unsigned char *buf = shmem_calloc(B * 6, 1);
    unsigned char src[B], got[B];
    CHECK(buf != NULL, "calloc");
    for (int i = 0; i < B; i++)
        src[i] = (unsigned char)(me * 31 + i);
    shmem_barrier_all();
    shmem_putmem(buf, src, B, right);
    shmem_putmem_nbi(buf + B, src, B, right);
    shmem_put8(buf + 2 * B, src, 16, right);
    shmem_put16(buf + 2 * B + 16, src, 8, right);
    shmem_put32(buf + 2 * B + 32, src, 4, right);
    shmem_put64(buf + 2 * B + 48, src, 2, right);
    shmem_put128(buf + 2 * B + 64, src, 2, right);
    shmem_put64_nbi(buf + 2 * B + 96, src, 4, right);
    shmem_iput32(buf + 3 * B, src, 2, 1, 8, right); /* 4-byte elements, dst stride 2 */
    shmem_iput128(buf + 4 * B, src, 2, 1, 2, right);
    shmem_quiet();
    shmem_barrier_all();
    unsigned char want[B];
    for (int i = 0; i < B; i++)
        want[i] = (unsigned char)(left * 31 + i);
    CHECK(memcmp(buf, want, B) == 0, "putmem");
    CHECK(memcmp(buf + B, want, B) == 0, "putmem_nbi");
    CHECK(memcmp(buf + 2 * B, want, 16) == 0, "put8");
    CHECK(memcmp(buf + 2 * B + 16, want, 16) == 0, "put16");
    CHECK(memcmp(buf + 2 * B + 32, want, 16) == 0, "put32");
    CHECK(memcmp(buf + 2 * B + 48, want, 16) == 0, "put64");
    CHECK(memcmp(buf + 2 * B + 64, want, 32) == 0, "put128");
    CHECK(memcmp(buf + 2 * B + 96, want, 32) == 0, "put64_nbi");
    for (int k = 0; k < 8; k++) {
        CHECK(memcmp(buf + 3 * B + 8 * k, want + 4 * k, 4) == 0, "iput32 %d", k);
        CHECK(buf[3 * B + 8 * k + 4] == 0, "iput32 gap %d", k);
    }
    CHECK(memcmp(buf + 4 * B, want, 16) == 0 && memcmp(buf + 4 * B + 32, want + 16, 16) == 0,
          "iput128");
    memset(got, 0, sizeof got);
    shmem_getmem(got, buf, B, right);
    CHECK(memcmp(got, src, B) == 0, "getmem");
    memset(got, 0, sizeof got);
    shmem_getmem_nbi(got, buf + B, B, right);
    shmem_quiet();
    CHECK(memcmp(got, src, B) == 0, "getmem_nbi");
    memset(got, 0, sizeof got);
    shmem_get8(got, buf + 2 * B, 16, right);
    shmem_get16(got + 16, buf + 2 * B + 16, 8, right);
    shmem_get32(got + 32, buf + 2 * B + 32, 4, right);
    shmem_get64(got + 48, buf + 2 * B + 48, 2, right);
    shmem_get128(got + 64, buf + 2 * B + 64, 2, right);
    shmem_get32_nbi(got + 96, buf + 2 * B + 96, 8, right);
    shmem_quiet();
    CHECK(memcmp(got, src, 16) == 0, "get8");
    CHECK(memcmp(got + 16, src, 16) == 0, "get16");
    CHECK(memcmp(got + 32, src, 16) == 0, "get32");
    CHECK(memcmp(got + 48, src, 16) == 0, "get64");
    CHECK(memcmp(got + 64, src, 32) == 0, "get128");
    CHECK(memcmp(got + 96, src, 32) == 0, "get32_nbi");
    memset(got, 0, sizeof got);
    shmem_iget64(got, buf + 2 * B, 1, 2, 2, right); /* 8-byte elements 0 and 2 */
    CHECK(memcmp(got, src, 8) == 0 && memcmp(got + 8, src, 8) == 0, "iget64");
    shmem_iget8(got, buf, 1, 4, 4, right);
    CHECK(got[0] == src[0] && got[1] == src[4] && got[3] == src[12], "iget8");
    shmem_iget16(got, buf, 1, 2, 2, right);
    CHECK(memcmp(got, src, 2) == 0 && memcmp(got + 2, src + 4, 2) == 0, "iget16");
    shmem_iget32(got, buf, 1, 2, 2, right);
    CHECK(memcmp(got, src, 4) == 0 && memcmp(got + 4, src + 8, 4) == 0, "iget32");
    shmem_iget128(got, buf, 1, 2, 2, right);
    CHECK(memcmp(got, src, 16) == 0 && memcmp(got + 16, src + 32, 16) == 0, "iget128");
    shmem_iput8(buf + 5 * B, src, 2, 1, 4, right);
    shmem_iput16(buf + 5 * B + 16, src, 2, 1, 4, right);
    shmem_iput64(buf + 5 * B + 32, src, 2, 1, 2, right);
    shmem_barrier_all();
    CHECK(buf[5 * B] == want[0] && buf[5 * B + 2] == want[1] && buf[5 * B + 6] == want[3],
          "iput8");
    CHECK(memcmp(buf + 5 * B + 16 + 4, want + 2, 2) == 0, "iput16");
    CHECK(memcmp(buf + 5 * B + 32 + 16, want + 8, 8) == 0, "iput64");
    shmem_barrier_all();
    shmem_free(buf);
}

int main(void) {
    shmem_init();
    me = shmem_my_pe();
    npes = shmem_n_pes();
    right = (me + 1) % npes;
    left = (me + npes - 1) % npes;
    test_float();
    test_double();
    test_longdouble();
    test_char();
    test_schar();
    test_short();
    test_int();
    test_long();
    test_longlong();
    test_uchar();
    test_ushort();
    test_uint();
    test_ulong();
    test_ulonglong();
    test_int8();
    test_int16();
    test_int32();
    test_int64();
    test_uint8();
    test_uint16();
    test_uint32();
    test_uint64();
    test_size();
    test_ptrdiff();
    test_generic();
    test_mem_and_sized();
    if (me == 0)
        printf("rma: ok on %d PEs (24 types, generic, mem, sized)\n", npes);
    shmem_finalize();
    return 0;
}
