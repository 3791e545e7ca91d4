//! Point-to-point synchronization helpers: comparisons, the waiting policy ([`Backoff`])
//! and what it needs from the runtime ([`Progress`]).
use rshmem_transport::tcp::TcpCtx;
use rshmem_transport::verbs::VerbsCtx;
use rshmem_transport::AmoWord;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// The comparisons of `shmem_wait_until` and `shmem_test` (`SHMEM_CMP_*`).
///
/// ```
/// use rshmem::Cmp;
/// assert!(Cmp::Lt.holds::<u64>(-1i64 as u64, 0, true)); // signed: -1 < 0
/// assert_eq!(Cmp::from_c(3), Some(Cmp::Ge));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Cmp {
    /// `==`
    Eq = 0,
    /// `!=`
    Ne = 1,
    /// `>`
    Gt = 2,
    /// `>=`
    Ge = 3,
    /// `<`
    Lt = 4,
    /// `<=`
    Le = 5,
}

impl Cmp {
    /// The comparison for a `SHMEM_CMP_*` constant.
    pub fn from_c(v: i32) -> Option<Self> {
        Some(match v {
            0 => Cmp::Eq,
            1 => Cmp::Ne,
            2 => Cmp::Gt,
            3 => Cmp::Ge,
            4 => Cmp::Lt,
            5 => Cmp::Le,
            _ => return None,
        })
    }

    /// Whether `a cmp b` holds, comparing as signed integers of `W`'s width when `signed`.
    #[inline(always)]
    pub fn holds<W: AmoWord>(self, a: W, b: W, signed: bool) -> bool {
        let widen = |v: W| -> i128 {
            let u = v.to_u64();
            match (signed, W::SIZE) {
                (true, 4) => u as u32 as i32 as i128,
                (true, _) => u as i64 as i128,
                (false, _) => u as i128,
            }
        };
        self.holds_wide(widen(a), widen(b))
    }

    /// Whether `a cmp b` holds for integers already widened from their type.
    #[inline(always)]
    pub fn holds_wide(self, a: i128, b: i128) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
        }
    }
}

/// What a PE waits in, published in its `STATE` slot (bits 56..63) so that a PE in
/// `shmem_finalize` can tell when the job can no longer finish (see "Failures" in
/// ARCHITECTURE.md; the watcher is `rt::waiting`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitKind {
    /// A point-to-point wait, a team collective, or anything else built on them.
    Other = 0,
    /// `barrier_all` / `sync_all`.
    Barrier = 1,
    /// `set_lock` (or `clear_lock` waiting for its successor).
    Lock = 2,
    /// `finalize`'s own barrier.
    Finalize = 3,
}

/// Bit of the `STATE` word: this PE is inside a wait that has yielded.
pub const WAITING: u64 = 1 << 63;
const KIND_SHIFT: u32 = 56;
/// The part of `STATE` that counts finished waits.
const COUNT: u64 = (1 << KIND_SHIFT) - 1;

impl WaitKind {
    /// The kind a `STATE` word names.
    pub fn from_bits(v: u64) -> WaitKind {
        match (v >> KIND_SHIFT) & 0x7f {
            1 => WaitKind::Barrier,
            2 => WaitKind::Lock,
            3 => WaitKind::Finalize,
            _ => WaitKind::Other,
        }
    }

    /// For messages.
    pub fn describe(self) -> &'static str {
        match self {
            WaitKind::Other => "a point-to-point wait or a team collective (shmem_wait_until, shmem_signal_wait_until, a team barrier, ...)",
            WaitKind::Barrier => "shmem_barrier_all",
            WaitKind::Lock => "shmem_set_lock",
            WaitKind::Finalize => "shmem_finalize",
        }
    }
}

/// The runtime's cold paths a wait calls when it yields (installed by the runtime, so that
/// this module does not depend on it).
#[derive(Clone, Copy, Debug)]
pub struct ExitHooks {
    /// A peer asked this PE to exit; the argument is the request word (non-zero).
    /// Acknowledges and exits (returns only when this PE is already leaving).
    pub obey: fn(u64),
    /// This PE waits in finalize: look whether the job can still finish.
    pub watch: fn(),
}

fn no_obey(_: u64) {}
fn no_watch() {}

