//! # rshmem-collectives
//!
//! Collective algorithms written against the few one-sided operations they need
//! ([`SyncOps`]), not against a transport or the runtime, so that they run both in real
//! multi-PE jobs and in-process (N simulated PEs on threads) in tests.
//!
//! - [`SyncOps`]: signal words (atomic add, local wait) — enough for [`dissemination_barrier`];
//! - [`CollOps`]: adds `put_signal` and local reads/writes of symmetric memory — enough
//!   for everything else;
//! - [`CollCtx`]: one PE's state in one team (mapping, signal slots, scratch, counters);
//!   its methods are the collectives: [`CollCtx::barrier`], [`CollCtx::broadcast`],
//!   [`CollCtx::reduce`], [`CollCtx::scan_sum`], [`CollCtx::fcollect`],
//!   [`CollCtx::collect`], [`CollCtx::alltoall`];
//! - [`select`]: which algorithm for which size and team, with `RSHMEM_*_ALGORITHM`
//!   overrides;
//! - [`Op`], [`Reducible`], [`Complex`]: reduction operators and element types.
//!
//! See the [`ctx`] module for the protocol (monotonic per-sender counters, clear-to-send
//! grants for scratch, no remote polling).

mod bcast;
mod collect;
pub mod ctx;
mod ops;
mod reduce;
mod scan;
pub mod select;
mod types;

pub use bcast::Broadcast;
pub use ctx::{CollCtx, MIN_SCRATCH_BYTES, SMALL_REDUCE_BYTES};
pub use ops::CollOps;
pub use select::{
    choose_alltoall, choose_barrier, choose_bcast, choose_collect, choose_reduce,
    AlltoallAlgorithm, BarrierAlgorithm, BcastAlgorithm, CollectAlgorithm, ConfigError, Overrides,
    ReduceAlgorithm,
};
pub use types::{Complex, Op, Reducible};

#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests_coll;
#[cfg(test)]
mod tests_pairwise;
#[cfg(test)]
mod tests_shuttle;

/// A set of PEs: `size` PEs starting at world PE `start`, every `stride`-th.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActiveSet {
    /// First world PE.
    pub start: usize,
    /// Distance between consecutive members (>= 1).
    pub stride: usize,
    /// Number of members.
    pub size: usize,
}

impl ActiveSet {
    /// All `n` PEs of the world.
    pub const fn world(n: usize) -> Self {
        Self {
            start: 0,
            stride: 1,
            size: n,
        }
    }
    /// World PE of member `i`.
    #[inline]
    pub fn pe(&self, i: usize) -> usize {
        self.start + i * self.stride
    }
    /// Member index of world PE `pe`, if it belongs.
    #[inline]
    pub fn index_of(&self, pe: usize) -> Option<usize> {
        let d = pe.checked_sub(self.start)?;
        (d % self.stride == 0 && d / self.stride < self.size).then_some(d / self.stride)
    }
}

/// Operations a synchronizing algorithm needs.
///
/// `slot` names a 64-bit word in a symmetric synchronization area (the same slot index is
/// the same symmetric word on every PE).
pub trait SyncOps {
    /// This PE's world number.
    fn my_pe(&self) -> usize;
    /// Atomically adds `value` to `slot` on world PE `pe` (ordered after this PE's earlier puts).
    fn signal_add(&self, pe: usize, slot: usize, value: u64);
    /// Waits until the local `slot` is at least `value` (spin briefly, then yield).
    fn wait_ge(&self, slot: usize, value: u64);
}

/// Slots used by [`dissemination_barrier`]: one per round, at most 64 rounds.
pub const BARRIER_SLOTS: usize = 64;

/// Dissemination barrier (Hensgen, Finkel, Manber): in round k every member signals the
/// member 2^k ahead of it and waits for the signal from the member 2^k behind it;
/// ceil(log2 n) rounds. Counters only grow: `epoch` is the number of barriers this set has
/// completed plus one (1 for the first), so no reset is ever needed and a fast member that
/// is already signalling the next barrier cannot confuse a slow one.
///
/// `slot_base..slot_base+BARRIER_SLOTS` are this set's slots. The caller must be a member.
pub fn dissemination_barrier<O: SyncOps>(ops: &O, set: ActiveSet, slot_base: usize, epoch: u64) {
    let n = set.size;
    if n <= 1 {
        return;
    }
    let me = set
        .index_of(ops.my_pe())
        .expect("dissemination_barrier: calling PE is not in the active set");
    let mut dist = 1usize;
    let mut round = 0usize;
    while dist < n {
        let to = set.pe((me + dist) % n);
        ops.signal_add(to, slot_base + round, 1);
        ops.wait_ge(slot_base + round, epoch);
        dist <<= 1;
        round += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;

    /// N simulated PEs in one process: slot arrays per PE, operations are atomics.
    struct Sim {
        me: usize,
        slots: Arc<Vec<Vec<AtomicU64>>>,
    }

    impl SyncOps for Sim {
        fn my_pe(&self) -> usize {
            self.me
        }
        fn signal_add(&self, pe: usize, slot: usize, value: u64) {
            self.slots[pe][slot].fetch_add(value, SeqCst);
        }
        fn wait_ge(&self, slot: usize, value: u64) {
            while self.slots[self.me][slot].load(SeqCst) < value {
                std::thread::yield_now();
            }
        }
    }

    fn run_barriers(n: usize, iters: u64) {
        let slots: Arc<Vec<Vec<AtomicU64>>> = Arc::new(
            (0..n)
                .map(|_| (0..BARRIER_SLOTS).map(|_| AtomicU64::new(0)).collect())
                .collect(),
        );
        let arrived = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..n)
            .map(|me| {
                let slots = slots.clone();
                let arrived = arrived.clone();
                std::thread::spawn(move || {
                    let ops = Sim { me, slots };
                    for e in 1..=iters {
                        arrived.fetch_add(1, SeqCst);
                        dissemination_barrier(&ops, ActiveSet::world(n), 0, e);
                        // nobody leaves barrier e before everyone arrived at it
                        assert!(arrived.load(SeqCst) >= e as usize * n);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    #[test]
    fn barrier_separates_phases() {
        for n in [1, 2, 3, 4, 5, 7, 8] {
            run_barriers(n, 200);
        }
    }

    #[test]
    fn active_sets() {
        let s = ActiveSet {
            start: 1,
            stride: 2,
            size: 3,
        };
        assert_eq!((s.pe(0), s.pe(2)), (1, 5));
        assert_eq!(s.index_of(3), Some(1));
        assert_eq!(s.index_of(4), None);
        assert_eq!(s.index_of(7), None);
        assert_eq!(s.index_of(0), None);
    }
}
