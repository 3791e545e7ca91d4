//! The safe Rust API: [`Shmem`] (the initialized library), typed symmetric objects
//! ([`SymBox`], [`SymVec`], [`SymRef`]) and locks ([`SymLock`]).
use crate::error::{Error, Result};
use crate::rt::{strided_span, Runtime, Signal, Strided};
use crate::sync::{Values, WordSet};
use crate::wait::Cmp;
use bytemuck::Pod;
use rshmem_transport::{AmoOp, AmoWord};
use std::marker::PhantomData;
use std::mem::size_of;

pub mod ctx;
mod lock;
mod shmem;
mod symref;
mod symvec;

pub use ctx::ShmemCtx;
pub use lock::{LockGuard, SymLock};
pub use shmem::Shmem;
pub use symref::SymRef;
pub use symvec::{SymBox, SymVec};

/// How `put_signal` updates the signal word (`SHMEM_SIGNAL_SET` / `SHMEM_SIGNAL_ADD`).
///
/// ```no_run
/// # let shmem = rshmem::init()?;
/// let data = shmem.alloc_slice::<u8>(8)?;
/// let sig = shmem.alloc(0u64)?;
/// data.put_signal(0, 0, b"12345678", &sig, 1, rshmem::SignalOp::Add)?;
/// # Ok::<(), rshmem::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalOp {
    /// Store the value.
    Set,
    /// Add the value.
    Add,
}

/// Integer types with atomic operations and point-to-point waits: `i32`, `u32`, `i64`,
/// `u64`, `isize`, `usize`.
///
/// ```
/// use rshmem::SymInt;
/// assert_eq!(<i32 as SymInt>::from_bits((-2i32).to_bits()), -2);
/// assert!(<i64 as SymInt>::SIGNED);
/// ```
pub trait SymInt: Pod + PartialEq + core::fmt::Debug + sealed::Sealed {
    /// The same-sized unsigned word the transports operate on.
    type Bits: AmoWord;
    /// Whether comparisons are signed.
    const SIGNED: bool;
    /// Reinterprets as the transport word.
    fn to_bits(self) -> Self::Bits;
    /// Reinterprets from the transport word.
    fn from_bits(b: Self::Bits) -> Self;
    /// One.
    const ONE: Self;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! sym_int {
    ($($t:ty => $bits:ty, $signed:expr);*) => {$(
        impl sealed::Sealed for $t {}
        impl SymInt for $t {
            type Bits = $bits;
            const SIGNED: bool = $signed;
            const ONE: Self = 1;
            #[inline(always)]
            fn to_bits(self) -> $bits { self as $bits }
            #[inline(always)]
            fn from_bits(b: $bits) -> Self { b as $t }
        }
    )*};
}
sym_int!(i32 => u32, true; u32 => u32, false; i64 => u64, true; u64 => u64, false; isize => u64, true; usize => u64, false);
