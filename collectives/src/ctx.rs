//! Per-team, per-PE collective state and the point-to-point protocol all algorithms use.
//!
//! # Protocol
//!
//! Signal slots of one team (on every PE), from `sig_base`:
//! - `BARRIER_SLOTS` dissemination-barrier counters;
//! - `n` *data* counters: slot `j` counts messages member `j` has sent to this PE;
//! - `n` *clear-to-send* counters: slot `j` counts scratch buffers member `j` has granted
//!   to this PE.
//!
//! Every counter has exactly one writer (member `j`), only grows, and each PE tracks locally
//! how many increments it has waited for, so there is never a reset, and since one sender's
//! `put_signal`s are delivered in order, "count >= k" means "message k and all before it
//! have landed". Receivers know the exact sequence of messages each sender sends them (all
//! members run the same algorithm on the same arguments), so counts never get mixed up,
//! even across different collectives.
//!
//! Data goes either straight into the user's symmetric `dest` (broadcast, collect,
//! alltoall, the allgather phase of ring and Rabenseifner reductions, the result a
//! reduction's fold partner sends back: OpenSHMEM requires `dest` to be ready before any
//! PE calls), or into the receiver's symmetric *scratch*, which is reused from
//! call to call: there the sender first waits for a clear-to-send grant that the receiver
//! issues only once it has consumed the previous contents (reductions, scans, the size
//! exchange of `collect`). Nothing ever polls remote memory.

use crate::{dissemination_barrier, ActiveSet, CollOps, BARRIER_SLOTS};

/// Smallest scratch area a [`CollCtx`] accepts (bytes), before the `8 * n` rule.
pub const MIN_SCRATCH_BYTES: usize = 4096;

/// Alignment of the pieces algorithms carve out of scratch (bytes).
pub(crate) const PORT_ALIGN: usize = 16;

/// Largest all-reduce (bytes) that takes the small path: recursive doubling through a
/// reserved, double-buffered part of scratch, without clear-to-send grants.
pub const SMALL_REDUCE_BYTES: usize = 128;

/// One PE's collective state for one team: the team mapping, where the team's signal slots
/// and scratch live (the same on every member), and the local counters of the protocol.
///
/// Collectives on one context must be called by all members in the same order (as
/// OpenSHMEM requires for a team); different contexts (disjoint or overlapping teams with
/// separate slots and scratch) are independent.
#[derive(Debug)]
pub struct CollCtx {
    pub(crate) set: ActiveSet,
    pub(crate) me: usize,
    sig_base: usize,
    pub(crate) scratch: usize,
    pub(crate) scratch_len: usize,
    barrier_epoch: u64,
    /// Messages waited for, per sender.
    recvd: Vec<u64>,
    /// Grants waited for, per receiver.
    granted: Vec<u64>,
    /// Start of the small-reduce area (two buffers of `rounds` ports), 0 if there is none.
    pub(crate) small_base: usize,
    /// Small all-reduces so far: their parity picks the buffer.
    pub(crate) small_calls: u64,
    /// Pairwise mode ([`CollCtx::pairwise`]): the key (world PE) of each member of the
    /// current set, which numbers slots and counters; empty for a team context, whose
    /// keys are the member indices.
    keys: Vec<usize>,
    /// Data (and clear-to-send) slots: the team size, or the world size in pairwise mode.
    nslots: usize,
}

impl CollCtx {
    /// Number of signal slots a team of `n` members needs from its `sig_base`.
    pub const fn signal_slots(n: usize) -> usize {
        BARRIER_SLOTS + 2 * n
    }

    /// Scratch bytes a team of `n` members needs at least.
    pub const fn min_scratch(n: usize) -> usize {
        if 8 * n > MIN_SCRATCH_BYTES {
            8 * n
        } else {
            MIN_SCRATCH_BYTES
        }
    }

