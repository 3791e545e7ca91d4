//! Device, port and GID choice: `RSHMEM_DEVICE` / `RSHMEM_GID_INDEX` ([`DeviceSpec`]), the
//! open device with the facts fixed at open ([`Dev`]: context, PD, CQ, port, GID, MTU,
//! limits), and the device listing for `rshmem-info` ([`list_devices`]).
use super::obj::{Context, Cq, DeviceList, Pd};
use super::{err, VerbsError, CHUNK, SQ_DEPTH};
use rdma_sys::*;
use std::os::raw::c_int;
use std::sync::Arc;

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
        if let Some(v) = crate::env::text(&crate::env::RSHMEM_DEVICE) {
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
        s.gid_index = crate::env::int(&crate::env::RSHMEM_GID_INDEX)
            .map(|i| i.map(|i| i as u32)) // at most 65535 (the entry's range)
            .map_err(|e| VerbsError(format!("{e}; a GID table index (see `ibv_devinfo -v`)")))?;
        Ok(s)
    }
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
    let list = DeviceList::get().map_err(|e| {
        VerbsError(if e.raw_os_error() == Some(libc::ENOSYS) {
            "ibv_get_device_list: the kernel offers no RDMA verbs (ENOSYS: no RDMA driver or ib_uverbs loaded)".to_string()
        } else {
            format!("ibv_get_device_list failed: {e}")
        })
    })?;
    let mut out = Vec::new();
    for i in 0..list.len() {
        let mut info = DeviceInfo {
            name: list.name(i),
            ports: Vec::new(),
            error: None,
        };
        let ctx = match list.open(i) {
            Ok(c) => c,
            Err(e) => {
                info.error = Some(format!("ibv_open_device failed: {e}"));
                out.push(info);
                continue;
            }
        };
        match ctx.query_device() {
            Err(e) => info.error = Some(format!("ibv_query_device failed: {e}")),
            Ok(da) => {
                for p in 1..=da.phys_port_cnt {
                    info.ports.push(match ctx.query_port(p) {
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
                            error: Some(format!("ibv_query_port failed: {}", super::errno())),
                        },
                    });
                }
            }
        }
        out.push(info);
    }
    Ok(out)
}

pub(super) fn port_state_name(s: u32) -> &'static str {
    match s {
        1 => "DOWN",
        2 => "INIT",
        3 => "ARMED",
        4 => "ACTIVE",
        5 => "ACTIVE_DEFER",
        _ => "NOP",
    }
}

pub(super) fn mtu_bytes(m: u32) -> u32 {
    if (1..=5).contains(&m) {
        128 << m
    } else {
        0
    }
}

/// An InfiniBand port is only addressable once a subnet manager gave it a LID.
pub(super) fn check_lid(eth: bool, lid: u16) -> Result<(), String> {
    if !eth && lid == 0 {
        return Err(
            "the InfiniBand port has LID 0: no subnet manager has configured it (start \
                    opensm on the fabric, or pick another port with RSHMEM_DEVICE=name:port)"
                .into(),
        );
    }
    Ok(())
}

