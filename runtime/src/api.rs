//! The safe Rust API: [`Shmem`] (the initialized library), typed symmetric objects
//! ([`SymBox`], [`SymVec`], [`SymRef`]) and locks ([`SymLock`]).
use crate::error::{Error, Result};
use crate::rt::{strided_span, Runtime};
use crate::sync::{Values, WordSet};
use crate::wait::Cmp;
use bytemuck::Pod;
use rshmem_transport::{AmoOp, AmoWord};
use std::marker::PhantomData;
use std::mem::size_of;

/// The initialized library. Dropping it finalizes (a barrier over all PEs, then unmapping).
///
/// ```no_run
/// let shmem = rshmem::init()?;
/// println!("PE {} of {}", shmem.my_pe(), shmem.n_pes());
/// # Ok::<(), rshmem::Error>(())
/// ```
pub struct Shmem {
    /// Freed by `drop` after finalize; left allocated when dropped by a panic, so the exit
    /// hook can still ask the other PEs to exit (the process is ending anyway).
    pub(crate) rt: core::mem::ManuallyDrop<Box<Runtime>>,
}

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

impl Shmem {
    /// This PE's number, `0..n_pes()`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let right = (shmem.my_pe() + 1) % shmem.n_pes();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn my_pe(&self) -> usize {
        self.rt.my_pe()
    }

    /// Number of PEs in the job.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// assert!(shmem.n_pes() >= 1);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn n_pes(&self) -> usize {
        self.rt.n_pes()
    }

    /// Completes this PE's outstanding operations, then waits for every PE
    /// (`shmem_barrier_all`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// shmem.barrier_all();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn barrier_all(&self) {
        self.rt.barrier_all()
    }

    /// Waits for every PE without completing outstanding operations (`shmem_sync_all`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// shmem.sync_all();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn sync_all(&self) {
        self.rt.sync_all()
    }

    /// Completes every put, get and AMO this PE issued (`shmem_quiet`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// shmem.quiet();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn quiet(&self) {
        self.rt.quiet()
    }

    /// Orders this PE's puts, AMOs and signals to each PE (`shmem_fence`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// shmem.fence();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn fence(&self) {
        self.rt.fence()
    }

    /// Collectively allocates one symmetric `T` set to `value` on every PE. Every PE must
    /// call it in the same order; it returns after a barrier.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let counter = shmem.alloc(0u64)?;
    /// counter.fetch_add(0, 1)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn alloc<T: Pod>(&self, value: T) -> Result<SymBox<'_, T>> {
        let addr = self.rt.malloc(size_of::<T>(), align_of::<T>(), false)?;
        // SAFETY: freshly allocated, aligned, private to this PE until the next barrier.
        unsafe { core::ptr::write(addr as *mut T, value) };
        self.rt.barrier_all();
        Ok(SymBox {
            _owner: SymVec {
                rt: &self.rt,
                addr,
                len: 1,
                _t: PhantomData,
            },
            r: SymRef {
                rt: &self.rt,
                addr,
                _t: PhantomData,
            },
        })
    }

    /// Collectively allocates `len` zeroed symmetric `T`s (`shmem_calloc`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<f64>(1024)?;
    /// assert_eq!(v.len(), 1024);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn alloc_slice<T: Pod>(&self, len: usize) -> Result<SymVec<'_, T>> {
        self.alloc_slice_aligned(len, align_of::<T>())
    }

    /// As [`Shmem::alloc_slice`], aligned to `align` bytes (`shmem_align`). `align` must be a
    /// power of two no larger than 2 MiB (the alignment of every PE's symmetric heap);
    /// anything else is refused with [`Error::BadAlloc`].
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice_aligned::<u8>(100, 4096)?;
    /// assert_eq!(v.as_ptr() as usize % 4096, 0);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn alloc_slice_aligned<T: Pod>(&self, len: usize, align: usize) -> Result<SymVec<'_, T>> {
        let bytes = len.checked_mul(size_of::<T>()).ok_or_else(|| {
            Error::BadAlloc(format!(
                "{len} elements of {} bytes overflow",
                size_of::<T>()
            ))
        })?;
        let addr = self.rt.malloc(bytes, align.max(align_of::<T>()), true)?;
        Ok(SymVec {
            rt: &self.rt,
            addr,
            len,
            _t: PhantomData,
        })
    }

    /// As [`Shmem::alloc_slice`], with `shmem_malloc_with_hints` hints (accepted, ignored).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice_with_hints::<u64>(8, 0)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn alloc_slice_with_hints<T: Pod>(&self, len: usize, _hints: u64) -> Result<SymVec<'_, T>> {
        self.alloc_slice(len)
    }

    /// Collectively allocates a lock (`long` lock variable of `shmem_set_lock`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let lock = shmem.alloc_lock()?;
    /// {
    ///     let _guard = lock.lock()?;
    ///     // critical section
    /// }
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn alloc_lock(&self) -> Result<SymLock<'_>> {
        Ok(SymLock {
            word: self.alloc_slice::<u64>(1)?,
        })
    }

    /// Whether `pe` is reachable (`shmem_pe_accessible`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// assert!(shmem.pe_accessible(0));
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn pe_accessible(&self, pe: usize) -> bool {
        pe < self.n_pes()
    }

    /// Ends the whole job with `status` (`shmem_global_exit`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// shmem.global_exit(3);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn global_exit(&self, status: i32) -> ! {
        self.rt.abort(
            status,
            &format!("global_exit({status}) called; ending the job"),
        )
    }

    /// The runtime below the safe API (raw addresses; used by the C API).
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// Finalizes explicitly (dropping does the same).
    ///
    /// ```no_run
    /// let shmem = rshmem::init()?;
    /// shmem.finalize();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn finalize(self) {}
}

