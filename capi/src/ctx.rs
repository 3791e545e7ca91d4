//! Communication contexts (`shmem_ctx_*`) and the context forms of RMA and AMOs.
//!
//! The runtime has one ordering domain per PE, so a context is a thin object: the team
//! whose PE numbers its operations use (world for `shmem_ctx_create` and
//! `SHMEM_CTX_DEFAULT`) and the options it was created with. Its operations take the
//! default path after translating the PE; `shmem_ctx_quiet`/`_fence` complete or order
//! *all* of this PE's operations — stronger than the specification requires (which only
//! asks for the context's own), never weaker. `SHMEM_CTX_PRIVATE`, `_SERIALIZED` and
//! `_NOSTORE` are accepted and do not change anything.
use crate::amo::amo;
use crate::rma::{get, ibget, ibput, iget, iput, put, put_signal, signal_update};
use crate::team::{lookup, TeamHandle, TEAM_WORLD};
use crate::types::{Bits128, LongDouble};
use crate::{fail, rt};
use paste::paste;
use rshmem_transport::AmoOp;
use std::ffi::{c_char, c_double, c_float, c_int, c_long, c_longlong, c_schar, c_short};
use std::ffi::{c_uchar, c_uint, c_ulong, c_ulonglong, c_ushort, c_void};
use std::mem::size_of;

/// The C handle: NULL is `SHMEM_CTX_INVALID`, 1 is `SHMEM_CTX_DEFAULT`, anything else a
/// leaked [`Ctx`].
pub type CtxHandle = *mut c_void;

const CTX_DEFAULT: usize = 1;

/// A created context.
struct Ctx {
    /// World PE of each team member; `None` for the world team (identity).
    members: Option<Vec<usize>>,
    /// The team's C handle (for `shmem_ctx_get_team`).
    team: usize,
    #[allow(dead_code)]
    options: c_long,
}

/// The world PE of context PE `pe`, as the `c_int` the default-path helpers take.
#[inline(always)]
fn ctx_pe(what: &'static str, ctx: CtxHandle, pe: c_int) -> c_int {
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

#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_create(options: c_long, ctx: *mut CtxHandle) -> c_int {
    rt("shmem_ctx_create");
    unsafe { out(ctx, make(None, TEAM_WORLD, options)) };
    0
}

#[no_mangle]
pub unsafe extern "C" fn pshmem_team_create_ctx(
    team: TeamHandle,
    options: c_long,
    ctx: *mut CtxHandle,
) -> c_int {
    match lookup("shmem_team_create_ctx", team) {
        Some(t) => {
            let members = if team as usize == TEAM_WORLD {
                None
            } else {
                Some(t.members.clone())
            };
            unsafe { out(ctx, make(members, team as usize, options)) };
            0
        }
        None => {
            unsafe { out(ctx, core::ptr::null_mut()) };
            -1
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_destroy(ctx: CtxHandle) {
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
}

#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_get_team(ctx: CtxHandle, team: *mut TeamHandle) -> c_int {
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
}

// `shmem_ctx_quiet` and `_fence` (like `ctx_destroy` and the session routines) on
// `SHMEM_CTX_INVALID` perform no operation, as the specification says. `_pe_quiet` on it
// does the same as an allowed extension: the specification names only destroy, fence and
// quiet (and the sessions), and leaves `ctx_pe_quiet` on an invalid context undefined.
// RMA and AMOs on it are undefined and abort with a message (`ctx_pe`).
#[no_mangle]
pub extern "C" fn pshmem_ctx_quiet(ctx: CtxHandle) {
    let rt = rt("shmem_ctx_quiet");
    if !ctx.is_null() {
        rt.quiet()
    }
}

#[no_mangle]
pub extern "C" fn pshmem_ctx_fence(ctx: CtxHandle) {
    let rt = rt("shmem_ctx_fence");
    if !ctx.is_null() {
        rt.fence()
    }
}

#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_pe_quiet(
    ctx: CtxHandle,
    target_pes: *const c_int,
    npes: usize,
) {
    const W: &str = "shmem_ctx_pe_quiet";
    rt(W);
    if ctx.is_null() {
        return;
    }
    unsafe { crate::setup::pe_quiet(W, target_pes, npes, |p| ctx_pe(W, ctx, p)) }
}

#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_signal_add(
    ctx: CtxHandle,
    sig_addr: *mut u64,
    signal: u64,
    pe: c_int,
) {
    const W: &str = "shmem_ctx_signal_add";
    signal_update(W, sig_addr, signal, true, ctx_pe(W, ctx, pe))
}

