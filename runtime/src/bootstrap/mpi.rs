//! MPI bootstrap (cargo feature `mpi`, through rsmpi): for programs that use MPI and
//! rshmem together. The PEs are the ranks of `MPI_COMM_WORLD`, in the same order.
//!
//! - The key-value store lives in this process: [`Kvs::put_raw`] only records the pair;
//!   [`Kvs::barrier`] exchanges every pair recorded since the previous barrier with an
//!   `MPI_Allgather` of the sizes and an `MPI_Allgatherv` of the pairs (which also
//!   synchronizes: no rank leaves before every rank has contributed); [`Kvs::get_raw`]
//!   then reads the local table.
//! - All of this runs on a private duplicate of `MPI_COMM_WORLD` (`MPI_Comm_dup`), so
//!   rshmem's collectives never match the program's own messages or collectives.
//! - Locality: `MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)` groups the ranks that can share
//!   memory; a node's index is the order of its lowest world rank.
//! - The job id (it names the shared-memory objects) is 16 random bytes drawn by rank 0
//!   and broadcast.
//! - Abort is `MPI_Abort(MPI_COMM_WORLD)`.
//! - Who finalizes MPI: whoever initialized it. If the program called `MPI_Init` first,
//!   [`Kvs::finalize`] only frees rshmem's communicators and MPI stays usable; if rshmem
//!   initialized MPI (`RSHMEM_BOOTSTRAP=mpi` in a program that had not), rshmem's finalize
//!   calls `MPI_Finalize`. If the program has already finalized MPI when rshmem finalizes,
//!   the communicators are left alone (freeing them would be erroneous).
//!
//! Threads: rshmem calls MPI only from inside `init`, `finalize`, an abort, and (with the
//! verbs transport) symmetric-heap growth, one call at a time behind the runtime's mutex.
//! When rshmem initializes MPI it asks for `MPI_THREAD_SERIALIZED`; a program that
//! initialized MPI with `MPI_THREAD_SINGLE` or `MPI_THREAD_FUNNELED` must make those rshmem
//! calls from its main thread.
use super::Kvs;
use crate::error::{Error, Result};
use mpi::collective::{CommunicatorCollectives, Root};
use mpi::datatype::PartitionMut;
use mpi::environment::{Threading, Universe};
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::Count;
use std::collections::HashMap;
use std::mem::ManuallyDrop;

fn merr(msg: String) -> Error {
    Error::Bootstrap {
        protocol: "mpi",
        msg,
    }
}

/// Whether the program has initialized MPI and not yet finalized it (`MPI_Initialized`,
/// `MPI_Finalized`): the condition under which automatic selection picks this bootstrap.
pub fn program_initialized_mpi() -> bool {
    mpi::environment::is_initialized() && !mpi::environment::is_finalized()
}

/// The MPI library this build links (`MPI_Get_library_version`, first line).
pub fn library_version() -> String {
    mpi::environment::library_version()
        .ok()
        .and_then(|v| v.lines().next().map(|l| l.trim().to_string()))
        .unwrap_or_else(|| "unknown MPI library".into())
}

/// A key-value store over `MPI_COMM_WORLD`.
pub struct Mpi {
    /// rshmem's duplicate of `MPI_COMM_WORLD` (freed at finalize, or leaked if MPI is
    /// already gone by then).
    comm: ManuallyDrop<SimpleCommunicator>,
    /// Set when rshmem called `MPI_Init_thread` itself: dropping it calls `MPI_Finalize`.
    universe: Option<Universe>,
    rank: usize,
    size: usize,
    job: String,
    /// Node index of every rank.
    nodes: Vec<usize>,
    /// Pairs put since the last barrier.
    pending: Vec<(String, String)>,
    /// Everything exchanged so far.
    table: HashMap<String, String>,
    finalized: bool,
}

// SAFETY: `SimpleCommunicator` holds an MPI handle (a pointer in Open MPI), which is what
// makes it `!Send`. MPI handles may be used from any thread as long as the calls respect
// the thread level (see the module documentation); the runtime keeps this store behind a
// mutex, so no two threads call MPI through it at once.
unsafe impl Send for Mpi {}

