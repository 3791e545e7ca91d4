//! Exit, heap and lock behaviours (`src/bin/exits.rs`): clear_lock of a lock this PE does
//! not hold, shmem_align beyond 2 MiB, a PE that exits 0 without finalize while others wait.
use rshmem_tests::harness::job;
use std::collections::BTreeMap;

const EXITS: &str = env!("CARGO_BIN_EXE_exits");
const FAIL: &str = env!("CARGO_BIN_EXE_fail");

#[test]
fn clear_lock_of_an_unheld_lock_is_an_error() {
    let r = job(EXITS, 4).arg("clear-unheld").run();
    r.assert_all_ok("exits", 4);
    let lines = r.values("CLEAR ");
    assert_eq!(lines.len(), 2 * 4, "two errors per PE\n{r}");
    for l in &lines {
        assert!(
            l.contains("shmem_clear_lock") && l.contains("does not hold this lock"),
            "{l}"
        );
    }
}

/// `malloc(64, 1 << k)` for k = 0..=30 with a 3 GiB heap (block k lands at offset 2 << k): aligned on every PE, at the
/// same offset everywhere (the program checks a put into its neighbour's block), and an
/// alignment beyond the heap is an error naming it.
fn align(np: usize) {
    let r = job(EXITS, np)
        .args(["align", "30"])
        .env("SHMEM_SYMMETRIC_SIZE", "3G")
        .timeout_secs(60)
        .run();
    r.assert_all_ok("exits", np);
    let mut by_k: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for l in r.values("ALIGN ") {
        let f: Vec<&str> = l.split_whitespace().collect();
        // PE <me> k <k> offset <off>
        let k: u32 = f[3].parse().unwrap();
        let off = usize::from_str_radix(f[5].trim_start_matches("0x"), 16).unwrap();
        assert_eq!(off % (1 << k), 0, "{l}");
        by_k.entry(k).or_default().push(f[5].to_string());
    }
    assert_eq!(by_k.len(), 31, "\n{r}");
    for (k, offs) in &by_k {
        assert_eq!(offs.len(), np, "k {k}\n{r}");
        assert!(
            offs.iter().all(|o| o == &offs[0]),
            "k {k}: offsets {offs:?}"
        );
    }
    let big = r.values("BIGALIGN ");
    assert_eq!(big.len(), np, "\n{r}");
    for l in &big {
        assert!(
            l.contains("alignment 8589934592") && l.contains("larger than the symmetric heap"),
            "{l}"
        );
    }
}

#[test]
fn shmem_align_up_to_1_gib_2_pes() {
    align(2);
}

#[test]
fn shmem_align_up_to_1_gib_4_pes() {
    align(4);
}

/// PE 3 exits 0 without finalize while the others wait: the job ends with status 1 and a
/// message naming PE 3 and what the others wait in (it hung forever, or let the others
/// through a barrier PE 3 never entered), and rshmemrun names PE 3 too.
fn exit0(mode: &str, waits_in: &str) {
    let r = job(EXITS, 4).arg(mode).run();
    r.assert_code(1);
    r.assert_stderr_contains(&[
        "rshmem: PE 3: PE 3 is in shmem_finalize",
        &format!("PEs 0, 1, 2 wait in {waits_in}"),
        "rshmemrun: PE 3 (pid",
    ]);
    assert!(!r.stderr_text().contains("got past"), "\n{r}");
    let launcher_lines = r
        .stderr_text()
        .lines()
        .filter(|l| l.contains("rshmemrun: PE"))
        .count();
    assert_eq!(launcher_lines, 1, "\n{r}");
}

#[test]
fn exit_0_without_finalize_while_others_wait_in_barrier_all() {
    exit0("exit0-barrier", "shmem_barrier_all");
}

#[test]
fn exit_0_without_finalize_while_others_wait_until() {
    exit0("exit0-wait", "a point-to-point wait");
}

/// Every PE finalizes implicitly at exit, at different times: status 0.
#[test]
fn implicit_finalize_of_every_pe_ends_0() {
    for np in [1, 2, 4] {
        job(EXITS, np)
            .arg("finalize-all")
            .run()
            .assert_all_ok("exits", np);
    }
}

/// The launcher names the PE that failed, not the first of the PEs that exited with it.
#[test]
fn rshmemrun_names_the_pe_that_failed() {
    for (mode, code) in [("exit", 3), ("global-exit", 7)] {
        let r = job(FAIL, 4).args([mode, &code.to_string()]).run();
        r.assert_code(code);
        r.assert_stderr_contains(&["rshmemrun: PE 3 (pid"]);
        for pe in 0..3 {
            assert!(
                !r.stderr_text()
                    .contains(&format!("rshmemrun: PE {pe} (pid")),
                "{mode}: the launcher named PE {pe}\n{r}"
            );
        }
    }
}

