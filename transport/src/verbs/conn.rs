//! Connection: RC queue pair creation, the connection record each PE publishes
//! ([`VerbsCtx::record`]) and reads back ([`VerbsCtx::connect`]), the address vector, and
//! the INIT → RTR → RTS transitions (with the ACK timeout knob `RSHMEM_VERBS_TIMEOUT`).
use super::device::Dev;
use super::obj::{full_access, Qp};
use super::{err, VerbsCtx, VerbsError, WANT_INLINE};
use rdma_sys::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// RC queue pairs this process has created (the loopback pair included), for
/// [`VerbsCtx::stats`]: the measure of what connections cost a PE.
pub(super) static QPS_CREATED: AtomicUsize = AtomicUsize::new(0);

/// Default local ACK timeout exponent: 4.096 us * 2^18 = 1.07 s before a request is sent
/// again (UCX's default RC timeout is 1 s). Shorter timeouts retransmit spuriously when a
/// peer is descheduled for a moment (oversubscribed nodes, VMs), and Soft-RoCE (rxe,
/// kernel 6.1) was seen to stall a QP for good after such a retransmission: two VMs
/// running the C collectives test with 67 ms (exponent 14) hung on their first retry.
pub const ACK_TIMEOUT: u8 = 18;

/// The ACK timeout exponent: `RSHMEM_VERBS_TIMEOUT` (1..=31), else [`ACK_TIMEOUT`].
fn ack_timeout() -> Result<u8, VerbsError> {
    parse_timeout(crate::env::text(&crate::env::RSHMEM_VERBS_TIMEOUT).as_deref())
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

/// An RC QP on `dev` completing on `cq`, with `depth` send requests; returns it and its
/// inline size (the largest of 256, 64 and 0 bytes the device grants).
pub(super) fn create_qp(
    dev: &Dev,
    cq: &std::sync::Arc<super::obj::Cq>,
    depth: u64,
) -> Result<(Qp, u32), VerbsError> {
    let mut last = None;
    for inline in [WANT_INLINE, 64, 0] {
        // SAFETY: a plain C struct, all-zero is valid; the fields used are set below.
        let mut qia: ibv_qp_init_attr = unsafe { core::mem::zeroed() };
        qia.qp_type = ibv_qp_type::IBV_QPT_RC;
        qia.sq_sig_all = 0;
        qia.cap = ibv_qp_cap {
            max_send_wr: depth as u32,
            max_recv_wr: 1,
            max_send_sge: 1,
            max_recv_sge: 1,
            max_inline_data: inline,
        };
        match Qp::create(&dev.pd, cq, &mut qia) {
            Ok(qp) => {
                QPS_CREATED.fetch_add(1, Ordering::Relaxed);
                return Ok((qp, qia.cap.max_inline_data));
            }
            Err(e) => last = Some(e),
        }
    }
    err(format!(
        "ibv_create_qp (RC, {depth} send WRs) on {} failed: {}",
        dev.name,
        last.expect("tried at least once")
    ))
}

/// The peer side of one connection.
#[derive(Clone, Copy, Debug)]
pub(super) struct Peer {
    pub qpn: u32,
    pub gid: [u8; 16],
    pub lid: u16,
    /// Path MTU (the smaller of both ends).
    pub mtu: u32,
    /// The peer's send PSN (our receive PSN).
    pub psn: u32,
}

/// INIT → RTR → RTS of `qp` (towards PE `pe`) to `peer`, sending from PSN `psn`.
pub(super) fn connect_qp(
    dev: &Dev,
    qp: &Qp,
    pe: usize,
    peer: &Peer,
    psn: u32,
) -> Result<(), VerbsError> {
    let step = |what: &str, r: std::io::Result<()>| {
        r.or_else(|e| {
            err(format!(
                "queue pair transition to {what} for PE {pe} failed on {}:{}: {e}",
                dev.name, dev.port,
            ))
        })
    };
    // SAFETY: a plain C struct, all-zero is valid; the masked fields are set below.
    let mut a: ibv_qp_attr = unsafe { core::mem::zeroed() };
    a.qp_state = ibv_qp_state::IBV_QPS_INIT;
    a.pkey_index = 0;
    a.port_num = dev.port;
    a.qp_access_flags = full_access().0;
    let m = ibv_qp_attr_mask::IBV_QP_STATE
        | ibv_qp_attr_mask::IBV_QP_PKEY_INDEX
        | ibv_qp_attr_mask::IBV_QP_PORT
        | ibv_qp_attr_mask::IBV_QP_ACCESS_FLAGS;
    step("INIT", qp.modify(&mut a, m))?;

    // SAFETY: as above.
    let mut a: ibv_qp_attr = unsafe { core::mem::zeroed() };
    a.qp_state = ibv_qp_state::IBV_QPS_RTR;
    a.path_mtu = peer.mtu;
    a.dest_qp_num = peer.qpn;
    a.rq_psn = peer.psn;
    a.max_dest_rd_atomic = dev.dest_rd_atom;
    a.min_rnr_timer = 12;
    a.ah_attr = address(dev.eth, dev.port, dev.gid_index, peer.lid, peer.gid);
    let m = ibv_qp_attr_mask::IBV_QP_STATE
        | ibv_qp_attr_mask::IBV_QP_AV
        | ibv_qp_attr_mask::IBV_QP_PATH_MTU
        | ibv_qp_attr_mask::IBV_QP_DEST_QPN
        | ibv_qp_attr_mask::IBV_QP_RQ_PSN
        | ibv_qp_attr_mask::IBV_QP_MAX_DEST_RD_ATOMIC
        | ibv_qp_attr_mask::IBV_QP_MIN_RNR_TIMER;
    step("RTR", qp.modify(&mut a, m))?;

    // SAFETY: as above.
    let mut a: ibv_qp_attr = unsafe { core::mem::zeroed() };
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
    step("RTS", qp.modify(&mut a, m))
}

/// Little-endian record reader.
pub(super) struct Rd<'a>(pub &'a [u8]);
impl Rd<'_> {
    pub fn take<const N: usize>(&mut self) -> Result<[u8; N], VerbsError> {
        if self.0.len() < N {
            return err("corrupt connection record in the key-value store");
        }
        let (a, b) = self.0.split_at(N);
        self.0 = b;
        Ok(a.try_into().expect("length checked"))
    }
    pub fn u32(&mut self) -> Result<u32, VerbsError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    pub fn u64(&mut self) -> Result<u64, VerbsError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
}

