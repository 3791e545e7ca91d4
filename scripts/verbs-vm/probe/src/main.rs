//! rdma-probe: checks that the `rdma-sys` 0.3 binding is usable for an RC RDMA transport.
//!
//! One process, first (or $VERBSVM_RXE_DEV / argv[1]) device, port 1:
//!   query device / device_ex / port / GID table (type of each GID via `_ibv_query_gid_ex`,
//!   declared here because rdma-sys does not bind it, cross-checked against sysfs),
//!   PD, 1 MiB MR, CQ, two RC QPs connected to each other (loopback; device list, context,
//!   PD, CQ, MRs and these QPs through the transport's RAII owners, transport/src/verbs/obj.rs), then
//!   RDMA WRITE (plain and IBV_SEND_INLINE), RDMA READ, FETCH_ADD, CMP_SWP with data checks,
//!   through the classic `ibv_post_send`/`ibv_poll_cq` (rdma-sys's Rust re-implementations of
//!   the verbs.h inline functions), and again through the extended API
//!   (`ibv_qp_ex` + `ibv_wr_*`, `ibv_cq_ex` + `ibv_start_poll`) when the device has it.
//!
//! Build on the host and run in the verbs VM (from the repository root):
//!   cargo build --release --manifest-path scripts/verbs-vm/probe/Cargo.toml --target-dir /tmp/rdma-probe-target
//!   scripts/verbs-vm/run.sh -- /tmp/rdma-probe-target/release/rdma-probe
//! Build prerequisites (Debian 12): libibverbs-dev librdmacm-dev libclang-dev pkg-config
//! (scripts/verbs-vm/setup.sh installs them).
use rdma_sys::*;
use std::ffi::CStr;
use std::mem::{size_of, zeroed};
use std::os::raw::{c_int, c_void};
use std::ptr::{null_mut, NonNull};
use std::time::{Duration, Instant};

// The transport's RAII owners of the verbs objects (device list, context, PD, CQ, QP, MR):
// the probe exercises the same code the runtime runs.
#[path = "../../../../transport/src/verbs/obj.rs"]
mod obj;

// Not bound by rdma-sys 0.3 (its bindgen allowlist is `ibv_.*`, so the leading-underscore
// exported symbols are filtered out, and verbs.h's `static inline ibv_query_gid_ex` is not
// generated). `_ibv_query_gid_ex` is exported by libibverbs.so.1 since IBVERBS_1.11
// (rdma-core v32). rdma-sys already links libibverbs, so a plain extern block suffices.
extern "C" {
    fn _ibv_query_gid_ex(
        context: *mut ibv_context,
        port_num: u32,
        gid_index: u32,
        entry: *mut ibv_gid_entry,
        flags: u32,
        entry_size: usize,
    ) -> c_int;
}
// (the ibv_gid_entry struct and the IBV_GID_TYPE_* constants are in rdma-sys)

/// Correct versions of the verbs.h inlines that go through `struct verbs_context`.
///
/// rdma-sys 0.3.0's `verbs_get_ctx` compares `ibv_context.abi_compat` with `u32::MAX`, but
/// rdma-core defines `__VERBS_ABI_IS_EXTENDED` as `(void *)UINTPTR_MAX` (all 64 bits set), so
/// on x86_64 it always returns None: rdma-sys's `ibv_create_cq_ex`, `ibv_create_qp_ex`,
/// `ibv_open_qp`, `ibv_alloc_mw`, `ibv_advise_mr`, `ibv_alloc_dm`, ... fail with EOPNOTSUPP (some
/// `.unwrap()` and panic), and `ibv_query_device_ex` / `___ibv_query_port` silently fall
/// back to the legacy calls (no extended caps; port_cap_flags2/active_speed_ex not filled).
mod fixed {
    use rdma_sys::*;
    use std::mem::{offset_of, size_of};
    use std::os::raw::c_int;

