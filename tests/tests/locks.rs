//! Locks (`src/bin/lock.rs`): N PEs x K lock / g / p(value+1) / unlock on counters of PE 0
//! and of the last PE (two nested locks) give exactly N*K; try_lock fails while held and
//! exactly one of N simultaneous tries wins.
use rshmem_tests::harness::job;

const LOCK: &str = env!("CARGO_BIN_EXE_lock");
const ITERS: usize = 1000;

fn locks(np: usize) {
    let r = job(LOCK, np).arg(ITERS).run();
    r.assert_all_ok("lock", np);
    let want = format!("{} {}", np * ITERS, np * ITERS);
    assert_eq!(r.values("COUNTERS "), [want], "\n{r}");
}

#[test]
fn lock_counter_and_try_lock_1_pe() {
    locks(1);
}

#[test]
fn lock_counter_and_try_lock_2_pes() {
    locks(2);
}

#[test]
fn lock_counter_and_try_lock_4_pes() {
    locks(4);
}

#[test]
fn lock_counter_and_try_lock_8_pes() {
    locks(8);
}
