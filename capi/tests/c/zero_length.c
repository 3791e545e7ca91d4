/* Zero-length transfers, from the specification's annex on undefined behavior (a length
 * of 0 makes any pointer argument valid, NULL included) and the routines' own text:
 * contiguous, typed, sized, mem, _nbi, strided and ctx RMA with nelems 0 move nothing and
 * succeed (block-strided ibput/ibget with 0 blocks or 0-element blocks: any pointers and
 * strides); put-with-signal with 0 bytes still updates the signal; team and active-set
 * collectives with nelems 0 return 0 and leave dest alone; point-to-point synchronization
 * on 0 elements (NULL arrays) returns at once: wait_until_any/test_any give SIZE_MAX,
 * the _some forms 0, test_all 1 ("If nelems is 0, the test set is empty and this routine
 * returns 1"); pe_quiet on 0 PEs does not read target_pes. */
#include "check.h"
#include <stdint.h>

static long psync[SHMEM_BCAST_SYNC_SIZE];
static long pwrk[SHMEM_REDUCE_MIN_WRKDATA_SIZE];

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    int peer = (me + 1) % npes;
    for (int i = 0; i < SHMEM_BCAST_SYNC_SIZE; i++)
        psync[i] = SHMEM_SYNC_VALUE;
    (void)pwrk;
    int *buf = shmem_malloc(4 * sizeof(int));
    uint64_t *sig = shmem_calloc(1, sizeof(uint64_t));
    CHECK(buf && sig, "alloc");
    int local[4];
    for (int i = 0; i < 4; i++)
        buf[i] = local[i] = -1 - i;
    shmem_barrier_all();

    /* RMA, NULL pointers */
    shmem_putmem(NULL, NULL, 0, peer);
    shmem_getmem(NULL, NULL, 0, peer);
    shmem_putmem_nbi(NULL, NULL, 0, peer);
    shmem_getmem_nbi(NULL, NULL, 0, peer);
    shmem_int_put(NULL, NULL, 0, peer);
    shmem_int_get(NULL, NULL, 0, peer);
    shmem_double_put_nbi(NULL, NULL, 0, peer);
    shmem_long_get_nbi(NULL, NULL, 0, peer);
    shmem_put64(NULL, NULL, 0, peer);
    shmem_get32(NULL, NULL, 0, peer);
    shmem_put128_nbi(NULL, NULL, 0, peer);
    shmem_int_iput(NULL, NULL, 1, 1, 0, peer);
    shmem_int_iget(NULL, NULL, 1, 1, 0, peer);
    shmem_iput64(NULL, NULL, 1, 1, 0, peer);
    shmem_put((int *)NULL, (const int *)NULL, 0, peer);
    shmem_get((long *)NULL, (const long *)NULL, 0, peer);
    shmem_ctx_putmem(SHMEM_CTX_DEFAULT, NULL, NULL, 0, peer);
    shmem_ctx_int_get(SHMEM_CTX_DEFAULT, NULL, NULL, 0, peer);
    shmem_ctx_getmem_nbi(SHMEM_CTX_DEFAULT, NULL, NULL, 0, peer);
    /* block-strided, 0 blocks or 0-element blocks: pointers and strides are not used */
    shmem_int_ibput(NULL, NULL, 0, 0, 0, 0, peer);
    shmem_int_ibget(NULL, NULL, 0, 0, 0, 0, peer);
    shmem_long_ibput(NULL, NULL, -1, 0, 4, 0, peer);
    shmem_double_ibget(NULL, NULL, 1, 1, 0, 3, peer);
    shmem_ibput32(NULL, NULL, 0, 0, 0, 0, peer);
    shmem_ibget64(NULL, NULL, 0, -2, 0, 0, peer);
    shmem_ibput128(NULL, NULL, 0, 0, 0, 5, peer);
    shmem_ctx_int_ibput(SHMEM_CTX_DEFAULT, NULL, NULL, 0, 0, 0, 0, peer);
    shmem_ctx_ibget8(SHMEM_CTX_DEFAULT, NULL, NULL, 0, 0, 2, 0, peer);
    shmem_pe_quiet(NULL, 0);
    shmem_ctx_pe_quiet(SHMEM_CTX_DEFAULT, NULL, 0);
    /* valid pointers, zero length: nothing moves */
    shmem_int_put(buf, local, 0, peer);
    shmem_int_get(local, buf, 0, peer);
    shmem_quiet();

    /* put-with-signal, 0 bytes: the signal is still updated (set, then add) */
    shmem_putmem_signal(NULL, NULL, 0, sig, 5, SHMEM_SIGNAL_SET, peer);
    CHECK(shmem_signal_wait_until(sig, SHMEM_CMP_EQ, 5) == 5, "putmem_signal 0 bytes");
    shmem_barrier_all();
    shmem_int_put_signal(NULL, NULL, 0, sig, 2, SHMEM_SIGNAL_ADD, peer);
    CHECK(shmem_signal_wait_until(sig, SHMEM_CMP_EQ, 7) == 7, "int_put_signal 0 add");
    shmem_barrier_all();
    shmem_putmem_signal_nbi(NULL, NULL, 0, sig, 11, SHMEM_SIGNAL_SET, peer);
    shmem_quiet();
    CHECK(shmem_signal_wait_until(sig, SHMEM_CMP_EQ, 11) == 11, "putmem_signal_nbi 0");
    shmem_barrier_all();
    shmem_ctx_put64_signal(SHMEM_CTX_DEFAULT, NULL, NULL, 0, sig, 13, SHMEM_SIGNAL_SET, peer);
    CHECK(shmem_signal_wait_until(sig, SHMEM_CMP_EQ, 13) == 13, "ctx put64_signal 0");
    shmem_barrier_all();

    /* point-to-point synchronization on 0 elements, NULL arrays */
    size_t none = SIZE_MAX;
    shmem_int_wait_until_all(NULL, 0, NULL, SHMEM_CMP_EQ, 1);
    shmem_long_wait_until_all_vector(NULL, 0, NULL, SHMEM_CMP_EQ, NULL);
    CHECK(shmem_int_wait_until_any(NULL, 0, NULL, SHMEM_CMP_EQ, 1) == none, "wait_until_any");
    CHECK(shmem_uint64_wait_until_any_vector(NULL, 0, NULL, SHMEM_CMP_NE, NULL) == none,
          "wait_until_any_vector");
    CHECK(shmem_int_wait_until_some(NULL, 0, NULL, NULL, SHMEM_CMP_EQ, 1) == 0,
          "wait_until_some");
    CHECK(shmem_short_wait_until_some_vector(NULL, 0, NULL, NULL, SHMEM_CMP_EQ, NULL) == 0,
          "wait_until_some_vector");
    CHECK(shmem_int_test_all(NULL, 0, NULL, SHMEM_CMP_EQ, 1) == 1, "test_all");
    CHECK(shmem_size_test_all_vector(NULL, 0, NULL, SHMEM_CMP_EQ, NULL) == 1,
          "test_all_vector");
    CHECK(shmem_int_test_any(NULL, 0, NULL, SHMEM_CMP_EQ, 1) == none, "test_any");
    CHECK(shmem_ulong_test_any_vector(NULL, 0, NULL, SHMEM_CMP_EQ, NULL) == none,
          "test_any_vector");
    CHECK(shmem_int_test_some(NULL, 0, NULL, NULL, SHMEM_CMP_EQ, 1) == 0, "test_some");
    CHECK(shmem_int32_test_some_vector(NULL, 0, NULL, NULL, SHMEM_CMP_EQ, NULL) == 0,
          "test_some_vector");

    /* team collectives, nelems 0: return 0 */
    shmem_team_t w = SHMEM_TEAM_WORLD;
    CHECK(shmem_int_broadcast(w, NULL, NULL, 0, 0) == 0, "broadcast");
    CHECK(shmem_int_collect(w, NULL, NULL, 0) == 0, "collect");
    CHECK(shmem_int_fcollect(w, NULL, NULL, 0) == 0, "fcollect");
    CHECK(shmem_int_alltoall(w, NULL, NULL, 0) == 0, "alltoall");
    CHECK(shmem_int_alltoalls(w, NULL, NULL, 1, 1, 0) == 0, "alltoalls");
    CHECK(shmem_broadcastmem(w, NULL, NULL, 0, 0) == 0, "broadcastmem");
    CHECK(shmem_collectmem(w, NULL, NULL, 0) == 0, "collectmem");
    CHECK(shmem_fcollectmem(w, NULL, NULL, 0) == 0, "fcollectmem");
    CHECK(shmem_alltoallmem(w, NULL, NULL, 0) == 0, "alltoallmem");
    CHECK(shmem_int_sum_reduce(w, NULL, NULL, 0) == 0, "sum_reduce");
    CHECK(shmem_ulong_xor_reduce(w, NULL, NULL, 0) == 0, "xor_reduce");
    CHECK(shmem_double_max_reduce(w, NULL, NULL, 0) == 0, "max_reduce");
    CHECK(shmem_longdouble_sum_reduce(w, NULL, NULL, 0) == 0, "longdouble_sum_reduce");
    CHECK(shmem_int_sum_inscan(w, NULL, NULL, 0) == 0, "inscan");
    CHECK(shmem_int_sum_exscan(w, NULL, NULL, 0) == 0, "exscan");
    /* symmetric buffers, nelems 0: dest untouched */
    CHECK(shmem_int_broadcast(w, buf, buf + 2, 0, 0) == 0, "broadcast buf");
    CHECK(shmem_int_sum_reduce(w, buf, buf + 2, 0) == 0, "sum_reduce buf");
    CHECK(shmem_int_fcollect(w, buf, buf + 2, 0) == 0, "fcollect buf");
    /* deprecated active-set forms on the whole job */
    shmem_broadcast32(NULL, NULL, 0, 0, 0, 0, npes, psync);
    shmem_barrier_all();
    shmem_fcollect64(NULL, NULL, 0, 0, 0, npes, psync);
    shmem_barrier_all();
    shmem_int_sum_to_all(NULL, NULL, 0, 0, 0, npes, NULL, psync);
    shmem_barrier_all();

    for (int i = 0; i < 4; i++) {
        CHECK(buf[i] == -1 - i, "buf[%d] = %d changed", i, buf[i]);
        CHECK(local[i] == -1 - i, "local[%d] = %d changed", i, local[i]);
    }
    shmem_barrier_all();
    shmem_free(sig);
    shmem_free(buf);
    if (me == 0)
        printf("zero_length: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
