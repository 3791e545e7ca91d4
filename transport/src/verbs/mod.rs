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
//! - **Completion**: one CQ; every [`SIGNAL_EVERY`]-th work request (and every one we wait
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
mod ffi;

use crate::{AmoOp, AmoWord, Endpoint, RemoteAddr};
use rdma_sys::*;
use std::collections::VecDeque;
use std::ffi::CStr;
use std::mem::{size_of, zeroed};
use std::os::raw::{c_int, c_void};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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

/// Which device, port and GID to use (`RSHMEM_DEVICE=name[:port]`, `RSHMEM_GID_INDEX`).
#[derive(Debug, Clone, Default)]
pub struct DeviceSpec {
    /// Device name (`ibv_devices`); `None`: the first device with an active port.
    pub name: Option<String>,
    /// Port number; `None`: the first active port.
    pub port: Option<u8>,
    /// GID index; `None`: the RoCE v2 IPv4-mapped GID (Ethernet), 0 otherwise.
    pub gid_index: Option<u32>,
}

impl DeviceSpec {
    /// Reads `RSHMEM_DEVICE` and `RSHMEM_GID_INDEX`.
    pub fn from_env() -> Result<Self, VerbsError> {
        let mut s = Self::default();
        if let Ok(v) = std::env::var("RSHMEM_DEVICE") {
            let v = v.trim();
            if !v.is_empty() {
                let (name, port) = match v.split_once(':') {
                    Some((n, p)) => (n, Some(p)),
                    None => (v, None),
                };
                s.name = Some(name.to_string());
                if let Some(p) = port {
                    s.port = Some(p.parse().ok().filter(|&p| p > 0).ok_or_else(|| {
                        VerbsError(format!(
                            "invalid RSHMEM_DEVICE={v:?}: the port after ':' must be a number from 1 to 255"
                        ))
                    })?);
                }
            }
        }
        s.gid_index = crate::env::number::<u32>("RSHMEM_GID_INDEX", 0, 65535)
            .map_err(|e| VerbsError(format!("{e}; a GID table index (see `ibv_devinfo -v`)")))?;
        Ok(s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Write,
    Read,
    FetchAdd,
    CompareSwap,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Write => "RDMA WRITE (put)",
            Op::Read => "RDMA READ (get)",
            Op::FetchAdd => "ATOMIC FETCH_AND_ADD",
            Op::CompareSwap => "ATOMIC CMP_AND_SWP",
        }
    }
    fn opcode(self) -> ibv_wr_opcode::Type {
        match self {
            Op::Write => ibv_wr_opcode::IBV_WR_RDMA_WRITE,
            Op::Read => ibv_wr_opcode::IBV_WR_RDMA_READ,
            Op::FetchAdd => ibv_wr_opcode::IBV_WR_ATOMIC_FETCH_AND_ADD,
            Op::CompareSwap => ibv_wr_opcode::IBV_WR_ATOMIC_CMP_AND_SWP,
        }
    }
}

/// When [`State::post`] posts a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Posting {
    Now,
    Defer,
    Hold,
}

/// Local side of a work request.
enum Local {
    /// No data (a zero-length WRITE: the completion marker of `quiet`).
    Empty,
    /// Inline data copied at post time.
    Inline(*const u8),
    /// Registered memory: address and lkey.
    Sge(u64, u32),
}

struct Qp {
    qp: *mut ibv_qp,
    /// Sequence number of the last posted request (first is 1).
    sent: u64,
    /// Every request up to this one has completed.
    done: u64,
    /// Last signalled request.
    last_sig: u64,
    /// The next request carries IBV_SEND_FENCE.
    fence: bool,
    /// (op, length, remote address) of recent requests, for error messages.
    ops: Vec<(Op, usize, u64)>,
    /// Requests built but not yet posted, oldest first (capacity: the list size + 1, never
    /// reallocated): deferred `put_nbi`s, then possibly the request that posts them all.
    /// Their SGEs are in `pend_sge` (same index); `sg_list` and `next` are set at posting.
    pend: Vec<ibv_send_wr>,
    pend_sge: Vec<ibv_sge>,
    /// Data of the deferred puts: [`STAGE`] bytes per `pend` index (inline: the post copies
    /// it, so the staging slot is free again once the list is posted).
    stage: Vec<u8>,
    /// This QP is in `State::pending`.
    listed: bool,
}

#[derive(Default)]
struct Remote {
    base: u64,
    rkeys: Vec<u32>,
    /// The peer's segment 1 (the program's globals): base, length, rkey; length 0 if none.
    data: (u64, usize, u32),
}

/// A pending copy out of the bounce buffer (get through the bounce buffer).
struct CopyOut {
    pe: usize,
    seq: u64,
    off: usize,
    dst: usize,
    len: usize,
}

/// Device facts fixed at open.
struct Dev {
    ctx: *mut ibv_context,
    pd: *mut ibv_pd,
    cq: *mut ibv_cq,
    name: String,
    port: u8,
    gid_index: u8,
    gid: [u8; 16],
    lid: u16,
    eth: bool,
    mtu: u32,
    max_msg: usize,
    rd_atom: u8,
    dest_rd_atom: u8,
    atomic_cap: &'static str,
}

struct State {
    dev: Dev,
    me: usize,
    depth: u64,
    max_inline: usize,
    /// Signal at least every this many requests (`RSHMEM_VERBS_SIGNAL_EVERY`, 1..=depth/2).
    signal_every: u64,
    /// Deferred puts per QP before its list is posted (1: none deferred).
    batch: usize,
    /// QPs that may hold deferred requests (each at most once).
    pending: Vec<usize>,
    qps: Vec<Qp>,
    /// Responder side of the loopback pair (qps[me] talks to it).
    resp: *mut ibv_qp,
    psn: u32,
    remote: Vec<Remote>,
    seg_base: usize,
    seg_len: usize,
    mrs: Vec<*mut ibv_mr>,
    /// Segment 1 (the program's globals), registered whole: base, length, MR.
    data: Option<(usize, usize, *mut ibv_mr)>,
    bounce: *mut u8,
    bounce_mr: *mut ibv_mr,
    /// Next free byte of the bounce ring (in `[SCRATCH, BOUNCE_LEN)`).
    bounce_head: usize,
    /// Bounce ranges in use, oldest first: (pe, sequence number of the request that uses
    /// it, offset, length). A range is free once that request has completed.
    bounce_live: VecDeque<(usize, u64, usize, usize)>,
    /// `quiet` marks an unsignalled tail with an 8-byte READ instead of a zero-length WRITE
    /// (`RSHMEM_VERBS_QUIET=read`).
    quiet_read: bool,
    copies: Vec<CopyOut>,
    abort: fn(&str) -> !,
}

/// One port of an RDMA device, as `ibv_query_port` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// Port number (from 1).
    pub port: u8,
    /// `DOWN`, `INIT`, `ARMED`, `ACTIVE`, ... (`unknown` if the query failed).
    pub state: &'static str,
    /// `InfiniBand`, `Ethernet` (RoCE, iWARP) or `unspecified`.
    pub link_layer: &'static str,
    /// Active MTU in bytes (0 if unknown).
    pub active_mtu: u32,
    /// LID (InfiniBand; 0 on Ethernet).
    pub lid: u16,
    /// Why the port could not be queried.
    pub error: Option<String>,
}

/// An RDMA device and its ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Device name (`ibv_devices`), e.g. `mlx5_0`, `rxe0`.
    pub name: String,
    /// Its physical ports.
    pub ports: Vec<PortInfo>,
    /// Why the device could not be opened or queried.
    pub error: Option<String>,
}

/// Lists the RDMA devices libibverbs finds, with each port's state and link layer. No
/// device is an empty list, not an error; `Err` means libibverbs could not list devices at
/// all (no verbs support in the kernel). Opens each device briefly; needs no SHMEM job.
///
/// ```
/// match rshmem_transport::verbs::list_devices() {
///     Ok(devs) => println!("{} RDMA device(s)", devs.len()),
///     Err(e) => println!("no verbs: {e}"),
/// }
/// ```
pub fn list_devices() -> Result<Vec<DeviceInfo>, VerbsError> {
    // SAFETY: `setup::list` only uses pointers libibverbs returned and frees them.
    unsafe { setup::list() }
}

/// The verbs state of one PE, shared by its endpoints. All operations serialize on one
/// mutex (the QPs, the CQ and the bounce buffer are shared).
pub struct VerbsCtx {
    st: Mutex<State>,
    desc: String,
}

// SAFETY: the raw verbs pointers in `State` are used only with the mutex held (libibverbs
// objects may be used from any thread); the bounce buffer is owned by the state.
unsafe impl Send for VerbsCtx {}
// SAFETY: see `Send`; `&VerbsCtx` gives access to the state only through the mutex.
unsafe impl Sync for VerbsCtx {}

