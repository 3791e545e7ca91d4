//! Builds the C conformance programs in `tests/c/` with the `rshmemcc` / `rshmemc++`
//! wrappers against `target/<profile>/librshmem.so` and runs each under
//! `rshmemrun -n {1,2,4} --timeout 60`, asserting exit status 0 and the program's
//! "<name>: ok on N PEs" line; the Hydra suite and the misuse cases. (The symbols and
//! headers: c_headers.rs.)
mod common;
use common::{built, capi_dir, compile, expect_caught, run, run_args, suite};
use std::path::{Path, PathBuf};
use std::process::Command;

/// [`run`] with every peer over the TCP transport (`RSHMEM_TRANSPORT=tcp`): the data goes
/// through each target's progress service, globals (segment 1) included.
fn run_tcp(exe: &Path, name: &str, n: usize) {
    let launcher = built().join("rshmemrun");
    let out = Command::new(&launcher)
        .args(["-n", &n.to_string(), "--timeout", "90"])
        .arg(exe)
        .env("RSHMEM_TRANSPORT", "tcp")
        .output()
        .expect("run rshmemrun");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!("{name}: ok on {n} PEs");
    assert!(
        out.status.success() && stdout.contains(&want),
        "{} on {n} PEs over TCP exited with {}, want '{want}'\nstdout:\n{stdout}\nstderr:\n{stderr}",
        exe.display(),
        out.status
    );
}

#[test]
fn rma_amo_coll_over_tcp() {
    for (file, name) in [("rma.c", "rma"), ("amo.c", "amo"), ("coll.c", "coll")] {
        let exe = compile(file, &[]);
        for n in [2, 4] {
            run_tcp(&exe, name, n);
        }
    }
}

/// rma.c, amo.c and coll.c across two "hosts" (network namespaces made by
/// `scripts/netns-up.sh`, started with `ip netns exec` as launch agent): shared memory
/// within a namespace, TCP between them (`RSHMEM_TRANSPORT` auto, no RDMA device there).
/// Needs root and iproute2: skipped with a notice otherwise, unless `CI` is set.
#[test]
fn rma_amo_coll_across_namespaces() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let ip = Path::new("/usr/sbin/ip").exists() || Path::new("/sbin/ip").exists();
    if !root || !ip {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the netns test cannot run (root: {root}, iproute2: {ip})"
        );
        eprintln!("SKIPPED rma_amo_coll_across_namespaces: needs root and iproute2");
        return;
    }
    let scripts = capi_dir().join("../scripts");
    struct Down(PathBuf);
    impl Drop for Down {
        fn drop(&mut self) {
            let _ = Command::new("bash")
                .arg(self.0.join("netns-down.sh"))
                .status();
        }
    }
    let exes: Vec<_> = [("rma.c", "rma"), ("amo.c", "amo"), ("coll.c", "coll")]
        .into_iter()
        .map(|(f, n)| (compile(f, &[]), n))
        .collect();
    let up = Command::new("bash")
        .arg(scripts.join("netns-up.sh"))
        .output()
        .expect("netns-up.sh");
    assert!(up.status.success(), "netns-up.sh: {up:?}");
    let _down = Down(scripts.clone());
    for (exe, name) in exes {
        let out = Command::new(built().join("rshmemrun"))
            .args([
                "-n",
                "4",
                "--timeout",
                "90",
                "--hosts",
                "rshmem-ns1:2,rshmem-ns2:2",
            ])
            .args([
                "--launch-agent",
                "ip netns exec",
                "--pmi-addr",
                "10.213.1.1",
            ])
            .arg(&exe)
            .env_remove("PMI_FD")
            .env_remove("PMI_PORT")
            .env_remove("RSHMEM_TRANSPORT")
            .env("SHMEM_INFO", "1")
            .output()
            .expect("run rshmemrun");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want = format!("{name}: ok on 4 PEs");
        assert!(
            out.status.success()
                && stdout.contains(&want)
                && stderr.contains("transport per peer: 0=shm 1=shm 2=tcp 3=tcp"),
            "{name} across namespaces exited with {}, want '{want}' and tcp to PEs 2, 3\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        );
    }
}

#[test]
fn setup_and_query() {
    suite("setup.c", "setup");
}

#[test]
fn globals_and_statics_are_symmetric() {
    suite("globals.c", "globals");
    // Linked statically, the runtime's own statics live in the program's data too.
    let exe = compile("globals.c", &["-rshmem-static"]);
    run(&exe, "globals", 2);
}

