//! The progress service: accepts connections, checks the hello, and applies requests to
//! this PE's segments.
//!
//! Who reads an incoming connection: a thread of this PE that waits inside an OpenSHMEM
//! call (a [`crate::tcp::TcpCtx::serve_incoming`] pass from the runtime's waits, and from
//! this PE's own waits for a reply), or else the connection's server thread. Exactly one
//! thread at a time, and only at message boundaries: whoever takes the connection's `busy`
//! flag (a try-lock, never waited for by a PE's thread) reads whole messages, and a
//! message it has begun it finishes. The server thread sleeps in `poll` (it never reads
//! without the flag), and while this PE's threads wait inside OpenSHMEM calls it parks
//! instead (sleeps [`PARK`] at a time, see `TcpCtx::waits`), so a request is answered by
//! the thread that is on a CPU anyway instead of by a thread that has to be woken up, and
//! the server thread is not woken by requests it would not serve. Each time it wakes, a
//! parked server thread makes one non-blocking pass of its own (a safety net: the serving
//! thread may be inside a long transfer); once a whole [`PARK`] has passed without any
//! serving wait, it sleeps in `poll` again. See docs/ARCHITECTURE.md "TCP transport".
use super::wire::{self, Req};
use super::TcpCtx;
use crate::AmoWord;
use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a new connection may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// A peer that vanished without goodbye: wait this long before ending the job, so that a
/// cooperative exit (every PE leaving with one status) is not turned into an abort.
const VANISH_GRACE: Duration = Duration::from_millis(500);
/// How long a parked server thread sleeps before it looks again (a non-blocking pass of
/// its own, and whether this PE still waits inside OpenSHMEM calls).
pub(super) const PARK: Duration = Duration::from_millis(1);

/// Largest get a thread that waits for a reply of its own answers (larger ones are left
/// to the server thread). Its reply could fill the socket and block the writer until the
/// requester reads it; if the requester is itself blocked in the same way answering a get
/// of ours, neither would read its reply. A reply this small fits in the socket's buffer
/// (at most one reply per connection is outstanding: a requester waits for each).
const SMALL_GET: usize = 4096;

/// Connection threads alive (saying hello or serving) per PE of the job, beyond which new
/// connections are dropped at once: every real peer needs one, so only a flood of
/// strangers (each held up to [`HELLO_TIMEOUT`]) reaches it.
const THREADS_PER_PE: usize = 2;

/// One incoming connection (requests from PE `pe`), shared by its server thread and the
/// threads of this PE that serve it while they wait.
#[derive(Debug)]
pub(super) struct InConn {
    /// The socket, -1 once the connection has ended (set under `busy`, before the close).
    pub(super) fd: AtomicI32,
    /// Held by the one thread reading the connection (whole messages only).
    busy: AtomicBool,
    /// A serving thread found the end of the connection: its server thread reports it.
    dead: AtomicBool,
    end: Mutex<Option<End>>,
}

impl InConn {
    fn new(fd: RawFd) -> InConn {
        InConn {
            fd: AtomicI32::new(fd),
            busy: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            end: Mutex::new(None),
        }
    }

