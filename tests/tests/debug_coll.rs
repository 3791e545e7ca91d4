//! `SHMEM_DEBUG=1` checks that every member called a collective with the same arguments
//! (`src/bin/debug_coll.rs`; issue 13, item 9): a mismatch ends the job with a message
//! naming the call, both PEs and both argument lists; agreeing arguments pass with and
//! without the check.
use rshmem_tests::harness::job;

const BIN: &str = env!("CARGO_BIN_EXE_debug_coll");

fn mismatch(mode: &str, mine: &str, theirs: &str) {
    let r = job(BIN, 2).arg(mode).env("SHMEM_DEBUG", "1").run();
    r.assert_failed();
    r.assert_stderr_contains(&[
        "SHMEM_DEBUG: the team's PEs called a collective with different arguments",
        "team PE 0 (world PE 0)",
        "team PE 1 (world PE 1)",
        mine,
        theirs,
    ]);
    assert!(!r.stdout_text().contains("OK"), "\n{r}");
}

#[test]
fn broadcast_roots_that_differ() {
    mismatch(
        "root",
        "broadcast(n = 4, root = 0)",
        "broadcast(n = 4, root = 1)",
    );
}

#[test]
fn fcollect_counts_that_differ() {
    mismatch("n", "fcollect(n = 1)", "fcollect(n = 2)");
}

#[test]
fn reduce_operators_that_differ() {
    mismatch("op", "reduce(Sum)(n = 4)", "reduce(Max)(n = 4)");
}

#[test]
fn agreeing_arguments_pass_with_and_without_the_check() {
    for np in [1, 2, 4] {
        for debug in ["1", "0"] {
            job(BIN, np)
                .arg("agree")
                .env("SHMEM_DEBUG", debug)
                .run()
                .assert_all_ok("debug_coll", np);
        }
    }
}
