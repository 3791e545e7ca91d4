//! Collectives on raw C addresses: the team forms (`shmem_TYPE_broadcast`, `_collect`,
//! `_fcollect`, `_alltoall(s)`, `_OP_reduce`, the 1.6 `_sum_inscan/_exscan`, the `mem`
//! forms) and the deprecated active-set forms (`shmem_broadcast32`, `_to_all`, ...).
//!
//! Team and active-set forms whose buffers are in the symmetric heap run the runtime's
//! algorithms through its raw-address entry points (`Team::broadcast_addr`,
//! `fcollect_addr`, `collect_addr`, `alltoall_addr`, `reduce_addr`): the same code and
//! algorithm choice as the Rust API (an active set runs on the runtime's shared active-set
//! context, see [`crate::team`]). The rest (buffers in the program's globals, which the
//! algorithms cannot address by heap offset; alltoalls, scans, long double reductions) run simple algorithms over a [`Group`]: a barrier (the team's or active
//! set's `sync`), every member *pulls* what it needs
//! with `get` from the other members' symmetric source, and a closing barrier before the
//! source may change again. Reductions combine the members' contributions in team order on
//! every PE, so every member computes bit-identical results (floats included).
use crate::rma::Strides;
use crate::team::{internal, lookup, Group, TeamHandle};
use crate::types::LongDouble;
use crate::{check, rt};
use paste::paste;
use rshmem_rt::rt::Runtime;
use rshmem_rt::{Op, Result, Team};
use std::ffi::{c_char, c_double, c_float, c_int, c_long, c_longlong, c_schar, c_short};
use std::ffi::{c_uchar, c_uint, c_ulong, c_ulonglong, c_ushort, c_void};
use std::mem::size_of;

fn get_from(rt: &Runtime, what: &'static str, dst: *mut u8, src: usize, len: usize, pe: usize) {
    if len > 0 {
        // SAFETY: `dst` is valid for `len` bytes (callers: a local buffer or checked range).
        check(rt, what, unsafe { rt.get(dst, src, len, pe) })
    }
}

/// `[addr, addr+len)` must lie in one symmetric allocation (heap) or in the segment of
/// global variables: a destination smaller than the result would otherwise overwrite
/// the next allocation. Ends the job naming `what`, `buffer` and the sizes.
fn local_range(rt: &Runtime, what: &'static str, buffer: &'static str, addr: usize, len: usize) {
    match rt.check_buffer(what, buffer, addr, len) {
        Ok(()) => {}
        Err(e @ rshmem_rt::Error::NotSymmetric { .. }) => crate::fail(rt, what, e),
        // These messages start with `what` already.
        Err(e) => rt.abort(1, &e.to_string()),
    }
}

/// The bytes spanned by `nelems` elements of `size` bytes at `stride` elements, or end
/// the job naming `what` and the values when that overflows.
fn span(rt: &Runtime, what: &'static str, nelems: usize, stride: usize, size: usize) -> usize {
    rshmem_rt::rt::strided_span(what, nelems, stride, size)
        .unwrap_or_else(|e| rt.abort(1, &e.to_string()))
}

fn bytes(rt: &Runtime, what: &'static str, n: usize, size: usize) -> usize {
    n.checked_mul(size).unwrap_or_else(|| {
        rt.abort(
            1,
            &format!("{what}: {n} elements of {size} bytes overflow size_t"),
        )
    })
}

/// Runs `f` on the team's group; -1 for an invalid team (nothing happens, as the spec asks).
fn on_team(what: &'static str, team: TeamHandle, f: impl FnOnce(&Runtime, &Group<'_>)) -> c_int {
    match lookup(what, team) {
        Some(t) => {
            f(rt(what), &t.group());
            0
        }
        None => -1,
    }
}

