//! Target of `cm_forge` (scripts/verbs-tests.sh): 2 PEs, verbs connections on demand. Both
//! PEs wait, before any communication, until the file named by `CM_TARGET_GO` exists (at
//! most 60 s), so that forged connect requests reach PE 1's connection service first.
//! Then the PEs connect (the allocation's barrier: a QP accepted for a forged "PE 0" would
//! be adopted by PE 1 there), put to each other and check what arrived.
use std::time::{Duration, Instant};

fn main() {
    let shmem = rshmem::init().unwrap_or_else(|e| {
        eprintln!("cm_target: {e}");
        std::process::exit(1)
    });
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    assert_eq!(n, 2, "cm_target: run with 2 PEs");
    let go = std::env::var("CM_TARGET_GO").expect("CM_TARGET_GO");
    let t0 = Instant::now();
    while !std::path::Path::new(&go).exists() {
        if t0.elapsed() > Duration::from_secs(60) {
            eprintln!("cm_target: PE {me}: {go} did not appear in 60 s");
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The allocation's barrier is the first contact between the PEs (both ways at once).
    let cell = shmem.alloc(0u64).expect("alloc");
    let other = 1 - me;
    cell.p(other, 100 + me as u64).expect("put");
    shmem.barrier_all();
    let got = cell.read();
    let want = 100 + other as u64;
    if got != want {
        eprintln!("cm_target: PE {me}: got {got} from PE {other}, expected {want}");
        std::process::exit(1);
    }
    println!("cm_target: PE {me} OK");
}
