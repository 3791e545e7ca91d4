//! Checks aimed at the RDMA verbs transport (correct over shared memory too); run it with
//! `RSHMEM_TRANSPORT=verbs` (scripts/verbs-tests.sh does, in the Soft-RoCE VM):
//! - put/get, blocking and nbi + quiet, 1 B .. 1 MiB at unaligned offsets (remote and
//!   local), to and from every PE itself included (inline, bounce-buffer and zero-copy
//!   paths), guard bytes untouched;
//! - 4 MiB put/get across a registration-chunk boundary (allocated after init: the heap's
//!   registration grows);
//! - AMOs under contention: 64-bit fetch-add (NIC), 32-bit add on both halves of one
//!   64-bit word (CAS loop), CAS-loop increments, xor totals;
//! - put_signal: the data is there when the signal is;
//! - put_nbi + fence + flag, put_nbi + quiet + atomic flag;
//! - post lists (small put_nbis are held back and posted as one list): a burst of 1000
//!   8-byte put_nbis + fence + flag arrives whole; a ring of put_nbis answered by put_nbis,
//!   with no quiet at all, does not deadlock (waits post what is held back).
//!
//! `rshmemrun -n N verbs_rma` | `rshmemrun -n N verbs_rma exhaust` (heap exhaustion is a
//! clean error, and the heap still works afterwards).
use rshmem::{Cmp, Error, Shmem, SignalOp};
use rshmem_tests::pe::{self, byte, first_mismatch};

const PROG: &str = "verbs_rma";
const SIZES: &[usize] = &[1, 7, 64, 255, 513, 4096 + 3, 65536 + 5, (1 << 20) + 11];
const SLOT: usize = (1 << 20) + 64;
const GUARD: usize = 16;
const POISON: u8 = 0xA5;
const SKEW: usize = 5;
const BIG: usize = 4 << 20;
const K: u64 = 20;

fn main() {
    let shmem = pe::init(PROG);
    if std::env::args().nth(1).as_deref() == Some("exhaust") {
        exhaust(&shmem);
    } else {
        rma(&shmem);
        big(&shmem);
        amos(&shmem);
        signal(&shmem);
        quiet_fence(&shmem);
        post_lists(&shmem);
    }
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}

fn pattern(src: usize, dst: usize, round: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| byte(src, dst, round, i)).collect()
}

fn rma(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let inbox = shmem.alloc_slice::<u8>(n * SLOT).expect("alloc inbox");
    for (round, &len) in SIZES.iter().enumerate() {
        for nbi in [false, true] {
            let round = round * 2 + nbi as usize;
            // SAFETY: only this PE touches its own inbox between the barriers.
            unsafe { inbox.as_mut_slice().fill(POISON) };
            shmem.barrier_all();
            let mut bufs = Vec::new();
            for t in (1..=n).map(|k| (me + k) % n) {
                let mut src = vec![0u8; len + SKEW];
                src[SKEW..].copy_from_slice(&pattern(me, t, round, len));
                if nbi {
                    // SAFETY: `src` lives in `bufs` until after the quiet.
                    unsafe { inbox.put_nbi(t, me * SLOT + 3, &src[SKEW..]) }.expect("put_nbi");
                } else {
                    inbox.put(t, me * SLOT + 3, &src[SKEW..]).expect("put");
                }
                bufs.push(src);
            }
            shmem.barrier_all();
            drop(bufs);
            // SAFETY: everyone's puts to us completed before the barrier.
            let local = unsafe { inbox.as_slice() };
            for s in 0..n {
                let blk = &local[s * SLOT + 3..s * SLOT + 3 + len];
                if let Some(i) = first_mismatch(blk, s, me, round) {
                    panic!("PE {me}: put of {len} B from PE {s} (round {round}) wrong at byte {i}");
                }
                assert!(
                    local[s * SLOT..s * SLOT + 3].iter().all(|&b| b == POISON)
                        && local[s * SLOT + 3 + len..s * SLOT + 3 + len + GUARD]
                            .iter()
                            .all(|&b| b == POISON),
                    "PE {me}: guard bytes around the {len} B block from PE {s} overwritten"
                );
            }
            // Read back what we wrote on every PE.
            for t in (1..=n).map(|k| (me + k) % n) {
                let mut dst = vec![0u8; len + SKEW + GUARD];
                if nbi {
                    // SAFETY: `dst` outlives the quiet below.
                    unsafe { inbox.get_nbi(t, me * SLOT + 3, &mut dst[SKEW..SKEW + len]) }
                        .expect("get_nbi");
                    shmem.quiet();
                } else {
                    inbox
                        .get(t, me * SLOT + 3, &mut dst[SKEW..SKEW + len])
                        .expect("get");
                }
                if let Some(i) = first_mismatch(&dst[SKEW..SKEW + len], me, t, round) {
                    panic!("PE {me}: get of {len} B from PE {t} (round {round}) wrong at byte {i}");
                }
                assert!(
                    dst[SKEW + len..].iter().all(|&b| b == 0),
                    "get wrote past the end"
                );
            }
            shmem.barrier_all();
        }
    }
    if me == 0 {
        pe::say(&format!("{PROG}: put/get 1 B .. 1 MiB to {n} PEs OK"));
    }
}

