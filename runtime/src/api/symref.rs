//! [`SymRef`]: one symmetric object addressed by PE number (RMA, atomics, waits, signals).
use super::*;

/// A reference to one symmetric `T`: the same object on every PE, addressed by PE number.
/// Cheap to copy.
#[derive(Clone, Copy)]
pub struct SymRef<'a, T> {
    pub(super) rt: &'a Runtime,
    pub(super) addr: usize,
    pub(super) _t: PhantomData<T>,
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
            self.rt
                .amo_nr::<T::Bits>(self.addr, AmoOp::$op, value.to_bits(), pe, false)
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
        self.rt.progress().poll();
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
        self.rt.progress().poll();
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
