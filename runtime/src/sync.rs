//! Point-to-point synchronization over arrays of local symmetric words
//! (`wait_until{,_all,_any,_some}{,_vector}` and the `test` forms), shared by the Rust and C
//! APIs.
use crate::wait::{Backoff, Cmp, Progress};
use core::cell::Cell;
use rshmem_transport::{AmoOp, AmoWord};

/// A word that point-to-point synchronization reads: the transport's 4- and 8-byte
/// [`AmoWord`]s, and [`Half`] (2 bytes, for C `short`/`unsigned short`). Waiting only
/// needs an atomic *load* of the word, which every aligned 2/4/8-byte word has.
pub trait SyncWord: Copy + core::fmt::Debug {
    /// Size in bytes.
    const SIZE: usize;
    /// One atomic load of the word at `addr`.
    ///
    /// # Safety
    /// `addr` is valid for reads of `Self` and aligned to `SIZE`.
    unsafe fn load(addr: usize) -> Self;
    /// The value as an integer, sign-extended from its width when `signed`.
    fn widen(self, signed: bool) -> i128;
}

impl<W: AmoWord> SyncWord for W {
    const SIZE: usize = W::SIZE;
    #[inline(always)]
    unsafe fn load(addr: usize) -> Self {
        let z = W::from_u64(0);
        // SAFETY: forwarded contract; `Fetch` is an atomic load.
        unsafe { W::cpu_amo(addr as *mut W, AmoOp::Fetch, z, z) }
    }
    #[inline(always)]
    fn widen(self, signed: bool) -> i128 {
        let u = self.to_u64();
        match (signed, W::SIZE) {
            (true, 4) => u as u32 as i32 as i128,
            (true, _) => u as i64 as i128,
            (false, _) => u as i128,
        }
    }
}

/// A 2-byte word (C `short`, `unsigned short`): waited on with 16-bit atomic loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct Half(pub u16);

impl SyncWord for Half {
    const SIZE: usize = 2;
    #[inline(always)]
    unsafe fn load(addr: usize) -> Self {
        // SAFETY: forwarded contract (valid, 2-byte aligned); every racing access to the
        // word is atomic or a single aligned store of its width (`shm::copy_bytes`).
        Half(
            unsafe { core::sync::atomic::AtomicU16::from_ptr(addr as *mut u16) }
                .load(core::sync::atomic::Ordering::SeqCst),
        )
    }
    #[inline(always)]
    fn widen(self, signed: bool) -> i128 {
        if signed {
            self.0 as i16 as i128
        } else {
            self.0 as i128
        }
    }
}

/// How many arrays' fairness cursors a thread remembers (see [`Cursors`]).
const CURSORS: usize = 16;

/// Per-thread fairness cursors of `test_any`/`wait_until_any`: for each of the last
/// [`CURSORS`] arrays (keyed by base address and length) the index the thread's last call
/// on it returned. The next scan of that array starts after it, so that a series of calls
/// returns every index whose condition holds (the specification's fairness rule), even
/// when calls on several arrays are interleaved. A fixed table in a `const` thread-local:
/// no lock, no allocation; a new array replaces the entries round-robin.
struct Cursors {
    /// `(base, n, last index returned)`; `n == 0` marks an empty slot.
    slots: [Cell<(usize, usize, usize)>; CURSORS],
    /// The slot the next new array replaces.
    next: Cell<usize>,
}

impl Cursors {
    /// The index after which a scan of the array `(base, n)` starts, if remembered.
    fn last(&self, base: usize, n: usize) -> Option<usize> {
        self.slots.iter().find_map(|c| {
            let (b, m, last) = c.get();
            (b == base && m == n && m != 0).then_some(last)
        })
    }

    /// Records that a call on `(base, n)` returned `index`.
    fn set(&self, base: usize, n: usize, index: usize) {
        let slot = match self.slots.iter().find(|c| {
            let (b, m, _) = c.get();
            b == base && m == n
        }) {
            Some(c) => c,
            None => {
                let k = self.next.get();
                self.next.set((k + 1) % CURSORS);
                &self.slots[k]
            }
        };
        slot.set((base, n, index));
    }
}

thread_local! {
    static LAST_ANY: Cursors = const {
        Cursors {
            slots: [const { Cell::new((0, 0, 0)) }; CURSORS],
            next: Cell::new(0),
        }
    };
}

