//! The benchmark program's subcommands run and print sane output, with tiny iteration
//! counts: alone (a singleton start, PE 0 of 1) and, when the launcher of the same profile
//! has been built (`cargo build -p rshmem-launcher`), under `rshmemrun -n 2`. Speed is not
//! checked here (that is what the benchmarks are for), only that every row is there and
//! every value is a positive finite number.
use std::path::PathBuf;
use std::process::Command;

const BENCH: &str = env!("CARGO_BIN_EXE_rshmem-bench");
const OSU: &str = env!("CARGO_BIN_EXE_rshmem-osu");

/// `rshmemrun` next to the benchmark binary (same target directory and profile), if built.
fn rshmemrun() -> Option<PathBuf> {
    let p = PathBuf::from(BENCH).parent()?.join("rshmemrun");
    p.is_file().then_some(p)
}

/// Runs `program args` (under `rshmemrun -n np` when `np` is given); returns stdout.
fn run(np: Option<usize>, program: &str, args: &[&str]) -> String {
    let mut cmd = match np {
        Some(n) => {
            let mut c = Command::new(rshmemrun().expect("rshmemrun"));
            c.args(["--timeout", "120", "-n", &n.to_string(), program]);
            c
        }
        None => Command::new(program),
    };
    let out = cmd.args(args).output().expect("start the benchmark");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?} (np {np:?}) failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// CSV rows (test, key, metric, value) after the header.
fn csv_rows(out: &str) -> Vec<(String, String, String, f64)> {
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("test,key,metric,value,iterations"),
        "{out}"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 5, "bad CSV row {l:?}");
            let v: f64 = f[3]
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {l:?}"));
            assert!(v.is_finite() && v > 0.0, "value not positive in {l:?}");
            let iters: usize = f[4].parse().unwrap();
            assert!(iters > 0, "{l:?}");
            (f[0].into(), f[1].into(), f[2].into(), v)
        })
        .collect()
}

const TINY: [&str; 6] = ["--iters", "20", "--warmup", "2", "--max-size", "1k"];

/// (subcommand, CSV test names it prints, metrics per size)
const COLLECTIVES: [(&str, &[&str], usize); 5] = [
    ("bcast_lat", &["bcast_lat"], 3),
    ("reduce_lat", &["reduce_lat_i64", "reduce_lat_f64"], 3),
    ("collect_lat", &["collect_lat"], 3),
    ("fcollect_lat", &["fcollect_lat"], 3),
    ("alltoall_lat", &["alltoall_lat"], 3),
];

fn check_collectives(np: Option<usize>) {
    // 8 B .. 1 KiB: 8 sizes
    for (sub, tests, metrics) in COLLECTIVES {
        let mut args = vec![sub, "--csv"];
        args.extend(TINY);
        let rows = csv_rows(&run(np, BENCH, &args));
        for t in tests {
            let mine: Vec<_> = rows.iter().filter(|r| r.0 == *t).collect();
            assert_eq!(mine.len(), 8 * metrics, "{sub}: rows of {t}: {rows:?}");
            assert_eq!(mine[0].1, "8");
            assert_eq!(mine.last().unwrap().1, "1024");
            // min <= avg <= max for every size
            for size in mine.chunks(3) {
                let (avg, min, max) = (size[0].3, size[1].3, size[2].3);
                assert!(min <= avg && avg <= max, "{sub}: {size:?}");
            }
        }
    }
}

fn check_point_to_point(np: Option<usize>) {
    for sub in ["put_nbi_lat", "get_nbi_lat", "get_bw", "put_bibw"] {
        let mut args = vec![sub, "--csv", "--min-size", "64"];
        args.extend(TINY);
        let rows = csv_rows(&run(np, BENCH, &args));
        // 64 B .. 1 KiB: 5 sizes, one metric
        assert_eq!(rows.len(), 5, "{sub}: {rows:?}");
        assert!(rows.iter().all(|r| r.0 == sub), "{rows:?}");
    }
}

#[test]
fn singleton() {
    check_collectives(None);
    check_point_to_point(None);
}

#[test]
fn two_pes() {
    if rshmemrun().is_none() {
        eprintln!(
            "two_pes: not run: no rshmemrun next to {BENCH}; build it with `cargo build -p rshmem-launcher` (same profile)"
        );
        return;
    }
    check_collectives(Some(2));
    check_point_to_point(Some(2));
}

#[test]
fn osu_formats_and_old_name() {
    // OSU columns: title, notes, `# Size` header, one row per size with 3 values
    let out = run(None, OSU, &["bcast", "--iters", "5", "--max-size", "64"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("# OSU-style rshmem Broadcast Latency Test"),
        "{out}"
    );
    let header = lines.iter().position(|l| l.starts_with("# Size")).unwrap();
    assert!(lines[header].contains("Avg Latency (us)"), "{out}");
    let rows = &lines[header + 1..];
    assert_eq!(rows.len(), 4, "{out}"); // 8, 16, 32, 64
    for r in rows {
        let f: Vec<&str> = r.split_whitespace().collect();
        assert_eq!(f.len(), 4, "{r:?}");
    }
    // JSON: one document, one object per row
    let out = run(None, BENCH, &["barrier", "--iters", "5", "--json"]);
    assert!(
        out.starts_with("{\"benchmark\": \"rshmem-bench\", \"pes\": 1, \"results\": ["),
        "{out}"
    );
    assert!(out.trim_end().ends_with("]}"), "{out}");
    assert_eq!(out.matches("\"test\": \"barrier_lat\"").count(), 1, "{out}");
}

/// `--peer` picks PE 0's partner in the point-to-point tests; a PE outside the job is a
/// usage error that names the valid range.
#[test]
fn peer_option() {
    let Some(launcher) = rshmemrun() else {
        eprintln!("peer_option: not run: no rshmemrun next to {BENCH}");
        return;
    };
    let out = run(
        Some(3),
        BENCH,
        &["put_lat", "--iters", "20", "--max-size", "8", "--peer", "2"],
    );
    assert!(out.contains("PE 0 -> PE 2"), "{out}");
    let bad = Command::new(launcher)
        .args(["-n", "2", BENCH, "put_lat", "--peer", "5"])
        .output()
        .expect("run rshmemrun");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("--peer 5: the partner of PE 0 must be one of PEs 1..=1"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
