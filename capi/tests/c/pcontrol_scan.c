/* shmem_pcontrol and the prefix sums of the remaining reduction types, from the
 * specification: shmem_pcontrol(const int level, ...) accepts any level ("level <= 0
 * Profiling is disabled", "level == 1 ... the default level of detail", "level == 2 ...
 * profile buffers are flushed if available", above that "profile library defined effects
 * and additional arguments") and extra arguments, and a tool intercepts it by defining
 * shmem_pcontrol and calling pshmem_pcontrol (profiling interface); the library's own
 * variadic entry points are called with extra arguments too (pshmem_pcontrol, and the
 * library's shmem_pcontrol found past this program's one with dlsym(RTLD_NEXT)).
 * shmem_TYPE_sum_inscan/exscan (1.6) exist for every sum-reduction type, long double,
 * float _Complex and double _Complex included: dest[i] on PE k of the team is the sum
 * of source[i] of PEs 0..k (inscan) or 0..k-1 (exscan; 0 on PE 0). */
#define _GNU_SOURCE
#include "check.h"
#include <complex.h>
#include <dlfcn.h>
#include <pshmem.h>

#define N 5

static int pcontrol_calls, last_level;

/* A profiling tool's wrapper (the weak library symbol is replaced by this one). */
void shmem_pcontrol(const int level, ...) {
    pcontrol_calls++;
    last_level = level;
    pshmem_pcontrol(level);
}

static int me, npes;

#define SCAN(T, N_, RE, IM)                                                                \
    static void scan_##N_(void) {                                                          \
        T *src = shmem_malloc(N * sizeof(T)), *in = shmem_malloc(N * sizeof(T)),           \
          *ex = shmem_malloc(N * sizeof(T));                                               \
        CHECK(src && in && ex, "alloc");                                                   \
        for (int i = 0; i < N; i++) {                                                      \
            src[i] = (T)(RE(me, i)) + (T)(IM(me, i));                                    \
            in[i] = ex[i] = (T)-99;                                                        \
        }                                                                                  \
        shmem_barrier_all();                                                               \
        CHECK(shmem_##N_##_sum_inscan(SHMEM_TEAM_WORLD, in, src, N) == 0, #N_ " inscan");  \
        CHECK(shmem_##N_##_sum_exscan(SHMEM_TEAM_WORLD, ex, src, N) == 0, #N_ " exscan");  \
        for (int i = 0; i < N; i++) {                                                      \
            T win = 0, wex = 0;                                                            \
            for (int p = 0; p <= me; p++) {                                                \
                T v = (T)(RE(p, i)) + (T)(IM(p, i));                                     \
                win += v;                                                                  \
                if (p < me)                                                                \
                    wex += v;                                                              \
            }                                                                              \
            CHECK(in[i] == win, #N_ " inscan[%d]", i);                                     \
            CHECK(ex[i] == wex, #N_ " exscan[%d] (PE %d)", i, me);                         \
        }                                                                                  \
        shmem_barrier_all();                                                               \
        /* C11 generic name */                                                            \
        CHECK(shmem_sum_inscan(SHMEM_TEAM_WORLD, ex, src, N) == 0, #N_ " generic");        \
        for (int i = 0; i < N; i++)                                                        \
            CHECK(ex[i] == in[i], #N_ " generic inscan[%d]", i);                           \
        shmem_barrier_all();                                                               \
        shmem_free(ex);                                                                    \
        shmem_free(in);                                                                    \
        shmem_free(src);                                                                   \
    }

#define RE_LD(p, i) ((long double)(p) + 1.0L + (long double)(i) / 4.0L)
#define IM_NONE(p, i) 0
#define RE_C(p, i) ((p) + 1 + (i))
#define IM_F(p, i) (-(float)((p) + 2 * (i)) * I)
#define IM_D(p, i) (-(double)((p) + 3 * (i)) * I)

SCAN(long double, longdouble, RE_LD, IM_NONE)
SCAN(float _Complex, complexf, RE_C, IM_F)
SCAN(double _Complex, complexd, RE_C, IM_D)

int main(void) {
    shmem_init();
    me = shmem_my_pe();
    npes = shmem_n_pes();
    shmem_pcontrol(0);
    shmem_pcontrol(1);
    shmem_pcontrol(2);
    shmem_pcontrol(3, "tool-defined", 1.5);
    CHECK(pcontrol_calls == 4 && last_level == 3, "pcontrol intercepted: %d calls, level %d",
          pcontrol_calls, last_level);
    /* the library's variadic entry points, with extra arguments */
    pshmem_pcontrol(1);
    pshmem_pcontrol(3, "x", 1.5);
    pshmem_pcontrol(-1, 7, 2.5, "y", (void *)0);
    void (*lib_pcontrol)(const int, ...) =
        (void (*)(const int, ...))dlsym(RTLD_NEXT, "shmem_pcontrol");
    CHECK(lib_pcontrol != NULL && lib_pcontrol != shmem_pcontrol,
          "librshmem's shmem_pcontrol not found past the program's: %s", dlerror());
    lib_pcontrol(0);
    lib_pcontrol(2);
    lib_pcontrol(3, "x", 1.5);
    lib_pcontrol(4, 1, 2L, 3.0, 4.0f, "z");
    CHECK(pcontrol_calls == 4, "the library's entry points called the interposer: %d calls",
          pcontrol_calls);
    scan_longdouble();
    scan_complexf();
    scan_complexd();
    if (me == 0)
        printf("pcontrol_scan: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
