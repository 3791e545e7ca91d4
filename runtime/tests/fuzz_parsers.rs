//! Fuzzing of the size parser of the environment (proptest), through its public function.
//! The PMI-1 and PMI-2 wire parsers, hex and process-mapping cases that were here target the
//! shared codec now and live with it: `pmi/tests/fuzz.rs` (crate `rshmem-pmi`).
//!
//! A short run is part of the normal tests; a longer one:
//! `PROPTEST_CASES=100000 cargo test --release -p rshmem --test fuzz_parsers`.

use proptest::prelude::*;
use rshmem::env::parse_size;

proptest! {
    #[test]
    fn parse_size_never_panics_and_is_bounded(v in prop_oneof![
        ".{0,30}",
        "[0-9]{0,25}(\\.[0-9]{0,10})?[kKmMgGtT]?",
        " *[0-9.]{1,30}[a-z]? *",
    ]) {
        if let Ok(n) = parse_size("SHMEM_SYMMETRIC_SIZE", &v) {
            prop_assert!((1..=1usize << 46).contains(&n), "{} -> {}", v, n);
        }
    }

    #[test]
    fn parse_size_integers(n in 1u64..(1 << 30), s in 0usize..5) {
        let (suffix, mult) = [("", 1u64), ("k", 1 << 10), ("M", 1 << 20), ("g", 1 << 30), ("T", 1 << 40)][s];
        let want = n.checked_mul(mult).filter(|&b| b <= 1 << 46);
        let got = parse_size("SHMEM_SYMMETRIC_SIZE", &format!("{n}{suffix}")).ok();
        prop_assert_eq!(got.map(|g| g as u64), want);
    }
}
