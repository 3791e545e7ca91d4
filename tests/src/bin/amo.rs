//! Atomic memory operations, with every returned value checked.
//!
//! `amo [all]`: every AMO (fetch, set, swap, compare_swap, inc, add, fetch_inc, fetch_add,
//! and/or/xor and their fetch forms, the nbi fetching forms) on i32, u32, i64 and u64,
//! from every PE to every PE; then contended forms (add/inc/fetch_add/xor/compare_swap
//! races) with exact totals.
//!
//! `amo counter ITERS`: every PE does ITERS `fetch_add(1)` on one counter on PE 0; the
//! final value is `n * ITERS`, each PE's fetched values strictly increase, and PE 0 gathers
//! all fetched values and checks they are exactly `0..n*ITERS` (all distinct).
//!
//! `amo sleepy`: PE 0 sleeps 1 s without calling rshmem while the others hammer its memory
//! with AMOs and puts; the others finish during the sleep, and PE 0 then checks everything.
use rshmem::{Shmem, SymVec};
use rshmem_tests::pe::{self, word};
use std::time::{Duration, Instant};

const PROG: &str = "amo";

fn main() {
    let shmem = pe::init(PROG);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str).unwrap_or("all") {
        "all" => {
            all_i32(&shmem);
            all_u32(&shmem);
            all_i64(&shmem);
            all_u64(&shmem);
        }
        "counter" => {
            let iters = args
                .get(1)
                .map(|a| a.parse().expect("ITERS"))
                .unwrap_or(100_000);
            counter(&shmem, iters);
        }
        "sleepy" => sleepy(&shmem),
        other => panic!("unknown mode {other:?}"),
    }
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}

