//! The live `Shmem` handle, for the routines that need it rather than the `Runtime` (teams).
//! Set by `shmem_init` (`setup.rs`) and cleared by `shmem_finalize`; read by `team.rs`.
//! A module of its own so that setup and teams both build on it instead of on each other.
use rshmem_rt::Shmem;
use std::sync::atomic::{AtomicPtr, Ordering};

static SHMEM: AtomicPtr<Shmem> = AtomicPtr::new(core::ptr::null_mut());

/// Publishes the leaked handle of a new initialization.
pub(crate) fn publish(s: &'static Shmem) {
    SHMEM.store(s as *const Shmem as *mut Shmem, Ordering::Release);
}

/// Finalize: no handle any more (before it is freed).
pub(crate) fn clear() {
    SHMEM.store(core::ptr::null_mut(), Ordering::Release);
}

/// The live `Shmem`, or exit with a message naming `what` if the library is not initialized.
pub(crate) fn shmem(what: &'static str) -> &'static Shmem {
    let p = SHMEM.load(Ordering::Acquire);
    if p.is_null() {
        crate::rt(what); // exits with the "not initialized" message
        unreachable!("runtime live without a handle");
    }
    // SAFETY: set while the leaked handle lives, cleared before finalize frees it.
    unsafe { &*p }
}
