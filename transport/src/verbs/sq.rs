//! The send queue of each QP: building work requests ([`Wr`], built on the caller's stack
//! and inlined), posting them (at once, or deferred into post lists of small `put_nbi`s),
//! the sequence numbers that completions retire, and the quiet marker.
use super::obj::Qp;
use super::{Channel, STAGE};
use rdma_sys::*;
use std::os::raw::c_int;
use std::ptr::null_mut;

/// The operation of a work request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Write,
    Read,
    FetchAdd,
    CompareSwap,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Write => "RDMA WRITE (put)",
            Op::Read => "RDMA READ (get)",
            Op::FetchAdd => "ATOMIC FETCH_AND_ADD",
            Op::CompareSwap => "ATOMIC CMP_AND_SWP",
        }
    }
    fn opcode(self) -> ibv_wr_opcode::Type {
        match self {
            Op::Write => ibv_wr_opcode::IBV_WR_RDMA_WRITE,
            Op::Read => ibv_wr_opcode::IBV_WR_RDMA_READ,
            Op::FetchAdd => ibv_wr_opcode::IBV_WR_ATOMIC_FETCH_AND_ADD,
            Op::CompareSwap => ibv_wr_opcode::IBV_WR_ATOMIC_CMP_AND_SWP,
        }
    }
}

/// When [`Channel::post`] posts a request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Posting {
    Now,
    Defer,
    Hold,
}

/// Local side of a work request.
#[derive(Clone, Copy)]
pub(super) enum Local {
    /// No data (a zero-length WRITE: the completion marker of `quiet`).
    Empty,
    /// Inline data copied at post time.
    Inline(*const u8),
    /// Registered memory: address and lkey.
    Sge(u64, u32),
}

/// One work request as the endpoint operations describe it (converted to an
/// `ibv_send_wr` by [`Channel::post`]). Plain data on the stack: the builders are
/// `#[inline(always)]`, so it costs what the argument list did.
#[derive(Clone, Copy)]
pub(super) struct Wr {
    pub op: Op,
    pub local: Local,
    pub len: usize,
    pub raddr: u64,
    pub rkey: u32,
    /// Signalled whatever the signalling interval says.
    pub signal: bool,
    /// Atomic operands (compare/add, swap).
    pub atomic: (u64, u64),
    pub how: Posting,
}

impl Wr {
    /// An RDMA WRITE of `len` bytes from `local` to `raddr`/`rkey`, posted now, unsignalled.
    #[inline(always)]
    pub fn write(local: Local, len: usize, raddr: u64, rkey: u32) -> Self {
        Self {
            op: Op::Write,
            local,
            len,
            raddr,
            rkey,
            signal: false,
            atomic: (0, 0),
            how: Posting::Now,
        }
    }
    /// An RDMA READ of `len` bytes from `raddr`/`rkey` into `local`.
    #[inline(always)]
    pub fn read(local: Local, len: usize, raddr: u64, rkey: u32) -> Self {
        Self {
            op: Op::Read,
            ..Self::write(local, len, raddr, rkey)
        }
    }
    /// A NIC atomic (`op` is FetchAdd or CompareSwap) on the 8-byte word at `raddr`, the
    /// old value landing in `local`; always signalled.
    #[inline(always)]
    pub fn atomic(op: Op, local: Local, raddr: u64, rkey: u32, a: u64, b: u64) -> Self {
        Self {
            op,
            signal: true,
            atomic: (a, b),
            ..Self::write(local, 8, raddr, rkey)
        }
    }
    /// Signalled when `yes` (besides the signalling interval).
    #[inline(always)]
    pub fn signalled(self, yes: bool) -> Self {
        Self {
            signal: self.signal || yes,
            ..self
        }
    }
    /// Posted as `how` says.
    #[inline(always)]
    pub fn posting(self, how: Posting) -> Self {
        Self { how, ..self }
    }
}