/// Generates the full per-type check; `$t` is the type, `$r` a round salt.
macro_rules! all_ops {
    ($name:ident, $t:ty, $r:expr) => {
        fn $name(shmem: &Shmem) {
            let (me, n) = (shmem.my_pe(), shmem.n_pes());
            let ty = stringify!($t);
            let val = |d: usize, k: usize| word(me, d, $r, k) as $t;
            // Element s of every PE belongs to source PE s: results are deterministic.
            let v: SymVec<'_, $t> = shmem.alloc_slice(n).expect("alloc");
            let fin = |s: usize, d: usize| word(s, d, $r, 99) as $t;
            for d in 0..n {
                let x = v.at(me).unwrap();
                let ctx = format!("PE {me} -> PE {d}, {ty}");
                let (a, b, c) = (val(d, 0), val(d, 1) | 1, val(d, 2));
                let c = if c == b { c.wrapping_add(2) } else { c };
                x.set(d, a).unwrap();
                assert_eq!(x.fetch(d).unwrap(), a, "set/fetch, {ctx}");
                assert_eq!(x.g(d).unwrap(), a, "set/g, {ctx}");
                assert_eq!(x.swap(d, b).unwrap(), a, "swap, {ctx}");
                assert_eq!(x.fetch(d).unwrap(), b, "after swap, {ctx}");
                // A failing compare_swap returns the current value and changes nothing.
                assert_eq!(
                    x.compare_swap(d, b.wrapping_add(1), c).unwrap(),
                    b,
                    "failed cswap, {ctx}"
                );
                assert_eq!(x.fetch(d).unwrap(), b, "after failed cswap, {ctx}");
                assert_eq!(x.compare_swap(d, b, c).unwrap(), b, "cswap, {ctx}");
                assert_eq!(x.fetch(d).unwrap(), c, "after cswap, {ctx}");
                x.inc(d).unwrap();
                assert_eq!(x.fetch(d).unwrap(), c.wrapping_add(1), "inc, {ctx}");
                assert_eq!(
                    x.fetch_inc(d).unwrap(),
                    c.wrapping_add(1),
                    "fetch_inc, {ctx}"
                );
                let k = val(d, 3);
                x.add(d, k).unwrap();
                let s1 = c.wrapping_add(2).wrapping_add(k);
                assert_eq!(x.fetch(d).unwrap(), s1, "add, {ctx}");
                let k2 = val(d, 4);
                assert_eq!(x.fetch_add(d, k2).unwrap(), s1, "fetch_add, {ctx}");
                let s2 = s1.wrapping_add(k2);
                assert_eq!(x.fetch(d).unwrap(), s2, "after fetch_add, {ctx}");
                // Wrap-around: adding all ones (MAX, or -1) subtracts one in two's complement.
                x.add(d, !(0 as $t)).unwrap();
                assert_eq!(
                    x.fetch(d).unwrap(),
                    s2.wrapping_sub(1),
                    "add of all-ones, {ctx}"
                );
                // Bitwise forms.
                let (m1, m2, m3, m4) = (val(d, 5), val(d, 6), val(d, 7), val(d, 8));
                x.set(d, m1).unwrap();
                x.and(d, m2).unwrap();
                assert_eq!(x.fetch(d).unwrap(), m1 & m2, "and, {ctx}");
                x.or(d, m3).unwrap();
                assert_eq!(x.fetch(d).unwrap(), (m1 & m2) | m3, "or, {ctx}");
                x.xor(d, m4).unwrap();
                let t = ((m1 & m2) | m3) ^ m4;
                assert_eq!(x.fetch(d).unwrap(), t, "xor, {ctx}");
                assert_eq!(x.fetch_and(d, m1).unwrap(), t, "fetch_and, {ctx}");
                assert_eq!(x.fetch_or(d, m2).unwrap(), t & m1, "fetch_or, {ctx}");
                assert_eq!(
                    x.fetch_xor(d, m3).unwrap(),
                    (t & m1) | m2,
                    "fetch_xor, {ctx}"
                );
                let t = ((t & m1) | m2) ^ m3;
                assert_eq!(x.fetch(d).unwrap(), t, "after fetch_xor, {ctx}");
                // Non-blocking fetching forms: results valid after quiet.
                let mut r = [<$t>::default(); 9];
                let p = r.as_mut_ptr();
                // SAFETY: `r` outlives the quiet below and is not read before it.
                unsafe {
                    x.fetch_nbi(p, d).unwrap();
                    x.fetch_add_nbi(p.add(1), d, 5).unwrap();
                    x.fetch_inc_nbi(p.add(2), d).unwrap();
                    x.fetch_and_nbi(p.add(3), d, m1).unwrap();
                    x.fetch_or_nbi(p.add(4), d, m2).unwrap();
                    x.fetch_xor_nbi(p.add(5), d, m3).unwrap();
                    x.swap_nbi(p.add(6), d, m4).unwrap();
                    x.compare_swap_nbi(p.add(7), d, m4, a).unwrap();
                    x.compare_swap_nbi(p.add(8), d, m4, b).unwrap();
                }
                shmem.quiet();
                let t1 = t.wrapping_add(5);
                let t2 = t1.wrapping_add(1);
                let t3 = t2 & m1;
                let t4 = t3 | m2;
                let want = [t, t, t1, t2, t3, t4, t4 ^ m3, m4, a];
                assert_eq!(r, want, "nbi fetching forms, {ctx}");
                assert_eq!(x.fetch(d).unwrap(), a, "after nbi forms, {ctx}");
                x.set(d, fin(me, d)).unwrap();
            }
            shmem.barrier_all();
            for s in 0..n {
                assert_eq!(
                    v.read(s).unwrap(),
                    fin(s, me),
                    "PE {me}: final {ty} from PE {s}"
                );
            }

            // Contention: everyone updates the same words on every PE.
            let sum: SymVec<'_, $t> = shmem.alloc_slice(4).expect("alloc");
            const K: usize = 300;
            for _ in 0..K {
                for d in 0..n {
                    sum.at(0).unwrap().add(d, 3).unwrap();
                    sum.at(1).unwrap().inc(d).unwrap();
                    sum.at(2).unwrap().fetch_add(d, 1).unwrap();
                    sum.at(3).unwrap().xor(d, (1 as $t) << (me % 31)).unwrap();
                }
            }
            shmem.barrier_all();
            let kn = (K * n) as $t;
            assert_eq!(
                sum.read(0).unwrap(),
                kn.wrapping_mul(3),
                "PE {me}: contended add, {ty}"
            );
            assert_eq!(sum.read(1).unwrap(), kn, "PE {me}: contended inc, {ty}");
            assert_eq!(
                sum.read(2).unwrap(),
                kn,
                "PE {me}: contended fetch_add, {ty}"
            );
            // K is even: every PE's bit was flipped an even number of times.
            assert_eq!(sum.read(3).unwrap(), 0, "PE {me}: contended xor, {ty}");
            // compare_swap race: exactly one PE wins each target.
            let winner: SymVec<'_, $t> = shmem.alloc_slice(2).expect("alloc");
            for d in 0..n {
                if winner
                    .at(0)
                    .unwrap()
                    .compare_swap(d, 0, (me + 1) as $t)
                    .unwrap()
                    == 0
                {
                    winner.at(1).unwrap().inc(d).unwrap();
                }
            }
            shmem.barrier_all();
            let w = winner.read(0).unwrap();
            assert!(w >= 1 && w <= n as $t, "PE {me}: cswap winner {w:?}, {ty}");
            assert_eq!(
                winner.read(1).unwrap(),
                1,
                "PE {me}: number of cswap winners, {ty}"
            );
            shmem.barrier_all();
        }
    };
}