fn gid_v4_mapped(raw: &[u8; 16]) -> bool {
    raw[..10].iter().all(|&b| b == 0) && raw[10] == 0xff && raw[11] == 0xff
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

/// The RoCE v2 GID with an IPv4-mapped address, else any RoCE v2 GID, else 0.
fn pick_gid(ctx: &Context, port: u8, table: i32) -> u32 {
    let mut any_v2 = None;
    for i in 0..table.clamp(0, 256) as u32 {
        let Some(e) = ctx.gid_entry(port, i) else {
            continue; // ENODATA: empty slot
        };
        if e.gid_type == IBV_GID_TYPE_ROCE_V2 {
            // SAFETY: every bit pattern of the GID union is a valid byte array.
            if gid_v4_mapped(unsafe { &e.gid.raw }) {
                return i;
            }
            any_v2.get_or_insert(i);
        }
    }
    any_v2.unwrap_or(0)
}

/// Most entries a CQ gets, whatever the job size: 2 MiB of 64-byte completions.
pub(super) const CQ_CAP: u64 = 32768;

/// Send-queue depth of every QP of a job whose PEs may each hold `nqps` QPs on one CQ
/// (N peers and the loopback pair): [`SQ_DEPTH`], less when `nqps` of them would not fit
/// [`CQ_CAP`], never below 16.
pub(super) fn sq_depth(nqps: usize) -> u64 {
    SQ_DEPTH.min(CQ_CAP / nqps.max(1) as u64).max(16)
}

/// Entries of a CQ for `nqps` QPs of `depth` send WRs: all of their requests could
/// complete at once (a QP in error flushes every one), up to [`CQ_CAP`] and the device's
/// `max_cqe`, at least 64. Bounded in the job size: a CQ costs at most 2 MiB per channel
/// at any N, where `nqps * SQ_DEPTH` (the sizing before) reached the device's maximum (4M
/// entries, 256 MiB, on mlx5) from about 16k PEs. Past `CQ_CAP / 16` connected QPs on one
/// channel (2,048) the CQ is overcommitted: only a flush of more than that many full queues
/// at once, when the job is ending anyway, could overrun it.
pub(super) fn cq_entries(nqps: usize, depth: u64, max_cqe: c_int) -> c_int {
    (nqps as u64 * depth)
        .min(CQ_CAP)
        .clamp(64, max_cqe.max(64) as u64) as c_int
}

/// Device facts fixed at open, and the objects every QP shares (they hold the context).
pub(super) struct Dev {
    /// The open device (the channels create their CQs on it).
    pub ctx: Arc<Context>,
    pub pd: Arc<Pd>,
    pub cq: Arc<Cq>,
    /// Entries of `cq` (and of every channel's CQ).
    pub cqe: c_int,
    pub name: String,
    pub port: u8,
    pub gid_index: u8,
    pub gid: [u8; 16],
    pub lid: u16,
    pub eth: bool,
    pub mtu: u32,
    pub max_msg: usize,
    pub rd_atom: u8,
    pub dest_rd_atom: u8,
    pub atomic_cap: &'static str,
}

/// Opens the device and port chosen by `spec`, with a CQ sized for `nqps` QPs.
pub(super) fn open(spec: &DeviceSpec, nqps: usize) -> Result<Dev, VerbsError> {
    let list = match DeviceList::get() {
        Ok(l) if !l.is_empty() => l,
        _ => {
            return err(
                "no RDMA device found (ibv_get_device_list lists none: no RDMA NIC, or its driver is not loaded; \
                 `ibv_devices` shows them, Soft-RoCE is `rdma link add rxe0 type rxe netdev <if>`). \
                 Use RSHMEM_TRANSPORT=shm (or auto) for jobs on one node",
            )
        }
    };
    let devs: Vec<(usize, String)> = (0..list.len()).map(|i| (i, list.name(i))).collect();
    let names: Vec<&str> = devs.iter().map(|(_, s)| s.as_str()).collect();
    let names = names.join(", ");
    let candidates: Vec<_> = match &spec.name {
        Some(want) => match devs.iter().find(|(_, s)| s == want) {
            Some(d) => vec![d.clone()],
            None => {
                return err(format!(
                    "RDMA device {want:?} (RSHMEM_DEVICE) not found; the devices here are: {names}"
                ));
            }
        },
        None => devs.clone(),
    };
    let mut chosen = None;
    let mut why = Vec::new();
    for (i, name) in &candidates {
        let ctx = match list.open(*i) {
            Ok(c) => c,
            Err(e) => {
                why.push(format!("{name}: ibv_open_device failed: {e}"));
                continue;
            }
        };
        let da = match ctx.query_device() {
            Ok(da) => da,
            Err(e) => {
                why.push(format!("{name}: ibv_query_device failed: {e}"));
                continue; // drops (closes) the context
            }
        };
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
            match ctx.query_port(p) {
                Some(pa) if pa.state == ibv_port_state::IBV_PORT_ACTIVE => {
                    chosen = Some((ctx.clone(), name.clone(), p, pa, da));
                    break;
                }
                Some(pa) => why.push(format!(
                    "port {p} of {name} is {} (not ACTIVE: check the link/cable, `ibv_devinfo`)",
                    port_state_name(pa.state)
                )),
                None => why.push(format!(
                    "{name}: ibv_query_port({p}) failed: {}",
                    super::errno()
                )),
            }
        }
        if chosen.is_some() {
            break;
        }
    }
    drop(list);
    let Some((ctx, name, port, pa, da)) = chosen else {
        return err(format!("no usable RDMA port: {}", why.join("; ")));
    };
    // (an error return drops `ctx`, which closes the device)
    let fail = |msg: String| -> Result<Dev, VerbsError> { err(format!("{name}:{port}: {msg}")) };
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
        None if eth => pick_gid(&ctx, port, pa.gid_tbl_len),
        None => 0,
    };
    let gid = match ctx.query_gid(port, gid_index) {
        Ok(g) => g,
        Err(e) => return fail(format!("ibv_query_gid({gid_index}) failed: {e}")),
    };
    if eth && gid.iter().all(|&b| b == 0) {
        return fail(format!(
            "GID index {gid_index} is empty (set RSHMEM_GID_INDEX)"
        ));
    }
    let pd = match Pd::alloc(&ctx) {
        Ok(pd) => pd,
        Err(e) => return fail(format!("ibv_alloc_pd failed: {e}")),
    };
    let cqe = cq_entries(nqps, sq_depth(nqps), da.max_cqe);
    let cq = match Cq::create(&ctx, cqe) {
        Ok(cq) => cq,
        Err(e) => return fail(format!("ibv_create_cq({cqe}) failed: {e}")),
    };
    Ok(Dev {
        ctx,
        pd,
        cq,
        cqe,
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

#[cfg(test)]
mod tests {

    #[test]
    fn cq_size_is_bounded_in_the_job_size() {
        // Small jobs: as before, every QP's whole send queue.
        assert_eq!(sq_depth(17), SQ_DEPTH);
        assert_eq!(
            cq_entries(17, sq_depth(17), 4_194_303),
            17 * SQ_DEPTH as c_int
        );
        // At any size: at most CQ_CAP entries (mlx5 allows 4M: 256 MiB before, at 16k PEs).
        for n in [129usize, 2_049, 16_385, 100_001, 1_000_001] {
            let d = sq_depth(n);
            assert!((16..=SQ_DEPTH).contains(&d), "{n}: depth {d}");
            let e = cq_entries(n, d, 4_194_303);
            assert!(e as u64 <= CQ_CAP && e >= 64, "{n}: {e} entries");
        }
        // The device's own limit wins, and a CQ has at least 64 entries.
        assert_eq!(cq_entries(1000, 32, 1024), 1024);
        assert_eq!(cq_entries(1, 16, 0), 64);
    }
    use super::*;

    #[test]
    fn infiniband_needs_a_lid() {
        assert!(check_lid(false, 0x1a).is_ok());
        assert!(check_lid(true, 0).is_ok());
        let e = check_lid(false, 0).unwrap_err();
        assert!(e.contains("LID 0") && e.contains("subnet manager"), "{e}");
    }
}
