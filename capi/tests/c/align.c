/* shmem_align, from the specification's words: "returns an aligned symmetric address whose
 * value is a multiple of alignment; otherwise, it returns a null pointer"; "When size is
 * zero, shmem_align performs no action and returns a null pointer"; the alignment is "a
 * multiple of sizeof(void *) that is also a power of two".
 *
 * For every such alignment from sizeof(void *) up (blocks kept, so block k lies at an
 * offset that is a multiple of 2^k): the address is a multiple of the alignment on every
 * PE, and it is symmetric (each PE puts into its right neighbour's block, which must land
 * in the neighbour's block). Every alignment up to 16 MiB must succeed (any heap holds it);
 * the first refusal is NULL on every PE alike; an alignment of 2^50 bytes (larger than any
 * heap) is NULL. */
#include "check.h"
#include <stdint.h>

#define MAXLOG 40

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), n = shmem_n_pes();
    int right = (me + 1) % n, left = (me + n - 1) % n;
    static long *blocks[MAXLOG + 1];
    static int refused[1];
    int k, last = -1;
    for (k = 3; k <= MAXLOG; k++) {
        size_t a = (size_t)1 << k;
        long *p = shmem_align(a, 64);
        /* Did every PE get a block? (a refusal must be the same everywhere) */
        refused[0] = 0;
        shmem_barrier_all();
        if (p == NULL)
            shmem_int_atomic_add(refused, 1, 0);
        shmem_barrier_all();
        int nulls = shmem_int_atomic_fetch(refused, 0);
        CHECK(nulls == 0 || nulls == n, "alignment 2^%d: NULL on %d of %d PEs", k, nulls, n);
        if (p == NULL)
            break;
        CHECK((uintptr_t)p % a == 0, "shmem_align(2^%d) = %p is not a multiple", k, (void *)p);
        blocks[k] = p;
        shmem_long_p(p, 1000 * me + k, right);
        shmem_barrier_all();
        CHECK(*p == 1000 * left + k, "alignment 2^%d: got %ld from PE %d", k, *p, left);
        last = k;
        shmem_barrier_all();
    }
    CHECK(last >= 24, "alignments up to 2^24 must fit any heap; the last one was 2^%d", last);
    CHECK(shmem_align((size_t)1 << 50, 64) == NULL, "alignment 2^50");
    CHECK(shmem_align(4096, 0) == NULL, "size 0");
    for (k = last; k >= 3; k--)
        shmem_free(blocks[k]);
    if (me == 0)
        printf("align: largest alignment 2^%d\n", last);
    shmem_barrier_all();
    if (me == 0)
        printf("align: ok on %d PEs\n", n);
    shmem_finalize();
    return 0;
}