    /// verbs_get_ctx_op(ctx, op) from verbs.h: the verbs_context if it is extended and big
    /// enough to hold `op` (checked by the caller via `off`, offset of the op field).
    pub unsafe fn vctx(ctx: *mut ibv_context, off: usize) -> Option<*mut verbs_context> {
        if (*ctx).abi_compat as usize != usize::MAX {
            return None;
        }
        let vc = (ctx as *mut u8).sub(offset_of!(verbs_context, context)) as *mut verbs_context;
        if (*vc).sz < size_of::<verbs_context>() - off {
            return None;
        }
        Some(vc)
    }
    pub unsafe fn query_device_ex(ctx: *mut ibv_context, attr: *mut ibv_device_attr_ex) -> c_int {
        if let Some(vc) = vctx(ctx, offset_of!(verbs_context, query_device_ex)) {
            if let Some(f) = (*vc).query_device_ex {
                let rc = f(ctx, std::ptr::null(), attr, size_of::<ibv_device_attr_ex>());
                if rc != libc::EOPNOTSUPP {
                    return rc;
                }
            }
        }
        std::ptr::write_bytes(attr, 0, 1);
        ibv_query_device(ctx, &mut (*attr).orig_attr)
    }
    pub unsafe fn query_port(ctx: *mut ibv_context, port: u8, attr: *mut ibv_port_attr) -> c_int {
        if let Some(vc) = vctx(ctx, offset_of!(verbs_context, query_port)) {
            if let Some(f) = (*vc).query_port {
                return f(ctx, port, attr, size_of::<ibv_port_attr>());
            }
        }
        std::ptr::write_bytes(attr, 0, 1);
        ibv_query_port(ctx, port, attr as *mut _compat_ibv_port_attr)
    }
    pub unsafe fn create_cq_ex(ctx: *mut ibv_context, attr: *mut ibv_cq_init_attr_ex) -> *mut ibv_cq_ex {
        match vctx(ctx, offset_of!(verbs_context, create_cq_ex)).and_then(|vc| (*vc).create_cq_ex) {
            Some(f) => f(ctx, attr),
            None => {
                *libc::__errno_location() = libc::EOPNOTSUPP;
                std::ptr::null_mut()
            }
        }
    }
    pub unsafe fn create_qp_ex(ctx: *mut ibv_context, attr: *mut ibv_qp_init_attr_ex) -> *mut ibv_qp {
        // verbs.h: without a comp_mask beyond PD this is just ibv_create_qp
        match vctx(ctx, offset_of!(verbs_context, create_qp_ex)).and_then(|vc| (*vc).create_qp_ex) {
            Some(f) => f(ctx, attr),
            None => {
                *libc::__errno_location() = libc::EOPNOTSUPP;
                std::ptr::null_mut()
            }
        }
    }
}

const BUF: usize = 1 << 20;
const PORT: u8 = 1;

macro_rules! die {
    ($($t:tt)*) => {{ eprintln!("rdma-probe: FAIL: {}", format!($($t)*)); std::process::exit(1) }};
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn check<T>(p: *mut T, what: &str) -> *mut T {
    if p.is_null() {
        die!("{what} failed: {}", errno());
    }
    p
}

unsafe fn wc_status(s: ibv_wc_status::Type) -> String {
    CStr::from_ptr(ibv_wc_status_str(s)).to_string_lossy().into_owned()
}

/// Poll `cq` (classic API) until one completion arrives; check it succeeded.
unsafe fn poll_one(cq: *mut ibv_cq, what: &str) -> ibv_wc {
    let mut wc: ibv_wc = zeroed();
    let t0 = Instant::now();
    loop {
        // rdma-sys: Rust fn that calls (*(*cq).context).ops.poll_cq, like the C inline
        let n = ibv_poll_cq(cq, 1, &mut wc);
        if n < 0 {
            die!("ibv_poll_cq returned {n} ({what})");
        }
        if n == 1 {
            break;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            die!("completion timeout ({what})");
        }
    }
    if wc.status != ibv_wc_status::IBV_WC_SUCCESS {
        die!("{what}: completion status {} ({}), vendor_err {}", wc_status(wc.status), wc.status, wc.vendor_err);
    }
    wc
}

struct Mr {
    mr: obj::Mr,
    buf: *mut u8,
}
impl Mr {
    fn addr(&self, off: usize) -> u64 {
        self.buf as u64 + off as u64
    }
    fn lkey(&self) -> u32 {
        self.mr.lkey()
    }
    fn rkey(&self) -> u32 {
        self.mr.rkey()
    }
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, off: usize, len: usize) -> &mut [u8] {
        std::slice::from_raw_parts_mut(self.buf.add(off), len)
    }
    unsafe fn u64_at(&self, off: usize) -> u64 {
        std::ptr::read_volatile(self.buf.add(off) as *const u64)
    }
    unsafe fn set_u64(&self, off: usize, v: u64) {
        std::ptr::write_volatile(self.buf.add(off) as *mut u64, v)
    }
}

/// Classic ibv_post_send of one signalled WR, then wait for its completion.
#[allow(clippy::too_many_arguments)]
unsafe fn post(
    qp: *mut ibv_qp, cq: *mut ibv_cq, op: ibv_wr_opcode::Type, flags: ibv_send_flags,
    l: &Mr, loff: usize, len: u32, r: &Mr, roff: usize, add_or_cmp: u64, swap: u64, what: &str,
) {
    let mut sge = ibv_sge { addr: l.addr(loff), length: len, lkey: l.lkey() };
    // ibv_send_wr is hand-written in rdma-sys (unions): no Default, use zeroed()
    let mut wr: ibv_send_wr = zeroed();
    wr.wr_id = 0x1000 + op as u64;
    wr.sg_list = &mut sge;
    wr.num_sge = 1;
    wr.opcode = op;
    wr.send_flags = (flags | ibv_send_flags::IBV_SEND_SIGNALED).0;
    if op == ibv_wr_opcode::IBV_WR_ATOMIC_FETCH_AND_ADD || op == ibv_wr_opcode::IBV_WR_ATOMIC_CMP_AND_SWP {
        wr.wr.atomic = atomic_t { remote_addr: r.addr(roff), compare_add: add_or_cmp, swap, rkey: r.rkey() };
    } else {
        wr.wr.rdma = rdma_t { remote_addr: r.addr(roff), rkey: r.rkey() };
    }
    let mut bad: *mut ibv_send_wr = null_mut();
    // rdma-sys: Rust fn that calls (*(*qp).context).ops.post_send, like the C inline.
    // It returns an errno value (not -1/errno).
    let rc = ibv_post_send(qp, &mut wr, &mut bad);
    if rc != 0 {
        die!("ibv_post_send({what}) = {rc} ({})", std::io::Error::from_raw_os_error(rc));
    }
    let wc = poll_one(cq, what);
    if wc.wr_id != 0x1000 + op as u64 {
        die!("{what}: wrong wr_id {}", wc.wr_id);
    }
}

