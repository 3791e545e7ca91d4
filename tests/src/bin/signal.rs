//! Point-to-point synchronization, checked between pairs of PEs (PE 2k and 2k+1 take turns
//! as sender and receiver; with one PE only the local checks run):
//! - `put_signal`/`put_signal_nbi` with `SignalOp::Set` and `SignalOp::Add`: when the
//!   receiver sees the signal (`signal_wait_until`), the whole data block is there;
//! - `wait_until` with every `Cmp` on i64, i32, u64 and u32: the sender first stores a value
//!   that must NOT satisfy the condition (chosen so that a signed/unsigned mix-up would
//!   satisfy it), pauses, then the final value; the receiver must return with the final one;
//! - `wait_until_all/any/some` and their `_vector` forms with status masks (an excluded
//!   element is set first and must be ignored), and the `test*` forms;
//! - fence ordering: 100 pipelined rounds of `put data; fence; p flag`: whenever the
//!   receiver sees flag >= r, block r is complete.
//!
//! `rshmemrun -n N signal` (N = 1 or even)
use rshmem::{Cmp, Error, Shmem, SignalOp, SymInt, SymRef, SymVec};
use rshmem_tests::pe::{self, word};
use std::cell::Cell;
use std::time::Duration;

const PROG: &str = "signal";
const L: usize = 1024;
const ROUNDS: u64 = 30;
const FENCE_ROUNDS: usize = 100;
const FBLOCK: usize = 64;
const PAUSE: Duration = Duration::from_millis(15);

fn main() {
    let shmem = pe::init(PROG);
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    local_checks(&shmem);
    if n >= 2 {
        assert!(
            n % 2 == 0,
            "signal needs 1 or an even number of PEs, not {n}"
        );
        let ch = Channel::new(&shmem);
        for phase in 0..2 {
            let partner = me ^ 1;
            let link = Link {
                ack: &ch.ack,
                phase,
                step: Cell::new(0),
                me,
            };
            if me % 2 == phase {
                sender(&shmem, &ch, &link, partner);
            } else {
                receiver(&shmem, &ch, &link, partner);
            }
            shmem.barrier_all();
        }
    }
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}

/// Everything a pair uses, allocated collectively.
struct Channel<'a> {
    data: SymVec<'a, u64>,
    sig: SymVec<'a, u64>,
    ack: SymVec<'a, u64>,
    fi64: SymVec<'a, i64>,
    fi32: SymVec<'a, i32>,
    fu64: SymVec<'a, u64>,
    fu32: SymVec<'a, u32>,
    flags: SymVec<'a, u64>,
    sflags: SymVec<'a, i32>,
    fdata: SymVec<'a, u64>,
    fflag: SymVec<'a, u64>,
}

impl<'a> Channel<'a> {
    fn new(shmem: &'a Shmem) -> Self {
        Self {
            data: shmem.alloc_slice(L).unwrap(),
            sig: shmem.alloc_slice(1).unwrap(),
            ack: shmem.alloc_slice(2).unwrap(),
            fi64: shmem.alloc_slice(1).unwrap(),
            fi32: shmem.alloc_slice(1).unwrap(),
            fu64: shmem.alloc_slice(1).unwrap(),
            fu32: shmem.alloc_slice(1).unwrap(),
            flags: shmem.alloc_slice(8).unwrap(),
            sflags: shmem.alloc_slice(4).unwrap(),
            fdata: shmem.alloc_slice(FENCE_ROUNDS * FBLOCK).unwrap(),
            fflag: shmem.alloc_slice(1).unwrap(),
        }
    }
}

/// Lock-step between sender and receiver: the receiver announces "ready for step k" on the
/// sender's `ack[phase]`; the sender waits for it before writing anything for step k.
struct Link<'a, 'b> {
    ack: &'b SymVec<'a, u64>,
    phase: usize,
    step: Cell<u64>,
    me: usize,
}

impl Link<'_, '_> {
    fn go(&self) {
        self.step.set(self.step.get() + 1);
        self.ack
            .at(self.phase)
            .unwrap()
            .wait_until(Cmp::Ge, self.step.get());
    }
    fn ready(&self, sender: usize) {
        self.step.set(self.step.get() + 1);
        self.ack
            .at(self.phase)
            .unwrap()
            .p(sender, self.step.get())
            .unwrap_or_else(|e| panic!("PE {}: ack: {e}", self.me));
    }
}

