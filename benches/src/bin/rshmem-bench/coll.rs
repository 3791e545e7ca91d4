//! The collective tests on the world team (broadcast, reduce, collect, fcollect,
//! alltoall), timed the way OSU's `osu_oshm_*` collective tests are, with the algorithm
//! notes and the check of every result.
use rshmem::{Op, SymVec};
use rshmem_benches::scaled_iters;
use rshmem_collectives::{choose_bcast, choose_collect, choose_reduce, Overrides};
use std::time::Instant;

use super::cli::{COLL_DEFAULT_MAX, COLL_ITERS};
use super::ctx::Ctx;

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

pub(super) fn bcast_lat(ctx: &Ctx) -> rshmem::Result<()> {
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
pub(super) fn reduce_lat<T: rshmem::Pod + rshmem::Reducible + PartialEq + std::fmt::Debug>(
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
pub(super) fn collect_lat(ctx: &Ctx, fixed: bool) -> rshmem::Result<()> {
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
pub(super) fn alltoall_lat(ctx: &Ctx) -> rshmem::Result<()> {
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