#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_signal_set(
    ctx: CtxHandle,
    sig_addr: *mut u64,
    signal: u64,
    pe: c_int,
) {
    const W: &str = "shmem_ctx_signal_set";
    signal_update(W, sig_addr, signal, false, ctx_pe(W, ctx, pe))
}

/// `shmem_ctx_session_config_t` (1.6).
#[repr(C)]
pub struct SessionConfig {
    pub total_ops: usize,
}

/// `shmem_ctx_session_start` (1.6): sessions are performance hints that never change the
/// semantics; the runtime has nothing to batch, so after checking the context (and a
/// non-NULL `config` when `config_mask` asks for one of its fields) this does nothing.
/// `SHMEM_CTX_INVALID` is a no-op, as the specification says.
#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_session_start(
    ctx: CtxHandle,
    _options: c_long,
    config: *const SessionConfig,
    config_mask: c_long,
) {
    const W: &str = "shmem_ctx_session_start";
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
}

/// `shmem_ctx_session_stop` (1.6): ends the (hint-only) session; no effect.
#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_session_stop(ctx: CtxHandle) {
    const W: &str = "shmem_ctx_session_stop";
    rt(W);
    if !ctx.is_null() {
        ctx_pe(W, ctx, 0);
    }
}

weak!(
    ctx_session_start,
    ctx_session_stop,
    ctx_create,
    team_create_ctx,
    ctx_destroy,
    ctx_get_team,
    ctx_quiet,
    ctx_fence,
    ctx_pe_quiet,
    ctx_signal_add,
    ctx_signal_set
);

// ---- RMA -----------------------------------------------------------------------------

macro_rules! ctx_rma_shapes {
    ($t:ty, $put:ident, $get:ident, $put_nbi:ident, $get_nbi:ident,
     $iput:ident, $iget:ident, $put_signal:ident, $put_signal_nbi:ident) => {
        paste! {
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $put>](ctx: CtxHandle, dest: *mut $t, source: *const $t, nelems: usize, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($put));
                unsafe { put(W, dest as usize, source as *const u8, nelems, size_of::<$t>(), ctx_pe(W, ctx, pe), false) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $put_nbi>](ctx: CtxHandle, dest: *mut $t, source: *const $t, nelems: usize, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($put_nbi));
                unsafe { put(W, dest as usize, source as *const u8, nelems, size_of::<$t>(), ctx_pe(W, ctx, pe), true) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $get>](ctx: CtxHandle, dest: *mut $t, source: *const $t, nelems: usize, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($get));
                unsafe { get(W, dest as *mut u8, source as usize, nelems, size_of::<$t>(), ctx_pe(W, ctx, pe), false) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $get_nbi>](ctx: CtxHandle, dest: *mut $t, source: *const $t, nelems: usize, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($get_nbi));
                unsafe { get(W, dest as *mut u8, source as usize, nelems, size_of::<$t>(), ctx_pe(W, ctx, pe), true) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $iput>](ctx: CtxHandle, dest: *mut $t, source: *const $t, dst: isize, sst: isize, nelems: usize, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($iput));
                unsafe { iput(W, dest as usize, source as *const u8, dst, sst, nelems, size_of::<$t>(), ctx_pe(W, ctx, pe)) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $iget>](ctx: CtxHandle, dest: *mut $t, source: *const $t, dst: isize, sst: isize, nelems: usize, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($iget));
                unsafe { iget(W, dest as *mut u8, source as usize, dst, sst, nelems, size_of::<$t>(), ctx_pe(W, ctx, pe)) }
            }
            #[allow(clippy::too_many_arguments)]
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $put_signal>](ctx: CtxHandle, dest: *mut $t, source: *const $t, nelems: usize, sig_addr: *mut u64, signal: u64, sig_op: c_int, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($put_signal));
                unsafe { put_signal(W, dest as usize, source as *const u8, nelems, size_of::<$t>(), sig_addr, signal, sig_op, ctx_pe(W, ctx, pe)) }
            }
            #[allow(clippy::too_many_arguments)]
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $put_signal_nbi>](ctx: CtxHandle, dest: *mut $t, source: *const $t, nelems: usize, sig_addr: *mut u64, signal: u64, sig_op: c_int, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($put_signal_nbi));
                unsafe { put_signal(W, dest as usize, source as *const u8, nelems, size_of::<$t>(), sig_addr, signal, sig_op, ctx_pe(W, ctx, pe)) }
            }
            weak!([<ctx_ $put>], [<ctx_ $get>], [<ctx_ $put_nbi>], [<ctx_ $get_nbi>], [<ctx_ $iput>],
                  [<ctx_ $iget>], [<ctx_ $put_signal>], [<ctx_ $put_signal_nbi>]);
        }
    };
}

