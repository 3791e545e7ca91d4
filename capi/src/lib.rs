//! # rshmem-capi: the OpenSHMEM 1.5 C API of rshmem
//!
//! Builds `librshmem.so` and `librshmem.a`, to be used with `include/shmem.h`. Every C
//! routine `shmem_x` is implemented here as `#[no_mangle] extern "C" fn pshmem_x` (the
//! profiling name); `shmem_x` is a *weak* symbol that jumps to it ([`weak`]), so a tool can
//! define its own `shmem_x` and call `pshmem_x`.
//!
//! ## Safety contract of the C entry points
//!
//! The `extern "C"` functions are `unsafe` to call from Rust; their contract is the
//! OpenSHMEM specification's:
//! - local buffers (`source` of a put, `dest` of a get, `fetch`, `status`, `indices`,
//!   `cmp_values`) are valid for the number of elements given, and for `_nbi` routines
//!   stay valid until the next `shmem_quiet`;
//! - symmetric arguments are addresses inside a symmetric segment (checked: an address that
//!   is not symmetric, a PE out of range or a misaligned atomic prints the runtime's message
//!   and aborts the job — C has no error return there);
//! - no routine other than the setup/query ones is called before `shmem_init` or after
//!   `shmem_finalize` (checked: the process exits with a message).
//!
//! The hot path (RMA, AMOs, waits) takes no lock: [`rt`] is one atomic load
//! (`rshmem::global_runtime`).
#![allow(clippy::missing_safety_doc)]

#[macro_use]
pub mod weak;
#[macro_use]
mod tables;
#[macro_use]
mod gen;
mod amo;
mod coll;
mod ctx;
mod handle;
mod memory;
mod rma;
mod setup;
mod shmemx;
mod sync;
mod team;
mod types;

use rshmem_rt::rt::Runtime;
use std::ffi::c_int;

/// The runtime, or exit with a message naming `what` if the library is not initialized.
#[inline(always)]
pub(crate) fn rt(what: &'static str) -> &'static Runtime {
    match rshmem_rt::global_runtime() {
        Some(r) => r,
        None => not_initialized(what),
    }
}

#[cold]
#[inline(never)]
fn not_initialized(what: &str) -> ! {
    eprintln!(
        "rshmem: {what} called before shmem_init or after shmem_finalize; call shmem_init() first"
    );
    std::process::exit(1)
}

/// Prints `what: e` and aborts the whole job.
#[cold]
#[inline(never)]
pub(crate) fn fail(rt: &Runtime, what: &str, e: rshmem_rt::Error) -> ! {
    rt.abort(1, &format!("{what}: {e}"))
}

/// The value of `r`, or abort the job with its error.
#[inline(always)]
pub(crate) fn check<T>(rt: &Runtime, what: &'static str, r: rshmem_rt::Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => fail(rt, what, e),
    }
}

/// A C PE number as an index (negative numbers abort with the range message).
#[inline(always)]
pub(crate) fn pe_of(rt: &Runtime, what: &'static str, pe: c_int) -> usize {
    if pe < 0 {
        fail(
            rt,
            what,
            rshmem_rt::Error::PeOutOfRange {
                pe: pe as i64,
                n_pes: rt.n_pes(),
            },
        )
    }
    pe as usize
}

/// A C comparison constant (`SHMEM_CMP_*`), or abort.
#[inline(always)]
pub(crate) fn cmp_of(rt: &Runtime, what: &'static str, cmp: c_int) -> rshmem_rt::Cmp {
    match rshmem_rt::Cmp::from_c(cmp) {
        Some(c) => c,
        None => rt.abort(
            1,
            &format!("{what}: invalid comparison {cmp}; use one of SHMEM_CMP_EQ/NE/GT/GE/LT/LE"),
        ),
    }
}