fn on_active(
    what: &'static str,
    start: c_int,
    log_stride: c_int,
    size: c_int,
    psync: *const c_long,
    f: impl FnOnce(&Runtime, &Group<'_>),
) {
    let rt = rt(what);
    if psync.is_null() {
        rt.abort(1, &format!("{what}: pSync is NULL"))
    }
    let g = Group::active(rt, what, start, log_stride, size);
    f(rt, &g)
}

/// The two local symmetric buffers of a collective call, as raw addresses.
#[derive(Clone, Copy)]
pub(crate) struct Bufs {
    pub(crate) dest: usize,
    pub(crate) src: usize,
}

/// `dest[..nbytes]` on every member := `src[..nbytes]` of member `root`. The root's own
/// `dest` is written only if `update_root` (1.5 team form; the deprecated forms leave it).
pub(crate) fn broadcast(
    rt: &Runtime,
    g: &Group<'_>,
    what: &'static str,
    Bufs { dest, src }: Bufs,
    nbytes: usize,
    root: c_int,
    update_root: bool,
) {
    g.team()
        .debug_check(what, &[("bytes", nbytes as i64), ("root", root as i64)]);
    if root < 0 || root as usize >= g.n() {
        rt.abort(
            1,
            &format!(
                "{what}: PE_root {root} is not a PE of the {} in the set",
                g.n()
            ),
        )
    }
    let root = root as usize;
    local_range(rt, what, "dest", dest, nbytes);
    local_range(rt, what, "source", src, nbytes);
    // A team (or the whole world as an active set), heap buffers: the runtime's algorithms.
    if check(
        rt,
        what,
        g.team()
            .broadcast_addr(dest, src, nbytes, root, update_root),
    ) {
        return;
    }
    g.barrier(rt, what);
    if g.me != root {
        get_from(rt, what, dest as *mut u8, src, nbytes, g.members[root]);
    } else if update_root && dest != src && nbytes > 0 {
        // SAFETY: two checked local symmetric ranges; `copy` allows overlap.
        unsafe { core::ptr::copy(src as *const u8, dest as *mut u8, nbytes) };
    }
    g.barrier(rt, what);
}

/// `dest` := the members' `src[..nbytes]` in order.
pub(crate) fn fcollect(
    rt: &Runtime,
    g: &Group<'_>,
    what: &'static str,
    dest: usize,
    src: usize,
    nbytes: usize,
) {
    g.team().debug_check(what, &[("bytes", nbytes as i64)]);
    local_range(rt, what, "dest", dest, bytes(rt, what, nbytes, g.n()));
    local_range(rt, what, "source", src, nbytes);
    if check(rt, what, g.team().fcollect_addr(dest, src, nbytes)) {
        return;
    }
    g.barrier(rt, what);
    for (j, &p) in g.members.iter().enumerate() {
        get_from(rt, what, (dest + j * nbytes) as *mut u8, src, nbytes, p);
    }
    g.barrier(rt, what);
}

/// `dest` := the members' `src[..nbytes_i]` in order (sizes may differ per member).
pub(crate) fn collect(
    rt: &Runtime,
    g: &Group<'_>,
    what: &'static str,
    dest: usize,
    src: usize,
    nbytes: usize,
) {
    // nelems may differ per member: only the call is compared.
    g.team().debug_check(what, &[]);
    local_range(rt, what, "source", src, nbytes);
    if let Some(total) = check(rt, what, g.team().collect_addr(what, dest, src, nbytes)) {
        local_range(rt, what, "dest", dest, total);
        return;
    }
    let int = internal(what);
    let mine = g.members[g.me];
    let word = nbytes as u64;
    for &p in g.members.iter() {
        // SAFETY: `word` is a live local u64.
        let r = unsafe { rt.put(int.sizes + mine * 8, &word as *const u64 as *const u8, 8, p) };
        check(rt, what, r);
    }
    g.barrier(rt, what);
    let mut off = 0usize;
    let mut parts = Vec::with_capacity(g.n());
    for &p in g.members.iter() {
        // SAFETY: the internal area holds n_pes words; the values landed before the barrier.
        let len = unsafe { ((int.sizes + p * 8) as *const u64).read_volatile() } as usize;
        parts.push((off, len, p));
        off = off.checked_add(len).unwrap_or_else(|| {
            rt.abort(
                1,
                &format!("{what}: the members' sizes add up past the address space ({off} + {len} bytes)"),
            )
        });
    }
    local_range(rt, what, "dest", dest, off);
    for (o, len, p) in parts {
        get_from(rt, what, (dest + o) as *mut u8, src, len, p);
    }
    g.barrier(rt, what);
}

/// Block `j` of `src` (`nbytes` each) goes to member `j`, landing as block `me` of `dest`.
pub(crate) fn alltoall(
    rt: &Runtime,
    g: &Group<'_>,
    what: &'static str,
    dest: usize,
    src: usize,
    nbytes: usize,
) {
    g.team().debug_check(what, &[("bytes", nbytes as i64)]);
    let total = bytes(rt, what, nbytes, g.n());
    local_range(rt, what, "dest", dest, total);
    local_range(rt, what, "source", src, total);
    if check(rt, what, g.team().alltoall_addr(dest, src, nbytes)) {
        return;
    }
    g.barrier(rt, what);
    for (j, &p) in g.members.iter().enumerate() {
        get_from(
            rt,
            what,
            (dest + j * nbytes) as *mut u8,
            src + g.me * nbytes,
            nbytes,
            p,
        );
    }
    g.barrier(rt, what);
}

/// Strided `alltoall`: member `i`'s `dest[dst * (j * nelems + k)]` := member `j`'s
/// `src[sst * (i * nelems + k)]`, `k < nelems`.
pub(crate) fn alltoalls(
    rt: &Runtime,
    g: &Group<'_>,
    what: &'static str,
    Bufs { dest, src }: Bufs,
    strides: Strides,
) {
    let Strides {
        dst,
        sst,
        nelems,
        size: esize,
    } = strides;
    g.team().debug_check(
        what,
        &[
            ("dst", dst as i64),
            ("sst", sst as i64),
            ("nelems", nelems as i64),
        ],
    );
    if dst < 1 || sst < 1 {
        rt.abort(
            1,
            &format!("{what}: strides dst={dst} sst={sst} must be at least 1"),
        )
    }
    let (dst, sst) = (dst as usize, sst as usize);
    if nelems > 0 {
        // Both buffers hold n_pes * nelems elements at their strides: checked products, and
        // checked against their allocations before anything moves.
        let all = bytes(rt, what, nelems, g.n());
        local_range(rt, what, "dest", dest, span(rt, what, all, dst, esize));
        local_range(rt, what, "source", src, span(rt, what, all, sst, esize));
    }
    g.barrier(rt, what);
    if nelems > 0 {
        // Within the spans checked above, so these products do not overflow.
        let (dblock, sblock) = (nelems * dst * esize, nelems * sst * esize);
        for (j, &p) in g.members.iter().enumerate() {
            let d = dest + j * dblock;
            let s = rshmem_rt::rt::Strided {
                dst,
                sst,
                size: esize,
                nelems,
            };
            // SAFETY: the destination elements are in the local range checked above.
            let r = unsafe { rt.iget(d as *mut u8, src + g.me * sblock, s, p) };
            check(rt, what, r);
        }
    }
    g.barrier(rt, what);
}

/// Reduction operators.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ROp {
    And,
    Or,
    Xor,
    Max,
    Min,
    Sum,
    Prod,
}

