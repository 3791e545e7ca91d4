//! Remote memory access: one generic implementation per routine shape, instantiated by
//! macros for every type of the RMA table (`shmem_TYPE_put` …, `tables.rs`), every size
//! (`shmem_put8` …) and bytes (`shmem_putmem` …); plus put-with-signal. Each routine is
//! defined once for its context form (`shmem_ctx_TYPE_put`) and its default form
//! (`ctx_and_default!`, `gen.rs`).
use crate::ctx::{ctx_pe, CtxHandle, CtxPe};
use crate::types::LongDouble;
use crate::{check, fail, pe_of, rt};
use paste::paste;
use rshmem_rt::rt::{Signal, Strided};
use rshmem_transport::AmoOp;
use std::ffi::{c_char, c_double, c_float, c_int, c_long, c_longlong, c_schar, c_short};
use std::ffi::{c_uchar, c_uint, c_ulong, c_ulonglong, c_ushort, c_void};
use std::mem::size_of;

/// `SHMEM_SIGNAL_SET`.
pub const SHMEM_SIGNAL_SET: c_int = 0;
/// `SHMEM_SIGNAL_ADD`.
pub const SHMEM_SIGNAL_ADD: c_int = 1;

fn bytes(rt: &rshmem_rt::rt::Runtime, what: &'static str, nelems: usize, size: usize) -> usize {
    match nelems.checked_mul(size) {
        Some(n) => n,
        None => rt.abort(
            1,
            &format!("{what}: {nelems} elements of {size} bytes overflow the address space"),
        ),
    }
}

#[inline(always)]
pub(crate) unsafe fn put(
    what: &'static str,
    dest: usize,
    src: *const u8,
    nelems: usize,
    size: usize,
    pe: CtxPe,
    nbi: bool,
) {
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    let len = bytes(rt, what, nelems, size);
    if len == 0 {
        // Nothing moves; `dest` may be anything, NULL included (the specification's
        // annex on undefined behavior).
        return check(rt, what, rt.check_pe(pe));
    }
    // SAFETY: `src` is valid for `len` bytes (the C routine's contract).
    let r = unsafe {
        match (c, nbi) {
            (Some(c), _) => rt.ctx_put(c, dest, src, len, pe, nbi),
            (None, true) => rt.put_nbi(dest, src, len, pe),
            (None, false) => rt.put(dest, src, len, pe),
        }
    };
    check(rt, what, r)
}

#[inline(always)]
pub(crate) unsafe fn get(
    what: &'static str,
    dest: *mut u8,
    src: usize,
    nelems: usize,
    size: usize,
    pe: CtxPe,
    nbi: bool,
) {
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    let len = bytes(rt, what, nelems, size);
    if len == 0 {
        // Nothing moves; `src` may be anything, NULL included.
        return check(rt, what, rt.check_pe(pe));
    }
    // SAFETY: `dest` is valid for `len` bytes (the C routine's contract).
    let r = unsafe {
        match (c, nbi) {
            (Some(c), _) => rt.ctx_get(c, dest, src, len, pe, nbi),
            (None, true) => rt.get_nbi(dest, src, len, pe),
            (None, false) => rt.get(dest, src, len, pe),
        }
    };
    check(rt, what, r)
}

fn stride(rt: &rshmem_rt::rt::Runtime, what: &'static str, s: isize) -> usize {
    if s < 0 {
        rt.abort(
            1,
            &format!("{what}: negative stride {s}; strides count elements and must be >= 0"),
        )
    }
    s as usize
}

/// Both spans of a strided transfer must fit the address space: a huge stride or count is
/// an error naming `what` and the values, never a wrapped address.
#[inline(always)]
fn strided(
    rt: &rshmem_rt::rt::Runtime,
    what: &'static str,
    nelems: usize,
    strides: [usize; 2],
    size: usize,
) {
    for s in strides {
        if let Err(e) = rshmem_rt::rt::strided_span(what, nelems, s, size) {
            rt.abort(1, &e.to_string())
        }
    }
}