/// The ctx forms of the 1.6 block-strided routines for element type `$t`.
macro_rules! ctx_ib_shapes {
    ($t:ty, $ibput:ident, $ibget:ident) => {
        paste! {
            #[allow(clippy::too_many_arguments)]
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $ibput>](ctx: CtxHandle, dest: *mut $t, source: *const $t, dst: isize, sst: isize, bsize: usize, nblocks: usize, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($ibput));
                unsafe { ibput(W, dest as usize, source as *const u8, dst, sst, bsize, nblocks, size_of::<$t>(), ctx_pe(W, ctx, pe)) }
            }
            #[allow(clippy::too_many_arguments)]
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $ibget>](ctx: CtxHandle, dest: *mut $t, source: *const $t, dst: isize, sst: isize, bsize: usize, nblocks: usize, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($ibget));
                unsafe { ibget(W, dest as *mut u8, source as usize, dst, sst, bsize, nblocks, size_of::<$t>(), ctx_pe(W, ctx, pe)) }
            }
            weak!([<ctx_ $ibput>], [<ctx_ $ibget>]);
        }
    };
}

macro_rules! ctx_rma_typed {
    ($($n:ident: $t:ty),* $(,)?) => {$(
        paste! {
            ctx_rma_shapes!($t, [<$n _put>], [<$n _get>], [<$n _put_nbi>], [<$n _get_nbi>],
                [<$n _iput>], [<$n _iget>], [<$n _put_signal>], [<$n _put_signal_nbi>]);
            ctx_ib_shapes!($t, [<$n _ibput>], [<$n _ibget>]);
        }
    )*};
}

macro_rules! ctx_rma_pg {
    ($($n:ident: $t:ty),* $(,)?) => {$(
        paste! {
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _p>](ctx: CtxHandle, dest: *mut $t, value: $t, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($n), "_p");
                unsafe { put(W, dest as usize, &value as *const $t as *const u8, 1, size_of::<$t>(), ctx_pe(W, ctx, pe), false) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _g>](ctx: CtxHandle, source: *const $t, pe: c_int) -> $t {
                const W: &str = concat!("shmem_ctx_", stringify!($n), "_g");
                let mut v = core::mem::MaybeUninit::<$t>::uninit();
                unsafe {
                    get(W, v.as_mut_ptr() as *mut u8, source as usize, 1, size_of::<$t>(), ctx_pe(W, ctx, pe), false);
                    // SAFETY: `get` filled all bytes (or aborted).
                    v.assume_init()
                }
            }
            weak!([<ctx_ $n _p>], [<ctx_ $n _g>]);
        }
    )*};
}

macro_rules! ctx_rma_sized {
    ($($bits:literal: $t:ty),* $(,)?) => {$(
        paste! {
            ctx_rma_shapes!($t, [<put $bits>], [<get $bits>], [<put $bits _nbi>], [<get $bits _nbi>],
                [<iput $bits>], [<iget $bits>], [<put $bits _signal>], [<put $bits _signal_nbi>]);
            ctx_ib_shapes!($t, [<ibput $bits>], [<ibget $bits>]);
        }
    )*};
}