/// Element types that can be combined.
pub(crate) trait Arith: Copy + Default {
    /// `a[i] = a[i] op b[i]`.
    fn combine(op: ROp, a: &mut [Self], b: &[Self]);
}

macro_rules! int_arith {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            fn combine(op: ROp, a: &mut [Self], b: &[Self]) {
                let it = a.iter_mut().zip(b);
                match op {
                    ROp::And => it.for_each(|(x, y)| *x &= *y),
                    ROp::Or => it.for_each(|(x, y)| *x |= *y),
                    ROp::Xor => it.for_each(|(x, y)| *x ^= *y),
                    ROp::Max => it.for_each(|(x, y)| *x = (*x).max(*y)),
                    ROp::Min => it.for_each(|(x, y)| *x = (*x).min(*y)),
                    ROp::Sum => it.for_each(|(x, y)| *x = x.wrapping_add(*y)),
                    ROp::Prod => it.for_each(|(x, y)| *x = x.wrapping_mul(*y)),
                }
            }
        }
    )*};
}
int_arith!(i8, i16, i32, i64, u8, u16, u32, u64, isize, usize);

macro_rules! float_arith {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            fn combine(op: ROp, a: &mut [Self], b: &[Self]) {
                let it = a.iter_mut().zip(b);
                match op {
                    ROp::Max => it.for_each(|(x, y)| if *y > *x { *x = *y }),
                    ROp::Min => it.for_each(|(x, y)| if *y < *x { *x = *y }),
                    ROp::Sum => it.for_each(|(x, y)| *x += *y),
                    ROp::Prod => it.for_each(|(x, y)| *x *= *y),
                    ROp::And | ROp::Or | ROp::Xor => unreachable!("no bitwise float reductions"),
                }
            }
        }
    )*};
}
float_arith!(f32, f64);

