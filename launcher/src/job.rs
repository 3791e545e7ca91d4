//! Running one job: spawning the PEs, serving PMI, supervising them and
//! tearing everything down.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::bind::{Binding, Layout};
use crate::cli::{resolve_program, BindTo, Cli, Export, ProgramError};
use crate::output::forward_tagged;
use crate::pmi::server::shared_writer;
use crate::pmi::{Connection, PmiServer, ServerEvent};

/// Value of `RSHMEM_LAUNCHER` in the PEs' environment.
pub const LAUNCHER_NAME: &str = "rshmemrun";

/// Delay between SIGTERM and SIGKILL when tearing a job down.
pub const KILL_GRACE: Duration = Duration::from_millis(300);

/// How long to wait for the PMI connection of a PE that exited 0 after
/// `init` to show its `finalize` before judging it.
const FINALIZE_GRACE: Duration = Duration::from_millis(200);

/// How long to keep waiting for PEs after SIGKILL before giving up.
const REAP_GIVE_UP: Duration = Duration::from_secs(5);

/// How long to wait for `--tag-output` pipes to drain after the last PE died.
const OUTPUT_DRAIN: Duration = Duration::from_secs(1);

/// Environment variable that carries the TCP PMI server's secret to the PEs.
pub const SECRET_VAR: &str = "RSHMEM_PMI_SECRET";

/// Exit status used when PROGRAM cannot be executed.
pub const EXIT_NOT_EXECUTABLE: i32 = 127;

/// Exit status used when `--timeout` expires.
pub const EXIT_TIMEOUT: i32 = 124;

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

/// Removes `dir/rshmem-<kvsname>-*` and returns the paths removed.
pub fn sweep_shm(dir: &Path, kvsname: &str) -> Vec<PathBuf> {
    let prefix = format!("rshmem-{kvsname}-");
    let mut removed = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let p = e.path();
                if std::fs::remove_file(&p).is_ok() {
                    removed.push(p);
                }
            }
        }
    }
    removed
}

/// Name of a signal, e.g. `SIGKILL`.
pub fn signal_name(sig: i32) -> String {
    let n = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGPWR => "SIGPWR",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("SIG{sig}"),
    };
    n.to_string()
}

/// How a PE ended, decoded from a `waitpid` status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeExit {
    /// Normal exit with this status.
    Code(i32),
    /// Killed by this signal (`core` if it dumped core).
    Signal {
        /// Signal number.
        sig: i32,
        /// A core dump was produced.
        core: bool,
    },
}

impl PeExit {
    /// Decodes a raw `waitpid` status.
    pub fn from_wait_status(st: i32) -> PeExit {
        if libc::WIFSIGNALED(st) {
            PeExit::Signal {
                sig: libc::WTERMSIG(st),
                core: libc::WCOREDUMP(st),
            }
        } else {
            PeExit::Code(libc::WEXITSTATUS(st))
        }
    }

    /// Shell-style status: the exit code, or 128+signal.
    pub fn shell_status(self) -> i32 {
        match self {
            PeExit::Code(c) => c,
            PeExit::Signal { sig, .. } => 128 + sig,
        }
    }

    fn describe(self) -> String {
        match self {
            PeExit::Code(c) => format!("exited with status {c}"),
            PeExit::Signal { sig, core } => format!(
                "was killed by signal {sig} ({}){}",
                signal_name(sig),
                if core { " (core dumped)" } else { "" }
            ),
        }
    }
}

enum Event {
    Exited { pid: i32, status: i32 },
    Pmi(ServerEvent),
    Signal(i32),
}

struct Pe {
    pid: i32,
    exit: Option<PeExit>,
    reaped_at: Option<Instant>,
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        "PE"
    } else {
        "PEs"
    }
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    format!("{s}")
}

