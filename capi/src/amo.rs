//! Atomic memory operations for the standard, extended and bitwise AMO types: one generic
//! [`amo`] on the transport word of the type's size, instantiated by macros over the AMO
//! tables (`tables.rs`), each routine once for its context and default forms
//! (`ctx_and_default!`).
use crate::ctx::{ctx_pe, CtxHandle, CtxPe};
use crate::types::AmoType;
use crate::{check, pe_of, rt};
use paste::paste;
use rshmem_transport::AmoOp;
use std::ffi::{c_double, c_float, c_int, c_long, c_longlong, c_uint, c_ulong, c_ulonglong};

/// `op` on the word at symmetric `addr` on `pe`; returns the previous value.
#[inline(always)]
pub(crate) fn amo<T: AmoType>(
    what: &'static str,
    addr: usize,
    op: AmoOp,
    value: T,
    compare: T,
    pe: CtxPe,
) -> T {
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    let r = match c {
        Some(c) => rt.ctx_amo::<T::Bits>(c, addr, op, value.to_bits(), compare.to_bits(), pe),
        None => rt.amo::<T::Bits>(addr, op, value.to_bits(), compare.to_bits(), pe),
    };
    T::from_bits(check(rt, what, r))
}

/// Non-fetching `op` on the word at symmetric `addr` on `pe` (set, inc, add, and, or, xor):
/// on the default context without waiting for a reply where the transport allows (TCP); on
/// a created context, that context's AMO (verbs channels have no reply-less AMO).
#[inline(always)]
pub(crate) fn amo_nr<T: AmoType>(what: &'static str, addr: usize, op: AmoOp, value: T, pe: CtxPe) {
    let rt = rt(what);
    let (c, pe) = (pe.ctx, pe_of(rt, what, pe.pe));
    let r = match c {
        Some(c) => rt
            .ctx_amo::<T::Bits>(c, addr, op, value.to_bits(), value.to_bits(), pe)
            .map(|_| ()),
        None => rt.amo_nr::<T::Bits>(addr, op, value.to_bits(), pe, false),
    };
    check(rt, what, r)
}

/// Writes a fetched value to the caller's `fetch` buffer (the `_nbi` forms).
#[inline(always)]
unsafe fn store<T>(fetch: *mut T, v: T) {
    // SAFETY: `fetch` is a valid local object (contract of the `_nbi` routines).
    unsafe { fetch.write_unaligned(v) }
}

/// fetch, set, swap (+ nbi): the extended AMO types (standard ones and float/double).
macro_rules! amo_extended {
    ($($n:ident: $t:ty = $c:literal),* $(,)?) => {$(
        paste! {
            ctx_and_default!(ctx, W; [<$n _atomic_fetch>](source: *const $t, pe: c_int) -> $t {
                amo::<$t>(W, source as usize, AmoOp::Fetch, 0 as $t, 0 as $t, ctx_pe(W, ctx, pe))
            });
            ctx_and_default!(ctx, W; [<$n _atomic_set>](dest: *mut $t, value: $t, pe: c_int) {
                amo_nr::<$t>(W, dest as usize, AmoOp::Set, value, ctx_pe(W, ctx, pe));
            });
            ctx_and_default!(ctx, W; [<$n _atomic_swap>](dest: *mut $t, value: $t, pe: c_int) -> $t {
                amo::<$t>(W, dest as usize, AmoOp::Swap, value, 0 as $t, ctx_pe(W, ctx, pe))
            });
            ctx_and_default!(ctx, W; [<$n _atomic_fetch_nbi>](fetch: *mut $t, source: *const $t, pe: c_int) {
                let v = amo::<$t>(W, source as usize, AmoOp::Fetch, 0 as $t, 0 as $t, ctx_pe(W, ctx, pe));
                // SAFETY: the C caller's contract: `fetch` points to a writable local object of the type.
                unsafe { store(fetch, v) }
            });
            ctx_and_default!(ctx, W; [<$n _atomic_swap_nbi>](fetch: *mut $t, dest: *mut $t, value: $t, pe: c_int) {
                let v = amo::<$t>(W, dest as usize, AmoOp::Swap, value, 0 as $t, ctx_pe(W, ctx, pe));
                // SAFETY: the C caller's contract: `fetch` points to a writable local object of the type.
                unsafe { store(fetch, v) }
            });
        }
    )*};
}

