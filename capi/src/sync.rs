//! Point-to-point synchronization: `shmem_TYPE_wait_until{,_all,_any,_some}{,_vector}` and
//! `shmem_TYPE_test*` over the runtime's [`WordSet`], for the 14 point-to-point types of
//! the specification's table (the 12 standard AMO types plus `short`, `unsigned short`),
//! and the deprecated `shmem_wait`, `shmem_TYPE_wait` and `shmem_wait_until(long *, ...)`.
use crate::types::AmoType;
use crate::{check, cmp_of, fail, rt};
use paste::paste;
use rshmem_rt::rt::Runtime;
use rshmem_rt::sync::{Half, SyncWord, Values, WordSet};
use std::ffi::{c_int, c_long, c_longlong, c_short, c_uint, c_ulong, c_ulonglong, c_ushort};
use std::mem::size_of;

/// A C point-to-point synchronization type: the word the runtime waits on (same size and
/// layout) and whether comparisons are signed.
pub(crate) trait P2pType: Copy {
    /// The runtime word of the same size.
    type Word: SyncWord;
    /// Whether `SHMEM_CMP_*` comparisons are signed.
    const SIGNED: bool;
    /// The bits of `self`.
    fn word(self) -> Self::Word;
}

macro_rules! p2p_amo_type {
    ($($t:ty),*) => {$(
        impl P2pType for $t {
            type Word = <$t as AmoType>::Bits;
            const SIGNED: bool = <$t as AmoType>::SIGNED;
            #[inline(always)]
            fn word(self) -> Self::Word {
                self.to_bits()
            }
        }
    )*};
}
p2p_amo_type!(i32, u32, i64, u64, isize, usize);

impl P2pType for c_short {
    type Word = Half;
    const SIGNED: bool = true;
    #[inline(always)]
    fn word(self) -> Half {
        Half(self as u16)
    }
}

impl P2pType for c_ushort {
    type Word = Half;
    const SIGNED: bool = false;
    #[inline(always)]
    fn word(self) -> Half {
        Half(self)
    }
}

/// Checks that `n` words of `T` at `ivars` are local symmetric memory, aligned.
fn check_words<T>(rt: &Runtime, what: &'static str, ivars: usize, n: usize) {
    if !ivars.is_multiple_of(size_of::<T>()) {
        fail(
            rt,
            what,
            rshmem_rt::Error::Misaligned {
                addr: ivars,
                align: size_of::<T>(),
            },
        )
    }
    if n > 0 {
        check(rt, what, rt.translate(ivars, n * size_of::<T>()));
    }
}

/// Builds the word set of a C call: `values` is a single value or `n` values.
///
/// # Safety
/// `status` (if not NULL) and `values` (vector forms) hold `n` elements.
unsafe fn word_set<'v, T: P2pType>(
    what: &'static str,
    ivars: *const T,
    n: usize,
    status: *const c_int,
    cmp: c_int,
    values: Values<'v, T::Word>,
) -> WordSet<'v, T::Word> {
    let rt = rt(what);
    check_words::<T>(rt, what, ivars as usize, n);
    let status = if status.is_null() || n == 0 {
        None
    } else {
        // SAFETY: `status` holds `n` ints (contract).
        Some(unsafe { core::slice::from_raw_parts(status, n) })
    };
    WordSet {
        base: ivars as usize,
        n,
        status,
        cmp: cmp_of(rt, what, cmp),
        values,
        signed: T::SIGNED,
        progress: rt.progress(),
    }
}

/// `n` comparison values of a `_vector` routine, as transport words.
///
/// # Safety
/// `values` holds `n` elements of `T` (the same size and layout as `T::Word`).
unsafe fn vector<'v, T: P2pType>(values: *const T, n: usize) -> Values<'v, T::Word> {
    if n == 0 || values.is_null() {
        Values::Each(&[])
    } else {
        // SAFETY: contract; `T` and `T::Word` have the same size and alignment.
        Values::Each(unsafe { core::slice::from_raw_parts(values as *const T::Word, n) })
    }
}

/// Writes `found` to the caller's `indices` array and returns how many.
///
/// # Safety
/// `indices` holds `n` elements, `found.len() <= n`.
unsafe fn write_indices(indices: *mut usize, found: &[usize]) -> usize {
    if !indices.is_null() {
        // SAFETY: contract.
        unsafe { core::ptr::copy_nonoverlapping(found.as_ptr(), indices, found.len()) };
    }
    found.len()
}

