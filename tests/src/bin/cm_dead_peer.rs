//! A peer that dies before anyone connected to it (verbs connections on demand): PE 1 kills
//! itself with SIGKILL right after init; PE 0 then puts to PE 1, its first contact. The
//! job must end with an error that names PE 1, not hang: whichever comes first, the
//! launcher's teardown (PE 1's death) or the failed connect (`could not connect to PE 1
//! on demand`). If the put returned and nothing ended the job, PE 0 waits 60 s and exits 0,
//! so the test case (which expects a failure well before its timeout) fails.
use std::time::Duration;

fn main() {
    let shmem = rshmem::init().unwrap_or_else(|e| {
        eprintln!("cm_dead_peer: {e}");
        std::process::exit(1)
    });
    assert_eq!(shmem.n_pes(), 2, "cm_dead_peer: run with 2 PEs");
    if shmem.my_pe() == 1 {
        // SAFETY: signals this very process.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    }
    std::thread::sleep(Duration::from_millis(300));
    // The start of the symmetric heap: any symmetric address works, and allocating would
    // be collective (PE 1 is gone).
    let r = shmem.runtime();
    let (base, _) = r.heap_range();
    let v = 7u64;
    // SAFETY: `v` is valid for 8 bytes; the destination is inside the symmetric heap.
    let _ = unsafe { r.put(base, &v as *const u64 as *const u8, 8, 1) };
    r.quiet();
    eprintln!("cm_dead_peer: PE 0's put to the dead PE 1 returned; waiting for the job to end");
    std::thread::sleep(Duration::from_secs(60));
}
