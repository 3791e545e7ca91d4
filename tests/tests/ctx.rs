//! Communication contexts in the Rust API (`src/bin/ctx.rs`): private contexts on two
//! threads, create/destroy, serialized and shared contexts. Over shared memory a context
//! takes the default path; the verbs VM suite (scripts/verbs-tests.sh) runs the same
//! program over RDMA, where each context has a channel of its own.
use rshmem_tests::harness::job;

const CTX: &str = env!("CARGO_BIN_EXE_ctx");

#[test]
fn contexts_1_pe() {
    job(CTX, 1).run().assert_all_ok("ctx", 1);
}

#[test]
fn contexts_2_pes() {
    job(CTX, 2).run().assert_all_ok("ctx", 2);
}

#[test]
fn contexts_4_pes() {
    job(CTX, 4).run().assert_all_ok("ctx", 4);
}

#[test]
fn contexts_independent_quiet_2_pes() {
    job(CTX, 2).arg("independent").run().assert_all_ok("ctx", 2);
}
