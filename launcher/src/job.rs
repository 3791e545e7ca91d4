//! Running one job: spawning the PEs, serving PMI, supervising them and
//! tearing everything down.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::bind::{Binding, Layout};
use crate::cli::{resolve_program, BindTo, Cli, Export, ProgramError};
use crate::output::forward_tagged;
use crate::pmi::{PeState, PmiServer, ServerEvent};
use crate::secure::sweep_shm;

mod exit;
mod spawn;
pub mod state;
mod tcp;
pub use exit::{signal_name, PeExit};
use spawn::{remote_setup, Spawner};
use state::{Action, Event, JobState, PmiView};
pub use state::{EXIT_NOT_EXECUTABLE, EXIT_TIMEOUT, KILL_GRACE};
use tcp::{serve_tcp, TcpSocks};

/// Value of `RSHMEM_LAUNCHER` in the PEs' environment.
pub const LAUNCHER_NAME: &str = "rshmemrun";

/// How long to wait for `--tag-output` pipes to drain after the last PE died.
const OUTPUT_DRAIN: Duration = Duration::from_secs(1);

/// Environment variable that carries the TCP PMI server's secret to the PEs.
pub const SECRET_VAR: &str = "RSHMEM_PMI_SECRET";

/// Creates a fresh kvsname: `rshmemrun-<pid>-<start>-<boot>-<8 random hex digits>`
/// (see [`crate::secure`]: it tells whether this launcher is still alive).
pub fn new_kvsname() -> String {
    let mut b = [0u8; 4];
    let r = if getrandom::getrandom(&mut b).is_ok() {
        u32::from_ne_bytes(b)
    } else {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ d.as_secs() as u32)
            .unwrap_or(0);
        t.wrapping_mul(2_654_435_761)
    };
    crate::secure::job_id(std::process::id(), r)
}

/// What the driver waits for: the reaper, the PMI server and the signal thread send these.
enum Msg {
    Exited { pid: i32, status: i32 },
    Pmi(ServerEvent),
    Signal(i32),
}

impl PmiView for PmiServer {
    fn pe_state(&self, pe: usize) -> PeState {
        PmiServer::pe_state(self, pe)
    }

    fn exit_request(&self, pe: usize) -> Option<i32> {
        self.lookup(&format!("rshmem-exit-{pe}"))?
            .trim()
            .parse()
            .ok()
    }
}

