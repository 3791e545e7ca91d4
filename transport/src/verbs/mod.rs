//! RDMA verbs transport: one RC queue pair per peer (and a loopback pair to self).
//!
//! Everything that touches libibverbs is in this module (through `rdma-sys` 0.3, classic
//! API only: `ibv_post_send`/`ibv_poll_cq`/`ibv_create_qp`/`ibv_modify_qp`/`ibv_reg_mr`;
//! see docs/verbs-vm.md for why the `verbs_context` helpers of rdma-sys are avoided).
//!
//! - **Memory**: segment 0 is registered in [`CHUNK`]-sized memory regions, lazily: at init
//!   the chunks covering what is in use, later more as the heap's high-water mark rises
//!   ([`VerbsCtx::grow`]; the runtime exchanges the new rkeys at the collective allocation).
//!   Every work request stays inside one chunk on both sides and below the port's
//!   `max_msg_sz`, so long transfers are split.
//! - **put** = RDMA WRITE: `IBV_SEND_INLINE` up to the QP's inline size; zero-copy from a
//!   registered source (our own segment); otherwise through a registered bounce buffer.
//! - **get** = RDMA READ into our segment when the destination is there, else into the
//!   bounce buffer and copied out on completion.
//! - **AMOs**: 64-bit fetch-add and compare-swap are NIC atomics; everything else
//!   (fetch, set, swap, and/or/xor, all 32-bit ops) is built on them (fetch = fetch-add 0,
//!   the rest a compare-swap loop on the enclosing aligned 64-bit word).
//! - **Completion**: one CQ per channel; every [`SIGNAL_EVERY`]-th work request (and every one we wait
//!   for) is signalled; a completion retires every earlier request of its QP. At most
//!   `depth - 1` requests are outstanding per QP. `quiet` signals the tail (a zero-length
//!   RDMA WRITE when the last request was unsignalled; an 8-byte READ with
//!   `RSHMEM_VERBS_QUIET=read`) and waits for everything.
//! - **Bounce buffer**: a ring; a full ring waits only for its oldest range's request.
//! - **Post lists**: a `put_nbi` of at most [`STAGE`] bytes is staged and queued on its QP;
//!   the queue goes out as one `ibv_post_send` with the next request to that PE, when
//!   [`POST_LIST`] are queued, at any wait here, or at [`VerbsCtx::progress`] (the runtime's
//!   waits and tests).
//! - **Knobs** (docs/verbs-bench.md): `RSHMEM_VERBS_SIGNAL_EVERY`, `RSHMEM_VERBS_INLINE`,
//!   `RSHMEM_VERBS_POST_LIST`, `RSHMEM_VERBS_QUIET`, `RSHMEM_VERBS_TIMEOUT` (ACK timeout
//!   exponent, default 18).
//! - **Errors** (bad completion, post failure, no progress for [`STALL_SECS`]) call the
//!   abort function given at [`VerbsCtx::open`]: they abort the whole job, never hang.
//!
//! Files, one layer each (docs/ARCHITECTURE.md, "Verbs transport"):
//! - `obj.rs`: RAII owners of the verbs objects (device list, context, PD, CQ, QP, MR, the
//!   bounce mapping); the only file that calls `ibv_*`;
//! - `device.rs`: device, port and GID choice; the device listing;
//! - `conn.rs`: QP creation, connection records, address vector, INIT → RTR → RTS;
//! - `mem.rs`: registered chunks, lkeys and rkeys, the bounce ring;
//! - `sq.rs`: work requests, posting, post lists, the quiet marker;
//! - `progress.rs`: poll, wait, drain;
//! - `ep.rs`: put/get/AMO/put-with-signal and [`VerbsEndpoint`], [`VerbsChannel`];
//! - this file: constants, [`VerbsCtx`] (open) and the state the layers share: `Shared`
//!   (lock-free), `Channel` (one per context: CQ, QPs, bounce ring; channel 0 is the
//!   default context's, in a `MaybeLocked`: locked only under `SHMEM_THREAD_MULTIPLE`)
//!   and `State` (the owners of MRs, record tables, loopback responder: a cold mutex).
//!
//! Contexts (docs/ARCHITECTURE.md, "Verbs contexts"): [`VerbsCtx::channel`] makes a
//! channel of its own for an OpenSHMEM context; unlocked for private and serialized ones.
mod cm;
mod conn;
mod device;
mod ep;
mod mem;
mod obj;
mod progress;
mod sq;

