//! Failure paths (`src/bin/fail.rs`): a PE killed by SIGKILL, bad SHMEM_SYMMETRIC_SIZE,
//! heap exhaustion, PE out of range, non-symmetric addresses, SHMEM_DEBUG argument checks,
//! global_exit, and a singleton start.
use rshmem_tests::harness::{job, still_alive, workspace_bin, Launcher};
use std::time::Duration;

const FAIL: &str = env!("CARGO_BIN_EXE_fail");

/// A PE kills itself with SIGKILL while the others block in a barrier or a wait: the
/// launcher must end the job non-zero within 2 s, leave no PE process and no shared memory.
fn sigkill(np: usize, victim: usize) {
    let r = job(FAIL, np)
        .args(["sigkill".to_string(), victim.to_string()])
        .run();
    r.assert_code(128 + 9);
    r.assert_stderr_contains(&[&format!("PE {victim}"), "signal 9 (SIGKILL)"]);
    let killed_at = r
        .time_of("SIGKILL now")
        .unwrap_or_else(|| panic!("no SIGKILL line\n{r}"));
    let reaction = r.elapsed.saturating_sub(killed_at);
    assert!(
        reaction < Duration::from_secs(2),
        "the launcher took {reaction:?} to end the job\n{r}"
    );
    let pids: Vec<u32> = r
        .values("PID ")
        .iter()
        .map(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
                .expect("PID line")
        })
        .collect();
    assert_eq!(pids.len(), np, "every PE prints its pid\n{r}");
    let alive = still_alive(&pids, Duration::from_secs(1));
    assert!(
        alive.is_empty(),
        "PE processes {alive:?} outlived the job\n{r}"
    );
    // (run() already asserted that no /dev/shm/rshmem-<job>-* object is left.)
    assert!(!r.stdout_text().contains("OK"), "\n{r}");
}

#[test]
fn sigkilled_pe_ends_job_4_pes() {
    sigkill(4, 3);
}

#[test]
fn sigkilled_pe_0_ends_job_8_pes() {
    sigkill(8, 0);
}

#[test]
fn bad_symmetric_size_is_reported() {
    let r = job(FAIL, 4)
        .arg("init")
        .env("SHMEM_SYMMETRIC_SIZE", "12q")
        .run();
    r.assert_failed();
    r.assert_stderr_contains(&["SHMEM_SYMMETRIC_SIZE", "\"12q\"", "init failed"]);
}

/// Heap sizes that differ between PEs are refused at init, naming both sizes, even when
/// init reads only some PEs' records (TCP forced: each PE reads its own and PE 0's).
#[test]
fn heap_sizes_that_differ_between_pes_are_refused() {
    let script = format!(
        "if [ \"$PMI_RANK\" = 3 ]; then export SHMEM_SYMMETRIC_SIZE=64M; \
         else export SHMEM_SYMMETRIC_SIZE=32M; fi; exec {FAIL} init"
    );
    let r = job("/bin/sh", 4)
        .args(["-c", script.as_str()])
        .env("RSHMEM_TRANSPORT", "tcp")
        .run();
    r.assert_failed();
    r.assert_stderr_contains(&[
        "SHMEM_SYMMETRIC_SIZE",
        "PE 0 has a symmetric segment of",
        "but PE 3 has",
        "every PE must have the same heap size",
    ]);
}

#[test]
fn heap_exhaustion_is_an_error_with_the_numbers() {
    let r = job(FAIL, 2)
        .arg("heap")
        .env("SHMEM_SYMMETRIC_SIZE", "1M")
        .run();
    r.assert_all_ok("fail", 2);
    let msgs = r.values("HEAP ");
    assert_eq!(msgs.len(), 2, "\n{r}");
    for m in &msgs {
        for part in [
            "cannot allocate 2097152 bytes",
            "the heap has 1048576 bytes",
            "1048576 bytes free",
            "SHMEM_SYMMETRIC_SIZE",
        ] {
            assert!(
                m.contains(part),
                "heap exhaustion message lacks {part:?}: {m}"
            );
        }
    }
    assert_eq!(r.values("FIELDS "), ["2097152 1048576 1048576"; 2], "\n{r}");
}

