//! In-process tests of every algorithm against sequential references.

use crate::sim::{Pe, World};
use crate::types::{as_bytes, as_bytes_mut};
use crate::*;
use std::mem::size_of;

const SCRATCH: usize = MIN_SCRATCH_BYTES;

fn hash(a: u64, b: u64, c: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ c;
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 32)
}

/// Test element generation and comparison.
pub(crate) trait Gen: Reducible + std::fmt::Debug {
    fn gen(h: u64, op: Op) -> Self;
    fn close(a: Self, b: Self) -> bool {
        a == b
    }
}

macro_rules! gen_int {
    ($($t:ty),*) => {$(impl Gen for $t {
        fn gen(h: u64, _: Op) -> Self { h as $t }
    })*};
}
gen_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

fn genf(h: u64, op: Op) -> f64 {
    match op {
        Op::Prod => 1.0 + (h % 200) as f64 / 1000.0 - 0.1,
        _ => (h % 4000) as f64 / 8.0 - 250.0,
    }
}
impl Gen for f64 {
    fn gen(h: u64, op: Op) -> Self {
        genf(h, op)
    }
    fn close(a: Self, b: Self) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + b.abs())
    }
}
impl Gen for f32 {
    fn gen(h: u64, op: Op) -> Self {
        genf(h, op) as f32
    }
    fn close(a: Self, b: Self) -> bool {
        (a - b).abs() <= 1e-3 * (1.0 + b.abs())
    }
}
impl Gen for Complex<f64> {
    fn gen(h: u64, op: Op) -> Self {
        Complex {
            re: genf(h, op),
            im: genf(h >> 17, op) / 10.0,
        }
    }
    fn close(a: Self, b: Self) -> bool {
        f64::close(a.re, b.re) && f64::close(a.im, b.im)
    }
}
impl Gen for Complex<f32> {
    fn gen(h: u64, op: Op) -> Self {
        Complex {
            re: genf(h, op) as f32,
            im: (genf(h >> 17, op) / 10.0) as f32,
        }
    }
    fn close(a: Self, b: Self) -> bool {
        f32::close(a.re, b.re) && f32::close(a.im, b.im)
    }
}

fn data<T: Gen>(pe: usize, case: u64, op: Op, len: usize) -> Vec<T> {
    (0..len)
        .map(|i| T::gen(hash(pe as u64, i as u64, case), op))
        .collect()
}

fn bytes(pe: usize, case: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| hash(pe as u64, i as u64, case) as u8)
        .collect()
}

/// World of `n` PEs with `mem` bytes of symmetric memory before the scratch; scratch at
/// `mem`, signal slots from 0.
fn world(n: usize, mem: usize) -> World {
    World::new(n, mem + SCRATCH, CollCtx::signal_slots(n))
}

fn ctx(pe: &Pe, n: usize, mem: usize) -> CollCtx {
    CollCtx::new(ActiveSet::world(n), pe.me, 0, mem, SCRATCH)
}

fn read<T: Reducible>(pe: &Pe, at: usize, len: usize) -> Vec<T> {
    let mut v = vec![T::default(); len];
    pe.read_local(at, as_bytes_mut(&mut v));
    v
}

fn check_elems<T: Gen>(what: &str, got: &[T], want: &[T]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            T::close(*g, *w),
            "{what}: element {i}: got {g:?}, want {w:?}"
        );
    }
}

const SIZES: [usize; 7] = [0, 1, 3, 8, 100, 1001, 5000];
const REDUCE_ALGORITHMS: [ReduceAlgorithm; 3] = [
    ReduceAlgorithm::RecursiveDoubling,
    ReduceAlgorithm::Ring,
    ReduceAlgorithm::Rabenseifner,
];
const SMALL: [usize; 5] = [0, 1, 3, 100, 301];

