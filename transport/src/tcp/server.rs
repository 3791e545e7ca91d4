//! The progress service: accepts connections, checks the hello, and applies requests to
//! this PE's segments, one thread per incoming connection (blocking reads; see
//! docs/ARCHITECTURE.md "TCP transport" for why not epoll).
use super::wire::{self, Req};
use super::TcpCtx;
use crate::AmoWord;
use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How long a new connection may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// A peer that vanished without goodbye: wait this long before ending the job, so that a
/// cooperative exit (every PE leaving with one status) is not turned into an abort.
const VANISH_GRACE: Duration = Duration::from_millis(500);

/// Connection threads alive (saying hello or serving) per PE of the job, beyond which new
/// connections are dropped at once: every real peer needs one, so only a flood of
/// strangers (each held up to [`HELLO_TIMEOUT`]) reaches it.
const THREADS_PER_PE: usize = 2;

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
    wire::tune(fd, super::USER_TIMEOUT_MS)?;
    // SAFETY: local buffer.
    unsafe { wire::write2(fd, wire::HELLO_OK.as_ptr(), 8, core::ptr::null(), 0) }?;
    s.set_read_timeout(None)?;
    Ok(pe)
}

/// Why a connection ended.
enum End {
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
    let end = serve_loop(ctx, &s, pe);
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
            "TCP transport: the connection from PE {pe} ({}) to PE {} broke: {e}; \
             the peer's host died or the network between them broke",
            ctx.peer_addr(pe),
            ctx.me
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

fn serve_loop(ctx: &TcpCtx, s: &TcpStream, _pe: usize) -> End {
    let fd = s.as_raw_fd();
    let mut h = [0u8; wire::REQ];
    // Payload of small puts lands here first, then goes in with one store of its width.
    let mut small = [0u8; 8];
    loop {
        // SAFETY: local buffer.
        match unsafe { wire::spin_read_full(fd, h.as_mut_ptr(), h.len(), super::SPIN) } {
            Ok(true) => {}
            Ok(false) => return End::Vanished,
            Err(e) => return End::Broken(e),
        }
        let r = Req::decode(&h);
        let res: io::Result<()> = match r.op {
            wire::OP_PUT => {
                let dst = match target(ctx, &r) {
                    Ok(a) => a,
                    Err(m) => return End::Protocol(format!("put: {m}")),
                };
                let len = r.len as usize;
                if len <= 8 {
                    // SAFETY: `small` is local; `dst` is inside our segment (checked).
                    unsafe { wire::read_exact(fd, small.as_mut_ptr(), len) }.map(|_| unsafe {
                        crate::shm::copy_bytes(dst as *mut u8, small.as_ptr(), len)
                    })
                } else {
                    // SAFETY: `dst..dst+len` is inside our mapped segment (checked above).
                    unsafe { wire::read_exact(fd, dst as *mut u8, len) }
                }
            }
            wire::OP_GET => {
                let src = match target(ctx, &r) {
                    Ok(a) => a,
                    Err(m) => return End::Protocol(format!("get: {m}")),
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
            wire::OP_AMO => {
                let a = match target(ctx, &r) {
                    Ok(a) => a,
                    Err(m) => return End::Protocol(format!("atomic: {m}")),
                };
                let Some(op) = wire::amo_op(r.amo) else {
                    return End::Protocol(format!("unknown atomic operation {}", r.amo));
                };
                if !(r.width == 4 || r.width == 8)
                    || r.len != r.width as u64
                    || a % r.width as usize != 0
                {
                    return End::Protocol(format!(
                        "atomic of width {} (length {}) at {:#x}: must be an aligned 4- or 8-byte word",
                        r.width, r.len, r.off
                    ));
                }
                // SAFETY: `a` is an aligned word of our segment (checked above).
                let old = unsafe {
                    if r.width == 8 {
                        u64::cpu_amo(a as *mut u64, op, r.operand, r.compare)
                    } else {
                        u32::cpu_amo(a as *mut u32, op, r.operand as u32, r.compare as u32).to_u64()
                    }
                };
                let rep = wire::reply(r.id, old);
                // SAFETY: local buffer.
                unsafe { wire::write2(fd, rep.as_ptr(), rep.len(), core::ptr::null(), 0) }
            }
            wire::OP_FLUSH => {
                let rep = wire::reply(r.id, 0);
                // SAFETY: local buffer.
                unsafe { wire::write2(fd, rep.as_ptr(), rep.len(), core::ptr::null(), 0) }
            }
            wire::OP_BYE => return End::Clean,
            op => return End::Protocol(format!("unknown operation {op}")),
        };
        if let Err(e) = res {
            return End::Broken(e);
        }
    }
}
