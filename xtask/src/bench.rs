//! `xtask verbs-bench-report DIR`: the figures and the summary of `scripts/verbs-bench.sh`.
//!
//! The script runs the tools in the Soft-RoCE VM and keeps each output in DIR:
//!
//! ```text
//! DIR/perftest/KEY.RUN.TRY.log   a perftest client's output (KEY: write_lat, read_lat,
//!                                atomic_lat, write_bw)
//! DIR/LABEL/KEY.RUN.log          rshmemrun -n 2 rshmem-osu --csv ... (LABEL: new, base;
//! DIR/LABEL/KEY.RUN.rc           KEY: see [`OSU_KEYS`]) and its exit status
//! ```
//!
//! This module reads them: the figure of each log (perftest: the last figures line's
//! t_typical / t_avg / BW average column; rshmem-osu: the value of the last CSV row of the
//! measure), the raw values per run, their medians and the table of rshmem against
//! perftest with the ratios and the targets of issue #3 s. 9 (latency <= 1.15 x perftest,
//! bandwidth >= 0.9 x ib_write_bw, message rate (selective + inline) >= 2 x every-WR-
//! signaled). perftest reports MiB/s (2^20 B); it is converted to MB/s (10^6 B, as
//! rshmem-osu) for the ratio.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

/// The rshmem-osu measures and the CSV row prefix (`bench,size,metric`) each one reads.
pub const OSU_KEYS: [(&str, &str); 14] = [
    ("put_lat", "put_lat,8,latency_us"),
    ("get_lat", "get_lat,8,latency_us"),
    ("amo_lat", "atomic_lat,fetch_add,latency_us"),
    ("put_lat_t", "put_lat,8,latency_us"),
    ("get_lat_t", "get_lat,8,latency_us"),
    ("amo_lat_t", "atomic_lat,fetch_add,latency_us"),
    ("pp_lat", "pingpong_lat,8,latency_us"),
    ("pp_lat_t", "pingpong_lat,8,latency_us"),
    ("put_bw", "put_bw,1048576,bandwidth_MB_s"),
    ("put_bw_sym", "put_bw,1048576,bandwidth_MB_s"),
    ("mr_sel", "msg_rate,8,messages_s"),
    ("mr_nolist", "msg_rate,8,messages_s"),
    ("mr_sig", "msg_rate,8,messages_s"),
    ("mr_sig_noinl", "msg_rate,8,messages_s"),
];

/// The perftest measures, in the order the raw values are printed.
pub const PERF_KEYS: [&str; 7] = [
    "write_lat",
    "write_lat_avg",
    "read_lat",
    "read_lat_avg",
    "atomic_lat",
    "atomic_lat_avg",
    "write_bw",
];

/// MiB/s to MB/s.
const MIB_PER_MB: f64 = 1.048576;

/// perftest's figures line: the last line that starts (after spaces) with two integers
/// (`#bytes #iterations`) and has more columns.
pub fn perftest_figures(log: &str) -> Option<&str> {
    log.lines().rfind(|l| {
        let mut w = l.trim_start_matches(' ').split_whitespace();
        let int = |s: Option<&str>| s.is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()));
        !l.starts_with('\t') && int(w.next()) && int(w.next()) && w.next().is_some()
    })
}

/// Column `col` (1-based, whitespace-separated) of `line` as a number.
pub fn column(line: &str, col: usize) -> Option<f64> {
    line.split_whitespace()
        .nth(col.checked_sub(1)?)
        .and_then(|s| s.parse().ok())
}

/// The figures of a perftest client log: `(main, avg)` where main is t_typical (column 5)
/// for the latency tests and BW average (column 4) for `write_bw`; avg is t_avg (column 6)
/// for the latency tests and `None` for `write_bw`. `None` when there is no figures line.
pub fn perftest_values(key: &str, log: &str) -> Option<(f64, Option<f64>)> {
    let line = perftest_figures(log)?;
    if key == "write_bw" {
        Some((column(line, 4)?, None))
    } else {
        Some((column(line, 5)?, Some(column(line, 6).unwrap_or(f64::NAN))))
    }
}