#[test]
fn broadcast_all_algorithms() {
    let max = 5000;
    for n in 1..=8 {
        let w = world(n, 2 * max);
        w.run(|pe| {
            let mut c = ctx(pe, n, 2 * max);
            let mut case = 0u64;
            for alg in [BcastAlgorithm::Binomial, BcastAlgorithm::ScatterAllgather] {
                for &len in &SIZES {
                    for root in [0, n - 1, n / 2] {
                        case += 1;
                        // in place: dest = src, so only the root may write it (the
                        // others' dest must be ready: the root may be writing it already)
                        let in_place = case.is_multiple_of(3);
                        if pe.me == root || !in_place {
                            pe.write_local(0, &bytes(pe.me, case, len));
                        }
                        let dest = if in_place { 0 } else { max };
                        c.broadcast(pe, alg, root, dest, 0, len);
                        let got = read::<u8>(pe, dest, len);
                        assert_eq!(
                            got,
                            bytes(root, case, len),
                            "{alg:?} n={n} len={len} root={root}"
                        );
                        c.barrier(pe);
                    }
                }
            }
        });
    }
}

#[test]
fn broadcast_without_updating_the_root() {
    let max = 3000;
    for n in 1..=6 {
        let w = world(n, 2 * max);
        w.run(|pe| {
            let mut c = ctx(pe, n, 2 * max);
            let mut case = 0u64;
            for alg in [BcastAlgorithm::Binomial, BcastAlgorithm::ScatterAllgather] {
                for &len in &[1usize, 8, 100, 2999] {
                    for root in [0, n - 1] {
                        case += 1;
                        pe.write_local(0, &bytes(pe.me, case, len));
                        pe.write_local(max, &vec![0xee; len]);
                        c.barrier(pe);
                        let b = crate::Broadcast {
                            root,
                            dest: max,
                            src: 0,
                            nbytes: len,
                            update_root: false,
                        };
                        c.broadcast_opt(pe, alg, b);
                        let got = read::<u8>(pe, max, len);
                        if pe.me == root {
                            assert_eq!(got, vec![0xee; len], "{alg:?} n={n}: root's dest written");
                        } else {
                            assert_eq!(got, bytes(root, case, len), "{alg:?} n={n} len={len}");
                        }
                        c.barrier(pe);
                    }
                }
            }
        });
    }
}

fn reduce_cases<T: Gen>(
    pe: &Pe,
    c: &mut CollCtx,
    n: usize,
    case: &mut u64,
    max_bytes: usize,
    sizes: &[usize],
) {
    let esz = size_of::<T>();
    for alg in REDUCE_ALGORITHMS {
        for op in Op::ALL.into_iter().filter(|&op| T::supports(op)) {
            for &len in sizes {
                if len * esz > max_bytes {
                    continue;
                }
                *case += 1;
                let mine: Vec<T> = data(pe.me, *case, op, len);
                pe.write_local(0, as_bytes(&mine));
                let in_place = (*case).is_multiple_of(2);
                let dest = if in_place { 0 } else { max_bytes };
                c.reduce::<T, _>(pe, alg, op, dest, 0, len);
                let mut want: Vec<T> = data(0, *case, op, len);
                for j in 1..n {
                    T::combine(op, &mut want, &data::<T>(j, *case, op, len));
                }
                let got: Vec<T> = read(pe, dest, len);
                let what = format!(
                    "{} {alg:?} {op:?} n={n} len={len}",
                    std::any::type_name::<T>()
                );
                check_elems(&what, &got, &want);
                c.barrier(pe);
            }
        }
    }
}

