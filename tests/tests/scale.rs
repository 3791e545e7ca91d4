//! Scale on one machine (`src/bin/scale.rs`): 64 PEs on 2 cores initialize, run a barrier
//! and an alltoall whose every block is checked, and finalize; no leftovers (checked by the
//! harness). Timing and memory are recorded in BENCHMARKS.md, not asserted here.
use rshmem_tests::harness::job;

const SCALE: &str = env!("CARGO_BIN_EXE_scale");

#[test]
fn scale_64_pes() {
    let np = 64;
    let r = job(SCALE, np).timeout_secs(180).run();
    r.assert_all_ok("scale", np);
    let line = r.values("SCALE ");
    assert!(
        line.len() == 1 && line[0].starts_with(&format!("npes={np} ")),
        "\n{r}"
    );
}
