/* Thread levels (issue 14.3): argv[1] names how to initialize: "init" (the default: plain
 * shmem_init, which provides SHMEM_THREAD_SINGLE), "single", "funneled", "serialized" or
 * "multiple" (shmem_init_thread with that level, which is provided), or "invalid" (an
 * unknown level: shmem_init_thread must fail, then shmem_init works). Checks `provided`
 * and shmem_query_thread, then does puts (put, put_nbi, p), gets (get, get_nbi, g), AMOs
 * (add, fetch_add, compare_swap) and quiets on the default context with the data checked,
 * for two "workers": under MULTIPLE two threads at once, under SERIALIZED two threads one
 * after the other, under FUNNELED the main thread next to a thread that only computes,
 * under SINGLE the main thread alone. Over verbs the default context takes its lock only
 * under MULTIPLE (SHMEM_INFO's verbs line says which).
 * "funneled-exit": under FUNNELED, PE 0's second thread calls exit(3) while the main
 * thread puts and quiets in a loop: the job must end with status 3, never hang (over
 * verbs the exit hook then leaves the unlocked default context alone and says so). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "check.h"

#define K 64
#define ITERS 40
static long *buf, *ctr, *cas;
static int me, npes, right;

static void *worker(void *arg) {
    long t = (long)arg;
    for (long it = 0; it < ITERS; it++) {
        long v[K], back[K];
        for (int i = 0; i < K; i++)
            v[i] = ((long)me << 40) | (t << 32) | (it << 16) | i;
        shmem_long_put(buf + t * K, v, K / 2, right);
        for (int i = K / 2; i < K - 1; i++)
            shmem_long_put_nbi(buf + t * K + i, v + i, 1, right);
        shmem_long_p(buf + t * K + K - 1, v[K - 1], right);
        shmem_long_atomic_add(ctr, 1, right);
        long old = shmem_long_atomic_fetch_add(ctr, 1, right);
        CHECK(old >= 0 && old < 4L * ITERS, "worker %ld fetch_add returned %ld", t, old);
        old = shmem_long_atomic_compare_swap(cas + t, it, it + 1, right);
        CHECK(old == it, "worker %ld round %ld compare_swap returned %ld", t, it, old);
        shmem_quiet();
        memset(back, 0, sizeof back);
        shmem_long_get(back, buf + t * K, K / 2, right);
        shmem_long_get_nbi(back + K / 2, buf + t * K + K / 2, K / 2 - 1, right);
        shmem_quiet();
        back[K - 1] = shmem_long_g(buf + t * K + K - 1, right);
        for (int i = 0; i < K; i++)
            CHECK(back[i] == v[i], "worker %ld round %ld word %d: %lx, want %lx", t, it, i,
                  back[i], v[i]);
    }
    return NULL;
}

static void *exiter(void *arg) {
    (void)arg;
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    exit(3);
}

static volatile long spin_sink;
static void *computer(void *arg) {
    (void)arg;
    for (long i = 0; i < 2000000; i++)
        spin_sink += i;
    return NULL;
}

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "init";
    int want, provided = -1;
    if (strcmp(how, "init") == 0) {
        shmem_init();
        want = provided = SHMEM_THREAD_SINGLE;
    } else if (strcmp(how, "invalid") == 0) {
        if (shmem_init_thread(7, &provided) == 0) {
            fprintf(stderr, "FAIL shmem_init_thread(7) succeeded (provided %d)\n", provided);
            return 1;
        }
        shmem_init();
        want = provided = SHMEM_THREAD_SINGLE;
    } else {
        if (strcmp(how, "single") == 0)
            want = SHMEM_THREAD_SINGLE;
        else if (strcmp(how, "funneled") == 0 || strcmp(how, "funneled-exit") == 0)
            want = SHMEM_THREAD_FUNNELED;
        else if (strcmp(how, "serialized") == 0)
            want = SHMEM_THREAD_SERIALIZED;
        else if (strcmp(how, "multiple") == 0)
            want = SHMEM_THREAD_MULTIPLE;
        else {
            fprintf(stderr, "FAIL unknown argument '%s'\n", how);
            return 1;
        }
        if (shmem_init_thread(want, &provided) != 0) {
            fprintf(stderr, "FAIL shmem_init_thread(%d) failed\n", want);
            return 1;
        }
    }
    CHECK(provided == want, "%s: provided %d, want %d", how, provided, want);
    int q = -1;
    shmem_query_thread(&q);
    CHECK(q == want, "%s: query_thread %d, want %d", how, q, want);
    me = shmem_my_pe();
    npes = shmem_n_pes();
    right = (me + 1) % npes;
    int left = (me + npes - 1) % npes;
    buf = shmem_calloc(2 * K, sizeof(long));
    ctr = shmem_calloc(1, sizeof(long));
    cas = shmem_calloc(2, sizeof(long));
    shmem_barrier_all();
    pthread_t th[2];
    if (strcmp(how, "funneled-exit") == 0) {
        if (me == 0)
            CHECK(pthread_create(&th[0], NULL, exiter, NULL) == 0, "pthread_create");
        for (long v = 0;; v++) {
            shmem_long_p(buf, v, right);
            shmem_quiet();
        }
    }
    if (want == SHMEM_THREAD_MULTIPLE) {
        for (long t = 0; t < 2; t++)
            CHECK(pthread_create(&th[t], NULL, worker, (void *)t) == 0, "pthread_create");
        for (int t = 0; t < 2; t++)
            pthread_join(th[t], NULL);
    } else if (want == SHMEM_THREAD_SERIALIZED) {
        for (long t = 0; t < 2; t++) {
            CHECK(pthread_create(&th[t], NULL, worker, (void *)t) == 0, "pthread_create");
            pthread_join(th[t], NULL);
        }
    } else if (want == SHMEM_THREAD_FUNNELED) {
        CHECK(pthread_create(&th[0], NULL, computer, NULL) == 0, "pthread_create");
        worker((void *)0);
        worker((void *)1);
        pthread_join(th[0], NULL);
    } else {
        worker((void *)0);
        worker((void *)1);
    }
    shmem_barrier_all();
    for (long t = 0; t < 2; t++)
        for (int i = 0; i < K; i++)
            CHECK(buf[t * K + i] == (((long)left << 40) | (t << 32) | ((ITERS - 1L) << 16) | i),
                  "word %ld/%d from PE %d: %lx", t, i, left, buf[t * K + i]);
    CHECK(*ctr == 4L * ITERS, "counter %ld, want %ld", *ctr, 4L * ITERS);
    CHECK(cas[0] == ITERS && cas[1] == ITERS, "compare_swap words %ld %ld", cas[0], cas[1]);
    shmem_barrier_all();
    if (me == 0)
        printf("thread_level: ok on %d PEs (%s)\n", npes, how);
    shmem_free(cas);
    shmem_free(ctr);
    shmem_free(buf);
    shmem_finalize();
    return 0;
}
