//! Communication contexts (OpenSHMEM `shmem_ctx_t`): [`Ctx`] and the context forms of
//! put/get/AMO/fence/quiet.
//!
//! Over verbs a context owns a channel of the transport ([`VerbsChannel`]): its own CQ,
//! its own QP to each peer it talks to (connected on its first operation to that peer),
//! its own bounce ring; its fence and quiet order and complete only its own operations,
//! and a private or serialized context takes no lock at all on its path. Peers reached
//! through shared memory (same node) and TCP keep the default path: a context there is
//! the default context (its quiet also completes this PE's TCP operations), which the
//! specification allows (a context is a hint for independence, never a requirement).
use super::*;
use rshmem_transport::verbs::VerbsChannel;

/// A communication context of this PE. Made by [`Runtime::ctx_create`]; its operations are
/// the `ctx_*` methods of [`Runtime`]. Without verbs, or with a full mesh of QPs
/// (`RSHMEM_VERBS_CONNECT=mesh`), it has no channel and takes the default path. Dropping it completes its operations and frees its
/// channel (as `shmem_ctx_destroy`).
#[derive(Debug)]
pub struct Ctx {
    /// `None`: no verbs peer (or none could be made): the default path.
    chan: Option<VerbsChannel>,
}

impl Ctx {
    /// Whether the context has a transport channel of its own (verbs), as opposed to
    /// taking the default path.
    pub fn has_channel(&self) -> bool {
        self.chan.is_some()
    }

    /// Whether the context takes no lock on its path (a private or serialized context
    /// over verbs).
    pub fn is_unlocked(&self) -> bool {
        self.chan.as_ref().is_some_and(|c| c.is_unlocked())
    }

    /// The QPs its channel has connected so far (0 without a channel).
    pub fn connected(&self) -> usize {
        self.chan.as_ref().map_or(0, |c| c.connected())
    }
}

impl Runtime {
    /// A new context. `private`: the program promises never to use it from two threads at
    /// once (`SHMEM_CTX_PRIVATE` or `SHMEM_CTX_SERIALIZED`); it then takes no lock.
    ///
    /// # Safety
    /// With `private`, the caller must never use the context from two threads at once.
    pub unsafe fn ctx_create(&self, private: bool) -> Result<Ctx> {
        let chan = match &self.verbs {
            // SAFETY: forwarded contract.
            Some(v) if v.on_demand() => Some(unsafe { v.channel(private) }?),
            // A full mesh (RSHMEM_VERBS_CONNECT=mesh, InfiniBand): no connection service
            // to connect a channel's QPs through; the context takes the default path.
            _ => None,
        };
        Ok(Ctx { chan })
    }