impl Drop for Shmem {
    fn drop(&mut self) {
        crate::release_global(&self.rt);
        if !std::thread::panicking() {
            self.rt.finalize();
            // SAFETY: dropped exactly once, here; nothing refers to the runtime any more
            // (finalize disarmed the exit hook, release_global cleared the global).
            unsafe { core::mem::ManuallyDrop::drop(&mut self.rt) };
        }
    }
}

/// A reference to one symmetric `T`: the same object on every PE, addressed by PE number.
/// Cheap to copy.
#[derive(Clone, Copy)]
pub struct SymRef<'a, T> {
    rt: &'a Runtime,
    addr: usize,
    _t: PhantomData<T>,
}

impl<'a, T: Pod> SymRef<'a, T> {
    /// Address of the local copy.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let x = shmem.alloc(0u32)?;
    /// let p: *mut u32 = x.as_ptr();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn as_ptr(&self) -> *mut T {
        self.addr as *mut T
    }

    /// Stores `value` into the copy on `pe` (`shmem_p`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let x = shmem.alloc(0i64)?;
    /// x.p(0, 42)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn p(&self, pe: usize, value: T) -> Result<()> {
        // SAFETY: `value` is a live local T.
        unsafe {
            self.rt.put(
                self.addr,
                &value as *const T as *const u8,
                size_of::<T>(),
                pe,
            )
        }
    }

    /// Loads the copy on `pe` (`shmem_g`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let x = shmem.alloc(7i64)?;
    /// assert_eq!(x.g(0)?, 7);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn g(&self, pe: usize) -> Result<T> {
        let mut v = T::zeroed();
        // SAFETY: `v` is a live local T.
        unsafe {
            self.rt
                .get(&mut v as *mut T as *mut u8, self.addr, size_of::<T>(), pe)?
        };
        Ok(v)
    }

    /// Reads the local copy (a volatile load: remote PEs may write it).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let x = shmem.alloc(5u8)?;
    /// assert_eq!(x.read(), 5);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn read(&self) -> T {
        // SAFETY: a live, aligned symmetric T of this PE.
        unsafe { core::ptr::read_volatile(self.addr as *const T) }
    }

    /// Writes the local copy (a volatile store).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let x = shmem.alloc(5u8)?;
    /// x.write(6);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn write(&self, value: T) {
        // SAFETY: a live, aligned symmetric T of this PE.
        unsafe { core::ptr::write_volatile(self.addr as *mut T, value) }
    }

    /// Direct pointer to the copy on `pe` if its memory is mapped here (`shmem_ptr`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let x = shmem.alloc(0u64)?;
    /// assert!(x.ptr(0).is_some());
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn ptr(&self, pe: usize) -> Option<*mut T> {
        self.rt.ptr(self.addr, pe).map(|a| a as *mut T)
    }
}

macro_rules! amo_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident, returns;)*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $name(&self, pe: usize, value: T) -> Result<T> {
            self.amo(AmoOp::$op, pe, value, value)
        }
    )*};
}
macro_rules! amo_nofetch {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $name(&self, pe: usize, value: T) -> Result<()> {
            self.amo(AmoOp::$op, pe, value, value).map(|_| ())
        }
    )*};
}
macro_rules! amo_nbi {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// `fetched` is written when the operation completes (at the latest at the next
        /// `quiet`): it must stay valid and unread until then.
        #[inline]
        pub unsafe fn $name(&self, fetched: *mut T, pe: usize, value: T) -> Result<()> {
            let v = self.amo(AmoOp::$op, pe, value, value)?;
            // SAFETY: the caller guarantees `fetched` is valid for writes.
            unsafe { fetched.write(v) };
            Ok(())
        }
    )*};
}

