//! The C API's symbols and headers, checked by building programs of `tests/c/`: every
//! `pshmem_x` has a weak `shmem_x` (shared and static), `pshmem.h` is generated and
//! complete, the headers compile warning-free as C11 and C++17, and the deprecated waits
//! warn on request. (The programs' runs: c_programs.rs.)
mod common;
use common::{built, capi_dir, compile, out_dir, run, suite};
use std::path::PathBuf;
use std::process::Command;

#[test]
fn profiling_interface_shared_and_static() {
    suite("pshmem.c", "pshmem");
    // Static linking: the program's strong shmem_putmem must win over the archive's weak
    // one without a duplicate-symbol error.
    let exe = compile("pshmem.c", &["-rshmem-static"]);
    run(&exe, "pshmem", 2);
}

#[test]
fn every_pshmem_symbol_has_a_weak_shmem_name() {
    let so = built().join("librshmem.so");
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("run nm (binutils)");
    assert!(out.status.success(), "nm failed on {}", so.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut strong = std::collections::BTreeSet::new();
    let mut weak = std::collections::BTreeSet::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [_, kind, name] = f[..] {
            if let Some(base) = name.strip_prefix("pshmem_") {
                assert_eq!(kind, "T", "{name} should be a strong text symbol");
                strong.insert(base.to_string());
            } else if let Some(base) = name.strip_prefix("shmem_") {
                assert_eq!(kind, "W", "{name} should be weak");
                weak.insert(base.to_string());
            }
        }
    }
    assert!(strong.len() > 700, "only {} pshmem_ symbols", strong.len());
    assert_eq!(strong, weak, "pshmem_/shmem_ name sets differ");
    for name in [
        "init",
        "long_put",
        "putmem_signal_nbi",
        "uint64_atomic_fetch_xor_nbi",
        "ptrdiff_test_some_vector",
        "put128",
        "iget64",
        "signal_wait_until",
        "team_split_2d",
        "int_sum_reduce",
        "complexd_prod_to_all",
        "broadcast64",
        "ctx_uint64_atomic_fetch_xor_nbi",
        "long_sum_inscan",
        "longdouble_ibput",
        "ptrdiff_ibget",
        "ibput128",
        "ibget8",
        "ctx_uint64_ibput",
        "ctx_ibget128",
        "signal_add",
        "signal_set",
        "ctx_signal_add",
        "ctx_signal_set",
        "pe_quiet",
        "ctx_pe_quiet",
        "ctx_session_start",
        "ctx_session_stop",
        "short_wait_until",
        "ushort_test_any_vector",
        "short_wait",
        "longlong_wait",
        "wait",
        "wait_until",
        "pcontrol",
        "complexf_sum_inscan",
        "complexd_sum_exscan",
    ] {
        assert!(strong.contains(name), "pshmem_{name} missing");
    }
}

/// `pshmem.h` is what `scripts/gen-pshmem-h.sh` writes from `shmem.h`, and it declares every
/// `pshmem_` symbol the library exports (its only other names are the inline long double
/// routines).
#[test]
fn pshmem_header_is_generated_and_complete() {
    let gen = capi_dir().join("../scripts/gen-pshmem-h.sh");
    let out = Command::new("sh")
        .arg(&gen)
        .arg("-")
        .output()
        .expect("run scripts/gen-pshmem-h.sh");
    assert!(out.status.success(), "gen-pshmem-h.sh failed");
    let committed = std::fs::read(capi_dir().join("include/pshmem.h")).unwrap();
    assert!(
        out.stdout == committed,
        "capi/include/pshmem.h is stale: run scripts/gen-pshmem-h.sh"
    );

    let pre = Command::new("cc")
        .args(["-std=c11", "-E", "-P", "-x", "c", "-I"])
        .arg(capi_dir().join("include"))
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"#include <pshmem.h>\n")?;
            child.wait_with_output()
        })
        .expect("run cc -E");
    assert!(pre.status.success(), "cc -E <pshmem.h> failed");
    let text = String::from_utf8_lossy(&pre.stdout);
    let mut declared = std::collections::BTreeSet::new();
    for (i, _) in text.match_indices("pshmem_") {
        let boundary = i == 0 || {
            let c = text.as_bytes()[i - 1];
            !(c.is_ascii_alphanumeric() || c == b'_')
        };
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if boundary {
            declared.insert(name);
        }
    }
    let nm = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(built().join("librshmem.so"))
        .output()
        .expect("run nm (binutils)");
    let exported: std::collections::BTreeSet<String> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|n| n.starts_with("pshmem_"))
        .map(str::to_string)
        .collect();
    let missing: Vec<_> = exported.difference(&declared).collect();
    assert!(missing.is_empty(), "pshmem.h does not declare {missing:?}");
    let extra: Vec<_> = declared
        .difference(&exported)
        .filter(|n| !n.contains("longdouble"))
        .collect();
    assert!(extra.is_empty(), "pshmem.h declares unexported {extra:?}");
}

