//! RMA data movement, checked byte for byte on every PE:
//! - put/get, blocking and `put_nbi`/`get_nbi` + quiet, of 0, 1, 7, 4096+3 bytes and 1 MiB,
//!   at aligned and unaligned offsets (remote and local), to and from every PE (itself
//!   included); the data depends on (source PE, destination PE, round, index), and guard
//!   bytes around each block must stay untouched;
//! - p/g of u64, i32 and f64, and direct loads through `ptr`;
//! - iput/iget with strides on both sides, zero elements, out-of-bounds requests;
//! - `resize` keeps the contents (growing past a neighbour block, then shrinking);
//! - `alloc_slice_aligned` honours alignments up to 4 MiB; 2^50 (beyond any heap) and a
//!   non-power-of-two are refused.
//!
//! `rshmemrun -n N rma`
use rshmem::{Error, Shmem};
use rshmem_tests::pe::{self, byte, bytes, first_mismatch, word};

const PROG: &str = "rma";
/// Bytes of the inbox reserved for each source PE.
const SLOT: usize = (1 << 20) + 64;
/// Guard bytes checked after each block.
const GUARD: usize = 16;
const POISON: u8 = 0xA5;
/// Local misalignment of the source and destination buffers.
const SKEW: usize = 3;

fn main() {
    let shmem = pe::init(PROG);
    let sections: [(&str, Section); 5] = [
        ("contiguous", contiguous),
        ("scalars", scalars),
        ("strided", strided),
        ("resize", resize),
        ("aligned", aligned),
    ];
    for (name, f) in sections {
        let t = std::time::Instant::now();
        f(&shmem);
        if shmem.my_pe() == 0 {
            pe::say(&format!("TIME {name} {:.3} s", t.elapsed().as_secs_f64()));
        }
    }
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}

/// One part of the program.
type Section = fn(&Shmem);

/// The PEs in the order this PE visits them: starting with its right neighbour, so that not
/// everyone hits PE 0 first.
fn targets(me: usize, n: usize) -> impl Iterator<Item = usize> {
    (1..=n).map(move |k| (me + k) % n)
}