unsafe fn connect(qp: *mut ibv_qp, dqpn: u32, dgid: ibv_gid, gidx: u8, mtu: ibv_mtu::Type) {
    let mut a: ibv_qp_attr = zeroed();
    a.qp_state = ibv_qp_state::IBV_QPS_INIT;
    a.pkey_index = 0;
    a.port_num = PORT;
    a.qp_access_flags = (ibv_access_flags::IBV_ACCESS_REMOTE_WRITE
        | ibv_access_flags::IBV_ACCESS_REMOTE_READ
        | ibv_access_flags::IBV_ACCESS_REMOTE_ATOMIC)
        .0;
    let m = ibv_qp_attr_mask::IBV_QP_STATE
        | ibv_qp_attr_mask::IBV_QP_PKEY_INDEX
        | ibv_qp_attr_mask::IBV_QP_PORT
        | ibv_qp_attr_mask::IBV_QP_ACCESS_FLAGS;
    let rc = ibv_modify_qp(qp, &mut a, m.0 as c_int);
    if rc != 0 {
        die!("modify_qp INIT: {}", std::io::Error::from_raw_os_error(rc));
    }

    let mut a: ibv_qp_attr = zeroed();
    a.qp_state = ibv_qp_state::IBV_QPS_RTR;
    a.path_mtu = mtu;
    a.dest_qp_num = dqpn;
    a.rq_psn = 0;
    a.max_dest_rd_atomic = 16;
    a.min_rnr_timer = 12;
    // RoCE: always a GRH (is_global=1) with the peer's GID and our source GID index
    a.ah_attr.is_global = 1;
    a.ah_attr.grh.dgid = dgid;
    a.ah_attr.grh.sgid_index = gidx;
    a.ah_attr.grh.hop_limit = 1;
    a.ah_attr.port_num = PORT;
    let m = ibv_qp_attr_mask::IBV_QP_STATE
        | ibv_qp_attr_mask::IBV_QP_AV
        | ibv_qp_attr_mask::IBV_QP_PATH_MTU
        | ibv_qp_attr_mask::IBV_QP_DEST_QPN
        | ibv_qp_attr_mask::IBV_QP_RQ_PSN
        | ibv_qp_attr_mask::IBV_QP_MAX_DEST_RD_ATOMIC
        | ibv_qp_attr_mask::IBV_QP_MIN_RNR_TIMER;
    let rc = ibv_modify_qp(qp, &mut a, m.0 as c_int);
    if rc != 0 {
        die!("modify_qp RTR: {}", std::io::Error::from_raw_os_error(rc));
    }

    let mut a: ibv_qp_attr = zeroed();
    a.qp_state = ibv_qp_state::IBV_QPS_RTS;
    a.timeout = 14;
    a.retry_cnt = 7;
    a.rnr_retry = 7;
    a.sq_psn = 0;
    a.max_rd_atomic = 16;
    let m = ibv_qp_attr_mask::IBV_QP_STATE
        | ibv_qp_attr_mask::IBV_QP_TIMEOUT
        | ibv_qp_attr_mask::IBV_QP_RETRY_CNT
        | ibv_qp_attr_mask::IBV_QP_RNR_RETRY
        | ibv_qp_attr_mask::IBV_QP_SQ_PSN
        | ibv_qp_attr_mask::IBV_QP_MAX_QP_RD_ATOMIC;
    let rc = ibv_modify_qp(qp, &mut a, m.0 as c_int);
    if rc != 0 {
        die!("modify_qp RTS: {}", std::io::Error::from_raw_os_error(rc));
    }
}

fn gid_str(g: &ibv_gid) -> String {
    let raw = unsafe { g.raw };
    raw.chunks(2).map(|c| format!("{:02x}{:02x}", c[0], c[1])).collect::<Vec<_>>().join(":")
}

