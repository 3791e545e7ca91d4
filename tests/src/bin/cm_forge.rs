//! An attacker on the RDMA network (not a PE of the job): sends forged connect requests to
//! a PE's verbs connection service and reports what the service did with each.
//!
//! `cm_forge IP PORT KIND...`, KIND one of:
//! - `short`: 8 bytes of private data;
//! - `pe99`: a full-length request claiming to come from PE 99;
//! - `badmac:N`: a full-length request claiming to come from PE N, signed with a wrong key.
//!
//! Prints `cm_forge: KIND: rejected` per request the service rejected; exits 1 if any was
//! accepted (or the exchange failed otherwise), so a test can fail.
use rdma_sys::*;
use std::ptr::null_mut;

/// What the service answered: the CM event that ended the attempt.
fn attempt(ip: [u8; 4], port: u16, data: &[u8]) -> Result<String, String> {
    // SAFETY: plain librdmacm calls on objects created here and destroyed before return.
    unsafe {
        let ch = rdma_create_event_channel();
        if ch.is_null() {
            return Err("rdma_create_event_channel failed".into());
        }
        let mut id = null_mut();
        if rdma_create_id(ch, &mut id, null_mut(), rdma_port_space::RDMA_PS_TCP) != 0 {
            return Err("rdma_create_id failed".into());
        }
        let next = |want: rdma_cm_event_type::Type| -> Result<rdma_cm_event_type::Type, String> {
            let mut ev = null_mut();
            if rdma_get_cm_event(ch, &mut ev) != 0 {
                return Err("rdma_get_cm_event failed".into());
            }
            let kind = (*ev).event;
            rdma_ack_cm_event(ev);
            if want != u32::MAX && kind != want {
                return Err(format!("unexpected CM event {kind}"));
            }
            Ok(kind)
        };
        let mut sa: libc::sockaddr_in = core::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_port = port.to_be();
        sa.sin_addr.s_addr = u32::from_ne_bytes(ip);
        let r = (|| {
            if rdma_resolve_addr(id, null_mut(), &mut sa as *mut _ as *mut _, 5000) != 0 {
                return Err("rdma_resolve_addr failed".to_string());
            }
            next(rdma_cm_event_type::RDMA_CM_EVENT_ADDR_RESOLVED)?;
            if rdma_resolve_route(id, 5000) != 0 {
                return Err("rdma_resolve_route failed".to_string());
            }
            next(rdma_cm_event_type::RDMA_CM_EVENT_ROUTE_RESOLVED)?;
            let mut cp: rdma_conn_param = core::mem::zeroed();
            cp.private_data = data.as_ptr() as *const libc::c_void;
            cp.private_data_len = data.len() as u8;
            cp.responder_resources = 1;
            cp.initiator_depth = 1;
            cp.retry_count = 1;
            cp.qp_num = 0x77;
            if rdma_connect(id, &mut cp) != 0 {
                return Err("rdma_connect failed".to_string());
            }
            match next(u32::MAX)? {
                rdma_cm_event_type::RDMA_CM_EVENT_REJECTED => Ok("rejected".to_string()),
                rdma_cm_event_type::RDMA_CM_EVENT_CONNECT_RESPONSE => Ok("ACCEPTED".to_string()),
                k => Ok(format!("CM event {k}")),
            }
        })();
        rdma_destroy_id(id);
        rdma_destroy_event_channel(ch);
        r
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: cm_forge IP PORT KIND...");
        std::process::exit(2);
    }
    let ip: std::net::Ipv4Addr = args[0].parse().expect("IPv4 address");
    let port: u16 = args[1].parse().expect("port");
    let mut ok = true;
    for kind in &args[2..] {
        // A request in the layout of transport/src/verbs/cm.rs: PE, QPN, PSN, LID, MTU,
        // GID, channel (0: the default context's), then a 16-byte MAC (here random: this
        // process has no key of the job).
        let mut req = [0u8; 52];
        let mut mac = [0u8; 16];
        getrandom(&mut mac);
        req[36..].copy_from_slice(&mac);
        req[4..8].copy_from_slice(&0x77u32.to_le_bytes());
        req[14..16].copy_from_slice(&3u16.to_le_bytes());
        req[16..32].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 77, 0, 9]);
        let data: &[u8] = match kind.split_once(':') {
            None if kind == "short" => &req[..8],
            None if kind == "pe99" => {
                req[..4].copy_from_slice(&99u32.to_le_bytes());
                &req
            }
            Some(("badmac", n)) => {
                req[..4].copy_from_slice(&n.parse::<u32>().expect("PE").to_le_bytes());
                &req
            }
            _ => {
                eprintln!("cm_forge: unknown kind {kind}");
                std::process::exit(2);
            }
        };
        match attempt(ip.octets(), port, data) {
            Ok(what) => {
                println!("cm_forge: {kind}: {what}");
                ok &= what == "rejected";
            }
            Err(e) => {
                println!("cm_forge: {kind}: error: {e}");
                ok = false;
            }
        }
    }
    std::process::exit(if ok { 0 } else { 1 });
}

fn getrandom(buf: &mut [u8]) {
    // SAFETY: `buf` is valid for its length.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
    assert_eq!(n, buf.len() as isize, "getrandom");
}
