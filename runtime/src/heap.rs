//! The symmetric heap allocator: offsets only, no memory.
//!
//! Every PE runs the same sequence of collective calls, so a deterministic allocator gives
//! every PE the same offset for the same object: symmetric addresses are `heap base + offset`
//! on each PE. First fit by address with coalescing; blocks are multiples of
//! [`GRANULE`] and at least [`GRANULE`]-aligned. Metadata lives in this process, never in
//! the heap, so a remote PE's stray put cannot corrupt it.
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Allocation granule and minimum alignment (what `malloc` promises for any type).
pub const GRANULE: usize = 16;

/// The symmetric heap size a PE gets when neither `SHMEM_SYMMETRIC_SIZE` nor
/// `SMA_SYMMETRIC_SIZE` is set, and why ([`default_size`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultSize {
    /// Bytes (a power of two).
    pub bytes: usize,
    /// How it was derived, for `SHMEM_INFO` and `rshmem-info`.
    pub why: String,
}

/// Smallest default heap, whatever the machine.
pub const MIN_DEFAULT_SIZE: usize = 32 << 20;
/// Largest default heap.
pub const MAX_DEFAULT_SIZE: usize = 1 << 40;
/// Address space (bytes) the default lets the symmetric segments of one process use: half
/// of x86-64's 47-bit user space. Each PE maps its own segment (reserving twice its size
/// for a moment, for alignment) and every same-node peer's.
const ADDRESS_BUDGET: usize = 1 << 46;

