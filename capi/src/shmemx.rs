//! The Sandia-OpenSHMEM-compatible extensions of `shmemx.h` that have behaviour of their
//! own (the renames of routines that OpenSHMEM 1.6 standardized are `static inline` in the
//! header): `shmemx_wtime`, the performance counters `shmemx_pcntr_*` (read from the
//! runtime's per-PE counters, `rshmem_rt::pcntr`), and `shmemx_register_gettid`.
//! `SHMEMX_MALLOC_NO_BARRIER` is honoured by `shmem_malloc_with_hints` (`memory.rs`).
use crate::ctx::CtxHandle;
use rshmem_rt::pcntr;
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// `shmemx_pcntr_t` of `shmemx.h` (the layout of Sandia OpenSHMEM's).
#[repr(C)]
pub struct PcntrC {
    pub pending_put: u64,
    pub pending_get: u64,
    pub completed_put: u64,
    pub completed_get: u64,
    pub target: u64,
}

// Seconds since an arbitrary fixed point in this process (a monotonic clock).
c_export!(shmemx_wtime() -> f64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    // Starts at 1 s, so that a first call never returns 0 (programs test `t > 0`).
    1.0 + EPOCH.get_or_init(Instant::now).elapsed().as_secs_f64()
});

/// `uint64_t (*gettid_fn)(void)` (NULL allowed).
pub type GettidFn = Option<extern "C" fn() -> u64>;

static GETTID: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());

// Accepted and kept; rshmem never needs thread ids (its per-thread state is thread-local).
c_export!(shmemx_register_gettid(gettid_fn: GettidFn) {
    let p = gettid_fn.map_or(core::ptr::null_mut(), |f| f as *mut c_void);
    GETTID.store(p, Ordering::Relaxed);
});

fn out(what: &str, p: *mut u64, v: u64) {
    if p.is_null() {
        eprintln!("rshmem: {what}: cntr_value is NULL; pass the address of a uint64_t");
        return;
    }
    // SAFETY: a non-NULL pointer to a uint64_t, per the routine's contract.
    unsafe { p.write(v) }
}

// Puts and atomics this PE issued (all contexts: rshmem counts per PE).
c_export!(shmemx_pcntr_get_issued_write(_ctx: CtxHandle, cntr_value: *mut u64) {
    let c = pcntr::snapshot();
    out("shmemx_pcntr_get_issued_write", cntr_value, c.puts + c.amos);
});

// Gets this PE issued.
c_export!(shmemx_pcntr_get_issued_read(_ctx: CtxHandle, cntr_value: *mut u64) {
    out(
        "shmemx_pcntr_get_issued_read",
        cntr_value,
        pcntr::snapshot().gets,
    );
});

// Puts and atomics known complete (issued by a thread before its last quiet).
c_export!(shmemx_pcntr_get_completed_write(_ctx: CtxHandle, cntr_value: *mut u64) {
    let c = pcntr::snapshot();
    out(
        "shmemx_pcntr_get_completed_write",
        cntr_value,
        c.completed_writes,
    );
});

// Gets known complete (issued by a thread before its last quiet).
c_export!(shmemx_pcntr_get_completed_read(_ctx: CtxHandle, cntr_value: *mut u64) {
    let c = pcntr::snapshot();
    out(
        "shmemx_pcntr_get_completed_read",
        cntr_value,
        c.completed_reads,
    );
});

// Operations other PEs completed on this PE's memory: not counted by rshmem (a peer's
// store into shared memory leaves no trace here); always 0.
c_export!(shmemx_pcntr_get_completed_target(cntr_value: *mut u64) {
    out("shmemx_pcntr_get_completed_target", cntr_value, 0);
});

// All of the above at once.
c_export!(shmemx_pcntr_get_all(_ctx: CtxHandle, all: *mut PcntrC) {
    if all.is_null() {
        eprintln!(
            "rshmem: shmemx_pcntr_get_all: pcntr is NULL; pass the address of a shmemx_pcntr_t"
        );
        return;
    }
    let c = pcntr::snapshot();
    let issued_w = c.puts + c.amos;
    let v = PcntrC {
        pending_put: issued_w.saturating_sub(c.completed_writes),
        pending_get: c.gets.saturating_sub(c.completed_reads),
        completed_put: c.completed_writes,
        completed_get: c.completed_reads,
        target: 0,
    };
    // SAFETY: a non-NULL pointer to a shmemx_pcntr_t, per the routine's contract.
    unsafe { all.write(v) }
});
