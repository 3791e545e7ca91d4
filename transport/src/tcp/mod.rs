//! TCP transport: one-sided operations between hosts without RDMA.
//!
//! Each PE listens on one TCP port (address published through the bootstrap's key-value
//! store) and runs a *progress service* that applies what arrives to this PE's symmetric
//! segments (puts: read straight into the segment; gets: `sendmsg` straight from it;
//! AMOs: [`crate::AmoWord::cpu_amo`] on the word, so they are atomic against this node's
//! shared-memory AMOs): a thread of this PE that waits inside an OpenSHMEM call serves
//! the incoming connections itself ([`TcpCtx::serve_incoming`], from the runtime's waits
//! and from [`TcpCtx`]'s own waits for a reply); otherwise one server thread per incoming
//! connection does (it sleeps in `poll`), so the target needs not be inside an OpenSHMEM
//! call. One thread at a time reads a connection, whole messages only (see `server.rs`).
//!
//! Connections are half-duplex in the sense of *who asks*: PE a opens its own connection
//! to PE b on a's first operation to b and sends its requests on it; b's server thread
//! answers on the same socket. b's requests to a travel on b's own connection to a. So
//! there is no simultaneous-open race (each direction has exactly one opener) and at most
//! 2 sockets per pair, opened only between PEs that talk.
//!
//! Rules: requests to one PE travel on one TCP stream and one thread at a time applies
//! them, in order, so `fence` needs no message; `quiet` sends a flush to every peer written to
//! since the last quiet and waits for its reply (everything before it is applied). A
//! blocking put returns once the payload is in the kernel (the source may be reused);
//! `put_nbi` is the same; get and AMO wait for their reply.
//!
//! Every connection starts with a hello carrying the job key; the server compares it in
//! constant time and drops the connection otherwise. Every segment, offset and length
//! received is checked against this PE's segments; a violation ends that connection with
//! a message naming the peer.
//!
//! Failures: a read or write error, a peer that closes its connection without saying
//! goodbye (finalize), or a dead link found by TCP keepalive (about 5 s) or
//! `TCP_USER_TIMEOUT` ends the job through the abort function given at setup, with a
//! message naming the peer.
pub mod addr;
mod server;
pub mod wire;

use crate::{AmoOp, AmoWord, Endpoint, RemoteAddr};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;
use wire::Req;

/// Most segments a PE exposes (as the runtime's `MAX_SEGS`).
pub const MAX_SEGS: usize = 4;
/// Bits of a [`RemoteAddr::addr`] that hold the offset; the segment is above them.
pub const SEG_SHIFT: u32 = 48;
/// How long a connect and its hello may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long finalize waits for every peer that talked to this PE to say goodbye.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a PE waiting for a reply, or a server thread waiting for the next request,
/// polls before it sleeps in `read` (see [`wire::spin_read_full`]).
pub(crate) const SPIN: Duration = Duration::from_micros(50);
/// How long a wait for a reply, or a server thread waiting for the next request, polls
/// without yielding the CPU (after that it yields between polls, until [`SPIN`]).
pub(crate) const PURE_SPIN: Duration = Duration::from_micros(3);
/// Unacknowledged data older than this means the connection is dead.
const USER_TIMEOUT_MS: i32 = 8000;

/// What the transport calls on a failure it cannot recover from: ends the job (the
/// runtime's abort), or returns when the PE is leaving anyway.
pub type AbortFn = fn(&str);

/// The address the runtime stores as a TCP peer's segment base: segment `seg` at offset 0.
pub const fn seg_base(seg: usize) -> usize {
    seg << SEG_SHIFT
}

/// Largest `put_nbi` that is held back and sent together with the next ones.
pub const NBI_MAX: usize = 2048;
/// Held-back bytes per peer at which they are sent at once.
const NBI_BUF: usize = 64 * 1024;

/// This PE's connection to one peer, and the small `put_nbi`s (headers and payloads, as on
/// the wire) not sent yet.
#[derive(Debug, Default)]
struct Out {
    s: Option<TcpStream>,
    pend: Vec<u8>,
}

