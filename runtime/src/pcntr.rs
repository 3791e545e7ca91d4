//! Performance counters of this PE (`shmemx_pcntr_*` in the C API): how many puts, gets
//! and atomics this process issued through [`crate::rt::Runtime`], and how many of them
//! were known complete at its last quiet.
//!
//! Cost on the hot path: one relaxed `fetch_add` on a process-wide `AtomicU64` per
//! operation (`lock xadd` on x86_64, a few nanoseconds uncontended; no lock, no allocation,
//! no syscall). Threads of one PE that issue operations concurrently share the cache line.
//! Counts include the runtime's own traffic (collectives, barriers are built from puts and
//! atomics); an `iput`/`iget` counts one operation per element, a `put_signal` a put and an
//! atomic. They are never reset (they survive `shmem_finalize` + `shmem_init`).
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

static PUTS: AtomicU64 = AtomicU64::new(0);
static GETS: AtomicU64 = AtomicU64::new(0);
static AMOS: AtomicU64 = AtomicU64::new(0);
static QUIETS: AtomicU64 = AtomicU64::new(0);
static DONE_WRITES: AtomicU64 = AtomicU64::new(0);
static DONE_READS: AtomicU64 = AtomicU64::new(0);

#[inline(always)]
pub(crate) fn put(n: u64) {
    PUTS.fetch_add(n, Relaxed);
}

#[inline(always)]
pub(crate) fn get(n: u64) {
    GETS.fetch_add(n, Relaxed);
}

#[inline(always)]
pub(crate) fn amo() {
    AMOS.fetch_add(1, Relaxed);
}

/// At a quiet everything issued before it is complete.
#[inline(always)]
pub(crate) fn quiet() {
    QUIETS.fetch_add(1, Relaxed);
    DONE_WRITES.fetch_max(PUTS.load(Relaxed) + AMOS.load(Relaxed), Relaxed);
    DONE_READS.fetch_max(GETS.load(Relaxed), Relaxed);
}

/// A snapshot of the counters.
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
    /// Writes (puts + atomics) known complete: those issued before the last quiet.
    pub completed_writes: u64,
    /// Gets known complete: those issued before the last quiet.
    pub completed_reads: u64,
}

/// The counters now.
pub fn snapshot() -> Counters {
    Counters {
        puts: PUTS.load(Relaxed),
        gets: GETS.load(Relaxed),
        amos: AMOS.load(Relaxed),
        quiets: QUIETS.load(Relaxed),
        completed_writes: DONE_WRITES.load(Relaxed),
        completed_reads: DONE_READS.load(Relaxed),
    }
}
