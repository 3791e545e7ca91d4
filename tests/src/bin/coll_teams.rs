//! The team API: predefined teams, translation, split argument checks (every invalid
//! argument named, on every PE, nothing created, later splits still agree), 2-D edge cases,
//! configuration, collectives on two overlapping teams interleaved, and more live teams
//! than the internal area holds (scratch from the symmetric heap for splits of the world;
//! `TeamSpace` for a smaller parent), then destroying and recreating them all.
//!
//! `rshmemrun -n N coll_teams [ROUNDS]`
use rshmem::{Error, Op, Team, TeamConfig};
use rshmem_tests::pe;

const PROG: &str = "coll_teams";

fn arg_of<T: std::fmt::Debug>(r: rshmem::Result<T>) -> &'static str {
    match r {
        Err(Error::InvalidArgument { arg, .. }) => arg,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

fn main() {
    let shmem = pe::init(PROG);
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("ROUNDS"))
        .unwrap_or(200);
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let world = shmem.team_world();
    let shared = shmem.team_shared();
    assert_eq!((world.my_pe(), world.n_pes()), (me, n));
    assert_eq!((shared.my_pe(), shared.n_pes()), (me, n), "one node");
    assert_eq!(world.translate_pe(n - 1, &shared), Some(n - 1));
    assert_eq!(world.translate_pe(n, &shared), None);
    assert_eq!(world.config(), TeamConfig::default());

    // invalid arguments: an error naming the argument, on every PE, and nothing created
    assert_eq!(arg_of(shmem.team_split_strided(&world, n, 1, 1)), "start");
    assert_eq!(arg_of(shmem.team_split_strided(&world, 0, 1, 0)), "size");
    assert_eq!(arg_of(shmem.team_split_strided(&world, 0, 0, 2)), "stride");
    assert_eq!(
        arg_of(shmem.team_split_strided(&world, 0, 1, n + 1)),
        "size"
    );
    assert_eq!(arg_of(shmem.team_split_strided(&world, 0, -1, 2)), "size");
    assert_eq!(arg_of(shmem.team_split_2d(&world, 0)), "xrange");

    // 2-D with xrange >= n: one row (the world), singleton columns
    let (row, col) = shmem.team_split_2d(&world, n + 5).unwrap();
    assert_eq!((row.my_pe(), row.n_pes()), (me, n));
    assert_eq!((col.my_pe(), col.n_pes()), (0, 1));
    assert_eq!(col.translate_pe(0, &world), Some(me));
    // a row and a column meet only in this PE
    let (r2, c2) = shmem.team_split_2d(&world, 2).unwrap();
    for i in 0..r2.n_pes() {
        let other = r2.translate_pe(i, &c2);
        assert_eq!(other.is_some(), i == r2.my_pe(), "row PE {i} in my column?");
    }
    drop((row, col, r2, c2));

    // configuration
    let cfg = TeamConfig { num_contexts: 3 };
    let t = shmem
        .team_split_strided_with_config(&world, 0, 1, n, cfg)
        .unwrap()
        .unwrap();
    assert_eq!(t.config(), cfg);
    t.destroy();

    // two overlapping teams, collectives interleaved: sums on the reversed world, broadcasts
    // on the PEs from 1 on with stride 2 (empty-handed PEs skip those)
    let rev = shmem
        .team_split_strided(&world, n - 1, -1, n)
        .unwrap()
        .unwrap();
    let odd = shmem
        .team_split_strided(&world, 1.min(n - 1), 2, (n - 1.min(n - 1)).div_ceil(2))
        .unwrap();
    let a = shmem.alloc_slice::<u64>(4).unwrap();
    let b = shmem.alloc_slice::<i32>(64).unwrap();
    let bsrc = shmem.alloc_slice::<i32>(64).unwrap();
    for r in 0..rounds {
        a.write_slice(0, &[me as u64 + r as u64; 4]).unwrap();
        rev.reduce(Op::Sum, &a, &a, 4).unwrap();
        if let Some(o) = &odd {
            let root = r % o.n_pes();
            bsrc.write_slice(0, &[(o.my_pe() * 1000 + r) as i32; 64])
                .unwrap();
            o.broadcast(&b, &bsrc, 64, root).unwrap();
            assert_eq!(b.to_vec(), vec![(root * 1000 + r) as i32; 64], "round {r}");
        }
        let want = (n * (n - 1) / 2 + n * r) as u64;
        assert_eq!(a.to_vec(), vec![want; 4], "round {r}");
        // the next round overwrites dest: everyone must have read it
        rev.sync();
        if let Some(o) = &odd {
            o.sync();
        }
    }

    // more teams than the internal area holds
    let x = shmem.alloc_slice::<u64>(1).unwrap();
    // all PEs but the last (none when alone)
    let sub = match n {
        1 => None,
        _ => shmem.team_split_strided(&world, 0, 1, n - 1).unwrap(),
    };
    for pass in 0..2 {
        let many: Vec<Team> = (0..80)
            .map(|i| {
                shmem
                    .team_split_strided(&world, 0, 1, n)
                    .unwrap_or_else(|e| panic!("pass {pass} team {i}: {e}"))
                    .unwrap()
            })
            .collect();
        let mut extra = Vec::new();
        if let Some(sub) = &sub {
            // a parent smaller than the world cannot use the heap: its splits succeed
            // while a free run is left, then fail with TeamSpace (on every member alike)
            loop {
                match shmem.team_split_strided(sub, 0, 1, sub.n_pes()) {
                    Ok(t) => extra.push(t),
                    Err(Error::TeamSpace { .. }) => break,
                    Err(e) => panic!("expected TeamSpace, got {e}"),
                }
                assert!(extra.len() < 5, "the internal area should be full");
            }
        }
        for (i, t) in many.iter().enumerate() {
            x.write(0, (me + i) as u64).unwrap();
            t.reduce(Op::Max, &x, &x, 1).unwrap();
            assert_eq!(x.read(0).unwrap(), (n - 1 + i) as u64, "team {i}");
            t.sync();
        }
        drop((many, extra));
    }
    drop((rev, odd, sub));
    pe::ok(&shmem, PROG);
}