/// Runs the job described by `cli` and returns the launcher's exit status.
pub fn run(cli: Cli) -> i32 {
    let np = cli.np;

    let program = match resolve_program(&cli.program) {
        Ok(p) => p,
        Err(e) => {
            let name = cli.program.to_string_lossy();
            match e {
                ProgramError::NotFound => {
                    eprintln!("rshmemrun: {name}: command not found")
                }
                ProgramError::NotExecutable => {
                    eprintln!(
                        "rshmemrun: {name}: not executable (permission denied or a directory)"
                    )
                }
            }
            return EXIT_NOT_EXECUTABLE;
        }
    };

    // Environment additions from -x.
    let mut extra_env: Vec<(OsString, OsString)> = Vec::new();
    for x in &cli.export {
        match x {
            Export::Set(k, v) => extra_env.push((k.into(), v.into())),
            Export::Forward(k) => match std::env::var_os(k) {
                Some(v) => extra_env.push((k.into(), v)),
                None => eprintln!("rshmemrun: warning: -x {k}: {k} is not set; not exported"),
            },
        }
    }

    // Several hosts: placement, PMI over TCP, the launch agent.
    let remote = match remote_setup(&cli, np) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rshmemrun: {e}");
            return 2;
        }
    };

    // Binding (this node only).
    let layout = if cli.bind_to == Some(BindTo::None) || remote.is_some() {
        None
    } else {
        match Layout::discover() {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("rshmemrun: warning: {e}; running the PEs unbound");
                None
            }
        }
    };
    let policy = match &layout {
        Some(l) => cli.effective_bind_to(l.ncores()),
        None => BindTo::None,
    };
    let bindings: Vec<Option<Binding>> = (0..np)
        .map(|i| layout.as_ref().and_then(|l| l.binding_for(i, policy)))
        .collect();

    let kvsname = new_kvsname();
    // Objects of earlier jobs whose launcher was killed before it could remove them, and
    // the janitor that removes this job's if this launcher is killed.
    crate::secure::sweep_stale(Path::new("/dev/shm"));
    let _janitor = match crate::secure::spawn_janitor(&kvsname) {
        Ok(j) => Some(j),
        Err(e) => {
            eprintln!("rshmemrun: warning: cannot start the /dev/shm janitor: {e}");
            None
        }
    };
    // The TCP PMI server's secret (128 bits), handed to the PEs through the launch agent's
    // environment or, for ssh, its stdin (never a command line).
    let secret = match &remote {
        None => None,
        Some(_) => match crate::pmi::server::new_secret() {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("rshmemrun: cannot make the PMI secret: {e}");
                return 1;
            }
        },
    };
    let (tx, rx) = mpsc::channel::<Msg>();

    // Signals: registered before any PE exists so none is missed.
    let signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ]);
    match signals {
        Ok(mut signals) => {
            let tx = tx.clone();
            thread::Builder::new()
                .name("signals".into())
                .spawn(move || {
                    for sig in signals.forever() {
                        if tx.send(Msg::Signal(sig)).is_err() {
                            break;
                        }
                    }
                })
                .expect("spawn signal thread");
        }
        Err(e) => eprintln!("rshmemrun: warning: cannot install signal handlers: {e}"),
    }

    let server = {
        let tx = tx.clone();
        let mut s = PmiServer::new(kvsname.clone(), np, move |e| {
            let _ = tx.send(Msg::Pmi(e));
        });
        if let Some(r) = &remote {
            s.set_process_mapping(rshmem_pmi::ProcessMapping::from_placement(&r.placement));
        }
        if let Some(secret) = &secret {
            s.set_secret(secret.clone());
        }
        Arc::new(s)
    };
    // PMI over TCP for --hosts: every connection says who it is with `initack pmiid=`.
    let tcp_socks: TcpSocks = Arc::default();
    let pmi_port = match &remote {
        None => None,
        Some(r) => match serve_tcp(&server, &tcp_socks, r.pmi_addr.parse().expect("checked")) {
            Ok(port) => Some(format!("{}:{port}", r.pmi_addr)),
            Err(e) => {
                eprintln!(
                    "rshmemrun: cannot listen for PMI connections over TCP on {}: {e} (--pmi-addr must be an address of this machine that the hosts reach)",
                    r.pmi_addr
                );
                return 1;
            }
        },
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));

    // SAFETY: isatty on fd 0 is always safe.
    let stdin_is_tty = unsafe { libc::isatty(0) } == 1;
    // SAFETY: getpid cannot fail.
    let my_pid = unsafe { libc::getpid() };

    let spawner = Spawner {
        cli: &cli,
        program: &program,
        extra_env: &extra_env,
        remote: &remote,
        pmi_port: &pmi_port,
        kvsname: &kvsname,
        secret: &secret,
        cwd: &cwd,
        stdin_is_tty,
        my_pid,
        server: &server,
    };

    let (out_tx, out_rx) = mpsc::channel::<()>();
    let mut out_threads = 0usize;

    let mut job = JobState::new(np, cli.timeout);
    // Parent ends of the PMI sockets, kept to shut them down at the end.
    let mut pmi_socks: Vec<UnixStream> = Vec::with_capacity(np);

    for (rank, binding) in bindings.iter().enumerate() {
        let spawned = spawner.spawn(rank, binding, &mut pmi_socks);

        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                let name = cli.program.to_string_lossy();
                let failed = Event::SpawnFailed {
                    pe: rank,
                    program: name.into_owned(),
                    error: e.to_string(),
                    eacces: e.raw_os_error() == Some(libc::EACCES),
                };
                let status = perform(job.on_event(Duration::ZERO, failed, &*server));
                for pid in job.pids() {
                    let mut st = 0;
                    // SAFETY: reaping our own child.
                    unsafe { libc::waitpid(pid, &mut st, 0) };
                }
                for s in &pmi_socks {
                    let _ = s.shutdown(std::net::Shutdown::Both);
                }
                sweep_shm(Path::new("/dev/shm"), &kvsname);
                return status.unwrap_or(EXIT_NOT_EXECUTABLE);
            }
        };
        let pid = child.id() as i32;

        // Every PE's output is forwarded line by line, each line in one write: lines of
        // several PEs never interleave mid-line, even when a PE writes a line in pieces.
        // `--tag-output` prefixes them with `[pe] `.
        {
            let prefix = if cli.tag_output {
                format!("[{rank}] ")
            } else {
                String::new()
            };
            if let Some(out) = child.stdout.take() {
                let p = prefix.clone();
                let done = out_tx.clone();
                out_threads += 1;
                thread::spawn(move || {
                    let _ = forward_tagged(out, &p, || io::stdout().lock());
                    let _ = done.send(());
                });
            }
            if let Some(err) = child.stderr.take() {
                let done = out_tx.clone();
                out_threads += 1;
                thread::spawn(move || {
                    let _ = forward_tagged(err, &prefix, || io::stderr().lock());
                    let _ = done.send(());
                });
            }
        }
        // `child` is dropped without waiting: the waiter thread reaps it.
        drop(child);

        if cli.report_bindings {
            match binding {
                Some(b) => eprintln!("rshmemrun: PE {rank} (pid {pid}) bound to {b}"),
                None => eprintln!("rshmemrun: PE {rank} (pid {pid}) not bound"),
            }
        }
        job.on_event(Duration::ZERO, Event::Spawned { pe: rank, pid }, &*server);
    }
    drop(out_tx);

    // Reaper: blocks in waitpid until there are no children left.
    {
        let tx = tx.clone();
        thread::Builder::new()
            .name("reaper".into())
            .spawn(move || loop {
                let mut st = 0;
                // SAFETY: plain waitpid on our own children.
                let pid = unsafe { libc::waitpid(-1, &mut st, 0) };
                if pid > 0 {
                    if tx.send(Msg::Exited { pid, status: st }).is_err() {
                        break;
                    }
                } else if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    break; // ECHILD: nothing left to wait for
                }
            })
            .expect("spawn reaper thread");
    }
    drop(tx);

    // Supervision: every message becomes an event of the state machine (time counted from
    // here), whose actions are carried out until it finishes.
    let started = Instant::now();
    let status = loop {
        let msg = match job.next_deadline() {
            Some(t) => rx.recv_timeout(t.saturating_sub(started.elapsed())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let ev = match msg {
            Ok(Msg::Exited { pid, status }) => match job.pe_of_pid(pid) {
                Some(pe) => Event::Exited {
                    pe,
                    exit: PeExit::from_wait_status(status),
                },
                None => Event::Tick,
            },
            Ok(Msg::Pmi(ServerEvent::Abort { rank, code })) => Event::PmiAbort { pe: rank, code },
            Ok(Msg::Pmi(ServerEvent::Closed(pe))) => Event::PmiClosed { pe },
            Ok(Msg::Pmi(_)) | Err(RecvTimeoutError::Timeout) => Event::Tick,
            Ok(Msg::Signal(sig)) => Event::Signal(sig),
            Err(RecvTimeoutError::Disconnected) => Event::SourcesGone,
        };
        if let Some(status) = perform(job.on_event(started.elapsed(), ev, &*server)) {
            break status;
        }
    };

    // Unblock the PMI threads (e.g. one still waiting for a dead PE).
    for s in &pmi_socks {
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
    for c in tcp_socks.lock().unwrap_or_else(|e| e.into_inner()).values() {
        let _ = c.stream.shutdown(std::net::Shutdown::Both);
    }
    sweep_shm(Path::new("/dev/shm"), &kvsname);
    let refused = server.refused();
    if refused > 0 {
        eprintln!(
            "rshmemrun: refused {refused} PMI connection(s) that did not prove the job's secret (none, wrong, another request first, closed or silent), claimed a rank twice or exceeded the connection limit"
        );
    }

    // Let the output forwarders drain what the PEs wrote.
    let drain_until = Instant::now() + OUTPUT_DRAIN;
    for _ in 0..out_threads {
        let left = drain_until.saturating_duration_since(Instant::now());
        if out_rx.recv_timeout(left).is_err() {
            break;
        }
    }
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();

    status
}

/// Carries out the state machine's actions; returns the status of [`Action::Finish`].
fn perform(actions: Vec<Action>) -> Option<i32> {
    let mut finish = None;
    for a in actions {
        match a {
            Action::Report(m) => eprintln!("rshmemrun: {m}"),
            Action::Kill { sig, groups } => {
                for g in groups {
                    // SAFETY: plain syscall; ESRCH (group gone) is ignored.
                    unsafe { libc::kill(-g, sig) };
                }
            }
            Action::Finish { status } => finish = Some(status),
        }
    }
    finish
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvsname_format() {
        let k = new_kvsname();
        assert!(k.starts_with(&format!("rshmemrun-{}-", std::process::id())));
        let hex = k.rsplit('-').next().unwrap();
        assert_eq!(hex.len(), 8);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(new_kvsname(), new_kvsname());
    }

    #[test]
    fn exit_decoding() {
        // Exit status 3 is encoded as 3 << 8; SIGKILL as 9.
        assert_eq!(PeExit::from_wait_status(3 << 8), PeExit::Code(3));
        assert_eq!(PeExit::from_wait_status(3 << 8).shell_status(), 3);
        let k = PeExit::from_wait_status(9);
        assert_eq!(
            k,
            PeExit::Signal {
                sig: 9,
                core: false
            }
        );
        assert_eq!(k.shell_status(), 137);
        assert_eq!(k.describe(), "was killed by signal 9 (SIGKILL)");
        assert_eq!(PeExit::Code(2).describe(), "exited with status 2");
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(77), "SIG77");
    }

    #[test]
    fn shm_sweep() {
        let dir = std::env::temp_dir().join(format!("rshmem-sweep-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in ["rshmem-K1-0-a", "rshmem-K1-3-b", "rshmem-K10-0-a", "other"] {
            std::fs::write(dir.join(n), b"x").unwrap();
        }
        let mut removed: Vec<String> = sweep_shm(&dir, "K1")
            .into_iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        removed.sort();
        assert_eq!(removed, ["rshmem-K1-0-a", "rshmem-K1-3-b"]);
        assert!(dir.join("rshmem-K10-0-a").exists());
        assert!(dir.join("other").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
