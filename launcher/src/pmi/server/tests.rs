//! Unit tests of the PMI-1 server (in-memory connections).

use super::*;
use rshmem_pmi::MAX_LINE_LEN;
use std::sync::{mpsc, Arc, Mutex};

/// A writer that appends into a shared buffer we can inspect.
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
impl Buf {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

fn setup(
    n: usize,
) -> (
    PmiServer,
    Vec<(Connection, Buf)>,
    mpsc::Receiver<ServerEvent>,
) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let srv = PmiServer::new("kvs-1", n, move |e| {
        let _ = tx.lock().unwrap().send(e);
    });
    let conns = (0..n)
        .map(|r| {
            let b = Buf::default();
            let mut c = Connection::with_rank(r, shared_writer(b.clone()));
            srv.register(&c);
            req(&srv, &mut c, "cmd=init pmi_version=1 pmi_subversion=1");
            (c, b)
        })
        .collect();
    let _ = rx.try_iter().count();
    (srv, conns, rx)
}

fn req(srv: &PmiServer, c: &mut Connection, line: &str) -> String {
    srv.handle(c, &Message::parse(line).unwrap())
        .iter()
        .map(|m| m.to_line())
        .collect()
}

#[test]
fn simple_replies() {
    let (srv, mut conns, rx) = setup(4);
    let c = &mut conns[0].0;
    assert_eq!(
        req(&srv, c, "cmd=init pmi_version=1 pmi_subversion=1"),
        "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n"
    );
    assert_eq!(rx.try_recv().unwrap(), ServerEvent::Initialized(0));
    assert!(srv.pe_state(0).initialized);
    assert_eq!(
        req(&srv, c, "cmd=get_maxes"),
        "cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=1024\n"
    );
    assert_eq!(
        req(&srv, c, "cmd=get_my_kvsname"),
        "cmd=my_kvsname kvsname=kvs-1\n"
    );
    assert_eq!(
        req(&srv, c, "cmd=get_universe_size"),
        "cmd=universe_size size=4\n"
    );
    assert_eq!(req(&srv, c, "cmd=get_appnum"), "cmd=appnum appnum=0\n");
    assert_eq!(
        req(&srv, c, "cmd=get kvsname=kvs-1 key=PMI_process_mapping"),
        "cmd=get_result rc=0 msg=success value=(vector,(0,1,4))\n"
    );
    assert_eq!(req(&srv, c, "cmd=finalize"), "cmd=finalize_ack\n");
    assert!(srv.pe_state(0).finalized);
    assert_eq!(
        req(&srv, c, "cmd=init pmi_version=2 pmi_subversion=0"),
        "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=-1\n"
    );
}

#[test]
fn put_get_and_limits() {
    let (srv, mut conns, _rx) = setup(2);
    let (a, b) = conns.split_at_mut(1);
    let c0 = &mut a[0].0;
    let c1 = &mut b[0].0;
    assert_eq!(
        req(&srv, c0, "cmd=put kvsname=kvs-1 key=k0 value=v=0"),
        "cmd=put_result rc=0 msg=success\n"
    );
    assert_eq!(
        req(&srv, c1, "cmd=get kvsname=kvs-1 key=k0"),
        "cmd=get_result rc=0 msg=success value=v=0\n"
    );
    assert_eq!(
        req(&srv, c1, "cmd=get kvsname=kvs-1 key=nope"),
        "cmd=get_result rc=-1 msg=key_nope_not_found\n"
    );
    let long_key = "k".repeat(65);
    let r = req(
        &srv,
        c0,
        &format!("cmd=put kvsname=kvs-1 key={long_key} value=1"),
    );
    assert!(
        r.starts_with("cmd=put_result rc=-1 msg=key_length_65"),
        "{r}"
    );
    let ok_key = "k".repeat(64);
    let r = req(
        &srv,
        c0,
        &format!("cmd=put kvsname=kvs-1 key={ok_key} value=1"),
    );
    assert_eq!(r, "cmd=put_result rc=0 msg=success\n");
    let long_val = "v".repeat(1025);
    let r = req(
        &srv,
        c0,
        &format!("cmd=put kvsname=kvs-1 key=x value={long_val}"),
    );
    assert!(
        r.starts_with("cmd=put_result rc=-1 msg=value_length_1025"),
        "{r}"
    );
    let ok_val = "v".repeat(1024);
    let r = req(
        &srv,
        c0,
        &format!("cmd=put kvsname=kvs-1 key=x value={ok_val}"),
    );
    assert_eq!(r, "cmd=put_result rc=0 msg=success\n");
    let r = req(&srv, c0, "cmd=put kvsname=kvs-1 value=1");
    assert_eq!(r, "cmd=put_result rc=-1 msg=missing_key\n");
    let r = req(&srv, c0, "cmd=put kvsname=kvs-1 key=a");
    assert_eq!(r, "cmd=put_result rc=-1 msg=missing_value\n");
    let r = req(&srv, c0, "cmd=get kvsname=other key=k0");
    assert_eq!(r, "cmd=get_result rc=-1 msg=unknown_kvsname_other\n");
    // getbyidx walks keys in insertion order.
    let r = req(&srv, c0, "cmd=getbyidx kvsname=kvs-1 idx=0");
    assert_eq!(r, "cmd=getbyidx_results rc=0 nextidx=1 key=k0 val=v=0\n");
    let r = req(&srv, c0, "cmd=getbyidx kvsname=kvs-1 idx=3");
    assert_eq!(r, "cmd=getbyidx_results rc=-1 reason=no_more_keyvals\n");
}

