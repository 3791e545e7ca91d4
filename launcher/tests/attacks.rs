//! Attacks on the TCP PMI server of `rshmemrun --hosts` (issue 13, security items 1 and 4).
//!
//! A real job runs through `rshmemrun --hosts` with a local launch agent (a script written
//! by the test: it records its arguments and environment, then holds the PE back until the
//! test says go). The PEs are this test binary itself, re-run with `RSHMEM_ATTACK_PE=1`
//! (the `pe_main` test), using the real runtime: they exchange values through the
//! symmetric heap and check them. While the job runs, a Rust TCP client attacks the port
//! the agent's arguments name: no secret, a wrong secret, a rank claimed twice (with the
//! right secret, after the PEs claimed theirs), a flood of keys, a forged segment record,
//! binary and oversized lines, and more connections than the limit. Every attack must be
//! refused and the job must still complete with correct results; the launcher reports how
//! many connections it refused.
//!
//! A second job uses an `ssh`-named agent (a script that runs the remote command string
//! with `sh -c` here, as sshd would): the secret travels on the agent's stdin, never on a
//! command line, and rank 0 still gets the launcher's stdin after it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const RSHMEMRUN: &str = env!("CARGO_BIN_EXE_rshmemrun");

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rshmem-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_script(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// The PE side (run by rshmemrun as this binary with RSHMEM_ATTACK_PE=1): init, report
/// `up.<rank>`, wait for `go2`, write `100 * me + i` into the next PE's array, check what
/// the previous PE wrote, print the result.
#[test]
fn pe_main() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_none() {
        return;
    }
    let dir = PathBuf::from(std::env::var("ATTACK_DIR").unwrap());
    let shmem = rshmem::init().expect("rshmem init");
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    if me == 0 && std::env::var_os("ATTACK_READ_STDIN").is_some() {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).unwrap();
        println!("PE 0 stdin: {}", s.trim());
    }
    std::fs::write(dir.join(format!("up.{me}")), b"").unwrap();
    if std::env::var_os("ATTACK_HOLD").is_some() {
        wait_for("go2", Duration::from_secs(60), || dir.join("go2").exists());
    }
    let v = shmem.alloc_slice::<u64>(8).unwrap();
    shmem.barrier_all();
    let src: Vec<u64> = (0..8).map(|i| 100 * me as u64 + i).collect();
    v.put((me + 1) % n, 0, &src).unwrap();
    shmem.barrier_all();
    let prev = (me + n - 1) % n;
    let mut got = vec![0u64; 8];
    v.get(me, 0, &mut got).unwrap();
    let want: Vec<u64> = (0..8).map(|i| 100 * prev as u64 + i).collect();
    assert_eq!(got, want, "PE {me}: data from PE {prev}");
    println!("PE {me} ok: got {got:?}");
    shmem.barrier_all();
}

/// Sends `lines` on a fresh connection and returns everything the server answers until it
/// closes the connection (at most 5 s).
fn exchange(addr: &str, payload: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to the PMI port");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may close before it read everything: a failed write is fine.
    let _ = s.write_all(payload);
    let mut out = Vec::new();
    let r = s.read_to_end(&mut out);
    assert!(
        r.is_ok() || !out.is_empty(),
        "the server neither answered nor closed the connection: {r:?}"
    );
    String::from_utf8_lossy(&out).into_owned()
}

fn agent_script(dir: &Path) -> PathBuf {
    let agent = dir.join("agent.sh");
    write_script(
        &agent,
        &format!(
            "#!/bin/sh\n\
             # HOST env K=V... PROGRAM ARGS: record, wait for go, run here\n\
             shift\n\
             d={d}\n\
             printf '%s\\n' \"$0\" \"$@\" > \"$d/args.$$\"\n\
             printf '%s\\n' \"$RSHMEM_PMI_SECRET\" > \"$d/secret.$$\"\n\
             n=0\n\
             while [ ! -e \"$d/go\" ]; do sleep 0.05; n=$((n+1)); [ $n -gt 1200 ] && exit 99; done\n\
             exec \"$@\"\n",
            d = dir.display()
        ),
    );
    agent
}