#[test]
fn headers_compile_strictly() {
    let dir = out_dir();
    let inc = capi_dir().join("include");
    let c = dir.join("header_check.c");
    std::fs::write(
        &c,
        "#include <shmem.h>\n#include <shmemx.h>\n#include <pshmem.h>\n\
         int main(void) { long *x = shmem_malloc(sizeof *x); shmem_p(x, 1L, 0);\n\
         shmem_ibput(x, x, 1, 1, 1, 1, 0); shmem_ibget(x, x, 1, 1, 1, 1, 0);\n\
         int pe = 0; shmem_pe_quiet(&pe, 1);\n\
         shmem_wait_until(x, SHMEM_CMP_EQ, 1L);\n\
         shmem_ctx_t c = SHMEM_CTX_DEFAULT; shmem_put(c, x, x, 1, 0); shmem_p(c, x, 2L, 0);\n\
         shmem_atomic_add(c, x, 1L, 0); (void)shmem_atomic_fetch_inc(c, x, 0);\n\
         shmem_long_add(x, 1, 0); shmem_inc(x, 0); (void)shmem_sync(SHMEM_TEAM_WORLD);\n\
         pshmem_barrier_all(); return (int)shmem_atomic_fetch(c, x, 0) - 1; }\n",
    )
    .unwrap();
    // The deprecated waits, short p2p, pcontrol with extra arguments, long double scans
    // and their pshmem_ forms (C99 and C++, where shmem_wait/_wait_until are functions).
    const P2P_DECLS: &str =
        "static void p2p_decls(long *x) { short s = 0; unsigned short us = 0;\n\
         long long ll = 0; long double ld[2] = {0, 0};\n\
         shmem_wait(x, 0L); shmem_wait_until(x, SHMEM_CMP_EQ, 1L); shmem_short_wait(&s, 1);\n\
         shmem_longlong_wait(&ll, 1LL); shmem_short_wait_until(&s, SHMEM_CMP_EQ, 1);\n\
         (void)shmem_ushort_test_any(&us, 1, NULL, SHMEM_CMP_EQ, 1);\n\
         pshmem_wait(x, 0L); pshmem_wait_until(x, SHMEM_CMP_EQ, 1L); pshmem_short_wait(&s, 1);\n\
         pshmem_longlong_wait(&ll, 1LL); pshmem_short_wait_until(&s, SHMEM_CMP_EQ, 1);\n\
         (void)pshmem_ushort_test_any(&us, 1, NULL, SHMEM_CMP_EQ, 1);\n\
         shmem_pcontrol(3, \"x\", 1.5); pshmem_pcontrol(3, \"x\", 1.5);\n\
         (void)shmem_longdouble_sum_inscan(SHMEM_TEAM_WORLD, ld, ld + 1, 1);\n\
         (void)shmem_longdouble_sum_exscan(SHMEM_TEAM_WORLD, ld, ld + 1, 1);\n\
         (void)pshmem_longdouble_sum_inscan(SHMEM_TEAM_WORLD, ld, ld + 1, 1);\n\
         (void)pshmem_longdouble_sum_exscan(SHMEM_TEAM_WORLD, ld, ld + 1, 1); }\n";
    let cpp = dir.join("header_check.cpp");
    std::fs::write(
        &cpp,
        "#include <shmem.h>\n#include <shmemx.h>\n#include <pshmem.h>\n\
         P2P_DECLS\n\
         int main() { long *x = static_cast<long *>(pshmem_malloc(sizeof *x));\n\
         shmem_long_add(x, 1, 0); pshmem_long_atomic_inc(x, 0);\n\
         shmem_long_ibput(x, x, 1, 1, 1, 1, 0); int pe = 0; shmem_pe_quiet(&pe, 1);\n\
         shmem_signal_add(reinterpret_cast<uint64_t *>(x), 1, 0);\n\
         shmem_long_p(x, 1L, 0); p2p_decls(x); return static_cast<int>(shmem_long_g(x, 0)) - 1; }\n"
            .replace("P2P_DECLS", P2P_DECLS),
    )
    .unwrap();
    let c99 = dir.join("header_check99.c");
    std::fs::write(
        &c99,
        "#include <shmem.h>\n#include <shmemx.h>\n#include <pshmem.h>\n\
         P2P_DECLS\n\
         int main(void) { long *x = shmem_malloc(sizeof *x); shmem_long_p(x, 1L, 0);\n\
         p2p_decls(x); return (int)shmem_long_g(x, 0) - 1; }\n"
            .replace("P2P_DECLS", P2P_DECLS),
    )
    .unwrap();
    let checks: [(&str, &[&str], &PathBuf); 3] = [
        (
            "cc",
            &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"],
            &c,
        ),
        ("cc", &["-std=c99", "-Wall", "-Wextra", "-Werror"], &c99),
        (
            "c++",
            &["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic"],
            &cpp,
        ),
    ];
    for (compiler, flags, src) in checks {
        let mut cmd = Command::new(compiler);
        cmd.args(flags).arg("-I").arg(&inc).arg("-fsyntax-only");
        let out = cmd.arg(src).output().expect("run the system compiler");
        assert!(
            out.status.success(),
            "{compiler} {flags:?} {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The deprecated waits (`shmem_wait`, `shmem_TYPE_wait`, the long `shmem_wait_until`,
/// short/unsigned short `shmem_TYPE_wait_until`) warn only when the program defines
/// `RSHMEM_WARN_DEPRECATED`, naming the replacement; the other short routines never warn.
#[test]
fn deprecated_waits_warn_on_request() {
    let src = out_dir().join("deprecated_waits.c");
    std::fs::write(
        &src,
        "#include <shmem.h>\n#include <pshmem.h>\n\
         void f(long *x, short *s, unsigned short *us, int *i);\n\
         void f(long *x, short *s, unsigned short *us, int *i) {\n\
         (shmem_wait)(x, 0L);\n(shmem_wait_until)(x, SHMEM_CMP_EQ, 1L);\n\
         shmem_int_wait(i, 0);\nshmem_short_wait_until(s, SHMEM_CMP_EQ, 1);\n\
         shmem_ushort_wait_until(us, SHMEM_CMP_EQ, 1);\npshmem_short_wait(s, 0);\n\
         (void)shmem_short_test(s, SHMEM_CMP_EQ, 1);\n\
         shmem_ushort_wait_until_all(us, 1, NULL, SHMEM_CMP_EQ, 1);\n\
         shmem_long_wait_until(x, SHMEM_CMP_EQ, 1L); }\n",
    )
    .unwrap();
    let cc = |extra: &[&str]| {
        Command::new("cc")
            .args([
                "-std=c11",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-fsyntax-only",
                "-I",
            ])
            .arg(capi_dir().join("include"))
            .args(extra)
            .arg(&src)
            .output()
            .expect("run the system compiler")
    };
    let plain = cc(&[]);
    assert!(
        plain.status.success(),
        "deprecated waits warn without RSHMEM_WARN_DEPRECATED:\n{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let warn = cc(&["-DRSHMEM_WARN_DEPRECATED"]);
    let err = String::from_utf8_lossy(&warn.stderr);
    assert!(!warn.status.success(), "no deprecation warning at all");
    for (line, what) in [
        (5, "shmem_wait"),
        (6, "shmem_wait_until"),
        (7, "shmem_int_wait"),
        (8, "shmem_short_wait_until"),
        (9, "shmem_ushort_wait_until"),
        (10, "pshmem_short_wait"),
    ] {
        assert!(
            err.contains(&format!("deprecated_waits.c:{line}:")) && err.contains(what),
            "no deprecation warning for {what} (line {line}):\n{err}"
        );
    }
    for line in 11..=13 {
        assert!(
            !err.contains(&format!("deprecated_waits.c:{line}:")),
            "line {line} is not deprecated:\n{err}"
        );
    }
    // C++: the overloads name the deprecated short waits in their selectors; that alone
    // must not warn (only a program's own call does).
    let cxx_src = out_dir().join("deprecated_waits_none.cpp");
    std::fs::write(&cxx_src, "#include <shmem.h>\nint main() { return 0; }\n").unwrap();
    let out = Command::new("c++")
        .args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"])
        .arg("-DRSHMEM_WARN_DEPRECATED")
        .arg("-I")
        .arg(capi_dir().join("include"))
        .arg(&cxx_src)
        .output()
        .expect("run the system C++ compiler");
    assert!(
        out.status.success(),
        "shmem.h alone warns in C++ under RSHMEM_WARN_DEPRECATED:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