/// C `float _Complex` / `double _Complex`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Cx<F> {
    re: F,
    im: F,
}

macro_rules! complex_arith {
    ($($t:ty),*) => {$(
        impl Arith for Cx<$t> {
            fn combine(op: ROp, a: &mut [Self], b: &[Self]) {
                let it = a.iter_mut().zip(b);
                match op {
                    ROp::Sum => it.for_each(|(x, y)| {
                        x.re += y.re;
                        x.im += y.im;
                    }),
                    ROp::Prod => it.for_each(|(x, y)| {
                        *x = Cx {
                            re: x.re * y.re - x.im * y.im,
                            im: x.re * y.im + x.im * y.re,
                        }
                    }),
                    _ => unreachable!("complex reductions are sum and prod"),
                }
            }
        }
    )*};
}
complex_arith!(f32, f64);

/// Gathers the members' `src[..n]` in team order (all of them, or the first `upto`) and
/// folds them with `combine`; writes the result to `dest` after every member has read.
fn fold<T: Copy + Default>(
    rt: &Runtime,
    g: &Group<'_>,
    what: &'static str,
    Bufs { dest, src }: Bufs,
    n: usize,
    upto: usize,
    mut combine: impl FnMut(&mut [T], &[T]),
) {
    let len = bytes(rt, what, n, size_of::<T>());
    local_range(rt, what, "dest", dest, len);
    local_range(rt, what, "source", src, len);
    g.barrier(rt, what);
    let mut acc = vec![T::default(); n];
    if upto > 0 {
        get_from(
            rt,
            what,
            acc.as_mut_ptr() as *mut u8,
            src,
            len,
            g.members[0],
        );
        let mut tmp = vec![T::default(); n];
        for &p in &g.members[1..upto] {
            get_from(rt, what, tmp.as_mut_ptr() as *mut u8, src, len, p);
            combine(&mut acc, &tmp);
        }
    }
    g.barrier(rt, what);
    if len > 0 {
        // SAFETY: `dest` is a checked local range of `len` bytes; `acc` is a private buffer.
        unsafe { core::ptr::copy_nonoverlapping(acc.as_ptr() as *const u8, dest as *mut u8, len) };
    }
}

/// Element types whose team reductions can run the runtime's algorithms (all of them but
/// `long double`, which always folds).
pub(crate) trait TeamReduce: Arith {
    /// Runs the reduction on `t`; `false` if it cannot (the caller folds).
    fn on_team(_t: &Team<'static>, _op: ROp, _dest: usize, _src: usize, _n: usize) -> Result<bool> {
        Ok(false)
    }
}

