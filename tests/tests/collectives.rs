//! Teams and collectives in real multi-PE jobs (`src/bin/coll_check.rs`,
//! `coll_barrier.rs`, `coll_teams.rs`): every collective on every team shape against a
//! sequential reference, at 1, 2, 3, 4 and 8 PEs, for i32, u64, f64 and complex f64, every
//! other type at 3 PEs, sizes 0 to 4 MiB; both sides of every algorithm crossover
//! (by size and forced through `RSHMEM_*_ALGORITHM`); 10,000 back-to-back barriers at 8
//! PEs; the team API, its argument checks and running out of team space.
use rshmem_tests::harness::job;

const CHECK: &str = env!("CARGO_BIN_EXE_coll_check");
const BARRIER: &str = env!("CARGO_BIN_EXE_coll_barrier");
const TEAMS: &str = env!("CARGO_BIN_EXE_coll_teams");

/// Every team shape of `coll_check`, in its order.
const ALL_TEAMS: [&str; 8] = [
    "world",
    "stride2",
    "reversed",
    "stride-2",
    "stride0",
    "reversed/stride2",
    "2d-rows",
    "2d-cols",
];

fn check(np: usize, sizes: &str, teams: &str, env: &[(&str, &str)]) {
    check_types(np, sizes, teams, "basic", env, 60);
}

fn check_types(np: usize, sizes: &str, teams: &str, types: &str, env: &[(&str, &str)], secs: u64) {
    let mut j = job(CHECK, np)
        .args([sizes, teams, types])
        .timeout_secs(secs);
    for (k, v) in env {
        j = j.env(k, v);
    }
    let r = j.run();
    r.assert_all_ok("coll_check", np);
    let ran = r.values("TEAM ");
    let want: Vec<&str> = ALL_TEAMS
        .iter()
        .copied()
        .filter(|t| teams == "all" || teams.split(',').any(|x| x == *t))
        .collect();
    assert_eq!(ran.len(), want.len(), "\n{r}");
    for (line, t) in ran.iter().zip(want) {
        assert!(line.starts_with(&format!("{t} ")), "{line:?} vs {t}\n{r}");
    }
}

/// Every other type (i8, i16, i64, u8, u16, u32, f32) on every team shape.
#[test]
fn every_type_3_pes() {
    check_types(3, "0,1,1000", "all", "all", &[], 120);
}

/// 4 MiB messages: 524288 u64 / f64 (2 MiB of i32) per PE, every collective, both
/// algorithm families of broadcast and reduce chosen by size.
#[test]
fn four_mib_messages() {
    check_types(2, "524288", "world", "basic", &[], 300);
    check_types(4, "524288", "world,2d-rows", "basic", &[], 300);
}

#[test]
fn every_collective_1_pe() {
    check(1, "0,1,1000,17000", "all", &[]);
}

#[test]
fn every_collective_2_pes() {
    check(2, "0,1,1000,17000", "all", &[]);
}

#[test]
fn every_collective_3_pes() {
    // 8200 elements: 65.6 KB of u64/f64, past the 64 KiB broadcast crossover
    check(3, "0,1,1000,8200", "all", &[]);
}

#[test]
fn every_collective_4_pes() {
    check(4, "0,1,1000", "all", &[]);
    check(4, "17000", "world,2d-cols", &[]);
}

#[test]
fn every_collective_8_pes() {
    check(8, "0,1,1000", "all", &[]);
}

#[test]
fn large_message_algorithms_forced_at_small_sizes() {
    let env = [
        ("RSHMEM_BCAST_ALGORITHM", "scatter-allgather"),
        ("RSHMEM_REDUCE_ALGORITHM", "ring"),
        ("RSHMEM_COLLECT_ALGORITHM", "ring"),
    ];
    check(4, "1,7,1000", "world,stride-2,2d-rows", &env);
    check(5, "1,1000", "world,reversed", &env);
}

#[test]
fn small_message_algorithms_forced_at_large_sizes() {
    let env = [
        ("RSHMEM_BCAST_ALGORITHM", "binomial"),
        ("RSHMEM_REDUCE_ALGORITHM", "recursive_doubling"),
        ("RSHMEM_COLLECT_ALGORITHM", "Recursive-Doubling"),
        ("RSHMEM_BARRIER_ALGORITHM", "dissemination"),
        ("RSHMEM_ALLTOALL_ALGORITHM", "pairwise"),
    ];
    check(3, "9000", "world,reversed", &env);
}

/// Rabenseifner's all-reduce forced at every size: powers of two and not (the extra
/// members fold into a partner), teams of 1 to 8, vectors shorter than the team (empty
/// chunks), odd sizes, several segments (17000 u64 on the 32 KiB scratch of split teams,
/// and on the world team's at 3 and 5 PEs); every type at 3 PEs.
#[test]
fn rabenseifner_reduce_forced() {
    let env = [("RSHMEM_REDUCE_ALGORITHM", "rabenseifner")];
    check(2, "1,7,17000", "world,reversed", &env);
    check(3, "0,7,1000,17000", "all", &env);
    check(4, "7,17000", "world,2d-cols", &env);
    check(5, "3,1000,17000", "world,reversed", &env);
    check(8, "1,1000", "world,stride2,2d-rows", &env);
    check_types(3, "5,1001", "world", "all", &env, 120);
}

#[test]
fn unknown_algorithm_is_refused_at_init() {
    let r = job(CHECK, 2)
        .args(["1", "world"])
        .env("RSHMEM_REDUCE_ALGORITHM", "bogus")
        .run();
    r.assert_failed().assert_stderr_contains(&[
        "RSHMEM_REDUCE_ALGORITHM",
        "bogus",
        "recursive-doubling, ring, rabenseifner",
    ]);
}

#[test]
fn ten_thousand_barriers_8_pes() {
    let r = job(BARRIER, 8).arg(10_000).timeout_secs(40).run();
    r.assert_all_ok("coll_barrier", 8);
    let line = r.values("BARRIERS ");
    assert!(line.len() == 1 && line[0].starts_with("10000 in "), "\n{r}");
}

#[test]
fn barriers_few_pes() {
    for np in [1, 2, 3] {
        job(BARRIER, np)
            .arg(2000)
            .run()
            .assert_all_ok("coll_barrier", np);
    }
}

#[test]
fn team_api() {
    for np in [1, 2, 3, 4, 8] {
        job(TEAMS, np)
            .arg(100)
            .timeout_secs(40)
            .run()
            .assert_all_ok("coll_teams", np);
    }
}

#[test]
fn shmem_debug_names_the_bad_argument() {
    let r = job(TEAMS, 2).arg(1).env("SHMEM_DEBUG", "1").run();
    r.assert_all_ok("coll_teams", 2).assert_stderr_contains(&[
        "rshmem: PE 0: SHMEM_DEBUG: team_split_strided: invalid start = 2",
        "rshmem: PE 1: SHMEM_DEBUG: team_split_strided: invalid stride = 0: a zero stride needs size 1, not 2",
        "team_split_strided: invalid size = 0",
        "team_split_2d: invalid xrange = 0",
    ]);
}