/// The strides and sizes of a C strided call (`shmem_TYPE_iput`/`iget`) as the caller
/// gave them: `nelems` elements of `size` bytes, `dst`/`sst` elements apart (checked
/// before use). Built inline in each routine; costs nothing over separate arguments.
#[derive(Clone, Copy)]
pub(crate) struct Strides {
    pub(crate) dst: isize,
    pub(crate) sst: isize,
    pub(crate) nelems: usize,
    pub(crate) size: usize,
}

#[inline(always)]
pub(crate) unsafe fn iput(what: &'static str, dest: usize, src: *const u8, s: Strides, pe: CtxPe) {
    let Strides {
        dst,
        sst,
        nelems,
        size,
    } = s;
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    let (dst, sst) = (stride(rt, what, dst), stride(rt, what, sst));
    strided(rt, what, nelems, [dst, sst], size);
    let s = Strided {
        dst,
        sst,
        size,
        nelems,
    };
    // SAFETY: the source elements are valid (contract).
    let r = unsafe {
        match c {
            Some(c) => ctx_strided(rt, c, s, pe, |i, n| {
                rt.ctx_put(
                    c,
                    dest + i * s.dst * s.size,
                    src.add(i * s.sst * s.size),
                    n,
                    pe,
                    false,
                )
            }),
            None => rt.iput(dest, src, s, pe),
        }
    };
    check(rt, what, r)
}

#[inline(always)]
pub(crate) unsafe fn iget(what: &'static str, dest: *mut u8, src: usize, s: Strides, pe: CtxPe) {
    let Strides {
        dst,
        sst,
        nelems,
        size,
    } = s;
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    let (dst, sst) = (stride(rt, what, dst), stride(rt, what, sst));
    strided(rt, what, nelems, [dst, sst], size);
    let s = Strided {
        dst,
        sst,
        size,
        nelems,
    };
    // SAFETY: the destination elements are valid (contract).
    let r = unsafe {
        match c {
            Some(c) => ctx_strided(rt, c, s, pe, |i, n| {
                rt.ctx_get(
                    c,
                    dest.add(i * s.dst * s.size),
                    src + i * s.sst * s.size,
                    n,
                    pe,
                    true,
                )
            })
            .map(|()| rt.ctx_quiet(c)),
            None => rt.iget(dest, src, s, pe),
        }
    };
    check(rt, what, r)
}

/// The elements of a strided transfer on context `c`, one `op(i, size)` each, after the
/// whole span was checked (as [`rshmem_rt::rt::Runtime::iput`] does).
#[inline(always)]
fn ctx_strided(
    rt: &rshmem_rt::rt::Runtime,
    _c: &rshmem_rt::rt::Ctx,
    s: Strided,
    pe: usize,
    mut op: impl FnMut(usize, usize) -> rshmem_rt::Result<()>,
) -> rshmem_rt::Result<()> {
    if s.nelems == 0 {
        return rt.check_pe(pe);
    }
    for i in 0..s.nelems {
        op(i, s.size)?;
    }
    Ok(())
}

/// A stride of the block-strided routines (1.6 `ibput`/`ibget`): at least 1 element.
fn block_stride(rt: &rshmem_rt::rt::Runtime, what: &'static str, s: isize) -> usize {
    if s < 1 {
        rt.abort(
            1,
            &format!("{what}: stride {s}; block strides count elements and must be >= 1"),
        )
    }
    s as usize
}

/// The byte geometry of `nblocks` blocks of `bsize` elements of `size` bytes, `dst`/`sst`
/// elements apart: (block bytes, dest step, source step, dest span, source span), or abort
/// if it overflows the address space. `nblocks` and `bsize` are non-zero.
#[allow(clippy::type_complexity)]
fn block_geometry(
    rt: &rshmem_rt::rt::Runtime,
    what: &'static str,
    dst: usize,
    sst: usize,
    bsize: usize,
    nblocks: usize,
    size: usize,
) -> (usize, usize, usize, usize, usize) {
    let blk = bytes(rt, what, bsize, size);
    let dstep = bytes(rt, what, dst, size);
    let sstep = bytes(rt, what, sst, size);
    let span = |step: usize| {
        (nblocks - 1)
            .checked_mul(step)
            .and_then(|x| x.checked_add(blk))
    };
    match (span(dstep), span(sstep)) {
        (Some(d), Some(s)) => (blk, dstep, sstep, d, s),
        _ => rt.abort(
            1,
            &format!(
                "{what}: {nblocks} blocks of {bsize} elements of {size} bytes at strides \
                 {dst}/{sst} overflow the address space"
            ),
        ),
    }
}

