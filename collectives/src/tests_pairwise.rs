//! Pairwise contexts ([`CollCtx::pairwise`]): overlapping active sets sharing one context
//! per PE, against sequential references.

use crate::sim::{Pe, World};
use crate::types::{as_bytes, as_bytes_mut};
use crate::*;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// The algorithms address member `i`; this maps it to the world PE `members[i]`, as the
/// runtime's `TeamOps` does.
struct Mapped<'a> {
    pe: &'a Pe<'a>,
    members: &'a [usize],
    me: usize,
}

impl SyncOps for Mapped<'_> {
    fn my_pe(&self) -> usize {
        self.me
    }
    fn signal_add(&self, pe: usize, slot: usize, value: u64) {
        self.pe.signal_add(self.members[pe], slot, value)
    }
    fn wait_ge(&self, slot: usize, value: u64) {
        self.pe.wait_ge(slot, value)
    }
}

impl CollOps for Mapped<'_> {
    fn put_signal(&self, pe: usize, dst: usize, src: &[u8], slot: usize, value: u64) {
        self.pe.put_signal(self.members[pe], dst, src, slot, value)
    }
    fn read_local(&self, src: usize, dst: &mut [u8]) {
        self.pe.read_local(src, dst)
    }
    fn write_local(&self, dst: usize, src: &[u8]) {
        self.pe.write_local(dst, src)
    }
}

fn val(pe: usize, case: usize, i: usize) -> i64 {
    ((pe as i64 + 1) * 1_000_003) ^ ((case as i64) << 20) ^ i as i64
}

fn byte(pe: usize, case: usize, i: usize) -> u8 {
    (pe * 31 + case * 7 + i * 13) as u8
}

