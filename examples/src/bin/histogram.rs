//! A distributed histogram: the bins are spread over all PEs, every PE draws random values
//! and increments the owning PE's bin with a remote atomic fetch-add. The totals are checked
//! (every PE reads all bins); the program exits non-zero if a single increment was lost.
//!
//! `rshmemrun -n 4 histogram [samples_per_pe] [bins_per_pe]`
fn main() {
    let shmem = rshmem_examples::init_or_exit("histogram");
    let mut args = std::env::args().skip(1);
    let samples: u64 = args
        .next()
        .map(|a| a.parse().expect("samples must be a number"))
        .unwrap_or(100_000);
    let per_pe: usize = args
        .next()
        .map(|a| a.parse().expect("bins must be a number"))
        .unwrap_or(16);
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let bins = shmem.alloc_slice::<u64>(per_pe).expect("alloc bins");
    let mut rng = rshmem_examples::Rng::new(me as u64 + 1);
    let mut mine = vec![0u64; per_pe * n];
    for _ in 0..samples {
        let b = (rng.next_u64() % (per_pe * n) as u64) as usize;
        mine[b] += 1;
        let (owner, slot) = (b / per_pe, b % per_pe);
        bins.at(slot)
            .and_then(|r| r.fetch_add(owner, 1))
            .expect("fetch_add");
    }
    shmem.barrier_all();
    // Everyone's total.
    let mut total = 0u64;
    let mut all = vec![0u64; per_pe];
    for pe in 0..n {
        bins.get(pe, 0, &mut all).expect("get bins");
        total += all.iter().sum::<u64>();
    }
    let want = samples * n as u64;
    let counts = shmem.alloc_slice::<u64>(per_pe * n).expect("alloc counts");
    // Add my own draws into PE 0's reference histogram to check every bin, not just the sum.
    for (b, c) in mine.iter().enumerate() {
        counts.at(b).and_then(|r| r.add(0, *c)).expect("add");
    }
    shmem.barrier_all();
    let mut bad = total != want;
    if me == 0 {
        for b in 0..per_pe * n {
            let got = bins
                .at(b % per_pe)
                .and_then(|r| r.g(b / per_pe))
                .expect("g");
            let expect = counts.read(b).expect("read");
            if got != expect {
                eprintln!("histogram: bin {b} holds {got}, expected {expect}");
                bad = true;
            }
        }
        println!(
            "histogram: {n} PEs x {samples} samples into {} bins, total {total} (expected {want})",
            per_pe * n
        );
    }
    if bad {
        eprintln!("histogram: PE {me}: WRONG totals");
        std::process::exit(1);
    }
    if me == 0 {
        println!("histogram: OK");
    }
}
