//! RMA and atomics: put/get (blocking, non-blocking, strided), AMOs, put-with-signal,
//! fence, quiet.
use super::*;

/// The layout of a strided transfer ([`Runtime::iput`], [`Runtime::iget`]): `nelems`
/// elements of `size` bytes, `dst` elements apart at the destination and `sst` at the
/// source. `Copy` and built inline at the call: costs nothing over separate arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strided {
    /// Destination stride, in elements.
    pub dst: usize,
    /// Source stride, in elements.
    pub sst: usize,
    /// Element size in bytes.
    pub size: usize,
    /// Number of elements.
    pub nelems: usize,
}

/// The signal half of [`Runtime::put_signal`]: the symmetric word at `addr` is set to
/// `value`, or `value` is added to it when `add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    /// Symmetric address of the 64-bit signal word.
    pub addr: usize,
    /// The value set or added.
    pub value: u64,
    /// Add instead of set.
    pub add: bool,
}

impl Runtime {
    /// Copies `len` bytes from local `src` to symmetric `dest` on `pe`.
    ///
    /// # Safety
    /// `src` must be valid for `len` bytes of reads.
    #[inline(always)]
    pub unsafe fn put(&self, dest: usize, src: *const u8, len: usize, pe: usize) -> Result<()> {
        let r = self.remote(dest, len, pe)?;
        crate::pcntr::put(1);
        // SAFETY: `r` lies in `pe`'s segment (translate checked the range); `src` is valid
        // per our contract; the verbs endpoint checks registration itself.
        with_endpoint!(&self.peers[pe].path, |ep| unsafe { ep.put(r, src, len) });
        Ok(())
    }

    /// Non-blocking put: `src` must not change until [`Runtime::quiet`].
    ///
    /// # Safety
    /// `src` must be valid for `len` bytes until the next quiet.
    #[inline(always)]
    pub unsafe fn put_nbi(&self, dest: usize, src: *const u8, len: usize, pe: usize) -> Result<()> {
        let r = self.remote(dest, len, pe)?;
        crate::pcntr::put(1);
        // SAFETY: as `put`.
        with_endpoint!(&self.peers[pe].path, |ep| unsafe {
            ep.put_nbi(r, src, len)
        });
        Ok(())
    }

    /// Copies `len` bytes from symmetric `src` on `pe` to local `dest`.
    ///
    /// # Safety
    /// `dest` must be valid for `len` bytes of writes.
    #[inline(always)]
    pub unsafe fn get(&self, dest: *mut u8, src: usize, len: usize, pe: usize) -> Result<()> {
        let r = self.remote(src, len, pe)?;
        crate::pcntr::get(1);
        // SAFETY: `r` lies in `pe`'s segment; `dest` is valid per our contract.
        with_endpoint!(&self.peers[pe].path, |ep| unsafe { ep.get(dest, r, len) });
        Ok(())
    }

    /// Non-blocking get: `dest` holds the data after [`Runtime::quiet`].
    ///
    /// # Safety
    /// `dest` must be valid for `len` bytes of writes until the next quiet.
    #[inline(always)]
    pub unsafe fn get_nbi(&self, dest: *mut u8, src: usize, len: usize, pe: usize) -> Result<()> {
        let r = self.remote(src, len, pe)?;
        crate::pcntr::get(1);
        // SAFETY: as `get`.
        with_endpoint!(&self.peers[pe].path, |ep| unsafe {
            ep.get_nbi(dest, r, len)
        });
        Ok(())
    }

