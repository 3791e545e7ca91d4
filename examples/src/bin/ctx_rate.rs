//! Message rate of 8-byte `put_nbi` from 2 threads per PE (issue 14.3): the two threads on
//! the default context (one lock, one CQ, one bounce ring per PE; the Rust runtime is
//! always thread-safe, as under `SHMEM_THREAD_MULTIPLE`), against the two threads each on
//! a private context of its own (over verbs: its own CQ and QPs, no lock at all). Each
//! thread posts K puts of 8 bytes to the partner PE (PE me^1), then quiets (its context's
//! quiet, or the default `quiet`). Both modes run in the same job, alternating, REPS times
//! each; PE 0 prints every repetition and the medians (messages per second per PE: 2K over
//! the time from the threads' common start to the later one's quiet).
//!
//! `rshmemrun -n 2 ctx_rate [K] [REPS]` (an even number of PEs)
use rshmem::ctx::Private;
use std::sync::Barrier;
use std::time::{Duration, Instant};

const SLOTS: usize = 1024;

fn main() {
    let shmem = rshmem_examples::init_or_exit("ctx_rate");
    let mut args = std::env::args().skip(1);
    let k: usize = args.next().map_or(10_000, |a| a.parse().expect("K"));
    let reps: usize = args.next().map_or(3, |a| a.parse().expect("REPS"));
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    assert!(n % 2 == 0, "ctx_rate needs an even number of PEs");
    let peer = me ^ 1;
    let dst = shmem.alloc_slice::<u64>(2 * SLOTS).expect("alloc");
    let srcs: Vec<Vec<u64>> = (0..2u64)
        .map(|t| (0..k as u64).map(|i| (t << 40) | i).collect())
        .collect();
    // One run: both threads post K puts each; returns messages per second on this PE.
    let run = |private: bool| -> f64 {
        shmem.barrier_all();
        let start = Barrier::new(2);
        let times: Vec<(Instant, Instant)> = std::thread::scope(|s| {
            let hs: Vec<_> = srcs
                .iter()
                .enumerate()
                .map(|(t, src)| {
                    let (shmem, dst, start) = (&shmem, &dst, &start);
                    s.spawn(move || {
                        if private {
                            // A context per thread and run; its connection is made by this
                            // first put, before the timed part.
                            let ctx = shmem.create_ctx(Private).expect("create_ctx");
                            ctx.put(dst, peer, t * SLOTS, &src[..1]).expect("put");
                            ctx.quiet();
                            start.wait();
                            let t0 = Instant::now();
                            for (i, w) in src.iter().enumerate() {
                                let at = t * SLOTS + i % SLOTS;
                                // SAFETY: `src` outlives the quiet below.
                                unsafe { ctx.put_nbi(dst, peer, at, core::slice::from_ref(w)) }
                                    .expect("put_nbi");
                            }
                            ctx.quiet();
                            (t0, Instant::now())
                        } else {
                            start.wait();
                            let t0 = Instant::now();
                            for (i, w) in src.iter().enumerate() {
                                let at = t * SLOTS + i % SLOTS;
                                // SAFETY: `src` outlives the quiet below.
                                unsafe { dst.put_nbi(peer, at, core::slice::from_ref(w)) }
                                    .expect("put_nbi");
                            }
                            shmem.quiet();
                            (t0, Instant::now())
                        }
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        shmem.barrier_all();
        let t0 = times.iter().map(|t| t.0).min().expect("2 threads");
        let t1 = times.iter().map(|t| t.1).max().expect("2 threads");
        let secs = t1
            .duration_since(t0)
            .max(Duration::from_nanos(1))
            .as_secs_f64();
        (2 * k) as f64 / secs
    };
    // Warm-up (connections of the default context, page faults).
    run(false);
    run(true);
    let (mut def, mut pri) = (Vec::new(), Vec::new());
    for r in 0..reps {
        let d = run(false);
        let p = run(true);
        if me == 0 {
            println!(
                "ctx_rate: rep {r}: default context {d:.0} msg/s, private contexts {p:.0} msg/s, ratio {:.2}",
                p / d
            );
        }
        def.push(d);
        pri.push(p);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (d, p) = (median(&mut def), median(&mut pri));
    // Every PE checks what its partner's threads wrote last (the same slots each run).
    for t in 0..2usize {
        let i = k - 1;
        let want = ((t as u64) << 40) | i as u64;
        assert_eq!(dst.read(t * SLOTS + i % SLOTS).expect("read"), want);
    }
    shmem.barrier_all();
    if me == 0 {
        println!(
            "ctx_rate: {n} PEs, 2 threads, K={k}, {reps} reps: median default context {d:.0} msg/s, \
             private contexts {p:.0} msg/s, ratio {:.2}",
            p / d
        );
    }
}