/// The small all-reduce path has no clear-to-send grants: hundreds of back-to-back calls
/// with no barrier in between (fast members run ahead into the next call), interleaved with
/// grant-based collectives (a large reduction, a scan) on the same scratch.
#[test]
fn small_reductions_back_to_back() {
    let max = 40_000;
    for n in 1..=8 {
        // twice the minimum scratch, so that the small-reduce area fits
        let w = world(n, 2 * max + SCRATCH);
        w.run(|pe| {
            let mut c = CollCtx::new(ActiveSet::world(n), pe.me, 0, 2 * max, 2 * SCRATCH);
            assert_ne!(c.small_base, 0, "the small-reduce area must be there");
            for round in 0..300u64 {
                let len = 1 + (round as usize % 16);
                let mine: Vec<u64> = data(pe.me, round, Op::Sum, len);
                pe.write_local(0, as_bytes(&mine));
                c.reduce::<u64, _>(pe, ReduceAlgorithm::RecursiveDoubling, Op::Sum, max, 0, len);
                let mut want: Vec<u64> = data(0, round, Op::Sum, len);
                for j in 1..n {
                    u64::combine(Op::Sum, &mut want, &data::<u64>(j, round, Op::Sum, len));
                }
                check_elems(
                    &format!("small n={n} round={round}"),
                    &read::<u64>(pe, max, len),
                    &want,
                );
                if round % 50 == 49 {
                    // grant-based users of scratch in between
                    let big = 3000;
                    let mine: Vec<u64> = data(pe.me, round + 1000, Op::Max, big);
                    pe.write_local(0, as_bytes(&mine));
                    c.reduce::<u64, _>(
                        pe,
                        ReduceAlgorithm::RecursiveDoubling,
                        Op::Max,
                        max,
                        0,
                        big,
                    );
                    let mut want: Vec<u64> = data(0, round + 1000, Op::Max, big);
                    for j in 1..n {
                        u64::combine(
                            Op::Max,
                            &mut want,
                            &data::<u64>(j, round + 1000, Op::Max, big),
                        );
                    }
                    check_elems("large in between", &read::<u64>(pe, max, big), &want);
                    c.barrier(pe);
                }
            }
        });
    }
}

#[test]
fn reductions_all_types_ops_algorithms() {
    let max = 40_000;
    for n in 1..=8 {
        let w = world(n, 2 * max);
        w.run(|pe| {
            let mut c = ctx(pe, n, 2 * max);
            let mut case = 0;
            reduce_cases::<i8>(pe, &mut c, n, &mut case, max, &SMALL);
            reduce_cases::<u16>(pe, &mut c, n, &mut case, max, &SMALL);
            reduce_cases::<i32>(pe, &mut c, n, &mut case, max, &SMALL);
            reduce_cases::<u64>(pe, &mut c, n, &mut case, max, &SIZES);
            reduce_cases::<i128>(pe, &mut c, n, &mut case, max, &SMALL);
            reduce_cases::<usize>(pe, &mut c, n, &mut case, max, &SMALL);
            reduce_cases::<f32>(pe, &mut c, n, &mut case, max, &SMALL);
            reduce_cases::<f64>(pe, &mut c, n, &mut case, max, &SIZES);
            reduce_cases::<Complex<f32>>(pe, &mut c, n, &mut case, max, &SMALL);
            reduce_cases::<Complex<f64>>(pe, &mut c, n, &mut case, max, &SMALL);
        });
    }
}

fn want_reduce<T: Gen>(n: usize, case: u64, op: Op, len: usize) -> Vec<T> {
    let mut want: Vec<T> = data(0, case, op, len);
    for j in 1..n {
        T::combine(op, &mut want, &data::<T>(j, case, op, len));
    }
    want
}

/// Rabenseifner around its segment length (one element short of a segment, exactly one,
/// one more, several plus a remainder not divisible by n), with the test's minimum scratch
/// and with a larger, unaligned one (other segment lengths and port offsets).
#[test]
fn rabenseifner_segment_boundaries() {
    fn cases<T: Gen>(pe: &Pe, c: &mut CollCtx, n: usize, case: &mut u64, max: usize) {
        let seg = c.rab_seg(size_of::<T>());
        let mut sizes = vec![seg - 1, seg, seg + 1, 3 * seg + 2 * n + 1, n - 1, n + 1];
        sizes.retain(|&len| len * size_of::<T>() <= max);
        assert!(
            sizes.contains(&(seg + 1)),
            "segment of {seg} too large for the test"
        );
        for op in [Op::Sum, Op::Max, Op::Prod]
            .into_iter()
            .filter(|&op| T::supports(op))
        {
            for &len in &sizes {
                *case += 1;
                pe.write_local(0, as_bytes(&data::<T>(pe.me, *case, op, len)));
                let dest = if (*case).is_multiple_of(2) { 0 } else { max };
                c.reduce::<T, _>(pe, ReduceAlgorithm::Rabenseifner, op, dest, 0, len);
                let what = format!(
                    "{} {op:?} n={n} len={len} seg={seg}",
                    std::any::type_name::<T>()
                );
                check_elems(
                    &what,
                    &read::<T>(pe, dest, len),
                    &want_reduce(n, *case, op, len),
                );
                c.barrier(pe);
            }
        }
    }
    let max = 60_000;
    for scratch in [SCRATCH, 3 * SCRATCH + 40] {
        for n in 1..=8 {
            let w = World::new(n, 2 * max + scratch, CollCtx::signal_slots(n));
            w.run(|pe| {
                let mut c = CollCtx::new(ActiveSet::world(n), pe.me, 0, 2 * max, scratch);
                let mut case = 0;
                cases::<u8>(pe, &mut c, n, &mut case, max);
                cases::<i32>(pe, &mut c, n, &mut case, max);
                cases::<f64>(pe, &mut c, n, &mut case, max);
                cases::<Complex<f64>>(pe, &mut c, n, &mut case, max);
            });
        }
    }
}

