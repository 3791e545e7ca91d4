//! Point-to-point synchronization (`src/bin/signal.rs`): put_signal Set/Add, every
//! comparison of wait_until on signed and unsigned words, the all/any/some and vector
//! forms with status masks, the test forms, and fence ordering.
use rshmem_tests::harness::{job, Launcher};

const SIGNAL: &str = env!("CARGO_BIN_EXE_signal");

fn signal(np: usize) {
    job(SIGNAL, np).run().assert_all_ok("signal", np);
}

#[test]
fn signal_wait_fence_1_pe() {
    signal(1);
}

#[test]
fn signal_wait_fence_2_pes() {
    signal(2);
}

#[test]
fn signal_wait_fence_4_pes() {
    signal(4);
}

#[test]
fn signal_wait_fence_8_pes() {
    signal(8);
}

#[test]
fn signal_singleton_without_launcher() {
    job(SIGNAL, 1)
        .launcher(Launcher::Direct)
        .run()
        .assert_all_ok("signal", 1);
}
