//! The endpoint operations: put, get, put-with-signal and AMOs of one PE to one peer, as
//! work requests split at registration chunks, the port's message size and the bounce
//! ring; and [`VerbsEndpoint`], the transport's [`Endpoint`] for a peer reached over verbs.
use super::mem::{CopyOut, PeerKeys};
use super::sq::{Local, Op, Posting, Wr};
use super::{Channel, MaybeLocked, VerbsCtx, BOUNCE_PIECE, BOUNCE_SIGNAL, DEFERRED};
use crate::{AmoOp, AmoWord, Endpoint, RemoteAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Channel {
    /// Writes `len` bytes from `src` to `dst` on `pe`, in pieces (the first with the key
    /// `dst` carries); `blocking`: returns when `src` may be reused.
    pub(super) fn put(
        &mut self,
        pe: usize,
        dst: RemoteAddr,
        src: *const u8,
        len: usize,
        blocking: bool,
    ) {
        let raddr = dst.addr as u64;
        let mut off = 0;
        let mut wait_for = None;
        while off < len {
            let ra = raddr + off as u64;
            let (rkey, ravail) = match off {
                0 => self.keyed(pe, ra, dst.key, len),
                _ => self.rkey(pe, ra, len - off),
            };
            let mut n = (len - off).min(ravail).min(self.dev.max_msg);
            // SAFETY: `src` is valid for `len` bytes (caller) and `off < len`: in bounds.
            let s = unsafe { src.add(off) };
            if n <= self.max_inline {
                let how = if blocking {
                    Posting::Now
                } else {
                    Posting::Defer
                };
                self.post(pe, Wr::write(Local::Inline(s), n, ra, rkey).posting(how));
            } else if let Some((lkey, lavail)) = self.lkey(s as usize) {
                n = n.min(lavail);
                let wr = Wr::write(Local::Sge(s as u64, lkey), n, ra, rkey);
                wait_for = Some(self.post(pe, wr.signalled(blocking)));
            } else {
                n = n.min(BOUNCE_PIECE);
                let b = self.bounce_alloc(n);
                // SAFETY: `s` is valid for `n` bytes; the bounce range was just reserved.
                unsafe { core::ptr::copy_nonoverlapping(s, self.bounce_at(b), n) };
                let local = Local::Sge(self.bounce_at(b) as u64, self.bounce_lkey());
                let wr = Wr::write(local, n, ra, rkey).signalled(n >= BOUNCE_SIGNAL);
                let seq = self.post(pe, wr);
                self.bounce_used(pe, seq, b, n);
            }
            off += n;
        }
        if let (true, Some(seq)) = (blocking, wait_for) {
            self.wait_seq(pe, seq);
        }
    }

    /// Reads `len` bytes from `src` on `pe` into `dst`, in pieces (the first with the key
    /// `src` carries); `blocking`: returns when the data is in `dst`.
    pub(super) fn get(
        &mut self,
        pe: usize,
        dst: *mut u8,
        src: RemoteAddr,
        len: usize,
        blocking: bool,
    ) {
        let raddr = src.addr as u64;
        let mut off = 0;
        let mut last = 0;
        while off < len {
            let ra = raddr + off as u64;
            let (rkey, ravail) = match off {
                0 => self.keyed(pe, ra, src.key, len),
                _ => self.rkey(pe, ra, len - off),
            };
            let mut n = (len - off).min(ravail).min(self.dev.max_msg);
            // SAFETY: `dst` is valid for `len` bytes (caller) and `off < len`: in bounds.
            let d = unsafe { dst.add(off) };
            if let Some((lkey, lavail)) = self.lkey(d as usize) {
                n = n.min(lavail);
                let end = off + n == len;
                let wr = Wr::read(Local::Sge(d as u64, lkey), n, ra, rkey);
                last = self.post(pe, wr.signalled(blocking && end));
            } else {
                n = n.min(BOUNCE_PIECE);
                let end = off + n == len;
                let b = self.bounce_alloc(n);
                let local = Local::Sge(self.bounce_at(b) as u64, self.bounce_lkey());
                let wr = Wr::read(local, n, ra, rkey);
                last = self.post(pe, wr.signalled((blocking && end) || n >= BOUNCE_SIGNAL));
                self.bounce_used(pe, last, b, n);
                self.copies.push(CopyOut {
                    pe,
                    seq: last,
                    off: b,
                    dst: d as usize,
                    len: n,
                });
            }
            off += n;
        }
        if blocking && len > 0 {
            self.wait_seq(pe, last);
            self.run_copies();
        }
    }

    /// put-with-signal (add) in one `ibv_post_send`: the data as an inline RDMA WRITE held
    /// ([`Posting::Hold`]) and the signal as a fenced, signalled fetch-add posted with it
    /// (one list: one doorbell, one pass through the lock, where put + fence + AMO took two
    /// posts and three). Waits for the fetch-add, which completes after the write (an RC QP
    /// completes in order), as the separate AMO did. `false`, having done nothing, when the
    /// data is not inline-sized or crosses a registration chunk (the caller then takes the
    /// put + fence + AMO path).
    fn put_signal_add(
        &mut self,
        pe: usize,
        dst: RemoteAddr,
        src: *const u8,
        len: usize,
        sig: RemoteAddr,
        value: u64,
    ) -> bool {
        if len == 0 || len > self.max_inline {
            return false;
        }
        let (raddr, sraddr) = (dst.addr as u64, sig.addr as u64);
        let (rkey, ravail) = self.keyed(pe, raddr, dst.key, len);
        if ravail < len {
            return false;
        }
        let (srkey, _) = self.keyed(pe, sraddr, sig.key, 8);
        let depth = self.depth;
        if self.qps[pe].sent - self.qps[pe].done >= depth - 2 {
            self.wait(|s| s.qps[pe].sent - s.qps[pe].done < depth - 2);
        }
        let data = Wr::write(Local::Inline(src), len, raddr, rkey);
        self.post(pe, data.posting(Posting::Hold));
        self.qps[pe].fence = true;
        let old = Local::Sge(self.bounce_at(0) as u64, self.bounce_lkey());
        let seq = self.post(pe, Wr::atomic(Op::FetchAdd, old, sraddr, srkey, value, 0));
        self.wait_seq(pe, seq);
        true
    }

    /// One NIC atomic on the 8-byte word at `raddr` (rkey `key`); returns the old value.
    fn nic(&mut self, pe: usize, raddr: u64, key: u32, op: Op, a: u64, b: u64) -> u64 {
        let (rkey, _) = self.keyed(pe, raddr, key, 8);
        let slot = Local::Sge(self.bounce_at(0) as u64, self.bounce_lkey());
        let seq = self.post(pe, Wr::atomic(op, slot, raddr, rkey, a, b));
        self.wait_seq(pe, seq);
        // SAFETY: the scratch slot is the first 8 bytes of the bounce buffer, written by
        // the completed atomic.
        unsafe { core::ptr::read_volatile(self.bounce_at(0) as *const u64) }
    }

    /// `op` on the word at `target` (its key carried along: the enclosing 64-bit word is in
    /// the same registered chunk).
    fn amo<W: AmoWord>(
        &mut self,
        pe: usize,
        target: RemoteAddr,
        op: AmoOp,
        operand: W,
        compare: W,
    ) -> W {
        let (raddr, key) = (target.addr as u64, target.key);
        if W::SIZE == 8 {
            match op {
                AmoOp::FetchAdd => {
                    return W::from_u64(self.nic(pe, raddr, key, Op::FetchAdd, operand.to_u64(), 0))
                }
                AmoOp::CompareSwap => {
                    return W::from_u64(self.nic(
                        pe,
                        raddr,
                        key,
                        Op::CompareSwap,
                        compare.to_u64(),
                        operand.to_u64(),
                    ))
                }
                _ => {}
            }
        }
        // Everything else on the enclosing aligned 64-bit word (little-endian).
        let word = raddr & !7;
        let shift = ((raddr & 7) * 8) as u32;
        let mask = if W::SIZE == 8 {
            u64::MAX
        } else {
            0xffff_ffffu64 << shift
        };
        let get = |w: u64| W::from_u64((w & mask) >> shift);
        let mut cur = self.nic(pe, word, key, Op::FetchAdd, 0, 0);
        if op == AmoOp::Fetch {
            return get(cur);
        }
        loop {
            let old = get(cur);
            let (o, v) = (old.to_u64(), operand.to_u64());
            let new = match op {
                AmoOp::Fetch => unreachable!("handled above"),
                AmoOp::Set | AmoOp::Swap => v,
                AmoOp::CompareSwap if old != compare => return old,
                AmoOp::CompareSwap => v,
                AmoOp::FetchAdd => o.wrapping_add(v),
                AmoOp::FetchAnd => o & v,
                AmoOp::FetchOr => o | v,
                AmoOp::FetchXor => o ^ v,
            };
            let want = (cur & !mask) | ((new << shift) & mask);
            let got = self.nic(pe, word, key, Op::CompareSwap, cur, want);
            if got == cur {
                return old;
            }
            cur = got;
        }
    }
}

/// The endpoint for one peer reached over verbs.
///
/// With `map` set (a same-node peer in a job that also has remote peers), puts and gets
/// are copies through the shared-memory mapping and only AMOs go through the NIC: with
/// `IBV_ATOMIC_HCA`, NIC atomics are atomic only against each other.
#[derive(Clone, Debug)]
pub struct VerbsEndpoint {
    ctx: Arc<VerbsCtx>,
    pe: usize,
    /// Per segment: (the peer's segment base as a remote address, its length, the same
    /// segment mapped here); a length of 0 is no segment.
    map: Option<[(usize, usize, usize); 2]>,
    /// The peer's rkeys, for [`VerbsEndpoint::rkey`].
    keys: Arc<PeerKeys>,
}

impl VerbsEndpoint {
    /// The endpoint for `pe`; `map` as described on the type.
    pub fn new(ctx: Arc<VerbsCtx>, pe: usize, map: Option<[(usize, usize, usize); 2]>) -> Self {
        let keys = ctx.sh.peers[pe].clone();
        Self { ctx, pe, map, keys }
    }

    /// The rkey of byte `off` of the peer's segment `seg` (0: the symmetric heap, registered
    /// in [`super::CHUNK`]s as it grows; 1: the program's globals), which the runtime
    /// carries in [`RemoteAddr::key`] so that the operations need not look it up. No lock:
    /// one relaxed load. 0 for memory not registered (an operation on it aborts the job,
    /// naming the address).
    #[inline(always)]
    pub fn rkey(&self, seg: usize, off: usize) -> u32 {
        let k = match seg {
            0 => self.keys.chunks.get(off / super::CHUNK),
            1 => Some(&self.keys.data),
            _ => None,
        };
        k.map_or(0, |k| k.load(Ordering::Relaxed))
    }

    /// Whether puts and gets go through a shared-memory mapping.
    pub fn is_mapped(&self) -> bool {
        self.map.is_some()
    }

    /// put-with-signal (add) to an unmapped peer as one post list (data inline + fenced
    /// fetch-add on the signal word); `false`, having done nothing, when that does not
    /// apply (a mapped peer, data larger than the inline size): then put, fence and AMO.
    ///
    /// # Safety
    /// `src` must be valid for `len` bytes; `dst` and `sig` must be the peer's addresses
    /// (as for [`Endpoint::put`] and [`Endpoint::amo`]).
    pub unsafe fn put_signal_add(
        &self,
        dst: RemoteAddr,
        src: *const u8,
        len: usize,
        sig: RemoteAddr,
        value: u64,
    ) -> bool {
        if self.map.is_some() {
            return false;
        }
        self.ctx
            .ch0(|c| c.put_signal_add(self.pe, dst, src, len, sig, value))
    }

    /// The address in this process of the peer's remote address `r`, when mapped.
    #[inline]
    pub fn mapped_addr(&self, r: RemoteAddr) -> Option<usize> {
        self.map?
            .iter()
            .find(|(rb, len, _)| r.addr.wrapping_sub(*rb) < *len)
            .map(|(rb, _, mb)| r.addr - rb + mb)
    }

    #[inline]
    fn mapped(&self, r: RemoteAddr) -> Option<*mut u8> {
        self.mapped_addr(r).map(|a| a as *mut u8)
    }
}

impl Endpoint for VerbsEndpoint {
    unsafe fn put(&self, dst: RemoteAddr, src: *const u8, len: usize) {
        if let Some(d) = self.mapped(dst) {
            // SAFETY: the caller's contract; `d` is the same range in the peer's mapping.
            unsafe { crate::shm::copy_bytes(d, src, len) };
            return;
        }
        self.ctx.ch0(|c| c.put(self.pe, dst, src, len, true));
    }
    unsafe fn put_nbi(&self, dst: RemoteAddr, src: *const u8, len: usize) {
        if let Some(d) = self.mapped(dst) {
            // SAFETY: as `put`.
            unsafe { crate::shm::copy_bytes(d, src, len) };
            return;
        }
        self.ctx.ch0(|c| {
            c.put(self.pe, dst, src, len, false);
            if !c.pending.is_empty() {
                DEFERRED.store(true, Ordering::Relaxed);
            }
        })
    }
    unsafe fn get(&self, dst: *mut u8, src: RemoteAddr, len: usize) {
        if let Some(s) = self.mapped(src) {
            // SAFETY: as `put`.
            unsafe { crate::shm::copy_bytes(dst, s, len) };
            return;
        }
        self.ctx.ch0(|c| c.get(self.pe, dst, src, len, true));
    }
    unsafe fn get_nbi(&self, dst: *mut u8, src: RemoteAddr, len: usize) {
        if let Some(s) = self.mapped(src) {
            // SAFETY: as `put`.
            unsafe { crate::shm::copy_bytes(dst, s, len) };
            return;
        }
        self.ctx.ch0(|c| c.get(self.pe, dst, src, len, false));
    }
    unsafe fn amo<W: AmoWord>(&self, target: RemoteAddr, op: AmoOp, operand: W, compare: W) -> W {
        // Always through the NIC (see the type's documentation), even with a mapping.
        self.ctx
            .ch0(|c| c.amo(self.pe, target, op, operand, compare))
    }
    fn fence(&self) {
        self.ctx.ch0(|c| c.qps[self.pe].fence = true);
    }
    fn quiet(&self) {
        self.ctx.ch0(|c| c.drain());
    }
}

/// A channel of its own for one of the program's contexts (`shmem_ctx_create`): its own CQ,
/// its own RC QP per peer (connected on the first post to that peer, through the peer's
/// connection service, the request naming the channel), its own bounce ring. Quiet and
/// fence act on this channel only.
///
/// A channel opened `unlocked` ([`VerbsCtx::channel`]; for `SHMEM_CTX_PRIVATE` and
/// `SHMEM_CTX_SERIALIZED` contexts) takes no lock at all on its path: the shared state it
/// reads (device, keys, segment bases) is immutable or atomic, and the connection of a new
/// peer takes only the short mutex of the peers' addresses. Otherwise every operation takes
/// the channel's own mutex (never [`VerbsCtx`]'s). Dropping the channel completes its
/// operations and destroys its QPs and CQ.
pub struct VerbsChannel {
    ctx: Arc<VerbsCtx>,
    ch: MaybeLocked<Channel>,
}

impl core::fmt::Debug for VerbsChannel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "verbs channel ({})",
            if self.ch.is_locked() {
                "locked"
            } else {
                "unlocked"
            }
        )
    }
}