/// Rabenseifner calls back to back, with no barrier in between (fast members run ahead
/// into the next call; every call has a fresh destination), interleaved with the other
/// reductions (the scratch is large enough for the grant-free small path), a scan, a
/// broadcast and a collect on the same context.
#[test]
fn rabenseifner_back_to_back_and_interleaved() {
    let region = 24_000;
    let calls = 64;
    let mem = region * (calls + 1);
    for n in 1..=8 {
        let scratch = 2 * SCRATCH;
        let w = World::new(n, mem + scratch, CollCtx::signal_slots(n));
        w.run(|pe| {
            let mut c = CollCtx::new(ActiveSet::world(n), pe.me, 0, mem, scratch);
            assert_ne!(c.small_base, 0, "no small-reduce area");
            for k in 0..calls {
                let case = k as u64;
                let dest = region * (k + 1);
                let reduce = |c: &mut CollCtx, alg: ReduceAlgorithm, op: Op, len: usize| {
                    pe.write_local(0, as_bytes(&data::<i64>(pe.me, case, op, len)));
                    c.reduce::<i64, _>(pe, alg, op, dest, 0, len);
                    let what = format!("call {k}: {alg:?} {op:?} n={n} len={len}");
                    check_elems(
                        &what,
                        &read::<i64>(pe, dest, len),
                        &want_reduce(n, case, op, len),
                    );
                };
                match k % 8 {
                    // Rabenseifner: several segments, one, less than a chunk per member
                    0 | 3 | 6 => {
                        let len = [2_900, 333, 1, 5, 1_001][k % 5];
                        let op = [Op::Sum, Op::Xor, Op::Min][k % 3];
                        reduce(&mut c, ReduceAlgorithm::Rabenseifner, op, len);
                    }
                    1 => reduce(&mut c, ReduceAlgorithm::RecursiveDoubling, Op::Sum, 3),
                    2 => reduce(&mut c, ReduceAlgorithm::Ring, Op::Prod, 700),
                    4 => reduce(&mut c, ReduceAlgorithm::RecursiveDoubling, Op::Max, 900),
                    5 => {
                        pe.write_local(0, as_bytes(&data::<i64>(pe.me, case, Op::Sum, 50)));
                        c.scan_sum::<i64, _>(pe, true, dest, 0, 50);
                        let mut want = vec![0i64; 50];
                        for j in 0..=pe.me {
                            i64::combine(Op::Sum, &mut want, &data::<i64>(j, case, Op::Sum, 50));
                        }
                        assert_eq!(read::<i64>(pe, dest, 50), want, "call {k}: scan");
                    }
                    _ => {
                        if k % 16 == 7 {
                            let root = k % n;
                            pe.write_local(0, &bytes(pe.me, case, 2000));
                            c.broadcast(pe, BcastAlgorithm::ScatterAllgather, root, dest, 0, 2000);
                            assert_eq!(read::<u8>(pe, dest, 2000), bytes(root, case, 2000));
                        } else {
                            pe.write_local(0, &bytes(pe.me, case, 7 * pe.me));
                            let total =
                                c.collect(pe, |_, _| CollectAlgorithm::Ring, dest, 0, 7 * pe.me);
                            let want: Vec<u8> =
                                (0..n).flat_map(|j| bytes(j, case, 7 * j)).collect();
                            assert_eq!(read::<u8>(pe, dest, total), want, "call {k}: collect");
                        }
                    }
                }
            }
        });
    }
}

