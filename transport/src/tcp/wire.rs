//! Wire format of the TCP transport and the raw-descriptor I/O it needs (reads straight
//! into symmetric memory, vectored writes straight from it: no copy, no allocation).
//!
//! Every request is one fixed 40-byte header, little-endian, followed by the payload of a
//! put; every reply is a 16-byte header followed by the data of a get.
//!
//! ```text
//! request: op u8 | seg u8 | width u8 | amo u8 | id u32 | off u64 | len u64 | operand u64 | compare u64
//! reply:   kind u8 | 0 u8 | 0 u16 | id u32 | value u64
//! hello (client → server, first 48 bytes): "RSHMTCP1" | pe u32 | npes u32 | job key [32]
//! hello reply (server → client): "RSHMOK01"
//! ```
use std::io;
use std::os::fd::RawFd;

/// Put: `len` payload bytes follow; no reply.
pub const OP_PUT: u8 = 1;
/// Get: the reply header is followed by `len` bytes.
pub const OP_GET: u8 = 2;
/// Atomic of `width` (4 or 8) bytes; the reply carries the old value.
pub const OP_AMO: u8 = 3;
/// Flush: replied when every earlier request on the connection has been applied.
pub const OP_FLUSH: u8 = 4;
/// The peer leaves (finalize): the connection ends without error.
pub const OP_BYE: u8 = 5;
/// Atomic without a reply (a non-fetching AMO: add, set, a collective's signal); complete
/// once a later FLUSH is answered, like a put.
pub const OP_AMO_NR: u8 = 6;
/// Reply kind.
pub const REPLY: u8 = 0x80;

/// Request header size.
pub const REQ: usize = 40;
/// Reply header size.
pub const REP: usize = 16;
/// Client hello magic.
pub const HELLO_MAGIC: &[u8; 8] = b"RSHMTCP1";
/// Server hello reply.
pub const HELLO_OK: &[u8; 8] = b"RSHMOK01";
/// Hello size.
pub const HELLO: usize = 48;
/// Job key size.
pub const KEY: usize = 32;

/// A decoded request header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Req {
    /// Operation (`OP_*`).
    pub op: u8,
    /// Target segment.
    pub seg: u8,
    /// AMO width in bytes.
    pub width: u8,
    /// AMO operation (index into [`crate::AmoOp`] order).
    pub amo: u8,
    /// Request id (echoed in the reply).
    pub id: u32,
    /// Offset in the segment.
    pub off: u64,
    /// Bytes.
    pub len: u64,
    /// AMO operand.
    pub operand: u64,
    /// AMO compare value.
    pub compare: u64,
}

impl Req {
    /// Encodes into a fixed buffer.
    pub fn encode(&self) -> [u8; REQ] {
        let mut b = [0u8; REQ];
        b[0] = self.op;
        b[1] = self.seg;
        b[2] = self.width;
        b[3] = self.amo;
        b[4..8].copy_from_slice(&self.id.to_le_bytes());
        b[8..16].copy_from_slice(&self.off.to_le_bytes());
        b[16..24].copy_from_slice(&self.len.to_le_bytes());
        b[24..32].copy_from_slice(&self.operand.to_le_bytes());
        b[32..40].copy_from_slice(&self.compare.to_le_bytes());
        b
    }

    /// Decodes a header.
    pub fn decode(b: &[u8; REQ]) -> Req {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        Req {
            op: b[0],
            seg: b[1],
            width: b[2],
            amo: b[3],
            id: u32::from_le_bytes(b[4..8].try_into().expect("4 bytes")),
            off: u64_at(8),
            len: u64_at(16),
            operand: u64_at(24),
            compare: u64_at(32),
        }
    }
}

/// Encodes a reply header.
pub fn reply(id: u32, value: u64) -> [u8; REP] {
    let mut b = [0u8; REP];
    b[0] = REPLY;
    b[4..8].copy_from_slice(&id.to_le_bytes());
    b[8..16].copy_from_slice(&value.to_le_bytes());
    b
}

