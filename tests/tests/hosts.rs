//! `rshmemrun --hosts` on one machine: network namespaces stand in for nodes
//! (`scripts/netns-up.sh`: rshmem-ns1 and rshmem-ns2, launcher reachable at 10.213.1.1) and
//! `ip netns exec` is the launch agent. The PEs reach the launcher's PMI server over TCP
//! (`PMI_PORT`), and PEs of one namespace count as one node.
//!
//! - across two namespaces: bootstrap and locality (`boot`): every PE reads every other's
//!   record, the node map is `0,0,1,1`, and the PEs of one node share a network namespace;
//! - a whole job inside one namespace (`rma`, shared memory);
//! - real jobs across the two namespaces (no RDMA device there): `RSHMEM_TRANSPORT` auto
//!   picks shared memory within a namespace and TCP between them (`SHMEM_INFO` says so);
//!   rma, amo, signal and coll_check (every team shape) pass; coll_check also on three
//!   namespaces (2 + 1 + 1 PEs);
//! - a SIGKILLed PE in a namespace ends the job with 137 and no process left, also when
//!   its peers reach it over TCP;
//! - the link of the second "host" cut mid-job (`ip link set down`): the job ends with a
//!   message naming the lost peer, a non-zero status, within 30 s, and no process left;
//! - bad `--hosts`/`--hostfile`/`--pmi-addr` values are usage errors that say what is wrong.
//!
//! Needs root and iproute2; skipped with a notice otherwise, unless `CI` is set.
use rshmem_tests::harness::{notice, workspace_bin};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Tears the namespaces down when the test ends, pass or fail.
struct Netns;

impl Netns {
    fn up() -> Option<Netns> {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let ip = Path::new("/usr/sbin/ip").exists() || Path::new("/sbin/ip").exists();
        if !root || !ip {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but the netns tests cannot run (root: {root}, iproute2: {ip})"
            );
            notice("SKIPPED hosts tests: they need root and iproute2 (ip netns)");
            return None;
        }
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/netns-up.sh"))
            .output()
            .expect("run scripts/netns-up.sh");
        assert!(
            out.status.success(),
            "scripts/netns-up.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(Netns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo_root().join("scripts/netns-down.sh"))
            .status();
    }
}

fn rshmemrun(args: &[&str], program: &Path, prog_args: &[&str]) -> (Output, Duration) {
    rshmemrun_env(args, &[], program, prog_args)
}