impl core::fmt::Debug for VerbsCtx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.desc)
    }
}

fn port_state_name(s: u32) -> &'static str {
    match s {
        1 => "DOWN",
        2 => "INIT",
        3 => "ARMED",
        4 => "ACTIVE",
        5 => "ACTIVE_DEFER",
        _ => "NOP",
    }
}

fn mtu_bytes(m: u32) -> u32 {
    if (1..=5).contains(&m) {
        128 << m
    } else {
        0
    }
}

/// Everything that calls into libibverbs during setup.
///
/// SAFETY (whole module): each function is called with pointers obtained from libibverbs
/// in this module and still alive; structs passed to libibverbs are zero-initialized C
/// structs (all-zero is a valid value for each of them) of the sizes the library expects.
/// The address vector of a connection (`ibv_qp_attr::ah_attr`, set at RTR). RoCE
/// (`eth`): always a GRH with the peer's GID and our source GID index, the LID unused.
/// InfiniBand: LID routing within the subnet (`dlid`, no GRH).
fn address(eth: bool, port: u8, gid_index: u8, dlid: u16, dgid: [u8; 16]) -> ibv_ah_attr {
    // SAFETY: a plain C struct, all-zero is its "unset" state.
    let mut ah: ibv_ah_attr = unsafe { core::mem::zeroed() };
    ah.port_num = port;
    if eth {
        ah.is_global = 1;
        ah.grh.dgid = ibv_gid { raw: dgid };
        ah.grh.sgid_index = gid_index;
        ah.grh.hop_limit = 64;
    } else {
        ah.dlid = dlid;
    }
    ah
}

/// Default local ACK timeout exponent: 4.096 us * 2^18 = 1.07 s before a request is sent
/// again (UCX's default RC timeout is 1 s). Shorter timeouts retransmit spuriously when a
/// peer is descheduled for a moment (oversubscribed nodes, VMs), and Soft-RoCE (rxe,
/// kernel 6.1) was seen to stall a QP for good after such a retransmission: two VMs
/// running the C collectives test with 67 ms (exponent 14) hung on their first retry.
pub const ACK_TIMEOUT: u8 = 18;

/// The ACK timeout exponent: `RSHMEM_VERBS_TIMEOUT` (1..=31), else [`ACK_TIMEOUT`].
fn ack_timeout() -> Result<u8, VerbsError> {
    parse_timeout(std::env::var("RSHMEM_VERBS_TIMEOUT").ok().as_deref())
}

fn parse_timeout(v: Option<&str>) -> Result<u8, VerbsError> {
    match v.map(str::trim) {
        None | Some("") => Ok(ACK_TIMEOUT),
        Some(t) => crate::env::parse_number::<u8>("RSHMEM_VERBS_TIMEOUT", t, 1, 31).map_err(|e| {
            VerbsError(format!(
                "{e}: the ACK timeout exponent (4.096 us * 2^N per try; default {ACK_TIMEOUT} = 1.07 s)"
            ))
        }),
    }
}

