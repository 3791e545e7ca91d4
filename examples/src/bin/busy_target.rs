//! Connections on demand (verbs): the target of a first contact is busy in a long
//! computation, outside any OpenSHMEM call, while the initiator connects to it and puts.
//! Its connection service must answer; otherwise the target's computation gives up after
//! 60 s and the program fails.
//!
//! `RSHMEM_TRANSPORT=verbs rshmemrun -n 8 busy_target`: PE 0 writes to PE 3 (with 8 PEs,
//! the barriers' dissemination partners of PE 0 are 1, 2, 4, 6 and 7, so the put is PE 0's
//! first contact with PE 3; the program checks that PE 0's queue-pair count grew by one).
use std::time::{Duration, Instant};

fn main() {
    let shmem = rshmem_examples::init_or_exit("busy_target");
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    if n != 8 {
        eprintln!("busy_target: run with 8 PEs (got {n})");
        std::process::exit(2);
    }
    let (initiator, target) = (0, 3);
    let flag = shmem.alloc(0u64).expect("alloc flag");
    shmem.barrier_all();
    let mut ok = true;
    if me == target {
        // The long computation: no OpenSHMEM call until the flag changes (a plain volatile
        // read of local memory), or 60 s.
        let t0 = Instant::now();
        let mut x = 1u64;
        // (`read` is a volatile load of the local copy: no OpenSHMEM call, no progress)
        while flag.read() == 0 {
            for _ in 0..10_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            if t0.elapsed() > Duration::from_secs(60) {
                eprintln!("busy_target: PE {target}: no put from PE {initiator} after 60 s of computation");
                std::process::exit(1);
            }
        }
        let v = flag.read();
        println!(
            "busy_target: PE {target} saw {v} from PE {initiator} while computing ({} ms, {x:x})",
            t0.elapsed().as_millis()
        );
        ok = v == 42;
    } else if me == initiator {
        // Give the target time to be deep in its computation.
        std::thread::sleep(Duration::from_millis(1500));
        let before = shmem.runtime().verbs_stats().map(|s| s.qps);
        flag.p(target, 42).expect("put");
        shmem.quiet();
        let after = shmem.runtime().verbs_stats().map(|s| s.qps);
        match (before, after) {
            (Some(b), Some(a)) if a == b + 1 => println!(
                "busy_target: PE {initiator} connected to PE {target} on demand ({b} -> {a} queue pairs)"
            ),
            _ => {
                eprintln!("busy_target: PE {initiator}'s queue pairs went {before:?} -> {after:?}: expected one new connection (RSHMEM_TRANSPORT=verbs?)");
                ok = false;
            }
        }
    }
    shmem.barrier_all();
    if !ok {
        std::process::exit(1);
    }
    if me == 0 {
        println!("busy_target: OK");
    }
}