fn contiguous(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let inbox = shmem.alloc_slice::<u8>(n * SLOT).expect("alloc inbox");
    let mut cases = Vec::new();
    for size in [0usize, 1, 7, 4096 + 3] {
        for off in [0usize, 1, 13] {
            for nbi in [false, true] {
                cases.push((size, off, nbi));
            }
        }
    }
    cases.push((1 << 20, 0, false));
    cases.push((1 << 20, 13, true));
    for (round, &(size, off, nbi)) in cases.iter().enumerate() {
        let what = format!("round {round}: {size} bytes at offset {off}, nbi {nbi}");
        // Poison what the sources will write into, plus the guards around it.
        {
            // SAFETY: nobody writes our inbox between the previous round's final barrier
            // and the barrier below.
            let local = unsafe { inbox.as_mut_slice() };
            for s in 0..n {
                let region = &mut local[s * SLOT..s * SLOT + off + size + GUARD];
                // SAFETY: writes exactly `region` (a memset even in unoptimized builds).
                unsafe { core::ptr::write_bytes(region.as_mut_ptr(), POISON, region.len()) };
            }
        }
        shmem.barrier_all();
        // Sources start SKEW bytes into their buffers, so they are unaligned in memory.
        let srcs: Vec<Vec<u8>> = (0..n)
            .map(|d| {
                let mut v = vec![0u8; SKEW];
                v.extend(bytes(me, d, round, size));
                v
            })
            .collect();
        for d in targets(me, n) {
            let src = &srcs[d][SKEW..];
            let r = if nbi {
                // SAFETY: `srcs` lives and is not modified until after the quiet below.
                unsafe { inbox.put_nbi(d, me * SLOT + off, src) }
            } else {
                inbox.put(d, me * SLOT + off, src)
            };
            r.unwrap_or_else(|e| panic!("PE {me}: put to PE {d}, {what}: {e}"));
        }
        if nbi {
            shmem.quiet();
        }
        shmem.barrier_all();
        {
            // SAFETY: all puts of this round completed (barrier); nobody writes until the
            // next barrier.
            let local = unsafe { inbox.as_slice() };
            for s in 0..n {
                let region = &local[s * SLOT..s * SLOT + off + size + GUARD];
                assert!(
                    region[..off].iter().all(|&b| b == POISON),
                    "PE {me}: bytes before the block from PE {s} were overwritten, {what}"
                );
                if let Some(i) = first_mismatch(&region[off..off + size], s, me, round) {
                    panic!(
                        "PE {me}: byte {i} of the block from PE {s} is {:#x}, expected {:#x}, {what}",
                        region[off + i],
                        byte(s, me, round, i)
                    );
                }
                assert!(
                    region[off + size..].iter().all(|&b| b == POISON),
                    "PE {me}: guard bytes after the block from PE {s} were overwritten, {what}"
                );
            }
        }
        // Read back from every PE what this PE put there, into unaligned local buffers.
        let mut bufs: Vec<Vec<u8>> = (0..n).map(|_| vec![0x5Au8; size + SKEW + 1]).collect();
        for d in targets(me, n) {
            let dst = &mut bufs[d][SKEW..SKEW + size];
            let r = if nbi {
                // SAFETY: `bufs` lives and is not read until after the quiet below.
                unsafe { inbox.get_nbi(d, me * SLOT + off, dst) }
            } else {
                inbox.get(d, me * SLOT + off, dst)
            };
            r.unwrap_or_else(|e| panic!("PE {me}: get from PE {d}, {what}: {e}"));
        }
        if nbi {
            shmem.quiet();
        }
        for (d, b) in bufs.iter().enumerate() {
            assert!(
                b[..SKEW].iter().all(|&x| x == 0x5A) && b[SKEW + size] == 0x5A,
                "PE {me}: get from PE {d} wrote outside its destination, {what}"
            );
            // What this PE put there (compared as slices: a memcmp).
            if b[SKEW..SKEW + size] != srcs[d][SKEW..] {
                let i = first_mismatch(&b[SKEW..SKEW + size], me, d, round).unwrap_or(0);
                panic!(
                    "PE {me}: get from PE {d}: byte {i} is {:#x}, expected {:#x}, {what}",
                    b[SKEW + i],
                    byte(me, d, round, i)
                );
            }
        }
        shmem.barrier_all();
    }
    // Out of bounds of the object: refused, nothing written.
    match inbox.put(me, n * SLOT - 2, &[1, 2, 3]) {
        Err(Error::OutOfBounds { start, end, len }) => {
            assert_eq!((start, end, len), (n * SLOT - 2, n * SLOT + 1, n * SLOT))
        }
        other => panic!("PE {me}: put past the end gave {other:?}"),
    }
    shmem.barrier_all();
}