ctx_rma_typed!(
    float: c_float,
    double: c_double,
    longdouble: LongDouble,
    char: c_char,
    schar: c_schar,
    short: c_short,
    int: c_int,
    long: c_long,
    longlong: c_longlong,
    uchar: c_uchar,
    ushort: c_ushort,
    uint: c_uint,
    ulong: c_ulong,
    ulonglong: c_ulonglong,
    int8: i8,
    int16: i16,
    int32: i32,
    int64: i64,
    uint8: u8,
    uint16: u16,
    uint32: u32,
    uint64: u64,
    size: usize,
    ptrdiff: isize,
);

ctx_rma_pg!(
    float: c_float,
    double: c_double,
    char: c_char,
    schar: c_schar,
    short: c_short,
    int: c_int,
    long: c_long,
    longlong: c_longlong,
    uchar: c_uchar,
    ushort: c_ushort,
    uint: c_uint,
    ulong: c_ulong,
    ulonglong: c_ulonglong,
    int8: i8,
    int16: i16,
    int32: i32,
    int64: i64,
    uint8: u8,
    uint16: u16,
    uint32: u32,
    uint64: u64,
    size: usize,
    ptrdiff: isize,
);

ctx_rma_sized!(8: u8, 16: u16, 32: u32, 64: u64, 128: Bits128);

// `putmem` & co.: the element is a byte (`mem` has no strided forms; the generated
// `ctx_imem*` names are not emitted: the shapes macro is not used here).
macro_rules! ctx_mem {
    ($($name:ident, $nbi:expr, $dir:ident);* $(;)?) => {$(
        paste! {
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $name>](ctx: CtxHandle, dest: *mut c_void, source: *const c_void, nelems: usize, pe: c_int) {
                const W: &str = concat!("shmem_ctx_", stringify!($name));
                ctx_mem!(@$dir W, ctx, dest, source, nelems, pe, $nbi)
            }
            weak!([<ctx_ $name>]);
        }
    )*};
    (@put $w:ident, $ctx:ident, $d:ident, $s:ident, $n:ident, $pe:ident, $nbi:expr) => {
        unsafe { put($w, $d as usize, $s as *const u8, $n, 1, ctx_pe($w, $ctx, $pe), $nbi) }
    };
    (@get $w:ident, $ctx:ident, $d:ident, $s:ident, $n:ident, $pe:ident, $nbi:expr) => {
        unsafe { get($w, $d as *mut u8, $s as usize, $n, 1, ctx_pe($w, $ctx, $pe), $nbi) }
    };
}
ctx_mem!(putmem, false, put; putmem_nbi, true, put; getmem, false, get; getmem_nbi, true, get);

#[allow(clippy::too_many_arguments)]
#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_putmem_signal(
    ctx: CtxHandle,
    dest: *mut c_void,
    source: *const c_void,
    nelems: usize,
    sig_addr: *mut u64,
    signal: u64,
    sig_op: c_int,
    pe: c_int,
) {
    const W: &str = "shmem_ctx_putmem_signal";
    let pe = ctx_pe(W, ctx, pe);
    unsafe {
        put_signal(
            W,
            dest as usize,
            source as *const u8,
            nelems,
            1,
            sig_addr,
            signal,
            sig_op,
            pe,
        )
    }
}
#[allow(clippy::too_many_arguments)]
#[no_mangle]
pub unsafe extern "C" fn pshmem_ctx_putmem_signal_nbi(
    ctx: CtxHandle,
    dest: *mut c_void,
    source: *const c_void,
    nelems: usize,
    sig_addr: *mut u64,
    signal: u64,
    sig_op: c_int,
    pe: c_int,
) {
    const W: &str = "shmem_ctx_putmem_signal_nbi";
    let pe = ctx_pe(W, ctx, pe);
    unsafe {
        put_signal(
            W,
            dest as usize,
            source as *const u8,
            nelems,
            1,
            sig_addr,
            signal,
            sig_op,
            pe,
        )
    }
}
weak!(ctx_putmem_signal, ctx_putmem_signal_nbi);

