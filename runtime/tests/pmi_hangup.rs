//! The runtime's PMI-1 client over TCP against a stand-in server (this test):
//! - the introduction carries the secret when `RSHMEM_PMI_SECRET` is set, and only then
//!   (Hydra's `-pmi-port` server must see the protocol unchanged);
//! - a PE whose launcher goes away while it waits in init (the server closes the
//!   connection) exits with 143 and leaves nothing in `/dev/shm` (issue 13, security
//!   item 3: a remote PE is not killed with its launcher, it notices the hangup).
//!
//! - a server that answers `too_many_open_connections` (its connection slots are held by
//!   someone else) is tried again until the bootstrap timeout.
//!
//! The PE is this test binary re-run with `H4_PE=1` (the `pe` test).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn pe() {
    if std::env::var_os("H4_PE").is_none() {
        return;
    }
    let _ = rshmem::init();
    // The server never lets init finish; the watcher ends the process.
    std::thread::sleep(Duration::from_secs(60));
    std::process::exit(3);
}

fn objects(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// Serves one PE until its `barrier_in`, then checks its object exists and hangs up.
/// Returns the `initack` line and whether the object existed.
fn run(secret: Option<&str>, tag: &str, busy: usize) -> (String, bool, Option<i32>, Vec<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    // Accepts within 20 s, or gives up (the PE did not (re)connect).
    let accept = |child: &mut std::process::Child| {
        let t = Instant::now();
        loop {
            match l.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    return s;
                }
                Err(_) if t.elapsed() < Duration::from_secs(20) => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("the PE did not connect (again) within 20 s: {e}");
                }
            }
        }
    };
    let port = l.local_addr().unwrap().port();
    let kvs = format!("h4{tag}-{}", std::process::id());
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["pe", "--exact", "--nocapture", "--test-threads=1"])
        .env("H4_PE", "1")
        .env("PMI_PORT", format!("127.0.0.1:{port}"))
        .env("PMI_ID", "0")
        .env("SHMEM_SYMMETRIC_SIZE", "4M")
        .env("RSHMEM_BOOTSTRAP", "pmi1")
        .env_remove("PMI_FD")
        .env_remove("RSHMEM_PMI_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(s) = secret {
        cmd.env("RSHMEM_PMI_SECRET", s);
    }
    let mut child = cmd.spawn().unwrap();
    // The first `busy` connections: read the introduction, answer "full", close.
    for _ in 0..busy {
        let s = accept(&mut child);
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut line = String::new();
        let _ = BufReader::new(&s).read_line(&mut line);
        assert!(line.starts_with("cmd=initack"), "{line:?}");
        let _ = (&s).write_all(b"cmd=error rc=-1 msg=too_many_open_connections_(max_33)\n");
    }
    let s = accept(&mut child);
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut first = String::new();
    let mut existed = false;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if first.is_empty() {
            first = line.trim().to_string();
        }
        let cmd = line.split_whitespace().next().unwrap_or("").to_string();
        let reply = match cmd.as_str() {
            "cmd=initack" => {
                "cmd=initack rc=0\ncmd=set size=2\ncmd=set rank=0\ncmd=set debug=0\n".to_string()
            }
            "cmd=init" => "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n".into(),
            "cmd=get_maxes" => "cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=1024\n".into(),
            "cmd=get_my_kvsname" => format!("cmd=my_kvsname kvsname={kvs}\n"),
            "cmd=put" => "cmd=put_result rc=0 msg=success\n".into(),
            "cmd=get" => "cmd=get_result rc=-1 msg=not_found\n".into(),
            "cmd=barrier_in" => {
                existed = !objects(&format!("rshmem-{kvs}-")).is_empty();
                s.shutdown(std::net::Shutdown::Both).unwrap();
                break;
            }
            _ => "cmd=error rc=-1\n".into(),
        };
        w.write_all(reply.as_bytes()).unwrap();
    }
    drop((w, r, s));
    let t = Instant::now();
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if t.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let left = objects(&format!("rshmem-{kvs}-"));
    for n in &left {
        let _ = std::fs::remove_file(format!("/dev/shm/{n}"));
    }
    (first, existed, code, left)
}

#[test]
fn hangup_during_init_unlinks_and_exits() {
    if std::env::var_os("H4_PE").is_some() {
        return;
    }
    let secret = "00112233445566778899aabbccddeeff";
    let (first, existed, code, left) = run(Some(secret), "a", 0);
    assert_eq!(first, format!("cmd=initack pmiid=0 secret={secret}"));
    assert!(existed, "the PE had no object in /dev/shm while in init");
    assert_eq!(code, Some(143), "the PE should exit 143 on hangup");
    assert!(left.is_empty(), "left in /dev/shm: {left:?}");
}

#[test]
fn no_secret_without_the_variable() {
    if std::env::var_os("H4_PE").is_some() {
        return;
    }
    let (first, _, code, left) = run(None, "b", 0);
    assert_eq!(first, "cmd=initack pmiid=0", "Hydra's -pmi-port form");
    assert_eq!(code, Some(143));
    assert!(left.is_empty(), "left in /dev/shm: {left:?}");
}

#[test]
fn a_full_server_is_tried_again() {
    if std::env::var_os("H4_PE").is_some() {
        return;
    }
    let secret = "00112233445566778899aabbccddeeff";
    let (first, existed, code, left) = run(Some(secret), "c", 3);
    assert_eq!(first, format!("cmd=initack pmiid=0 secret={secret}"));
    assert!(existed, "the PE did not get through init after 3 refusals");
    assert_eq!(code, Some(143));
    assert!(left.is_empty(), "left in /dev/shm: {left:?}");
}
