//! Job ids that tell whether their launcher is still alive, and the sweep of `/dev/shm`
//! objects left by jobs whose launcher is gone (e.g. killed with SIGKILL during init, when
//! it had no chance to remove them itself).
//!
//! A job id is `rshmemrun-<pid>-<start>-<boot>-<pidns>-<random>`: the launcher's pid, its
//! start time (clock ticks since boot, field 22 of `/proc/<pid>/stat`), the first 8 hex
//! digits of this boot's id (`/proc/sys/kernel/random/boot_id`, so objects of another
//! machine or boot sharing the directory are never judged), the inode of the launcher's PID
//! namespace (`/proc/self/ns/pid`: a pid means something only in its own namespace, so a
//! container sharing `/dev/shm` never judges, let alone deletes, another namespace's
//! objects) and 8 random hex digits. PEs name their
//! objects `rshmem-<job id>-<pe>-<random>`.
//!
//! A launcher killed with SIGKILL cannot remove its job's objects, and its PEs die with it
//! (`PR_SET_PDEATHSIG`) before they unlink theirs. Two things clean up after it: the
//! janitor ([`spawn_janitor`]), a copy of the launcher started with each job that waits
//! for the launcher's end (end-of-file on a pipe only the launcher holds) and then removes
//! the job's objects; and every `rshmemrun` at start removes objects of jobs whose
//! launcher is gone ([`sweep_stale`]) in case the janitor was killed too.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::time::Duration;

/// Environment variable that makes the launcher's executable act as a job's janitor.
pub const JANITOR_VAR: &str = "RSHMEM_LAUNCHER_JANITOR";

/// Starts the janitor of job `kvsname`: a copy of this executable (in its own process
/// group, so that signals aimed at the terminal's or the PEs' groups spare it) that
/// removes `/dev/shm/rshmem-<kvsname>-*` once the returned pipe is closed, i.e. when the
/// launcher ends, however it ends. Keep the returned handle for the job's lifetime.
pub fn spawn_janitor(kvsname: &str) -> std::io::Result<ChildStdin> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.env(JANITOR_VAR, kvsname)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setpgid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::setpgid(0, 0);
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("janitor without stdin"))
}

/// The janitor's life (see [`spawn_janitor`]): waits for end-of-file on stdin, then
/// removes the job's objects, again a little later for a PE that was still being killed.
pub fn janitor_main(kvsname: &str) -> ! {
    let mut buf = [0u8; 64];
    let mut stdin = std::io::stdin().lock();
    loop {
        match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let valid = !kvsname.is_empty()
        && kvsname
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        for pause in [100, 1000] {
            std::thread::sleep(Duration::from_millis(pause));
            sweep_shm(Path::new("/dev/shm"), kvsname);
        }
    }
    std::process::exit(0)
}

/// Start time of process `pid` in clock ticks since boot, if it exists.
pub fn proc_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and ')': fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // rest starts with field 3 (state); start time is field 22.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The first 8 hex digits of this boot's id, or `0` when unknown.
pub fn boot_tag() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| {
            s.chars()
                .filter(|c| c.is_ascii_hexdigit())
                .take(8)
                .collect::<String>()
        })
        .filter(|s| s.len() == 8)
        .unwrap_or_else(|| "0".into())
}

/// The inode number of this process's PID namespace (`/proc/self/ns/pid`), or 0 when
/// unknown.
pub fn pid_ns() -> u64 {
    std::fs::metadata("/proc/self/ns/pid")
        .map(|m| m.ino())
        .unwrap_or(0)
}

/// The job id of a launcher with this pid (in our PID namespace):
/// `rshmemrun-<pid>-<start>-<boot>-<pidns>-<random>`.
pub fn job_id(pid: u32, random: u32) -> String {
    let start = proc_start_time(pid).unwrap_or(0);
    format!(
        "rshmemrun-{pid}-{start}-{}-{}-{random:08x}",
        boot_tag(),
        pid_ns()
    )
}

