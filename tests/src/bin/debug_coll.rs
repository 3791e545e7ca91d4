//! `SHMEM_DEBUG` checks of the Rust collectives' arguments; the mode is the first argument:
//!
//! - `agree`: every collective with the same arguments on every PE (must pass with and
//!   without `SHMEM_DEBUG`), on the world and on a split team.
//! - `root`: broadcast with root = PE % 2.
//! - `n`: fcollect with n = 1 + PE.
//! - `op`: reduce with Sum on PE 0, Max elsewhere.
use rshmem::Op;
use rshmem_tests::pe;

const PROG: &str = "debug_coll";

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let shmem = pe::init(PROG);
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let world = shmem.team_world();
    let src = shmem.alloc_slice::<u64>(16).unwrap();
    let dest = shmem.alloc_slice::<u64>(16 * n).unwrap();
    src.write_slice(
        0,
        &(0..16).map(|i| (me * 100 + i) as u64).collect::<Vec<_>>(),
    )
    .unwrap();
    shmem.barrier_all();
    match mode.as_str() {
        "root" => world.broadcast(&dest, &src, 4, me % 2).unwrap(),
        "n" => world.fcollect(&dest, &src, 1 + me).unwrap(),
        "op" => {
            let op = if me == 0 { Op::Sum } else { Op::Max };
            world.reduce(op, &dest, &src, 4).unwrap()
        }
        "agree" => {
            world.broadcast(&dest, &src, 4, 0).unwrap();
            assert_eq!(dest.to_vec()[..4], [0, 1, 2, 3], "PE {me}: broadcast");
            world.sync();
            world.collect(&dest, &src, me).unwrap(); // n may differ per PE
            world.sync();
            world.fcollect(&dest, &src, 2).unwrap();
            world.sync();
            world.alltoall(&dest, &src, 1).unwrap();
            world.sync();
            world.reduce(Op::Sum, &dest, &src, 4).unwrap();
            let want: u64 = (0..n as u64).map(|p| p * 100).sum();
            assert_eq!(dest.to_vec()[0], want, "PE {me}: sum");
            world.sync();
            world.sum_inscan(&dest, &src, 4).unwrap();
            if let Some(evens) = shmem
                .team_split_strided(&world, 0, 2, n.div_ceil(2))
                .unwrap()
            {
                evens.broadcast(&dest, &src, 4, 0).unwrap();
                assert_eq!(dest.to_vec()[3], 3, "PE {me}: team broadcast");
            }
        }
        other => panic!("unknown mode {other:?}"),
    }
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}
