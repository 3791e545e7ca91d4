//! Point-to-point synchronization helpers: comparisons and the waiting policy.
use rshmem_transport::AmoWord;

/// The comparisons of `shmem_wait_until` and `shmem_test` (`SHMEM_CMP_*`).
///
/// ```
/// use rshmem::Cmp;
/// assert!(Cmp::Lt.holds::<u64>(-1i64 as u64, 0, true)); // signed: -1 < 0
/// assert_eq!(Cmp::from_c(3), Some(Cmp::Ge));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Cmp {
    /// `==`
    Eq = 0,
    /// `!=`
    Ne = 1,
    /// `>`
    Gt = 2,
    /// `>=`
    Ge = 3,
    /// `<`
    Lt = 4,
    /// `<=`
    Le = 5,
}

impl Cmp {
    /// The comparison for a `SHMEM_CMP_*` constant.
    pub fn from_c(v: i32) -> Option<Self> {
        Some(match v {
            0 => Cmp::Eq,
            1 => Cmp::Ne,
            2 => Cmp::Gt,
            3 => Cmp::Ge,
            4 => Cmp::Lt,
            5 => Cmp::Le,
            _ => return None,
        })
    }

    /// Whether `a cmp b` holds, comparing as signed integers of `W`'s width when `signed`.
    #[inline(always)]
    pub fn holds<W: AmoWord>(self, a: W, b: W, signed: bool) -> bool {
        let widen = |v: W| -> i128 {
            let u = v.to_u64();
            match (signed, W::SIZE) {
                (true, 4) => u as u32 as i32 as i128,
                (true, _) => u as i64 as i128,
                (false, _) => u as i128,
            }
        };
        self.holds_wide(widen(a), widen(b))
    }

    /// Whether `a cmp b` holds for integers already widened from their type.
    #[inline(always)]
    pub fn holds_wide(self, a: i128, b: i128) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
        }
    }
}

/// Spin briefly, then yield the CPU on every retry: jobs run 4–8 PEs on 2 cores, and a
/// waiting PE must leave the core to the PE it waits for.
///
/// ```
/// let mut b = rshmem::wait::Backoff::new();
/// let start = std::time::Instant::now();
/// while start.elapsed().as_micros() < 10 {
///     b.snooze();
/// }
/// ```
#[derive(Debug, Default)]
pub struct Backoff {
    n: u32,
}

/// Busy-wait iterations before the first yield.
const SPINS: u32 = 128;

impl Backoff {
    /// A fresh policy.
    pub fn new() -> Self {
        Self { n: 0 }
    }

    /// Waits a little.
    #[inline]
    pub fn snooze(&mut self) {
        crate::rt::progress();
        if self.n < SPINS {
            self.n += 1;
            core::hint::spin_loop();
        } else {
            crate::rt::check_exit_request();
            std::thread::yield_now();
        }
    }
}

impl Drop for Backoff {
    /// A wait that yielded told its peers it was waiting (`rt::waiting`): it is over.
    #[inline]
    fn drop(&mut self) {
        if self.n >= SPINS {
            crate::rt::wait_done();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_and_unsigned_comparisons() {
        assert!(Cmp::Lt.holds::<u32>(-1i32 as u32, 0, true));
        assert!(!Cmp::Lt.holds::<u32>(-1i32 as u32, 0, false));
        assert!(Cmp::Gt.holds::<u64>(-1i64 as u64, 5, false));
        assert!(Cmp::Le.holds::<u64>(-7i64 as u64, -7i64 as u64, true));
        assert!(Cmp::Ne.holds::<u64>(1, 2, true) && Cmp::Eq.holds::<u64>(2, 2, true));
        assert!(Cmp::Ge.holds::<u32>(3, 3, false));
        assert_eq!(Cmp::from_c(5), Some(Cmp::Le));
        assert_eq!(Cmp::from_c(6), None);
    }
}
