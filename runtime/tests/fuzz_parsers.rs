//! Fuzzing of the runtime's PMI-1 and PMI-2 wire parsers, their helpers and the size parser
//! of the environment (proptest), through their public functions.
//!
//! A short run is part of the normal tests; a longer one:
//! `PROPTEST_CASES=100000 cargo test --release -p rshmem --test fuzz_parsers`.

use proptest::prelude::*;
use rshmem::bootstrap::pmi2;
use rshmem::bootstrap::wire::{self, Message};
use rshmem::env::parse_size;

/// Found by thinking about the fuzzer's corner: a node number at the top of `usize`.
#[test]
fn process_mapping_node_overflow_is_refused() {
    assert_eq!(
        wire::parse_process_mapping("(vector,(18446744073709551615,2,1))", 2),
        None
    );
    assert_eq!(
        wire::parse_process_mapping("(vector,(18446744073709551614,2,1))", 2),
        Some(vec![usize::MAX - 1, usize::MAX])
    );
}

proptest! {
    #[test]
    fn wire_parse_never_panics_and_roundtrips(line in ".{0,300}") {
        if let Ok(m) = Message::parse(&line) {
            if !line.contains(['\n', '\r']) && m.pairs.iter().all(|(k, v)| !k.is_empty() || !v.is_empty()) {
                let pairs: Vec<(&str, &str)> =
                    m.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                prop_assert_eq!(Message::parse(&wire::format(&m.cmd, &pairs)), Ok(m.clone()));
            }
            let _ = m.rc();
        }
    }

    #[test]
    fn hex_roundtrip(bytes in proptest::collection::vec(any::<u8>(), 0..512), junk in ".{0,64}") {
        prop_assert_eq!(wire::hex_decode(&wire::hex_encode(&bytes)), Some(bytes));
        if let Some(d) = wire::hex_decode(&junk) {
            prop_assert_eq!(d.len() * 2, junk.len());
        }
    }

    #[test]
    fn process_mapping_never_panics(
        v in prop_oneof![
            ".{0,80}",
            "\\(vector(,\\([0-9]{1,20},[0-9]{1,20},[0-9]{1,20}\\)){0,4}\\)",
            "\\(vector(,\\(1844674407370955161[0-5],[0-9]{1,2},[0-9]{1,2}\\)){1,2}\\)",
        ],
        size in 0usize..4096,
    ) {
        if let Some(m) = wire::parse_process_mapping(&v, size) {
            prop_assert_eq!(m.len(), size);
        }
    }

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

    #[test]
    fn pmi2_parsers_never_panic(body in ".{0,200}", field in proptest::collection::vec(any::<u8>(), 0..8)) {
        if let Ok(m) = pmi2::Msg::parse(&body) {
            prop_assert!(!m.cmd.contains(';'));
        }
        if let Some(n) = pmi2::parse_len(&field) {
            prop_assert!(field.len() >= n.to_string().len());
        }
    }
}
