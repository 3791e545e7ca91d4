//! Performance counters of this PE (`shmemx_pcntr_*` in the C API): how many puts, gets
//! and atomics this process issued through the runtime (`rt::Runtime`), and how many of them
//! are known complete.
//!
//! Cost on the hot path: each thread counts in a slot of its own (a cache line of a static
//! array, picked at its first operation by one `fetch_add`), with a relaxed load and store
//! — no `lock`-prefixed instruction, no lock, no allocation, no syscall: a thread-local
//! lookup (from `librshmem.so`, a `__tls_get_addr` call) and an add, and the threads of one
//! PE never share a counter's cache line. Threads beyond the first 63 share the last slot
//! and pay a relaxed `fetch_add` there. Reading the counters sums the slots.
//!
//! Counts include the runtime's own traffic (barriers and collectives are built from puts
//! and atomics); an `iput`/`iget` counts one operation per element, a `put_signal` a put
//! and an atomic. An operation is *known complete* once the thread that issued it has
//! called `quiet` (which completes everything the PE issued; operations of threads that
//! have not quieted themselves are completed too but not counted as such). The counters
//! are never reset (they survive `shmem_finalize` + `shmem_init`).
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

const SLOTS: usize = 64;

#[repr(align(64))]
struct Slot {
    puts: AtomicU64,
    gets: AtomicU64,
    amos: AtomicU64,
    quiets: AtomicU64,
    done_writes: AtomicU64,
    done_reads: AtomicU64,
}

impl Slot {
    const fn new() -> Self {
        Slot {
            puts: AtomicU64::new(0),
            gets: AtomicU64::new(0),
            amos: AtomicU64::new(0),
            quiets: AtomicU64::new(0),
            done_writes: AtomicU64::new(0),
            done_reads: AtomicU64::new(0),
        }
    }
}

static SLOT: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
static NEXT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static MINE: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's slot index (`SLOTS - 1`: the shared overflow slot).
#[inline(always)]
fn my_slot() -> usize {
    MINE.with(|m| {
        let i = m.get();
        if i != usize::MAX {
            return i;
        }
        let i = NEXT.fetch_add(1, Relaxed).min(SLOTS - 1);
        m.set(i);
        i
    })
}

#[inline(always)]
fn bump(c: &AtomicU64, i: usize, n: u64) {
    if i < SLOTS - 1 {
        // Only this thread writes this slot: a plain read-modify-write, no lock prefix.
        c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
    } else {
        c.fetch_add(n, Relaxed);
    }
}

#[inline(always)]
pub(crate) fn put(n: u64) {
    let i = my_slot();
    bump(&SLOT[i].puts, i, n);
}

#[inline(always)]
pub(crate) fn get(n: u64) {
    let i = my_slot();
    bump(&SLOT[i].gets, i, n);
}

#[inline(always)]
pub(crate) fn amo() {
    let i = my_slot();
    bump(&SLOT[i].amos, i, 1);
}

/// After a quiet, everything this thread issued before it is complete.
#[inline(always)]
pub(crate) fn quiet() {
    let i = my_slot();
    let s = &SLOT[i];
    bump(&s.quiets, i, 1);
    let (writes, reads) = (
        s.puts.load(Relaxed) + s.amos.load(Relaxed),
        s.gets.load(Relaxed),
    );
    if i < SLOTS - 1 {
        // Only this thread writes this slot and its counts only grow: plain stores (a
        // `fetch_max` is a locked read-modify-write, which doubled put + quiet at 2 PEs).
        s.done_writes.store(writes, Relaxed);
        s.done_reads.store(reads, Relaxed);
    } else {
        s.done_writes.fetch_max(writes, Relaxed);
        s.done_reads.fetch_max(reads, Relaxed);
    }
}

/// A snapshot of the counters (summed over the threads).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Puts issued (blocking, non-blocking, per element of a strided put, signals' data).
    pub puts: u64,
    /// Gets issued.
    pub gets: u64,
    /// Atomic operations issued (including signal updates).
    pub amos: u64,
    /// Quiets (`shmem_quiet`, and those inside barriers and collectives).
    pub quiets: u64,
    /// Writes (puts + atomics) known complete: issued by a thread before its last quiet.
    pub completed_writes: u64,
    /// Gets known complete: issued by a thread before its last quiet.
    pub completed_reads: u64,
}

/// The counters now.
pub fn snapshot() -> Counters {
    let used = NEXT.load(Relaxed).min(SLOTS);
    let mut c = Counters::default();
    for s in &SLOT[..used] {
        c.puts += s.puts.load(Relaxed);
        c.gets += s.gets.load(Relaxed);
        c.amos += s.amos.load(Relaxed);
        c.quiets += s.quiets.load(Relaxed);
        c.completed_writes += s.done_writes.load(Relaxed);
        c.completed_reads += s.done_reads.load(Relaxed);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_count_in_their_own_slots_and_sum_up() {
        let before = snapshot();
        let hs: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..1000 {
                        put(1);
                        amo();
                    }
                    get(3);
                    quiet();
                    my_slot()
                })
            })
            .collect();
        let slots: Vec<usize> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        for &i in slots.iter().filter(|&&i| i < SLOTS - 1) {
            // A fresh thread's own slot holds exactly its operations.
            let s = &SLOT[i];
            assert_eq!(s.puts.load(Relaxed), 1000);
            assert_eq!(s.amos.load(Relaxed), 1000);
            assert_eq!(s.gets.load(Relaxed), 3);
            assert_eq!(s.done_writes.load(Relaxed), 2000);
            assert_eq!(s.done_reads.load(Relaxed), 3);
        }
        let mut distinct = slots.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(
            distinct.len() == 4 || slots.contains(&(SLOTS - 1)),
            "{slots:?}"
        );
        let after = snapshot();
        assert!(after.puts - before.puts >= 4000);
        assert!(after.gets - before.gets >= 12);
    }
}