impl VerbsCtx {
    /// This PE's connection record: address (LID, GID, MTU), PSN, the QPN it uses for each
    /// peer, the base of segment 0 and the rkeys of its registered chunks.
    pub fn record(&self) -> Vec<u8> {
        let st = &*self.sh;
        let mut v = Vec::new();
        v.extend_from_slice(&(st.dev.lid as u32).to_le_bytes());
        v.extend_from_slice(&st.dev.mtu.to_le_bytes());
        v.extend_from_slice(&st.dev.gid);
        v.extend_from_slice(&st.psn.to_le_bytes());
        v.extend_from_slice(&(st.seg_base as u64).to_le_bytes());
        let (db, dl, dk) = st
            .data
            .as_ref()
            .map_or((0, 0, 0), |(b, l, mr)| (*b as u64, *l as u64, mr.rkey()));
        v.extend_from_slice(&db.to_le_bytes());
        v.extend_from_slice(&dl.to_le_bytes());
        v.extend_from_slice(&dk.to_le_bytes());
        match &st.cm {
            // The connection service and its key (connections are made on demand).
            Some(cm) => {
                v.extend_from_slice(&1u32.to_le_bytes());
                v.extend_from_slice(&cm.ip);
                v.extend_from_slice(&(cm.port as u32).to_le_bytes());
                v.extend_from_slice(&st.key);
            }
            // A full mesh: the number of our QP to each PE.
            None => {
                v.extend_from_slice(&0u32.to_le_bytes());
                v.extend_from_slice(&(self.npes as u32).to_le_bytes());
                self.ch0(|c| {
                    for q in &c.qps {
                        let qp = q.qp.as_ref().expect("a full mesh creates every QP at open");
                        v.extend_from_slice(&qp.num().to_le_bytes());
                    }
                });
            }
        }
        v.extend_from_slice(&self.lock().key_record(0));
        v
    }

    /// Reads the records of PEs (indexed by PE, ours included; an empty record is a peer
    /// not read yet, allowed only on demand): their addresses and keys; connects the
    /// loopback pair (and, in a full mesh, every QP).
    pub fn connect(&self, records: &[Vec<u8>]) -> Result<(), VerbsError> {
        let mut st = self.lock();
        for (pe, rec) in records.iter().enumerate() {
            if rec.is_empty() && pe != st.me && st.cm.is_some() {
                continue;
            }
            self.install(&mut st, pe, rec, records.len())?;
        }
        Ok(())
    }