/// The blocks of a C block-strided call (`shmem_TYPE_ibput`/`ibget`) as the caller gave
/// them: `nblocks` blocks of `bsize` elements of `size` bytes, `dst`/`sst` elements apart
/// (checked before use). Built inline in each routine.
#[derive(Clone, Copy)]
pub(crate) struct Blocks {
    pub(crate) dst: isize,
    pub(crate) sst: isize,
    pub(crate) bsize: usize,
    pub(crate) nblocks: usize,
    pub(crate) size: usize,
}

/// Block-strided put (`shmem_TYPE_ibput`): block `i` (`bsize` contiguous elements) goes
/// from `src + i*sst` to `dest + i*dst` on `pe` (strides and sizes in elements). The whole
/// destination span is checked before anything is sent; returns when `src` may be reused.
#[inline(always)]
pub(crate) unsafe fn ibput(what: &'static str, dest: usize, src: *const u8, b: Blocks, pe: CtxPe) {
    let Blocks {
        dst,
        sst,
        bsize,
        nblocks,
        size,
    } = b;
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    // Nothing to move: any pointers and strides (the annex: a length of 0 makes a null
    // pointer valid); only the PE is checked.
    if bsize == 0 || nblocks == 0 {
        return check(rt, what, rt.check_pe(pe));
    }
    let (dst, sst) = (block_stride(rt, what, dst), block_stride(rt, what, sst));
    let (blk, dstep, sstep, dspan, _) = block_geometry(rt, what, dst, sst, bsize, nblocks, size);
    check(rt, what, rt.remote(dest, dspan, pe).map(|_| ()));
    for i in 0..nblocks {
        // SAFETY: source block `i` lies in the caller's source array (contract); the
        // destination block is inside the span checked above.
        let r = unsafe {
            match c {
                Some(c) => rt.ctx_put(c, dest + i * dstep, src.add(i * sstep), blk, pe, false),
                None => rt.put(dest + i * dstep, src.add(i * sstep), blk, pe),
            }
        };
        check(rt, what, r)
    }
}

/// Block-strided get (`shmem_TYPE_ibget`), the mirror of [`ibput`]: block `i` comes from
/// `src + i*sst` on `pe` to local `dest + i*dst`; returns when `dest` holds the data.
#[inline(always)]
pub(crate) unsafe fn ibget(what: &'static str, dest: *mut u8, src: usize, b: Blocks, pe: CtxPe) {
    let Blocks {
        dst,
        sst,
        bsize,
        nblocks,
        size,
    } = b;
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    // Nothing to move: any pointers and strides (the annex: a length of 0 makes a null
    // pointer valid); only the PE is checked.
    if bsize == 0 || nblocks == 0 {
        return check(rt, what, rt.check_pe(pe));
    }
    let (dst, sst) = (block_stride(rt, what, dst), block_stride(rt, what, sst));
    let (blk, dstep, sstep, _, sspan) = block_geometry(rt, what, dst, sst, bsize, nblocks, size);
    check(rt, what, rt.remote(src, sspan, pe).map(|_| ()));
    for i in 0..nblocks {
        // SAFETY: destination block `i` lies in the caller's dest array (contract); the
        // source block is inside the span checked above.
        let r = unsafe {
            match c {
                Some(c) => rt.ctx_get(c, dest.add(i * dstep), src + i * sstep, blk, pe, false),
                None => rt.get(dest.add(i * dstep), src + i * sstep, blk, pe),
            }
        };
        check(rt, what, r)
    }
}

/// The signal of a C put-with-signal call as the caller gave it: the word `addr`, the
/// `value`, and `op` (`SHMEM_SIGNAL_SET` or `SHMEM_SIGNAL_ADD`, checked before use).
#[derive(Clone, Copy)]
pub(crate) struct CSignal {
    pub(crate) addr: *mut u64,
    pub(crate) value: u64,
    pub(crate) op: c_int,
}