/// Lines that PEs write in pieces come out whole: the launcher forwards whole lines.
#[test]
fn output_lines_of_several_pes_never_interleave() {
    let r = job(EXITS, 4).arg("lines").run();
    r.assert_all_ok("exits", 4);
    for (what, text) in [("stdout", r.stdout_text()), ("stderr", r.stderr_text())] {
        let mut per_pe = [0usize; 4];
        for l in text.lines().filter(|l| l.len() >= 512) {
            let first = l.as_bytes()[0];
            assert!(
                l.len() == 4096 && l.bytes().all(|b| b == first),
                "{what}: a line mixes PEs' output: {}...",
                &l[..l.len().min(80)]
            );
            per_pe[(first - b'A') as usize] += 1;
        }
        assert_eq!(per_pe, [100; 4], "{what}");
    }
}

/// Without SHMEM_SYMMETRIC_SIZE the heap is sized from the machine: 1 GiB per PE fits at 2
/// PEs on any machine with 4 GiB of memory and /dev/shm (it was a fixed 512 MiB).
#[test]
fn default_heap_fits_1_gib_per_pe() {
    let r = job(EXITS, 2).arg("big-alloc").run();
    r.assert_all_ok("exits", 2);
    for h in r.values("HEAP ") {
        let h: usize = h.trim().parse().unwrap();
        assert!(h >= 1 << 30 && h.is_power_of_two(), "heap {h}");
    }
}

/// Runs `rshmemrun -n NP exits ARGS` in a private mount namespace whose /dev/shm is a
/// 64 MiB tmpfs (needs root and unshare); `None` after a SKIPPED notice otherwise.
fn with_small_dev_shm(
    np: usize,
    args: &[&str],
    env: &[(&str, &str)],
) -> Option<std::process::Output> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !std::path::Path::new("/usr/bin/unshare").exists() {
        rshmem_tests::harness::notice("SKIPPED: a small /dev/shm needs root and unshare");
        return None;
    }
    let script = format!(
        "mount -t tmpfs -o size=64m tmpfs /dev/shm && exec timeout -k 3 30 {} -n {np} {EXITS} {}",
        rshmem_tests::harness::rshmemrun().display(),
        args.join(" ")
    );
    let mut c = std::process::Command::new("unshare");
    c.args(["-m", "sh", "-c", &script]);
    c.env_remove("SHMEM_SYMMETRIC_SIZE")
        .env_remove("SMA_SYMMETRIC_SIZE");
    for (k, v) in env {
        c.env(k, v);
    }
    Some(c.output().expect("run unshare"))
}

/// Touching more than /dev/shm holds is a SIGBUS; the PE says why before it dies.
#[test]
fn full_dev_shm_is_a_clear_error() {
    let Some(out) = with_small_dev_shm(2, &["touch", "48"], &[("SHMEM_SYMMETRIC_SIZE", "1G")])
    else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    let show = format!(
        "{:?}\n{err}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(out.status.code(), Some(128 + 7), "{show}");
    assert!(
        err.contains("SIGBUS on symmetric memory") && err.contains("/dev/shm (tmpfs) is full"),
        "{show}"
    );
    assert!(err.contains("signal 7 (SIGBUS)"), "{show}");
}

/// The default heap is capped by the size of /dev/shm: 64 MiB / 2 PEs = 32 MiB each.
#[test]
fn default_heap_is_capped_by_dev_shm() {
    let Some(out) = with_small_dev_shm(2, &["touch", "1"], &[]) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let heaps: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("HEAP "))
        .collect();
    assert_eq!(heaps, ["33554432", "33554432"], "{text}");
}

/// A heap the address space cannot hold (here `ulimit -v` 4 GB, an 8 GiB heap) says so,
/// not that /dev/shm is too small.
#[test]
fn heap_too_large_for_the_address_space_says_so() {
    let script = format!(
        "ulimit -v 4000000 && exec timeout -k 3 30 {} -n 2 {EXITS} finalize-all",
        rshmem_tests::harness::rshmemrun().display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("SHMEM_SYMMETRIC_SIZE", "8G")
        .output()
        .expect("run sh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("address space cannot hold a mapping this large")
            && !err.contains("enlarge /dev/shm"),
        "{err}"
    );
}