pub use conn::ACK_TIMEOUT;
pub use device::{list_devices, DeviceInfo, DeviceSpec, PortInfo};
pub use ep::{VerbsChannel, VerbsEndpoint};

use device::Dev;
use mem::{CopyOut, Remote};
use obj::{Mapping, Mr, Qp};
use sq::SendQueue;
use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};

/// Registration granule of segment 0 (and the largest piece of one work request).
pub const CHUNK: usize = 8 << 20;
/// Send queue depth per QP (lowered when the CQ cannot hold every QP's requests).
const SQ_DEPTH: u64 = 256;
/// At least every this many work requests is signalled (`RSHMEM_VERBS_SIGNAL_EVERY`).
const SIGNAL_EVERY: u64 = 16;
/// Registered bounce buffer for unregistered user buffers: the scratch words, then a ring
/// of 4 MiB (four pieces of [`BOUNCE_PIECE`]).
const BOUNCE_LEN: usize = (4 << 20) + 4096;
/// Largest piece staged through the bounce buffer at once.
const BOUNCE_PIECE: usize = 1 << 20;
/// Scratch bytes at the start of the bounce buffer: AMO result (0..8), quiet READ (8..16).
const SCRATCH: usize = 4096;
/// Bounce pieces at least this long are signalled, so that the ring can reuse their space
/// as soon as they complete, without waiting for the requests posted after them.
const BOUNCE_SIGNAL: usize = 64 << 10;
/// Deferred `put_nbi`s queued per QP before they are posted as one list
/// (`RSHMEM_VERBS_POST_LIST`; 0 or 1 posts each at once).
const POST_LIST: usize = 16;
/// Largest `put_nbi` that is deferred (its data is copied into the QP's staging area).
const STAGE: usize = 64;
/// Set while some QP holds deferred requests: [`VerbsCtx::progress`] then posts them.
static DEFERRED: AtomicBool = AtomicBool::new(false);
/// A wait with no completion at all for this long aborts the job.
pub const STALL_SECS: u64 = 120;
/// Inline data asked for when creating QPs (rxe allows up to 512).
const WANT_INLINE: u32 = 256;