impl VerbsCtx {
    /// A new channel for a context: its own CQ (sized as the default context's) and bounce
    /// buffer now; its QPs on the first post to each peer.
    ///
    /// # Safety
    /// With `unlocked`, the caller must never use the channel (any method, drop included)
    /// from two threads at once: it takes no lock.
    pub unsafe fn channel(
        self: &Arc<Self>,
        unlocked: bool,
    ) -> Result<VerbsChannel, super::VerbsError> {
        let (sh, npes) = (self.sh.clone(), self.npes);
        let id = {
            let mut free = self.free_channels.lock().unwrap_or_else(|e| e.into_inner());
            free.pop()
                .unwrap_or_else(|| self.next_channel.fetch_add(1, Ordering::Relaxed))
        };
        let cq = super::obj::Cq::create(&sh.dev.ctx, sh.dev.cqe).map_err(|e| {
            super::VerbsError(format!(
                "ibv_create_cq({}) for a context failed: {e}",
                sh.dev.cqe
            ))
        });
        let ch = cq.and_then(|cq| Channel::new(sh, id, cq, npes));
        let ch = match ch {
            Ok(ch) => ch,
            Err(e) => {
                self.free_channels
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(id);
                return Err(e);
            }
        };
        Ok(VerbsChannel {
            ctx: self.clone(),
            // SAFETY: forwarded contract (unlocked: one thread at a time).
            ch: unsafe { MaybeLocked::new(ch, unlocked) },
        })
    }
}