/// Find the RoCE v2 GID whose address is IPv4-mapped (::ffff:a.b.c.d).
unsafe fn find_gid(ctx: *mut ibv_context, devname: &str, table_len: i32) -> (u8, ibv_gid) {
    let mut found = None;
    for i in 0..table_len.min(16) {
        let mut e: ibv_gid_entry = zeroed();
        let rc = _ibv_query_gid_ex(ctx, PORT as u32, i as u32, &mut e, 0, size_of::<ibv_gid_entry>());
        if rc != 0 {
            // ENODATA: empty slot
            continue;
        }
        let raw = e.gid.raw;
        let v4 = raw[..10].iter().all(|&b| b == 0) && raw[10] == 0xff && raw[11] == 0xff;
        let ty = match e.gid_type {
            IBV_GID_TYPE_IB => "IB",
            IBV_GID_TYPE_ROCE_V1 => "RoCE v1",
            IBV_GID_TYPE_ROCE_V2 => "RoCE v2",
            _ => "?",
        };
        // cross-check with sysfs: /sys/class/infiniband/<dev>/ports/<p>/gid_attrs/types/<i>
        let sys = std::fs::read_to_string(format!("/sys/class/infiniband/{devname}/ports/{PORT}/gid_attrs/types/{i}"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|e| format!("<{e}>"));
        // classic ibv_query_gid agrees?
        let mut g2: ibv_gid = zeroed();
        let rc2 = ibv_query_gid(ctx, PORT, i, &mut g2);
        let same = rc2 == 0 && g2.raw == raw;
        println!(
            "  gid[{i}] {} type {ty} (sysfs: {sys}) ifindex {} ibv_query_gid agrees: {same}",
            gid_str(&e.gid),
            e.ndev_ifindex
        );
        if found.is_none() && e.gid_type == IBV_GID_TYPE_ROCE_V2 && v4 {
            found = Some((i as u8, e.gid));
        }
    }
    found.unwrap_or_else(|| die!("no RoCE v2 IPv4 GID on {devname} port {PORT}"))
}

unsafe fn create_qp(pd: *mut ibv_pd, cq: *mut ibv_cq, inline: u32) -> *mut ibv_qp {
    let mut qia: ibv_qp_init_attr = zeroed();
    qia.send_cq = cq;
    qia.recv_cq = cq;
    qia.qp_type = ibv_qp_type::IBV_QPT_RC;
    qia.cap = ibv_qp_cap { max_send_wr: 64, max_recv_wr: 16, max_send_sge: 1, max_recv_sge: 1, max_inline_data: inline };
    ibv_create_qp(pd, &mut qia)
}

/// The same RC QP as an owner (destroyed on drop).
fn create_qp_owned(pd: &std::sync::Arc<obj::Pd>, cq: &std::sync::Arc<obj::Cq>, inline: u32) -> std::io::Result<obj::Qp> {
    // SAFETY: a plain C struct, all-zero is valid.
    let mut qia: ibv_qp_init_attr = unsafe { zeroed() };
    qia.qp_type = ibv_qp_type::IBV_QPT_RC;
    qia.cap = ibv_qp_cap { max_send_wr: 64, max_recv_wr: 16, max_send_sge: 1, max_recv_sge: 1, max_inline_data: inline };
    obj::Qp::create(pd, cq, &mut qia)
}

/// Largest max_inline_data an RC QP can be created with (the driver may round up: we
/// report what it writes back into qp_init_attr.cap too).
unsafe fn max_inline(pd: *mut ibv_pd, cq: *mut ibv_cq) -> (u32, u32) {
    let (mut lo, mut hi) = (0u32, 1 << 16);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let qp = create_qp(pd, cq, mid);
        if qp.is_null() {
            hi = mid - 1;
        } else {
            ibv_destroy_qp(qp);
            lo = mid;
        }
    }
    let mut qia: ibv_qp_init_attr = zeroed();
    qia.send_cq = cq;
    qia.recv_cq = cq;
    qia.qp_type = ibv_qp_type::IBV_QPT_RC;
    qia.cap = ibv_qp_cap { max_send_wr: 64, max_recv_wr: 16, max_send_sge: 1, max_recv_sge: 1, max_inline_data: 0 };
    let qp = check(ibv_create_qp(pd, &mut qia), "ibv_create_qp(inline 0)");
    let granted = qia.cap.max_inline_data;
    ibv_destroy_qp(qp);
    (lo, granted)
}

fn main() {
    unsafe { run() }
}

/// Would rdma-sys's own (private) verbs_get_ctx accept this context? (Same test it makes.)
unsafe fn rdma_sys_ctx_ok(ctx: *mut ibv_context) -> bool {
    (*ctx).abi_compat as usize == u32::MAX as usize
}