/// Makes sure `fd` is not 0, 1 or 2 (which `Command` will overwrite with the
/// child's stdio) by duplicating it higher if needed. Keeps CLOEXEC set.
fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: fcntl on a valid fd; the result is a new fd we own.
    let n = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `n` is a freshly created, owned descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// The supervisor's state for one job.
struct Job {
    np: usize,
    pes: Vec<Pe>,
    by_pid: HashMap<i32, usize>,
    live: usize,
    server: Arc<PmiServer>,
    /// Parent ends of the PMI sockets, kept to shut them down at the end.
    pmi_socks: Vec<UnixStream>,
    /// Exit status decided so far (first failure).
    status: Option<i32>,
    /// SIGTERM was sent to all PEs at this time (teardown in progress).
    term_sent: Option<Instant>,
    /// SIGKILL was sent at this time.
    kill_sent: Option<Instant>,
    /// A signal from outside was forwarded to the PEs.
    forwarded: bool,
    /// PEs that exited 0 after init without finalize, awaiting judgement.
    pending_zero: Vec<(usize, Instant)>,
}

impl Job {
    /// Sends `sig` to the process group of every PE that may still have
    /// processes (live, or reaped recently enough that its group id cannot
    /// have been recycled).
    fn signal_all(&self, sig: i32) {
        let now = Instant::now();
        for pe in &self.pes {
            let recent = match pe.reaped_at {
                None => true,
                Some(t) => now.duration_since(t) < Duration::from_secs(10),
            };
            if recent {
                // SAFETY: plain syscall; ESRCH (group gone) is ignored.
                unsafe { libc::kill(-pe.pid, sig) };
            }
        }
    }

    fn start_teardown(&mut self) {
        if self.term_sent.is_none() {
            self.term_sent = Some(Instant::now());
            self.signal_all(libc::SIGTERM);
        }
    }

    fn kill_now(&mut self) {
        if self.term_sent.is_none() {
            self.term_sent = Some(Instant::now());
        }
        self.kill_sent = Some(Instant::now());
        self.signal_all(libc::SIGKILL);
    }

    fn tearing_down(&self) -> bool {
        self.term_sent.is_some()
    }

    /// The PE that asked every PE to exit (`global_exit`, a non-zero exit without finalize,
    /// a job that cannot finish): the runtime stores `rshmem-exit-<pe>` = status in the KVS
    /// before any other PE hears of it, and those PEs then exit first.
    fn exit_requester(&self) -> Option<(usize, i32)> {
        (0..self.np).find_map(|pe| {
            let v = self.server.lookup(&format!("rshmem-exit-{pe}"))?;
            Some((pe, v.trim().parse().ok()?))
        })
    }

    /// Records a failure whose message is `what`, terminating the others.
    fn fail(&mut self, rank: usize, what: &str, code: i32) {
        let quiet = self.tearing_down() || self.forwarded || self.status.is_some();
        if self.status.is_none() {
            self.status = Some(code);
        }
        // PE `rank` may only be following another PE's request to exit with `code`:
        // name the PE that asked.
        let requested;
        let (rank, what) = match self.exit_requester() {
            Some((k, st)) if k != rank && st == code => {
                requested = format!(
                    "ended the job with status {code} (see its message; PE {rank} exited first, at its request)"
                );
                (k, requested.as_str())
            }
            _ => (rank, what),
        };
        if !quiet {
            let pid = self.pes[rank].pid;
            if self.live > 0 {
                eprintln!(
                    "rshmemrun: PE {rank} (pid {pid}) {what}; terminating the remaining {} {}",
                    self.live,
                    plural(self.live)
                );
            } else {
                eprintln!("rshmemrun: PE {rank} (pid {pid}) {what}");
            }
        }
        if self.live > 0 {
            self.start_teardown();
        }
    }