#[test]
fn pe_out_of_range_names_the_pe_and_the_range() {
    let r = job(FAIL, 4).arg("pe-range").run();
    r.assert_all_ok("fail", 4);
    let lines = r.values("RANGE ");
    assert_eq!(lines.len(), 4 * 4, "\n{r}");
    for l in &lines {
        let pe = if l.starts_with("fetch_add") {
            "PE 9 "
        } else {
            "PE 4 "
        };
        assert!(
            l.contains(pe)
                && l.contains("out of range")
                && l.contains("valid PE numbers are 0..=3"),
            "{l}"
        );
    }
}

#[test]
fn address_outside_the_heap_is_not_symmetric() {
    let r = job(FAIL, 2).arg("not-symmetric").run();
    r.assert_all_ok("fail", 2);
    let lines = r.values("NOTSYM ");
    assert_eq!(lines.len(), 2 * 4, "\n{r}");
    for l in &lines {
        assert!(l.contains("is not inside a symmetric segment"), "{l}");
        if let Some(rest) = l.strip_prefix("tail: ") {
            assert!(rest.contains("(+64 bytes)"), "{l}");
        } else {
            // `<op> <addr>: address <addr> (+8 bytes) ...`: the message names the address.
            let addr = l.split_whitespace().nth(1).unwrap().trim_end_matches(':');
            assert!(l.contains(&format!("address {addr} (+8 bytes)")), "{l}");
        }
    }
}

#[test]
fn shmem_debug_catches_mismatched_alloc_sizes() {
    let r = job(FAIL, 4)
        .arg("debug-alloc")
        .env("SHMEM_DEBUG", "1")
        .run();
    r.assert_failed();
    r.assert_stderr_contains(&[
        "SHMEM_DEBUG: shmem_malloc called with",
        "on PE 0",
        "collective calls must get the same arguments on every PE",
    ]);
    assert!(
        r.values("PE ").iter().all(|l| !l.contains("allocated")),
        "\n{r}"
    );
    assert!(!r.stdout_text().contains("OK"), "\n{r}");
}

#[test]
fn mismatched_alloc_sizes_pass_without_shmem_debug() {
    // The same program without SHMEM_DEBUG: nothing checks, the job succeeds — so the
    // failure above is the SHMEM_DEBUG check's doing.
    job(FAIL, 4)
        .arg("debug-alloc")
        .run()
        .assert_all_ok("fail", 4);
}

#[test]
fn global_exit_code_is_the_launcher_exit_code() {
    let r = job(FAIL, 4).args(["global-exit", "7"]).run();
    r.assert_code(7);
    r.assert_stderr_contains(&["global_exit(7)"]);
    r.assert_stdout_contains(&["GLOBAL_EXIT 7 from PE 3"]);
}

#[test]
fn global_exit_1_pe() {
    job(FAIL, 1).args(["global-exit", "3"]).run().assert_code(3);
}

#[test]
fn singleton_start_is_pe_0_of_1() {
    let r = job(workspace_bin("hello"), 1)
        .launcher(Launcher::Direct)
        .run();
    r.assert_ok();
    assert_eq!(r.stdout_text(), "PE 0 of 1\n", "\n{r}");
    let r = job(FAIL, 1)
        .arg("pe-range")
        .launcher(Launcher::Direct)
        .run();
    r.assert_all_ok("fail", 1);
    assert!(r.values("JOB ")[0].starts_with("singleton-"), "\n{r}");
    assert!(
        r.values("RANGE ")[0].contains("this job has 1 PEs, valid PE numbers are 0..=0"),
        "\n{r}"
    );
}