impl<'a, T: SymInt> SymRef<'a, T> {
    #[inline(always)]
    fn amo(&self, op: AmoOp, pe: usize, value: T, compare: T) -> Result<T> {
        self.rt
            .amo::<T::Bits>(self.addr, op, value.to_bits(), compare.to_bits(), pe)
            .map(T::from_bits)
    }

    amo_methods! {
        /// Atomically adds `value` on `pe`; returns the old value (`shmem_atomic_fetch_add`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// let c = shmem.alloc(0u64)?;
        /// let before = c.fetch_add(0, 5)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        fetch_add => FetchAdd, returns;
        /// Atomic bitwise and; returns the old value (`shmem_atomic_fetch_and`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u64)?;
        /// c.fetch_and(0, 0xff)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        fetch_and => FetchAnd, returns;
        /// Atomic bitwise or; returns the old value (`shmem_atomic_fetch_or`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u64)?;
        /// c.fetch_or(0, 1)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        fetch_or => FetchOr, returns;
        /// Atomic bitwise xor; returns the old value (`shmem_atomic_fetch_xor`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u64)?;
        /// c.fetch_xor(0, 1)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        fetch_xor => FetchXor, returns;
        /// Atomically stores `value`, returning the old value (`shmem_atomic_swap`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u64)?;
        /// let old = c.swap(0, 9)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        swap => Swap, returns;
    }

    amo_nofetch! {
        /// Atomically adds `value` on `pe` (`shmem_atomic_add`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0i32)?;
        /// c.add(0, -3)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        add => FetchAdd;
        /// Atomic bitwise and (`shmem_atomic_and`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u32)?;
        /// c.and(0, 1)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        and => FetchAnd;
        /// Atomic bitwise or (`shmem_atomic_or`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u32)?;
        /// c.or(0, 1)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        or => FetchOr;
        /// Atomic bitwise xor (`shmem_atomic_xor`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u32)?;
        /// c.xor(0, 1)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        xor => FetchXor;
        /// Atomic store (`shmem_atomic_set`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u32)?;
        /// c.set(0, 1)?;
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        set => Set;
    }