/// The default symmetric heap size for a PE that shares its node with `local_pes` PEs
/// (itself included). The heap is only address space until touched, but what is touched
/// lives in `/dev/shm` (tmpfs, memory): the default is what each local PE may touch if all
/// do, `min(physical memory, size of /dev/shm) / local_pes`, also capped by the address
/// space (`ulimit -v`, and [`ADDRESS_BUDGET`]) that `local_pes + 1` segments need; rounded
/// down to a power of two (so nodes of similar size agree, and no alignment space is
/// wasted), between [`MIN_DEFAULT_SIZE`] and [`MAX_DEFAULT_SIZE`].
pub fn default_size(local_pes: usize) -> DefaultSize {
    let local = local_pes.max(1);
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let phys = if pages > 0 && page > 0 {
        (pages as usize).saturating_mul(page as usize)
    } else {
        usize::MAX
    };
    let shm = shm_total().unwrap_or(usize::MAX);
    let mut limit = ADDRESS_BUDGET;
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` is a valid out-parameter.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut rl) } == 0
        && rl.rlim_cur != libc::RLIM_INFINITY
    {
        limit = limit.min(rl.rlim_cur as usize / 2);
    }
    let by_memory = phys.min(shm) / local;
    let by_address = limit / (local + 2);
    let want = by_memory.min(by_address);
    let pow2 = if want == 0 {
        0
    } else {
        1usize << (usize::BITS - 1 - want.leading_zeros())
    };
    let bytes = pow2.clamp(MIN_DEFAULT_SIZE, MAX_DEFAULT_SIZE);
    let why = format!(
        "min(physical memory {}, /dev/shm {}) / {local} PE{} on this node = {}, address space {} per PE; \
         rounded down to a power of two, within {}..{}",
        human(phys),
        if shm == usize::MAX { "unknown".to_string() } else { human(shm) },
        if local > 1 { "s" } else { "" },
        human(by_memory),
        human(by_address),
        human(MIN_DEFAULT_SIZE),
        human(MAX_DEFAULT_SIZE),
    );
    DefaultSize { bytes, why }
}

/// Total size of `/dev/shm` (what tmpfs lets all processes touch together).
pub fn shm_total() -> Option<usize> {
    // SAFETY: all-zero is a valid statvfs.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid C string and out-parameter.
    if unsafe { libc::statvfs(c"/dev/shm".as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_blocks as usize).saturating_mul(st.f_frsize as usize))
}

/// First-fit allocator over `[0, size)`.
#[derive(Debug, Clone)]
pub struct HeapAllocator {
    size: usize,
    /// Free blocks: offset → length, never adjacent (coalesced).
    free: BTreeMap<usize, usize>,
    /// Live blocks: offset → length (rounded to the granule).
    used: BTreeMap<usize, usize>,
    high_water: usize,
}

fn round_up(n: usize, a: usize) -> Option<usize> {
    n.checked_add(a - 1).map(|v| v & !(a - 1))
}

fn human(bytes: usize) -> String {
    let units = [("T", 40), ("G", 30), ("M", 20), ("K", 10)];
    for (u, s) in units {
        if bytes >= 1 << s {
            return format!("{}{u}", bytes.div_ceil(1 << s));
        }
    }
    bytes.to_string()
}

impl HeapAllocator {
    /// An empty heap of `size` bytes (rounded down to the granule).
    pub fn new(size: usize) -> Self {
        let size = size & !(GRANULE - 1);
        let mut free = BTreeMap::new();
        if size > 0 {
            free.insert(0, size);
        }
        Self {
            size,
            free,
            used: BTreeMap::new(),
            high_water: 0,
        }
    }

    /// Heap size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes not allocated.
    pub fn free_bytes(&self) -> usize {
        self.free.values().sum()
    }

    /// Largest free block.
    pub fn largest_free(&self) -> usize {
        self.free.values().copied().max().unwrap_or(0)
    }

    /// One past the highest byte ever allocated (for transports that register memory lazily).
    pub fn high_water(&self) -> usize {
        self.high_water
    }

    /// The live block at `offset` and its (rounded) length.
    pub fn block_len(&self, offset: usize) -> Option<usize> {
        self.used.get(&offset).copied()
    }

    /// The live block that contains `offset`: its first offset and one past its last byte
    /// (the length is the allocation's, rounded up to [`GRANULE`]). `None` when `offset`
    /// is in no live block (free space, freed memory, past the heap). For argument checks
    /// of collectives, whose destination must hold the whole result.
    ///
    /// ```
    /// let mut h = rshmem::heap::HeapAllocator::new(1 << 20);
    /// let a = h.alloc(40, 16).unwrap();
    /// assert_eq!(h.block_containing(a + 20), Some((a, a + 48)));
    /// assert_eq!(h.block_containing(a + 48), None);
    /// ```
    pub fn block_containing(&self, offset: usize) -> Option<(usize, usize)> {
        let (&start, &len) = self.used.range(..=offset).next_back()?;
        (offset - start < len).then_some((start, start + len))
    }

    fn exhausted(&self, requested: usize, align: usize) -> Error {
        // Saturating: `requested` may be anything a program passed (up to usize::MAX).
        let need = (self.size - self.free_bytes())
            .saturating_add(requested)
            .saturating_add(align);
        Error::HeapExhausted {
            requested,
            align,
            heap_size: self.size,
            free: self.free_bytes(),
            largest: self.largest_free(),
            suggest: human(need.max(self.size.saturating_mul(2))),
        }
    }

    /// Allocates `size` bytes aligned to `align` (a power of two; raised to [`GRANULE`]).
    /// A zero size allocates one granule, so every allocation has a distinct offset.
    pub fn alloc(&mut self, size: usize, align: usize) -> Result<usize> {
        if !align.is_power_of_two() {
            return Err(Error::BadAlloc(format!(
                "alignment {align} is not a power of two"
            )));
        }
        let align = align.max(GRANULE);
        let len = round_up(size.max(1), GRANULE).ok_or_else(|| self.exhausted(size, align))?;
        let found = self.free.iter().find_map(|(&off, &blen)| {
            let start = round_up(off, align)?;
            (start.checked_add(len)? <= off + blen).then_some((off, blen, start))
        });
        let (off, blen, start) = found.ok_or_else(|| self.exhausted(size, align))?;
        self.free.remove(&off);
        if start > off {
            self.free.insert(off, start - off);
        }
        let end = start + len;
        if end < off + blen {
            self.free.insert(end, off + blen - end);
        }
        self.used.insert(start, len);
        self.high_water = self.high_water.max(end);
        Ok(start)
    }

    /// Frees the block at `offset`.
    pub fn free(&mut self, offset: usize) -> Result<()> {
        let len = self.used.remove(&offset).ok_or_else(|| {
            Error::BadAlloc(format!(
                "offset {offset:#x} is not the start of a live symmetric allocation (double free?)"
            ))
        })?;
        self.insert_free(offset, len);
        Ok(())
    }

    fn insert_free(&mut self, mut off: usize, mut len: usize) {
        if let Some((&poff, &plen)) = self.free.range(..off).next_back() {
            if poff + plen == off {
                self.free.remove(&poff);
                off = poff;
                len += plen;
            }
        }
        if let Some(&nlen) = self.free.get(&(off + len)) {
            self.free.remove(&(off + len));
            len += nlen;
        }
        self.free.insert(off, len);
    }

    /// Resizes the block at `offset`: grows or shrinks in place when it can, otherwise
    /// moves it. Returns the new offset and how many bytes of the old block to copy if it
    /// moved (`None` when it stayed put).
    pub fn realloc(&mut self, offset: usize, size: usize) -> Result<(usize, Option<usize>)> {
        let old = self.used.get(&offset).copied().ok_or_else(|| {
            Error::BadAlloc(format!(
                "offset {offset:#x} is not the start of a live symmetric allocation"
            ))
        })?;
        let len = round_up(size.max(1), GRANULE).ok_or_else(|| self.exhausted(size, GRANULE))?;
        if len <= old {
            if len < old {
                self.used.insert(offset, len);
                self.insert_free(offset + len, old - len);
            }
            return Ok((offset, None));
        }
        let next = offset + old;
        if let Some(&flen) = self.free.get(&next) {
            if old + flen >= len {
                self.free.remove(&next);
                if old + flen > len {
                    self.free.insert(offset + len, old + flen - len);
                }
                self.used.insert(offset, len);
                self.high_water = self.high_water.max(offset + len);
                return Ok((offset, None));
            }
        }
        let new = self.alloc(size, GRANULE)?;
        self.free(offset)?;
        Ok((new, Some(old.min(len))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn block_containing_finds_the_live_block() {
        let mut h = HeapAllocator::new(1 << 20);
        let a = h.alloc(10, 1).unwrap();
        let b = h.alloc(100, 64).unwrap();
        assert_eq!(h.block_containing(a), Some((a, a + 16)));
        assert_eq!(h.block_containing(a + 15), Some((a, a + 16)));
        assert_eq!(h.block_containing(b + 99), Some((b, b + 112)));
        assert_eq!(h.block_containing(b + 112), None, "past the last block");
        assert_eq!(
            h.block_containing(a + 16),
            None,
            "the alignment gap before b"
        );
        let (b2, _) = h.realloc(b, 20).unwrap();
        assert_eq!(
            h.block_containing(b2 + 20),
            Some((b2, b2 + 32)),
            "shrunk in place"
        );
        assert_eq!(h.block_containing(b2 + 40), None);
        h.free(a).unwrap();
        assert_eq!(h.block_containing(a), None, "freed");
    }

    #[test]
    fn basic_alloc_free_coalesce() {
        let mut h = HeapAllocator::new(1 << 20);
        let a = h.alloc(10, 1).unwrap();
        let b = h.alloc(100, 64).unwrap();
        let c = h.alloc(0, 1).unwrap();
        assert_eq!(a, 0);
        assert_eq!(b % 64, 0);
        assert_eq!(c, 16, "first fit reuses the alignment gap before b");
        h.free(b).unwrap();
        h.free(a).unwrap();
        h.free(c).unwrap();
        assert_eq!(h.free_bytes(), 1 << 20);
        assert_eq!(h.largest_free(), 1 << 20);
        assert!(h.free(a).unwrap_err().to_string().contains("double free"));
    }

    #[test]
    fn exhaustion_message() {
        let mut h = HeapAllocator::new(1 << 20);
        h.alloc(1000, 1).unwrap();
        let e = h.alloc(2 << 20, 1).unwrap_err().to_string();
        assert!(
            e.contains("2097152 bytes")
                && e.contains("1048576 bytes")
                && e.contains("SHMEM_SYMMETRIC_SIZE"),
            "{e}"
        );
        assert!(e.contains("1047568 bytes free"), "{e}");
        assert!(h
            .alloc(1, 3)
            .unwrap_err()
            .to_string()
            .contains("power of two"));
    }

    #[test]
    fn default_size_is_a_power_of_two_that_shrinks_with_local_pes() {
        let one = default_size(1);
        let eight = default_size(8);
        for d in [&one, &eight] {
            assert!(d.bytes.is_power_of_two(), "{d:?}");
            assert!(
                (MIN_DEFAULT_SIZE..=MAX_DEFAULT_SIZE).contains(&d.bytes),
                "{d:?}"
            );
            assert!(d.why.contains("/dev/shm"), "{d:?}");
        }
        assert!(eight.bytes <= one.bytes, "{one:?} {eight:?}");
        if let Some(shm) = shm_total() {
            assert!(
                eight.bytes == MIN_DEFAULT_SIZE || eight.bytes * 8 <= shm,
                "{eight:?}"
            );
        }
    }

    #[test]
    fn exhaustion_hint_does_not_overflow() {
        let mut h = HeapAllocator::new(1 << 20);
        h.alloc(1000, 1).unwrap();
        for (size, align) in [
            (usize::MAX, 16),
            (usize::MAX - 64, 1 << 20),
            (1 << 62, 1 << 62),
        ] {
            let e = h.alloc(size, align).unwrap_err().to_string();
            assert!(e.contains(&format!("cannot allocate {size} bytes")), "{e}");
        }
        let a = h.alloc(16, 1).unwrap();
        assert!(h.realloc(a, usize::MAX).is_err());
    }

    #[test]
    fn realloc_in_place_and_moving() {
        let mut h = HeapAllocator::new(4096);
        let a = h.alloc(32, 1).unwrap();
        assert_eq!(h.realloc(a, 64).unwrap(), (a, None));
        let b = h.alloc(16, 1).unwrap();
        let (a2, moved) = h.realloc(a, 128).unwrap();
        assert_ne!(a2, a);
        assert_eq!(moved, Some(64));
        assert_eq!(h.realloc(a2, 16).unwrap(), (a2, None));
        h.free(b).unwrap();
        h.free(a2).unwrap();
        assert_eq!(h.free_bytes(), 4096);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Alloc(usize, u32),
        Free(usize),
        Realloc(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..5000, 0u32..10).prop_map(|(s, a)| Op::Alloc(s, a)),
            (0usize..64).prop_map(Op::Free),
            (0usize..64, 0usize..5000).prop_map(|(i, s)| Op::Realloc(i, s)),
        ]
    }

    proptest! {
        #[test]
        fn invariants_hold_and_allocation_is_deterministic(ops in proptest::collection::vec(op(), 1..200)) {
            let mut h = HeapAllocator::new(64 << 10);
            let mut twin = HeapAllocator::new(64 << 10);
            let mut live: Vec<(usize, usize)> = Vec::new();
            for o in ops {
                match o {
                    Op::Alloc(s, a) => {
                        let r = h.alloc(s, 1 << a);
                        prop_assert_eq!(r.as_ref().ok().copied(), twin.alloc(s, 1 << a).ok());
                        if let Ok(off) = r {
                            prop_assert_eq!(off % (1usize << a).max(GRANULE), 0);
                            live.push((off, s.max(1)));
                        }
                    }
                    Op::Free(i) if !live.is_empty() => {
                        let (off, _) = live.remove(i % live.len());
                        h.free(off).unwrap();
                        twin.free(off).unwrap();
                    }
                    Op::Realloc(i, s) if !live.is_empty() => {
                        let k = i % live.len();
                        let r = h.realloc(live[k].0, s);
                        prop_assert_eq!(r.as_ref().ok().copied(), twin.realloc(live[k].0, s).ok());
                        if let Ok((off, _)) = r { live[k] = (off, s.max(1)); }
                    }
                    _ => {}
                }
                // no overlap, inside the heap, accounting adds up
                let mut sorted = live.clone();
                sorted.sort();
                for w in sorted.windows(2) {
                    prop_assert!(w[0].0 + w[0].1 <= w[1].0);
                }
                if let Some(last) = sorted.last() { prop_assert!(last.0 + last.1 <= h.size()); }
                let used: usize = live.iter().map(|&(o, _)| h.block_len(o).unwrap()).sum();
                prop_assert_eq!(used + h.free_bytes(), h.size());
            }
            for (off, _) in live { h.free(off).unwrap(); }
            prop_assert_eq!(h.largest_free(), h.size());
        }
    }
}
