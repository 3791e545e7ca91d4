//! PMI over TCP (`--hosts`): the accept loop and one serving thread per connection.

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::pmi::server::shared_writer;
use crate::pmi::{Connection, PmiServer};

/// Open TCP PMI connections beyond one per PE that the server accepts at once.
const PMI_SPARE_CONNECTIONS: usize = 32;
/// Time a TCP PMI connection has to prove the secret before it is closed.
const PMI_AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// Open TCP PMI connections, by connection number (shut down at the end of the job).
pub(super) type TcpSocks = Arc<std::sync::Mutex<HashMap<u64, std::net::TcpStream>>>;

/// Listens on `addr` only (the address the PEs are told to connect to) and serves each PMI
/// connection on its own thread; returns the port. At most np + PMI_SPARE_CONNECTIONS
/// connections are open at once; one that does not authenticate within PMI_AUTH_TIMEOUT
/// is closed.
pub(super) fn serve_tcp(
    server: &Arc<PmiServer>,
    socks: &TcpSocks,
    addr: std::net::IpAddr,
) -> io::Result<u16> {
    let listener = std::net::TcpListener::bind((addr, 0))?;
    let port = listener.local_addr()?.port();
    let server = server.clone();
    let socks = socks.clone();
    let max_open = server.size() + PMI_SPARE_CONNECTIONS;
    thread::Builder::new()
        .name("pmi-tcp".into())
        .spawn(move || {
            let mut next_id = 0u64;
            for conn in listener.incoming() {
                let Ok(mut s) = conn else { continue };
                let mut open = socks.lock().unwrap_or_else(|e| e.into_inner());
                if open.len() >= max_open {
                    drop(open);
                    server.count_refused();
                    let _ = s.write_all(
                        format!("cmd=error rc=-1 msg=too_many_open_connections_(max_{max_open})\n")
                            .as_bytes(),
                    );
                    continue;
                }
                let _ = s.set_nodelay(true);
                let _ = s.set_read_timeout(Some(PMI_AUTH_TIMEOUT));
                let (Ok(reader), Ok(keep), Ok(lift)) =
                    (s.try_clone(), s.try_clone(), s.try_clone())
                else {
                    continue;
                };
                let id = next_id;
                next_id += 1;
                open.insert(id, keep);
                drop(open);
                let srv = server.clone();
                let socks = socks.clone();
                let _ = thread::Builder::new()
                    .name("pmi-tcp-conn".into())
                    .spawn(move || {
                        let c =
                            Connection::anonymous(shared_writer(s)).on_authenticated(move || {
                                let _ = lift.set_read_timeout(None);
                            });
                        srv.serve(c, BufReader::new(reader));
                        let gone = socks.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                        if let Some(g) = gone {
                            let _ = g.shutdown(std::net::Shutdown::Both);
                        }
                    });
            }
        })?;
    Ok(port)
}