    amo_nbi! {
        /// Non-blocking [`SymRef::fetch_add`] (`shmem_atomic_fetch_add_nbi`).
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u64)?;
        /// let mut old = 0u64;
        /// unsafe { c.fetch_add_nbi(&mut old, 0, 1)? };
        /// shmem.quiet();
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        fetch_add_nbi => FetchAdd;
        /// Non-blocking [`SymRef::fetch_and`].
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u64)?;
        /// let mut old = 0u64;
        /// unsafe { c.fetch_and_nbi(&mut old, 0, 1)? };
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        fetch_and_nbi => FetchAnd;
        /// Non-blocking [`SymRef::fetch_or`].
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u64)?;
        /// let mut old = 0u64;
        /// unsafe { c.fetch_or_nbi(&mut old, 0, 1)? };
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        fetch_or_nbi => FetchOr;
        /// Non-blocking [`SymRef::fetch_xor`].
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u64)?;
        /// let mut old = 0u64;
        /// unsafe { c.fetch_xor_nbi(&mut old, 0, 1)? };
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        fetch_xor_nbi => FetchXor;
        /// Non-blocking [`SymRef::swap`].
        ///
        /// ```no_run
        /// # let shmem = rshmem::init()?;
        /// # let c = shmem.alloc(0u64)?;
        /// let mut old = 0u64;
        /// unsafe { c.swap_nbi(&mut old, 0, 1)? };
        /// # Ok::<(), rshmem::Error>(())
        /// ```
        swap_nbi => Swap;
    }

    /// Atomic load of the copy on `pe` (`shmem_atomic_fetch`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let c = shmem.alloc(0u64)?;
    /// let v = c.fetch(0)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn fetch(&self, pe: usize) -> Result<T> {
        self.amo(AmoOp::Fetch, pe, T::zeroed(), T::zeroed())
    }

    /// Non-blocking [`SymRef::fetch`] (`shmem_atomic_fetch_nbi`).
    ///
    /// # Safety
    /// `fetched` must stay valid and unread until the next `quiet`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let c = shmem.alloc(0u64)?;
    /// let mut v = 0u64;
    /// unsafe { c.fetch_nbi(&mut v, 0)? };
    /// shmem.quiet();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub unsafe fn fetch_nbi(&self, fetched: *mut T, pe: usize) -> Result<()> {
        let v = self.fetch(pe)?;
        // SAFETY: the caller guarantees `fetched` is valid for writes.
        unsafe { fetched.write(v) };
        Ok(())
    }

    /// Stores `value` on `pe` if the copy there equals `cond`; returns the old value
    /// (`shmem_atomic_compare_swap`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let c = shmem.alloc(0u64)?;
    /// let won = c.compare_swap(0, 0, 1)? == 0;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn compare_swap(&self, pe: usize, cond: T, value: T) -> Result<T> {
        self.amo(AmoOp::CompareSwap, pe, value, cond)
    }

    /// Non-blocking [`SymRef::compare_swap`].
    ///
    /// # Safety
    /// `fetched` must stay valid and unread until the next `quiet`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let c = shmem.alloc(0u64)?;
    /// let mut old = 0u64;
    /// unsafe { c.compare_swap_nbi(&mut old, 0, 0, 1)? };
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub unsafe fn compare_swap_nbi(
        &self,
        fetched: *mut T,
        pe: usize,
        cond: T,
        value: T,
    ) -> Result<()> {
        let v = self.compare_swap(pe, cond, value)?;
        // SAFETY: the caller guarantees `fetched` is valid for writes.
        unsafe { fetched.write(v) };
        Ok(())
    }

    /// Atomically adds one (`shmem_atomic_inc`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let c = shmem.alloc(0u64)?;
    /// c.inc(0)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn inc(&self, pe: usize) -> Result<()> {
        self.add(pe, T::ONE)
    }

    /// Atomically adds one, returning the old value (`shmem_atomic_fetch_inc`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let c = shmem.alloc(0u64)?;
    /// let ticket = c.fetch_inc(0)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn fetch_inc(&self, pe: usize) -> Result<T> {
        self.fetch_add(pe, T::ONE)
    }

    /// Non-blocking [`SymRef::fetch_inc`].
    ///
    /// # Safety
    /// `fetched` must stay valid and unread until the next `quiet`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let c = shmem.alloc(0u64)?;
    /// let mut t = 0u64;
    /// unsafe { c.fetch_inc_nbi(&mut t, 0)? };
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub unsafe fn fetch_inc_nbi(&self, fetched: *mut T, pe: usize) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { self.fetch_add_nbi(fetched, pe, T::ONE) }
    }

    /// Waits until the local copy satisfies `cmp value` (`shmem_wait_until`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let flag = shmem.alloc(0u64)?;
    /// use rshmem::Cmp;
    /// flag.wait_until(Cmp::Ne, 0);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn wait_until(&self, cmp: Cmp, value: T) {
        self.rt
            .wait_until::<T::Bits>(self.addr, cmp, value.to_bits(), T::SIGNED)
    }

    /// Whether the local copy satisfies `cmp value` now (`shmem_test`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let flag = shmem.alloc(0u64)?;
    /// let ready = flag.test(rshmem::Cmp::Eq, 1);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn test(&self, cmp: Cmp, value: T) -> bool {
        crate::rt::progress();
        let cur = self.fetch(self.rt.my_pe()).expect("local symmetric word");
        cmp.holds(cur.to_bits(), value.to_bits(), T::SIGNED)
    }
}

impl<'a> SymRef<'a, u64> {
    /// Atomic read of a local signal word (`shmem_signal_fetch`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let sig = shmem.alloc(0u64)?;
    /// let s = sig.signal_fetch();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn signal_fetch(&self) -> u64 {
        crate::rt::progress();
        self.fetch(self.rt.my_pe()).expect("local symmetric word")
    }

    /// Waits until the local signal word satisfies `cmp value` and returns it
    /// (`shmem_signal_wait_until`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let sig = shmem.alloc(0u64)?;
    /// let s = sig.signal_wait_until(rshmem::Cmp::Ge, 1);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn signal_wait_until(&self, cmp: Cmp, value: u64) -> u64 {
        self.wait_until(cmp, value);
        self.signal_fetch()
    }
}

/// `len` symmetric `T`s: the same array on every PE. Dropping it frees it collectively
/// (every PE must drop it at the same point of the program, as with `shmem_free`).
pub struct SymVec<'a, T> {
    rt: &'a Runtime,
    addr: usize,
    len: usize,
    _t: PhantomData<T>,
}