macro_rules! team_reduce_fast {
    ($($t:ty),*) => {$(
        impl TeamReduce for $t {
            fn on_team(t: &Team<'static>, op: ROp, dest: usize, src: usize, n: usize) -> Result<bool> {
                let op = match op {
                    ROp::And => Op::And,
                    ROp::Or => Op::Or,
                    ROp::Xor => Op::Xor,
                    ROp::Max => Op::Max,
                    ROp::Min => Op::Min,
                    ROp::Sum => Op::Sum,
                    ROp::Prod => Op::Prod,
                };
                t.reduce_addr::<$t>(op, dest, src, n)
            }
        }
    )*};
}
team_reduce_fast!(i8, i16, i32, i64, u8, u16, u32, u64, isize, usize, f32, f64);
macro_rules! team_reduce_complex {
    ($($f:ty),*) => {$(
        impl TeamReduce for Cx<$f> {
            fn on_team(t: &Team<'static>, op: ROp, dest: usize, src: usize, n: usize) -> Result<bool> {
                // `Cx<F>` and `Complex<F>` are both `repr(C)` {re, im}; sum and prod are
                // the only operators the spec defines on complex types.
                let op = match op {
                    ROp::Sum => Op::Sum,
                    ROp::Prod => Op::Prod,
                    _ => return Ok(false),
                };
                t.reduce_addr::<rshmem_rt::Complex<$f>>(op, dest, src, n)
            }
        }
    )*};
}
team_reduce_complex!(f32, f64);

fn reduce<T: TeamReduce>(
    rt: &Runtime,
    g: &Group<'_>,
    what: &'static str,
    op: ROp,
    dest: usize,
    src: usize,
    n: usize,
) {
    g.team().debug_check(what, &[("nreduce", n as i64)]);
    let len = bytes(rt, what, n, size_of::<T>());
    local_range(rt, what, "dest", dest, len);
    local_range(rt, what, "source", src, len);
    if check(rt, what, T::on_team(g.team(), op, dest, src, n)) {
        return;
    }
    fold::<T>(rt, g, what, Bufs { dest, src }, n, g.n(), |a, b| {
        T::combine(op, a, b)
    })
}

fn scan<T: Arith>(
    rt: &Runtime,
    g: &Group<'_>,
    what: &'static str,
    inclusive: bool,
    dest: usize,
    src: usize,
    n: usize,
) {
    g.team().debug_check(what, &[("nelems", n as i64)]);
    let upto = if inclusive { g.me + 1 } else { g.me };
    fold::<T>(rt, g, what, Bufs { dest, src }, n, upto, |a, b| {
        T::combine(ROp::Sum, a, b)
    })
}

/// Combiner of the header's inline `long double` reductions: `acc[i] op= in[i]`, `n`.
pub type Combine = unsafe extern "C" fn(acc: *mut c_void, input: *const c_void, n: usize);

fn ld_combine(cb: Combine) -> impl FnMut(&mut [LongDouble], &[LongDouble]) {
    // SAFETY: the callback reads/writes `n` long doubles of the two live buffers.
    move |a, b| unsafe {
        cb(
            a.as_mut_ptr() as *mut c_void,
            b.as_ptr() as *const c_void,
            a.len(),
        )
    }
}

fn check_esize(rt: &Runtime, what: &'static str, esize: usize) {
    if esize != size_of::<LongDouble>() {
        rt.abort(
            1,
            &format!("{what}: element size {esize}; only long double (16) is supported"),
        )
    }
}

