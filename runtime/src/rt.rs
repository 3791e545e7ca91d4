//! The runtime state of one PE and the operations every API layer (Rust, C) goes through.
//!
//! Path of a put: API (`SymVec::put`, `shmem_putmem`) → [`Runtime::remote`] (PE range
//! check, address translation: local address → segment + offset → the peer's address) →
//! the peer's endpoint, chosen at init and matched statically ([`Path`]) → the transport
//! (`ShmEndpoint::put`: a `memcpy` into the peer's mapping). No lock, allocation or system
//! call on the way.
use crate::bootstrap::{self, Kvs};
use crate::env::Config;
use crate::error::{Error, Result};
use crate::heap::HeapAllocator;
use crate::wait::{Backoff, Cmp};
use parking_lot::Mutex;
use rshmem_collectives::{ActiveSet, SyncOps, BARRIER_SLOTS};
use rshmem_transport::shm::{ShmEndpoint, ShmRegion, SEGMENT_ALIGN};
use rshmem_transport::tcp::{TcpCtx, TcpEndpoint};
use rshmem_transport::verbs::{DeviceSpec, VerbsCtx, VerbsEndpoint};
use rshmem_transport::{AmoOp, AmoWord, Endpoint, RemoteAddr};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// This PE's exit-request word ([`slots::EXIT`]), 0 when no runtime is armed; read on the
/// yield path of every wait ([`check_exit_request`]).
static EXIT_WORD: AtomicUsize = AtomicUsize::new(0);
/// The runtime that exit requests and the exit hook use; set by [`Runtime::arm_exit`] once
/// the runtime has its final address, cleared by finalize.
static EXIT_RT: AtomicPtr<Runtime> = AtomicPtr::new(core::ptr::null_mut());
/// Set once this PE is leaving (finalizing, exiting, or asking the others to exit): it then
/// neither sends nor obeys exit requests.
static LEAVING: AtomicBool = AtomicBool::new(false);
/// The verbs context whose deferred `put_nbi`s (post lists) the waits and tests post
/// ([`progress`]): set by `arm_exit` when the runtime uses verbs, cleared by finalize.
static PROGRESS: parking_lot::Mutex<Option<Arc<VerbsCtx>>> = parking_lot::Mutex::new(None);
/// How long a PE asking the others to exit waits for their acknowledgements before it falls
/// back to the bootstrap's abort.
const EXIT_ACK_WAIT: Duration = Duration::from_secs(1);
/// After the last acknowledgement, how long the requester waits before it exits itself.
const EXIT_GRACE: Duration = Duration::from_millis(100);

/// Called by every wait (each round) and every test: posts `put_nbi`s that the verbs
/// transport holds back to send them as one list, so that a PE waiting for a reply to
/// them does not wait forever. One relaxed load when nothing is held back.
#[inline]
pub fn progress() {
    if VerbsCtx::deferred() {
        progress_slow();
    }
}

#[cold]
fn progress_slow() {
    let v = PROGRESS.lock().clone();
    if let Some(v) = v {
        v.progress();
    }
}

/// Called on the yield path of every wait: if a peer asked this PE to exit (it called
/// `global_exit`, or exited with a non-zero status), acknowledge and exit with that status.
#[inline]
pub(crate) fn check_exit_request() {
    let a = EXIT_WORD.load(Ordering::Relaxed);
    if a != 0 {
        // SAFETY: `a` is our own exit slot, an aligned u64 in our segment 0, mapped while
        // the runtime is armed (disarm clears EXIT_WORD before anything is unmapped).
        let v = unsafe { &*(a as *const AtomicU64) }.load(Ordering::Acquire);
        if v != 0 {
            obey_exit(v);
        }
        waiting::on_yield(a);
    }
}

/// Called when a wait that yielded at least once ends (`Backoff`'s drop).
#[inline]
pub(crate) fn wait_done() {
    waiting::done();
}

/// What this PE is waiting in, published in its `STATE` slot so that a PE in
/// `shmem_finalize` can tell when the job can no longer finish (see "Failures" in
/// ARCHITECTURE.md): a PE that finalized (explicitly, or implicitly by exiting with status 0)
/// while every other PE waits for something.
pub(crate) mod waiting {
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
            state_slot(exit_slot)
                .store(word(Kind::from_bits(kind << KIND_SHIFT)), Ordering::Release);
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
            .filter(|&pe| {
                states[pe] & WAITING != 0 && Kind::from_bits(states[pe]) == Kind::Finalize
            })
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
}

#[cold]
fn obey_exit(v: u64) {
    if LEAVING.swap(true, Ordering::AcqRel) {
        return;
    }
    let requester = ((v >> 32) & 0x7fff_ffff) as usize;
    let status = v as u32 as i32;
    let rt = EXIT_RT.load(Ordering::Acquire);
    if !rt.is_null() {
        // SAFETY: EXIT_RT points at the live runtime (cleared before it is freed).
        let rt = unsafe { &*rt };
        let ack = rt.slot_addr(slots::EXIT_ACK);
        let _ = rt.amo::<u64>(ack, AmoOp::FetchAdd, 1, 0, requester);
        rt.quiet();
        rt.leave_bootstrap(status);
    }
    exit_now(status)
}

/// Set while the exit hook runs: a nested `exit` from inside it is not allowed.
static IN_EXIT_HOOK: AtomicBool = AtomicBool::new(false);

/// Ends the process with `status`, C and Rust output flushed.
fn exit_now(status: i32) -> ! {
    flush_stdio();
    if IN_EXIT_HOOK.load(Ordering::Acquire) {
        // SAFETY: flushes every C stream, then ends the process without running the exit
        // handlers a second time.
        unsafe {
            libc::fflush(core::ptr::null_mut());
            libc::_exit(status)
        }
    }
    // SAFETY: exit runs the atexit handlers (C stdio is flushed) and ends the process.
    unsafe { libc::exit(status) }
}

/// Writes `line` and a newline to stderr in one `write(2)` (`eprintln!` with arguments
/// writes piece by piece, and the messages of PEs failing together interleaved mid-line).
pub(crate) fn err_line(line: &str) {
    use std::io::Write;
    let mut b = String::with_capacity(line.len() + 1);
    b.push_str(line);
    b.push('\n');
    let _ = std::io::stderr().lock().write_all(b.as_bytes());
}

fn flush_stdio() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// A page of a symmetric segment that cannot be backed: `/dev/shm` (tmpfs) is full, and the
/// kernel sends SIGBUS to the PE that touches it. The handler says so, naming the PE and
/// what to do, in one `write(2)`, then lets the signal kill the PE as before (the launcher
/// reports SIGBUS). Faults elsewhere go to the previous handler (Rust's stack-overflow
/// check) or the default action.
mod sigbus {
    use std::sync::atomic::{AtomicPtr, Ordering};

    struct Table {
        /// `(start, end)` of every mapped shared-memory segment (own and peers').
        ranges: Vec<(usize, usize)>,
        /// The message, ready to write.
        msg: Vec<u8>,
        /// The handler that was installed before ours.
        old: libc::sigaction,
    }

    static TABLE: AtomicPtr<Table> = AtomicPtr::new(core::ptr::null_mut());

    /// Installs the handler for `ranges` (replacing an earlier table; the old one is leaked,
    /// a handler may still read it).
    pub fn install(me: usize, ranges: Vec<(usize, usize)>) {
        let msg = format!(
            "rshmem: PE {me}: SIGBUS on symmetric memory: a page of the symmetric heap (or of the \
             symmetric globals) cannot be allocated because /dev/shm (tmpfs) is full. The PEs of a node \
             together can only touch as much as /dev/shm holds: use less, enlarge /dev/shm \
             (mount -o remount,size=... /dev/shm), or run fewer PEs per node\n"
        )
        .into_bytes();
        let prev = TABLE.load(Ordering::Acquire);
        // SAFETY: all-zero is a valid sigaction.
        let mut old: libc::sigaction = unsafe { core::mem::zeroed() };
        if !prev.is_null() {
            // SAFETY: tables are never freed.
            old = unsafe { (*prev).old };
        }
        let t = Box::into_raw(Box::new(Table { ranges, msg, old }));
        TABLE.store(t, Ordering::Release);
        if prev.is_null() {
            // SAFETY: installs a handler with the SA_SIGINFO signature; `old` receives the
            // previous action, read only by the handler.
            unsafe {
                let mut sa: libc::sigaction = core::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(libc::SIGBUS, &sa, &mut (*t).old);
            }
        }
    }

    extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        let t = TABLE.load(Ordering::Acquire);
        // SAFETY: `info` is the kernel's siginfo; tables are never freed.
        unsafe {
            let addr = (*info).si_addr() as usize;
            let t = &*t;
            if t.ranges.iter().any(|&(a, b)| addr >= a && addr < b) {
                libc::write(2, t.msg.as_ptr() as *const libc::c_void, t.msg.len());
                let mut dfl: libc::sigaction = core::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGBUS, &dfl, core::ptr::null_mut());
                return; // the access faults again and the default action ends the PE
            }
            let old = t.old;
            if old.sa_flags & libc::SA_SIGINFO != 0
                && old.sa_sigaction != libc::SIG_DFL
                && old.sa_sigaction != libc::SIG_IGN
            {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    core::mem::transmute(old.sa_sigaction);
                f(sig, info, ctx);
            } else if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
                let f: extern "C" fn(libc::c_int) = core::mem::transmute(old.sa_sigaction);
                f(sig);
            } else {
                libc::sigaction(libc::SIGBUS, &old, core::ptr::null_mut());
            }
        }
    }
}

/// glibc's `on_exit`: a PE that exits with a non-zero status while the runtime is live asks
/// the others to exit with the same status.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn on_process_exit(status: libc::c_int, _arg: *mut libc::c_void) {
    IN_EXIT_HOOK.store(true, Ordering::Release);
    if status == 0 {
        // A program that exits normally without finalizing (the deprecated `start_pes`
        // has no finalize at all) is finalized implicitly: a barrier with the other PEs,
        // which do the same, then the launcher connection (kept for a re-init by an
        // explicit finalize too) is closed cleanly.
        let rt = EXIT_RT.load(Ordering::Acquire);
        if !rt.is_null() && !LEAVING.load(Ordering::Acquire) {
            // SAFETY: as in `obey_exit`; the runtime stays allocated (exit frees nothing).
            unsafe { &*rt }.finalize();
        }
        bootstrap::finalize_parked();
        return;
    }
    let rt = EXIT_RT.load(Ordering::Acquire);
    if !rt.is_null() && !LEAVING.load(Ordering::Acquire) {
        // SAFETY: as in `obey_exit`.
        let rt = unsafe { &*rt };
        flush_stdio();
        if rt.npes > 1 {
            use std::io::Write;
            let line = format!(
                "rshmem: PE {} exited with status {status} without shmem_finalize; the other PEs exit with it\n",
                rt.me
            );
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        let _ = rt.request_exit(status);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" {
    fn on_exit(
        f: extern "C" fn(libc::c_int, *mut libc::c_void),
        arg: *mut libc::c_void,
    ) -> libc::c_int;
}

/// Most symmetric segments a job has (0: the heap; 1: the program's data and bss when
/// [`InitOptions::symmetric_statics`] is set).
pub const MAX_SEGS: usize = 4;
/// Bytes at the start of segment 0 reserved for the runtime's own symmetric state
/// (synchronization slots, debug checks); backed lazily like the heap.
pub const INTERNAL_BYTES: usize = SEGMENT_ALIGN;

/// Offsets (bytes) of the runtime's slots in the internal area.
mod slots {
    /// `barrier_all` dissemination counters (64 × u64).
    pub const BARRIER: usize = 0;
    /// SHMEM_DEBUG argument check: PE 0 publishes its arguments here (4 × u64).
    pub const DEBUG: usize = 64 * 8;
    /// Exit request from a peer (see "Failures" in ARCHITECTURE.md): 0, or
    /// `1 << 63 | requester << 32 | status as u32`.
    pub const EXIT: usize = DEBUG + 4 * 8;
    /// Peers that obeyed this PE's exit request (u64 counter).
    pub const EXIT_ACK: usize = EXIT + 8;
    /// What this PE waits in (`rt::waiting`): written only by this PE, read by peers in
    /// finalize.
    pub const STATE: usize = EXIT_ACK + 8;
    /// Finalize's own dissemination barrier counters (64 x u64): never shared with a user
    /// barrier, so an implicit finalize cannot complete a `barrier_all` it never entered.
    pub const FIN_BARRIER: usize = STATE + 8;
    /// First byte free for later users (collectives, teams).
    pub const _FREE: usize = FIN_BARRIER + 64 * 8;
}

/// First byte of the internal area after the runtime's fixed slots: from here on it is
/// carved into team state (signal slots, scratch) by `coll::BlockMap`.
pub(crate) const INTERNAL_FREE: usize = slots::_FREE;

/// A local symmetric segment: where it starts in this process and how long it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct Segment {
    /// First address.
    pub base: usize,
    /// Length in bytes.
    pub len: usize,
}

/// How this PE reaches a peer. Matched on the hot path: static dispatch, no vtable.
#[derive(Debug)]
pub enum Path {
    /// Same node: the peer's segments are mapped here.
    Shm(ShmEndpoint),
    /// RDMA verbs (every peer when any peer is: see "Verbs transport" in ARCHITECTURE.md).
    Verbs(VerbsEndpoint),
    /// TCP sockets to the peer's progress service (see "TCP transport" in ARCHITECTURE.md).
    Tcp(TcpEndpoint),
}

/// One peer: the address of each of its segments as the transport needs it.
#[derive(Debug)]
pub struct Peer {
    /// Segment bases (for shared memory: the peer's segment mapped in this process).
    pub bases: [usize; MAX_SEGS],
    /// Remote keys per segment (RDMA; 0 for shared memory).
    pub keys: [u32; MAX_SEGS],
    /// The endpoint.
    pub path: Path,
    /// The peer's host name.
    pub host: String,
}

impl Peer {
    /// The remote key of byte `off` of segment `seg`, carried in the [`RemoteAddr`] (verbs:
    /// the rkey of the registered chunk or segment, read without a lock; the transport does
    /// not look it up again).
    #[inline(always)]
    fn key(&self, seg: usize, off: usize) -> u32 {
        match &self.path {
            Path::Verbs(ep) => ep.rkey(seg, off),
            Path::Shm(_) | Path::Tcp(_) => self.keys[seg],
        }
    }
}

/// Runs `$body` with `$ep` bound to the endpoint of `$path`, whatever its transport: one
/// `match` arm per transport, so the call is static and inlined (no vtable).
macro_rules! with_endpoint {
    ($path:expr, |$ep:ident| $body:expr) => {
        match $path {
            Path::Shm($ep) => $body,
            Path::Verbs($ep) => $body,
            Path::Tcp($ep) => $body,
        }
    };
}

/// Everything one PE knows.
pub struct Runtime {
    me: usize,
    npes: usize,
    cfg: Config,
    segs: [Segment; MAX_SEGS],
    nsegs: usize,
    peers: Box<[Peer]>,
    /// Start of the user heap (segment 0, after the internal area).
    heap_base: usize,
    heap: Mutex<HeapAllocator>,
    /// The heap base's alignment on every PE: the largest alignment `malloc` can honour.
    heap_align: usize,
    /// Where the heap size came from (`SHMEM_SYMMETRIC_SIZE`, or the machine's default).
    heap_origin: String,
    kvs: Mutex<Box<dyn Kvs>>,
    barrier_epoch: AtomicU64,
    regions: Mutex<Vec<ShmRegion>>,
    /// The verbs transport, when any peer is reached over it.
    verbs: Option<Arc<VerbsCtx>>,
    /// Registration growths so far (names their key-value store records).
    verbs_gen: AtomicU64,
    /// The TCP transport, when any peer is reached over it.
    tcp: Option<Arc<TcpCtx>>,
    /// Teams: the predefined ones, the internal-area allocator, algorithm overrides.
    teams: crate::coll::Teams,
}