/// An InfiniBand port is only addressable once a subnet manager gave it a LID.
fn check_lid(eth: bool, lid: u16) -> Result<(), String> {
    if !eth && lid == 0 {
        return Err(
            "the InfiniBand port has LID 0: no subnet manager has configured it (start \
                    opensm on the fabric, or pick another port with RSHMEM_DEVICE=name:port)"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn roce_uses_the_gid() {
        let gid = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 77, 0, 2];
        let ah = address(true, 1, 3, 0, gid);
        assert_eq!(ah.is_global, 1);
        // SAFETY: reading the union the function wrote.
        assert_eq!(unsafe { ah.grh.dgid.raw }, gid);
        assert_eq!(
            (ah.grh.sgid_index, ah.grh.hop_limit, ah.port_num),
            (3, 64, 1)
        );
        assert_eq!(ah.dlid, 0);
    }

    #[test]
    fn ack_timeout_knob() {
        assert_eq!(parse_timeout(None).unwrap(), ACK_TIMEOUT);
        assert_eq!(parse_timeout(Some(" 14 ")).unwrap(), 14);
        for bad in ["0", "32", "x", "-1"] {
            let e = parse_timeout(Some(bad)).unwrap_err().0;
            assert!(
                e.contains("RSHMEM_VERBS_TIMEOUT") && e.contains("from 1 to 31"),
                "{e}"
            );
        }
    }

    #[test]
    fn infiniband_routes_by_lid() {
        let ah = address(false, 2, 0, 0x1a, [0; 16]);
        assert_eq!((ah.is_global, ah.dlid, ah.port_num), (0, 0x1a, 2));
        assert!(check_lid(false, 0x1a).is_ok());
        assert!(check_lid(true, 0).is_ok());
        let e = check_lid(false, 0).unwrap_err();
        assert!(e.contains("LID 0") && e.contains("subnet manager"), "{e}");
    }
}

mod setup {
    use super::*;

    pub(super) unsafe fn reg(
        pd: *mut ibv_pd,
        addr: usize,
        len: usize,
    ) -> Result<*mut ibv_mr, VerbsError> {
        let access = ibv_access_flags::IBV_ACCESS_LOCAL_WRITE
            | ibv_access_flags::IBV_ACCESS_REMOTE_WRITE
            | ibv_access_flags::IBV_ACCESS_REMOTE_READ
            | ibv_access_flags::IBV_ACCESS_REMOTE_ATOMIC;
        let mr = ibv_reg_mr(pd, addr as *mut c_void, len, access.0 as c_int);
        if mr.is_null() {
            let e = errno();
            let mut rl: libc::rlimit = zeroed();
            libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut rl);
            let lim = if rl.rlim_cur == libc::RLIM_INFINITY {
                "unlimited".to_string()
            } else {
                format!("{} KiB", rl.rlim_cur / 1024)
            };
            return err(format!(
                "memory registration (ibv_reg_mr) of {len} bytes at {addr:#x} failed: {e}. \
                 RDMA pins registered memory and the locked-memory limit (ulimit -l) is {lim}: \
                 raise it (`ulimit -l unlimited`, `* - memlock unlimited` in /etc/security/limits.conf, \
                 or LimitMEMLOCK=infinity for a systemd service), or lower SHMEM_SYMMETRIC_SIZE"
            ));
        }
        Ok(mr)
    }

    unsafe fn query_port(ctx: *mut ibv_context, port: u8) -> Option<ibv_port_attr> {
        let mut a: ibv_port_attr = zeroed();
        // The exported compat symbol fills the classic fields (state, MTUs, lid, link layer).
        (ibv_query_port(
            ctx,
            port,
            &mut a as *mut ibv_port_attr as *mut _compat_ibv_port_attr,
        ) == 0)
            .then_some(a)
    }

    fn gid_v4_mapped(raw: &[u8; 16]) -> bool {
        raw[..10].iter().all(|&b| b == 0) && raw[10] == 0xff && raw[11] == 0xff
    }

    /// The RoCE v2 GID with an IPv4-mapped address, else any RoCE v2 GID, else 0.
    unsafe fn pick_gid(ctx: *mut ibv_context, port: u8, table: i32) -> u32 {
        let mut any_v2 = None;
        for i in 0..table.clamp(0, 256) as u32 {
            let mut e: ibv_gid_entry = zeroed();
            if ffi::_ibv_query_gid_ex(ctx, port as u32, i, &mut e, 0, size_of::<ibv_gid_entry>())
                != 0
            {
                continue; // ENODATA: empty slot
            }
            if e.gid_type == IBV_GID_TYPE_ROCE_V2 {
                if gid_v4_mapped(&e.gid.raw) {
                    return i;
                }
                any_v2.get_or_insert(i);
            }
        }
        any_v2.unwrap_or(0)
    }

    /// Opens the device and port chosen by `spec`.
    pub(super) unsafe fn open(spec: &DeviceSpec, nqps: usize) -> Result<Dev, VerbsError> {
        let mut n: c_int = 0;
        let list = ibv_get_device_list(&mut n);
        if list.is_null() || n <= 0 {
            if !list.is_null() {
                ibv_free_device_list(list);
            }
            return err(
                "no RDMA device found (ibv_get_device_list lists none: no RDMA NIC, or its driver is not loaded; \
                 `ibv_devices` shows them, Soft-RoCE is `rdma link add rxe0 type rxe netdev <if>`). \
                 Use RSHMEM_TRANSPORT=shm (or auto) for jobs on one node",
            );
        }
        let devs: Vec<(*mut ibv_device, String)> = (0..n as usize)
            .map(|i| {
                let d = *list.add(i);
                let name = CStr::from_ptr(ibv_get_device_name(d))
                    .to_string_lossy()
                    .into_owned();
                (d, name)
            })
            .collect();
        let names: Vec<&str> = devs.iter().map(|(_, s)| s.as_str()).collect();
        let names = names.join(", ");
        let candidates: Vec<_> = match &spec.name {
            Some(want) => match devs.iter().find(|(_, s)| s == want) {
                Some(d) => vec![d.clone()],
                None => {
                    ibv_free_device_list(list);
                    return err(format!(
                        "RDMA device {want:?} (RSHMEM_DEVICE) not found; the devices here are: {names}"
                    ));
                }
            },
            None => devs.clone(),
        };
        let mut chosen = None;
        let mut why = Vec::new();
        for (d, name) in &candidates {
            let ctx = ibv_open_device(*d);
            if ctx.is_null() {
                why.push(format!("{name}: ibv_open_device failed: {}", errno()));
                continue;
            }
            let mut da: ibv_device_attr = zeroed();
            if ibv_query_device(ctx, &mut da) != 0 {
                why.push(format!("{name}: ibv_query_device failed: {}", errno()));
                ibv_close_device(ctx);
                continue;
            }
            let ports: Vec<u8> = match spec.port {
                Some(p) if p > da.phys_port_cnt => {
                    why.push(format!(
                        "{name} has {} port(s), no port {p}",
                        da.phys_port_cnt
                    ));
                    vec![]
                }
                Some(p) => vec![p],
                None => (1..=da.phys_port_cnt).collect(),
            };
            for p in ports {
                match query_port(ctx, p) {
                    Some(pa) if pa.state == ibv_port_state::IBV_PORT_ACTIVE => {
                        chosen = Some((ctx, name.clone(), p, pa, da));
                        break;
                    }
                    Some(pa) => why.push(format!(
                        "port {p} of {name} is {} (not ACTIVE: check the link/cable, `ibv_devinfo`)",
                        port_state_name(pa.state)
                    )),
                    None => why.push(format!("{name}: ibv_query_port({p}) failed: {}", errno())),
                }
            }
            if chosen.is_some() {
                break;
            }
            ibv_close_device(ctx);
        }
        ibv_free_device_list(list);
        let Some((ctx, name, port, pa, da)) = chosen else {
            return err(format!("no usable RDMA port: {}", why.join("; ")));
        };
        let fail = |msg: String| -> Result<Dev, VerbsError> {
            ibv_close_device(ctx);
            err(format!("{name}:{port}: {msg}"))
        };
        if da.atomic_cap == ibv_atomic_cap::IBV_ATOMIC_NONE {
            return fail("the device has no RDMA atomics (atomic_cap NONE)".into());
        }
        let atomic_cap = if da.atomic_cap == ibv_atomic_cap::IBV_ATOMIC_GLOB {
            "GLOB"
        } else {
            "HCA"
        };
        let eth = pa.link_layer == 2; // IBV_LINK_LAYER_ETHERNET (not bound by rdma-sys)
        if let Err(e) = check_lid(eth, pa.lid) {
            return fail(e);
        }
        let gid_index = match spec.gid_index {
            Some(i) if i as i32 >= pa.gid_tbl_len || i > 255 => {
                return fail(format!(
                    "RSHMEM_GID_INDEX={i} is outside the GID table (0..{})",
                    pa.gid_tbl_len
                ));
            }
            Some(i) => i,
            None if eth => pick_gid(ctx, port, pa.gid_tbl_len),
            None => 0,
        };
        let mut g: ibv_gid = zeroed();
        if ibv_query_gid(ctx, port, gid_index as c_int, &mut g) != 0 {
            return fail(format!("ibv_query_gid({gid_index}) failed: {}", errno()));
        }
        let gid = g.raw;
        if eth && gid.iter().all(|&b| b == 0) {
            return fail(format!(
                "GID index {gid_index} is empty (set RSHMEM_GID_INDEX)"
            ));
        }
        let pd = ibv_alloc_pd(ctx);
        if pd.is_null() {
            return fail(format!("ibv_alloc_pd failed: {}", errno()));
        }
        let cqe = (nqps as u64 * SQ_DEPTH).clamp(64, da.max_cqe.max(64) as u64) as c_int;
        let cq = ibv_create_cq(ctx, cqe, null_mut(), null_mut(), 0);
        if cq.is_null() {
            ibv_dealloc_pd(pd);
            return fail(format!("ibv_create_cq({cqe}) failed: {}", errno()));
        }
        Ok(Dev {
            ctx,
            pd,
            cq,
            name,
            port,
            gid_index: gid_index as u8,
            gid,
            lid: pa.lid,
            eth,
            mtu: pa.active_mtu,
            max_msg: (pa.max_msg_sz as usize).clamp(4096, CHUNK),
            rd_atom: da.max_qp_init_rd_atom.clamp(1, 16) as u8,
            dest_rd_atom: da.max_qp_rd_atom.clamp(1, 16) as u8,
            atomic_cap,
        })
    }

    /// Every device with every port's attributes, for `rshmem-info`. `Err` only when
    /// libibverbs cannot list devices at all (no verbs support in the kernel).
    pub(super) unsafe fn list() -> Result<Vec<DeviceInfo>, VerbsError> {
        let mut n: c_int = 0;
        let list = ibv_get_device_list(&mut n);
        if list.is_null() {
            let e = errno();
            return err(if e.raw_os_error() == Some(libc::ENOSYS) {
                "ibv_get_device_list: the kernel offers no RDMA verbs (ENOSYS: no RDMA driver or ib_uverbs loaded)".to_string()
            } else {
                format!("ibv_get_device_list failed: {e}")
            });
        }
        let mut out = Vec::new();
        for i in 0..n.max(0) as usize {
            let d = *list.add(i);
            let name = CStr::from_ptr(ibv_get_device_name(d))
                .to_string_lossy()
                .into_owned();
            let mut info = DeviceInfo {
                name,
                ports: Vec::new(),
                error: None,
            };
            let ctx = ibv_open_device(d);
            if ctx.is_null() {
                info.error = Some(format!("ibv_open_device failed: {}", errno()));
                out.push(info);
                continue;
            }
            let mut da: ibv_device_attr = zeroed();
            if ibv_query_device(ctx, &mut da) != 0 {
                info.error = Some(format!("ibv_query_device failed: {}", errno()));
            } else {
                for p in 1..=da.phys_port_cnt {
                    info.ports.push(match query_port(ctx, p) {
                        Some(pa) => PortInfo {
                            port: p,
                            state: port_state_name(pa.state),
                            link_layer: match pa.link_layer {
                                1 => "InfiniBand",
                                2 => "Ethernet",
                                _ => "unspecified",
                            },
                            active_mtu: mtu_bytes(pa.active_mtu),
                            lid: pa.lid,
                            error: None,
                        },
                        None => PortInfo {
                            port: p,
                            state: "unknown",
                            link_layer: "unknown",
                            active_mtu: 0,
                            lid: 0,
                            error: Some(format!("ibv_query_port failed: {}", errno())),
                        },
                    });
                }
            }
            ibv_close_device(ctx);
            out.push(info);
        }
        ibv_free_device_list(list);
        Ok(out)
    }

    /// An RC QP on `dev`; returns it and its inline size.
    pub(super) unsafe fn create_qp(
        dev: &Dev,
        depth: u64,
    ) -> Result<(*mut ibv_qp, u32), VerbsError> {
        for inline in [WANT_INLINE, 64, 0] {
            let mut qia: ibv_qp_init_attr = zeroed();
            qia.send_cq = dev.cq;
            qia.recv_cq = dev.cq;
            qia.qp_type = ibv_qp_type::IBV_QPT_RC;
            qia.sq_sig_all = 0;
            qia.cap = ibv_qp_cap {
                max_send_wr: depth as u32,
                max_recv_wr: 1,
                max_send_sge: 1,
                max_recv_sge: 1,
                max_inline_data: inline,
            };
            let qp = ibv_create_qp(dev.pd, &mut qia);
            if !qp.is_null() {
                return Ok((qp, qia.cap.max_inline_data));
            }
        }
        err(format!(
            "ibv_create_qp (RC, {depth} send WRs) on {} failed: {}",
            dev.name,
            errno()
        ))
    }

    /// INIT → RTR → RTS towards (`dqpn`, `dgid`/`dlid`) with the peer's PSN `rpsn`.
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn connect(
        dev: &Dev,
        qp: *mut ibv_qp,
        pe: usize,
        dqpn: u32,
        dgid: [u8; 16],
        dlid: u16,
        mtu: u32,
        psn: u32,
        rpsn: u32,
    ) -> Result<(), VerbsError> {
        let step = |what: &str, rc: c_int| -> Result<(), VerbsError> {
            if rc == 0 {
                Ok(())
            } else {
                err(format!(
                    "queue pair transition to {what} for PE {pe} failed on {}:{}: {}",
                    dev.name,
                    dev.port,
                    std::io::Error::from_raw_os_error(rc)
                ))
            }
        };
        let mut a: ibv_qp_attr = zeroed();
        a.qp_state = ibv_qp_state::IBV_QPS_INIT;
        a.pkey_index = 0;
        a.port_num = dev.port;
        a.qp_access_flags = (ibv_access_flags::IBV_ACCESS_LOCAL_WRITE
            | ibv_access_flags::IBV_ACCESS_REMOTE_WRITE
            | ibv_access_flags::IBV_ACCESS_REMOTE_READ
            | ibv_access_flags::IBV_ACCESS_REMOTE_ATOMIC)
            .0;
        let m = ibv_qp_attr_mask::IBV_QP_STATE
            | ibv_qp_attr_mask::IBV_QP_PKEY_INDEX
            | ibv_qp_attr_mask::IBV_QP_PORT
            | ibv_qp_attr_mask::IBV_QP_ACCESS_FLAGS;
        step("INIT", ibv_modify_qp(qp, &mut a, m.0 as c_int))?;

        let mut a: ibv_qp_attr = zeroed();
        a.qp_state = ibv_qp_state::IBV_QPS_RTR;
        a.path_mtu = mtu;
        a.dest_qp_num = dqpn;
        a.rq_psn = rpsn;
        a.max_dest_rd_atomic = dev.dest_rd_atom;
        a.min_rnr_timer = 12;
        a.ah_attr = address(dev.eth, dev.port, dev.gid_index, dlid, dgid);
        let m = ibv_qp_attr_mask::IBV_QP_STATE
            | ibv_qp_attr_mask::IBV_QP_AV
            | ibv_qp_attr_mask::IBV_QP_PATH_MTU
            | ibv_qp_attr_mask::IBV_QP_DEST_QPN
            | ibv_qp_attr_mask::IBV_QP_RQ_PSN
            | ibv_qp_attr_mask::IBV_QP_MAX_DEST_RD_ATOMIC
            | ibv_qp_attr_mask::IBV_QP_MIN_RNR_TIMER;
        step("RTR", ibv_modify_qp(qp, &mut a, m.0 as c_int))?;

        let mut a: ibv_qp_attr = zeroed();
        a.qp_state = ibv_qp_state::IBV_QPS_RTS;
        a.timeout = ack_timeout()?;
        a.retry_cnt = 7;
        a.rnr_retry = 7;
        a.sq_psn = psn;
        a.max_rd_atomic = dev.rd_atom;
        let m = ibv_qp_attr_mask::IBV_QP_STATE
            | ibv_qp_attr_mask::IBV_QP_TIMEOUT
            | ibv_qp_attr_mask::IBV_QP_RETRY_CNT
            | ibv_qp_attr_mask::IBV_QP_RNR_RETRY
            | ibv_qp_attr_mask::IBV_QP_SQ_PSN
            | ibv_qp_attr_mask::IBV_QP_MAX_QP_RD_ATOMIC;
        step("RTS", ibv_modify_qp(qp, &mut a, m.0 as c_int))
    }

    pub(super) fn gid_text(g: &[u8; 16]) -> String {
        if gid_v4_mapped(g) {
            return format!("::ffff:{}.{}.{}.{}", g[12], g[13], g[14], g[15]);
        }
        g.chunks(2)
            .map(|c| format!("{:02x}{:02x}", c[0], c[1]))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// Little-endian record reader.
struct Rd<'a>(&'a [u8]);
impl Rd<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], VerbsError> {
        if self.0.len() < N {
            return err("corrupt connection record in the key-value store");
        }
        let (a, b) = self.0.split_at(N);
        self.0 = b;
        Ok(a.try_into().expect("length checked"))
    }
    fn u32(&mut self) -> Result<u32, VerbsError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, VerbsError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
}

