//! Atomic memory operations for the standard, extended and bitwise AMO types: one generic
//! [`amo`] on the transport word of the type's size, instantiated by macros.
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
    pe: c_int,
) -> T {
    let rt = rt(what);
    let pe = pe_of(rt, what, pe);
    T::from_bits(check(
        rt,
        what,
        rt.amo::<T::Bits>(addr, op, value.to_bits(), compare.to_bits(), pe),
    ))
}

/// Writes a fetched value to the caller's `fetch` buffer (the `_nbi` forms).
#[inline(always)]
unsafe fn store<T>(fetch: *mut T, v: T) {
    // SAFETY: `fetch` is a valid local object (contract of the `_nbi` routines).
    unsafe { fetch.write_unaligned(v) }
}

macro_rules! name {
    ($n:ident, $($op:expr),+) => {
        concat!("shmem_", stringify!($n), "_atomic_", $($op),+)
    };
}

/// fetch, set, swap (+ nbi): the extended AMO types (standard ones and float/double).
macro_rules! amo_extended {
    ($($n:ident: $t:ty),* $(,)?) => {$(
        paste! {
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_fetch>](source: *const $t, pe: c_int) -> $t {
                amo::<$t>(name!($n, "fetch"), source as usize, AmoOp::Fetch, 0 as $t, 0 as $t, pe)
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_set>](dest: *mut $t, value: $t, pe: c_int) {
                amo::<$t>(name!($n, "set"), dest as usize, AmoOp::Set, value, 0 as $t, pe);
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_swap>](dest: *mut $t, value: $t, pe: c_int) -> $t {
                amo::<$t>(name!($n, "swap"), dest as usize, AmoOp::Swap, value, 0 as $t, pe)
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_fetch_nbi>](fetch: *mut $t, source: *const $t, pe: c_int) {
                let v = amo::<$t>(name!($n, "fetch_nbi"), source as usize, AmoOp::Fetch, 0 as $t, 0 as $t, pe);
                unsafe { store(fetch, v) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_swap_nbi>](fetch: *mut $t, dest: *mut $t, value: $t, pe: c_int) {
                let v = amo::<$t>(name!($n, "swap_nbi"), dest as usize, AmoOp::Swap, value, 0 as $t, pe);
                unsafe { store(fetch, v) }
            }
            weak!([<$n _atomic_fetch>], [<$n _atomic_set>], [<$n _atomic_swap>],
                  [<$n _atomic_fetch_nbi>], [<$n _atomic_swap_nbi>]);
        }
    )*};
}

/// compare_swap, fetch_inc, inc, fetch_add, add (+ nbi fetching forms): standard AMO types.
macro_rules! amo_standard {
    ($($n:ident: $t:ty),* $(,)?) => {$(
        paste! {
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_compare_swap>](dest: *mut $t, cond: $t, value: $t, pe: c_int) -> $t {
                amo::<$t>(name!($n, "compare_swap"), dest as usize, AmoOp::CompareSwap, value, cond, pe)
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_fetch_inc>](dest: *mut $t, pe: c_int) -> $t {
                amo::<$t>(name!($n, "fetch_inc"), dest as usize, AmoOp::FetchAdd, 1, 0, pe)
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_inc>](dest: *mut $t, pe: c_int) {
                amo::<$t>(name!($n, "inc"), dest as usize, AmoOp::FetchAdd, 1, 0, pe);
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_fetch_add>](dest: *mut $t, value: $t, pe: c_int) -> $t {
                amo::<$t>(name!($n, "fetch_add"), dest as usize, AmoOp::FetchAdd, value, 0, pe)
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_add>](dest: *mut $t, value: $t, pe: c_int) {
                amo::<$t>(name!($n, "add"), dest as usize, AmoOp::FetchAdd, value, 0, pe);
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_compare_swap_nbi>](fetch: *mut $t, dest: *mut $t, cond: $t, value: $t, pe: c_int) {
                let v = amo::<$t>(name!($n, "compare_swap_nbi"), dest as usize, AmoOp::CompareSwap, value, cond, pe);
                unsafe { store(fetch, v) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_fetch_inc_nbi>](fetch: *mut $t, dest: *mut $t, pe: c_int) {
                let v = amo::<$t>(name!($n, "fetch_inc_nbi"), dest as usize, AmoOp::FetchAdd, 1, 0, pe);
                unsafe { store(fetch, v) }
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_fetch_add_nbi>](fetch: *mut $t, dest: *mut $t, value: $t, pe: c_int) {
                let v = amo::<$t>(name!($n, "fetch_add_nbi"), dest as usize, AmoOp::FetchAdd, value, 0, pe);
                unsafe { store(fetch, v) }
            }
            weak!([<$n _atomic_compare_swap>], [<$n _atomic_fetch_inc>], [<$n _atomic_inc>],
                  [<$n _atomic_fetch_add>], [<$n _atomic_add>], [<$n _atomic_compare_swap_nbi>],
                  [<$n _atomic_fetch_inc_nbi>], [<$n _atomic_fetch_add_nbi>]);
        }
    )*};
}

/// and, or, xor and their fetching (+ nbi) forms: bitwise AMO types.
macro_rules! amo_bitwise {
    ($($n:ident: $t:ty),* $(,)?) => {$(
        amo_bitwise!(@op $n, $t, and, FetchAnd);
        amo_bitwise!(@op $n, $t, or, FetchOr);
        amo_bitwise!(@op $n, $t, xor, FetchXor);
    )*};
    (@op $n:ident, $t:ty, $op:ident, $amo:ident) => {
        paste! {
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_fetch_ $op>](dest: *mut $t, value: $t, pe: c_int) -> $t {
                amo::<$t>(name!($n, "fetch_", stringify!($op)), dest as usize, AmoOp::$amo, value, 0, pe)
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_ $op>](dest: *mut $t, value: $t, pe: c_int) {
                amo::<$t>(name!($n, stringify!($op)), dest as usize, AmoOp::$amo, value, 0, pe);
            }
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $n _atomic_fetch_ $op _nbi>](fetch: *mut $t, dest: *mut $t, value: $t, pe: c_int) {
                let v = amo::<$t>(name!($n, "fetch_", stringify!($op), "_nbi"), dest as usize, AmoOp::$amo, value, 0, pe);
                unsafe { store(fetch, v) }
            }
            weak!([<$n _atomic_fetch_ $op>], [<$n _atomic_ $op>], [<$n _atomic_fetch_ $op _nbi>]);
        }
    };
}

amo_extended!(
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

amo_standard!(
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

amo_bitwise!(
    uint: c_uint,
    ulong: c_ulong,
    ulonglong: c_ulonglong,
    int32: i32,
    int64: i64,
    uint32: u32,
    uint64: u64,
);