all_ops!(all_i32, i32, 1);
all_ops!(all_u32, u32, 2);
all_ops!(all_i64, i64, 3);
all_ops!(all_u64, u64, 4);

fn counter(shmem: &Shmem, iters: usize) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let c = shmem.alloc(0u64).expect("alloc");
    let all = shmem.alloc_slice::<u64>(n * iters).expect("alloc");
    let mut got = Vec::with_capacity(iters);
    let start = Instant::now();
    for _ in 0..iters {
        got.push(c.fetch_add(0, 1).unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    for w in got.windows(2) {
        assert!(
            w[0] < w[1],
            "PE {me}: fetch_add returned {} then {}",
            w[0],
            w[1]
        );
    }
    all.put(0, me * iters, &got).unwrap();
    pe::say(&format!("PE {me}: {iters} fetch_add in {secs:.3} s"));
    shmem.barrier_all();
    let total = (n * iters) as u64;
    assert_eq!(c.g(0).unwrap(), total, "PE {me}: final counter");
    if me == 0 {
        // SAFETY: all puts completed (barrier); nobody writes `all` any more.
        let mut v = unsafe { all.as_slice() }.to_vec();
        v.sort_unstable();
        for (i, &x) in v.iter().enumerate() {
            assert_eq!(
                x, i as u64,
                "fetched values are not exactly 0..{total}: value {i} of the sorted list"
            );
        }
        pe::say(&format!("COUNTER {}", c.read()));
    }
}

fn sleepy(shmem: &Shmem) {
    const K: usize = 20_000;
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let c = shmem.alloc(0i64).expect("alloc");
    let slots = shmem.alloc_slice::<u64>(n).expect("alloc");
    let done = shmem.alloc(0u32).expect("alloc");
    let data = shmem.alloc_slice::<u64>(n * K).expect("alloc");
    shmem.barrier_all();
    if me == 0 {
        // No rshmem call while the others work on our memory: sleep 1 s, then look at the
        // local `done` counter with a plain load. On a badly overloaded machine the others
        // may need longer: keep sleeping (still no rshmem call) up to 20 s.
        let mut slept = 0;
        let finished = loop {
            std::thread::sleep(Duration::from_secs(1));
            slept += 1;
            let f = done.read();
            if f as usize == n - 1 || slept == 20 {
                break f;
            }
        };
        assert_eq!(
            finished as usize,
            n - 1,
            "PE 0: only {finished} of {} PEs finished their atomics while PE 0 slept {slept} s",
            n - 1
        );
        pe::say(&format!("SLEPT {slept} s"));
        assert_eq!(
            c.read(),
            -((K * (n - 1)) as i64) * 2,
            "PE 0: counter after sleeping"
        );
        for s in 1..n {
            assert_eq!(
                slots.read(s).unwrap(),
                (s * 1000 + K) as u64,
                "PE 0: slot of PE {s}"
            );
            // SAFETY: PE s wrote its part before incrementing `done`, which we saw.
            let part = unsafe { &data.as_slice()[s * K..(s + 1) * K] };
            for (i, &x) in part.iter().enumerate() {
                assert_eq!(x, word(s, 0, 5, i), "PE 0: data element {i} from PE {s}");
            }
        }
        pe::say("SLEEPY checked");
    } else {
        let start = Instant::now();
        let sl = slots.at(me).unwrap();
        sl.set(0, (me * 1000) as u64).unwrap();
        let mut prev = 0i64;
        for i in 0..K {
            let old = c.fetch_add(0, -2).unwrap();
            assert!(
                i == 0 || old < prev,
                "PE {me}: fetch_add returned {old} after {prev}"
            );
            prev = old;
            assert_eq!(
                sl.fetch_inc(0).unwrap(),
                (me * 1000 + i) as u64,
                "PE {me}: fetch_inc on sleeping PE 0"
            );
            data.at(me * K + i)
                .unwrap()
                .p(0, word(me, 0, 5, i))
                .unwrap();
        }
        let took = start.elapsed();
        assert_eq!(
            slots.at(me).unwrap().fetch(0).unwrap(),
            (me * 1000 + K) as u64
        );
        // Publish completion last: PE 0 checks that this happened while it slept.
        shmem.fence();
        done.add(0, 1).unwrap();
        pe::say(&format!(
            "PE {me}: done in {:.3} s while PE 0 slept",
            took.as_secs_f64()
        ));
    }
    shmem.barrier_all();
}
