//! PMI over TCP (`--hosts`): the accept loop and one serving thread per connection.

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::pmi::server::shared_writer;
use crate::pmi::{Connection, PmiServer};

/// Open TCP PMI connections beyond one per PE that the server accepts at once.
const PMI_SPARE_CONNECTIONS: usize = 32;
/// Time a TCP PMI connection has to prove the secret, counted from its accept (an absolute
/// deadline: sending a byte now and then does not extend it).
const PMI_AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the reaper looks for connections past their authentication deadline.
const PMI_REAP_EVERY: Duration = Duration::from_millis(250);
/// Pause after a failed `accept` (e.g. out of fds) so the accept thread does not spin.
const PMI_ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// One open TCP PMI connection as the accept thread and the reaper see it.
pub(super) struct TcpConn {
    pub(super) stream: Arc<std::net::TcpStream>,
    accepted: Instant,
    /// Set once the connection proved its rank's token.
    authed: Arc<std::sync::atomic::AtomicBool>,
}

/// Open TCP PMI connections, by connection number (shut down at the end of the job).
pub(super) type TcpSocks = Arc<std::sync::Mutex<HashMap<u64, TcpConn>>>;

/// One socket shared by the reader, the writer and the table (one fd per connection).
struct SharedStream(Arc<std::net::TcpStream>);

impl io::Read for SharedStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Write for SharedStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        (&*self.0).flush()
    }
}

/// Shuts down the unauthenticated connections older than `PMI_AUTH_TIMEOUT` (their serving
/// thread then sees end-of-file and counts them as refused). Returns how many.
fn reap_unauthenticated(socks: &TcpSocks, now: Instant) -> usize {
    let open = socks.lock().unwrap_or_else(|e| e.into_inner());
    let mut n = 0;
    for c in open.values() {
        if !c.authed.load(std::sync::atomic::Ordering::Acquire)
            && now.duration_since(c.accepted) >= PMI_AUTH_TIMEOUT
        {
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
            n += 1;
        }
    }
    n
}

/// Listens on `addr` only (the address the PEs are told to connect to) and serves each PMI
/// connection on its own thread; returns the port. At most np + PMI_SPARE_CONNECTIONS
/// connections are open at once: when the table is full, the oldest connection that has
/// not authenticated yet is shut down to make room (only when all are authenticated is the
/// newcomer refused). A connection that does not authenticate within PMI_AUTH_TIMEOUT of
/// its accept is shut down by a reaper thread, however slowly it trickles bytes.
pub(super) fn serve_tcp(
    server: &Arc<PmiServer>,
    socks: &TcpSocks,
    addr: std::net::IpAddr,
) -> io::Result<u16> {
    let listener = std::net::TcpListener::bind((addr, 0))?;
    let port = listener.local_addr()?.port();
    let server = server.clone();
    let max_open = server.size() + PMI_SPARE_CONNECTIONS;
    {
        let socks = socks.clone();
        thread::Builder::new()
            .name("pmi-tcp-reaper".into())
            .spawn(move || loop {
                thread::sleep(PMI_REAP_EVERY);
                reap_unauthenticated(&socks, Instant::now());
            })?;
    }
    let socks = socks.clone();
    thread::Builder::new()
        .name("pmi-tcp".into())
        .spawn(move || {
            let mut next_id = 0u64;
            for conn in listener.incoming() {
                let s = match conn {
                    Ok(s) => s,
                    Err(_) => {
                        // EMFILE, ENOBUFS...: wait instead of spinning on the same error.
                        thread::sleep(PMI_ACCEPT_BACKOFF);
                        continue;
                    }
                };
                let mut open = socks.lock().unwrap_or_else(|e| e.into_inner());
                if open.len() >= max_open {
                    // Make room by closing the oldest unauthenticated connection.
                    let oldest = open
                        .iter()
                        .filter(|(_, c)| !c.authed.load(std::sync::atomic::Ordering::Acquire))
                        .min_by_key(|(_, c)| c.accepted)
                        .map(|(id, _)| *id);
                    match oldest.and_then(|id| open.remove(&id)) {
                        Some(old) => {
                            let _ = old.stream.shutdown(std::net::Shutdown::Both);
                        }
                        None => {
                            drop(open);
                            server.count_refused();
                            let _ = (&s).write_all(
                                format!(
                                    "cmd=error rc=-1 msg=too_many_open_connections_(max_{max_open})\n"
                                )
                                .as_bytes(),
                            );
                            continue;
                        }
                    }
                }
                let _ = s.set_nodelay(true);
                // Backstop only: the reaper enforces the absolute deadline.
                let _ = s.set_read_timeout(Some(PMI_AUTH_TIMEOUT));
                let stream = Arc::new(s);
                let authed = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let id = next_id;
                next_id += 1;
                open.insert(
                    id,
                    TcpConn {
                        stream: stream.clone(),
                        accepted: Instant::now(),
                        authed: authed.clone(),
                    },
                );
                drop(open);
                let srv = server.clone();
                let socks2 = socks.clone();
                let spawned = thread::Builder::new()
                    .name("pmi-tcp-conn".into())
                    .spawn(move || {
                        let lift = stream.clone();
                        let flag = authed.clone();
                        let c = Connection::anonymous(shared_writer(SharedStream(stream.clone())))
                            .on_authenticated(move || {
                                flag.store(true, std::sync::atomic::Ordering::Release);
                                let _ = lift.set_read_timeout(None);
                            });
                        let reader = crate::pmi::server::PreAuthLimit::new(
                            SharedStream(stream),
                            authed,
                        );
                        srv.serve(c, BufReader::new(reader));
                        let gone = socks2.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                        if let Some(g) = gone {
                            let _ = g.stream.shutdown(std::net::Shutdown::Both);
                        }
                    });
                if spawned.is_err() {
                    // No thread to serve it: forget it (dropping the last handle closes it).
                    server.count_refused();
                    if let Some(g) = socks.lock().unwrap_or_else(|e| e.into_inner()).remove(&id) {
                        let _ = g.stream.shutdown(std::net::Shutdown::Both);
                    }
                }
            }
        })?;
    Ok(port)
}