#[test]
fn unknown_command() {
    let (srv, mut conns, _rx) = setup(1);
    assert_eq!(
        req(&srv, &mut conns[0].0, "cmd=frobnicate a=b"),
        "cmd=frobnicate_result rc=-1 msg=unknown_command\n"
    );
}

#[test]
fn barrier_broadcasts_once_all_arrive() {
    let (srv, mut conns, _rx) = setup(3);
    for (i, (c, _)) in conns.iter_mut().enumerate().take(2) {
        assert_eq!(req(&srv, c, "cmd=barrier_in"), "", "pe {i}");
    }
    // Duplicate barrier_in from the same PE does not count twice.
    assert_eq!(req(&srv, &mut conns[0].0, "cmd=barrier_in"), "");
    for (_, b) in &conns {
        assert_eq!(b.take(), "");
    }
    assert_eq!(req(&srv, &mut conns[2].0, "cmd=barrier_in"), "");
    for (_, b) in &conns {
        assert_eq!(b.take(), "cmd=barrier_out\n");
    }
    // The barrier is reusable.
    for (c, _) in conns.iter_mut() {
        req(&srv, c, "cmd=barrier_in");
    }
    for (_, b) in &conns {
        assert_eq!(b.take(), "cmd=barrier_out\n");
    }
}

#[test]
fn abort_event_no_reply() {
    let (srv, mut conns, rx) = setup(2);
    assert_eq!(req(&srv, &mut conns[1].0, "cmd=abort exitcode=7"), "");
    assert_eq!(
        rx.try_recv().unwrap(),
        ServerEvent::Abort { rank: 1, code: 7 }
    );
    assert!(srv.pe_state(1).aborted);
}

fn anon_server(n: usize) -> (PmiServer, mpsc::Receiver<ServerEvent>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let mut srv = PmiServer::new("k", n, move |e| {
        let _ = tx.lock().unwrap().send(e);
    });
    srv.set_secret(SECRET.into());
    (srv, rx)
}

const SECRET: &str = "00112233445566778899aabbccddeeff";

fn anon() -> Connection {
    Connection::anonymous(shared_writer(Buf::default()))
}

#[test]
fn initack_variant() {
    let (srv, rx) = anon_server(4);
    let mut c = anon();
    assert_eq!(
        req(
            &srv,
            &mut c,
            &format!("cmd=initack pmiid=2 secret={}", rank_token(SECRET, 2))
        ),
        "cmd=initack rc=0\ncmd=set size=4\ncmd=set rank=2\ncmd=set debug=0\n"
    );
    assert_eq!(c.rank(), Some(2));
    assert!(!c.closed_by_server());
    assert_eq!(rx.try_recv().unwrap(), ServerEvent::Initialized(2));
    assert_eq!(
        req(&srv, &mut c, "cmd=put kvsname=k key=a value=b"),
        "cmd=put_result rc=0 msg=success\n"
    );
    assert_eq!(srv.refused(), 0);
}