/// Every member gets bitwise the same floats, whatever the order of combination would
/// give: sums of wildly different magnitudes (rounding depends on the order) and max/min
/// over signed zeros (`max(0.0, -0.0)` depends on the operand order). Checked for the
/// algorithms that compute each total on one member (ring, Rabenseifner).
#[test]
fn reduce_results_bitwise_identical_on_every_member() {
    fn gen(pe: usize, i: usize, op: Op) -> f64 {
        let h = hash(pe as u64, i as u64, 77);
        match op {
            Op::Max | Op::Min => {
                if h.is_multiple_of(2) {
                    0.0
                } else {
                    -0.0
                }
            }
            _ => (h % 1000) as f64 * [1e-9, 1.0, 1e9, -1e9][(h >> 20) as usize % 4] / 7.0,
        }
    }
    let len = 1_234;
    for n in 2..=8 {
        for alg in [
            ReduceAlgorithm::Ring,
            ReduceAlgorithm::Rabenseifner,
            ReduceAlgorithm::RecursiveDoubling,
        ] {
            for op in [Op::Sum, Op::Prod, Op::Max, Op::Min] {
                let w = world(n, 2 * 8 * len);
                let out = std::sync::Mutex::new(vec![Vec::new(); n]);
                w.run(|pe| {
                    let mut c = ctx(pe, n, 2 * 8 * len);
                    let mine: Vec<f64> = (0..len).map(|i| gen(pe.me, i, op)).collect();
                    pe.write_local(0, as_bytes(&mine));
                    c.reduce::<f64, _>(pe, alg, op, 8 * len, 0, len);
                    out.lock().unwrap()[pe.me] = read::<f64>(pe, 8 * len, len);
                });
                let out = out.into_inner().unwrap();
                for (j, got) in out.iter().enumerate() {
                    for (i, (g, g0)) in got.iter().zip(&out[0]).enumerate() {
                        assert_eq!(
                            g.to_bits(),
                            g0.to_bits(),
                            "{alg:?} {op:?} n={n}: element {i} differs on PE {j} and PE 0"
                        );
                    }
                    if op == Op::Sum {
                        for (i, g) in got.iter().enumerate() {
                            let want: f64 = (0..n).map(|p| gen(p, i, op)).sum();
                            let scale: f64 = (0..n).map(|p| gen(p, i, op).abs()).sum();
                            assert!(
                                (g - want).abs() <= 1e-12 * scale,
                                "{alg:?} n={n}: element {i}: {g} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn fcollect_and_collect() {
    let max = 2000;
    for n in 1..=8 {
        let w = world(n, max + 8 * max);
        w.run(|pe| {
            let mut c = ctx(pe, n, max + 8 * max);
            let mut case = 0;
            for alg in [CollectAlgorithm::Ring, CollectAlgorithm::RecursiveDoubling] {
                for len in [0, 1, 5, 64, 999, 2000] {
                    case += 1;
                    pe.write_local(0, &bytes(pe.me, case, len));
                    c.fcollect(pe, alg, max, 0, len);
                    let want: Vec<u8> = (0..n).flat_map(|j| bytes(j, case, len)).collect();
                    assert_eq!(
                        read::<u8>(pe, max, n * len),
                        want,
                        "fcollect {alg:?} n={n} len={len}"
                    );
                    c.barrier(pe);

                    // variable sizes, some zero
                    case += 1;
                    let size = |j: usize| {
                        if (j + case as usize).is_multiple_of(3) {
                            0
                        } else {
                            (len * (j + 1) / 3).min(max)
                        }
                    };
                    pe.write_local(0, &bytes(pe.me, case, size(pe.me)));
                    let total = c.collect(pe, |_, _| alg, max, 0, size(pe.me));
                    let want: Vec<u8> = (0..n).flat_map(|j| bytes(j, case, size(j))).collect();
                    assert_eq!(total, want.len());
                    assert_eq!(
                        read::<u8>(pe, max, total),
                        want,
                        "collect {alg:?} n={n} len={len}"
                    );
                    c.barrier(pe);
                }
            }
        });
    }
}

#[test]
fn alltoall_pairwise() {
    let max = 700;
    for n in 1..=8 {
        let w = world(n, 16 * max);
        w.run(|pe| {
            let mut c = ctx(pe, n, 16 * max);
            for (case, len) in [0usize, 1, 7, 64, 700].into_iter().enumerate() {
                let case = case as u64;
                pe.write_local(0, &bytes(pe.me, case, n * len));
                c.alltoall(pe, 8 * max, 0, len);
                let want: Vec<u8> = (0..n)
                    .flat_map(|j| bytes(j, case, n * len)[pe.me * len..(pe.me + 1) * len].to_vec())
                    .collect();
                assert_eq!(
                    read::<u8>(pe, 8 * max, n * len),
                    want,
                    "alltoall n={n} len={len}"
                );
                c.barrier(pe);
            }
        });
    }
}

fn scan_cases<T: Gen>(pe: &Pe, c: &mut CollCtx, case: &mut u64, max_bytes: usize) {
    let n = c.size();
    for inclusive in [true, false] {
        for &len in &SIZES {
            if len * size_of::<T>() > max_bytes {
                continue;
            }
            *case += 1;
            pe.write_local(0, as_bytes(&data::<T>(pe.me, *case, Op::Sum, len)));
            let dest = if (*case).is_multiple_of(2) {
                0
            } else {
                max_bytes
            };
            c.scan_sum::<T, _>(pe, inclusive, dest, 0, len);
            let upto = if inclusive { pe.me + 1 } else { pe.me };
            let mut want = vec![T::default(); len];
            for j in 0..upto {
                T::combine(Op::Sum, &mut want, &data::<T>(j, *case, Op::Sum, len));
            }
            let what = format!(
                "scan incl={inclusive} {} n={n} len={len} pe={}",
                std::any::type_name::<T>(),
                pe.me
            );
            check_elems(&what, &read::<T>(pe, dest, len), &want);
            c.barrier(pe);
        }
    }
}

#[test]
fn scans() {
    let max = 40_000;
    for n in 1..=8 {
        let w = world(n, 2 * max);
        w.run(|pe| {
            let mut c = ctx(pe, n, 2 * max);
            let mut case = 0;
            scan_cases::<i64>(pe, &mut c, &mut case, max);
            scan_cases::<u8>(pe, &mut c, &mut case, max);
            scan_cases::<f64>(pe, &mut c, &mut case, max);
            scan_cases::<Complex<f32>>(pe, &mut c, &mut case, max);
        });
    }
}

#[test]
fn thousand_barriers() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    for n in [1, 3, 8] {
        let w = world(n, 0);
        let arrived = AtomicUsize::new(0);
        w.run(|pe| {
            let mut c = ctx(pe, n, 0);
            for e in 1..=1000 {
                arrived.fetch_add(1, SeqCst);
                c.barrier(pe);
                assert!(arrived.load(SeqCst) >= e * n);
            }
        });
    }
}

/// Two disjoint strided sets (evens, odds) each run a mix of collectives back to back,
/// without barriers between calls (fresh destination for every call), concurrently with
/// each other and with world barriers on a third context.
#[test]
fn interleaved_disjoint_sets() {
    let n = 8;
    let calls = 30;
    let region = 4096;
    let mem = region * (calls + 1);
    let slots_world = CollCtx::signal_slots(n);
    let slots_half = CollCtx::signal_slots(4);
    // layout: [src | dest per call] then scratch x3
    let w = World::new(n, mem + 3 * SCRATCH, slots_world + 2 * slots_half);
    w.run(|pe| {
        let half = ActiveSet {
            start: pe.me % 2,
            stride: 2,
            size: 4,
        };
        let sig = slots_world + (pe.me % 2) * slots_half;
        let mut team = CollCtx::new(half, pe.me, sig, mem + SCRATCH * (1 + pe.me % 2), SCRATCH);
        let mut worldc = CollCtx::new(ActiveSet::world(n), pe.me, 0, mem, SCRATCH);
        let ti = team.my_index();
        for k in 0..calls {
            let case = (k * 2 + pe.me % 2) as u64;
            let dest = region * (k + 1);
            match k % 4 {
                0 => {
                    let src = data::<i64>(ti, case, Op::Sum, 300);
                    pe.write_local(0, as_bytes(&src));
                    let alg = match k % 12 {
                        0 => ReduceAlgorithm::Ring,
                        4 => ReduceAlgorithm::Rabenseifner,
                        _ => ReduceAlgorithm::RecursiveDoubling,
                    };
                    team.reduce::<i64, _>(pe, alg, Op::Sum, dest, 0, 300);
                    let mut want = vec![0i64; 300];
                    for j in 0..4 {
                        i64::combine(Op::Sum, &mut want, &data::<i64>(j, case, Op::Sum, 300));
                    }
                    assert_eq!(read::<i64>(pe, dest, 300), want);
                }
                1 => {
                    pe.write_local(0, &bytes(ti, case, 1000));
                    let root = k % 4;
                    team.broadcast(pe, BcastAlgorithm::ScatterAllgather, root, dest, 0, 1000);
                    assert_eq!(read::<u8>(pe, dest, 1000), bytes(root, case, 1000));
                }
                2 => {
                    pe.write_local(0, &bytes(ti, case, 10 * ti));
                    let total = team.collect(
                        pe,
                        |_, _| CollectAlgorithm::RecursiveDoubling,
                        dest,
                        0,
                        10 * ti,
                    );
                    let want: Vec<u8> = (0..4).flat_map(|j| bytes(j, case, 10 * j)).collect();
                    assert_eq!(total, 60);
                    assert_eq!(read::<u8>(pe, dest, total), want);
                }
                _ => {
                    pe.write_local(0, &bytes(ti, case, 4 * 50));
                    team.alltoall(pe, dest, 0, 50);
                    let want: Vec<u8> = (0..4)
                        .flat_map(|j| bytes(j, case, 200)[ti * 50..ti * 50 + 50].to_vec())
                        .collect();
                    assert_eq!(read::<u8>(pe, dest, 200), want);
                }
            }
            if k % 5 == 0 {
                worldc.barrier(pe);
            }
        }
    });
}

#[test]
fn selection_defaults_and_overrides() {
    let o = Overrides::default();
    assert_eq!(choose_bcast(&o, 8, 8), BcastAlgorithm::Binomial);
    assert_eq!(
        choose_bcast(&o, 1 << 20, 8),
        BcastAlgorithm::ScatterAllgather
    );
    assert_eq!(choose_bcast(&o, 1 << 20, 2), BcastAlgorithm::Binomial);
    assert_eq!(choose_reduce(&o, 8, 8), ReduceAlgorithm::RecursiveDoubling);
    assert_eq!(choose_reduce(&o, 1 << 20, 4), ReduceAlgorithm::Ring);
    assert_eq!(choose_reduce(&o, 1 << 20, 2), ReduceAlgorithm::Ring);
    assert_eq!(
        choose_reduce(&o, 64 << 10, 4),
        ReduceAlgorithm::RecursiveDoubling
    );
    // the crossovers of BENCHMARKS.md "Rabenseifner all-reduce (2026-11-26)"
    use ReduceAlgorithm::{Rabenseifner as Rab, RecursiveDoubling as Rd, Ring};
    for (nbytes, n, want) in [
        (0, 1, Rd),
        (1 << 20, 1, Rd),
        (2047, 2, Rd),
        (2048, 2, Ring),
        (64 << 10, 2, Ring),
        (4 << 20, 2, Ring),
        ((128 << 10) - 1, 3, Rd),
        (128 << 10, 3, Ring),
        (1 << 20, 7, Ring),
        ((16 << 10) - 1, 8, Rd),
        (16 << 10, 8, Rab),
        (128 << 10, 8, Rab),
        (4 << 20, 8, Rab),
        (16 << 10, 12, Rab),
        ((128 << 10) - 1, 12, Rab),
        (128 << 10, 12, Ring),
        (8 << 10, 16, Rd),
        (4 << 20, 16, Rab),
        (1 << 20, 1024, Rab),
    ] {
        assert_eq!(choose_reduce(&o, nbytes, n), want, "{nbytes} B, {n} PEs");
    }
    assert_eq!(
        choose_collect(&o, 1 << 20, 4),
        CollectAlgorithm::RecursiveDoubling
    );
    assert_eq!(choose_collect(&o, 64 << 20, 4), CollectAlgorithm::Ring);
    assert_eq!(choose_alltoall(&o, 8, 4), AlltoallAlgorithm::Pairwise);
    assert_eq!(choose_barrier(&o, 4), BarrierAlgorithm::Dissemination);

    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_string())
    };
    let o = Overrides::from_lookup(env(&[
        ("RSHMEM_BCAST_ALGORITHM", "Scatter_Allgather"),
        ("RSHMEM_REDUCE_ALGORITHM", "ring"),
        ("RSHMEM_COLLECT_ALGORITHM", "auto"),
        ("RSHMEM_BARRIER_ALGORITHM", ""),
    ]))
    .unwrap();
    assert_eq!(choose_bcast(&o, 1, 2), BcastAlgorithm::ScatterAllgather);
    assert_eq!(choose_reduce(&o, 1, 2), ReduceAlgorithm::Ring);
    assert_eq!(o.collect, None);
    assert_eq!(o.barrier, None);
    let o = Overrides::from_lookup(env(&[("RSHMEM_REDUCE_ALGORITHM", " Rabenseifner ")])).unwrap();
    assert_eq!(choose_reduce(&o, 8, 3), ReduceAlgorithm::Rabenseifner);

    let e = Overrides::from_lookup(env(&[("RSHMEM_REDUCE_ALGORITHM", "rabenseifer")])).unwrap_err();
    assert_eq!(e.var, "RSHMEM_REDUCE_ALGORITHM");
    let msg = e.to_string();
    assert!(
        msg.contains("\"rabenseifer\"")
            && msg.contains("auto, recursive-doubling, ring, rabenseifner"),
        "{msg}"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn run_reduce<T: Gen>(
        n: usize,
        op: Op,
        alg: ReduceAlgorithm,
        inputs: &[Vec<T>],
    ) -> Vec<Vec<T>> {
        let len = inputs[0].len();
        let bytes = (len * size_of::<T>()).max(1);
        let w = world(n, 2 * bytes);
        let out = std::sync::Mutex::new(vec![Vec::new(); n]);
        w.run(|pe| {
            let mut c = ctx(pe, n, 2 * bytes);
            pe.write_local(0, as_bytes(&inputs[pe.me]));
            c.reduce::<T, _>(pe, alg, op, bytes, 0, len);
            out.lock().unwrap()[pe.me] = read::<T>(pe, bytes, len);
        });
        out.into_inner().unwrap()
    }

    fn alg() -> impl Strategy<Value = ReduceAlgorithm> {
        proptest::sample::select(REDUCE_ALGORITHMS.to_vec())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn integer_reductions_exact(
            n in 1usize..=8,
            len in 0usize..700,
            op in proptest::sample::select(Op::ALL.to_vec()),
            alg in alg(),
            seed in any::<u64>(),
        ) {
            let inputs: Vec<Vec<i64>> = (0..n).map(|j| (0..len).map(|i| hash(seed, j as u64, i as u64) as i64).collect()).collect();
            let mut want = inputs[0].clone();
            for x in &inputs[1..] {
                i64::combine(op, &mut want, x);
            }
            for got in run_reduce(n, op, alg, &inputs) {
                prop_assert_eq!(&got, &want);
            }
        }

        #[test]
        fn float_sums_within_tolerance_and_identical_everywhere(
            n in 1usize..=8,
            vals in proptest::collection::vec(-1.0e6f64..1.0e6, 0..2000),
            alg in alg(),
        ) {
            let len = vals.len() / n;
            let inputs: Vec<Vec<f64>> = (0..n).map(|j| vals[j * len..(j + 1) * len].to_vec()).collect();
            let want: Vec<f64> = (0..len).map(|i| inputs.iter().map(|v| v[i]).sum()).collect();
            let outs = run_reduce(n, Op::Sum, alg, &inputs);
            for got in &outs {
                for (g, w) in got.iter().zip(&want) {
                    let scale: f64 = inputs.iter().map(|_| 1.0e6).sum();
                    prop_assert!((g - w).abs() <= 1e-12 * scale, "{} vs {}", g, w);
                }
                // bitwise the same on every PE
                prop_assert!(got.iter().zip(&outs[0]).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
        }
    }
}