#[test]
fn reinitialization_after_finalize() {
    suite("reinit.c", "reinit");
}

#[test]
fn rma() {
    suite("rma.c", "rma");
}

#[test]
fn atomics() {
    suite("amo.c", "amo");
}

#[test]
fn signals() {
    suite("signal.c", "signal");
}

#[test]
fn point_to_point_sync() {
    suite("wait.c", "wait");
}

#[test]
fn locks() {
    suite("lock.c", "lock");
}

#[test]
fn memory_management() {
    suite("memory.c", "memory");
}

#[test]
fn shmem_align_beyond_2_mib() {
    suite("align.c", "align");
}

#[test]
fn teams() {
    suite("team.c", "team");
}

#[test]
fn team_collectives() {
    suite("coll.c", "coll");
}

#[test]
fn deprecated_active_set_collectives() {
    suite("active.c", "active");
}

#[test]
fn contexts() {
    suite("ctx.c", "ctx");
}

/// Private contexts on two threads per PE under SHMEM_THREAD_MULTIPLE (over verbs each has
/// its own CQ and QPs: the VM suite runs it too).
#[test]
fn contexts_on_threads() {
    suite("ctx_threads.c", "ctx_threads");
}

/// Thread levels: plain `shmem_init` provides SHMEM_THREAD_SINGLE, `shmem_init_thread`
/// the level asked for (`provided` and `shmem_query_thread`), an invalid level fails; the
/// default context's puts, gets and AMOs at each level (two threads at once under
/// MULTIPLE). Over verbs the VM suite runs it too ("thread level" cases).
#[test]
fn thread_levels() {
    let exe = compile("thread_level.c", &[]);
    for n in [1, 2, 4] {
        for how in ["init", "single", "multiple"] {
            run_args(&exe, "thread_level", n, &[how]);
        }
    }
    for how in ["funneled", "serialized", "invalid"] {
        run_args(&exe, "thread_level", 2, &[how]);
    }
    // The invalid level's message names the value and the valid ones.
    let out = Command::new(built().join("rshmemrun"))
        .args(["-n", "1", "--timeout", "60"])
        .arg(&exe)
        .arg("invalid")
        .output()
        .expect("run rshmemrun");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid thread level 7")
            && stderr.contains("SHMEM_THREAD_SINGLE (0)")
            && stderr.contains("SHMEM_THREAD_MULTIPLE (3)"),
        "no message naming the invalid level:\n{stderr}"
    );
    // Under FUNNELED a second thread's exit(3) while the main thread keeps putting ends the
    // job with status 3 (over verbs the VM suite checks that the exit hook then leaves the
    // unlocked default context alone).
    let out = Command::new(built().join("rshmemrun"))
        .args(["-n", "2", "--timeout", "60"])
        .arg(&exe)
        .arg("funneled-exit")
        .output()
        .expect("run rshmemrun");
    assert_eq!(
        out.status.code(),
        Some(3),
        "funneled-exit:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// C11 generics with a leading context, `shmem_sync(team)` next to the active-set form, the
/// deprecated 1.3 AMO names, and `pshmem.h` (interposed ctx routines forwarding to pshmem_).
#[test]
fn generic_ctx_sync_and_deprecated_names() {
    suite("generic_ctx.c", "generic_ctx");
}

#[test]
fn p2p_sync_short_types_and_deprecated_waits() {
    suite("p2p_short.c", "p2p_short");
}

#[test]
fn test_any_returns_every_satisfied_index() {
    suite("test_any_fair.c", "test_any_fair");
}

#[test]
fn ctx_invalid_ordering_routines_are_no_ops() {
    suite("ctx_invalid.c", "ctx_invalid");
}

/// Contexts the program never destroyed, with puts outstanding, are completed and freed by
/// `shmem_finalize`; a second `shmem_ctx_destroy` of a context ends the job with a message.
#[test]
fn contexts_left_to_finalize_and_destroyed_twice() {
    suite("ctx_finalize.c", "ctx_finalize");
    let exe = compile("ctx_finalize.c", &[]);
    let launcher = built().join("rshmemrun");
    let out = Command::new(&launcher)
        .args(["-n", "2", "--timeout", "60"])
        .arg(&exe)
        .output()
        .expect("run rshmemrun");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}\n{stdout}", out.status);
    for pe in 0..2 {
        assert!(
            stdout.contains(&format!("ctx_finalize: PE {pe} past finalize")),
            "PE {pe} did not pass finalize:\n{stdout}"
        );
    }
    let stderr = expect_caught(&exe, "double");
    assert!(
        stderr.contains("shmem_ctx_destroy: ") && stderr.contains("is not a live context"),
        "no message naming shmem_ctx_destroy:\n{stderr}"
    );
}

