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
use rshmem_transport::verbs::{list_devices, DeviceInfo, DeviceSpec};
use std::net::SocketAddr;
use std::sync::Arc;

/// Whether this host has a usable RDMA device (the `auto` transport's choice between nodes:
/// verbs when every PE has one, TCP otherwise): a device that libibverbs opens with an
/// ACTIVE port. No entry in `/sys/class/infiniband` answers at once (libibverbs and its
/// providers are not even loaded); a device whose ports are all down (a cable out, an rxe
/// on a downed interface) does not count. With `RSHMEM_DEVICE` set the user chose verbs:
/// yes, and the verbs setup reports what is wrong with that device.
pub(crate) fn rdma_present() -> bool {
    let any = std::fs::read_dir("/sys/class/infiniband")
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if !any {
        return false;
    }
    match DeviceSpec::from_env() {
        Ok(spec) if spec.name.is_none() => {
            list_devices().is_ok_and(|devs| any_active_port(&devs, spec.port))
        }
        _ => true,
    }
}

/// Whether some device of `devs` opened and has an ACTIVE port (port `port`, if given).
fn any_active_port(devs: &[DeviceInfo], port: Option<u8>) -> bool {
    devs.iter().any(|d| {
        d.error.is_none()
            && d.ports
                .iter()
                .any(|p| p.state == "ACTIVE" && port.is_none_or(|q| q == p.port))
    })
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
    let cc = crate::env::text(&crate::env::RSHMEM_TCP_CONGESTION);
    let ctx = Arc::new(
        TcpCtx::listen(me, npes, segs, ip, abort)
            .and_then(|c| c.with_congestion(cc.as_deref()))
            .map_err(|e| Error::Tcp(e.to_string()))?,
    );
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

#[cfg(test)]
mod tests {
    use super::*;
    use rshmem_transport::verbs::PortInfo;

    fn dev(name: &str, states: &[&'static str], error: bool) -> DeviceInfo {
        DeviceInfo {
            name: name.into(),
            ports: states
                .iter()
                .enumerate()
                .map(|(i, s)| PortInfo {
                    port: i as u8 + 1,
                    state: s,
                    link_layer: "Ethernet",
                    active_mtu: 1024,
                    lid: 0,
                    error: None,
                })
                .collect(),
            error: error.then(|| "ibv_open_device failed".to_string()),
        }
    }

    #[test]
    fn only_an_active_port_of_an_open_device_counts_as_rdma() {
        assert!(!any_active_port(&[], None), "no device");
        assert!(
            !any_active_port(&[dev("rxe0", &["DOWN"], false)], None),
            "port down"
        );
        assert!(
            !any_active_port(&[dev("mlx5_0", &["ACTIVE"], true)], None),
            "cannot open"
        );
        assert!(any_active_port(
            &[
                dev("rxe0", &["DOWN"], false),
                dev("rxe1", &["INIT", "ACTIVE"], false)
            ],
            None
        ));
        assert!(
            !any_active_port(&[dev("rxe1", &["INIT", "ACTIVE"], false)], Some(1)),
            "port 1 not active"
        );
        assert!(any_active_port(
            &[dev("rxe1", &["INIT", "ACTIVE"], false)],
            Some(2)
        ));
    }
}
