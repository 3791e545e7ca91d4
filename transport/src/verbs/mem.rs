//! Memory: registration of segment 0 in [`CHUNK`]s and of segment 1 whole, the keys
//! (our lkeys, the peers' rkeys and the records that publish them), and the bounce ring
//! for unregistered user buffers (with the copy-out of gets that land there).
use super::conn::Rd;
use super::obj::{full_access, Mr, Pd};
use super::{err, Channel, Shared, State, VerbsCtx, VerbsError, BOUNCE_LEN, CHUNK, SCRATCH};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// What we know of a peer's memory.
pub(super) struct Remote {
    /// Base of its segment 0.
    pub base: u64,
    /// rkeys of its registered chunks of segment 0.
    pub rkeys: Vec<u32>,
    /// The peer's segment 1 (the program's globals): base, length, rkey; length 0 if none.
    pub data: (u64, usize, u32),
    /// The same keys (and addresses) for the runtime and the private channels, readable
    /// without the lock.
    pub keys: Arc<PeerKeys>,
}

impl Remote {
    /// A peer whose segment 0 is `seg_len` bytes (as ours), nothing known yet.
    pub fn new(seg_len: usize) -> Self {
        Self {
            base: 0,
            rkeys: Vec::new(),
            data: (0, 0, 0),
            keys: Arc::new(PeerKeys {
                chunks: (0..seg_len.div_ceil(CHUNK))
                    .map(|_| AtomicU32::new(0))
                    .collect(),
                data: AtomicU32::new(0),
                base: AtomicU64::new(0),
                data_base: AtomicU64::new(0),
                data_len: AtomicU64::new(0),
            }),
        }
    }

    /// Sets the peer's segment bases (from its init record), here and in [`PeerKeys`].
    pub fn set_bases(&mut self, base: u64, data: (u64, usize, u32)) {
        self.base = base;
        self.data = data;
        self.keys.base.store(base, Ordering::Release);
        self.keys.data_base.store(data.0, Ordering::Release);
        self.keys.data_len.store(data.1 as u64, Ordering::Release);
        self.keys.data.store(data.2, Ordering::Release);
    }
}

