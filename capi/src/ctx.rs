//! Communication contexts (`shmem_ctx_*`) and the context forms of RMA and AMOs.
//!
//! A context is the team whose PE numbers its operations use (world for `shmem_ctx_create`
//! and `SHMEM_CTX_DEFAULT`), the options it was created with, and the runtime's context
//! ([`rshmem_rt::rt::Ctx`]): over verbs a channel of its own (its own CQ, QP per peer and
//! bounce ring; `shmem_ctx_quiet`/`_fence` complete and order only its operations), taking
//! no lock at all when created with `SHMEM_CTX_PRIVATE` or `SHMEM_CTX_SERIALIZED` (the
//! program promises not to use it from two threads at once). Peers reached through shared
//! memory or TCP take the default path (see `rshmem_rt::rt::Ctx`). `SHMEM_CTX_NOSTORE`
//! is accepted and changes nothing. The context forms of RMA and AMOs are defined with their
//! default forms (`rma.rs`, `amo.rs`, `ctx_and_default!`): [`ctx_pe`] gives them the world
//! PE and the runtime context to use.
use crate::team::{lookup, TeamHandle, TEAM_WORLD};
use crate::{check, fail, pe_of, rt};
use std::ffi::{c_int, c_long, c_void};

/// The C handle: NULL is `SHMEM_CTX_INVALID`, 1 is `SHMEM_CTX_DEFAULT`, anything else a
/// leaked [`Ctx`].
pub type CtxHandle = *mut c_void;

const CTX_DEFAULT: usize = 1;

/// `SHMEM_CTX_DEFAULT`: the non-context routines are their context form on it
/// (`ctx_and_default!`).
pub(crate) const SHMEM_CTX_DEFAULT: CtxHandle = CTX_DEFAULT as CtxHandle;

/// `SHMEM_CTX_PRIVATE`.
const SHMEM_CTX_PRIVATE: c_long = 1;
/// `SHMEM_CTX_SERIALIZED`.
const SHMEM_CTX_SERIALIZED: c_long = 2;

/// A created context.
struct Ctx {
    /// World PE of each team member; `None` for the world team (identity).
    members: Option<Vec<usize>>,
    /// The team's C handle (for `shmem_ctx_get_team`).
    team: usize,
    #[allow(dead_code)]
    options: c_long,
    /// The runtime's context (its transport channel).
    rt: rshmem_rt::rt::Ctx,
}

/// A PE of a context routine, translated: the world PE (as the `c_int` the helpers check)
/// and the runtime context to issue on (`None`: the default context).
#[derive(Clone, Copy)]
pub(crate) struct CtxPe {
    pub(crate) pe: c_int,
    pub(crate) ctx: Option<&'static rshmem_rt::rt::Ctx>,
}

/// The world PE of context PE `pe` and the runtime context of `ctx`. On the constant
/// `SHMEM_CTX_DEFAULT` this folds to `pe` and the default context.
#[inline(always)]
pub(crate) fn ctx_pe(what: &'static str, ctx: CtxHandle, pe: c_int) -> CtxPe {
    CtxPe {
        pe: world_pe(what, ctx, pe),
        ctx: ctx_rt(ctx),
    }
}

/// The runtime context of `ctx` (`None`: the default context, or `SHMEM_CTX_INVALID`).
#[inline(always)]
fn ctx_rt(ctx: CtxHandle) -> Option<&'static rshmem_rt::rt::Ctx> {
    match ctx as usize {
        CTX_DEFAULT | 0 => None,
        // SAFETY: a live context handle (contract).
        p => Some(unsafe { &(*(p as *const Ctx)).rt }),
    }
}

/// The world PE of context PE `pe`.
#[inline(always)]
fn world_pe(what: &'static str, ctx: CtxHandle, pe: c_int) -> c_int {
    match ctx as usize {
        CTX_DEFAULT => pe,
        0 => rt(what).abort(
            1,
            &format!("{what}: SHMEM_CTX_INVALID is not a usable context"),
        ),
        p => {
            // SAFETY: a handle from `shmem_ctx_create` / `shmem_team_create_ctx` that has not
            // been destroyed (contract).
            let c = unsafe { &*(p as *const Ctx) };
            match &c.members {
                None => pe,
                Some(m) => match usize::try_from(pe).ok().and_then(|i| m.get(i)) {
                    Some(&w) => w as c_int,
                    None => {
                        let rt = rt(what);
                        fail(
                            rt,
                            what,
                            rshmem_rt::Error::PeOutOfRange {
                                pe: pe as i64,
                                n_pes: m.len(),
                            },
                        )
                    }
                },
            }
        }
    }
}