unsafe fn run() {
    // The hand-written rdma-sys structs must match C (sizes from gcc on x86_64, rdma-core 44)
    assert_eq!(size_of::<ibv_wc>(), 48, "ibv_wc");
    assert_eq!(size_of::<ibv_send_wr>(), 128, "ibv_send_wr");
    assert_eq!(size_of::<ibv_sge>(), 16, "ibv_sge");
    assert_eq!(size_of::<ibv_qp_attr>(), 144, "ibv_qp_attr");
    assert_eq!(size_of::<ibv_ah_attr>(), 32, "ibv_ah_attr");
    assert_eq!(size_of::<ibv_gid_entry>(), 32, "ibv_gid_entry");
    assert_eq!(size_of::<ibv_port_attr>(), 52, "ibv_port_attr");
    assert_eq!(size_of::<ibv_device_attr_ex>(), 400, "ibv_device_attr_ex");
    assert_eq!(size_of::<ibv_qp_init_attr_ex>(), 136, "ibv_qp_init_attr_ex");

    let want = std::env::args().nth(1).or_else(|| std::env::var("VERBSVM_RXE_DEV").ok());
    let list = obj::DeviceList::get().unwrap_or_else(|e| die!("no RDMA device ({e})"));
    if list.is_empty() {
        die!("no RDMA device");
    }
    let names: Vec<String> = (0..list.len()).map(|i| list.name(i)).collect();
    println!("devices: {names:?}");
    let Some(di) = names.iter().position(|n| want.is_none() || want.as_deref() == Some(n.as_str())) else {
        die!("device {want:?} not found");
    };
    let devname = names[di].clone();
    let ctx_o = list.open(di).unwrap_or_else(|e| die!("ibv_open_device failed: {e}"));
    let ctx = ctx_o.as_ptr();

    // ---- device caps
    let mut da: ibv_device_attr_ex = zeroed();
    let rc = ibv_query_device_ex(ctx, std::ptr::null(), &mut da);
    if rc != 0 {
        die!("ibv_query_device_ex: {rc}");
    }
    let rs_flags_ex = da.device_cap_flags_ex;
    let mut da: ibv_device_attr_ex = zeroed();
    let rc = fixed::query_device_ex(ctx, &mut da);
    if rc != 0 {
        die!("fixed::query_device_ex: {rc}");
    }
    println!(
        "  rdma-sys verbs_get_ctx works: {} (abi_compat = {:p}); device_cap_flags_ex via rdma-sys {:#x}, via fixed wrapper {:#x}",
        rdma_sys_ctx_ok(ctx), (*ctx).abi_compat, rs_flags_ex, da.device_cap_flags_ex
    );
    let a = &da.orig_attr;
    let atomic = match a.atomic_cap {
        ibv_atomic_cap::IBV_ATOMIC_NONE => "IBV_ATOMIC_NONE",
        ibv_atomic_cap::IBV_ATOMIC_HCA => "IBV_ATOMIC_HCA",
        ibv_atomic_cap::IBV_ATOMIC_GLOB => "IBV_ATOMIC_GLOB",
        _ => "?",
    };
    println!(
        "{devname}: fw {:?} max_qp {} max_qp_wr {} max_sge {} max_cq {} max_cqe {} max_mr_size {:#x} \
         max_qp_rd_atom {} max_qp_init_rd_atom {} atomic_cap {atomic}",
        CStr::from_ptr(a.fw_ver.as_ptr()),
        a.max_qp, a.max_qp_wr, a.max_sge, a.max_cq, a.max_cqe, a.max_mr_size,
        a.max_qp_rd_atom, a.max_qp_init_rd_atom
    );
    println!(
        "  odp general_caps {:#x} rc_odp_caps {:#x}; device_cap_flags_ex {:#x}; pci_atomic_caps fetch_add {:#x} compare_swap {:#x}",
        da.odp_caps.general_caps, da.odp_caps.per_transport_caps.rc_odp_caps, da.device_cap_flags_ex,
        da.pci_atomic_caps.fetch_add, da.pci_atomic_caps.compare_swap
    );

    // ---- port: rdma-sys's ___ibv_query_port is the Rust version of the verbs.h inline but
    // always takes its compat fallback (see mod fixed); the exported `ibv_query_port` symbol
    // takes the smaller _compat_ibv_port_attr (enough for state/mtu/gid_tbl_len)
    let mut pa: ibv_port_attr = zeroed();
    let rc = fixed::query_port(ctx, PORT, &mut pa);
    if rc != 0 {
        die!("query_port: {rc}");
    }
    println!(
        "  port {PORT}: state {} active_mtu {} max_mtu {} link_layer {} gid_tbl_len {}",
        CStr::from_ptr(ibv_port_state_str(pa.state)).to_string_lossy(),
        128 << pa.active_mtu,
        128 << pa.max_mtu,
        if pa.link_layer == 2 { "Ethernet" } else { "IB" },
        pa.gid_tbl_len
    );
    let (gidx, gid) = find_gid(ctx, &devname, pa.gid_tbl_len);
    println!("  using RoCE v2 IPv4 GID index {gidx} {}", gid_str(&gid));

    // ---- PD, MRs, CQ, QPs
    let pd_o = obj::Pd::alloc(&ctx_o).unwrap_or_else(|e| die!("ibv_alloc_pd failed: {e}"));
    let cq_o = obj::Cq::create(&ctx_o, 256).unwrap_or_else(|e| die!("ibv_create_cq failed: {e}"));
    let (pd, cq) = (pd_o.as_ptr(), cq_o.as_ptr());
    let mk = |what: &str| -> Mr {
        let lay = std::alloc::Layout::from_size_align(BUF, 4096).unwrap();
        // never freed: the buffers outlive their regions, as obj::Mr::reg requires
        let buf = std::alloc::alloc_zeroed(lay);
        let mr = obj::Mr::reg(&pd_o, buf as usize, BUF, obj::full_access())
            .unwrap_or_else(|e| die!("{what} failed: {e}"));
        Mr { mr, buf }
    };
    let la = mk("ibv_reg_mr(local)");
    let rb = mk("ibv_reg_mr(remote)");
    println!("  MRs: 2 x {} KiB, lkey {:#x} rkey {:#x}", BUF / 1024, la.lkey(), rb.rkey());

    let (maxin, granted0) = max_inline(pd, cq);
    println!("  RC QP max_inline_data: creatable up to {maxin} (asking 0 gives {granted0})");

    let inline_req = 64u32;
    let q1_o = create_qp_owned(&pd_o, &cq_o, inline_req).unwrap_or_else(|e| die!("ibv_create_qp q1 failed: {e}"));
    let q2_o = create_qp_owned(&pd_o, &cq_o, inline_req).unwrap_or_else(|e| die!("ibv_create_qp q2 failed: {e}"));
    let (q1, q2) = (q1_o.as_ptr(), q2_o.as_ptr());
    connect(q1, (*q2).qp_num, gid, gidx, pa.active_mtu);
    connect(q2, (*q1).qp_num, gid, gidx, pa.active_mtu);
    println!("  QPs {} <-> {} connected", (*q1).qp_num, (*q2).qp_num);

    // ---- classic API: data checks
    let iters = 200u64;
    let none = ibv_send_flags(0);
    let t0 = Instant::now();
    for it in 0..iters {
        let c = b'A' + (it % 26) as u8;
        // WRITE 64 KiB, not inline
        la.slice(0, 65536).fill(c);
        post(q1, cq, ibv_wr_opcode::IBV_WR_RDMA_WRITE, none, &la, 0, 65536, &rb, 4096, 0, 0, "WRITE");
        if rb.slice(4096, 65536).iter().any(|&b| b != c) {
            die!("WRITE data mismatch (iter {it})");
        }
        // WRITE inline 64 B: the source buffer is copied at post time (no lkey needed)
        la.slice(70000, 64).fill(c ^ 0x20);
        post(q1, cq, ibv_wr_opcode::IBV_WR_RDMA_WRITE, ibv_send_flags::IBV_SEND_INLINE, &la, 70000, 64, &rb, 200000, 0, 0, "WRITE inline");
        if rb.slice(200000, 64).iter().any(|&b| b != c ^ 0x20) {
            die!("inline WRITE data mismatch (iter {it})");
        }
        // READ 4 KiB from the remote
        rb.slice(300000, 4096).fill(c.wrapping_add(1));
        post(q1, cq, ibv_wr_opcode::IBV_WR_RDMA_READ, none, &la, 400000, 4096, &rb, 300000, 0, 0, "READ");
        if la.slice(400000, 4096).iter().any(|&b| b != c.wrapping_add(1)) {
            die!("READ data mismatch (iter {it})");
        }
        // FETCH_ADD +3 on rb[512K]; old value lands in la[512K]
        post(q1, cq, ibv_wr_opcode::IBV_WR_ATOMIC_FETCH_AND_ADD, none, &la, 524288, 8, &rb, 524288, 3, 0, "FETCH_ADD");
        if la.u64_at(524288) != it * 3 {
            die!("FETCH_ADD old value {} != {}", la.u64_at(524288), it * 3);
        }
        // CMP_SWP rb[512K+8]: it -> it+1 (succeeds), then a failing compare
        post(q1, cq, ibv_wr_opcode::IBV_WR_ATOMIC_CMP_AND_SWP, none, &la, 524296, 8, &rb, 524296, it, it + 1, "CMP_SWP");
        if la.u64_at(524296) != it {
            die!("CMP_SWP old value {} != {it}", la.u64_at(524296));
        }
        post(q2, cq, ibv_wr_opcode::IBV_WR_ATOMIC_CMP_AND_SWP, none, &rb, 524304, 8, &rb, 524296, 999_999, 0, "CMP_SWP (miss)");
        if rb.u64_at(524304) != it + 1 || rb.u64_at(524296) != it + 1 {
            die!("failed CMP_SWP changed the target or returned a wrong value");
        }
    }
    if rb.u64_at(524288) != iters * 3 {
        die!("final FETCH_ADD value {}", rb.u64_at(524288));
    }
    let us = t0.elapsed().as_secs_f64() * 1e6 / (iters as f64 * 6.0);
    println!("OK classic API: {iters} x (WRITE 64K, WRITE inline 64B, READ 4K, FETCH_ADD, CMP_SWP hit+miss) verified, {us:.1} us/op avg");

    // batch: 32 unsignalled inline 8-byte writes + 1 signalled, one ibv_post_send call with a chain
    {
        let k = 32usize;
        let mut sges: Vec<ibv_sge> = (0..k).map(|i| ibv_sge { addr: la.addr(600000 + 8 * i), length: 8, lkey: la.lkey() }).collect();
        let mut wrs: Vec<ibv_send_wr> = (0..k).map(|_| zeroed()).collect();
        for i in 0..k {
            la.set_u64(600000 + 8 * i, 0xABCD_0000 + i as u64);
            let next: *mut ibv_send_wr = if i + 1 < k { &mut wrs[i + 1] } else { null_mut() };
            let w = &mut wrs[i];
            w.wr_id = i as u64;
            w.next = next;
            w.sg_list = &mut sges[i];
            w.num_sge = 1;
            w.opcode = ibv_wr_opcode::IBV_WR_RDMA_WRITE;
            w.send_flags = if i + 1 == k {
                (ibv_send_flags::IBV_SEND_INLINE | ibv_send_flags::IBV_SEND_SIGNALED).0
            } else {
                ibv_send_flags::IBV_SEND_INLINE.0
            };
            w.wr.rdma = rdma_t { remote_addr: rb.addr(700000 + 8 * i), rkey: rb.rkey() };
        }
        let mut bad = null_mut();
        let rc = ibv_post_send(q1, wrs.as_mut_ptr(), &mut bad);
        if rc != 0 {
            die!("chained post_send: {rc}");
        }
        let wc = poll_one(cq, "chained inline writes");
        if wc.wr_id != (k - 1) as u64 {
            die!("chain: wrong wr_id {}", wc.wr_id);
        }
        for i in 0..k {
            if rb.u64_at(700000 + 8 * i) != 0xABCD_0000 + i as u64 {
                die!("chained inline write {i} mismatch");
            }
        }
        println!("OK chained post: {k} inline WRITEs in one ibv_post_send, 1 signalled completion");
    }

    // extended API, then an error completion (READ with a bad rkey)
    ext_api(ctx, pd, &la, &rb, gid, gidx, pa.active_mtu);

    // QPs, MRs, CQ, PD, context and device list are freed by their owners' Drop.
    drop((q1_o, q2_o, la, rb, cq_o, pd_o, ctx_o, list));
    println!("rdma-probe: ALL OK");
}