// Team reduction with a C combiner (the header's `shmem_longdouble_OP_reduce`).
c_export!(unsafe rshmem_team_reduce_cb(team: TeamHandle, dest: *mut c_void, source: *const c_void, nreduce: usize, esize: usize, combine: Combine) -> c_int {
    const W: &str = "shmem_longdouble_reduce";
    on_team(W, team, |rt, g| {
        g.team().debug_check(W, &[("nreduce", nreduce as i64)]);
        check_esize(rt, W, esize);
        fold::<LongDouble>(
            rt,
            g,
            W,
            Bufs {
                dest: dest as usize,
                src: source as usize,
            },
            nreduce,
            g.n(),
            ld_combine(combine),
        )
    })
});

// Active-set reduction with a C combiner (the header's `shmem_longdouble_OP_to_all`).
c_export!(unsafe rshmem_active_reduce_cb(dest: *mut c_void, source: *const c_void, nreduce: c_int, start: c_int, log_stride: c_int, size: c_int, psync: *mut c_long, esize: usize, combine: Combine) {
    const W: &str = "shmem_longdouble_to_all";
    on_active(W, start, log_stride, size, psync, |rt, g| {
        g.team().debug_check(W, &[("nreduce", nreduce as i64)]);
        check_esize(rt, W, esize);
        fold::<LongDouble>(
            rt,
            g,
            W,
            Bufs {
                dest: dest as usize,
                src: source as usize,
            },
            nreduce.max(0) as usize,
            g.n(),
            ld_combine(combine),
        )
    })
});

// ---- Team forms: broadcast, collect, fcollect, alltoall(s) ---------------------------

macro_rules! team_data {
    ($($n:ident: $t:ty $(= $c:literal)?),* $(,)?) => {$(
        paste! {
            c_fn!(W; [<$n _broadcast>](team: TeamHandle, dest: *mut $t, source: *const $t, nelems: usize, root: c_int) -> c_int {
                on_team(W, team, |rt, g| broadcast(rt, g, W, Bufs { dest: dest as usize, src: source as usize }, bytes(rt, W, nelems, size_of::<$t>()), root, true))
            });
            c_fn!(W; [<$n _collect>](team: TeamHandle, dest: *mut $t, source: *const $t, nelems: usize) -> c_int {
                on_team(W, team, |rt, g| collect(rt, g, W, dest as usize, source as usize, bytes(rt, W, nelems, size_of::<$t>())))
            });
            c_fn!(W; [<$n _fcollect>](team: TeamHandle, dest: *mut $t, source: *const $t, nelems: usize) -> c_int {
                on_team(W, team, |rt, g| fcollect(rt, g, W, dest as usize, source as usize, bytes(rt, W, nelems, size_of::<$t>())))
            });
            c_fn!(W; [<$n _alltoall>](team: TeamHandle, dest: *mut $t, source: *const $t, nelems: usize) -> c_int {
                on_team(W, team, |rt, g| alltoall(rt, g, W, dest as usize, source as usize, bytes(rt, W, nelems, size_of::<$t>())))
            });
            c_fn!(W; [<$n _alltoalls>](team: TeamHandle, dest: *mut $t, source: *const $t, dst: isize, sst: isize, nelems: usize) -> c_int {
                on_team(W, team, |rt, g| alltoalls(rt, g, W, Bufs { dest: dest as usize, src: source as usize }, Strides { dst, sst, nelems, size: size_of::<$t>() }))
            });
        }
    )*};
}

for_rma_types!(team_data,);