/// The value of a reply header, or an error when it is not one.
pub fn reply_value(b: &[u8; REP]) -> io::Result<u64> {
    if b[0] != REPLY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("protocol error: expected a reply, got kind {:#x}", b[0]),
        ));
    }
    Ok(u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")))
}

/// The AMO operation for its wire code.
pub fn amo_op(code: u8) -> Option<crate::AmoOp> {
    use crate::AmoOp::*;
    Some(match code {
        0 => Fetch,
        1 => Set,
        2 => Swap,
        3 => CompareSwap,
        4 => FetchAdd,
        5 => FetchAnd,
        6 => FetchOr,
        7 => FetchXor,
        _ => return None,
    })
}

/// The wire code of an AMO operation.
pub fn amo_code(op: crate::AmoOp) -> u8 {
    use crate::AmoOp::*;
    match op {
        Fetch => 0,
        Set => 1,
        Swap => 2,
        CompareSwap => 3,
        FetchAdd => 4,
        FetchAnd => 5,
        FetchOr => 6,
        FetchXor => 7,
    }
}

/// Reads exactly `len` bytes into `dst`. `Ok(false)` when the peer closed the connection
/// before the first byte (a clean end at a message boundary).
///
/// # Safety
/// `dst` must be valid for `len` bytes of writes.
pub unsafe fn read_full(fd: RawFd, dst: *mut u8, len: usize) -> io::Result<bool> {
    let mut done = 0;
    while done < len {
        // SAFETY: `dst + done .. dst + len` is valid per the contract.
        let n = unsafe { libc::read(fd, dst.add(done) as *mut libc::c_void, len - done) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            if done == 0 {
                return Ok(false);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("connection closed after {done} of {len} bytes"),
            ));
        }
        done += n as usize;
    }
    Ok(true)
}

/// [`read_full`] that first polls for up to `spin` with non-blocking reads straight into
/// `dst` (no sleep), so a reply or the next request that follows closely is read without a sleep
/// and a wake-up (tens of microseconds on a loaded 2-core machine), and with one system
/// call (no separate peek).
///
/// # Safety
/// As [`read_full`].
pub unsafe fn spin_read_full(
    fd: RawFd,
    dst: *mut u8,
    len: usize,
    spin: std::time::Duration,
) -> io::Result<bool> {
    if len == 0 {
        return Ok(true);
    }
    let start = std::time::Instant::now();
    loop {
        // SAFETY: `dst .. dst + len` is valid per the contract.
        let n = unsafe { libc::recv(fd, dst as *mut libc::c_void, len, libc::MSG_DONTWAIT) };
        if n > 0 {
            let n = n as usize;
            // SAFETY: the rest of the same buffer.
            return match unsafe { read_full(fd, dst.add(n), len - n) } {
                Ok(_) if n == len => Ok(true),
                Ok(true) => Ok(true),
                Ok(false) => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("connection closed after {n} of {len} bytes"),
                )),
                Err(e) => Err(e),
            };
        }
        if n == 0 {
            return Ok(false);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => {}
            _ => return Err(e),
        }
        if start.elapsed() >= spin {
            // SAFETY: forwarded contract.
            return unsafe { read_full(fd, dst, len) };
        }
        core::hint::spin_loop();
    }
}

/// The two I/O vectors `a` (`alen` bytes), then `b` (`blen` bytes) of a `sendmsg` or
/// `recvmsg`.
#[inline]
fn iov2(a: *mut u8, alen: usize, b: *mut u8, blen: usize) -> [libc::iovec; 2] {
    [
        libc::iovec {
            iov_base: a as *mut libc::c_void,
            iov_len: alen,
        },
        libc::iovec {
            iov_base: b as *mut libc::c_void,
            iov_len: blen,
        },
    ]
}