/// Errors of the verbs transport at setup (hot-path errors abort the job instead).
#[derive(Debug, thiserror::Error)]
#[error("RDMA verbs: {0}")]
pub struct VerbsError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, VerbsError> {
    Err(VerbsError(msg.into()))
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// What every channel of a PE shares, immutable after [`VerbsCtx::open`] except for
/// atomics (keys) and the cold-path mutex of the peers' addresses: read by private
/// channels without any lock.
struct Shared {
    dev: std::sync::Arc<Dev>,
    me: usize,
    depth: u64,
    max_inline: usize,
    /// Signal at least every this many requests (`RSHMEM_VERBS_SIGNAL_EVERY`, 1..=depth/2).
    signal_every: u64,
    /// Deferred puts per QP before its list is posted (1: none deferred).
    batch: usize,
    /// `quiet` marks an unsignalled tail with an 8-byte READ instead of a zero-length WRITE
    /// (`RSHMEM_VERBS_QUIET=read`).
    quiet_read: bool,
    abort: fn(&str) -> !,
    seg_base: usize,
    seg_len: usize,
    /// lkeys of our registered chunks of segment 0 (0: not registered yet); the regions
    /// themselves are owned by [`State::mrs`].
    lkeys: Box<[std::sync::atomic::AtomicU32]>,
    /// Segment 1 (the program's globals), registered whole: base, length, MR.
    data: Option<(usize, usize, Mr)>,
    /// What we know of each peer's memory, readable without a lock.
    peers: Vec<std::sync::Arc<mem::PeerKeys>>,
    /// Each peer's port and connection-service address (from its init record); read on
    /// the cold path of a connection only.
    addrs: Mutex<Vec<cm::Addr>>,
    /// Whether each peer's init record is installed (on demand, read on first use:
    /// [`VerbsCtx::add_peer`]; every peer's at init in a full mesh).
    known: Box<[std::sync::atomic::AtomicBool]>,
    /// This PE's connection service (`None`: a full mesh, connected at init).
    cm: Option<cm::Service>,
    /// The key requests to this PE's connection service are signed with (in its record).
    key: [u8; cm::KEY],
    psn: u32,
}

impl Shared {
    fn fail(&self, msg: String) -> ! {
        (self.abort)(&format!(
            "RDMA verbs ({}:{}): {msg}",
            self.dev.name, self.dev.port
        ))
    }
}

/// One ordering and completion domain of a PE (docs/ARCHITECTURE.md, "Verbs contexts"):
/// its own CQ, its own RC QP per peer it has posted to, its own bounce ring and lists of
/// deferred requests. Channel 0 serves the default context ([`VerbsCtx`]'s `ch0`, locked
/// only under `SHMEM_THREAD_MULTIPLE`); the others ([`VerbsChannel`]) serve the program's contexts.
/// The layers add their methods in their own files.
struct Channel {
    sh: std::sync::Arc<Shared>,
    /// 0 for the default context; otherwise sent with connection requests so that the
    /// target does not adopt the QP as its own default-context QP to us.
    id: u32,
    cq: std::sync::Arc<obj::Cq>,
    /// QPs that may hold deferred requests (each at most once).
    pending: Vec<usize>,
    /// One per peer; its QP is created on the first post to that peer (`cm.rs`), except
    /// channel 0's loopback one (`qps[me]`), created at open.
    qps: Vec<SendQueue>,
    /// The responder side of this channel's loopback pair (channel 0's is
    /// [`State::resp`]); created with the pair on the first post to this PE itself.
    loop_resp: Option<Qp>,
    bounce_mr: Mr,
    bounce: Mapping,
    /// Next free byte of the bounce ring (in `[SCRATCH, BOUNCE_LEN)`).
    bounce_head: usize,
    /// Bounce ranges in use, oldest first: (pe, sequence number of the request that uses
    /// it, offset, length). A range is free once that request has completed.
    bounce_live: VecDeque<(usize, u64, usize, usize)>,
    copies: Vec<CopyOut>,
}

impl core::ops::Deref for Channel {
    type Target = Shared;
    #[inline(always)]
    fn deref(&self) -> &Shared {
        &self.sh
    }
}

impl Channel {
    /// A channel with its own CQ (sized as the default one) and bounce buffer, no QP yet.
    fn new(
        sh: std::sync::Arc<Shared>,
        id: u32,
        cq: std::sync::Arc<obj::Cq>,
        npes: usize,
    ) -> Result<Self, VerbsError> {
        let bounce = Mapping::anonymous(BOUNCE_LEN).map_err(|e| {
            VerbsError(format!(
                "mmap of the {BOUNCE_LEN}-byte bounce buffer failed: {e}"
            ))
        })?;
        // SAFETY: the bounce mapping outlives its region (field order: `bounce_mr` is
        // declared, hence dropped, before `bounce`).
        let bounce_mr = unsafe { mem::reg(&sh.dev.pd, bounce.ptr() as usize, BOUNCE_LEN)? };
        let (depth, batch) = (sh.depth, sh.batch);
        Ok(Self {
            sh,
            id,
            cq,
            pending: Vec::with_capacity(npes),
            qps: (0..npes)
                .map(|_| SendQueue::new(None, depth, batch))
                .collect(),
            loop_resp: None,
            bounce_mr,
            bounce,
            bounce_head: SCRATCH,
            bounce_live: VecDeque::new(),
            copies: Vec::new(),
        })
    }
}

/// What the channels share that changes after open, behind [`VerbsCtx`]'s mutex (cold
/// paths only: init, heap growth, a peer's record read on first use): the owners of the
/// chunk MRs, the peers' record tables and channel 0's loopback responder. It dereferences
/// to [`Shared`]. The verbs objects free themselves (see `obj.rs`).
struct State {
    sh: std::sync::Arc<Shared>,
    /// Responder side of channel 0's loopback pair (its `qps[me]` talks to it).
    resp: Qp,
    remote: Vec<Remote>,
    mrs: Vec<Mr>,
}

impl core::ops::Deref for State {
    type Target = Shared;
    #[inline(always)]
    fn deref(&self) -> &Shared {
        &self.sh
    }
}

/// A value used either under a mutex of its own or, unlocked, by one thread at a time as
/// its owner promised: channel 0 (the default context, [`VerbsCtx`]) and the program's
/// contexts' channels ([`VerbsChannel`]) both live in one. Unlocked, the path takes no
/// lock and no atomic read-modify-write at all.
struct MaybeLocked<T> {
    lock: Option<Mutex<()>>,
    cell: core::cell::UnsafeCell<T>,
}

// SAFETY: a channel's raw pointers (bounce mapping, built-but-unposted requests and their
// SGEs, inline sources) point at memory the channel owns or the caller keeps valid, and
// are used only inside `with` (under the mutex, or by the one thread at a time the creator
// of an unlocked one promised: `MaybeLocked::new`) or through `get_mut` (`&mut self`); the
// verbs owners are Send and Sync (libibverbs objects may be used from any thread).
unsafe impl Send for MaybeLocked<Channel> {}
// SAFETY: see `Send`: `&MaybeLocked` hands out `&mut Channel` to one thread at a time.
unsafe impl Sync for MaybeLocked<Channel> {}

impl<T> MaybeLocked<T> {
    /// `value` behind a mutex of its own, or without any lock (`unlocked`).
    ///
    /// # Safety
    /// With `unlocked`, the caller must never let two threads use it at once
    /// ([`MaybeLocked::with`], drop included).
    unsafe fn new(value: T, unlocked: bool) -> Self {
        Self {
            lock: (!unlocked).then(|| Mutex::new(())),
            cell: core::cell::UnsafeCell::new(value),
        }
    }

