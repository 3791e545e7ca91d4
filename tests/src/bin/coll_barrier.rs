//! Back-to-back team barriers: before barrier k every PE adds 1 to a counter on world PE
//! k mod n; right after it every PE reads that counter, which must hold exactly
//! n * (k / n + 1): a PE that left barrier k before every PE reached it would see less.
//! Even k use `barrier` on the world team, odd k `quiet` + `sync` on the reversed world
//! (a team created by `team_split_strided` with stride -1), so the two teams' barriers
//! interleave.
//!
//! `rshmemrun -n N coll_barrier [ITERS]`
use rshmem_tests::pe;
use std::time::Instant;

const PROG: &str = "coll_barrier";

fn main() {
    let shmem = pe::init(PROG);
    let iters: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("ITERS"))
        .unwrap_or(10_000);
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let world = shmem.team_world();
    let rev = shmem
        .team_split_strided(&world, n - 1, -1, n)
        .unwrap()
        .unwrap();
    let c = shmem.alloc(0u64).unwrap();
    let start = Instant::now();
    for k in 0..iters {
        let owner = k % n;
        c.add(owner, 1).unwrap();
        if k % 2 == 0 {
            world.barrier();
        } else {
            shmem.quiet();
            rev.sync();
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
    drop(rev);
    pe::ok(&shmem, PROG);
}
