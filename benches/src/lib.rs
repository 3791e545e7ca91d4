//! # rshmem-benches
//!
//! Benchmarks of rshmem:
//!
//! - criterion micro-benchmarks of the in-process hot paths (`benches/*.rs`, run with
//!   `cargo bench -p rshmem-benches`): address translation, the heap allocator, and local
//!   put/get/atomics through the safe API on a singleton runtime (PE 0 of 1);
//! - `rshmem-bench` (also built as `rshmem-osu`, the same program), an OSU-style benchmark
//!   program run under the launcher (`rshmemrun -n 2 target/release/rshmem-bench put_lat`).
//!
//! This library holds what both share: message-size lists, iteration scaling, size parsing,
//! page-aligned buffers and the OSU-style output formatting. See `BENCHMARKS.md` at the
//! workspace root for results.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Messages larger than this get proportionally fewer iterations (OSU's
/// `LARGE_MESSAGE_SIZE`).
pub const LARGE_MESSAGE_SIZE: usize = 8192;

/// Powers of two from `min` to `max` inclusive (`min` rounded up to a power of two; empty
/// when `min > max`).
///
/// ```
/// assert_eq!(rshmem_benches::sizes(1, 8), vec![1, 2, 4, 8]);
/// assert_eq!(rshmem_benches::sizes(3, 20), vec![4, 8, 16]);
/// ```
pub fn sizes(min: usize, max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut s = min.max(1).next_power_of_two();
    while s <= max {
        out.push(s);
        match s.checked_mul(2) {
            Some(n) => s = n,
            None => break,
        }
    }
    out
}

/// Iterations for a message of `size` bytes: `base` up to [`LARGE_MESSAGE_SIZE`], then
/// scaled by `LARGE_MESSAGE_SIZE / size` (same bytes moved per size), never below `floor`.
///
/// ```
/// use rshmem_benches::scaled_iters;
/// assert_eq!(scaled_iters(1000, 8, 10), 1000);
/// assert_eq!(scaled_iters(1000, 16384, 10), 500);
/// assert_eq!(scaled_iters(1000, 1 << 30, 10), 10);
/// ```
pub fn scaled_iters(base: usize, size: usize, floor: usize) -> usize {
    if size <= LARGE_MESSAGE_SIZE {
        base.max(floor)
    } else {
        ((base as u128 * LARGE_MESSAGE_SIZE as u128 / size as u128) as usize).max(floor)
    }
}

/// Bandwidth tests scale their operation count down only above this size (so that every
/// large size copies the same, larger, number of bytes: about 6.5 GB with the default
/// 100000 operations, long enough for stable numbers at tens of GB/s).
pub const BW_LARGE_MESSAGE_SIZE: usize = 64 << 10;

/// Operations of a bandwidth test for `size`: `base` up to [`BW_LARGE_MESSAGE_SIZE`], then
/// scaled by `BW_LARGE_MESSAGE_SIZE / size`, never below `floor`.
///
/// ```
/// use rshmem_benches::bw_ops;
/// assert_eq!(bw_ops(1000, 65536, 1), 1000);
/// assert_eq!(bw_ops(1000, 1 << 20, 1), 62);
/// ```
pub fn bw_ops(base: usize, size: usize, floor: usize) -> usize {
    if size <= BW_LARGE_MESSAGE_SIZE {
        base.max(floor)
    } else {
        ((base as u128 * BW_LARGE_MESSAGE_SIZE as u128 / size as u128) as usize).max(floor)
    }
}

/// Parses a byte count with an optional binary suffix: `4096`, `4k`, `4K`, `4KiB`, `1M`,
/// `1MiB`, `1G`.
///
/// ```
/// use rshmem_benches::parse_size;
/// assert_eq!(parse_size("4k"), Ok(4096));
/// assert_eq!(parse_size("4MiB"), Ok(4 << 20));
/// assert_eq!(parse_size("17"), Ok(17));
/// assert!(parse_size("x").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 8, 4k, 1M, 4MiB)"))?;
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {suffix:?} (use k, M or G, binary multiples)"
            ))
        }
    };
    n.checked_mul(1usize << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// A zeroed, page-aligned heap buffer (so that memcpy baselines and puts see the same
/// alignment as the page-aligned symmetric buffers).
pub struct AlignedBuf {
    ptr: *mut u8,
    layout: Layout,
}

impl AlignedBuf {
    /// `len` zero bytes aligned to 4096 (at least one byte is allocated).
    pub fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len.max(1), 4096).expect("buffer size overflows");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Self { ptr, layout }
    }

    /// The buffer's length.
    pub fn len(&self) -> usize {
        self.layout.size()
    }

    /// Whether the buffer is empty (never: at least one byte is allocated).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is a live allocation of `len` initialized (zeroed) bytes.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len()) }
    }

    /// The bytes, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as `as_slice`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len()) }
    }

    /// Writes a non-zero pattern into every byte (touching every page, so no page fault
    /// happens inside a timed loop).
    pub fn touch(&mut self, seed: u8) {
        for (i, b) in self.as_mut_slice().iter_mut().enumerate() {
            *b = seed.wrapping_add(i as u8) | 1;
        }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, self.layout) };
    }
}