    /// Drops the mutex: from now on the value takes no lock.
    ///
    /// # Safety
    /// As [`MaybeLocked::new`] with `unlocked`, from now on.
    unsafe fn unlock(&mut self) {
        self.lock = None;
    }

    fn is_locked(&self) -> bool {
        self.lock.is_some()
    }

    #[inline(always)]
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let _g = self
            .lock
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|e| e.into_inner()));
        // SAFETY: exclusive access: under the mutex, or (unlocked) by the one thread at a
        // time the creator promised (`MaybeLocked::new`, `unlock`); `f` cannot reach this
        // value again (channels never call back into their owner).
        f(unsafe { &mut *self.cell.get() })
    }

    fn get_mut(&mut self) -> &mut T {
        self.cell.get_mut()
    }
}

/// The verbs state of one PE, shared by its endpoints. The default context is channel 0,
/// used under a mutex of its own unless the program's thread level lets it go without
/// ([`VerbsCtx::unlock_default`]); the program's other contexts have channels of their
/// own ([`VerbsChannel`]); what they share is lock-free (`Shared`) or behind the cold
/// mutex of [`State`].
pub struct VerbsCtx {
    /// Channel 0: the default context (its QPs, CQ, bounce ring, deferred puts).
    ch0: MaybeLocked<Channel>,
    /// The owners of what changes after open (cold paths). Lock order: `st`, then `ch0`
    /// (channel 0's operations never take `st`).
    st: Mutex<State>,
    sh: std::sync::Arc<Shared>,
    npes: usize,
    desc: String,
    /// [`conn::QPS_CREATED`] and [`mem::REGISTERED`] before this context opened.
    base_stats: VerbsStats,
    /// [`VerbsCtx::stats`] when the runtime marked the end of its setup
    /// ([`VerbsCtx::mark_setup_done`]).
    setup_stats: std::sync::OnceLock<VerbsStats>,
    /// The next new channel number ([`VerbsCtx::channel`]); numbers of destroyed channels
    /// are reused first (`free_channels`), so that a peer's service holds at most one
    /// responder QP per live channel number.
    next_channel: std::sync::atomic::AtomicU32,
    free_channels: Mutex<Vec<u32>>,
}

