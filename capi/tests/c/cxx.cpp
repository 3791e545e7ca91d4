// The header from C++: extern "C" linkage, typed names (no C11 generics under C++).
#include <shmem.h>
#include <shmemx.h>
#include <cstdio>
#include <vector>

int main() {
    shmem_init();
    const int me = shmem_my_pe(), npes = shmem_n_pes();
    const int right = (me + 1) % npes, left = (me + npes - 1) % npes;
    auto *v = static_cast<long *>(shmem_calloc(8, sizeof(long)));
    auto *sig = static_cast<uint64_t *>(shmem_calloc(1, sizeof(uint64_t)));
    std::vector<long> src(8);
    for (int i = 0; i < 8; i++)
        src[i] = me * 10 + i;
    shmem_long_put_signal(v, src.data(), src.size(), sig, 1, SHMEM_SIGNAL_SET, right);
    shmem_signal_wait_until(sig, SHMEM_CMP_EQ, 1);
    int bad = 0;
    for (int i = 0; i < 8; i++)
        bad += v[i] != left * 10 + i;
    shmem_barrier_all();
    shmem_long_atomic_add(&v[0], 1, 0);
    shmem_barrier_all();
    if (me == 0 && shmem_long_atomic_fetch(&v[0], 0) != left * 10 + npes)
        bad++;
    char name[SHMEM_MAX_NAME_LEN];
    shmem_info_get_name(name);
    if (me == 0 && !bad)
        std::printf("cxx: ok on %d PEs (%s)\n", npes, name);
    if (bad)
        std::fprintf(stderr, "cxx: PE %d: wrong data\n", me);
    shmem_free(sig);
    shmem_free(v);
    shmem_finalize();
    return bad ? 1 : 0;
}
