//! Atomics (`src/bin/amo.rs`): every AMO on i32/u32/i64/u64 with checked results, a
//! contended counter with exact totals and distinct fetched values, and AMOs that
//! complete while the target PE sleeps.
use rshmem_tests::harness::{job, notice, Launcher};

const AMO: &str = env!("CARGO_BIN_EXE_amo");

fn all_ops(np: usize) {
    job(AMO, np).arg("all").run().assert_all_ok("amo", np);
}

#[test]
fn every_amo_every_type_1_pe() {
    all_ops(1);
}

#[test]
fn every_amo_every_type_2_pes() {
    all_ops(2);
}

#[test]
fn every_amo_every_type_4_pes() {
    all_ops(4);
}

#[test]
fn every_amo_every_type_8_pes() {
    all_ops(8);
}

#[test]
fn amo_singleton_without_launcher() {
    job(AMO, 1)
        .launcher(Launcher::Direct)
        .run()
        .assert_all_ok("amo", 1);
}

/// 8 PEs x 100k fetch_add(1) on one counter of PE 0: exactly 800k, and the 800k fetched
/// values are exactly 0..800k (PE 0 gathers and sorts them; each PE checks its own are
/// strictly increasing).
#[test]
fn fetch_add_8_pes_x_100k_on_one_counter() {
    let r = job(AMO, 8)
        .args(["counter", "100000"])
        .timeout_secs(60)
        .run();
    r.assert_all_ok("amo", 8);
    assert_eq!(r.values("COUNTER "), ["800000"], "\n{r}");
    assert_eq!(
        r.values("PE ")
            .iter()
            .filter(|l| l.contains("100000 fetch_add"))
            .count(),
        8,
        "\n{r}"
    );
}

/// PE 0 sleeps 1 s without calling rshmem while the others hammer it; they finish during
/// the sleep and PE 0 finds every update when it wakes.
fn sleepy(np: usize) {
    let r = job(AMO, np).arg("sleepy").timeout_secs(40).run();
    r.assert_all_ok("amo", np);
    r.assert_stdout_contains(&["SLEEPY checked"]);
    let slept = r.values("SLEPT ");
    if slept != ["1 s"] {
        notice(&format!(
            "note: the machine is overloaded: PE 0 had to sleep {slept:?} for the others to finish"
        ));
    }
    let done = r
        .values("PE ")
        .iter()
        .filter(|l| l.contains("while PE 0 slept"))
        .count();
    assert_eq!(done, np - 1, "\n{r}");
}

#[test]
fn atomics_complete_while_target_sleeps_4_pes() {
    sleepy(4);
}

#[test]
fn atomics_complete_while_target_sleeps_8_pes() {
    sleepy(8);
}