#[test]
fn zero_length_transfers_and_collectives() {
    suite("zero_length.c", "zero_length");
}

#[test]
fn pcontrol_and_remaining_scans() {
    suite("pcontrol_scan.c", "pcontrol_scan");
}

#[test]
fn openshmem_1_6_additions() {
    suite("v16.c", "v16");
}

/// Misuse of the 1.6 routines (`tests/c/v16_errors.c <case>`) ends the job with a failing
/// status and the runtime's message naming the routine.
#[test]
fn openshmem_1_6_errors_abort_naming_the_routine() {
    let exe = compile("v16_errors.c", &[]);
    for (case, needle) in [
        ("ibput-stride0", "shmem_int_ibput: stride 0"),
        ("ibget-negative-stride", "shmem_ibget32: stride -1"),
        ("ibput-pe", "shmem_ctx_long_ibput: PE 2 is out of range"),
        ("ibget-span", "shmem_int_ibget: address"),
        ("ibput-symmetric", "shmem_int_ibput: address"),
        (
            "ibput-bsize",
            "shmem_int_ibput: 18446744073709551615 elements",
        ),
        ("signal-add-pe", "shmem_signal_add: PE -1 is out of range"),
        ("signal-set-symmetric", "shmem_signal_set: address"),
        ("pe-quiet-pe", "shmem_pe_quiet: PE 2 is out of range"),
        (
            "ctx-pe-quiet-null",
            "shmem_ctx_pe_quiet: target_pes is NULL",
        ),
    ] {
        let stderr = expect_caught(&exe, case);
        assert!(
            stderr.contains(needle),
            "{case}: no '{needle}' on stderr:\n{stderr}"
        );
    }
}

#[test]
fn cxx_program() {
    suite("cxx.cpp", "cxx");
}

/// The programs of `tests/c` that the Hydra suite runs (each must print "<name>: ok on 4
/// PEs"): every program meant to pass, see `hydra_suite_covers_every_program`.
const HYDRA_SUITE: &[(&str, &str)] = &[
    ("setup.c", "setup"),
    ("globals.c", "globals"),
    ("reinit.c", "reinit"),
    ("rma.c", "rma"),
    ("amo.c", "amo"),
    ("signal.c", "signal"),
    ("wait.c", "wait"),
    ("lock.c", "lock"),
    ("memory.c", "memory"),
    ("coll.c", "coll"),
    ("active.c", "active"),
    ("team.c", "team"),
    ("ctx.c", "ctx"),
    ("ctx_threads.c", "ctx_threads"),
    ("thread_level.c", "thread_level"),
    ("generic_ctx.c", "generic_ctx"),
    ("v16.c", "v16"),
    ("cxx.cpp", "cxx"),
    ("p2p_short.c", "p2p_short"),
    ("test_any_fair.c", "test_any_fair"),
    ("ctx_invalid.c", "ctx_invalid"),
    ("ctx_finalize.c", "ctx_finalize"),
    ("zero_length.c", "zero_length"),
    ("pcontrol_scan.c", "pcontrol_scan"),
    ("align.c", "align"),
    ("debug_args.c", "debug_args"),
    ("shmemx.c", "shmemx"),
    ("cxx_generic.cpp", "cxx_generic"),
];

/// Programs of `tests/c` that are not in the Hydra suite, and why.
const NOT_UNDER_HYDRA: &[(&str, &str)] = &[
    (
        "args_errors.c",
        "each case must fail the job (its own test)",
    ),
    ("v16_errors.c", "each case must fail the job (its own test)"),
    (
        "pshmem.c",
        "interposition, linked shared and static by its own test",
    ),
];

