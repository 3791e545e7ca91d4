//! What the capi integration tests share: where things are, and one build of librshmem and
//! rshmemrun per test binary. (`mod common;` in each test file; not every file uses all.)
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The capi crate's directory.
pub fn capi_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's target directory (`CARGO_TARGET_DIR` or `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => capi_dir().join("..").join("target"),
    }
}

/// `target/<profile>`: the test binary lives in `target/<profile>/deps`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| target_dir().join("debug"))
}

/// Builds librshmem and rshmemrun once (cheap when up to date); returns the profile dir.
pub fn built() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir();
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "rshmem-capi", "-p", "rshmem-launcher"]);
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let st = cmd.status().expect("run cargo build");
        assert!(
            st.success(),
            "cargo build -p rshmem-capi -p rshmem-launcher failed"
        );
        for f in ["librshmem.so", "rshmemrun"] {
            assert!(
                dir.join(f).exists(),
                "{} missing after cargo build -p rshmem-capi -p rshmem-launcher",
                dir.join(f).display()
            );
        }
        dir
    })
}

/// A command's status and output, for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// The C programs of `tests/c`: building and running them (c_programs.rs, c_headers.rs).

pub fn out_dir() -> PathBuf {
    let d = target_dir().join("capi-tests");
    std::fs::create_dir_all(&d).expect("create target/capi-tests");
    d
}

/// Compiles `tests/c/<file>` with the wrapper; returns the executable.
pub fn compile(file: &str, extra: &[&str]) -> PathBuf {
    let libdir = built();
    let src = capi_dir().join("tests/c").join(file);
    let cxx = file.ends_with(".cpp");
    let stem = file.split('.').next().unwrap();
    let suffix = if extra.contains(&"-rshmem-static") {
        "_static"
    } else {
        ""
    };
    let exe = out_dir().join(format!("{stem}{suffix}"));
    // Several tests compile the same program (the suite under Hydra and the test of its
    // own): compile to a private name and rename, so that no test ever executes a file
    // another one is still writing (execvp failed with EACCES/ETXTBSY in CI).
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let tmp = out_dir().join(format!(
        ".{stem}{suffix}.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let wrapper = capi_dir().join(if cxx { "rshmemc++" } else { "rshmemcc" });
    let std_flags: &[&str] = if cxx {
        &["-std=c++17", "-Wall", "-Werror"]
    } else {
        &["-std=c11", "-Wall", "-Wextra", "-Werror"]
    };
    let out = Command::new("sh")
        .arg(&wrapper)
        .args(std_flags)
        .args(extra)
        .arg(&src)
        .arg("-o")
        .arg(&tmp)
        .env("RSHMEM_LIBDIR", libdir)
        .output()
        .expect("run the compiler wrapper");
    assert!(
        out.status.success(),
        "compiling {file} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &exe).expect("rename the compiled program into place");
    exe
}

/// Runs `exe` on `n` PEs; asserts success and `<name>: ok on n PEs` in stdout.
pub fn run(exe: &Path, name: &str, n: usize) {
    run_args(exe, name, n, &[]);
}

/// [`run`] with arguments for the program.
pub fn run_args(exe: &Path, name: &str, n: usize, args: &[&str]) {
    let launcher = built().join("rshmemrun");
    let out = Command::new(&launcher)
        .args(["-n", &n.to_string(), "--timeout", "60"])
        .arg(exe)
        .args(args)
        .output()
        .expect("run rshmemrun");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} on {n} PEs exited with {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        exe.display(),
        out.status
    );
    let want = format!("{name}: ok on {n} PEs");
    assert!(
        stdout.contains(&want),
        "{} on {n} PEs: no '{want}' in stdout:\n{stdout}\nstderr:\n{stderr}",
        exe.display()
    );
}

pub fn suite(file: &str, name: &str) {
    let exe = compile(file, &[]);
    for n in [1, 2, 4] {
        run(&exe, name, n);
    }
}

/// Runs `exe case` on 2 PEs under rshmemrun; the misuse it makes must end the job with a
/// failing status before the program prints "not caught". Returns its stderr.
pub fn expect_caught(exe: &Path, case: &str) -> String {
    let out = Command::new(built().join("rshmemrun"))
        .args(["-n", "2", "--timeout", "60"])
        .arg(exe)
        .arg(case)
        .output()
        .expect("run rshmemrun");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success() && !stdout.contains("not caught"),
        "{case}: the misuse was not caught\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stderr
}