impl VerbsChannel {
    #[inline(always)]
    fn with<R>(&self, f: impl FnOnce(&mut Channel) -> R) -> R {
        self.ch.with(f)
    }

    /// This channel's number (0 is the default context's; for diagnostics).
    pub fn id(&self) -> u32 {
        self.with(|c| c.id)
    }

    /// Whether this channel takes no lock.
    pub fn is_unlocked(&self) -> bool {
        !self.ch.is_locked()
    }

    /// Put of `len` bytes from `src` to `dst` on `pe` (not a mapped peer: the runtime copies
    /// through the mapping itself). `nbi`: may return before `src` can be reused (complete
    /// at [`VerbsChannel::quiet`]).
    ///
    /// # Safety
    /// As [`Endpoint::put`] / [`Endpoint::put_nbi`].
    #[inline]
    pub unsafe fn put(&self, pe: usize, dst: RemoteAddr, src: *const u8, len: usize, nbi: bool) {
        self.with(|c| c.put(pe, dst, src, len, !nbi))
    }

    /// Get of `len` bytes from `src` on `pe` into `dst`; `nbi`: complete at
    /// [`VerbsChannel::quiet`].
    ///
    /// # Safety
    /// As [`Endpoint::get`] / [`Endpoint::get_nbi`].
    #[inline]
    pub unsafe fn get(&self, pe: usize, dst: *mut u8, src: RemoteAddr, len: usize, nbi: bool) {
        self.with(|c| c.get(pe, dst, src, len, !nbi))
    }

    /// `op` on the word at `target` on `pe` (a NIC atomic); returns the old value.
    ///
    /// # Safety
    /// As [`Endpoint::amo`].
    #[inline]
    pub unsafe fn amo<W: AmoWord>(
        &self,
        pe: usize,
        target: RemoteAddr,
        op: AmoOp,
        operand: W,
        compare: W,
    ) -> W {
        self.with(|c| c.amo(pe, target, op, operand, compare))
    }

    /// Orders this channel's next operation to each peer after its earlier ones.
    pub fn fence(&self) {
        self.with(|c| {
            for q in c.qps.iter_mut() {
                q.fence = true;
            }
        })
    }

    /// Completes every operation issued on this channel (and only those).
    pub fn quiet(&self) {
        self.with(|c| c.drain())
    }

    /// QPs this channel has connected (its loopback pair counted once).
    pub fn connected(&self) -> usize {
        self.with(|c| c.qps.iter().filter(|q| q.qp.is_some()).count())
    }
}

impl Drop for VerbsChannel {
    fn drop(&mut self) {
        let ch = self.ch.get_mut();
        ch.drain();
        let id = ch.id;
        self.ctx
            .free_channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id);
    }
}
