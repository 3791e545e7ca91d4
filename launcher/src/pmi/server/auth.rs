//! Authentication of anonymous connections: the job's master secret ([`new_secret`]),
//! each rank's token derived from it ([`rank_token`]) and the constant-time comparison
//! ([`ct_eq`]) used to check an `initack`.

use std::io;

use rshmem_pmi::hex_encode;

/// Length in bytes of a job secret ([`new_secret`]): 128 bits, sent as 32 hex digits.
pub const SECRET_BYTES: usize = 16;

/// A fresh random job secret as lowercase hex (from the OS's random source).
pub fn new_secret() -> io::Result<String> {
    let mut b = [0u8; SECRET_BYTES];
    getrandom::getrandom(&mut b).map_err(|e| io::Error::other(format!("getrandom: {e}")))?;
    Ok(hex_encode(&b))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut d = 0u8;
    for (x, y) in a.iter().zip(b) {
        d |= x ^ y;
    }
    std::hint::black_box(d) == 0
}

/// The token of rank `rank` in a job whose master secret is `master` (hex):
/// `HMAC-SHA256(master, decimal rank)` as 64 lowercase hex digits. Each PE gets only its
/// own token (as `RSHMEM_PMI_SECRET`), so a token sniffed from one PE's `initack` claims
/// no other rank.
pub fn rank_token(master: &str, rank: usize) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(master.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(rank.to_string().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}