/// A new C program joins the Hydra suite (or says why not): "the whole C test set passes
/// under rshmemrun and mpiexec.hydra" stays true as programs are added.
#[test]
fn hydra_suite_covers_every_program() {
    let dir = capi_dir().join("tests/c");
    let mut missing = Vec::new();
    for e in std::fs::read_dir(&dir).expect("read tests/c") {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".c") || name.ends_with(".cpp")) {
            continue;
        }
        let listed = HYDRA_SUITE.iter().any(|(f, _)| *f == name)
            || NOT_UNDER_HYDRA.iter().any(|(f, _)| *f == name);
        if !listed {
            missing.push(name);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "tests/c programs neither in HYDRA_SUITE nor in NOT_UNDER_HYDRA: {missing:?}"
    );
}

/// The whole C suite under MPICH's `mpiexec.hydra -n 4` (PMI-1 over `PMI_FD`): the same
/// binaries, another launcher. Skipped with a notice without mpich, unless `CI` is set.
#[test]
fn c_suite_under_hydra() {
    let found = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| d.join("mpiexec.hydra").is_file())
    });
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "mpiexec.hydra is not installed but CI is set: install mpich"
        );
        eprintln!("SKIPPED c_suite_under_hydra: mpiexec.hydra not found (install mpich)");
        return;
    }
    for &(file, name) in HYDRA_SUITE {
        let exe = compile(file, &[]);
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "3", "90", "mpiexec.hydra", "-n", "4"])
            .arg(&exe);
        for v in [
            "PMI_FD",
            "PMI_RANK",
            "PMI_SIZE",
            "PMI_PORT",
            "PMI_ID",
            "RSHMEM_BOOTSTRAP",
        ] {
            cmd.env_remove(v);
        }
        let out = cmd.output().expect("run mpiexec.hydra");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want = format!("{name}: ok on 4 PEs");
        assert!(
            out.status.success() && stdout.contains(&want),
            "{file} under mpiexec.hydra -n 4: {}, no '{want}'?\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        );
    }
}

/// Argument errors (`tests/c/args_errors.c <case>`): strided products that overflow and
/// collective buffers smaller than the result end the job with a failing status and a
/// message naming the routine, the buffer and the values (issue 13, items 7 and 8); before,
/// they wrapped (SIGBUS or a panic inside the runtime) or overwrote the next allocation.
#[test]
fn argument_errors_abort_naming_the_routine_and_values() {
    let exe = compile("args_errors.c", &[]);
    let launcher = built().join("rshmemrun");
    let too_small = |r: &str| format!("{r}: dest (0x");
    for (case, needles) in [
        (
            "iput-stride",
            vec!["shmem_int_iput: 3 elements of 4 bytes at a stride of 4611686018427387904 elements overflows".to_string()],
        ),
        (
            "iget-stride",
            vec!["shmem_long_iget: 2 elements of 8 bytes at a stride of 2305843009213693952 elements overflows".to_string()],
        ),
        (
            "iput-count",
            vec!["shmem_iput64: 4611686018427387904 elements of 8 bytes at a stride of 2 elements overflows".to_string()],
        ),
        (
            "alltoalls-stride",
            vec!["shmem_int_alltoalls: 4 elements of 4 bytes at a stride of 4611686018427387904 elements overflows".to_string()],
        ),
        (
            "fcollect-dest",
            vec![too_small("shmem_int_fcollect"), "needs 128 bytes there, but 80 bytes remain in its symmetric allocation (80 bytes".into()],
        ),
        (
            "collect-dest",
            vec![too_small("shmem_int_collect"), "needs 128 bytes there, but 80 bytes remain".into()],
        ),
        (
            "collect64-dest",
            vec![too_small("shmem_collect64"), "needs 128 bytes there".into()],
        ),
        (
            "alltoall-dest",
            vec![too_small("shmem_int_alltoall"), "needs 128 bytes there".into()],
        ),
        (
            "broadcast-dest",
            vec![too_small("shmem_int_broadcast"), "needs 64 bytes there, but 16 bytes remain in its symmetric allocation (256 bytes".into()],
        ),
        (
            "reduce-dest",
            vec![too_small("shmem_int_sum_reduce"), "needs 64 bytes there, but 16 bytes remain".into()],
        ),
        (
            "to-all-dest",
            vec![too_small("shmem_int_sum_to_all"), "needs 64 bytes there".into()],
        ),
        (
            "inscan-dest",
            vec![too_small("shmem_int_sum_inscan"), "needs 64 bytes there".into()],
        ),
        (
            "alltoalls-dest",
            vec![too_small("shmem_int_alltoalls"), "needs 484 bytes there, but 256 bytes remain".into()],
        ),
        (
            "global-dest",
            vec![too_small("shmem_int_fcollect"), "segment of global variables".into()],
        ),
        (
            "freed-dest",
            vec![too_small("shmem_int_fcollect").replace(" (0x", ""), "in no live allocation".into()],
        ),
    ] {
        let out = Command::new(&launcher)
            .args(["-n", "2", "--timeout", "60"])
            .arg(&exe)
            .arg(case)
            .output()
            .expect("run rshmemrun");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && !stdout.contains("not caught"),
            "{case}: the misuse was not caught\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        for needle in &needles {
            assert!(
                stderr.contains(needle.as_str()),
                "{case}: no '{needle}' on stderr:\n{stderr}"
            );
        }
    }
}