/// One PE's TCP transport: listener, progress service, outgoing connections.
pub struct TcpCtx {
    me: usize,
    npes: usize,
    /// This PE's segments (base, length), the only memory the server touches.
    segs: [(usize, usize); MAX_SEGS],
    nsegs: usize,
    listener: TcpListener,
    key: OnceLock<[u8; wire::KEY]>,
    peers: OnceLock<Vec<SocketAddr>>,
    conns: Box<[Mutex<Out>]>,
    /// Peers with small `put_nbi`s held back in their [`Out::pend`].
    pending: Box<[AtomicBool]>,
    /// Some peer has (a hint: set after the append, cleared before the scan).
    any_pending: AtomicBool,
    /// Peers written to since the last quiet.
    dirty: Box<[AtomicBool]>,
    /// Set by [`TcpCtx::close`] once no connection is served any more: a late connection
    /// is refused.
    closed: AtomicBool,
    /// Incoming connections being served (until their goodbye); `close` waits for 0.
    serving: Mutex<usize>,
    served: Condvar,
    abort: AbortFn,
    /// The first incoming connection of each peer, served by this PE's waits too.
    incoming: Box<[OnceLock<Arc<server::InConn>>]>,
    /// The peers in `incoming` in the order they connected (`norder` of them).
    order: Box<[AtomicUsize]>,
    norder: AtomicUsize,
    order_lock: Mutex<()>,
    /// Low 32 bits: threads of this PE inside a serving wait ([`TcpCtx::enter_wait`]);
    /// high 32 bits: how many such waits began (wrapping). A server thread parks (sleeps,
    /// without polling its socket) while the first is non-zero or the second has moved
    /// since it last looked: this PE is inside OpenSHMEM calls and its waits answer the
    /// requests, so the server thread is not woken by each request it would not serve.
    waits: AtomicU64,
    /// The congestion control set on every connection (`None`: the system's), and what
    /// `describe` says of it. See [`TcpCtx::with_congestion`].
    congestion: Option<String>,
    congestion_note: String,
    /// Test hook: the server threads do not serve (only [`TcpCtx::serve_incoming`] does).
    #[cfg(test)]
    pause_servers: AtomicBool,
}

impl std::fmt::Debug for TcpCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpCtx")
            .field("me", &self.me)
            .field("listen", &self.listener.local_addr().ok())
            .finish()
    }
}

