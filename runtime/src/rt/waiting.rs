//! What this PE is waiting in, published in its `STATE` slot so that a PE in
//! `shmem_finalize` can tell when the job can no longer finish (see "Failures" in
//! ARCHITECTURE.md): a PE that finalized (explicitly, or implicitly by exiting with status 0)
//! while every other PE waits for something.
use super::exit::{EXIT_RT, EXIT_WORD, LEAVING};
use super::*;

/// Bit of the `STATE` word: this PE is inside a wait that has yielded.
pub const WAITING: u64 = 1 << 63;
const KIND_SHIFT: u32 = 56;
/// The part of `STATE` that counts finished waits.
const COUNT: u64 = (1 << KIND_SHIFT) - 1;

/// What a PE waits in (`STATE` bits 56..63).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A point-to-point wait, a team collective, or anything else built on them.
    Other = 0,
    /// `barrier_all` / `sync_all`.
    Barrier = 1,
    /// `set_lock` (or `clear_lock` waiting for its successor).
    Lock = 2,
    /// `finalize`'s own barrier.
    Finalize = 3,
}

impl Kind {
    fn from_bits(v: u64) -> Kind {
        match (v >> KIND_SHIFT) & 0x7f {
            1 => Kind::Barrier,
            2 => Kind::Lock,
            3 => Kind::Finalize,
            _ => Kind::Other,
        }
    }

    /// For messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Other => "a point-to-point wait or a team collective (shmem_wait_until, shmem_signal_wait_until, a team barrier, ...)",
            Kind::Barrier => "shmem_barrier_all",
            Kind::Lock => "shmem_set_lock",
            Kind::Finalize => "shmem_finalize",
        }
    }
}

/// The innermost labelled wait of this process (set by the waits that know what they are).
static KIND: AtomicU64 = AtomicU64::new(Kind::Other as u64);
/// Whether our `STATE` slot currently says "waiting".
static PUBLISHED: AtomicBool = AtomicBool::new(false);
/// Waits finished so far (changes `STATE` when a wait ends, so a watcher sees progress).
static COUNT_DONE: AtomicU64 = AtomicU64::new(0);
/// When this PE (in finalize) last looked at the others, and what it saw.
static WATCH: parking_lot::Mutex<Option<(Instant, Vec<u64>, Instant)>> =
    parking_lot::Mutex::new(None);

/// Labels the waits of the current scope; the previous label comes back on drop.
pub struct Label(u64);

pub fn label(k: Kind) -> Label {
    Label(KIND.swap(k as u64, Ordering::Relaxed))
}

impl Drop for Label {
    fn drop(&mut self) {
        KIND.store(self.0, Ordering::Relaxed);
    }
}

/// Our `STATE` slot, from our `EXIT` slot's address.
fn state_slot(exit_slot: usize) -> &'static AtomicU64 {
    // SAFETY: `STATE` is an aligned u64 of our own internal area, at a fixed distance
    // from `EXIT` (whose address the caller read while the runtime is armed).
    unsafe { &*((exit_slot - slots::EXIT + slots::STATE) as *const AtomicU64) }
}

/// The word for "waiting in `kind`".
pub fn word(kind: Kind) -> u64 {
    WAITING | (kind as u64) << KIND_SHIFT | COUNT_DONE.load(Ordering::Relaxed) & COUNT
}

#[inline]
pub(super) fn on_yield(exit_slot: usize) {
    let kind = KIND.load(Ordering::Relaxed);
    if !PUBLISHED.swap(true, Ordering::Relaxed) {
        state_slot(exit_slot).store(word(Kind::from_bits(kind << KIND_SHIFT)), Ordering::Release);
    }
    if kind == Kind::Finalize as u64 {
        watch();
    }
}

/// A new runtime (init, or re-init after finalize): nothing published, nothing seen.
pub(super) fn reset() {
    PUBLISHED.store(false, Ordering::Relaxed);
    KIND.store(Kind::Other as u64, Ordering::Relaxed);
    *WATCH.lock() = None;
}

pub(super) fn done() {
    if PUBLISHED.swap(false, Ordering::Relaxed) {
        let a = EXIT_WORD.load(Ordering::Relaxed);
        let n = COUNT_DONE.fetch_add(1, Ordering::Relaxed) + 1;
        if a != 0 {
            state_slot(a).store(n & COUNT, Ordering::Release);
        }
    }
}

/// How often a PE in finalize looks at the others' states.
const WATCH_EVERY: Duration = Duration::from_millis(200);
/// How long the picture must stay the same (nobody running, nobody finishing a wait)
/// before the job is declared stuck.
const STUCK_AFTER: Duration = Duration::from_millis(1500);

/// In finalize's barrier: if every PE is either in finalize or waiting, and nothing
/// changed for [`STUCK_AFTER`], nobody can ever release the waiters: end the job.
#[cold]
fn watch() {
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