c_fn!(W; broadcastmem(team: TeamHandle, dest: *mut c_void, source: *const c_void, nelems: usize, root: c_int) -> c_int {
    on_team(W, team, |rt, g| {
        broadcast(rt, g, W, Bufs { dest: dest as usize, src: source as usize }, nelems, root, true)
    })
});
c_fn!(W; collectmem(team: TeamHandle, dest: *mut c_void, source: *const c_void, nelems: usize) -> c_int {
    on_team(W, team, |rt, g| {
        collect(rt, g, W, dest as usize, source as usize, nelems)
    })
});
c_fn!(W; fcollectmem(team: TeamHandle, dest: *mut c_void, source: *const c_void, nelems: usize) -> c_int {
    on_team(W, team, |rt, g| {
        fcollect(rt, g, W, dest as usize, source as usize, nelems)
    })
});
c_fn!(W; alltoallmem(team: TeamHandle, dest: *mut c_void, source: *const c_void, nelems: usize) -> c_int {
    on_team(W, team, |rt, g| {
        alltoall(rt, g, W, dest as usize, source as usize, nelems)
    })
});
c_fn!(W; alltoallsmem(team: TeamHandle, dest: *mut c_void, source: *const c_void, dst: isize, sst: isize, nelems: usize) -> c_int {
    on_team(W, team, |rt, g| {
        let bufs = Bufs {
            dest: dest as usize,
            src: source as usize,
        };
        alltoalls(rt, g, W, bufs, Strides { dst, sst, nelems, size: 1 })
    })
});

// ---- Team reductions and scans -------------------------------------------------------

macro_rules! team_reduce {
    ($op:ident, $rop:ident; $($n:ident: $t:ty $(= $c:literal)?),* $(,)?) => {$(
        paste! {
            c_fn!(W; [<$n _ $op _reduce>](team: TeamHandle, dest: *mut $t, source: *const $t, nreduce: usize) -> c_int {
                on_team(W, team, |rt, g| reduce::<$t>(rt, g, W, ROp::$rop, dest as usize, source as usize, nreduce))
            });
        }
    )*};
}

for_reduce_bitwise_types!(team_reduce, and, And;);
for_reduce_bitwise_types!(team_reduce, or, Or;);
for_reduce_bitwise_types!(team_reduce, xor, Xor;);
for_reduce_minmax_types!(team_reduce, max, Max;);
for_reduce_minmax_types!(team_reduce, min, Min;);
for_reduce_minmax_types!(team_reduce, sum, Sum;);
for_reduce_minmax_types!(team_reduce, prod, Prod;);
team_reduce!(sum, Sum; complexf: Cx<f32>, complexd: Cx<f64>);
team_reduce!(prod, Prod; complexf: Cx<f32>, complexd: Cx<f64>);

macro_rules! team_scan {
    ($($n:ident: $t:ty $(= $c:literal)?),* $(,)?) => {$(
        paste! {
            c_fn!(W; [<$n _sum_inscan>](team: TeamHandle, dest: *mut $t, source: *const $t, nelems: usize) -> c_int {
                on_team(W, team, |rt, g| scan::<$t>(rt, g, W, true, dest as usize, source as usize, nelems))
            });
            c_fn!(W; [<$n _sum_exscan>](team: TeamHandle, dest: *mut $t, source: *const $t, nelems: usize) -> c_int {
                on_team(W, team, |rt, g| scan::<$t>(rt, g, W, false, dest as usize, source as usize, nelems))
            });
        }
    )*};
}
for_reduce_minmax_types!(team_scan,);
team_scan!(complexf: Cx<f32>, complexd: Cx<f64>);

// Team prefix sum with a C combiner (the header's `shmem_longdouble_sum_inscan/exscan`).
c_export!(unsafe rshmem_team_scan_cb(team: TeamHandle, dest: *mut c_void, source: *const c_void, nelems: usize, esize: usize, inclusive: c_int, combine: Combine) -> c_int {
    const W: &str = "shmem_longdouble_sum_scan";
    on_team(W, team, |rt, g| {
        check_esize(rt, W, esize);
        let upto = if inclusive != 0 { g.me + 1 } else { g.me };
        fold::<LongDouble>(
            rt,
            g,
            W,
            Bufs {
                dest: dest as usize,
                src: source as usize,
            },
            nelems,
            upto,
            ld_combine(combine),
        )
    })
});

// ---- Deprecated active-set forms -----------------------------------------------------