/// What every wait needs from the runtime, owned by it (`Runtime::progress`) and handed to
/// each [`Backoff`]: the verbs context whose held-back `put_nbi`s the waits post, the TCP
/// transport whose incoming requests the waits serve, this PE's exit-request and `STATE`
/// slots while the runtime is armed, and what this PE waits in. Lock-free and
/// allocation-free.
#[derive(Debug)]
pub struct Progress {
    verbs: Option<Arc<VerbsCtx>>,
    /// Served on every round of every wait (see "TCP transport" in ARCHITECTURE.md).
    tcp: Option<Arc<TcpCtx>>,
    /// This PE's exit-request slot (an aligned u64 of its own segment 0) while armed, else 0.
    exit_slot: AtomicUsize,
    /// This PE's `STATE` slot while armed, else 0.
    state_slot: AtomicUsize,
    hooks: ExitHooks,
    /// The innermost labelled wait (set by the waits that know what they are).
    kind: AtomicU64,
    /// Whether our `STATE` slot currently says "waiting".
    published: AtomicBool,
    /// Waits finished so far (changes `STATE` when a wait ends, so a watcher sees progress).
    count_done: AtomicU64,
}

impl Progress {
    /// Progress over `verbs` and `tcp` (those the runtime uses), calling `hooks` once armed.
    pub fn new(verbs: Option<Arc<VerbsCtx>>, tcp: Option<Arc<TcpCtx>>, hooks: ExitHooks) -> Self {
        Self {
            verbs,
            tcp,
            exit_slot: AtomicUsize::new(0),
            state_slot: AtomicUsize::new(0),
            hooks,
            kind: AtomicU64::new(WaitKind::Other as u64),
            published: AtomicBool::new(false),
            count_done: AtomicU64::new(0),
        }
    }

    /// No transport to progress, never armed (waits outside a runtime, tests).
    pub fn detached() -> Self {
        Self::new(
            None,
            None,
            ExitHooks {
                obey: no_obey,
                watch: no_watch,
            },
        )
    }

    /// Starts checking the exit-request slot at `exit_slot` and publishing what this PE
    /// waits in at `state_slot` (addresses of aligned u64s in this PE's segment 0, mapped
    /// until [`Progress::disarm`]).
    pub fn arm(&self, exit_slot: usize, state_slot: usize) {
        self.published.store(false, Ordering::Relaxed);
        self.kind.store(WaitKind::Other as u64, Ordering::Relaxed);
        self.state_slot.store(state_slot, Ordering::Release);
        self.exit_slot.store(exit_slot, Ordering::Release);
    }

    /// Stops using the slots (finalize, before they are unmapped).
    pub fn disarm(&self) {
        self.exit_slot.store(0, Ordering::Release);
        self.state_slot.store(0, Ordering::Release);
    }

    /// Called by every wait (each round) and every test: posts `put_nbi`s that the verbs
    /// transport holds back to send them as one list, so that a PE waiting for a reply to
    /// them does not wait forever (one relaxed load when nothing is held back); serves the
    /// requests that have arrived on the TCP connections (one non-blocking `recv` per
    /// peer that has connected), so that the thread that is on a CPU anyway answers them.
    #[inline]
    pub fn poll(&self) {
        if VerbsCtx::deferred() {
            self.poll_slow();
        }
        if let Some(t) = &self.tcp {
            t.send_held_all();
            t.serve_incoming();
        }
    }

    #[cold]
    fn poll_slow(&self) {
        // Only while armed (from `rshmem::init` to finalize), as before the handle existed.
        if self.exit_slot.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Some(v) = &self.verbs {
            v.progress();
        }
    }

    /// Called on the yield path of every wait: if a peer asked this PE to exit (it called
    /// `global_exit`, or exited with a non-zero status), acknowledge and exit with that
    /// status; publish that this PE waits.
    #[inline]
    fn on_yield(&self) {
        let a = self.exit_slot.load(Ordering::Relaxed);
        if a != 0 {
            // SAFETY: `a` is our own exit slot, mapped while armed (disarm clears it
            // before anything is unmapped).
            let v = unsafe { &*(a as *const AtomicU64) }.load(Ordering::Acquire);
            if v != 0 {
                (self.hooks.obey)(v);
            }
            let kind = self.kind.load(Ordering::Relaxed);
            if !self.published.swap(true, Ordering::Relaxed) {
                self.store_state(self.word(WaitKind::from_bits(kind << KIND_SHIFT)));
            }
            if kind == WaitKind::Finalize as u64 {
                (self.hooks.watch)();
            }
        }
    }

