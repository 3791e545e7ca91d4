//! [`SymLock`]: the symmetric MCS lock and its guard.
use super::*;

/// A symmetric lock (`shmem_set_lock`/`shmem_test_lock`/`shmem_clear_lock`): fair (FIFO),
/// queue-based, and waiting PEs spin only on their own memory.
pub struct SymLock<'a> {
    pub(super) word: SymVec<'a, u64>,
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