impl TcpCtx {
    /// Listens on `ip` (port chosen by the kernel) for a PE whose segments are `segs`.
    pub fn listen(
        me: usize,
        npes: usize,
        segs: &[(usize, usize)],
        ip: IpAddr,
        abort: AbortFn,
    ) -> io::Result<TcpCtx> {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("TCP transport: cannot listen on {ip}: {e}"),
            )
        })?;
        let mut s = [(0, 0); MAX_SEGS];
        s[..segs.len()].copy_from_slice(segs);
        Ok(TcpCtx {
            me,
            npes,
            segs: s,
            nsegs: segs.len(),
            listener,
            key: OnceLock::new(),
            peers: OnceLock::new(),
            conns: (0..npes).map(|_| Mutex::new(Out::default())).collect(),
            pending: (0..npes).map(|_| AtomicBool::new(false)).collect(),
            any_pending: AtomicBool::new(false),
            dirty: (0..npes).map(|_| AtomicBool::new(false)).collect(),
            closed: AtomicBool::new(false),
            serving: Mutex::new(0),
            served: Condvar::new(),
            abort,
            incoming: (0..npes).map(|_| OnceLock::new()).collect(),
            order: (0..npes).map(|_| AtomicUsize::new(0)).collect(),
            norder: AtomicUsize::new(0),
            order_lock: Mutex::new(()),
            waits: AtomicU64::new(0),
            congestion: None,
            congestion_note: "congestion control of the system".into(),
            #[cfg(test)]
            pause_servers: AtomicBool::new(false),
        })
    }

    /// Chooses the congestion control of this PE's connections (`RSHMEM_TCP_CONGESTION`):
    /// `None` or `auto` replaces a system default that paces its sending (BBR: every name
    /// that begins with `bbr`) by `cubic`, else `reno` (the first the kernel lets this
    /// process choose), and keeps any other; `system` keeps the system's; another value is
    /// set as it is, and an algorithm the kernel refuses is an error that names the ones it
    /// allows. Checked here on the listening socket, so a bad value fails init.
    ///
    /// Why: a pacing algorithm spreads each reply over time at the rate it has estimated,
    /// and in a run of requests and replies that rate comes from application-limited
    /// samples; across the test namespaces with BBR, get 64 KiB took 35-75 us and 1 MiB
    /// 440-670 us, against 18-22 and 107-132 with cubic (same runs, PEs on different CPUs).
    pub fn with_congestion(mut self, spec: Option<&str>) -> io::Result<TcpCtx> {
        let fd = self.listener.as_raw_fd();
        let sys = wire::congestion(fd)?;
        match spec
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("auto")
        {
            "auto" if sys.starts_with("bbr") => {
                let mut refused = Vec::new();
                for c in ["cubic", "reno"] {
                    match wire::set_congestion(fd, c) {
                        Ok(()) => {
                            self.congestion_note = format!(
                                "congestion control {c} (the system's {sys} paces its sending)"
                            );
                            self.congestion = Some(c.into());
                            return Ok(self);
                        }
                        Err(e) => refused.push(format!("{c}: {e}")),
                    }
                }
                self.congestion_note = format!(
                    "congestion control {sys} (the system's; refused: {})",
                    refused.join(", ")
                );
            }
            "auto" | "system" => {
                self.congestion_note = format!("congestion control {sys} (the system's)");
            }
            name => {
                wire::set_congestion(fd, name).map_err(|e| {
                    let allowed = |f: &str| {
                        std::fs::read_to_string(format!("/proc/sys/net/ipv4/{f}"))
                            .map_or_else(|_| "?".into(), |t| t.trim().to_string())
                    };
                    io::Error::new(
                        e.kind(),
                        format!(
                            "RSHMEM_TCP_CONGESTION={name:?}: the kernel refused it ({e}); this \
                             host lets programs choose {:?} (net.ipv4.\
                             tcp_allowed_congestion_control; root may choose any of {:?}): set one of those, \
                             `auto` or `system`",
                            allowed("tcp_allowed_congestion_control"),
                            allowed("tcp_available_congestion_control")
                        ),
                    )
                })?;
                self.congestion_note = format!("congestion control {name} (RSHMEM_TCP_CONGESTION)");
                self.congestion = Some(name.into());
            }
        }
        Ok(self)
    }

    /// The congestion control set on this PE's connections (`None`: the system's).
    pub fn congestion(&self) -> Option<&str> {
        self.congestion.as_deref()
    }

    /// The address peers connect to (publish it through the bootstrap).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Starts the progress service once every PE's address and the job key are known.
    /// `peers[pe]` is PE `pe`'s listen address.
    pub fn start(self: &Arc<Self>, key: [u8; wire::KEY], peers: Vec<SocketAddr>) {
        let _ = self.key.set(key);
        let _ = self.peers.set(peers);
        let me = self.clone();
        std::thread::Builder::new()
            .name("rshmem-tcp-accept".into())
            .spawn(move || server::accept_loop(me))
            .expect("spawn the TCP accept thread");
    }

    /// An endpoint for PE `pe`.
    pub fn endpoint(self: &Arc<Self>, pe: usize) -> TcpEndpoint {
        TcpEndpoint {
            ctx: self.clone(),
            pe,
        }
    }

    fn peer_addr(&self, pe: usize) -> String {
        self.peers
            .get()
            .and_then(|p| p.get(pe))
            .map_or("?".into(), |a| a.to_string())
    }

    /// Reports a broken connection to `pe` and forgets it.
    #[cold]
    fn fail(&self, pe: usize, what: &str, e: &io::Error, conn: &mut Out) {
        conn.s = None;
        conn.pend.clear();
        (self.abort)(&format!(
            "TCP transport: PE {} lost its connection to PE {pe} ({}) during {what}: {e}; \
             the peer died or exited, or the network between them broke",
            self.me,
            self.peer_addr(pe)
        ));
    }

    /// Opens the connection to `pe` and says hello.
    #[cold]
    fn connect(&self, pe: usize) -> io::Result<TcpStream> {
        let addr = *self
            .peers
            .get()
            .and_then(|p| p.get(pe))
            .ok_or_else(|| io::Error::other("the TCP transport is not started"))?;
        let s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
        wire::tune(s.as_raw_fd(), USER_TIMEOUT_MS, self.congestion())?;
        let mut hello = [0u8; wire::HELLO];
        hello[..8].copy_from_slice(wire::HELLO_MAGIC);
        hello[8..12].copy_from_slice(&(self.me as u32).to_le_bytes());
        hello[12..16].copy_from_slice(&(self.npes as u32).to_le_bytes());
        hello[16..48].copy_from_slice(self.key.get().expect("started"));
        s.set_read_timeout(Some(CONNECT_TIMEOUT))?;
        let fd = s.as_raw_fd();
        // SAFETY: `hello` is a valid local buffer.
        unsafe { wire::write2(fd, hello.as_ptr(), hello.len(), core::ptr::null(), 0) }?;
        let mut ok = [0u8; 8];
        // SAFETY: `ok` is a valid local buffer.
        unsafe { wire::read_exact(fd, ok.as_mut_ptr(), 8) }.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("PE {pe} did not accept the connection (wrong job key?): {e}"),
            )
        })?;
        if &ok != wire::HELLO_OK {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("PE {pe} answered the hello with {ok:?}"),
            ));
        }
        s.set_read_timeout(None)?;
        Ok(s)
    }

    /// Runs `f` on the (possibly new) connection to `pe`; errors end the job.
    #[inline]
    fn with_conn<T>(
        &self,
        pe: usize,
        what: &str,
        f: impl FnOnce(RawFd) -> io::Result<T>,
    ) -> Option<T> {
        let mut g = self.conns[pe].lock().unwrap_or_else(|p| p.into_inner());
        self.send_held(pe, &mut g, what, f)
    }

    /// [`TcpCtx::with_conn`] with the connection's lock held: connects if needed, sends
    /// the held-back `put_nbi`s first (they were issued before), then runs `f`.
    #[inline]
    fn send_held<T>(
        &self,
        pe: usize,
        g: &mut Out,
        what: &str,
        f: impl FnOnce(RawFd) -> io::Result<T>,
    ) -> Option<T> {
        if g.s.is_none() {
            match self.connect(pe) {
                Ok(s) => g.s = Some(s),
                Err(e) => {
                    self.fail(pe, "connect", &e, g);
                    return None;
                }
            }
        }
        let fd = g.s.as_ref().expect("connected").as_raw_fd();
        if !g.pend.is_empty() {
            // SAFETY: `pend` is a live local buffer.
            let r =
                unsafe { wire::write2(fd, g.pend.as_ptr(), g.pend.len(), core::ptr::null(), 0) };
            g.pend.clear();
            self.pending[pe].store(false, Ordering::Relaxed);
            if let Err(e) = r {
                self.fail(pe, "put_nbi", &e, g);
                return None;
            }
        }
        match f(fd) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(pe, what, &e, g);
                None
            }
        }
    }

    /// Splits a [`RemoteAddr`] into (segment, offset).
    #[inline(always)]
    fn split(a: RemoteAddr) -> (u8, u64) {
        (
            (a.addr >> SEG_SHIFT) as u8,
            (a.addr & ((1usize << SEG_SHIFT) - 1)) as u64,
        )
    }

    /// The request header of a put of `len` bytes to `dst`.
    #[inline]
    fn put_header(dst: RemoteAddr, len: usize) -> [u8; wire::REQ] {
        let (seg, off) = Self::split(dst);
        Req {
            op: wire::OP_PUT,
            seg,
            off,
            len: len as u64,
            ..Req::default()
        }
        .encode()
    }

    /// The request header of an atomic `op` (`wire::OP_AMO`, or `OP_AMO_NR` without a
    /// reply) on the word of `W` at `target`.
    #[inline]
    fn amo_header<W: AmoWord>(
        code: u8,
        target: RemoteAddr,
        op: AmoOp,
        operand: W,
        compare: W,
    ) -> [u8; wire::REQ] {
        let (seg, off) = Self::split(target);
        Req {
            op: code,
            seg,
            width: W::SIZE as u8,
            amo: wire::amo_code(op),
            off,
            len: W::SIZE as u64,
            operand: operand.to_u64(),
            compare: compare.to_u64(),
            ..Req::default()
        }
        .encode()
    }

    /// Sends a put of `len` bytes at `src` to `dst` on `pe`.
    ///
    /// # Safety
    /// `src` valid for `len` bytes of reads.
    pub unsafe fn put(&self, pe: usize, dst: RemoteAddr, src: *const u8, len: usize) {
        if len == 0 {
            return;
        }
        let h = Self::put_header(dst, len);
        self.dirty[pe].store(true, Ordering::Relaxed);
        // SAFETY: header local; `src` valid per the contract.
        self.with_conn(pe, "a put", |fd| unsafe {
            wire::write2(fd, h.as_ptr(), h.len(), src, len)
        });
    }

    /// A non-blocking put: up to [`NBI_MAX`] bytes are copied behind the held-back ones
    /// to `pe` and sent with them, in one write, when any other operation to `pe` is
    /// issued, at quiet, when [`NBI_BUF`] bytes are held, or when this PE waits
    /// ([`TcpCtx::send_held_all`]); larger ones are sent at once as [`TcpCtx::put`].
    ///
    /// # Safety
    /// As [`TcpCtx::put`].
    pub unsafe fn put_nbi(&self, pe: usize, dst: RemoteAddr, src: *const u8, len: usize) {
        if len > NBI_MAX {
            // SAFETY: forwarded contract.
            return unsafe { self.put(pe, dst, src, len) };
        }
        if len == 0 {
            return;
        }
        let h = Self::put_header(dst, len);
        self.dirty[pe].store(true, Ordering::Relaxed);
        let mut g = self.conns[pe].lock().unwrap_or_else(|p| p.into_inner());
        g.pend.extend_from_slice(&h);
        // SAFETY: `src` valid for `len` bytes per the contract.
        g.pend
            .extend_from_slice(unsafe { std::slice::from_raw_parts(src, len) });
        if g.pend.len() >= NBI_BUF {
            self.send_held(pe, &mut g, "put_nbi", |_| Ok(()));
        } else {
            self.pending[pe].store(true, Ordering::Relaxed);
            self.any_pending.store(true, Ordering::Release);
        }
    }

    /// Sends the held-back `put_nbi`s to every peer (called by every wait: a PE that
    /// waits for a peer's answer to them must not wait forever). One relaxed load when
    /// none are held.
    #[inline]
    pub fn send_held_all(&self) {
        if self.any_pending.load(Ordering::Relaxed) {
            self.send_held_slow();
        }
    }

    #[cold]
    fn send_held_slow(&self) {
        if !self.any_pending.swap(false, Ordering::Acquire) {
            return;
        }
        for pe in 0..self.npes {
            if self.pending[pe].load(Ordering::Relaxed) {
                self.with_conn(pe, "put_nbi", |_| Ok(()));
            }
        }
    }

    /// Fetches `len` bytes at `src` on `pe` into `dst`.
    ///
    /// # Safety
    /// `dst` valid for `len` bytes of writes.
    pub unsafe fn get(&self, pe: usize, dst: *mut u8, src: RemoteAddr, len: usize) {
        if len == 0 {
            return;
        }
        let (seg, off) = Self::split(src);
        let h = Req {
            op: wire::OP_GET,
            seg,
            off,
            len: len as u64,
            ..Req::default()
        }
        .encode();
        // SAFETY: local header and reply buffers; `dst` valid per the contract.
        self.with_conn(pe, "a get", |fd| unsafe {
            wire::write2(fd, h.as_ptr(), h.len(), core::ptr::null(), 0)?;
            // The header and as much of the data as is there, in one system call.
            let (r, got) = self.wait_reply_into(fd, dst, len)?;
            wire::reply_value(&r)?;
            wire::spin_read_all(fd, dst.add(got), len - got, PURE_SPIN, SPIN)
        });
    }

    /// Atomic `op` on the word at `target` on `pe`; the previous value (0 if the PE is
    /// leaving and the connection is gone).
    pub fn amo<W: AmoWord>(
        &self,
        pe: usize,
        target: RemoteAddr,
        op: AmoOp,
        operand: W,
        compare: W,
    ) -> W {
        let h = Self::amo_header(wire::OP_AMO, target, op, operand, compare);
        let v = self.with_conn(pe, "an atomic operation", |fd| {
            // SAFETY: local buffers.
            unsafe {
                wire::write2(fd, h.as_ptr(), h.len(), core::ptr::null(), 0)?;
                wire::reply_value(&self.wait_reply(fd)?)
            }
        });
        W::from_u64(v.unwrap_or(0))
    }

    /// Atomic `op` on the word at `target` on `pe` without waiting for a reply (a
    /// non-fetching AMO): applied in order after this PE's earlier requests to `pe`,
    /// complete at the next quiet (like a put).
    pub fn amo_nr<W: AmoWord>(&self, pe: usize, target: RemoteAddr, op: AmoOp, operand: W) {
        self.dirty[pe].store(true, Ordering::Relaxed);
        self.signal(pe, target, op, operand);
    }

    /// [`TcpCtx::amo_nr`] that does not make the next quiet send a flush to `pe`: for the
    /// runtime's own synchronization signals, whose completion nobody waits for (the
    /// target waits for the signal itself, and it arrives after everything sent before).
    pub fn signal<W: AmoWord>(&self, pe: usize, target: RemoteAddr, op: AmoOp, operand: W) {
        let h = Self::amo_header(wire::OP_AMO_NR, target, op, operand, W::from_u64(0));
        // SAFETY: local buffer.
        self.with_conn(pe, "an atomic operation", |fd| unsafe {
            wire::write2(fd, h.as_ptr(), h.len(), core::ptr::null(), 0)
        });
    }

    /// A put followed by a non-fetching AMO `op` with `operand` on the signal word `sig`
    /// (`shmem_put_signal`),
    /// in one write: the target applies the signal after the data (one stream, in order),
    /// and both complete at the next quiet. Half the system calls of a put and then an
    /// AMO, each of which carries its packet through the whole network path on this CPU.
    ///
    /// # Safety
    /// As [`TcpCtx::put`].
    pub unsafe fn put_signal<W: AmoWord>(
        &self,
        pe: usize,
        dst: RemoteAddr,
        src: *const u8,
        len: usize,
        (sig, op, operand): (RemoteAddr, AmoOp, W),
    ) {
        let h = Self::put_header(dst, len);
        let a = Self::amo_header(wire::OP_AMO_NR, sig, op, operand, W::from_u64(0));
        // A 0-byte put sends only the signal (the target refuses no empty put, but it
        // would be a header for nothing).
        let hl = if len == 0 { 0 } else { h.len() };
        self.dirty[pe].store(true, Ordering::Relaxed);
        // SAFETY: headers local; `src` valid per the contract.
        self.with_conn(pe, "a put with signal", |fd| unsafe {
            wire::write_all(
                fd,
                &mut [(h.as_ptr(), hl), (src, len), (a.as_ptr(), a.len())],
            )
        });
    }

    /// Waits for the reply header on our connection `fd`: polls it non-blocking for up
    /// to [`SPIN`], serving the incoming connections between polls (a peer may wait for
    /// this PE as this PE waits for it; only requests whose answer cannot block, see
    /// `server::SMALL_GET`), then sleeps in `read` (the server threads serve meanwhile).
    #[inline]
    fn wait_reply(&self, fd: RawFd) -> io::Result<[u8; wire::REP]> {
        // SAFETY: no data buffer (length 0).
        Ok(unsafe { self.wait_reply_into(fd, core::ptr::null_mut(), 0) }?.0)
    }

    /// [`TcpCtx::wait_reply`] for a reply followed by up to `len` bytes of data: reads the
    /// header and whatever of the data has arrived with it into `dst` in one system call;
    /// returns the header and how many data bytes are in `dst` already (only this PE's
    /// replies come on its own connection, one request at a time, so nothing but this
    /// reply's data can follow the header).
    ///
    /// # Safety
    /// `dst` valid for `len` bytes of writes.
    #[inline]
    unsafe fn wait_reply_into(
        &self,
        fd: RawFd,
        dst: *mut u8,
        len: usize,
    ) -> io::Result<([u8; wire::REP], usize)> {
        let mut r = [0u8; wire::REP];
        let start = std::time::Instant::now();
        loop {
            // SAFETY: local header buffer; `dst` valid for `len` bytes (contract).
            if let Some(n) = unsafe { wire::try_read2(fd, r.as_mut_ptr(), wire::REP, dst, len) }? {
                if n < wire::REP {
                    // SAFETY: the rest of the local header buffer.
                    unsafe { wire::read_exact(fd, r.as_mut_ptr().add(n), wire::REP - n) }?;
                    return Ok((r, 0));
                }
                return Ok((r, n - wire::REP));
            }
            self.serve_incoming_from(true);
            let t = start.elapsed();
            if t >= SPIN {
                // SAFETY: local buffer.
                unsafe { wire::read_exact(fd, r.as_mut_ptr(), wire::REP) }?;
                return Ok((r, 0));
            }
            if t >= PURE_SPIN {
                // Leave the CPU to whatever else is runnable on it: the kernel's deferred
                // network work (ksoftirqd), which may be what delivers the reply.
                std::thread::yield_now();
            } else {
                core::hint::spin_loop();
            }
        }
    }

    /// Records `c` as peer `pe`'s connection served by this PE's waits, if it is the
    /// first from `pe`.
    fn register_incoming(&self, pe: usize, c: &Arc<server::InConn>) -> bool {
        let _g = self.order_lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.incoming[pe].set(c.clone()).is_err() {
            return false;
        }
        let n = self.norder.load(Ordering::Relaxed);
        self.order[n].store(pe, Ordering::Relaxed);
        self.norder.store(n + 1, Ordering::Release);
        true
    }

    /// One pass over the incoming connections by a thread of this PE that waits in an
    /// OpenSHMEM call: applies (and answers) the whole requests that have arrived, on
    /// each connection no other thread is reading. Never blocks before a request's first
    /// byte. Returns whether it served any.
    #[inline]
    pub fn serve_incoming(&self) -> bool {
        self.serve_incoming_from(false)
    }

    /// [`TcpCtx::serve_incoming`]; `small_only` from a wait for a reply (see
    /// `server::SMALL_GET`).
    #[inline]
    fn serve_incoming_from(&self, small_only: bool) -> bool {
        let n = self.norder.load(Ordering::Acquire);
        if n == 0 || self.closed.load(Ordering::Relaxed) {
            return false;
        }
        let mut any = false;
        for i in 0..n {
            let pe = self.order[i].load(Ordering::Relaxed);
            if let Some(c) = self.incoming[pe].get() {
                any |= c.serve_waiting(self, small_only);
            }
        }
        any
    }

    /// A thread of this PE starts a wait in which it calls [`TcpCtx::serve_incoming`]
    /// on every round: the server threads stay parked (see [`TcpCtx::waits`]).
    #[inline]
    pub fn enter_wait(&self) {
        self.waits.fetch_add(1 | 1 << 32, Ordering::Relaxed);
    }

    /// The wait of [`TcpCtx::enter_wait`] ends. Wakes nobody: a parked server thread
    /// looks again within [`server::PARK`].
    #[inline]
    pub fn leave_wait(&self) {
        self.waits.fetch_sub(1, Ordering::Relaxed);
    }

    /// (threads in a serving wait now, serving waits entered so far (wrapping)).
    #[inline]
    fn waits(&self) -> (u32, u32) {
        let v = self.waits.load(Ordering::Relaxed);
        (v as u32, (v >> 32) as u32)
    }

    /// Completes every put to `pe` (a flush and its reply), if any was sent since the last.
    pub fn quiet_pe(&self, pe: usize) {
        if !self.dirty[pe].swap(false, Ordering::AcqRel) {
            return;
        }
        let h = Req {
            op: wire::OP_FLUSH,
            ..Req::default()
        }
        .encode();
        self.with_conn(pe, "quiet", |fd| {
            // SAFETY: local buffers.
            unsafe {
                wire::write2(fd, h.as_ptr(), h.len(), core::ptr::null(), 0)?;
                wire::reply_value(&self.wait_reply(fd)?)
            }
        });
    }

    /// Completes every put this PE sent.
    pub fn quiet_all(&self) {
        for pe in 0..self.npes {
            self.quiet_pe(pe);
        }
    }

    /// Leaves (finalize, after its barrier): says goodbye on every outgoing connection,
    /// then serves the incoming ones until each peer has said goodbye too (a peer may
    /// still be reading this PE's memory, or waiting for the reply to its last AMO), at
    /// most [`CLOSE_TIMEOUT`]. Afterwards nothing touches this PE's segments.
    pub fn close(&self) {
        self.quiet_all();
        let bye = Req {
            op: wire::OP_BYE,
            ..Req::default()
        }
        .encode();
        for c in self.conns.iter() {
            let mut g = c.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(s) = g.s.take() {
                // SAFETY: local buffer.
                let _ = unsafe {
                    wire::write2(s.as_raw_fd(), bye.as_ptr(), bye.len(), core::ptr::null(), 0)
                };
            }
        }
        let deadline = std::time::Instant::now() + CLOSE_TIMEOUT;
        let mut n = self.serving.lock().unwrap_or_else(|p| p.into_inner());
        while *n > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                warn(&format!(
                    "rshmem: PE {}: TCP transport: {} peer(s) did not finalize within {CLOSE_TIMEOUT:?}; leaving",
                    self.me, *n
                ));
                break;
            }
            n = self
                .served
                .wait_timeout(n, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        self.closed.store(true, Ordering::Release);
        drop(n);
        // SAFETY: shuts down our own listening socket: the accept thread returns.
        unsafe { libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR) };
    }

    /// One line for SHMEM_INFO.
    pub fn describe(&self) -> String {
        format!(
            "tcp listening on {}, {}",
            self.local_addr(),
            self.congestion_note
        )
    }
}

