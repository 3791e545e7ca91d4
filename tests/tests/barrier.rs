//! Barriers (`src/bin/barrier.rs`): 2000 back-to-back barrier_all / sync_all, each
//! checked: no PE leaves barrier k before every PE has reached it.
use rshmem_tests::harness::job;

const BARRIER: &str = env!("CARGO_BIN_EXE_barrier");

fn barriers(np: usize, iters: usize) {
    let r = job(BARRIER, np).arg(iters).run();
    r.assert_all_ok("barrier", np);
    let line = r.values("BARRIERS ");
    assert!(
        line.len() == 1 && line[0].starts_with(&format!("{iters} in ")),
        "\n{r}"
    );
}

#[test]
fn barriers_1_pe() {
    barriers(1, 2000);
}

#[test]
fn barriers_2_pes() {
    barriers(2, 2000);
}

#[test]
fn barriers_4_pes() {
    barriers(4, 2000);
}

#[test]
fn barriers_8_pes() {
    barriers(8, 2000);
}