/// Output style of `rshmem-bench`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// OSU's columns: `# Size` left-aligned in 10 characters, each value right-aligned in
    /// 20 characters.
    Osu,
    /// One CSV header line, then `test,key,metric,value,iterations` rows (key: the
    /// message size, operation or PE count).
    Csv,
    /// One JSON document: [`json_begin`], one object per row (`test`, `key`,
    /// `iterations`, then one field per metric named as the CSV metric), [`json_end`].
    Json,
}

/// Set once the first JSON row is printed (the next ones start with a comma).
static JSON_ROWS: AtomicBool = AtomicBool::new(false);

/// Opens the JSON document: `{"benchmark": .., "pes": .., "results": [`.
pub fn json_begin(program: &str, pes: usize) -> String {
    format!(
        "{{\"benchmark\": {}, \"pes\": {pes}, \"results\": [",
        json_string(program)
    )
}

/// Closes the document opened by [`json_begin`] (print it with a final newline).
pub fn json_end() -> &'static str {
    "\n]}"
}

/// A JSON string literal.
///
/// ```
/// assert_eq!(rshmem_benches::json_string("a\"b"), r#""a\"b""#);
/// ```
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number (`null` for NaN and infinities, which JSON cannot represent).
pub fn json_number(v: f64, precision: usize) -> String {
    if v.is_finite() {
        format!("{v:.precision$}")
    } else {
        "null".into()
    }
}

/// One JSON result object.
///
/// ```
/// let r = rshmem_benches::json_row("put_lat", "8", &["Latency (us)"], &[0.25], 3, 10);
/// assert_eq!(r, r#"{"test": "put_lat", "key": "8", "iterations": 10, "latency_us": 0.250}"#);
/// ```
pub fn json_row(
    test: &str,
    key: &str,
    metrics: &[&str],
    values: &[f64],
    precision: usize,
    iters: usize,
) -> String {
    let mut s = format!(
        "{{\"test\": {}, \"key\": {}, \"iterations\": {iters}",
        json_string(test),
        json_string(key)
    );
    for (m, v) in metrics.iter().zip(values) {
        s.push_str(&format!(
            ", {}: {}",
            json_string(&csv_metric(m)),
            json_number(*v, precision)
        ));
    }
    s.push('}');
    s
}

/// Writes one benchmark's results in the chosen [`Style`].
pub struct Report {
    style: Style,
    test: &'static str,
    metrics: Vec<&'static str>,
    precision: usize,
    key_width: usize,
    /// `Some(start)`: print a progress line on stderr after every row.
    progress: Option<Instant>,
}

/// Width of a value column (OSU's `FIELD_WIDTH`).
pub const FIELD_WIDTH: usize = 20;

