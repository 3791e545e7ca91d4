/* Contexts left to shmem_finalize, from the specification's words: shmem_finalize has "an
 * implicit global barrier ... so that pending communication is completed" and "releases
 * resources"; shmem_ctx_destroy "performs an implicit quiet" before freeing a context, and
 * a context must not be used after it is destroyed. This program leaves two contexts (one
 * SHMEM_CTX_PRIVATE, one shareable) with non-blocking puts outstanding and no quiet, and
 * calls shmem_finalize: the job must end cleanly (exit 0, every PE past finalize).
 * With the argument "double", it destroys a context twice: the job must end with a
 * message naming shmem_ctx_destroy instead of freeing the context again. */
#include "check.h"
#include <string.h>

#define N (64 * 1024)

int main(int argc, char **argv) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    char *dst = shmem_malloc(2 * N);
    CHECK(dst != NULL, "alloc");
    static char src[2 * N];
    memset(src, 'a' + me % 26, sizeof src);
    shmem_barrier_all();

    shmem_ctx_t priv, shared;
    CHECK(shmem_ctx_create(SHMEM_CTX_PRIVATE, &priv) == 0, "private context");
    CHECK(shmem_ctx_create(0, &shared) == 0, "shareable context");
    if (argc > 1 && strcmp(argv[1], "double") == 0) {
        shmem_ctx_destroy(priv);
        shmem_ctx_destroy(priv);
        printf("ctx_finalize: the second destroy was not caught\n");
        shmem_finalize();
        return 0;
    }
    int peer = (me + 1) % npes;
    /* First, both contexts work: a put and a quiet on each, checked after a barrier. */
    shmem_ctx_putmem_nbi(priv, dst, src, N, peer);
    shmem_ctx_putmem_nbi(shared, dst + N, src, N, peer);
    shmem_ctx_quiet(priv);
    shmem_ctx_quiet(shared);
    shmem_barrier_all();
    char want = 'a' + (me + npes - 1) % npes % 26;
    for (int i = 0; i < 2 * N; i += 4093)
        CHECK(dst[i] == want, "byte %d: %d, want %d", i, dst[i], want);
    shmem_barrier_all();
    /* Then puts left outstanding on both, neither quieted nor destroyed. */
    for (int k = 0; k < 8; k++) {
        shmem_ctx_putmem_nbi(priv, dst, src, N, peer);
        shmem_ctx_putmem_nbi(shared, dst + N, src, N, peer);
    }
    if (me == 0)
        printf("ctx_finalize: ok on %d PEs\n", npes);
    fflush(stdout);
    shmem_finalize();
    printf("ctx_finalize: PE %d past finalize\n", me);
    return 0;
}
