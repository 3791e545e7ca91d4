//! The point-to-point tests between PE 0 and its partner: put/get latency (blocking and
//! non-blocking), bandwidth (put, get, bidirectional, the memcpy baseline), message
//! rate, atomics, ping-pong, and barrier latency.
use rshmem::{Cmp, SymVec};
use rshmem_benches::{bw_ops, scaled_iters, AlignedBuf};
use std::hint::black_box;
use std::sync::atomic::{fence, Ordering};
use std::time::Instant;

use super::cli::DEFAULT_MAX;
use super::ctx::{lat_notes, stat_name, time_each, usecs, Ctx};

pub(super) fn put_lat(ctx: &Ctx) -> rshmem::Result<()> {
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

pub(super) fn get_lat(ctx: &Ctx) -> rshmem::Result<()> {
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
pub(super) fn windows(iters: usize, size: usize, window: usize) -> usize {
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

pub(super) fn put_bw(ctx: &Ctx) -> rshmem::Result<()> {
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

pub(super) fn msg_rate(ctx: &Ctx) -> rshmem::Result<()> {
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

pub(super) fn memcpy_bw(ctx: &Ctx) -> rshmem::Result<()> {
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

pub(super) fn atomic_lat(ctx: &Ctx) -> rshmem::Result<()> {
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
pub(super) fn pingpong_lat(ctx: &Ctx) -> rshmem::Result<()> {
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

pub(super) fn barrier_lat(ctx: &Ctx) -> rshmem::Result<()> {
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
pub(super) fn nbi_lat(ctx: &Ctx, get: bool) -> rshmem::Result<()> {
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

pub(super) fn get_bw(ctx: &Ctx) -> rshmem::Result<()> {
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
pub(super) fn put_bibw(ctx: &Ctx) -> rshmem::Result<()> {
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
