//! Point-to-point synchronization over arrays of local symmetric words
//! (`wait_until{,_all,_any,_some}{,_vector}` and the `test` forms), shared by the Rust and C
//! APIs.
use crate::wait::{Backoff, Cmp};
use rshmem_transport::{AmoOp, AmoWord};

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
}

impl<W: AmoWord> WordSet<'_, W> {
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
        // SAFETY: the API layers check that [base, base + n*SIZE) is local symmetric memory.
        let cur = unsafe { W::cpu_amo((self.base + i * W::SIZE) as *mut W, AmoOp::Fetch, v, v) };
        self.cmp.holds(cur, v, self.signed)
    }

    /// Whether every included element satisfies the comparison (true if none is included).
    pub fn test_all(&self) -> bool {
        crate::rt::progress();
        (0..self.n)
            .filter(|&i| self.included(i))
            .all(|i| self.holds(i))
    }

    /// An included element that satisfies it, if any.
    pub fn test_any(&self) -> Option<usize> {
        crate::rt::progress();
        (0..self.n)
            .filter(|&i| self.included(i))
            .find(|&i| self.holds(i))
    }

    /// Every included element that satisfies it, appended to `out`; returns how many.
    pub fn test_some(&self, out: &mut Vec<usize>) -> usize {
        crate::rt::progress();
        let before = out.len();
        out.extend((0..self.n).filter(|&i| self.included(i) && self.holds(i)));
        out.len() - before
    }

    fn any_included(&self) -> bool {
        (0..self.n).any(|i| self.included(i))
    }

    /// Waits until every included element satisfies the comparison.
    pub fn wait_all(&self) {
        let mut b = Backoff::new();
        while !self.test_all() {
            b.snooze();
        }
    }

    /// Waits until some included element satisfies it; `None` if all are excluded.
    pub fn wait_any(&self) -> Option<usize> {
        if !self.any_included() {
            return None;
        }
        let mut b = Backoff::new();
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
        let mut b = Backoff::new();
        loop {
            let k = self.test_some(out);
            if k > 0 {
                return k;
            }
            b.snooze();
        }
    }
}