// ---- AMOs ----------------------------------------------------------------------------

macro_rules! cname {
    ($n:ident, $($op:expr),+) => {
        concat!("shmem_ctx_", stringify!($n), "_atomic_", $($op),+)
    };
}

macro_rules! ctx_amo_extended {
    ($($n:ident: $t:ty),* $(,)?) => {$(
        paste! {
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_fetch>](ctx: CtxHandle, source: *const $t, pe: c_int) -> $t {
                const W: &str = cname!($n, "fetch");
                amo::<$t>(W, source as usize, AmoOp::Fetch, 0 as $t, 0 as $t, ctx_pe(W, ctx, pe))
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_set>](ctx: CtxHandle, dest: *mut $t, value: $t, pe: c_int) {
                const W: &str = cname!($n, "set");
                amo::<$t>(W, dest as usize, AmoOp::Set, value, 0 as $t, ctx_pe(W, ctx, pe));
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_swap>](ctx: CtxHandle, dest: *mut $t, value: $t, pe: c_int) -> $t {
                const W: &str = cname!($n, "swap");
                amo::<$t>(W, dest as usize, AmoOp::Swap, value, 0 as $t, ctx_pe(W, ctx, pe))
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_fetch_nbi>](ctx: CtxHandle, fetch: *mut $t, source: *const $t, pe: c_int) {
                const W: &str = cname!($n, "fetch_nbi");
                let v = amo::<$t>(W, source as usize, AmoOp::Fetch, 0 as $t, 0 as $t, ctx_pe(W, ctx, pe));
                unsafe { fetch.write_unaligned(v) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_swap_nbi>](ctx: CtxHandle, fetch: *mut $t, dest: *mut $t, value: $t, pe: c_int) {
                const W: &str = cname!($n, "swap_nbi");
                let v = amo::<$t>(W, dest as usize, AmoOp::Swap, value, 0 as $t, ctx_pe(W, ctx, pe));
                unsafe { fetch.write_unaligned(v) }
            }
            weak!([<ctx_ $n _atomic_fetch>], [<ctx_ $n _atomic_set>], [<ctx_ $n _atomic_swap>],
                  [<ctx_ $n _atomic_fetch_nbi>], [<ctx_ $n _atomic_swap_nbi>]);
        }
    )*};
}