/// What this context has cost the process so far ([`VerbsCtx::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerbsStats {
    /// RC queue pairs created (the loopback pair to this PE itself included).
    pub qps: usize,
    /// Bytes registered (pinned) with `ibv_reg_mr`: heap chunks, the data segment, the
    /// bounce buffer.
    pub registered: usize,
}

fn process_stats() -> VerbsStats {
    use std::sync::atomic::Ordering::Relaxed;
    VerbsStats {
        qps: conn::QPS_CREATED.load(Relaxed),
        registered: mem::REGISTERED.load(Relaxed),
    }
}

// SAFETY: channel 0 holds raw pointers (the bounce mapping, the built-but-unposted work
// requests and their SGEs, inline sources) used only inside `MaybeLocked::with` (its
// mutex, or the one thread at a time `unlock_default`'s caller promised); the verbs owners
// are Send and Sync themselves (libibverbs objects may be used from any thread).
unsafe impl Send for VerbsCtx {}
// SAFETY: see `Send`; `&VerbsCtx` reaches channel 0 only through `MaybeLocked::with` and
// the owners only through the `st` mutex.
unsafe impl Sync for VerbsCtx {}

impl core::fmt::Debug for VerbsCtx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.desc)
    }
}

/// The local memory a [`VerbsCtx`] serves, for [`VerbsCtx::open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    /// Start of segment 0 (the symmetric heap).
    pub seg_base: usize,
    /// Length of segment 0.
    pub seg_len: usize,
    /// Bytes of segment 0 in use (registered at open).
    pub in_use: usize,
    /// Segment 1 (the data segment), `(base, len)`, if any.
    pub data: Option<(usize, usize)>,
}

