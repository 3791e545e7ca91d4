//! The TCP transport on one host: `RSHMEM_TRANSPORT=tcp` sends every peer's operations
//! over TCP sockets (loopback or this host's address), through the progress service of
//! the target PE. The Rust test programs that cover RMA, AMOs, signals, locks, barriers and
//! collectives must pass unchanged (`coll_teams` is left out: it asserts that
//! SHMEM_TEAM_SHARED is the whole node, and over TCP no peer's memory is mapped, so that
//! team is each PE alone, as the spec wants of shmem_ptr-reachable PEs); `SHMEM_INFO` must say `tcp` for
//! every other peer; a bad `RSHMEM_TCP_IF` is a clear init error.
//! (Across network namespaces, and the failure cases: `hosts.rs`.)
use rshmem_tests::harness::job;

fn tcp(program: &str, np: usize) -> rshmem_tests::harness::Job {
    job(program, np)
        .env("RSHMEM_TRANSPORT", "tcp")
        .env("RMA_PTR_OPTIONAL", "1")
        .timeout_secs(90)
}

#[test]
fn rust_programs_over_tcp() {
    for (name, bin, args) in [
        ("rma", env!("CARGO_BIN_EXE_rma"), vec![]),
        ("amo", env!("CARGO_BIN_EXE_amo"), vec![]),
        ("signal", env!("CARGO_BIN_EXE_signal"), vec![]),
        ("lock", env!("CARGO_BIN_EXE_lock"), vec!["200"]),
        ("barrier", env!("CARGO_BIN_EXE_barrier"), vec!["300"]),
        ("coll_check", env!("CARGO_BIN_EXE_coll_check"), vec![]),
    ] {
        // 4 PEs (2 cores: oversubscribed, the progress threads compete with waiters);
        // rma also at 2.
        let nps: &[usize] = if name == "rma" { &[2, 4] } else { &[4] };
        for &np in nps {
            let r = tcp(bin, np).args(args.iter()).run();
            r.assert_all_ok(name, np);
        }
    }
}

#[test]
fn shmem_info_names_tcp_per_peer() {
    let r = tcp(env!("CARGO_BIN_EXE_rma"), 3)
        .env("SHMEM_INFO", "1")
        .run();
    r.assert_all_ok("rma", 3);
    r.assert_stderr_contains(&[
        "rshmem: PE 0: transport per peer: 0=shm 1=tcp 2=tcp; tcp listening on",
        "rshmem: PE 2: transport per peer: 0=tcp 1=tcp 2=shm; tcp listening on",
        "RSHMEM_TCP_IF",
    ]);
}

/// `RSHMEM_TCP_CONGESTION`: SHMEM_INFO names the algorithm each PE set; one the kernel
/// does not have fails init with the variable, the value and what the host allows.
#[test]
fn tcp_congestion_control_is_reported_and_a_bad_one_refused() {
    let r = tcp(env!("CARGO_BIN_EXE_amo"), 2)
        .env("RSHMEM_TCP_CONGESTION", "reno")
        .env("SHMEM_INFO", "1")
        .run();
    r.assert_all_ok("amo", 2);
    r.assert_stderr_contains(&[
        "rshmem: PE 0: transport per peer: 0=shm 1=tcp; tcp listening on",
        ", congestion control reno (RSHMEM_TCP_CONGESTION)",
    ]);
    let r = tcp(env!("CARGO_BIN_EXE_amo"), 2)
        .env("RSHMEM_TCP_CONGESTION", "nosuchcc")
        .run();
    r.assert_failed();
    r.assert_stderr_contains(&[
        "RSHMEM_TCP_CONGESTION=\"nosuchcc\": the kernel refused it",
        "tcp_allowed_congestion_control",
    ]);
}

#[test]
fn tcp_on_loopback_and_a_bad_interface() {
    let r = tcp(env!("CARGO_BIN_EXE_amo"), 2)
        .env("RSHMEM_TCP_IF", "lo")
        .env("SHMEM_INFO", "1")
        .run();
    r.assert_all_ok("amo", 2);
    r.assert_stderr_contains(&["tcp listening on 127.0.0.1:"]);
    let r = tcp(env!("CARGO_BIN_EXE_amo"), 2)
        .env("RSHMEM_TCP_IF", "nosuchif0")
        .run();
    r.assert_failed();
    r.assert_stderr_contains(&[
        "RSHMEM_TCP_IF=\"nosuchif0\" is neither an IP address nor an interface",
    ]);
}
