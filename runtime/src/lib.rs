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
mod version;

pub use api::ctx;
pub use api::{LockGuard, Shmem, ShmemCtx, SignalOp, SymBox, SymInt, SymLock, SymRef, SymVec};
pub use bytemuck::Pod;
pub use error::{Error, Result};
pub use rshmem_collectives::{Complex, Op, Reducible};
pub use rt::InitOptions;
pub use team::{ComplexPart, Team, TeamConfig};
pub use wait::Cmp;

pub use version::{SPEC_MAJOR, SPEC_MINOR, VERSION};

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
    // SAFETY: `Multiple` asks nothing of the caller (`Shmem` is `Sync`).
    unsafe { init_thread(opts, rt::ThreadLevel::Multiple) }
}

/// [`init_with`] at an OpenSHMEM thread level (the C API's `shmem_init_thread`; `shmem_init`
/// is `Single`). Below `Multiple` the verbs default context takes no lock. Rust programs
/// use [`init`] / [`init_with`] (`Multiple`: [`Shmem`] is `Sync`); a thread that wants a
/// path without any lock uses a private context (`Shmem::create_ctx`).
///
/// # Safety
/// Below `Multiple`, the caller must never use the returned handle (or the runtime through
/// the C API) from two threads at once; with `Single` and `Funneled`, only from the
/// calling thread.
#[doc(hidden)]
pub unsafe fn init_thread(opts: InitOptions, level: rt::ThreadLevel) -> Result<Shmem> {
    if !rt::global::claim() {
        return Err(Error::State(
            "rshmem is already initialized in this process: call init() once and share the handle",
        ));
    }
    // SAFETY: forwarded contract.
    match unsafe { rt::Runtime::init_thread(opts, level) } {
        Ok(rt) => {
            let rt = Box::new(rt);
            rt::global::publish(&rt);
            rt.arm_exit();
            Ok(Shmem {
                rt: core::mem::ManuallyDrop::new(rt),
            })
        }
        Err(e) => {
            rt::global::unclaim();
            Err(e)
        }
    }
}

pub use rt::global::global_runtime;
