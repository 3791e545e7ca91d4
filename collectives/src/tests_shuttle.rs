//! Model checking with shuttle: a randomized scheduler explores interleavings of 3 PEs
//! running the barrier and the signal / clear-to-send handshakes. (Shuttle's atomics are
//! sequentially consistent: this checks the protocol logic — counters, grants, scratch
//! reuse, message order — not weak-memory orderings.)

use crate::types::{as_bytes, as_bytes_mut};
use crate::*;
use shuttle::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering::SeqCst};
use shuttle::sync::Arc;

struct World {
    mem: Vec<Vec<AtomicU8>>,
    sig: Vec<Vec<AtomicU64>>,
}

struct Pe {
    me: usize,
    w: Arc<World>,
}

impl SyncOps for Pe {
    fn my_pe(&self) -> usize {
        self.me
    }
    fn signal_add(&self, pe: usize, slot: usize, value: u64) {
        self.w.sig[pe][slot].fetch_add(value, SeqCst);
    }
    fn wait_ge(&self, slot: usize, value: u64) {
        while self.w.sig[self.me][slot].load(SeqCst) < value {
            shuttle::thread::yield_now();
        }
    }
}

impl CollOps for Pe {
    fn put_signal(&self, pe: usize, dst: usize, src: &[u8], slot: usize, value: u64) {
        for (i, &b) in src.iter().enumerate() {
            self.w.mem[pe][dst + i].store(b, SeqCst);
        }
        self.w.sig[pe][slot].fetch_add(value, SeqCst);
    }
    fn read_local(&self, src: usize, dst: &mut [u8]) {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = self.w.mem[self.me][src + i].load(SeqCst);
        }
    }
    fn write_local(&self, dst: usize, src: &[u8]) {
        for (i, &b) in src.iter().enumerate() {
            self.w.mem[self.me][dst + i].store(b, SeqCst);
        }
    }
}

const N: usize = 3;
const MEM: usize = 256;

fn run(f: impl Fn(Pe, CollCtx) + Send + Sync + 'static) {
    run_with(N, MIN_SCRATCH_BYTES, f)
}

/// `n` PEs with `scratch` bytes of scratch each.
fn run_with(n: usize, scratch: usize, f: impl Fn(Pe, CollCtx) + Send + Sync + 'static) {
    let w = Arc::new(World {
        mem: (0..n)
            .map(|_| (0..MEM + scratch).map(|_| AtomicU8::new(0)).collect())
            .collect(),
        sig: (0..n)
            .map(|_| {
                (0..CollCtx::signal_slots(n))
                    .map(|_| AtomicU64::new(0))
                    .collect()
            })
            .collect(),
    });
    let f = Arc::new(f);
    let hs: Vec<_> = (0..n)
        .map(|me| {
            let (w, f) = (w.clone(), f.clone());
            shuttle::thread::spawn(move || {
                let c = CollCtx::new(ActiveSet::world(n), me, 0, MEM, scratch);
                f(Pe { me, w }, c)
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

#[test]
fn shuttle_barrier() {
    shuttle::check_random(
        || {
            let arrived = Arc::new(AtomicUsize::new(0));
            run(move |pe, mut c| {
                for e in 1..=3 {
                    arrived.fetch_add(1, SeqCst);
                    c.barrier(&pe);
                    assert!(arrived.load(SeqCst) >= e * N);
                }
            })
        },
        300,
    );
}

/// Back-to-back reductions through the same scratch with no barrier between them: a
/// sender may only overwrite a receiver's scratch after the receiver granted it.
#[test]
fn shuttle_reduce_handshakes() {
    shuttle::check_pct(
        || {
            run(|pe, mut c| {
                for (k, alg) in [
                    ReduceAlgorithm::RecursiveDoubling,
                    ReduceAlgorithm::Ring,
                    ReduceAlgorithm::Rabenseifner,
                    ReduceAlgorithm::RecursiveDoubling,
                ]
                .into_iter()
                .enumerate()
                {
                    let v: Vec<u16> = (0..3).map(|i| (pe.me * 10 + i + k * 100) as u16).collect();
                    pe.write_local(0, as_bytes(&v));
                    let dest = 16 * (k + 1);
                    c.reduce::<u16, _>(&pe, alg, Op::Sum, dest, 0, 3);
                    let mut got = [0u16; 3];
                    pe.read_local(dest, as_bytes_mut(&mut got));
                    let want: Vec<u16> = (0..3).map(|i| (30 + 3 * i + 300 * k) as u16).collect();
                    assert_eq!(got.to_vec(), want, "{alg:?}");
                }
                // prefix sum then broadcast, again without barriers
                pe.write_local(0, &[pe.me as u8 + 1]);
                c.scan_sum::<u8, _>(&pe, true, 100, 0, 1);
                let mut got = [0u8];
                pe.read_local(100, &mut got);
                assert_eq!(got[0] as usize, (pe.me + 1) * (pe.me + 2) / 2);
                pe.write_local(0, &[7, 8]);
                c.broadcast(&pe, BcastAlgorithm::Binomial, 2, 120, 0, 2);
                let mut got = [0u8; 2];
                pe.read_local(120, &mut got);
                assert_eq!(got, [7, 8]);
            })
        },
        1000,
        3,
    );
}

/// The small all-reduce path (no grants, two alternating buffers): back-to-back calls with
/// no barrier, at 2 and 3 PEs (3: with the fold of a non-power of two).
#[test]
fn shuttle_small_reduce_without_grants() {
    for n in [2usize, 3] {
        shuttle::check_pct(
            move || {
                let scratch = MIN_SCRATCH_BYTES + 2 * 2 * 128;
                run_with(n, scratch, move |pe, mut c| {
                    for k in 0..5usize {
                        let v: [u16; 2] = [(pe.me + 10 * k) as u16, (k + 1) as u16];
                        pe.write_local(0, as_bytes(&v));
                        c.reduce::<u16, _>(
                            &pe,
                            ReduceAlgorithm::RecursiveDoubling,
                            Op::Sum,
                            16,
                            0,
                            2,
                        );
                        let mut got = [0u16; 2];
                        pe.read_local(16, as_bytes_mut(&mut got));
                        let sum_me: usize = (0..n).sum();
                        let want = [(sum_me + n * 10 * k) as u16, (n * (k + 1)) as u16];
                        assert_eq!(got, want, "n={n} call {k}");
                    }
                })
            },
            2000,
            3,
        );
    }
}

/// Rabenseifner back to back with no barrier, at 4 PEs (power of two) and 5 (one member
/// folded into a partner): scratch ports re-granted per call, the allgather and the fold
/// result written straight into `dest`, which is the same for every call.
#[test]
fn shuttle_rabenseifner_back_to_back() {
    for n in [4usize, 5] {
        shuttle::check_pct(
            move || {
                run_with(n, MIN_SCRATCH_BYTES, move |pe, mut c| {
                    for k in 0..3usize {
                        let v: Vec<u16> = (0..5).map(|i| (pe.me * 7 + i + 20 * k) as u16).collect();
                        pe.write_local(0, as_bytes(&v));
                        c.reduce::<u16, _>(&pe, ReduceAlgorithm::Rabenseifner, Op::Sum, 16, 0, 5);
                        let mut got = [0u16; 5];
                        pe.read_local(16, as_bytes_mut(&mut got));
                        let want: Vec<u16> = (0..5)
                            .map(|i| (0..n).map(|j| (j * 7 + i + 20 * k) as u16).sum())
                            .collect();
                        assert_eq!(got.to_vec(), want, "n={n} call {k}");
                    }
                })
            },
            300,
            3,
        );
    }
}
