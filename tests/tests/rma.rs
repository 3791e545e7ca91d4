//! RMA data movement (`src/bin/rma.rs`): put/get blocking and nbi, p/g, iput/iget, sizes
//! 0..1 MiB at unaligned offsets to every PE, resize, aligned allocation.
use rshmem_tests::harness::{job, Launcher};

const RMA: &str = env!("CARGO_BIN_EXE_rma");

fn rma(np: usize) {
    job(RMA, np).run().assert_all_ok("rma", np);
}

#[test]
fn rma_1_pe() {
    rma(1);
}

#[test]
fn rma_2_pes() {
    rma(2);
}

#[test]
fn rma_4_pes() {
    rma(4);
}

#[test]
fn rma_8_pes() {
    rma(8);
}

#[test]
fn rma_singleton_without_launcher() {
    job(RMA, 1)
        .launcher(Launcher::Direct)
        .run()
        .assert_all_ok("rma", 1);
}
