//! N simulated PEs in one process: symmetric memory is one byte array per PE (atomic
//! bytes, so racy algorithms are still defined behaviour and show up as wrong results),
//! signal slots are `AtomicU64`s.

use crate::{CollOps, SyncOps};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::*};

pub(crate) struct World {
    pub n: usize,
    mem: Vec<Vec<AtomicU8>>,
    sig: Vec<Vec<AtomicU64>>,
    /// Set when a PE panicked, so that the others stop waiting instead of hanging.
    failed: AtomicBool,
}

impl World {
    pub fn new(n: usize, mem_bytes: usize, slots: usize) -> Self {
        Self {
            n,
            mem: (0..n)
                .map(|_| (0..mem_bytes).map(|_| AtomicU8::new(0)).collect())
                .collect(),
            sig: (0..n)
                .map(|_| (0..slots).map(|_| AtomicU64::new(0)).collect())
                .collect(),
            failed: AtomicBool::new(false),
        }
    }

    /// Runs `f` on every PE, one thread each.
    pub fn run<F: Fn(&Pe) + Sync>(&self, f: F) {
        std::thread::scope(|s| {
            for me in 0..self.n {
                let f = &f;
                s.spawn(move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        f(&Pe { me, w: self })
                    }));
                    if let Err(e) = r {
                        self.failed.store(true, SeqCst);
                        std::panic::resume_unwind(e);
                    }
                });
            }
        });
    }
}

pub(crate) struct Pe<'a> {
    pub me: usize,
    w: &'a World,
}

impl SyncOps for Pe<'_> {
    fn my_pe(&self) -> usize {
        self.me
    }
    fn signal_add(&self, pe: usize, slot: usize, value: u64) {
        self.w.sig[pe][slot].fetch_add(value, SeqCst);
    }
    fn wait_ge(&self, slot: usize, value: u64) {
        let w = &self.w.sig[self.me][slot];
        let mut spins = 0u32;
        while w.load(Acquire) < value {
            if spins < 64 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                assert!(
                    !self.w.failed.load(Relaxed),
                    "PE {}: another PE failed",
                    self.me
                );
                std::thread::yield_now();
            }
        }
    }
}

impl CollOps for Pe<'_> {
    fn put_signal(&self, pe: usize, dst: usize, src: &[u8], slot: usize, value: u64) {
        assert_ne!(pe, self.me, "algorithms never put to themselves");
        let m = &self.w.mem[pe][dst..dst + src.len()];
        for (d, &b) in m.iter().zip(src) {
            d.store(b, Relaxed);
        }
        self.w.sig[pe][slot].fetch_add(value, Release);
    }
    fn read_local(&self, src: usize, dst: &mut [u8]) {
        let len = dst.len();
        for (d, s) in dst.iter_mut().zip(&self.w.mem[self.me][src..src + len]) {
            *d = s.load(Relaxed);
        }
    }
    fn write_local(&self, dst: usize, src: &[u8]) {
        for (d, &b) in self.w.mem[self.me][dst..dst + src.len()].iter().zip(src) {
            d.store(b, Relaxed);
        }
    }
}