impl Mpi {
    /// Joins `MPI_COMM_WORLD`, initializing MPI (`MPI_THREAD_SERIALIZED`) if the program has
    /// not. Collective over `MPI_COMM_WORLD`.
    pub fn init() -> Result<Self> {
        if mpi::environment::is_finalized() {
            return Err(merr(
                "MPI has already been finalized in this process (rshmem must be initialized before MPI_Finalize)".into(),
            ));
        }
        let universe = if mpi::environment::is_initialized() {
            None
        } else {
            // `None`: another thread initialized MPI in between; it is the program's then.
            mpi::initialize_with_threading(Threading::Serialized).map(|(u, _provided)| u)
        };
        let world = SimpleCommunicator::world();
        let comm = world.duplicate();
        let rank = usize::try_from(comm.rank()).map_err(|_| merr("negative rank".into()))?;
        let size = usize::try_from(comm.size()).map_err(|_| merr("negative size".into()))?;

        // Job id: random on rank 0, the same everywhere.
        let mut id = [0u8; 16];
        if rank == 0 {
            getrandom::getrandom(&mut id)
                .map_err(|e| merr(format!("no random bytes for the job id: {e}")))?;
        }
        comm.process_at_rank(0).broadcast_into(&mut id[..]);
        let job = format!("mpi-{}", super::wire::hex_encode(&id));

        // Locality: ranks sharing memory, named by their lowest world rank.
        let node_comm = comm.split_shared(0);
        let mut leader = comm.rank();
        node_comm.all_reduce_into(
            &comm.rank(),
            &mut leader,
            mpi::collective::SystemOperation::min(),
        );
        drop(node_comm);
        let mut leaders = vec![0 as mpi::Rank; size];
        comm.all_gather_into(&leader, &mut leaders[..]);
        let mut distinct = leaders.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let nodes = leaders
            .iter()
            .map(|l| distinct.binary_search(l).expect("a leader of the list"))
            .collect();

        Ok(Self {
            comm: ManuallyDrop::new(comm),
            universe,
            rank,
            size,
            job,
            nodes,
            pending: Vec::new(),
            table: HashMap::new(),
            finalized: false,
        })
    }

    /// Whether rshmem initialized MPI (and so finalizes it).
    pub fn owns_mpi(&self) -> bool {
        self.universe.is_some()
    }

    fn exchange(&mut self) -> Result<()> {
        // Never an empty buffer: the pointer of an empty Vec<u8> is 0x1, which is
        // MPI_IN_PLACE in Open MPI (MPI_ERR_ARG, measured). So every block starts with
        // its number of pairs.
        let mut mine = (self.pending.len() as u32).to_le_bytes().to_vec();
        for (k, v) in self.pending.drain(..) {
            encode_pair(&mut mine, &k, &v);
        }
        let too_big = || merr("more than 2 GiB of key-value pairs in one barrier".into());
        let len = Count::try_from(mine.len()).map_err(|_| too_big())?;
        let mut counts = vec![0 as Count; self.size];
        self.comm.all_gather_into(&len, &mut counts[..]);
        let mut displs = Vec::with_capacity(self.size);
        let mut total: Count = 0;
        for &c in &counts {
            displs.push(total);
            total = total.checked_add(c).ok_or_else(too_big)?;
        }
        let mut all = vec![0u8; total as usize];
        {
            let mut part = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            self.comm.all_gather_varcount_into(&mine[..], &mut part);
        }
        for (r, (&d, &c)) in displs.iter().zip(&counts).enumerate() {
            let block = &all[d as usize..(d + c) as usize];
            decode_pairs(block, &mut self.table)
                .ok_or_else(|| merr(format!("corrupt key-value block from rank {r}")))?;
        }
        Ok(())
    }