    /// The state of world PE `my_pe` in team `set`, whose signal slots are
    /// `sig_base..sig_base + signal_slots(set.size)` and whose scratch is the symmetric
    /// range `scratch..scratch + scratch_len` (at least [`min_scratch`](Self::min_scratch)
    /// bytes, 16-byte aligned offsets preferred). The slots must be zero when the first
    /// member starts using them, and the slots and scratch must not be used by anything
    /// else while the team lives.
    ///
    /// Panics if `my_pe` is not in `set` or the scratch is too small.
    pub fn new(
        set: ActiveSet,
        my_pe: usize,
        sig_base: usize,
        scratch: usize,
        scratch_len: usize,
    ) -> Self {
        let me = set
            .index_of(my_pe)
            .expect("CollCtx::new: PE is not a member of the set");
        assert!(
            scratch_len >= Self::min_scratch(set.size),
            "CollCtx::new: scratch of {scratch_len} bytes, need at least {}",
            Self::min_scratch(set.size)
        );
        // The small-reduce area comes off the end of scratch when what remains is still
        // enough for everything else.
        let area = 2 * Self::small_ports(set.size) * SMALL_REDUCE_BYTES;
        let (scratch_len, small_base) = if scratch_len >= Self::min_scratch(set.size) + area {
            (scratch_len - area, scratch + scratch_len - area)
        } else {
            (scratch_len, 0)
        };
        Self {
            set,
            me,
            sig_base,
            scratch,
            scratch_len,
            barrier_epoch: 0,
            recvd: vec![0; set.size],
            granted: vec![0; set.size],
            small_base,
            small_calls: 0,
            keys: Vec::new(),
            nslots: set.size,
        }
    }

    /// A context shared by every *active set* (the deprecated `PE_start, logPE_stride,
    /// PE_size` collectives) over a world of `world_n` PEs, whose slots and scratch are laid
    /// out as for a team of `world_n` ([`signal_slots`](Self::signal_slots)`(world_n)`
    /// slots): before each collective, [`enter`](Self::enter) names the set.
    ///
    /// Slots and counters are keyed by world PE instead of member index: slot `p` counts
    /// what world PE `p` sent (or granted) to this PE over *all* sets. Every counter still
    /// has one writer and only grows, and two PEs run their common collectives in the same
    /// order (the spec requires it of overlapping active sets), so the sequence of
    /// messages between any two PEs is the same on both sides whatever sets they went
    /// through. Scratch is free at the start of every call (each call consumes all it
    /// receives there, and a writer needs a grant issued in the same call), so the sets
    /// can share it. The barrier is a dissemination barrier of zero-byte messages on the
    /// data counters (the epoch-counted barrier slots cannot be shared), and there is no
    /// small-reduce area (its parity argument needs a fixed set).
    pub fn pairwise(world_n: usize, sig_base: usize, scratch: usize, scratch_len: usize) -> Self {
        assert!(
            scratch_len >= Self::min_scratch(world_n),
            "CollCtx::pairwise: scratch of {scratch_len} bytes, need at least {}",
            Self::min_scratch(world_n)
        );
        Self {
            set: ActiveSet::world(1),
            me: 0,
            sig_base,
            scratch,
            scratch_len,
            barrier_epoch: 0,
            recvd: vec![0; world_n],
            granted: vec![0; world_n],
            small_base: 0,
            small_calls: 0,
            keys: vec![0],
            nslots: world_n,
        }
    }

    /// Pairwise mode: the next collectives run over the set whose member `i` is world PE
    /// `members[i]` (addressed through the ops as index `i`); this PE is member `me`.
    ///
    /// Panics on a team context, or if a member is outside the world.
    pub fn enter(&mut self, members: &[usize], me: usize) {
        assert!(
            !self.keys.is_empty(),
            "CollCtx::enter: not a pairwise context"
        );
        assert!(
            me < members.len(),
            "CollCtx::enter: member {me} of {}",
            members.len()
        );
        assert!(
            members.iter().all(|&p| p < self.nslots),
            "CollCtx::enter: a member is outside the world of {}",
            self.nslots
        );
        self.keys.clear();
        self.keys.extend_from_slice(members);
        self.set = ActiveSet::world(members.len());
        self.me = me;
    }

    /// Slot and counter index of member `j`.
    #[inline]
    fn key(&self, j: usize) -> usize {
        if self.keys.is_empty() {
            j
        } else {
            self.keys[j]
        }
    }

    /// Ports of one small-reduce buffer: one per recursive-doubling round plus the fold.
    pub(crate) const fn small_ports(n: usize) -> usize {
        (usize::BITS - 1 - n.leading_zeros()) as usize + 1
    }