/// The state of one QP's send queue.
pub(super) struct SendQueue {
    /// `None` until the first post to the peer connects it ([`Channel::connect_peer`]).
    pub qp: Option<Qp>,
    /// Sequence number of the last posted request (first is 1).
    pub sent: u64,
    /// Every request up to this one has completed.
    pub done: u64,
    /// Last signalled request.
    pub last_sig: u64,
    /// The next request carries IBV_SEND_FENCE.
    pub fence: bool,
    /// (op, length, remote address) of recent requests, for error messages.
    pub ops: Vec<(Op, usize, u64)>,
    /// Requests built but not yet posted, oldest first (capacity: the list size + 1, never
    /// reallocated): deferred `put_nbi`s, then possibly the request that posts them all.
    /// Their SGEs are in `pend_sge` (same index); `sg_list` and `next` are set at posting.
    pend: Vec<ibv_send_wr>,
    pend_sge: Vec<ibv_sge>,
    /// Data of the deferred puts: [`STAGE`] bytes per `pend` index (inline: the post copies
    /// it, so the staging slot is free again once the list is posted).
    stage: Vec<u8>,
    /// This QP is in `Channel::pending`.
    listed: bool,
}

impl SendQueue {
    /// The send queue of `qp`, `depth` requests deep, with post lists of `batch`.
    pub fn new(qp: Option<Qp>, depth: u64, batch: usize) -> Self {
        Self {
            qp,
            sent: 0,
            done: 0,
            last_sig: 0,
            fence: false,
            ops: vec![(Op::Write, 0, 0); depth as usize],
            pend: Vec::with_capacity(batch + 1),
            pend_sge: Vec::with_capacity(batch + 1),
            stage: if batch > 1 {
                vec![0; batch * STAGE]
            } else {
                Vec::new()
            },
            listed: false,
        }
    }
}

impl Channel {
    /// Posts a signalled request to `pe` that completes only after every earlier one: a
    /// zero-length RDMA WRITE (RC acknowledges in order; as UCX's flush), or with
    /// `RSHMEM_VERBS_QUIET=read` an 8-byte READ of the peer's first word. A pending fence
    /// stays pending for the next real request.
    pub(super) fn post_marker(&mut self, pe: usize) -> u64 {
        let fence = self.qps[pe].fence;
        self.qps[pe].fence = false;
        let raddr = self.peers[pe]
            .base
            .load(std::sync::atomic::Ordering::Acquire);
        let (rkey, _) = self.rkey(pe, raddr, 8);
        let wr = if self.quiet_read {
            let laddr = self.bounce_at(8) as u64;
            Wr::read(Local::Sge(laddr, self.bounce_lkey()), 8, raddr, rkey)
        } else {
            Wr::write(Local::Empty, 0, raddr, rkey)
        };
        let seq = self.post(pe, wr.signalled(true));
        self.qps[pe].fence = fence;
        seq
    }

