//! PMI-1 client ("simple" PMI wire protocol).
//!
//! Connection: the fd in `PMI_FD` (inherited socket; `PMI_RANK`/`PMI_SIZE` give identity),
//! or TCP to `PMI_PORT=host:port` introduced by `cmd=initack pmiid=$PMI_ID`, whose reply
//! carries `cmd=set size=N`, `cmd=set rank=R` (Hydra's `-pmi-port`). Then:
//! `init` → `get_maxes` → `get_my_kvsname`, and `put`/`barrier_in`/`get` as needed.
//!
//! When `RSHMEM_PMI_SECRET` is set (by `rshmemrun --hosts`, whose TCP server requires
//! it: this PE's token), the introduction carries it: `cmd=initack pmiid=N secret=HEX`.
//! Without the variable nothing changes, so Hydra's `-pmi-port` server is spoken to as
//! before. A server that answers `too_many_open_connections`, or closes before answering,
//! is tried again until the bootstrap timeout. Once read, the PMI access variables leave the
//! environment and the PMI fd is close-on-exec ([`scrub_env`], [`open_fd`]).
use super::Kvs;
use crate::error::{Error, Result};
use rshmem_pmi::{format_line, parse_process_mapping, Message};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Longest reply line accepted from a PMI-1 server (a value is at most `vallen_max`,
/// 1024 bytes with rshmemrun, Hydra's 1024 too).
const MAX_REPLY_LEN: usize = 64 * 1024;

/// A connected PMI-1 client.
pub struct Pmi1 {
    reader: BufReader<Box<dyn std::io::Read + Send>>,
    writer: Box<dyn Write + Send>,
    rank: usize,
    size: usize,
    kvsname: String,
    keymax: usize,
    valmax: usize,
    address: String,
    tcp: Option<TcpStream>,
}

/// Parses an optional numeric environment variable.
pub(crate) fn env_usize(name: &str, protocol: &'static str) -> Result<Option<usize>> {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().map(Some).map_err(|_| Error::Bootstrap {
            protocol,
            msg: format!("environment variable {name}={v:?} is not a non-negative integer"),
        }),
        Err(_) => Ok(None),
    }
}

/// The TCP PMI server's secret from `RSHMEM_PMI_SECRET`: `None` when unset or empty; an
/// error when it is not 32 to 128 hex digits.
pub(crate) fn pmi_secret() -> Result<Option<String>> {
    match std::env::var("RSHMEM_PMI_SECRET") {
        Err(_) => Ok(None),
        // Empty: an ssh agent that did not forward stdin; the server says what is missing.
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => check_secret(&v).map(Some),
    }
}

/// Checks the form of a secret (32 to 128 hex digits) without echoing it.
pub(crate) fn check_secret(v: &str) -> Result<String> {
    let v = v.trim();
    if (32..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v.to_string())
    } else {
        Err(Error::Bootstrap {
            protocol: "pmi1",
            msg: format!(
                "RSHMEM_PMI_SECRET is set but is not 32 to 128 hex digits ({} characters); \
                 it is set by rshmemrun --hosts: do not set it by hand",
                v.len()
            ),
        })
    }
}

/// Variables that give access to the job's PMI server: removed from this process's
/// environment once the connection is taken ([`scrub_env`]).
pub(crate) const PMI_ACCESS_VARS: [&str; 4] = ["RSHMEM_PMI_SECRET", "PMI_FD", "PMI_PORT", "PMI_ID"];

/// Removes [`PMI_ACCESS_VARS`] from the environment, so that nothing this PE starts
/// (`system()`, a shell, a helper) inherits this rank's token or the PMI fd number.
/// Called during `shmem_init`'s bootstrap, once they are read and before the runtime
/// starts any thread of its own. Rust's `remove_var` takes std's environment lock, so it is
/// safe against every other Rust reader; a C thread of the program calling `getenv` at the
/// same moment would race with it, which is why it runs at init (a program that starts
/// threads reading the environment before `shmem_init` should not rely on these variables).
pub(crate) fn scrub_env() {
    // The launcher's address stays known (the TCP transport listens on the address that
    // reaches it) without staying in the environment.
    if let Ok(port) = std::env::var("PMI_PORT") {
        let _ = LAUNCHER_PMI_PORT.set(port);
    }
    for v in PMI_ACCESS_VARS {
        std::env::remove_var(v);
    }
}

