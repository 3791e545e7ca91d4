//! OSU-style micro-benchmarks of rshmem, in the manner of the OSU OpenSHMEM benchmarks
//! (`osu_oshm_put`, `osu_oshm_get`, `osu_oshm_put_bw`, `osu_oshm_put_mr`,
//! `osu_oshm_atomics`, `osu_oshm_barrier`).
//!
//! ```text
//! rshmemrun -n 2 target/release/rshmem-osu put_lat
//! rshmemrun -n 2 target/release/rshmem-osu all --csv
//! rshmemrun -n 8 target/release/rshmem-osu barrier_lat
//! ```
//!
//! One-sided tests (put_lat, get_lat, put_bw, msg_rate, atomic_lat) run from PE 0 to PE 1
//! (to PE 0 itself when started without a launcher); PE 0 times `iters` operations and
//! prints the mean. The other PEs only take part in one barrier before and one after each
//! message size. barrier_lat runs on every PE and reports the mean over PEs of each PE's
//! mean, and the minimum and maximum. memcpy_bw is the single-thread `memcpy` baseline of
//! put_bw: the same loop (windows of copies, a fence after each window) between two private
//! page-aligned buffers of PE 0.
//!
//! Iterations: `--iters` for messages up to 8 KiB, scaled by 8 KiB / size above that (same
//! number of bytes per size), at least 10; bandwidth tests (put_bw, msg_rate, memcpy_bw)
//! scale only above 64 KiB, and run at least 2 windows.
use clap::{Parser, ValueEnum};
use rshmem::{Shmem, SymVec};
use rshmem_benches::{
    bw_ops, csv_header, parse_size, scaled_iters, sizes, AlignedBuf, Report, Style,
};
use std::hint::black_box;
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
    /// barrier_all latency on every PE (us)
    #[value(name = "barrier_lat", alias = "barrier-lat")]
    BarrierLat,
    /// single-thread memcpy bandwidth, the baseline of put_bw (MB/s)
    #[value(name = "memcpy_bw", alias = "memcpy-bw")]
    MemcpyBw,
    /// every test above, in that order
    All,
}

/// OSU-style rshmem benchmarks. Run under the launcher, e.g.
/// `rshmemrun -n 2 target/release/rshmem-osu put_lat`.
#[derive(Parser, Debug)]
#[command(name = "rshmem-osu", version)]
struct Args {
    /// The test to run.
    #[arg(value_enum)]
    test: Test,
    /// Smallest message size (bytes; k/M/G suffixes allowed). Default: 1 (msg_rate: 8).
    #[arg(long, value_parser = parse_size)]
    min_size: Option<usize>,
    /// Largest message size. Default: 4M (msg_rate: 8).
    #[arg(long, value_parser = parse_size)]
    max_size: Option<usize>,
    /// Timed operations per size up to 8 KiB (scaled down for larger messages).
    /// Default: 100000 (barrier_lat: 10000).
    #[arg(long)]
    iters: Option<usize>,
    /// Untimed operations before timing. Default: iters / 10.
    #[arg(long)]
    warmup: Option<usize>,
    /// Non-blocking operations per quiet (put_bw, msg_rate, memcpy_bw).
    #[arg(long, default_value_t = 64, value_parser = window_parser)]
    window: usize,
    /// CSV output (`test,key,metric,value,iterations`) instead of OSU columns.
    #[arg(long)]
    csv: bool,
    /// Start the local (private) buffer this many bytes after a page boundary (symmetric
    /// buffers are page-aligned). Default 0. With 1..31, glibc's `rep movsb` copies of
    /// 4 KiB..~512 KiB hit 4K aliasing on AMD Zen 3 (see BENCHMARKS.md).
    #[arg(long, default_value_t = 0, value_parser = parse_size)]
    local_offset: usize,
}

fn window_parser(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("the window must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{s:?}: {e}")),
    }
}

const DEFAULT_MAX: usize = 4 << 20;

struct Ctx<'s> {
    shmem: &'s Shmem,
    args: Args,
    style: Style,
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
        (self.me == 0)
            .then(|| Report::new(self.style, test, title, notes, first, metrics, precision))
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
            eprintln!("rshmem-osu: {e}");
            std::process::exit(1)
        }
    }
}

