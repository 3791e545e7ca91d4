//! A PE that the launcher's signals cannot reach (started by a launch agent, as on another
//! node) ends by itself when the job is torn down: it watches its PMI connection, and
//! rshmemrun closing it means the job is over.
//!
//! The agent here starts each PE in a session of its own with its output in a file, and
//! dies on the launcher's SIGTERM without passing anything on: the PE is then an orphan, as
//! a PE on another node is when its agent (ssh, a batch system's daemon) cannot relay the
//! kill. PE 1 SIGKILLs itself; PE 0 waits in a barrier that can never finish. Without the
//! PMI watch PE 0 would wait there forever.
use rshmem_tests::harness::workspace_bin;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn orphaned_pe_exits_when_the_launcher_closes_its_pmi_connection() {
    let dir = std::env::temp_dir().join(format!("rshmem-orphan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let agent = dir.join("agent.sh");
    std::fs::write(
        &agent,
        "#!/bin/sh\n\
         # HOST env K=V... PROGRAM ARGS... : run detached, output in DIR/pe.$$.log\n\
         shift\n\
         d=$(dirname \"$0\")\n\
         setsid \"$@\" > \"$d/pe.$$.log\" 2>&1 < /dev/null &\n\
         wait $!\n",
    )
    .expect("write agent");
    let fail = PathBuf::from(env!("CARGO_BIN_EXE_fail"));
    let t0 = Instant::now();
    let out = Command::new("timeout")
        .args(["-k", "3", "60"])
        .arg(workspace_bin("rshmemrun"))
        .args(["-n", "2", "--hosts", "pretend:2", "--pmi-addr", "127.0.0.1"])
        .arg("--launch-agent")
        .arg(format!("sh {}", agent.display()))
        .arg(&fail)
        .args(["sigkill", "1"])
        .env_remove("PMI_FD")
        .env_remove("PMI_PORT")
        .env_remove("RSHMEM_BOOTSTRAP")
        .stdin(Stdio::null())
        .output()
        .expect("run rshmemrun");
    let job = t0.elapsed();
    // what the two PEs printed (one file per agent)
    let logs = || {
        let mut all = String::new();
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().ends_with(".log") {
                all += &std::fs::read_to_string(e.path()).unwrap_or_default();
                all.push('\n');
            }
        }
        all
    };
    let show = || {
        format!(
            "status {:?}\n--- stderr:\n{}--- the PEs:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            logs()
        )
    };
    // the agent of PE 1 reports its PE's status (137); the launcher ends the job with it
    assert!(
        matches!(out.status.code(), Some(137) | Some(143)),
        "job status\n{}",
        show()
    );
    let pid: u32 = logs()
        .lines()
        .find_map(|l| l.strip_prefix("PID 0 "))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("PE 0 printed no PID line\n{}", show()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
    if alive {
        // SAFETY: plain syscall on the PE we started; do not leave it behind.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    assert!(
        !alive,
        "PE 0 (pid {pid}) outlived the job ({job:?}) by 20 s\n{}",
        show()
    );
    assert!(
        logs().contains("PE 0: the launcher closed the PMI connection"),
        "PE 0 did not say why it exited\n{}",
        show()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