impl Remote {
    /// Installs a key record ([`State::key_record`]) of PE `pe`: rkeys from chunk `first`
    /// on, in our table and in the runtime's lock-free copy.
    fn set_keys(&mut self, pe: usize, rec: &[u8]) -> Result<(), VerbsError> {
        let mut r = Rd(rec);
        let first = r.u32()? as usize;
        let n = r.u32()? as usize;
        if self.rkeys.len() < first {
            return err(format!(
                "PE {pe} published rkeys from chunk {first}, we know {}",
                self.rkeys.len()
            ));
        }
        let table = &self.keys.chunks;
        if first + n > table.len() {
            return err(format!(
                "PE {pe} published rkeys for {} chunks, its segment has {}",
                first + n,
                table.len()
            ));
        }
        self.rkeys.truncate(first);
        for i in first..first + n {
            let k = r.u32()?;
            self.rkeys.push(k);
            table[i].store(k, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// A peer's rkeys as the runtime reads them, without the lock, to carry them in its
/// [`crate::RemoteAddr`] ([`super::VerbsEndpoint::rkey`]): one per chunk of segment 0 (0
/// until registered), and segment 1's; and the bases and length that the channels check
/// addresses against ([`Shared::avail`]). Written under the lock when records arrive;
/// read after the collective that published them.
#[derive(Debug)]
pub(super) struct PeerKeys {
    pub chunks: Box<[AtomicU32]>,
    pub data: AtomicU32,
    /// Base of the peer's segment 0 in its address space.
    pub base: AtomicU64,
    /// Base and length of the peer's segment 1 (length 0: none).
    pub data_base: AtomicU64,
    pub data_len: AtomicU64,
}

/// A pending copy out of the bounce buffer (get through the bounce buffer).
pub(super) struct CopyOut {
    pub pe: usize,
    pub seq: u64,
    pub off: usize,
    pub dst: usize,
    pub len: usize,
}

/// Bytes this process has registered (pinned) with `ibv_reg_mr`, for [`VerbsCtx::stats`].
pub(super) static REGISTERED: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// Registers `[addr, addr+len)` with full access; the error names the locked-memory limit.
///
/// # Safety
/// The range must stay mapped for the life of the region.
pub(super) unsafe fn reg(pd: &Arc<Pd>, addr: usize, len: usize) -> Result<Mr, VerbsError> {
    // SAFETY: the caller's contract.
    match unsafe { Mr::reg(pd, addr, len, full_access()) } {
        Ok(mr) => {
            REGISTERED.fetch_add(len, std::sync::atomic::Ordering::Relaxed);
            Ok(mr)
        }
        Err(e) => {
            // SAFETY: a plain C struct, all-zero is valid.
            let mut rl: libc::rlimit = unsafe { core::mem::zeroed() };
            // SAFETY: `rl` is a valid out-pointer.
            unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut rl) };
            let lim = if rl.rlim_cur == libc::RLIM_INFINITY {
                "unlimited".to_string()
            } else {
                format!("{} KiB", rl.rlim_cur / 1024)
            };
            err(format!(
                "memory registration (ibv_reg_mr) of {len} bytes at {addr:#x} failed: {e}. \
                 RDMA pins registered memory and the locked-memory limit (ulimit -l) is {lim}: \
                 raise it (`ulimit -l unlimited`, `* - memlock unlimited` in /etc/security/limits.conf, \
                 or LimitMEMLOCK=infinity for a systemd service), or lower SHMEM_SYMMETRIC_SIZE"
            ))
        }
    }
}

impl VerbsCtx {
    /// Registers the chunks that cover the first `in_use` bytes of segment 0, if any are
    /// missing. Returns the record of the new rkeys to publish (same decision on every
    /// PE when `in_use` is symmetric), or `None` when nothing changed.
    pub fn grow(&self, in_use: usize) -> Result<Option<Vec<u8>>, VerbsError> {
        let mut st = self.lock();
        let first = st.mrs.len();
        st.register_upto(in_use)?;
        Ok((st.mrs.len() > first).then(|| st.key_record(first)))
    }

    /// Installs a record from [`VerbsCtx::grow`] of PE `pe`.
    pub fn add_keys(&self, pe: usize, rec: &[u8]) -> Result<(), VerbsError> {
        self.lock().set_keys(pe, rec)
    }

    /// Base address of `pe`'s segment 0 in its own address space (after [`VerbsCtx::connect`]).
    pub fn remote_base(&self, pe: usize) -> usize {
        self.lock().remote[pe].base as usize
    }

    /// Base address of `pe`'s segment 1 (its program globals) in its own address space, or
    /// 0 when it has none.
    pub fn remote_data_base(&self, pe: usize) -> usize {
        self.lock().remote[pe].data.0 as usize
    }
}

impl State {
    pub(super) fn register_upto(&mut self, in_use: usize) -> Result<(), VerbsError> {
        let want = in_use.clamp(1, self.seg_len).div_ceil(CHUNK);
        while self.mrs.len() < want {
            let off = self.mrs.len() * CHUNK;
            let len = CHUNK.min(self.seg_len - off);
            // SAFETY: the chunk lies inside the caller's segment, mapped for the life of
            // the context (`VerbsCtx::open`).
            let mr = unsafe { reg(&self.dev.pd, self.seg_base + off, len)? };
            self.lkeys[self.mrs.len()].store(mr.lkey(), Ordering::Release);
            self.mrs.push(mr);
        }
        Ok(())
    }

    pub(super) fn key_record(&self, first: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(first as u32).to_le_bytes());
        v.extend_from_slice(&((self.mrs.len() - first) as u32).to_le_bytes());
        for mr in &self.mrs[first..] {
            v.extend_from_slice(&mr.rkey().to_le_bytes());
        }
        v
    }

    pub(super) fn set_keys(&mut self, pe: usize, rec: &[u8]) -> Result<(), VerbsError> {
        self.remote[pe].set_keys(pe, rec)
    }
}

impl Shared {
    /// Bytes left in the registered chunk (or segment 1) that holds `raddr` on `pe`;
    /// aborts, naming the address, when it is not in registered memory. No lock: reads
    /// the peer's [`PeerKeys`].
    #[inline]
    pub(super) fn avail(&self, pe: usize, raddr: u64, len: usize) -> usize {
        let k = &self.peers[pe];
        let base = k.base.load(Ordering::Acquire);
        let off = raddr.wrapping_sub(base) as usize;
        if off < self.seg_len && k.chunks[off / CHUNK].load(Ordering::Acquire) != 0 {
            return (CHUNK - off % CHUNK).min(self.seg_len - off);
        }
        let doff = raddr.wrapping_sub(k.data_base.load(Ordering::Acquire)) as usize;
        let dlen = k.data_len.load(Ordering::Acquire) as usize;
        if doff < dlen {
            return dlen - doff;
        }
        let n = k
            .chunks
            .iter()
            .take_while(|c| c.load(Ordering::Relaxed) != 0)
            .count();
        self.fail(format!(
            "address {raddr:#x} (+{len} bytes) on PE {pe} is outside its registered memory \
             ({} bytes registered from {base:#x})",
            n * CHUNK,
        ))
    }