impl VerbsCtx {
    /// Opens the device, creates the QPs (one per PE of `npes`, plus the loopback
    /// responder), registers the chunks of segment 0 (`seg_base`, `seg_len`) that cover
    /// its first `in_use` bytes, and a bounce buffer. Then call [`VerbsCtx::record`],
    /// exchange records, and [`VerbsCtx::connect`].
    ///
    /// `abort` is called (with a message) on any error after setup: it must end the job.
    pub fn open(
        spec: &DeviceSpec,
        me: usize,
        npes: usize,
        seg_base: usize,
        seg_len: usize,
        in_use: usize,
        data: Option<(usize, usize)>,
        abort: fn(&str) -> !,
    ) -> Result<Self, VerbsError> {
        // SAFETY: see `mod setup`; the segment [seg_base, seg_base+seg_len) is mapped by the
        // caller for the life of this context; the bounce buffer is mapped here.
        unsafe {
            let dev = setup::open(spec, npes + 1)?;
            let depth = SQ_DEPTH.min(32767 / (npes as u64 + 1)).max(16);
            let knob = |name: &'static str, min: u64, max: u64| {
                crate::env::number::<u64>(name, min, max).map_err(|e| VerbsError(e.to_string()))
            };
            // At most a quarter of the send queue (depth is at least 16).
            let batch = knob("RSHMEM_VERBS_POST_LIST", 1, 1024)?
                .map_or(POST_LIST, |n| n as usize)
                .clamp(1, (depth / 4) as usize);
            let mut qps = Vec::with_capacity(npes);
            let mut max_inline = u32::MAX;
            for _ in 0..npes {
                let (qp, inl) = setup::create_qp(&dev, depth)?;
                max_inline = max_inline.min(inl);
                qps.push(Qp {
                    qp,
                    sent: 0,
                    done: 0,
                    last_sig: 0,
                    fence: false,
                    ops: vec![(Op::Write, 0, 0); depth as usize],
                    pend: Vec::with_capacity(batch + 1),
                    pend_sge: Vec::with_capacity(batch + 1),
                    stage: if batch > 1 {
                        vec![0; batch * STAGE]
                    } else {
                        Vec::new()
                    },
                    listed: false,
                });
            }
            let (resp, _) = setup::create_qp(&dev, depth)?;
            let bounce = libc::mmap(
                null_mut(),
                BOUNCE_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if bounce == libc::MAP_FAILED {
                return err(format!(
                    "mmap of the {BOUNCE_LEN}-byte bounce buffer failed: {}",
                    errno()
                ));
            }
            let bounce_mr = setup::reg(dev.pd, bounce as usize, BOUNCE_LEN)?;
            let data = match data {
                Some((b, l)) => Some((b, l, setup::reg(dev.pd, b, l)?)),
                None => None,
            };
            let mut psn = [0u8; 4];
            let _ = getrandom::getrandom(&mut psn);
            // Tuning knobs (benchmarks): RSHMEM_VERBS_INLINE=0 never sends inline (N caps
            // the inline size at N bytes), RSHMEM_VERBS_SIGNAL_EVERY=1 signals every request.
            let max_inline = knob("RSHMEM_VERBS_INLINE", 0, 1 << 20)?
                .map_or(max_inline as u64, |n| n.min(max_inline as u64))
                as usize;
            let signal_every = knob("RSHMEM_VERBS_SIGNAL_EVERY", 1, 1 << 16)?
                .unwrap_or(SIGNAL_EVERY)
                .clamp(1, (depth / 2).max(1));
            let quiet_read = match std::env::var("RSHMEM_VERBS_QUIET")
                .as_deref()
                .map(str::trim)
            {
                Err(_) | Ok("" | "write") => false,
                Ok("read") => true,
                Ok(v) => {
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
                setup::gid_text(&dev.gid),
                mtu_bytes(dev.mtu),
                max_inline,
                dev.atomic_cap
            );
            let ctx = Self {
                st: Mutex::new(State {
                    dev,
                    me,
                    depth,
                    max_inline,
                    signal_every,
                    batch,
                    pending: Vec::with_capacity(npes),
                    qps,
                    resp,
                    psn: u32::from_le_bytes(psn) & 0xff_ffff,
                    remote: (0..npes).map(|_| Remote::default()).collect(),
                    seg_base,
                    seg_len,
                    mrs: Vec::new(),
                    data,
                    bounce: bounce as *mut u8,
                    bounce_mr,
                    bounce_head: SCRATCH,
                    bounce_live: VecDeque::new(),
                    quiet_read,
                    copies: Vec::new(),
                    abort,
                }),
                desc,
            };
            ctx.lock().register_upto(in_use)?;
            Ok(ctx)
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One line for `SHMEM_INFO`: device, port, GID, MTU, inline size.
    pub fn describe(&self) -> &str {
        &self.desc
    }

    /// This PE's connection record: address (LID, GID, MTU), PSN, the QPN it uses for each
    /// peer, the base of segment 0 and the rkeys of its registered chunks.
    pub fn record(&self) -> Vec<u8> {
        let st = self.lock();
        let mut v = Vec::new();
        v.extend_from_slice(&(st.dev.lid as u32).to_le_bytes());
        v.extend_from_slice(&st.dev.mtu.to_le_bytes());
        v.extend_from_slice(&st.dev.gid);
        v.extend_from_slice(&st.psn.to_le_bytes());
        v.extend_from_slice(&(st.seg_base as u64).to_le_bytes());
        let (db, dl, dk) = st.data.map_or((0, 0, 0), |(b, l, mr)| {
            // SAFETY: `mr` is a live MR.
            (b as u64, l as u64, unsafe { (*mr).rkey })
        });
        v.extend_from_slice(&db.to_le_bytes());
        v.extend_from_slice(&dl.to_le_bytes());
        v.extend_from_slice(&dk.to_le_bytes());
        v.extend_from_slice(&(st.qps.len() as u32).to_le_bytes());
        for q in &st.qps {
            // SAFETY: `q.qp` is a live QP created in `open`.
            v.extend_from_slice(&unsafe { (*q.qp).qp_num }.to_le_bytes());
        }
        v.extend_from_slice(&st.key_record(0));
        v
    }

    /// Connects every QP with the records of all PEs (indexed by PE, ours included).
    pub fn connect(&self, records: &[Vec<u8>]) -> Result<(), VerbsError> {
        let mut st = self.lock();
        let st = &mut *st;
        let me = st.me;
        for (pe, rec) in records.iter().enumerate() {
            let mut r = Rd(rec);
            let lid = r.u32()? as u16;
            let mtu = r.u32()?;
            let gid: [u8; 16] = r.take()?;
            let psn = r.u32()?;
            let base = r.u64()?;
            let data = (r.u64()?, r.u64()? as usize, r.u32()?);
            let n = r.u32()? as usize;
            if n != records.len() {
                return err(format!(
                    "PE {pe} has {n} queue pairs, expected {}",
                    records.len()
                ));
            }
            let mut qpns = Vec::with_capacity(n);
            for _ in 0..n {
                qpns.push(r.u32()?);
            }
            st.remote[pe].base = base;
            st.remote[pe].data = data;
            st.set_keys(pe, r.0)?;
            let mtu = mtu.min(st.dev.mtu);
            // SAFETY: see `mod setup`; the QPs are live.
            unsafe {
                if pe == me {
                    let (a, b) = (st.qps[me].qp, st.resp);
                    setup::connect(&st.dev, a, pe, (*b).qp_num, gid, lid, mtu, psn, psn)?;
                    setup::connect(&st.dev, b, pe, (*a).qp_num, gid, lid, mtu, psn, psn)?;
                } else {
                    setup::connect(
                        &st.dev,
                        st.qps[pe].qp,
                        pe,
                        qpns[me],
                        gid,
                        lid,
                        mtu,
                        st.psn,
                        psn,
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Registers the chunks that cover the first `in_use` bytes of segment 0, if any are
    /// missing. Returns the record of the new rkeys to publish (same decision on every
    /// PE when `in_use` is symmetric), or `None` when nothing changed.
    pub fn grow(&self, in_use: usize) -> Result<Option<Vec<u8>>, VerbsError> {
        let mut st = self.lock();
        let first = st.mrs.len();
        st.register_upto(in_use)?;
        Ok((st.mrs.len() > first).then(|| st.key_record(first)))
    }

    /// Installs a record from [`VerbsCtx::grow`] of PE `pe`.
    pub fn add_keys(&self, pe: usize, rec: &[u8]) -> Result<(), VerbsError> {
        self.lock().set_keys(pe, rec)
    }

    /// Base address of `pe`'s segment 0 in its own address space (after [`VerbsCtx::connect`]).
    pub fn remote_base(&self, pe: usize) -> usize {
        self.lock().remote[pe].base as usize
    }

    /// Base address of `pe`'s segment 1 (its program globals) in its own address space, or
    /// 0 when it has none.
    pub fn remote_data_base(&self, pe: usize) -> usize {
        self.lock().remote[pe].data.0 as usize
    }

    /// Posts the `put_nbi`s deferred for post lists, if any: the runtime calls it from
    /// every wait and test, so that a deferred put reaches its peer while this PE waits
    /// for something (a reply to it, say), even without a `quiet`. One relaxed load when
    /// nothing is deferred.
    #[inline]
    pub fn progress(&self) {
        if DEFERRED.load(Ordering::Relaxed) {
            let mut st = self.lock();
            DEFERRED.store(false, Ordering::Relaxed);
            st.flush_all();
        }
    }

    /// Whether some `put_nbi` is deferred (in any verbs context of this process).
    #[inline]
    pub fn deferred() -> bool {
        DEFERRED.load(Ordering::Relaxed)
    }

    /// Completes every operation issued to every peer.
    pub fn quiet_all(&self) {
        self.lock().drain();
    }

    /// Orders the next operation to each peer after the earlier ones.
    pub fn fence_all(&self) {
        for q in self.lock().qps.iter_mut() {
            q.fence = true;
        }
    }
}

impl State {
    fn fail(&self, msg: String) -> ! {
        (self.abort)(&format!(
            "RDMA verbs ({}:{}): {msg}",
            self.dev.name, self.dev.port
        ))
    }

    fn register_upto(&mut self, in_use: usize) -> Result<(), VerbsError> {
        let want = in_use.clamp(1, self.seg_len).div_ceil(CHUNK);
        while self.mrs.len() < want {
            let off = self.mrs.len() * CHUNK;
            let len = CHUNK.min(self.seg_len - off);
            // SAFETY: the chunk lies inside the caller's mapped segment.
            let mr = unsafe { setup::reg(self.dev.pd, self.seg_base + off, len)? };
            self.mrs.push(mr);
        }
        Ok(())
    }

    fn key_record(&self, first: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(first as u32).to_le_bytes());
        v.extend_from_slice(&((self.mrs.len() - first) as u32).to_le_bytes());
        for &mr in &self.mrs[first..] {
            // SAFETY: `mr` is a live MR.
            v.extend_from_slice(&unsafe { (*mr).rkey }.to_le_bytes());
        }
        v
    }

    fn set_keys(&mut self, pe: usize, rec: &[u8]) -> Result<(), VerbsError> {
        let mut r = Rd(rec);
        let first = r.u32()? as usize;
        let n = r.u32()? as usize;
        let keys = &mut self.remote[pe].rkeys;
        if keys.len() < first {
            return err(format!(
                "PE {pe} published rkeys from chunk {first}, we know {}",
                keys.len()
            ));
        }
        keys.truncate(first);
        for _ in 0..n {
            keys.push(r.u32()?);
        }
        Ok(())
    }

    /// rkey and bytes left in its chunk for `raddr` on `pe`.
    #[inline]
    fn rkey(&self, pe: usize, raddr: u64, len: usize) -> (u32, usize) {
        let r = &self.remote[pe];
        let off = raddr.wrapping_sub(r.base) as usize;
        let doff = raddr.wrapping_sub(r.data.0) as usize;
        match r.rkeys.get(off / CHUNK) {
            Some(&k) if off < self.seg_len => (k, (CHUNK - off % CHUNK).min(self.seg_len - off)),
            _ if doff < r.data.1 => (r.data.2, r.data.1 - doff),
            _ => self.fail(format!(
                "address {raddr:#x} (+{len} bytes) on PE {pe} is outside its registered memory \
                 ({} bytes registered from {:#x})",
                r.rkeys.len() * CHUNK,
                r.base
            )),
        }
    }

    /// lkey and bytes left in its chunk when `addr` is in our registered segment.
    #[inline]
    fn lkey(&self, addr: usize) -> Option<(u32, usize)> {
        if let Some((b, l, mr)) = self.data {
            let off = addr.wrapping_sub(b);
            if off < l {
                // SAFETY: `mr` is a live MR.
                return Some((unsafe { (*mr).lkey }, l - off));
            }
        }
        let off = addr.wrapping_sub(self.seg_base);
        let mr = *self.mrs.get(off / CHUNK)?;
        if off >= self.seg_len {
            return None;
        }
        // SAFETY: `mr` is a live MR.
        Some((
            unsafe { (*mr).lkey },
            (CHUNK - off % CHUNK).min(self.seg_len - off),
        ))
    }

    fn bounce_lkey(&self) -> u32 {
        // SAFETY: the bounce MR lives as long as the state.
        unsafe { (*self.bounce_mr).lkey }
    }

    /// Reserves `n` bytes (at most [`BOUNCE_PIECE`]) of the bounce ring. When the ring is
    /// full, waits for its oldest range's request (signalling that QP's tail first if
    /// needed). The caller records the range with [`State::bounce_used`] after posting.
    fn bounce_alloc(&mut self, n: usize) -> usize {
        let n64 = n.div_ceil(64) * 64;
        debug_assert!(n64 <= BOUNCE_LEN - SCRATCH);
        loop {
            if !self.copies.is_empty() {
                self.run_copies(); // a get's range is free only after its copy-out
            }
            while let Some(&(pe, seq, _, _)) = self.bounce_live.front() {
                if self.qps[pe].done < seq {
                    break;
                }
                self.bounce_live.pop_front();
            }
            let head = self.bounce_head;
            let off = match self.bounce_live.front() {
                None => Some(SCRATCH),
                // not wrapped: free space after head, else wrap to the start
                Some(&(_, _, tail, _)) if head > tail => {
                    if head + n64 <= BOUNCE_LEN {
                        Some(head)
                    } else if SCRATCH + n64 <= tail {
                        Some(SCRATCH)
                    } else {
                        None
                    }
                }
                // wrapped: free space between head and the oldest range
                Some(&(_, _, tail, _)) => (head + n64 <= tail).then_some(head),
            };
            if let Some(off) = off {
                self.bounce_head = off + n64;
                return off;
            }
            let (pe, seq, _, _) = self.bounce_live[0];
            if self.qps[pe].last_sig < seq {
                self.post_marker(pe);
            }
            self.wait_seq(pe, seq);
        }
    }

    /// Records that request `seq` to `pe` uses the bounce range at `off` (`n` bytes).
    fn bounce_used(&mut self, pe: usize, seq: u64, off: usize, n: usize) {
        self.bounce_live
            .push_back((pe, seq, off, n.div_ceil(64) * 64));
    }

    /// Posts a signalled request to `pe` that completes only after every earlier one: a
    /// zero-length RDMA WRITE (RC acknowledges in order; as UCX's flush), or with
    /// `RSHMEM_VERBS_QUIET=read` an 8-byte READ of the peer's first word. A pending fence
    /// stays pending for the next real request.
    fn post_marker(&mut self, pe: usize) -> u64 {
        let fence = self.qps[pe].fence;
        self.qps[pe].fence = false;
        let raddr = self.remote[pe].base;
        let (rkey, _) = self.rkey(pe, raddr, 8);
        let seq = if self.quiet_read {
            let laddr = self.bounce as u64 + 8;
            let lkey = self.bounce_lkey();
            self.post(
                pe,
                Op::Read,
                Local::Sge(laddr, lkey),
                8,
                raddr,
                rkey,
                true,
                (0, 0),
                Posting::Now,
            )
        } else {
            self.post(
                pe,
                Op::Write,
                Local::Empty,
                0,
                raddr,
                rkey,
                true,
                (0, 0),
                Posting::Now,
            )
        };
        self.qps[pe].fence = fence;
        seq
    }

    /// Builds one work request to `pe` and returns its sequence number; `how` says when it
    /// is posted:
    /// - [`Posting::Now`]: at once, in one list with any requests queued for that QP;
    /// - [`Posting::Defer`] (an inline RDMA WRITE of at most [`STAGE`] bytes, when post
    ///   lists are on; otherwise as `Now`): its data is copied to the QP's staging area and
    ///   the request queued, to be posted with the next request to that QP, when
    ///   [`State::batch`] are queued, or at the next wait ([`State::wait`]) or
    ///   [`VerbsCtx::progress`];
    /// - [`Posting::Hold`]: queued without staging, for a caller that posts another request
    ///   to the same QP before it returns (the caller's data is still valid then).
    ///
    /// RC executes a QP's requests in posting order, so queueing never reorders requests to
    /// one PE.
    #[allow(clippy::too_many_arguments)]
    fn post(
        &mut self,
        pe: usize,
        op: Op,
        local: Local,
        len: usize,
        raddr: u64,
        rkey: u32,
        force_signal: bool,
        atomic: (u64, u64),
        how: Posting,
    ) -> u64 {
        let depth = self.depth;
        if self.qps[pe].sent - self.qps[pe].done >= depth - 1 {
            self.wait(|s| s.qps[pe].sent - s.qps[pe].done < depth - 1);
        }
        let defer = how == Posting::Defer
            && self.batch > 1
            && len <= STAGE
            && matches!(local, Local::Inline(_));
        let q = &mut self.qps[pe];
        let seq = q.sent + 1;
        let signal = force_signal || seq - q.last_sig >= self.signal_every;
        let mut flags = 0;
        if signal {
            flags |= ibv_send_flags::IBV_SEND_SIGNALED.0;
        }
        if q.fence {
            flags |= ibv_send_flags::IBV_SEND_FENCE.0;
        }
        let idx = q.pend.len();
        let sge = match local {
            Local::Empty => None,
            Local::Inline(p) => {
                flags |= ibv_send_flags::IBV_SEND_INLINE.0;
                let addr = if defer {
                    let slot = &mut q.stage[idx * STAGE..idx * STAGE + len];
                    // SAFETY: `p` is valid for `len` bytes (the caller's contract).
                    slot.copy_from_slice(unsafe { core::slice::from_raw_parts(p, len) });
                    slot.as_ptr() as u64
                } else {
                    p as u64
                };
                Some(ibv_sge {
                    addr,
                    length: len as u32,
                    lkey: 0,
                })
            }
            Local::Sge(a, k) => Some(ibv_sge {
                addr: a,
                length: len as u32,
                lkey: k,
            }),
        };
        // SAFETY: `ibv_send_wr` is a C struct for which all-zero is valid; pointers are
        // filled in when the list is posted.
        let mut wr: ibv_send_wr = unsafe { zeroed() };
        wr.wr_id = (seq << 16) | pe as u64;
        wr.num_sge = sge.is_some() as c_int;
        wr.opcode = op.opcode();
        wr.send_flags = flags;
        match op {
            Op::FetchAdd | Op::CompareSwap => {
                wr.wr.atomic = atomic_t {
                    remote_addr: raddr,
                    compare_add: atomic.0,
                    swap: atomic.1,
                    rkey,
                };
            }
            _ => {
                wr.wr.rdma = rdma_t {
                    remote_addr: raddr,
                    rkey,
                }
            }
        }
        debug_assert!(q.pend.len() < q.pend.capacity());
        q.pend.push(wr);
        q.pend_sge.push(sge.unwrap_or(ibv_sge {
            addr: 0,
            length: 0,
            lkey: 0,
        }));
        q.fence = false;
        q.sent = seq;
        if signal {
            q.last_sig = seq;
        }
        q.ops[(seq % depth) as usize] = (op, len, raddr);
        let queue = defer || how == Posting::Hold;
        if !queue || q.pend.len() >= self.batch.max(2) {
            self.flush(pe);
        } else if !q.listed {
            q.listed = true;
            self.pending.push(pe);
        }
        seq
    }

    /// Posts the requests built for `pe` (one `ibv_post_send` of the whole list).
    fn flush(&mut self, pe: usize) {
        let q = &mut self.qps[pe];
        let n = q.pend.len();
        if n == 0 {
            return;
        }
        for i in 0..n {
            let sge: *mut ibv_sge = &mut q.pend_sge[i];
            let next: *mut ibv_send_wr = if i + 1 < n {
                &mut q.pend[i + 1]
            } else {
                null_mut()
            };
            let w = &mut q.pend[i];
            w.sg_list = if w.num_sge > 0 { sge } else { null_mut() };
            w.next = next;
        }
        let mut bad: *mut ibv_send_wr = null_mut();
        // SAFETY: a list of `n` initialized requests linked by `next`, each SGE pointing at
        // memory valid now (inline data, staged or the caller's, is copied by the post) or
        // registered memory that stays valid until completion (callers guarantee it).
        let rc = unsafe { ibv_post_send(q.qp, q.pend.as_mut_ptr(), &mut bad) };
        if rc != 0 {
            let i = if bad.is_null() {
                0
            } else {
                // SAFETY: on failure `bad` points into the list just posted.
                unsafe { bad.offset_from(q.pend.as_ptr()) }.clamp(0, n as isize - 1) as usize
            };
            let seq = q.pend[i].wr_id >> 16;
            let (op, len, _) = q.ops[(seq % self.depth) as usize];
            self.fail(format!(
                "posting {} of {len} bytes to PE {pe} failed (request {} of a list of {n}): {}",
                op.name(),
                i + 1,
                std::io::Error::from_raw_os_error(rc)
            ));
        }
        q.pend.clear();
        q.pend_sge.clear();
    }

    /// Posts every QP's deferred requests.
    fn flush_all(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut p = std::mem::take(&mut self.pending);
        for &pe in &p {
            self.flush(pe);
            self.qps[pe].listed = false;
        }
        p.clear();
        self.pending = p;
    }

    /// Polls the CQ once; returns the number of completions.
    fn poll(&mut self) -> usize {
        // SAFETY: `ibv_wc` is a C struct for which all-zero is valid; the CQ is live.
        let mut wc: [ibv_wc; 16] = unsafe { zeroed() };
        // SAFETY: the CQ is live and `wc` holds 16 entries.
        let n = unsafe { ibv_poll_cq(self.dev.cq, 16, wc.as_mut_ptr()) };
        if n < 0 {
            self.fail(format!("ibv_poll_cq failed ({n})"));
        }
        for w in &wc[..n as usize] {
            let pe = (w.wr_id & 0xffff) as usize;
            let seq = w.wr_id >> 16;
            if w.status != ibv_wc_status::IBV_WC_SUCCESS {
                // SAFETY: ibv_wc_status_str returns a static C string.
                let s = unsafe { CStr::from_ptr(ibv_wc_status_str(w.status)) }.to_string_lossy();
                let (op, len, raddr) = self
                    .qps
                    .get(pe)
                    .map(|q| q.ops[(seq % self.depth) as usize])
                    .unwrap_or((Op::Write, 0, 0));
                self.fail(format!(
                    "{} of {len} bytes from PE {} to PE {pe} (remote address {raddr:#x}) failed: \
                     completion status \"{s}\" ({}), vendor error {:#x}",
                    op.name(),
                    self.me,
                    w.status,
                    w.vendor_err
                ));
            }
            if let Some(q) = self.qps.get_mut(pe) {
                q.done = q.done.max(seq);
            }
        }
        n as usize
    }

    /// Polls until `cond` holds: spins briefly, then yields (rxe does its work in kernel
    /// tasklets that a busy poller would starve), and aborts after [`STALL_SECS`] without
    /// any completion.
    fn wait(&mut self, cond: impl Fn(&State) -> bool) {
        self.flush_all();
        let mut idle = 0u32;
        let mut since = Instant::now();
        while !cond(self) {
            if self.poll() > 0 {
                idle = 0;
                since = Instant::now();
                continue;
            }
            idle += 1;
            if idle > 16 {
                std::thread::yield_now();
            }
            if idle > 4096 {
                std::thread::sleep(Duration::from_micros(20));
                if since.elapsed() > Duration::from_secs(STALL_SECS) {
                    let pending: Vec<String> = self
                        .qps
                        .iter()
                        .enumerate()
                        .filter(|(_, q)| q.sent > q.done)
                        .map(|(pe, q)| format!("PE {pe}: {}", q.sent - q.done))
                        .collect();
                    self.fail(format!(
                        "no completion for {STALL_SECS} s on PE {} (requests outstanding: {})",
                        self.me,
                        pending.join(", ")
                    ));
                }
            }
        }
    }

    fn wait_seq(&mut self, pe: usize, seq: u64) {
        self.wait(|s| s.qps[pe].done >= seq);
    }

    /// Copies completed gets out of the bounce buffer.
    fn run_copies(&mut self) {
        let mut i = 0;
        while i < self.copies.len() {
            let c = &self.copies[i];
            if self.qps[c.pe].done >= c.seq {
                // SAFETY: the READ into [off, off+len) of the bounce buffer has completed;
                // `dst` was promised valid by the get's caller until completion/quiet.
                unsafe {
                    core::ptr::copy_nonoverlapping(self.bounce.add(c.off), c.dst as *mut u8, c.len)
                };
                self.copies.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// Completes everything outstanding on every QP, then recycles the bounce buffer.
    fn drain(&mut self) {
        self.flush_all();
        for pe in 0..self.qps.len() {
            let q = &self.qps[pe];
            if q.sent > q.done && q.last_sig < q.sent {
                self.post_marker(pe);
            }
        }
        self.wait(|s| s.qps.iter().all(|q| q.done >= q.sent));
        self.run_copies();
        self.bounce_live.clear();
        self.bounce_head = SCRATCH;
    }

    fn put(&mut self, pe: usize, raddr: u64, src: *const u8, len: usize, blocking: bool) {
        let mut off = 0;
        let mut wait_for = None;
        while off < len {
            let ra = raddr + off as u64;
            let (rkey, ravail) = self.rkey(pe, ra, len - off);
            let mut n = (len - off).min(ravail).min(self.dev.max_msg);
            // SAFETY (pointer arithmetic): `src` is valid for `len` bytes (caller).
            let s = unsafe { src.add(off) };
            if n <= self.max_inline {
                let how = if blocking {
                    Posting::Now
                } else {
                    Posting::Defer
                };
                let data = Local::Inline(s);
                self.post(pe, Op::Write, data, n, ra, rkey, false, (0, 0), how);
            } else if let Some((lkey, lavail)) = self.lkey(s as usize) {
                n = n.min(lavail);
                let seq = self.post(
                    pe,
                    Op::Write,
                    Local::Sge(s as u64, lkey),
                    n,
                    ra,
                    rkey,
                    blocking,
                    (0, 0),
                    Posting::Now,
                );
                wait_for = Some(seq);
            } else {
                n = n.min(BOUNCE_PIECE);
                let b = self.bounce_alloc(n);
                // SAFETY: `s` is valid for `n` bytes; the bounce range was just reserved.
                unsafe { core::ptr::copy_nonoverlapping(s, self.bounce.add(b), n) };
                let laddr = self.bounce as u64 + b as u64;
                let seq = self.post(
                    pe,
                    Op::Write,
                    Local::Sge(laddr, self.bounce_lkey()),
                    n,
                    ra,
                    rkey,
                    n >= BOUNCE_SIGNAL,
                    (0, 0),
                    Posting::Now,
                );
                self.bounce_used(pe, seq, b, n);
            }
            off += n;
        }
        if let (true, Some(seq)) = (blocking, wait_for) {
            self.wait_seq(pe, seq);
        }
    }

    fn get(&mut self, pe: usize, dst: *mut u8, raddr: u64, len: usize, blocking: bool) {
        let mut off = 0;
        let mut last = 0;
        while off < len {
            let ra = raddr + off as u64;
            let (rkey, ravail) = self.rkey(pe, ra, len - off);
            let mut n = (len - off).min(ravail).min(self.dev.max_msg);
            // SAFETY (pointer arithmetic): `dst` is valid for `len` bytes (caller).
            let d = unsafe { dst.add(off) };
            if let Some((lkey, lavail)) = self.lkey(d as usize) {
                n = n.min(lavail);
                let end = off + n == len;
                last = self.post(
                    pe,
                    Op::Read,
                    Local::Sge(d as u64, lkey),
                    n,
                    ra,
                    rkey,
                    blocking && end,
                    (0, 0),
                    Posting::Now,
                );
            } else {
                n = n.min(BOUNCE_PIECE);
                let end = off + n == len;
                let b = self.bounce_alloc(n);
                let laddr = self.bounce as u64 + b as u64;
                last = self.post(
                    pe,
                    Op::Read,
                    Local::Sge(laddr, self.bounce_lkey()),
                    n,
                    ra,
                    rkey,
                    (blocking && end) || n >= BOUNCE_SIGNAL,
                    (0, 0),
                    Posting::Now,
                );
                self.bounce_used(pe, last, b, n);
                self.copies.push(CopyOut {
                    pe,
                    seq: last,
                    off: b,
                    dst: d as usize,
                    len: n,
                });
            }
            off += n;
        }
        if blocking && len > 0 {
            self.wait_seq(pe, last);
            self.run_copies();
        }
    }

    /// put-with-signal (add) in one `ibv_post_send`: the data as an inline RDMA WRITE held
    /// ([`Posting::Hold`]) and the signal as a fenced, signalled fetch-add posted with it
    /// (one list: one doorbell, one pass through the lock, where put + fence + AMO took two
    /// posts and three). Waits for the fetch-add, which completes after the write (an RC QP
    /// completes in order), as the separate AMO did. `false`, having done nothing, when the
    /// data is not inline-sized or crosses a registration chunk (the caller then takes the
    /// put + fence + AMO path).
    fn put_signal_add(
        &mut self,
        pe: usize,
        raddr: u64,
        src: *const u8,
        len: usize,
        sraddr: u64,
        value: u64,
    ) -> bool {
        if len == 0 || len > self.max_inline {
            return false;
        }
        let (rkey, ravail) = self.rkey(pe, raddr, len);
        if ravail < len {
            return false;
        }
        let (srkey, _) = self.rkey(pe, sraddr, 8);
        let depth = self.depth;
        if self.qps[pe].sent - self.qps[pe].done >= depth - 2 {
            self.wait(|s| s.qps[pe].sent - s.qps[pe].done < depth - 2);
        }
        let data = Local::Inline(src);
        self.post(
            pe,
            Op::Write,
            data,
            len,
            raddr,
            rkey,
            false,
            (0, 0),
            Posting::Hold,
        );
        self.qps[pe].fence = true;
        let old = Local::Sge(self.bounce as u64, self.bounce_lkey());
        let seq = self.post(
            pe,
            Op::FetchAdd,
            old,
            8,
            sraddr,
            srkey,
            true,
            (value, 0),
            Posting::Now,
        );
        self.wait_seq(pe, seq);
        true
    }

    /// One NIC atomic on the 8-byte word at `raddr`; returns the old value.
    fn nic(&mut self, pe: usize, raddr: u64, op: Op, a: u64, b: u64) -> u64 {
        let (rkey, _) = self.rkey(pe, raddr, 8);
        let slot = self.bounce as u64;
        let seq = self.post(
            pe,
            op,
            Local::Sge(slot, self.bounce_lkey()),
            8,
            raddr,
            rkey,
            true,
            (a, b),
            Posting::Now,
        );
        self.wait_seq(pe, seq);
        // SAFETY: the scratch slot is the first 8 bytes of the bounce buffer, written by
        // the completed atomic.
        unsafe { core::ptr::read_volatile(self.bounce as *const u64) }
    }

    fn amo<W: AmoWord>(&mut self, pe: usize, raddr: u64, op: AmoOp, operand: W, compare: W) -> W {
        if W::SIZE == 8 {
            match op {
                AmoOp::FetchAdd => {
                    return W::from_u64(self.nic(pe, raddr, Op::FetchAdd, operand.to_u64(), 0))
                }
                AmoOp::CompareSwap => {
                    return W::from_u64(self.nic(
                        pe,
                        raddr,
                        Op::CompareSwap,
                        compare.to_u64(),
                        operand.to_u64(),
                    ))
                }
                _ => {}
            }
        }
        // Everything else on the enclosing aligned 64-bit word (little-endian).
        let word = raddr & !7;
        let shift = ((raddr & 7) * 8) as u32;
        let mask = if W::SIZE == 8 {
            u64::MAX
        } else {
            0xffff_ffffu64 << shift
        };
        let get = |w: u64| W::from_u64((w & mask) >> shift);
        let mut cur = self.nic(pe, word, Op::FetchAdd, 0, 0);
        if op == AmoOp::Fetch {
            return get(cur);
        }
        loop {
            let old = get(cur);
            let (o, v) = (old.to_u64(), operand.to_u64());
            let new = match op {
                AmoOp::Fetch => unreachable!("handled above"),
                AmoOp::Set | AmoOp::Swap => v,
                AmoOp::CompareSwap if old != compare => return old,
                AmoOp::CompareSwap => v,
                AmoOp::FetchAdd => o.wrapping_add(v),
                AmoOp::FetchAnd => o & v,
                AmoOp::FetchOr => o | v,
                AmoOp::FetchXor => o ^ v,
            };
            let want = (cur & !mask) | ((new << shift) & mask);
            let got = self.nic(pe, word, Op::CompareSwap, cur, want);
            if got == cur {
                return old;
            }
            cur = got;
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: tearing down the objects created in `open`, in dependency order; nothing
        // else refers to them any more.
        unsafe {
            for q in &self.qps {
                ibv_destroy_qp(q.qp);
            }
            ibv_destroy_qp(self.resp);
            for &mr in &self.mrs {
                ibv_dereg_mr(mr);
            }
            ibv_dereg_mr(self.bounce_mr);
            if let Some((_, _, mr)) = self.data {
                ibv_dereg_mr(mr);
            }
            libc::munmap(self.bounce as *mut c_void, BOUNCE_LEN);
            ibv_destroy_cq(self.dev.cq);
            ibv_dealloc_pd(self.dev.pd);
            ibv_close_device(self.dev.ctx);
        }
    }
}

/// The endpoint for one peer reached over verbs.
///
/// With `map` set (a same-node peer in a job that also has remote peers), puts and gets
/// are copies through the shared-memory mapping and only AMOs go through the NIC: with
/// `IBV_ATOMIC_HCA`, NIC atomics are atomic only against each other.
#[derive(Clone, Debug)]
pub struct VerbsEndpoint {
    ctx: Arc<VerbsCtx>,
    pe: usize,
    /// Per segment: (the peer's segment base as a remote address, its length, the same
    /// segment mapped here); a length of 0 is no segment.
    map: Option<[(usize, usize, usize); 2]>,
}

impl VerbsEndpoint {
    /// The endpoint for `pe`; `map` as described on the type.
    pub fn new(ctx: Arc<VerbsCtx>, pe: usize, map: Option<[(usize, usize, usize); 2]>) -> Self {
        Self { ctx, pe, map }
    }

    /// Whether puts and gets go through a shared-memory mapping.
    pub fn is_mapped(&self) -> bool {
        self.map.is_some()
    }

    /// put-with-signal (add) to an unmapped peer as one post list (data inline + fenced
    /// fetch-add on the signal word); `false`, having done nothing, when that does not
    /// apply (a mapped peer, data larger than the inline size): then put, fence and AMO.
    ///
    /// # Safety
    /// `src` must be valid for `len` bytes; `dst` and `sig` must be the peer's addresses
    /// (as for [`Endpoint::put`] and [`Endpoint::amo`]).
    pub unsafe fn put_signal_add(
        &self,
        dst: RemoteAddr,
        src: *const u8,
        len: usize,
        sig: RemoteAddr,
        value: u64,
    ) -> bool {
        if self.map.is_some() {
            return false;
        }
        self.ctx
            .lock()
            .put_signal_add(self.pe, dst.addr as u64, src, len, sig.addr as u64, value)
    }

    /// The address in this process of the peer's remote address `r`, when mapped.
    #[inline]
    pub fn mapped_addr(&self, r: RemoteAddr) -> Option<usize> {
        self.map?
            .iter()
            .find(|(rb, len, _)| r.addr.wrapping_sub(*rb) < *len)
            .map(|(rb, _, mb)| r.addr - rb + mb)
    }

    #[inline]
    fn mapped(&self, r: RemoteAddr) -> Option<*mut u8> {
        self.mapped_addr(r).map(|a| a as *mut u8)
    }
}

impl Endpoint for VerbsEndpoint {
    unsafe fn put(&self, dst: RemoteAddr, src: *const u8, len: usize) {
        if let Some(d) = self.mapped(dst) {
            // SAFETY: the caller's contract; `d` is the same range in the peer's mapping.
            unsafe { crate::shm::copy_bytes(d, src, len) };
            return;
        }
        self.ctx
            .lock()
            .put(self.pe, dst.addr as u64, src, len, true);
    }
    unsafe fn put_nbi(&self, dst: RemoteAddr, src: *const u8, len: usize) {
        if let Some(d) = self.mapped(dst) {
            // SAFETY: as `put`.
            unsafe { crate::shm::copy_bytes(d, src, len) };
            return;
        }
        let mut st = self.ctx.lock();
        st.put(self.pe, dst.addr as u64, src, len, false);
        if !st.pending.is_empty() {
            DEFERRED.store(true, Ordering::Relaxed);
        }
    }
    unsafe fn get(&self, dst: *mut u8, src: RemoteAddr, len: usize) {
        if let Some(s) = self.mapped(src) {
            // SAFETY: as `put`.
            unsafe { crate::shm::copy_bytes(dst, s, len) };
            return;
        }
        self.ctx
            .lock()
            .get(self.pe, dst, src.addr as u64, len, true);
    }
    unsafe fn get_nbi(&self, dst: *mut u8, src: RemoteAddr, len: usize) {
        if let Some(s) = self.mapped(src) {
            // SAFETY: as `put`.
            unsafe { crate::shm::copy_bytes(dst, s, len) };
            return;
        }
        self.ctx
            .lock()
            .get(self.pe, dst, src.addr as u64, len, false);
    }
    unsafe fn amo<W: AmoWord>(&self, target: RemoteAddr, op: AmoOp, operand: W, compare: W) -> W {
        // Always through the NIC (see the type's documentation), even with a mapping.
        self.ctx
            .lock()
            .amo(self.pe, target.addr as u64, op, operand, compare)
    }
    fn fence(&self) {
        self.ctx.lock().qps[self.pe].fence = true;
    }
    fn quiet(&self) {
        self.ctx.lock().drain();
    }
}
