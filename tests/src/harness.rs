//! The test side: launch PE programs through the real launchers and check what happened.
//!
//! Every launch is bounded twice: the launcher's own limit (`rshmemrun --timeout N`, or
//! `timeout N mpiexec.hydra ...`) and a hard limit in this harness a few seconds later, past
//! which the launcher is killed and the test fails. After every job the harness asserts
//! that no `/dev/shm/rshmem-<job>-*` object of that job is left (the job is identified by
//! the launcher's pid for `rshmemrun`, and by the `JOB <name>` line PE 0 prints, see
//! [`crate::pe::announce_job`]).
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Seconds the harness waits beyond the launcher's own timeout before killing it.
const HARD_MARGIN: Duration = Duration::from_secs(15);
/// How long output pipes may stay open after the launcher exited (PEs still alive?).
const PIPE_GRACE: Duration = Duration::from_secs(5);

/// The target directory of this build (`target/debug`), found from the running test
/// executable (`target/debug/deps/<test>-<hash>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe
        .parent()
        .expect("test executable has a directory")
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

/// A program built by another package of the workspace (`rshmemrun`, the examples), next to
/// this test's target directory. Panics with the command to run if it was not built.
pub fn workspace_bin(name: &str) -> PathBuf {
    let p = target_dir().join(name);
    assert!(
        p.is_file(),
        "{} not found: these tests launch jobs with the real launcher and examples of the \
         workspace; run `cargo build --workspace` (same profile) first, then `cargo test -p rshmem-tests`",
        p.display()
    );
    p
}

/// Path of `rshmemrun`.
pub fn rshmemrun() -> PathBuf {
    workspace_bin("rshmemrun")
}

/// How a job is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Launcher {
    /// `rshmemrun --timeout T -n N program args`.
    Rshmemrun,
    /// `timeout T mpiexec.hydra [-pmi-port] -n N program args`.
    Hydra {
        /// Use `-pmi-port` (PMI over TCP: `PMI_PORT`/`PMI_ID`) instead of `PMI_FD`.
        pmi_port: bool,
    },
    /// The program alone, no launcher (singleton start), under `timeout T`.
    Direct,
}

/// A job to run.
#[derive(Clone, Debug)]
pub struct Job {
    launcher: Launcher,
    program: PathBuf,
    np: usize,
    timeout: Duration,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// A job of `np` PEs of `program`, launched with `rshmemrun`, 20 s timeout.
pub fn job(program: impl AsRef<Path>, np: usize) -> Job {
    Job {
        launcher: Launcher::Rshmemrun,
        program: program.as_ref().to_path_buf(),
        np,
        timeout: Duration::from_secs(20),
        args: Vec::new(),
        env: Vec::new(),
    }
}

/// Variables of the test's own environment that would change what a PE does.
const SCRUBBED_ENV: &[&str] = &[
    "SHMEM_SYMMETRIC_SIZE",
    "SMA_SYMMETRIC_SIZE",
    "SHMEM_DEBUG",
    "SMA_DEBUG",
    "SHMEM_INFO",
    "SMA_INFO",
    "SHMEM_VERSION",
    "SMA_VERSION",
    "PMI_FD",
    "PMI_PORT",
    "PMI_ID",
    "PMI_RANK",
    "PMI_SIZE",
    "PMI_JOBID",
    // Panic messages name the PE and the check; backtraces of 8 PEs would drown them.
    "RUST_BACKTRACE",
];

impl Job {
    /// Uses another launcher.
    pub fn launcher(mut self, l: Launcher) -> Self {
        self.launcher = l;
        self
    }
    /// Adds one program argument.
    pub fn arg(mut self, a: impl ToString) -> Self {
        self.args.push(a.to_string());
        self
    }
    /// Adds program arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: ToString,
    {
        self.args.extend(args.into_iter().map(|a| a.to_string()));
        self
    }
    /// Sets a variable in the PEs' environment.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    /// The launcher's timeout (seconds).
    pub fn timeout_secs(mut self, secs: u64) -> Self {
        self.timeout = Duration::from_secs(secs);
        self
    }