/// `RSHMEM_TRANSPORT`: auto (shm within a node, verbs between nodes), shm, verbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Auto,
    Shm,
    Verbs,
    Tcp,
}

fn transport_mode() -> Result<Mode> {
    match std::env::var("RSHMEM_TRANSPORT") {
        Err(_) => Ok(Mode::Auto),
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Mode::Auto),
            "shm" => Ok(Mode::Shm),
            "verbs" | "rdma" | "ibv" => Ok(Mode::Verbs),
            "tcp" => Ok(Mode::Tcp),
            _ => Err(Error::InvalidEnv {
                var: "RSHMEM_TRANSPORT",
                value: v,
                reason: "must be auto (shm within a node; between nodes verbs when every PE has \
                         an RDMA device, else tcp), shm, verbs or tcp"
                    .into(),
            }),
        },
    }
}

/// Errors on the verbs hot path end the job (installed in the transport at init). The
/// transport calls it with its state locked, so this must not touch the transport (the
/// cooperative exit of [`Runtime::abort`] sends AMOs, which would wait for that lock
/// forever): straight to the bootstrap's abort.
fn verbs_abort(msg: &str) -> ! {
    match crate::global_runtime() {
        Some(rt) => rt.abort_now(1, msg),
        None => {
            err_line(&format!("rshmem: {msg}"));
            std::process::exit(1)
        }
    }
}

/// Errors of the TCP transport (a broken connection, a peer that vanished) end the job,
/// unless this PE is leaving anyway (a cooperative exit closes connections).
fn tcp_abort(msg: &str) {
    if LEAVING.load(Ordering::Acquire) {
        return;
    }
    match crate::global_runtime() {
        Some(rt) => rt.abort_now(1, msg),
        None => {
            err_line(&format!("rshmem: {msg}"));
            std::process::exit(1)
        }
    }
}

/// Opens the RDMA device, exchanges connection records through the KVS and connects one
/// RC QP per PE. Collective.
fn setup_verbs(
    kvs: &mut dyn Kvs,
    me: usize,
    npes: usize,
    base: usize,
    seg_len: usize,
    data: Option<(usize, usize)>,
) -> Result<VerbsCtx> {
    let spec = DeviceSpec::from_env()?;
    let ctx = VerbsCtx::open(
        &spec,
        me,
        npes,
        base,
        seg_len,
        INTERNAL_BYTES,
        data,
        verbs_abort,
    )?;
    bootstrap::put(kvs, "rshmem-verbs", &ctx.record())?;
    kvs.barrier()?;
    let recs = (0..npes)
        .map(|pe| bootstrap::get(kvs, pe, "rshmem-verbs"))
        .collect::<Result<Vec<_>>>()?;
    ctx.connect(&recs)?;
    // Every QP is ready to receive before anyone sends.
    kvs.barrier()?;
    Ok(ctx)
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for its length; gethostname NUL-terminates within it.
    if unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) } != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn random_hex() -> String {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).expect("getrandom failed");
    bootstrap::wire::hex_encode(&b)
}

/// Name of this PE's shared-memory object: `/rshmem-<job>-<pe>-<random>`. The launcher
/// removes `/dev/shm/rshmem-<job>-*` after a job, covering PEs killed mid-init.
fn shm_name(job: &str, pe: usize) -> String {
    let job: String = job
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(96)
        .collect();
    format!("/rshmem-{job}-{pe}-{}", random_hex())
}

const PAGE: usize = 4096;

/// Options of [`Runtime::init_with`] (and `rshmem::init_with`).
#[derive(Clone, Copy, Debug, Default)]
pub struct InitOptions {
    /// Make the program's global and static variables (the executable's data and bss)
    /// symmetric, as OpenSHMEM requires of C programs: they become segment 1, remapped in
    /// place onto a shared-memory object (see `statics.rs`). Every PE must run the same
    /// executable.
    pub symmetric_statics: bool,
}

impl Runtime {
    /// Initializes this PE: bootstrap, heap, peers' mappings. Collective over the job.
    pub fn init() -> Result<Self> {
        Self::init_with(InitOptions::default())
    }