fn files_with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    v.sort();
    v
}

#[test]
fn attacks_on_the_pmi_port_are_refused_and_the_job_completes() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_some() {
        return;
    }
    let dir = tempdir("attack");
    let agent = agent_script(&dir);
    let me = std::env::current_exe().unwrap();
    let mut child = Command::new(RSHMEMRUN)
        .args(["-n", "2", "--hosts", "nodeA:2", "--pmi-addr", "127.0.0.1"])
        .arg("--launch-agent")
        .arg(&agent)
        .arg("--timeout")
        .arg("120")
        .arg(&me)
        .args(["pe_main", "--exact", "--nocapture", "--test-threads=1"])
        .env("RSHMEM_ATTACK_PE", "1")
        .env("ATTACK_HOLD", "1")
        .env("ATTACK_DIR", &dir)
        .env_remove("RSHMEM_PMI_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let so = child.stdout.take().unwrap();
    let se = child.stderr.take().unwrap();
    let so = thread::spawn(move || {
        let mut s = String::new();
        BufReader::new(so).read_to_string(&mut s).unwrap();
        s
    });
    let se = thread::spawn(move || {
        let mut s = String::new();
        BufReader::new(se).read_to_string(&mut s).unwrap();
        s
    });

    // The agents' arguments name the port; their environment holds the secret.
    wait_for("both agents", Duration::from_secs(60), || {
        files_with_prefix(&dir, "args.").len() == 2 && files_with_prefix(&dir, "secret.").len() == 2
    });
    thread::sleep(Duration::from_millis(100)); // let the scripts finish writing
    let args = std::fs::read_to_string(&files_with_prefix(&dir, "args.")[0]).unwrap();
    let port = args
        .lines()
        .find_map(|l| l.strip_prefix("PMI_PORT="))
        .expect("PMI_PORT in the agent's arguments")
        .to_string();
    let kvs = args
        .lines()
        .find_map(|l| l.strip_prefix("PMI_JOBID="))
        .expect("PMI_JOBID in the agent's arguments")
        .to_string();
    let secret = std::fs::read_to_string(&files_with_prefix(&dir, "secret.")[0])
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(secret.len(), 32, "a 128-bit secret in hex: {secret:?}");
    for f in files_with_prefix(&dir, "args.") {
        let a = std::fs::read_to_string(&f).unwrap();
        assert!(!a.contains(&secret), "the secret is on a command line: {a}");
    }
    assert!(port.starts_with("127.0.0.1:"), "{port}");

    // The server listens on the address it was given, not on every address.
    let p: u16 = port.rsplit(':').next().unwrap().parse().unwrap();
    if let Some(other) = non_loopback_ipv4() {
        assert!(
            TcpStream::connect((other, p)).is_err(),
            "the PMI port answers on {other} too"
        );
    }

    let refused = std::cell::Cell::new(0usize);
    let attack = |name: &str, payload: &[u8], expect: &str| {
        let out = exchange(&port, payload);
        assert!(
            out.contains(expect),
            "{name}: expected {expect:?} in the server's answer, got {out:?}"
        );
        assert_eq!(
            out.lines().count(),
            1,
            "{name}: served more than one line: {out:?}"
        );
        refused.set(refused.get() + 1);
    };
    // 1. No secret: reading the store, introducing itself, claiming a rank.
    attack(
        "get without secret",
        format!("cmd=get kvsname={kvs} key=rshmem-seg-0-0\n").as_bytes(),
        "not_authenticated",
    );
    attack(
        "getbyidx without secret",
        format!("cmd=getbyidx kvsname={kvs} idx=0\n").as_bytes(),
        "not_authenticated",
    );
    attack(
        "initack without secret",
        b"cmd=initack pmiid=0\n",
        "missing_secret",
    );
    attack(
        "abort without secret",
        b"cmd=abort exitcode=42\n",
        "not_authenticated",
    );
    // 2. A wrong secret (same length, one digit off), then the commands it hoped to run.
    let mut wrong = secret.clone().into_bytes();
    wrong[31] = if wrong[31] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    attack(
        "wrong secret",
        format!("cmd=initack pmiid=0 secret={wrong}\ncmd=get kvsname={kvs} key=x\n").as_bytes(),
        "wrong_secret",
    );
    // 3. A flood of keys and a forged segment record, unauthenticated.
    let mut flood = String::new();
    for i in 0..20_000 {
        flood.push_str(&format!(
            "cmd=put kvsname={kvs} key=flood{i} value={}\n",
            "v".repeat(1000)
        ));
    }
    attack("key flood", flood.as_bytes(), "not_authenticated");
    attack(
        "forged segment record",
        format!("cmd=put kvsname={kvs} key=rshmem-seg-1-0 value=2f6576696c\n").as_bytes(),
        "not_authenticated",
    );
    // 4. Binary and oversized lines.
    attack("binary line", b"\x00\xff\xfe\x01cmd=\x80\n", "initack");
    let mut big = vec![b'A'; 1 << 20];
    big.push(b'\n');
    attack("oversized line", &big, "initack");
    // 5. More connections than the limit (np + 32): the extra ones are refused at once.
    let held: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(&port).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(500));
    let mut over = 0;
    for mut s in held.iter().map(|s| s.try_clone().unwrap()) {
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let mut line = String::new();
        if BufReader::new(&mut s).read_line(&mut line).is_ok()
            && line.contains("too_many_open_connections")
        {
            over += 1;
        }
    }
    assert!(
        over >= 40 - 34,
        "only {over} of 40 connections were refused"
    );
    // The others, closed without authenticating, count as refused too.
    refused.set(refused.get() + 40);
    drop(held);
    thread::sleep(Duration::from_millis(300));

    // Now let the PEs in; once both are up, claim their ranks again with the right secret.
    std::fs::write(dir.join("go"), b"").unwrap();
    wait_for("both PEs up", Duration::from_secs(60), || {
        dir.join("up.0").exists() && dir.join("up.1").exists()
    });
    for r in 0..2 {
        attack(
            "rank claimed twice",
            format!("cmd=initack pmiid={r} secret={secret}\n").as_bytes(),
            &format!("rank_{r}_is_already_claimed"),
        );
    }
    std::fs::write(dir.join("go2"), b"").unwrap();

    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("the job did not finish");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let (so, se) = (so.join().unwrap(), se.join().unwrap());
    assert_eq!(status.code(), Some(0), "stdout:\n{so}\nstderr:\n{se}");
    assert!(
        so.contains("PE 0 ok: got [100, 101"),
        "stdout:\n{so}\nstderr:\n{se}"
    );
    assert!(
        so.contains("PE 1 ok: got [0, 1,"),
        "stdout:\n{so}\nstderr:\n{se}"
    );
    let line = se
        .lines()
        .find(|l| l.contains("refused") && l.contains("PMI connection"))
        .unwrap_or_else(|| panic!("no report of refused connections:\n{se}"));
    assert!(
        line.contains(&format!("refused {} PMI connection", refused.get())),
        "expected {} refused: {line}",
        refused.get()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn non_loopback_ipv4() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("10.255.255.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback()).then_some(ip)
}

/// An `ssh` agent: the secret comes on stdin, rank 0 still gets the launcher's stdin.
#[test]
fn ssh_agent_gets_the_secret_on_stdin() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_some() {
        return;
    }
    let dir = tempdir("ssh-agent");
    let ssh = dir.join("ssh");
    write_script(
        &ssh,
        &format!(
            "#!/bin/sh\n\
             # ssh HOST COMMAND: record, then run COMMAND here as sshd would\n\
             printf '%s\\n' \"$@\" > {d}/args.$$\n\
             env > {d}/env.$$\n\
             shift\n\
             exec sh -c \"$1\"\n",
            d = dir.display()
        ),
    );
    let me = std::env::current_exe().unwrap();
    let mut child = Command::new(RSHMEMRUN)
        .args(["-n", "2", "--hosts", "a:2", "--pmi-addr", "127.0.0.1"])
        .arg("--launch-agent")
        .arg(&ssh)
        .arg("--timeout")
        .arg("120")
        .arg(&me)
        .args(["pe_main", "--exact", "--nocapture", "--test-threads=1"])
        .env("RSHMEM_ATTACK_PE", "1")
        .env("ATTACK_READ_STDIN", "1")
        .env("ATTACK_DIR", &dir)
        .env("RSHMEM_TRANSPORT", "shm")
        .env_remove("RSHMEM_PMI_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello from stdin\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "stdout:\n{so}\nstderr:\n{se}");
    assert!(so.contains("PE 0 stdin: hello from stdin"), "{so}");
    assert!(so.contains("PE 1 ok"), "{so}");
    for f in files_with_prefix(&dir, "args.")
        .into_iter()
        .chain(files_with_prefix(&dir, "env."))
    {
        let t = std::fs::read_to_string(&f).unwrap();
        assert!(
            !t.contains("RSHMEM_PMI_SECRET="),
            "{}: the secret is in the agent's arguments or environment:\n{t}",
            f.display()
        );
    }
    assert!(!se.contains("refused"), "{se}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rshmem-info` lists unknown `RSHMEM_*` variables with their values, but never the secret
/// (a PE started by `rshmemrun --hosts` has it in its environment).
#[test]
fn rshmem_info_never_prints_the_secret() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_some() {
        return;
    }
    let secret = "5ec7e75ec7e75ec7e75ec7e75ec7e75e";
    for args in [&[][..], &["--json"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_rshmem-info"))
            .args(args)
            .env("RSHMEM_PMI_SECRET", secret)
            .env("RSHMEM_H4_PROBE", "1")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("RSHMEM_H4_PROBE"), "{args:?}: {text}");
        assert!(
            !text.contains(secret),
            "{args:?}: the secret is printed:\n{text}"
        );
    }
}

/// The server binds the `--pmi-addr` address only; one that is not this machine's is a clear
/// error, not a silent listen on every address.
#[test]
fn pmi_addr_must_be_local() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_some() {
        return;
    }
    let out = Command::new(RSHMEMRUN)
        .args(["-n", "1", "--hosts", "a", "--pmi-addr", "192.0.2.1"])
        .args(["--launch-agent", "true", "true"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("on 192.0.2.1")
            && err.contains("--pmi-addr must be an address of this machine"),
        "{err}"
    );
}

/// An ssh agent that does not forward stdin (like `ssh -n`): the PEs come without the
/// secret, the server refuses them, and the job fails saying why instead of hanging.
#[test]
fn ssh_agent_without_stdin_fails_clearly() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_some() {
        return;
    }
    let dir = tempdir("ssh-n");
    let ssh = dir.join("ssh");
    write_script(&ssh, "#!/bin/sh\nshift\nexec sh -c \"$1\" < /dev/null\n");
    let me = std::env::current_exe().unwrap();
    let start = Instant::now();
    let out = Command::new(RSHMEMRUN)
        .args(["-n", "2", "--hosts", "a:2", "--pmi-addr", "127.0.0.1"])
        .arg("--launch-agent")
        .arg(&ssh)
        .args(["--timeout", "60"])
        .arg(&me)
        .args(["pe_main", "--exact", "--nocapture", "--test-threads=1"])
        .env("RSHMEM_ATTACK_PE", "1")
        .env("ATTACK_DIR", &dir)
        .env_remove("RSHMEM_PMI_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_ne!(out.status.code(), Some(0), "{so}\n{se}");
    assert!(
        start.elapsed() < Duration::from_secs(50),
        "took {:?}",
        start.elapsed()
    );
    let all = format!("{so}{se}");
    assert!(
        all.contains("missing secret") && all.contains("not ssh -n"),
        "stdout:\n{so}\nstderr:\n{se}"
    );
    assert!(
        se.contains("refused 1 PMI connection") || se.contains("refused 2 PMI connection"),
        "{se}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