#[test]
fn unauthenticated_connections_are_refused_and_counted() {
    let (srv, _rx) = anon_server(4);
    // Anything before initack: refused, connection closed.
    for line in [
        "cmd=barrier_in",
        "cmd=get kvsname=k key=x",
        "cmd=put kvsname=k key=x value=y",
        "cmd=abort exitcode=9",
        "cmd=init pmi_version=1 pmi_subversion=1",
    ] {
        let mut c = anon();
        let r = req(&srv, &mut c, line);
        assert!(r.contains("rc=-1 msg=not_authenticated"), "{line}: {r}");
        assert!(c.closed_by_server(), "{line}");
        assert_eq!(c.rank(), None);
    }
    let mut c = anon();
    assert_eq!(
        req(&srv, &mut c, "cmd=initack pmiid=1"),
        "cmd=initack rc=-1 msg=missing_secret_(this_job_requires_secret=HEX_from_RSHMEM_PMI_SECRET)\n"
    );
    assert!(c.closed_by_server());
    let mut c = anon();
    let wrong = format!("cmd=initack pmiid=1 secret={}", SECRET.replace('0', "1"));
    assert_eq!(
        req(&srv, &mut c, &wrong),
        "cmd=initack rc=-1 msg=wrong_secret\n"
    );
    let mut c = anon();
    let short = format!("cmd=initack pmiid=1 secret={}", &SECRET[..31]);
    assert_eq!(
        req(&srv, &mut c, &short),
        "cmd=initack rc=-1 msg=wrong_secret\n"
    );
    let mut c = anon();
    let r = req(
        &srv,
        &mut c,
        &format!("cmd=initack pmiid=9 secret={SECRET}"),
    );
    assert_eq!(r, "cmd=initack rc=-1 msg=invalid_or_missing_pmiid\n");
    assert_eq!(srv.refused(), 9);
    // No rank was claimed or marked by any of them.
    for r in 0..4 {
        assert_eq!(srv.pe_state(r), PeState::default(), "rank {r}");
    }
}

#[test]
fn a_rank_is_claimed_once() {
    let (srv, _rx) = anon_server(2);
    let mut a = anon();
    let ok = format!("cmd=initack pmiid=1 secret={}", rank_token(SECRET, 1));
    assert!(req(&srv, &mut a, &ok).starts_with("cmd=initack rc=0"));
    let mut b = anon();
    assert_eq!(
        req(&srv, &mut b, &ok),
        "cmd=initack rc=-1 msg=rank_1_is_already_claimed_by_another_connection\n"
    );
    assert!(b.closed_by_server());
    assert_eq!(b.rank(), None);
    assert_eq!(srv.refused(), 1);
}

#[test]
fn key_limits_and_ownership() {
    let (srv, mut conns, _rx) = setup(2);
    let (a, b) = conns.split_at_mut(1);
    let (c0, c1) = (&mut a[0].0, &mut b[0].0);
    assert_eq!(
        req(&srv, c0, "cmd=put kvsname=kvs-1 key=seg-0 value=mine"),
        "cmd=put_result rc=0 msg=success\n"
    );
    // Another rank cannot replace it; the owner can.
    assert_eq!(
        req(&srv, c1, "cmd=put kvsname=kvs-1 key=seg-0 value=forged"),
        "cmd=put_result rc=-1 msg=key_seg-0_belongs_to_rank_0_and_cannot_be_replaced\n"
    );
    assert_eq!(
        req(&srv, c1, "cmd=get kvsname=kvs-1 key=seg-0"),
        "cmd=get_result rc=0 msg=success value=mine\n"
    );
    assert_eq!(
        req(&srv, c0, "cmd=put kvsname=kvs-1 key=seg-0 value=again"),
        "cmd=put_result rc=0 msg=success\n"
    );
    for i in 0..MAX_KEYS_PER_RANK {
        let r = req(&srv, c1, &format!("cmd=put kvsname=kvs-1 key=f{i} value=x"));
        assert_eq!(r, "cmd=put_result rc=0 msg=success\n", "key {i}");
    }
    let r = req(&srv, c1, "cmd=put kvsname=kvs-1 key=last value=x");
    assert_eq!(
        r,
        format!(
            "cmd=put_result rc=-1 msg=rank_1_already_put_{MAX_KEYS_PER_RANK}_keys_(the_limit)\n"
        )
    );
    // Replacing one of its own keys is still fine; rank 0 is unaffected.
    let r = req(&srv, c1, "cmd=put kvsname=kvs-1 key=f1 value=y");
    assert_eq!(r, "cmd=put_result rc=0 msg=success\n");
    let r = req(&srv, c0, "cmd=put kvsname=kvs-1 key=other value=y");
    assert_eq!(r, "cmd=put_result rc=0 msg=success\n");
}