    /// Strided put of `nelems` elements of `size` bytes: element i goes from
    /// `src + i*sst*size` to `dest + i*dst*size` on `pe` (strides in elements).
    ///
    /// # Safety
    /// Every source element must be valid for reads.
    pub unsafe fn iput(&self, dest: usize, src: *const u8, s: Strided, pe: usize) -> Result<()> {
        let Strided {
            dst,
            sst,
            size,
            nelems,
        } = s;
        if nelems == 0 {
            return self.check_pe(pe);
        }
        let span = strided_span("iput", nelems, dst, size)?;
        strided_span("iput", nelems, sst, size)?;
        let r = self.remote(dest, span, pe)?;
        let (seg, off) = self.translate(dest, span)?;
        crate::pcntr::put(nelems as u64);
        for i in 0..nelems {
            // (each element's own key: elements may lie in different registered chunks)
            let d = RemoteAddr {
                addr: r.addr + i * dst * size,
                key: self.peer_key(pe, seg, off + i * dst * size, size),
            };
            match &self.peers[pe].path {
                // SAFETY: `d` is inside the checked span; sources valid per our contract.
                Path::Shm(ep) => unsafe { ep.put_nbi(d, src.add(i * sst * size), size) },
                // SAFETY: as above; the blocking put (sources need not outlive the call).
                Path::Verbs(ep) => unsafe { ep.put(d, src.add(i * sst * size), size) },
                // SAFETY: as above (a TCP put is complete locally on return).
                Path::Tcp(ep) => unsafe { ep.put(d, src.add(i * sst * size), size) },
            }
        }
        Ok(())
    }

    /// Strided get, the mirror of [`Runtime::iput`].
    ///
    /// # Safety
    /// Every destination element must be valid for writes.
    pub unsafe fn iget(&self, dest: *mut u8, src: usize, s: Strided, pe: usize) -> Result<()> {
        let Strided {
            dst,
            sst,
            size,
            nelems,
        } = s;
        if nelems == 0 {
            return self.check_pe(pe);
        }
        let span = strided_span("iget", nelems, sst, size)?;
        strided_span("iget", nelems, dst, size)?;
        let r = self.remote(src, span, pe)?;
        let (seg, off) = self.translate(src, span)?;
        crate::pcntr::get(nelems as u64);
        for i in 0..nelems {
            // (each element's own key: elements may lie in different registered chunks)
            let s = RemoteAddr {
                addr: r.addr + i * sst * size,
                key: self.peer_key(pe, seg, off + i * sst * size, size),
            };
            // SAFETY: `s` is inside the checked span; destinations valid per contract.
            with_endpoint!(&self.peers[pe].path, |ep| unsafe {
                ep.get_nbi(dest.add(i * dst * size), s, size)
            });
        }
        // Blocking: the elements must be in `dest` on return. Shared-memory gets are
        // complete already; RDMA READs are not until their completions are reaped.
        if let Path::Verbs(ep) = &self.peers[pe].path {
            ep.quiet();
        }
        Ok(())
    }

    /// Atomic `op` on the word at symmetric `addr` on `pe`; returns the old value.
    #[inline(always)]
    pub fn amo<W: AmoWord>(
        &self,
        addr: usize,
        op: AmoOp,
        operand: W,
        compare: W,
        pe: usize,
    ) -> Result<W> {
        let r = self.amo_target::<W>(addr, pe)?;
        // SAFETY: `r` is an aligned word inside `pe`'s segment (a CPU atomic on the mapping,
        // or a NIC atomic on the peer's registered memory).
        Ok(with_endpoint!(&self.peers[pe].path, |ep| unsafe {
            ep.amo(r, op, operand, compare)
        }))
    }

    /// The remote address of the AMO word at symmetric `addr` on `pe`: checks its alignment
    /// and range, and counts the AMO (`shmemx_pcntr`).
    #[inline(always)]
    pub(super) fn amo_target<W: AmoWord>(&self, addr: usize, pe: usize) -> Result<RemoteAddr> {
        if !addr.is_multiple_of(W::SIZE) {
            return Err(Error::Misaligned {
                addr,
                align: W::SIZE,
            });
        }
        let r = self.remote(addr, W::SIZE, pe)?;
        crate::pcntr::amo();
        Ok(r)
    }

