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
use crate::wait::{Backoff, Cmp, Progress, WaitKind};
use parking_lot::Mutex;
use rshmem_collectives::{ActiveSet, SyncOps, BARRIER_SLOTS};
use rshmem_transport::shm::{ShmEndpoint, ShmRegion, SEGMENT_ALIGN};
use rshmem_transport::tcp::{TcpCtx, TcpEndpoint};
use rshmem_transport::verbs::{DeviceSpec, VerbsCtx, VerbsEndpoint};
use rshmem_transport::{AmoOp, AmoWord, Endpoint, RemoteAddr};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most symmetric segments a job has (0: the heap; 1: the program's data and bss when
/// [`InitOptions::symmetric_statics`] is set).
pub const MAX_SEGS: usize = 4;
use crate::layout::slots;
pub use crate::layout::INTERNAL_BYTES;

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
    /// Segment bases (for shared memory: the peer's segment mapped in this process; for a
    /// verbs peer connected on demand, 0 until its record is read on first use).
    pub bases: [std::sync::atomic::AtomicUsize; MAX_SEGS],
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
    pub(super) fn key(&self, seg: usize, off: usize) -> u32 {
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
    /// Per peer: how many of those growths' key records this PE has read (fetched on first
    /// use of a chunk whose key it lacks, `verbs_keys_cold`: no all-to-all at growth).
    verbs_known: Box<[AtomicU64]>,
    /// Per peer: its verbs init record is installed (read at init for the PEs this one
    /// maps, on first use for the others: `verbs_keys_cold`).
    verbs_records: Box<[AtomicBool]>,
    /// How many PEs' segment records init read (`SHMEM_INFO`): O(PEs per node + nodes)
    /// with a process mapping, every PE's without one.
    seg_records_read: usize,
    /// The TCP transport, when any peer is reached over it.
    pub(super) tcp: Option<Arc<TcpCtx>>,
    /// Teams: the predefined ones, the internal-area allocator, algorithm overrides.
    teams: crate::teams::Teams,
    /// What every wait needs (verbs progress, exit requests, what this PE waits in).
    progress: Progress,
    /// The locks this PE holds (their symmetric addresses), so that releasing a lock it does
    /// not hold is an error instead of an endless wait for a successor that never links.
    /// Touched once per acquire and release (`crate::lock`), never by put/get/AMOs.
    held_locks: Mutex<Vec<usize>>,
    /// The thread level the program asked for (`shmem_init_thread`; Rust programs:
    /// `Multiple`): below `Multiple` the verbs default context takes no lock.
    thread_level: ThreadLevel,
    /// The kernel thread id of the thread that initialized (the one thread allowed to call
    /// OpenSHMEM under `Single` and `Funneled`; the exit hook checks it).
    init_tid: i32,
}

mod alloc;
mod ctx;
mod exit;
pub mod global;
mod info;
mod init;
mod rma;
mod sigbus;
pub(crate) mod waiting;

pub use ctx::Ctx;
pub(crate) use exit::err_line;
pub use init::{InitOptions, ThreadLevel};
pub use rma::{strided_span, Signal, Strided};

impl Runtime {
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
    pub(crate) fn teams(&self) -> &crate::teams::Teams {
        &self.teams
    }

    /// What the waits of this runtime poll ([`Backoff::new`] takes it).
    #[inline(always)]
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The locks this PE holds (`crate::lock`).
    pub(crate) fn held_locks(&self) -> &Mutex<Vec<usize>> {
        &self.held_locks
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
        // (the key first: for a verbs peer not used yet it reads the peer's record, which
        // also brings its bases)
        let key = self.peer_key(pe, seg, off, len);
        Ok(RemoteAddr {
            addr: self.peers[pe].bases[seg].load(Ordering::Relaxed) + off,
            key,
        })
    }

    /// The key of `len` bytes at `off` of segment `seg` on `pe` ([`Peer::key`]); over verbs,
    /// a heap chunk whose key this PE has not read yet (the range's first chunk, or a range
    /// that crosses into the next one) fetches the peer's key records first.
    #[inline(always)]
    pub(super) fn peer_key(&self, pe: usize, seg: usize, off: usize, len: usize) -> u32 {
        let p = &self.peers[pe];
        let key = p.key(seg, off);
        if let Path::Verbs(_) = &p.path {
            use rshmem_transport::verbs::CHUNK;
            if key == 0
                || p.bases[seg].load(Ordering::Relaxed) == 0
                || (seg == 0 && off % CHUNK + len > CHUNK)
            {
                return self.verbs_keys_cold(pe, seg, off);
            }
        }
        key
    }

    /// Reads `pe`'s key records of the registration growths this PE has not read yet, then
    /// returns the key of byte `off` of its segment 0.
    #[cold]
    #[inline(never)]
    fn verbs_keys_cold(&self, pe: usize, seg: usize, off: usize) -> u32 {
        let Some(v) = &self.verbs else {
            return self.peers[pe].key(seg, off);
        };
        if !self.verbs_records[pe].load(Ordering::Acquire) {
            // First use of a peer connected on demand: its init record (bases, first keys,
            // connection service), read once; the bootstrap's lock orders the readers.
            let mut kvs = self.kvs.lock();
            if !self.verbs_records[pe].load(Ordering::Acquire) {
                let r = bootstrap::get(&mut **kvs, pe, "rshmem-verbs")
                    .map_err(|e| e.to_string())
                    .and_then(|rec| v.add_peer(pe, &rec).map_err(|e| e.to_string()));
                match r {
                    Ok((b, d)) => {
                        self.peers[pe].bases[0].store(b, Ordering::Relaxed);
                        self.peers[pe].bases[1].store(d, Ordering::Relaxed);
                        self.verbs_records[pe].store(true, Ordering::Release);
                    }
                    Err(e) => {
                        drop(kvs);
                        self.abort(1, &format!("reading PE {pe}'s RDMA record: {e}"));
                    }
                }
            }
        }
        let gen = self.verbs_gen.load(Ordering::Acquire);
        let known = &self.verbs_known[pe];
        if seg == 0 && known.load(Ordering::Acquire) < gen {
            {
                let mut kvs = self.kvs.lock();
                // (re-read under the lock: another thread may have fetched them meanwhile)
                for g in known.load(Ordering::Acquire)..gen {
                    let r = bootstrap::get(&mut **kvs, pe, &format!("rshmem-mr{g}"))
                        .map_err(|e| e.to_string())
                        .and_then(|r| v.add_keys(pe, &r).map_err(|e| e.to_string()));
                    if let Err(e) = r {
                        drop(kvs);
                        self.abort(
                            1,
                            &format!("reading PE {pe}'s memory keys (registration {g}): {e}"),
                        );
                    }
                    known.store(g + 1, Ordering::Release);
                }
            }
        }
        self.peers[pe].key(seg, off)
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

    /// Waits until the local word at `addr` satisfies `cmp value` (spins briefly, then yields).
    pub fn wait_until<W: AmoWord>(&self, addr: usize, cmp: Cmp, value: W, signed: bool) {
        let mut b = Backoff::new(&self.progress);
        while !cmp.holds(
            // SAFETY: callers pass addresses of live local symmetric words (checked by the
            // API layers).
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
        let _w = self.progress.label(WaitKind::Barrier);
        let epoch = self.barrier_epoch.fetch_add(1, Ordering::Relaxed) + 1;
        rshmem_collectives::dissemination_barrier(
            &InternalSync(self),
            ActiveSet::world(self.npes),
            slots::BARRIER / 8,
            epoch,
        );
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
            .amo_nr::<u64>(addr, AmoOp::FetchAdd, value, pe, true)
            .expect("barrier partner is a valid PE");
    }
    #[inline]
    fn wait_ge(&self, slot: usize, value: u64) {
        self.0
            .wait_until::<u64>(self.0.slot_addr(slot * 8), Cmp::Ge, value, false);
    }
}

const _: () = assert!(slots::DEBUG >= slots::BARRIER + BARRIER_SLOTS * 8);