    fn command(&self) -> Command {
        let secs = format!("{}", self.timeout.as_secs_f64());
        let mut c = match self.launcher {
            Launcher::Rshmemrun => {
                let mut c = Command::new(rshmemrun());
                c.args(["--timeout", &secs, "-n", &self.np.to_string()]);
                c.arg(&self.program);
                c
            }
            Launcher::Hydra { pmi_port } => {
                let mut c = Command::new("timeout");
                c.args(["-k", "3", &secs, "mpiexec.hydra"]);
                if pmi_port {
                    c.arg("-pmi-port");
                }
                c.args(["-n", &self.np.to_string()]);
                c.arg(&self.program);
                c
            }
            Launcher::Direct => {
                assert_eq!(self.np, 1, "a direct (singleton) start has one PE");
                let mut c = Command::new("timeout");
                c.args(["-k", "3", &secs]);
                c.arg(&self.program);
                c
            }
        };
        c.args(&self.args);
        for v in SCRUBBED_ENV {
            c.env_remove(v);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs the job to completion and checks that it left nothing in `/dev/shm`.
    pub fn run(&self) -> Run {
        let mut cmd = self.command();
        let cmdline = format!("{cmd:?}");
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmdline}: {e}"));
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        spawn_reader(child.stdout.take(), Stream::Out, start, tx.clone());
        spawn_reader(child.stderr.take(), Stream::Err, start, tx);
        let hard = self.timeout + HARD_MARGIN;
        let status = loop {
            if let Some(st) = child.try_wait().expect("try_wait") {
                break st;
            }
            if start.elapsed() > hard {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{cmdline} did not end within {hard:?} although its own timeout is {:?}",
                    self.timeout
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        let elapsed = start.elapsed();
        let mut run = Run {
            cmdline,
            status,
            elapsed,
            launcher_pid: pid,
            stdout: Vec::new(),
            stderr: Vec::new(),
            pipes_open: false,
        };
        let deadline = Instant::now() + PIPE_GRACE;
        let mut eofs = 0;
        while eofs < 2 {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Msg::Line(Stream::Out, t, l)) => run.stdout.push((t, l)),
                Ok(Msg::Line(Stream::Err, t, l)) => run.stderr.push((t, l)),
                Ok(Msg::Eof) => eofs += 1,
                Err(_) => {
                    run.pipes_open = true;
                    break;
                }
            }
        }
        assert!(
            !run.pipes_open,
            "the output pipes were still open {PIPE_GRACE:?} after the launcher exited: some PE process survived the job\n{run}"
        );
        let left = run.leftover_shm(self.launcher == Launcher::Rshmemrun);
        assert!(
            left.is_empty(),
            "shared-memory objects left behind by the job: {left:?}\n{run}"
        );
        run
    }
}

#[derive(Clone, Copy, Debug)]
enum Stream {
    Out,
    Err,
}

enum Msg {
    Line(Stream, Duration, String),
    Eof,
}

fn spawn_reader<R: Read + Send + 'static>(
    r: Option<R>,
    which: Stream,
    start: Instant,
    tx: mpsc::Sender<Msg>,
) {
    thread::spawn(move || {
        if let Some(r) = r {
            let mut r = BufReader::new(r);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf)
                            .trim_end_matches('\n')
                            .to_string();
                        if tx.send(Msg::Line(which, start.elapsed(), line)).is_err() {
                            return;
                        }
                    }
                }
            }
        }
        let _ = tx.send(Msg::Eof);
    });
}

/// A finished job.
pub struct Run {
    /// The command that ran.
    pub cmdline: String,
    /// The launcher's exit status.
    pub status: ExitStatus,
    /// Time from spawning the launcher to its exit.
    pub elapsed: Duration,
    /// Pid of the launcher (or of `timeout`).
    pub launcher_pid: u32,
    /// Lines of standard output with their arrival time (since the launch).
    pub stdout: Vec<(Duration, String)>,
    /// Lines of standard error with their arrival time.
    pub stderr: Vec<(Duration, String)>,
    pipes_open: bool,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--- job: {}", self.cmdline)?;
        writeln!(f, "--- status: {:?} after {:?}", self.status, self.elapsed)?;
        let show = |f: &mut fmt::Formatter<'_>, name: &str, v: &[(Duration, String)]| {
            writeln!(f, "--- {name} ({} lines):", v.len())?;
            let skip = v.len().saturating_sub(60);
            if skip > 0 {
                writeln!(f, "[... {skip} earlier lines ...]")?;
            }
            for (t, l) in &v[skip..] {
                writeln!(f, "[{:>8.3}s] {l}", t.as_secs_f64())?;
            }
            Ok(())
        };
        show(f, "stdout", &self.stdout)?;
        show(f, "stderr", &self.stderr)
    }
}