    /// How many PEs' init records are installed (this PE's included): on demand, the PEs
    /// it maps and those it has talked to; in a full mesh, all.
    pub fn records_known(&self) -> usize {
        self.lock()
            .known
            .iter()
            .filter(|k| k.load(std::sync::atomic::Ordering::Acquire))
            .count()
    }

    /// On demand: installs the record of `pe`, read on first use; returns the bases of its
    /// segments 0 and 1 (1: 0 when it has none). A record already installed is kept.
    pub fn add_peer(&self, pe: usize, rec: &[u8]) -> Result<(usize, usize), VerbsError> {
        let mut st = self.lock();
        if !st.known[pe].load(std::sync::atomic::Ordering::Acquire) {
            self.install(&mut st, pe, rec, self.npes)?;
        }
        Ok((st.remote[pe].base as usize, st.remote[pe].data.0 as usize))
    }
}

impl VerbsCtx {
    /// Parses and installs PE `pe`'s init record (`npes` PEs in the job) into the owners'
    /// tables (`st`, locked by the caller); its own record (the loopback pair) and, in a
    /// full mesh, every record also connects channel 0's QP (at init: lock order `st`,
    /// then channel 0).
    fn install(
        &self,
        st: &mut super::State,
        pe: usize,
        rec: &[u8],
        npes: usize,
    ) -> Result<(), VerbsError> {
        let me = st.me;
        {
            let records_len = npes;
            let mut r = Rd(rec);
            let lid = r.u32()? as u16;
            let mtu = r.u32()?;
            let gid: [u8; 16] = r.take()?;
            let psn = r.u32()?;
            let base = r.u64()?;
            let data = (r.u64()?, r.u64()? as usize, r.u32()?);
            let on_demand = r.u32()? == 1;
            if on_demand != st.cm.is_some() {
                let how = |d: bool| if d { "on demand" } else { "in a full mesh" };
                return err(format!(
                    "PE {pe} connects {} but PE {me} {}: set RSHMEM_VERBS_CONNECT the same way \
                     on every PE (on demand needs an IPv4 RoCE GID on every node)",
                    how(on_demand),
                    how(!on_demand)
                ));
            }
            let (mut ip, mut port, mut key) = ([0u8; 4], 0u16, [0u8; super::cm::KEY]);
            let mut qpn = 0;
            if on_demand {
                ip = r.take()?;
                port = r.u32()? as u16;
                key = r.take()?;
            } else {
                let n = r.u32()? as usize;
                if n != records_len {
                    return err(format!(
                        "PE {pe} has {n} queue pairs, expected {records_len}"
                    ));
                }
                for i in 0..n {
                    let q = r.u32()?;
                    if i == me {
                        qpn = q;
                    }
                }
            }
            st.remote[pe].set_bases(base, data);
            st.set_keys(pe, r.0)?;
            st.addrs.lock().unwrap_or_else(|e| e.into_inner())[pe] = super::cm::Addr {
                gid,
                lid,
                mtu,
                psn,
                ip,
                port,
                key,
            };
            if pe == me {
                // The loopback pair: qps[me] and the responder, each the other's peer.
                // Every other QP is created on the first post to its peer (cm.rs).
                let b = &st.resp;
                let mut peer = Peer {
                    qpn: b.num(),
                    gid,
                    lid,
                    mtu: mtu.min(st.dev.mtu),
                    psn,
                };
                self.ch0(|c| {
                    let a = c.qps[me]
                        .qp
                        .as_ref()
                        .expect("the loopback QP exists from open");
                    connect_qp(&st.dev, a, pe, &peer, psn)?;
                    peer.qpn = a.num();
                    connect_qp(&st.dev, b, pe, &peer, psn)
                })?;
            } else if !on_demand {
                let peer = Peer {
                    qpn,
                    gid,
                    lid,
                    mtu: mtu.min(st.dev.mtu),
                    psn,
                };
                self.ch0(|c| {
                    let qp = c.qps[pe]
                        .qp
                        .as_ref()
                        .expect("a full mesh creates every QP at open");
                    connect_qp(&st.dev, qp, pe, &peer, st.psn)
                })?;
            }
        }
        st.known[pe].store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
    }
}
