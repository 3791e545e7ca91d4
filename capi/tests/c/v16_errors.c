/* Misuse of the 1.6 routines must end the job with the runtime's message naming the
 * routine (run by c_programs.rs, which expects a failing exit and that name on stderr).
 * argv[1] picks the misuse; every PE commits it. */
#include "check.h"
#include <string.h>

int main(int argc, char **argv) {
    shmem_init();
    int npes = shmem_n_pes();
    int *a = shmem_malloc(64 * sizeof(int));
    int local[64] = {0};
    uint64_t *sig = shmem_calloc(1, sizeof(uint64_t));
    uint64_t notsym = 0;
    const char *what = argc > 1 ? argv[1] : "";
    shmem_barrier_all();
    if (!strcmp(what, "ibput-stride0"))
        shmem_int_ibput(a, local, 0, 1, 2, 3, 0);
    else if (!strcmp(what, "ibget-negative-stride"))
        shmem_ibget32(local, a, 2, -1, 1, 3, 0);
    else if (!strcmp(what, "ibput-pe"))
        shmem_ctx_long_ibput(SHMEM_CTX_DEFAULT, (long *)a, (long *)local, 2, 2, 1, 2, npes);
    else if (!strcmp(what, "ibget-span"))
        /* the second source block lies far past the symmetric heap */
        shmem_int_ibget(local, a, 2, (ptrdiff_t)1 << 40, 2, 2, 0);
    else if (!strcmp(what, "ibput-symmetric"))
        shmem_int_ibput(local, a, 2, 2, 2, 2, 0); /* dest on the stack */
    else if (!strcmp(what, "ibput-bsize"))
        shmem_int_ibput(a, local, 1, 1, (size_t)-1, 2, 0); /* "negative" block size */
    else if (!strcmp(what, "signal-add-pe"))
        shmem_signal_add(sig, 1, -1);
    else if (!strcmp(what, "signal-set-symmetric"))
        shmem_signal_set(&notsym, 1, 0);
    else if (!strcmp(what, "pe-quiet-pe")) {
        int pes[2] = {0, npes};
        shmem_pe_quiet(pes, 2);
    } else if (!strcmp(what, "ctx-pe-quiet-null"))
        shmem_ctx_pe_quiet(SHMEM_CTX_DEFAULT, NULL, 1);
    else
        CHECK(0, "unknown case '%s'", what);
    printf("%s: not caught\n", what);
    shmem_finalize();
    return 0;
}