/// The value(s) to compare against: one for every element, or one per element.
#[derive(Clone, Copy, Debug)]
pub enum Values<'v, W> {
    /// The same value for every element.
    One(W),
    /// `values[i]` for element `i`.
    Each(&'v [W]),
}

/// `n` consecutive words at local symmetric address `base`, with an optional status mask
/// (a non-zero `status[i]` excludes element `i`).
#[derive(Clone, Copy, Debug)]
pub struct WordSet<'v, W> {
    /// Address of element 0.
    pub base: usize,
    /// Number of elements.
    pub n: usize,
    /// Exclusion mask.
    pub status: Option<&'v [i32]>,
    /// Comparison.
    pub cmp: Cmp,
    /// Values compared against.
    pub values: Values<'v, W>,
    /// Compare as signed integers.
    pub signed: bool,
    /// What the tests poll and the waits snooze on (`Runtime::progress`).
    pub progress: &'v Progress,
}

impl<W: SyncWord> WordSet<'_, W> {
    fn included(&self, i: usize) -> bool {
        self.status
            .is_none_or(|s| s.get(i).copied().unwrap_or(0) == 0)
    }

    #[inline]
    fn holds(&self, i: usize) -> bool {
        let v = match self.values {
            Values::One(v) => v,
            Values::Each(vs) => vs[i],
        };
        // SAFETY: the API layers check that [base, base + n*SIZE) is local symmetric memory,
        // aligned.
        let cur = unsafe { W::load(self.base + i * W::SIZE) };
        self.cmp
            .holds_wide(cur.widen(self.signed), v.widen(self.signed))
    }

    /// Whether every included element satisfies the comparison: true when `n` is 0, false
    /// when `status` excludes all of `n > 0` elements (the specification's `shmem_test_all`:
    /// "If all elements in status are set to 1 or nelems is 0, the test set is empty and
    /// this routine returns 0", and its return values: 1 "if all variables in ivars satisfy
    /// the test condition or if nelems is 0, otherwise" 0).
    pub fn test_all(&self) -> bool {
        self.progress.poll();
        let mut included = false;
        for i in (0..self.n).filter(|&i| self.included(i)) {
            if !self.holds(i) {
                return false;
            }
            included = true;
        }
        included || self.n == 0
    }

    /// An included element that satisfies it, if any. The scan starts after the index this
    /// thread's previous call on the same array (base address and length) returned
    /// (wrapping), so successive calls cycle through all the elements that satisfy it,
    /// also when calls on other arrays come in between.
    pub fn test_any(&self) -> Option<usize> {
        self.progress.poll();
        if self.n == 0 {
            return None;
        }
        let last = LAST_ANY.with(|c| c.last(self.base, self.n));
        let start = match last {
            Some(l) if l + 1 < self.n => l + 1,
            _ => 0,
        };
        let found = (start..self.n)
            .chain(0..start)
            .find(|&i| self.included(i) && self.holds(i));
        if let Some(i) = found {
            LAST_ANY.with(|c| c.set(self.base, self.n, i));
        }
        found
    }

    /// Every included element that satisfies it, appended to `out`; returns how many.
    pub fn test_some(&self, out: &mut Vec<usize>) -> usize {
        self.progress.poll();
        let before = out.len();
        out.extend((0..self.n).filter(|&i| self.included(i) && self.holds(i)));
        out.len() - before
    }

    fn any_included(&self) -> bool {
        (0..self.n).any(|i| self.included(i))
    }

    /// Waits until every included element satisfies the comparison; returns at once when
    /// none is included.
    pub fn wait_all(&self) {
        if !self.any_included() {
            return;
        }
        let mut b = Backoff::new(self.progress);
        while !self.test_all() {
            b.snooze();
        }
    }

    /// Waits until some included element satisfies it; `None` if all are excluded.
    pub fn wait_any(&self) -> Option<usize> {
        if !self.any_included() {
            return None;
        }
        let mut b = Backoff::new(self.progress);
        loop {
            if let Some(i) = self.test_any() {
                return Some(i);
            }
            b.snooze();
        }
    }

    /// Waits until at least one included element satisfies it; appends all that do.
    pub fn wait_some(&self, out: &mut Vec<usize>) -> usize {
        if !self.any_included() {
            return 0;
        }
        let mut b = Backoff::new(self.progress);
        loop {
            let k = self.test_some(out);
            if k > 0 {
                return k;
            }
            b.snooze();
        }
    }
}