    /// Non-fetching atomic `op` on the word at symmetric `addr` on `pe` (add, set, and, or,
    /// xor, a signal): ordered like a put, visible at the latest after the next `quiet`.
    /// Over TCP it is sent without waiting for a reply. `internal`: a signal of the
    /// runtime's own synchronization (barrier, collectives), which no `quiet` needs to
    /// complete: over TCP it does not make the next `quiet` send a flush.
    #[inline(always)]
    pub fn amo_nr<W: AmoWord>(
        &self,
        addr: usize,
        op: AmoOp,
        operand: W,
        pe: usize,
        internal: bool,
    ) -> Result<()> {
        let r = self.amo_target::<W>(addr, pe)?;
        match &self.peers[pe].path {
            Path::Tcp(ep) if internal => ep.signal(r, op, operand),
            // SAFETY: `r` is an aligned word inside `pe`'s segment (as in `amo`).
            path => with_endpoint!(path, |ep| unsafe { ep.amo_nr(r, op, operand) }),
        }
        Ok(())
    }

    /// Put followed by an atomic update of the signal word `sig` on the same PE, ordered so
    /// that a PE that sees the signal sees the data.
    ///
    /// # Safety
    /// `src` must be valid for `len` bytes of reads.
    #[inline]
    pub unsafe fn put_signal(
        &self,
        dest: usize,
        src: *const u8,
        len: usize,
        signal: Signal,
        pe: usize,
    ) -> Result<()> {
        let Signal {
            addr: sig,
            value,
            add,
        } = signal;
        if let (true, Path::Verbs(ep)) = (add, &self.peers[pe].path) {
            if !ep.is_mapped() {
                let (r, s) = (self.remote(dest, len, pe)?, self.remote(sig, 8, pe)?);
                // SAFETY: forwarded contract; both ranges were checked against `pe`'s
                // segments. A small put to a remote peer: one post list.
                if unsafe { ep.put_signal_add(r, src, len, s, value) } {
                    crate::pcntr::put(1);
                    crate::pcntr::amo();
                    return Ok(());
                }
            }
        }
        let op = if add { AmoOp::FetchAdd } else { AmoOp::Set };
        if let Path::Tcp(ep) = &self.peers[pe].path {
            let r = self.remote(dest, len, pe)?;
            let s = self.amo_target::<u64>(sig, pe)?;
            crate::pcntr::put(1);
            // SAFETY: forwarded contract; both ranges were checked against `pe`'s
            // segments. Data and signal in one write, applied in order.
            unsafe { ep.put_signal(r, src, len, (s, op, value)) };
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { self.put(dest, src, len, pe)? };
        self.fence();
        self.amo_nr::<u64>(sig, op, value, pe, false)
    }

    /// Orders this PE's puts, AMOs and signals to each peer.
    #[inline(always)]
    pub fn fence(&self) {
        ShmEndpoint.fence();
        if let Some(v) = &self.verbs {
            v.fence_all();
        }
    }

    /// Completes every operation this PE issued.
    #[inline(always)]
    pub fn quiet(&self) {
        ShmEndpoint.quiet();
        if let Some(v) = &self.verbs {
            v.quiet_all();
        }
        if let Some(t) = &self.tcp {
            t.quiet_all();
        }
        crate::pcntr::quiet();
    }
}

/// Bytes covered by `nelems` (> 0) elements of `size` bytes, `stride` elements apart:
/// `(nelems - 1) * stride * size + size`, or [`Error::Overflow`] naming `call` and the
/// values when that does not fit the address space (a huge stride or count must not wrap
/// into a small span that passes the bounds check).
///
/// ```
/// use rshmem::rt::strided_span;
/// assert_eq!(strided_span("iput", 4, 2, 8).unwrap(), 56);
/// assert!(strided_span("iput", 3, 1 << 62, 4).is_err());
/// ```
pub fn strided_span(
    call: &'static str,
    nelems: usize,
    stride: usize,
    size: usize,
) -> Result<usize> {
    (nelems.max(1) - 1)
        .checked_mul(stride)
        .and_then(|x| x.checked_mul(size))
        .and_then(|x| x.checked_add(size))
        .ok_or_else(|| Error::Overflow {
            call,
            what: format!("{nelems} elements of {size} bytes at a stride of {stride} elements"),
        })
}