unsafe fn out(p: *mut CtxHandle, h: CtxHandle) {
    if !p.is_null() {
        // SAFETY: valid out pointer (contract).
        unsafe { *p = h };
    }
}

/// The handles of the contexts created and not yet destroyed: `shmem_ctx_destroy` checks
/// its argument against them, and `shmem_finalize` completes and frees the ones the
/// program left (the specification: finalize completes pending communication).
static LIVE: parking_lot::Mutex<Vec<usize>> = parking_lot::Mutex::new(Vec::new());

/// At `shmem_finalize`, before its barrier: completes the operations of every context the
/// program did not destroy (a quiet on each) and frees them, so that no transfer of theirs
/// is still in flight when the peers tear down their memory.
pub(crate) fn finalize_hook(rt: &rshmem_rt::rt::Runtime) {
    let live = std::mem::take(&mut *LIVE.lock());
    for p in live {
        // SAFETY: made by `make` and not destroyed (it was still in `LIVE`); finalize is
        // the last call of the program's OpenSHMEM part, so no other thread uses it now.
        let c = unsafe { Box::from_raw(p as *mut Ctx) };
        rt.ctx_destroy(c.rt);
    }
}

/// A new context; NULL (`SHMEM_CTX_INVALID`) when its channel cannot be made (the
/// specification's "nonzero return": out of QPs or memory), with a message.
fn make(
    what: &'static str,
    members: Option<Vec<usize>>,
    team: usize,
    options: c_long,
) -> CtxHandle {
    let rt = rt(what);
    let private = options & (SHMEM_CTX_PRIVATE | SHMEM_CTX_SERIALIZED) != 0;
    // SAFETY: a private or serialized context is never used by two threads at once (the
    // specification makes that the program's duty).
    match unsafe { rt.ctx_create(private) } {
        Ok(c) => {
            let h = Box::into_raw(Box::new(Ctx {
                members,
                team,
                options,
                rt: c,
            }));
            LIVE.lock().push(h as usize);
            h as CtxHandle
        }
        Err(e) => {
            eprintln!("{what}: cannot create a context: {e}");
            core::ptr::null_mut()
        }
    }
}

c_fn!(W; ctx_create(options: c_long, ctx: *mut CtxHandle) -> c_int {
    let h = make(W, None, TEAM_WORLD, options);
    // SAFETY: the C caller's contract: the handle pointer is valid for writes (`out` ignores NULL).
    unsafe { out(ctx, h) };
    if h.is_null() { -1 } else { 0 }
});

c_fn!(W; team_create_ctx(team: TeamHandle, options: c_long, ctx: *mut CtxHandle) -> c_int {
    match lookup("shmem_team_create_ctx", team) {
        Some(t) => {
            let members = if team as usize == TEAM_WORLD {
                None
            } else {
                Some(t.members.clone())
            };
            let h = make(W, members, team as usize, options);
            // SAFETY: the C caller's contract: the handle pointer is valid for writes (`out` ignores NULL).
            unsafe { out(ctx, h) };
            if h.is_null() { -1 } else { 0 }
        }
        None => {
            // SAFETY: the C caller's contract: the handle pointer is valid for writes (`out` ignores NULL).
            unsafe { out(ctx, core::ptr::null_mut()) };
            -1
        }
    }
});

c_fn!(W; ctx_destroy(ctx: CtxHandle) {
    let rt = rt("shmem_ctx_destroy");
    match ctx as usize {
        0 => {}
        CTX_DEFAULT => rt.abort(
            1,
            "shmem_ctx_destroy: SHMEM_CTX_DEFAULT cannot be destroyed",
        ),
        p => {
            {
                let mut live = LIVE.lock();
                match live.iter().position(|&q| q == p) {
                    Some(i) => {
                        live.swap_remove(i);
                    }
                    None => {
                        drop(live);
                        rt.abort(
                            1,
                            &format!(
                                "shmem_ctx_destroy: {p:#x} is not a live context (destroyed \
                                 already, or not made by shmem_ctx_create or \
                                 shmem_team_create_ctx)"
                            ),
                        )
                    }
                }
            }
            // SAFETY: made by `make` and live (it was in `LIVE`, removed now: destroyed once).
            let c = unsafe { Box::from_raw(p as *mut Ctx) };
            // Destroying completes the context's outstanding operations, then frees its
            // channel.
            rt.ctx_destroy(c.rt);
        }
    }
});