fn block(src: usize, dst: usize, round: usize, len: usize) -> Vec<u64> {
    (0..len).map(|i| word(src, dst, round, i)).collect()
}

/// (comparison, threshold, intermediate value that must not satisfy it, final value).
type Step<T> = (Cmp, T, T, T);

fn i64_steps() -> Vec<Step<i64>> {
    vec![
        (Cmp::Lt, -5, 3, -10), // unsigned: 3 < 2^64-5 would hold
        (Cmp::Le, -5, 0, -5),
        (Cmp::Gt, 5, -1, 6), // unsigned: 2^64-1 > 5 would hold
        (Cmp::Ge, 5, -7, 5),
        (Cmp::Gt, -10, -11, -9),
        (Cmp::Eq, -3, -2, -3),
        (Cmp::Ne, -3, -3, i64::MIN),
        (Cmp::Lt, 0, i64::MAX, i64::MIN),
    ]
}

fn i32_steps() -> Vec<Step<i32>> {
    vec![
        (Cmp::Lt, -5, 3, -10),
        (Cmp::Le, -5, 0, -5),
        (Cmp::Gt, 5, -1, 6),
        (Cmp::Ge, 5, -7, 5),
        (Cmp::Gt, -10, -11, -9),
        (Cmp::Eq, -3, -2, -3),
        (Cmp::Ne, -3, -3, i32::MIN),
        (Cmp::Lt, 0, i32::MAX, i32::MIN),
    ]
}

fn u64_steps() -> Vec<Step<u64>> {
    vec![
        (Cmp::Le, 10, u64::MAX, 10), // signed: -1 <= 10 would hold
        (Cmp::Gt, 5, 0, u64::MAX),
        (Cmp::Lt, 1 << 63, u64::MAX, 7),
        (Cmp::Ge, 1 << 63, 1, (1 << 63) + 1),
        (Cmp::Eq, u64::MAX, 0, u64::MAX),
        (Cmp::Ne, 0, 0, 1),
    ]
}

fn u32_steps() -> Vec<Step<u32>> {
    vec![
        (Cmp::Le, 10, u32::MAX, 10),
        (Cmp::Gt, 5, 0, u32::MAX),
        (Cmp::Lt, 1 << 31, u32::MAX, 7),
        (Cmp::Ge, 1 << 31, 1, (1 << 31) + 1),
        (Cmp::Eq, u32::MAX, 0, u32::MAX),
        (Cmp::Ne, 0, 0, 1),
    ]
}

fn cmp_send<T: SymInt>(link: &Link, flag: SymRef<'_, T>, partner: usize, steps: &[Step<T>]) {
    for &(_, _, mid, fin) in steps {
        link.go();
        flag.p(partner, mid).unwrap();
        std::thread::sleep(PAUSE);
        flag.p(partner, fin).unwrap();
    }
}

fn cmp_recv<T: SymInt>(link: &Link, flag: SymRef<'_, T>, partner: usize, steps: &[Step<T>]) {
    let me = link.me;
    for &(cmp, thr, mid, fin) in steps {
        assert!(!cmp.holds(mid.to_bits(), thr.to_bits(), T::SIGNED));
        flag.write(mid);
        link.ready(partner);
        flag.wait_until(cmp, thr);
        let got = flag.read();
        assert_eq!(
            got,
            fin,
            "PE {me}: wait_until({cmp:?}, {thr:?}) on {} returned with the value {got:?}",
            std::any::type_name::<T>()
        );
        assert!(flag.test(cmp, thr), "PE {me}: test({cmp:?}, {thr:?})");
    }
}