impl<'a, T: Pod> SymVec<'a, T> {
    /// Number of elements.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// assert_eq!(v.len(), 4);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no elements.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// assert!(shmem.alloc_slice::<u32>(0)?.is_empty());
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Address of the local element 0.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// let p = v.as_ptr();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn as_ptr(&self) -> *mut T {
        self.addr as *mut T
    }

    fn range(&self, start: usize, n: usize) -> Result<usize> {
        match start.checked_add(n) {
            Some(end) if end <= self.len => Ok(self.addr + start * size_of::<T>()),
            _ => Err(Error::OutOfBounds {
                start,
                end: start.saturating_add(n),
                len: self.len,
            }),
        }
    }

    /// Element `i` as a [`SymRef`] (for p/g, atomics, waits).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u64>(4)?;
    /// v.at(2)?.fetch_add(0, 1)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn at(&self, i: usize) -> Result<SymRef<'a, T>> {
        Ok(SymRef {
            rt: self.rt,
            addr: self.range(i, 1)?,
            _t: PhantomData,
        })
    }

    /// Copies `src` into elements `start..start+src.len()` on `pe` (`shmem_put`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// v.put(0, 1, &[1, 2, 3])?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn put(&self, pe: usize, start: usize, src: &[T]) -> Result<()> {
        let dest = self.range(start, src.len())?;
        // SAFETY: `src` is a live slice of `size_of_val(src)` bytes.
        unsafe {
            self.rt
                .put(dest, src.as_ptr() as *const u8, size_of_val(src), pe)
        }
    }

    /// Non-blocking [`SymVec::put`] (`shmem_put_nbi`).
    ///
    /// # Safety
    /// `src` must stay alive and unchanged until the next `quiet`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// let data = [1, 2];
    /// unsafe { v.put_nbi(0, 0, &data)? };
    /// shmem.quiet();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub unsafe fn put_nbi(&self, pe: usize, start: usize, src: &[T]) -> Result<()> {
        let dest = self.range(start, src.len())?;
        // SAFETY: forwarded contract.
        unsafe {
            self.rt
                .put_nbi(dest, src.as_ptr() as *const u8, size_of_val(src), pe)
        }
    }

    /// Copies elements `start..start+dst.len()` of `pe` into `dst` (`shmem_get`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// let mut out = [0u32; 4];
    /// v.get(0, 0, &mut out)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub fn get(&self, pe: usize, start: usize, dst: &mut [T]) -> Result<()> {
        let src = self.range(start, dst.len())?;
        // SAFETY: `dst` is a live mutable slice.
        unsafe {
            self.rt
                .get(dst.as_mut_ptr() as *mut u8, src, size_of_val(dst), pe)
        }
    }

    /// Non-blocking [`SymVec::get`] (`shmem_get_nbi`).
    ///
    /// # Safety
    /// `dst` must stay alive and unread until the next `quiet`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// let mut out = [0u32; 4];
    /// unsafe { v.get_nbi(0, 0, &mut out)? };
    /// shmem.quiet();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub unsafe fn get_nbi(&self, pe: usize, start: usize, dst: &mut [T]) -> Result<()> {
        let src = self.range(start, dst.len())?;
        // SAFETY: forwarded contract.
        unsafe {
            self.rt
                .get_nbi(dst.as_mut_ptr() as *mut u8, src, size_of_val(dst), pe)
        }
    }

    /// Strided put (`shmem_iput`): `src[i*sst]` goes to element `start + i*dst` on `pe`,
    /// for `i < nelems`. Strides are in elements and must be >= 1.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(8)?;
    /// v.iput(0, 0, 2, &[1, 2, 3, 4], 1, 4)?; // elements 0, 2, 4, 6
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn iput(
        &self,
        pe: usize,
        start: usize,
        dst: usize,
        src: &[T],
        sst: usize,
        nelems: usize,
    ) -> Result<()> {
        if nelems > 0 {
            // Element counts of both sides, checked (a huge stride must not wrap).
            let far = strided_span("iput", nelems, dst, 1)?;
            let near = strided_span("iput", nelems, sst, 1)?;
            self.range(start, far)?;
            if near > src.len() {
                return Err(Error::OutOfBounds {
                    start: 0,
                    end: near,
                    len: src.len(),
                });
            }
        }
        // SAFETY: the source elements were bounds-checked above.
        unsafe {
            self.rt.iput(
                self.addr + start * size_of::<T>(),
                src.as_ptr() as *const u8,
                dst,
                sst,
                size_of::<T>(),
                nelems,
                pe,
            )
        }
    }

    /// Strided get (`shmem_iget`): element `start + i*sst` of `pe` goes to `dst[i*dstr]`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(8)?;
    /// let mut out = [0u32; 4];
    /// v.iget(0, 1, 2, &mut out, 1, 4)?; // elements 1, 3, 5, 7
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn iget(
        &self,
        pe: usize,
        start: usize,
        sst: usize,
        dst: &mut [T],
        dstr: usize,
        nelems: usize,
    ) -> Result<()> {
        if nelems > 0 {
            // Element counts of both sides, checked (a huge stride must not wrap).
            let far = strided_span("iget", nelems, sst, 1)?;
            let near = strided_span("iget", nelems, dstr, 1)?;
            self.range(start, far)?;
            if near > dst.len() {
                return Err(Error::OutOfBounds {
                    start: 0,
                    end: near,
                    len: dst.len(),
                });
            }
        }
        // SAFETY: the destination elements were bounds-checked above.
        unsafe {
            self.rt.iget(
                dst.as_mut_ptr() as *mut u8,
                self.addr + start * size_of::<T>(),
                dstr,
                sst,
                size_of::<T>(),
                nelems,
                pe,
            )
        }
    }

    /// Puts `src` and then updates `sig` on `pe`, so that `pe` seeing the signal implies it
    /// sees the data (`shmem_put_signal`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let data = shmem.alloc_slice::<u8>(64)?;
    /// let sig = shmem.alloc(0u64)?;
    /// data.put_signal(0, 0, b"hi", &sig, 1, rshmem::SignalOp::Set)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn put_signal(
        &self,
        pe: usize,
        start: usize,
        src: &[T],
        sig: &SymRef<'_, u64>,
        value: u64,
        op: SignalOp,
    ) -> Result<()> {
        let dest = self.range(start, src.len())?;
        // SAFETY: `src` is a live slice.
        unsafe {
            self.rt.put_signal(
                dest,
                src.as_ptr() as *const u8,
                size_of_val(src),
                sig.addr,
                value,
                op == SignalOp::Add,
                pe,
            )
        }
    }

    /// Non-blocking [`SymVec::put_signal`] (`shmem_put_signal_nbi`).
    ///
    /// # Safety
    /// `src` must stay alive and unchanged until the next `quiet`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// # let data = shmem.alloc_slice::<u8>(64)?;
    /// # let sig = shmem.alloc(0u64)?;
    /// unsafe { data.put_signal_nbi(0, 0, b"hi", &sig, 1, rshmem::SignalOp::Add)? };
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub unsafe fn put_signal_nbi(
        &self,
        pe: usize,
        start: usize,
        src: &[T],
        sig: &SymRef<'_, u64>,
        value: u64,
        op: SignalOp,
    ) -> Result<()> {
        self.put_signal(pe, start, src, sig, value, op)
    }

    /// Reads local element `i` (volatile).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// assert_eq!(v.read(3)?, 0);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn read(&self, i: usize) -> Result<T> {
        Ok(self.at(i)?.read())
    }

    /// Writes local element `i` (volatile).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// v.write(3, 7)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn write(&self, i: usize, value: T) -> Result<()> {
        self.at(i)?.write(value);
        Ok(())
    }

    /// A copy of the local elements (volatile reads).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// assert_eq!(v.to_vec(), vec![0; 4]);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        (0..self.len)
            // SAFETY: every i < len is a live element of the local copy.
            .map(|i| unsafe { core::ptr::read_volatile((self.addr as *const T).add(i)) })
            .collect()
    }

    /// Overwrites local elements `start..` with `src` (volatile writes).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// v.write_slice(0, &[1, 2, 3, 4])?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn write_slice(&self, start: usize, src: &[T]) -> Result<()> {
        let at = self.range(start, src.len())? as *mut T;
        for (i, v) in src.iter().enumerate() {
            // SAFETY: bounds checked by `range`.
            unsafe { core::ptr::write_volatile(at.add(i), *v) };
        }
        Ok(())
    }

    /// The local elements as a slice.
    ///
    /// # Safety
    /// No PE may write this array (put, AMO) while the slice is alive; synchronize first
    /// (barrier, wait) as OpenSHMEM requires.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// shmem.barrier_all();
    /// let sum: u32 = unsafe { v.as_slice() }.iter().sum();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub unsafe fn as_slice(&self) -> &[T] {
        // SAFETY: a live local array; the caller excludes concurrent writers.
        unsafe { core::slice::from_raw_parts(self.addr as *const T, self.len) }
    }

    /// The local elements as a mutable slice.
    ///
    /// # Safety
    /// No PE may access this array remotely while the slice is alive, and no other slice
    /// of it may exist.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// unsafe { v.as_mut_slice() }.fill(1);
    /// shmem.barrier_all();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn as_mut_slice(&self) -> &mut [T] {
        // SAFETY: a live local array; the caller guarantees exclusivity.
        unsafe { core::slice::from_raw_parts_mut(self.addr as *mut T, self.len) }
    }

    /// Collectively resizes (`shmem_realloc`), keeping the common prefix.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// let v = v.resize(16)?;
    /// assert_eq!(v.len(), 16);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn resize(self, len: usize) -> Result<Self> {
        let bytes = len.checked_mul(size_of::<T>()).ok_or_else(|| {
            Error::BadAlloc(format!(
                "{len} elements of {} bytes overflow",
                size_of::<T>()
            ))
        })?;
        let addr = self.rt.realloc(self.addr, bytes)?;
        let rt = self.rt;
        std::mem::forget(self);
        Ok(SymVec {
            rt,
            addr,
            len,
            _t: PhantomData,
        })
    }

    fn words<'v>(
        &self,
        status: Option<&'v [i32]>,
        cmp: Cmp,
        values: Values<'v, T::Bits>,
    ) -> WordSet<'v, T::Bits>
    where
        T: SymInt,
    {
        WordSet {
            base: self.addr,
            n: self.len,
            status,
            cmp,
            values,
            signed: T::SIGNED,
        }
    }
}