    /// The team mapping.
    pub fn set(&self) -> ActiveSet {
        self.set
    }

    /// This PE's index in the team.
    pub fn my_index(&self) -> usize {
        self.me
    }

    /// Number of members.
    pub fn size(&self) -> usize {
        self.set.size
    }

    /// Barrier over the team ([`dissemination_barrier`] on this team's barrier slots).
    /// Does not complete outstanding puts: callers that need `barrier` rather than `sync`
    /// semantics quiet first.
    pub fn barrier<O: CollOps>(&mut self, ops: &O) {
        if self.keys.is_empty() {
            self.barrier_epoch += 1;
            dissemination_barrier(ops, self.set, self.sig_base, self.barrier_epoch);
            return;
        }
        // pairwise: the same rounds, as zero-byte messages on the data counters
        let mut d = 1;
        while d < self.size() {
            ops.signal_add(self.set.pe(self.ahead(d)), self.data_slot(self.me), 1);
            self.recv(ops, self.behind(d));
            d <<= 1;
        }
    }

    fn data_slot(&self, sender: usize) -> usize {
        self.sig_base + BARRIER_SLOTS + self.key(sender)
    }

    fn cts_slot(&self, grantor: usize) -> usize {
        self.sig_base + BARRIER_SLOTS + self.nslots + self.key(grantor)
    }

    /// Waits for a grant from member `j` before writing into its scratch.
    fn await_grant<O: CollOps>(&mut self, ops: &O, j: usize) {
        let k = self.key(j);
        self.granted[k] += 1;
        ops.wait_ge(self.cts_slot(j), self.granted[k]);
    }

    /// Allows member `j` to write one more message into this PE's scratch.
    pub(crate) fn grant<O: CollOps>(&mut self, ops: &O, j: usize) {
        ops.signal_add(self.set.pe(j), self.cts_slot(self.me), 1);
    }

    /// Sends private bytes to symmetric `dst` on member `j`; with `scratch`, waits for
    /// `j`'s grant first.
    pub(crate) fn send<O: CollOps>(
        &mut self,
        ops: &O,
        j: usize,
        dst: usize,
        data: &[u8],
        scratch: bool,
    ) {
        if scratch {
            self.await_grant(ops, j);
        }
        ops.put_signal(self.set.pe(j), dst, data, self.data_slot(self.me), 1);
    }

    /// Sends this PE's symmetric bytes `src..src + len` to `dst` on member `j`.
    pub(crate) fn send_local<O: CollOps>(
        &mut self,
        ops: &O,
        j: usize,
        dst: usize,
        src: usize,
        len: usize,
        scratch: bool,
    ) {
        if scratch {
            self.await_grant(ops, j);
        }
        ops.put_signal_local(self.set.pe(j), dst, src, len, self.data_slot(self.me), 1);
    }

    /// Waits for the next message from member `j`.
    pub(crate) fn recv<O: CollOps>(&mut self, ops: &O, j: usize) {
        let k = self.key(j);
        self.recvd[k] += 1;
        ops.wait_ge(self.data_slot(j), self.recvd[k]);
    }

    /// Splits scratch into `ports` equal, aligned pieces; returns the size of one.
    pub(crate) fn port_bytes(&self, ports: usize) -> usize {
        (self.scratch_len / ports.max(1)) / PORT_ALIGN * PORT_ALIGN
    }

    /// Member index `d` places after this PE (mod n).
    pub(crate) fn ahead(&self, d: usize) -> usize {
        (self.me + d) % self.set.size
    }

    /// Member index `d` places before this PE (mod n).
    pub(crate) fn behind(&self, d: usize) -> usize {
        let n = self.set.size;
        (self.me + n - d % n) % n
    }
}

/// ceil(log2(n)) for n >= 1.
pub(crate) fn ceil_log2(n: usize) -> usize {
    if n <= 1 {
        0
    } else {
        (usize::BITS - (n - 1).leading_zeros()) as usize
    }
}

/// floor(log2(n)) for n >= 1.
pub(crate) fn floor_log2(n: usize) -> usize {
    (usize::BITS - 1 - n.leading_zeros()) as usize
}
