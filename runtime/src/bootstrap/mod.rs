//! Bootstrap: how a PE learns who it is and exchanges the few facts peers need to reach
//! it (segment names, addresses, keys) before any one-sided communication exists.
//!
//! The runtime speaks to a job launcher through a key-value store with a barrier:
//! - [`pmix`]: PMIx through `libpmix.so.2`, loaded at run time (`srun --mpi=pmix`,
//!   `mpirun.openmpi`);
//! - [`pmi2`]: the PMI-2 wire protocol over an inherited `PMI_FD` (`srun --mpi=pmi2`,
//!   `mpiexec.hydra`);
//! - [`pmi1`]: the PMI-1 "simple" wire protocol over an inherited `PMI_FD` (rshmemrun,
//!   `mpiexec.hydra`, `srun --mpi=pmi2`) or over TCP to `PMI_PORT` (`mpiexec.hydra -pmi-port`);
//! - [`mpi`] (cargo feature `mpi`): `MPI_COMM_WORLD` of a program that uses MPI too;
//! - [`singleton`]: no launcher, the program is PE 0 of 1.
//!
//! [`from_env`] picks one (see there); `RSHMEM_BOOTSTRAP=pmix|pmi2|pmi1|mpi|singleton`
//! forces it.
//!
//! Values of any length are hex-encoded and split over as many keys as the server's
//! `vallen_max` requires.
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod pmi1;
pub mod pmi2;
pub mod pmix;
pub mod singleton;
pub mod wire;

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many times this process re-initialized after a finalize (OpenSHMEM 1.6 allows it):
/// keys of generation g > 0 carry a `.g` suffix, so no key is ever put twice.
static GENERATION: AtomicUsize = AtomicUsize::new(0);

/// The launcher connection of a finalized runtime, kept open for a re-initialization and
/// finalized when the process exits ([`finalize_parked`]).
static PARKED: parking_lot::Mutex<Option<Box<dyn Kvs>>> = parking_lot::Mutex::new(None);

/// Keeps `kvs` for a later re-initialization instead of finalizing it now.
pub fn park(kvs: Box<dyn Kvs>) {
    *PARKED.lock() = Some(kvs);
}

/// The parked connection, if any, for a re-initialization (the next key generation).
pub fn unpark() -> Option<Box<dyn Kvs>> {
    let k = PARKED.lock().take();
    if k.is_some() {
        GENERATION.fetch_add(1, Ordering::AcqRel);
    }
    k
}

/// Finalizes the parked connection (at process exit).
pub fn finalize_parked() {
    if let Some(mut k) = PARKED.lock().take() {
        let _ = k.finalize();
    }
}

fn keyed(key: &str) -> String {
    match GENERATION.load(Ordering::Acquire) {
        0 => key.to_string(),
        g => format!("{key}.{g}"),
    }
}

/// Stands in for the connection of a finalized runtime: every call fails.
pub struct Closed;

impl Kvs for Closed {
    fn protocol(&self) -> &'static str {
        "closed"
    }
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn job_id(&self) -> &str {
        "closed"
    }
    fn maxes(&self) -> (usize, usize) {
        (64, 64)
    }
    fn put_raw(&mut self, _key: &str, _value: &str) -> Result<()> {
        Err(Error::State("rshmem is finalized"))
    }
    fn get_raw(&mut self, _key: &str) -> Result<Option<String>> {
        Err(Error::State("rshmem is finalized"))
    }
    fn barrier(&mut self) -> Result<()> {
        Err(Error::State("rshmem is finalized"))
    }
    fn process_mapping(&mut self) -> Option<Vec<usize>> {
        None
    }
    fn abort(&mut self, code: i32) -> ! {
        std::process::exit(code)
    }
    fn finalize(&mut self) -> Result<()> {
        Ok(())
    }
}

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
    let key = keyed(key);
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
    let key = keyed(key);
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

/// Bound on connecting to and handshaking with the launcher, from
/// `RSHMEM_BOOTSTRAP_TIMEOUT` (seconds, default 60).
pub fn timeout() -> std::time::Duration {
    // Init refused an invalid value already (`Config::from_env`); the default covers the
    // bootstrap used on its own.
    crate::env::bootstrap_timeout().unwrap_or(std::time::Duration::from_secs_f64(
        crate::env::DEFAULT_BOOTSTRAP_TIMEOUT,
    ))
}

