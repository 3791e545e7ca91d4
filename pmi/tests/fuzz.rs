//! Fuzzing of the shared PMI codec (proptest): the PMI-1 and PMI-2 parsers, the line
//! reader, the hex codec and the process-mapping parser. These cases were the runtime's
//! (`runtime/tests/fuzz_parsers.rs`) and the launcher's (`launcher/tests/fuzz_pmi.rs`)
//! before both sides shared this crate; the server-level cases stay in the launcher.
//!
//! A short run is part of the normal tests; a longer one:
//! `PROPTEST_CASES=100000 cargo test --release -p rshmem-pmi --test fuzz`.

use proptest::prelude::*;
use rshmem_pmi::pmi2;
use rshmem_pmi::{
    format_line, hex_decode, hex_encode, parse_process_mapping, Line, LineReader, Message,
};
use std::io::{self, Cursor};

/// Found by thinking about the fuzzer's corner: a node number at the top of `usize`.
#[test]
fn process_mapping_node_overflow_is_refused() {
    assert_eq!(
        parse_process_mapping("(vector,(18446744073709551615,2,1))", 2),
        None
    );
    assert_eq!(
        parse_process_mapping("(vector,(18446744073709551614,2,1))", 2),
        Some(vec![usize::MAX - 1, usize::MAX])
    );
}

proptest! {
    #[test]
    fn parse_never_panics_and_roundtrips(line in ".{0,300}") {
        if let Ok(m) = Message::parse(&line) {
            if !line.contains(['\n', '\r']) {
                prop_assert_eq!(Message::parse(&m.to_line()), Ok(m.clone()));
                let pairs: Vec<(&str, &str)> =
                    m.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                prop_assert_eq!(Message::parse(&format_line(&m.cmd, &pairs)), Ok(m.clone()));
            }
            let _ = m.rc();
        }
    }

    #[test]
    fn line_reader_bounds_every_line(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        limit in 1usize..64,
        cap in 1usize..17,
    ) {
        let br = io::BufReader::with_capacity(cap, Cursor::new(data.clone()));
        let mut r = LineReader::with_limit(br, limit);
        let mut n = 0;
        while let Some(l) = r.read_line().unwrap() {
            n += 1;
            match l {
                Line::Text(t) => prop_assert!(t.len() <= limit),
                Line::InvalidUtf8(t) => prop_assert!(t.len() <= 3 * limit),
                Line::TooLong(k) => prop_assert!(k > limit),
            }
            prop_assert!(n <= data.len() + 1);
        }
        let segments = data.split(|&b| b == b'\n').count()
            - usize::from(data.last() == Some(&b'\n') || data.is_empty());
        prop_assert_eq!(n, segments);
    }

    #[test]
    fn hex_roundtrip(bytes in proptest::collection::vec(any::<u8>(), 0..512), junk in ".{0,64}") {
        prop_assert_eq!(hex_decode(&hex_encode(&bytes)), Some(bytes));
        if let Some(d) = hex_decode(&junk) {
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
        if let Some(m) = parse_process_mapping(&v, size) {
            prop_assert_eq!(m.len(), size);
        }
    }

    #[test]
    fn pmi2_parsers_never_panic(body in ".{0,200}", field in proptest::collection::vec(any::<u8>(), 0..8)) {
        if let Ok(m) = Message::parse_pmi2(&body) {
            prop_assert!(!m.cmd.contains(';'));
        }
        if let Some(n) = pmi2::parse_len(&field) {
            prop_assert!(field.len() >= n.to_string().len());
        }
    }
}
