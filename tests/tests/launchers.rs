//! The core programs (RMA, atomics, signal, locks, barriers, every collective on every team)
//! and every example (hello, ring, histogram, pi) under the HPC
//! launchers: a one-node Slurm started by `scripts/slurm-up.sh` (idempotent) with
//! `srun --mpi=pmi2 -n 4` and `srun --mpi=pmix -n 4`, and Open MPI's `mpirun.openmpi -np 4`
//! (PMIx). Every launch is bounded by `srun --immediate=10` and `timeout`. A missing launcher
//! is a failure when `CI` is set, otherwise a SKIPPED notice. Jobs run one at a time (the
//! machine may have 2 cores and srun waits for CPUs).
//!
//! Also: a bootstrap that cannot reach its server fails within `RSHMEM_BOOTSTRAP_TIMEOUT`
//! naming the protocol and the address; and under every launcher (rshmemrun, Hydra, srun
//! with pmi2 and pmix, mpirun) a PE that is SIGKILLed, exits with status 3, or calls
//! `global_exit(7)` ends the job within 2 s of the event, with the right status, a message
//! naming the PE, and no process or `/dev/shm` object left; `global_exit(0)` and
//! `global_exit(3)` end it with exactly that status (`global_exit_{0,3}_*`); a PE that exits
//! 0 without finalize while the others wait in `barrier_all` ends the job with status 1 and
//! a message naming it (`exit0_no_finalize_*`).
use rshmem_tests::harness::{notice, shm_objects, workspace_bin};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const NP: usize = 4;
/// `timeout` limit of one job (seconds).
const JOB_SECS: u64 = 40;

/// Serializes the jobs of this file.
static LOCK: Mutex<()> = Mutex::new(());

const SCRUBBED_ENV: &[&str] = &[
    "PMI_FD",
    "PMI_PORT",
    "PMI_ID",
    "PMI_RANK",
    "PMI_SIZE",
    "PMI_JOBID",
    "RSHMEM_BOOTSTRAP",
    "RSHMEM_BOOTSTRAP_TIMEOUT",
    "SHMEM_SYMMETRIC_SIZE",
    "SHMEM_DEBUG",
    "SHMEM_INFO",
    "RUST_BACKTRACE",
];

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