fn rshmemrun_env(
    args: &[&str],
    env: &[(&str, &str)],
    program: &Path,
    prog_args: &[&str],
) -> (Output, Duration) {
    let mut c = Command::new("timeout");
    c.envs(env.iter().copied());
    c.args(["-k", "3", "60"])
        .arg(workspace_bin("rshmemrun"))
        .args(args)
        .arg(program)
        .args(prog_args)
        .stdin(Stdio::null());
    for v in [
        "PMI_FD",
        "PMI_PORT",
        "PMI_ID",
        "PMI_RANK",
        "PMI_SIZE",
        "RSHMEM_BOOTSTRAP",
    ] {
        c.env_remove(v);
    }
    let t = Instant::now();
    let out = c.output().expect("run rshmemrun");
    (out, t.elapsed())
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout:\n{}--- stderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// No process whose command line contains `needle` (after a short grace).
fn no_process_left(needle: &str) -> bool {
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new("pgrep")
        .args(["-f", needle])
        .output()
        .expect("pgrep");
    out.stdout.is_empty()
}

const NETNS: &[&str] = &[
    "--launch-agent",
    "ip netns exec",
    "--pmi-addr",
    "10.213.1.1",
];

fn hosts(list: &str) -> Vec<&str> {
    let mut v = vec!["-n", "4", "--hosts", list];
    v.extend_from_slice(NETNS);
    v
}

#[test]
fn hosts_through_network_namespaces() {
    let Some(_ns) = Netns::up() else { return };
    let bin = |b: &str| match b {
        "boot" => PathBuf::from(env!("CARGO_BIN_EXE_boot")),
        "rma" => PathBuf::from(env!("CARGO_BIN_EXE_rma")),
        "fail" => PathBuf::from(env!("CARGO_BIN_EXE_fail")),
        _ => workspace_bin(b),
    };

    // Bootstrap and locality across two "nodes".
    let (o, _) = rshmemrun(&hosts("rshmem-ns1:2,rshmem-ns2:2"), &bin("boot"), &[]);
    assert!(o.status.success(), "boot across namespaces\n{}", show(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut seen = vec![None; 4];
    for l in text.lines().filter_map(|l| l.strip_prefix("BOOT ")) {
        let f = |k: &str| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .to_string()
        };
        let pe: usize = f("pe").parse().expect("pe=");
        assert_eq!(f("n"), "4", "{l}");
        assert_eq!(f("nodes"), "0,0,1,1", "node map\n{}", show(&o));
        assert_eq!(f("protocol"), "pmi1", "{l}");
        seen[pe] = Some((f("node"), f("netns")));
    }
    let seen: Vec<(String, String)> = seen
        .into_iter()
        .map(|s| s.unwrap_or_else(|| panic!("a PE printed no BOOT line\n{}", show(&o))))
        .collect();
    assert_eq!(seen[0].0, "0");
    assert_eq!(seen[2].0, "1");
    assert_eq!(seen[0].1, seen[1].1, "PEs 0 and 1 share namespace 1");
    assert_eq!(seen[2].1, seen[3].1, "PEs 2 and 3 share namespace 2");
    assert_ne!(
        seen[0].1, seen[2].1,
        "the two nodes are different namespaces"
    );

    // A whole job on one "node": shared memory, PMI over TCP.
    let (o, _) = rshmemrun(&hosts("rshmem-ns1:4"), &bin("rma"), &[]);
    assert!(o.status.success(), "rma in one namespace\n{}", show(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for pe in 0..4 {
        assert!(
            text.contains(&format!("rma: PE {pe} of 4 OK")),
            "PE {pe} of the rma job\n{}",
            show(&o)
        );
    }

    // Across the two "nodes": shared memory within each, TCP between them.
    for prog in ["rma", "amo", "signal", "coll_check"] {
        let p = match prog {
            "amo" => PathBuf::from(env!("CARGO_BIN_EXE_amo")),
            "signal" => PathBuf::from(env!("CARGO_BIN_EXE_signal")),
            "coll_check" => PathBuf::from(env!("CARGO_BIN_EXE_coll_check")),
            _ => bin(prog),
        };
        let info = if prog == "rma" { "1" } else { "0" };
        let (o, _) = rshmemrun_env(
            &hosts("rshmem-ns1:2,rshmem-ns2:2"),
            &[("RMA_PTR_OPTIONAL", "1"), ("SHMEM_INFO", info)],
            &p,
            &[],
        );
        assert!(o.status.success(), "{prog} across namespaces\n{}", show(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        for pe in 0..4 {
            assert!(
                text.contains(&format!("{prog}: PE {pe} of 4 OK")),
                "PE {pe} of {prog}\n{}",
                show(&o)
            );
        }
        if prog == "rma" {
            let err = String::from_utf8_lossy(&o.stderr);
            for line in [
                "rshmem: PE 0: transport per peer: 0=shm 1=shm 2=tcp 3=tcp; tcp listening on 10.213.1.2:",
                "rshmem: PE 3: transport per peer: 0=tcp 1=tcp 2=shm 3=shm; tcp listening on 10.213.2.2:",
                // Init reads the records of its own node's PEs and of the other node's
                // first PE (PE 2 or PE 0), not of PE 3 or PE 1: O(per node + nodes).
                "rshmem: PE 0: segment records read at init: 3 of 4",
                "rshmem: PE 1: segment records read at init: 3 of 4",
                "rshmem: PE 2: segment records read at init: 3 of 4",
                "rshmem: PE 3: segment records read at init: 3 of 4",
            ] {
                assert!(err.contains(line), "no {line:?}\n{}", show(&o));
            }
        }
    }

    // Three "hosts" of 2, 1 and 1 PEs: collectives on every team shape over a mix of
    // shared memory and TCP.
    let (o, _) = rshmemrun_env(
        &[
            "-n",
            "4",
            "--hosts",
            "rshmem-ns1:2,rshmem-ns2:1,rshmem-ns3:1",
            "--launch-agent",
            "ip netns exec",
            "--pmi-addr",
            "10.213.1.1",
        ],
        &[("SHMEM_INFO", "1")],
        Path::new(env!("CARGO_BIN_EXE_coll_check")),
        &[],
    );
    assert!(
        o.status.success(),
        "coll_check on 3 namespaces\n{}",
        show(&o)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("rshmem: PE 2: transport per peer: 0=tcp 1=tcp 2=shm 3=tcp"),
        "{}",
        show(&o)
    );
    // PE 2 reads itself and the first PEs of the other two nodes (0 and 3), not PE 1.
    assert!(
        err.contains("rshmem: PE 2: segment records read at init: 3 of 4"),
        "{}",
        show(&o)
    );
    for pe in 0..4 {
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(&format!("coll_check: PE {pe} of 4 OK")),
            "{}",
            show(&o)
        );
    }

    // The second "host" loses its link mid-job: the PEs on the first find out (TCP
    // keepalive, user timeout) and end the job with a message naming the peer.
    let cut = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(1500));
        let s = Command::new("ip")
            .args(["link", "set", "rshv2", "down"])
            .status()
            .expect("ip link");
        assert!(s.success());
    });
    let (o, took) = rshmemrun(
        &hosts("rshmem-ns1:2,rshmem-ns2:2"),
        Path::new(env!("CARGO_BIN_EXE_barrier")),
        &["100000000"],
    );
    cut.join().unwrap();
    let _ = Command::new("ip")
        .args(["link", "set", "rshv2", "up"])
        .status();
    assert!(
        !o.status.success(),
        "the cut must end the job\n{}",
        show(&o)
    );
    assert!(
        took < Duration::from_secs(30),
        "took {took:?}\n{}",
        show(&o)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("TCP transport: PE ") && err.contains("the network between them broke"),
        "the message should name the lost peer\n{}",
        show(&o)
    );
    assert!(
        no_process_left(env!("CARGO_BIN_EXE_barrier")),
        "a PE survived the cut\n{}",
        show(&o)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let job = out
        .lines()
        .find_map(|l| l.strip_prefix("JOB "))
        .unwrap_or_else(|| panic!("no JOB line\n{}", show(&o)))
        .trim()
        .to_string();
    let left: Vec<String> = std::fs::read_dir("/dev/shm")
        .expect("/dev/shm")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&job))
        .collect();
    assert!(left.is_empty(), "left in /dev/shm: {left:?}\n{}", show(&o));

    // A SIGKILLed PE ends the job; no PE is left (its peers on the other "host" reach it
    // over TCP).
    let (o, took) = rshmemrun(
        &hosts("rshmem-ns1:2,rshmem-ns2:2"),
        &bin("fail"),
        &["sigkill", "3"],
    );
    assert_eq!(o.status.code(), Some(137), "{}", show(&o));
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}\n{}",
        show(&o)
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let pids: Vec<u32> = text
        .lines()
        .filter_map(|l| l.strip_prefix("PID "))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect();
    assert_eq!(pids.len(), 4, "{}", show(&o));
    std::thread::sleep(Duration::from_millis(200));
    for p in pids {
        assert!(
            !Path::new(&format!("/proc/{p}")).exists(),
            "PE pid {p} survived\n{}",
            show(&o)
        );
    }

    // Usage errors.
    for (args, needle) in [
        (vec!["-n", "2", "--hosts", ","], "no host given"),
        (vec!["-n", "2", "--hosts", "a:0"], "at least 1 slot"),
        (
            vec!["-n", "2", "--hostfile", "/nonexistent/hosts"],
            "cannot read it",
        ),
        (
            vec!["-n", "2", "--hosts", "a", "--pmi-addr", "nowhere"],
            "not an IP address",
        ),
    ] {
        let (o, _) = rshmemrun(&args, &bin("boot"), &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", show(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{args:?}: no {needle:?}\n{}",
            show(&o)
        );
    }
}