/// What a shared-memory object's name says about its job: `(launcher pid, start time,
/// boot tag, PID namespace)`, if it is named like an object of an `rshmemrun` job.
pub fn parse_object_name(name: &str) -> Option<(u32, u64, &str, u64)> {
    let rest = name.strip_prefix("rshmem-rshmemrun-")?;
    let mut it = rest.splitn(5, '-');
    let pid = it.next()?.parse().ok()?;
    let start = it.next()?.parse().ok()?;
    let boot = it.next()?;
    let ns = it.next()?.parse().ok()?;
    it.next()?;
    Some((pid, start, boot, ns))
}

/// Removes from `dir` the objects of `rshmemrun` jobs of this boot whose launcher is gone
/// (no process with that pid and start time), owned by our effective uid, started in our PID
/// namespace. Returns the paths removed. Objects of live jobs, of other users, of another
/// boot or PID namespace and with other names are left alone.
pub fn sweep_stale(dir: &Path) -> Vec<PathBuf> {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let boot = boot_tag();
    let ns = pid_ns();
    let mut removed = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return removed;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Some((pid, start, b, n)) = parse_object_name(&name) else {
            continue;
        };
        // Another namespace's pid says nothing about a process here.
        if b != boot || n != ns || ns == 0 || start == 0 {
            continue;
        }
        // symlink_metadata: never follow a link someone planted.
        match e.path().symlink_metadata() {
            Ok(m) if m.uid() == uid && m.file_type().is_file() => {}
            _ => continue,
        }
        if proc_start_time(pid) == Some(start) {
            continue; // its launcher still runs
        }
        let p = e.path();
        if std::fs::remove_file(&p).is_ok() {
            removed.push(p);
        }
    }
    removed
}

/// Removes `dir/rshmem-<kvsname>-*` and returns the paths removed.
pub fn sweep_shm(dir: &Path, kvsname: &str) -> Vec<PathBuf> {
    let prefix = format!("rshmem-{kvsname}-");
    let mut removed = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let p = e.path();
                if std::fs::remove_file(&p).is_ok() {
                    removed.push(p);
                }
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_start_time() {
        let me = std::process::id();
        let start = proc_start_time(me).expect("own start time");
        assert!(start > 0);
        let id = job_id(me, 0xab);
        let ns = pid_ns();
        assert!(ns > 0);
        assert_eq!(
            id,
            format!("rshmemrun-{me}-{start}-{}-{ns}-000000ab", boot_tag())
        );
        let obj = format!("rshmem-{id}-3-deadbeef");
        let (p, s, b, n) = parse_object_name(&obj).unwrap();
        assert_eq!((p, s, b, n), (me, start, boot_tag().as_str(), ns));
        assert!(parse_object_name("rshmem-rshmemrun-12-abcdef01-0-a").is_none());
        assert!(parse_object_name("rshmem-other-1-2-3-4").is_none());
        assert!(proc_start_time(u32::MAX).is_none());
    }

    #[test]
    fn sweeps_only_dead_launchers_objects() {
        let dir = std::env::temp_dir().join(format!("rshmem-stale-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::process::id();
        let live = job_id(me, 1);
        let start = proc_start_time(me).unwrap();
        let boot = boot_tag();
        // Same pid, other start time: a launcher that is gone (its pid recycled).
        let ns = pid_ns();
        let dead = format!("rshmemrun-{me}-{}-{boot}-{ns}-00000002", start + 1);
        let other_boot = format!("rshmemrun-{me}-{}-xxxxxxxx-{ns}-00000003", start + 1);
        // A launcher in another PID namespace: its pid and start time mean nothing here,
        // so its objects stay even though no process here matches them.
        let other_ns = format!("rshmemrun-{me}-{}-{boot}-{}-00000004", start + 1, ns + 1);
        let names = [
            format!("rshmem-{live}-0-aa"),
            format!("rshmem-{dead}-0-bb"),
            format!("rshmem-{dead}-1-cc"),
            format!("rshmem-{other_boot}-0-dd"),
            "rshmem-mpi-job-0-ee".to_string(),
            format!("rshmem-{other_ns}-0-ff"),
        ];
        for n in &names {
            std::fs::write(dir.join(n), b"x").unwrap();
        }
        let mut removed: Vec<String> = sweep_stale(&dir)
            .into_iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        removed.sort();
        assert_eq!(removed, [names[1].clone(), names[2].clone()]);
        for n in [&names[0], &names[3], &names[4], &names[5]] {
            assert!(dir.join(n).exists(), "{n} must stay");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
