//! Exit, heap and lock behaviours (`tests/exits.rs`); the mode is the first argument:
//!
//! - `clear-unheld`: `clear_lock` on a lock no PE holds, then on one this PE already
//!   released, must return an error (printed as `CLEAR <message>`), not spin; the lock
//!   still works afterwards (every PE takes and releases it once).
//! - `align MAXLOG`: for k in 0..=MAXLOG, `malloc(64, 1 << k)`: the address is aligned on
//!   every PE, the offset from the heap base is the same on every PE (each PE puts its
//!   number into its right neighbour's block and checks what arrives), then an alignment
//!   larger than the heap fails with an error printed as `BIGALIGN <message>`.
//! - `exit0-barrier`: every PE prints `PID <pe> <pid>`; after a barrier, the last PE prints
//!   `EVENT_MS <unix ms>` and exits with status 0 without finalizing while the others wait
//!   in `barrier_all` (a job that can never complete).
//! - `exit0-wait`: the same, the others waiting in `wait_until` on a flag that only the
//!   exited PE would set.
//! - `big-alloc`: allocates 1 GiB per PE (run without SHMEM_SYMMETRIC_SIZE), puts to both
//!   ends of the neighbour's block, prints `HEAP <heap size>`.
//! - `touch MIB`: prints `HEAP <size>`, allocates MIB MiB and writes every page.
//! - `lines`: every PE writes 100 lines of 4096 times its letter, each in 8 writes with
//!   yields in between, on stdout and stderr (the launcher must keep lines whole).
//! - `finalize-all`: every PE returns without an explicit finalize, at different times
//!   (the implicit finalize at exit must let them all through, status 0).
use rshmem::{Cmp, Error};
use rshmem_tests::pe;
use rshmem_transport::AmoOp;

