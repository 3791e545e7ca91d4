//! Distributed locks.
//!
//! - Mutual exclusion: every PE does ITERS iterations of lock A → (nested) lock B →
//!   non-atomic read-modify-write (g, then p of value+1) of counter A on PE 0 and counter B
//!   on the last PE → unlock B → unlock A. The finals must be exactly `n * ITERS`, and an
//!   occupancy count (AMO) proves nobody else was inside at the same time.
//! - `try_lock`: fails while another PE holds the lock, succeeds once it is free; of n PEs
//!   trying at once while the winner keeps holding, exactly one wins.
//!
//! `rshmemrun -n N lock [ITERS]`
use rshmem::Shmem;
use rshmem_tests::pe;

const PROG: &str = "lock";

fn main() {
    let shmem = pe::init(PROG);
    let iters: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("ITERS"))
        .unwrap_or(500);
    counters(&shmem, iters);
    try_lock(&shmem);
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}

fn counters(shmem: &Shmem, iters: u64) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let last = n - 1;
    let lock_a = shmem.alloc_lock().unwrap();
    let lock_b = shmem.alloc_lock().unwrap();
    let ca = shmem.alloc(0u64).unwrap();
    let cb = shmem.alloc(0u64).unwrap();
    let inside = shmem.alloc(0i64).unwrap();
    for i in 0..iters {
        let ga = lock_a.lock().unwrap();
        assert_eq!(
            inside.fetch_inc(0).unwrap(),
            0,
            "PE {me}: someone else holds lock A (iteration {i})"
        );
        let v = ca.g(0).unwrap();
        ca.p(0, v + 1).unwrap();
        {
            let _gb = lock_b.lock().unwrap();
            let v = cb.g(last).unwrap();
            if i % 3 == 0 {
                std::thread::yield_now(); // widen the window for a lost update
            }
            cb.p(last, v + 1).unwrap();
        }
        assert_eq!(
            inside.fetch_add(0, -1).unwrap(),
            1,
            "PE {me}: lock A occupancy changed while held"
        );
        drop(ga);
    }
    shmem.barrier_all();
    let want = n as u64 * iters;
    assert_eq!(
        ca.g(0).unwrap(),
        want,
        "PE {me}: counter A on PE 0 (lost updates?)"
    );
    assert_eq!(
        cb.g(last).unwrap(),
        want,
        "PE {me}: counter B on PE {last} (lost updates?)"
    );
    if me == 0 {
        pe::say(&format!("COUNTERS {} {}", ca.read(), cb.g(last).unwrap()));
    }
    shmem.barrier_all();
}

fn try_lock(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let lock = shmem.alloc_lock().unwrap();
    let wins = shmem.alloc(0u64).unwrap();
    let holder = n - 1;
    // Held by `holder`: everybody else fails, repeatedly.
    let g = if me == holder {
        Some(lock.lock().unwrap())
    } else {
        None
    };
    shmem.barrier_all();
    if me != holder {
        for _ in 0..3 {
            assert!(
                lock.try_lock().unwrap().is_none(),
                "PE {me}: try_lock succeeded on a lock PE {holder} holds"
            );
        }
    }
    shmem.barrier_all();
    drop(g);
    shmem.barrier_all();
    // Free: each PE in turn gets it at once.
    for turn in 0..n {
        if me == turn {
            let g = lock.try_lock().unwrap();
            assert!(g.is_some(), "PE {me}: try_lock failed on a free lock");
        }
        shmem.barrier_all();
    }
    // Everyone at once; the winners hold the lock until after the barrier: exactly one.
    let g = lock.try_lock().unwrap();
    if g.is_some() {
        wins.inc(0).unwrap();
    }
    shmem.barrier_all();
    assert_eq!(
        wins.g(0).unwrap(),
        1,
        "PE {me}: number of simultaneous try_lock winners"
    );
    shmem.barrier_all();
    drop(g);
    shmem.barrier_all();
    // And a blocking lock still works afterwards.
    drop(lock.lock().unwrap());
    shmem.barrier_all();
}