fn bits<T: SymInt>(v: &[T]) -> Vec<T::Bits> {
    v.iter().map(|x| x.to_bits()).collect()
}

impl<'a, T: SymInt> SymVec<'a, T> {
    /// Runs `f` on the words with one comparison value per element.
    fn with_vector<R>(
        &self,
        status: Option<&[i32]>,
        cmp: Cmp,
        values: &[T],
        f: impl FnOnce(&WordSet<'_, T::Bits>) -> R,
    ) -> Result<R> {
        if values.len() != self.len {
            return Err(Error::OutOfBounds {
                start: 0,
                end: values.len(),
                len: self.len,
            });
        }
        let v = bits(values);
        Ok(f(&self.words(status, cmp, Values::Each(&v))))
    }

    /// Waits until every local element not excluded by `status` satisfies `cmp value`
    /// (`shmem_wait_until_all`; a non-zero `status[i]` excludes element i).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(4)?;
    /// flags.wait_until_all(None, rshmem::Cmp::Eq, 0);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn wait_until_all(&self, status: Option<&[i32]>, cmp: Cmp, value: T) {
        self.words(status, cmp, Values::One(value.to_bits()))
            .wait_all()
    }

    /// Waits until some included element satisfies it; returns its index, `None` when all
    /// are excluded (`shmem_wait_until_any`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(4)?;
    /// let i = flags.wait_until_any(None, rshmem::Cmp::Eq, 0);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn wait_until_any(&self, status: Option<&[i32]>, cmp: Cmp, value: T) -> Option<usize> {
        self.words(status, cmp, Values::One(value.to_bits()))
            .wait_any()
    }

    /// Waits until at least one included element satisfies it; returns all that do
    /// (`shmem_wait_until_some`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(4)?;
    /// let ready = flags.wait_until_some(None, rshmem::Cmp::Eq, 0);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn wait_until_some(&self, status: Option<&[i32]>, cmp: Cmp, value: T) -> Vec<usize> {
        let mut out = Vec::new();
        self.words(status, cmp, Values::One(value.to_bits()))
            .wait_some(&mut out);
        out
    }

    /// [`SymVec::wait_until_all`] with one value per element (`shmem_wait_until_all_vector`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(2)?;
    /// flags.wait_until_all_vector(None, rshmem::Cmp::Ge, &[0, 0])?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn wait_until_all_vector(
        &self,
        status: Option<&[i32]>,
        cmp: Cmp,
        values: &[T],
    ) -> Result<()> {
        self.with_vector(status, cmp, values, |w| w.wait_all())
    }

    /// [`SymVec::wait_until_any`] with one value per element.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(2)?;
    /// let i = flags.wait_until_any_vector(None, rshmem::Cmp::Ge, &[0, 5])?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn wait_until_any_vector(
        &self,
        status: Option<&[i32]>,
        cmp: Cmp,
        values: &[T],
    ) -> Result<Option<usize>> {
        self.with_vector(status, cmp, values, |w| w.wait_any())
    }

    /// [`SymVec::wait_until_some`] with one value per element.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(2)?;
    /// let ready = flags.wait_until_some_vector(None, rshmem::Cmp::Ge, &[0, 5])?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn wait_until_some_vector(
        &self,
        status: Option<&[i32]>,
        cmp: Cmp,
        values: &[T],
    ) -> Result<Vec<usize>> {
        self.with_vector(status, cmp, values, |w| {
            let mut out = Vec::new();
            w.wait_some(&mut out);
            out
        })
    }

    /// Whether every included element satisfies `cmp value` now (`shmem_test_all`): true
    /// for an empty slice, false when `status` excludes every element (an empty test set).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(4)?;
    /// assert!(flags.test_all(None, rshmem::Cmp::Eq, 0));
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn test_all(&self, status: Option<&[i32]>, cmp: Cmp, value: T) -> bool {
        self.words(status, cmp, Values::One(value.to_bits()))
            .test_all()
    }

    /// An included element that satisfies it now, if any (`shmem_test_any`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(4)?;
    /// assert_eq!(flags.test_any(None, rshmem::Cmp::Eq, 1), None);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn test_any(&self, status: Option<&[i32]>, cmp: Cmp, value: T) -> Option<usize> {
        self.words(status, cmp, Values::One(value.to_bits()))
            .test_any()
    }

    /// Every included element that satisfies it now (`shmem_test_some`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(4)?;
    /// assert_eq!(flags.test_some(None, rshmem::Cmp::Eq, 0), vec![0, 1, 2, 3]);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn test_some(&self, status: Option<&[i32]>, cmp: Cmp, value: T) -> Vec<usize> {
        let mut out = Vec::new();
        self.words(status, cmp, Values::One(value.to_bits()))
            .test_some(&mut out);
        out
    }

    /// [`SymVec::test_all`] with one value per element (`shmem_test_all_vector`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(2)?;
    /// assert!(flags.test_all_vector(None, rshmem::Cmp::Eq, &[0, 0])?);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn test_all_vector(&self, status: Option<&[i32]>, cmp: Cmp, values: &[T]) -> Result<bool> {
        self.with_vector(status, cmp, values, |w| w.test_all())
    }

    /// [`SymVec::test_any`] with one value per element.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(2)?;
    /// assert_eq!(flags.test_any_vector(None, rshmem::Cmp::Eq, &[1, 0])?, Some(1));
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn test_any_vector(
        &self,
        status: Option<&[i32]>,
        cmp: Cmp,
        values: &[T],
    ) -> Result<Option<usize>> {
        self.with_vector(status, cmp, values, |w| w.test_any())
    }

    /// [`SymVec::test_some`] with one value per element.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let flags = shmem.alloc_slice::<u64>(2)?;
    /// assert_eq!(flags.test_some_vector(None, rshmem::Cmp::Eq, &[1, 0])?, vec![1]);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn test_some_vector(
        &self,
        status: Option<&[i32]>,
        cmp: Cmp,
        values: &[T],
    ) -> Result<Vec<usize>> {
        self.with_vector(status, cmp, values, |w| {
            let mut out = Vec::new();
            w.test_some(&mut out);
            out
        })
    }
}