/// The endpoint of one peer reached over TCP.
#[derive(Clone, Debug)]
pub struct TcpEndpoint {
    ctx: Arc<TcpCtx>,
    pe: usize,
}

impl TcpEndpoint {
    /// A synchronization signal of the runtime ([`TcpCtx::signal`]).
    #[inline]
    pub fn signal<W: AmoWord>(&self, target: RemoteAddr, op: AmoOp, operand: W) {
        self.ctx.signal(self.pe, target, op, operand)
    }

    /// A put and then a signal, in one write ([`TcpCtx::put_signal`]).
    ///
    /// # Safety
    /// `src` valid for `len` bytes of reads.
    #[inline]
    pub unsafe fn put_signal<W: AmoWord>(
        &self,
        dst: RemoteAddr,
        src: *const u8,
        len: usize,
        signal: (RemoteAddr, AmoOp, W),
    ) {
        // SAFETY: forwarded contract.
        unsafe { self.ctx.put_signal(self.pe, dst, src, len, signal) }
    }
}

impl Endpoint for TcpEndpoint {
    #[inline]
    unsafe fn put(&self, dst: RemoteAddr, src: *const u8, len: usize) {
        // SAFETY: forwarded contract.
        unsafe { self.ctx.put(self.pe, dst, src, len) }
    }
    #[inline]
    unsafe fn put_nbi(&self, dst: RemoteAddr, src: *const u8, len: usize) {
        // SAFETY: forwarded contract (the payload is copied or in the kernel on return).
        unsafe { self.ctx.put_nbi(self.pe, dst, src, len) }
    }
    #[inline]
    unsafe fn get(&self, dst: *mut u8, src: RemoteAddr, len: usize) {
        // SAFETY: forwarded contract.
        unsafe { self.ctx.get(self.pe, dst, src, len) }
    }
    #[inline]
    unsafe fn get_nbi(&self, dst: *mut u8, src: RemoteAddr, len: usize) {
        // SAFETY: forwarded contract (blocking: complete on return).
        unsafe { self.ctx.get(self.pe, dst, src, len) }
    }
    #[inline]
    unsafe fn amo<W: AmoWord>(&self, target: RemoteAddr, op: AmoOp, operand: W, compare: W) -> W {
        self.ctx.amo(self.pe, target, op, operand, compare)
    }
    #[inline]
    unsafe fn amo_nr<W: AmoWord>(&self, target: RemoteAddr, op: AmoOp, operand: W) {
        self.ctx.amo_nr(self.pe, target, op, operand)
    }
    #[inline]
    fn fence(&self) {
        // One stream per peer, applied in order by one thread: already ordered.
    }
    #[inline]
    fn quiet(&self) {
        self.ctx.quiet_pe(self.pe);
    }
}

/// Writes `line` and a newline to stderr in one write.
fn warn(line: &str) {
    use std::io::Write;
    let mut b = String::with_capacity(line.len() + 1);
    b.push_str(line);
    b.push('\n');
    let _ = std::io::stderr().lock().write_all(b.as_bytes());
}

#[cfg(test)]
mod tests;