/// The value (4th field) of the last rshmem-osu CSV row starting with `row` (`bench,size,
/// metric`).
pub fn osu_value(log: &str, row: &str) -> Option<f64> {
    log.lines()
        .rfind(|l| {
            l.strip_prefix(row)
                .is_some_and(|rest| rest.starts_with(','))
        })
        .and_then(|l| l.split(',').nth(3))
        .and_then(|v| v.trim().parse().ok())
}

/// Median of the numbers that are not NaN; NaN when there are none.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// What a row compares: a latency (lower is better) or a rate (higher is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Latency,
    Rate,
}

fn num(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else {
        x.to_string()
    }
}

/// One table row: rshmem, perftest, their ratio and whether it meets `target` (latency:
/// ratio <= target; rate: ratio >= target). A missing or zero value gives `-` and `?`.
pub fn row(name: &str, rshmem: f64, perftest: f64, kind: Kind, target: f64) -> String {
    if rshmem.is_nan() || perftest.is_nan() || rshmem == 0.0 || perftest == 0.0 {
        return format!(
            "| {name:<34} | {:>12} | {:>12} | {:>6} | {:<8} | ? |",
            num(rshmem),
            num(perftest),
            "-",
            num(target)
        );
    }
    let ratio = rshmem / perftest;
    let (op, met) = match kind {
        Kind::Latency => ("<=", ratio <= target),
        Kind::Rate => (">=", ratio >= target),
    };
    format!(
        "| {name:<34} | {rshmem:>12.2} | {perftest:>12.2} | {ratio:>6.2} | {op} {:<5} | {} |",
        num(target),
        if met { "met" } else { "NOT met" }
    )
}

/// The values of every measure, in run order: `write_lat`, `new/put_lat`, ...
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Results {
    pub values: BTreeMap<String, Vec<f64>>,
    /// Measures without a figure: (what, why, the log's last 15 lines).
    pub failures: Vec<(String, String, String)>,
}

impl Results {
    pub fn add(&mut self, key: &str, v: f64) {
        self.values.entry(key.to_string()).or_default().push(v);
    }

    fn get(&self, key: &str) -> &[f64] {
        self.values.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    fn med(&self, key: &str) -> f64 {
        median(self.get(key))
    }

    /// One perftest client log of measure `key`.
    pub fn add_perftest(&mut self, key: &str, what: &str, log: &str) {
        match perftest_values(key, log) {
            Some((v, avg)) => {
                self.add(key, v);
                if let Some(a) = avg {
                    self.add(&format!("{key}_avg"), a);
                }
            }
            None => {
                self.add(key, f64::NAN);
                if key != "write_bw" {
                    self.add(&format!("{key}_avg"), f64::NAN);
                }
                self.failures
                    .push((what.into(), "no figures line".into(), tail(log, 15)));
            }
        }
    }

    /// One rshmem-osu log of `label/key` with its exit status (`None`: not recorded).
    pub fn add_osu(&mut self, label: &str, key: &str, what: &str, log: &str, rc: Option<i32>) {
        let row = OSU_KEYS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| *r)
            .unwrap_or("");
        let v = match (rc, osu_value(log, row)) {
            (Some(0) | None, Some(v)) if !row.is_empty() => v,
            (rc, v) => {
                let why = match (rc, v) {
                    (Some(rc), _) if rc != 0 => format!("exit status {rc}"),
                    _ if row.is_empty() => format!("unknown measure {key}"),
                    _ => format!("no {row} row"),
                };
                self.failures.push((what.into(), why, tail(log, 15)));
                f64::NAN
            }
        };
        self.add(&format!("{label}/{key}"), v);
    }

    /// The raw values, one line per measure (perftest's, then each label's).
    pub fn raw(&self, labels: &[&str]) -> String {
        let mut s = String::from(
            "== raw values per run (perftest latencies: t_typical and t_avg us; ib_write_bw: BW average MiB/s)\n",
        );
        let line = |s: &mut String, k: &str| {
            let vals: Vec<String> = self.get(k).iter().map(|v| num(*v)).collect();
            let _ = writeln!(s, "  {k:<22} {}", vals.join(" "));
        };
        for k in PERF_KEYS {
            line(&mut s, k);
        }
        for l in labels {
            for (k, _) in OSU_KEYS {
                line(&mut s, &format!("{l}/{k}"));
            }
        }
        s
    }