impl<T> Drop for SymVec<'_, T> {
    fn drop(&mut self) {
        // Freeing is collective (a barrier); while unwinding from a panic the other PEs are
        // not here, so leak rather than hang.
        if !std::thread::panicking() {
            let _ = self.rt.free(self.addr);
        }
    }
}

/// One symmetric `T` (a [`SymVec`] of length 1 that reads as a [`SymRef`]).
///
/// ```no_run
/// # let shmem = rshmem::init()?;
/// let x = shmem.alloc(1u64)?;
/// x.fetch_add(0, 1)?; // SymRef methods through Deref
/// # Ok::<(), rshmem::Error>(())
/// ```
pub struct SymBox<'a, T> {
    /// Owns the allocation (freed on drop).
    _owner: SymVec<'a, T>,
    r: SymRef<'a, T>,
}

impl<'a, T: Pod> core::ops::Deref for SymBox<'a, T> {
    type Target = SymRef<'a, T>;
    fn deref(&self) -> &SymRef<'a, T> {
        &self.r
    }
}

/// A symmetric lock (`shmem_set_lock`/`shmem_test_lock`/`shmem_clear_lock`): fair (FIFO),
/// queue-based, and waiting PEs spin only on their own memory.
pub struct SymLock<'a> {
    word: SymVec<'a, u64>,
}