/// Which launcher the environment points at, in the order that matters (under Hydra or
/// mpirun inside a Slurm allocation every rank also sees `SLURM_PROCID=0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// `PMIX_RANK` and a `PMIX_SERVER_URI*` variable.
    Pmix,
    /// `PMI_FD`, or `PMI_PORT` (+ `PMI_ID`).
    Pmi,
    /// `OMPI_COMM_WORLD_SIZE` > 1 but no PMIx variables.
    OpenMpiWithoutPmix,
    /// A Slurm step of several tasks without PMI (`srun --mpi=none`).
    SlurmWithoutPmi,
    /// No launcher.
    Singleton,
}

/// Classifies an environment (`var` looks a variable up; `names` lists the variable names).
pub fn detect(var: &dyn Fn(&str) -> Option<String>, names: &[String]) -> Detected {
    let many = |k: &str| {
        var(k)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .is_some_and(|n| n > 1)
    };
    if var("PMIX_RANK").is_some() && names.iter().any(|n| n.starts_with("PMIX_SERVER_URI")) {
        Detected::Pmix
    } else if var("PMI_FD").is_some() || var("PMI_PORT").is_some() {
        Detected::Pmi
    } else if var("OMPI_COMM_WORLD_RANK").is_some() && many("OMPI_COMM_WORLD_SIZE") {
        Detected::OpenMpiWithoutPmix
    } else if var("SLURM_STEP_ID").is_some()
        && var("SLURM_PROCID").is_some()
        && (many("SLURM_STEP_NUM_TASKS") || many("SLURM_NTASKS"))
    {
        Detected::SlurmWithoutPmi
    } else {
        Detected::Singleton
    }
}

fn pmi_auto() -> Result<Box<dyn Kvs>> {
    // PMI-2 where it is measured to work: Slurm's pmi2 plugin, recognised by the
    // `PMI_JOBID` it sets (and requires in fullinit). Hydra sets no PMI_JOBID and its PMI-2
    // `kvs-fence` did not hold PE 0 back until every PE arrived (4.0.2), so Hydra and
    // rshmemrun get PMI-1. Should a server decline PMI-2, the same connection goes on in PMI-1.
    if std::env::var_os("PMI_FD").is_some() && std::env::var_os("PMI_JOBID").is_some() {
        return Ok(match pmi2::connect(true)? {
            pmi2::Negotiated::Pmi2(p) => Box::new(p),
            pmi2::Negotiated::Pmi1(p) => Box::new(p),
        });
    }
    Ok(Box::new(pmi1::Pmi1::connect_from_env()?))
}

/// Whether this build has the MPI bootstrap (cargo feature `mpi`).
pub const MPI_COMPILED: bool = cfg!(feature = "mpi");

/// Whether automatic selection uses MPI: the feature is on and the program has already
/// initialized MPI (`MPI_Initialized`, and not `MPI_Finalized`).
fn mpi_usable() -> bool {
    #[cfg(feature = "mpi")]
    {
        mpi::program_initialized_mpi()
    }
    #[cfg(not(feature = "mpi"))]
    {
        false
    }
}

fn mpi_init() -> Result<Box<dyn Kvs>> {
    #[cfg(feature = "mpi")]
    {
        Ok(Box::new(mpi::Mpi::init()?))
    }
    #[cfg(not(feature = "mpi"))]
    {
        Err(Error::Bootstrap {
            protocol: "mpi",
            msg: "RSHMEM_BOOTSTRAP=mpi: this build has no MPI bootstrap (build rshmem with the cargo feature `mpi`)".into(),
        })
    }
}