    #[inline]
    fn try_take(&self) -> bool {
        !self.busy.load(Ordering::Relaxed)
            && self
                .busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    #[inline]
    fn release(&self) {
        self.busy.store(false, Ordering::Release);
    }

    /// One pass by a thread of this PE that waits in an OpenSHMEM call: serves the whole
    /// requests that are there, if no other thread reads the connection now. Returns
    /// whether it served any.
    #[inline]
    ///
    /// `small_only`: the caller waits for a reply of its own (see [`SMALL_GET`]).
    pub(super) fn serve_waiting(&self, ctx: &TcpCtx, small_only: bool) -> bool {
        if !self.try_take() {
            return false;
        }
        let fd = self.fd.load(Ordering::Relaxed);
        let mut any = false;
        if fd >= 0 && !self.dead.load(Ordering::Relaxed) {
            loop {
                match serve_one(ctx, fd, small_only) {
                    Step::Served => any = true,
                    Step::Empty => break,
                    Step::End(e) => {
                        self.set_end(fd, e);
                        break;
                    }
                }
            }
        }
        self.release();
        any
    }

    /// Called with `busy` held by a thread that is not the server thread.
    #[cold]
    fn set_end(&self, fd: RawFd, e: End) {
        *self.end.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        self.dead.store(true, Ordering::Release);
        // Wakes the server thread's poll; it reports the end and closes the socket.
        // SAFETY: `fd` is open (it is closed only by the server thread, under `busy`).
        unsafe { libc::shutdown(fd, libc::SHUT_RD) };
    }
}

pub(super) fn accept_loop(ctx: Arc<TcpCtx>) {
    let alive = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let limit = THREADS_PER_PE * ctx.npes + 16;
    loop {
        let (s, from) = match ctx.listener.accept() {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return, // closed (finalize) or the listener broke
        };
        if ctx.closed.load(Ordering::Acquire) {
            return;
        }
        if alive.load(Ordering::Acquire) >= limit {
            super::warn(&format!(
                "rshmem: PE {}: TCP transport: dropped a connection from {from}: {limit} connections \
                 are open already (more than the job's PEs can make)",
                ctx.me
            ));
            continue;
        }
        alive.fetch_add(1, Ordering::AcqRel);
        let a = alive.clone();
        let c = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("rshmem-tcp-serve".into())
            .spawn(move || {
                match hello(&c, &s) {
                    Ok(pe) => {
                        *c.serving.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                        serve(&c, s, pe);
                        *c.serving.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
                        c.served.notify_all();
                    }
                    Err(e) => super::warn(&format!(
                        "rshmem: PE {}: TCP transport: refused a connection from {from}: {e}",
                        c.me
                    )),
                }
                a.fetch_sub(1, Ordering::AcqRel);
            });
        if spawned.is_err() {
            alive.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Reads and checks the hello; answers it. Returns the peer's PE number.
fn hello(ctx: &TcpCtx, s: &TcpStream) -> io::Result<usize> {
    if ctx.closed.load(Ordering::Acquire) {
        return Err(io::Error::other("this PE has finalized"));
    }
    s.set_read_timeout(Some(HELLO_TIMEOUT))?;
    let fd = s.as_raw_fd();
    let mut h = [0u8; wire::HELLO];
    // SAFETY: local buffer.
    unsafe { wire::read_exact(fd, h.as_mut_ptr(), h.len()) }?;
    let bad = |m: String| io::Error::new(io::ErrorKind::PermissionDenied, m);
    if &h[..8] != wire::HELLO_MAGIC {
        return Err(bad("it is not an rshmem TCP transport client".into()));
    }
    let key: [u8; wire::KEY] = h[16..48].try_into().expect("32 bytes");
    if !wire::key_eq(&key, ctx.key.get().expect("started")) {
        return Err(bad("wrong job key".into()));
    }
    let pe = u32::from_le_bytes(h[8..12].try_into().expect("4")) as usize;
    let npes = u32::from_le_bytes(h[12..16].try_into().expect("4")) as usize;
    if npes != ctx.npes || pe >= npes || pe == ctx.me {
        return Err(bad(format!(
            "it claims to be PE {pe} of {npes} (this job has {} PEs)",
            ctx.npes
        )));
    }
    wire::tune(fd, super::USER_TIMEOUT_MS, ctx.congestion())?;
    // SAFETY: local buffer.
    unsafe { wire::write2(fd, wire::HELLO_OK.as_ptr(), 8, core::ptr::null(), 0) }?;
    s.set_read_timeout(None)?;
    Ok(pe)
}

/// Why a connection ended.
#[derive(Debug)]
pub(super) enum End {
    /// Goodbye (finalize) or this PE finalized.
    Clean,
    /// The peer closed without goodbye.
    Vanished,
    /// I/O error.
    Broken(io::Error),
    /// The peer sent something that is not allowed: the connection is dropped.
    Protocol(String),
}

fn serve(ctx: &TcpCtx, s: TcpStream, pe: usize) {
    let c = Arc::new(InConn::new(s.as_raw_fd()));
    // The first connection from `pe` is served by this PE's waits too; a later one (the
    // peer reconnected after an error) by its thread only.
    let shared = ctx.register_incoming(pe, &c);
    // Returns with `busy` held: nobody reads the socket any more once `fd` is -1.
    let end = serve_loop(ctx, &c, shared);
    c.fd.store(-1, Ordering::Relaxed);
    c.release();
    drop(s);
    if ctx.closed.load(Ordering::Acquire) {
        return;
    }
    let msg = match end {
        End::Clean => return,
        End::Protocol(m) => {
            // Ends this connection only: the peer's next operation fails and ends the job
            // with its own message; this side names what the peer did.
            super::warn(&format!(
                "rshmem: PE {}: TCP transport: protocol error from PE {pe}: {m}; connection closed",
                ctx.me
            ));
            return;
        }
        End::Vanished => format!(
            "TCP transport: PE {pe} ({}) closed its connection to PE {} without finalizing: \
             it died or exited",
            ctx.peer_addr(pe),
            ctx.me
        ),
        End::Broken(e) => format!(
            "TCP transport: PE {} lost the connection from PE {pe} ({}): {e}; \
             the peer's host died or the network between them broke",
            ctx.me,
            ctx.peer_addr(pe)
        ),
    };
    std::thread::sleep(VANISH_GRACE);
    if !ctx.closed.load(Ordering::Acquire) {
        (ctx.abort)(&msg);
    }
}

/// Checks `[off, off+len)` against segment `seg`: the local address, or what is wrong.
fn target(ctx: &TcpCtx, r: &Req) -> Result<usize, String> {
    let seg = r.seg as usize;
    if seg >= ctx.nsegs {
        return Err(format!(
            "segment {seg} does not exist (this PE has {})",
            ctx.nsegs
        ));
    }
    let (base, len) = ctx.segs[seg];
    match r.off.checked_add(r.len) {
        Some(end) if end <= len as u64 => Ok(base + r.off as usize),
        _ => Err(format!(
            "{} bytes at offset {:#x} of segment {seg} do not fit in its {len} bytes",
            r.len, r.off
        )),
    }
}

/// What one attempt to serve a request gave.
enum Step {
    /// A whole request was applied (and answered).
    Served,
    /// No byte of a request was there.
    Empty,
    /// The connection ended.
    End(End),
}

/// Whether `fd` has something to read (or an end to report) within `ms` (-1: no limit).
fn readable(fd: RawFd, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    n != 0
}

/// The server thread of one connection: sleeps in `poll`, or parked while a thread of
/// this PE serves in a wait; serves whole messages while it holds `busy`. Returns how the
/// connection ended, with `busy` held.
fn serve_loop(ctx: &TcpCtx, c: &InConn, shared: bool) -> End {
    let fd = c.fd.load(Ordering::Relaxed);
    let mut seen = ctx.waits().1;
    loop {
        let mut poll_ms = -1;
        if shared {
            let (w, e) = ctx.waits();
            if w > 0 || e != seen {
                // This PE's waits serve: sleep, then one non-blocking look (the safety
                // net: the serving thread may be inside a long transfer, or computing).
                seen = e;
                std::thread::sleep(PARK);
                poll_ms = 0;
            }
        }
        #[cfg(test)]
        if ctx.pause_servers.load(Ordering::Relaxed) {
            if c.dead.load(Ordering::Acquire) && c.try_take() {
                return c.end.lock().unwrap().take().unwrap_or(End::Clean);
            }
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        if !readable(fd, poll_ms) && poll_ms == 0 {
            continue;
        }
        if shared && poll_ms < 0 && ctx.waits().0 > 0 {
            // Woken by a request that a waiting thread of this PE serves: park.
            continue;
        }
        if !c.try_take() {
            // A waiting thread of this PE is reading it right now.
            std::thread::yield_now();
            continue;
        }
        if c.dead.load(Ordering::Acquire) {
            return c
                .end
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or(End::Clean);
        }
        // Serve what is there; while no thread of this PE serves in a wait, keep polling
        // for up to SPIN after each request (the next one often follows closely).
        let mut last = Instant::now();
        loop {
            match serve_one(ctx, fd, false) {
                Step::Served => last = Instant::now(),
                Step::Empty => {
                    let t = last.elapsed();
                    if (shared && ctx.waits().0 > 0) || t >= super::SPIN {
                        break;
                    }
                    if t >= super::PURE_SPIN {
                        std::thread::yield_now();
                    } else {
                        core::hint::spin_loop();
                    }
                }
                Step::End(e) => return e,
            }
        }
        c.release();
    }
}

/// A put's payload of at least this many bytes is read polling ([`read_payload`]).
const POLL_PAYLOAD: usize = 64 * 1024;

/// Reads a put's `len` bytes into `dst`. A large payload arrives in many segments while the
/// sender is still writing: it is read polling (non-blocking reads, yielding between them,
/// a blocking read only after [`super::SPIN`] without data), so the reading thread does
/// not sleep and get woken for each segment. On this 2-vCPU VM across the namespaces:
/// 1 MiB puts, window 16, medians of 6 interleaved rounds 1,773 -> 2,035 MB/s.
///
/// # Safety
/// `dst` valid for `len` bytes of writes.
unsafe fn read_payload(fd: RawFd, dst: *mut u8, len: usize) -> io::Result<()> {
    if len >= POLL_PAYLOAD {
        // SAFETY: forwarded contract.
        unsafe { wire::spin_read_all(fd, dst, len, super::PURE_SPIN, super::SPIN) }
    } else {
        // SAFETY: forwarded contract.
        unsafe { wire::read_exact(fd, dst, len) }
    }
}

/// Reads one request if its first byte is there (non-blocking), then the rest of it, and
/// applies it. `small_only`: only a request whose whole header is there and that is not
/// a get of more than [`SMALL_GET`] bytes (anything else is left where it is).
fn serve_one(ctx: &TcpCtx, fd: RawFd, small_only: bool) -> Step {
    let mut h = [0u8; wire::REQ];
    if small_only {
        // SAFETY: local buffer; MSG_PEEK leaves the bytes in the socket.
        let n = unsafe {
            libc::recv(
                fd,
                h.as_mut_ptr() as *mut libc::c_void,
                h.len(),
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        if n != wire::REQ as isize {
            // Nothing, part of a header, the end or an error: the server thread's business.
            return Step::Empty;
        }
        let r = Req::decode(&h);
        if r.op == wire::OP_GET && r.len > SMALL_GET as u64 {
            return Step::Empty;
        }
    }
    // SAFETY: local buffer.
    match unsafe { wire::try_read_full(fd, h.as_mut_ptr(), h.len()) } {
        Ok(Some(true)) => {}
        Ok(Some(false)) => return Step::End(End::Vanished),
        Ok(None) => return Step::Empty,
        Err(e) => return Step::End(End::Broken(e)),
    }
    let r = Req::decode(&h);
    let res: io::Result<()> = match r.op {
        wire::OP_PUT => {
            let dst = match target(ctx, &r) {
                Ok(a) => a,
                Err(m) => return Step::End(End::Protocol(format!("put: {m}"))),
            };
            let len = r.len as usize;
            if len <= 8 {
                // Payload of small puts lands here first, then goes in with one store of
                // its width (as shared memory).
                let mut small = [0u8; 8];
                // SAFETY: `small` is local; `dst` is inside our segment (checked).
                unsafe { wire::read_exact(fd, small.as_mut_ptr(), len) }
                    .map(|_| unsafe { crate::shm::copy_bytes(dst as *mut u8, small.as_ptr(), len) })
            } else {
                // SAFETY: `dst..dst+len` is inside our mapped segment (checked above).
                unsafe { read_payload(fd, dst as *mut u8, len) }
            }
        }
        wire::OP_GET => {
            let src = match target(ctx, &r) {
                Ok(a) => a,
                Err(m) => return Step::End(End::Protocol(format!("get: {m}"))),
            };
            let rep = wire::reply(r.id, 0);
            // SAFETY: local header; `src..src+len` inside our segment (checked).
            unsafe {
                wire::write2(
                    fd,
                    rep.as_ptr(),
                    rep.len(),
                    src as *const u8,
                    r.len as usize,
                )
            }
        }
        wire::OP_AMO | wire::OP_AMO_NR => {
            let a = match target(ctx, &r) {
                Ok(a) => a,
                Err(m) => return Step::End(End::Protocol(format!("atomic: {m}"))),
            };
            let Some(op) = wire::amo_op(r.amo) else {
                return Step::End(End::Protocol(format!("unknown atomic operation {}", r.amo)));
            };
            if !(r.width == 4 || r.width == 8)
                || r.len != r.width as u64
                || a % r.width as usize != 0
            {
                return Step::End(End::Protocol(format!(
                    "atomic of width {} (length {}) at {:#x}: must be an aligned 4- or 8-byte word",
                    r.width, r.len, r.off
                )));
            }
            // SAFETY: `a` is an aligned word of our segment (checked above).
            let old = unsafe {
                if r.width == 8 {
                    u64::cpu_amo(a as *mut u64, op, r.operand, r.compare)
                } else {
                    u32::cpu_amo(a as *mut u32, op, r.operand as u32, r.compare as u32).to_u64()
                }
            };
            if r.op == wire::OP_AMO_NR {
                Ok(())
            } else {
                let rep = wire::reply(r.id, old);
                // SAFETY: local buffer.
                unsafe { wire::write2(fd, rep.as_ptr(), rep.len(), core::ptr::null(), 0) }
            }
        }
        wire::OP_FLUSH => {
            let rep = wire::reply(r.id, 0);
            // SAFETY: local buffer.
            unsafe { wire::write2(fd, rep.as_ptr(), rep.len(), core::ptr::null(), 0) }
        }
        wire::OP_BYE => return Step::End(End::Clean),
        op => return Step::End(End::Protocol(format!("unknown operation {op}"))),
    };
    match res {
        Ok(()) => Step::Served,
        Err(e) => Step::End(End::Broken(e)),
    }
}
