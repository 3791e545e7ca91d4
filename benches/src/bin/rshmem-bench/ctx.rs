//! What every test shares: the context ([`Ctx`]: options, PEs, partner, report style),
//! private buffers, timing helpers and the notes printed above a latency table.
use rshmem::{Shmem, SymVec};
use rshmem_benches::{sizes, AlignedBuf, Report, Style};
use std::time::Instant;

use super::cli::Args;

pub(super) struct Ctx<'s> {
    pub(super) shmem: &'s Shmem,
    pub(super) args: Args,
    pub(super) style: Style,
    pub(super) progress: bool,
    pub(super) me: usize,
    pub(super) npes: usize,
    /// The target of one-sided tests.
    pub(super) peer: usize,
}

impl Ctx<'_> {
    pub(super) fn iters(&self, default: usize) -> usize {
        self.args.iters.unwrap_or(default).max(1)
    }
    pub(super) fn warmup(&self, iters: usize) -> usize {
        self.args.warmup.unwrap_or(iters / 10)
    }
    pub(super) fn size_range(&self, default: (usize, usize)) -> Vec<usize> {
        let min = self.args.min_size.unwrap_or(default.0);
        let max = self.args.max_size.unwrap_or(default.1);
        sizes(min, max)
    }
    pub(super) fn report(
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
    pub(super) fn pair_note(&self) -> String {
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
    pub(super) fn local_buf(&self, len: usize, seed: u8) -> LocalBuf {
        let off = self.args.local_offset;
        let mut buf = AlignedBuf::new(len + off);
        buf.touch(seed);
        LocalBuf { buf, off }
    }
    /// A symmetric page-aligned byte buffer of `len` bytes (zeroed, so touched, by each
    /// owner), whose pages PE 0 also maps in advance by writing all of the peer's copy.
    pub(super) fn sym_buf(&self, len: usize) -> rshmem::Result<SymVec<'_, u8>> {
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

pub(super) struct LocalBuf {
    buf: AlignedBuf,
    off: usize,
}

impl LocalBuf {
    pub(super) fn as_slice(&self) -> &[u8] {
        &self.buf.as_slice()[self.off..]
    }
    pub(super) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut_slice()[self.off..]
    }
}

pub(super) fn check<T>(r: rshmem::Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            eprintln!("rshmem-bench: {e}");
            std::process::exit(1)
        }
    }
}

pub(super) fn usecs(t: Instant, ops: usize) -> f64 {
    t.elapsed().as_secs_f64() * 1e6 / ops as f64
}

/// Times `n` calls of `op` (given the iteration number): the mean in us, or with
/// `--typical` the median of the calls timed one by one. `fin` runs once after the loop,
/// inside the mean's timing (the closing quiet of non-fetching operations).
pub(super) fn time_each(
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
pub(super) fn stat_name(ctx: &Ctx) -> &'static str {
    if ctx.args.typical {
        "median (typical) of"
    } else {
        "mean over"
    }
}

pub(super) fn lat_notes(ctx: &Ctx, what: &str, iters: usize, warmup: usize) -> Vec<String> {
    vec![
        ctx.pair_note(),
        format!(
            "{what}; {} {iters} iterations (<= 8 KiB; scaled by 8 KiB/size above), {warmup} warm-up",
            stat_name(ctx)
        ),
    ]
}