c_fn!(W; ctx_get_team(ctx: CtxHandle, team: *mut TeamHandle) -> c_int {
    rt("shmem_ctx_get_team");
    let (h, r) = match ctx as usize {
        0 => (0, -1),
        CTX_DEFAULT => (TEAM_WORLD, 0),
        // SAFETY: a live context handle (contract).
        p => (unsafe { &*(p as *const Ctx) }.team, 0),
    };
    if !team.is_null() {
        // SAFETY: valid out pointer (contract).
        unsafe { *team = h as TeamHandle };
    }
    r
});

// `shmem_ctx_quiet` and `_fence` (like `ctx_destroy` and the session routines) on
// `SHMEM_CTX_INVALID` perform no operation, as the specification says. `_pe_quiet` on it
// does the same as an allowed extension: the specification names only destroy, fence and
// quiet (and the sessions), and leaves `ctx_pe_quiet` on an invalid context undefined.
// RMA and AMOs on it are undefined and abort with a message (`ctx_pe`).
ctx_and_default!(ctx, W; quiet() {
    let rt = rt(W);
    if !ctx.is_null() {
        match ctx_rt(ctx) {
            Some(c) => rt.ctx_quiet(c),
            None => rt.quiet(),
        }
    }
});

ctx_and_default!(ctx, W; fence() {
    let rt = rt(W);
    if !ctx.is_null() {
        match ctx_rt(ctx) {
            Some(c) => rt.ctx_fence(c),
            None => rt.fence(),
        }
    }
});

/// `shmem_pe_quiet` and `shmem_ctx_pe_quiet` (1.6): checks each of the `npes` PEs at
/// `target_pes` (`map` turns a context's PE number into a world one, aborting when it is out
/// of the context's team), then completes *all* of this PE's operations — the runtime has
/// no per-target completion, and a full quiet is never weaker. `target_pes` is not read
/// when `npes` is 0.
///
/// # Safety
/// `target_pes` holds `npes` ints (contract).
unsafe fn pe_quiet(
    what: &'static str,
    target_pes: *const c_int,
    npes: usize,
    map: impl Fn(c_int) -> c_int,
) {
    let rt = rt(what);
    if npes == 0 {
        return;
    }
    if target_pes.is_null() {
        rt.abort(1, &format!("{what}: target_pes is NULL but npes is {npes}"))
    }
    // SAFETY: `target_pes` holds `npes` ints (contract), checked non-NULL above.
    let pes = unsafe { std::slice::from_raw_parts(target_pes, npes) };
    for &p in pes {
        let w = pe_of(rt, what, map(p));
        check(rt, what, rt.check_pe(w));
    }
}

ctx_and_default!(ctx, W; pe_quiet(target_pes: *const c_int, npes: usize) {
    rt(W);
    if ctx.is_null() {
        return;
    }
    // SAFETY: the C caller's contract: `target_pes` points to `npes` PE numbers.
    unsafe { pe_quiet(W, target_pes, npes, |p| world_pe(W, ctx, p)) };
    if npes > 0 {
        match ctx_rt(ctx) {
            Some(c) => rt(W).ctx_quiet(c),
            None => rt(W).quiet(),
        }
    }
});

/// `shmem_ctx_session_config_t` (1.6).
#[repr(C)]
pub struct SessionConfig {
    pub total_ops: usize,
}

// `shmem_ctx_session_start` (1.6): sessions are performance hints that never change the
// semantics; the runtime has nothing to batch, so after checking the context (and a
// non-NULL `config` when `config_mask` asks for one of its fields) this does nothing.
// `SHMEM_CTX_INVALID` is a no-op, as the specification says.
c_fn!(W; ctx_session_start(ctx: CtxHandle, _options: c_long, config: *const SessionConfig, config_mask: c_long) {
    let rt = rt(W);
    if ctx.is_null() {
        return;
    }
    world_pe(W, ctx, 0);
    if config_mask != 0 && config.is_null() {
        rt.abort(
            1,
            &format!("{W}: config is NULL but config_mask is {config_mask:#x}"),
        )
    }
});

// `shmem_ctx_session_stop` (1.6): ends the (hint-only) session; no effect.
c_fn!(W; ctx_session_stop(ctx: CtxHandle) {
    rt(W);
    if !ctx.is_null() {
        world_pe(W, ctx, 0);
    }
});
