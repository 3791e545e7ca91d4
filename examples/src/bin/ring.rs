//! A token travels around all PEs `laps` times (default 3), each hop a `put_signal`: the
//! data (the token) lands before the signal that announces it. PE 0 checks the final value.
//!
//! `rshmemrun -n 4 ring [laps]`
use rshmem::{Cmp, SignalOp};

fn main() {
    let shmem = rshmem_examples::init_or_exit("ring");
    let laps: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("laps must be a number"))
        .unwrap_or(3);
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let token = shmem.alloc_slice::<u64>(1).expect("alloc token");
    let signal = shmem.alloc(0u64).expect("alloc signal");
    let next = (me + 1) % n;
    for lap in 1..=laps {
        // PE 0 starts lap 1; everyone else waits for this lap's token from the left, and
        // PE 0 for the previous lap's token to come back.
        let arrivals = if me == 0 { lap - 1 } else { lap };
        signal.wait_until(Cmp::Ge, arrivals);
        let t = token.read(0).expect("local token") + 1;
        if me == 0 && lap > 1 {
            println!("ring: lap {} done, token {}", lap - 1, t - 1);
        }
        token
            .put_signal(next, 0, &[t], &signal, 1, SignalOp::Add)
            .expect("put_signal");
    }
    if me == 0 {
        signal.wait_until(Cmp::Ge, laps);
        let t = token.read(0).expect("local token");
        let want = laps * n as u64;
        println!("ring: lap {laps} done, token {t}");
        if t != want {
            eprintln!("ring: token is {t}, expected {want}");
            std::process::exit(1);
        }
        println!("ring: OK, {n} PEs, {laps} laps");
    }
    shmem.barrier_all();
}