impl Run {
    /// The launcher's exit code (`None` if it was killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Standard output as one string.
    pub fn stdout_text(&self) -> String {
        self.stdout.iter().map(|(_, l)| format!("{l}\n")).collect()
    }

    /// Standard error as one string.
    pub fn stderr_text(&self) -> String {
        self.stderr.iter().map(|(_, l)| format!("{l}\n")).collect()
    }

    /// Asserts exit code `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "unexpected exit status\n{self}");
        self
    }

    /// Asserts success (exit 0).
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        self.assert_code(0)
    }

    /// Asserts a non-zero exit code.
    #[track_caller]
    pub fn assert_failed(&self) -> &Self {
        assert!(
            matches!(self.code(), Some(c) if c != 0),
            "the job should have failed with a non-zero exit code\n{self}"
        );
        self
    }

    /// Asserts that standard error contains every one of `needles`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needles: &[&str]) -> &Self {
        let text = self.stderr_text();
        for n in needles {
            assert!(text.contains(n), "stderr lacks {n:?}\n{self}");
        }
        self
    }

    /// Asserts that standard output contains every one of `needles`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, needles: &[&str]) -> &Self {
        let text = self.stdout_text();
        for n in needles {
            assert!(text.contains(n), "stdout lacks {n:?}\n{self}");
        }
        self
    }

    /// Asserts that every one of the `np` PEs printed `<prog>: PE <i> of <np> OK` (the line
    /// [`crate::pe::ok`] prints as the program's very last step).
    #[track_caller]
    pub fn assert_all_ok(&self, prog: &str, np: usize) -> &Self {
        self.assert_ok();
        let text = self.stdout_text();
        for pe in 0..np {
            let want = format!("{prog}: PE {pe} of {np} OK");
            assert_eq!(
                text.lines().filter(|l| *l == want).count(),
                1,
                "expected exactly one line {want:?}\n{self}"
            );
        }
        self
    }

    /// The rest of every stdout line starting with `prefix`.
    pub fn values(&self, prefix: &str) -> Vec<String> {
        self.stdout
            .iter()
            .filter_map(|(_, l)| l.strip_prefix(prefix).map(|s| s.trim().to_string()))
            .collect()
    }

    /// Arrival time of the first stdout line containing `needle`.
    pub fn time_of(&self, needle: &str) -> Option<Duration> {
        self.stdout
            .iter()
            .find(|(_, l)| l.contains(needle))
            .map(|(t, _)| *t)
    }

    /// `/dev/shm` objects of this job: `rshmem-rshmemrun-<launcher pid>-*` (when launched by
    /// `rshmemrun`) and `rshmem-<job>-*` for every `JOB <job>` line.
    pub fn leftover_shm(&self, by_launcher_pid: bool) -> Vec<String> {
        let mut prefixes: Vec<String> = self
            .values("JOB ")
            .into_iter()
            .map(|j| format!("rshmem-{j}-"))
            .collect();
        if by_launcher_pid {
            prefixes.push(format!("rshmem-rshmemrun-{}-", self.launcher_pid));
        }
        shm_objects()
            .into_iter()
            .filter(|n| prefixes.iter().any(|p| n.starts_with(p)))
            .collect()
    }
}

/// Names of the `rshmem-*` objects in `/dev/shm`.
pub fn shm_objects() -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("rshmem-"))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
pub fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => {
            let state = s.rsplit(')').next().unwrap_or("").trim_start();
            state.starts_with('Z') || state.starts_with('X')
        }
    }
}

/// The pids among `pids` still alive after waiting up to `limit` for them to go.
pub fn still_alive(pids: &[u32], limit: Duration) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|&p| !is_gone(p)).collect();
        if alive.is_empty() || start.elapsed() > limit {
            return alive;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether MPICH's `mpiexec.hydra` is on the PATH. When it is not: panics if the `CI`
/// variable is set (CI must install mpich), otherwise prints a skip notice and returns false.
pub fn hydra_available(test: &str) -> bool {
    let found = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| d.join("mpiexec.hydra").is_file())
    });
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "mpiexec.hydra is not installed but CI is set: install mpich (apt-get install mpich)"
        );
        notice(&format!(
            "SKIPPED {test}: mpiexec.hydra not found (install mpich to run it)"
        ));
    }
    found
}

/// Writes a line straight to the process's stderr, past libtest's output capture, so that
/// it shows even for passing tests.
pub fn notice(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// PE counts a test runs with: 1, 2, 4 and 8.
pub const PES: [usize; 4] = [1, 2, 4, 8];