fn sender(shmem: &Shmem, ch: &Channel, link: &Link, partner: usize) {
    let me = shmem.my_pe();
    // put_signal, Set: signal = round.
    for r in 1..=ROUNDS {
        let buf = block(me, partner, 100 + r as usize, L);
        link.go();
        if r % 2 == 0 {
            // SAFETY: `buf` lives until after the quiet.
            unsafe {
                ch.data
                    .put_signal_nbi(partner, 0, &buf, &ch.sig.at(0).unwrap(), r, SignalOp::Set)
            }
            .unwrap();
            shmem.quiet();
        } else {
            ch.data
                .put_signal(partner, 0, &buf, &ch.sig.at(0).unwrap(), r, SignalOp::Set)
                .unwrap();
        }
    }
    // put_signal, Add: signal = 1 + 2 + ... + r; data at an odd element offset.
    for r in 1..=ROUNDS {
        let off = r as usize % 7;
        let buf = block(me, partner, 200 + r as usize, L - 7);
        link.go();
        ch.data
            .put_signal(partner, off, &buf, &ch.sig.at(0).unwrap(), r, SignalOp::Add)
            .unwrap();
    }
    cmp_send(link, ch.fi64.at(0).unwrap(), partner, &i64_steps());
    cmp_send(link, ch.fi32.at(0).unwrap(), partner, &i32_steps());
    cmp_send(link, ch.fu64.at(0).unwrap(), partner, &u64_steps());
    cmp_send(link, ch.fu32.at(0).unwrap(), partner, &u32_steps());
    let f = |i: usize, v: u64| ch.flags.at(i).unwrap().p(partner, v).unwrap();
    // all, mask excludes 2 and 5.
    link.go();
    for i in [0, 1, 3, 4, 6, 7] {
        f(i, 1);
        std::thread::sleep(Duration::from_millis(2));
    }
    // any, mask excludes 5: 5 is set first.
    link.go();
    f(5, 1);
    std::thread::sleep(PAUSE);
    f(6, 1);
    // some, mask excludes 2.
    link.go();
    f(2, 1);
    std::thread::sleep(PAUSE);
    ch.flags.put(partner, 3, &[1, 1]).unwrap();
    // all_vector (Ge 10i+1), mask excludes 0: first values just below, then reached.
    link.go();
    for i in 1..8 {
        f(i, 10 * i as u64);
    }
    std::thread::sleep(PAUSE);
    for i in 1..8 {
        f(i, 10 * i as u64 + 1 + (i % 2) as u64);
    }
    // any_vector (Eq 100+i), mask excludes 1.
    link.go();
    f(1, 101);
    f(2, 5);
    std::thread::sleep(PAUSE);
    f(4, 104);
    // some_vector (Eq 3i), mask excludes 7.
    link.go();
    f(7, 21);
    std::thread::sleep(PAUSE);
    f(6, 18);
    // Signed vector wait: all Lt [-1, -2, -3, -4]; 5 would satisfy an unsigned comparison.
    link.go();
    ch.sflags.put(partner, 0, &[5, 5, 5, 5]).unwrap();
    std::thread::sleep(PAUSE);
    ch.sflags.put(partner, 0, &[-2, -3, -4, -5]).unwrap();
    // Fence ordering, pipelined: block r, fence, flag = r.
    link.go();
    for r in 1..=FENCE_ROUNDS {
        let buf = block(me, partner, 300 + r, FBLOCK);
        ch.fdata.put(partner, (r - 1) * FBLOCK, &buf).unwrap();
        shmem.fence();
        ch.fflag.at(0).unwrap().p(partner, r as u64).unwrap();
    }
    link.go();
}

