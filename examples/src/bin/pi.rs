//! Monte Carlo estimate of pi: every PE throws darts, the hit counts are combined with
//! atomic adds into PE 0's counters.
//!
//! `rshmemrun -n 4 pi [darts_per_pe]`
fn main() {
    let shmem = rshmem_examples::init_or_exit("pi");
    let darts: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("darts must be a number"))
        .unwrap_or(1_000_000);
    let me = shmem.my_pe();
    let hits = shmem.alloc(0u64).expect("alloc");
    let thrown = shmem.alloc(0u64).expect("alloc");
    let mut rng = rshmem_examples::Rng::new(0xC0FFEE + me as u64);
    let mut inside = 0u64;
    for _ in 0..darts {
        let (x, y) = (rng.next_f64(), rng.next_f64());
        if x * x + y * y < 1.0 {
            inside += 1;
        }
    }
    hits.add(0, inside).expect("add");
    thrown.add(0, darts).expect("add");
    shmem.barrier_all();
    if me == 0 {
        let (h, t) = (hits.read(), thrown.read());
        let pi = 4.0 * h as f64 / t as f64;
        println!(
            "pi ~= {pi:.6} ({t} darts on {} PEs, error {:.2e})",
            shmem.n_pes(),
            (pi - std::f64::consts::PI).abs()
        );
        if t != darts * shmem.n_pes() as u64 || (pi - std::f64::consts::PI).abs() > 0.05 {
            eprintln!("pi: implausible result");
            std::process::exit(1);
        }
    }
}
