//! Bootstrap: how a PE learns who it is and exchanges the few facts peers need to reach
//! it (segment names, addresses, keys) before any one-sided communication exists.
//!
//! The runtime speaks to a job launcher through a key-value store with a barrier:
//! - [`pmi1`]: the PMI-1 "simple" wire protocol over an inherited `PMI_FD` (rshmemrun,
//!   `mpiexec.hydra`, `srun --mpi=pmi2`) or over TCP to `PMI_PORT` (`mpiexec.hydra -pmi-port`);
//! - [`singleton`]: no launcher, the program is PE 0 of 1.
//!
//! Values of any length are hex-encoded and split over as many keys as the server's
//! `vallen_max` requires.
pub mod pmi1;
pub mod singleton;
pub mod wire;

use crate::error::{Error, Result};

/// A key-value store with a barrier, as a launcher provides.
pub trait Kvs: Send {
    /// Protocol name for messages ("pmi1", "singleton").
    fn protocol(&self) -> &'static str;
    /// This process's rank in the job.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// A job identifier unique on the node (the PMI kvsname).
    fn job_id(&self) -> &str;
    /// Largest key and value (in characters) the server accepts.
    fn maxes(&self) -> (usize, usize);
    /// Stores `key=value` (printable, no spaces).
    fn put_raw(&mut self, key: &str, value: &str) -> Result<()>;
    /// Reads a key that some rank stored before the last [`Kvs::barrier`].
    fn get_raw(&mut self, key: &str) -> Result<Option<String>>;
    /// Collective barrier that also makes every earlier put visible to every get.
    fn barrier(&mut self) -> Result<()>;
    /// The node index of every rank, if the launcher tells (PMI_process_mapping).
    fn process_mapping(&mut self) -> Option<Vec<usize>>;
    /// Tells the launcher to kill the job with `code`; does not return.
    fn abort(&mut self, code: i32) -> !;
    /// Leaves the job cleanly.
    fn finalize(&mut self) -> Result<()>;
}

/// Puts a binary value of any length under `key` for this rank (hex, chunked).
pub fn put(kvs: &mut dyn Kvs, key: &str, value: &[u8]) -> Result<()> {
    let (keymax, valmax) = kvs.maxes();
    let chunk = (valmax.saturating_sub(2) / 2).max(1);
    let rank = kvs.rank();
    let base = format!("{key}-{rank}");
    if base.len() + 12 > keymax {
        return Err(Error::Bootstrap {
            protocol: kvs.protocol(),
            msg: format!("key {base:?} is too long for the server's keylen_max={keymax}"),
        });
    }
    let chunks: Vec<&[u8]> = if value.is_empty() {
        vec![&[][..]]
    } else {
        value.chunks(chunk).collect()
    };
    kvs.put_raw(&format!("{base}-n"), &chunks.len().to_string())?;
    for (i, c) in chunks.iter().enumerate() {
        kvs.put_raw(&format!("{base}-{i}"), &wire::hex_encode(c))?;
    }
    Ok(())
}

/// Reads the binary value `rank` stored under `key` (after a barrier).
pub fn get(kvs: &mut dyn Kvs, rank: usize, key: &str) -> Result<Vec<u8>> {
    let base = format!("{key}-{rank}");
    let missing = |kvs: &dyn Kvs, k: &str| Error::Bootstrap {
        protocol: kvs.protocol(),
        msg: format!(
            "key {k:?} not found in the key-value store (did PE {rank} fail during init?)"
        ),
    };
    let nkey = format!("{base}-n");
    let n: usize = kvs
        .get_raw(&nkey)?
        .ok_or_else(|| missing(&*kvs, &nkey))?
        .parse()
        .map_err(|_| Error::Bootstrap {
            protocol: kvs.protocol(),
            msg: format!("corrupt value for key {nkey:?}"),
        })?;
    let mut out = Vec::new();
    for i in 0..n {
        let k = format!("{base}-{i}");
        let v = kvs.get_raw(&k)?.ok_or_else(|| missing(&*kvs, &k))?;
        let bytes = wire::hex_decode(&v).ok_or_else(|| Error::Bootstrap {
            protocol: kvs.protocol(),
            msg: format!("value of key {k:?} is not hex"),
        })?;
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// Chooses the bootstrap from the environment: PMI (`PMI_FD`, or `PMI_PORT` + `PMI_ID`),
/// otherwise singleton.
pub fn from_env() -> Result<Box<dyn Kvs>> {
    if std::env::var_os("PMI_FD").is_some() || std::env::var_os("PMI_PORT").is_some() {
        return Ok(Box::new(pmi1::Pmi1::connect_from_env()?));
    }
    Ok(Box::new(singleton::Singleton::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_values_round_trip_through_small_servers() {
        let mut s = singleton::Singleton::with_maxes(64, 10);
        let value: Vec<u8> = (0..=255).collect();
        put(&mut s, "seg", &value).unwrap();
        put(&mut s, "empty", &[]).unwrap();
        s.barrier().unwrap();
        assert_eq!(get(&mut s, 0, "seg").unwrap(), value);
        assert_eq!(get(&mut s, 0, "empty").unwrap(), Vec::<u8>::new());
        let e = get(&mut s, 3, "seg").unwrap_err().to_string();
        assert!(e.contains("seg-3-n") && e.contains("PE 3"), "{e}");
    }
}