/// Numeric environment values that the runtime cannot use end the job at init with a
/// message naming the variable, the value and the accepted range (issue 13, item 10):
/// `inf` and `1e99` panicked, `abc`, `-5` and `0` silently became 60 s.
#[test]
fn unusable_environment_values_are_refused_at_init() {
    let exe = compile("args_errors.c", &[]);
    let launcher = built().join("rshmemrun");
    for bad in ["inf", "1e99", "abc", "-5", "0"] {
        let out = Command::new(&launcher)
            .args(["-n", "2", "--timeout", "60"])
            .arg(&exe)
            .arg("none")
            .env("RSHMEM_BOOTSTRAP_TIMEOUT", bad)
            .output()
            .expect("run rshmemrun");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let needle = format!(
            "invalid RSHMEM_BOOTSTRAP_TIMEOUT={bad:?}: expected a number from 0.001 to 1000000"
        );
        assert!(
            !out.status.success() && stderr.contains(&needle) && !stderr.contains("panicked"),
            "RSHMEM_BOOTSTRAP_TIMEOUT={bad}: status {}, no '{needle}' on stderr:\n{stderr}",
            out.status
        );
    }
}

/// `SHMEM_DEBUG=1` (issue 13, item 9): a collective whose arguments differ between the
/// team's PEs ends the job with a message naming the routine, both PEs and the values; the
/// same program with agreeing arguments passes with and without it.
#[test]
fn shmem_debug_checks_collective_arguments_across_the_team() {
    let exe = compile("debug_args.c", &[]);
    let launcher = built().join("rshmemrun");
    for (case, needles) in [
        (
            "broadcast-root",
            vec![
                "shmem_long_broadcast(bytes = 16, root = 1)",
                "shmem_long_broadcast(bytes = 16, root = 0)",
            ],
        ),
        (
            "fcollect-nelems",
            vec![
                "shmem_long_fcollect(bytes = 8)",
                "shmem_long_fcollect(bytes = 16)",
            ],
        ),
        (
            "reduce-op",
            vec![
                "shmem_long_sum_reduce(nreduce = 4)",
                "shmem_long_max_reduce(nreduce = 4)",
            ],
        ),
        (
            "alltoalls-stride",
            vec![
                "shmem_long_alltoalls(dst = 1, sst = 1, nelems = 2)",
                "shmem_long_alltoalls(dst = 2, sst = 1, nelems = 2)",
            ],
        ),
        (
            "to-all-nreduce",
            vec![
                "shmem_long_sum_to_all(nreduce = 3)",
                "shmem_long_sum_to_all(nreduce = 4)",
            ],
        ),
    ] {
        let out = Command::new(&launcher)
            .args(["-n", "2", "--timeout", "30"])
            .arg(&exe)
            .arg(case)
            .env("SHMEM_DEBUG", "1")
            .output()
            .expect("run rshmemrun");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && !stdout.contains("not caught"),
            "{case}: the mismatch was not caught\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        for needle in needles.iter().chain(&[
            "SHMEM_DEBUG: the team's PEs called a collective with different arguments",
            "world PE 0",
            "world PE 1",
        ]) {
            assert!(
                stderr.contains(needle),
                "{case}: no '{needle}' on stderr:\n{stderr}"
            );
        }
    }
    for n in [1, 2, 4] {
        for debug in ["1", "0"] {
            let out = Command::new(&launcher)
                .args(["-n", &n.to_string(), "--timeout", "60"])
                .arg(&exe)
                .env("SHMEM_DEBUG", debug)
                .output()
                .expect("run rshmemrun");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains(&format!("debug_args: ok on {n} PEs")),
                "agreeing arguments, SHMEM_DEBUG={debug}, {n} PEs: {}\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