    fn on_exit(&mut self, pid: i32, status: i32) {
        let Some(&rank) = self.by_pid.get(&pid) else {
            return;
        };
        if self.pes[rank].exit.is_some() {
            return;
        }
        let exit = PeExit::from_wait_status(status);
        self.pes[rank].exit = Some(exit);
        self.pes[rank].reaped_at = Some(Instant::now());
        self.live -= 1;
        match exit {
            PeExit::Code(0) => self.judge_zero_exit(rank, false),
            other => {
                let st = self.server.pe_state(rank);
                if st.aborted && self.status.is_some() {
                    return; // already reported by the abort
                }
                self.fail(rank, &other.describe(), other.shell_status());
            }
        }
    }

    /// A PE exited 0. That is only a problem if it did PMI init, never
    /// finalized, and other PEs are still running.
    fn judge_zero_exit(&mut self, rank: usize, deadline_passed: bool) {
        let st = self.server.pe_state(rank);
        if !st.initialized || st.finalized || st.aborted || self.live == 0 || self.tearing_down() {
            return;
        }
        if !st.closed && !deadline_passed {
            // Its last messages (e.g. finalize) may still be in flight.
            self.pending_zero
                .push((rank, Instant::now() + FINALIZE_GRACE));
            return;
        }
        self.fail(
            rank,
            "exited with status 0 after PMI init without calling PMI finalize",
            1,
        );
    }

    fn on_closed(&mut self, rank: usize) {
        if let Some(i) = self.pending_zero.iter().position(|&(r, _)| r == rank) {
            self.pending_zero.remove(i);
            self.judge_zero_exit(rank, true);
        }
    }
}

/// `--hosts` / `--hostfile`: where each PE runs and how it is started.
struct Remote {
    hosts: Vec<crate::hosts::Host>,
    placement: Vec<usize>,
    agent: Vec<String>,
    pmi_addr: String,
}

fn remote_setup(cli: &Cli, np: usize) -> Result<Option<Remote>, String> {
    let hosts = match (&cli.hosts, &cli.hostfile) {
        (Some(h), _) => crate::hosts::parse_hosts(h)?,
        (None, Some(f)) => crate::hosts::read_hostfile(f)?,
        (None, None) => return Ok(None),
    };
    let agent: Vec<String> = cli
        .launch_agent
        .split_whitespace()
        .map(String::from)
        .collect();
    if agent.is_empty() {
        return Err("--launch-agent is empty (expected e.g. ssh, or 'ip netns exec')".into());
    }
    let pmi_addr = cli
        .pmi_addr
        .clone()
        .unwrap_or_else(|| crate::hosts::default_pmi_addr(&hosts));
    if pmi_addr.parse::<std::net::IpAddr>().is_err() {
        return Err(format!(
            "--pmi-addr {pmi_addr}: not an IP address (the PEs connect to it)"
        ));
    }
    Ok(Some(Remote {
        placement: crate::hosts::place(&hosts, np),
        hosts,
        agent,
        pmi_addr,
    }))
}

/// Open TCP PMI connections beyond one per PE that the server accepts at once.
const PMI_SPARE_CONNECTIONS: usize = 32;
/// Time a TCP PMI connection has to prove the secret, counted from its accept (an absolute
/// deadline: sending a byte now and then does not extend it).
const PMI_AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the reaper looks for connections past their authentication deadline.
const PMI_REAP_EVERY: Duration = Duration::from_millis(250);
/// Pause after a failed `accept` (e.g. out of fds) so the accept thread does not spin.
const PMI_ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// One open TCP PMI connection as the accept thread and the reaper see it.
struct TcpConn {
    stream: Arc<std::net::TcpStream>,
    accepted: Instant,
    /// Set once the connection proved its rank's token.
    authed: Arc<std::sync::atomic::AtomicBool>,
}

/// Open TCP PMI connections, by connection number (shut down at the end of the job).
type TcpSocks = Arc<std::sync::Mutex<HashMap<u64, TcpConn>>>;

/// One socket shared by the reader, the writer and the table (one fd per connection).
struct SharedStream(Arc<std::net::TcpStream>);

impl io::Read for SharedStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Write for SharedStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        (&*self.0).flush()
    }
}

