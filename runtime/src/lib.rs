//! # rshmem — OpenSHMEM for Rust
//!
//! A program runs as N processing elements (PEs), started by a launcher (`rshmemrun -n N`,
//! `mpiexec.hydra`, `srun --mpi=pmi2`). Each PE allocates the same *symmetric* objects,
//! collectively, and then reads, writes and atomically updates the copies on other PEs
//! directly — one-sided, without the target taking part.
//!
//! ```no_run
//! let shmem = rshmem::init()?;
//! let (me, n) = (shmem.my_pe(), shmem.n_pes());
//! let inbox = shmem.alloc_slice::<u64>(n)?;     // collective: same object on every PE
//! inbox.put((me + 1) % n, me, &[me as u64])?;    // write into my right neighbour's copy
//! shmem.barrier_all();                           // complete and synchronize
//! assert_eq!(inbox.read((me + n - 1) % n)?, ((me + n - 1) % n) as u64);
//! # Ok::<(), rshmem::Error>(())
//! ```
//!
//! Layers: [`Shmem`] and the typed objects ([`SymBox`], [`SymVec`], [`SymRef`],
//! [`SymLock`]) check their arguments and call the runtime (`rt::Runtime`), which translates
//! addresses and dispatches to the transport chosen for each peer (`rshmem-transport`);
//! barriers come from `rshmem-collectives`. See `docs/ARCHITECTURE.md`.
//!
//! Environment: `SHMEM_SYMMETRIC_SIZE` (heap size per PE, default from the machine: `heap::default_size`), `SHMEM_DEBUG`,
//! `SHMEM_INFO`, `SHMEM_VERSION` ([`mod@env`]).

pub mod api;
pub mod env;
pub mod error;
pub mod team;
pub mod wait;

// The layers below the safe API: public so that rshmem's own crates (the C API, the
// benchmarks) can reach raw addresses, but not part of the documented user API and not
// covered by semver.
#[doc(hidden)]
pub mod bootstrap;
mod coll;
#[doc(hidden)]
pub mod heap;
mod layout;
#[doc(hidden)]
pub mod lock;
pub mod pcntr;
#[doc(hidden)]
pub mod rt;
#[doc(hidden)]
pub mod statics;
#[doc(hidden)]
pub mod sync;
pub(crate) mod tcp;
mod teams;

pub use api::{LockGuard, Shmem, SignalOp, SymBox, SymInt, SymLock, SymRef, SymVec};
pub use bytemuck::Pod;
pub use error::{Error, Result};
pub use rshmem_collectives::{Complex, Op, Reducible};
pub use rt::InitOptions;
pub use team::{ComplexPart, Team, TeamConfig};
pub use wait::Cmp;

use std::sync::atomic::{AtomicPtr, Ordering};

/// Version of rshmem (the workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Major version of the OpenSHMEM specification implemented.
pub const SPEC_MAJOR: u32 = 1;
/// Minor version of the OpenSHMEM specification implemented.
pub const SPEC_MINOR: u32 = 6;

/// The initialized runtime, for layers that cannot carry a handle (the C API).
static GLOBAL: AtomicPtr<rt::Runtime> = AtomicPtr::new(core::ptr::null_mut());

/// Initializes the library: connects to the launcher, maps the symmetric heaps of the PEs
/// of this node. Collective: every PE of the job must call it. The returned handle
/// finalizes when dropped.
///
/// Errors: an invalid `SHMEM_SYMMETRIC_SIZE`, a launcher that cannot be reached, shared
/// memory that cannot be created, or a second `init` while the first handle is alive.
///
/// ```no_run
/// match rshmem::init() {
///     Ok(shmem) => println!("PE {} of {}", shmem.my_pe(), shmem.n_pes()),
///     Err(e) => { eprintln!("{e}"); std::process::exit(1) }
/// }
/// ```
pub fn init() -> Result<Shmem> {
    init_with(InitOptions::default())
}

/// [`init`] with options (every PE must pass the same). `symmetric_statics` makes the
/// program's global and static variables symmetric, as the C API does for C programs:
///
/// ```no_run
/// static mut COUNTER: u64 = 0;
/// let shmem = rshmem::init_with(rshmem::InitOptions { symmetric_statics: true })?;
/// // `COUNTER` now has a copy on every PE that RMA and atomics can reach.
/// # Ok::<(), rshmem::Error>(())
/// ```
pub fn init_with(opts: InitOptions) -> Result<Shmem> {
    let placeholder = core::ptr::dangling_mut::<rt::Runtime>();
    if GLOBAL
        .compare_exchange(
            core::ptr::null_mut(),
            placeholder,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_err()
    {
        return Err(Error::State(
            "rshmem is already initialized in this process: call init() once and share the handle",
        ));
    }
    match rt::Runtime::init_with(opts) {
        Ok(rt) => {
            let rt = Box::new(rt);
            GLOBAL.store(
                &*rt as *const rt::Runtime as *mut rt::Runtime,
                Ordering::Release,
            );
            rt.arm_exit();
            Ok(Shmem {
                rt: core::mem::ManuallyDrop::new(rt),
            })
        }
        Err(e) => {
            GLOBAL.store(core::ptr::null_mut(), Ordering::Release);
            Err(e)
        }
    }
}

pub(crate) fn release_global(rt: &rt::Runtime) {
    let _ = GLOBAL.compare_exchange(
        rt as *const _ as *mut _,
        core::ptr::null_mut(),
        Ordering::AcqRel,
        Ordering::Acquire,
    );
}

#[doc(hidden)]
/// The runtime of the live [`Shmem`] handle, if any (for the C API). Inlined into every C
/// entry point: one atomic load and two compares.
#[inline]
pub fn global_runtime() -> Option<&'static rt::Runtime> {
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