fn scalars(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let w = shmem.alloc_slice::<u64>(n).expect("alloc");
    let i = shmem.alloc_slice::<i32>(n).expect("alloc");
    let f = shmem.alloc_slice::<f64>(n).expect("alloc");
    let ival = |s: usize, d: usize| -((s * 1000 + d) as i32) - 7;
    let fval = |s: usize, d: usize| s as f64 * 10.0 + d as f64 / 16.0 + 0.5;
    for d in targets(me, n) {
        w.at(me).unwrap().p(d, word(me, d, 1, 0)).unwrap();
        i.at(me).unwrap().p(d, ival(me, d)).unwrap();
        f.at(me).unwrap().p(d, fval(me, d)).unwrap();
    }
    shmem.barrier_all();
    for s in 0..n {
        assert_eq!(
            w.read(s).unwrap(),
            word(s, me, 1, 0),
            "PE {me}: p u64 from PE {s}"
        );
        assert_eq!(
            i.read(s).unwrap(),
            ival(s, me),
            "PE {me}: p i32 from PE {s}"
        );
        assert_eq!(
            f.read(s).unwrap(),
            fval(s, me),
            "PE {me}: p f64 from PE {s}"
        );
    }
    for d in targets(me, n) {
        assert_eq!(
            w.at(me).unwrap().g(d).unwrap(),
            word(me, d, 1, 0),
            "PE {me}: g u64 from PE {d}"
        );
        assert_eq!(
            i.at(me).unwrap().g(d).unwrap(),
            ival(me, d),
            "PE {me}: g i32 from PE {d}"
        );
        assert_eq!(
            f.at(me).unwrap().g(d).unwrap(),
            fval(me, d),
            "PE {me}: g f64 from PE {d}"
        );
        // Over TCP (RMA_PTR_OPTIONAL: set by the TCP tests) a peer may not be mapped.
        let Some(p) = w.at(me).unwrap().ptr(d) else {
            assert!(
                std::env::var_os("RMA_PTR_OPTIONAL").is_some(),
                "shm peers are directly addressable"
            );
            continue;
        };
        assert_eq!(
            // SAFETY: a mapped symmetric u64 of PE d that nobody writes any more.
            unsafe { p.read_volatile() },
            word(me, d, 1, 0),
            "PE {me}: ptr to PE {d}"
        );
    }
    // A SymBox starts with its value on every PE.
    let b = shmem.alloc(-12345i64).expect("alloc");
    for d in 0..n {
        assert_eq!(
            b.g(d).unwrap(),
            -12345,
            "PE {me}: SymBox initial value on PE {d}"
        );
    }
    shmem.barrier_all();
}

fn strided(shmem: &Shmem) {
    const W: usize = 64; // elements per source region
    const NE: usize = 20; // elements moved
    const DST: usize = 3; // remote stride
    const SST: usize = 2; // local stride
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let s = shmem.alloc_slice::<u32>(n * W).expect("alloc");
    // SAFETY: nobody accesses `s` remotely before the barrier.
    unsafe { s.as_mut_slice() }.fill(u32::MAX);
    shmem.barrier_all();
    let src = |d: usize| -> Vec<u32> { (0..NE * SST).map(|j| word(me, d, 7, j) as u32).collect() };
    for d in targets(me, n) {
        let v = src(d);
        s.iput(d, me * W + 1, DST, &v, SST, NE).unwrap();
        s.iput(d, 0, 1, &v, 1, 0).expect("zero-element iput");
        match s.iput(d, n * W - 10, DST, &v, SST, NE) {
            Err(Error::OutOfBounds { .. }) => {}
            other => panic!("PE {me}: iput past the end gave {other:?}"),
        }
    }
    shmem.barrier_all();
    let local = s.to_vec();
    for p in 0..n {
        for k in 0..W {
            let got = local[p * W + k];
            let want = if k >= 1 && (k - 1) % DST == 0 && (k - 1) / DST < NE {
                word(p, me, 7, SST * ((k - 1) / DST)) as u32
            } else {
                u32::MAX
            };
            assert_eq!(
                got, want,
                "PE {me}: element {k} of the strided block from PE {p}"
            );
        }
    }
    for d in targets(me, n) {
        let mut buf = vec![0xDEAD_BEEFu32; NE * SST];
        s.iget(d, me * W + 1, DST, &mut buf, SST, NE).unwrap();
        for (j, &x) in buf.iter().enumerate() {
            let want = if j % SST == 0 {
                word(me, d, 7, j) as u32
            } else {
                0xDEAD_BEEF
            };
            assert_eq!(x, want, "PE {me}: iget from PE {d}, element {j}");
        }
        s.iget(d, 0, 1, &mut buf[..0], 1, 0)
            .expect("zero-element iget");
        match s.iget(d, 0, 1, &mut buf, SST, NE * SST) {
            Err(Error::OutOfBounds { .. }) => {}
            other => panic!("PE {me}: iget past the end of the local buffer gave {other:?}"),
        }
        // Strides whose products overflow: an error naming the call and the values, not a
        // wrapped span that passes the bounds check (or a panic in the runtime).
        let huge = 1usize << 63;
        match s.iput(d, 0, huge, &buf, 1, 3) {
            Err(e @ Error::Overflow { .. }) => {
                assert!(
                    e.to_string().starts_with("iput: 3 elements"),
                    "PE {me}: {e}"
                )
            }
            other => panic!("PE {me}: iput with stride 2^63 gave {other:?}"),
        }
        match s.iget(d, 0, 1, &mut buf, huge, 3) {
            Err(e @ Error::Overflow { .. }) => {
                assert!(e.to_string().contains("overflows"), "PE {me}: {e}")
            }
            other => panic!("PE {me}: iget with a local stride of 2^63 gave {other:?}"),
        }
    }
    shmem.barrier_all();
}