    /// The table of rshmem (`label`) against perftest, medians of `runs` runs.
    pub fn table(&self, label: &str, runs: usize) -> String {
        use Kind::*;
        let r = |k: &str| self.med(&format!("{label}/{k}"));
        let (wl, rl, al) = (
            self.med("write_lat"),
            self.med("read_lat"),
            self.med("atomic_lat"),
        );
        let (wa, ra, aa) = (
            self.med("write_lat_avg"),
            self.med("read_lat_avg"),
            self.med("atomic_lat_avg"),
        );
        let bw = self.med("write_bw") * MIB_PER_MB;
        let section = |t: &str| format!("| *{t}* | | | | | |");
        let lines = [
            String::new(),
            format!("### rshmem ({label}) vs perftest, median of {runs} run(s)"),
            String::new(),
            "| measure | rshmem | perftest | ratio | target | |".into(),
            "|---|---:|---:|---:|---|---|".into(),
            section("same statistic and definition as perftest (median of per-operation times)"),
            row(
                "ping-pong 8 B typ / ib_write_lat typ",
                r("pp_lat_t"),
                wl,
                Latency,
                1.15,
            ),
            row(
                "get 8 B typ / ib_read_lat typ",
                r("get_lat_t"),
                rl,
                Latency,
                1.15,
            ),
            row(
                "fetch_add typ / ib_atomic_lat typ",
                r("amo_lat_t"),
                al,
                Latency,
                1.15,
            ),
            section("means against perftest's t_avg"),
            row(
                "ping-pong mean / ib_write_lat t_avg",
                r("pp_lat"),
                wa,
                Latency,
                1.15,
            ),
            row(
                "get mean / ib_read_lat t_avg",
                r("get_lat"),
                ra,
                Latency,
                1.15,
            ),
            row(
                "fetch_add mean / ib_atomic_lat t_avg",
                r("amo_lat"),
                aa,
                Latency,
                1.15,
            ),
            section("put + quiet (a full round trip) against ib_write_lat (half of one)"),
            row(
                "put+quiet typ / ib_write_lat typ",
                r("put_lat_t"),
                wl,
                Latency,
                1.15,
            ),
            row(
                "put+quiet mean / ib_write_lat t_avg",
                r("put_lat"),
                wa,
                Latency,
                1.15,
            ),
            section("bandwidth (MB/s)"),
            row(
                "put_bw 1 MiB sym src / ib_write_bw",
                r("put_bw_sym"),
                bw,
                Rate,
                0.9,
            ),
            row(
                "put_bw 1 MiB private src / ib_write_bw",
                r("put_bw"),
                bw,
                Rate,
                0.9,
            ),
            section("message rate (msg/s); every-sig = every WR signaled, each posted alone"),
            row(
                "selective+inline+lists / every-sig",
                r("mr_sel"),
                r("mr_sig"),
                Rate,
                2.0,
            ),
            row(
                "selective+inline, no lists / every-sig",
                r("mr_nolist"),
                r("mr_sig"),
                Rate,
                2.0,
            ),
            row(
                "selective+inline+lists / sig+no-inl",
                r("mr_sel"),
                r("mr_sig_noinl"),
                Rate,
                2.0,
            ),
        ];
        let mut s = lines.join("\n");
        s.push('\n');
        s
    }
}

/// The last `n` lines of `log`, each as `    | line`.
pub fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| format!("    | {l}\n"))
        .collect()
}

/// `KEY.N1.N2...` (the `.log` already stripped) as (KEY, [N1, N2, ...]).
fn split_name(stem: &str) -> Option<(&str, Vec<u32>)> {
    let mut parts = stem.split('.');
    let key = parts.next()?;
    let nums: Option<Vec<u32>> = parts.map(|p| p.parse().ok()).collect();
    Some((key, nums?))
}

