//! Collective allocation over the heap allocator (`crate::heap`): malloc, free, realloc,
//! buffer checks, SHMEM_DEBUG argument checks, verbs registration growth.
use super::*;
use std::cell::Cell;

/// Changes whenever any heap block is allocated, freed or resized, or a runtime starts:
/// [`Runtime::check_buffer`]'s per-thread cache of the last block it found is valid only
/// while this has not moved. (Process-wide, so a re-initialized runtime never meets a
/// cache entry of the one before.)
static HEAP_GEN: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The last heap block `check_buffer` looked up: (HEAP_GEN, start, end) as heap offsets.
    static LAST_BLOCK: Cell<(u64, usize, usize)> = const { Cell::new((0, 0, 0)) };
}

/// Invalidates every thread's cached block (called with the heap locked, after a change).
pub(super) fn heap_changed() {
    HEAP_GEN.fetch_add(1, Ordering::AcqRel);
}

impl Runtime {
    /// SHMEM_DEBUG: checks that every PE called collective `what` with the same `args`.
    fn check_collective_args(&self, what: &str, args: [u64; 2]) {
        if !self.cfg.debug || self.npes == 1 {
            return;
        }
        let slot = self.slot_addr(slots::DEBUG);
        if self.me == 0 {
            for (i, a) in args.iter().enumerate() {
                // SAFETY: our own internal debug slots, aligned u64s in segment 0.
                unsafe { u64::cpu_amo((slot + 8 * i) as *mut u64, AmoOp::Set, *a, 0) };
            }
        }
        self.barrier_all();
        let mut theirs = [0u64; 2];
        for (i, t) in theirs.iter_mut().enumerate() {
            *t = self
                .amo::<u64>(slot + 8 * i, AmoOp::Fetch, 0, 0, 0)
                .expect("PE 0 is always reachable");
        }
        self.barrier_all();
        if theirs != args {
            self.abort(
                1,
                &format!(
                    "SHMEM_DEBUG: {what} called with (size {}, alignment {}) on PE {} but (size {}, alignment {}) on PE 0; \
                     collective calls must get the same arguments on every PE",
                    args[0], args[1], self.me, theirs[0], theirs[1]
                ),
            );
        }
    }

    /// Collective allocation: same offset on every PE; barrier before returning.
    pub fn malloc(&self, size: usize, align: usize, zero: bool) -> Result<usize> {
        let r = self.malloc_no_barrier(size, align, zero);
        self.barrier_all();
        r
    }

    /// [`Runtime::malloc`] without its closing barrier (the C API's
    /// `shmem_malloc_with_hints(.., SHMEMX_MALLOC_NO_BARRIER)`): still called by every PE
    /// with the same arguments, but a PE may return before the others have allocated, so
    /// the program synchronizes before any PE accesses the block remotely.
    pub fn malloc_no_barrier(&self, size: usize, align: usize, zero: bool) -> Result<usize> {
        self.check_collective_args("shmem_malloc", [size as u64, align as u64]);
        // The allocator aligns *offsets*; every PE's heap base is a multiple of
        // `heap_align` (a power of two at least the heap's size, see init), so any alignment
        // up to that is an aligned address on every PE. A larger one cannot fit in the heap
        // anyway: refuse it (the same decision on every PE).
        let r = if align > self.heap_align {
            let size = self.heap.lock().size();
            Err(Error::BadAlloc(format!(
                "alignment {align} is larger than the symmetric heap ({size} bytes; its base is aligned to {} bytes): \
                 no block of the heap can be aligned to it; raise SHMEM_SYMMETRIC_SIZE or ask for less",
                self.heap_align
            )))
        } else {
            let mut h = self.heap.lock();
            let r = h.alloc(size, align);
            heap_changed();
            r
        };
        self.verbs_grow();
        if let Ok(off) = r {
            if zero {
                // SAFETY: the block [off, off+size) was just allocated in our heap.
                unsafe { core::ptr::write_bytes((self.heap_base + off) as *mut u8, 0, size) };
            }
        }
        r.map(|off| self.heap_base + off)
    }

    /// Collective free (barrier first, so no PE still uses the block).
    pub fn free(&self, addr: usize) -> Result<()> {
        self.barrier_all();
        let off = self.heap_offset(addr)?;
        let mut h = self.heap.lock();
        let r = h.free(off);
        heap_changed();
        r
    }

    /// Collective resize; the contents up to the smaller size are kept.
    pub fn realloc(&self, addr: usize, size: usize) -> Result<usize> {
        self.check_collective_args("shmem_realloc", [size as u64, 0]);
        self.barrier_all();
        let off = self.heap_offset(addr)?;
        let r = {
            let mut h = self.heap.lock();
            let r = h.realloc(off, size);
            heap_changed();
            r
        };
        self.verbs_grow();
        if let Ok((new, Some(n))) = r {
            // SAFETY: both blocks lie in our heap; the old one is free but untouched since
            // (allocation metadata lives outside the heap); they may overlap, hence `copy`.
            unsafe {
                core::ptr::copy(
                    (self.heap_base + off) as *const u8,
                    (self.heap_base + new) as *mut u8,
                    n,
                )
            };
        }
        self.barrier_all();
        r.map(|(new, _)| self.heap_base + new)
    }

