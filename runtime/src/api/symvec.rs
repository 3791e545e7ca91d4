//! [`SymVec`] (a symmetric array, freed collectively on drop) and [`SymBox`].
use super::*;

/// `len` symmetric `T`s: the same array on every PE. Dropping it frees it collectively
/// (every PE must drop it at the same point of the program, as with `shmem_free`).
pub struct SymVec<'a, T> {
    pub(super) rt: &'a Runtime,
    pub(super) addr: usize,
    pub(super) len: usize,
    pub(super) _t: PhantomData<T>,
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

    pub(super) fn range(&self, start: usize, n: usize) -> Result<usize> {
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
                Strided {
                    dst,
                    sst,
                    size: size_of::<T>(),
                    nelems,
                },
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
                Strided {
                    dst: dstr,
                    sst,
                    size: size_of::<T>(),
                    nelems,
                },
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
                Signal {
                    addr: sig.addr,
                    value,
                    add: op == SignalOp::Add,
                },
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
        'a: 'v,
    {
        WordSet {
            base: self.addr,
            n: self.len,
            status,
            cmp,
            values,
            signed: T::SIGNED,
            progress: self.rt.progress(),
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
    pub(super) _owner: SymVec<'a, T>,
    pub(super) r: SymRef<'a, T>,
}

impl<'a, T: Pod> core::ops::Deref for SymBox<'a, T> {
    type Target = SymRef<'a, T>;
    fn deref(&self) -> &SymRef<'a, T> {
        &self.r
    }
}
