//! Nothing in `/dev/shm` outlives a launcher killed with SIGKILL (issue 13, security item 3).
//!
//! The PEs are this test binary re-run with `CLEANUP_PE` set (the `pe_main` test) under a
//! real `rshmemrun`:
//! - `stall`: PE 1 never starts init, so PE 0 waits in init's barrier with its object in
//!   `/dev/shm`; the launcher is SIGKILLed then, and the job's objects must be gone within
//!   a few seconds (the janitor) and its PEs too (`PR_SET_PDEATHSIG`);
//! - `run`: a normal init; launchers are SIGKILLed at staggered moments during init;
//! - objects of a job whose launcher is gone, found by the next `rshmemrun`, are removed;
//!   those of a live launcher, another boot or another naming scheme are not.

use rshmem_launcher::secure::{boot_tag, proc_start_time};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const RSHMEMRUN: &str = env!("CARGO_BIN_EXE_rshmemrun");

#[test]
fn pe_main() {
    let Some(mode) = std::env::var_os("CLEANUP_PE") else {
        return;
    };
    let rank: usize = std::env::var("PMI_RANK").unwrap().parse().unwrap();
    println!("PID {rank} {}", std::process::id());
    if mode == "stall" && rank == 1 {
        thread::sleep(Duration::from_secs(60));
        return;
    }
    let shmem = rshmem::init().expect("init");
    shmem.barrier_all();
}

fn objects_of(launcher: u32) -> Vec<String> {
    let prefix = format!("rshmem-rshmemrun-{launcher}-");
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

fn start(mode: &str) -> Child {
    Command::new(RSHMEMRUN)
        .args(["-n", "2", "--timeout", "90"])
        .arg(std::env::current_exe().unwrap())
        .args(["pe_main", "--exact", "--nocapture", "--test-threads=1"])
        .env("CLEANUP_PE", mode)
        .env("SHMEM_SYMMETRIC_SIZE", "16M")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `f` holds, at most `limit`; returns whether it did.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    loop {
        if f() {
            return true;
        }
        if t.elapsed() > limit {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigkilled_launcher_leaves_no_object() {
    if std::env::var_os("CLEANUP_PE").is_some() {
        return;
    }
    let mut child = start("stall");
    let pid = child.id();
    assert!(
        eventually(Duration::from_secs(60), || !objects_of(pid).is_empty()),
        "PE 0 never created its object"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let gone = eventually(Duration::from_secs(5), || objects_of(pid).is_empty());
    let left = objects_of(pid);
    // Leave nothing behind whatever happened.
    for n in &left {
        let _ = std::fs::remove_file(format!("/dev/shm/{n}"));
    }
    assert!(
        gone,
        "left in /dev/shm after SIGKILL of the launcher: {left:?}"
    );
}

#[test]
fn sigkill_at_any_moment_of_init_leaves_no_object() {
    if std::env::var_os("CLEANUP_PE").is_some() {
        return;
    }
    let mut left_total = Vec::new();
    let mut caught = 0;
    for i in 0..8u64 {
        let mut child = start("run");
        let pid = child.id();
        // Kill as soon as a PE's object shows up (i.e. inside init), a little later
        // each round; or, if the window was missed, wherever the job is by then.
        let t = Instant::now();
        while objects_of(pid).is_empty() && t.elapsed() < Duration::from_secs(20) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
        }
        if !objects_of(pid).is_empty() {
            caught += 1;
        }
        thread::sleep(Duration::from_micros(500 * i));
        child.kill().unwrap();
        child.wait().unwrap();
        eventually(Duration::from_secs(5), || objects_of(pid).is_empty());
        for n in objects_of(pid) {
            let _ = std::fs::remove_file(format!("/dev/shm/{n}"));
            left_total.push((i, n));
        }
    }
    assert!(left_total.is_empty(), "left behind: {left_total:?}");
    assert!(caught > 0, "no kill landed while an object existed");
}

#[test]
fn next_launcher_sweeps_objects_of_dead_launchers_only() {
    if std::env::var_os("CLEANUP_PE").is_some() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let me = std::process::id();
    let st = proc_start_time(me).unwrap();
    let boot = boot_tag();
    let ns = rshmem_launcher::secure::pid_ns();
    let dead = format!("rshmem-rshmemrun-{me}-{}-{boot}-{ns}-0000dead-0-aa", st + 7);
    let live = format!("rshmem-rshmemrun-{me}-{st}-{boot}-{ns}-00001ive-0-bb");
    let other_boot = format!(
        "rshmem-rshmemrun-{me}-{}-zzzzzzzz-{ns}-0000dead-0-cc",
        st + 7
    );
    for n in [&dead, &live, &other_boot] {
        let p = format!("/dev/shm/{n}");
        std::fs::write(&p, b"x").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = Command::new(RSHMEMRUN)
        .args(["-n", "1", "true"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let exists = |n: &str| std::path::Path::new(&format!("/dev/shm/{n}")).exists();
    let (d, l, o) = (exists(&dead), exists(&live), exists(&other_boot));
    for n in [&dead, &live, &other_boot] {
        let _ = std::fs::remove_file(format!("/dev/shm/{n}"));
    }
    assert!(!d, "the object of a dead launcher was not swept");
    assert!(l, "the object of a live launcher was swept");
    assert!(o, "the object of another boot was swept");
}
