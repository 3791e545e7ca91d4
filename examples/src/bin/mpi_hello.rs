//! MPI and rshmem in one program (cargo feature `mpi`): MPI is initialized first, rshmem
//! then bootstraps over `MPI_COMM_WORLD`, and both are used side by side.
//!
//! ```text
//! cargo build --release -p rshmem-examples --features mpi --bin mpi_hello
//! RSHMEM_BOOTSTRAP=mpi mpiexec.hydra -n 4 target/release/mpi_hello
//! ```
//! Checks that PE numbers are MPI ranks, an `MPI_Allreduce`, an rshmem put + barrier and
//! fetch-adds (their old values cross-checked through `MPI_Allgather`), and that MPI still
//! works after rshmem has finalized. Rank 0 prints `mpi_hello: ok on N PEs`.
//!
//! With `--shmem-first`, rshmem is initialized before MPI (and so initializes MPI itself,
//! under `RSHMEM_BOOTSTRAP=mpi`); MPI is then used through `MPI_COMM_WORLD` and rshmem's
//! finalize also finalizes MPI.
use mpi::collective::SystemOperation;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

fn fail(msg: &str) -> ! {
    eprintln!("mpi_hello: {msg}");
    std::process::exit(1)
}

/// The rshmem half; returns this PE's fetch-add result.
fn shmem_part(shmem: &rshmem::Shmem, world: &SimpleCommunicator) -> u64 {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    if me != world.rank() as usize || n != world.size() as usize {
        fail(&format!(
            "PE {me} of {n} but MPI rank {} of {}",
            world.rank(),
            world.size()
        ));
    }
    // Put: every PE writes me+1 into slot `me` of its right neighbour.
    let slots = shmem
        .alloc_slice::<u64>(n)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let counter = shmem.alloc(0u64).unwrap_or_else(|e| fail(&e.to_string()));
    shmem.barrier_all();
    let (right, left) = ((me + 1) % n, (me + n - 1) % n);
    slots
        .put(right, me, &[me as u64 + 1])
        .unwrap_or_else(|e| fail(&e.to_string()));
    shmem.barrier_all();
    let got = slots.read(left).unwrap_or_else(|e| fail(&e.to_string()));
    if got != left as u64 + 1 {
        fail(&format!(
            "PE {me}: slot {left} holds {got}, expected {}",
            left + 1
        ));
    }
    // Fetch-add on PE 0's counter.
    let old = counter
        .fetch_add(0, me as u64 + 1)
        .unwrap_or_else(|e| fail(&e.to_string()));
    shmem.barrier_all();
    let total = (n * (n + 1) / 2) as u64;
    if me == 0 && counter.read() != total {
        fail(&format!("counter is {}, expected {total}", counter.read()));
    }
    println!("mpi_hello: PE {me} of {n} OK");
    old
}

/// The MPI half: a sum of ranks, and the fetch-add results gathered and checked.
fn mpi_part(world: &SimpleCommunicator, old: u64) {
    let (rank, size) = (world.rank() as u64, world.size() as usize);
    let mut sum = 0u64;
    world.all_reduce_into(&rank, &mut sum, SystemOperation::sum());
    let want = (size * (size - 1) / 2) as u64;
    if sum != want {
        fail(&format!("MPI_Allreduce gave {sum}, expected {want}"));
    }
    // The old values of the fetch-adds: distinct, and each below the final total.
    let mut olds = vec![0u64; size];
    world.all_gather_into(&old, &mut olds[..]);
    let mut sorted = olds.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let total = (size * (size + 1) / 2) as u64;
    if sorted.len() != size || olds.iter().any(|&o| o >= total) {
        fail(&format!(
            "fetch-add old values {olds:?} are not distinct values below {total}"
        ));
    }
}

fn main() {
    let shmem_first = std::env::args().nth(1).as_deref() == Some("--shmem-first");
    if shmem_first {
        let shmem = rshmem_examples::init_or_exit("mpi_hello");
        if !mpi::is_initialized() {
            fail("rshmem did not initialize MPI (run with RSHMEM_BOOTSTRAP=mpi)");
        }
        if mpi::initialize().is_some() {
            fail("MPI initialized twice");
        }
        let world = SimpleCommunicator::world();
        let old = shmem_part(&shmem, &world);
        mpi_part(&world, old);
        let rank = world.rank();
        let size = world.size();
        // rshmem initialized MPI, so its finalize finalizes MPI as well.
        shmem.finalize();
        if !mpi::is_finalized() {
            fail("rshmem initialized MPI but did not finalize it");
        }
        if rank == 0 {
            println!("mpi_hello: ok on {size} PEs");
        }
        return;
    }
    let universe = mpi::initialize().unwrap_or_else(|| fail("MPI is already initialized"));
    let world = universe.world();
    let shmem = rshmem_examples::init_or_exit("mpi_hello");
    let old = shmem_part(&shmem, &world);
    shmem.finalize();
    // The program initialized MPI: it is still usable after rshmem's finalize.
    if mpi::is_finalized() {
        fail("rshmem finalized the program's MPI");
    }
    mpi_part(&world, old);
    if world.rank() == 0 {
        println!("mpi_hello: ok on {} PEs", world.size());
    }
    drop(universe);
}