impl Report {
    /// Starts a report: prints the OSU header (title, comment lines, column names) or, for
    /// CSV, nothing (the CSV header is printed once, see [`csv_header`]).
    ///
    /// `metrics` are the column titles (`Latency (us)`); `precision` the decimals printed
    /// (one more in CSV).
    pub fn new(
        style: Style,
        test: &'static str,
        title: &str,
        notes: &[String],
        first_column: &str,
        metrics: &[&'static str],
        precision: usize,
    ) -> Self {
        // sizes and PE counts fit OSU's 10 characters; operation names need more
        let key_width = if first_column == "Operation" { 16 } else { 10 };
        if style == Style::Osu {
            println!("# OSU-style rshmem {title}");
            for n in notes {
                println!("# {n}");
            }
            println!("{}", osu_header(first_column, key_width, metrics));
        }
        Self {
            style,
            test,
            metrics: metrics.to_vec(),
            precision,
            key_width,
            progress: None,
        }
    }

    /// Also print one line on stderr per row (`test key: done, N s`), timed from now.
    pub fn with_progress(mut self, on: bool) -> Self {
        self.progress = on.then(Instant::now);
        self
    }

    /// One result row: `key` is the first column (a message size, an operation name, a PE
    /// count), `values` one per metric, `iters` the number of timed operations.
    pub fn row(&self, key: &str, values: &[f64], iters: usize) {
        match self.style {
            Style::Osu => {
                let mut line = format!("{key:<w$}", w = self.key_width);
                for v in values {
                    line.push_str(&format!("{v:>w$.p$}", w = FIELD_WIDTH, p = self.precision));
                }
                println!("{line}");
            }
            Style::Csv => {
                for (m, v) in self.metrics.iter().zip(values) {
                    println!(
                        "{},{key},{},{:.*},{iters}",
                        self.test,
                        csv_metric(m),
                        self.precision + 1,
                        v
                    );
                }
            }
            Style::Json => {
                let first = !JSON_ROWS.swap(true, Ordering::Relaxed);
                print!(
                    "{}{}",
                    if first { "\n  " } else { ",\n  " },
                    json_row(
                        self.test,
                        key,
                        &self.metrics,
                        values,
                        self.precision + 1,
                        iters
                    )
                );
            }
        }
        if let Some(t0) = self.progress {
            eprintln!(
                "[progress] {} {key}: done ({:.1} s into the test)",
                self.test,
                t0.elapsed().as_secs_f64()
            );
        }
    }
}

/// `# Size` (padded to `width`) followed by right-aligned column titles.
///
/// ```
/// let h = rshmem_benches::osu_header("Size", 10, &["Latency (us)"]);
/// assert_eq!(h, "# Size            Latency (us)");
/// ```
pub fn osu_header(first: &str, width: usize, columns: &[&str]) -> String {
    let mut s = format!("{:<width$}", format!("# {first}"));
    for c in columns {
        s.push_str(&format!("{c:>w$}", w = FIELD_WIDTH));
    }
    s
}

/// The CSV header line.
pub fn csv_header() -> &'static str {
    "test,key,metric,value,iterations"
}

/// CSV metric name of an OSU column title.
///
/// ```
/// assert_eq!(rshmem_benches::csv_metric("Bandwidth (MB/s)"), "bandwidth_MB_s");
/// assert_eq!(rshmem_benches::csv_metric("Latency (us)"), "latency_us");
/// ```
pub fn csv_metric(column: &str) -> String {
    let mut out = String::new();
    for c in column.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => out.push(c),
            ' ' | '/' if !out.ends_with('_') => out.push('_'),
            _ => {}
        }
    }
    let out = out.trim_end_matches('_').to_string();
    // lower-case the leading word only ("Latency" -> "latency", keep "MB")
    match out.split_once('_') {
        Some((a, b)) => format!("{}_{b}", a.to_ascii_lowercase()),
        None => out.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_lists() {
        assert_eq!(sizes(1, 1), vec![1]);
        assert_eq!(sizes(0, 4), vec![1, 2, 4]);
        assert!(sizes(8, 4).is_empty());
        let all = sizes(1, 4 << 20);
        assert_eq!(all.len(), 23);
        assert_eq!(*all.last().unwrap(), 4 << 20);
    }

    #[test]
    fn scaling_keeps_bytes_per_size() {
        for s in sizes(16384, 1 << 20) {
            assert_eq!(
                scaled_iters(1 << 17, s, 1) * s,
                (1 << 17) * LARGE_MESSAGE_SIZE
            );
            assert!(bw_ops(1 << 17, s, 1) >= scaled_iters(1 << 17, s, 1));
        }
    }

    #[test]
    fn aligned_buffers() {
        let mut b = AlignedBuf::new(10_000);
        assert_eq!(b.as_slice().as_ptr() as usize % 4096, 0);
        assert!(b.as_slice().iter().all(|&x| x == 0));
        b.touch(3);
        assert!(b.as_slice().iter().all(|&x| x != 0));
    }

    #[test]
    fn metric_names() {
        assert_eq!(csv_metric("Messages/s"), "messages_s");
        assert_eq!(csv_metric("Million ops/s"), "million_ops_s");
    }
}
