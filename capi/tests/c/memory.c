/* Memory management: malloc/calloc/align/realloc/free/malloc_with_hints, the deprecated
 * shmalloc family, NULL for size 0 and on exhaustion (with a message), heap still usable. */
#include "check.h"
#include <string.h>

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    int right = (me + 1) % npes, left = (me + npes - 1) % npes;

    CHECK(shmem_malloc(0) == NULL, "malloc(0)");
    int *a = shmem_malloc(100 * sizeof(int));
    CHECK(a != NULL, "malloc");
    int *z = shmem_calloc(1000, sizeof(int));
    CHECK(z != NULL, "calloc");
    for (int i = 0; i < 1000; i++)
        CHECK(z[i] == 0, "calloc not zeroed at %d", i);
    double *al = shmem_align(4096, 3 * sizeof(double));
    CHECK(al != NULL && ((uintptr_t)al % 4096) == 0, "align %p", (void *)al);
    long *h = shmem_malloc_with_hints(64 * sizeof(long), SHMEM_MALLOC_ATOMICS_REMOTE);
    CHECK(h != NULL, "malloc_with_hints");

    /* The same offsets everywhere: remote writes land in the matching object. */
    for (int i = 0; i < 100; i++)
        a[i] = me;
    shmem_barrier_all();
    shmem_int_p(&a[99], me + 1000, right);
    shmem_double_p(&al[2], me + 0.5, right);
    shmem_long_atomic_add(&h[63], 1, right);
    shmem_barrier_all();
    CHECK(a[99] == left + 1000 && al[2] == left + 0.5 && h[63] == 1, "remote writes");

    /* realloc keeps the contents, grow and shrink */
    for (int i = 0; i < 100; i++)
        a[i] = i * me;
    shmem_barrier_all();
    a = shmem_realloc(a, 100000 * sizeof(int));
    CHECK(a != NULL, "realloc grow");
    for (int i = 0; i < 100; i++)
        CHECK(a[i] == i * me, "realloc lost %d", i);
    a[99999] = -me;
    shmem_barrier_all();
    CHECK(shmem_int_g(&a[99999], right) == -right, "realloc'd block is symmetric");
    shmem_barrier_all();
    a = shmem_realloc(a, 10 * sizeof(int));
    CHECK(a != NULL && a[9] == 9 * me, "realloc shrink");
    int *nr = shmem_realloc(NULL, 16); /* realloc(NULL) = malloc */
    CHECK(nr != NULL, "realloc NULL");
    shmem_free(nr);

    /* Exhaustion: NULL on every PE, message on stderr, heap still usable afterwards. */
    void *huge = shmem_malloc((size_t)1 << 46);
    CHECK(huge == NULL, "1<<46 bytes allocated");
    void *huge2 = shmem_calloc((size_t)1 << 40, 1 << 10);
    CHECK(huge2 == NULL, "calloc exhaustion");
    CHECK(shmem_align(3, 64) == NULL, "align 3 (not a power of two)");
    int *after = shmem_malloc(sizeof(int));
    CHECK(after != NULL, "malloc after exhaustion");
    *after = me;
    shmem_barrier_all();
    CHECK(shmem_int_g(after, right) == right, "block after exhaustion");
    shmem_barrier_all();

    /* Deprecated names */
    long *old = shmalloc(8 * sizeof(long));
    CHECK(old != NULL, "shmalloc");
    long *oal = shmemalign(256, sizeof(long));
    CHECK(oal != NULL && ((uintptr_t)oal % 256) == 0, "shmemalign");
    old = shrealloc(old, 16 * sizeof(long));
    CHECK(old != NULL, "shrealloc");
    shfree(oal);
    shfree(old);

    shmem_free(NULL);
    shmem_free(after);
    shmem_free(h);
    shmem_free(al);
    shmem_free(z);
    shmem_free(a);
    /* After freeing everything, one large block fits again. */
    char *big = shmem_malloc(64 << 20);
    CHECK(big != NULL, "64 MiB after frees");
    memset(big, 1, 64 << 20);
    shmem_free(big);
    if (me == 0)
        printf("memory: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