/// Shuts down the unauthenticated connections older than `PMI_AUTH_TIMEOUT` (their serving
/// thread then sees end-of-file and counts them as refused). Returns how many.
fn reap_unauthenticated(socks: &TcpSocks, now: Instant) -> usize {
    let open = socks.lock().unwrap_or_else(|e| e.into_inner());
    let mut n = 0;
    for c in open.values() {
        if !c.authed.load(std::sync::atomic::Ordering::Acquire)
            && now.duration_since(c.accepted) >= PMI_AUTH_TIMEOUT
        {
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
            n += 1;
        }
    }
    n
}

/// Listens on `addr` only (the address the PEs are told to connect to) and serves each PMI
/// connection on its own thread; returns the port. At most np + PMI_SPARE_CONNECTIONS
/// connections are open at once: when the table is full, the oldest connection that has
/// not authenticated yet is shut down to make room (only when all are authenticated is the
/// newcomer refused). A connection that does not authenticate within PMI_AUTH_TIMEOUT of
/// its accept is shut down by a reaper thread, however slowly it trickles bytes.
fn serve_tcp(server: &Arc<PmiServer>, socks: &TcpSocks, addr: std::net::IpAddr) -> io::Result<u16> {
    let listener = std::net::TcpListener::bind((addr, 0))?;
    let port = listener.local_addr()?.port();
    let server = server.clone();
    let max_open = server.size() + PMI_SPARE_CONNECTIONS;
    {
        let socks = socks.clone();
        thread::Builder::new()
            .name("pmi-tcp-reaper".into())
            .spawn(move || loop {
                thread::sleep(PMI_REAP_EVERY);
                reap_unauthenticated(&socks, Instant::now());
            })?;
    }
    let socks = socks.clone();
    thread::Builder::new()
        .name("pmi-tcp".into())
        .spawn(move || {
            let mut next_id = 0u64;
            for conn in listener.incoming() {
                let s = match conn {
                    Ok(s) => s,
                    Err(_) => {
                        // EMFILE, ENOBUFS...: wait instead of spinning on the same error.
                        thread::sleep(PMI_ACCEPT_BACKOFF);
                        continue;
                    }
                };
                let mut open = socks.lock().unwrap_or_else(|e| e.into_inner());
                if open.len() >= max_open {
                    // Make room by closing the oldest unauthenticated connection.
                    let oldest = open
                        .iter()
                        .filter(|(_, c)| !c.authed.load(std::sync::atomic::Ordering::Acquire))
                        .min_by_key(|(_, c)| c.accepted)
                        .map(|(id, _)| *id);
                    match oldest.and_then(|id| open.remove(&id)) {
                        Some(old) => {
                            let _ = old.stream.shutdown(std::net::Shutdown::Both);
                        }
                        None => {
                            drop(open);
                            server.count_refused();
                            let _ = (&s).write_all(
                                format!(
                                    "cmd=error rc=-1 msg=too_many_open_connections_(max_{max_open})\n"
                                )
                                .as_bytes(),
                            );
                            continue;
                        }
                    }
                }
                let _ = s.set_nodelay(true);
                // Backstop only: the reaper enforces the absolute deadline.
                let _ = s.set_read_timeout(Some(PMI_AUTH_TIMEOUT));
                let stream = Arc::new(s);
                let authed = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let id = next_id;
                next_id += 1;
                open.insert(
                    id,
                    TcpConn {
                        stream: stream.clone(),
                        accepted: Instant::now(),
                        authed: authed.clone(),
                    },
                );
                drop(open);
                let srv = server.clone();
                let socks2 = socks.clone();
                let spawned = thread::Builder::new()
                    .name("pmi-tcp-conn".into())
                    .spawn(move || {
                        let lift = stream.clone();
                        let flag = authed.clone();
                        let c = Connection::anonymous(shared_writer(SharedStream(stream.clone())))
                            .on_authenticated(move || {
                                flag.store(true, std::sync::atomic::Ordering::Release);
                                let _ = lift.set_read_timeout(None);
                            });
                        let reader = crate::pmi::server::PreAuthLimit::new(
                            SharedStream(stream),
                            authed,
                        );
                        srv.serve(c, BufReader::new(reader));
                        let gone = socks2.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                        if let Some(g) = gone {
                            let _ = g.stream.shutdown(std::net::Shutdown::Both);
                        }
                    });
                if spawned.is_err() {
                    // No thread to serve it: forget it (dropping the last handle closes it).
                    server.count_refused();
                    if let Some(g) = socks.lock().unwrap_or_else(|e| e.into_inner()).remove(&id) {
                        let _ = g.stream.shutdown(std::net::Shutdown::Both);
                    }
                }
            }
        })?;
    Ok(port)
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
    let (tx, rx) = mpsc::channel::<Event>();

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
                        if tx.send(Event::Signal(sig)).is_err() {
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
            let _ = tx.send(Event::Pmi(e));
        });
        if let Some(r) = &remote {
            s.set_process_mapping(crate::hosts::process_mapping(&r.placement));
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

    let (out_tx, out_rx) = mpsc::channel::<()>();
    let mut out_threads = 0usize;

    let mut job = Job {
        np,
        pes: Vec::with_capacity(np),
        by_pid: HashMap::new(),
        live: 0,
        server: server.clone(),
        pmi_socks: Vec::with_capacity(np),
        status: None,
        term_sent: None,
        kill_sent: None,
        forwarded: false,
        pending_zero: Vec::new(),
    };

    for (rank, binding) in bindings.iter().enumerate() {
        let spawned = (|| -> io::Result<std::process::Child> {
            if let (Some(r), Some(port)) = (&remote, &pmi_port) {
                let host = &r.hosts[r.placement[rank]];
                let mut env: Vec<(String, String)> = extra_env
                    .iter()
                    .map(|(k, v)| (k.to_string_lossy().into(), v.to_string_lossy().into()))
                    .collect();
                env.extend([
                    ("PMI_PORT".to_string(), port.clone()),
                    ("PMI_ID".into(), rank.to_string()),
                    ("PMI_RANK".into(), rank.to_string()),
                    ("PMI_SIZE".into(), np.to_string()),
                    ("PMI_JOBID".into(), kvsname.clone()),
                    ("RSHMEM_LAUNCHER".into(), LAUNCHER_NAME.into()),
                ]);
                let argv = crate::hosts::agent_command(
                    &r.agent,
                    &host.name,
                    &env,
                    &program.to_string_lossy(),
                    &cli.args,
                    &cwd,
                );
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..]).env_remove("PMI_FD");
                // This PE's own token (HMAC of the job secret and its rank), never the
                // job secret itself: a token seen on the wire claims no other rank.
                let secret = secret
                    .as_deref()
                    .map(|m| crate::pmi::server::rank_token(m, rank))
                    .unwrap_or_default();
                let on_stdin = crate::hosts::is_ssh_like(&r.agent);
                if on_stdin {
                    // The remote command reads the secret from its first line of stdin.
                    cmd.stdin(Stdio::piped()).env_remove(SECRET_VAR);
                } else {
                    // A local agent (ip netns exec, scripts/local-agent.sh) passes its
                    // environment on to the PE.
                    cmd.env(SECRET_VAR, &secret);
                    if rank != 0 || stdin_is_tty {
                        cmd.stdin(Stdio::null());
                    }
                }
                // Always through the launcher, whole lines at a time (see below).
                cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
                // SAFETY: async-signal-safe calls only, no allocation.
                unsafe {
                    cmd.pre_exec(move || {
                        if libc::setpgid(0, 0) != 0 {
                            return Err(io::Error::last_os_error());
                        }
                        if libc::prctl(
                            libc::PR_SET_PDEATHSIG,
                            libc::SIGKILL as libc::c_ulong,
                            0 as libc::c_ulong,
                            0 as libc::c_ulong,
                            0 as libc::c_ulong,
                        ) != 0
                        {
                            return Err(io::Error::last_os_error());
                        }
                        if libc::getppid() != my_pid {
                            libc::raise(libc::SIGKILL);
                        }
                        Ok(())
                    });
                }
                let mut child = cmd.spawn()?;
                if on_stdin {
                    if let Some(mut w) = child.stdin.take() {
                        // An agent that already died is reported by its exit status.
                        let _ = w.write_all(format!("{secret}\n").as_bytes());
                        if rank == 0 && !stdin_is_tty {
                            // Rank 0 gets the launcher's stdin after the secret.
                            thread::spawn(move || {
                                let _ = io::copy(&mut io::stdin().lock(), &mut w);
                            });
                        }
                    }
                }
                return Ok(child);
            }
            let (ours, theirs) = UnixStream::pair()?;
            let theirs = above_stdio(OwnedFd::from(theirs))?;
            let child_fd = theirs.as_raw_fd();

            let mut cmd = Command::new(&program);
            cmd.arg0(&cli.program).args(&cli.args);
            cmd.env_remove("PMI_PORT")
                .env_remove("PMI_ID")
                .env_remove(SECRET_VAR);
            for (k, v) in &extra_env {
                cmd.env(k, v);
            }
            cmd.env("PMI_FD", child_fd.to_string())
                .env("PMI_RANK", rank.to_string())
                .env("PMI_SIZE", np.to_string())
                .env("PMI_JOBID", &kvsname)
                .env("RSHMEM_LAUNCHER", LAUNCHER_NAME);
            if rank != 0 || stdin_is_tty {
                cmd.stdin(Stdio::null());
            }
            // Always through the launcher, whole lines at a time (see below).
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let cpuset = binding.as_ref().map(|b| b.cpu_set());
            // SAFETY: the closure only makes async-signal-safe system calls
            // and does not allocate.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setpgid(0, 0) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    if libc::prctl(
                        libc::PR_SET_PDEATHSIG,
                        libc::SIGKILL as libc::c_ulong,
                        0 as libc::c_ulong,
                        0 as libc::c_ulong,
                        0 as libc::c_ulong,
                    ) != 0
                    {
                        return Err(io::Error::last_os_error());
                    }
                    if libc::getppid() != my_pid {
                        // The launcher died before PDEATHSIG was armed.
                        libc::raise(libc::SIGKILL);
                    }
                    if let Some(set) = &cpuset {
                        // Best effort: an impossible binding leaves the PE unbound.
                        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set);
                    }
                    let flags = libc::fcntl(child_fd, libc::F_GETFD);
                    if flags < 0
                        || libc::fcntl(child_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0
                    {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let child = cmd.spawn()?;
            drop(theirs);

            let reader = ours.try_clone()?;
            job.pmi_socks.push(ours.try_clone()?);
            let srv = server.clone();
            thread::Builder::new()
                .name(format!("pmi-{rank}"))
                .spawn(move || {
                    srv.serve(
                        Connection::with_rank(rank, shared_writer(ours)),
                        BufReader::new(reader),
                    )
                })?;
            Ok(child)
        })();

        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                let name = cli.program.to_string_lossy();
                eprintln!("rshmemrun: cannot start PE {rank} ({name}): {e}");
                job.kill_now();
                for pe in &job.pes {
                    let mut st = 0;
                    // SAFETY: reaping our own child.
                    unsafe { libc::waitpid(pe.pid, &mut st, 0) };
                }
                for s in &job.pmi_socks {
                    let _ = s.shutdown(std::net::Shutdown::Both);
                }
                sweep_shm(Path::new("/dev/shm"), &kvsname);
                return if e.raw_os_error() == Some(libc::EACCES) {
                    126
                } else {
                    EXIT_NOT_EXECUTABLE
                };
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
        job.by_pid.insert(pid, rank);
        job.pes.push(Pe {
            pid,
            exit: None,
            reaped_at: None,
        });
        job.live += 1;
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
                    if tx.send(Event::Exited { pid, status: st }).is_err() {
                        break;
                    }
                } else if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    break; // ECHILD: nothing left to wait for
                }
            })
            .expect("spawn reaper thread");
    }
    drop(tx);

    let started = Instant::now();
    let timeout_at = cli.timeout.map(|t| started + t);
    let mut timed_out = false;

    while job.live > 0 {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| {
            next = Some(next.map_or(t, |n: Instant| n.min(t)));
        };
        if let (Some(t), false) = (timeout_at, timed_out) {
            consider(t);
        }
        if let (Some(t), None) = (job.term_sent, job.kill_sent) {
            consider(t + KILL_GRACE);
        }
        if let Some(k) = job.kill_sent {
            consider(k + REAP_GIVE_UP);
        }
        for &(_, d) in &job.pending_zero {
            consider(d);
        }
        let ev = match next {
            Some(t) => rx.recv_timeout(t.saturating_duration_since(now)),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match ev {
            Ok(Event::Exited { pid, status }) => job.on_exit(pid, status),
            Ok(Event::Pmi(ServerEvent::Abort { rank, code })) => {
                if job.status.is_none() && !job.tearing_down() {
                    eprintln!("rshmemrun: PE {rank} called abort with exit code {code}");
                    job.status = Some(code);
                    job.start_teardown();
                }
            }
            Ok(Event::Pmi(ServerEvent::Closed(rank))) => job.on_closed(rank),
            Ok(Event::Pmi(_)) => {}
            Ok(Event::Signal(sig)) => {
                if job.forwarded || job.kill_sent.is_some() {
                    eprintln!(
                        "rshmemrun: received {} again; killing all {} PEs",
                        signal_name(sig),
                        job.np
                    );
                    job.kill_now();
                } else {
                    eprintln!(
                        "rshmemrun: received {}; forwarding it to {} {}",
                        signal_name(sig),
                        job.live,
                        plural(job.live)
                    );
                    job.forwarded = true;
                    job.signal_all(sig);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }

        // Deadlines are checked after every event, not only on timeouts, so a
        // busy event stream cannot postpone them.
        let now = Instant::now();
        if let (Some(t), false) = (timeout_at, timed_out) {
            if now >= t && job.tearing_down() {
                // Already being torn down for another reason; keep that status.
                timed_out = true;
            } else if now >= t {
                timed_out = true;
                eprintln!(
                    "rshmemrun: job exceeded --timeout of {} s; killing all {} PEs",
                    fmt_secs(cli.timeout.unwrap_or_default()),
                    job.np
                );
                job.status = Some(EXIT_TIMEOUT);
                job.start_teardown();
            }
        }
        if let (Some(t), None) = (job.term_sent, job.kill_sent) {
            if now >= t + KILL_GRACE {
                job.kill_now();
            }
        }
        if let Some(k) = job.kill_sent {
            if now >= k + REAP_GIVE_UP {
                eprintln!(
                    "rshmemrun: {} {} did not die after SIGKILL; giving up",
                    job.live,
                    plural(job.live)
                );
                break;
            }
        }
        let due: Vec<usize> = job
            .pending_zero
            .iter()
            .filter(|&&(_, d)| now >= d)
            .map(|&(r, _)| r)
            .collect();
        job.pending_zero.retain(|&(_, d)| now < d);
        for r in due {
            job.judge_zero_exit(r, true);
        }
    }

    // Stray grandchildren of a failed or signalled job go too.
    if job.tearing_down() || job.forwarded {
        job.signal_all(libc::SIGKILL);
    }
    // Unblock the PMI threads (e.g. one still waiting for a dead PE).
    for s in &job.pmi_socks {
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

    job.status.unwrap_or(0)
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
