//! Algorithm selection: defaults by message size and team size, overridable by
//! environment variables.
//!
//! | variable | values |
//! |---|---|
//! | `RSHMEM_BARRIER_ALGORITHM` | `auto`, `dissemination` |
//! | `RSHMEM_BCAST_ALGORITHM` | `auto`, `binomial`, `scatter-allgather` |
//! | `RSHMEM_REDUCE_ALGORITHM` | `auto`, `recursive-doubling`, `ring`, `rabenseifner` |
//! | `RSHMEM_COLLECT_ALGORITHM` | `auto`, `recursive-doubling`, `ring` |
//! | `RSHMEM_ALLTOALL_ALGORITHM` | `auto`, `pairwise` |
//!
//! Values are case-insensitive and `_` equals `-`; unset or empty means `auto`.

use std::fmt;

/// Barrier algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierAlgorithm {
    /// [`crate::dissemination_barrier`].
    Dissemination,
}

/// Broadcast algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BcastAlgorithm {
    /// Binomial tree: ceil(log2 n) steps of the whole message. Small messages.
    Binomial,
    /// Scatter then ring allgather: ~2x the message per PE. Large messages.
    ScatterAllgather,
}

/// All-reduce algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceAlgorithm {
    /// Recursive doubling: log2 n exchanges of the whole vector. Small vectors.
    RecursiveDoubling,
    /// Ring reduce-scatter + ring allgather: 2 (n - 1) steps of m / n. Large vectors.
    Ring,
    /// Rabenseifner: reduce-scatter by recursive halving + allgather by recursive
    /// doubling, 2 log2 p steps moving about 2m in all (p: the largest power of two
    /// <= n; the other n - p members fold into a partner first and get the result back
    /// from it). Large vectors.
    Rabenseifner,
}

/// Collect / fcollect algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectAlgorithm {
    /// Ring: n-1 steps of one block. Large totals.
    Ring,
    /// Recursive doubling (Bruck-style, any n): ceil(log2 n) steps. Small totals.
    RecursiveDoubling,
}

/// Alltoall algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlltoallAlgorithm {
    /// Pairwise exchange.
    Pairwise,
}

// The thresholds below were measured with `rshmem-bench` on the shared-memory transport
// of a 2-core machine (BENCHMARKS.md, "Collectives": the crossovers, the commands, and how
// noisy and oversubscribed those measurements were).

/// Broadcasts of at least this many bytes use scatter-allgather (teams of 3 or more).
/// Measured: no consistent crossover (two rounds disagreed); left at 64 KiB.
pub const BCAST_SCATTER_ALLGATHER_MIN_BYTES: usize = 64 << 10;
/// Reductions of at least this many bytes use the ring (teams of 3 or more, unless
/// [`REDUCE_RABENSEIFNER_MIN_BYTES`] picks Rabenseifner). Measured: recursive doubling
/// wins up to 64 KiB and the ring from 128 KiB at 4 PEs (the earlier crossover rounds and
/// the Rabenseifner rounds of 2026-11-26 alike); was 64 KiB.
pub const REDUCE_RING_MIN_BYTES: usize = 128 << 10;
/// Teams of 2: the ring from this many bytes. Measured (2026-11-26, four rounds): the ring
/// (the same exchange as Rabenseifner at 2 PEs: half the vector each way, twice) beats
/// recursive doubling from 2 KiB up (pooled medians 0.62-0.88 of its time at 2-64 KiB),
/// recursive doubling is faster at 1 KiB and below; was 128 KiB.
pub const REDUCE_RING_MIN_BYTES_2PE: usize = 2 << 10;
/// Teams of at least [`REDUCE_RABENSEIFNER_MIN_PES`]: Rabenseifner from this many bytes
/// (non-powers of two only below [`REDUCE_RING_MIN_BYTES`], the ring above). Measured
/// (2026-11-26): at 8 PEs it beats recursive doubling from 16 KiB (3 of 4 rounds; from
/// 32 KiB in all 4) and the ring at 256 KiB-4 MiB in 17 of 20 medians; at 16 PEs from
/// 16 KiB, tied with the ring from 128 KiB; at 12 PEs (4 members fold) it wins
/// 32-64 KiB and loses to the ring from 128 KiB. At 3, 4 and 6 PEs it never won
/// consistently.
pub const REDUCE_RABENSEIFNER_MIN_BYTES: usize = 16 << 10;
/// Smallest team for which [`choose_reduce`] picks Rabenseifner.
pub const REDUCE_RABENSEIFNER_MIN_PES: usize = 8;
/// Collects whose total is at least this many bytes use the ring. Measured: recursive
/// doubling (Bruck) was as fast or faster at every size tried (up to 4 MiB per PE, totals
/// up to 32 MiB at 3, 4 and 8 PEs), so the ring is only chosen above that range (was
/// 32 KiB).
pub const COLLECT_RING_MIN_BYTES: usize = 64 << 20;

/// A bad value in one of the `RSHMEM_*_ALGORITHM` variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// The accepted values.
    pub expected: &'static [&'static str],
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?} is not a known algorithm; expected one of: auto, {}",
            self.var,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for ConfigError {}

/// An algorithm family selectable by environment variable.
trait Named: Copy + 'static {
    const VAR: &'static str;
    const NAMES: &'static [&'static str];
    const VALUES: &'static [Self];

    fn parse(value: &str) -> Result<Option<Self>, ConfigError> {
        let v = value.trim().to_ascii_lowercase().replace('_', "-");
        if v.is_empty() || v == "auto" {
            return Ok(None);
        }
        Self::NAMES
            .iter()
            .position(|&name| name == v)
            .map(|i| Some(Self::VALUES[i]))
            .ok_or_else(|| ConfigError {
                var: Self::VAR,
                value: value.to_string(),
                expected: Self::NAMES,
            })
    }
}