/// `PMI_PORT` as this process found it before [`scrub_env`] removed it.
static LAUNCHER_PMI_PORT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The launcher's PMI address (`host:port`) when this PE reached it over TCP.
pub(crate) fn launcher_pmi_port() -> Option<String> {
    LAUNCHER_PMI_PORT
        .get()
        .cloned()
        .or_else(|| std::env::var("PMI_PORT").ok())
}

/// Takes ownership of the inherited PMI fd: a reading and a writing handle. The fd gets
/// `FD_CLOEXEC` (a program this PE executes does not inherit the connection) and the PMI
/// access variables leave the environment ([`scrub_env`]).
pub(crate) fn open_fd(fd: i32, protocol: &'static str) -> Result<(std::fs::File, std::fs::File)> {
    let perr = |msg: String| Error::Bootstrap { protocol, msg };
    // SAFETY: fstat on an arbitrary fd number only reads its status.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer.
    if fd < 0 || unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(perr(format!("PMI_FD={fd} is not an open file descriptor (was this process started by a PMI launcher?)")));
    }
    // SAFETY: fcntl on an open fd (checked above) only changes its close-on-exec flag.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
        return Err(perr(format!(
            "PMI_FD={fd}: cannot set close-on-exec: {}",
            std::io::Error::last_os_error()
        )));
    }
    scrub_env();
    // SAFETY: the launcher handed us this fd for our exclusive use; we own it now.
    let file = unsafe { std::fs::File::from_raw_fd(fd) };
    let w = file
        .try_clone()
        .map_err(|e| perr(format!("dup of PMI_FD={fd}: {e}")))?;
    Ok((file, w))
}

/// Bounds (or, with `None`, unbounds) blocking reads on a socket fd, so that the handshake
/// cannot hang on a silent server. Not a socket: nothing happens.
pub(crate) fn set_fd_timeout(fd: i32, t: Option<Duration>) {
    let t = t.unwrap_or(Duration::ZERO);
    let tv = libc::timeval {
        tv_sec: t.as_secs() as libc::time_t,
        tv_usec: t.subsec_micros() as libc::suseconds_t,
    };
    // SAFETY: setsockopt reads `tv` for its size; a non-socket fd just returns ENOTSOCK.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const libc::timeval as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
}

/// Set when this process finalizes its PMI connection or aborts through it: the server
/// closing the connection is then expected.
static LEAVING: AtomicBool = AtomicBool::new(false);

/// Watches the PMI connection from a thread of its own and ends the process when the server
/// closes it while the job still runs: the launcher is gone or tore the job down. A PE on
/// another node (started by a launch agent such as ssh) has no other way to learn that its
/// job is over: the launcher's signals reach only the agent, and a PE waiting in a barrier
/// for a dead peer would wait forever. `_exit` (no atexit handlers: a C program's handler
/// could call collectives that now never finish).
fn watch_hangup(fd: OwnedFd, rank: usize, address: String) {
    let spawned = std::thread::Builder::new()
        .name("rshmem-pmi-watch".into())
        .spawn(move || loop {
            let mut p = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLRDHUP,
                revents: 0,
            };
            // SAFETY: one valid pollfd; `fd` stays open for the thread's life.
            let n = unsafe { libc::poll(&mut p, 1, -1) };
            if n < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return;
            }
            if p.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) == 0 {
                continue;
            }
            if LEAVING.load(Ordering::Acquire) {
                return;
            }
            // What this PE put in /dev/shm and did not unlink yet (it is in init) goes too.
            rshmem_transport::shm::unlink_created_objects();
            eprintln!(
                "rshmem: PE {rank}: the launcher closed the PMI connection ({address}): the job \
                 was torn down or the launcher died; exiting"
            );
            // SAFETY: ends the process without running atexit handlers (see above).
            unsafe { libc::_exit(143) }
        });
    // Best effort: without the thread a remote PE relies on the launcher's signals alone.
    drop(spawned);
}