    /// Verbs: registers the chunks the heap's high-water mark now reaches and publishes
    /// their rkeys (`rshmem-mr<generation>`). Collective: every PE's allocator makes the same
    /// decision. Nobody reads the others' records here: a PE fetches a peer's records when
    /// it first addresses a chunk whose key it lacks (`Runtime::peer_key`), so a growth costs
    /// O(1) per PE (a put and the barrier), not a read of every PE's record.
    fn verbs_grow(&self) {
        let Some(v) = &self.verbs else { return };
        let in_use = INTERNAL_BYTES + self.heap.lock().high_water();
        let rec = match v.grow(in_use) {
            Ok(Some(rec)) => rec,
            Ok(None) => return,
            Err(e) => self.abort(1, &e.to_string()),
        };
        let gen = self.verbs_gen.load(Ordering::Relaxed);
        let key = format!("rshmem-mr{gen}");
        let mut kvs = self.kvs.lock();
        // The barrier: every PE's record is readable before any PE uses the new memory.
        let r = bootstrap::put(&mut **kvs, &key, &rec).and_then(|_| kvs.barrier());
        drop(kvs);
        if let Err(e) = r {
            self.abort(1, &format!("registering more symmetric heap for RDMA: {e}"));
        }
        self.verbs_gen.store(gen + 1, Ordering::Release);
    }

    fn heap_offset(&self, addr: usize) -> Result<usize> {
        let (base, len) = (self.heap_base, self.heap.lock().size());
        if addr < base || addr >= base + len {
            return Err(Error::BadAlloc(format!(
                "address {addr:#x} is not in the symmetric heap ({base:#x}..{:#x}); it was not returned by shmem_malloc",
                base + len
            )));
        }
        Ok(addr - base)
    }

    /// Bytes free in the heap and its size (for diagnostics).
    pub fn heap_stats(&self) -> (usize, usize) {
        let h = self.heap.lock();
        (h.free_bytes(), h.size())
    }
}

impl Runtime {
    /// Checks that the local symmetric buffer `[addr, addr+len)` lies inside one heap
    /// allocation (the live block containing `addr`), or inside one segment of global
    /// variables: [`Error::BufferTooSmall`] naming `call`, `buffer` and the sizes, or
    /// [`Error::NotSymmetric`] when `addr` is in no live allocation. Collectives check their
    /// buffers with this, so that a `dest` smaller than the result cannot overwrite the
    /// next allocation. Takes the heap lock: not for the hot path.
    pub fn check_buffer(
        &self,
        call: &'static str,
        buffer: &'static str,
        addr: usize,
        len: usize,
    ) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        let (region, start, end) = match self.translate(addr, 1) {
            Ok((0, off)) if off >= INTERNAL_BYTES => {
                // The collectives check their buffers on every call: the block found last
                // by this thread answers without the heap's lock while no block changed.
                let hoff = off - INTERNAL_BYTES;
                let gen = HEAP_GEN.load(Ordering::Acquire);
                let (cgen, cs, ce) = LAST_BLOCK.with(Cell::get);
                let found = if cgen == gen && cs <= hoff && hoff < ce {
                    Some((cs, ce))
                } else {
                    let f = self.heap.lock().block_containing(hoff);
                    if let Some((s, e)) = f {
                        LAST_BLOCK.with(|c| c.set((gen, s, e)));
                    }
                    f
                };
                match found {
                    Some((s, e)) => (
                        "symmetric allocation",
                        self.heap_base + s,
                        self.heap_base + e,
                    ),
                    None => return Err(self.not_allocated(call, buffer, addr)),
                }
            }
            Ok((0, _)) => return Err(self.not_allocated(call, buffer, addr)),
            Ok((seg, _)) => {
                let s = self.segs[seg];
                ("segment of global variables", s.base, s.base + s.len)
            }
            Err(_) => return self.translate(addr, len).map(|_| ()),
        };
        let room = end - addr;
        if len <= room {
            Ok(())
        } else {
            Err(Error::BufferTooSmall {
                call,
                buffer,
                addr,
                need: len,
                room,
                region,
                start,
                len: end - start,
            })
        }
    }

    fn not_allocated(&self, call: &'static str, buffer: &'static str, addr: usize) -> Error {
        Error::BadAlloc(format!(
            "{call}: {buffer} ({addr:#x}) is inside the symmetric segment but in no live allocation \
             (freed, or never returned by shmem_malloc)"
        ))
    }
}
