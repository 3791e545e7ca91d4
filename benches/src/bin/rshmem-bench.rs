//! OSU-style micro-benchmarks of rshmem, in the manner of the OSU OpenSHMEM benchmarks
//! (`osu_oshm_put`, `osu_oshm_get`, `osu_oshm_put_bw`, `osu_oshm_put_bibw`,
//! `osu_oshm_put_mr`, `osu_oshm_atomics`, `osu_oshm_barrier`, `osu_oshm_broadcast`,
//! `osu_oshm_reduce`, `osu_oshm_collect`, `osu_oshm_fcollect`). Built as `rshmem-bench` and,
//! under its former name, as `rshmem-osu` (the same program).
//!
//! ```text
//! rshmemrun -n 2 target/release/rshmem-bench put_lat
//! rshmemrun -n 2 target/release/rshmem-bench all --csv
//! rshmemrun -n 8 target/release/rshmem-bench bcast_lat --max-size 4M
//! ```
//!
//! One-sided tests (put_lat, get_lat, put_nbi_lat, get_nbi_lat, put_bw, get_bw, msg_rate,
//! atomic_lat) run from PE 0 to PE 1 (to PE 0 itself when started without a launcher); PE 0
//! times `iters` operations and prints the mean. The other PEs only take part in one barrier
//! before and one after each message size. put_bibw runs PE 0 -> PE 1 and PE 1 -> PE 0 at
//! the same time and reports the sum. memcpy_bw is the single-thread `memcpy` baseline of
//! put_bw: the same loop (windows of copies, a fence after each window) between two private
//! page-aligned buffers of PE 0.
//!
//! barrier_lat runs on every PE and reports the mean over PEs of each PE's mean, and the
//! minimum and maximum. The collective tests (bcast_lat, reduce_lat, collect_lat,
//! fcollect_lat, alltoall_lat) run on every PE of the world team the way OSU's
//! `osu_oshm_*` collective tests do: each call is timed alone and followed by an untimed
//! `barrier_all`; each PE averages its calls, and PE 0 prints the mean, minimum and maximum
//! of those averages over the PEs. Every size's result is checked on every PE.
//!
//! Iterations: `--iters` for messages up to 8 KiB, scaled by 8 KiB / size above that (same
//! number of bytes per size), at least 10; bandwidth tests (put_bw, get_bw, put_bibw,
//! msg_rate, memcpy_bw) scale only above 64 KiB, and run at least 2 windows.
use clap::{Parser, ValueEnum};
use rshmem::{Cmp, Op, Shmem, SymVec};
use rshmem_benches::{
    bw_ops, csv_header, json_begin, json_end, parse_size, scaled_iters, sizes, AlignedBuf, Report,
    Style,
};
use rshmem_collectives::{choose_bcast, choose_collect, choose_reduce, Overrides};
use std::hint::black_box;
use std::io::IsTerminal;
use std::sync::atomic::{fence, Ordering};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Test {
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
struct Args {
    /// The test to run.
    #[arg(value_enum)]
    test: Test,
    /// Smallest message size (bytes; k/M/G suffixes allowed). Default: 1 (msg_rate and the
    /// collectives: 8).
    #[arg(long, value_parser = parse_size)]
    min_size: Option<usize>,
    /// Largest message size. Default: 4M (msg_rate: 8; the collectives: 1M).
    #[arg(long, value_parser = parse_size)]
    max_size: Option<usize>,
    /// Timed operations per size up to 8 KiB (scaled down for larger messages).
    /// Default: 100000 (barrier_lat: 10000; the collectives: 1000).
    #[arg(long)]
    iters: Option<usize>,
    /// Untimed operations before timing. Default: iters / 10.
    #[arg(long)]
    warmup: Option<usize>,
    /// Non-blocking operations per quiet (put_bw, msg_rate, memcpy_bw).
    #[arg(long, default_value_t = 64, value_parser = window_parser)]
    window: usize,
    /// CSV output (`test,key,metric,value,iterations`) instead of OSU columns.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// JSON output (one document: `{"benchmark", "pes", "results": [{"test", "key",
    /// "iterations", <metric>: value, ...}]}`) instead of OSU columns.
    #[arg(long)]
    json: bool,
    /// One line on stderr per finished size/operation (the default when stderr is a
    /// terminal).
    #[arg(long)]
    progress: bool,
    /// Start the local (private) buffer this many bytes after a page boundary (symmetric
    /// buffers are page-aligned). Default 0. With 1..31, glibc's `rep movsb` copies of
    /// 4 KiB..~512 KiB hit 4K aliasing on AMD Zen 3 (see BENCHMARKS.md).
    #[arg(long, default_value_t = 0, value_parser = parse_size)]
    local_offset: usize,
    /// The partner of PE 0 in the point-to-point tests (put/get latency and bandwidth,
    /// message rate, atomics): e.g. a PE on another node or socket. Default 1. The other
    /// PEs only take part in the barriers.
    #[arg(long, value_name = "PE")]
    peer: Option<usize>,
    /// put_lat, get_lat and atomic_lat: time every operation on its own and report the
    /// median (perftest's `t_typical`) instead of the mean, which stalls inflate (under
    /// emulation a few ms-long stalls dominate a mean of 50 us operations).
    #[arg(long)]
    typical: bool,
    /// put_bw: take the source from the symmetric heap instead of private memory (on
    /// verbs it is registered, so large puts go zero-copy instead of through the bounce
    /// buffer, as `ib_write_bw`'s registered buffers do).
    #[arg(long)]
    symmetric_src: bool,
}

fn window_parser(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("the window must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{s:?}: {e}")),
    }
}

const DEFAULT_MAX: usize = 4 << 20;
/// Default largest size of the collective tests.
const COLL_DEFAULT_MAX: usize = 1 << 20;
/// Default timed calls per size of the collective tests (up to 8 KiB).
const COLL_ITERS: usize = 1000;