/// One non-blocking `recvmsg` into `a` (`alen` bytes), then `b` (`blen` bytes, may be 0):
/// `Ok(None)` when nothing is there (the socket would block), `Ok(Some(n))` with the
/// `n > 0` bytes read (filling `a` first). A close before any byte is an error. For a reply
/// header and the data that follows it in one system call.
///
/// # Safety
/// `a` and `b` must be valid for `alen` and `blen` bytes of writes.
#[inline]
pub unsafe fn try_read2(
    fd: RawFd,
    a: *mut u8,
    alen: usize,
    b: *mut u8,
    blen: usize,
) -> io::Result<Option<usize>> {
    let iov = iov2(a, alen, b, blen);
    loop {
        // SAFETY: the iovecs describe valid buffers per the contract; `msg` is zeroed and
        // then given them (no name, no control data).
        let n = unsafe {
            let mut msg: libc::msghdr = core::mem::zeroed();
            msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = if blen == 0 { 1 } else { 2 };
            libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT)
        };
        if n > 0 {
            return Ok(Some(n as usize));
        }
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed by the peer",
            ));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// Reads exactly `len` bytes into `dst` if the first of them is there now: `Ok(None)` when
/// nothing is (the socket would block), `Ok(Some(false))` when the peer closed the
/// connection at a message boundary; once a byte is read, the rest is read blocking.
///
/// # Safety
/// As [`read_full`].
#[inline]
pub unsafe fn try_read_full(fd: RawFd, dst: *mut u8, len: usize) -> io::Result<Option<bool>> {
    loop {
        // SAFETY: `dst .. dst + len` is valid per the contract.
        let n = unsafe { libc::recv(fd, dst as *mut libc::c_void, len, libc::MSG_DONTWAIT) };
        if n > 0 {
            let n = n as usize;
            if n == len {
                return Ok(Some(true));
            }
            // SAFETY: the rest of the same buffer.
            return match unsafe { read_full(fd, dst.add(n), len - n) } {
                Ok(true) => Ok(Some(true)),
                Ok(false) => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("connection closed after {n} of {len} bytes"),
                )),
                Err(e) => Err(e),
            };
        }
        if n == 0 {
            return Ok(Some(false));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// Reads exactly `len` bytes into `dst`, polling non-blocking while data keeps coming:
/// after `pure` without progress it yields the CPU between polls, after `spin` without
/// progress it sleeps in `read` for the rest. For the data of a get reply, which may
/// arrive in several segments after its header: a thread that slept for each of them
/// would pay a wake-up each time. A close before `len` bytes is an error.
///
/// # Safety
/// As [`read_full`].
pub unsafe fn spin_read_all(
    fd: RawFd,
    dst: *mut u8,
    len: usize,
    pure: std::time::Duration,
    spin: std::time::Duration,
) -> io::Result<()> {
    let mut done = 0;
    let mut last = std::time::Instant::now();
    while done < len {
        // SAFETY: `dst + done .. dst + len` is valid per the contract.
        let n = unsafe {
            libc::recv(
                fd,
                dst.add(done) as *mut libc::c_void,
                len - done,
                libc::MSG_DONTWAIT,
            )
        };
        if n > 0 {
            done += n as usize;
            last = std::time::Instant::now();
            continue;
        }
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("connection closed after {done} of {len} bytes"),
            ));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => {}
            _ => return Err(e),
        }
        let t = last.elapsed();
        if t >= spin {
            // SAFETY: the rest of the same buffer.
            return unsafe { read_exact(fd, dst.add(done), len - done) };
        }
        if t >= pure {
            std::thread::yield_now();
        } else {
            core::hint::spin_loop();
        }
    }
    Ok(())
}

