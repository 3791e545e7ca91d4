//! Compatibility with what existing OpenSHMEM programs and build systems expect (issue 12,
//! items 8-12): the C++ overloads of the generic names (`tests/c/cxx_generic.cpp`), the
//! Sandia-OpenSHMEM-compatible `shmemx.h` (`tests/c/shmemx.c`), the legacy `<mpp/shmem.h>`
//! include path, a compiler wrapper that never runs itself (`CC=rshmemcc` in a configure
//! script), and the exported routine set against the specification's list
//! (`tests/spec-routines.txt`).
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn capi_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("target/<profile>")
}

/// Builds librshmem and rshmemrun once (a no-op when up to date); returns the profile dir.
fn built() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir();
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "rshmem-capi", "-p", "rshmem-launcher"]);
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        assert!(
            cmd.status().expect("run cargo build").success(),
            "cargo build failed"
        );
        dir
    })
}

/// A private scratch directory under target/compat-tests.
fn scratch(tag: &str) -> PathBuf {
    let d = profile_dir()
        .join("..")
        .join("compat-tests")
        .join(format!("{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

fn show(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The wrapper `capi/<wrapper>` with the build tree's library and no compiler variables.
fn wrapper(name: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg(capi_dir().join(name))
        .env("RSHMEM_LIBDIR", built())
        .env_remove("RSHMEM_CC")
        .env_remove("RSHMEM_CXX")
        .env_remove("RSHMEM_WRAPPER_DEPTH")
        .env_remove("CC")
        .env_remove("CXX");
    cmd
}

/// Output of `cmd`, killed (and reported as a failure) after `secs` seconds.
fn run_with_timeout(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("still running after {secs} s (killed): {}", show(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn compile(wrapper_name: &str, flags: &[&str], src: &Path, exe: &Path) {
    let out = run_with_timeout(
        wrapper(wrapper_name)
            .args(flags)
            .arg(src)
            .arg("-o")
            .arg(exe),
        300,
    );
    assert!(
        out.status.success(),
        "{wrapper_name} {} failed: {}",
        src.display(),
        show(&out)
    );
}

fn run(exe: &Path, name: &str, n: usize) {
    let out = run_with_timeout(
        Command::new(built().join("rshmemrun"))
            .args(["-n", &n.to_string(), "--timeout", "60"])
            .arg(exe),
        120,
    );
    assert!(
        out.status.success(),
        "{} on {n} PEs: {}",
        exe.display(),
        show(&out)
    );
    let want = format!("{name}: ok on {n} PEs");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&want),
        "no '{want}': {}",
        show(&out)
    );
}

#[test]
fn cxx_overloads_of_the_generic_names() {
    let dir = scratch("cxx");
    let src = capi_dir().join("tests/c/cxx_generic.cpp");
    // The header with its overloads is C++11, warning-free under -pedantic.
    let exe11 = dir.join("cxx_generic11");
    compile(
        "rshmemc++",
        &["-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic"],
        &src,
        &exe11,
    );
    let exe = dir.join("cxx_generic");
    compile("rshmemc++", &["-std=c++17", "-Wall", "-Werror"], &src, &exe);
    for n in [1, 2, 4] {
        run(&exe, "cxx_generic", n);
    }
    run(&exe11, "cxx_generic", 2);
}

#[test]
fn shmemx_extensions() {
    let dir = scratch("shmemx");
    let exe = dir.join("shmemx");
    compile(
        "rshmemcc",
        &["-std=c11", "-Wall", "-Wextra", "-Werror"],
        &capi_dir().join("tests/c/shmemx.c"),
        &exe,
    );
    for n in [1, 2, 4] {
        run(&exe, "shmemx", n);
    }
}

const MPP_PROG: &str = r#"#include <mpp/shmem.h>
#include <mpp/shmemx.h>
#include <stdio.h>
int main(void) {
    shmem_init();
    int me = shmem_my_pe(), n = shmem_n_pes();
    long *v = shmem_calloc(1, sizeof *v);
    shmem_long_atomic_add(v, me + 1, 0);
    shmem_barrier_all();
    double t = shmemx_wtime();
    if (me == 0 && *v != (long)n * (n + 1) / 2) {
        printf("mpp: total %ld\n", *v);
        shmem_global_exit(1);
    }
    if (me == 0 && t > 0)
        printf("mpp: ok on %d PEs\n", n);
    shmem_free(v);
    shmem_finalize();
    return 0;
}
"#;

#[test]
fn legacy_mpp_include_path() {
    let dir = scratch("mpp");
    let src = dir.join("mpp.c");
    std::fs::write(&src, MPP_PROG).unwrap();
    let exe = dir.join("mpp");
    compile("rshmemcc", &["-std=c11", "-Wall", "-Werror"], &src, &exe);
    run(&exe, "mpp", 2);
    let cxx = dir.join("mpp.cpp");
    std::fs::write(
        &cxx,
        MPP_PROG.replace(
            "shmem_calloc(1, sizeof *v)",
            "(long *)shmem_calloc(1, sizeof *v)",
        ),
    )
    .unwrap();
    let exe = dir.join("mpp_cxx");
    compile("rshmemc++", &["-std=c++11", "-Wall", "-Werror"], &cxx, &exe);
    run(&exe, "mpp", 2);
}

const HELLO: &str = r#"#include <shmem.h>
#include <stdio.h>
int main(void) {
    shmem_init();
    if (shmem_my_pe() == 0) printf("hello: ok on %d PEs\n", shmem_n_pes());
    shmem_finalize();
    return 0;
}
"#;

/// Configure scripts export CC=rshmemcc (or oshcc): the wrapper must not pick it up as its
/// own compiler; and a wrapper named as the compiler (RSHMEM_CC) fails at once with a
/// message instead of calling itself forever.
#[test]
fn compiler_wrapper_never_calls_itself() {
    let dir = scratch("loop");
    let src = dir.join("hello.c");
    std::fs::write(&src, HELLO).unwrap();
    let cc = capi_dir().join("rshmemcc");
    let cxx = capi_dir().join("rshmemc++");

    let exe = dir.join("hello");
    let out = run_with_timeout(
        wrapper("rshmemcc")
            .env("CC", &cc)
            .env("CXX", &cxx)
            .arg(&src)
            .arg("-o")
            .arg(&exe),
        120,
    );
    assert!(
        out.status.success(),
        "CC=rshmemcc rshmemcc hello.c: {}",
        show(&out)
    );
    run(&exe, "hello", 2);

    let cxx_src = dir.join("hello.cpp");
    std::fs::write(&cxx_src, HELLO).unwrap();
    let out = run_with_timeout(
        wrapper("rshmemc++")
            .env("CXX", &cxx)
            .arg(&cxx_src)
            .arg("-o")
            .arg(dir.join("hello_cxx")),
        120,
    );
    assert!(
        out.status.success(),
        "CXX=rshmemc++ rshmemc++ hello.cpp: {}",
        show(&out)
    );

    for (var, w, file) in [
        ("RSHMEM_CC", "rshmemcc", &src),
        ("RSHMEM_CXX", "rshmemc++", &cxx_src),
    ] {
        let target = capi_dir().join(w);
        let out = run_with_timeout(
            wrapper(w)
                .env(var, &target)
                .arg(file)
                .arg("-o")
                .arg(dir.join("never")),
            30,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{var}={w} {w} succeeded: {}",
            show(&out)
        );
        assert!(
            err.contains("compiler wrapper") && err.contains("RSHMEM_CC") && err.contains(var),
            "{var}={w}: no clear message: {}",
            show(&out)
        );
        assert_eq!(err.lines().count(), 1, "one message, not a cascade: {err}");
    }
}