#[inline(always)]
pub(crate) unsafe fn put_signal(
    what: &'static str,
    dest: usize,
    src: *const u8,
    nelems: usize,
    size: usize,
    sig: CSignal,
    pe: CtxPe,
) {
    let CSignal {
        addr: sig,
        value: signal,
        op: sig_op,
    } = sig;
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    let len = bytes(rt, what, nelems, size);
    let add = match sig_op {
        SHMEM_SIGNAL_SET => false,
        SHMEM_SIGNAL_ADD => true,
        op => rt.abort(
            1,
            &format!("{what}: invalid sig_op {op}; use SHMEM_SIGNAL_SET or SHMEM_SIGNAL_ADD"),
        ),
    };
    if len == 0 {
        // No data (`dest` may be NULL), but the signal is still updated.
        let op = if add { AmoOp::FetchAdd } else { AmoOp::Set };
        let r = match c {
            Some(c) => {
                rt.ctx_fence(c);
                rt.ctx_amo::<u64>(c, sig as usize, op, signal, 0, pe)
                    .map(|_| ())
            }
            None => {
                rt.fence();
                rt.amo_nr::<u64>(sig as usize, op, signal, pe, false)
            }
        };
        return check(rt, what, r);
    }
    let s = Signal {
        addr: sig as usize,
        value: signal,
        add,
    };
    // SAFETY: `src` is valid for `len` bytes (contract).
    let r = unsafe {
        match c {
            Some(c) => rt.ctx_put_signal(c, dest, src, len, s, pe),
            None => rt.put_signal(dest, src, len, s, pe),
        }
    };
    check(rt, what, r)
}

/// Defines the contiguous, strided and signalling routines (context and default forms) for
/// element type `$t` of `$size` bytes, given the routine names without `pshmem_`.
macro_rules! rma_shapes {
    ($t:ty, $size:expr, $put:ident, $get:ident, $put_nbi:ident, $get_nbi:ident,
     $iput:ident, $iget:ident, $put_signal:ident, $put_signal_nbi:ident) => {
        ctx_and_default!(ctx, W; $put(dest: *mut $t, source: *const $t, nelems: usize, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { put(W, dest as usize, source as *const u8, nelems, $size, ctx_pe(W, ctx, pe), false) }
        });
        ctx_and_default!(ctx, W; $put_nbi(dest: *mut $t, source: *const $t, nelems: usize, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { put(W, dest as usize, source as *const u8, nelems, $size, ctx_pe(W, ctx, pe), true) }
        });
        ctx_and_default!(ctx, W; $get(dest: *mut $t, source: *const $t, nelems: usize, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { get(W, dest as *mut u8, source as usize, nelems, $size, ctx_pe(W, ctx, pe), false) }
        });
        ctx_and_default!(ctx, W; $get_nbi(dest: *mut $t, source: *const $t, nelems: usize, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { get(W, dest as *mut u8, source as usize, nelems, $size, ctx_pe(W, ctx, pe), true) }
        });
        ctx_and_default!(ctx, W; $iput(dest: *mut $t, source: *const $t, dst: isize, sst: isize, nelems: usize, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { iput(W, dest as usize, source as *const u8, Strides { dst, sst, nelems, size: $size }, ctx_pe(W, ctx, pe)) }
        });
        ctx_and_default!(ctx, W; $iget(dest: *mut $t, source: *const $t, dst: isize, sst: isize, nelems: usize, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { iget(W, dest as *mut u8, source as usize, Strides { dst, sst, nelems, size: $size }, ctx_pe(W, ctx, pe)) }
        });
        ctx_and_default!(ctx, W; $put_signal(dest: *mut $t, source: *const $t, nelems: usize, sig_addr: *mut u64, signal: u64, sig_op: c_int, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { put_signal(W, dest as usize, source as *const u8, nelems, $size, CSignal { addr: sig_addr, value: signal, op: sig_op }, ctx_pe(W, ctx, pe)) }
        });
        ctx_and_default!(ctx, W; $put_signal_nbi(dest: *mut $t, source: *const $t, nelems: usize, sig_addr: *mut u64, signal: u64, sig_op: c_int, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { put_signal(W, dest as usize, source as *const u8, nelems, $size, CSignal { addr: sig_addr, value: signal, op: sig_op }, ctx_pe(W, ctx, pe)) }
        });
    };
}