    /// `key`, the rkey the runtime carried for `raddr` on `pe`, and the bytes left in its
    /// chunk ([`Shared::avail`]). Debug builds check the key against the peer's table.
    #[inline]
    pub(super) fn keyed(&self, pe: usize, raddr: u64, key: u32, len: usize) -> (u32, usize) {
        let avail = self.avail(pe, raddr, len);
        debug_assert_eq!(
            key,
            self.rkey(pe, raddr, len).0,
            "the remote key carried for {raddr:#x} on PE {pe} is not the registered one"
        );
        (key, avail)
    }

    /// rkey and bytes left in its chunk for `raddr` on `pe`, looked up here (for the
    /// pieces after the first of a long transfer, and the quiet marker).
    #[inline]
    pub(super) fn rkey(&self, pe: usize, raddr: u64, len: usize) -> (u32, usize) {
        let avail = self.avail(pe, raddr, len);
        let k = &self.peers[pe];
        let off = raddr.wrapping_sub(k.base.load(Ordering::Acquire)) as usize;
        if off < self.seg_len {
            let c = k.chunks[off / CHUNK].load(Ordering::Acquire);
            if c != 0 {
                return (c, avail);
            }
        }
        (k.data.load(Ordering::Acquire), avail)
    }

    /// lkey and bytes left in its chunk when `addr` is in our registered segment.
    #[inline]
    pub(super) fn lkey(&self, addr: usize) -> Option<(u32, usize)> {
        if let Some((b, l, mr)) = &self.data {
            let off = addr.wrapping_sub(*b);
            if off < *l {
                return Some((mr.lkey(), l - off));
            }
        }
        let off = addr.wrapping_sub(self.seg_base);
        if off >= self.seg_len {
            return None;
        }
        match self.lkeys[off / CHUNK].load(Ordering::Acquire) {
            0 => None,
            k => Some((k, (CHUNK - off % CHUNK).min(self.seg_len - off))),
        }
    }
}

impl Channel {
    #[inline(always)]
    pub(super) fn bounce_lkey(&self) -> u32 {
        self.bounce_mr.lkey()
    }

    /// Address of byte `off` of the bounce buffer.
    #[inline(always)]
    pub(super) fn bounce_at(&self, off: usize) -> *mut u8 {
        // (wrapping: no unsafe; callers pass offsets below BOUNCE_LEN)
        debug_assert!(off < BOUNCE_LEN);
        self.bounce.ptr().wrapping_add(off)
    }

