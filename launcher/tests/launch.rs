//! Integration tests: real jobs launched with `rshmemrun`, whose PEs are shell
//! scripts or a small python3 PMI-1 client (`tests/helpers/pmi_client.py`).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const RSHMEMRUN: &str = env!("CARGO_BIN_EXE_rshmemrun");
const OSHRUN: &str = env!("CARGO_BIN_EXE_oshrun");
const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/helpers/pmi_client.py");

struct Out {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Out {
    fn code(&self) -> i32 {
        self.status.code().expect("launcher killed by a signal")
    }
}

/// Reads a child's pipe to the end on a thread.
fn slurp<R: Read + Send + 'static>(r: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut r) = r {
            let _ = r.read_to_string(&mut s);
        }
        s
    })
}

/// Waits for `child` at most `limit`, killing it (and failing) past that.
fn wait_limited(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("launcher did not finish within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn run_bin(bin: &str, args: &[&str]) -> Out {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let so = slurp(child.stdout.take());
    let se = slurp(child.stderr.take());
    let status = wait_limited(&mut child, Duration::from_secs(20));
    let elapsed = start.elapsed();
    Out {
        status,
        stdout: so.join().unwrap(),
        stderr: se.join().unwrap(),
        elapsed,
    }
}

fn run(args: &[&str]) -> Out {
    run_bin(RSHMEMRUN, args)
}

/// True if `pid` no longer exists (or is a zombie awaiting its reaper).
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => {
            // The state follows the parenthesised command name.
            let state = s.rsplit(')').next().unwrap_or("").trim_start();
            state.starts_with('Z') || state.starts_with('X')
        }
    }
}

