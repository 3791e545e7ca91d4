//! Library setup, exit and query routines; memory ordering; barriers; locks; the
//! deprecated names of these routines.
use crate::{check, fail, rt};
use parking_lot::Mutex;
use rshmem_rt::Shmem;
use std::ffi::{c_char, c_int, c_long, c_void};

/// `SHMEM_THREAD_SINGLE` (as in `shmem.h`; the other levels: [`ThreadLevel`]'s numbers).
pub const SHMEM_THREAD_SINGLE: c_int = 0;
use rshmem_rt::rt::ThreadLevel;
/// `SHMEM_MAX_NAME_LEN`.
pub const SHMEM_MAX_NAME_LEN: usize = 256;
/// `SHMEM_VENDOR_STRING` (the header spells the same text).
pub const VENDOR_STRING: &str = concat!("rshmem ", env!("CARGO_PKG_VERSION"));

enum State {
    Uninit,
    /// The leaked handle (also published in `handle.rs` for the team routines, which need
    /// `Team<'static>`); rebuilt into a `Box` and dropped by `shmem_finalize`.
    /// The count of initialization calls not yet matched by `shmem_finalize` (1.6: each
    /// init is matched by a finalize; the last one finalizes).
    Live(&'static Shmem, usize),
    Finalized,
}

/// The handle that owns the runtime; only init/finalize touch it (never the hot path).
struct Holder(State);

// SAFETY: the runtime is built to be shared between threads (its mutable parts sit behind
// mutexes); the handle is only moved in and out under the mutex below.
unsafe impl Send for Holder {}

static STATE: Mutex<Holder> = Mutex::new(Holder(State::Uninit));

/// Initializes at thread level `level` (`shmem_init`: `Single`, as Sandia OpenSHMEM;
/// `shmem_init_thread`: the level asked for); `Err` with the message on failure. Repeated
/// calls while initialized only count (OpenSHMEM 1.6): the matching number of
/// `shmem_finalize` calls finalizes; they keep the level of the first (returned, for
/// `provided`).
fn init_impl(what: &str, level: ThreadLevel) -> Result<ThreadLevel, String> {
    let mut st = STATE.lock();
    match st.0 {
        State::Live(s, n) => {
            st.0 = State::Live(s, n + 1);
            Ok(s.runtime().thread_level())
        }
        // First init, or a re-initialization after the last finalize (1.6).
        // SAFETY: the program's promise of the thread level it asked for (OpenSHMEM: below
        // SHMEM_THREAD_MULTIPLE no two threads call the library at once; the C API keeps no
        // state of its own that another thread would touch).
        State::Uninit | State::Finalized => match unsafe {
            rshmem_rt::init_thread(
                rshmem_rt::InitOptions {
                    symmetric_statics: true,
                },
                level,
            )
        } {
            Ok(s) => {
                let s: &'static Shmem = Box::leak(Box::new(s));
                crate::handle::publish(s);
                st.0 = State::Live(s, 1);
                if let Err(e) = crate::team::init_hook(s) {
                    return Err(format!("{what} failed: {e}"));
                }
                Ok(level)
            }
            Err(e) => Err(format!("{what} failed: {e}")),
        },
    }
}

c_fn!(safe W; init() {
    if let Err(m) = init_impl("shmem_init", ThreadLevel::Single) {
        eprintln!("rshmem: {m}");
        std::process::exit(1);
    }
});

c_fn!(W; init_thread(requested: c_int, provided: *mut c_int) -> c_int {
    let Some(level) = ThreadLevel::from_c(requested) else {
        eprintln!(
            "rshmem: shmem_init_thread: invalid thread level {requested}: expected \
             SHMEM_THREAD_SINGLE (0), SHMEM_THREAD_FUNNELED (1), SHMEM_THREAD_SERIALIZED (2) \
             or SHMEM_THREAD_MULTIPLE (3)"
        );
        return -1;
    };
    match init_impl("shmem_init_thread", level) {
        Ok(got) => {
            if !provided.is_null() {
                // SAFETY: caller passes a valid out pointer (or NULL, handled).
                unsafe { *provided = got as c_int };
            }
            0
        }
        Err(m) => {
            eprintln!("rshmem: {m}");
            -1
        }
    }
});

c_fn!(W; query_thread(provided: *mut c_int) {
    if !provided.is_null() {
        // The level provided at init (before init, or after finalize: SINGLE).
        let level = rshmem_rt::global_runtime()
            .map_or(SHMEM_THREAD_SINGLE, |rt| rt.thread_level() as c_int);
        // SAFETY: valid out pointer per the contract.
        unsafe { *provided = level };
    }
});

c_fn!(W; query_initialized(initialized: *mut c_int) {
    if !initialized.is_null() {
        let live = matches!(STATE.lock().0, State::Live(..));
        // SAFETY: valid out pointer per the contract.
        unsafe { *initialized = live as c_int };
    }
});

c_fn!(safe W; finalize() {
    let s = {
        let mut st = STATE.lock();
        match std::mem::replace(&mut st.0, State::Finalized) {
            State::Live(s, 1) => s,
            State::Live(s, n) => {
                // Not the last finalize of the nested inits: a barrier, as finalize is
                // collective, but the library stays initialized.
                st.0 = State::Live(s, n - 1);
                drop(st);
                s.barrier_all();
                return;
            }
            other => {
                // Finalize without init, or twice: nothing to do.
                st.0 = other;
                return;
            }
        }
    };
    crate::ctx::finalize_hook(s.runtime());
    crate::team::finalize_hook();
    crate::handle::clear();
    // SAFETY: `s` came from `Box::leak` in `init_impl`; the team registry (the only other
    // holder of `'static` borrows) was emptied above.
    let s = unsafe { Box::from_raw(s as *const Shmem as *mut Shmem) };
    // Outside the lock: dropping is a barrier over all PEs.
    drop(s);
});

c_fn!(safe W; global_exit(status: c_int) {
    match rshmem_rt::global_runtime() {
        Some(rt) => rt.abort(
            status,
            &format!("shmem_global_exit({status}) called; ending the job"),
        ),
        None => std::process::exit(status),
    }
});

c_fn!(safe W; my_pe() -> c_int {
    rt("shmem_my_pe").my_pe() as c_int
});

c_fn!(safe W; n_pes() -> c_int {
    rt("shmem_n_pes").n_pes() as c_int
});

c_fn!(safe W; pe_accessible(pe: c_int) -> c_int {
    let rt = rt("shmem_pe_accessible");
    (pe >= 0 && (pe as usize) < rt.n_pes()) as c_int
});

c_fn!(safe W; addr_accessible(addr: *const c_void, pe: c_int) -> c_int {
    let rt = rt("shmem_addr_accessible");
    (pe >= 0 && rt.remote(addr as usize, 1, pe as usize).is_ok()) as c_int
});

c_fn!(safe W; ptr(dest: *const c_void, pe: c_int) -> *mut c_void {
    let rt = rt("shmem_ptr");
    if pe < 0 {
        return core::ptr::null_mut();
    }
    match rt.ptr(dest as usize, pe as usize) {
        Some(a) => a as *mut c_void,
        None => core::ptr::null_mut(),
    }
});

c_fn!(W; info_get_version(major: *mut c_int, minor: *mut c_int) {
    // SAFETY: valid out pointers per the contract (NULL tolerated).
    unsafe {
        if !major.is_null() {
            *major = rshmem_rt::SPEC_MAJOR as c_int;
        }
        if !minor.is_null() {
            *minor = rshmem_rt::SPEC_MINOR as c_int;
        }
    }
});

c_fn!(W; info_get_name(name: *mut c_char) {
    if name.is_null() {
        return;
    }
    let b = VENDOR_STRING.as_bytes();
    let n = b.len().min(SHMEM_MAX_NAME_LEN - 1);
    // SAFETY: the caller's buffer holds SHMEM_MAX_NAME_LEN bytes (specification).
    unsafe {
        core::ptr::copy_nonoverlapping(b.as_ptr(), name as *mut u8, n);
        *name.add(n) = 0;
    }
});

c_fn!(safe W; barrier_all() {
    rt("shmem_barrier_all").barrier_all()
});

c_fn!(safe W; sync_all() {
    rt("shmem_sync_all").sync_all()
});

// `shmem_fence`, `shmem_quiet`: ctx.rs (the context forms on SHMEM_CTX_DEFAULT).

// `shmem_pe_quiet`: ctx.rs (`shmem_ctx_pe_quiet` on SHMEM_CTX_DEFAULT).

fn lock_addr(rt: &rshmem_rt::rt::Runtime, what: &'static str, lock: *mut c_long) -> usize {
    let a = lock as usize;
    if !a.is_multiple_of(8) {
        fail(rt, what, rshmem_rt::Error::Misaligned { addr: a, align: 8 })
    }
    a
}

c_fn!(W; set_lock(lock: *mut c_long) {
    let rt = rt("shmem_set_lock");
    let a = lock_addr(rt, "shmem_set_lock", lock);
    check(rt, "shmem_set_lock", rshmem_rt::lock::set_lock(rt, a))
});

c_fn!(W; test_lock(lock: *mut c_long) -> c_int {
    let rt = rt("shmem_test_lock");
    let a = lock_addr(rt, "shmem_test_lock", lock);
    // shmem_test_lock returns 0 when the lock was acquired.
    (!check(rt, "shmem_test_lock", rshmem_rt::lock::test_lock(rt, a))) as c_int
});

c_fn!(W; clear_lock(lock: *mut c_long) {
    let rt = rt("shmem_clear_lock");
    let a = lock_addr(rt, "shmem_clear_lock", lock);
    check(rt, "shmem_clear_lock", rshmem_rt::lock::clear_lock(rt, a))
});

// Deprecated cache-management routines: no-ops on cache-coherent machines.
c_fn!(safe W; clear_cache_inv() {});
c_fn!(safe W; set_cache_inv() {});
c_fn!(safe W; clear_cache_line_inv(_dest: *mut c_void) {});
c_fn!(safe W; set_cache_line_inv(_dest: *mut c_void) {});
c_fn!(safe W; udcflush() {});
c_fn!(safe W; udcflush_line(_dest: *mut c_void) {});

// `shmem_pcontrol(const int level, ...)`: a no-op for every level (the specification's
// recommended levels: `level <= 0` profiling disabled, `1` enabled at the default level
// of detail, `2` enabled and profile buffers flushed if available, `> 2` profiling library
// defined effects and additional arguments) that profiling tools intercept by defining
// `shmem_pcontrol` and forwarding to this `pshmem_pcontrol`. Usable before `shmem_init`.
//
// The specification declares it variadic, which stable Rust cannot define. Defined with
// the one named argument instead: on the ABIs rshmem supports (x86_64 System V, aarch64
// AAPCS64 on Linux) a variadic call passes `level`, the first integer argument, in the
// same register as a non-variadic call (`edi` / `w0`); the extra x86_64 `al` (number of
// vector registers used) and any further arguments are simply not read, and the caller
// cleans up. The header keeps the specification's variadic prototype.
c_fn!(safe W; pcontrol(_level: c_int) {});

// Deprecated pre-1.2 names (plain symbols; no profiling variants exist for them).

c_export!(start_pes(_npes: c_int) {
    pshmem_init()
});

c_export!(_my_pe() -> c_int {
    pshmem_my_pe()
});

c_export!(_num_pes() -> c_int {
    pshmem_n_pes()
});