/// Extended verbs: ibv_create_qp_ex with send_ops_flags + ibv_qp_to_qp_ex + ibv_wr_* builders,
/// ibv_create_cq_ex + ibv_start_poll/ibv_next_poll/ibv_end_poll.
unsafe fn ext_api(ctx: *mut ibv_context, pd: *mut ibv_pd, la: &Mr, rb: &Mr, gid: ibv_gid, gidx: u8, mtu: ibv_mtu::Type) {
    let mut cqa: ibv_cq_init_attr_ex = zeroed();
    cqa.cqe = 64;
    cqa.wc_flags = (ibv_create_cq_wc_flags::IBV_WC_EX_WITH_BYTE_LEN | ibv_create_cq_wc_flags::IBV_WC_EX_WITH_QP_NUM).0 as u64;
    match ibv_create_cq_ex(ctx, &mut cqa) {
        Some(p) if !p.is_null() => println!("  rdma-sys ibv_create_cq_ex: works"),
        _ => println!("  rdma-sys ibv_create_cq_ex: fails ({}) -> using fixed::create_cq_ex", errno()),
    }
    let cqx = fixed::create_cq_ex(ctx, &mut cqa);
    if cqx.is_null() {
        println!("  extended API: create_cq_ex not supported ({}): skipped", errno());
        return;
    }
    let cq = ibv_cq_ex_to_cq(cqx);
    let mk = || {
        let mut qa: ibv_qp_init_attr_ex = zeroed();
        qa.send_cq = cq;
        qa.recv_cq = cq;
        qa.qp_type = ibv_qp_type::IBV_QPT_RC;
        qa.cap = ibv_qp_cap { max_send_wr: 64, max_recv_wr: 16, max_send_sge: 1, max_recv_sge: 1, max_inline_data: 64 };
        qa.comp_mask = (ibv_qp_init_attr_mask::IBV_QP_INIT_ATTR_PD | ibv_qp_init_attr_mask::IBV_QP_INIT_ATTR_SEND_OPS_FLAGS).0;
        qa.pd = pd;
        qa.send_ops_flags = (ibv_qp_create_send_ops_flags::IBV_QP_EX_WITH_RDMA_WRITE
            | ibv_qp_create_send_ops_flags::IBV_QP_EX_WITH_RDMA_READ
            | ibv_qp_create_send_ops_flags::IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD
            | ibv_qp_create_send_ops_flags::IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP)
            .0 as u64;
        fixed::create_qp_ex(ctx, &mut qa)
    };
    let (q1, q2) = match (mk(), mk()) {
        (a, b) if !a.is_null() && !b.is_null() => (a, b),
        _ => {
            println!("  extended API: ibv_create_qp_ex with send_ops_flags failed ({}): skipped", errno());
            return;
        }
    };
    connect(q1, (*q2).qp_num, gid, gidx, mtu);
    connect(q2, (*q1).qp_num, gid, gidx, mtu);
    let qx = NonNull::new(ibv_qp_to_qp_ex(q1)).unwrap_or_else(|| die!("ibv_qp_to_qp_ex")).as_ptr();

    let wait = |what: &str| {
        let mut pa: ibv_poll_cq_attr = zeroed();
        let t0 = Instant::now();
        loop {
            let rc = ibv_start_poll(cqx, &mut pa);
            if rc == 0 {
                break;
            }
            if rc != libc::ENOENT {
                die!("ibv_start_poll: {rc}");
            }
            if t0.elapsed() > Duration::from_secs(20) {
                die!("cq_ex timeout ({what})");
            }
        }
        let st = (*cqx).status;
        let id = (*cqx).wr_id;
        ibv_end_poll(cqx);
        if st != ibv_wc_status::IBV_WC_SUCCESS {
            die!("{what}: status {}", wc_status(st));
        }
        id
    };

    for it in 0..50u64 {
        let c = 0x30 + (it % 40) as u8;
        la.slice(800000, 256).fill(c);
        ibv_wr_start(qx);
        (*qx).wr_id = 1;
        (*qx).wr_flags = ibv_send_flags::IBV_SEND_SIGNALED.0;
        ibv_wr_rdma_write(qx, rb.rkey(), rb.addr(810000));
        ibv_wr_set_sge(qx, la.lkey(), la.addr(800000), 256);
        let rc = ibv_wr_complete(qx);
        if rc != 0 {
            die!("ibv_wr_complete: {rc}");
        }
        wait("ex WRITE");
        if rb.slice(810000, 256).iter().any(|&b| b != c) {
            die!("ex WRITE mismatch");
        }
        // inline write
        let mut src = [c ^ 0x55; 16];
        ibv_wr_start(qx);
        (*qx).wr_id = 2;
        (*qx).wr_flags = (ibv_send_flags::IBV_SEND_SIGNALED | ibv_send_flags::IBV_SEND_INLINE).0;
        ibv_wr_rdma_write(qx, rb.rkey(), rb.addr(820000));
        ibv_wr_set_inline_data(qx, src.as_mut_ptr() as *mut c_void, 16);
        if ibv_wr_complete(qx) != 0 {
            die!("ibv_wr_complete inline");
        }
        wait("ex WRITE inline");
        if rb.slice(820000, 16).iter().any(|&b| b != c ^ 0x55) {
            die!("ex inline WRITE mismatch");
        }
        // fetch-add
        ibv_wr_start(qx);
        (*qx).wr_id = 3;
        (*qx).wr_flags = ibv_send_flags::IBV_SEND_SIGNALED.0;
        ibv_wr_atomic_fetch_add(qx, rb.rkey(), rb.addr(830000), 5);
        ibv_wr_set_sge(qx, la.lkey(), la.addr(830000), 8);
        if ibv_wr_complete(qx) != 0 {
            die!("ibv_wr_complete fadd");
        }
        wait("ex FETCH_ADD");
        if la.u64_at(830000) != it * 5 {
            die!("ex FETCH_ADD old {} != {}", la.u64_at(830000), it * 5);
        }
        // cmp-swap
        ibv_wr_start(qx);
        (*qx).wr_id = 4;
        (*qx).wr_flags = ibv_send_flags::IBV_SEND_SIGNALED.0;
        ibv_wr_atomic_cmp_swp(qx, rb.rkey(), rb.addr(830008), it, it + 1);
        ibv_wr_set_sge(qx, la.lkey(), la.addr(830008), 8);
        if ibv_wr_complete(qx) != 0 {
            die!("ibv_wr_complete cswap");
        }
        wait("ex CMP_SWP");
        if la.u64_at(830008) != it || rb.u64_at(830008) != it + 1 {
            die!("ex CMP_SWP mismatch");
        }
        // read
        rb.slice(840000, 128).fill(c.wrapping_add(7));
        ibv_wr_start(qx);
        (*qx).wr_id = 5;
        (*qx).wr_flags = ibv_send_flags::IBV_SEND_SIGNALED.0;
        ibv_wr_rdma_read(qx, rb.rkey(), rb.addr(840000));
        ibv_wr_set_sge(qx, la.lkey(), la.addr(850000), 128);
        if ibv_wr_complete(qx) != 0 {
            die!("ibv_wr_complete read");
        }
        wait("ex READ");
        if la.slice(850000, 128).iter().any(|&b| b != c.wrapping_add(7)) {
            die!("ex READ mismatch");
        }
    }
    println!("OK extended API (ibv_qp_ex/ibv_wr_*, ibv_cq_ex/ibv_start_poll): 50 x (WRITE, WRITE inline, FETCH_ADD, CMP_SWP, READ) verified");

    // error completion: READ with a wrong rkey -> IBV_WC_REM_ACCESS_ERR, QP to error
    ibv_wr_start(qx);
    (*qx).wr_id = 99;
    (*qx).wr_flags = ibv_send_flags::IBV_SEND_SIGNALED.0;
    ibv_wr_rdma_read(qx, rb.rkey() ^ 0x5a5a00, rb.addr(0));
    ibv_wr_set_sge(qx, la.lkey(), la.addr(0), 8);
    ibv_wr_complete(qx);
    let mut pa: ibv_poll_cq_attr = zeroed();
    let t0 = Instant::now();
    while ibv_start_poll(cqx, &mut pa) != 0 {
        if t0.elapsed() > Duration::from_secs(30) {
            die!("no completion for bad-rkey READ");
        }
    }
    let st = (*cqx).status;
    ibv_end_poll(cqx);
    println!("  bad-rkey READ completed with status {} ({st}) after {:?}", wc_status(st), t0.elapsed());

    ibv_destroy_qp(q1);
    ibv_destroy_qp(q2);
    ibv_destroy_cq(cq);
}
