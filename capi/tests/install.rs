//! Runs `scripts/install.sh` into a temporary prefix (the test's own cargo profile, so the
//! build is the usual no-op) and uses only the installed tree: a C program built with
//! `bin/oshcc`, a C++ one with `bin/oshc++`, one with `cc $(pkg-config --cflags --libs
//! rshmem)`, each run with `bin/oshrun -n 2` and checked (exit 0, data verified by the
//! program, its "ok" line); `bin/rshmem-info` prints the version, the transports and the
//! variables. Bad arguments to the script fail with a message.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => root().join("target"),
    }
}

/// `debug` or `release`: the profile this test was built with (target/<profile>/deps).
fn profile() -> String {
    let exe = std::env::current_exe().expect("test executable path");
    let name = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned());
    match name.as_deref() {
        Some("release") => "release".into(),
        _ => "debug".into(),
    }
}

/// A fresh directory under the system temp dir, removed on drop (also when a test fails).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "rshmem-install-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn show(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn install_sh() -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg(root().join("scripts/install.sh"))
        .env("CARGO", env!("CARGO"))
        .env("CARGO_TARGET_DIR", target_dir());
    cmd
}

/// A command that sees nothing of the build tree: no variable pointing the wrappers there.
fn clean(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for v in [
        "RSHMEM_LIBDIR",
        "RSHMEM_INCDIR",
        "RSHMEM_PROFILE",
        "CARGO_TARGET_DIR",
        "RSHMEM_CC",
        "RSHMEM_CXX",
        "CC",
        "CXX",
        "PKG_CONFIG_PATH",
        "LD_LIBRARY_PATH",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

fn check(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(out.status.success(), "{what} failed: {}", show(&out));
    out
}

const C_PROG: &str = r#"#include <shmem.h>
#include <stdio.h>
#ifdef __cplusplus
#error "compiled as C++"
#endif
int main(void) {
    static const char *name = NAME;
    shmem_init();
    int me = shmem_my_pe(), n = shmem_n_pes();
    long *dst = shmem_malloc(4 * sizeof *dst);
    long src[4];
    for (int i = 0; i < 4; i++) { dst[i] = -1; src[i] = 100 * me + i; }
    shmem_barrier_all();
    shmem_long_put(dst, src, 4, (me + 1) % n);
    shmem_barrier_all();
    int left = (me + n - 1) % n;
    for (int i = 0; i < 4; i++)
        if (dst[i] != 100 * left + i) {
            printf("%s: PE %d: dst[%d] = %ld, want %d\n", name, me, i, dst[i], 100 * left + i);
            shmem_global_exit(1);
        }
    shmem_barrier_all();
    if (me == 0) printf("%s: ok on %d PEs\n", name, n);
    shmem_free(dst);
    shmem_finalize();
    return 0;
}
"#;

const CXX_PROG: &str = r#"#include <shmem.h>
#include <cstdio>
#include <vector>
#ifndef __cplusplus
#error "compiled as C"
#endif
template <typename T> static bool all_equal(const T *p, size_t n, T want) {
    for (size_t i = 0; i < n; i++) if (p[i] != want) return false;
    return true;
}
int main() {
    shmem_init();
    int me = shmem_my_pe(), n = shmem_n_pes();
    int *dst = static_cast<int *>(shmem_malloc(8 * sizeof(int)));
    std::vector<int> src(8, 7 * me + 1);
    for (int i = 0; i < 8; i++) dst[i] = -1;
    shmem_barrier_all();
    shmem_int_put(dst, src.data(), src.size(), (me + 1) % n);
    shmem_barrier_all();
    int left = (me + n - 1) % n;
    if (!all_equal(dst, 8, 7 * left + 1)) {
        std::printf("install_cxx: PE %d: wrong data (dst[0] = %d)\n", me, dst[0]);
        shmem_global_exit(1);
    }
    shmem_barrier_all();
    if (me == 0) std::printf("install_cxx: ok on %d PEs\n", n);
    shmem_free(dst);
    shmem_finalize();
    return 0;
}
"#;

fn run_2(prefix: &Path, exe: &Path, name: &str) {
    let out = check(
        clean(prefix.join("bin/oshrun"))
            .args(["-n", "2", "--timeout", "60"])
            .arg(exe),
        &format!("oshrun -n 2 {}", exe.display()),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let want = format!("{name}: ok on 2 PEs");
    assert!(stdout.contains(&want), "no '{want}': {}", show(&out));
}

#[test]
fn installed_prefix_compiles_and_runs_programs() {
    let tmp = TempDir::new("prefix");
    let prefix = tmp.0.join("prefix");
    let out = check(
        install_sh()
            .arg("--prefix")
            .arg(&prefix)
            .arg(format!("--{}", profile())),
        "scripts/install.sh",
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("installed rshmem"),
        "{}",
        show(&out)
    );

    for f in [
        "bin/rshmemrun",
        "bin/oshrun",
        "bin/rshmem-info",
        "bin/rshmemcc",
        "bin/rshmemc++",
        "bin/oshcc",
        "bin/oshc++",
        "lib/librshmem.so",
        "lib/librshmem.a",
        "include/shmem.h",
        "include/shmemx.h",
        "include/pshmem.h",
        "lib/pkgconfig/rshmem.pc",
    ] {
        assert!(prefix.join(f).exists(), "{f} not installed");
    }
    let pc = std::fs::read_to_string(prefix.join("lib/pkgconfig/rshmem.pc")).unwrap();
    assert!(
        !pc.contains('@'),
        "unfilled placeholder in rshmem.pc:\n{pc}"
    );
    assert!(
        pc.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))),
        "{pc}"
    );
    assert!(pc.contains(&format!("prefix={}", prefix.display())), "{pc}");

    let src = tmp.0.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let write = |name: &str, text: &str| {
        let p = src.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let c_oshcc = write("put_oshcc.c", &C_PROG.replace("NAME", "\"install_oshcc\""));
    let c_pc = write(
        "put_pkgconfig.c",
        &C_PROG.replace("NAME", "\"install_pkgconfig\""),
    );
    let cxx = write("put_cxx.cpp", CXX_PROG);

    // The wrappers resolve to the installed headers and library, not the build tree.
    let out = check(
        clean(prefix.join("bin/oshcc")).arg("-show").arg(&c_oshcc),
        "oshcc -show",
    );
    let cmdline = String::from_utf8_lossy(&out.stdout);
    assert!(
        cmdline.contains(&format!("-I{}", prefix.join("include").display()))
            && cmdline.contains(&format!("-L{}", prefix.join("lib").display())),
        "oshcc -show does not use the prefix: {cmdline}"
    );
    assert!(
        !cmdline.contains("capi/include") && !cmdline.contains("/target/"),
        "oshcc -show points into the build tree: {cmdline}"
    );

    // C with oshcc.
    let exe = tmp.0.join("put_oshcc");
    check(
        clean(prefix.join("bin/oshcc"))
            .args(["-std=c11", "-Wall", "-Werror"])
            .arg(&c_oshcc)
            .arg("-o")
            .arg(&exe),
        "oshcc",
    );
    run_2(&prefix, &exe, "install_oshcc");

    // C++ with oshc++ (the program does not compile as C).
    let exe = tmp.0.join("put_cxx");
    check(
        clean(prefix.join("bin/oshc++"))
            .args(["-std=c++17", "-Wall", "-Werror"])
            .arg(&cxx)
            .arg("-o")
            .arg(&exe),
        "oshc++",
    );
    run_2(&prefix, &exe, "install_cxx");

    // Plain cc with pkg-config.
    let out = check(
        clean("pkg-config")
            .args(["--cflags", "--libs", "rshmem"])
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")),
        "pkg-config --cflags --libs rshmem",
    );
    let flags = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(flags.contains("-lrshmem"), "pkg-config flags: {flags}");
    let exe = tmp.0.join("put_pkgconfig");
    let mut cc = clean("cc");
    cc.arg("-std=c11")
        .arg(&c_pc)
        .arg("-o")
        .arg(&exe)
        .args(flags.split_whitespace());
    check(&mut cc, &format!("cc with `{}`", flags.trim()));
    run_2(&prefix, &exe, "install_pkgconfig");

    // rshmem-info from the prefix, with no launcher.
    let out = check(
        clean(prefix.join("bin/rshmem-info")).env("SHMEM_SYMMETRIC_SIZE", "64M"),
        "rshmem-info",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        format!("rshmem version:       {}", env!("CARGO_PKG_VERSION")),
        "OpenSHMEM spec:       1.6".to_string(),
        "  shm:   available".to_string(),
        "  verbs: ".to_string(),
        "  PMI-1:".to_string(),
        "  singleton:".to_string(),
        "core(s)".to_string(),
    ] {
        assert!(text.contains(&want), "rshmem-info lacks '{want}':\n{text}");
    }
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("SHMEM_SYMMETRIC_SIZE"))
        .unwrap_or_else(|| panic!("no SHMEM_SYMMETRIC_SIZE line:\n{text}"));
    assert!(
        line.contains("= 64M") && line.contains("default machine"),
        "{line}"
    );
    let out = check(
        clean(prefix.join("bin/rshmem-info")).arg("--json"),
        "rshmem-info --json",
    );
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        json.contains(&format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")))
            && json.contains("\"SHMEM_SYMMETRIC_SIZE\""),
        "{json}"
    );
}

