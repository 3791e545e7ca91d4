//! [`Shmem`]: the initialized library (init state, PE identity, allocation, barriers,
//! teams' entry points).
use super::*;

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
        crate::rt::global::release(&self.rt);
        if !std::thread::panicking() {
            self.rt.finalize();
            // SAFETY: dropped exactly once, here; nothing refers to the runtime any more
            // (finalize disarmed the exit hook, rt::global::release cleared the global).
            unsafe { core::mem::ManuallyDrop::drop(&mut self.rt) };
        }
    }
}