fn receiver(shmem: &Shmem, ch: &Channel, link: &Link, partner: usize) {
    let me = shmem.my_pe();
    let sig = ch.sig.at(0).unwrap();
    sig.write(0);
    for r in 1..=ROUNDS {
        link.ready(partner);
        let s = sig.signal_wait_until(Cmp::Ge, r);
        assert_eq!(s, r, "PE {me}: Set signal, round {r}");
        assert!(
            ch.data.to_vec() == block(partner, me, 100 + r as usize, L),
            "PE {me}: put_signal(Set) round {r}: data incomplete when the signal was seen"
        );
    }
    sig.write(0);
    let mut total = 0;
    for r in 1..=ROUNDS {
        let off = r as usize % 7;
        total += r;
        link.ready(partner);
        let s = sig.signal_wait_until(Cmp::Ge, total);
        assert_eq!(s, total, "PE {me}: Add signal, round {r}");
        assert_eq!(sig.signal_fetch(), total);
        assert!(
            ch.data.to_vec()[off..off + L - 7] == block(partner, me, 200 + r as usize, L - 7)[..],
            "PE {me}: put_signal(Add) round {r}: data incomplete when the signal was seen"
        );
    }
    cmp_recv(link, ch.fi64.at(0).unwrap(), partner, &i64_steps());
    cmp_recv(link, ch.fi32.at(0).unwrap(), partner, &i32_steps());
    cmp_recv(link, ch.fu64.at(0).unwrap(), partner, &u64_steps());
    cmp_recv(link, ch.fu32.at(0).unwrap(), partner, &u32_steps());

    let flags = &ch.flags;
    let reset = |v: u64| flags.write_slice(0, &[v; 8]).unwrap();
    let mask =
        |excluded: &[usize]| -> Vec<i32> { (0..8).map(|i| excluded.contains(&i) as i32).collect() };
    // all
    reset(0);
    let m = mask(&[2, 5]);
    link.ready(partner);
    flags.wait_until_all(Some(&m), Cmp::Eq, 1);
    assert_eq!(
        flags.to_vec(),
        [1, 1, 0, 1, 1, 0, 1, 1],
        "PE {me}: wait_until_all returned early"
    );
    assert!(flags.test_all(Some(&m), Cmp::Eq, 1));
    assert!(!flags.test_all(None, Cmp::Eq, 1));
    // any
    reset(0);
    let m = mask(&[5]);
    link.ready(partner);
    let got = flags.wait_until_any(Some(&m), Cmp::Eq, 1);
    assert_eq!(
        got,
        Some(6),
        "PE {me}: wait_until_any must skip excluded element 5"
    );
    assert_eq!(flags.test_any(Some(&m), Cmp::Eq, 1), Some(6));
    // 5 and 6 both qualify: the order is unspecified, but a series returns both.
    assert_series(me, "test_any", &[5, 6], || flags.test_any(None, Cmp::Eq, 1));
    // some
    reset(0);
    let m = mask(&[2]);
    link.ready(partner);
    let got = flags.wait_until_some(Some(&m), Cmp::Eq, 1);
    assert!(
        !got.is_empty() && got.iter().all(|i| *i == 3 || *i == 4),
        "PE {me}: wait_until_some returned {got:?}"
    );
    // Both halves of the 2-element put must have landed before the next reset.
    flags.wait_until_all(Some(&mask(&[0, 1, 2, 5, 6, 7])), Cmp::Eq, 1);
    assert_eq!(flags.test_some(Some(&m), Cmp::Eq, 1), vec![3, 4]);
    assert_eq!(flags.test_some(None, Cmp::Eq, 1), vec![2, 3, 4]);
    // all_vector
    reset(0);
    let vals: Vec<u64> = (0..8).map(|i| 10 * i + 1).collect();
    let m = mask(&[0]);
    link.ready(partner);
    flags
        .wait_until_all_vector(Some(&m), Cmp::Ge, &vals)
        .unwrap();
    let now = flags.to_vec();
    for i in 1..8 {
        assert!(
            now[i] >= vals[i],
            "PE {me}: wait_until_all_vector returned early: {now:?}"
        );
    }
    assert!(flags.test_all_vector(Some(&m), Cmp::Ge, &vals).unwrap());
    assert!(!flags.test_all_vector(None, Cmp::Ge, &vals).unwrap());
    // any_vector
    reset(0);
    let vals: Vec<u64> = (0..8).map(|i| 100 + i).collect();
    let m = mask(&[1]);
    link.ready(partner);
    let got = flags
        .wait_until_any_vector(Some(&m), Cmp::Eq, &vals)
        .unwrap();
    assert_eq!(got, Some(4), "PE {me}: wait_until_any_vector");
    assert_series(me, "test_any_vector", &[1, 4], || {
        flags.test_any_vector(None, Cmp::Eq, &vals).unwrap()
    });
    // some_vector
    reset(u64::MAX);
    let vals: Vec<u64> = (0..8).map(|i| 3 * i).collect();
    let m = mask(&[7]);
    link.ready(partner);
    let got = flags
        .wait_until_some_vector(Some(&m), Cmp::Eq, &vals)
        .unwrap();
    assert_eq!(got, vec![6], "PE {me}: wait_until_some_vector");
    assert_eq!(
        flags.test_some_vector(None, Cmp::Eq, &vals).unwrap(),
        vec![6, 7]
    );
    assert_eq!(
        flags.test_some_vector(Some(&m), Cmp::Eq, &vals).unwrap(),
        vec![6]
    );
    // Signed vector wait.
    ch.sflags.write_slice(0, &[0; 4]).unwrap();
    link.ready(partner);
    ch.sflags
        .wait_until_all_vector(None, Cmp::Lt, &[-1, -2, -3, -4])
        .unwrap();
    assert_eq!(
        ch.sflags.to_vec(),
        [-2, -3, -4, -5],
        "PE {me}: signed vector wait returned early"
    );
    // Fence ordering.
    let fflag = ch.fflag.at(0).unwrap();
    fflag.write(0);
    link.ready(partner);
    for r in 1..=FENCE_ROUNDS {
        fflag.wait_until(Cmp::Ge, r as u64);
        let want = block(partner, me, 300 + r, FBLOCK);
        let got = ch.fdata.to_vec()[(r - 1) * FBLOCK..r * FBLOCK].to_vec();
        assert!(
            got == want,
            "PE {me}: fence round {r}: flag seen before the data"
        );
    }
    link.ready(partner);
}

