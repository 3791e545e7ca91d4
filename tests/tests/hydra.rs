//! The core programs (RMA, atomics, signal, locks, barriers, collectives) and the examples
//! under MPICH's `mpiexec.hydra`, in both
//! PMI modes: `PMI_FD` (default) and `PMI_PORT` (`-pmi-port`). Skipped with a notice when
//! mpiexec.hydra is missing, unless `CI` is set (then missing mpich is a failure).
use rshmem_tests::harness::{hydra_available, job, Launcher};

const NP: usize = 4;

fn hydra(test: &str, bin: &str, prog: &str, args: &[&str], pmi_port: bool) {
    if !hydra_available(test) {
        return;
    }
    let r = job(bin, NP)
        .args(args)
        .launcher(Launcher::Hydra { pmi_port })
        .timeout_secs(40)
        .run();
    r.assert_all_ok(prog, NP);
    // PE 0 named its job, so run() could check /dev/shm for leftovers of that kvsname.
    assert_eq!(r.values("JOB ").len(), 1, "\n{r}");
}

macro_rules! hydra_tests {
    ($($name:ident: $bin:literal, $prog:literal, [$($a:literal),*], $port:expr;)*) => {$(
        #[test]
        fn $name() {
            hydra(stringify!($name), env!(concat!("CARGO_BIN_EXE_", $bin)), $prog, &[$($a),*], $port);
        }
    )*};
}

hydra_tests! {
    hydra_pmi_fd_rma: "rma", "rma", [], false;
    hydra_pmi_fd_atomics: "amo", "amo", ["all"], false;
    hydra_pmi_fd_signal: "signal", "signal", [], false;
    hydra_pmi_fd_locks: "lock", "lock", ["500"], false;
    hydra_pmi_port_rma: "rma", "rma", [], true;
    hydra_pmi_port_atomics: "amo", "amo", ["all"], true;
    hydra_pmi_port_signal: "signal", "signal", [], true;
    hydra_pmi_port_locks: "lock", "lock", ["500"], true;
    hydra_pmi_fd_barrier: "barrier", "barrier", ["500"], false;
    hydra_pmi_fd_collectives: "coll_check", "coll_check", ["0,1,1000", "all"], false;
    hydra_pmi_fd_teams: "coll_teams", "coll_teams", ["100"], false;
    hydra_pmi_fd_team_barriers: "coll_barrier", "coll_barrier", ["2000"], false;
}

/// The examples under Hydra, their own verdicts checked.
#[test]
fn hydra_examples() {
    if !hydra_available("hydra_examples") {
        return;
    }
    for (prog, args, verdict) in [
        ("hello", vec![], format!("PE 3 of {NP}")),
        ("ring", vec!["3"], format!("ring: OK, {NP} PEs, 3 laps")),
        ("histogram", vec!["20000", "8"], "histogram: OK".to_string()),
        ("pi", vec!["200000"], format!("(800000 darts on {NP} PEs")),
    ] {
        let r = job(rshmem_tests::harness::workspace_bin(prog), NP)
            .args(args)
            .launcher(Launcher::Hydra { pmi_port: false })
            .timeout_secs(40)
            .run();
        r.assert_ok();
        r.assert_stdout_contains(&[&verdict]);
    }
}
