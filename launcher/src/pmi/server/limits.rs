//! The server's limits: the sizes it advertises and enforces (`get_maxes`, keys per
//! rank), the pre-authentication line limit ([`PreAuthLimit`]) and the per-rank key
//! reservation ([`key_rank`]).

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Longest kvsname the server advertises (`kvsname_max`).
pub const KVSNAME_MAX: usize = 256;
/// Longest key accepted by `put` (`keylen_max`).
pub const KEYLEN_MAX: usize = 64;
/// Longest value accepted by `put` (`vallen_max`).
pub const VALLEN_MAX: usize = 1024;
/// Most keys one rank may put (a put beyond is refused with a clear error).
pub const MAX_KEYS_PER_RANK: usize = 1024;

/// Longest line an unauthenticated connection may send (its `initack` is about 110 bytes).
pub const PREAUTH_LINE_MAX: usize = 256;

/// A reader for a connection that has not authenticated yet: as soon as a line runs past
/// [`PREAUTH_LINE_MAX`] bytes without a newline it fails with `InvalidData` (the server
/// answers and closes) instead of reading on until a newline that may never come. Once
/// `authed` is set it passes everything through.
pub struct PreAuthLimit<R> {
    inner: R,
    authed: Arc<std::sync::atomic::AtomicBool>,
    run: usize,
}

impl<R> PreAuthLimit<R> {
    /// Wraps `inner`; `authed` is set by the connection's `on_authenticated` callback.
    pub fn new(inner: R, authed: Arc<std::sync::atomic::AtomicBool>) -> Self {
        PreAuthLimit {
            inner,
            authed,
            run: 0,
        }
    }
}

impl<R: io::Read> io::Read for PreAuthLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.authed.load(Ordering::Acquire) {
            for &b in &buf[..n] {
                self.run = if b == b'\n' { 0 } else { self.run + 1 };
                if self.run > PREAUTH_LINE_MAX {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "line too long before authentication",
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// The rank a key of the runtime's form `rshmem-<name>[.<generation>]-<rank>[-...]` is
/// reserved for (`rshmem-seg-3-0`, `rshmem-seg.2-3-n`, `rshmem-exit-3`), if it has that
/// form. Only that rank may put such a key.
pub fn key_rank(key: &str) -> Option<usize> {
    let rest = key.strip_prefix("rshmem-")?;
    let mut parts = rest.split('-');
    let name = parts.next()?;
    let rank = parts.next()?;
    if name.is_empty() || rank.is_empty() || !rank.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rank.parse().ok()
}