#[test]
fn kvs_needs_init() {
    let (srv, _rx) = anon_server(1);
    let b = Buf::default();
    let mut c = Connection::with_rank(0, shared_writer(b));
    srv.register(&c);
    assert_eq!(
        req(&srv, &mut c, "cmd=put kvsname=k key=a value=b"),
        "cmd=put_result rc=-1 msg=rank_not_initialized_(send_cmd=init_first)\n"
    );
    assert_eq!(
        req(&srv, &mut c, "cmd=barrier_in"),
        "cmd=barrier_out rc=-1 msg=rank_not_initialized_(send_cmd=init_first)\n"
    );
    // A socketpair connection needs no secret.
    req(&srv, &mut c, "cmd=init pmi_version=1 pmi_subversion=1");
    assert_eq!(
        req(&srv, &mut c, "cmd=put kvsname=k key=a value=b"),
        "cmd=put_result rc=0 msg=success\n"
    );
    assert_eq!(srv.refused(), 0);
}

#[test]
fn serve_closes_on_garbage_before_auth() {
    let (srv, _rx) = anon_server(1);
    for input in [
        &b"\xff\xfe binary\ncmd=get key=a\n"[..],
        &b"hello\ncmd=initack pmiid=0\n"[..],
    ] {
        let b = Buf::default();
        srv.serve(
            Connection::anonymous(shared_writer(b.clone())),
            io::Cursor::new(input.to_vec()),
        );
        let out = b.take();
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains("rc=-1"), "{out}");
    }
    let b = Buf::default();
    let long = format!("{}\ncmd=get key=a\n", "x".repeat(MAX_LINE_LEN + 1));
    srv.serve(
        Connection::anonymous(shared_writer(b.clone())),
        io::Cursor::new(long.into_bytes()),
    );
    assert_eq!(b.take().lines().count(), 1);
    assert_eq!(srv.refused(), 3);
    assert!(!srv.pe_state(0).claimed);
}

#[test]
fn secret_compare() {
    assert!(ct_eq(b"abc", b"abc"));
    assert!(!ct_eq(b"abc", b"abd"));
    assert!(!ct_eq(b"abc", b"ab"));
    let s = new_secret().unwrap();
    assert_eq!(s.len(), 2 * SECRET_BYTES);
    assert!(s.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(s, new_secret().unwrap());
}

/// The one rule of the shared codec: `cmd=` comes first (as Hydra and Slurm read it); a
/// line with `cmd=` elsewhere is answered with an error and does nothing.
#[test]
fn serve_refuses_cmd_not_first() {
    let srv = PmiServer::new("k", 1, |_| {});
    let b = Buf::default();
    let input = "cmd=init pmi_version=1 pmi_subversion=1\nkey=a cmd=put value=b\ncmd=get key=a\n";
    srv.serve(
        Connection::with_rank(0, shared_writer(b.clone())),
        io::Cursor::new(input.as_bytes().to_vec()),
    );
    let out = b.take();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].starts_with(
            "cmd=error rc=-1 msg=no_leading_cmd=_field_(the_message_starts_with_'key=a'"
        ),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("cmd=get_result rc=-1"), "{}", lines[2]);
}