struct Ctx<'s> {
    shmem: &'s Shmem,
    args: Args,
    style: Style,
    progress: bool,
    me: usize,
    npes: usize,
    /// The target of one-sided tests.
    peer: usize,
}

impl Ctx<'_> {
    fn iters(&self, default: usize) -> usize {
        self.args.iters.unwrap_or(default).max(1)
    }
    fn warmup(&self, iters: usize) -> usize {
        self.args.warmup.unwrap_or(iters / 10)
    }
    fn size_range(&self, default: (usize, usize)) -> Vec<usize> {
        let min = self.args.min_size.unwrap_or(default.0);
        let max = self.args.max_size.unwrap_or(default.1);
        sizes(min, max)
    }
    fn report(
        &self,
        test: &'static str,
        title: &str,
        notes: &[String],
        first: &str,
        metrics: &[&'static str],
        precision: usize,
    ) -> Option<Report> {
        (self.me == 0).then(|| {
            Report::new(self.style, test, title, notes, first, metrics, precision)
                .with_progress(self.progress)
        })
    }
    fn pair_note(&self) -> String {
        let off = match self.args.local_offset {
            0 => String::new(),
            o => format!("; local buffer at page + {o} B"),
        };
        self.pair_note_plain() + &off
    }
    fn pair_note_plain(&self) -> String {
        if self.npes == 1 {
            "1 PE: PE 0 -> PE 0 (start with `rshmemrun -n 2` to measure between PEs)".into()
        } else {
            format!("{} PEs, PE 0 -> PE {}", self.npes, self.peer)
        }
    }
    /// A private buffer of `len` bytes starting `--local-offset` bytes after a page
    /// boundary, every byte written (so no page fault happens while timing).
    fn local_buf(&self, len: usize, seed: u8) -> LocalBuf {
        let off = self.args.local_offset;
        let mut buf = AlignedBuf::new(len + off);
        buf.touch(seed);
        LocalBuf { buf, off }
    }
    /// A symmetric page-aligned byte buffer of `len` bytes (zeroed, so touched, by each
    /// owner), whose pages PE 0 also maps in advance by writing all of the peer's copy.
    fn sym_buf(&self, len: usize) -> rshmem::Result<SymVec<'_, u8>> {
        let v = self.shmem.alloc_slice_aligned::<u8>(len.max(1), 4096)?;
        if self.me == 0 {
            let fill = AlignedBuf::new(len.max(1));
            v.put(self.peer, 0, fill.as_slice())?;
            let mut back = AlignedBuf::new(len.max(1));
            v.get(self.peer, 0, back.as_mut_slice())?;
        }
        self.shmem.barrier_all();
        Ok(v)
    }
}

struct LocalBuf {
    buf: AlignedBuf,
    off: usize,
}

impl LocalBuf {
    fn as_slice(&self) -> &[u8] {
        &self.buf.as_slice()[self.off..]
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut_slice()[self.off..]
    }
}

fn check<T>(r: rshmem::Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            eprintln!("rshmem-bench: {e}");
            std::process::exit(1)
        }
    }
}

fn usecs(t: Instant, ops: usize) -> f64 {
    t.elapsed().as_secs_f64() * 1e6 / ops as f64
}

/// Times `n` calls of `op` (given the iteration number): the mean in us, or with
/// `--typical` the median of the calls timed one by one. `fin` runs once after the loop,
/// inside the mean's timing (the closing quiet of non-fetching operations).
fn time_each(
    ctx: &Ctx,
    n: usize,
    mut op: impl FnMut(u64) -> rshmem::Result<()>,
    fin: impl FnOnce(),
) -> rshmem::Result<f64> {
    if !ctx.args.typical {
        let t = Instant::now();
        for i in 0..n as u64 {
            op(i)?;
        }
        fin();
        return Ok(usecs(t, n));
    }
    let mut v = vec![0f64; n.max(1)];
    for (i, slot) in v.iter_mut().enumerate().take(n) {
        let t = Instant::now();
        op(i as u64)?;
        *slot = t.elapsed().as_secs_f64() * 1e6;
    }
    fin();
    v.sort_by(f64::total_cmp);
    Ok(v[v.len() / 2])
}

/// "mean over" or "median of" for the notes.
fn stat_name(ctx: &Ctx) -> &'static str {
    if ctx.args.typical {
        "median (typical) of"
    } else {
        "mean over"
    }
}

fn lat_notes(ctx: &Ctx, what: &str, iters: usize, warmup: usize) -> Vec<String> {
    vec![
        ctx.pair_note(),
        format!(
            "{what}; {} {iters} iterations (<= 8 KiB; scaled by 8 KiB/size above), {warmup} warm-up",
            stat_name(ctx)
        ),
    ]
}

