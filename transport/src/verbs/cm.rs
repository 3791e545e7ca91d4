//! Connections on demand (issue 14.2) through librdmacm: a PE creates its RC QP to a peer
//! the first time it posts to it ([`Channel::connect_peer`]), and asks the peer's connection
//! service for the other end. The service ([`Service`]) is a thread per PE that sleeps in
//! `poll` on its rdma_cm event channel (no polling loop, no cost when idle) and answers a
//! connect request by creating a QP for the requester, moving it to RTS and accepting;
//! it never takes the transport's lock (the requester holds its own while it waits, so two
//! PEs connecting to each other at once would otherwise deadlock). rdma_cm carries only
//! the QP numbers and PSNs (private data); the QPs are ours, moved with [`connect_qp`]
//! exactly as at init, and the CM identifiers are destroyed once the pair is up.
//!
//! Trust: the service listens on the RDMA port's IP address, where anyone on that network
//! can send it a connect request. Each PE draws a 32-byte key at open and publishes it in
//! its init record (through the bootstrap's KVS, which only the job's PEs can read). A
//! request carries an HMAC-SHA256 (truncated to 16 bytes) under the *target's* key over
//! the target PE and every field of the request; the reply one over both ends' PEs and QP
//! numbers. A request that is short, names a PE outside the job or this PE itself, or
//! fails the MAC is rejected before any QP is made, and the job goes on (one line on
//! stderr for the first few). At most [`MAX_PER_PEER`] QPs are ever accepted per peer, so
//! a replayed request cannot exhaust the device's QPs either.
use super::conn::{connect_qp, create_qp, Peer};
use super::device::Dev;
use super::obj::Qp;
use super::{err, Channel, VerbsError};
use rdma_sys::*;
use std::ptr::null_mut;
use std::sync::{Arc, Mutex};

/// What the service needs to know about a peer before it talks to it: the address of its
/// port and of its connection service (from the peer's init record).
#[derive(Clone, Copy, Default)]
pub(super) struct Addr {
    pub gid: [u8; 16],
    pub lid: u16,
    pub mtu: u32,
    /// The peer's send PSN (our receive PSN on the pair).
    pub psn: u32,
    /// IPv4 address and port of the peer's connection service.
    pub ip: [u8; 4],
    pub port: u16,
    /// The peer's service key: requests to it are authenticated with it.
    pub key: [u8; KEY],
}

/// Bytes of a service key.
pub(super) const KEY: usize = 32;
/// Bytes of a (truncated) MAC.
const MAC: usize = 16;
/// Signed part of a connect request: PE (4), QPN (4), PSN (4), LID (2), MTU (2), GID (16),
/// channel (4: 0 for the default context, else the requester's context channel).
const REQ_BODY: usize = 36;
/// Connect request: the body, then the MAC (52 bytes; rdma_cm allows 56 in a request).
const REQ_LEN: usize = REQ_BODY + MAC;
const _: () = assert!(REQ_LEN <= 56);
/// Reply: QPN (4), then the MAC.
const REP_LEN: usize = 4 + MAC;
/// Default-context (channel 0) QPs accepted for one peer at most (the first, and crossing
/// or repeated requests). A request for another channel replaces the QP held for that
/// peer and channel (channel numbers are reused only after the requester destroyed the
/// channel), so a peer holds at most one QP here per live channel of its own.
const MAX_PER_PEER: usize = 4;
/// Rejected requests reported on stderr, at most.
const REPORT_REJECTS: usize = 8;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn hmac_of(key: &[u8; KEY], label: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    use hmac::Mac;
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(label);
    for p in parts {
        m.update(p);
    }
    m
}

/// The truncated MAC of `parts` under `key`.
fn mac(key: &[u8; KEY], label: &[u8], parts: &[&[u8]]) -> [u8; MAC] {
    use hmac::Mac;
    let full = hmac_of(key, label, parts).finalize().into_bytes();
    full[..MAC].try_into().expect("16 of 32 bytes")
}

/// Whether `tag` is the truncated MAC of `parts` under `key` (in constant time).
fn mac_ok(key: &[u8; KEY], label: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    use hmac::Mac;
    hmac_of(key, label, parts)
        .verify_truncated_left(tag)
        .is_ok()
}

