//! Helpers for the PE programs in `src/bin/`.
//!
//! Conventions the harness relies on: a program checks everything itself with `assert!`
//! (a failed check panics, the PE exits non-zero and the launcher ends the job), and prints
//! `<prog>: PE <me> of <n> OK` as its very last step ([`ok`]). PE 0 prints `JOB <job>`
//! ([`announce_job`]) so the harness can look for leftover `/dev/shm/rshmem-<job>-*`.
use rshmem::Shmem;
use std::io::Write;

/// Initializes rshmem, or prints the error (`<prog>: init failed: <error>`) and exits 1.
/// PE 0 then announces the job name.
pub fn init(prog: &str) -> Shmem {
    let shmem = rshmem::init().unwrap_or_else(|e| {
        say_err(&format!("{prog}: init failed: {e}"));
        std::process::exit(1)
    });
    if shmem.my_pe() == 0 {
        announce_job();
    }
    shmem
}

/// The job part of this PE's shared-memory object name, read from `/proc/self/maps`
/// (`/dev/shm/rshmem-<job>-<pe>-<random> (deleted)`): `<job>` is the PMI kvsname.
pub fn job_name() -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|l| {
        let path = &l[l.find("/dev/shm/rshmem-")?..];
        let name = path
            .trim_end_matches(" (deleted)")
            .strip_prefix("/dev/shm/rshmem-")?;
        // name = <job>-<pe>-<random>; the job may contain '-'.
        let mut it = name.rsplitn(3, '-');
        let (_rand, _pe, job) = (it.next()?, it.next()?, it.next()?);
        Some(job.to_string())
    })
}

/// Prints `JOB <job>` (flushed).
pub fn announce_job() {
    if let Some(j) = job_name() {
        say(&format!("JOB {j}"));
    }
}

/// Prints one line on stdout and flushes it.
pub fn say(line: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(format!("{line}\n").as_bytes());
    let _ = o.flush();
}

/// Prints one line on stderr with a single write (lines of several PEs never interleave).
pub fn say_err(line: &str) {
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{line}\n").as_bytes());
}

/// The final success line: `<prog>: PE <me> of <n> OK`.
pub fn ok(shmem: &Shmem, prog: &str) {
    say(&format!(
        "{prog}: PE {} of {} OK",
        shmem.my_pe(),
        shmem.n_pes()
    ));
}

/// A byte that depends on the source PE, the destination PE, a round number and the index,
/// so that data delivered to the wrong PE, the wrong offset or from an earlier round shows.
/// Byte `i` of [`bytes`].
#[inline]
pub fn byte(src: usize, dst: usize, round: usize, i: usize) -> u8 {
    stream_word(word(src, dst, round, 0), i / 8).to_le_bytes()[i % 8]
}

/// A 64-bit value with the same dependencies as [`byte`] (a good mix of all four).
#[inline]
pub fn word(src: usize, dst: usize, round: usize, i: usize) -> u64 {
    let x = (src as u64 + 1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((dst as u64 + 1).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .wrapping_add((round as u64 + 1).wrapping_mul(0x1656_67B1_9E37_79F9))
        .wrapping_add(i as u64);
    (x ^ (x >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

/// Word `w` of the byte stream seeded by `seed`: cheap (the tests run unoptimized and
/// generate megabytes of it), different for every word, and no two seeds give shifted
/// copies of each other.
#[inline(always)]
fn stream_word(seed: u64, w: usize) -> u64 {
    seed ^ (w as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// `len` bytes of the [`byte`] pattern.
pub fn bytes(src: usize, dst: usize, round: usize, len: usize) -> Vec<u8> {
    let seed = word(src, dst, round, 0);
    let mut v = vec![0u8; len.div_ceil(8) * 8];
    for (w, chunk) in v.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&stream_word(seed, w).to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Index of the first difference between `got` and the pattern, for messages.
pub fn first_mismatch(got: &[u8], src: usize, dst: usize, round: usize) -> Option<usize> {
    let want = bytes(src, dst, round, got.len());
    if got == &want[..] {
        return None;
    }
    got.iter().zip(&want).position(|(a, b)| a != b)
}

/// Kills this process with SIGKILL (no cleanup, no unwinding).
pub fn sigkill_self() -> ! {
    // SAFETY: plain system calls on our own pid.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