fn resize(shmem: &Shmem) {
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let (right, left) = ((me + 1) % n, (me + n - 1) % n);
    let v = shmem.alloc_slice::<u64>(100).expect("alloc");
    let blocker = shmem.alloc(0u64).expect("alloc");
    let content: Vec<u64> = (0..100).map(|i| word(me, me, 9, i)).collect();
    v.write_slice(0, &content).unwrap();
    let old = v.as_ptr() as usize;
    // Cannot grow in place (the blocker follows it): must move and copy.
    let v = v.resize(200_000).expect("grow");
    assert_eq!(v.len(), 200_000);
    assert_ne!(
        v.as_ptr() as usize,
        old,
        "PE {me}: grown block did not move"
    );
    assert_eq!(
        v.to_vec()[..100],
        content[..],
        "PE {me}: contents lost when growing"
    );
    // The grown part is symmetric: a put to the neighbour's new tail lands.
    v.put(right, 199_990, &[word(me, right, 10, 0)]).unwrap();
    shmem.barrier_all();
    assert_eq!(
        v.read(199_990).unwrap(),
        word(left, me, 10, 0),
        "PE {me}: put into the grown block"
    );
    let v = v.resize(50).expect("shrink");
    assert_eq!(v.len(), 50);
    assert_eq!(
        v.to_vec()[..],
        content[..50],
        "PE {me}: contents lost when shrinking"
    );
    drop(blocker);
    drop(v);
}

fn aligned(shmem: &Shmem) {
    let me = shmem.my_pe();
    let mut keep = Vec::new();
    for align in [16usize, 64, 256, 4096, 1 << 16, 1 << 21] {
        let v = shmem
            .alloc_slice_aligned::<u8>(3, align)
            .expect("aligned alloc");
        assert_eq!(
            v.as_ptr() as usize % align,
            0,
            "PE {me}: alloc_slice_aligned(3, {align}) returned {:p}",
            v.as_ptr()
        );
        keep.push(v);
        // Something small in between, so the next one must skip ahead to align.
        keep.push(shmem.alloc_slice::<u8>(1).expect("alloc"));
    }
    // Beyond 2 MiB (the mapping's own alignment): the heap base is aligned to its size
    // rounded up to a power of two, so 4 MiB holds on every PE.
    let big = shmem
        .alloc_slice_aligned::<u8>(8, 1 << 22)
        .expect("4 MiB-aligned alloc");
    assert_eq!(big.as_ptr() as usize % (1 << 22), 0, "PE {me}");
    drop(big);
    // Not a power of two; larger than any heap: refused with a message naming the alignment.
    for align in [48usize, 1 << 50] {
        match shmem.alloc_slice_aligned::<u8>(8, align) {
            Err(Error::BadAlloc(m)) => assert!(m.contains(&align.to_string()), "PE {me}: {m}"),
            other => panic!(
                "PE {me}: alignment {align} gave {:?}",
                other.map(|v| v.as_ptr())
            ),
        }
    }
    let z = shmem.alloc_slice::<u8>(0).expect("zero-length alloc");
    for d in 0..shmem.n_pes() {
        z.put(d, 0, &[]).expect("empty put");
    }
    shmem.barrier_all();
}