    /// The channel that serves `pe` on `c` for puts and gets: a verbs peer not reached
    /// through a mapping.
    #[inline(always)]
    fn chan_for<'a>(&self, c: &'a Ctx, pe: usize) -> Option<&'a VerbsChannel> {
        match (&c.chan, &self.peers[pe].path) {
            (Some(ch), Path::Verbs(ep)) if !ep.is_mapped() => Some(ch),
            _ => None,
        }
    }

    /// [`Runtime::put`] (`nbi`: [`Runtime::put_nbi`]) on context `c`.
    ///
    /// # Safety
    /// As [`Runtime::put`] (`nbi`: as [`Runtime::put_nbi`], until [`Runtime::ctx_quiet`]).
    #[inline(always)]
    pub unsafe fn ctx_put(
        &self,
        c: &Ctx,
        dest: usize,
        src: *const u8,
        len: usize,
        pe: usize,
        nbi: bool,
    ) -> Result<()> {
        let Some(ch) = self.chan_for(c, pe) else {
            // SAFETY: forwarded contract.
            return unsafe {
                if nbi {
                    self.put_nbi(dest, src, len, pe)
                } else {
                    self.put(dest, src, len, pe)
                }
            };
        };
        let r = self.remote(dest, len, pe)?;
        crate::pcntr::put(1);
        // SAFETY: `r` lies in `pe`'s segment (checked); `src` per our contract.
        unsafe { ch.put(pe, r, src, len, nbi) };
        Ok(())
    }

    /// [`Runtime::get`] (`nbi`: [`Runtime::get_nbi`]) on context `c`.
    ///
    /// # Safety
    /// As [`Runtime::get`] (`nbi`: as [`Runtime::get_nbi`], until [`Runtime::ctx_quiet`]).
    #[inline(always)]
    pub unsafe fn ctx_get(
        &self,
        c: &Ctx,
        dest: *mut u8,
        src: usize,
        len: usize,
        pe: usize,
        nbi: bool,
    ) -> Result<()> {
        let Some(ch) = self.chan_for(c, pe) else {
            // SAFETY: forwarded contract.
            return unsafe {
                if nbi {
                    self.get_nbi(dest, src, len, pe)
                } else {
                    self.get(dest, src, len, pe)
                }
            };
        };
        let r = self.remote(src, len, pe)?;
        crate::pcntr::get(1);
        // SAFETY: `r` lies in `pe`'s segment (checked); `dest` per our contract.
        unsafe { ch.get(pe, dest, r, len, nbi) };
        Ok(())
    }

    /// [`Runtime::amo`] on context `c` (over verbs: a NIC atomic on the context's QP, also
    /// for a same-node peer, as on the default context).
    #[inline(always)]
    pub fn ctx_amo<W: AmoWord>(
        &self,
        c: &Ctx,
        addr: usize,
        op: AmoOp,
        operand: W,
        compare: W,
        pe: usize,
    ) -> Result<W> {
        let ch = match (&c.chan, &self.peers[pe].path) {
            (Some(ch), Path::Verbs(_)) => ch,
            _ => return self.amo(addr, op, operand, compare, pe),
        };
        let r = self.amo_target::<W>(addr, pe)?;
        // SAFETY: `r` is an aligned word inside `pe`'s segment.
        Ok(unsafe { ch.amo(pe, r, op, operand, compare) })
    }

    /// Put-with-signal on context `c`: the put, a fence of the context, then the signal
    /// update (set or add), all on the context's channel.
    ///
    /// # Safety
    /// As [`Runtime::put_signal`].
    pub unsafe fn ctx_put_signal(
        &self,
        c: &Ctx,
        dest: usize,
        src: *const u8,
        len: usize,
        signal: Signal,
        pe: usize,
    ) -> Result<()> {
        if c.chan.is_none() {
            // SAFETY: forwarded contract.
            return unsafe { self.put_signal(dest, src, len, signal, pe) };
        }
        // SAFETY: forwarded contract.
        unsafe { self.ctx_put(c, dest, src, len, pe, false)? };
        self.ctx_fence(c);
        let op = if signal.add {
            AmoOp::FetchAdd
        } else {
            AmoOp::Set
        };
        self.ctx_amo::<u64>(c, signal.addr, op, signal.value, 0, pe)
            .map(|_| ())
    }

    /// Orders the context's puts, AMOs and signals to each peer (`shmem_ctx_fence`).
    #[inline]
    pub fn ctx_fence(&self, c: &Ctx) {
        match &c.chan {
            Some(ch) => {
                ShmEndpoint.fence();
                ch.fence();
            }
            None => self.fence(),
        }
    }

    /// Completes the context's operations (`shmem_ctx_quiet`): over verbs only this
    /// context's; shared-memory stores are ordered by a memory fence and TCP operations
    /// (one ordering domain per PE there) are completed as by [`Runtime::quiet`].
    #[inline]
    pub fn ctx_quiet(&self, c: &Ctx) {
        match &c.chan {
            Some(ch) => {
                ShmEndpoint.quiet();
                ch.quiet();
                if let Some(t) = &self.tcp {
                    t.quiet_all();
                }
                crate::pcntr::quiet();
            }
            None => self.quiet(),
        }
    }

    /// Destroys a context (`shmem_ctx_destroy`): completes its operations and frees its
    /// channel (its QPs, CQ and bounce buffer).
    pub fn ctx_destroy(&self, c: Ctx) {
        self.ctx_quiet(&c);
        drop(c);
    }
}
