//! [`ShmemCtx`]: a communication context (`shmem_ctx_create`) in the Rust API.
use super::*;
use std::cell::Cell;

/// How a context may be shared between threads; the marker types [`Private`],
/// [`Serialized`] and [`Shared`] (sealed). The first two take no lock at all on their path
/// over verbs; Rust's `Send`/`Sync` enforce what the OpenSHMEM options leave to the program.
pub trait CtxMode: ctx_sealed::Sealed {
    /// The `SHMEM_CTX_*` option it stands for (0 for a shared context).
    const OPTIONS: i64;
    /// The marker kept in the context (it gives the context its `Send`/`Sync`).
    type Marker: Default;
}

mod ctx_sealed {
    pub trait Sealed {}
}

/// `SHMEM_CTX_PRIVATE`: used only by the thread that created it (neither `Send` nor
/// `Sync`). No lock.
#[derive(Clone, Copy, Debug, Default)]
pub struct Private;
/// `SHMEM_CTX_SERIALIZED`: never used by two threads at once (`Send`, not `Sync`: move it,
/// or put it in a mutex). No lock.
#[derive(Clone, Copy, Debug, Default)]
pub struct Serialized;
/// A context any thread may use at any time (`Send` and `Sync`): its channel has a lock of
/// its own (not the default context's).
#[derive(Clone, Copy, Debug, Default)]
pub struct Shared;

impl ctx_sealed::Sealed for Private {}
impl ctx_sealed::Sealed for Serialized {}
impl ctx_sealed::Sealed for Shared {}
impl CtxMode for Private {
    const OPTIONS: i64 = 1;
    type Marker = PhantomData<*const ()>;
}
impl CtxMode for Serialized {
    const OPTIONS: i64 = 2;
    type Marker = PhantomData<Cell<()>>;
}
impl CtxMode for Shared {
    const OPTIONS: i64 = 0;
    type Marker = ();
}

/// A communication context of this PE ([`Shmem::create_ctx`]): its operations are ordered
/// by its own [`ShmemCtx::fence`] and completed by its own [`ShmemCtx::quiet`], not by the
/// default context's (`Shmem::quiet`, `barrier_all`), and the other way round. Over verbs it
/// has its own completion queue, its own queue pair to each peer it talks to and its own
/// bounce buffer, so threads on different contexts do not contend; peers reached through
/// shared memory or TCP take the default path. Dropping it completes its operations and
/// frees its resources (`shmem_ctx_destroy`).
///
/// ```no_run
/// use rshmem::ctx::Private;
/// let shmem = rshmem::init()?;
/// let v = shmem.alloc_slice::<u64>(8)?;
/// let right = (shmem.my_pe() + 1) % shmem.n_pes();
/// std::thread::scope(|s| {
///     for t in 0..2 {
///         let (shmem, v) = (&shmem, &v);
///         s.spawn(move || {
///             // One private context per thread: no lock shared with the other thread.
///             let ctx = shmem.create_ctx(Private).unwrap();
///             ctx.put(v, right, 4 * t, &[1, 2, 3, 4]).unwrap();
///             ctx.quiet();
///         });
///     }
/// });
/// shmem.barrier_all();
/// # Ok::<(), rshmem::Error>(())
/// ```
pub struct ShmemCtx<'a, M: CtxMode = Shared> {
    rt: &'a Runtime,
    ctx: core::mem::ManuallyDrop<crate::rt::Ctx>,
    _mode: M::Marker,
}

impl Shmem {
    /// A new communication context (`shmem_ctx_create`), of mode [`Private`], [`Serialized`]
    /// or [`Shared`].
    ///
    /// ```no_run
    /// let shmem = rshmem::init()?;
    /// let ctx = shmem.create_ctx(rshmem::ctx::Serialized)?;
    /// let x = shmem.alloc(0u64)?;
    /// ctx.fetch_add(&x, 0, 1)?;
    /// ctx.quiet();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn create_ctx<M: CtxMode>(&self, _mode: M) -> Result<ShmemCtx<'_, M>> {
        // SAFETY: a private or serialized context is `!Sync`: Rust does not let two threads
        // use it at once.
        let ctx = unsafe { self.rt.ctx_create(M::OPTIONS != 0) }?;
        Ok(ShmemCtx {
            rt: &self.rt,
            ctx: core::mem::ManuallyDrop::new(ctx),
            _mode: M::Marker::default(),
        })
    }
}

