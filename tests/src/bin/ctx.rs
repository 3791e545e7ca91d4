//! Communication contexts in the Rust API (`Shmem::create_ctx`):
//! - two threads per PE, each with a private context, put (blocking, `put_nbi`, `p`) to the
//!   right neighbour into its own half of a buffer, add to a counter there and swap/CAS a
//!   word, quiet their own context only, then check after a barrier that everything
//!   arrived; gets and `g` through the contexts read it back;
//! - over verbs a context has a channel of its own: each thread's context has connected
//!   exactly one QP (to the right neighbour) and the default context is untouched by it;
//! - contexts are created and destroyed repeatedly (destroy completes the operations; the
//!   channel numbers are reused and the peers' services replace their QPs);
//! - a serialized context moved to another thread, and a shared one used by two threads.
//!
//! - `ctx independent`: one context's quiet does not wait for another context's transfer
//!   (see [`independent`]).
//!
//! `rshmemrun -n N ctx` (N >= 1); prints `ctx: PE <me> of <n> OK` and per PE
//! `ctx: PE <me> channels <yes|no> qps <a> <b>` (whether contexts have channels of their
//! own, and the QPs each thread's context connected).
use rshmem::ctx::{Private, Serialized, Shared};
use rshmem_tests::pe;

const PROG: &str = "ctx";
const K: usize = 64;
const ROUNDS: usize = 5;

