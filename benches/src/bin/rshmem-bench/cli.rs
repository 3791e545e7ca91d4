//! The command line: the tests ([`Test`]), the options ([`Args`]) and their defaults.
use clap::{Parser, ValueEnum};
use rshmem_benches::parse_size;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum Test {
    /// put + quiet latency, 1 B to 4 MiB (us)
    #[value(name = "put_lat", alias = "put-lat")]
    PutLat,
    /// blocking get latency, 1 B to 4 MiB (us)
    #[value(name = "get_lat", alias = "get-lat")]
    GetLat,
    /// windows of non-blocking puts then quiet, 1 B to 4 MiB (MB/s, 10^6 bytes)
    #[value(name = "put_bw", alias = "put-bw")]
    PutBw,
    /// 8-byte non-blocking puts in windows, then quiet (messages/s)
    #[value(name = "msg_rate", alias = "msg-rate")]
    MsgRate,
    /// 64-bit AMO latency: fetch_add, fetch, swap, compare_swap, add, inc (us)
    #[value(name = "atomic_lat", alias = "atomic-lat")]
    AtomicLat,
    /// 8-byte p / wait_until ping-pong between PE 0 and its partner, half the round trip
    /// (us): what perftest's ib_write_lat measures
    #[value(name = "pingpong_lat", alias = "pingpong-lat")]
    PingpongLat,
    /// put_nbi + quiet latency, 1 B to 4 MiB (us)
    #[value(name = "put_nbi_lat", alias = "put-nbi-lat")]
    PutNbiLat,
    /// get_nbi + quiet latency, 1 B to 4 MiB (us)
    #[value(name = "get_nbi_lat", alias = "get-nbi-lat")]
    GetNbiLat,
    /// windows of non-blocking gets then quiet, 1 B to 4 MiB (MB/s)
    #[value(name = "get_bw", alias = "get-bw")]
    GetBw,
    /// bi-directional put bandwidth: PE 0 -> 1 and 1 -> 0 at once, the sum (MB/s)
    #[value(name = "put_bibw", aliases = ["put-bibw", "bibw"])]
    PutBibw,
    /// barrier_all latency on every PE (us)
    #[value(name = "barrier_lat", aliases = ["barrier-lat", "barrier"])]
    BarrierLat,
    /// broadcast from PE 0 over the world team, 8 B to 1 MiB (us)
    #[value(name = "bcast_lat", aliases = ["bcast-lat", "bcast"])]
    BcastLat,
    /// sum all-reduce of i64 and of f64 (reduce_lat_i64 then reduce_lat_f64), 8 B to 1 MiB
    #[value(name = "reduce_lat", aliases = ["reduce-lat", "reduce"])]
    ReduceLat,
    /// sum all-reduce of i64 only (us)
    #[value(name = "reduce_lat_i64", alias = "reduce-lat-i64")]
    ReduceLatI64,
    /// sum all-reduce of f64 only (us)
    #[value(name = "reduce_lat_f64", alias = "reduce-lat-f64")]
    ReduceLatF64,
    /// collect (sizes exchanged in the call), size bytes per PE, 8 B to 1 MiB (us)
    #[value(name = "collect_lat", aliases = ["collect-lat", "collect"])]
    CollectLat,
    /// fcollect, size bytes per PE, 8 B to 1 MiB (us)
    #[value(name = "fcollect_lat", aliases = ["fcollect-lat", "fcollect"])]
    FcollectLat,
    /// alltoall, size bytes per pair of PEs, 8 B to 1 MiB (us)
    #[value(name = "alltoall_lat", aliases = ["alltoall-lat", "alltoall"])]
    AlltoallLat,
    /// single-thread memcpy bandwidth, the baseline of put_bw (MB/s)
    #[value(name = "memcpy_bw", alias = "memcpy-bw")]
    MemcpyBw,
    /// every test above (reduce_lat once, for both types), in that order
    All,
}

/// OSU-style rshmem benchmarks. Run under the launcher, e.g.
/// `rshmemrun -n 2 target/release/rshmem-bench put_lat` (`rshmem-osu` is the same program).
#[derive(Parser, Debug)]
#[command(name = "rshmem-bench", version)]
pub(super) struct Args {
    /// The test to run.
    #[arg(value_enum)]
    pub(super) test: Test,
    /// Smallest message size (bytes; k/M/G suffixes allowed). Default: 1 (msg_rate and the
    /// collectives: 8).
    #[arg(long, value_parser = parse_size)]
    pub(super) min_size: Option<usize>,
    /// Largest message size. Default: 4M (msg_rate: 8; the collectives: 1M).
    #[arg(long, value_parser = parse_size)]
    pub(super) max_size: Option<usize>,
    /// Timed operations per size up to 8 KiB (scaled down for larger messages).
    /// Default: 100000 (barrier_lat: 10000; the collectives: 1000).
    #[arg(long)]
    pub(super) iters: Option<usize>,
    /// Untimed operations before timing. Default: iters / 10.
    #[arg(long)]
    pub(super) warmup: Option<usize>,
    /// Non-blocking operations per quiet (put_bw, msg_rate, memcpy_bw).
    #[arg(long, default_value_t = 64, value_parser = window_parser)]
    pub(super) window: usize,
    /// CSV output (`test,key,metric,value,iterations`) instead of OSU columns.
    #[arg(long, conflicts_with = "json")]
    pub(super) csv: bool,
    /// JSON output (one document: `{"benchmark", "pes", "results": [{"test", "key",
    /// "iterations", <metric>: value, ...}]}`) instead of OSU columns.
    #[arg(long)]
    pub(super) json: bool,
    /// One line on stderr per finished size/operation (the default when stderr is a
    /// terminal).
    #[arg(long)]
    pub(super) progress: bool,
    /// Start the local (private) buffer this many bytes after a page boundary (symmetric
    /// buffers are page-aligned). Default 0. With 1..31, glibc's `rep movsb` copies of
    /// 4 KiB..~512 KiB hit 4K aliasing on AMD Zen 3 (see BENCHMARKS.md).
    #[arg(long, default_value_t = 0, value_parser = parse_size)]
    pub(super) local_offset: usize,
    /// The partner of PE 0 in the point-to-point tests (put/get latency and bandwidth,
    /// message rate, atomics): e.g. a PE on another node or socket. Default 1. The other
    /// PEs only take part in the barriers.
    #[arg(long, value_name = "PE")]
    pub(super) peer: Option<usize>,
    /// put_lat, get_lat and atomic_lat: time every operation on its own and report the
    /// median (perftest's `t_typical`) instead of the mean, which stalls inflate (under
    /// emulation a few ms-long stalls dominate a mean of 50 us operations).
    #[arg(long)]
    pub(super) typical: bool,
    /// put_bw: take the source from the symmetric heap instead of private memory (on
    /// verbs it is registered, so large puts go zero-copy instead of through the bounce
    /// buffer, as `ib_write_bw`'s registered buffers do).
    #[arg(long)]
    pub(super) symmetric_src: bool,
}

fn window_parser(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("the window must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{s:?}: {e}")),
    }
}

pub(super) const DEFAULT_MAX: usize = 4 << 20;
/// Default largest size of the collective tests.
pub(super) const COLL_DEFAULT_MAX: usize = 1 << 20;
/// Default timed calls per size of the collective tests (up to 8 KiB).
pub(super) const COLL_ITERS: usize = 1000;