/// Chooses the bootstrap. `RSHMEM_BOOTSTRAP=pmix|pmi2|pmi1|mpi|singleton` forces one (a
/// forced protocol that cannot work is an error naming it; forced `mpi` initializes MPI if
/// the program has not, and then also finalizes it). Otherwise:
/// - MPI, in a build with the cargo feature `mpi`, when the program has already
///   initialized MPI (`MPI_Initialized` and not `MPI_Finalized`): its MPI library is the
///   launcher's client already, and PMI over an inherited `PMI_FD` does not take a second
///   client (measured with MPICH under Hydra: rshmem's PMI-1 finalize closed the fd MPICH
///   needs in `MPI_Finalize`). rshmem never initializes MPI on its own guess;
/// - PMIx (`PMIX_RANK` + `PMIX_SERVER_URI*`);
/// - PMI (`PMI_FD` + `PMI_JOBID` (Slurm): PMI-2, falling back to PMI-1 if the server
///   declines it; `PMI_FD` alone (Hydra, rshmemrun) or `PMI_PORT`+`PMI_ID`: PMI-1);
/// - singleton.
///
/// An Open MPI or multi-task Slurm environment without a usable key-value store is an
/// error rather than N singletons.
pub fn from_env() -> Result<Box<dyn Kvs>> {
    let forced = crate::env::text(&crate::env::RSHMEM_BOOTSTRAP)
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty() && v != "auto");
    let bad = |protocol: &'static str, msg: String| Error::Bootstrap { protocol, msg };
    match forced.as_deref() {
        Some("pmix") => return Ok(Box::new(pmix::Pmix::init()?)),
        Some("pmi2") => {
            return match pmi2::connect(false)? {
                pmi2::Negotiated::Pmi2(p) => Ok(Box::new(p)),
                pmi2::Negotiated::Pmi1(_) => unreachable!("PMI-1 fallback not allowed"),
            }
        }
        Some("pmi1") | Some("pmi") => {
            if std::env::var_os("PMI_FD").is_none() && std::env::var_os("PMI_PORT").is_none() {
                return Err(bad(
                    "pmi1",
                    "RSHMEM_BOOTSTRAP=pmi1 but neither PMI_FD nor PMI_PORT is set (not started by a PMI launcher)".into(),
                ));
            }
            return Ok(Box::new(pmi1::Pmi1::connect_from_env()?));
        }
        Some("singleton") => return Ok(Box::new(singleton::Singleton::new())),
        Some("mpi") => return mpi_init(),
        Some(other) => {
            return Err(bad(
                "auto",
                format!(
                    "RSHMEM_BOOTSTRAP={other:?} is not one of pmix, pmi2, pmi1, mpi, singleton"
                ),
            ))
        }
        None => {}
    }
    // A program that has initialized MPI: its MPI library is already the launcher's client
    // (under Hydra it owns PMI_FD, and a second PMI client on that fd broke MPI_Finalize),
    // so rshmem joins the job through MPI.
    if mpi_usable() {
        return mpi_init();
    }
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    match detect(&|k| std::env::var(k).ok(), &names) {
        Detected::Pmix => match pmix::Pmix::init() {
            Ok(p) => Ok(Box::new(p)),
            // Some launchers set both (PMIx servers with a PMI-1/2 shim): use PMI then.
            Err(e) if std::env::var_os("PMI_FD").is_some() => {
                pmi_auto().map_err(|e2| bad("pmix", format!("{e}; then PMI: {e2}")))
            }
            Err(e) => Err(e),
        },
        Detected::Pmi => pmi_auto(),
        Detected::OpenMpiWithoutPmix => Err(bad(
            "auto",
            "OMPI_COMM_WORLD_SIZE > 1 but no PMIx server variables (PMIX_RANK, PMIX_SERVER_URI*): cannot join the job".into(),
        )),
        Detected::SlurmWithoutPmi => Err(bad(
            "auto",
            "started by srun with several tasks but without PMI: use `srun --mpi=pmi2` or `srun --mpi=pmix`".into(),
        )),
        Detected::Singleton => Ok(Box::new(singleton::Singleton::new())),
    }
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

    fn env(pairs: &[(&str, &str)]) -> Detected {
        let names: Vec<String> = pairs.iter().map(|(k, _)| k.to_string()).collect();
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        detect(&|k| map.get(k).cloned(), &names)
    }

    #[test]
    fn detection_order() {
        assert_eq!(env(&[]), Detected::Singleton);
        // mpirun.openmpi
        let ompi = [
            ("OMPI_COMM_WORLD_RANK", "1"),
            ("OMPI_COMM_WORLD_SIZE", "4"),
            ("PMIX_RANK", "1"),
            ("PMIX_NAMESPACE", "x"),
            ("PMIX_SERVER_URI4", "x"),
            ("SLURM_PROCID", "0"),
            ("SLURM_STEP_ID", "0"),
            ("SLURM_NTASKS", "4"),
        ];
        assert_eq!(env(&ompi), Detected::Pmix);
        assert_eq!(env(&ompi[..2]), Detected::OpenMpiWithoutPmix);
        // Hydra inside a Slurm allocation
        let hydra = [
            ("PMI_FD", "5"),
            ("PMI_RANK", "2"),
            ("PMI_SIZE", "4"),
            ("SLURM_PROCID", "0"),
            ("SLURM_STEP_ID", "0"),
            ("SLURM_NTASKS", "4"),
        ];
        assert_eq!(env(&hydra), Detected::Pmi);
        assert_eq!(env(&hydra[3..]), Detected::SlurmWithoutPmi);
        assert_eq!(
            env(&[
                ("SLURM_PROCID", "0"),
                ("SLURM_STEP_ID", "0"),
                ("SLURM_NTASKS", "1")
            ]),
            Detected::Singleton
        );
        assert_eq!(env(&[("PMI_PORT", "h:1"), ("PMI_ID", "0")]), Detected::Pmi);
        // PMIX_RANK without a server URI is not enough
        assert_eq!(env(&[("PMIX_RANK", "0")]), Detected::Singleton);
    }
}