#[test]
fn install_script_rejects_bad_arguments() {
    let tmp = TempDir::new("bad");
    for (args, want) in [
        (vec!["--bogus"], "unknown argument '--bogus'"),
        (vec!["--release"], "missing --prefix DIR"),
        (vec!["--prefix"], "--prefix needs a directory"),
    ] {
        let out = install_sh()
            .args(&args)
            .current_dir(&tmp.0)
            .output()
            .expect("run install.sh");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "install.sh {args:?}: {}",
            show(&out)
        );
        assert!(
            stderr.contains(want) && stderr.contains("usage:"),
            "install.sh {args:?}: {}",
            show(&out)
        );
    }
    // Nothing was installed or built into the working directory.
    assert_eq!(std::fs::read_dir(&tmp.0).unwrap().count(), 0);
}

/// Issue 12 items 10 and 11: the installed wrappers run the compiler fixed at install time
/// (an absolute path), so `CC=oshcc` in a configure script does not make them call
/// themselves; a wrapper given as the compiler fails at once with a message; an install
/// with a wrapper as the compiler is refused; `<mpp/shmem.h>` and `<mpp/shmemx.h>` are
/// installed and a program including them builds with `oshcc` and runs.
#[test]
fn installed_wrappers_fix_the_compiler_and_ship_mpp_headers() {
    let tmp = TempDir::new("wrap");
    let prefix = tmp.0.join("prefix");
    check(
        install_sh()
            .arg("--prefix")
            .arg(&prefix)
            .arg(format!("--{}", profile())),
        "scripts/install.sh",
    );
    for f in [
        "include/mpp/shmem.h",
        "include/mpp/shmemx.h",
        "include/shmem_cxx.h",
    ] {
        assert!(prefix.join(f).exists(), "{f} not installed");
    }
    let script = std::fs::read_to_string(prefix.join("bin/rshmemcc")).unwrap();
    let line = script
        .lines()
        .find(|l| l.starts_with("default_cc="))
        .expect("default_cc line");
    assert!(
        line.starts_with("default_cc='/"),
        "compiler not fixed: {line}"
    );

    let src = tmp.0.join("mpp.c");
    std::fs::write(
        &src,
        C_PROG.replace("NAME", "\"install_mpp\"").replace(
            "#include <shmem.h>",
            "#include <mpp/shmem.h>\n#include <mpp/shmemx.h>",
        ),
    )
    .unwrap();
    let oshcc = prefix.join("bin/oshcc");
    let exe = tmp.0.join("mpp");
    check(
        clean(&oshcc)
            .env("CC", &oshcc)
            .args(["-std=c11", "-Wall", "-Werror"])
            .arg(&src)
            .arg("-o")
            .arg(&exe),
        "CC=oshcc oshcc mpp.c",
    );
    run_2(&prefix, &exe, "install_mpp");

    let out = clean(&oshcc)
        .env("RSHMEM_CC", &oshcc)
        .arg(&src)
        .arg("-o")
        .arg(tmp.0.join("never"))
        .output()
        .expect("run oshcc");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("compiler wrapper") && err.contains("RSHMEM_CC"),
        "RSHMEM_CC=oshcc oshcc: {}",
        show(&out)
    );

    let out = install_sh()
        .arg("--prefix")
        .arg(tmp.0.join("p2"))
        .arg(format!("--{}", profile()))
        .arg("--no-build")
        .env("RSHMEM_CC", &oshcc)
        .output()
        .expect("run install.sh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("compiler wrapper"),
        "install.sh with RSHMEM_CC=oshcc: {}",
        show(&out)
    );
}