    /// [`Runtime::init`] with options; every PE must pass the same ones.
    pub fn init_with(opts: InitOptions) -> Result<Self> {
        let cfg = Config::from_env()?;
        // A re-initialization after finalize reuses the launcher connection.
        let mut kvs = match bootstrap::unpark() {
            Some(k) => k,
            None => bootstrap::from_env()?,
        };
        let (me, npes) = (kvs.rank(), kvs.size());
        let mapping = kvs.process_mapping().filter(|m| m.len() == npes);
        // SHMEM_SYMMETRIC_SIZE, or a default sized from this machine for the most PEs any
        // node of the job runs (the same on every PE of similar nodes).
        let explicit = ["SHMEM_SYMMETRIC_SIZE", "SMA_SYMMETRIC_SIZE"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        let (heap_size, heap_origin) = if explicit {
            (
                cfg.symmetric_size,
                "set by SHMEM_SYMMETRIC_SIZE".to_string(),
            )
        } else {
            let local = match &mapping {
                Some(m) => {
                    let mut per_node = std::collections::HashMap::new();
                    for n in m {
                        *per_node.entry(*n).or_insert(0usize) += 1;
                    }
                    per_node.into_values().max().unwrap_or(1)
                }
                None => npes,
            };
            let d = crate::heap::default_size(local);
            (d.bytes, format!("default: {}", d.why))
        };
        let heap_len = heap_size.div_ceil(PAGE) * PAGE;
        let seg_len = INTERNAL_BYTES + heap_len;
        // The heap starts at a multiple of `heap_align` on every PE (see `malloc`).
        let heap_align = heap_len.next_power_of_two().max(SEGMENT_ALIGN);
        let mut region = ShmRegion::create_aligned(
            &shm_name(kvs.job_id(), me),
            seg_len,
            heap_align,
            INTERNAL_BYTES,
        )?;
        // The program's globals: remapped in place onto an object of their own.
        let mut data_region = match opts.symmetric_statics {
            false => None,
            true => match crate::statics::program_data() {
                None => None,
                Some(d) => {
                    // SAFETY: `program_data` returns the executable's own page-aligned,
                    // mapped, writable data; init runs before the program shares globals
                    // with other threads (OpenSHMEM: shmem_init comes first).
                    let r = unsafe {
                        ShmRegion::create_over(
                            &shm_name(kvs.job_id(), me),
                            d.start as *mut u8,
                            d.len,
                            d.file_part,
                        )
                    };
                    Some(r.map_err(|e| {
                        Error::ProgramData(format!(
                            "the program's global and static variables ({} bytes at {:#x}) could not be made symmetric: {e}",
                            d.len, d.start
                        ))
                    })?)
                }
            },
        };
        let (dname, dlen) = data_region
            .as_ref()
            .map_or(("-".to_string(), 0), |r| (r.name().to_string(), r.len()));
        let host = hostname();
        let record = format!(
            "{host}\n{}\n{seg_len}\n{dname}\n{dlen}\n{}",
            region.name(),
            crate::tcp::rdma_present() as u8
        );
        bootstrap::put(&mut *kvs, "rshmem-seg", record.as_bytes())?;
        kvs.barrier()?;
        let mode = transport_mode()?;
        let mut recs = Vec::with_capacity(npes);
        let mut all_rdma = true;
        for pe in 0..npes {
            let raw = bootstrap::get(&mut *kvs, pe, "rshmem-seg")?;
            let text = String::from_utf8_lossy(&raw).into_owned();
            let mut it = text.splitn(6, '\n');
            let mut field = || it.next().unwrap_or("");
            let (phost, pname, plen, pdname, pdlen) = (field(), field(), field(), field(), field());
            all_rdma &= field() == "1";
            let corrupt = || Error::Bootstrap {
                protocol: kvs.protocol(),
                msg: format!("corrupt segment record of PE {pe}: {text:?}"),
            };
            let plen: usize = plen.parse().map_err(|_| corrupt())?;
            let pdlen: usize = pdlen.parse().map_err(|_| corrupt())?;
            if pdlen != dlen {
                return Err(Error::ProgramData(format!(
                    "PE {pe}'s global and static variables span {pdlen} bytes but PE {me}'s span {dlen}: \
                     globals are symmetric only when every PE runs the same executable"
                )));
            }
            if plen != seg_len {
                return Err(Error::InvalidEnv {
                    var: "SHMEM_SYMMETRIC_SIZE",
                    value: if explicit {
                        cfg.symmetric_size.to_string()
                    } else {
                        "(unset)".to_string()
                    },
                    reason: format!(
                        "PE {pe} has a symmetric segment of {plen} bytes but PE {me} has {seg_len} ({heap_origin}): \
                         every PE must have the same heap size; set SHMEM_SYMMETRIC_SIZE for every PE \
                         (the default differs between nodes with different memory or /dev/shm)"
                    ),
                });
            }
            let same_node = match &mapping {
                Some(m) => m[pe] == m[me],
                None => phost == host,
            };
            if !same_node && mode == Mode::Shm {
                return Err(Error::Unreachable {
                    pe,
                    host: phost.to_string(),
                    why: "RSHMEM_TRANSPORT=shm".into(),
                });
            }
            recs.push((
                phost.to_string(),
                pname.to_string(),
                pdname.to_string(),
                same_node,
            ));
        }
        let remote = recs.iter().any(|r| !r.3);
        let use_verbs = mode == Mode::Verbs || (mode == Mode::Auto && remote && all_rdma);
        // TCP: every other PE when forced; between nodes without RDMA on every PE.
        let tcp_peer = |pe: usize, same_node: bool| {
            pe != me && (mode == Mode::Tcp || (mode == Mode::Auto && !use_verbs && !same_node))
        };
        let use_tcp = (0..npes).any(|pe| tcp_peer(pe, recs[pe].3));
        let data = data_region.as_ref().map(|r| (r.base() as usize, r.len()));
        let tcp = if use_tcp {
            let mut segs = vec![(region.base() as usize, seg_len)];
            if let Some(d) = data {
                segs.push(d);
            }
            match crate::tcp::setup(&mut *kvs, me, npes, &segs, tcp_abort) {
                Ok(t) => Some(t),
                Err(e) => {
                    err_line(&format!("rshmem: PE {me}: {e}"));
                    kvs.abort(1)
                }
            }
        } else {
            None
        };
        let verbs = if use_verbs {
            match setup_verbs(&mut *kvs, me, npes, region.base() as usize, seg_len, data) {
                Ok(v) => Some(Arc::new(v)),
                Err(e) => {
                    // Never leave the other PEs waiting in a barrier.
                    err_line(&format!("rshmem: PE {me}: {e}"));
                    kvs.abort(1)
                }
            }
        } else {
            None
        };
        let mut regions = Vec::new();
        let mut peers = Vec::with_capacity(npes);
        for (pe, (phost, pname, pdname, same_node)) in recs.into_iter().enumerate() {
            // Shared-memory mapping for put/get: every same-node peer unless verbs is forced.
            // (segment 0, segment 1 or 0 when the program's globals are not symmetric)
            let local = if !same_node || mode == Mode::Verbs || tcp_peer(pe, same_node) {
                None
            } else if pe == me {
                Some((region.base() as usize, data.map_or(0, |d| d.0)))
            } else {
                let r = ShmRegion::attach(&pname, seg_len)?;
                let b = r.base() as usize;
                regions.push(r);
                let d = if dlen > 0 {
                    let r = ShmRegion::attach(&pdname, dlen)?;
                    let d = r.base() as usize;
                    regions.push(r);
                    d
                } else {
                    0
                };
                Some((b, d))
            };
            let (base, dbase, path) = match (&verbs, local) {
                (None, None) if tcp_peer(pe, same_node) => {
                    let t = tcp.as_ref().expect("set up above");
                    (
                        rshmem_transport::tcp::seg_base(0),
                        rshmem_transport::tcp::seg_base(1),
                        Path::Tcp(t.endpoint(pe)),
                    )
                }
                (Some(v), local) => {
                    let (rb, rd) = (v.remote_base(pe), v.remote_data_base(pe));
                    let maps = local.map(|(m, md)| [(rb, seg_len, m), (rd, dlen, md)]);
                    let ep = VerbsEndpoint::new(v.clone(), pe, maps);
                    (rb, rd, Path::Verbs(ep))
                }
                (None, Some((b, d))) => (b, d, Path::Shm(ShmEndpoint)),
                (None, None) => unreachable!("remote peers without verbs were refused above"),
            };
            let mut bases = [0; MAX_SEGS];
            bases[0] = base;
            bases[1] = dbase;
            peers.push(Peer {
                bases,
                keys: [0; MAX_SEGS],
                path,
                host: phost,
            });
        }
        // Everyone has mapped everyone: the names can go. From here on, the memory lives
        // exactly as long as the mappings, whatever happens to the processes.
        kvs.barrier()?;
        region.unlink();
        let base = region.base() as usize;
        regions.push(region);
        let mut segs = [Segment::default(); MAX_SEGS];
        segs[0] = Segment { base, len: seg_len };
        let mut nsegs = 1;
        if let Some(mut r) = data_region.take() {
            r.unlink();
            segs[1] = Segment {
                base: r.base() as usize,
                len: r.len(),
            };
            nsegs = 2;
            regions.push(r);
        }
        // SHMEM_TEAM_SHARED: the PEs whose memory is mapped here (shmem_ptr works).
        let shared: Vec<usize> = (0..npes)
            .filter(|&pe| match &peers[pe].path {
                Path::Shm(_) => true,
                Path::Verbs(ep) => pe == me || ep.is_mapped(),
                Path::Tcp(_) => false,
            })
            .collect();
        let teams = crate::coll::Teams::new(me, npes, shared)?;
        // Every shared-memory mapping of this process: touching a page of one when /dev/shm
        // is full is a SIGBUS that deserves a message.
        let mut ranges = vec![(base, base + seg_len)];
        if nsegs > 1 {
            ranges.push((segs[1].base, segs[1].base + segs[1].len));
        }
        for r in regions.iter() {
            ranges.push((r.base() as usize, r.base() as usize + r.len()));
        }
        sigbus::install(me, ranges);
        let rt = Self {
            me,
            npes,
            cfg,
            segs,
            nsegs,
            peers: peers.into_boxed_slice(),
            heap_base: base + INTERNAL_BYTES,
            heap: Mutex::new(HeapAllocator::new(heap_len)),
            heap_align,
            heap_origin,
            kvs: Mutex::new(kvs),
            barrier_epoch: AtomicU64::new(0),
            regions: Mutex::new(regions),
            verbs,
            verbs_gen: AtomicU64::new(0),
            tcp,
            teams,
        };
        rt.print_info();
        Ok(rt)
    }

    fn print_info(&self) {
        // Everything this PE prints goes out in one write, so that the lines of PEs that
        // print at the same time do not interleave mid-line.
        let mut out = String::new();
        self.info_text(&mut out);
        if !out.is_empty() {
            use std::io::Write;
            let _ = std::io::stderr().lock().write_all(out.as_bytes());
        }
    }

    fn info_text(&self, out: &mut String) {
        use std::fmt::Write as _;
        if self.cfg.info {
            if let Some(t) = &self.tcp {
                let per_peer: Vec<String> = self
                    .peers
                    .iter()
                    .enumerate()
                    .map(|(pe, p)| match &p.path {
                        Path::Tcp(_) => format!("{pe}=tcp"),
                        _ => format!("{pe}=shm"),
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "rshmem: PE {}: transport per peer: {}; {}",
                    self.me,
                    per_peer.join(" "),
                    t.describe()
                );
            }
            if let Some(v) = &self.verbs {
                let per_peer: Vec<String> = self
                    .peers
                    .iter()
                    .enumerate()
                    .map(|(pe, p)| match &p.path {
                        Path::Shm(_) => format!("{pe}=shm"),
                        Path::Verbs(e) if e.is_mapped() => format!("{pe}=shm+verbs-amo"),
                        Path::Verbs(_) => format!("{pe}=verbs"),
                        Path::Tcp(_) => format!("{pe}=tcp"),
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "rshmem: PE {}: transport per peer: {}; device: {}",
                    self.me,
                    per_peer.join(" "),
                    v.describe()
                );
            }
        }
        if self.me != 0 {
            return;
        }
        if self.cfg.version || self.cfg.info {
            let _ = writeln!(
                out,
                "rshmem {} (OpenSHMEM {}.{})",
                env!("CARGO_PKG_VERSION"),
                crate::SPEC_MAJOR,
                crate::SPEC_MINOR
            );
        }
        if self.cfg.info {
            let _ = writeln!(
                out,
                "rshmem: {} PEs, bootstrap {}, transport {}",
                self.npes,
                self.kvs.lock().protocol(),
                if self.verbs.is_some() {
                    "verbs (see the per-PE lines)"
                } else if self.tcp.is_some() {
                    "shm within a node, tcp (see the per-PE lines)"
                } else {
                    "shm (all peers)"
                }
            );
            let _ = writeln!(
                out,
                "rshmem: symmetric heap {} bytes per PE ({})",
                self.heap.lock().size(),
                self.heap_origin
            );
            for v in crate::env::VARS {
                let val = std::env::var(v.name).unwrap_or_else(|_| "(unset)".into());
                let _ = writeln!(
                    out,
                    "  {:<26} = {:<12} default {:<6} {}",
                    v.name, val, v.default, v.doc
                );
            }
        }
    }

    /// Makes this runtime (at its final address) the one exit requests and the exit hook
    /// use; called once by `rshmem::init_with` after boxing it.
    pub(crate) fn arm_exit(&self) {
        waiting::reset();
        LEAVING.store(false, Ordering::Release);
        EXIT_RT.store(self as *const Self as *mut Self, Ordering::Release);
        EXIT_WORD.store(self.slot_addr(slots::EXIT), Ordering::Release);
        *PROGRESS.lock() = self.verbs.clone();
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            static HOOK: std::sync::Once = std::sync::Once::new();
            // SAFETY: registers a function with the right signature; it only touches the
            // statics above.
            HOOK.call_once(|| unsafe {
                on_exit(on_process_exit, core::ptr::null_mut());
            });
        }
    }

    /// Stops using this runtime for exit requests (finalize).
    fn disarm_exit(&self) {
        LEAVING.store(true, Ordering::Release);
        EXIT_WORD.store(0, Ordering::Release);
        *PROGRESS.lock() = None;
        let _ = EXIT_RT.compare_exchange(
            self as *const Self as *mut Self,
            core::ptr::null_mut(),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Asks every other PE to exit with `status` (a store into their exit slot, which they
    /// check whenever a wait yields) and waits up to a second for their acknowledgements.
    /// `true` when all acknowledged: they are exiting with `status`, so the launcher sees
    /// that status from every PE (srun reports the worst one, Hydra the signal it killed
    /// survivors with). A PE that is computing, not waiting, does not answer; then `false`.
    pub fn request_exit(&self, status: i32) -> bool {
        if self.npes == 1 || LEAVING.swap(true, Ordering::AcqRel) {
            return self.npes == 1;
        }
        let v = 1u64 << 63 | (self.me as u64) << 32 | status as u32 as u64;
        self.tell_launcher(status);
        let slot = self.slot_addr(slots::EXIT);
        for pe in (0..self.npes).filter(|&pe| pe != self.me) {
            let _ = self.amo::<u64>(slot, AmoOp::Set, v, 0, pe);
        }
        self.quiet();
        // SAFETY: our own aligned ack counter in segment 0.
        let acks = unsafe { &*(self.slot_addr(slots::EXIT_ACK) as *const AtomicU64) };
        let deadline = Instant::now() + EXIT_ACK_WAIT;
        while acks.load(Ordering::Acquire) < self.npes as u64 - 1 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // They acknowledge just before they exit: leave them time to be gone, so a launcher
        // that kills the survivors of a failed PE (Hydra: SIGKILL) finds none.
        std::thread::sleep(EXIT_GRACE);
        true
    }

    /// Under rshmemrun, tells the launcher that this PE is the one ending the job (a KVS key
    /// `rshmem-exit-<pe>` = status, stored before any other PE hears of it), so that it names
    /// this PE and not whichever PE exits first. Other launchers never read it; PMI-2/PMIx
    /// would only cache it, so it is not sent there.
    fn tell_launcher(&self, status: i32) {
        if std::env::var_os("RSHMEM_LAUNCHER").is_none() {
            return;
        }
        if let Some(mut kvs) = self.kvs.try_lock() {
            if kvs.protocol() == "pmi1" {
                let _ = kvs.put_raw(&format!("rshmem-exit-{}", self.me), &status.to_string());
            }
        }
    }

    /// Leaves the job: barrier, bootstrap finalize, unmap everything.
    pub fn finalize(&self) {
        self.quiet();
        {
            // Say so at once (peers in finalize watch for a job that cannot finish), then
            // wait for every PE to be in finalize too, on counters of finalize's own.
            let _w = waiting::label(waiting::Kind::Finalize);
            self.state_slot()
                .store(waiting::word(waiting::Kind::Finalize), Ordering::Release);
            rshmem_collectives::dissemination_barrier(
                &InternalSync(self),
                ActiveSet::world(self.npes),
                slots::FIN_BARRIER / 8,
                1,
            );
        }
        self.disarm_exit();
        if let Some(t) = &self.tcp {
            // Every PE is past finalize's barrier before any stops serving: a PE still in
            // it reads the others' STATE (the stuck-job watch), over TCP.
            let _ = self.kvs.lock().barrier();
            t.close();
        }
        let mut kvs = std::mem::replace(&mut *self.kvs.lock(), Box::new(bootstrap::Closed));
        // Keep the launcher connection for a re-initialization (1.6) and finalize it at
        // exit, where the exit hook can; MPI's belongs to the program: finalize now.
        if cfg!(all(target_os = "linux", target_env = "gnu")) && kvs.protocol() != "mpi" {
            bootstrap::park(kvs);
        } else {
            let _ = kvs.finalize();
        }
        self.regions.lock().clear();
        crate::lock::forget_held();
    }

    /// This PE's number.
    #[inline(always)]
    pub fn my_pe(&self) -> usize {
        self.me
    }

    /// Number of PEs.
    #[inline(always)]
    pub fn n_pes(&self) -> usize {
        self.npes
    }

    /// Teams state (predefined teams, internal-area allocator, algorithm overrides).
    pub(crate) fn teams(&self) -> &crate::coll::Teams {
        &self.teams
    }

    /// Configuration read at init.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The local segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segs[..self.nsegs]
    }

    /// Peer descriptions (for diagnostics).
    pub fn peers(&self) -> &[Peer] {
        &self.peers
    }

    /// Start and length of the user heap in this process.
    pub fn heap_range(&self) -> (usize, usize) {
        (self.heap_base, self.heap.lock().size())
    }

    /// Checks `pe` against the job size.
    #[inline(always)]
    pub fn check_pe(&self, pe: usize) -> Result<()> {
        if pe < self.npes {
            Ok(())
        } else {
            Err(Error::PeOutOfRange {
                pe: pe as i64,
                n_pes: self.npes,
            })
        }
    }

    /// Local address → (segment, offset), for `len` bytes that must lie in one segment.
    #[inline(always)]
    pub fn translate(&self, addr: usize, len: usize) -> Result<(usize, usize)> {
        for (i, s) in self.segs[..self.nsegs].iter().enumerate() {
            let off = addr.wrapping_sub(s.base);
            if off < s.len && len <= s.len - off {
                return Ok((i, off));
            }
        }
        Err(Error::NotSymmetric {
            addr,
            len,
            heap_start: self.heap_base,
            heap_end: self.segs[0].base + self.segs[0].len,
        })
    }

    /// The peer's address of the local symmetric range `[addr, addr+len)`.
    #[inline(always)]
    pub fn remote(&self, addr: usize, len: usize, pe: usize) -> Result<RemoteAddr> {
        self.check_pe(pe)?;
        let (seg, off) = self.translate(addr, len)?;
        let p = &self.peers[pe];
        Ok(RemoteAddr {
            addr: p.bases[seg] + off,
            key: p.key(seg, off),
        })
    }

    /// Direct load/store address of `addr` on `pe`, when `pe`'s memory is mapped here.
    pub fn ptr(&self, addr: usize, pe: usize) -> Option<usize> {
        let r = self.remote(addr, 0, pe).ok()?;
        match &self.peers[pe].path {
            Path::Shm(_) => Some(r.addr),
            Path::Verbs(_) if pe == self.me => Some(r.addr),
            Path::Verbs(ep) => ep.mapped_addr(r),
            Path::Tcp(_) => None,
        }
    }

    /// Copies `len` bytes from local `src` to symmetric `dest` on `pe`.
    ///
    /// # Safety
    /// `src` must be valid for `len` bytes of reads.
    #[inline(always)]
    pub unsafe fn put(&self, dest: usize, src: *const u8, len: usize, pe: usize) -> Result<()> {
        let r = self.remote(dest, len, pe)?;
        crate::pcntr::put(1);
        // SAFETY: `r` lies in `pe`'s segment (translate checked the range); `src` is valid
        // per our contract; the verbs endpoint checks registration itself.
        with_endpoint!(&self.peers[pe].path, |ep| unsafe { ep.put(r, src, len) });
        Ok(())
    }

    /// Non-blocking put: `src` must not change until [`Runtime::quiet`].
    ///
    /// # Safety
    /// `src` must be valid for `len` bytes until the next quiet.
    #[inline(always)]
    pub unsafe fn put_nbi(&self, dest: usize, src: *const u8, len: usize, pe: usize) -> Result<()> {
        let r = self.remote(dest, len, pe)?;
        crate::pcntr::put(1);
        // SAFETY: as `put`.
        with_endpoint!(&self.peers[pe].path, |ep| unsafe {
            ep.put_nbi(r, src, len)
        });
        Ok(())
    }

    /// Copies `len` bytes from symmetric `src` on `pe` to local `dest`.
    ///
    /// # Safety
    /// `dest` must be valid for `len` bytes of writes.
    #[inline(always)]
    pub unsafe fn get(&self, dest: *mut u8, src: usize, len: usize, pe: usize) -> Result<()> {
        let r = self.remote(src, len, pe)?;
        crate::pcntr::get(1);
        // SAFETY: `r` lies in `pe`'s segment; `dest` is valid per our contract.
        with_endpoint!(&self.peers[pe].path, |ep| unsafe { ep.get(dest, r, len) });
        Ok(())
    }

    /// Non-blocking get: `dest` holds the data after [`Runtime::quiet`].
    ///
    /// # Safety
    /// `dest` must be valid for `len` bytes of writes until the next quiet.
    #[inline(always)]
    pub unsafe fn get_nbi(&self, dest: *mut u8, src: usize, len: usize, pe: usize) -> Result<()> {
        let r = self.remote(src, len, pe)?;
        crate::pcntr::get(1);
        // SAFETY: as `get`.
        with_endpoint!(&self.peers[pe].path, |ep| unsafe {
            ep.get_nbi(dest, r, len)
        });
        Ok(())
    }

    /// Strided put of `nelems` elements of `size` bytes: element i goes from
    /// `src + i*sst*size` to `dest + i*dst*size` on `pe` (strides in elements).
    ///
    /// # Safety
    /// Every source element must be valid for reads.
    pub unsafe fn iput(
        &self,
        dest: usize,
        src: *const u8,
        dst: usize,
        sst: usize,
        size: usize,
        nelems: usize,
        pe: usize,
    ) -> Result<()> {
        if nelems == 0 {
            return self.check_pe(pe);
        }
        let span = strided_span("iput", nelems, dst, size)?;
        strided_span("iput", nelems, sst, size)?;
        let r = self.remote(dest, span, pe)?;
        let (seg, off) = self.translate(dest, span)?;
        crate::pcntr::put(nelems as u64);
        for i in 0..nelems {
            // (each element's own key: elements may lie in different registered chunks)
            let d = RemoteAddr {
                addr: r.addr + i * dst * size,
                key: self.peers[pe].key(seg, off + i * dst * size),
            };
            match &self.peers[pe].path {
                // SAFETY: `d` is inside the checked span; sources valid per our contract.
                Path::Shm(ep) => unsafe { ep.put_nbi(d, src.add(i * sst * size), size) },
                // SAFETY: as above; the blocking put (sources need not outlive the call).
                Path::Verbs(ep) => unsafe { ep.put(d, src.add(i * sst * size), size) },
                // SAFETY: as above (a TCP put is complete locally on return).
                Path::Tcp(ep) => unsafe { ep.put(d, src.add(i * sst * size), size) },
            }
        }
        Ok(())
    }

    /// Strided get, the mirror of [`Runtime::iput`].
    ///
    /// # Safety
    /// Every destination element must be valid for writes.
    pub unsafe fn iget(
        &self,
        dest: *mut u8,
        src: usize,
        dst: usize,
        sst: usize,
        size: usize,
        nelems: usize,
        pe: usize,
    ) -> Result<()> {
        if nelems == 0 {
            return self.check_pe(pe);
        }
        let span = strided_span("iget", nelems, sst, size)?;
        strided_span("iget", nelems, dst, size)?;
        let r = self.remote(src, span, pe)?;
        let (seg, off) = self.translate(src, span)?;
        crate::pcntr::get(nelems as u64);
        for i in 0..nelems {
            // (each element's own key: elements may lie in different registered chunks)
            let s = RemoteAddr {
                addr: r.addr + i * sst * size,
                key: self.peers[pe].key(seg, off + i * sst * size),
            };
            // SAFETY: `s` is inside the checked span; destinations valid per contract.
            with_endpoint!(&self.peers[pe].path, |ep| unsafe {
                ep.get_nbi(dest.add(i * dst * size), s, size)
            });
        }
        // Blocking: the elements must be in `dest` on return. Shared-memory gets are
        // complete already; RDMA READs are not until their completions are reaped.
        if let Path::Verbs(ep) = &self.peers[pe].path {
            ep.quiet();
        }
        Ok(())
    }

    /// Atomic `op` on the word at symmetric `addr` on `pe`; returns the old value.
    #[inline(always)]
    pub fn amo<W: AmoWord>(
        &self,
        addr: usize,
        op: AmoOp,
        operand: W,
        compare: W,
        pe: usize,
    ) -> Result<W> {
        if !addr.is_multiple_of(W::SIZE) {
            return Err(Error::Misaligned {
                addr,
                align: W::SIZE,
            });
        }
        let r = self.remote(addr, W::SIZE, pe)?;
        crate::pcntr::amo();
        // SAFETY: `r` is an aligned word inside `pe`'s segment (a CPU atomic on the mapping,
        // or a NIC atomic on the peer's registered memory).
        Ok(with_endpoint!(&self.peers[pe].path, |ep| unsafe {
            ep.amo(r, op, operand, compare)
        }))
    }

    /// Put followed by an atomic update of the signal word `sig` on the same PE, ordered so
    /// that a PE that sees the signal sees the data.
    ///
    /// # Safety
    /// `src` must be valid for `len` bytes of reads.
    pub unsafe fn put_signal(
        &self,
        dest: usize,
        src: *const u8,
        len: usize,
        sig: usize,
        value: u64,
        add: bool,
        pe: usize,
    ) -> Result<()> {
        if let (true, Path::Verbs(ep)) = (add, &self.peers[pe].path) {
            if !ep.is_mapped() {
                let (r, s) = (self.remote(dest, len, pe)?, self.remote(sig, 8, pe)?);
                // SAFETY: forwarded contract; both ranges were checked against `pe`'s
                // segments. A small put to a remote peer: one post list.
                if unsafe { ep.put_signal_add(r, src, len, s, value) } {
                    crate::pcntr::put(1);
                    crate::pcntr::amo();
                    return Ok(());
                }
            }
        }
        // SAFETY: forwarded contract.
        unsafe { self.put(dest, src, len, pe)? };
        self.fence();
        let op = if add { AmoOp::FetchAdd } else { AmoOp::Set };
        self.amo::<u64>(sig, op, value, 0, pe).map(|_| ())
    }

    /// Orders this PE's puts, AMOs and signals to each peer.
    #[inline(always)]
    pub fn fence(&self) {
        ShmEndpoint.fence();
        if let Some(v) = &self.verbs {
            v.fence_all();
        }
    }

    /// Completes every operation this PE issued.
    #[inline(always)]
    pub fn quiet(&self) {
        ShmEndpoint.quiet();
        if let Some(v) = &self.verbs {
            v.quiet_all();
        }
        if let Some(t) = &self.tcp {
            t.quiet_all();
        }
        crate::pcntr::quiet();
    }

    /// Waits until the local word at `addr` satisfies `cmp value` (spins briefly, then yields).
    pub fn wait_until<W: AmoWord>(&self, addr: usize, cmp: Cmp, value: W, signed: bool) {
        let mut b = Backoff::new();
        // SAFETY: callers pass addresses of live local symmetric words (checked by the API layers).
        while !cmp.holds(
            unsafe { W::cpu_amo(addr as *mut W, AmoOp::Fetch, value, value) },
            value,
            signed,
        ) {
            b.snooze();
        }
    }

    /// Address of an internal slot (u64) in this PE's segment 0.
    fn slot_addr(&self, byte_off: usize) -> usize {
        self.segs[0].base + byte_off
    }

    /// Quiet, then a dissemination barrier over all PEs.
    pub fn barrier_all(&self) {
        self.quiet();
        self.sync_all();
    }

    /// Barrier over all PEs without completing outstanding operations.
    pub fn sync_all(&self) {
        let _w = waiting::label(waiting::Kind::Barrier);
        let epoch = self.barrier_epoch.fetch_add(1, Ordering::Relaxed) + 1;
        rshmem_collectives::dissemination_barrier(
            &InternalSync(self),
            ActiveSet::world(self.npes),
            slots::BARRIER / 8,
            epoch,
        );
    }

    /// Aborts the whole job with `code` after printing `msg`.
    pub fn abort(&self, code: i32, msg: &str) -> ! {
        self.abort_message(msg);
        // First ask the other PEs to exit with `code` themselves, so every launcher reports
        // `code`; the bootstrap's abort (which some launchers turn into SIGKILL for all,
        // this PE included) only if some PE does not answer.
        if self.request_exit(code) {
            self.leave_bootstrap(code);
            flush_stdio();
            // SAFETY: ends the process; the hook sees LEAVING and does nothing.
            unsafe { libc::exit(code) }
        }
        self.kvs.lock().abort(code)
    }

    /// Before a cooperative exit with `status` 0 (`global_exit(0)`): finalizes the launcher
    /// connection, so that the launcher counts this PE as finished, not as a PE that left
    /// without PMI finalize (rshmemrun ended `global_exit(0)` with status 1). PMI finalize
    /// is not collective; MPI's is, and MPI belongs to the program: left alone. A non-zero
    /// status leaves the connection as it is: the launcher reports that status.
    fn leave_bootstrap(&self, status: i32) {
        if status != 0 {
            return;
        }
        // try_lock: a PE obeying an exit request may be inside a KVS call of its own.
        if let Some(mut kvs) = self.kvs.try_lock() {
            if kvs.protocol() != "mpi" {
                let _ = kvs.finalize();
            }
        }
    }

    fn state_slot(&self) -> &AtomicU64 {
        // SAFETY: our own aligned STATE slot in segment 0.
        unsafe { &*(self.slot_addr(slots::STATE) as *const AtomicU64) }
    }

    /// Every PE's `STATE` word (a get of 8 bytes each: only read, never an AMO, since the
    /// owner writes it with plain stores).
    fn peer_states(&self) -> Vec<u64> {
        let slot = self.slot_addr(slots::STATE);
        (0..self.npes)
            .map(|pe| {
                let mut v = 0u64;
                // SAFETY: `v` is valid for 8 bytes; the slot is an aligned internal word.
                let _ = unsafe { self.get(&mut v as *mut u64 as *mut u8, slot, 8, pe) };
                v
            })
            .collect()
    }

    /// A job that can no longer finish (see `waiting::watch`): prints `msg`, asks every PE
    /// to exit with status 1, exits.
    fn stuck_exit(&self, msg: &str) -> ! {
        self.abort_message(msg);
        if self.request_exit(1) {
            exit_now(1)
        }
        flush_stdio();
        self.kvs.lock().abort(1)
    }

    /// Prints `rshmem: PE n: msg` as one write.
    fn abort_message(&self, msg: &str) {
        // Fix (integration tests): one write for the whole line. `eprintln!` with arguments
        // writes piece by piece to the unbuffered stderr, so the messages of several PEs
        // aborting at once came out interleaved mid-line.
        let line = format!("rshmem: PE {}: {msg}\n", self.me);
        use std::io::Write;
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    /// [`Runtime::abort`] without asking the other PEs to exit first: for a transport that
    /// failed (its errors arrive with its state locked), the launcher ends the job.
    pub fn abort_now(&self, code: i32, msg: &str) -> ! {
        self.abort_message(msg);
        LEAVING.store(true, Ordering::Release);
        flush_stdio();
        self.kvs.lock().abort(code)
    }

    /// SHMEM_DEBUG: checks that every PE called collective `what` with the same `args`.
    fn check_collective_args(&self, what: &str, args: [u64; 2]) {
        if !self.cfg.debug || self.npes == 1 {
            return;
        }
        let slot = self.slot_addr(slots::DEBUG);
        if self.me == 0 {
            for (i, a) in args.iter().enumerate() {
                // SAFETY: our own internal debug slots, aligned u64s in segment 0.
                unsafe { u64::cpu_amo((slot + 8 * i) as *mut u64, AmoOp::Set, *a, 0) };
            }
        }
        self.barrier_all();
        let mut theirs = [0u64; 2];
        for (i, t) in theirs.iter_mut().enumerate() {
            *t = self
                .amo::<u64>(slot + 8 * i, AmoOp::Fetch, 0, 0, 0)
                .expect("PE 0 is always reachable");
        }
        self.barrier_all();
        if theirs != args {
            self.abort(
                1,
                &format!(
                    "SHMEM_DEBUG: {what} called with (size {}, alignment {}) on PE {} but (size {}, alignment {}) on PE 0; \
                     collective calls must get the same arguments on every PE",
                    args[0], args[1], self.me, theirs[0], theirs[1]
                ),
            );
        }
    }

    /// Collective allocation: same offset on every PE; barrier before returning.
    pub fn malloc(&self, size: usize, align: usize, zero: bool) -> Result<usize> {
        let r = self.malloc_no_barrier(size, align, zero);
        self.barrier_all();
        r
    }

    /// [`Runtime::malloc`] without its closing barrier (the C API's
    /// `shmem_malloc_with_hints(.., SHMEMX_MALLOC_NO_BARRIER)`): still called by every PE
    /// with the same arguments, but a PE may return before the others have allocated, so
    /// the program synchronizes before any PE accesses the block remotely.
    pub fn malloc_no_barrier(&self, size: usize, align: usize, zero: bool) -> Result<usize> {
        self.check_collective_args("shmem_malloc", [size as u64, align as u64]);
        // The allocator aligns *offsets*; every PE's heap base is a multiple of
        // `heap_align` (a power of two at least the heap's size, see init), so any alignment
        // up to that is an aligned address on every PE. A larger one cannot fit in the heap
        // anyway: refuse it (the same decision on every PE).
        let r = if align > self.heap_align {
            let size = self.heap.lock().size();
            Err(Error::BadAlloc(format!(
                "alignment {align} is larger than the symmetric heap ({size} bytes; its base is aligned to {} bytes): \
                 no block of the heap can be aligned to it; raise SHMEM_SYMMETRIC_SIZE or ask for less",
                self.heap_align
            )))
        } else {
            self.heap.lock().alloc(size, align)
        };
        self.verbs_grow();
        if let Ok(off) = r {
            if zero {
                // SAFETY: the block [off, off+size) was just allocated in our heap.
                unsafe { core::ptr::write_bytes((self.heap_base + off) as *mut u8, 0, size) };
            }
        }
        r.map(|off| self.heap_base + off)
    }

    /// Collective free (barrier first, so no PE still uses the block).
    pub fn free(&self, addr: usize) -> Result<()> {
        self.barrier_all();
        let off = self.heap_offset(addr)?;
        self.heap.lock().free(off)
    }

    /// Collective resize; the contents up to the smaller size are kept.
    pub fn realloc(&self, addr: usize, size: usize) -> Result<usize> {
        self.check_collective_args("shmem_realloc", [size as u64, 0]);
        self.barrier_all();
        let off = self.heap_offset(addr)?;
        let r = self.heap.lock().realloc(off, size);
        self.verbs_grow();
        if let Ok((new, Some(n))) = r {
            // SAFETY: both blocks lie in our heap; the old one is free but untouched since
            // (allocation metadata lives outside the heap); they may overlap, hence `copy`.
            unsafe {
                core::ptr::copy(
                    (self.heap_base + off) as *const u8,
                    (self.heap_base + new) as *mut u8,
                    n,
                )
            };
        }
        self.barrier_all();
        r.map(|(new, _)| self.heap_base + new)
    }

    /// Verbs: registers the chunks the heap's high-water mark now reaches and exchanges
    /// their rkeys. Collective: every PE's allocator makes the same decision.
    fn verbs_grow(&self) {
        let Some(v) = &self.verbs else { return };
        let in_use = INTERNAL_BYTES + self.heap.lock().high_water();
        let rec = match v.grow(in_use) {
            Ok(Some(rec)) => rec,
            Ok(None) => return,
            Err(e) => self.abort(1, &e.to_string()),
        };
        let key = format!(
            "rshmem-mr{}",
            self.verbs_gen.fetch_add(1, Ordering::Relaxed)
        );
        let mut kvs = self.kvs.lock();
        let mut exchange = || -> Result<()> {
            bootstrap::put(&mut **kvs, &key, &rec)?;
            kvs.barrier()?;
            for pe in 0..self.npes {
                let r = bootstrap::get(&mut **kvs, pe, &key)?;
                v.add_keys(pe, &r)?;
            }
            Ok(())
        };
        if let Err(e) = exchange() {
            drop(kvs);
            self.abort(1, &format!("registering more symmetric heap for RDMA: {e}"));
        }
    }

    fn heap_offset(&self, addr: usize) -> Result<usize> {
        let (base, len) = (self.heap_base, self.heap.lock().size());
        if addr < base || addr >= base + len {
            return Err(Error::BadAlloc(format!(
                "address {addr:#x} is not in the symmetric heap ({base:#x}..{:#x}); it was not returned by shmem_malloc",
                base + len
            )));
        }
        Ok(addr - base)
    }

    /// Bytes free in the heap and its size (for diagnostics).
    pub fn heap_stats(&self) -> (usize, usize) {
        let h = self.heap.lock();
        (h.free_bytes(), h.size())
    }
}

/// The runtime's own synchronization area seen by the collective algorithms.
struct InternalSync<'a>(&'a Runtime);

impl SyncOps for InternalSync<'_> {
    fn my_pe(&self) -> usize {
        self.0.me
    }
    #[inline]
    fn signal_add(&self, pe: usize, slot: usize, value: u64) {
        let addr = self.0.slot_addr(slot * 8);
        self.0
            .amo::<u64>(addr, AmoOp::FetchAdd, value, 0, pe)
            .expect("barrier partner is a valid PE");
    }
    #[inline]
    fn wait_ge(&self, slot: usize, value: u64) {
        self.0
            .wait_until::<u64>(self.0.slot_addr(slot * 8), Cmp::Ge, value, false);
    }
}

const _: () = assert!(slots::DEBUG >= slots::BARRIER + BARRIER_SLOTS * 8);

/// Bytes covered by `nelems` (> 0) elements of `size` bytes, `stride` elements apart:
/// `(nelems - 1) * stride * size + size`, or [`Error::Overflow`] naming `call` and the
/// values when that does not fit the address space (a huge stride or count must not wrap
/// into a small span that passes the bounds check).
///
/// ```
/// use rshmem::rt::strided_span;
/// assert_eq!(strided_span("iput", 4, 2, 8).unwrap(), 56);
/// assert!(strided_span("iput", 3, 1 << 62, 4).is_err());
/// ```
pub fn strided_span(
    call: &'static str,
    nelems: usize,
    stride: usize,
    size: usize,
) -> Result<usize> {
    (nelems.max(1) - 1)
        .checked_mul(stride)
        .and_then(|x| x.checked_mul(size))
        .and_then(|x| x.checked_add(size))
        .ok_or_else(|| Error::Overflow {
            call,
            what: format!("{nelems} elements of {size} bytes at a stride of {stride} elements"),
        })
}

impl Runtime {
    /// Checks that the local symmetric buffer `[addr, addr+len)` lies inside one heap
    /// allocation (the live block containing `addr`), or inside one segment of global
    /// variables: [`Error::BufferTooSmall`] naming `call`, `buffer` and the sizes, or
    /// [`Error::NotSymmetric`] when `addr` is in no live allocation. Collectives check their
    /// buffers with this, so that a `dest` smaller than the result cannot overwrite the
    /// next allocation. Takes the heap lock: not for the hot path.
    pub fn check_buffer(
        &self,
        call: &'static str,
        buffer: &'static str,
        addr: usize,
        len: usize,
    ) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        let (region, start, end) = match self.translate(addr, 1) {
            Ok((0, off)) if off >= INTERNAL_BYTES => {
                let found = self.heap.lock().block_containing(off - INTERNAL_BYTES);
                match found {
                    Some((s, e)) => (
                        "symmetric allocation",
                        self.heap_base + s,
                        self.heap_base + e,
                    ),
                    None => return Err(self.not_allocated(call, buffer, addr)),
                }
            }
            Ok((0, _)) => return Err(self.not_allocated(call, buffer, addr)),
            Ok((seg, _)) => {
                let s = self.segs[seg];
                ("segment of global variables", s.base, s.base + s.len)
            }
            Err(_) => return self.translate(addr, len).map(|_| ()),
        };
        let room = end - addr;
        if len <= room {
            Ok(())
        } else {
            Err(Error::BufferTooSmall {
                call,
                buffer,
                addr,
                need: len,
                room,
                region,
                start,
                len: end - start,
            })
        }
    }

    fn not_allocated(&self, call: &'static str, buffer: &'static str, addr: usize) -> Error {
        Error::BadAlloc(format!(
            "{call}: {buffer} ({addr:#x}) is inside the symmetric segment but in no live allocation \
             (freed, or never returned by shmem_malloc)"
        ))
    }
}
