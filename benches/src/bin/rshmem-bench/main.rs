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
//!
//! Files: `cli.rs` (options), `ctx.rs` (shared context and timing), `p2p.rs`
//! (point-to-point tests), `coll.rs` (collective tests); this file dispatches.
use clap::Parser;
use rshmem_benches::{csv_header, json_begin, json_end, Style};
use std::io::IsTerminal;

use cli::{Args, Test};
use coll::{alltoall_lat, bcast_lat, collect_lat, reduce_lat};
use ctx::{check, Ctx};
use p2p::{
    atomic_lat, barrier_lat, get_bw, get_lat, memcpy_bw, msg_rate, nbi_lat, pingpong_lat, put_bibw,
    put_bw, put_lat,
};

mod cli;
mod coll;
mod ctx;
mod p2p;

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
