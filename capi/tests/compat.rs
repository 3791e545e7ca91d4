//! Compatibility with what existing OpenSHMEM programs and build systems expect (issue 12,
//! items 8-12): the C++ overloads of the generic names (`tests/c/cxx_generic.cpp`), the
//! Sandia-OpenSHMEM-compatible `shmemx.h` (`tests/c/shmemx.c`), the legacy `<mpp/shmem.h>`
//! include path, a compiler wrapper that never runs itself (`CC=rshmemcc` in a configure
//! script), and the exported routine set against the specification's list
//! (`tests/spec-routines.txt`).
mod common;
use common::{built, capi_dir, profile_dir, show};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use std::time::{Duration, Instant};

/// A private scratch directory under target/compat-tests.
fn scratch(tag: &str) -> PathBuf {
    let d = profile_dir()
        .join("..")
        .join("compat-tests")
        .join(format!("{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
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

/// The specification's routine names (tests/spec/routines.txt, generated by
/// scripts/gen-spec-routines.py) that neither librshmem exports nor shmem.h defines inline.
fn missing_spec_routines() -> Vec<String> {
    let list = std::fs::read_to_string(capi_dir().join("tests/spec/routines.txt"))
        .expect("read tests/spec/routines.txt");
    let names: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(
        names.len() > 1500,
        "routines.txt has only {} names",
        names.len()
    );

    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(built().join("librshmem.so"))
        .output()
        .expect("run nm");
    assert!(out.status.success(), "nm -D: {}", show(&out));
    let nm = String::from_utf8_lossy(&out.stdout);
    let exported: std::collections::HashSet<&str> = nm
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();

    // Routines that shmem.h defines as static inline (long double p/g and reductions, ...).
    let out = Command::new("cc")
        .args(["-E", "-P", "-std=c11", "-I"])
        .arg(capi_dir().join("include"))
        .arg(capi_dir().join("include/shmem.h"))
        .output()
        .expect("run cc -E");
    assert!(out.status.success(), "cc -E shmem.h: {}", show(&out));
    let pre = String::from_utf8_lossy(&out.stdout);
    let mut inline = std::collections::HashSet::new();
    for chunk in pre.split("static inline").skip(1) {
        // The name is the identifier right before the first '(' of the declaration.
        let head = chunk.split('(').next().unwrap_or("");
        if let Some(name) = head
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .rfind(|w| !w.is_empty())
        {
            inline.insert(name.to_string());
        }
    }
    names
        .into_iter()
        .filter(|n| !exported.contains(n) && !inline.contains(*n))
        .map(str::to_string)
        .collect()
}

/// Every routine of the specification's list is exported by librshmem (`nm -D`) or defined
/// inline by shmem.h.
#[test]
fn every_spec_routine_is_exported_or_inline() {
    let missing = missing_spec_routines();
    eprintln!(
        "spec routines missing ({}): {}",
        missing.len(),
        missing.join(" ")
    );
    assert!(
        missing.is_empty(),
        "librshmem lacks {} routine(s) of the specification (tests/spec/routines.txt): {missing:?}",
        missing.len()
    );
}

const VERSION_PROG: &str = r#"#include <shmem.h>
#include <stdio.h>
int main(void) {
    int major = -1, minor = -1;
    shmem_init();
    shmem_info_get_version(&major, &minor);
    printf("header %d.%d library %d.%d\n", SHMEM_MAJOR_VERSION, SHMEM_MINOR_VERSION, major, minor);
    shmem_finalize();
    return 0;
}
"#;

/// The version reported by shmem.h, shmem_info_get_version and rshmem-info is the same, and
/// it is 1.6 exactly when no routine of the 1.6 list is missing.
#[test]
fn reported_version_matches_the_routine_set() {
    let dir = scratch("version");
    let src = dir.join("version.c");
    std::fs::write(&src, VERSION_PROG).unwrap();
    let exe = dir.join("version");
    compile("rshmemcc", &["-std=c11", "-Wall", "-Werror"], &src, &exe);
    let out = run_with_timeout(
        Command::new(built().join("rshmemrun"))
            .args(["-n", "1", "--timeout", "60"])
            .arg(&exe),
        120,
    );
    assert!(out.status.success(), "version program: {}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let nums: Vec<u32> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(nums.len(), 4, "{text}");
    assert_eq!(
        (nums[0], nums[1]),
        (nums[2], nums[3]),
        "header and library differ: {text}"
    );

    let out = run_with_timeout(Command::new(built().join("rshmem-info")).arg("--json"), 60);
    assert!(out.status.success(), "rshmem-info --json: {}", show(&out));
    let json = String::from_utf8_lossy(&out.stdout);
    let want = format!("\"minor\": {}", nums[1]);
    assert!(
        json.contains(&format!("\"major\": {}", nums[0])) && json.contains(&want),
        "rshmem-info --json does not report {}.{}: {json}",
        nums[0],
        nums[1]
    );

    let missing = missing_spec_routines();
    let want_minor = if missing.is_empty() { 6 } else { 5 };
    assert_eq!(
        (nums[0], nums[1]),
        (1, want_minor),
        "with {} of the 1.6 routines missing ({:?}...), the reported version must be 1.{want_minor}",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
}

/// tests/spec/routines.txt is what scripts/gen-spec-routines.py makes of routines.in.
#[test]
fn spec_routine_list_is_generated() {
    let script = capi_dir().join("../scripts/gen-spec-routines.py");
    match Command::new("python3").arg(&script).arg("--check").output() {
        Ok(out) => assert!(out.status.success(), "{}", show(&out)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("python3 not found: routines.txt not checked against routines.in")
        }
        Err(e) => panic!("run {}: {e}", script.display()),
    }
}