/// Holds a [`SymLock`]; releases it on drop.
pub struct LockGuard<'l, 'a> {
    lock: &'l SymLock<'a>,
}

impl<'a> SymLock<'a> {
    /// Blocks until this PE holds the lock.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let lock = shmem.alloc_lock()?;
    /// let guard = lock.lock()?;
    /// drop(guard);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn lock(&self) -> Result<LockGuard<'_, 'a>> {
        crate::lock::set_lock(self.word.rt, self.word.addr)?;
        Ok(LockGuard { lock: self })
    }

    /// Takes the lock if it is free.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let lock = shmem.alloc_lock()?;
    /// if let Some(_g) = lock.try_lock()? { /* got it */ }
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn try_lock(&self) -> Result<Option<LockGuard<'_, 'a>>> {
        // Fix (integration tests): this was `.then_some(LockGuard { .. })`, which builds the
        // guard eagerly; on failure the unused guard was dropped, i.e. `clear_lock` ran on a
        // lock this PE does not hold, and it spun forever waiting for a successor.
        Ok(crate::lock::test_lock(self.word.rt, self.word.addr)?.then(|| LockGuard { lock: self }))
    }
}

impl Drop for LockGuard<'_, '_> {
    fn drop(&mut self) {
        let w = &self.lock.word;
        if let Err(e) = crate::lock::clear_lock(w.rt, w.addr) {
            w.rt.abort(1, &format!("releasing a lock failed: {e}"));
        }
    }
}