/// The 1.6 block-strided routines (context and default forms) for element type `$t` of
/// `$size` bytes.
macro_rules! ib_shapes {
    ($t:ty, $size:expr, $ibput:ident, $ibget:ident) => {
        ctx_and_default!(ctx, W; $ibput(dest: *mut $t, source: *const $t, dst: isize, sst: isize, bsize: usize, nblocks: usize, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { ibput(W, dest as usize, source as *const u8, Blocks { dst, sst, bsize, nblocks, size: $size }, ctx_pe(W, ctx, pe)) }
        });
        ctx_and_default!(ctx, W; $ibget(dest: *mut $t, source: *const $t, dst: isize, sst: isize, bsize: usize, nblocks: usize, pe: c_int) {
            // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
            unsafe { ibget(W, dest as *mut u8, source as usize, Blocks { dst, sst, bsize, nblocks, size: $size }, ctx_pe(W, ctx, pe)) }
        });
    };
}

/// `shmem_[ctx_]TYPE_{put,get,…}` for each entry of the RMA table.
macro_rules! rma_typed {
    ($($n:ident: $t:ty = $c:literal),* $(,)?) => {$(
        paste! {
            rma_shapes!($t, size_of::<$t>(), [<$n _put>], [<$n _get>], [<$n _put_nbi>], [<$n _get_nbi>],
                [<$n _iput>], [<$n _iget>], [<$n _put_signal>], [<$n _put_signal_nbi>]);
            ib_shapes!($t, size_of::<$t>(), [<$n _ibput>], [<$n _ibget>]);
        }
    )*};
}

/// `shmem_[ctx_]TYPE_p` / `_g` for each by-value RMA type (Rust cannot pass `long double`).
macro_rules! rma_pg {
    ($($n:ident: $t:ty = $c:literal),* $(,)?) => {$(
        paste! {
            ctx_and_default!(ctx, W; [<$n _p>](dest: *mut $t, value: $t, pe: c_int) {
                // SAFETY: reads `value`, a local of this call, of the given size.
                unsafe { put(W, dest as usize, &value as *const $t as *const u8, 1, size_of::<$t>(), ctx_pe(W, ctx, pe), false) }
            });
            ctx_and_default!(ctx, W; [<$n _g>](source: *const $t, pe: c_int) -> $t {
                let mut v = core::mem::MaybeUninit::<$t>::uninit();
                // SAFETY: the C caller's contract: `source` is symmetric; `v` is a local buffer of the size read.
                unsafe {
                    get(W, v.as_mut_ptr() as *mut u8, source as usize, 1, size_of::<$t>(), ctx_pe(W, ctx, pe), false);
                    // SAFETY: `get` filled all bytes (or aborted).
                    v.assume_init()
                }
            });
        }
    )*};
}

/// `shmem_[ctx_]putSIZE` & co. for each size in bits (the C API takes `void *`).
macro_rules! rma_sized {
    ($($bits:literal),* $(,)?) => {$(
        paste! {
            rma_shapes!(c_void, $bits / 8, [<put $bits>], [<get $bits>], [<put $bits _nbi>], [<get $bits _nbi>],
                [<iput $bits>], [<iget $bits>], [<put $bits _signal>], [<put $bits _signal_nbi>]);
            ib_shapes!(c_void, $bits / 8, [<ibput $bits>], [<ibget $bits>]);
        }
    )*};
}

for_rma_types!(rma_typed,);
for_rma_types_byvalue!(rma_pg,);
rma_sized!(8, 16, 32, 64, 128);