fn usecs(t: Instant, ops: usize) -> f64 {
    t.elapsed().as_secs_f64() * 1e6 / ops as f64
}

fn lat_notes(ctx: &Ctx, what: &str, iters: usize, warmup: usize) -> Vec<String> {
    vec![
        ctx.pair_note(),
        format!(
            "{what}; mean over {iters} iterations (<= 8 KiB; scaled by 8 KiB/size above), {warmup} warm-up"
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
            let t = Instant::now();
            for _ in 0..n {
                dst.put(ctx.peer, 0, black_box(s))?;
                ctx.shmem.quiet();
            }
            rep.row(&size.to_string(), &[usecs(t, n)], n);
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
                "rshmem-osu: put_lat: PE {} holds {got:#x} at byte {} instead of {want:#x}",
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
            let t = Instant::now();
            for _ in 0..n {
                src.get(ctx.peer, 0, black_box(&mut *d))?;
            }
            rep.row(&size.to_string(), &[usecs(t, n)], n);
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

/// put_bw and msg_rate: windows of put_nbi then quiet. Returns (ops, seconds).
fn put_windows(
    ctx: &Ctx,
    dst: &SymVec<'_, u8>,
    src: &[u8],
    wins: usize,
    warm: usize,
) -> rshmem::Result<(usize, f64)> {
    let window = ctx.args.window;
    for _ in 0..warm {
        for _ in 0..window {
            // SAFETY: `src` lives and is not modified until after the quiet below.
            unsafe { dst.put_nbi(ctx.peer, 0, black_box(src))? };
        }
        ctx.shmem.quiet();
    }
    let t = Instant::now();
    for _ in 0..wins {
        for _ in 0..window {
            // SAFETY: as above.
            unsafe { dst.put_nbi(ctx.peer, 0, black_box(src))? };
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
        &bw_notes(ctx, "put_nbi x window, then quiet", iters, warmup),
        "Size",
        &["Bandwidth (MB/s)"],
        2,
    );
    let dst = ctx.sym_buf(max)?;
    let src = ctx.local_buf(max, 0x33);
    let window = ctx.args.window;
    for &size in &sizes {
        ctx.shmem.barrier_all();
        if let Some(rep) = &rep {
            let wins = windows(iters, size, window);
            let warm = windows(warmup, size, window).min(wins);
            let (ops, secs) = put_windows(ctx, &dst, &src.as_slice()[..size], wins, warm)?;
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
            format!("mean over {iters} operations, {warmup} warm-up; non-fetching ops: one quiet after the loop, inside the timing"),
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
                let t = Instant::now();
                let mut acc = 0u64;
                for $i in 0..iters as u64 {
                    acc = acc.wrapping_add($call);
                }
                ctx.shmem.quiet();
                let us = usecs(t, iters);
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
                "rshmem-osu: compare_swap chain broken: {} != {iters}",
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

fn run(ctx: &Ctx, test: Test) -> rshmem::Result<()> {
    match test {
        Test::PutLat => put_lat(ctx),
        Test::GetLat => get_lat(ctx),
        Test::PutBw => put_bw(ctx),
        Test::MsgRate => msg_rate(ctx),
        Test::AtomicLat => atomic_lat(ctx),
        Test::BarrierLat => barrier_lat(ctx),
        Test::MemcpyBw => memcpy_bw(ctx),
        Test::All => {
            for t in [
                Test::PutLat,
                Test::GetLat,
                Test::PutBw,
                Test::MemcpyBw,
                Test::MsgRate,
                Test::AtomicLat,
                Test::BarrierLat,
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

fn main() {
    let args = Args::parse();
    let shmem = check(rshmem::init());
    let (me, npes) = (shmem.my_pe(), shmem.n_pes());
    let style = if args.csv { Style::Csv } else { Style::Osu };
    let test = args.test;
    let ctx = Ctx {
        shmem: &shmem,
        args,
        style,
        me,
        npes,
        peer: if npes > 1 { 1 } else { 0 },
    };
    if me == 0 && style == Style::Csv {
        println!("{}", csv_header());
    }
    check(run(&ctx, test));
    shmem.barrier_all();
}