    fn release(&mut self) {
        // SAFETY: `comm` is taken exactly once (`finalized` guards every path here).
        let comm = unsafe { ManuallyDrop::take(&mut self.comm) };
        if mpi::environment::is_finalized() {
            // MPI_Comm_free after MPI_Finalize is erroneous; the handle dies with MPI.
            std::mem::forget(comm);
            if let Some(u) = self.universe.take() {
                std::mem::forget(u);
            }
        } else {
            drop(comm);
            // rshmem's own MPI_Init: MPI_Finalize (Universe's drop).
            drop(self.universe.take());
        }
    }
}

/// Appends `key`, `value` as two length-prefixed (u32 little-endian) byte strings.
fn encode_pair(out: &mut Vec<u8>, key: &str, value: &str) {
    for s in [key, value] {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
}

/// Decodes a block (a u32 count, then that many [`encode_pair`]s) into `table`; `None` if
/// it is malformed.
fn decode_pairs(mut block: &[u8], table: &mut HashMap<String, String>) -> Option<()> {
    fn take_u32(b: &mut &[u8]) -> Option<usize> {
        let n = u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
        *b = &b[4..];
        Some(n)
    }
    fn take<'a>(b: &mut &'a [u8]) -> Option<&'a str> {
        let n = take_u32(b)?;
        let s = std::str::from_utf8(b.get(..n)?).ok()?;
        *b = &b[n..];
        Some(s)
    }
    for _ in 0..take_u32(&mut block)? {
        let k = take(&mut block)?;
        let v = take(&mut block)?;
        table.insert(k.to_string(), v.to_string());
    }
    block.is_empty().then_some(())
}

impl Kvs for Mpi {
    fn protocol(&self) -> &'static str {
        "mpi"
    }
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn job_id(&self) -> &str {
        &self.job
    }
    fn maxes(&self) -> (usize, usize) {
        // No protocol limit: keys stay short, values are chunked moderately.
        (1024, 64 * 1024)
    }
    fn put_raw(&mut self, key: &str, value: &str) -> Result<()> {
        if self.finalized {
            return Err(merr("put after finalize".into()));
        }
        self.pending.push((key.to_string(), value.to_string()));
        Ok(())
    }
    fn get_raw(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self.table.get(key).cloned())
    }
    fn barrier(&mut self) -> Result<()> {
        if self.finalized {
            return Err(merr("barrier after finalize".into()));
        }
        if mpi::environment::is_finalized() {
            return Err(merr(
                "the program finalized MPI while rshmem still needs it (call shmem_finalize before MPI_Finalize)".into(),
            ));
        }
        self.exchange()
    }
    fn process_mapping(&mut self) -> Option<Vec<usize>> {
        Some(self.nodes.clone())
    }
    fn abort(&mut self, code: i32) -> ! {
        if program_initialized_mpi() {
            SimpleCommunicator::world().abort(code)
        }
        std::process::exit(code)
    }
    fn finalize(&mut self) -> Result<()> {
        if self.finalized {
            return Ok(());
        }
        self.finalized = true;
        self.release();
        Ok(())
    }
}

impl Drop for Mpi {
    fn drop(&mut self) {
        if !self.finalized {
            self.finalized = true;
            self.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let mut b = 3u32.to_le_bytes().to_vec();
        encode_pair(&mut b, "rshmem-seg-3-n", "1");
        encode_pair(&mut b, "rshmem-seg-3-0", "");
        encode_pair(&mut b, "k", &"ab".repeat(1000));
        let mut t = HashMap::new();
        decode_pairs(&b, &mut t).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t["rshmem-seg-3-n"], "1");
        assert_eq!(t["rshmem-seg-3-0"], "");
        assert_eq!(t["k"].len(), 2000);
        assert!(decode_pairs(&b[..b.len() - 1], &mut t).is_none());
        assert!(decode_pairs(&[b.clone(), vec![0]].concat(), &mut t).is_none());
        assert!(decode_pairs(&[], &mut t).is_none());
        assert!(decode_pairs(&0u32.to_le_bytes(), &mut t).is_some());
    }
    // Initializing MPI is left to the mpi_hello example (scripts/mpi-tests.sh): a unit
    // test that did it would make every other test of this binary that calls `init`
    // pick the MPI bootstrap.
}