/// [`spin_read_full`] where a close before the first byte is an error too.
///
/// # Safety
/// As [`read_full`].
pub unsafe fn spin_read_exact(
    fd: RawFd,
    dst: *mut u8,
    len: usize,
    spin: std::time::Duration,
) -> io::Result<()> {
    // SAFETY: forwarded contract.
    if unsafe { spin_read_full(fd, dst, len, spin) }? {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed by the peer",
        ))
    }
}

/// Reads exactly `len` bytes; a close before them is an error.
///
/// # Safety
/// As [`read_full`].
pub unsafe fn read_exact(fd: RawFd, dst: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: forwarded contract.
    if unsafe { read_full(fd, dst, len) }? || len == 0 {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed by the peer",
        ))
    }
}

/// Writes two buffers (a header and a payload) with `sendmsg`, completely.
///
/// # Safety
/// `a` and `b` must be valid for `alen` and `blen` bytes of reads.
#[inline]
pub unsafe fn write2(
    fd: RawFd,
    a: *const u8,
    alen: usize,
    b: *const u8,
    blen: usize,
) -> io::Result<()> {
    // SAFETY: forwarded contract.
    unsafe { write_all(fd, &mut [(a, alen), (b, blen)]) }
}

/// Writes the buffers `bufs` (pointer, length; at most 3, empty ones allowed) in order with
/// `sendmsg`, completely: one system call when the socket takes them all. `bufs` is
/// advanced past what was written, also when an error ends the call.
///
/// # Safety
/// Each buffer must be valid for its length of reads.
pub unsafe fn write_all(fd: RawFd, bufs: &mut [(*const u8, usize)]) -> io::Result<()> {
    const MAX: usize = 3;
    assert!(bufs.len() <= MAX, "write_all: at most {MAX} buffers");
    let mut first = 0;
    loop {
        while first < bufs.len() && bufs[first].1 == 0 {
            first += 1;
        }
        if first == bufs.len() {
            return Ok(());
        }
        let mut iov = [libc::iovec {
            iov_base: core::ptr::null_mut(),
            iov_len: 0,
        }; MAX];
        let rest = &bufs[first..];
        for (v, &(p, len)) in iov.iter_mut().zip(rest) {
            *v = libc::iovec {
                iov_base: p as *mut libc::c_void,
                iov_len: len,
            };
        }
        // MSG_NOSIGNAL: a broken connection is an error here, not a SIGPIPE.
        // SAFETY: the iovecs describe valid buffers per the contract; `msg` is zeroed and
        // then given them (no name, no control data).
        let n = unsafe {
            let mut msg: libc::msghdr = core::mem::zeroed();
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = rest.len();
            libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut n = n as usize;
        for b in bufs[first..].iter_mut() {
            let d = n.min(b.1);
            // SAFETY: advancing within the buffer.
            b.0 = unsafe { b.0.add(d) };
            b.1 -= d;
            n -= d;
        }
    }
}

/// Sets an integer socket option.
pub fn setsockopt(fd: RawFd, level: i32, name: i32, v: i32) -> io::Result<()> {
    // SAFETY: passes a valid int for the option.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &v as *const i32 as *const libc::c_void,
            core::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// No Nagle; keepalive probes after 2 s idle, every 1 s, 3 lost = dead; unacknowledged
/// data for more than `user_timeout_ms` = dead. A dead host or a cut link then ends a
/// blocked read or write with an error instead of hanging. At most [`NOTSENT_LOWAT`] bytes
/// queued unsent; the congestion control `congestion`, if given (see
/// `TcpCtx::with_congestion`).
pub fn tune(fd: RawFd, user_timeout_ms: i32, congestion: Option<&str>) -> io::Result<()> {
    setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)?;
    setsockopt(
        fd,
        libc::IPPROTO_TCP,
        libc::TCP_NOTSENT_LOWAT,
        NOTSENT_LOWAT,
    )?;
    if let Some(cc) = congestion {
        set_congestion(fd, cc)?;
    }
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 2)?;
    setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 1)?;
    setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3)?;
    setsockopt(
        fd,
        libc::IPPROTO_TCP,
        libc::TCP_USER_TIMEOUT,
        user_timeout_ms,
    )?;
    Ok(())
}