#[test]
fn serve_over_a_stream() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let srv = PmiServer::new("k", 1, move |e| {
        let _ = tx.lock().unwrap().send(e);
    });
    let b = Buf::default();
    let input = format!(
        "cmd=init pmi_version=1 pmi_subversion=1\nbogus\n\n{}\ncmd=barrier_in\ncmd=put key=a value=b\ncmd=get key=a\ncmd=finalize\n",
        "x".repeat(MAX_LINE_LEN + 10)
    );
    srv.serve(
        Connection::with_rank(0, shared_writer(b.clone())),
        io::Cursor::new(input.into_bytes()),
    );
    let out = b.take();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0"
    );
    assert!(
        lines[1].starts_with("cmd=error rc=-1 msg=token_'bogus'"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("cmd=error rc=-1 msg=line_too_long"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "cmd=barrier_out");
    assert_eq!(lines[4], "cmd=put_result rc=0 msg=success");
    assert_eq!(lines[5], "cmd=get_result rc=0 msg=success value=b");
    assert_eq!(lines[6], "cmd=finalize_ack");
    assert_eq!(lines.len(), 7);
    let evs: Vec<_> = rx.try_iter().collect();
    assert_eq!(
        evs,
        vec![
            ServerEvent::Initialized(0),
            ServerEvent::Finalized(0),
            ServerEvent::Closed(0)
        ]
    );
    assert!(srv.pe_state(0).closed);
}

fn tok(r: usize) -> String {
    rank_token(SECRET, r)
}

/// Authenticates rank `r` on a fresh anonymous connection.
fn authed(srv: &PmiServer, r: usize) -> Connection {
    let mut c = anon();
    let line = format!("cmd=initack pmiid={r} secret={}", tok(r));
    assert!(req(srv, &mut c, &line).starts_with("cmd=initack rc=0"));
    c
}

#[test]
fn a_rank_token_claims_only_its_rank() {
    let (srv, _rx) = anon_server(4);
    assert_eq!(tok(1).len(), 64);
    assert_ne!(tok(1), tok(2));
    assert_eq!(tok(1), rank_token(SECRET, 1), "deterministic");
    // Rank 1's token (as sniffed from rank 1's initack) does not claim rank 2 ...
    let mut c = anon();
    let r = req(
        &srv,
        &mut c,
        &format!("cmd=initack pmiid=2 secret={}", tok(1)),
    );
    assert_eq!(r, "cmd=initack rc=-1 msg=wrong_secret\n");
    assert!(c.closed_by_server());
    // ... nor does the master secret itself.
    let mut c = anon();
    let r = req(
        &srv,
        &mut c,
        &format!("cmd=initack pmiid=2 secret={SECRET}"),
    );
    assert_eq!(r, "cmd=initack rc=-1 msg=wrong_secret\n");
    assert!(!srv.pe_state(2).claimed);
    // Rank 2's own token does.
    let c = authed(&srv, 2);
    assert_eq!(c.rank(), Some(2));
    assert_eq!(srv.refused(), 2);
}

#[test]
fn without_a_secret_no_anonymous_connection_is_accepted() {
    let srv = PmiServer::new("k", 2, |_| {});
    let mut c = anon();
    let r = req(
        &srv,
        &mut c,
        &format!("cmd=initack pmiid=0 secret={}", tok(0)),
    );
    assert_eq!(
        r,
        "cmd=initack rc=-1 msg=this_server_takes_no_anonymous_connections\n"
    );
    assert!(c.closed_by_server());
    let mut c = anon();
    let r = req(&srv, &mut c, "cmd=initack pmiid=0");
    assert!(r.contains("rc=-1"), "{r}");
    assert!(!srv.pe_state(0).claimed);
}

#[test]
fn runtime_keys_are_reserved_for_their_rank() {
    assert_eq!(key_rank("rshmem-seg-3-0"), Some(3));
    assert_eq!(key_rank("rshmem-seg-3-n"), Some(3));
    assert_eq!(key_rank("rshmem-seg.2-3-n"), Some(3));
    assert_eq!(key_rank("rshmem-exit-12"), Some(12));
    assert_eq!(key_rank("rshmem-mr0-1-0"), Some(1));
    assert_eq!(key_rank("rshmem-seg"), None);
    assert_eq!(key_rank("rshmem-seg-x-0"), None);
    assert_eq!(key_rank("other-seg-1-0"), None);
    let (srv, _rx) = anon_server(2);
    let mut c0 = authed(&srv, 0);
    let mut c1 = authed(&srv, 1);
    // Rank 0 cannot take rank 1's segment record (or exit status) before rank 1 puts it.
    for key in [
        "rshmem-seg-1-n",
        "rshmem-seg-1-0",
        "rshmem-seg.1-1-0",
        "rshmem-exit-1",
    ] {
        assert_eq!(
            req(
                &srv,
                &mut c0,
                &format!("cmd=put kvsname=k key={key} value=forged")
            ),
            format!("cmd=put_result rc=-1 msg=key_{key}_is_reserved_for_rank_1\n")
        );
    }
    assert_eq!(
        req(&srv, &mut c1, "cmd=get kvsname=k key=rshmem-seg-1-0"),
        "cmd=get_result rc=-1 msg=key_rshmem-seg-1-0_not_found\n"
    );
    // Rank 1 puts its own; both ranks read it.
    assert_eq!(
        req(
            &srv,
            &mut c1,
            "cmd=put kvsname=k key=rshmem-seg-1-0 value=real"
        ),
        "cmd=put_result rc=0 msg=success\n"
    );
    assert_eq!(
        req(&srv, &mut c0, "cmd=get kvsname=k key=rshmem-seg-1-0"),
        "cmd=get_result rc=0 msg=success value=real\n"
    );
    // Keys of no rank's form stay first-come.
    assert_eq!(
        req(&srv, &mut c0, "cmd=put kvsname=k key=app-x value=0"),
        "cmd=put_result rc=0 msg=success\n"
    );
    assert_eq!(
        req(&srv, &mut c1, "cmd=put kvsname=k key=app-x value=1"),
        "cmd=put_result rc=-1 msg=key_app-x_belongs_to_rank_0_and_cannot_be_replaced\n"
    );
}

/// The per-rank key limit, with ranks that authenticated over the TCP path's introduction.
#[test]
fn key_limit_for_authenticated_ranks() {
    let (srv, _rx) = anon_server(2);
    let mut c0 = authed(&srv, 0);
    let mut c1 = authed(&srv, 1);
    for i in 0..MAX_KEYS_PER_RANK {
        let r = req(
            &srv,
            &mut c1,
            &format!("cmd=put kvsname=k key=f{i} value=x"),
        );
        assert_eq!(r, "cmd=put_result rc=0 msg=success\n", "key {i}");
    }
    assert_eq!(
        req(&srv, &mut c1, "cmd=put kvsname=k key=one-more value=x"),
        format!(
            "cmd=put_result rc=-1 msg=rank_1_already_put_{MAX_KEYS_PER_RANK}_keys_(the_limit)\n"
        )
    );
    assert_eq!(srv.lookup("one-more"), None);
    assert_eq!(
        req(
            &srv,
            &mut c0,
            "cmd=put kvsname=k key=rshmem-seg-0-n value=1"
        ),
        "cmd=put_result rc=0 msg=success\n"
    );
}

#[test]
fn a_long_line_before_authentication_is_refused_without_its_newline() {
    use std::io::Read;
    // A reader that fails the test if it is read past the first 300 bytes: the server
    // must give up before (no newline ever comes).
    struct Endless(usize);
    impl io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            assert!(self.0 < 300 + 64, "kept reading a line with no end");
            let n = buf.len().min(16);
            buf[..n].fill(b'a');
            self.0 += n;
            Ok(n)
        }
    }
    let (srv, _rx) = anon_server(1);
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let b = Buf::default();
    srv.serve(
        Connection::anonymous(shared_writer(b.clone())),
        io::BufReader::with_capacity(16, PreAuthLimit::new(Endless(0), flag)),
    );
    let out = b.take();
    assert_eq!(
        out,
        "cmd=error rc=-1 msg=line_too_long_before_authentication:_send_cmd=initack_pmiid=N_secret=HEX_first\n"
    );
    assert_eq!(srv.refused(), 1);
    // Once authenticated, long lines pass through to the normal limit.
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut r = PreAuthLimit::new(io::Cursor::new(vec![b'x'; 1000]), flag);
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    assert_eq!(v.len(), 1000);
}
