//! Setting up the TCP transport at init (`rshmem_transport::tcp`): listen address, job
//! key, address exchange through the bootstrap's key-value store.
//!
//! Trust: the job key is 32 random bytes drawn by PE 0 and published through the KVS,
//! which only the job's PEs can read (under `rshmemrun --hosts` each PE authenticates to
//! the launcher's PMI server with its secret before any KVS access; local launchers hand
//! PEs a socketpair). Every TCP connection must present the key before anything else, so
//! only the job's PEs can reach its memory. The key travels in clear over the job's own
//! network, like the data itself: the transport does not defend against an observer of
//! that network (neither does RDMA).
use crate::bootstrap::{self, Kvs};
use crate::error::{Error, Result};
use rshmem_transport::tcp::{addr, wire, AbortFn, TcpCtx};
use std::net::SocketAddr;
use std::sync::Arc;

/// Whether this host has an RDMA device (any entry in `/sys/class/infiniband`).
pub(crate) fn rdma_present() -> bool {
    std::fs::read_dir("/sys/class/infiniband")
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
}

/// Listens, exchanges addresses and the job key, starts the progress service. Collective.
pub(crate) fn setup(
    kvs: &mut dyn Kvs,
    me: usize,
    npes: usize,
    segs: &[(usize, usize)],
    abort: AbortFn,
) -> Result<Arc<TcpCtx>> {
    let spec = crate::env::text(&crate::env::RSHMEM_TCP_IF);
    let pmi = crate::bootstrap::pmi1::launcher_pmi_port();
    let ip =
        addr::choose(spec.as_deref(), pmi.as_deref()).map_err(|e| Error::Tcp(e.to_string()))?;
    let ctx =
        Arc::new(TcpCtx::listen(me, npes, segs, ip, abort).map_err(|e| Error::Tcp(e.to_string()))?);
    let mut rec = ctx.local_addr().to_string();
    if me == 0 {
        let mut key = [0u8; wire::KEY];
        getrandom::getrandom(&mut key).map_err(|e| Error::Tcp(format!("no random key: {e}")))?;
        rec.push('\n');
        rec.push_str(&bootstrap::wire::hex_encode(&key));
    }
    bootstrap::put(kvs, "rshmem-tcp", rec.as_bytes())?;
    kvs.barrier()?;
    let mut addrs = Vec::with_capacity(npes);
    let mut key = None;
    for pe in 0..npes {
        let raw = bootstrap::get(kvs, pe, "rshmem-tcp")?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let mut it = text.split('\n');
        let a: SocketAddr = it
            .next()
            .unwrap_or("")
            .parse()
            .map_err(|_| Error::Tcp(format!("corrupt address record of PE {pe}: {text:?}")))?;
        addrs.push(a);
        if pe == 0 {
            let k = it
                .next()
                .and_then(bootstrap::wire::hex_decode)
                .and_then(|v| <[u8; wire::KEY]>::try_from(v).ok())
                .ok_or_else(|| Error::Tcp("PE 0 published no valid job key".into()))?;
            key = Some(k);
        }
    }
    ctx.start(key.expect("PE 0 read"), addrs);
    Ok(ctx)
}
