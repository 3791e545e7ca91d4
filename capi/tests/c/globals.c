/* Global and static variables are symmetric (OpenSHMEM 1.5, section 3.2 "Symmetric Data
 * Objects"): initialized globals (.data), zero-initialized globals (.bss), file-scope and
 * function-scope statics, a large bss array, used as RMA targets, AMO targets, wait
 * variables, collective buffers and through shmem_ptr; initial values survive shmem_init.
 */
#include "check.h"
#include <stdint.h>
#include <string.h>

long init_data[4] = {11, 22, 33, 44};  /* .data */
long zero_data[8];                     /* .bss */
static int file_static[16];            /* .bss, internal linkage */
static double dstatic = 2.5;           /* .data, internal linkage */
uint64_t flag;                         /* wait variable */
long counter;                          /* AMO target */
static char big[8 << 20];              /* 8 MiB of bss: only touched pages are copied */
long bcast_dest[4], bcast_src[4];      /* collective buffers */
static long sum_src, sum_dest;

static long *fn_static(void) {
    static long inside[3] = {7, 8, 9};
    return inside;
}

int main(void) {
    /* Written before init: must still hold after (the remap copies the contents). */
    zero_data[7] = 77;
    big[5 << 20] = 'x';
    shmem_init();
    int me = shmem_my_pe(), n = shmem_n_pes();
    int right = (me + 1) % n, left = (me + n - 1) % n;

    CHECK(init_data[0] == 11 && init_data[3] == 44, "init_data lost: %ld %ld", init_data[0],
          init_data[3]);
    CHECK(zero_data[7] == 77 && big[5 << 20] == 'x', "value stored before shmem_init lost");
    CHECK(dstatic == 2.5, "static double lost: %g", dstatic);
    CHECK(fn_static()[2] == 9, "function static lost");
    CHECK(shmem_addr_accessible(init_data, left) && shmem_addr_accessible(&flag, right) &&
              shmem_addr_accessible(big, right),
          "globals must be accessible on every PE");
    shmem_barrier_all();

    /* put / p into .data, .bss, statics of the right neighbour */
    long v[4] = {100 * me + 1, 100 * me + 2, 100 * me + 3, 100 * me + 4};
    shmem_long_put(init_data, v, 4, right);
    shmem_long_p(&zero_data[2], 1000 + me, right);
    int fs[16];
    for (int i = 0; i < 16; i++) fs[i] = me * 16 + i;
    shmem_int_put(file_static, fs, 16, right);
    shmem_double_p(&dstatic, me + 0.5, right);
    shmem_long_p(&fn_static()[1], -me, right);
    char pattern[4096];
    memset(pattern, 'a' + me % 26, sizeof pattern);
    shmem_putmem(&big[(8 << 20) - 4096], pattern, sizeof pattern, right);
    shmem_barrier_all();
    for (int i = 0; i < 4; i++)
        CHECK(init_data[i] == 100 * left + i + 1, "init_data[%d] = %ld", i, init_data[i]);
    CHECK(zero_data[2] == 1000 + left, "zero_data[2] = %ld", zero_data[2]);
    for (int i = 0; i < 16; i++)
        CHECK(file_static[i] == left * 16 + i, "file_static[%d] = %d", i, file_static[i]);
    CHECK(dstatic == left + 0.5, "dstatic = %g", dstatic);
    CHECK(fn_static()[1] == -left, "function static = %ld", fn_static()[1]);
    for (int i = 0; i < 4096; i++)
        CHECK(big[(8 << 20) - 4096 + i] == 'a' + left % 26, "big[%d]", i);

    /* get from the left neighbour's globals */
    long got[4];
    shmem_long_get(got, init_data, 4, left);
    int l2 = (left + n - 1) % n;
    CHECK(got[0] == 100 * l2 + 1 && got[3] == 100 * l2 + 4, "get from init_data: %ld %ld",
          got[0], got[3]);
    CHECK(shmem_double_g(&dstatic, left) == l2 + 0.5, "g of a static double");

    /* AMOs on a global: every PE adds me+1 to PE 0's counter */
    shmem_long_atomic_add(&counter, me + 1, 0);
    long prev = shmem_long_atomic_fetch_add(&counter, 0, 0);
    CHECK(prev >= me + 1, "fetch_add on a global returned %ld", prev);
    shmem_barrier_all();
    if (me == 0) CHECK(counter == (long)n * (n + 1) / 2, "counter = %ld", counter);

    /* a global as the wait variable of put-with-signal */
    shmem_long_put_signal(bcast_dest, v, 4, &flag, 1 + me, SHMEM_SIGNAL_SET, right);
    shmem_uint64_wait_until(&flag, SHMEM_CMP_EQ, (uint64_t)(1 + left));
    CHECK(bcast_dest[3] == 100 * left + 4, "data before signal: %ld", bcast_dest[3]);
    shmem_barrier_all();

    /* collectives on global buffers */
    for (int i = 0; i < 4; i++) bcast_src[i] = me == 0 ? 500 + i : -1;
    shmem_long_broadcast(SHMEM_TEAM_WORLD, bcast_dest, bcast_src, 4, 0);
    for (int i = 0; i < 4; i++) CHECK(bcast_dest[i] == 500 + i, "broadcast[%d]", i);
    sum_src = me;
    shmem_long_sum_reduce(SHMEM_TEAM_WORLD, &sum_dest, &sum_src, 1);
    CHECK(sum_dest == (long)n * (n - 1) / 2, "sum_reduce on statics = %ld", sum_dest);

    /* shmem_ptr on a global: every PE of this node (NULL on a verbs-only peer) */
    long *p = shmem_ptr(init_data, right);
    const char *tr = getenv("RSHMEM_TRANSPORT");
    CHECK(p != NULL || (tr && strcmp(tr, "verbs") == 0), "shmem_ptr(global) on a shm peer");
    if (p) CHECK(p[0] == 100 * me + 1, "through shmem_ptr: %ld", p[0]);

    shmem_barrier_all();
    if (me == 0) printf("globals: ok on %d PEs\n", n);
    shmem_finalize();
    /* Globals stay usable after finalize. */
    init_data[0] = 5;
    return init_data[0] == 5 ? 0 : 1;
}