fn wait_gone(pids: &[u32], limit: Duration) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|&p| !is_gone(p)).collect();
        if alive.is_empty() || start.elapsed() > limit {
            return alive;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Collects every number following `marker` in `text`.
fn pids_after(text: &str, marker: &str) -> Vec<u32> {
    text.lines()
        .filter_map(|l| l.strip_prefix(marker))
        .flat_map(|rest| {
            rest.split_whitespace()
                .map(|t| t.parse::<u32>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn exchange(n: usize) {
    let ns = n.to_string();
    let out = run(&["-n", &ns, "python3", "-I", "-S", CLIENT, "exchange"]);
    assert_eq!(
        out.code(),
        0,
        "stderr: {}\nstdout: {}",
        out.stderr,
        out.stdout
    );
    for r in 0..n {
        let want = format!("OK rank={r} size={n}");
        assert!(
            out.stdout.contains(&want),
            "missing '{want}' in {}",
            out.stdout
        );
    }
}

#[test]
fn exchange_1() {
    exchange(1);
}

#[test]
fn exchange_2() {
    exchange(2);
}

#[test]
fn exchange_4() {
    exchange(4);
}

#[test]
fn exchange_8() {
    exchange(8);
}

#[test]
fn oshrun_and_np_flag() {
    let out = run_bin(OSHRUN, &["-np", "2", "python3", "-I", "-S", CLIENT]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert!(out.stdout.contains("OK rank=1 size=2"));
    let out = run(&["-np", "2", "sh", "-c", "echo size=$PMI_SIZE"]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout.matches("size=2").count(), 2);
}

#[test]
fn program_args_untouched() {
    let out = run(&[
        "-n",
        "1",
        "sh",
        "-c",
        "printf '%s\\n' \"$*\"",
        "prog",
        "-n",
        "3",
        "--tag-output",
        "-np",
        "--",
        "-x",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "-n 3 --tag-output -np -- -x");
}

#[test]
fn tag_output_prefixes_lines() {
    let out = run(&[
        "--tag-output",
        "-n",
        "2",
        "sh",
        "-c",
        "echo hello; echo line2; echo oops >&2; printf partial",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    for r in 0..2 {
        for l in ["hello", "line2", "partial"] {
            let want = format!("[{r}] {l}");
            assert!(
                out.stdout.lines().any(|x| x == want),
                "missing '{want}' in {:?}",
                out.stdout
            );
        }
        let want = format!("[{r}] oops");
        assert!(out.stderr.lines().any(|x| x == want), "{:?}", out.stderr);
    }
    assert!(out
        .stdout
        .lines()
        .all(|l| l.starts_with("[0] ") || l.starts_with("[1] ")));
}

#[test]
fn tag_output_no_interleaving() {
    // Every PE writes many long lines; each output line must be intact.
    let script = "i=0; while [ $i -lt 200 ]; do echo \"$PMI_RANK-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-end\"; i=$((i+1)); done";
    let out = run(&["--tag-output", "-n", "3", "sh", "-c", script]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 600);
    for l in out.stdout.lines() {
        let (tag, rest) = l.split_once(' ').unwrap();
        let r = tag.trim_start_matches('[').trim_end_matches(']');
        assert!(
            rest.starts_with(&format!("{r}-a")) && rest.ends_with("a-end"),
            "{l}"
        );
        assert_eq!(rest.len(), 2 + 83 + 4, "{l}");
    }
}

#[test]
fn exit_status_propagates() {
    let out = run(&["-n", "2", "sh", "-c", "exit 3"]);
    assert_eq!(out.code(), 3);
    assert!(
        out.stderr.contains("exited with status 3"),
        "{}",
        out.stderr
    );

    let out = run(&[
        "-n",
        "2",
        "sh",
        "-c",
        "if [ $PMI_RANK = 1 ]; then kill -9 $$; fi; sleep 30",
    ]);
    assert_eq!(out.code(), 137);
    assert!(
        out.stderr.contains("PE 1 (pid ")
            && out
                .stderr
                .contains("was killed by signal 9 (SIGKILL); terminating the remaining 1 PE"),
        "{}",
        out.stderr
    );
    assert!(out.elapsed < Duration::from_secs(3));
}

#[test]
fn exit_zero_without_pmi_is_normal() {
    let out = run(&["-n", "3", "true"]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let out = run(&["-n", "2", "python3", "-I", "-S", CLIENT, "noinit-exit0"]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
}

#[test]
fn sigkilled_pe_tears_down_job() {
    let script = "sleep 30 & echo \"pids $$ $!\"; \
                  if [ $PMI_RANK = 2 ]; then sleep 0.3; kill -9 $$; fi; wait";
    let out = run(&["-n", "4", "sh", "-c", script]);
    assert_ne!(out.code(), 0);
    assert_eq!(out.code(), 137);
    assert!(
        out.elapsed < Duration::from_secs(2),
        "took {:?}",
        out.elapsed
    );
    assert!(
        out.stderr.contains("PE 2 (pid ")
            && out
                .stderr
                .contains("was killed by signal 9 (SIGKILL); terminating the remaining 3 PEs"),
        "{}",
        out.stderr
    );
    let pids = pids_after(&out.stdout, "pids ");
    assert_eq!(pids.len(), 8, "{}", out.stdout);
    let alive = wait_gone(&pids, Duration::from_millis(500));
    assert!(alive.is_empty(), "still alive: {alive:?}");
}

#[test]
fn pe_dying_while_others_in_barrier() {
    let out = run(&["-n", "3", "python3", "-I", "-S", CLIENT, "barrier-die"]);
    assert_eq!(out.code(), 137, "{}", out.stderr);
    // Generous: python start-up is slow when the test suite loads both cores.
    assert!(
        out.elapsed < Duration::from_secs(8),
        "took {:?}",
        out.elapsed
    );
    assert!(out.stderr.contains("PE 0 (pid "), "{}", out.stderr);
}

#[test]
fn exit_zero_without_finalize_is_abnormal() {
    let out = run(&["-n", "2", "python3", "-I", "-S", CLIENT, "init-exit0"]);
    assert_ne!(out.code(), 0, "{}\n{}", out.stderr, out.stdout);
    assert!(
        out.elapsed < Duration::from_secs(8),
        "took {:?}",
        out.elapsed
    );
    assert!(
        out.stderr
            .contains("without calling PMI finalize; terminating the remaining 1 PE"),
        "{}",
        out.stderr
    );
}

#[test]
fn abort_tears_down_with_code() {
    let out = run(&["-n", "3", "python3", "-I", "-S", CLIENT, "abort", "5"]);
    assert_eq!(out.code(), 5, "{}", out.stderr);
    assert!(
        out.elapsed < Duration::from_secs(8),
        "took {:?}",
        out.elapsed
    );
    assert!(
        out.stderr
            .contains("rshmemrun: PE 1 called abort with exit code 5"),
        "{}",
        out.stderr
    );
}

#[test]
fn timeout_kills_job() {
    let out = run(&["--timeout", "1", "-n", "2", "sleep", "30"]);
    assert_eq!(out.code(), 124);
    assert!(
        out.elapsed < Duration::from_millis(2500),
        "took {:?}",
        out.elapsed
    );
    assert!(
        out.stderr
            .contains("rshmemrun: job exceeded --timeout of 1 s; killing all 2 PEs"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_usage_is_reported() {
    for (args, needle) in [
        (&["-n", "0", "true"][..], "--np"),
        (&["-n", "two", "true"], "two"),
        (&["-n", "2", "--bind-to", "foo", "true"], "foo"),
        (&["-n", "2"], "PROGRAM"),
        (&["true"], "--np"),
        (&["-n", "2", "--bogus", "true"], "--bogus"),
        (&["-n", "2", "--timeout=-1", "true"], "timeout"),
        (&["-n", "2", "--timeout", "0", "true"], "timeout"),
    ] {
        let out = run(args);
        assert_eq!(out.code(), 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
    let out = run(&["-n", "2", "no-such-program-rshmem"]);
    assert_eq!(out.code(), 127);
    assert!(
        out.stderr
            .contains("no-such-program-rshmem: command not found"),
        "{}",
        out.stderr
    );
    let noexec = std::env::temp_dir().join(format!("rshmem-noexec-{}", std::process::id()));
    std::fs::write(&noexec, "echo hi\n").unwrap();
    let out = run(&["-n", "2", noexec.to_str().unwrap()]);
    let _ = std::fs::remove_file(&noexec);
    assert_eq!(out.code(), 127);
    assert!(out.stderr.contains("not executable"), "{}", out.stderr);
    let out = run(&["--help"]);
    assert_eq!(out.code(), 0);
    for flag in [
        "--np",
        "--bind-to",
        "--report-bindings",
        "--tag-output",
        "--timeout",
        "-x",
    ] {
        assert!(out.stdout.contains(flag), "help lacks {flag}");
    }
}

#[test]
fn export_env() {
    let out = Command::new(RSHMEMRUN)
        .args([
            "-n",
            "2",
            "-x",
            "FOO=bar=baz",
            "-x",
            "RSHMEM_TEST_FWD",
            "-x",
            "RSHMEM_TEST_UNSET",
            "sh",
            "-c",
            "echo \"$PMI_RANK $FOO $RSHMEM_TEST_FWD $RSHMEM_LAUNCHER $PMI_SIZE ${PMI_JOBID%%-*}\"",
        ])
        .env("RSHMEM_TEST_FWD", "fwd")
        .env_remove("RSHMEM_TEST_UNSET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("0 bar=baz fwd rshmemrun 2 rshmemrun"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 bar=baz fwd rshmemrun 2 rshmemrun"),
        "{stdout}"
    );
    assert!(stderr.contains("RSHMEM_TEST_UNSET"), "{stderr}");
}

#[test]
fn report_bindings() {
    let out = run(&["--report-bindings", "--bind-to", "none", "-n", "2", "true"]);
    assert_eq!(out.code(), 0);
    for r in 0..2 {
        let prefix = format!("rshmemrun: PE {r} (pid ");
        let line = out.stderr.lines().find(|l| l.starts_with(&prefix)).unwrap();
        assert!(line.ends_with(") not bound"), "{line}");
    }

    // Core binding: what is reported is what the PE sees.
    let out = run(&[
        "--report-bindings",
        "--bind-to",
        "core",
        "--tag-output",
        "-n",
        "2",
        "sh",
        "-c",
        "sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    for r in 0..2 {
        let prefix = format!("rshmemrun: PE {r} (pid ");
        let line = out.stderr.lines().find(|l| l.starts_with(&prefix)).unwrap();
        if line.ends_with("not bound") {
            // hwloc unavailable: must have warned.
            assert!(out.stderr.contains("warning"), "{}", out.stderr);
            continue;
        }
        assert!(line.contains(") bound to core "), "{line}");
        let cpus = line.rsplit("(cpus ").next().unwrap().trim_end_matches(')');
        let seen = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("[{r}] ")))
            .unwrap();
        assert_eq!(seen, cpus, "PE {r}: {}", out.stderr);
    }
}

#[test]
fn shm_sweep_after_killed_pe() {
    let out = run(&[
        "-n",
        "1",
        "sh",
        "-c",
        "touch /dev/shm/rshmem-$PMI_JOBID-0-x; echo job=$PMI_JOBID; kill -9 $$",
    ]);
    assert_eq!(out.code(), 137);
    let job = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("job="))
        .unwrap()
        .to_string();
    assert!(job.starts_with("rshmemrun-"));
    let path = format!("/dev/shm/rshmem-{job}-0-x");
    let gone = !std::path::Path::new(&path).exists();
    let _ = std::fs::remove_file(&path);
    assert!(gone, "{path} was not removed");
}

/// Starts a job in the background and waits for `n` lines of `ready` output.
fn start_and_wait_ready(
    args: &[&str],
    n: usize,
) -> (Child, Vec<String>, thread::JoinHandle<String>) {
    let mut child = Command::new(RSHMEMRUN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let se = slurp(child.stderr.take());
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    while lines.len() < n {
        let mut l = String::new();
        if reader.read_line(&mut l).unwrap() == 0 {
            break;
        }
        lines.push(l.trim_end().to_string());
    }
    // Keep draining the rest in the background so the PEs never block.
    thread::spawn(move || {
        let mut s = String::new();
        let _ = reader.read_to_string(&mut s);
    });
    (child, lines, se)
}

#[test]
fn sigterm_is_forwarded() {
    let script = "trap 'echo got-term-$PMI_RANK; exit 7' TERM; sleep 30 & echo ready $$; wait";
    let (mut child, lines, se) = start_and_wait_ready(&["-n", "2", "sh", "-c", script], 2);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let start = Instant::now();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = wait_limited(&mut child, Duration::from_secs(5));
    let stderr = se.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains("received SIGTERM; forwarding it to 2 PEs"),
        "{stderr}"
    );
}

#[test]
fn sigterm_reaches_pes_output() {
    // Same as above, but check the PEs' own marker output.
    let script = "trap 'echo got-term-$PMI_RANK; exit 0' TERM; sleep 30 & echo ready; wait";
    let mut child = Command::new(RSHMEMRUN)
        .args(["-n", "2", "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut l = String::new();
    let mut ready = 0;
    while ready < 2 && reader.read_line(&mut l).unwrap() > 0 {
        if l.contains("ready") {
            ready += 1;
        }
        l.clear();
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    let status = wait_limited(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    assert!(
        rest.contains("got-term-0") && rest.contains("got-term-1"),
        "{rest}"
    );
}

#[test]
fn killed_launcher_leaves_no_pes() {
    let script = "echo pids $$; exec sleep 30";
    let (mut child, lines, _se) = start_and_wait_ready(&["-n", "2", "sh", "-c", script], 2);
    let pids: Vec<u32> = pids_after(&lines.join("\n"), "pids ");
    assert_eq!(pids.len(), 2, "{lines:?}");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let alive = wait_gone(&pids, Duration::from_secs(2));
    assert!(alive.is_empty(), "PEs survived the launcher: {alive:?}");
}