/// The `*.log` files of `dir` as (key, numbers, path), sorted by key, then numerically.
fn logs(dir: &Path) -> io::Result<Vec<(String, Vec<u32>, std::path::PathBuf)>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        let Some(stem) = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".log"))
        else {
            continue;
        };
        if let Some((k, n)) = split_name(stem) {
            out.push((k.to_string(), n, p.clone()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads a results directory written by `scripts/verbs-bench.sh` (see the module doc).
/// Returns the results and the labels found (`new`, then `base`).
pub fn collect(dir: &Path) -> io::Result<(Results, Vec<&'static str>)> {
    let mut res = Results::default();
    let perf = dir.join("perftest");
    if perf.is_dir() {
        for (key, n, p) in logs(&perf)? {
            let what = format!("{key} (run {})", n.first().copied().unwrap_or(0));
            res.add_perftest(&key, &what, &fs::read_to_string(&p)?);
        }
    }
    let mut labels = Vec::new();
    for label in ["new", "base"] {
        let d = dir.join(label);
        if !d.is_dir() {
            continue;
        }
        labels.push(label);
        for (key, n, p) in logs(&d)? {
            let rc = fs::read_to_string(p.with_extension("rc"))
                .ok()
                .and_then(|s| s.trim().parse().ok());
            let what = format!("{label}/{key} (run {})", n.first().copied().unwrap_or(0));
            res.add_osu(label, &key, &what, &fs::read_to_string(&p)?, rc);
        }
    }
    Ok((res, labels))
}

/// The whole report: failures with their logs' tails, raw values, one table per label.
pub fn report(res: &Results, labels: &[&str], runs: usize) -> String {
    let mut s = String::new();
    for (what, why, log) in &res.failures {
        let _ = writeln!(s, "  {what}: FAILED ({why})");
        s.push_str(log);
    }
    s.push('\n');
    s.push_str(&res.raw(labels));
    for l in labels {
        s.push_str(&res.table(l, runs));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ib_write_lat client's output (perftest 4.5, rxe0); figures as in docs/verbs-bench.md.
    const WRITE_LAT: &str = "\
---------------------------------------------------------------------------------------
                    RDMA_Write Latency Test
 Dual-port       : OFF		Device         : rxe0
 Number of qps   : 1		Transport type : IB
 Connection type : RC		Using SRQ      : OFF
 TX depth        : 1
 Mtu             : 1024[B]
 Link type       : Ethernet
 GID index       : 1
 Max inline data : 220[B]
 rdma_cm QPs	 : OFF
 Data ex. method : Ethernet
---------------------------------------------------------------------------------------
 local address: LID 0000 QPN 0x0011 PSN 0x8a1b2c RKey 0x000312 VAddr 0x0055d4c8a5f000
 GID: 00:00:00:00:00:00:00:00:00:00:255:255:10:77:00:01
 remote address: LID 0000 QPN 0x0012 PSN 0x3c4d5e RKey 0x000413 VAddr 0x0056a1b2c3d000
 GID: 00:00:00:00:00:00:00:00:00:00:255:255:10:77:00:01
---------------------------------------------------------------------------------------
 #bytes #iterations    t_min[usec]    t_max[usec]  t_typical[usec]    t_avg[usec]    t_stdev[usec]   99% percentile[usec]   99.9% percentile[usec] 
 8       1000          17.88          2012.40      41.23       	46.56       	71.02  		112.55  		1830.20 
---------------------------------------------------------------------------------------
";

    const WRITE_BW: &str = "\
---------------------------------------------------------------------------------------
 #bytes     #iterations    BW peak[MB/sec]    BW average[MB/sec]   MsgRate[Mpps]
 1048576    64               22.95              21.02  		   0.000021
---------------------------------------------------------------------------------------
";

    const OSU_MR: &str = "\
bench,size,metric,value
msg_rate,8,messages_s,12391.5
";

    #[test]
    fn perftest_latency_figures() {
        assert_eq!(
            perftest_values("write_lat", WRITE_LAT),
            Some((41.23, Some(46.56)))
        );
        assert_eq!(
            perftest_figures(WRITE_LAT).map(str::trim_start),
            Some("8       1000          17.88          2012.40      41.23       \t46.56       \t71.02  \t\t112.55  \t\t1830.20 ")
        );
        // The header line (#bytes) and the QPN/LID lines are not figures.
        assert!(perftest_figures("#bytes #iterations t_min\n local address: LID 0000\n").is_none());
    }

    #[test]
    fn perftest_bandwidth_figures() {
        assert_eq!(perftest_values("write_bw", WRITE_BW), Some((21.02, None)));
    }

    #[test]
    fn perftest_failure_has_no_figures() {
        let log = " Couldn't connect to 10.77.0.1:18601\nUnable to open file descriptor for socket connection";
        assert_eq!(perftest_values("read_lat", log), None);
        let mut r = Results::default();
        r.add_perftest("read_lat", "read_lat (run 1)", log);
        assert!(r.get("read_lat")[0].is_nan() && r.get("read_lat_avg")[0].is_nan());
        assert_eq!(r.failures.len(), 1);
        assert!(
            r.failures[0].2.contains("    | Unable to open"),
            "{:?}",
            r.failures
        );
    }

    #[test]
    fn osu_rows() {
        assert_eq!(osu_value(OSU_MR, "msg_rate,8,messages_s"), Some(12391.5));
        // The last matching row wins; a longer bench name with the same start does not match.
        let log = "put_lat,8,latency_us,1.5\nput_lat,8,latency_us,2.5\nput_lat,80,latency_us,9\n";
        assert_eq!(osu_value(log, "put_lat,8,latency_us"), Some(2.5));
        assert_eq!(
            osu_value("rshmemrun: PE 1 exited with 1\n", "put_lat,8,latency_us"),
            None
        );
        assert_eq!(
            osu_value("put_lat,8,latency_us,\n", "put_lat,8,latency_us"),
            None
        );
    }

    #[test]
    fn osu_failures() {
        let mut r = Results::default();
        r.add_osu("new", "mr_sel", "new/mr_sel (run 1)", OSU_MR, Some(0));
        r.add_osu("new", "mr_sel", "new/mr_sel (run 2)", OSU_MR, Some(124));
        r.add_osu("new", "mr_sel", "new/mr_sel (run 3)", "nothing\n", Some(0));
        let v = r.get("new/mr_sel");
        assert_eq!(v[0], 12391.5);
        assert!(v[1].is_nan() && v[2].is_nan());
        assert_eq!(r.failures[0].1, "exit status 124");
        assert_eq!(r.failures[1].1, "no msg_rate,8,messages_s row");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[f64::NAN, 5.0, 1.0]), 3.0);
        assert!(median(&[]).is_nan());
        assert!(median(&[f64::NAN]).is_nan());
        // The message-rate runs of docs/verbs-bench.md (post lists, 2026-11-26).
        assert_eq!(median(&[25947.0, 28816.0, 28288.0]), 28288.0);
    }

    #[test]
    fn rows_ratio_and_target() {
        assert_eq!(
            row("ping-pong 8 B typ / ib_write_lat typ", 40.87, 41.23, Kind::Latency, 1.15),
            "| ping-pong 8 B typ / ib_write_lat typ |        40.87 |        41.23 |   0.99 | <= 1.15  | met |"
        );
        assert!(row("x", 150.0, 100.0, Kind::Latency, 1.15).ends_with("| NOT met |"));
        assert!(
            row("x", 12391.0, 13889.0, Kind::Rate, 2.0).contains("|   0.89 | >= 2     | NOT met |")
        );
        assert!(row("x", 21.71, 22.04 * MIB_PER_MB, Kind::Rate, 0.9).ends_with("| met |"));
        assert_eq!(
            row("x", f64::NAN, 3.0, Kind::Latency, 1.15),
            format!(
                "| {:<34} | {:>12} | {:>12} | {:>6} | {:<8} | ? |",
                "x", "nan", "3", "-", "1.15"
            )
        );
        assert!(row("x", 1.0, 0.0, Kind::Rate, 2.0).ends_with("| ? |"));
    }

    #[test]
    fn table_from_runs() {
        let mut r = Results::default();
        for (t, a) in [(35.80, 40.0), (41.23, 46.56), (20.02, 30.0)] {
            r.add_perftest(
                "write_lat",
                "w",
                &WRITE_LAT
                    .replace("41.23", &t.to_string())
                    .replace("46.56", &a.to_string()),
            );
        }
        r.add_perftest("write_bw", "bw", WRITE_BW);
        for v in [40.0, 40.87, 60.0] {
            r.add("new/pp_lat_t", v);
        }
        r.add("new/put_bw_sym", 21.71);
        r.add("new/mr_sel", 12391.0);
        r.add("new/mr_sig", 13889.0);
        assert!(r.failures.is_empty());
        let t = r.table("new", 3);
        assert!(
            t.contains("### rshmem (new) vs perftest, median of 3 run(s)"),
            "{t}"
        );
        let line = |name: &str| {
            t.lines()
                .find(|l| l.starts_with(&format!("| {name}")))
                .unwrap_or_else(|| panic!("no row {name}:\n{t}"))
                .to_string()
        };
        // median(40, 40.87, 60) = 40.87 against median(35.80, 41.23, 20.02) = 35.80
        assert!(
            line("ping-pong 8 B typ")
                .contains("|        40.87 |        35.80 |   1.14 | <= 1.15  | met |"),
            "{t}"
        );
        // 21.02 MiB/s = 22.04 MB/s
        assert!(
            line("put_bw 1 MiB sym src")
                .contains("|        21.71 |        22.04 |   0.98 | >= 0.9   | met |"),
            "{t}"
        );
        assert!(
            line("selective+inline+lists / every-sig").contains("NOT met"),
            "{t}"
        );
        // Not measured: no ratio, no verdict.
        assert!(line("get 8 B typ").ends_with("| ? |"), "{t}");
        let raw = r.raw(&["new"]);
        assert!(
            raw.contains("  write_lat              35.8 41.23 20.02\n"),
            "{raw}"
        );
        assert!(
            raw.contains("  write_lat_avg          40 46.56 30\n"),
            "{raw}"
        );
        assert!(
            raw.contains("  new/pp_lat_t           40 40.87 60\n"),
            "{raw}"
        );
    }

    #[test]
    fn collect_a_results_directory() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("perftest")).unwrap();
        fs::create_dir_all(d.join("new")).unwrap();
        // Run 10 sorts after run 2 (numeric order).
        for (run, t) in [(1, "30.5"), (2, "41.23"), (10, "50.5")] {
            fs::write(
                d.join(format!("perftest/write_lat.{run}.1.log")),
                WRITE_LAT.replace("41.23", t),
            )
            .unwrap();
        }
        fs::write(d.join("perftest/write_bw.1.1.log"), WRITE_BW).unwrap();
        fs::write(d.join("new/mr_sel.1.log"), OSU_MR).unwrap();
        fs::write(d.join("new/mr_sel.1.rc"), "0\n").unwrap();
        fs::write(d.join("new/mr_sig.1.log"), "rshmemrun: timed out\n").unwrap();
        fs::write(d.join("new/mr_sig.1.rc"), "124\n").unwrap();
        let (res, labels) = collect(d).unwrap();
        assert_eq!(labels, ["new"]);
        assert_eq!(res.get("write_lat"), [30.5, 41.23, 50.5]);
        assert_eq!(res.get("write_bw"), [21.02]);
        assert_eq!(res.get("new/mr_sel"), [12391.5]);
        let text = report(&res, &labels, 1);
        assert!(
            text.contains(
                "  new/mr_sig (run 1): FAILED (exit status 124)\n    | rshmemrun: timed out\n"
            ),
            "{text}"
        );
        assert!(text.contains("### rshmem (new) vs perftest"), "{text}");
        assert!(!text.contains("### rshmem (base)"), "{text}");
    }
}