const REQ_LABEL: &[u8] = b"rshmem-verbs-cm-request";
const REP_LABEL: &[u8] = b"rshmem-verbs-cm-reply";

/// A connect request from PE `me` for its QP `qpn` of channel `ch`, to PE `to` whose key
/// is `key`.
fn request_bytes(
    me: usize,
    to: usize,
    key: &[u8; KEY],
    (qpn, psn, lid, mtu): (u32, u32, u16, u32),
    gid: &[u8; 16],
    ch: u32,
) -> [u8; REQ_LEN] {
    let mut req = [0u8; REQ_LEN];
    req[0..4].copy_from_slice(&(me as u32).to_le_bytes());
    req[4..8].copy_from_slice(&qpn.to_le_bytes());
    req[8..12].copy_from_slice(&psn.to_le_bytes());
    req[12..14].copy_from_slice(&lid.to_le_bytes());
    req[14..16].copy_from_slice(&(mtu as u16).to_le_bytes());
    req[16..32].copy_from_slice(gid);
    req[32..36].copy_from_slice(&ch.to_le_bytes());
    let tag = mac(
        key,
        REQ_LABEL,
        &[&(to as u32).to_le_bytes(), &req[..REQ_BODY]],
    );
    req[REQ_BODY..].copy_from_slice(&tag);
    req
}

/// Checks a connect request received by PE `me` (key `key`, `npes` PEs); returns the
/// requester's PE, its channel and its end of the pair.
fn check_request(
    me: usize,
    npes: usize,
    key: &[u8; KEY],
    data: &[u8],
) -> Result<(usize, u32, Peer), String> {
    if data.len() < REQ_LEN {
        return Err(format!(
            "{} bytes of private data, expected {REQ_LEN}",
            data.len()
        ));
    }
    let pe = u32_at(data, 0) as usize;
    if pe >= npes || pe == me {
        return Err(format!(
            "it claims to come from PE {pe} (the job has {npes} PEs; this is PE {me})"
        ));
    }
    if !mac_ok(
        key,
        REQ_LABEL,
        &[&(me as u32).to_le_bytes(), &data[..REQ_BODY]],
        &data[REQ_BODY..REQ_LEN],
    ) {
        return Err(format!(
            "it claims to come from PE {pe} but is not signed with this job's key"
        ));
    }
    Ok((
        pe,
        u32_at(data, 32),
        Peer {
            qpn: u32_at(data, 4),
            psn: u32_at(data, 8),
            lid: u16::from_le_bytes([data[12], data[13]]),
            mtu: u16::from_le_bytes([data[14], data[15]]) as u32,
            gid: data[16..32].try_into().expect("16 bytes"),
        },
    ))
}

/// The reply of PE `me` (key `key`) to `req`, for its QP `qpn`.
fn reply_bytes(me: usize, key: &[u8; KEY], req: &[u8], qpn: u32) -> [u8; REP_LEN] {
    let mut rep = [0u8; REP_LEN];
    rep[..4].copy_from_slice(&qpn.to_le_bytes());
    let tag = mac(
        key,
        REP_LABEL,
        &[&(me as u32).to_le_bytes(), &req[..8], &rep[..4]],
    );
    rep[4..].copy_from_slice(&tag);
    rep
}
/// Resolution timeouts (address, route), milliseconds.
const RESOLVE_MS: i32 = 10_000;

/// The IPv4 address of an IPv4-mapped RoCE v2 GID (`::ffff:a.b.c.d`).
pub(super) fn gid_ipv4(gid: &[u8; 16]) -> Option<[u8; 4]> {
    (gid[..10] == [0; 10] && gid[10..12] == [0xff, 0xff])
        .then(|| [gid[12], gid[13], gid[14], gid[15]])
}