    /// Reserves `n` bytes (at most [`super::BOUNCE_PIECE`]) of the bounce ring. When the
    /// ring is full, waits for its oldest range's request (signalling that QP's tail first
    /// if needed). The caller records the range with [`State::bounce_used`] after posting.
    pub(super) fn bounce_alloc(&mut self, n: usize) -> usize {
        let n64 = n.div_ceil(64) * 64;
        debug_assert!(n64 <= BOUNCE_LEN - SCRATCH);
        loop {
            if !self.copies.is_empty() {
                self.run_copies(); // a get's range is free only after its copy-out
            }
            while let Some(&(pe, seq, _, _)) = self.bounce_live.front() {
                if self.qps[pe].done < seq {
                    break;
                }
                self.bounce_live.pop_front();
            }
            let head = self.bounce_head;
            let off = match self.bounce_live.front() {
                None => Some(SCRATCH),
                // not wrapped: free space after head, else wrap to the start
                Some(&(_, _, tail, _)) if head > tail => {
                    if head + n64 <= BOUNCE_LEN {
                        Some(head)
                    } else if SCRATCH + n64 <= tail {
                        Some(SCRATCH)
                    } else {
                        None
                    }
                }
                // wrapped: free space between head and the oldest range
                Some(&(_, _, tail, _)) => (head + n64 <= tail).then_some(head),
            };
            if let Some(off) = off {
                self.bounce_head = off + n64;
                return off;
            }
            let (pe, seq, _, _) = self.bounce_live[0];
            if self.qps[pe].last_sig < seq {
                self.post_marker(pe);
            }
            self.wait_seq(pe, seq);
        }
    }

    /// Records that request `seq` to `pe` uses the bounce range at `off` (`n` bytes).
    pub(super) fn bounce_used(&mut self, pe: usize, seq: u64, off: usize, n: usize) {
        self.bounce_live
            .push_back((pe, seq, off, n.div_ceil(64) * 64));
    }

    /// Copies completed gets out of the bounce buffer.
    pub(super) fn run_copies(&mut self) {
        let mut i = 0;
        while i < self.copies.len() {
            let c = &self.copies[i];
            if self.qps[c.pe].done >= c.seq {
                // SAFETY: the READ into [off, off+len) of the bounce buffer has completed;
                // `dst` was promised valid by the get's caller until completion/quiet.
                unsafe {
                    core::ptr::copy_nonoverlapping(self.bounce_at(c.off), c.dst as *mut u8, c.len)
                };
                self.copies.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(first: u32, keys: &[u32]) -> Vec<u8> {
        let mut v = first.to_le_bytes().to_vec();
        v.extend_from_slice(&(keys.len() as u32).to_le_bytes());
        keys.iter()
            .for_each(|k| v.extend_from_slice(&k.to_le_bytes()));
        v
    }

    #[test]
    fn published_keys_reach_the_runtimes_table() {
        let mut r = Remote::new(3 * CHUNK + 1); // 4 chunks
        let load = |r: &Remote| -> Vec<u32> {
            r.keys
                .chunks
                .iter()
                .map(|k| k.load(Ordering::Relaxed))
                .collect()
        };
        r.set_keys(1, &record(0, &[7])).unwrap();
        assert_eq!((r.rkeys.clone(), load(&r)), (vec![7], vec![7, 0, 0, 0]));
        r.set_keys(1, &record(1, &[8, 9])).unwrap();
        assert_eq!(
            (r.rkeys.clone(), load(&r)),
            (vec![7, 8, 9], vec![7, 8, 9, 0])
        );
        let e = r.set_keys(1, &record(5, &[1])).unwrap_err().0;
        assert!(
            e.contains("PE 1 published rkeys from chunk 5, we know 3"),
            "{e}"
        );
        let e = r.set_keys(1, &record(3, &[1, 2])).unwrap_err().0;
        assert!(e.contains("rkeys for 5 chunks, its segment has 4"), "{e}");
        let e = r.set_keys(1, &record(0, &[1])[..9]).unwrap_err().0;
        assert!(e.contains("corrupt connection record"), "{e}");
    }
}
