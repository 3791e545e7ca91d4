//! Fuzzing of the launcher's PMI-1 server (proptest). The wire parser and line reader are
//! fuzzed where they live, in `pmi/tests/fuzz.rs` (crate `rshmem-pmi`).
//!
//! A short run is part of the normal tests; a longer one:
//! `PROPTEST_CASES=100000 cargo test --release -p rshmem-launcher --test fuzz_pmi`.

use proptest::prelude::*;
use rshmem_launcher::pmi::server::{rank_token, shared_writer, Connection, PmiServer};
use rshmem_launcher::pmi::PeState;
use std::io::{self, Cursor, Write};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// Lines an attacker would try: real commands with odd fields, and noise.
fn request() -> impl Strategy<Value = String> {
    let cmd = prop_oneof![
        3 => "(init|initack|get_maxes|get_my_kvsname|put|get|getbyidx|barrier_in|finalize|abort)",
        1 => "[a-z_]{1,12}",
    ];
    let field = (
        prop_oneof![
            Just("kvsname".to_string()),
            Just("key".to_string()),
            Just("value".to_string()),
            Just("pmiid".to_string()),
            Just("secret".to_string()),
            Just("idx".to_string()),
            Just("exitcode".to_string()),
            "[a-z]{1,8}",
        ],
        prop_oneof!["[0-9]{1,3}", "[ -~]{0,40}", "-?[0-9]{1,25}", ".{0,20}"],
    );
    prop_oneof![
        4 => (cmd, proptest::collection::vec(field, 0..5)).prop_map(|(c, fs)| {
            let mut s = format!("cmd={c}");
            for (k, v) in fs {
                s.push_str(&format!(" {k}={v}"));
            }
            s
        }),
        1 => ".{0,200}",
        1 => "[\\x00-\\xff]{0,64}",
    ]
}

fn server(n: usize) -> PmiServer {
    let mut s = PmiServer::new("kvs", n, |_| {});
    s.set_secret(SECRET.into());
    s
}

proptest! {
    /// Whatever an unauthenticated client sends, it gets one refusal, claims no rank,
    /// changes no PE's state, and is counted once as refused.
    #[test]
    fn unauthenticated_input_changes_nothing(lines in proptest::collection::vec(request(), 1..20)) {
        let srv = server(4);
        let mut input = lines.join("\n").into_bytes();
        input.push(b'\n');
        let b = Buf::default();
        srv.serve(Connection::anonymous(shared_writer(b.clone())), Cursor::new(input));
        let out = String::from_utf8_lossy(&b.0.lock().unwrap()).into_owned();
        prop_assert_eq!(out.lines().count(), 1, "{}", out);
        prop_assert!(out.contains("rc=-1"), "{}", out);
        for r in 0..4 {
            prop_assert_eq!(srv.pe_state(r), PeState::default());
        }
        prop_assert_eq!(srv.refused(), 1);
    }

    /// An authenticated PE sending anything never crashes the server and never grows the
    /// store past its limits.
    #[test]
    fn authenticated_input_is_bounded(lines in proptest::collection::vec(request(), 1..40)) {
        let srv = server(2);
        let mut input = format!("cmd=initack pmiid=0 secret={}\n", rank_token(SECRET, 0)).into_bytes();
        for l in &lines {
            input.extend_from_slice(l.as_bytes());
            input.push(b'\n');
        }
        let b = Buf::default();
        srv.serve(Connection::anonymous(shared_writer(b.clone())), Cursor::new(input));
        let out = String::from_utf8_lossy(&b.0.lock().unwrap()).into_owned();
        prop_assert!(out.starts_with("cmd=initack rc=0\n"), "{}", out);
        prop_assert!(!srv.pe_state(1).claimed);
        for l in out.lines() {
            prop_assert!(l.len() <= 4 * 1024 + 200, "answer too long: {}", l.len());
        }
    }
}