impl<M: CtxMode> ShmemCtx<'_, M> {
    /// Whether the context has a transport channel of its own (over verbs).
    pub fn has_channel(&self) -> bool {
        self.ctx.has_channel()
    }

    /// The queue pairs the context has connected so far (0 without a channel).
    pub fn connected(&self) -> usize {
        self.ctx.connected()
    }

    /// Copies `src` into elements `start..` of `v` on `pe` (`shmem_ctx_put`).
    #[inline]
    pub fn put<T: Pod>(&self, v: &SymVec<'_, T>, pe: usize, start: usize, src: &[T]) -> Result<()> {
        let dest = v.range(start, src.len())?;
        // SAFETY: `src` is a live slice of `size_of_val(src)` bytes.
        unsafe {
            self.rt.ctx_put(
                &self.ctx,
                dest,
                src.as_ptr() as *const u8,
                size_of_val(src),
                pe,
                false,
            )
        }
    }

    /// Non-blocking [`ShmemCtx::put`] (`shmem_ctx_put_nbi`): complete at this context's
    /// [`ShmemCtx::quiet`].
    ///
    /// # Safety
    /// `src` must stay alive and unchanged until this context's next `quiet`.
    #[inline]
    pub unsafe fn put_nbi<T: Pod>(
        &self,
        v: &SymVec<'_, T>,
        pe: usize,
        start: usize,
        src: &[T],
    ) -> Result<()> {
        let dest = v.range(start, src.len())?;
        // SAFETY: forwarded contract.
        unsafe {
            self.rt.ctx_put(
                &self.ctx,
                dest,
                src.as_ptr() as *const u8,
                size_of_val(src),
                pe,
                true,
            )
        }
    }

    /// Copies elements `start..` of `v` on `pe` into `dst` (`shmem_ctx_get`).
    #[inline]
    pub fn get<T: Pod>(
        &self,
        v: &SymVec<'_, T>,
        pe: usize,
        start: usize,
        dst: &mut [T],
    ) -> Result<()> {
        let src = v.range(start, dst.len())?;
        // SAFETY: `dst` is a live mutable slice.
        unsafe {
            self.rt.ctx_get(
                &self.ctx,
                dst.as_mut_ptr() as *mut u8,
                src,
                size_of_val(dst),
                pe,
                false,
            )
        }
    }

    /// Non-blocking [`ShmemCtx::get`] (`shmem_ctx_get_nbi`): `dst` holds the data after this
    /// context's [`ShmemCtx::quiet`].
    ///
    /// # Safety
    /// `dst` must stay alive, and not be read, until this context's next `quiet`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let v = shmem.alloc_slice::<u32>(4)?;
    /// let ctx = shmem.create_ctx(rshmem::ctx::Private)?;
    /// let mut out = [0u32; 4];
    /// unsafe { ctx.get_nbi(&v, 0, 0, &mut out)? };
    /// ctx.quiet();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    #[inline]
    pub unsafe fn get_nbi<T: Pod>(
        &self,
        v: &SymVec<'_, T>,
        pe: usize,
        start: usize,
        dst: &mut [T],
    ) -> Result<()> {
        let src = v.range(start, dst.len())?;
        // SAFETY: forwarded contract.
        unsafe {
            self.rt.ctx_get(
                &self.ctx,
                dst.as_mut_ptr() as *mut u8,
                src,
                size_of_val(dst),
                pe,
                true,
            )
        }
    }

    /// Stores `value` into `r` on `pe` (`shmem_ctx_p`).
    #[inline]
    pub fn p<T: Pod>(&self, r: &SymRef<'_, T>, pe: usize, value: T) -> Result<()> {
        // SAFETY: `value` is a live local T.
        unsafe {
            self.rt.ctx_put(
                &self.ctx,
                r.addr,
                &value as *const T as *const u8,
                size_of::<T>(),
                pe,
                false,
            )
        }
    }

    /// Loads `r` on `pe` (`shmem_ctx_g`).
    #[inline]
    pub fn g<T: Pod>(&self, r: &SymRef<'_, T>, pe: usize) -> Result<T> {
        let mut v = T::zeroed();
        // SAFETY: `v` is a live local T.
        unsafe {
            self.rt.ctx_get(
                &self.ctx,
                &mut v as *mut T as *mut u8,
                r.addr,
                size_of::<T>(),
                pe,
                false,
            )?
        };
        Ok(v)
    }

    #[inline]
    fn amo<T: SymInt>(&self, r: &SymRef<'_, T>, op: AmoOp, pe: usize, v: T, c: T) -> Result<T> {
        self.rt
            .ctx_amo::<T::Bits>(&self.ctx, r.addr, op, v.to_bits(), c.to_bits(), pe)
            .map(T::from_bits)
    }

    /// Adds `value` to `r` on `pe`; returns the old value (`shmem_ctx_atomic_fetch_add`).
    #[inline]
    pub fn fetch_add<T: SymInt>(&self, r: &SymRef<'_, T>, pe: usize, value: T) -> Result<T> {
        self.amo(r, AmoOp::FetchAdd, pe, value, T::zeroed())
    }

    /// Adds `value` to `r` on `pe` (`shmem_ctx_atomic_add`).
    #[inline]
    pub fn add<T: SymInt>(&self, r: &SymRef<'_, T>, pe: usize, value: T) -> Result<()> {
        self.fetch_add(r, pe, value).map(|_| ())
    }

    /// Stores `value` into `r` on `pe` if it equals `cond`; returns the old value
    /// (`shmem_ctx_atomic_compare_swap`).
    #[inline]
    pub fn compare_swap<T: SymInt>(
        &self,
        r: &SymRef<'_, T>,
        pe: usize,
        cond: T,
        value: T,
    ) -> Result<T> {
        self.amo(r, AmoOp::CompareSwap, pe, value, cond)
    }

    /// Atomic load of `r` on `pe` (`shmem_ctx_atomic_fetch`).
    #[inline]
    pub fn fetch<T: SymInt>(&self, r: &SymRef<'_, T>, pe: usize) -> Result<T> {
        self.amo(r, AmoOp::Fetch, pe, T::zeroed(), T::zeroed())
    }

    /// Atomic swap of `r` on `pe` with `value`; returns the old value
    /// (`shmem_ctx_atomic_swap`).
    #[inline]
    pub fn swap<T: SymInt>(&self, r: &SymRef<'_, T>, pe: usize, value: T) -> Result<T> {
        self.amo(r, AmoOp::Swap, pe, value, T::zeroed())
    }

    /// Orders this context's puts and AMOs to each PE (`shmem_ctx_fence`).
    #[inline]
    pub fn fence(&self) {
        self.rt.ctx_fence(&self.ctx)
    }

    /// Completes every operation issued on this context (`shmem_ctx_quiet`); not the
    /// default context's, nor other contexts'.
    #[inline]
    pub fn quiet(&self) {
        self.rt.ctx_quiet(&self.ctx)
    }
}

impl<M: CtxMode> Drop for ShmemCtx<'_, M> {
    fn drop(&mut self) {
        // SAFETY: taken once, here.
        let c = unsafe { core::mem::ManuallyDrop::take(&mut self.ctx) };
        self.rt.ctx_destroy(c);
    }
}

impl<M: CtxMode> core::fmt::Debug for ShmemCtx<'_, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ShmemCtx").field("ctx", &*self.ctx).finish()
    }
}
