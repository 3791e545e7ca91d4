//! Scale check: init, a barrier, an alltoall (every block checked), finalize; PE 0 prints
//! `SCALE npes=N init_ms=.. max_init_ms=.. rss_kib=.. max_rss_kib=..`: the time `init`
//! took and the resident memory after the alltoall, on PE 0 and the largest over all PEs
//! (gathered with a max reduction).
//!
//! `rshmemrun -n 64 scale`
use rshmem_tests::pe::{self, word};
use std::time::Instant;

const PROG: &str = "scale";

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let t0 = Instant::now();
    let shmem = pe::init(PROG);
    let init_us = t0.elapsed().as_micros() as u64;
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    shmem.barrier_all();
    let world = shmem.team_world();
    let src = shmem.alloc_slice::<u64>(n).expect("alloc src");
    let dest = shmem.alloc_slice::<u64>(n).expect("alloc dest");
    let mine: Vec<u64> = (0..n).map(|j| word(me, j, 1, 0)).collect();
    src.write_slice(0, &mine).expect("fill src");
    world.alltoall(&dest, &src, 1).expect("alltoall");
    let got = dest.to_vec();
    for (j, &g) in got.iter().enumerate() {
        assert_eq!(
            g,
            word(j, me, 1, 0),
            "PE {me}: alltoall block {j} holds the wrong word"
        );
    }
    let rss = rss_kib();
    let stats = shmem.alloc_slice::<u64>(2).expect("alloc stats");
    let maxes = shmem.alloc_slice::<u64>(2).expect("alloc maxes");
    stats.write_slice(0, &[init_us, rss]).expect("stats");
    world
        .reduce(rshmem::Op::Max, &maxes, &stats, 2)
        .expect("max reduce");
    if me == 0 {
        let m = maxes.to_vec();
        pe::say(&format!(
            "SCALE npes={n} init_ms={:.1} max_init_ms={:.1} rss_kib={rss} max_rss_kib={}",
            init_us as f64 / 1000.0,
            m[0] as f64 / 1000.0,
            m[1]
        ));
    }
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}