fn big(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let buf = shmem.alloc_slice::<u8>(BIG + 64).expect("alloc big");
    let next = (me + 1) % n;
    let src = pattern(me, next, 99, BIG);
    buf.put(next, 7, &src).expect("big put");
    shmem.barrier_all();
    // SAFETY: the put to us completed before the barrier.
    let local = unsafe { buf.as_slice() };
    let prev = (me + n - 1) % n;
    if let Some(i) = first_mismatch(&local[7..7 + BIG], prev, me, 99) {
        panic!("PE {me}: 4 MiB put from PE {prev} wrong at byte {i}");
    }
    let mut back = vec![0u8; BIG + 3];
    buf.get(next, 7, &mut back[3..]).expect("big get");
    assert!(
        back[3..] == src[..],
        "PE {me}: 4 MiB get from PE {next} differs"
    );
    shmem.barrier_all();
    if me == 0 {
        pe::say(&format!("{PROG}: 4 MiB put/get OK"));
    }
}

fn amos(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let c64 = shmem.alloc(0u64).expect("alloc");
    let c32 = shmem.alloc_slice::<u32>(2).expect("alloc");
    let cas = shmem.alloc(0u64).expect("alloc");
    let x = shmem.alloc(0u64).expect("alloc");
    shmem.barrier_all();
    for k in 0..K {
        for t in (1..=n).map(|j| (me + j) % n) {
            c64.fetch_add(t, 1).expect("fetch_add");
            c32.at((me + k as usize) % 2)
                .expect("at")
                .add(t, 1)
                .expect("add32");
            let mut cur = cas.fetch(t).expect("fetch");
            loop {
                let got = cas.compare_swap(t, cur, cur + 1).expect("cas");
                if got == cur {
                    break;
                }
                cur = got;
            }
            x.xor(t, 1 << me).expect("xor");
        }
    }
    shmem.barrier_all();
    let tot = n as u64 * K;
    assert_eq!(c64.read(), tot, "PE {me}: 64-bit fetch_add total");
    let halves = c32.to_vec();
    assert_eq!(
        halves[0] as u64 + halves[1] as u64,
        tot,
        "PE {me}: 32-bit add totals {halves:?}"
    );
    assert_eq!(cas.read(), tot, "PE {me}: CAS-loop total");
    let want_x = if K % 2 == 1 { (1u64 << n) - 1 } else { 0 };
    assert_eq!(x.read(), want_x, "PE {me}: xor total");
    // Fetch through the transport agrees with the local value.
    assert_eq!(c64.fetch(me).expect("fetch"), tot);
    shmem.barrier_all();
    if me == 0 {
        pe::say(&format!(
            "{PROG}: AMOs under contention OK ({tot} per counter)"
        ));
    }
}

fn signal(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    const LEN: usize = 100_000;
    const ROUNDS: usize = 3;
    let data = shmem.alloc_slice::<u8>(ROUNDS * LEN).expect("alloc");
    let sig = shmem.alloc_slice::<u64>(1).expect("alloc");
    let (next, prev) = ((me + 1) % n, (me + n - 1) % n);
    for r in 0..ROUNDS {
        let src = pattern(me, next, 200 + r, LEN);
        data.put_signal(
            next,
            r * LEN,
            &src,
            &sig.at(0).expect("at"),
            1,
            SignalOp::Add,
        )
        .expect("put_signal");
        sig.at(0).expect("at").wait_until(Cmp::Ge, r as u64 + 1);
        // SAFETY: region r is written only by prev's round-r put, which the signal covers.
        let got = unsafe { &data.as_slice()[r * LEN..(r + 1) * LEN] };
        if let Some(i) = first_mismatch(got, prev, me, 200 + r) {
            panic!("PE {me}: data of put_signal round {r} from PE {prev} not there with the signal (byte {i})");
        }
    }
    shmem.barrier_all();
    if me == 0 {
        pe::say(&format!("{PROG}: put_signal ordering OK"));
    }
}