const PROG: &str = "exits";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    let shmem = pe::init(PROG);
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    let rt = shmem.runtime();
    match mode {
        "clear-unheld" => {
            let lock = rt.malloc(8, 8, true).expect("lock word");
            match rshmem::lock::clear_lock(rt, lock) {
                Err(e @ Error::InvalidArgument { .. }) => pe::say(&format!("CLEAR {e}")),
                other => panic!("PE {me}: clear_lock of a free lock: {other:?}"),
            }
            shmem.barrier_all();
            rshmem::lock::set_lock(rt, lock).unwrap();
            rshmem::lock::clear_lock(rt, lock).unwrap();
            match rshmem::lock::clear_lock(rt, lock) {
                Err(e @ Error::InvalidArgument { .. }) => pe::say(&format!("CLEAR {e}")),
                other => panic!("PE {me}: second clear_lock: {other:?}"),
            }
            shmem.barrier_all();
            // Still a working lock: everyone takes it once more.
            rshmem::lock::set_lock(rt, lock).unwrap();
            rshmem::lock::clear_lock(rt, lock).unwrap();
        }
        "align" => {
            let max: u32 = args
                .get(1)
                .map(|a| a.parse().expect("MAXLOG"))
                .unwrap_or(30);
            let (heap_base, heap_len) = rt.heap_range();
            let right = (me + 1) % n;
            let mut blocks = Vec::new();
            for k in 0..=max {
                let a = 1usize << k;
                let p = rt
                    .malloc(64, a, true)
                    .unwrap_or_else(|e| panic!("PE {me}: malloc(64, 1 << {k}): {e}"));
                assert_eq!(
                    p % a,
                    0,
                    "PE {me}: malloc(64, 1 << {k}) = {p:#x} is not aligned"
                );
                // Same offset everywhere: my put lands in my neighbour's block.
                let v = (me as u64 + 1) << 8 | k as u64;
                rt.amo::<u64>(p, AmoOp::Set, v, 0, right).unwrap();
                rt.barrier_all();
                let left = (me + n - 1) % n;
                let got = rt.amo::<u64>(p, AmoOp::Fetch, 0, 0, me).unwrap();
                assert_eq!(got, (left as u64 + 1) << 8 | k as u64, "PE {me}: k = {k}");
                blocks.push(p);
                pe::say(&format!("ALIGN PE {me} k {k} offset {:#x}", p - heap_base));
            }
            for p in blocks.into_iter().rev() {
                rt.free(p).unwrap();
            }
            let too_big = (heap_len + 1).next_power_of_two() << 1;
            match rt.malloc(64, too_big, false) {
                Err(e) => pe::say(&format!("BIGALIGN {e}")),
                Ok(p) => panic!("PE {me}: alignment {too_big} > heap {heap_len} gave {p:#x}"),
            }
        }
        "exit0-barrier" | "exit0-wait" => {
            pe::say(&format!("PID {me} {}", std::process::id()));
            let flag = shmem.alloc(0u64).unwrap();
            shmem.barrier_all();
            if me == n - 1 {
                pe::say(&format!("EXIT0 from PE {me}"));
                let ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0);
                pe::say(&format!("EVENT_MS {ms}"));
                std::process::exit(0);
            }
            if mode == "exit0-barrier" {
                shmem.barrier_all();
            } else {
                flag.wait_until(Cmp::Ne, 0);
            }
            panic!("PE {me}: got past a wait that PE {} never satisfies", n - 1);
        }
        "finalize-all" => {
            shmem.barrier_all();
            std::thread::sleep(std::time::Duration::from_millis(100 * me as u64));
            pe::ok(&shmem, PROG);
            // No finalize: `shmem` is leaked, the exit hook finalizes.
            std::mem::forget(shmem);
            std::process::exit(0);
        }
        "big-alloc" => {
            // 1 GiB per PE without SHMEM_SYMMETRIC_SIZE (a well-known integer sort does it).
            let len = 1usize << 30;
            let p = rt
                .malloc(len, 64, false)
                .unwrap_or_else(|e| panic!("PE {me}: 1 GiB without SHMEM_SYMMETRIC_SIZE: {e}"));
            let right = (me + 1) % n;
            let v = 0x5150_0000 + me as u64;
            rt.amo::<u64>(p + len - 8, AmoOp::Set, v, 0, right).unwrap();
            rt.amo::<u64>(p, AmoOp::Set, v, 0, right).unwrap();
            rt.barrier_all();
            let left = (me + n - 1) % n;
            for off in [0, len - 8] {
                let got = rt.amo::<u64>(p + off, AmoOp::Fetch, 0, 0, me).unwrap();
                assert_eq!(got, 0x5150_0000 + left as u64, "PE {me} offset {off}");
            }
            let (_, heap) = rt.heap_range();
            pe::say(&format!("HEAP {heap}"));
            rt.free(p).unwrap();
        }
        "touch" => {
            // Allocates MIB MiB and writes every page of it (to fill a small /dev/shm).
            let mib: usize = args.get(1).map(|a| a.parse().expect("MIB")).unwrap_or(64);
            let (_, heap) = rt.heap_range();
            pe::say(&format!("HEAP {heap}"));
            let len = mib << 20;
            let p = rt.malloc(len, 4096, false).expect("touch block");
            for off in (0..len).step_by(4096) {
                // SAFETY: inside the block just allocated on this PE.
                unsafe { core::ptr::write_volatile((p + off) as *mut u8, 1) };
            }
            pe::say(&format!("TOUCHED {mib} MiB on PE {me}"));
        }
        "lines" => {
            // Each line in 8 separate writes of 512 bytes, yielding in between, on stderr
            // (unbuffered) and on stdout (flushed after every piece).
            use std::io::Write;
            let c = [b'A' + (me % 26) as u8; 512];
            shmem.barrier_all();
            for _ in 0..100 {
                for piece in 0..8 {
                    let _ = std::io::stderr().write_all(&c);
                    let mut o = std::io::stdout().lock();
                    let _ = o.write_all(&c);
                    let _ = o.flush();
                    drop(o);
                    if piece == 7 {
                        let _ = std::io::stderr().write_all(b"\n");
                        let _ = std::io::stdout().write_all(b"\n");
                        let _ = std::io::stdout().flush();
                    }
                    std::thread::yield_now();
                }
            }
        }
        other => panic!("unknown mode {other:?}"),
    }
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}