fn put_lat(ctx: &Ctx) -> rshmem::Result<()> {
    let sizes = ctx.size_range((1, DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let (iters, warmup) = (ctx.iters(100_000), ctx.warmup(ctx.iters(100_000)));
    let rep = ctx.report(
        "put_lat",
        "Put Latency Test",
        &lat_notes(ctx, "put + quiet", iters, warmup),
        "Size",
        &["Latency (us)"],
        3,
    );
    let dst = ctx.sym_buf(max)?;
    let src = ctx.local_buf(max, 0x5a);
    for &size in &sizes {
        ctx.shmem.barrier_all();
        if let Some(rep) = &rep {
            let (n, w) = (scaled_iters(iters, size, 10), scaled_iters(warmup, size, 2));
            let s = &src.as_slice()[..size];
            for _ in 0..w {
                dst.put(ctx.peer, 0, black_box(s))?;
                ctx.shmem.quiet();
            }
            let us = time_each(
                ctx,
                n,
                |_| {
                    dst.put(ctx.peer, 0, black_box(s))?;
                    ctx.shmem.quiet();
                    Ok(())
                },
                || (),
            )?;
            rep.row(&size.to_string(), &[us], n);
        }
        ctx.shmem.barrier_all();
    }
    // the data arrived (PE 1 checks its copy of the last message)
    if ctx.me == ctx.peer && max > 0 && !sizes.is_empty() {
        let last = *sizes.last().unwrap();
        let got = dst.read(last - 1)?;
        let want = src.as_slice()[last - 1];
        if got != want {
            eprintln!(
                "rshmem-bench: put_lat: PE {} holds {got:#x} at byte {} instead of {want:#x}",
                ctx.me,
                last - 1
            );
            std::process::exit(1);
        }
    }
    Ok(())
}

fn get_lat(ctx: &Ctx) -> rshmem::Result<()> {
    let sizes = ctx.size_range((1, DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let (iters, warmup) = (ctx.iters(100_000), ctx.warmup(ctx.iters(100_000)));
    let rep = ctx.report(
        "get_lat",
        "Get Latency Test",
        &lat_notes(ctx, "blocking get", iters, warmup),
        "Size",
        &["Latency (us)"],
        3,
    );
    let src = ctx.sym_buf(max)?;
    let mut dst = ctx.local_buf(max, 0x11);
    for &size in &sizes {
        ctx.shmem.barrier_all();
        if let Some(rep) = &rep {
            let (n, w) = (scaled_iters(iters, size, 10), scaled_iters(warmup, size, 2));
            let d = &mut dst.as_mut_slice()[..size];
            for _ in 0..w {
                src.get(ctx.peer, 0, black_box(&mut *d))?;
            }
            let us = time_each(ctx, n, |_| src.get(ctx.peer, 0, black_box(&mut *d)), || ())?;
            rep.row(&size.to_string(), &[us], n);
        }
        ctx.shmem.barrier_all();
    }
    Ok(())
}

/// Windows for `size`: `iters` operations (scaled above 64 KiB) rounded up to whole
/// windows, >= 2.
fn windows(iters: usize, size: usize, window: usize) -> usize {
    bw_ops(iters, size, 1).div_ceil(window).max(2)
}

/// put_bw and msg_rate: windows of put_nbi to `ctx.peer` then quiet. Returns (ops,
/// seconds).
fn put_windows(
    ctx: &Ctx,
    dst: &SymVec<'_, u8>,
    src: &[u8],
    wins: usize,
    warm: usize,
) -> rshmem::Result<(usize, f64)> {
    put_windows_to(ctx, ctx.peer, dst, src, wins, warm)
}

/// Windows of put_nbi to `to` then quiet. Returns (ops, seconds).
fn put_windows_to(
    ctx: &Ctx,
    to: usize,
    dst: &SymVec<'_, u8>,
    src: &[u8],
    wins: usize,
    warm: usize,
) -> rshmem::Result<(usize, f64)> {
    let window = ctx.args.window;
    for _ in 0..warm {
        for _ in 0..window {
            // SAFETY: `src` lives and is not modified until after the quiet below.
            unsafe { dst.put_nbi(to, 0, black_box(src))? };
        }
        ctx.shmem.quiet();
    }
    let t = Instant::now();
    for _ in 0..wins {
        for _ in 0..window {
            // SAFETY: as above.
            unsafe { dst.put_nbi(to, 0, black_box(src))? };
        }
        ctx.shmem.quiet();
    }
    Ok((wins * window, t.elapsed().as_secs_f64()))
}

fn bw_notes(ctx: &Ctx, what: &str, iters: usize, warmup: usize) -> Vec<String> {
    vec![
        ctx.pair_note(),
        format!(
            "{what}; window {}, {iters} operations per size (<= 64 KiB; scaled by 64 KiB/size above, >= 2 windows), {warmup} warm-up; MB = 10^6 bytes",
            ctx.args.window
        ),
    ]
}

fn put_bw(ctx: &Ctx) -> rshmem::Result<()> {
    let sizes = ctx.size_range((1, DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let (iters, warmup) = (ctx.iters(100_000), ctx.warmup(ctx.iters(100_000)));
    let rep = ctx.report(
        "put_bw",
        "Put Bandwidth Test",
        &bw_notes(
            ctx,
            if ctx.args.symmetric_src {
                "put_nbi x window from a symmetric source, then quiet"
            } else {
                "put_nbi x window, then quiet"
            },
            iters,
            warmup,
        ),
        "Size",
        &["Bandwidth (MB/s)"],
        2,
    );
    let dst = ctx.sym_buf(max)?;
    let src = ctx.local_buf(max, 0x33);
    let sym_src = if ctx.args.symmetric_src {
        let v = ctx.shmem.alloc_slice_aligned::<u8>(max.max(1), 4096)?;
        v.write_slice(0, src.as_slice())?;
        Some(v)
    } else {
        None
    };
    let src_bytes: &[u8] = match &sym_src {
        // SAFETY: nothing writes `sym_src` while the slice lives (no PE puts to it).
        Some(v) => unsafe { v.as_slice() },
        None => src.as_slice(),
    };
    let window = ctx.args.window;
    for &size in &sizes {
        ctx.shmem.barrier_all();
        if let Some(rep) = &rep {
            let wins = windows(iters, size, window);
            let warm = windows(warmup, size, window).min(wins);
            let (ops, secs) = put_windows(ctx, &dst, &src_bytes[..size], wins, warm)?;
            rep.row(&size.to_string(), &[(size * ops) as f64 / secs / 1e6], ops);
        }
        ctx.shmem.barrier_all();
    }
    Ok(())
}

fn msg_rate(ctx: &Ctx) -> rshmem::Result<()> {
    let sizes = ctx.size_range((8, 8));
    let max = sizes.last().copied().unwrap_or(1);
    let (iters, warmup) = (ctx.iters(100_000), ctx.warmup(ctx.iters(100_000)));
    let rep = ctx.report(
        "msg_rate",
        "Message Rate Test",
        &bw_notes(ctx, "put_nbi x window, then quiet", iters, warmup),
        "Size",
        &["Messages/s"],
        2,
    );
    let dst = ctx.sym_buf(max)?;
    let src = ctx.local_buf(max, 0x44);
    let window = ctx.args.window;
    for &size in &sizes {
        ctx.shmem.barrier_all();
        if let Some(rep) = &rep {
            let wins = windows(iters, size, window);
            let warm = windows(warmup, size, window).min(wins);
            let (ops, secs) = put_windows(ctx, &dst, &src.as_slice()[..size], wins, warm)?;
            rep.row(&size.to_string(), &[ops as f64 / secs], ops);
        }
        ctx.shmem.barrier_all();
    }
    Ok(())
}

fn memcpy_bw(ctx: &Ctx) -> rshmem::Result<()> {
    let sizes = ctx.size_range((1, DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let (iters, warmup) = (ctx.iters(100_000), ctx.warmup(ctx.iters(100_000)));
    let rep = ctx.report(
        "memcpy_bw",
        "memcpy Bandwidth Test",
        &[
            "single-thread memcpy from the local buffer (as put_bw's source) to a private page-aligned buffer of PE 0 (the put_bw baseline)".into(),
            bw_notes(ctx, "memcpy x window, then a SeqCst fence", iters, warmup).remove(1),
        ],
        "Size",
        &["Bandwidth (MB/s)"],
        2,
    );
    let window = ctx.args.window;
    ctx.shmem.barrier_all();
    if let Some(rep) = &rep {
        let src = ctx.local_buf(max, 0x55);
        let mut dst = AlignedBuf::new(max);
        dst.touch(0x66);
        let (s, d) = (src.as_slice().as_ptr(), dst.as_mut_slice().as_mut_ptr());
        let run = |size: usize, wins: usize| {
            for _ in 0..wins {
                for _ in 0..window {
                    // SAFETY: both buffers hold `max >= size` bytes and do not overlap;
                    // black_box keeps the compiler from merging the repeated copies.
                    unsafe { core::ptr::copy_nonoverlapping(black_box(s), black_box(d), size) };
                }
                fence(Ordering::SeqCst);
            }
        };
        for &size in &sizes {
            let wins = windows(iters, size, window);
            let warm = windows(warmup, size, window).min(wins);
            run(size, warm);
            let t = Instant::now();
            run(size, wins);
            let secs = t.elapsed().as_secs_f64();
            let ops = wins * window;
            rep.row(&size.to_string(), &[(size * ops) as f64 / secs / 1e6], ops);
        }
    }
    ctx.shmem.barrier_all();
    Ok(())
}

fn atomic_lat(ctx: &Ctx) -> rshmem::Result<()> {
    let iters = ctx.iters(100_000);
    let warmup = ctx.warmup(iters);
    let rep = ctx.report(
        "atomic_lat",
        "Atomic Operation Latency Test (64-bit)",
        &[
            ctx.pair_note(),
            format!("{} {iters} operations, {warmup} warm-up; non-fetching ops: one quiet after the loop, inside the timing", stat_name(ctx)),
        ],
        "Operation",
        &["Latency (us)", "Million ops/s"],
        3,
    );
    let word = ctx.shmem.alloc(0u64)?;
    ctx.shmem.barrier_all();
    if let Some(rep) = &rep {
        let pe = ctx.peer;
        let w = &*word;
        // Each operation gets its own loop (a macro, so every call is inlined as in a user
        // program); `$i` is the iteration number.
        macro_rules! time_op {
            ($name:expr, |$i:ident| $call:expr) => {{
                for $i in 0..warmup as u64 {
                    black_box($call);
                }
                w.swap(pe, 0)?;
                ctx.shmem.quiet();
                let mut acc = 0u64;
                let us = time_each(
                    ctx,
                    iters,
                    |$i| {
                        acc = acc.wrapping_add($call);
                        Ok(())
                    },
                    || ctx.shmem.quiet(),
                )?;
                black_box(acc);
                rep.row($name, &[us, 1.0 / us], iters);
            }};
        }
        time_op!("fetch_add", |_i| w.fetch_add(pe, 1)?);
        time_op!("fetch", |_i| w.fetch(pe)?);
        time_op!("swap", |i| w.swap(pe, i)?);
        // succeeds every time: the word holds i when compare_swap(i -> i+1) runs
        time_op!("compare_swap", |i| w.compare_swap(pe, i, i + 1)?);
        if w.fetch(pe)? != iters as u64 {
            eprintln!(
                "rshmem-bench: compare_swap chain broken: {} != {iters}",
                w.fetch(pe)?
            );
            std::process::exit(1);
        }
        time_op!("add", |_i| {
            w.add(pe, 1)?;
            0
        });
        time_op!("inc", |_i| {
            w.inc(pe)?;
            0
        });
    }
    ctx.shmem.barrier_all();
    Ok(())
}

/// PE 0 writes `i` into its partner's word with `p` and waits until its own word holds
/// `i`; the partner waits for `i` and answers the same way. Half a round trip per
/// iteration, as `ib_write_lat` reports (the write and the polling of memory for it, no
/// completion); the other PEs only take part in the barriers.
fn pingpong_lat(ctx: &Ctx) -> rshmem::Result<()> {
    let iters = ctx.iters(100_000);
    let warmup = ctx.warmup(iters);
    let rep = ctx.report(
        "pingpong_lat",
        "Put Ping-Pong Latency Test (8-byte p, wait_until)",
        &[
            ctx.pair_note(),
            format!(
                "half the round trip; {} {iters} round trips, {warmup} warm-up",
                stat_name(ctx)
            ),
        ],
        "Size",
        &["Latency (us)"],
        3,
    );
    let word = ctx.shmem.alloc(0u64)?;
    ctx.shmem.barrier_all();
    let other = match ctx.me {
        0 => Some(ctx.peer),
        m if m == ctx.peer => Some(0),
        _ => None,
    };
    if let (Some(other), true) = (other, ctx.npes > 1) {
        let w = &*word;
        let ping = ctx.me == 0;
        let round = |i: u64| -> rshmem::Result<()> {
            if ping {
                w.p(other, i)?;
                w.wait_until(Cmp::Eq, i);
            } else {
                w.wait_until(Cmp::Eq, i);
                w.p(other, i)?;
            }
            Ok(())
        };
        for i in 1..=warmup as u64 {
            round(i)?;
        }
        let base = warmup as u64 + 1;
        if let Some(rep) = &rep {
            let us = time_each(ctx, iters, |i| round(base + i), || ())?;
            rep.row("8", &[us / 2.0], iters);
        } else {
            for i in 0..iters as u64 {
                round(base + i)?;
            }
        }
        // the last value arrived on both sides
        let last = base + iters as u64 - 1;
        if w.read() != last {
            eprintln!(
                "rshmem-bench: pingpong_lat: PE {} holds {} instead of {last}",
                ctx.me,
                w.read()
            );
            std::process::exit(1);
        }
    } else if let Some(rep) = &rep {
        rep.row("8", &[0.0], 0);
    }
    ctx.shmem.barrier_all();
    Ok(())
}

fn barrier_lat(ctx: &Ctx) -> rshmem::Result<()> {
    let iters = ctx.iters(10_000);
    let warmup = ctx.warmup(iters);
    let rep = ctx.report(
        "barrier_lat",
        "Barrier Latency Test",
        &[
            format!("{} PEs, barrier_all on every PE", ctx.npes),
            format!(
                "each PE's mean over {iters} barriers ({warmup} warm-up); Avg/Min/Max over PEs"
            ),
        ],
        "PEs",
        &["Avg Latency (us)", "Min Latency (us)", "Max Latency (us)"],
        3,
    );
    let times = ctx.shmem.alloc_slice::<f64>(ctx.npes)?;
    for _ in 0..warmup {
        ctx.shmem.barrier_all();
    }
    let t = Instant::now();
    for _ in 0..iters {
        ctx.shmem.barrier_all();
    }
    let mine = usecs(t, iters);
    times.put(0, ctx.me, &[mine])?;
    ctx.shmem.barrier_all();
    if let Some(rep) = &rep {
        let all = times.to_vec();
        let avg = all.iter().sum::<f64>() / all.len() as f64;
        let min = all.iter().copied().fold(f64::INFINITY, f64::min);
        let max = all.iter().copied().fold(0.0, f64::max);
        rep.row(&ctx.npes.to_string(), &[avg, min, max], iters);
    }
    ctx.shmem.barrier_all();
    Ok(())
}

/// put_nbi_lat and get_nbi_lat: one non-blocking operation, then quiet, per iteration.
fn nbi_lat(ctx: &Ctx, get: bool) -> rshmem::Result<()> {
    let sizes = ctx.size_range((1, DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let (iters, warmup) = (ctx.iters(100_000), ctx.warmup(ctx.iters(100_000)));
    let (test, title, what) = if get {
        (
            "get_nbi_lat",
            "Get (non-blocking) Latency Test",
            "get_nbi + quiet",
        )
    } else {
        (
            "put_nbi_lat",
            "Put (non-blocking) Latency Test",
            "put_nbi + quiet",
        )
    };
    let rep = ctx.report(
        test,
        title,
        &lat_notes(ctx, what, iters, warmup),
        "Size",
        &["Latency (us)"],
        3,
    );
    let sym = ctx.sym_buf(max)?;
    let mut local = ctx.local_buf(max, 0x77);
    for &size in &sizes {
        ctx.shmem.barrier_all();
        if let Some(rep) = &rep {
            let (n, w) = (scaled_iters(iters, size, 10), scaled_iters(warmup, size, 2));
            let l = &mut local.as_mut_slice()[..size];
            let mut one = || -> rshmem::Result<()> {
                // SAFETY: `l` lives and is not otherwise used until after the quiet.
                unsafe {
                    if get {
                        sym.get_nbi(ctx.peer, 0, black_box(&mut *l))?;
                    } else {
                        sym.put_nbi(ctx.peer, 0, black_box(&*l))?;
                    }
                }
                ctx.shmem.quiet();
                Ok(())
            };
            for _ in 0..w {
                one()?;
            }
            let t = Instant::now();
            for _ in 0..n {
                one()?;
            }
            rep.row(&size.to_string(), &[usecs(t, n)], n);
        }
        ctx.shmem.barrier_all();
    }
    Ok(())
}

fn get_bw(ctx: &Ctx) -> rshmem::Result<()> {
    let sizes = ctx.size_range((1, DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let (iters, warmup) = (ctx.iters(100_000), ctx.warmup(ctx.iters(100_000)));
    let rep = ctx.report(
        "get_bw",
        "Get Bandwidth Test",
        &bw_notes(
            ctx,
            "get_nbi x window (same local buffer), then quiet",
            iters,
            warmup,
        ),
        "Size",
        &["Bandwidth (MB/s)"],
        2,
    );
    let src = ctx.sym_buf(max)?;
    let mut dst = ctx.local_buf(max, 0x22);
    let window = ctx.args.window;
    for &size in &sizes {
        ctx.shmem.barrier_all();
        if let Some(rep) = &rep {
            let wins = windows(iters, size, window);
            let warm = windows(warmup, size, window).min(wins);
            let d = &mut dst.as_mut_slice()[..size];
            let mut run = |count: usize| -> rshmem::Result<()> {
                for _ in 0..count {
                    for _ in 0..window {
                        // SAFETY: `d` lives and is not read until after the quiet below
                        // (every get of the window writes the same bytes).
                        unsafe { src.get_nbi(ctx.peer, 0, black_box(&mut *d))? };
                    }
                    ctx.shmem.quiet();
                }
                Ok(())
            };
            run(warm)?;
            let t = Instant::now();
            run(wins)?;
            let secs = t.elapsed().as_secs_f64();
            let ops = wins * window;
            rep.row(&size.to_string(), &[(size * ops) as f64 / secs / 1e6], ops);
        }
        ctx.shmem.barrier_all();
    }
    Ok(())
}

/// Bi-directional put bandwidth: PE 0 puts to PE 1 while PE 1 puts to PE 0 (same windows);
/// PE 0 times from a common barrier to the barrier after both quiets and reports both
/// directions' bytes over that time.
fn put_bibw(ctx: &Ctx) -> rshmem::Result<()> {
    let sizes = ctx.size_range((1, DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let (iters, warmup) = (ctx.iters(100_000), ctx.warmup(ctx.iters(100_000)));
    let pair = if ctx.npes == 1 {
        ctx.pair_note()
    } else {
        format!(
            "{} PEs, PE 0 <-> PE 1 at the same time (sum of both directions)",
            ctx.npes
        )
    };
    let mut notes = bw_notes(
        ctx,
        "put_nbi x window, then quiet, on both PEs",
        iters,
        warmup,
    );
    notes[0] = pair;
    let rep = ctx.report(
        "put_bibw",
        "Bi-directional Put Bandwidth Test",
        &notes,
        "Size",
        &["Bandwidth (MB/s)"],
        2,
    );
    let dst = ctx.sym_buf(max)?;
    let src = ctx.local_buf(max, 0x35);
    let window = ctx.args.window;
    let active = ctx.me <= 1;
    let to = if ctx.me == 0 { ctx.peer } else { 0 };
    let dirs = if ctx.npes > 1 { 2 } else { 1 };
    for &size in &sizes {
        let wins = windows(iters, size, window);
        let warm = windows(warmup, size, window).min(wins);
        let s = &src.as_slice()[..size];
        ctx.shmem.barrier_all();
        if active {
            put_windows_to(ctx, to, &dst, s, warm, 0)?;
        }
        ctx.shmem.barrier_all();
        let t = Instant::now();
        if active {
            put_windows_to(ctx, to, &dst, s, wins, 0)?;
        }
        ctx.shmem.barrier_all();
        let secs = t.elapsed().as_secs_f64();
        if let Some(rep) = &rep {
            let ops = wins * window;
            rep.row(
                &size.to_string(),
                &[(dirs * size * ops) as f64 / secs / 1e6],
                ops,
            );
        }
    }
    ctx.shmem.barrier_all();
    Ok(())
}

/// How the runtime picks the algorithm for each size: `var=value` when forced, else the
/// "auto" choice per range of sizes.
fn alg_note<A: std::fmt::Debug + PartialEq>(
    var: &str,
    sizes: &[usize],
    choose: impl Fn(usize) -> A,
) -> String {
    let mut ranges: Vec<(A, usize, usize)> = Vec::new();
    for &s in sizes {
        let a = choose(s);
        match ranges.last_mut() {
            Some((last, _, hi)) if *last == a => *hi = s,
            _ => ranges.push((a, s, s)),
        }
    }
    let list = ranges
        .iter()
        .map(|(a, lo, hi)| format!("{a:?} {lo}..{hi} B"))
        .collect::<Vec<_>>()
        .join(", ");
    match rshmem::env::text_by_name(var) {
        Some(v) if !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("auto") => {
            format!("algorithm: {var}={v} ({list})")
        }
        _ => format!("algorithm: auto ({var} unset): {list}"),
    }
}

fn overrides() -> Overrides {
    // rshmem::init already rejected bad values
    Overrides::from_lookup(rshmem::env::text_by_name).unwrap_or_default()
}

/// Times `op` the way OSU's collective tests do: `w` untimed calls, then `n` calls each
/// timed alone; every call is followed by an untimed `barrier_all`. Returns this PE's mean
/// (us).
fn time_coll(
    ctx: &Ctx,
    n: usize,
    w: usize,
    mut op: impl FnMut() -> rshmem::Result<()>,
) -> rshmem::Result<f64> {
    let mut total = 0.0;
    for i in 0..w + n {
        let t = Instant::now();
        op()?;
        let e = t.elapsed().as_secs_f64();
        if i >= w {
            total += e;
        }
        ctx.shmem.barrier_all();
    }
    Ok(total * 1e6 / n.max(1) as f64)
}

/// Every PE's `mine` to PE 0, which gets (mean, min, max) over the PEs.
fn pe_stats(ctx: &Ctx, times: &SymVec<'_, f64>, mine: f64) -> rshmem::Result<Option<[f64; 3]>> {
    times.put(0, ctx.me, &[mine])?;
    ctx.shmem.barrier_all();
    let r = (ctx.me == 0).then(|| {
        let all = times.to_vec();
        let avg = all.iter().sum::<f64>() / all.len() as f64;
        let min = all.iter().copied().fold(f64::INFINITY, f64::min);
        let max = all.iter().copied().fold(0.0, f64::max);
        [avg, min, max]
    });
    ctx.shmem.barrier_all();
    Ok(r)
}

/// Ends the job when a collective produced a wrong result.
fn verify(ctx: &Ctx, test: &str, size: usize, ok: bool, what: impl FnOnce() -> String) {
    if !ok {
        eprintln!(
            "rshmem-bench: {test}: wrong result on PE {} at size {size}: {}",
            ctx.me,
            what()
        );
        std::process::exit(1);
    }
}

const COLL_COLUMNS: [&str; 3] = ["Avg Latency (us)", "Min Latency (us)", "Max Latency (us)"];

/// The collective tests' report and the common per-size loop: `body(size, n, w)` runs the
/// timed calls (via [`time_coll`]) and checks the result, returning this PE's mean.
fn coll_test(
    ctx: &Ctx,
    test: &'static str,
    title: &str,
    what: &str,
    alg: Option<String>,
    sizes: &[usize],
    mut body: impl FnMut(usize, usize, usize) -> rshmem::Result<f64>,
) -> rshmem::Result<()> {
    let iters = ctx.iters(COLL_ITERS);
    let warmup = ctx.warmup(iters);
    let mut notes = vec![
        format!("{} PEs (world team), {what}", ctx.npes),
        format!(
            "each call timed alone, then an untimed barrier_all; each PE's mean over {iters} calls (<= 8 KiB; scaled by 8 KiB/size above, >= {}), {warmup} warm-up; Avg/Min/Max over PEs",
            10.min(iters)
        ),
    ];
    notes.extend(alg);
    let rep = ctx.report(test, title, &notes, "Size", &COLL_COLUMNS, 3);
    let times = ctx.shmem.alloc_slice::<f64>(ctx.npes)?;
    for &size in sizes {
        let n = scaled_iters(iters, size, 10.min(iters));
        let w = scaled_iters(warmup, size, 1);
        ctx.shmem.barrier_all();
        let mine = body(size, n, w)?;
        // the result was checked; nobody overwrites it before everybody has
        ctx.shmem.barrier_all();
        if let (Some(stats), Some(rep)) = (pe_stats(ctx, &times, mine)?, &rep) {
            rep.row(&size.to_string(), &stats, n);
        }
    }
    Ok(())
}

/// Byte `k` of PE `pe`'s contribution (block `j` for alltoall).
fn pattern(pe: usize, j: usize, k: usize) -> u8 {
    (pe.wrapping_mul(37) ^ j.wrapping_mul(11) ^ k.wrapping_mul(7)) as u8 | 1
}

fn bcast_lat(ctx: &Ctx) -> rshmem::Result<()> {
    let sizes = ctx.size_range((8, COLL_DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let world = ctx.shmem.team_world();
    let o = overrides();
    let alg = alg_note("RSHMEM_BCAST_ALGORITHM", &sizes, |s| {
        choose_bcast(&o, s, ctx.npes)
    });
    let src = ctx.shmem.alloc_slice_aligned::<u8>(max, 4096)?;
    let dest = ctx.shmem.alloc_slice_aligned::<u8>(max, 4096)?;
    let mine: Vec<u8> = (0..max).map(|k| pattern(0, 0, k)).collect();
    src.write_slice(0, &mine)?;
    coll_test(
        ctx,
        "bcast_lat",
        "Broadcast Latency Test",
        "broadcast of size bytes from PE 0",
        Some(alg),
        &sizes,
        |size, n, w| {
            let us = time_coll(ctx, n, w, || world.broadcast(&dest, &src, size, 0))?;
            for k in [0, size - 1] {
                let got = dest.read(k)?;
                verify(ctx, "bcast_lat", size, got == mine[k], || {
                    format!("byte {k} is {got:#x}, not {:#x}", mine[k])
                });
            }
            Ok(us)
        },
    )
}

/// Sum all-reduce of `T` (`i64` or `f64`): `size / 8` elements, `src[i] = me + 1 + i`.
fn reduce_lat<T: rshmem::Pod + rshmem::Reducible + PartialEq + std::fmt::Debug>(
    ctx: &Ctx,
    test: &'static str,
    title: &str,
    from: impl Fn(usize) -> T,
) -> rshmem::Result<()> {
    let esz = std::mem::size_of::<T>();
    let sizes: Vec<usize> = ctx
        .size_range((8, COLL_DEFAULT_MAX))
        .into_iter()
        .filter(|&s| s >= esz)
        .collect();
    let max = sizes.last().copied().unwrap_or(esz);
    let world = ctx.shmem.team_world();
    let o = overrides();
    let alg = alg_note("RSHMEM_REDUCE_ALGORITHM", &sizes, |s| {
        choose_reduce(&o, s, ctx.npes)
    });
    let nmax = max / esz;
    let src = ctx.shmem.alloc_slice_aligned::<T>(nmax, 4096)?;
    let dest = ctx.shmem.alloc_slice_aligned::<T>(nmax, 4096)?;
    let mine: Vec<T> = (0..nmax).map(|i| from(ctx.me + 1 + i)).collect();
    src.write_slice(0, &mine)?;
    let npes = ctx.npes;
    let want = |i: usize| from(npes * (npes + 1) / 2 + npes * i);
    coll_test(
        ctx,
        test,
        title,
        &format!(
            "sum all-reduce of size / {esz} elements of {}",
            std::any::type_name::<T>()
        ),
        Some(alg),
        &sizes,
        |size, n, w| {
            let elems = size / esz;
            let us = time_coll(ctx, n, w, || world.reduce(Op::Sum, &dest, &src, elems))?;
            for i in [0, elems - 1] {
                let got = dest.read(i)?;
                verify(ctx, test, size, got == want(i), || {
                    format!("element {i} is {got:?}, not {:?}", want(i))
                });
            }
            Ok(us)
        },
    )
}

/// collect_lat (`fixed` false) and fcollect_lat: `size` bytes from every PE.
fn collect_lat(ctx: &Ctx, fixed: bool) -> rshmem::Result<()> {
    let sizes = ctx.size_range((8, COLL_DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let world = ctx.shmem.team_world();
    let npes = ctx.npes;
    let o = overrides();
    let alg = alg_note("RSHMEM_COLLECT_ALGORITHM", &sizes, |s| {
        choose_collect(&o, s * npes, npes)
    });
    let (test, title, what) = if fixed {
        (
            "fcollect_lat",
            "Fcollect Latency Test",
            "fcollect of size bytes per PE",
        )
    } else {
        (
            "collect_lat",
            "Collect Latency Test",
            "collect of size bytes per PE (same size everywhere)",
        )
    };
    let src = ctx.shmem.alloc_slice_aligned::<u8>(max, 4096)?;
    let dest = ctx.shmem.alloc_slice_aligned::<u8>(max * npes, 4096)?;
    let mine: Vec<u8> = (0..max).map(|k| pattern(ctx.me, 0, k)).collect();
    src.write_slice(0, &mine)?;
    coll_test(ctx, test, title, what, Some(alg), &sizes, |size, n, w| {
        let mut total = 0;
        let us = time_coll(ctx, n, w, || {
            if fixed {
                world.fcollect(&dest, &src, size)?;
                total = size * npes;
            } else {
                total = world.collect(&dest, &src, size)?;
            }
            Ok(())
        })?;
        verify(ctx, test, size, total == size * npes, || {
            format!("{total} bytes collected, not {}", size * npes)
        });
        for p in 0..npes {
            for k in [0, size - 1] {
                let got = dest.read(p * size + k)?;
                verify(ctx, test, size, got == pattern(p, 0, k), || {
                    format!(
                        "byte {k} of PE {p}'s block is {got:#x}, not {:#x}",
                        pattern(p, 0, k)
                    )
                });
            }
        }
        Ok(us)
    })
}

/// alltoall_lat: blocks of `size` bytes between every pair of PEs.
fn alltoall_lat(ctx: &Ctx) -> rshmem::Result<()> {
    let sizes = ctx.size_range((8, COLL_DEFAULT_MAX));
    let max = sizes.last().copied().unwrap_or(1);
    let world = ctx.shmem.team_world();
    let npes = ctx.npes;
    let src = ctx.shmem.alloc_slice_aligned::<u8>(max * npes, 4096)?;
    let dest = ctx.shmem.alloc_slice_aligned::<u8>(max * npes, 4096)?;
    coll_test(
        ctx,
        "alltoall_lat",
        "Alltoall Latency Test",
        "alltoall, blocks of size bytes to every PE (pairwise exchange)",
        None,
        &sizes,
        |size, n, w| {
            // block j of src, for PE j
            let mut blocks = vec![0u8; size * npes];
            for j in 0..npes {
                for k in 0..size {
                    blocks[j * size + k] = pattern(ctx.me, j, k);
                }
            }
            src.write_slice(0, &blocks)?;
            ctx.shmem.barrier_all();
            let us = time_coll(ctx, n, w, || world.alltoall(&dest, &src, size))?;
            for p in 0..npes {
                for k in [0, size - 1] {
                    let got = dest.read(p * size + k)?;
                    let want = pattern(p, ctx.me, k);
                    verify(ctx, "alltoall_lat", size, got == want, || {
                        format!("byte {k} of the block from PE {p} is {got:#x}, not {want:#x}")
                    });
                }
            }
            Ok(us)
        },
    )
}

fn run(ctx: &Ctx, test: Test) -> rshmem::Result<()> {
    match test {
        Test::PutLat => put_lat(ctx),
        Test::GetLat => get_lat(ctx),
        Test::PutBw => put_bw(ctx),
        Test::MsgRate => msg_rate(ctx),
        Test::AtomicLat => atomic_lat(ctx),
        Test::PingpongLat => pingpong_lat(ctx),
        Test::PutNbiLat => nbi_lat(ctx, false),
        Test::GetNbiLat => nbi_lat(ctx, true),
        Test::GetBw => get_bw(ctx),
        Test::PutBibw => put_bibw(ctx),
        Test::BarrierLat => barrier_lat(ctx),
        Test::BcastLat => bcast_lat(ctx),
        Test::ReduceLat => {
            run(ctx, Test::ReduceLatI64)?;
            if ctx.me == 0 && ctx.style == Style::Osu {
                println!();
            }
            run(ctx, Test::ReduceLatF64)
        }
        Test::ReduceLatI64 => reduce_lat(
            ctx,
            "reduce_lat_i64",
            "Reduce Latency Test (i64 sum)",
            |v| v as i64,
        ),
        Test::ReduceLatF64 => reduce_lat(
            ctx,
            "reduce_lat_f64",
            "Reduce Latency Test (f64 sum)",
            |v| v as f64,
        ),
        Test::CollectLat => collect_lat(ctx, false),
        Test::FcollectLat => collect_lat(ctx, true),
        Test::AlltoallLat => alltoall_lat(ctx),
        Test::MemcpyBw => memcpy_bw(ctx),
        Test::All => {
            for t in [
                Test::PutLat,
                Test::GetLat,
                Test::PutNbiLat,
                Test::GetNbiLat,
                Test::PutBw,
                Test::GetBw,
                Test::PutBibw,
                Test::MemcpyBw,
                Test::MsgRate,
                Test::AtomicLat,
                Test::PingpongLat,
                Test::BarrierLat,
                Test::BcastLat,
                Test::ReduceLat,
                Test::CollectLat,
                Test::FcollectLat,
                Test::AlltoallLat,
            ] {
                run(ctx, t)?;
                if ctx.me == 0 && ctx.style == Style::Osu {
                    println!();
                }
            }
            Ok(())
        }
    }
}

/// Runs the benchmarks named on the command line and prints one table (or CSV) each.
pub fn main() {
    let args = Args::parse();
    let shmem = check(rshmem::init());
    let (me, npes) = (shmem.my_pe(), shmem.n_pes());
    let style = if args.csv {
        Style::Csv
    } else if args.json {
        Style::Json
    } else {
        Style::Osu
    };
    let test = args.test;
    let progress = args.progress || std::io::stderr().is_terminal();
    let peer = match args.peer {
        None => usize::from(npes > 1),
        Some(p) if p > 0 && p < npes => p,
        Some(p) => {
            if me == 0 {
                // One write: other PEs' exit messages must not split the line.
                let line = format!(
                    "rshmem-bench: --peer {p}: the partner of PE 0 must be one of PEs 1..={} of this {npes}-PE job\n",
                    npes.saturating_sub(1)
                );
                let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
            }
            std::process::exit(2)
        }
    };
    let ctx = Ctx {
        shmem: &shmem,
        args,
        style,
        progress,
        me,
        npes,
        peer,
    };
    if me == 0 && style == Style::Csv {
        println!("{}", csv_header());
    }
    if me == 0 && style == Style::Json {
        print!("{}", json_begin("rshmem-bench", npes));
    }
    check(run(&ctx, test));
    shmem.barrier_all();
    if me == 0 && style == Style::Json {
        println!("{}", json_end());
    }
}
