//! Which local address the TCP transport listens on.
use std::io;
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs, UdpSocket};

/// Every (interface name, IPv4 address) of this host, in the kernel's order.
pub fn interfaces() -> Vec<(String, IpAddr)> {
    let mut out = Vec::new();
    let mut ifa: *mut libc::ifaddrs = core::ptr::null_mut();
    // SAFETY: getifaddrs fills a list we free below; every pointer is checked for null.
    unsafe {
        if libc::getifaddrs(&mut ifa) != 0 {
            return out;
        }
        let mut p = ifa;
        while !p.is_null() {
            let a = (*p).ifa_addr;
            if !a.is_null() && (*a).sa_family as i32 == libc::AF_INET {
                let sin = &*(a as *const libc::sockaddr_in);
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                let name = std::ffi::CStr::from_ptr((*p).ifa_name)
                    .to_string_lossy()
                    .into_owned();
                out.push((name, IpAddr::V4(ip)));
            }
            p = (*p).ifa_next;
        }
        libc::freeifaddrs(ifa);
    }
    out
}

/// The address to listen on. `spec` (`RSHMEM_TCP_IF`) is an address or an interface name;
/// without it: the local address of the route to `pmi` (the launcher's `host:port`, so
/// the network the job already uses), else the first non-loopback IPv4 address, else
/// 127.0.0.1.
pub fn choose(spec: Option<&str>, pmi: Option<&str>) -> io::Result<IpAddr> {
    if let Some(s) = spec.map(str::trim).filter(|s| !s.is_empty()) {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(ip);
        }
        let ifs = interfaces();
        return ifs
            .iter()
            .find(|(n, _)| n == s)
            .map(|(_, ip)| *ip)
            .ok_or_else(|| {
                let names: Vec<String> =
                    ifs.iter().map(|(n, ip)| format!("{n} ({ip})")).collect();
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "RSHMEM_TCP_IF={s:?} is neither an IP address nor an interface with an IPv4 \
                         address; this host has: {}",
                        names.join(", ")
                    ),
                )
            });
    }
    if let Some(p) = pmi {
        // A UDP "connect" sends nothing: it only asks the kernel for the route's source.
        if let Some(to) = p.to_socket_addrs().ok().and_then(|mut a| a.next()) {
            if let Ok(u) = UdpSocket::bind(("0.0.0.0", 0)) {
                if u.connect(to).is_ok() {
                    if let Ok(l) = u.local_addr() {
                        if !l.ip().is_unspecified() {
                            return Ok(l.ip());
                        }
                    }
                }
            }
        }
    }
    Ok(interfaces()
        .into_iter()
        .map(|(_, ip)| ip)
        .find(|ip| !ip.is_loopback())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_address_and_interface() {
        assert_eq!(
            choose(Some("127.0.0.1"), None).unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            choose(Some("lo"), None).unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        let e = choose(Some("nosuchif0"), None).unwrap_err().to_string();
        assert!(e.contains("RSHMEM_TCP_IF") && e.contains("lo"), "{e}");
        assert!(choose(None, Some("127.0.0.1:1")).unwrap().is_loopback());
    }
}