/// Six PEs, five overlapping sets (strided, a subset of the world, the world, one PE),
/// 120 collectives of every kind on sets picked pseudo-randomly from one global order,
/// each PE running the ones its sets take part in, with no barrier between calls (every
/// call has a fresh destination). Reductions are larger than scratch (several segments,
/// grants) and smaller; barriers are checked with arrival counters per set.
#[test]
fn overlapping_active_sets_share_one_context() {
    let n = 6;
    let sets: [&[usize]; 6] = [
        &[0, 1, 2, 3],
        &[2, 3, 4, 5],
        &[0, 2, 4],
        &[0, 1, 2, 3, 4, 5],
        &[5, 3, 1],
        &[4],
    ];
    let calls = 120;
    let region = 20_000;
    let mem = region * (calls + 1);
    let scratch = CollCtx::min_scratch(n);
    let w = World::new(n, mem + scratch, CollCtx::signal_slots(n));
    let arrived: Vec<AtomicUsize> = (0..sets.len()).map(|_| AtomicUsize::new(0)).collect();
    let barriers: Vec<usize> = (0..calls)
        .filter(|k| k % 7 == 6)
        .map(|k| k * 5 % sets.len())
        .fold(vec![0; sets.len()], |mut v, s| {
            v[s] += 1;
            v
        });
    w.run(|pe| {
        let mut c = CollCtx::pairwise(n, 0, mem, scratch);
        let mut done = vec![0usize; sets.len()];
        for k in 0..calls {
            let s = k * 5 % sets.len();
            let members = sets[s];
            let Some(ti) = members.iter().position(|&p| p == pe.me) else {
                continue;
            };
            let m = members.len();
            let ops = Mapped {
                pe,
                members,
                me: ti,
            };
            c.enter(members, ti);
            let dest = region * (k + 1);
            match k % 7 {
                0 | 1 => {
                    let len = if k % 2 == 0 { 2000 } else { 37 };
                    let src: Vec<i64> = (0..len).map(|i| val(pe.me, k, i)).collect();
                    pe.write_local(0, as_bytes(&src));
                    let alg = match k % 3 {
                        0 => ReduceAlgorithm::Ring,
                        1 if k % 4 < 2 => ReduceAlgorithm::Rabenseifner,
                        _ => ReduceAlgorithm::RecursiveDoubling,
                    };
                    c.reduce::<i64, _>(&ops, alg, Op::Sum, dest, 0, len);
                    let want: Vec<i64> = (0..len)
                        .map(|i| members.iter().map(|&p| val(p, k, i)).sum())
                        .collect();
                    let mut got = vec![0i64; len];
                    pe.read_local(dest, as_bytes_mut(&mut got));
                    assert_eq!(got, want, "call {k}: reduce over {members:?}");
                }
                2 => {
                    let len = 3000;
                    let src: Vec<u8> = (0..len).map(|i| byte(pe.me, k, i)).collect();
                    pe.write_local(0, &src);
                    let root = k % m;
                    let alg = if k % 2 == 0 {
                        BcastAlgorithm::Binomial
                    } else {
                        BcastAlgorithm::ScatterAllgather
                    };
                    c.broadcast(&ops, alg, root, dest, 0, len);
                    let mut got = vec![0u8; len];
                    pe.read_local(dest, &mut got);
                    let want: Vec<u8> = (0..len).map(|i| byte(members[root], k, i)).collect();
                    assert_eq!(got, want, "call {k}: broadcast over {members:?}");
                }
                3 => {
                    let len = 100;
                    let src: Vec<u8> = (0..len).map(|i| byte(pe.me, k, i)).collect();
                    pe.write_local(0, &src);
                    c.fcollect(&ops, CollectAlgorithm::Ring, dest, 0, len);
                    let mut got = vec![0u8; len * m];
                    pe.read_local(dest, &mut got);
                    let want: Vec<u8> = members
                        .iter()
                        .flat_map(|&p| (0..len).map(move |i| byte(p, k, i)))
                        .collect();
                    assert_eq!(got, want, "call {k}: fcollect over {members:?}");
                }
                4 => {
                    let mine = 10 * ti + 1;
                    let src: Vec<u8> = (0..mine).map(|i| byte(pe.me, k, i)).collect();
                    pe.write_local(0, &src);
                    let total = c.collect(
                        &ops,
                        |_, _| CollectAlgorithm::RecursiveDoubling,
                        dest,
                        0,
                        mine,
                    );
                    let want: Vec<u8> = members
                        .iter()
                        .enumerate()
                        .flat_map(|(j, &p)| (0..10 * j + 1).map(move |i| byte(p, k, i)))
                        .collect();
                    let mut got = vec![0u8; total];
                    pe.read_local(dest, &mut got);
                    assert_eq!(got, want, "call {k}: collect over {members:?}");
                }
                5 => {
                    let b = 40;
                    let src: Vec<u8> = (0..b * m).map(|i| byte(pe.me, k, i)).collect();
                    pe.write_local(0, &src);
                    c.alltoall(&ops, dest, 0, b);
                    let mut got = vec![0u8; b * m];
                    pe.read_local(dest, &mut got);
                    let want: Vec<u8> = members
                        .iter()
                        .flat_map(|&p| (ti * b..ti * b + b).map(move |i| byte(p, k, i)))
                        .collect();
                    assert_eq!(got, want, "call {k}: alltoall over {members:?}");
                }
                _ => {
                    done[s] += 1;
                    arrived[s].fetch_add(1, SeqCst);
                    c.barrier(&ops);
                    assert!(
                        arrived[s].load(SeqCst) >= done[s] * m,
                        "call {k}: a PE left barrier {} of {members:?} early",
                        done[s]
                    );
                }
            }
        }
    });
    for (s, &b) in barriers.iter().enumerate() {
        assert_eq!(arrived[s].load(SeqCst), b * sets[s].len());
    }
}

/// A set that is a strict subset with a negative-stride order, 500 barriers then a
/// reduction, while the others stay out: the shared counters of the absent PEs never move.
#[test]
fn pairwise_barriers_back_to_back() {
    let n = 5;
    let members = [4, 2, 0];
    let scratch = CollCtx::min_scratch(n);
    let w = World::new(n, 64 + scratch, CollCtx::signal_slots(n));
    let arrived = AtomicUsize::new(0);
    w.run(|pe| {
        let Some(ti) = members.iter().position(|&p| p == pe.me) else {
            return;
        };
        let mut c = CollCtx::pairwise(n, 0, 64, scratch);
        let ops = Mapped {
            pe,
            members: &members,
            me: ti,
        };
        c.enter(&members, ti);
        for e in 1..=500 {
            arrived.fetch_add(1, SeqCst);
            c.barrier(&ops);
            assert!(arrived.load(SeqCst) >= e * members.len());
        }
        pe.write_local(0, &(pe.me as i64 + 1).to_ne_bytes());
        c.reduce::<i64, _>(&ops, ReduceAlgorithm::RecursiveDoubling, Op::Sum, 8, 0, 1);
        let mut got = [0u8; 8];
        pe.read_local(8, &mut got);
        assert_eq!(i64::from_ne_bytes(got), 5 + 3 + 1);
    });
}
