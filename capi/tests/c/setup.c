/* Setup, exit and query routines; deprecated query names. */
#include "check.h"
#include <string.h>

int main(void) {
    int provided = -1;
    CHECK(shmem_init_thread(SHMEM_THREAD_MULTIPLE, &provided) == 0, "init_thread failed");
    CHECK(provided == SHMEM_THREAD_MULTIPLE, "provided %d", provided);
    shmem_init(); /* repeated init while initialized: counted (1.6) */
    int q = -1;
    shmem_query_thread(&q);
    CHECK(q == SHMEM_THREAD_MULTIPLE, "query_thread %d", q);
    int inited = 0;
    shmem_query_initialized(&inited);
    CHECK(inited == 1, "query_initialized %d", inited);

    int me = shmem_my_pe(), n = shmem_n_pes();
    CHECK(n >= 1 && me >= 0 && me < n, "me %d n %d", me, n);
    CHECK(_my_pe() == me && _num_pes() == n, "deprecated names disagree");

    int major = 0, minor = 0;
    shmem_info_get_version(&major, &minor);
    CHECK(major == SHMEM_MAJOR_VERSION && minor == SHMEM_MINOR_VERSION, "%d.%d", major, minor);
    CHECK(major == 1 && minor == 6, "%d.%d", major, minor);
    char name[SHMEM_MAX_NAME_LEN];
    memset(name, 'x', sizeof name);
    shmem_info_get_name(name);
    CHECK(strcmp(name, SHMEM_VENDOR_STRING) == 0, "name '%s'", name);

    for (int pe = 0; pe < n; pe++)
        CHECK(shmem_pe_accessible(pe) == 1, "pe %d not accessible", pe);
    CHECK(shmem_pe_accessible(n) == 0 && shmem_pe_accessible(-1) == 0, "bad PEs accessible");

    long *sym = shmem_malloc(4 * sizeof(long));
    CHECK(sym != NULL, "malloc");
    long local = 0;
    CHECK(shmem_addr_accessible(sym, 0) == 1, "heap address not accessible");
    CHECK(shmem_addr_accessible(&local, 0) == 0, "stack address accessible");
    CHECK(shmem_addr_accessible(sym, n) == 0, "PE n accessible");

    /* shmem_ptr: every PE is on this node, so direct stores must land (unless every peer
     * is forced onto RDMA with RSHMEM_TRANSPORT=verbs: then only this PE's is mapped). */
    sym[0] = -1;
    shmem_barrier_all();
    int right = (me + 1) % n;
    long *rp = shmem_ptr(sym, right);
    const char *tr = getenv("RSHMEM_TRANSPORT");
    int verbs_only = tr && strcmp(tr, "verbs") == 0;
    CHECK(rp != NULL || (verbs_only && right != me), "shmem_ptr NULL for PE %d", right);
    if (rp)
        *rp = me;
    else
        shmem_long_p(sym, me, right);
    CHECK(shmem_ptr(sym, me) == sym, "shmem_ptr to this PE");
    CHECK(shmem_ptr(&local, right) == NULL, "shmem_ptr of a stack address");
    CHECK(shmem_ptr(sym, -1) == NULL && shmem_ptr(sym, n) == NULL, "shmem_ptr of a bad PE");
    shmem_barrier_all();
    CHECK(sym[0] == (me + n - 1) % n, "ptr store: got %ld", sym[0]);
    shmem_sync_all();
    shmem_fence();
    shmem_quiet();
    shmem_free(sym);

    if (me == 0)
        printf("setup: ok on %d PEs (%s, OpenSHMEM %d.%d)\n", n, name, major, minor);
    shmem_finalize(); /* matches the second init: still initialized (1.6) */
    shmem_query_initialized(&inited);
    CHECK(inited == 1, "initialized after 2 inits and 1 finalize: %d", inited);
    CHECK(shmem_my_pe() == me, "still usable");
    shmem_barrier_all();
    shmem_finalize(); /* matches the first: finalized */
    shmem_query_initialized(&inited);
    if (inited != 0) {
        fprintf(stderr, "FAIL: initialized after finalize\n");
        return 1;
    }
    shmem_finalize(); /* a second finalize is a no-op */
    return 0;
}
