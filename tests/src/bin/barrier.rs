//! Back-to-back barriers: before barrier k every PE adds 1 to a counter on PE k mod n;
//! right after it every PE reads that counter, which must hold exactly n * (k / n + 1):
//! a PE that passed the barrier before every PE reached it would see less. Even k use
//! `barrier_all`, odd k `quiet` + `sync_all`.
//!
//! `rshmemrun -n N barrier [ITERS]`
use rshmem_tests::pe;
use std::time::Instant;

const PROG: &str = "barrier";

fn main() {
    let shmem = pe::init(PROG);
    let iters: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("ITERS"))
        .unwrap_or(2000);
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let c = shmem.alloc(0u64).unwrap();
    let start = Instant::now();
    for k in 0..iters {
        let owner = k % n;
        c.add(owner, 1).unwrap();
        if k % 2 == 0 {
            shmem.barrier_all();
        } else {
            shmem.quiet();
            shmem.sync_all();
        }
        let got = c.fetch(owner).unwrap();
        let want = (n * (k / n + 1)) as u64;
        assert_eq!(
            got, want,
            "PE {me}: after barrier {k} the counter on PE {owner} is {got}, expected {want}"
        );
    }
    let secs = start.elapsed().as_secs_f64();
    shmem.barrier_all();
    if me == 0 {
        pe::say(&format!("BARRIERS {iters} in {secs:.3} s"));
    }
    pe::ok(&shmem, PROG);
}