/// Bytes a connection may hold unsent before a write waits (`TCP_NOTSENT_LOWAT`). Without
/// a bound, a large write leaves most of its data queued in the kernel, and the kernel
/// sends it from whichever CPU processes the peer's acknowledgements: on a path that
/// delivers each sending CPU's packets through that CPU's own queue (veth, the namespaces
/// of the tests; software tunnels), two CPUs then send the one stream at once, the peer sees
/// it out of order and this side retransmits, and the connection falls into a slow mode
/// for the rest of the job (measured: 1 MiB put_bw 0.9-1.9 GB/s in such runs against
/// 9.6-11.5 GB/s). With the bound the writer itself sends nearly all of it, in order.
pub const NOTSENT_LOWAT: i32 = 128 << 10;

/// The congestion control of a TCP socket (`TCP_CONGESTION`).
pub fn congestion(fd: RawFd) -> io::Result<String> {
    let mut buf = [0u8; 32];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: `buf` is valid for `len` bytes; the kernel writes at most `len` and sets it.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            buf.as_mut_ptr() as *mut libc::c_void,
            &mut len,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    let b = &buf[..(len as usize).min(buf.len())];
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    Ok(String::from_utf8_lossy(&b[..end]).into_owned())
}

/// Sets the congestion control of a TCP socket (`TCP_CONGESTION`): `ENOENT` when the
/// kernel has no such algorithm, `EPERM` when it is not among those unprivileged
/// processes may choose (`net.ipv4.tcp_allowed_congestion_control`).
pub fn set_congestion(fd: RawFd, name: &str) -> io::Result<()> {
    // SAFETY: `name` is valid for `len` bytes of reads.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_ptr() as *const libc::c_void,
            name.len() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Constant-time comparison of two keys (no early exit on the first differing byte).
pub fn key_eq(a: &[u8; KEY], b: &[u8; KEY]) -> bool {
    let mut d = 0u8;
    for i in 0..KEY {
        d |= a[i] ^ b[i];
    }
    // black_box: keep the compiler from turning the fold into an early-exit compare.
    core::hint::black_box(d) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `spin_read_full`: a message that arrives during the spin, one that arrives after it
    /// (the blocking read), one split in two writes, a clean close at a message boundary,
    /// and a close in the middle of a message.
    #[test]
    fn spin_read_full_reads_whole_messages_and_reports_closes() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        use std::time::Duration;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut w = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (r, _) = l.accept().unwrap();
        let fd = r.as_raw_fd();
        let spin = Duration::from_micros(50);
        let mut b = [0u8; 6];
        let t = std::thread::spawn(move || {
            w.write_all(b"abcdef").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            w.write_all(b"ghijkl").unwrap();
            w.write_all(b"mno").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            w.write_all(b"pqr").unwrap();
            w.write_all(b"stu").unwrap();
            w
        });
        for want in [b"abcdef", b"ghijkl", b"mnopqr"] {
            // SAFETY: local buffer.
            assert!(unsafe { spin_read_full(fd, b.as_mut_ptr(), b.len(), spin) }.unwrap());
            assert_eq!(&b, want);
        }
        drop(t.join().unwrap()); // closes after "stu": 3 of 6 bytes
                                 // SAFETY: local buffer.
        let e = unsafe { spin_read_exact(fd, b.as_mut_ptr(), b.len(), spin) }.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
        assert!(e.to_string().contains("3 of 6 bytes"), "{e}");
        // SAFETY: local buffer.
        assert!(!unsafe { spin_read_full(fd, b.as_mut_ptr(), b.len(), spin) }.unwrap());
    }

    /// `spin_read_all`: pieces that follow closely, one that comes after the spin (the
    /// blocking read), and a close before the end.
    #[test]
    fn spin_read_all_reads_pieces_and_reports_a_short_close() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        use std::time::Duration;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut w = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (r, _) = l.accept().unwrap();
        let fd = r.as_raw_fd();
        let (pure, spin) = (Duration::from_micros(3), Duration::from_micros(50));
        let t = std::thread::spawn(move || {
            w.write_all(b"abc").unwrap();
            w.write_all(b"def").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            w.write_all(b"ghi").unwrap();
            w.write_all(b"jk").unwrap();
            w
        });
        let mut b = [0u8; 9];
        // SAFETY: local buffer.
        unsafe { spin_read_all(fd, b.as_mut_ptr(), 9, pure, spin) }.unwrap();
        assert_eq!(&b, b"abcdefghi");
        drop(t.join().unwrap()); // "jk", then closed
                                 // SAFETY: local buffer.
        let e = unsafe { spin_read_all(fd, b.as_mut_ptr(), 4, pure, spin) }.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
    }

    /// `write_all`: three buffers (empty ones among them) larger than the socket takes in
    /// one call, against a reader that drains slowly: every byte arrives, in order.
    #[test]
    fn write_all_writes_every_buffer_in_order_across_partial_writes() {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let w = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut r, _) = l.accept().unwrap();
        // A blocking send that has waited 5 ms returns what it wrote so far: partial
        // writes, while the reader drains 64 KiB every 2 ms for its first MiB.
        w.set_write_timeout(Some(std::time::Duration::from_millis(5)))
            .unwrap();
        let a: Vec<u8> = (0..40u32).map(|i| i as u8).collect();
        let b: Vec<u8> = (0..(6u32 << 20)).map(|i| (i % 251) as u8).collect();
        let c: Vec<u8> = (0..40u32).map(|i| 200 - i as u8).collect();
        let want: Vec<u8> = [&a[..], &b[..], &c[..]].concat();
        let n = want.len();
        let t = std::thread::spawn(move || {
            let mut got = vec![0u8; n];
            let mut done = 0;
            while done < n {
                let k = r.read(&mut got[done..(done + 65536).min(n)]).unwrap();
                assert!(k > 0, "closed after {done} bytes");
                done += k;
                if done < (1 << 20) {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
            }
            got
        });
        let mut bufs = [
            (a.as_ptr(), a.len()),
            (core::ptr::null(), 0),
            (b.as_ptr(), b.len()),
        ];
        // A send that wrote nothing in 5 ms fails with WouldBlock (a loaded machine); `bufs`
        // then still says what is left, and the call is repeated.
        // SAFETY: the vectors outlive the calls.
        while let Err(e) = unsafe { write_all(w.as_raw_fd(), &mut bufs) } {
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
        }
        assert!(bufs.iter().all(|b| b.1 == 0));
        // SAFETY: as above.
        unsafe {
            write_all(
                w.as_raw_fd(),
                &mut [(c.as_ptr(), c.len()), (core::ptr::null(), 0)],
            )
        }
        .unwrap();
        assert!(t.join().unwrap() == want, "bytes differ");
    }

    #[test]
    fn header_round_trip() {
        let r = Req {
            op: OP_AMO,
            seg: 1,
            width: 8,
            amo: 3,
            id: 7,
            off: 1 << 40,
            len: 8,
            operand: u64::MAX,
            compare: 42,
        };
        assert_eq!(Req::decode(&r.encode()), r);
        for c in 0..8 {
            assert_eq!(amo_code(amo_op(c).unwrap()), c);
        }
        assert!(amo_op(8).is_none());
        assert_eq!(reply_value(&reply(3, 99)).unwrap(), 99);
        assert!(reply_value(&[0u8; REP]).is_err());
    }

    #[test]
    fn keys_compare() {
        let a = [7u8; KEY];
        let mut b = a;
        assert!(key_eq(&a, &b));
        b[31] ^= 1;
        assert!(!key_eq(&a, &b));
    }
}
