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

use std::io::{BufReader, Read, Write};
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
    if std::env::var_os("ATTACK_CHILD_CHECK").is_some() {
        child_inherits_nothing(me);
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

/// What a PE starts (here `sh -c`, as `system()` would) must not inherit the PMI
/// connection nor the variables that grant access to it.
fn child_inherits_nothing(me: usize) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("env; echo FDS; ls -l /proc/$$/fd")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let (env, fds) = text.split_once("FDS").unwrap();
    for var in ["RSHMEM_PMI_SECRET=", "PMI_FD=", "PMI_PORT=", "PMI_ID="] {
        assert!(
            !env.lines().any(|l| l.starts_with(var)),
            "PE {me}: a child inherits {var}...:\n{env}"
        );
    }
    assert!(
        !fds.contains("socket:"),
        "PE {me}: a child inherits a socket (the PMI connection?):\n{fds}"
    );
    println!("PE {me} child clean");
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

/// The token each rank's agent had in its environment, by rank (from `args.<pid>`'s
/// `PMI_ID=` and `secret.<pid>`).
fn rank_tokens(dir: &Path) -> Vec<String> {
    let mut v: Vec<(usize, String)> = files_with_prefix(dir, "args.")
        .into_iter()
        .map(|f| {
            let pid = f.extension().unwrap().to_string_lossy().into_owned();
            let args = std::fs::read_to_string(&f).unwrap();
            let rank = args
                .lines()
                .find_map(|l| l.strip_prefix("PMI_ID="))
                .expect("PMI_ID in the agent's arguments")
                .parse()
                .unwrap();
            let t = std::fs::read_to_string(dir.join(format!("secret.{pid}"))).unwrap();
            (rank, t.trim().to_string())
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, t)| t).collect()
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
    // Each PE's agent got that PE's own token (HMAC-SHA256 of the job secret and the rank).
    let tokens = rank_tokens(&dir);
    assert_eq!(tokens.len(), 2);
    for t in &tokens {
        assert_eq!(t.len(), 64, "a 256-bit token in hex: {t:?}");
    }
    assert_ne!(tokens[0], tokens[1], "every rank gets its own token");
    let secret = tokens[0].clone();
    for f in files_with_prefix(&dir, "args.") {
        let a = std::fs::read_to_string(&f).unwrap();
        for t in &tokens {
            assert!(!a.contains(t), "a token is on a command line: {a}");
        }
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
    // Rank 1's token (what a sniffer of rank 1's initack learns) does not claim rank 0.
    attack(
        "another rank's token",
        format!("cmd=initack pmiid=0 secret={}\n", tokens[1]).as_bytes(),
        "wrong_secret",
    );
    let wrong = String::from_utf8(wrong).unwrap();
    attack(
        "wrong secret",
        format!("cmd=initack pmiid=0 secret={wrong}\ncmd=get kvsname={kvs} key=x\n").as_bytes(),
        "wrong_secret",
    );
    // 3. A flood of keys and a forged segment record, unauthenticated (the per-rank key
    // limit and key ownership for authenticated ranks: launcher/src/pmi/server/tests.rs).
    let mut flood = String::new();
    for i in 0..20_000 {
        flood.push_str(&format!(
            "cmd=put kvsname={kvs} key=flood{i} value={}\n",
            "v".repeat(1000)
        ));
    }
    // (Its first line, over 256 bytes, is refused before its newline even arrives.)
    attack(
        "key flood",
        flood.as_bytes(),
        "line_too_long_before_authentication",
    );
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
    // A long line without its newline is refused at once (not when a newline comes).
    attack(
        "long line, no newline",
        &[b'A'; 300],
        "line_too_long_before_authentication",
    );
    // 5. More connections than the limit (np + 32): each newcomer over the limit makes the
    // server close the oldest unauthenticated connection (a PE arriving last still gets in).
    let fds = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count()
    };
    let fds_before = fds(child.id());
    let held: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(&port).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(500));
    // One fd per open connection (34 at most), not one per reader, writer and table entry.
    let fds_during = fds(child.id());
    assert!(
        fds_during <= fds_before + 34 + 4,
        "the launcher holds {fds_during} fds with 34 connections open ({fds_before} before)"
    );
    let open: Vec<bool> = held
        .iter()
        .map(|s| {
            let mut s = s.try_clone().unwrap();
            s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            let mut b = [0u8; 64];
            matches!(s.read(&mut b), Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
        })
        .collect();
    let closed = open.iter().filter(|o| !**o).count();
    assert_eq!(closed, 40 - 34, "closed: {open:?}");
    assert!(
        open[40 - 34..].iter().all(|o| *o),
        "the newest connections must stay, the oldest go: {open:?}"
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
    for (r, token) in tokens.iter().enumerate() {
        attack(
            "rank claimed twice",
            format!("cmd=initack pmiid={r} secret={token}\n").as_bytes(),
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
             while [ \"${{1#-}}\" != \"$1\" ]; do shift; done\n\
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
    // ssh gets -T (no pty to echo the secret line) and a remote command that runs under
    // /bin/sh whatever the login shell.
    for f in files_with_prefix(&dir, "args.") {
        let a = std::fs::read_to_string(&f).unwrap();
        let argv: Vec<&str> = a.lines().collect();
        assert_eq!(argv[0], "-T", "ssh without -T: {a}");
        assert_eq!(argv[1], "a", "{a}");
        assert!(
            argv[2].starts_with("exec /bin/sh -c 'IFS= read -r RSHMEM_PMI_SECRET;"),
            "the remote command is not wrapped in /bin/sh -c: {a}"
        );
    }
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
    write_script(
        &ssh,
        "#!/bin/sh\nwhile [ \"${1#-}\" != \"$1\" ]; do shift; done\nshift\nexec sh -c \"$1\" < /dev/null\n",
    );
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

/// Starts `rshmemrun -n 2 --hosts nodeA:2` through the holding agent of [`agent_script`];
/// returns the launcher, its stdout/stderr collectors and the PMI port once both agents
/// are waiting.
#[allow(clippy::type_complexity)]
fn held_job(
    dir: &Path,
    extra_env: &[(&str, &str)],
) -> (
    std::process::Child,
    thread::JoinHandle<String>,
    thread::JoinHandle<String>,
    String,
) {
    let agent = agent_script(dir);
    let me = std::env::current_exe().unwrap();
    let mut cmd = Command::new(RSHMEMRUN);
    cmd.args(["-n", "2", "--hosts", "nodeA:2", "--pmi-addr", "127.0.0.1"])
        .arg("--launch-agent")
        .arg(&agent)
        .args(["--timeout", "120"])
        .arg(&me)
        .args(["pe_main", "--exact", "--nocapture", "--test-threads=1"])
        .env("RSHMEM_ATTACK_PE", "1")
        .env("ATTACK_DIR", dir)
        .env("RSHMEM_TRANSPORT", "shm")
        .env_remove("RSHMEM_PMI_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
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
    wait_for("both agents", Duration::from_secs(60), || {
        files_with_prefix(dir, "args.").len() == 2 && files_with_prefix(dir, "secret.").len() == 2
    });
    thread::sleep(Duration::from_millis(100));
    let args = std::fs::read_to_string(&files_with_prefix(dir, "args.")[0]).unwrap();
    let port = args
        .lines()
        .find_map(|l| l.strip_prefix("PMI_PORT="))
        .expect("PMI_PORT in the agent's arguments")
        .to_string();
    (child, so, se, port)
}

fn wait_job(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the job did not finish within {limit:?}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// A slowloris: connections that trickle one byte at a time never authenticate. The
/// 10 s limit is counted from the accept (a byte now and then does not extend it), and
/// while they fill every slot (np + 32) the PEs still get in: the oldest unauthenticated
/// connection makes room, and a PE told `too_many_open_connections` tries again.
#[test]
fn a_slowloris_cannot_keep_the_pes_out() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_some() {
        return;
    }
    let dir = tempdir("slowloris");
    let (mut child, so, se, port) = held_job(&dir, &[]);

    // 1. One connection sending a byte every 500 ms is closed about 10 s after its accept.
    let mut s = TcpStream::connect(&port).unwrap();
    let t0 = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let closed_after = loop {
        assert!(
            t0.elapsed() < Duration::from_secs(16),
            "a trickling connection is still open after 16 s"
        );
        if s.write_all(b"c").is_err() {
            break t0.elapsed();
        }
        let mut b = [0u8; 256];
        match s.read(&mut b) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            // End of file, an answer (the server closes after it) or a reset: closed.
            _ => break t0.elapsed(),
        }
    };
    drop(s);
    assert!(
        closed_after >= Duration::from_secs(9) && closed_after < Duration::from_millis(12_500),
        "the trickling connection was closed after {closed_after:?}, not about 10 s"
    );

    // 2. Fill every slot (and more) with trickling connections, bounded in count and time,
    // then let the PEs in while they keep trickling: the job must complete.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let (stop, port) = (stop.clone(), port.clone());
        thread::spawn(move || {
            let start = Instant::now();
            let mut conns: Vec<TcpStream> = Vec::new();
            let mut opened = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed)
                && start.elapsed() < Duration::from_secs(60)
            {
                // Keep 40 open (np + 32 = 34 slots): replace the ones the server closed.
                conns.retain_mut(|c| c.write_all(b"c").is_ok());
                while conns.len() < 40 && opened < 400 {
                    if let Ok(c) = TcpStream::connect(&port) {
                        let _ = c.set_nonblocking(true);
                        conns.push(c);
                    }
                    opened += 1;
                }
                thread::sleep(Duration::from_millis(300));
            }
            opened
        })
    };
    thread::sleep(Duration::from_secs(1));
    std::fs::write(dir.join("go"), b"").unwrap();
    let status = wait_job(&mut child, Duration::from_secs(120));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let opened = flood.join().unwrap();
    let (so, se) = (so.join().unwrap(), se.join().unwrap());
    assert!(opened >= 40, "the flood opened only {opened} connections");
    assert_eq!(status.code(), Some(0), "stdout:\n{so}\nstderr:\n{se}");
    assert!(
        so.contains("PE 0 ok") && so.contains("PE 1 ok"),
        "{so}\n{se}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Neither path leaks the PMI connection or its access variables into what a PE starts:
/// the socketpair (`PMI_FD`) of a local job and the token (`RSHMEM_PMI_SECRET`) of a
/// `--hosts` job.
#[test]
fn a_pes_children_inherit_no_pmi_fd_or_secret() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_some() {
        return;
    }
    let dir = tempdir("child-inherit");
    let me = std::env::current_exe().unwrap();
    let out = Command::new(RSHMEMRUN)
        .args(["-n", "2", "--timeout", "120"])
        .arg(&me)
        .args(["pe_main", "--exact", "--nocapture", "--test-threads=1"])
        .env("RSHMEM_ATTACK_PE", "1")
        .env("ATTACK_CHILD_CHECK", "1")
        .env("ATTACK_DIR", &dir)
        .env("RSHMEM_TRANSPORT", "shm")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "stdout:\n{so}\nstderr:\n{se}");
    assert!(
        so.contains("PE 0 child clean") && so.contains("PE 1 child clean"),
        "{so}\n{se}"
    );
    let dir2 = tempdir("child-inherit-hosts");
    let (mut child, so, se, _port) = held_job(&dir2, &[("ATTACK_CHILD_CHECK", "1")]);
    std::fs::write(dir2.join("go"), b"").unwrap();
    let status = wait_job(&mut child, Duration::from_secs(120));
    let (so, se) = (so.join().unwrap(), se.join().unwrap());
    assert_eq!(status.code(), Some(0), "stdout:\n{so}\nstderr:\n{se}");
    assert!(
        so.contains("PE 0 child clean") && so.contains("PE 1 child clean"),
        "{so}\n{se}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

/// `scripts/verbs-vm/share-agent.sh` carries a PE's token to the other VM in a 0600 command
/// file; neither half leaves that file (or the job's other files) behind.
#[test]
fn share_agent_leaves_no_command_files() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_some() {
        return;
    }
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/verbs-vm");
    let dir = tempdir("share-agent");
    let host = dir.join("nodeB");
    std::fs::create_dir_all(&host).unwrap();
    let mut daemon = Command::new("bash")
        .arg(scripts.join("share-agentd.sh"))
        .arg(&host)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("share-agentd ready", Duration::from_secs(10), || {
        host.join("ready").exists()
    });
    let token = "70c3e70c3e70c3e70c3e70c3e70c3e70";
    let out = Command::new("timeout")
        .args(["30", "bash"])
        .arg(scripts.join("share-agent.sh"))
        .args(["nodeB", "sh", "-c", "echo remote says hi; exit 3"])
        .env("RSHMEM_AGENT_DIR", &dir)
        .env("RSHMEM_PMI_SECRET", token)
        .env_remove("RSHMEM_AGENT_LOCAL")
        .output()
        .unwrap();
    std::fs::write(host.join("stop"), b"").unwrap();
    let _ = daemon.wait();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("remote says hi"));
    let left: Vec<String> = std::fs::read_dir(&host)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("job."))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Clock ticks (utime + stime) process `pid` has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3; utime and stime are fields 14 and 15.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// When `accept` fails (the launcher is out of fds), the accept thread pauses instead of
/// spinning on the same error, and the job still completes once fds are free again.
#[test]
fn accept_errors_do_not_spin() {
    if std::env::var_os("RSHMEM_ATTACK_PE").is_some() {
        return;
    }
    let dir = tempdir("emfile");
    let (mut child, so, se, port) = held_job(&dir, &[]);
    let pid = child.id();
    let open_fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64;
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit on the launcher we started, with valid pointers.
    let r = unsafe { libc::prlimit(pid as i32, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) };
    assert_eq!(r, 0, "prlimit: {}", std::io::Error::last_os_error());
    let low = libc::rlimit {
        rlim_cur: open_fds + 4,
        rlim_max: old.rlim_max,
    };
    // SAFETY: as above.
    let r = unsafe { libc::prlimit(pid as i32, libc::RLIMIT_NOFILE, &low, std::ptr::null_mut()) };
    assert_eq!(r, 0, "prlimit: {}", std::io::Error::last_os_error());
    // More connections than fds left: the rest wait in the backlog, accept fails EMFILE.
    let conns: Vec<TcpStream> = (0..12)
        .filter_map(|_| TcpStream::connect(&port).ok())
        .collect();
    thread::sleep(Duration::from_millis(500));
    let t0 = cpu_ticks(pid);
    thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - t0;
    eprintln!("launcher cpu ticks in 2 s while accept fails: {used}");
    drop(conns);
    // SAFETY: as above, restoring the launcher's limit.
    unsafe { libc::prlimit(pid as i32, libc::RLIMIT_NOFILE, &old, std::ptr::null_mut()) };
    std::fs::write(dir.join("go"), b"").unwrap();
    let status = wait_job(&mut child, Duration::from_secs(120));
    let (so, se) = (so.join().unwrap(), se.join().unwrap());
    assert!(
        used < 20,
        "the launcher used {used} clock ticks in 2 s while accept failed (spinning)"
    );
    assert_eq!(status.code(), Some(0), "stdout:\n{so}\nstderr:\n{se}");
    assert!(
        so.contains("PE 0 ok") && so.contains("PE 1 ok"),
        "{so}\n{se}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