fn sockaddr(ip: [u8; 4], port: u16) -> libc::sockaddr_in {
    // SAFETY: a plain C struct, all-zero is valid.
    let mut sa: libc::sockaddr_in = unsafe { core::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = port.to_be();
    sa.sin_addr.s_addr = u32::from_ne_bytes(ip);
    sa
}

fn event_name(e: rdma_cm_event_type::Type) -> String {
    // SAFETY: rdma_event_str returns a static string for any value.
    let p = unsafe { rdma_event_str(e) };
    if p.is_null() {
        return format!("event {e}");
    }
    // SAFETY: a NUL-terminated static string.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

/// The passive side, shared with the service thread.
struct Shared {
    dev: Arc<Dev>,
    me: usize,
    npes: usize,
    key: [u8; KEY],
    depth: u64,
    psn: u32,
    /// QPs created for peers that connected to us, by peer: adopted as our send QP to that
    /// peer on our first post to it; later ones (crossing requests) only kept alive.
    accepted: Mutex<Vec<Vec<Qp>>>,
    abort: fn(&str) -> !,
}

/// Raw rdma_cm pointers owned by the service.
struct Raw {
    ch: *mut rdma_event_channel,
    listen: *mut rdma_cm_id,
}
// SAFETY: librdmacm objects may be used from any thread; only the service thread uses them
// after setup, and `Service::drop` destroys them after joining it.
unsafe impl Send for Raw {}

/// This PE's connection service: a listening rdma_cm identifier and the thread answering it.
pub(super) struct Service {
    shared: Arc<Shared>,
    pub ip: [u8; 4],
    pub port: u16,
    stop: libc::c_int,
    thread: Option<std::thread::JoinHandle<Raw>>,
}

impl Service {
    /// Listens on `ip` (port chosen by the system) and starts the thread.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        dev: Arc<Dev>,
        me: usize,
        npes: usize,
        key: [u8; KEY],
        depth: u64,
        psn: u32,
        ip: [u8; 4],
        abort: fn(&str) -> !,
    ) -> Result<Self, VerbsError> {
        // SAFETY: plain librdmacm calls; every object is destroyed on the error paths.
        unsafe {
            let ch = rdma_create_event_channel();
            if ch.is_null() {
                return err(format!(
                    "rdma_create_event_channel failed: {} (is the rdma_ucm module loaded? /dev/infiniband/rdma_cm must exist)",
                    super::errno()
                ));
            }
            let mut listen = null_mut();
            if rdma_create_id(ch, &mut listen, null_mut(), rdma_port_space::RDMA_PS_TCP) != 0 {
                let e = super::errno();
                rdma_destroy_event_channel(ch);
                return err(format!("rdma_create_id failed: {e}"));
            }
            let mut sa = sockaddr(ip, 0);
            let ipt = std::net::Ipv4Addr::from(ip);
            if rdma_bind_addr(listen, &mut sa as *mut _ as *mut _) != 0
                || rdma_listen(listen, 128) != 0
            {
                let e = super::errno();
                rdma_destroy_id(listen);
                rdma_destroy_event_channel(ch);
                return err(format!(
                    "the connection service cannot listen on {ipt} (rdma_bind_addr/rdma_listen): {e}; \
                     the RDMA device's IPv4 address must be configured on its network interface"
                ));
            }
            let port = u16::from_be(rdma_get_src_port(listen));
            let stop = libc::eventfd(0, libc::EFD_CLOEXEC);
            if stop < 0 {
                let e = super::errno();
                rdma_destroy_id(listen);
                rdma_destroy_event_channel(ch);
                return err(format!("eventfd failed: {e}"));
            }
            let shared = Arc::new(Shared {
                dev,
                me,
                npes,
                key,
                depth,
                psn,
                accepted: Mutex::new((0..npes).map(|_| Vec::new()).collect()),
                abort,
            });
            let raw = Raw { ch, listen };
            let sh = shared.clone();
            let thread = std::thread::Builder::new()
                .name("rshmem-verbs-cm".into())
                .spawn(move || {
                    serve(&sh, &raw, stop);
                    raw
                })
                .map_err(|e| VerbsError(format!("cannot start the connection service: {e}")))?;
            Ok(Self {
                shared,
                ip,
                port,
                stop,
                thread: Some(thread),
            })
        }
    }

    /// The QP a peer connected to us with, if any (taken: it becomes our send QP to it).
    pub fn adopt(&self, pe: usize) -> Option<Qp> {
        let mut a = self
            .shared
            .accepted
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // The first QP stays in the list's place 0 only until adopted.
        if a[pe].is_empty() {
            None
        } else {
            Some(a[pe].remove(0))
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes to our eventfd.
        unsafe { libc::write(self.stop, &one as *const u64 as *const libc::c_void, 8) };
        if let Some(t) = self.thread.take() {
            if let Ok(raw) = t.join() {
                // SAFETY: the thread has ended; nobody else holds these.
                unsafe {
                    rdma_destroy_id(raw.listen);
                    rdma_destroy_event_channel(raw.ch);
                }
            }
        }
        // SAFETY: our descriptor.
        unsafe { libc::close(self.stop) };
    }
}

/// The service loop: until `stop` is readable, answer events on the channel.
fn serve(sh: &Shared, raw: &Raw, stop: libc::c_int) {
    // Accepted QPs whose requester has not established yet, by CM identifier: offered for
    // adoption only once the requester's end is ready to receive (its ESTABLISHED, or the
    // DISCONNECTED of its identifier's teardown), so that an adopting post is never sent
    // to a QP still in INIT (it would wait for a retransmission).
    let mut pending: std::collections::HashMap<usize, (usize, Qp)> = Default::default();
    let mut rejected = 0usize;
    // Responder QPs of the requesters' context channels, by (PE, channel).
    let mut channels: std::collections::HashMap<(usize, u32), Qp> = Default::default();
    let ready = |p: &mut std::collections::HashMap<usize, (usize, Qp)>, id: *mut rdma_cm_id| {
        if let Some((pe, qp)) = p.remove(&(id as usize)) {
            sh.accepted.lock().unwrap_or_else(|e| e.into_inner())[pe].push(qp);
        }
    };
    loop {
        // SAFETY: `raw.ch` is a live channel.
        let fd = unsafe { (*raw.ch).fd };
        let mut fds = [
            libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stop,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            continue; // EINTR
        }
        if fds[1].revents != 0 {
            return;
        }
        if fds[0].revents == 0 {
            continue;
        }
        let mut ev = null_mut();
        // SAFETY: the channel is readable: this does not block.
        if unsafe { rdma_get_cm_event(raw.ch, &mut ev) } != 0 {
            continue;
        }
        // SAFETY: a live event until acknowledged.
        let (kind, id) = unsafe { ((*ev).event, (*ev).id) };
        match kind {
            rdma_cm_event_type::RDMA_CM_EVENT_CONNECT_REQUEST => {
                // SAFETY: a connect request carries `param.conn`.
                let (p, len) = unsafe {
                    let c = &(*ev).param.conn;
                    (c.private_data as *const u8, c.private_data_len as usize)
                };
                let mut req = [0u8; REQ_LEN];
                let n = if p.is_null() { 0 } else { len.min(REQ_LEN) };
                // SAFETY: `len` bytes at `p` (rdma_cm's private data), valid until the ack.
                unsafe { core::ptr::copy_nonoverlapping(p, req.as_mut_ptr(), n) };
                let checked = check_request(sh.me, sh.npes, &sh.key, &req[..n]).and_then(
                    |(pe, ch, peer)| {
                        if ch != 0 {
                            return Ok((pe, ch, peer));
                        }
                        let held = sh.accepted.lock().unwrap_or_else(|e| e.into_inner())[pe]
                            .len()
                            + pending.values().filter(|(q, _)| *q == pe).count();
                        if held >= MAX_PER_PEER {
                            Err(format!(
                                "PE {pe} already has {held} queue pairs here (at most {MAX_PER_PEER})"
                            ))
                        } else {
                            Ok((pe, ch, peer))
                        }
                    },
                );
                let from = peer_text(id);
                // SAFETY: acknowledging our event (the id stays ours).
                unsafe { rdma_ack_cm_event(ev) };
                match checked {
                    Ok((pe, 0, peer)) => {
                        let qp = accept(sh, id, pe, &peer, &req);
                        pending.insert(id as usize, (pe, qp));
                    }
                    // Another context's channel: never adopted as our own QP to that
                    // peer; kept (replacing the one of a destroyed channel of that number)
                    // until the service stops.
                    Ok((pe, ch, peer)) => {
                        let qp = accept(sh, id, pe, &peer, &req);
                        channels.insert((pe, ch), qp);
                    }
                    Err(why) => {
                        rejected += 1;
                        if rejected <= REPORT_REJECTS {
                            eprintln!(
                                "rshmem: PE {}: the RDMA connection service rejected a connect \
                                 request from {from}: {why}{}",
                                sh.me,
                                if rejected == REPORT_REJECTS {
                                    " (further rejections are not reported)"
                                } else {
                                    ""
                                }
                            );
                        }
                        // SAFETY: a request's id, not accepted: reject and free it.
                        unsafe {
                            rdma_reject(id, core::ptr::null(), 0);
                            rdma_destroy_id(id);
                        }
                    }
                }
            }
            rdma_cm_event_type::RDMA_CM_EVENT_ESTABLISHED => {
                ready(&mut pending, id);
                // SAFETY: acknowledging our event.
                unsafe { rdma_ack_cm_event(ev) };
            }
            rdma_cm_event_type::RDMA_CM_EVENT_DISCONNECTED => {
                ready(&mut pending, id);
                // SAFETY: ack first, then the id (an accepted request's) can go; the QP
                // is ours, not the id's, and stays connected.
                unsafe {
                    rdma_ack_cm_event(ev);
                    rdma_destroy_id(id);
                }
            }
            rdma_cm_event_type::RDMA_CM_EVENT_CONNECT_ERROR
            | rdma_cm_event_type::RDMA_CM_EVENT_UNREACHABLE
            | rdma_cm_event_type::RDMA_CM_EVENT_REJECTED => {
                // Kept alive whatever happened: a QP the requester may already post to
                // must never vanish under it.
                ready(&mut pending, id);
                // SAFETY: ack first, then the id can go.
                unsafe {
                    rdma_ack_cm_event(ev);
                    rdma_destroy_id(id);
                }
            }
            _ => {
                // SAFETY: acknowledging our event.
                unsafe { rdma_ack_cm_event(ev) };
            }
        }
    }
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

/// The connection parameters of a request or a reply carrying `data` (private data, which
/// must outlive the `rdma_connect`/`rdma_accept` call) for our QP `qpn`: the device's
/// atomic depths, 7 retries as the QPs themselves.
fn conn_param(dev: &Dev, data: &[u8], qpn: u32) -> rdma_conn_param {
    // SAFETY: a plain C struct, all-zero is valid.
    let mut cp: rdma_conn_param = unsafe { core::mem::zeroed() };
    cp.private_data = data.as_ptr() as *const libc::c_void;
    cp.private_data_len = data.len() as u8;
    cp.responder_resources = dev.dest_rd_atom;
    cp.initiator_depth = dev.rd_atom;
    cp.retry_count = 7;
    cp.rnr_retry_count = 7;
    cp.qp_num = qpn;
    cp
}

/// The address a request came from, for messages.
fn peer_text(id: *mut rdma_cm_id) -> String {
    // SAFETY: `id` is a live identifier of a connect request; its route holds the peer's
    // address (a sockaddr_in when the family says so).
    unsafe {
        let sa = rdma_get_peer_addr(&*id);
        if sa.sa_family as i32 == libc::AF_INET {
            let sin = &*(sa as *const libc::sockaddr as *const libc::sockaddr_in);
            let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            format!("{ip}:{}", u16::from_be(sin.sin_port))
        } else {
            format!("an address of family {}", sa.sa_family)
        }
    }
}

/// Answers a checked connect request of PE `pe`: a QP for it, moved to RTS, then
/// `rdma_accept` with its number (and the reply's MAC).
fn accept(sh: &Shared, id: *mut rdma_cm_id, pe: usize, peer: &Peer, req: &[u8]) -> Qp {
    let peer = Peer {
        mtu: peer.mtu.min(sh.dev.mtu),
        ..*peer
    };
    let fail = |m: String| -> ! {
        (sh.abort)(&format!(
            "RDMA verbs ({}:{}): connection service: {m}",
            sh.dev.name, sh.dev.port
        ))
    };
    let qp = match create_qp(&sh.dev, &sh.dev.cq, sh.depth) {
        Ok((qp, _)) => qp,
        Err(e) => fail(format!("creating the queue pair for PE {pe}: {}", e.0)),
    };
    if let Err(e) = connect_qp(&sh.dev, &qp, pe, &peer, sh.psn) {
        fail(e.0);
    }
    let rep = reply_bytes(sh.me, &sh.key, req, qp.num());
    let mut cp = conn_param(&sh.dev, &rep, qp.num());
    // SAFETY: `id` is the request's identifier; `cp` is valid for the call.
    if unsafe { rdma_accept(id, &mut cp) } != 0 {
        fail(format!(
            "rdma_accept of PE {pe}'s connect request failed: {}",
            super::errno()
        ));
    }
    qp
}

/// Waits for the next event on `ch` and checks it is `want`; returns the private data of
/// a connect response.
///
/// # Safety
/// `ch` must be a live event channel.
unsafe fn expect(
    ch: *mut rdma_event_channel,
    want: rdma_cm_event_type::Type,
) -> Result<[u8; REP_LEN], String> {
    let mut ev = null_mut();
    // SAFETY: the caller's contract.
    if unsafe { rdma_get_cm_event(ch, &mut ev) } != 0 {
        return Err(format!("rdma_get_cm_event failed: {}", super::errno()));
    }
    // SAFETY: a live event until acknowledged.
    let (kind, status) = unsafe { ((*ev).event, (*ev).status) };
    let mut rep = [0u8; REP_LEN];
    let got = if kind == want {
        if want == rdma_cm_event_type::RDMA_CM_EVENT_CONNECT_RESPONSE {
            // SAFETY: a connect response carries `param.conn`.
            let (p, len) = unsafe {
                let c = &(*ev).param.conn;
                (c.private_data as *const u8, c.private_data_len as usize)
            };
            if p.is_null() || len < REP_LEN {
                Err("the connect response carries no queue pair number".to_string())
            } else {
                // SAFETY: at least REP_LEN bytes at `p`, valid until the ack.
                unsafe { core::ptr::copy_nonoverlapping(p, rep.as_mut_ptr(), REP_LEN) };
                Ok(rep)
            }
        } else {
            Ok(rep)
        }
    } else {
        Err(format!(
            "expected {}, got {} (status {status})",
            event_name(want),
            event_name(kind)
        ))
    };
    // SAFETY: acknowledging our event.
    unsafe { rdma_ack_cm_event(ev) };
    got
}

impl Channel {
    /// Our first post to `pe` on this channel: on channel 0, adopt the QP `pe` connected
    /// to us with, or connect a new one through `pe`'s connection service; on another
    /// channel, always a new one (its request names the channel). To this PE itself
    /// (another channel than 0): a loopback pair. Any failure ends the job.
    #[cold]
    #[inline(never)]
    pub(super) fn connect_peer(&mut self, pe: usize) {
        if pe == self.me {
            match self.loopback() {
                Ok(qp) => self.qps[pe].qp = Some(qp),
                Err(e) => self.fail(format!("the loopback pair of a context: {}", e.0)),
            }
            return;
        }
        if !self.known[pe].load(std::sync::atomic::Ordering::Acquire) {
            self.fail(format!(
                "PE {} posted to PE {pe} before reading its init record (a bug: the runtime \
                 reads a peer's record on first use)",
                self.me
            ));
        }
        let adopted = match &self.cm {
            Some(cm) if self.id == 0 => cm.adopt(pe),
            Some(_) => None,
            None if self.id == 0 => unreachable!("a full mesh creates every QP at open"),
            None => self.fail(format!(
                "contexts other than the default one need connections on demand \
                 (RSHMEM_VERBS_CONNECT=auto or demand: an IPv4 RoCE GID); PE {} uses a full \
                 mesh",
                self.me
            )),
        };
        let qp = match adopted {
            Some(qp) => qp,
            None => match self.request(pe) {
                Ok(qp) => qp,
                Err(m) => self.fail(format!(
                    "PE {} could not connect to PE {pe} on demand: {m}; did PE {pe} exit or fail?",
                    self.me
                )),
            },
        };
        self.qps[pe].qp = Some(qp);
    }

    /// A loopback pair on this channel's CQ (its responder kept in `loop_resp`).
    fn loopback(&mut self) -> Result<Qp, VerbsError> {
        let (a, _) = create_qp(&self.dev, &self.cq, self.depth)?;
        let (b, _) = create_qp(&self.dev, &self.dev.cq, self.depth)?;
        let dev = &self.dev;
        let mut peer = Peer {
            qpn: b.num(),
            gid: dev.gid,
            lid: dev.lid,
            mtu: dev.mtu,
            psn: self.psn,
        };
        connect_qp(dev, &a, self.me, &peer, self.psn)?;
        peer.qpn = a.num();
        connect_qp(dev, &b, self.me, &peer, self.psn)?;
        self.loop_resp = Some(b);
        Ok(a)
    }

    fn request(&mut self, pe: usize) -> Result<Qp, String> {
        let a = self.addrs.lock().unwrap_or_else(|e| e.into_inner())[pe];
        let (qp, _) = create_qp(&self.dev, &self.cq, self.depth).map_err(|e| e.0)?;
        let req = request_bytes(
            self.me,
            pe,
            &a.key,
            (qp.num(), self.psn, self.dev.lid, self.dev.mtu),
            &self.dev.gid,
            self.id,
        );
        let target = format!("{}:{}", std::net::Ipv4Addr::from(a.ip), a.port);
        // SAFETY: plain librdmacm calls on objects created here and destroyed below.
        unsafe {
            let ch = rdma_create_event_channel();
            if ch.is_null() {
                return Err(format!("rdma_create_event_channel: {}", super::errno()));
            }
            let mut id = null_mut();
            if rdma_create_id(ch, &mut id, null_mut(), rdma_port_space::RDMA_PS_TCP) != 0 {
                let e = super::errno();
                rdma_destroy_event_channel(ch);
                return Err(format!("rdma_create_id: {e}"));
            }
            let r = (|| {
                let mut dst = sockaddr(a.ip, a.port);
                if rdma_resolve_addr(id, null_mut(), &mut dst as *mut _ as *mut _, RESOLVE_MS) != 0
                {
                    return Err(format!("rdma_resolve_addr {target}: {}", super::errno()));
                }
                expect(ch, rdma_cm_event_type::RDMA_CM_EVENT_ADDR_RESOLVED)
                    .map_err(|e| format!("resolving {target}: {e}"))?;
                if rdma_resolve_route(id, RESOLVE_MS) != 0 {
                    return Err(format!("rdma_resolve_route {target}: {}", super::errno()));
                }
                expect(ch, rdma_cm_event_type::RDMA_CM_EVENT_ROUTE_RESOLVED)
                    .map_err(|e| format!("route to {target}: {e}"))?;
                let mut cp = conn_param(&self.dev, &req, qp.num());
                if rdma_connect(id, &mut cp) != 0 {
                    return Err(format!("rdma_connect {target}: {}", super::errno()));
                }
                let rep = expect(ch, rdma_cm_event_type::RDMA_CM_EVENT_CONNECT_RESPONSE)
                    .map_err(|e| format!("connection service of PE {pe} at {target}: {e}"))?;
                if !mac_ok(
                    &a.key,
                    REP_LABEL,
                    &[&(pe as u32).to_le_bytes(), &req[..8], &rep[..4]],
                    &rep[4..],
                ) {
                    return Err(format!(
                        "the reply from {target} is not signed with PE {pe}'s key (not PE {pe}'s \
                         connection service)"
                    ));
                }
                let peer = Peer {
                    qpn: u32_at(&rep, 0),
                    gid: a.gid,
                    lid: a.lid,
                    mtu: a.mtu.min(self.dev.mtu),
                    psn: a.psn,
                };
                connect_qp(&self.dev, &qp, pe, &peer, self.psn).map_err(|e| e.0)?;
                if rdma_establish(id) != 0 {
                    return Err(format!("rdma_establish {target}: {}", super::errno()));
                }
                Ok(())
            })();
            rdma_destroy_id(id);
            rdma_destroy_event_channel(ch);
            r?;
        }
        Ok(qp)
    }
}

impl super::VerbsCtx {
    /// Whether connections are made on demand (through the connection service); only then
    /// can contexts have channels of their own ([`super::VerbsCtx::channel`]), and may
    /// [`super::VerbsCtx::connect`] be given only some records (the others added on first
    /// use with [`super::VerbsCtx::add_peer`]); a full mesh needs every record at init.
    pub fn on_demand(&self) -> bool {
        self.sh.cm.is_some()
    }

    /// Whether this PE has a QP to `pe` yet (connections are made on the first post).
    pub fn is_connected(&self, pe: usize) -> bool {
        self.ch0(|c| c.qps[pe].qp.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: [u8; KEY] = [7; KEY];
    const K2: [u8; KEY] = [9; KEY];
    const GID: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 77, 0, 2];

    fn req(from: usize, to: usize, key: &[u8; KEY]) -> [u8; REQ_LEN] {
        request_bytes(from, to, key, (0x1234, 0xabcdef, 0, 3), &GID, 0)
    }

    #[test]
    fn a_signed_request_is_accepted_with_its_fields() {
        let (pe, ch, peer) = check_request(2, 4, &K1, &req(1, 2, &K1)).unwrap();
        assert_eq!((pe, ch), (1, 0));
        assert_eq!(
            (peer.qpn, peer.psn, peer.lid, peer.mtu),
            (0x1234, 0xabcdef, 0, 3)
        );
        assert_eq!(peer.gid, GID);
    }

    #[test]
    fn a_request_names_its_channel_under_the_mac() {
        let r = request_bytes(1, 2, &K1, (0x1234, 0xabcdef, 0, 3), &GID, 7);
        assert_eq!(r.len(), 52);
        let (pe, ch, peer) = check_request(2, 4, &K1, &r).unwrap();
        assert_eq!((pe, ch, peer.qpn), (1, 7, 0x1234));
        // A channel request replayed as a default-context one (to be adopted): rejected.
        let mut f = r;
        f[32..36].copy_from_slice(&0u32.to_le_bytes());
        let e = check_request(2, 4, &K1, &f).unwrap_err();
        assert!(e.contains("not signed"), "{e}");
        // And the other way round.
        let mut f = req(1, 2, &K1);
        f[32] = 3;
        assert!(check_request(2, 4, &K1, &f).is_err());
    }

    #[test]
    fn forged_requests_are_rejected() {
        // Signed with another key (not this job's, or another PE's).
        let e = check_request(2, 4, &K1, &req(1, 2, &K2)).unwrap_err();
        assert!(e.contains("not signed with this job's key"), "{e}");
        // Signed for PE 3, replayed to PE 2.
        let e = check_request(2, 4, &K1, &req(1, 3, &K1)).unwrap_err();
        assert!(e.contains("not signed"), "{e}");
        // Any field changed after signing (here the QP number).
        let mut r = req(1, 2, &K1);
        r[4] ^= 1;
        let e = check_request(2, 4, &K1, &r).unwrap_err();
        assert!(e.contains("not signed"), "{e}");
        // The claimed PE itself changed.
        let mut r = req(1, 2, &K1);
        r[0] = 0;
        assert!(check_request(2, 4, &K1, &r).is_err());
    }

    #[test]
    fn malformed_requests_are_rejected_before_the_mac() {
        let e = check_request(2, 4, &K1, &req(1, 2, &K1)[..40]).unwrap_err();
        assert!(e.contains("40 bytes of private data, expected 52"), "{e}");
        let e = check_request(2, 4, &K1, &[]).unwrap_err();
        assert!(e.contains("0 bytes"), "{e}");
        let e = check_request(2, 4, &K1, &req(9, 2, &K1)).unwrap_err();
        assert!(e.contains("from PE 9 (the job has 4 PEs"), "{e}");
        let e = check_request(2, 4, &K1, &req(2, 2, &K1)).unwrap_err();
        assert!(e.contains("this is PE 2"), "{e}");
    }

    #[test]
    fn the_reply_is_bound_to_the_request_and_the_responder() {
        let r = req(1, 2, &K1);
        let rep = reply_bytes(2, &K1, &r, 0x55);
        let parts = |pe: u32, q: &[u8]| -> Vec<Vec<u8>> {
            vec![
                pe.to_le_bytes().to_vec(),
                q[..8].to_vec(),
                rep[..4].to_vec(),
            ]
        };
        let ok = |pe: u32, q: &[u8], key: &[u8; KEY]| {
            let p = parts(pe, q);
            mac_ok(key, REP_LABEL, &[&p[0], &p[1], &p[2]], &rep[4..])
        };
        assert!(ok(2, &r, &K1));
        assert!(!ok(3, &r, &K1), "another responder");
        assert!(!ok(2, &req(0, 2, &K1), &K1), "another request");
        assert!(!ok(2, &r, &K2), "another key");
        assert_eq!(u32_at(&rep, 0), 0x55);
    }
}