    /// A wait that yielded at least once ends.
    fn done(&self) {
        if self.published.swap(false, Ordering::Relaxed) {
            let n = self.count_done.fetch_add(1, Ordering::Relaxed) + 1;
            self.store_state(n & COUNT);
        }
    }

    /// Writes our `STATE` slot (when armed).
    pub fn store_state(&self, v: u64) {
        let a = self.state_slot.load(Ordering::Relaxed);
        if a != 0 {
            // SAFETY: our own aligned STATE slot, mapped while armed.
            unsafe { &*(a as *const AtomicU64) }.store(v, Ordering::Release);
        }
    }

    /// The `STATE` word for "waiting in `kind`".
    pub fn word(&self, kind: WaitKind) -> u64 {
        WAITING | (kind as u64) << KIND_SHIFT | self.count_done.load(Ordering::Relaxed) & COUNT
    }

    /// Labels the waits of the current scope; the previous label comes back on drop.
    pub fn label(&self, k: WaitKind) -> Label<'_> {
        Label {
            p: self,
            prev: self.kind.swap(k as u64, Ordering::Relaxed),
        }
    }
}

/// A scope's wait label ([`Progress::label`]).
pub struct Label<'p> {
    p: &'p Progress,
    prev: u64,
}

impl Drop for Label<'_> {
    fn drop(&mut self) {
        self.p.kind.store(self.prev, Ordering::Relaxed);
    }
}

/// Spin briefly, then yield the CPU on every retry: jobs run 4–8 PEs on 2 cores, and a
/// waiting PE must leave the core to the PE it waits for. Every round polls the runtime's
/// [`Progress`]; yielding rounds also check for an exit request.
///
/// ```
/// let p = rshmem::wait::Progress::detached();
/// let mut b = rshmem::wait::Backoff::new(&p);
/// let start = std::time::Instant::now();
/// while start.elapsed().as_micros() < 10 {
///     b.snooze();
/// }
/// ```
#[derive(Debug)]
pub struct Backoff<'p> {
    n: u32,
    p: &'p Progress,
}

/// Busy-wait iterations before the first yield.
const SPINS: u32 = 128;
/// With TCP peers: iterations without yielding the CPU at all (each polls the sockets).
const TCP_SPINS: u32 = 16;

impl<'p> Backoff<'p> {
    /// A fresh policy over `p` (the runtime's: `Runtime::progress`).
    pub fn new(p: &'p Progress) -> Self {
        Self { n: 0, p }
    }

    /// Waits a little.
    #[inline]
    pub fn snooze(&mut self) {
        if self.n == 0 {
            if let Some(t) = &self.p.tcp {
                // This thread serves the TCP connections now: the server threads park.
                t.enter_wait();
            }
        }
        self.p.poll();
        if self.n < SPINS {
            self.n += 1;
            if self.n > TCP_SPINS && self.p.tcp.is_some() {
                // Each round made system calls (serving the TCP connections): leave the
                // CPU to the kernel's deferred network work and the other threads on it
                // (the reply or request this PE waits for may need them), without yet
                // counting as a waiting PE.
                std::thread::yield_now();
            } else {
                core::hint::spin_loop();
            }
        } else {
            self.p.on_yield();
            std::thread::yield_now();
        }
    }
}