impl Named for BarrierAlgorithm {
    const VAR: &'static str = "RSHMEM_BARRIER_ALGORITHM";
    const NAMES: &'static [&'static str] = &["dissemination"];
    const VALUES: &'static [Self] = &[Self::Dissemination];
}
impl Named for BcastAlgorithm {
    const VAR: &'static str = "RSHMEM_BCAST_ALGORITHM";
    const NAMES: &'static [&'static str] = &["binomial", "scatter-allgather"];
    const VALUES: &'static [Self] = &[Self::Binomial, Self::ScatterAllgather];
}
impl Named for ReduceAlgorithm {
    const VAR: &'static str = "RSHMEM_REDUCE_ALGORITHM";
    const NAMES: &'static [&'static str] = &["recursive-doubling", "ring", "rabenseifner"];
    const VALUES: &'static [Self] = &[Self::RecursiveDoubling, Self::Ring, Self::Rabenseifner];
}
impl Named for CollectAlgorithm {
    const VAR: &'static str = "RSHMEM_COLLECT_ALGORITHM";
    const NAMES: &'static [&'static str] = &["recursive-doubling", "ring"];
    const VALUES: &'static [Self] = &[Self::RecursiveDoubling, Self::Ring];
}
impl Named for AlltoallAlgorithm {
    const VAR: &'static str = "RSHMEM_ALLTOALL_ALGORITHM";
    const NAMES: &'static [&'static str] = &["pairwise"];
    const VALUES: &'static [Self] = &[Self::Pairwise];
}

/// Forced algorithms (`None`: choose by size).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `RSHMEM_BARRIER_ALGORITHM`.
    pub barrier: Option<BarrierAlgorithm>,
    /// `RSHMEM_BCAST_ALGORITHM`.
    pub bcast: Option<BcastAlgorithm>,
    /// `RSHMEM_REDUCE_ALGORITHM`.
    pub reduce: Option<ReduceAlgorithm>,
    /// `RSHMEM_COLLECT_ALGORITHM`.
    pub collect: Option<CollectAlgorithm>,
    /// `RSHMEM_ALLTOALL_ALGORITHM`.
    pub alltoall: Option<AlltoallAlgorithm>,
}

impl Overrides {
    /// Reads the `RSHMEM_*_ALGORITHM` variables through `lookup` (name → value, `None` if
    /// unset). This crate does not read the process environment: the runtime passes
    /// `rshmem::env::text_by_name`, the reader of the one variable table.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        fn get<A: Named>(
            lookup: &impl Fn(&str) -> Option<String>,
        ) -> Result<Option<A>, ConfigError> {
            lookup(A::VAR).map_or(Ok(None), |v| A::parse(&v))
        }
        Ok(Self {
            barrier: get(&lookup)?,
            bcast: get(&lookup)?,
            reduce: get(&lookup)?,
            collect: get(&lookup)?,
            alltoall: get(&lookup)?,
        })
    }
}

/// Barrier algorithm for a team of `n`.
pub fn choose_barrier(o: &Overrides, _n: usize) -> BarrierAlgorithm {
    o.barrier.unwrap_or(BarrierAlgorithm::Dissemination)
}

/// Broadcast algorithm for `nbytes` over a team of `n`.
pub fn choose_bcast(o: &Overrides, nbytes: usize, n: usize) -> BcastAlgorithm {
    o.bcast
        .unwrap_or(if n >= 3 && nbytes >= BCAST_SCATTER_ALLGATHER_MIN_BYTES {
            BcastAlgorithm::ScatterAllgather
        } else {
            BcastAlgorithm::Binomial
        })
}

/// All-reduce algorithm for `nbytes` per PE over a team of `n`.
///
/// | team | recursive doubling | ring | Rabenseifner |
/// |---|---|---|---|
/// | 2 | < 2 KiB | >= 2 KiB | — |
/// | 3-7 | < 128 KiB | >= 128 KiB | — |
/// | >= 8, power of two | < 16 KiB | — | >= 16 KiB |
/// | >= 8, other | < 16 KiB | >= 128 KiB | 16-128 KiB |
pub fn choose_reduce(o: &Overrides, nbytes: usize, n: usize) -> ReduceAlgorithm {
    o.reduce.unwrap_or(
        if n >= REDUCE_RABENSEIFNER_MIN_PES
            && nbytes >= REDUCE_RABENSEIFNER_MIN_BYTES
            && (n.is_power_of_two() || nbytes < REDUCE_RING_MIN_BYTES)
        {
            ReduceAlgorithm::Rabenseifner
        } else if (n == 2 && nbytes >= REDUCE_RING_MIN_BYTES_2PE)
            || (n >= 3 && nbytes >= REDUCE_RING_MIN_BYTES)
        {
            ReduceAlgorithm::Ring
        } else {
            ReduceAlgorithm::RecursiveDoubling
        },
    )
}

/// Collect algorithm for a result of `total_bytes` over a team of `n` (for `collect`, the
/// total after the size exchange, so that every member chooses the same).
pub fn choose_collect(o: &Overrides, total_bytes: usize, n: usize) -> CollectAlgorithm {
    o.collect
        .unwrap_or(if n >= 3 && total_bytes >= COLLECT_RING_MIN_BYTES {
            CollectAlgorithm::Ring
        } else {
            CollectAlgorithm::RecursiveDoubling
        })
}

/// Alltoall algorithm for blocks of `nbytes` over a team of `n`.
pub fn choose_alltoall(o: &Overrides, _nbytes: usize, _n: usize) -> AlltoallAlgorithm {
    o.alltoall.unwrap_or(AlltoallAlgorithm::Pairwise)
}