macro_rules! ctx_amo_standard {
    ($($n:ident: $t:ty),* $(,)?) => {$(
        paste! {
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_compare_swap>](ctx: CtxHandle, dest: *mut $t, cond: $t, value: $t, pe: c_int) -> $t {
                const W: &str = cname!($n, "compare_swap");
                amo::<$t>(W, dest as usize, AmoOp::CompareSwap, value, cond, ctx_pe(W, ctx, pe))
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_fetch_inc>](ctx: CtxHandle, dest: *mut $t, pe: c_int) -> $t {
                const W: &str = cname!($n, "fetch_inc");
                amo::<$t>(W, dest as usize, AmoOp::FetchAdd, 1, 0, ctx_pe(W, ctx, pe))
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_inc>](ctx: CtxHandle, dest: *mut $t, pe: c_int) {
                const W: &str = cname!($n, "inc");
                amo::<$t>(W, dest as usize, AmoOp::FetchAdd, 1, 0, ctx_pe(W, ctx, pe));
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_fetch_add>](ctx: CtxHandle, dest: *mut $t, value: $t, pe: c_int) -> $t {
                const W: &str = cname!($n, "fetch_add");
                amo::<$t>(W, dest as usize, AmoOp::FetchAdd, value, 0, ctx_pe(W, ctx, pe))
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_add>](ctx: CtxHandle, dest: *mut $t, value: $t, pe: c_int) {
                const W: &str = cname!($n, "add");
                amo::<$t>(W, dest as usize, AmoOp::FetchAdd, value, 0, ctx_pe(W, ctx, pe));
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_compare_swap_nbi>](ctx: CtxHandle, fetch: *mut $t, dest: *mut $t, cond: $t, value: $t, pe: c_int) {
                const W: &str = cname!($n, "compare_swap_nbi");
                let v = amo::<$t>(W, dest as usize, AmoOp::CompareSwap, value, cond, ctx_pe(W, ctx, pe));
                unsafe { fetch.write_unaligned(v) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_fetch_inc_nbi>](ctx: CtxHandle, fetch: *mut $t, dest: *mut $t, pe: c_int) {
                const W: &str = cname!($n, "fetch_inc_nbi");
                let v = amo::<$t>(W, dest as usize, AmoOp::FetchAdd, 1, 0, ctx_pe(W, ctx, pe));
                unsafe { fetch.write_unaligned(v) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_fetch_add_nbi>](ctx: CtxHandle, fetch: *mut $t, dest: *mut $t, value: $t, pe: c_int) {
                const W: &str = cname!($n, "fetch_add_nbi");
                let v = amo::<$t>(W, dest as usize, AmoOp::FetchAdd, value, 0, ctx_pe(W, ctx, pe));
                unsafe { fetch.write_unaligned(v) }
            }
            weak!([<ctx_ $n _atomic_compare_swap>], [<ctx_ $n _atomic_fetch_inc>], [<ctx_ $n _atomic_inc>],
                  [<ctx_ $n _atomic_fetch_add>], [<ctx_ $n _atomic_add>], [<ctx_ $n _atomic_compare_swap_nbi>],
                  [<ctx_ $n _atomic_fetch_inc_nbi>], [<ctx_ $n _atomic_fetch_add_nbi>]);
        }
    )*};
}

macro_rules! ctx_amo_bitwise {
    ($($n:ident: $t:ty),* $(,)?) => {$(
        ctx_amo_bitwise!(@op $n, $t, and, FetchAnd);
        ctx_amo_bitwise!(@op $n, $t, or, FetchOr);
        ctx_amo_bitwise!(@op $n, $t, xor, FetchXor);
    )*};
    (@op $n:ident, $t:ty, $op:ident, $amo:ident) => {
        paste! {
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_fetch_ $op>](ctx: CtxHandle, dest: *mut $t, value: $t, pe: c_int) -> $t {
                const W: &str = cname!($n, "fetch_", stringify!($op));
                amo::<$t>(W, dest as usize, AmoOp::$amo, value, 0, ctx_pe(W, ctx, pe))
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_ $op>](ctx: CtxHandle, dest: *mut $t, value: $t, pe: c_int) {
                const W: &str = cname!($n, stringify!($op));
                amo::<$t>(W, dest as usize, AmoOp::$amo, value, 0, ctx_pe(W, ctx, pe));
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ctx_ $n _atomic_fetch_ $op _nbi>](ctx: CtxHandle, fetch: *mut $t, dest: *mut $t, value: $t, pe: c_int) {
                const W: &str = cname!($n, "fetch_", stringify!($op), "_nbi");
                let v = amo::<$t>(W, dest as usize, AmoOp::$amo, value, 0, ctx_pe(W, ctx, pe));
                unsafe { fetch.write_unaligned(v) }
            }
            weak!([<ctx_ $n _atomic_fetch_ $op>], [<ctx_ $n _atomic_ $op>], [<ctx_ $n _atomic_fetch_ $op _nbi>]);
        }
    };
}

ctx_amo_extended!(
    float: c_float,
    double: c_double,
    int: c_int,
    long: c_long,
    longlong: c_longlong,
    uint: c_uint,
    ulong: c_ulong,
    ulonglong: c_ulonglong,
    int32: i32,
    int64: i64,
    uint32: u32,
    uint64: u64,
    size: usize,
    ptrdiff: isize,
);

ctx_amo_standard!(
    int: c_int,
    long: c_long,
    longlong: c_longlong,
    uint: c_uint,
    ulong: c_ulong,
    ulonglong: c_ulonglong,
    int32: i32,
    int64: i64,
    uint32: u32,
    uint64: u64,
    size: usize,
    ptrdiff: isize,
);

ctx_amo_bitwise!(
    uint: c_uint,
    ulong: c_ulong,
    ulonglong: c_ulonglong,
    int32: i32,
    int64: i64,
    uint32: u32,
    uint64: u64,
);
