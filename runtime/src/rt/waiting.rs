//! The finalize watcher: every PE publishes what it waits in (`crate::wait::Progress`, in its
//! `STATE` slot) so that a PE in `shmem_finalize` can tell when the job can no longer finish
//! (see "Failures" in ARCHITECTURE.md): a PE that finalized (explicitly, or implicitly by
//! exiting with status 0) while every other PE waits for something.
use super::exit::{EXIT_RT, LEAVING};
use super::*;
use crate::wait::{WaitKind as Kind, WAITING};

/// When this PE (in finalize) last looked at the others, and what it saw.
static WATCH: parking_lot::Mutex<Option<(Instant, Vec<u64>, Instant)>> =
    parking_lot::Mutex::new(None);

/// A new runtime (init, or re-init after finalize): nothing seen.
pub(super) fn reset() {
    *WATCH.lock() = None;
}

/// How often a PE in finalize looks at the others' states.
const WATCH_EVERY: Duration = Duration::from_millis(200);
/// How long the picture must stay the same (nobody running, nobody finishing a wait)
/// before the job is declared stuck.
const STUCK_AFTER: Duration = Duration::from_millis(1500);

/// In finalize's barrier: if every PE is either in finalize or waiting, and nothing
/// changed for [`STUCK_AFTER`], nobody can ever release the waiters: end the job.
#[cold]
pub(super) fn watch() {
    let rt = EXIT_RT.load(Ordering::Acquire);
    if rt.is_null() || LEAVING.load(Ordering::Acquire) {
        return;
    }
    // SAFETY: EXIT_RT points at the live runtime while armed.
    let rt = unsafe { &*rt };
    let now = Instant::now();
    let mut w = WATCH.lock();
    if let Some((last, _, _)) = &*w {
        if now.duration_since(*last) < WATCH_EVERY {
            return;
        }
    }
    let states = rt.peer_states();
    let stable_since = match &*w {
        Some((_, prev, since)) if *prev == states => *since,
        _ => now,
    };
    *w = Some((now, states.clone(), stable_since));
    drop(w);
    let running = states.iter().any(|&v| v & WAITING == 0);
    let fin: Vec<usize> = (0..states.len())
        .filter(|&pe| states[pe] & WAITING != 0 && Kind::from_bits(states[pe]) == Kind::Finalize)
        .collect();
    if running || fin.len() == states.len() || now.duration_since(stable_since) < STUCK_AFTER {
        return;
    }
    // One PE reports: the lowest one in finalize.
    if fin.first() != Some(&rt.me) {
        return;
    }
    // "PEs 0, 1 wait in shmem_barrier_all, PE 2 waits in shmem_set_lock"
    let mut waiters: Vec<String> = Vec::new();
    for kind in [Kind::Barrier, Kind::Lock, Kind::Other] {
        let pes: Vec<String> = (0..states.len())
            .filter(|pe| !fin.contains(pe) && Kind::from_bits(states[*pe]) == kind)
            .map(|pe| pe.to_string())
            .collect();
        if !pes.is_empty() {
            waiters.push(format!(
                "PE{} {} wait{} in {}",
                if pes.len() > 1 { "s" } else { "" },
                pes.join(", "),
                if pes.len() > 1 { "" } else { "s" },
                kind.describe()
            ));
        }
    }
    let names: Vec<String> = fin.iter().map(|p| p.to_string()).collect();
    let msg = format!(
        "PE{} {} {} in shmem_finalize (called explicitly, or at exit with status 0 without \
         calling it), which does nothing else, while {}: no PE is left to end those waits; \
         ending the job with status 1",
        if fin.len() > 1 { "s" } else { "" },
        names.join(", "),
        if fin.len() > 1 { "are" } else { "is" },
        waiters.join(", ")
    );
    rt.stuck_exit(&msg);
}