fn quiet_fence(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    const PIECES: usize = 40;
    const LEN: usize = 1000;
    let data = shmem.alloc_slice::<u8>(2 * PIECES * LEN).expect("alloc");
    let flag = shmem.alloc(0u64).expect("alloc");
    let (next, prev) = ((me + 1) % n, (me + n - 1) % n);
    let check = |round: usize, base: usize| {
        // SAFETY: written by prev's puts, ordered before the flag we waited for.
        let local = unsafe { data.as_slice() };
        for p in 0..PIECES {
            let blk = &local[base + p * LEN..base + (p + 1) * LEN];
            if let Some(i) = first_mismatch(blk, prev, me, round + p) {
                panic!("PE {me}: piece {p} of round {round} from PE {prev} not there with the flag (byte {i})");
            }
        }
    };
    // put_nbi ... fence ... put of the flag
    let srcs: Vec<Vec<u8>> = (0..PIECES)
        .map(|p| pattern(me, next, 300 + p, LEN))
        .collect();
    for (p, s) in srcs.iter().enumerate() {
        // SAFETY: `srcs` lives until after the quiet in barrier_all.
        unsafe { data.put_nbi(next, p * LEN, s) }.expect("put_nbi");
    }
    shmem.fence();
    flag.p(next, 1).expect("flag put");
    flag.wait_until(Cmp::Ge, 1);
    check(300, 0);
    // put_nbi ... quiet ... atomic flag
    let srcs2: Vec<Vec<u8>> = (0..PIECES)
        .map(|p| pattern(me, next, 400 + p, LEN))
        .collect();
    for (p, s) in srcs2.iter().enumerate() {
        // SAFETY: as above.
        unsafe { data.put_nbi(next, (PIECES + p) * LEN, s) }.expect("put_nbi");
    }
    shmem.quiet();
    flag.set(next, 2).expect("flag set");
    flag.wait_until(Cmp::Ge, 2);
    check(400, PIECES * LEN);
    shmem.barrier_all();
    drop((srcs, srcs2));
    if me == 0 {
        pe::say(&format!("{PROG}: fence and quiet ordering OK"));
    }
}

fn post_lists(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let (next, prev) = ((me + 1) % n, (me + n - 1) % n);
    const BURST: usize = 1000;
    let arr = shmem.alloc_slice::<u64>(BURST).expect("alloc");
    let flag = shmem.alloc(0u64).expect("alloc");
    let ring = shmem.alloc_slice::<u64>(1).expect("alloc");
    // A burst of small put_nbis (deferred, posted 16 at a time), a fence, the flag.
    let vals: Vec<u64> = (0..BURST).map(|i| (me as u64) << 32 | i as u64).collect();
    for (i, v) in vals.iter().enumerate() {
        // SAFETY: `vals` lives until after the quiet in barrier_all.
        unsafe { arr.put_nbi(next, i, std::slice::from_ref(v)) }.expect("put_nbi");
    }
    shmem.fence();
    flag.p(next, 3).expect("flag put");
    flag.wait_until(Cmp::Ge, 3);
    // SAFETY: written by prev's puts, ordered before the flag we waited for.
    let got = unsafe { arr.as_slice() };
    for (i, &g) in got.iter().enumerate() {
        let want = (prev as u64) << 32 | i as u64;
        assert_eq!(g, want, "PE {me}: element {i} of PE {prev}'s put_nbi burst");
    }
    // A ring of put_nbis, each PE answering the previous one's, and no quiet: every put is
    // held back for a post list, so only the waits' progress can send them.
    let rounds: Vec<u64> = (1..=200).collect();
    for r in &rounds {
        if me == 0 {
            // SAFETY: `rounds` lives until after the quiet in barrier_all.
            unsafe { ring.put_nbi(next, 0, std::slice::from_ref(r)) }.expect("put_nbi");
            ring.at(0).expect("slot").wait_until(Cmp::Ge, *r);
        } else {
            ring.at(0).expect("slot").wait_until(Cmp::Ge, *r);
            // SAFETY: as above.
            unsafe { ring.put_nbi(next, 0, std::slice::from_ref(r)) }.expect("put_nbi");
        }
    }
    shmem.barrier_all();
    drop((vals, rounds));
    if me == 0 {
        pe::say(&format!(
            "{PROG}: post lists OK (burst of {BURST}, ring of 200 without quiet)"
        ));
    }
}

fn exhaust(shmem: &Shmem) {
    let me = shmem.my_pe();
    match shmem.alloc_slice::<u8>(1 << 40) {
        Err(e @ Error::HeapExhausted { .. }) => {
            if me == 0 {
                pe::say(&format!("{PROG}: exhausted heap reported: {e}"));
            }
        }
        Err(e) => panic!("PE {me}: expected HeapExhausted, got {e}"),
        Ok(_) => panic!("PE {me}: a 1 TiB allocation succeeded"),
    }
    // The heap and the transport still work.
    let v = shmem.alloc_slice::<u64>(4).expect("alloc after exhaustion");
    let next = (me + 1) % shmem.n_pes();
    v.put(next, 1, &[me as u64 + 10]).expect("put");
    shmem.barrier_all();
    let prev = (me + shmem.n_pes() - 1) % shmem.n_pes();
    assert_eq!(v.read(1).expect("read"), prev as u64 + 10);
}
