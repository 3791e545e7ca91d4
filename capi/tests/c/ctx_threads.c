/* Contexts on threads (issue 14.3): under SHMEM_THREAD_MULTIPLE, two threads per PE each
 * create a SHMEM_CTX_PRIVATE context, put a block to the right neighbour with put, put_nbi
 * and p, add to a counter there, ctx_quiet their own context only, and destroy it; after a
 * barrier every PE checks both blocks and the counter. Over verbs each context has its own
 * CQ and QPs and takes no lock; elsewhere it takes the default path. */
#include <pthread.h>
#include <stdint.h>
#include "check.h"

#define K 32
static long *buf, *ctr;
static int me, npes, right;

static void *worker(void *arg) {
    long t = (long)arg;
    shmem_ctx_t ctx;
    CHECK(shmem_ctx_create(SHMEM_CTX_PRIVATE, &ctx) == 0, "ctx_create on thread %ld", t);
    long v[K];
    for (int i = 0; i < K; i++)
        v[i] = ((long)me << 32) | (t << 16) | i;
    shmem_ctx_long_put(ctx, buf + t * K, v, K / 2, right);
    for (int i = K / 2; i < K - 1; i++)
        shmem_ctx_long_put_nbi(ctx, buf + t * K + i, v + i, 1, right);
    shmem_ctx_long_p(ctx, buf + t * K + K - 1, v[K - 1], right);
    shmem_ctx_long_atomic_add(ctx, ctr, t + 1, right);
    shmem_ctx_quiet(ctx);
    long back[K];
    shmem_ctx_long_get(ctx, back, buf + t * K, K, right);
    for (int i = 0; i < K; i++)
        CHECK(back[i] == v[i], "thread %ld get back word %d: %lx", t, i, back[i]);
    shmem_ctx_destroy(ctx);
    return NULL;
}

int main(void) {
    int provided;
    shmem_init_thread(SHMEM_THREAD_MULTIPLE, &provided);
    CHECK(provided == SHMEM_THREAD_MULTIPLE, "provided %d", provided);
    me = shmem_my_pe();
    npes = shmem_n_pes();
    right = (me + 1) % npes;
    int left = (me + npes - 1) % npes;
    buf = shmem_calloc(2 * K, sizeof(long));
    ctr = shmem_calloc(1, sizeof(long));
    shmem_barrier_all();
    for (int round = 0; round < 3; round++) {
        pthread_t th[2];
        for (long t = 0; t < 2; t++)
            CHECK(pthread_create(&th[t], NULL, worker, (void *)t) == 0, "pthread_create");
        for (int t = 0; t < 2; t++)
            pthread_join(th[t], NULL);
        shmem_barrier_all();
        for (long t = 0; t < 2; t++)
            for (int i = 0; i < K; i++)
                CHECK(buf[t * K + i] == (((long)left << 32) | (t << 16) | i),
                      "round %d thread %ld word %d: %lx", round, t, i, buf[t * K + i]);
        CHECK(*ctr == 3L * (round + 1), "round %d counter %ld", round, *ctr);
        shmem_barrier_all();
    }
    if (me == 0)
        printf("ctx_threads: ok on %d PEs\n", npes);
    shmem_free(ctr);
    shmem_free(buf);
    shmem_finalize();
    return 0;
}