impl Drop for Backoff<'_> {
    /// A wait that yielded told its peers it was waiting: it is over.
    #[inline]
    fn drop(&mut self) {
        if self.n > 0 {
            if let Some(t) = &self.p.tcp {
                t.leave_wait();
            }
        }
        if self.n >= SPINS {
            self.p.done();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_and_unsigned_comparisons() {
        assert!(Cmp::Lt.holds::<u32>(-1i32 as u32, 0, true));
        assert!(!Cmp::Lt.holds::<u32>(-1i32 as u32, 0, false));
        assert!(Cmp::Gt.holds::<u64>(-1i64 as u64, 5, false));
        assert!(Cmp::Le.holds::<u64>(-7i64 as u64, -7i64 as u64, true));
        assert!(Cmp::Ne.holds::<u64>(1, 2, true) && Cmp::Eq.holds::<u64>(2, 2, true));
        assert!(Cmp::Ge.holds::<u32>(3, 3, false));
        assert_eq!(Cmp::from_c(5), Some(Cmp::Le));
        assert_eq!(Cmp::from_c(6), None);
    }

    /// What `Backoff` does with its `Progress`, without a runtime (the point of passing the
    /// handle down): nothing published while spinning; on the first yield the exit slot is
    /// checked (the hook sees the request word) and `STATE` says "waiting in <label>"; when
    /// the wait ends, `STATE` counts it; labels nest; a disarmed progress touches no slot.
    #[test]
    fn backoff_publishes_waits_and_checks_exit_requests_through_its_progress() {
        static OBEYED: AtomicU64 = AtomicU64::new(0);
        static WATCHED: AtomicU64 = AtomicU64::new(0);
        let p = Progress::new(
            None,
            None,
            ExitHooks {
                obey: |v| OBEYED.store(v, Ordering::Relaxed),
                watch: || {
                    WATCHED.fetch_add(1, Ordering::Relaxed);
                },
            },
        );
        let exit = AtomicU64::new(0);
        let state = AtomicU64::new(0);
        p.arm(exit.as_ptr() as usize, state.as_ptr() as usize);
        let waiting_in = |k: WaitKind, n: u64| WAITING | (k as u64) << KIND_SHIFT | n;

        // Spinning only: nothing published, nothing counted.
        {
            let mut b = Backoff::new(&p);
            for _ in 0..SPINS {
                b.snooze();
            }
            assert_eq!(state.load(Ordering::Relaxed), 0);
        }
        assert_eq!(state.load(Ordering::Relaxed), 0);

        // A labelled wait that yields: published with its kind, then counted when it ends.
        {
            let _l = p.label(WaitKind::Barrier);
            let mut b = Backoff::new(&p);
            for _ in 0..=SPINS {
                b.snooze();
            }
            assert_eq!(
                state.load(Ordering::Relaxed),
                waiting_in(WaitKind::Barrier, 0)
            );
            assert_eq!(OBEYED.load(Ordering::Relaxed), 0);
            // A peer's exit request is seen on the next yield.
            exit.store(1 << 63 | 2 << 32 | 5, Ordering::Relaxed);
            b.snooze();
            assert_eq!(OBEYED.load(Ordering::Relaxed), 1 << 63 | 2 << 32 | 5);
            exit.store(0, Ordering::Relaxed);
        }
        assert_eq!(state.load(Ordering::Relaxed), 1);

        // Labels nest and come back; finalize's waits call the watcher.
        {
            let _f = p.label(WaitKind::Finalize);
            {
                let _l = p.label(WaitKind::Lock);
                let mut b = Backoff::new(&p);
                for _ in 0..=SPINS {
                    b.snooze();
                }
                assert_eq!(state.load(Ordering::Relaxed), waiting_in(WaitKind::Lock, 1));
                assert_eq!(WATCHED.load(Ordering::Relaxed), 0);
            }
            assert_eq!(state.load(Ordering::Relaxed), 2);
            let mut b = Backoff::new(&p);
            for _ in 0..=SPINS {
                b.snooze();
            }
            assert_eq!(
                state.load(Ordering::Relaxed),
                waiting_in(WaitKind::Finalize, 2)
            );
            assert_eq!(WATCHED.load(Ordering::Relaxed), 1);
        }
        assert_eq!(state.load(Ordering::Relaxed), 3);
        assert_eq!(
            WaitKind::from_bits(waiting_in(WaitKind::Lock, 7)),
            WaitKind::Lock
        );

        // Disarmed: the slots are no longer touched.
        p.disarm();
        exit.store(1, Ordering::Relaxed);
        {
            let mut b = Backoff::new(&p);
            for _ in 0..=SPINS {
                b.snooze();
            }
        }
        assert_eq!(state.load(Ordering::Relaxed), 3);
        assert_eq!(OBEYED.load(Ordering::Relaxed), 1 << 63 | 2 << 32 | 5);
    }
}