/// Whether every one of `bins` is installed; if not, fails under `CI`, else prints SKIPPED.
fn available(test: &str, bins: &[&str], install: &str) -> bool {
    let missing: Vec<&str> = bins.iter().copied().filter(|b| !on_path(b)).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{missing:?} not installed but CI is set: {install}"
    );
    notice(&format!(
        "SKIPPED {test}: {missing:?} not found ({install})"
    ));
    false
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Brings the one-node Slurm up once per test process (the script is idempotent: daemons
/// already running are kept, a down node is resumed). `false` = skipped.
fn slurm(test: &str) -> bool {
    if !available(
        test,
        &["srun", "slurmd", "slurmctld", "munged"],
        "apt-get install slurm-wlm slurmctld slurmd slurm-client munge",
    ) {
        return false;
    }
    static UP: OnceLock<Result<(), String>> = OnceLock::new();
    let r = UP.get_or_init(|| {
        if unsafe_geteuid() != 0 {
            return Err("scripts/slurm-up.sh needs root".into());
        }
        let script = repo_root().join("scripts/slurm-up.sh");
        let out = Command::new("timeout")
            .args(["60", "bash"])
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if out.status.success() {
            notice(String::from_utf8_lossy(&out.stdout).trim_end());
            Ok(())
        } else {
            Err(format!(
                "{} failed ({:?}):\n{}{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    match r {
        Ok(()) => true,
        Err(e) if e.contains("needs root") && std::env::var_os("CI").is_none() => {
            notice(&format!("SKIPPED {test}: {e}"));
            false
        }
        Err(e) => panic!("{e}"),
    }
}

fn unsafe_geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

struct Ran {
    cmdline: String,
    out: Output,
    elapsed: Duration,
}

impl Ran {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn show(&self) -> String {
        format!(
            "--- job: {}\n--- status: {:?} after {:?}\n--- stdout:\n{}--- stderr:\n{}",
            self.cmdline,
            self.out.status,
            self.elapsed,
            self.stdout(),
            self.stderr()
        )
    }
}

/// Runs `launcher... program args` under `timeout`, with `env` added.
fn run(launcher: &[&str], program: &Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut c = Command::new("timeout");
    c.args(["-k", "3", &JOB_SECS.to_string()])
        .args(launcher)
        .arg(program)
        .args(args);
    for v in SCRUBBED_ENV {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(Stdio::null());
    let cmdline = format!("{c:?}");
    let start = Instant::now();
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmdline}: {e}"));
    Ran {
        cmdline,
        out,
        elapsed: start.elapsed(),
    }
}

/// Asserts success, one `<prog>: PE i of NP OK` (or `PE i of NP` for hello) per PE, and
/// nothing left in `/dev/shm` by the job PE 0 named.
fn check(r: &Ran, prog: &str) {
    assert!(r.out.status.success(), "job failed\n{}", r.show());
    let text = r.stdout();
    // The examples print their own verdicts.
    let verdict = match prog {
        "ring" => Some(format!("ring: OK, {NP} PEs, 3 laps")),
        "histogram" => Some("histogram: OK".to_string()),
        "pi" => Some(format!("(800000 darts on {NP} PEs")),
        _ => None,
    };
    if let Some(v) = verdict {
        assert!(text.contains(&v), "no {v:?}\n{}", r.show());
        return;
    }
    for pe in 0..NP {
        let want = if prog == "hello" {
            format!("PE {pe} of {NP}")
        } else {
            format!("{prog}: PE {pe} of {NP} OK")
        };
        assert_eq!(
            text.lines().filter(|l| l.trim() == want).count(),
            1,
            "expected exactly one line {want:?}\n{}",
            r.show()
        );
    }
    let jobs: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("JOB "))
        .map(|j| format!("rshmem-{}-", j.trim()))
        .collect();
    let left: Vec<String> = shm_objects()
        .into_iter()
        .filter(|n| jobs.iter().any(|p| n.starts_with(p)))
        .collect();
    assert!(left.is_empty(), "left in /dev/shm: {left:?}\n{}", r.show());
}

fn program(bin: &str) -> PathBuf {
    match bin {
        "rma" => PathBuf::from(env!("CARGO_BIN_EXE_rma")),
        "amo" => PathBuf::from(env!("CARGO_BIN_EXE_amo")),
        "signal" => PathBuf::from(env!("CARGO_BIN_EXE_signal")),
        "lock" => PathBuf::from(env!("CARGO_BIN_EXE_lock")),
        "fail" => PathBuf::from(env!("CARGO_BIN_EXE_fail")),
        "exits" => PathBuf::from(env!("CARGO_BIN_EXE_exits")),
        "barrier" => PathBuf::from(env!("CARGO_BIN_EXE_barrier")),
        "coll_check" => PathBuf::from(env!("CARGO_BIN_EXE_coll_check")),
        "coll_teams" => PathBuf::from(env!("CARGO_BIN_EXE_coll_teams")),
        "coll_barrier" => PathBuf::from(env!("CARGO_BIN_EXE_coll_barrier")),
        other => workspace_bin(other),
    }
}

fn srun(test: &str, mpi: &str, bin: &str, args: &[&str]) {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if !slurm(test) {
        return;
    }
    let mpi_arg = format!("--mpi={mpi}");
    let np = NP.to_string();
    let r = run(
        &[
            "srun",
            "--immediate=10",
            "--kill-on-bad-exit=1",
            &mpi_arg,
            "-n",
            &np,
        ],
        &program(bin),
        args,
        &[("SHMEM_INFO", "1")],
    );
    check(&r, bin);
    // PE 0 says which bootstrap it used (SHMEM_INFO=1).
    let want = format!("bootstrap {mpi},");
    assert!(
        r.stdout().contains(&want) || r.stderr().contains(&want),
        "PE 0 did not report {want:?}\n{}",
        r.show()
    );
}

fn mpirun(test: &str, bin: &str, args: &[&str]) {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if !available(
        test,
        &["mpirun.openmpi"],
        "apt-get install openmpi-bin libpmix2",
    ) {
        return;
    }
    let np = NP.to_string();
    let r = run(
        &["mpirun.openmpi", "--oversubscribe", "-np", &np],
        &program(bin),
        args,
        &[
            ("OMPI_ALLOW_RUN_AS_ROOT", "1"),
            ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
            ("OMPI_MCA_oob_tcp_if_include", "lo"),
            ("OMPI_MCA_btl_tcp_if_include", "lo"),
            ("OMPI_MCA_rmaps_base_oversubscribe", "1"),
            ("SHMEM_INFO", "1"),
        ],
    );
    check(&r, bin);
    assert!(
        r.stdout().contains("bootstrap pmix,") || r.stderr().contains("bootstrap pmix,"),
        "PE 0 did not report bootstrap pmix\n{}",
        r.show()
    );
}

macro_rules! launcher_tests {
    ($($name:ident: $kind:ident $($mpi:literal)?, $bin:literal, [$($a:literal),*];)*) => {$(
        #[test]
        fn $name() {
            launcher_tests!(@call $kind, stringify!($name), [$($mpi)?], $bin, &[$($a),*]);
        }
    )*};
    (@call srun, $test:expr, [$mpi:literal], $bin:expr, $args:expr) => { srun($test, $mpi, $bin, $args) };
    (@call mpirun, $test:expr, [], $bin:expr, $args:expr) => { mpirun($test, $bin, $args) };
}

launcher_tests! {
    srun_pmi2_rma: srun "pmi2", "rma", [];
    srun_pmi2_atomics: srun "pmi2", "amo", ["all"];
    srun_pmi2_signal: srun "pmi2", "signal", [];
    srun_pmi2_locks: srun "pmi2", "lock", ["500"];
    srun_pmi2_hello: srun "pmi2", "hello", [];
    srun_pmi2_ring: srun "pmi2", "ring", ["3"];
    srun_pmi2_histogram: srun "pmi2", "histogram", ["20000", "8"];
    srun_pmi2_pi: srun "pmi2", "pi", ["200000"];
    srun_pmi2_barrier: srun "pmi2", "barrier", ["500"];
    srun_pmi2_collectives: srun "pmi2", "coll_check", ["0,1,1000", "all"];
    srun_pmi2_teams: srun "pmi2", "coll_teams", ["100"];
    srun_pmi2_team_barriers: srun "pmi2", "coll_barrier", ["2000"];
    srun_pmix_rma: srun "pmix", "rma", [];
    srun_pmix_atomics: srun "pmix", "amo", ["all"];
    srun_pmix_signal: srun "pmix", "signal", [];
    srun_pmix_locks: srun "pmix", "lock", ["500"];
    srun_pmix_hello: srun "pmix", "hello", [];
    srun_pmix_ring: srun "pmix", "ring", ["3"];
    srun_pmix_histogram: srun "pmix", "histogram", ["20000", "8"];
    srun_pmix_pi: srun "pmix", "pi", ["200000"];
    srun_pmix_barrier: srun "pmix", "barrier", ["500"];
    srun_pmix_collectives: srun "pmix", "coll_check", ["0,1,1000", "all"];
    srun_pmix_teams: srun "pmix", "coll_teams", ["100"];
    srun_pmix_team_barriers: srun "pmix", "coll_barrier", ["2000"];
    mpirun_rma: mpirun, "rma", [];
    mpirun_atomics: mpirun, "amo", ["all"];
    mpirun_signal: mpirun, "signal", [];
    mpirun_locks: mpirun, "lock", ["500"];
    mpirun_hello: mpirun, "hello", [];
    mpirun_ring: mpirun, "ring", ["3"];
    mpirun_histogram: mpirun, "histogram", ["20000", "8"];
    mpirun_pi: mpirun, "pi", ["200000"];
    mpirun_barrier: mpirun, "barrier", ["500"];
    mpirun_collectives: mpirun, "coll_check", ["0,1,1000", "all"];
    mpirun_teams: mpirun, "coll_teams", ["100"];
    mpirun_team_barriers: mpirun, "coll_barrier", ["2000"];
}

/// `RSHMEM_BOOTSTRAP=pmi1` with nothing listening at `PMI_PORT`: fails within the 2 s
/// `RSHMEM_BOOTSTRAP_TIMEOUT` (+1 s), naming the protocol and the address.
#[test]
fn unreachable_pmi_server_fails_within_timeout() {
    let r = run(
        &[],
        &program("rma"),
        &[],
        &[
            ("RSHMEM_BOOTSTRAP", "pmi1"),
            ("PMI_PORT", "127.0.0.1:1"),
            ("PMI_ID", "0"),
            ("RSHMEM_BOOTSTRAP_TIMEOUT", "2"),
        ],
    );
    assert!(!r.out.status.success(), "should fail\n{}", r.show());
    assert!(
        r.elapsed < Duration::from_secs(3) + Duration::from_millis(500),
        "took {:?}\n{}",
        r.elapsed,
        r.show()
    );
    let e = r.stderr();
    assert!(
        e.contains("pmi1") && e.contains("127.0.0.1:1") && e.contains("RSHMEM_BOOTSTRAP_TIMEOUT"),
        "message should name the protocol, the address and the variable\n{}",
        r.show()
    );
}

/// A forced protocol that cannot work says so: PMI-2 without `PMI_FD`, PMIx without a
/// server, an unknown name. Each fails fast with the protocol in the message.
#[test]
fn forced_protocols_that_cannot_work_say_so() {
    for (proto, needle) in [
        ("pmi2", "PMI_FD is not set"),
        ("pmix", "(pmix)"),
        ("pmi1", "neither PMI_FD nor PMI_PORT"),
        ("mpi", "cargo feature `mpi`"),
        ("nonsense", "not one of pmix, pmi2, pmi1, mpi, singleton"),
    ] {
        let r = run(
            &[],
            &program("rma"),
            &[],
            &[
                ("RSHMEM_BOOTSTRAP", proto),
                ("RSHMEM_BOOTSTRAP_TIMEOUT", "2"),
            ],
        );
        assert!(!r.out.status.success(), "should fail\n{}", r.show());
        assert!(r.elapsed < Duration::from_secs(5), "slow\n{}", r.show());
        assert!(
            r.stderr().contains(needle),
            "lacks {needle:?}\n{}",
            r.show()
        );
    }
    // And `singleton` forced works.
    let r = run(
        &[],
        &program("rma"),
        &[],
        &[("RSHMEM_BOOTSTRAP", "singleton")],
    );
    assert!(r.out.status.success(), "{}", r.show());
    assert!(r.stdout().contains("rma: PE 0 of 1 OK"), "{}", r.show());
}

/// The launchers of the failure tests.
#[derive(Clone, Copy, Debug)]
enum L {
    Rshmemrun,
    Hydra,
    Mpirun,
    Srun(&'static str),
}

/// What a failure test expects: the statuses the launcher may report and the text that
/// names the failed PE (3 of 4) in its output.
fn expect(l: L, mode: &str) -> (&'static [i32], String) {
    let ours = "rshmem: PE 3".to_string();
    match (l, mode) {
        (L::Rshmemrun, "sigkill") => (&[137], "PE 3 (pid".into()),
        // Hydra names a PID, and not necessarily the killed one (it reports the first
        // process it reaps after killing the rest): only its verdict can be checked.
        (L::Hydra, "sigkill") => (&[9], "EXIT CODE: 9".into()),
        (L::Mpirun, "sigkill") => (&[137], "rank 3".into()),
        // srun terminates the survivors with SIGTERM and reports the worst status.
        (L::Srun(_), "sigkill") => (&[137, 143], "task 3".into()),
        // Hydra kills whatever is left the moment one PE exits non-zero (SIGKILL, or SIGHUP
        // from its proxy) and reports that signal's number when a PE was still on its way
        // out, so its status is not always the PE's: usually 3 / 7, sometimes 9 or 1.
        (L::Hydra, "exit") => (&[3, 9, 1], ours),
        (L::Hydra, "global-exit") => (&[7, 9, 1], ours),
        (L::Hydra, "global-exit-3") => (&[3, 9, 1], ours),
        (_, "exit") => (&[3], ours),
        (_, "global-exit") => (&[7], ours),
        (_, "global-exit-3") => (&[3], ours),
        // Status 0 is a success for every launcher: nobody kills anybody, every PE leaves
        // the PMI connection cleanly, and the job must end 0.
        (_, "global-exit-0") => (&[0], ours),
        // PE 3 exits 0 without finalize while the others wait in barrier_all: the runtime
        // finds the job stuck and every PE exits 1 (Hydra may kill the last ones first).
        (L::Hydra, "exit0-barrier") => (&[1, 9], STUCK.into()),
        // srun may end the survivors with SIGTERM once the first PE has exited 1 and report
        // the worst status (seen once under load: 143).
        (L::Srun(_), "exit0-barrier") => (&[1, 143], STUCK.into()),
        (_, "exit0-barrier") => (&[1], STUCK.into()),
        _ => unreachable!("mode {mode}"),
    }
}

/// What the runtime says when a PE is in finalize while the others wait forever.
const STUCK: &str = "rshmem: PE 3: PE 3 is in shmem_finalize";

fn unix_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The command line and environment that start NP PEs under `l`; `None` (after a SKIPPED
/// notice) when `l` is not installed.
type Setup = (Vec<&'static str>, Vec<(&'static str, &'static str)>);

fn launcher_setup(test: &str, l: L) -> Option<Setup> {
    let np: &'static str = leak(NP.to_string());
    Some(match l {
        L::Rshmemrun => {
            let r = rshmemrun_path();
            (vec![leak(r), "-n", np], vec![])
        }
        L::Hydra => {
            if !available(test, &["mpiexec.hydra"], "apt-get install mpich") {
                return None;
            }
            (vec!["mpiexec.hydra", "-n", np], vec![])
        }
        L::Mpirun => {
            if !available(
                test,
                &["mpirun.openmpi"],
                "apt-get install openmpi-bin libpmix2",
            ) {
                return None;
            }
            (
                vec!["mpirun.openmpi", "--oversubscribe", "-np", np],
                vec![
                    ("OMPI_ALLOW_RUN_AS_ROOT", "1"),
                    ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                    ("OMPI_MCA_oob_tcp_if_include", "lo"),
                    ("OMPI_MCA_btl_tcp_if_include", "lo"),
                    ("OMPI_MCA_rmaps_base_oversubscribe", "1"),
                ],
            )
        }
        L::Srun(mpi) => {
            if !slurm(test) {
                return None;
            }
            (
                vec![
                    "srun",
                    "--immediate=10",
                    "--kill-on-bad-exit=1",
                    leak(format!("--mpi={mpi}")),
                    "-n",
                    np,
                ],
                vec![],
            )
        }
    })
}

fn failure(test: &str, l: L, mode: &str) {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let Some((launcher, env)) = launcher_setup(test, l) else {
        return;
    };
    let (prog, args): (&str, &[&str]) = match mode {
        "exit0-barrier" => ("exits", &["exit0-barrier"]),
        _ => ("fail", &[]),
    };
    let args: &[&str] = match mode {
        _ if prog == "exits" => args,
        "sigkill" => &["sigkill", "3"],
        "exit" => &["exit", "3"],
        "global-exit-0" => &["global-exit", "0"],
        "global-exit-3" => &["global-exit", "3"],
        _ => &["global-exit", "7"],
    };
    let r = run(&launcher, &program(prog), args, &env);
    let end = unix_ms();
    let (codes, names) = expect(l, mode);
    let code = r.out.status.code().unwrap_or(-1);
    assert!(
        codes.contains(&code),
        "{l:?} {mode}: status {code}, expected one of {codes:?}\n{}",
        r.show()
    );
    let out = r.stdout();
    let event: u128 = out
        .lines()
        .find_map(|l| l.strip_prefix("EVENT_MS "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no EVENT_MS line\n{}", r.show()));
    // A stuck job is declared so after 1.5 s without any change.
    let limit = if mode == "exit0-barrier" { 5000 } else { 2000 };
    assert!(
        end.saturating_sub(event) < limit,
        "{l:?} {mode}: the job ended {} ms after the event (limit {limit})\n{}",
        end.saturating_sub(event),
        r.show()
    );
    let all = format!("{out}{}", r.stderr());
    assert!(
        all.contains(&names),
        "{l:?} {mode}: no {names:?} naming the failed PE\n{}",
        r.show()
    );
    // No process left (give a launcher that returns before its daemon reaped them 2 s).
    let pids: Vec<u32> = out
        .lines()
        .filter_map(|l| l.strip_prefix("PID "))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect();
    assert_eq!(pids.len(), NP, "expected {NP} PID lines\n{}", r.show());
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let alive: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/stat"))
                    .is_ok_and(|s| !s.contains(") Z "))
            })
            .collect();
        if alive.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{l:?} {mode}: PEs still alive: {alive:?}\n{}",
            r.show()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let jobs: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("JOB "))
        .map(|j| format!("rshmem-{}-", j.trim()))
        .collect();
    assert_eq!(jobs.len(), 1, "PE 0 names its job\n{}", r.show());
    let left: Vec<String> = shm_objects()
        .into_iter()
        .filter(|n| jobs.iter().any(|p| n.starts_with(p)))
        .collect();
    assert!(left.is_empty(), "left in /dev/shm: {left:?}\n{}", r.show());
}

fn rshmemrun_path() -> String {
    workspace_bin("rshmemrun").display().to_string()
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

macro_rules! failure_tests {
    ($($name:ident: $l:expr, $mode:literal;)*) => {$(
        #[test]
        fn $name() {
            failure(stringify!($name), $l, $mode);
        }
    )*};
}

failure_tests! {
    fail_rshmemrun_sigkill: L::Rshmemrun, "sigkill";
    fail_rshmemrun_exit: L::Rshmemrun, "exit";
    fail_rshmemrun_global_exit: L::Rshmemrun, "global-exit";
    fail_hydra_sigkill: L::Hydra, "sigkill";
    fail_hydra_exit: L::Hydra, "exit";
    fail_hydra_global_exit: L::Hydra, "global-exit";
    fail_mpirun_sigkill: L::Mpirun, "sigkill";
    fail_mpirun_exit: L::Mpirun, "exit";
    fail_mpirun_global_exit: L::Mpirun, "global-exit";
    fail_srun_pmi2_sigkill: L::Srun("pmi2"), "sigkill";
    fail_srun_pmi2_exit: L::Srun("pmi2"), "exit";
    fail_srun_pmi2_global_exit: L::Srun("pmi2"), "global-exit";
    fail_srun_pmix_sigkill: L::Srun("pmix"), "sigkill";
    fail_srun_pmix_exit: L::Srun("pmix"), "exit";
    fail_srun_pmix_global_exit: L::Srun("pmix"), "global-exit";
    global_exit_0_rshmemrun: L::Rshmemrun, "global-exit-0";
    global_exit_3_rshmemrun: L::Rshmemrun, "global-exit-3";
    global_exit_0_hydra: L::Hydra, "global-exit-0";
    global_exit_3_hydra: L::Hydra, "global-exit-3";
    global_exit_0_mpirun: L::Mpirun, "global-exit-0";
    global_exit_3_mpirun: L::Mpirun, "global-exit-3";
    global_exit_0_srun_pmi2: L::Srun("pmi2"), "global-exit-0";
    global_exit_3_srun_pmi2: L::Srun("pmi2"), "global-exit-3";
    global_exit_0_srun_pmix: L::Srun("pmix"), "global-exit-0";
    global_exit_3_srun_pmix: L::Srun("pmix"), "global-exit-3";
    exit0_no_finalize_rshmemrun: L::Rshmemrun, "exit0-barrier";
    exit0_no_finalize_hydra: L::Hydra, "exit0-barrier";
    exit0_no_finalize_mpirun: L::Mpirun, "exit0-barrier";
    exit0_no_finalize_srun_pmi2: L::Srun("pmi2"), "exit0-barrier";
    exit0_no_finalize_srun_pmix: L::Srun("pmix"), "exit0-barrier";
}