macro_rules! p2p {
    ($($n:ident: $t:ty = $c:literal),* $(,)?) => {$(
        paste! {
            c_fn!(W; [<$n _wait_until>](ivar: *mut $t, cmp: c_int, cmp_value: $t) {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivar, 1, core::ptr::null(), cmp, Values::One(cmp_value.word())) }.wait_all()
            });
            c_fn!(W; [<$n _test>](ivar: *mut $t, cmp: c_int, cmp_value: $t) -> c_int {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                let s = unsafe { word_set::<$t>(W, ivar, 1, core::ptr::null(), cmp, Values::One(cmp_value.word())) };
                s.test_all() as c_int
            });
            c_fn!(W; [<$n _wait_until_all>](ivars: *mut $t, nelems: usize, status: *const c_int, cmp: c_int, cmp_value: $t) {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, Values::One(cmp_value.word())) }.wait_all()
            });
            c_fn!(W; [<$n _wait_until_any>](ivars: *mut $t, nelems: usize, status: *const c_int, cmp: c_int, cmp_value: $t) -> usize {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, Values::One(cmp_value.word())) }.wait_any().unwrap_or(usize::MAX)
            });
            c_fn!(W; [<$n _wait_until_some>](ivars: *mut $t, nelems: usize, indices: *mut usize, status: *const c_int, cmp: c_int, cmp_value: $t) -> usize {
                let mut found = Vec::new();
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, Values::One(cmp_value.word())) }.wait_some(&mut found);
                // SAFETY: the C caller's contract: `indices` has room for `nelems` entries.
                unsafe { write_indices(indices, &found) }
            });
            c_fn!(W; [<$n _wait_until_all_vector>](ivars: *mut $t, nelems: usize, status: *const c_int, cmp: c_int, cmp_values: *const $t) {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, vector(cmp_values, nelems)) }.wait_all()
            });
            c_fn!(W; [<$n _wait_until_any_vector>](ivars: *mut $t, nelems: usize, status: *const c_int, cmp: c_int, cmp_values: *const $t) -> usize {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, vector(cmp_values, nelems)) }.wait_any().unwrap_or(usize::MAX)
            });
            c_fn!(W; [<$n _wait_until_some_vector>](ivars: *mut $t, nelems: usize, indices: *mut usize, status: *const c_int, cmp: c_int, cmp_values: *const $t) -> usize {
                let mut found = Vec::new();
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, vector(cmp_values, nelems)) }.wait_some(&mut found);
                // SAFETY: the C caller's contract: `indices` has room for `nelems` entries.
                unsafe { write_indices(indices, &found) }
            });
            c_fn!(W; [<$n _test_all>](ivars: *mut $t, nelems: usize, status: *const c_int, cmp: c_int, cmp_value: $t) -> c_int {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, Values::One(cmp_value.word())) }.test_all() as c_int
            });
            c_fn!(W; [<$n _test_any>](ivars: *mut $t, nelems: usize, status: *const c_int, cmp: c_int, cmp_value: $t) -> usize {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, Values::One(cmp_value.word())) }.test_any().unwrap_or(usize::MAX)
            });
            c_fn!(W; [<$n _test_some>](ivars: *mut $t, nelems: usize, indices: *mut usize, status: *const c_int, cmp: c_int, cmp_value: $t) -> usize {
                let mut found = Vec::new();
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, Values::One(cmp_value.word())) }.test_some(&mut found);
                // SAFETY: the C caller's contract: `indices` has room for `nelems` entries.
                unsafe { write_indices(indices, &found) }
            });
            c_fn!(W; [<$n _test_all_vector>](ivars: *mut $t, nelems: usize, status: *const c_int, cmp: c_int, cmp_values: *const $t) -> c_int {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, vector(cmp_values, nelems)) }.test_all() as c_int
            });
            c_fn!(W; [<$n _test_any_vector>](ivars: *mut $t, nelems: usize, status: *const c_int, cmp: c_int, cmp_values: *const $t) -> usize {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, vector(cmp_values, nelems)) }.test_any().unwrap_or(usize::MAX)
            });
            c_fn!(W; [<$n _test_some_vector>](ivars: *mut $t, nelems: usize, indices: *mut usize, status: *const c_int, cmp: c_int, cmp_values: *const $t) -> usize {
                let mut found = Vec::new();
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivars, nelems, status, cmp, vector(cmp_values, nelems)) }.test_some(&mut found);
                // SAFETY: the C caller's contract: `indices` has room for `nelems` entries.
                unsafe { write_indices(indices, &found) }
            });
        }
    )*};
}

for_p2p_types!(p2p,);

/// The deprecated `shmem_TYPE_wait(ivar, cmp_value)`: wait until `*ivar != cmp_value`.
macro_rules! deprecated_wait {
    ($($n:ident: $t:ty),* $(,)?) => {$(
        paste! {
            c_fn!(W; [<$n _wait>](ivar: *mut $t, cmp_value: $t) {
                // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
                unsafe { word_set::<$t>(W, ivar, 1, core::ptr::null(), SHMEM_CMP_NE, Values::One(cmp_value.word())) }.wait_all()
            });
        }
    )*};
}

const SHMEM_CMP_NE: c_int = 1;

deprecated_wait!(short: c_short, int: c_int, long: c_long, longlong: c_longlong);

// The deprecated `shmem_wait(long *ivar, long cmp_value)` (C and C++; C11 programs get
// the type-generic macro of `shmem.h`).
c_fn!(W; wait(ivar: *mut c_long, cmp_value: c_long) {
    // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
    unsafe {
        word_set::<c_long>(
            W,
            ivar,
            1,
            core::ptr::null(),
            SHMEM_CMP_NE,
            Values::One(cmp_value.word()),
        )
    }
    .wait_all()
});

// The deprecated `shmem_wait_until(long *ivar, int cmp, long cmp_value)` of C and C++
// (in C11 the name is the type-generic macro).
c_fn!(W; wait_until(ivar: *mut c_long, cmp: c_int, cmp_value: c_long) {
    // SAFETY: the C caller's contract: `ivars` (and `status`, `cmp_values` when given) point to `nelems` valid elements; `word_set` checks that the words are symmetric.
    unsafe {
        word_set::<c_long>(
            W,
            ivar,
            1,
            core::ptr::null(),
            cmp,
            Values::One(cmp_value.word()),
        )
    }
    .wait_all()
});