/// Calls `call` (a `test_any` form) repeatedly: each call returns one of `want` (the
/// satisfied indices, in any order), and a series of calls returns every one of them.
fn assert_series(me: usize, what: &str, want: &[usize], mut call: impl FnMut() -> Option<usize>) {
    let mut seen = Vec::new();
    for _ in 0..4 * want.len() {
        let got = call();
        assert!(
            got.is_some_and(|i| want.contains(&i)),
            "PE {me}: {what} returned {got:?}, not one of {want:?}"
        );
        seen.extend(got);
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen, want,
        "PE {me}: a series of {what} calls returned only {seen:?}"
    );
}

/// Checks that need no partner (run with any number of PEs).
fn local_checks(shmem: &Shmem) {
    let me = shmem.my_pe();
    let x = shmem.alloc(-5i64).unwrap();
    let checks = [
        (Cmp::Lt, 0, true),
        (Cmp::Le, -5, true),
        (Cmp::Gt, -6, true),
        (Cmp::Ge, -4, false),
        (Cmp::Eq, -5, true),
        (Cmp::Ne, -5, false),
        (Cmp::Gt, 0, false),
    ];
    for (cmp, v, want) in checks {
        assert_eq!(x.test(cmp, v), want, "PE {me}: -5 {cmp:?} {v}");
        if want {
            x.wait_until(cmp, v); // already true: returns at once
        }
    }
    let u = shmem.alloc(u32::MAX).unwrap();
    assert!(
        u.test(Cmp::Gt, 5) && !u.test(Cmp::Lt, 5),
        "PE {me}: unsigned test"
    );
    // put_signal to itself.
    let data = shmem.alloc_slice::<u8>(16).unwrap();
    let sig = shmem.alloc(0u64).unwrap();
    data.put_signal(me, 3, b"abc", &sig, 42, SignalOp::Set)
        .unwrap();
    assert_eq!(sig.signal_fetch(), 42);
    data.put_signal(me, 6, b"de", &sig, 8, SignalOp::Add)
        .unwrap();
    assert_eq!(sig.signal_wait_until(Cmp::Eq, 50), 50);
    assert_eq!(&data.to_vec()[3..8], b"abcde");
    // Everything excluded.
    let flags = shmem.alloc_slice::<u64>(4).unwrap();
    let none = [1, 1, 1, 1];
    assert_eq!(flags.wait_until_any(Some(&none), Cmp::Eq, 1), None);
    assert!(flags.wait_until_some(Some(&none), Cmp::Eq, 1).is_empty());
    flags.wait_until_all(Some(&none), Cmp::Eq, 1);
    // An empty test set (every element excluded, nelems > 0): test_all is false, even
    // though every (excluded) element satisfies the comparison.
    assert!(!flags.test_all(Some(&none), Cmp::Eq, 0));
    assert!(!flags
        .test_all_vector(Some(&none), Cmp::Eq, &[0; 4])
        .unwrap());
    assert_eq!(flags.test_any(Some(&none), Cmp::Eq, 0), None);
    // A value vector of the wrong length is an error.
    match flags.wait_until_all_vector(None, Cmp::Eq, &[0, 0]) {
        Err(Error::OutOfBounds { .. }) => {}
        other => panic!("PE {me}: short value vector gave {other:?}"),
    }
    shmem.barrier_all();
}