impl Pmi1 {
    /// Connects as the environment says (`PMI_FD` first, then `PMI_PORT`).
    pub fn connect_from_env() -> Result<Self> {
        let perr = |msg: String| Error::Bootstrap {
            protocol: "pmi1",
            msg,
        };
        if let Some(fd) = env_usize("PMI_FD", "pmi1")? {
            let rank = env_usize("PMI_RANK", "pmi1")?
                .ok_or_else(|| perr("PMI_FD is set but PMI_RANK is not".into()))?;
            let size = env_usize("PMI_SIZE", "pmi1")?
                .ok_or_else(|| perr("PMI_FD is set but PMI_SIZE is not".into()))?;
            let (file, w) = open_fd(fd as i32, "pmi1")?;
            return Self::from_parts(
                BufReader::new(Box::new(file)),
                Box::new(w),
                rank,
                size,
                format!("PMI_FD={fd}"),
                Some(fd as i32),
            );
        }
        let port = std::env::var("PMI_PORT")
            .map_err(|_| perr("neither PMI_FD nor PMI_PORT is set".into()))?;
        let id = std::env::var("PMI_ID").unwrap_or_else(|_| "0".into());
        let timeout = super::timeout();
        let addrs: Vec<_> = port
            .to_socket_addrs()
            .map_err(|e| perr(format!("PMI_PORT={port:?} is not a host:port address: {e}")))?
            .collect();
        let deadline = std::time::Instant::now() + timeout;
        let secret = pmi_secret()?;
        // Connect and introduce ourselves; a server that is full (`too_many_open_connections`)
        // or that drops the connection before answering is tried again until the bootstrap
        // timeout (someone may be holding its connection slots for a while).
        let mut me = 'retry: loop {
            let stream = loop {
                let mut last_err = None;
                let mut connected = None;
                for a in &addrs {
                    match TcpStream::connect_timeout(a, Duration::from_secs(2).min(timeout)) {
                        Ok(s) => {
                            connected = Some(s);
                            break;
                        }
                        Err(e) => last_err = Some(e),
                    }
                }
                if let Some(s) = connected {
                    break s;
                }
                if std::time::Instant::now() >= deadline {
                    let e = last_err
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "no address".into());
                    return Err(perr(format!(
                        "cannot connect to the PMI server at PMI_PORT={port} within {:.0} s (RSHMEM_BOOTSTRAP_TIMEOUT): {e}",
                        timeout.as_secs_f64()
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            stream.set_nodelay(true).ok();
            // The handshake too stays within the bootstrap deadline, retries included.
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            stream
                .set_read_timeout(Some(left.max(Duration::from_millis(100))))
                .ok();
            let w = stream
                .try_clone()
                .map_err(|e| perr(format!("dup of PMI socket: {e}")))?;
            let keep = stream.try_clone().ok();
            let mut me = Self::new(
                Box::new(stream),
                Box::new(w),
                0,
                0,
                format!("PMI_PORT={port}"),
            );
            me.tcp = keep;
            let sent = match &secret {
                Some(s) => me.send("initack", &[("pmiid", &id), ("secret", s)]),
                None => me.send("initack", &[("pmiid", &id)]),
            };
            let ack = sent.and_then(|_| me.recv());
            let busy = match &ack {
                Ok(m) => {
                    m.cmd == "error"
                        && m.get("msg")
                            .is_some_and(|v| v.contains("too_many_open_connections"))
                }
                Err(_) => true,
            };
            if busy && std::time::Instant::now() + Duration::from_millis(200) < deadline {
                std::thread::sleep(Duration::from_millis(200));
                continue 'retry;
            }
            let ack = ack?;
            if ack.cmd != "initack" || ack.rc() != 0 {
                let why = ack.get("msg").unwrap_or("").replace('_', " ");
                return Err(perr(format!(
                    "PMI server at {port} refused pmiid={id}: {why} ({ack:?}); a job started by \
                     rshmemrun --hosts needs the RSHMEM_PMI_SECRET its launch agent passes on \
                     (ssh: on its stdin, so not ssh -n)"
                )));
            }
            break me;
        };
        // Admitted: the rest of the handshake gets the whole timeout, as before.
        if let Some(s) = &me.tcp {
            s.set_read_timeout(Some(timeout)).ok();
        }
        // The token is sent; nothing this PE starts needs it or the server's address.
        scrub_env();
        for _ in 0..3 {
            let m = me.recv()?;
            if m.cmd != "set" {
                return Err(perr(format!("unexpected reply to initack: {m:?}")));
            }
            if let Some(v) = m.get("size") {
                me.size = v.parse().map_err(|_| perr(format!("bad size in {m:?}")))?;
            }
            if let Some(v) = m.get("rank") {
                me.rank = v.parse().map_err(|_| perr(format!("bad rank in {m:?}")))?;
            }
        }
        if me.size == 0 {
            return Err(perr("PMI server sent no size".into()));
        }
        me.handshake()?;
        if let Some(s) = &me.tcp {
            s.set_read_timeout(None).ok();
            if let Ok(c) = s.try_clone() {
                watch_hangup(c.into(), me.rank, me.address.clone());
            }
        }
        Ok(me)
    }

    /// Continues on an open connection (after a declined PMI-2 init, or from `PMI_FD`):
    /// PMI-1 `init`, `get_maxes`, `get_my_kvsname`, bounded by `RSHMEM_BOOTSTRAP_TIMEOUT`.
    pub fn from_parts(
        reader: BufReader<Box<dyn std::io::Read + Send>>,
        writer: Box<dyn Write + Send>,
        rank: usize,
        size: usize,
        address: String,
        fd: Option<i32>,
    ) -> Result<Self> {
        let mut me = Self::new(Box::new(std::io::empty()), writer, rank, size, address);
        me.reader = reader;
        if let Some(fd) = fd {
            set_fd_timeout(fd, Some(super::timeout()));
        }
        let r = me.handshake();
        if let Some(fd) = fd {
            set_fd_timeout(fd, None);
        }
        r?;
        if let Some(fd) = fd {
            // SAFETY: `fd` is open (the handshake just used it); this dup gives a new fd we
            // own, close-on-exec like the original.
            let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
            if d >= 0 {
                // SAFETY: `d` is a fresh fd owned by nobody else.
                watch_hangup(
                    unsafe { OwnedFd::from_raw_fd(d) },
                    me.rank,
                    me.address.clone(),
                );
            }
        }
        Ok(me)
    }

    fn new(
        r: Box<dyn std::io::Read + Send>,
        w: Box<dyn Write + Send>,
        rank: usize,
        size: usize,
        address: String,
    ) -> Self {
        Self {
            reader: BufReader::new(r),
            writer: w,
            rank,
            size,
            kvsname: String::new(),
            keymax: 64,
            valmax: 1024,
            address,
            tcp: None,
        }
    }

    fn err(&self, msg: String) -> Error {
        Error::Bootstrap {
            protocol: "pmi1",
            msg: format!("{msg} (server {})", self.address),
        }
    }

    fn send(&mut self, cmd: &str, pairs: &[(&str, &str)]) -> Result<()> {
        let line = format_line(cmd, pairs);
        let r = self
            .writer
            .write_all(line.as_bytes())
            .and_then(|_| self.writer.flush());
        r.map_err(|e| self.err(format!("sending cmd={cmd}: {e}")))
    }

    fn recv(&mut self) -> Result<Message> {
        use std::io::Read;
        let mut line = String::new();
        // Bounded: a server cannot make this PE buffer an endless line.
        let r = (&mut self.reader)
            .take(MAX_REPLY_LEN as u64 + 1)
            .read_line(&mut line);
        if matches!(r, Ok(n) if n > MAX_REPLY_LEN && !line.ends_with('\n')) {
            return Err(self.err(format!(
                "the PMI server sent a line longer than {MAX_REPLY_LEN} bytes"
            )));
        }
        match r {
            Ok(0) => Err(self.err(
                "the PMI server closed the connection (the launcher is gone or killed the job)"
                    .into(),
            )),
            Ok(_) => Message::parse(&line)
                .map_err(|e| self.err(format!("{e} in PMI line {:?}", line.trim_end()))),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(self.err(format!(
                    "no answer from the PMI server within {:.0} s (RSHMEM_BOOTSTRAP_TIMEOUT)",
                    super::timeout().as_secs_f64()
                )))
            }
            Err(e) => Err(self.err(format!("reading from the PMI server: {e}"))),
        }
    }

    fn call(&mut self, cmd: &str, pairs: &[(&str, &str)], reply: &str) -> Result<Message> {
        self.send(cmd, pairs)?;
        let m = self.recv()?;
        if m.cmd != reply {
            return Err(self.err(format!(
                "expected cmd={reply} in reply to cmd={cmd}, got {m:?}"
            )));
        }
        Ok(m)
    }

    fn handshake(&mut self) -> Result<()> {
        let m = self.call(
            "init",
            &[("pmi_version", "1"), ("pmi_subversion", "1")],
            "response_to_init",
        )?;
        if m.rc() != 0 {
            return Err(self.err(format!("init refused: {m:?}")));
        }
        let m = self.call("get_maxes", &[], "maxes")?;
        let num = |k: &str, d: usize| m.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
        self.keymax = num("keylen_max", 64);
        self.valmax = num("vallen_max", 1024);
        let m = self.call("get_my_kvsname", &[], "my_kvsname")?;
        self.kvsname = m
            .get("kvsname")
            .ok_or_else(|| self.err("my_kvsname reply without kvsname".into()))?
            .to_string();
        Ok(())
    }
}

impl Kvs for Pmi1 {
    fn protocol(&self) -> &'static str {
        "pmi1"
    }
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn job_id(&self) -> &str {
        &self.kvsname
    }
    fn maxes(&self) -> (usize, usize) {
        (self.keymax, self.valmax)
    }
    fn put_raw(&mut self, key: &str, value: &str) -> Result<()> {
        if key.len() > self.keymax || value.len() > self.valmax {
            return Err(self.err(format!(
                "key {key:?} or its {}-byte value exceeds the server's maxima ({}, {})",
                value.len(),
                self.keymax,
                self.valmax
            )));
        }
        let kvs = self.kvsname.clone();
        let m = self.call(
            "put",
            &[("kvsname", &kvs), ("key", key), ("value", value)],
            "put_result",
        )?;
        if m.rc() != 0 {
            return Err(self.err(format!("put of key {key:?} failed: {m:?}")));
        }
        Ok(())
    }
    fn get_raw(&mut self, key: &str) -> Result<Option<String>> {
        let kvs = self.kvsname.clone();
        let m = self.call("get", &[("kvsname", &kvs), ("key", key)], "get_result")?;
        Ok((m.rc() == 0).then(|| m.get("value").unwrap_or("").to_string()))
    }
    fn barrier(&mut self) -> Result<()> {
        self.call("barrier_in", &[], "barrier_out").map(|_| ())
    }
    fn process_mapping(&mut self) -> Option<Vec<usize>> {
        let v = self.get_raw("PMI_process_mapping").ok()??;
        parse_process_mapping(&v, self.size)
    }
    fn abort(&mut self, code: i32) -> ! {
        LEAVING.store(true, Ordering::Release);
        let _ = self.send("abort", &[("exitcode", &code.to_string())]);
        // Give the launcher a moment to tear the job down with our status, then go anyway.
        std::thread::sleep(Duration::from_millis(200));
        std::process::exit(code)
    }
    fn finalize(&mut self) -> Result<()> {
        LEAVING.store(true, Ordering::Release);
        self.call("finalize", &[], "finalize_ack").map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_reply_line_is_an_error() {
        let mut reply = vec![b'x'; 3 * MAX_REPLY_LEN];
        reply.push(b'\n');
        let r = Pmi1::from_parts(
            BufReader::new(Box::new(std::io::Cursor::new(reply))),
            Box::new(std::io::sink()),
            0,
            1,
            "test".into(),
            None,
        );
        let e = r.err().expect("refused").to_string();
        assert!(e.contains("longer than 65536 bytes"), "{e}");
    }

    #[test]
    fn secret_form() {
        let s = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(check_secret(s).unwrap(), s);
        assert_eq!(check_secret(&format!(" {s}\n")).unwrap(), s);
        for bad in [
            "",
            "abc",
            &"g".repeat(32),
            &"a".repeat(129),
            "0123456789abcdef 0123456789abcdef",
        ] {
            let e = check_secret(bad).unwrap_err().to_string();
            assert!(e.contains("RSHMEM_PMI_SECRET"), "{e}");
            assert!(
                bad.len() < 4 || !e.contains(bad),
                "the secret is echoed: {e}"
            );
        }
    }
}