impl VerbsCtx {
    /// Opens the device, creates the QPs (one per PE of `npes`, plus the loopback
    /// responder), registers the chunks of segment 0 (`seg_base`, `seg_len`) that cover
    /// its first `in_use` bytes (all in `segs`), and a bounce buffer. Then call [`VerbsCtx::record`],
    /// exchange records, and [`VerbsCtx::connect`].
    ///
    /// The segments (0, and 1 given as `data`) must stay mapped for the life of the
    /// context. `abort` is called (with a message) on any error after setup: it must end
    /// the job.
    pub fn open(
        spec: &DeviceSpec,
        me: usize,
        npes: usize,
        segs: Segments,
        abort: fn(&str) -> !,
    ) -> Result<Self, VerbsError> {
        let Segments {
            seg_base,
            seg_len,
            in_use,
            data,
        } = segs;
        let base_stats = process_stats();
        let dev = device::open(spec, npes + 1)?;
        let depth = device::sq_depth(npes + 1);
        use crate::env::{self, Var};
        let knob = |var: &Var| env::int(var).map_err(|e| VerbsError(e.to_string()));
        // At most a quarter of the send queue (depth is at least 16).
        let batch = knob(&env::RSHMEM_VERBS_POST_LIST)?
            .map_or(POST_LIST, |n| n as usize)
            .clamp(1, (depth / 4) as usize);
        // On demand (cm.rs): the loopback pair only, the QPs to other peers on the first
        // post to each (with the same inline size: same device, same request). In a full
        // mesh (InfiniBand, or RSHMEM_VERBS_CONNECT=mesh): every QP now.
        let ip = cm::gid_ipv4(&dev.gid);
        let on_demand = match env::text(&env::RSHMEM_VERBS_CONNECT)
            .as_deref()
            .map(str::trim)
        {
            None | Some("" | "auto") => ip.is_some(),
            Some("demand") if ip.is_some() => true,
            Some("demand") => {
                return err(format!(
                    "RSHMEM_VERBS_CONNECT=demand connects through rdma_cm, which needs the \
                     port's IPv4 address, but GID {} of {}:{} is not IPv4-mapped: choose an \
                     IPv4 RoCE v2 GID with RSHMEM_GID_INDEX, or unset RSHMEM_VERBS_CONNECT \
                     (a full mesh at init)",
                    device::gid_text(&dev.gid),
                    dev.name,
                    dev.port
                ))
            }
            Some("mesh") => false,
            Some(v) => {
                return err(format!(
                    "invalid RSHMEM_VERBS_CONNECT={v:?}: expected auto, demand or mesh"
                ))
            }
        };
        let mut qps = Vec::with_capacity(npes);
        let mut max_inline = u32::MAX;
        for pe in 0..npes {
            if on_demand && pe != me {
                qps.push(None);
            } else {
                let (qp, inl) = conn::create_qp(&dev, &dev.cq, depth)?;
                max_inline = max_inline.min(inl);
                qps.push(Some(qp));
            }
        }
        let (resp, _) = conn::create_qp(&dev, &dev.cq, depth)?;
        let data = match data {
            // SAFETY: the data segment stays mapped for the life of the context (our
            // caller's contract).
            Some((b, l)) => Some((b, l, unsafe { mem::reg(&dev.pd, b, l)? })),
            None => None,
        };
        let mut psn = [0u8; 4];
        let _ = getrandom::getrandom(&mut psn);
        // Tuning knobs (benchmarks): RSHMEM_VERBS_INLINE=0 never sends inline (N caps
        // the inline size at N bytes), RSHMEM_VERBS_SIGNAL_EVERY=1 signals every request.
        let max_inline = knob(&env::RSHMEM_VERBS_INLINE)?
            .map_or(max_inline as u64, |n| n.min(max_inline as u64))
            as usize;
        let signal_every = knob(&env::RSHMEM_VERBS_SIGNAL_EVERY)?
            .unwrap_or(SIGNAL_EVERY)
            .clamp(1, (depth / 2).max(1));
        let quiet_read = match env::text(&env::RSHMEM_VERBS_QUIET)
            .as_deref()
            .map(str::trim)
        {
            None | Some("" | "write") => false,
            Some("read") => true,
            Some(v) => {
                return err(format!(
                    "invalid RSHMEM_VERBS_QUIET={v:?}: expected write or read"
                ))
            }
        };
        let desc = format!(
            "verbs {}:{} {} {} mtu {} inline {} atomics {}",
            dev.name,
            dev.port,
            if dev.eth {
                format!("gid[{}]", dev.gid_index)
            } else {
                format!("lid {}", dev.lid)
            },
            device::gid_text(&dev.gid),
            device::mtu_bytes(dev.mtu),
            max_inline,
            dev.atomic_cap
        );
        let psn = u32::from_le_bytes(psn) & 0xff_ffff;
        let dev = std::sync::Arc::new(dev);
        let mut key = [0u8; cm::KEY];
        getrandom::getrandom(&mut key)
            .map_err(|e| VerbsError(format!("no random connection key: {e}")))?;
        let cm = match ip {
            Some(ip) if on_demand => Some(cm::Service::start(
                dev.clone(),
                me,
                npes,
                key,
                depth,
                psn,
                ip,
                abort,
            )?),
            _ => None,
        };
        let desc = match &cm {
            Some(c) => format!(
                "{desc} connect on demand (service {}:{})",
                std::net::Ipv4Addr::from(c.ip),
                c.port
            ),
            None => format!("{desc} connect mesh"),
        };
        let remote: Vec<Remote> = (0..npes).map(|_| Remote::new(seg_len)).collect();
        let sh = std::sync::Arc::new(Shared {
            dev: dev.clone(),
            me,
            depth,
            max_inline,
            signal_every,
            batch,
            quiet_read,
            abort,
            seg_base,
            seg_len,
            lkeys: (0..seg_len.div_ceil(CHUNK))
                .map(|_| std::sync::atomic::AtomicU32::new(0))
                .collect(),
            data,
            peers: remote.iter().map(|r| r.keys.clone()).collect(),
            addrs: Mutex::new(vec![cm::Addr::default(); npes]),
            known: (0..npes)
                .map(|_| std::sync::atomic::AtomicBool::new(false))
                .collect(),
            cm,
            key,
            psn,
        });
        let mut ch = Channel::new(sh.clone(), 0, dev.cq.clone(), npes)?;
        for (q, qp) in ch.qps.iter_mut().zip(qps) {
            q.qp = qp;
        }
        let ctx = Self {
            // SAFETY: locked (until `unlock_default`, whose caller takes over the promise).
            ch0: unsafe { MaybeLocked::new(ch, false) },
            st: Mutex::new(State {
                sh: sh.clone(),
                resp,
                remote,
                mrs: Vec::new(),
            }),
            sh,
            npes,
            desc,
            base_stats,
            setup_stats: std::sync::OnceLock::new(),
            next_channel: std::sync::atomic::AtomicU32::new(1),
            free_channels: Mutex::new(Vec::new()),
        };
        ctx.lock().register_upto(in_use)?;
        Ok(ctx)
    }