    /// Builds one work request to `pe` and returns its sequence number; `wr.how` says when
    /// it is posted:
    /// - [`Posting::Now`]: at once, in one list with any requests queued for that QP;
    /// - [`Posting::Defer`] (an inline RDMA WRITE of at most [`STAGE`] bytes, when post
    ///   lists are on; otherwise as `Now`): its data is copied to the QP's staging area and
    ///   the request queued, to be posted with the next request to that QP, when
    ///   [`Shared::batch`] are queued, or at the next wait ([`Channel::wait`]) or
    ///   [`super::VerbsCtx::progress`];
    /// - [`Posting::Hold`]: queued without staging, for a caller that posts another request
    ///   to the same QP before it returns (the caller's data is still valid then).
    ///
    /// RC executes a QP's requests in posting order, so queueing never reorders requests to
    /// one PE.
    pub(super) fn post(&mut self, pe: usize, wr: Wr) -> u64 {
        let Wr {
            op,
            local,
            len,
            raddr,
            rkey,
            signal: force_signal,
            atomic,
            how,
        } = wr;
        if self.qps[pe].qp.is_none() {
            self.connect_peer(pe);
        }
        let depth = self.depth;
        if self.qps[pe].sent - self.qps[pe].done >= depth - 1 {
            self.wait(|s| s.qps[pe].sent - s.qps[pe].done < depth - 1);
        }
        let defer = how == Posting::Defer
            && self.batch > 1
            && len <= STAGE
            && matches!(local, Local::Inline(_));
        let (signal_every, batch) = (self.sh.signal_every, self.sh.batch);
        let q = &mut self.qps[pe];
        let seq = q.sent + 1;
        let signal = force_signal || seq - q.last_sig >= signal_every;
        let mut flags = 0;
        if signal {
            flags |= ibv_send_flags::IBV_SEND_SIGNALED.0;
        }
        if q.fence {
            flags |= ibv_send_flags::IBV_SEND_FENCE.0;
        }
        let idx = q.pend.len();
        let sge = match local {
            Local::Empty => None,
            Local::Inline(p) => {
                flags |= ibv_send_flags::IBV_SEND_INLINE.0;
                let addr = if defer {
                    let slot = &mut q.stage[idx * STAGE..idx * STAGE + len];
                    // SAFETY: `p` is valid for `len` bytes (the caller's contract).
                    slot.copy_from_slice(unsafe { core::slice::from_raw_parts(p, len) });
                    slot.as_ptr() as u64
                } else {
                    p as u64
                };
                Some(ibv_sge {
                    addr,
                    length: len as u32,
                    lkey: 0,
                })
            }
            Local::Sge(a, k) => Some(ibv_sge {
                addr: a,
                length: len as u32,
                lkey: k,
            }),
        };
        // SAFETY: `ibv_send_wr` is a C struct for which all-zero is valid; pointers are
        // filled in when the list is posted.
        let mut w: ibv_send_wr = unsafe { core::mem::zeroed() };
        w.wr_id = (seq << 16) | pe as u64;
        w.num_sge = sge.is_some() as c_int;
        w.opcode = op.opcode();
        w.send_flags = flags;
        match op {
            Op::FetchAdd | Op::CompareSwap => {
                w.wr.atomic = atomic_t {
                    remote_addr: raddr,
                    compare_add: atomic.0,
                    swap: atomic.1,
                    rkey,
                };
            }
            _ => {
                w.wr.rdma = rdma_t {
                    remote_addr: raddr,
                    rkey,
                }
            }
        }
        debug_assert!(q.pend.len() < q.pend.capacity());
        q.pend.push(w);
        q.pend_sge.push(sge.unwrap_or(ibv_sge {
            addr: 0,
            length: 0,
            lkey: 0,
        }));
        q.fence = false;
        q.sent = seq;
        if signal {
            q.last_sig = seq;
        }
        q.ops[(seq % depth) as usize] = (op, len, raddr);
        let queue = defer || how == Posting::Hold;
        if !queue || q.pend.len() >= batch.max(2) {
            self.flush(pe);
        } else if !q.listed {
            q.listed = true;
            self.pending.push(pe);
        }
        seq
    }

    /// Posts the requests built for `pe` (one `ibv_post_send` of the whole list).
    pub(super) fn flush(&mut self, pe: usize) {
        let depth = self.sh.depth;
        let q = &mut self.qps[pe];
        let n = q.pend.len();
        if n == 0 {
            return;
        }
        for i in 0..n {
            let sge: *mut ibv_sge = &mut q.pend_sge[i];
            let next: *mut ibv_send_wr = if i + 1 < n {
                &mut q.pend[i + 1]
            } else {
                null_mut()
            };
            let w = &mut q.pend[i];
            w.sg_list = if w.num_sge > 0 { sge } else { null_mut() };
            w.next = next;
        }
        let mut bad: *mut ibv_send_wr = null_mut();
        // SAFETY: a list of `n` initialized requests linked by `next`, each SGE pointing at
        // memory valid now (inline data, staged or the caller's, is copied by the post) or
        // registered memory that stays valid until completion (callers guarantee it).
        let rc = match &q.qp {
            // SAFETY: as above.
            Some(qp) => unsafe { qp.post_send(q.pend.as_mut_ptr(), &mut bad) },
            None => unreachable!("requests are built only for connected peers (post)"),
        };
        if rc != 0 {
            let i = if bad.is_null() {
                0
            } else {
                // SAFETY: on failure `bad` points into the list just posted.
                unsafe { bad.offset_from(q.pend.as_ptr()) }.clamp(0, n as isize - 1) as usize
            };
            let seq = q.pend[i].wr_id >> 16;
            let (op, len, _) = q.ops[(seq % depth) as usize];
            self.fail(format!(
                "posting {} of {len} bytes to PE {pe} failed (request {} of a list of {n}): {}",
                op.name(),
                i + 1,
                std::io::Error::from_raw_os_error(rc)
            ));
        }
        q.pend.clear();
        q.pend_sge.clear();
    }

    /// Posts every QP's deferred requests.
    pub(super) fn flush_all(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut p = std::mem::take(&mut self.pending);
        for &pe in &p {
            self.flush(pe);
            self.qps[pe].listed = false;
        }
        p.clear();
        self.pending = p;
    }
}
