/* Teams: predefined teams, split_strided (evens, reversed, single), split_2d, translate_pe,
 * get_config, team_sync, team_ptr, destroy, and the SHMEM_TEAM_INVALID answers. */
#include "check.h"

int main(void) {
    shmem_init();
    int me = shmem_my_pe(), npes = shmem_n_pes();

    CHECK(shmem_team_my_pe(SHMEM_TEAM_WORLD) == me, "world my_pe");
    CHECK(shmem_team_n_pes(SHMEM_TEAM_WORLD) == npes, "world n_pes");
    int shared_n = shmem_team_n_pes(SHMEM_TEAM_SHARED);
    CHECK(shared_n >= 1 && shared_n <= npes, "shared n_pes %d", shared_n);
    CHECK(shmem_team_translate_pe(SHMEM_TEAM_SHARED, shmem_team_my_pe(SHMEM_TEAM_SHARED),
                                  SHMEM_TEAM_WORLD) == me,
          "shared -> world");
    CHECK(shmem_team_my_pe(SHMEM_TEAM_INVALID) == -1, "invalid my_pe");
    CHECK(shmem_team_n_pes(SHMEM_TEAM_INVALID) == -1, "invalid n_pes");
    CHECK(shmem_team_translate_pe(SHMEM_TEAM_WORLD, 0, SHMEM_TEAM_INVALID) == -1,
          "translate to invalid");
    CHECK(shmem_team_translate_pe(SHMEM_TEAM_WORLD, npes, SHMEM_TEAM_WORLD) == -1,
          "translate out of range");
    CHECK(shmem_team_sync(SHMEM_TEAM_WORLD) == 0, "sync world");
    CHECK(shmem_team_sync(SHMEM_TEAM_INVALID) != 0, "sync invalid");

    /* Evens, with a configuration. */
    shmem_team_config_t cfg = {.num_contexts = 3};
    shmem_team_t evens = SHMEM_TEAM_INVALID;
    int nev = (npes + 1) / 2;
    int rc = shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 2, nev, &cfg,
                                      SHMEM_TEAM_NUM_CONTEXTS, &evens);
    CHECK(rc == 0, "split evens rc %d", rc);
    if (me % 2 == 0) {
        CHECK(evens != SHMEM_TEAM_INVALID, "even PE without team");
        CHECK(shmem_team_my_pe(evens) == me / 2, "evens my_pe %d", shmem_team_my_pe(evens));
        CHECK(shmem_team_n_pes(evens) == nev, "evens n_pes");
        CHECK(shmem_team_translate_pe(evens, 1 % nev, SHMEM_TEAM_WORLD) == 2 * (1 % nev),
              "evens -> world");
        CHECK(shmem_team_translate_pe(SHMEM_TEAM_WORLD, me, evens) == me / 2, "world -> evens");
        shmem_team_config_t got = {.num_contexts = -7};
        CHECK(shmem_team_get_config(evens, SHMEM_TEAM_NUM_CONTEXTS, &got) == 0, "get_config");
        CHECK(got.num_contexts == 3, "num_contexts %d", got.num_contexts);
        CHECK(shmem_team_sync(evens) == 0, "sync evens");
        long *x = shmem_malloc(sizeof(long)); /* collective over world: odd PEs too, below */
        shmem_team_sync(evens);
        void *p = shmem_team_ptr(evens, x, 0);
        CHECK(p != NULL, "team_ptr to team PE 0 (shared memory)");
        CHECK(shmem_team_ptr(evens, x, nev) == NULL, "team_ptr out of range");
        shmem_team_sync(evens);
        shmem_free(x);
    } else {
        CHECK(evens == SHMEM_TEAM_INVALID, "odd PE got a team");
        long *x = shmem_malloc(sizeof(long));
        shmem_free(x);
    }
    if (me == 1)
        CHECK(shmem_team_translate_pe(SHMEM_TEAM_WORLD, 1, SHMEM_TEAM_WORLD) == 1, "identity");
    if (evens != SHMEM_TEAM_INVALID)
        shmem_team_destroy(evens);

    /* Reversed world; then a split of a split: its PE 0 alone. */
    shmem_team_t rev, one;
    CHECK(shmem_team_split_strided(SHMEM_TEAM_WORLD, npes - 1, -1, npes, NULL, 0, &rev) == 0,
          "split reversed");
    CHECK(shmem_team_my_pe(rev) == npes - 1 - me, "reversed my_pe");
    CHECK(shmem_team_translate_pe(rev, 0, SHMEM_TEAM_WORLD) == npes - 1, "rev 0 -> world");
    shmem_team_config_t got;
    CHECK(shmem_team_get_config(rev, SHMEM_TEAM_NUM_CONTEXTS, &got) == 0 && got.num_contexts == 0,
          "default config");
    CHECK(shmem_team_split_strided(rev, 0, 0, 1, NULL, 0, &one) == 0, "split of split");
    if (me == npes - 1) {
        CHECK(shmem_team_n_pes(one) == 1 && shmem_team_my_pe(one) == 0, "singleton");
        shmem_team_sync(one);
        shmem_team_destroy(one);
    } else {
        CHECK(one == SHMEM_TEAM_INVALID, "not in the singleton");
    }
    shmem_team_destroy(rev);

    /* Invalid arguments: every PE gets an error and SHMEM_TEAM_INVALID. */
    shmem_team_t bad = SHMEM_TEAM_WORLD;
    CHECK(shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 1, npes + 1, NULL, 0, &bad) != 0,
          "oversized split accepted");
    CHECK(bad == SHMEM_TEAM_INVALID, "bad split handle");
    CHECK(shmem_team_split_strided(SHMEM_TEAM_INVALID, 0, 1, 1, NULL, 0, &bad) != 0,
          "split of invalid parent");

    /* 2-D: two columns. */
    shmem_team_t row, col;
    CHECK(shmem_team_split_2d(SHMEM_TEAM_WORLD, 2, NULL, 0, &row, NULL, 0, &col) == 0, "2d");
    CHECK(shmem_team_my_pe(row) == me % 2, "row my_pe");
    CHECK(shmem_team_my_pe(col) == me / 2, "col my_pe");
    int rown = (me / 2 == (npes - 1) / 2) ? npes - (me / 2) * 2 : 2;
    CHECK(shmem_team_n_pes(row) == (npes < 2 ? 1 : rown), "row n_pes %d", shmem_team_n_pes(row));
    CHECK(shmem_team_n_pes(col) == (npes - me % 2 + 1) / 2, "col n_pes %d",
          shmem_team_n_pes(col));
    CHECK(shmem_team_translate_pe(col, 0, SHMEM_TEAM_WORLD) == me % 2, "col 0 -> world");
    shmem_team_sync(row);
    shmem_team_sync(col);
    shmem_team_destroy(row);
    shmem_team_destroy(col);
    /* Many create/destroy cycles must not exhaust the team space. */
    for (int i = 0; i < 50; i++) {
        shmem_team_t t;
        CHECK(shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 1, npes, NULL, 0, &t) == 0, "cycle");
        shmem_team_sync(t);
        shmem_team_destroy(t);
    }
    shmem_barrier_all();
    if (me == 0)
        printf("team: ok on %d PEs\n", npes);
    shmem_finalize();
    return 0;
}