/// compare_swap, fetch_inc, inc, fetch_add, add (+ nbi fetching forms): standard AMO types.
macro_rules! amo_standard {
    ($($n:ident: $t:ty = $c:literal),* $(,)?) => {$(
        paste! {
            ctx_and_default!(ctx, W; [<$n _atomic_compare_swap>](dest: *mut $t, cond: $t, value: $t, pe: c_int) -> $t {
                amo::<$t>(W, dest as usize, AmoOp::CompareSwap, value, cond, ctx_pe(W, ctx, pe))
            });
            ctx_and_default!(ctx, W; [<$n _atomic_fetch_inc>](dest: *mut $t, pe: c_int) -> $t {
                amo::<$t>(W, dest as usize, AmoOp::FetchAdd, 1, 0, ctx_pe(W, ctx, pe))
            });
            ctx_and_default!(ctx, W; [<$n _atomic_inc>](dest: *mut $t, pe: c_int) {
                amo_nr::<$t>(W, dest as usize, AmoOp::FetchAdd, 1, ctx_pe(W, ctx, pe));
            });
            ctx_and_default!(ctx, W; [<$n _atomic_fetch_add>](dest: *mut $t, value: $t, pe: c_int) -> $t {
                amo::<$t>(W, dest as usize, AmoOp::FetchAdd, value, 0, ctx_pe(W, ctx, pe))
            });
            ctx_and_default!(ctx, W; [<$n _atomic_add>](dest: *mut $t, value: $t, pe: c_int) {
                amo_nr::<$t>(W, dest as usize, AmoOp::FetchAdd, value, ctx_pe(W, ctx, pe));
            });
            ctx_and_default!(ctx, W; [<$n _atomic_compare_swap_nbi>](fetch: *mut $t, dest: *mut $t, cond: $t, value: $t, pe: c_int) {
                let v = amo::<$t>(W, dest as usize, AmoOp::CompareSwap, value, cond, ctx_pe(W, ctx, pe));
                // SAFETY: the C caller's contract: `fetch` points to a writable local object of the type.
                unsafe { store(fetch, v) }
            });
            ctx_and_default!(ctx, W; [<$n _atomic_fetch_inc_nbi>](fetch: *mut $t, dest: *mut $t, pe: c_int) {
                let v = amo::<$t>(W, dest as usize, AmoOp::FetchAdd, 1, 0, ctx_pe(W, ctx, pe));
                // SAFETY: the C caller's contract: `fetch` points to a writable local object of the type.
                unsafe { store(fetch, v) }
            });
            ctx_and_default!(ctx, W; [<$n _atomic_fetch_add_nbi>](fetch: *mut $t, dest: *mut $t, value: $t, pe: c_int) {
                let v = amo::<$t>(W, dest as usize, AmoOp::FetchAdd, value, 0, ctx_pe(W, ctx, pe));
                // SAFETY: the C caller's contract: `fetch` points to a writable local object of the type.
                unsafe { store(fetch, v) }
            });
        }
    )*};
}

/// and, or, xor and their fetching (+ nbi) forms: bitwise AMO types.
macro_rules! amo_bitwise {
    ($($n:ident: $t:ty = $c:literal),* $(,)?) => {$(
        amo_bitwise!(@op $n, $t, and, FetchAnd);
        amo_bitwise!(@op $n, $t, or, FetchOr);
        amo_bitwise!(@op $n, $t, xor, FetchXor);
    )*};
    (@op $n:ident, $t:ty, $op:ident, $amo:ident) => {
        paste! {
            ctx_and_default!(ctx, W; [<$n _atomic_fetch_ $op>](dest: *mut $t, value: $t, pe: c_int) -> $t {
                amo::<$t>(W, dest as usize, AmoOp::$amo, value, 0, ctx_pe(W, ctx, pe))
            });
            ctx_and_default!(ctx, W; [<$n _atomic_ $op>](dest: *mut $t, value: $t, pe: c_int) {
                amo_nr::<$t>(W, dest as usize, AmoOp::$amo, value, ctx_pe(W, ctx, pe));
            });
            ctx_and_default!(ctx, W; [<$n _atomic_fetch_ $op _nbi>](fetch: *mut $t, dest: *mut $t, value: $t, pe: c_int) {
                let v = amo::<$t>(W, dest as usize, AmoOp::$amo, value, 0, ctx_pe(W, ctx, pe));
                // SAFETY: the C caller's contract: `fetch` points to a writable local object of the type.
                unsafe { store(fetch, v) }
            });
        }
    };
}

for_amo_extended_types!(amo_extended,);
for_amo_standard_types!(amo_standard,);
for_amo_bitwise_types!(amo_bitwise,);
