//! Communication contexts (`shmem_ctx_*`) and the context forms of RMA and AMOs.
//!
//! The runtime has one ordering domain per PE, so a context is a thin object: the team
//! whose PE numbers its operations use (world for `shmem_ctx_create` and
//! `SHMEM_CTX_DEFAULT`) and the options it was created with. Its operations take the
//! default path after translating the PE; `shmem_ctx_quiet`/`_fence` complete or order
//! *all* of this PE's operations — stronger than the specification requires (which only
//! asks for the context's own), never weaker. `SHMEM_CTX_PRIVATE`, `_SERIALIZED` and
//! `_NOSTORE` are accepted and do not change anything. The context forms of RMA and AMOs
//! are defined with their default forms (`rma.rs`, `amo.rs`, `ctx_and_default!`).
use crate::team::{lookup, TeamHandle, TEAM_WORLD};
use crate::{fail, rt};
use std::ffi::{c_int, c_long, c_void};

/// The C handle: NULL is `SHMEM_CTX_INVALID`, 1 is `SHMEM_CTX_DEFAULT`, anything else a
/// leaked [`Ctx`].
pub type CtxHandle = *mut c_void;

const CTX_DEFAULT: usize = 1;

/// `SHMEM_CTX_DEFAULT`: the non-context routines are their context form on it
/// (`ctx_and_default!`).
pub(crate) const SHMEM_CTX_DEFAULT: CtxHandle = CTX_DEFAULT as CtxHandle;

/// A created context.
struct Ctx {
    /// World PE of each team member; `None` for the world team (identity).
    members: Option<Vec<usize>>,
    /// The team's C handle (for `shmem_ctx_get_team`).
    team: usize,
    #[allow(dead_code)]
    options: c_long,
}

/// The world PE of context PE `pe`, as the `c_int` the default-path helpers take. On the
/// constant `SHMEM_CTX_DEFAULT` this folds to `pe`.
#[inline(always)]
pub(crate) fn ctx_pe(what: &'static str, ctx: CtxHandle, pe: c_int) -> c_int {
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

fn make(members: Option<Vec<usize>>, team: usize, options: c_long) -> CtxHandle {
    Box::into_raw(Box::new(Ctx {
        members,
        team,
        options,
    })) as CtxHandle
}

c_fn!(W; ctx_create(options: c_long, ctx: *mut CtxHandle) -> c_int {
    rt("shmem_ctx_create");
    // SAFETY: the C caller's contract: the handle pointer is valid for writes (`out` ignores NULL).
    unsafe { out(ctx, make(None, TEAM_WORLD, options)) };
    0
});

c_fn!(W; team_create_ctx(team: TeamHandle, options: c_long, ctx: *mut CtxHandle) -> c_int {
    match lookup("shmem_team_create_ctx", team) {
        Some(t) => {
            let members = if team as usize == TEAM_WORLD {
                None
            } else {
                Some(t.members.clone())
            };
            // SAFETY: the C caller's contract: the handle pointer is valid for writes (`out` ignores NULL).
            unsafe { out(ctx, make(members, team as usize, options)) };
            0
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
            // Destroying completes the context's outstanding operations.
            rt.quiet();
            // SAFETY: made by `make`, destroyed once (contract).
            drop(unsafe { Box::from_raw(p as *mut Ctx) });
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
        rt.quiet()
    }
});

ctx_and_default!(ctx, W; fence() {
    let rt = rt(W);
    if !ctx.is_null() {
        rt.fence()
    }
});

ctx_and_default!(ctx, W; pe_quiet(target_pes: *const c_int, npes: usize) {
    rt(W);
    if ctx.is_null() {
        return;
    }
    // SAFETY: the C caller's contract: `target_pes` points to `npes` PE numbers.
    unsafe { crate::setup::pe_quiet(W, target_pes, npes, |p| ctx_pe(W, ctx, p)) }
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
    ctx_pe(W, ctx, 0);
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
        ctx_pe(W, ctx, 0);
    }
});
