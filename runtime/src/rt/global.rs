//! The runtime of the live [`crate::Shmem`] handle, for layers that cannot carry a handle
//! (the C API, the transports' error paths): one process-wide pointer, set by `init` and
//! cleared when the handle is dropped. Here, inside `rt`, so that the runtime's own error
//! paths reach it without depending on the crate root.
use super::Runtime;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The initialized runtime; `dangling` while `init` runs.
static GLOBAL: AtomicPtr<Runtime> = AtomicPtr::new(core::ptr::null_mut());

/// Marks initialization as started; false when a runtime exists or is being made.
pub(crate) fn claim() -> bool {
    GLOBAL
        .compare_exchange(
            core::ptr::null_mut(),
            core::ptr::dangling_mut::<Runtime>(),
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_ok()
}

/// Undoes [`claim`] after a failed initialization.
pub(crate) fn unclaim() {
    GLOBAL.store(core::ptr::null_mut(), Ordering::Release);
}

/// Publishes the runtime at its final (boxed) address.
pub(crate) fn publish(rt: &Runtime) {
    GLOBAL.store(rt as *const Runtime as *mut Runtime, Ordering::Release);
}

/// Clears the pointer if it still names `rt` (the handle is being dropped).
pub(crate) fn release(rt: &Runtime) {
    let _ = GLOBAL.compare_exchange(
        rt as *const _ as *mut _,
        core::ptr::null_mut(),
        Ordering::AcqRel,
        Ordering::Acquire,
    );
}

/// The runtime of the live [`crate::Shmem`] handle, if any (for the C API). Inlined into
/// every C entry point: one atomic load and two compares.
#[doc(hidden)]
#[inline]
pub fn global_runtime() -> Option<&'static Runtime> {
    let p = GLOBAL.load(Ordering::Acquire);
    if p.is_null() || p == core::ptr::dangling_mut() {
        None
    } else {
        // SAFETY: the pointer is set while the owning `Shmem` lives and cleared before it
        // is dropped; callers (the C API) must not use it across finalize, as the
        // OpenSHMEM spec requires.
        Some(unsafe { &*p })
    }
}