// Bytes: `shmem_[ctx_]putmem` & co. (no strided forms in the specification).
ctx_and_default!(ctx, W; putmem(dest: *mut c_void, source: *const c_void, nelems: usize, pe: c_int) {
    // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
    unsafe { put(W, dest as usize, source as *const u8, nelems, 1, ctx_pe(W, ctx, pe), false) }
});
ctx_and_default!(ctx, W; putmem_nbi(dest: *mut c_void, source: *const c_void, nelems: usize, pe: c_int) {
    // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
    unsafe { put(W, dest as usize, source as *const u8, nelems, 1, ctx_pe(W, ctx, pe), true) }
});
ctx_and_default!(ctx, W; getmem(dest: *mut c_void, source: *const c_void, nelems: usize, pe: c_int) {
    // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
    unsafe { get(W, dest as *mut u8, source as usize, nelems, 1, ctx_pe(W, ctx, pe), false) }
});
ctx_and_default!(ctx, W; getmem_nbi(dest: *mut c_void, source: *const c_void, nelems: usize, pe: c_int) {
    // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
    unsafe { get(W, dest as *mut u8, source as usize, nelems, 1, ctx_pe(W, ctx, pe), true) }
});
ctx_and_default!(ctx, W; putmem_signal(dest: *mut c_void, source: *const c_void, nelems: usize, sig_addr: *mut u64, signal: u64, sig_op: c_int, pe: c_int) {
    // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
    unsafe { put_signal(W, dest as usize, source as *const u8, nelems, 1, CSignal { addr: sig_addr, value: signal, op: sig_op }, ctx_pe(W, ctx, pe)) }
});
ctx_and_default!(ctx, W; putmem_signal_nbi(dest: *mut c_void, source: *const c_void, nelems: usize, sig_addr: *mut u64, signal: u64, sig_op: c_int, pe: c_int) {
    // SAFETY: the C caller's contract: `dest` and `source` are valid for the routine's elements (the symmetric side is checked).
    unsafe { put_signal(W, dest as usize, source as *const u8, nelems, 1, CSignal { addr: sig_addr, value: signal, op: sig_op }, ctx_pe(W, ctx, pe)) }
});

/// The local signal word at `sig`, checked to be symmetric and aligned.
fn signal_word(what: &'static str, sig: *const u64) -> (&'static rshmem_rt::rt::Runtime, usize) {
    let rt = rt(what);
    let a = sig as usize;
    if !a.is_multiple_of(8) {
        fail(rt, what, rshmem_rt::Error::Misaligned { addr: a, align: 8 })
    }
    check(rt, what, rt.translate(a, 8));
    (rt, a)
}

c_fn!(W; signal_fetch(sig_addr: *const u64) -> u64 {
    let (rt, a) = signal_word("shmem_signal_fetch", sig_addr);
    rt.progress().poll(); // a loop of signal_fetch is a wait
    check(
        rt,
        "shmem_signal_fetch",
        rt.amo::<u64>(a, rshmem_transport::AmoOp::Fetch, 0, 0, rt.my_pe()),
    )
});

c_fn!(W; signal_wait_until(sig_addr: *mut u64, cmp: c_int, cmp_value: u64) -> u64 {
    const WHAT: &str = "shmem_signal_wait_until";
    let (rt, a) = signal_word(WHAT, sig_addr);
    let c = crate::cmp_of(rt, WHAT, cmp);
    // Return the value that satisfied the comparison, not a later one.
    let mut b = rshmem_rt::wait::Backoff::new(rt.progress());
    loop {
        let v = check(
            rt,
            WHAT,
            rt.amo::<u64>(a, rshmem_transport::AmoOp::Fetch, 0, 0, rt.my_pe()),
        );
        if c.holds(v, cmp_value, false) {
            return v;
        }
        b.snooze();
    }
});

/// `shmem_signal_add` / `_set`: one atomic update of the signal word at `sig` on `pe`.
#[inline(always)]
pub(crate) fn signal_update(what: &'static str, sig: *mut u64, signal: u64, add: bool, pe: CtxPe) {
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    let op = if add {
        rshmem_transport::AmoOp::FetchAdd
    } else {
        rshmem_transport::AmoOp::Set
    };
    // `amo`/`amo_nr` check the PE, the alignment and that the word is symmetric.
    let r = match c {
        Some(c) => rt
            .ctx_amo::<u64>(c, sig as usize, op, signal, 0, pe)
            .map(|_| ()),
        None => rt.amo_nr::<u64>(sig as usize, op, signal, pe, false),
    };
    check(rt, what, r);
}

ctx_and_default!(ctx, W; signal_add(sig_addr: *mut u64, signal: u64, pe: c_int) {
    signal_update(W, sig_addr, signal, true, ctx_pe(W, ctx, pe))
});
ctx_and_default!(ctx, W; signal_set(sig_addr: *mut u64, signal: u64, pe: c_int) {
    signal_update(W, sig_addr, signal, false, ctx_pe(W, ctx, pe))
});
