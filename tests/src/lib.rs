//! Shared code of the rshmem multi-PE integration tests.
//!
//! - [`pe`]: helpers for the PE programs in `src/bin/` (init, data patterns, reporting).
//! - [`harness`]: the test side: launch a PE program through the real `rshmemrun` (or
//!   MPICH's `mpiexec.hydra`, or alone as a singleton), capture its output with arrival
//!   times, and assert on exit codes, output and leftovers in `/dev/shm`.
//!
//! PE programs (`src/bin/`): `rma`, `amo`, `signal`, `lock`, `barrier`, `fail`; the tests
//! (`tests/`): `rma`, `atomics`, `signal`, `locks`, `barrier`, `failures`, `examples`
//! (the `rshmem-examples` programs) and `hydra` (the core programs under
//! `mpiexec.hydra`, PMI_FD and PMI_PORT modes).
//!
//! Run the suite with `cargo build --workspace && cargo test -p rshmem-tests`: the tests
//! launch `rshmemrun` and the example programs from the same target directory, so those
//! must be built (and current) first.
pub mod harness;
pub mod pe;