/// scripts/verbs-bench.sh's guest part (`--in-vm`) run on the host with stand-ins for
/// perftest, rshmemrun and rshmem-osu: the logs it keeps are the layout [`collect`] reads.
#[cfg(test)]
mod script_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    use std::process::Command;

    fn exe(path: &Path, text: &str) {
        fs::write(path, text).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn guest_part_keeps_logs_that_the_report_reads() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let res = dir.path().join("res");
        fs::create_dir(&bin).unwrap();
        // perftest: the client is the call whose last argument is the server's address.
        let perf = |name: &str, figures: &str| {
            exe(
                &bin.join(name),
                &format!(
                    "#!/bin/sh\nfor a; do last=$a; done\n[ \"$last\" = 10.77.0.1 ] || exit 0\nprintf ' #bytes #iterations t_min\\n{figures}\\n'\n"
                ),
            )
        };
        perf("ib_write_lat", " 8 1000 10.0 90.0 20.00 25.00 1.0");
        perf("ib_read_lat", " 8 1000 10.0 90.0 30.00 35.00 1.0");
        perf("ib_atomic_lat", " 8 1000 10.0 90.0 40.00 45.00 1.0");
        perf("ib_write_bw", " 1048576 64 23.00 20.00 0.00002");
        exe(
            &bin.join("rshmemrun"),
            "#!/bin/sh\n[ \"$1\" = -n ] && [ \"$2\" = 2 ] || exit 9\nshift 2\nexec \"$@\"\n",
        );
        // rshmem-osu --csv BENCH ...: one CSV row; every-WR-signaled is slower; get_lat fails.
        exe(
            &bin.join("rshmem-osu"),
            r#"#!/bin/sh
shift
echo bench,size,metric,value
case $1 in
msg_rate) if [ -n "$RSHMEM_VERBS_SIGNAL_EVERY" ]; then v=1000; else v=3000; fi
          echo "msg_rate,8,messages_s,$v" ;;
put_lat) echo put_lat,8,latency_us,50 ;;
get_lat) echo "get_lat: verbs: cannot connect" >&2; exit 1 ;;
atomic_lat) echo atomic_lat,fetch_add,latency_us,44 ;;
pingpong_lat) echo pingpong_lat,8,latency_us,21 ;;
put_bw) echo put_bw,1048576,bandwidth_MB_s,20.5 ;;
esac
"#,
        );
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/verbs-bench.sh");
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let out = Command::new("bash")
            .arg(&script)
            .args(["--in-vm", "--runs", "2", "--iters", "10", "--results"])
            .arg(&res)
            .arg("--new")
            .arg(&bin)
            .env("PATH", path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("  new/get_lat: rshmem-osu get_lat --min-size 8 --max-size 8 --iters 10 -> FAILED (rc 1)"), "{stdout}");

        let (r, labels) = collect(&res).unwrap();
        assert_eq!(labels, ["new"]);
        assert_eq!(r.get("write_lat"), [20.0; 6], "3 tries x 2 runs");
        assert_eq!(r.get("read_lat_avg"), [35.0, 35.0]);
        assert_eq!(r.get("write_bw"), [20.0, 20.0]);
        assert_eq!(r.get("new/mr_sel"), [3000.0, 3000.0]);
        assert_eq!(r.get("new/mr_sig"), [1000.0, 1000.0]);
        assert_eq!(r.get("new/pp_lat_t"), [21.0, 21.0]);
        assert!(r.get("new/get_lat").iter().all(|v| v.is_nan()));
        assert_eq!(
            r.failures.len(),
            4,
            "get_lat and get_lat_t, 2 runs: {:?}",
            r.failures
        );
        assert!(
            r.failures[0].2.contains("cannot connect"),
            "{:?}",
            r.failures
        );
        let t = r.table("new", 2);
        assert!(t.contains("| ping-pong 8 B typ / ib_write_lat typ |        21.00 |        20.00 |   1.05 | <= 1.15  | met |"), "{t}");
        assert!(t.contains("| selective+inline+lists / every-sig |      3000.00 |      1000.00 |   3.00 | >= 2     | met |"), "{t}");
    }
}