fn main() {
    let shmem = pe::init(PROG);
    match std::env::args().nth(1).as_deref() {
        Some("independent") => return independent(shmem, true),
        Some("independent-default") => return independent(shmem, false),
        _ => {}
    }
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let right = (me + 1) % n;
    let left = (me + n - 1) % n;
    let buf = shmem.alloc_slice::<u64>(2 * K + 2).expect("alloc");
    let ctr = shmem.alloc(0u64).expect("alloc");
    let word = shmem.alloc_slice::<u64>(2).expect("alloc");
    shmem.barrier_all();

    // Two threads, one private context each.
    let qps: Vec<usize> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|t| {
                let (shmem, buf, ctr, word) = (&shmem, &buf, &ctr, &word);
                s.spawn(move || {
                    let ctx = shmem.create_ctx(Private).expect("create_ctx");
                    let base = t * K;
                    let mine: Vec<u64> = (0..K as u64)
                        .map(|i| ((me as u64) << 32) | ((t as u64) << 16) | i)
                        .collect();
                    // First half blocking, then nbi one word at a time, the last word by p.
                    ctx.put(buf, right, base, &mine[..K / 2]).expect("put");
                    for i in K / 2..K - 1 {
                        // SAFETY: `mine` lives until the quiet below.
                        unsafe { ctx.put_nbi(buf, right, base + i, &mine[i..i + 1]) }
                            .expect("put_nbi");
                    }
                    let last = buf.at(base + K - 1).expect("at");
                    ctx.p(&last, right, mine[K - 1]).expect("p");
                    ctx.add(ctr, right, 1 + t as u64).expect("add");
                    let old = ctx.fetch_add(ctr, right, 10).expect("fetch_add");
                    assert!(old >= 1, "fetch_add saw {old}");
                    let w = word.at(t).expect("at");
                    assert_eq!(ctx.swap(&w, right, 7).expect("swap"), 0);
                    assert_eq!(ctx.compare_swap(&w, right, 7, 9).expect("cas"), 7);
                    assert_eq!(ctx.fetch(&w, right).expect("fetch"), 9);
                    ctx.quiet();
                    // Read back through the context.
                    let mut back = vec![0u64; K];
                    ctx.get(buf, right, base, &mut back).expect("get");
                    assert_eq!(back, mine, "thread {t}: get through the context");
                    assert_eq!(ctx.g(&last, right).expect("g"), mine[K - 1]);
                    let mut nb = vec![0u64; K];
                    // SAFETY: `nb` lives, unread, until the quiet.
                    unsafe { ctx.get_nbi(buf, right, base, &mut nb) }.expect("get_nbi");
                    ctx.quiet();
                    assert_eq!(nb, mine, "thread {t}: get_nbi through the context");
                    let c = ctx.connected();
                    if ctx.has_channel() {
                        assert_eq!(c, 1, "thread {t}: a context that talked to one PE has 1 QP");
                    }
                    c
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    shmem.barrier_all();
    for t in 0..2 {
        for i in 0..K {
            let want = ((left as u64) << 32) | ((t as u64) << 16) | i as u64;
            assert_eq!(
                buf.read(t * K + i).expect("read"),
                want,
                "thread {t} word {i}"
            );
        }
        assert_eq!(word.read(t).expect("read"), 9);
    }
    assert_eq!(ctr.read(), 1 + 2 + 20, "counter");
    shmem.barrier_all(); // every PE has checked before anyone writes again
    let chan = if shmem.create_ctx(Private).expect("ctx").has_channel() {
        "yes"
    } else {
        "no"
    };
    pe::say(&format!(
        "{PROG}: PE {me} channels {chan} qps {} {}",
        qps[0], qps[1]
    ));

    // Create and destroy repeatedly; destroy completes the context's operations.
    for r in 0..ROUNDS {
        let ctx = shmem.create_ctx(Private).expect("create_ctx");
        let v = [r as u64 + 100];
        // SAFETY: `v` lives until the drop (destroy quiets).
        unsafe { ctx.put_nbi(&buf, right, 2 * K, &v) }.expect("put_nbi");
        ctx.add(&ctr, right, 1).expect("add");
        drop(ctx);
        shmem.barrier_all();
        assert_eq!(buf.read(2 * K).expect("read"), r as u64 + 100, "round {r}");
        assert_eq!(ctr.read(), 23 + r as u64 + 1, "round {r} counter");
        shmem.barrier_all();
    }

    // A serialized context moved to another thread; a shared one used by two at once.
    let ser = shmem.create_ctx(Serialized).expect("create_ctx");
    let shared = shmem.create_ctx(Shared).expect("create_ctx");
    std::thread::scope(|s| {
        let (buf, shared, ctr) = (&buf, &shared, &ctr);
        s.spawn(move || {
            ser.put(buf, right, 2 * K + 1, &[5]).expect("put");
            ser.quiet();
        });
        for t in 0..2u64 {
            s.spawn(move || {
                shared.add(ctr, right, t + 1).expect("add");
                shared.quiet();
            });
        }
    });
    shmem.barrier_all();
    assert_eq!(buf.read(2 * K + 1).expect("read"), 5);
    assert_eq!(ctr.read(), 23 + ROUNDS as u64 + 3);
    drop(shared);
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}

/// `ctx independent` (2 PEs or more): on PE 0, a thread streams `MIB` MiB of `put_nbi` to
/// PE 1 on context A (zero-copy from the symmetric heap) and then quiets A; once A has
/// posted a quarter, the main thread puts 8 bytes to PE 1 on context B and quiets B. B's
/// quiet completes B's put only: over verbs (its own QP and CQ) it returns while A's
/// transfer goes on. Prints the times; asserts that B's put+quiet took less than half of
/// A's whole transfer when that took at least 100 ms. On rxe this does not single out
/// contexts: an rxe post sends in the caller's system call, so the control below is as fast. `ctxs == false` (`ctx
/// independent-default`, the control): A and B are both the default context (one ordering
/// domain: B's quiet completes A's transfer too); prints only.
fn independent(shmem: rshmem::Shmem, ctxs: bool) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const MIB: usize = 64;
    let me = shmem.my_pe();
    let big = shmem.alloc_slice::<u8>(MIB << 20).expect("alloc");
    let small = shmem.alloc(0u64).expect("alloc");
    shmem.barrier_all();
    if me == 0 {
        let posted = AtomicUsize::new(0);
        let b = shmem.create_ctx(Private).expect("ctx B");
        b.p(&small, 1, 1).expect("p"); // connected outside the timing
        b.quiet();
        let (ta, tb, chan) = std::thread::scope(|s| {
            let (shmem, big, small, posted) = (&shmem, &big, &small, &posted);
            let h = s.spawn(move || {
                let a = shmem.create_ctx(Private).expect("ctx A");
                a.p(small, 1, 1).expect("p");
                a.quiet();
                // SAFETY: the symmetric source is not written until A's quiet.
                let src = unsafe { big.as_slice() };
                let t0 = std::time::Instant::now();
                for m in 0..MIB {
                    let piece = &src[m << 20..(m + 1) << 20];
                    // SAFETY: as above.
                    let r = unsafe {
                        if ctxs {
                            a.put_nbi(big, 1, m << 20, piece)
                        } else {
                            big.put_nbi(1, m << 20, piece)
                        }
                    };
                    r.expect("put_nbi");
                    posted.store(m + 1, Ordering::Release);
                }
                if ctxs {
                    a.quiet();
                } else {
                    shmem.quiet();
                }
                (t0.elapsed(), a.has_channel() && ctxs)
            });
            while posted.load(Ordering::Acquire) < MIB / 4 {
                std::thread::yield_now();
            }
            let t1 = std::time::Instant::now();
            if ctxs {
                b.p(small, 1, 2).expect("p");
                b.quiet();
            } else {
                small.p(1, 2).expect("p");
                shmem.quiet();
            }
            let tb = t1.elapsed();
            let (ta, chan) = h.join().expect("thread A");
            (ta, tb, chan)
        });
        pe::say(&format!(
            "{PROG}: independent: A's {MIB} MiB put_nbi + quiet took {} ms; B's put + quiet, \
             issued after A's first {} MiB, took {} ms (channels: {chan})",
            ta.as_millis(),
            MIB / 4,
            tb.as_millis(),
        ));
        if chan && ta.as_millis() >= 100 {
            assert!(
                tb * 2 < ta,
                "B's quiet ({tb:?}) waited for A's transfer ({ta:?})"
            );
        }
    }
    shmem.barrier_all();
    if me == 1 {
        assert_eq!(small.read(), 2);
    }
    drop((big, small));
    pe::ok(&shmem, PROG);
}
