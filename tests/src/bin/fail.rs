//! Failure paths; the mode is the first argument:
//!
//! - `sigkill VICTIM`: every PE prints `PID <pe> <pid>`; after a barrier the victim prints
//!   `SIGKILL now` and kills itself with SIGKILL, the others block in a barrier (even PEs)
//!   or in `wait_until` on a flag nobody sets (odd PEs).
//! - `init`: only initializes (for environment errors such as a bad SHMEM_SYMMETRIC_SIZE).
//! - `heap`: allocates 2 MiB (run with SHMEM_SYMMETRIC_SIZE=1M) and prints the error as
//!   `HEAP <message>` and its fields as `FIELDS requested heap_size free`; then checks the
//!   heap still works.
//! - `pe-range`: p/g/put/AMO to PE n: prints `RANGE <message>` for each.
//! - `not-symmetric`: raw runtime put/get/AMO on a stack address, and a put running past the
//!   end of the heap: prints `NOTSYM <message>`.
//! - `debug-alloc`: every PE allocates a different size (run with SHMEM_DEBUG=1).
//! - `global-exit CODE`: after a barrier, the last PE calls `global_exit(CODE)` while the
//!   others wait in a barrier.
//! - `exit CODE`: after a barrier, the last PE exits with status CODE (no finalize) while the
//!   others wait in a barrier.
//!
//! In every mode that fails, each PE first prints `PID <pe> <pid>`, and the failing PE
//! prints `EVENT_MS <unix time in ms>` just before it fails, so a test can
//! tell how long the launcher took to end the job after that.
use rshmem::{Cmp, Error};
use rshmem_tests::pe;

const PROG: &str = "fail";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    let shmem = pe::init(PROG);
    let (me, n) = (shmem.my_pe(), shmem.n_pes());
    match mode {
        "sigkill" => {
            let victim: usize = args
                .get(1)
                .map(|a| a.parse().expect("VICTIM"))
                .unwrap_or(n - 1);
            let flag = shmem.alloc(0u64).unwrap();
            pe::say(&format!("PID {me} {}", std::process::id()));
            shmem.barrier_all();
            if me == victim {
                std::thread::sleep(std::time::Duration::from_millis(100));
                pe::say(&format!("SIGKILL now: PE {me}"));
                event();
                pe::sigkill_self();
            } else if me % 2 == 0 {
                shmem.barrier_all();
            } else {
                flag.wait_until(Cmp::Eq, 1);
            }
            panic!("PE {me}: got past a barrier/wait that PE {victim} can never reach");
        }
        "init" => {}
        "heap" => {
            match shmem.alloc_slice::<u8>(2 << 20) {
                Err(e @ Error::HeapExhausted { .. }) => {
                    pe::say(&format!("HEAP {e}"));
                    if let Error::HeapExhausted {
                        requested,
                        heap_size,
                        free,
                        ..
                    } = e
                    {
                        pe::say(&format!("FIELDS {requested} {heap_size} {free}"));
                    }
                }
                Err(e) => panic!("PE {me}: expected HeapExhausted, got {e}"),
                Ok(_) => panic!("PE {me}: a 2 MiB allocation succeeded in a 1 MiB heap"),
            }
            // The heap is still usable.
            let v = shmem.alloc_slice::<u64>(1000).unwrap();
            v.put((me + 1) % n, 999, &[7]).unwrap();
            shmem.barrier_all();
            assert_eq!(v.read(999).unwrap(), 7);
        }
        "pe-range" => {
            let x = shmem.alloc(0u64).unwrap();
            let v = shmem.alloc_slice::<u8>(8).unwrap();
            let results = [
                ("p", x.p(n, 1).err()),
                ("g", x.g(n).err()),
                ("put", v.put(n, 0, b"x").err()),
                ("fetch_add", x.fetch_add(n + 5, 1).err()),
            ];
            for (what, r) in results {
                match r {
                    Some(e @ Error::PeOutOfRange { .. }) => pe::say(&format!("RANGE {what}: {e}")),
                    other => panic!("PE {me}: {what} to PE {n}: {other:?}"),
                }
            }
        }
        "not-symmetric" => {
            let stack = [0u64; 4];
            let src = [1u8; 8];
            let mut dst = [0u8; 8];
            let rt = shmem.runtime();
            let addr = stack.as_ptr() as usize;
            // SAFETY: `src`/`dst` are valid; the remote address is rejected before any access.
            let results = unsafe {
                [
                    ("put", rt.put(addr, src.as_ptr(), 8, 0).err()),
                    ("get", rt.get(dst.as_mut_ptr(), addr, 8, 0).err()),
                    (
                        "amo",
                        rt.amo::<u64>(addr, rshmem_transport::AmoOp::FetchAdd, 1, 0, 0)
                            .err(),
                    ),
                ]
            };
            for (what, r) in results {
                match r {
                    Some(e @ Error::NotSymmetric { .. }) => {
                        pe::say(&format!("NOTSYM {what} {addr:#x}: {e}"))
                    }
                    other => panic!("PE {me}: {what} on a stack address: {other:?}"),
                }
            }
            // A range that starts in the heap and runs past its end.
            let (base, len) = rt.heap_range();
            let big = [0u8; 64];
            // SAFETY: as above.
            match unsafe { rt.put(base + len - 8, big.as_ptr(), 64, 0) } {
                Err(e @ Error::NotSymmetric { .. }) => pe::say(&format!("NOTSYM tail: {e}")),
                other => panic!("PE {me}: put past the heap end: {other:?}"),
            }
            assert_eq!(dst, [0; 8]);
        }
        "debug-alloc" => {
            let v = shmem.alloc_slice::<u8>(64 + 16 * me).unwrap();
            pe::say(&format!("PE {me} allocated {} bytes", v.len()));
            shmem.barrier_all();
        }
        "global-exit" => {
            pe::say(&format!("PID {me} {}", std::process::id()));
            let code: i32 = args.get(1).map(|a| a.parse().expect("CODE")).unwrap_or(7);
            shmem.barrier_all();
            if me == n - 1 {
                pe::say(&format!("GLOBAL_EXIT {code} from PE {me}"));
                event();
                shmem.global_exit(code);
            }
            shmem.barrier_all();
            panic!("PE {me}: passed a barrier PE {} never reaches", n - 1);
        }
        "exit" => {
            pe::say(&format!("PID {me} {}", std::process::id()));
            let code: i32 = args.get(1).map(|a| a.parse().expect("CODE")).unwrap_or(3);
            shmem.barrier_all();
            if me == n - 1 {
                pe::say(&format!("EXIT {code} from PE {me}"));
                event();
                std::process::exit(code);
            }
            shmem.barrier_all();
            panic!("PE {me}: passed a barrier PE {} never reaches", n - 1);
        }
        other => panic!("unknown mode {other:?}"),
    }
    shmem.barrier_all();
    pe::ok(&shmem, PROG);
}

/// Prints `EVENT_MS <now>` (Unix time in ms) and flushes.
fn event() {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    pe::say(&format!("EVENT_MS {ms}"));
}