    /// The owners of what changes after open (cold paths only).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on channel 0, the default context's: under its mutex, or with no lock at
    /// all after [`VerbsCtx::unlock_default`].
    #[inline(always)]
    fn ch0<R>(&self, f: impl FnOnce(&mut Channel) -> R) -> R {
        self.ch0.with(f)
    }

    /// From now on the default context (channel 0: every [`VerbsEndpoint`] operation,
    /// [`VerbsCtx::progress`], [`VerbsCtx::quiet_all`], [`VerbsCtx::fence_all`],
    /// [`VerbsCtx::is_connected`]) takes no lock: for a program whose thread level is
    /// below `SHMEM_THREAD_MULTIPLE`. The runtime calls it right after open.
    ///
    /// # Safety
    /// The caller must never use the default context from two threads at once from now on
    /// (the program's promise of `SHMEM_THREAD_SINGLE`, `FUNNELED` or `SERIALIZED`, and
    /// the runtime's own threads leave channel 0 alone). The connection service's thread
    /// does not touch it (it hands accepted QPs over through a mutex of its own).
    pub unsafe fn unlock_default(&mut self) {
        // SAFETY: the caller's contract.
        unsafe { self.ch0.unlock() }
    }

    /// Whether the default context takes its mutex ([`VerbsCtx::unlock_default`]).
    pub fn default_locked(&self) -> bool {
        self.ch0.is_locked()
    }

    /// One line for `SHMEM_INFO`: device, port, GID, MTU, inline size.
    pub fn describe(&self) -> &str {
        &self.desc
    }

    /// Records [`VerbsCtx::stats`] now: the runtime calls it before the last barrier of its
    /// setup, when no peer can have connected to this PE yet, so that what init cost is
    /// not blurred by the peers that connect right after it.
    pub fn mark_setup_done(&self) {
        let _ = self.setup_stats.set(self.stats());
    }

    /// The stats recorded by [`VerbsCtx::mark_setup_done`] (now's, if it was not called).
    pub fn setup_stats(&self) -> VerbsStats {
        self.setup_stats
            .get()
            .copied()
            .unwrap_or_else(|| self.stats())
    }

    /// Queue pairs created and bytes registered since this context opened (counted where
    /// `ibv_create_qp` and `ibv_reg_mr` succeed; `SHMEM_INFO` prints them).
    pub fn stats(&self) -> VerbsStats {
        let now = process_stats();
        VerbsStats {
            qps: now.qps - self.base_stats.qps,
            registered: now.registered - self.base_stats.registered,
        }
    }
}