c_fn!(W; barrier(start: c_int, log_stride: c_int, size: c_int, psync: *mut c_long) {
    on_active(W, start, log_stride, size, psync, |rt, g| g.barrier(rt, W))
});

c_fn!(W; sync(start: c_int, log_stride: c_int, size: c_int, psync: *mut c_long) {
    on_active(W, start, log_stride, size, psync, |rt, g| g.barrier(rt, W))
});

macro_rules! active_data {
    ($($bits:literal),*) => {$(
        paste! {
            c_fn!(W; [<broadcast $bits>](dest: *mut c_void, source: *const c_void, nelems: usize, root: c_int, start: c_int, log_stride: c_int, size: c_int, psync: *mut c_long) {
                on_active(W, start, log_stride, size, psync, |rt, g| broadcast(rt, g, W, Bufs { dest: dest as usize, src: source as usize }, bytes(rt, W, nelems, $bits / 8), root, false))
            });
            c_fn!(W; [<collect $bits>](dest: *mut c_void, source: *const c_void, nelems: usize, start: c_int, log_stride: c_int, size: c_int, psync: *mut c_long) {
                on_active(W, start, log_stride, size, psync, |rt, g| collect(rt, g, W, dest as usize, source as usize, bytes(rt, W, nelems, $bits / 8)))
            });
            c_fn!(W; [<fcollect $bits>](dest: *mut c_void, source: *const c_void, nelems: usize, start: c_int, log_stride: c_int, size: c_int, psync: *mut c_long) {
                on_active(W, start, log_stride, size, psync, |rt, g| fcollect(rt, g, W, dest as usize, source as usize, bytes(rt, W, nelems, $bits / 8)))
            });
            c_fn!(W; [<alltoall $bits>](dest: *mut c_void, source: *const c_void, nelems: usize, start: c_int, log_stride: c_int, size: c_int, psync: *mut c_long) {
                on_active(W, start, log_stride, size, psync, |rt, g| alltoall(rt, g, W, dest as usize, source as usize, bytes(rt, W, nelems, $bits / 8)))
            });
            c_fn!(W; [<alltoalls $bits>](dest: *mut c_void, source: *const c_void, dst: isize, sst: isize, nelems: usize, start: c_int, log_stride: c_int, size: c_int, psync: *mut c_long) {
                on_active(W, start, log_stride, size, psync, |rt, g| alltoalls(rt, g, W, Bufs { dest: dest as usize, src: source as usize }, Strides { dst, sst, nelems, size: $bits / 8 }))
            });
        }
    )*};
}
active_data!(32, 64);

macro_rules! active_reduce {
    ($op:ident, $rop:ident; $($n:ident: $t:ty $(= $c:literal)?),* $(,)?) => {$(
        paste! {
            c_fn!(W; [<$n _ $op _to_all>](dest: *mut $t, source: *const $t, nreduce: c_int, start: c_int, log_stride: c_int, size: c_int, _pwrk: *mut $t, psync: *mut c_long) {
                on_active(W, start, log_stride, size, psync, |rt, g| {
                    if nreduce < 0 {
                        rt.abort(1, &format!("{W}: negative nreduce {nreduce}"))
                    }
                    reduce::<$t>(rt, g, W, ROp::$rop, dest as usize, source as usize, nreduce as usize)
                })
            });
        }
    )*};
}

for_to_all_int_types!(active_reduce, and, And;);
for_to_all_int_types!(active_reduce, or, Or;);
for_to_all_int_types!(active_reduce, xor, Xor;);
for_to_all_real_types!(active_reduce, max, Max;);
for_to_all_real_types!(active_reduce, min, Min;);
for_to_all_real_types!(active_reduce, sum, Sum;);
for_to_all_real_types!(active_reduce, prod, Prod;);
active_reduce!(sum, Sum; complexf: Cx<f32>, complexd: Cx<f64>);
active_reduce!(prod, Prod; complexf: Cx<f32>, complexd: Cx<f64>);
