/* Profiling interface: this program defines its own shmem_putmem and shmem_barrier_all,
 * which take precedence over the library's weak ones, and forward to pshmem_*. */
#include "check.h"

void pshmem_putmem(void *dest, const void *source, size_t nelems, int pe);
void pshmem_barrier_all(void);

static int puts_seen, barriers_seen;

void shmem_putmem(void *dest, const void *source, size_t nelems, int pe) {
    puts_seen++;
    pshmem_putmem(dest, source, nelems, pe);
}

void shmem_barrier_all(void) {
    barriers_seen++;
    pshmem_barrier_all();
}

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();
    int *x = shmem_calloc(1, sizeof(int));
    int v = me + 1;
    shmem_putmem(x, &v, sizeof v, (me + 1) % npes);
    shmem_barrier_all();
    CHECK(*x == (me + npes - 1) % npes + 1, "forwarded put lost: %d", *x);
    CHECK(puts_seen == 1 && barriers_seen == 1, "interceptors saw %d puts, %d barriers",
          puts_seen, barriers_seen);
    shmem_free(x);
    if (me == 0)
        printf("pshmem: ok on %d PEs (interposed shmem_putmem, shmem_barrier_all)\n", npes);
    shmem_finalize();
    return 0;
}
