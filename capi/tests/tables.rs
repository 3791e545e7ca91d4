//! `shmem.h` and `pshmem.h` cannot drift from the routines librshmem defines:
//! - the header's type tables (`RSHMEM_RMA_TYPES`, ...) are the Rust tables of
//!   `src/tables.rs`, entry by entry (C type, TYPENAME, order);
//! - every routine the library defines left a signature record (`src/gen.rs`) in the
//!   section `.rshmem_sigs`: the records name exactly the exported `pshmem_` symbols, and a
//!   C file assigning each `shmem_x` and `pshmem_x` to a function pointer of the record's
//!   type compiles with `-Werror` against the headers;
//! - every exported `shmem_` name is declared by `shmem.h`.
mod common;
use common::{built, capi_dir, target_dir};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[path = "../src/tables.rs"]
#[allow(dead_code)]
mod tables;

/// `target/<profile>/librshmem.so`, built once.
fn library() -> PathBuf {
    built().join("librshmem.so")
}

fn scratch(name: &str) -> PathBuf {
    let d = target_dir().join("capi-tests");
    std::fs::create_dir_all(&d).expect("create target/capi-tests");
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    d.join(format!("{}.{seq}.{name}", std::process::id()))
}

/// `cc -E -P` of `src` (C, `std`) with `capi/include` on the include path.
fn preprocess(std: &str, src: &str) -> String {
    let mut child = Command::new("cc")
        .args([std, "-E", "-P", "-x", "c", "-I"])
        .arg(capi_dir().join("include"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cc -E");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(src.as_bytes())
            .expect("write to cc -E");
    }
    let out = child.wait_with_output().expect("wait for cc -E");
    assert!(
        out.status.success(),
        "cc -E failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("cc -E output is UTF-8")
}

/// The entries `(C type, TYPENAME)` of each X-macro table of `shmem.h`, by table name.
fn header_tables() -> Vec<(String, Vec<(String, String)>)> {
    let mut src = String::from(
        "#include <shmem.h>\n#define RSHMEM_ENTRY(T, N) @T|N@\n\
         #define RSHMEM_ENTRY_OP(T, N, OP) @T|N@\n",
    );
    for (name, _) in tables::names::ALL {
        // The `_to_all` tables take an X of three arguments and the operation.
        let args = if name.starts_with("RSHMEM_TO_ALL_") {
            "RSHMEM_ENTRY_OP, op"
        } else {
            "RSHMEM_ENTRY"
        };
        src.push_str(&format!("rshmem_table {name} {name}({args})\n"));
    }
    let text = preprocess("-std=c11", &src);
    let mut found = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("rshmem_table ") else {
            continue;
        };
        let (name, entries) = rest.split_once(' ').unwrap_or((rest, ""));
        // `@T|N@` per entry; a table the header lacks stays `NAME(...)`, with no entry.
        let entries = entries
            .split('@')
            .filter_map(|e| e.split_once('|'))
            .map(|(t, n)| {
                let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
                (t, n.trim().to_string())
            })
            .collect();
        found.push((name.to_string(), entries));
    }
    found
}

#[test]
fn header_type_tables_are_the_rust_tables() {
    let header = header_tables();
    assert_eq!(
        header.len(),
        tables::names::ALL.len(),
        "expected one line per table in the preprocessed output"
    );
    for ((name, rust), (hname, entries)) in tables::names::ALL.iter().zip(&header) {
        assert_eq!(name, hname);
        assert!(
            !entries
                .iter()
                .any(|(_, n)| n == &format!("{name}(RSHMEM_ENTRY)")),
            "shmem.h has no table {name}"
        );
        let rust: Vec<(String, String)> = rust
            .iter()
            .map(|(c, n)| (c.to_string(), n.to_string()))
            .collect();
        for (i, (r, h)) in rust.iter().zip(entries).enumerate() {
            assert_eq!(
                r, h,
                "{name}, entry {i}: src/tables.rs has X({}, {}), shmem.h has X({}, {}); \
                 change both (shmem.h declares the routines, the Rust table defines them)",
                r.0, r.1, h.0, h.1
            );
        }
        assert_eq!(
            rust.len(),
            entries.len(),
            "{name}: src/tables.rs has {} entries, shmem.h has {}: {:?} vs {:?}",
            rust.len(),
            entries.len(),
            rust,
            entries
        );
    }
}

/// The C spelling of a Rust parameter or return type of a signature record.
fn c_type(rust: &str) -> String {
    let t: String = rust.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(inner) = t.strip_prefix("*mut") {
        return format!("{} *", c_type(inner));
    }
    if let Some(inner) = t.strip_prefix("*const") {
        return format!("const {} *", c_type(inner));
    }
    // `std::ffi::c_long` is `c_long`.
    let t = match t.rsplit_once("::") {
        Some((_, last)) if !t.contains('<') => last.to_string(),
        _ => t,
    };
    let c = match t.as_str() {
        "" | "()" => "void",
        "c_void" => "void",
        "c_char" => "char",
        "c_schar" => "signed char",
        "c_uchar" => "unsigned char",
        "c_short" => "short",
        "c_ushort" => "unsigned short",
        "c_int" => "int",
        "c_uint" => "unsigned int",
        "c_long" => "long",
        "c_ulong" => "unsigned long",
        "c_longlong" => "long long",
        "c_ulonglong" => "unsigned long long",
        "c_float" => "float",
        "c_double" => "double",
        "i8" => "int8_t",
        "i16" => "int16_t",
        "i32" => "int32_t",
        "i64" => "int64_t",
        "u8" => "uint8_t",
        "u16" => "uint16_t",
        "u32" => "uint32_t",
        "u64" => "uint64_t",
        "usize" => "size_t",
        "isize" => "ptrdiff_t",
        "LongDouble" => "long double",
        "Cx<f32>" => "float _Complex",
        "Cx<f64>" => "double _Complex",
        "CtxHandle" => "shmem_ctx_t",
        "TeamHandle" => "shmem_team_t",
        "ShmemTeamConfig" => "shmem_team_config_t",
        "SessionConfig" => "shmem_ctx_session_config_t",
        "PcntrC" => "shmemx_pcntr_t",
        "GettidFn" => "uint64_t (*)(void)",
        "Combine" => "rshmem_combine_fn",
        "f64" => "double",
        other => panic!(
            "signature record with the Rust type {other:?}: add its C spelling to c_type() \
             in capi/tests/tables.rs"
        ),
    };
    c.to_string()
}

/// A signature record: routine name (without `shmem_`; with `plain`, the whole name of a
/// routine without a profiling pair), parameter types, return type.
struct Sig {
    plain: bool,
    name: String,
    params: Vec<String>,
    ret: String,
}

/// The signature records of the library (`.rshmem_sigs`).
fn records(so: &Path) -> Vec<Sig> {
    let dump = scratch("rshmem_sigs.bin");
    let copy = scratch("objcopy.so");
    let out = Command::new("objcopy")
        .arg(format!("--dump-section=.rshmem_sigs={}", dump.display()))
        .arg(so)
        .arg(&copy)
        .output()
        .expect("run objcopy (binutils)");
    assert!(
        out.status.success(),
        "objcopy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&dump).expect("read the dumped section");
    let _ = std::fs::remove_file(&dump);
    let _ = std::fs::remove_file(&copy);
    let mut sigs = Vec::new();
    for rec in bytes.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rec = std::str::from_utf8(rec).expect("records are UTF-8");
        let (name, rest) = rec
            .split_once('(')
            .unwrap_or_else(|| panic!("bad record {rec:?}"));
        let (params, ret) = rest
            .rsplit_once(')')
            .unwrap_or_else(|| panic!("bad record {rec:?}"));
        let (plain, name) = match name.strip_prefix('=') {
            Some(n) => (true, n),
            None => (false, name),
        };
        sigs.push(Sig {
            plain,
            name: name.to_string(),
            params: params
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
            ret: ret.to_string(),
        });
    }
    sigs
}

/// The dynamic symbols of `so` with prefix `prefix`, `(kind, name without prefix)`.
fn exported(so: &Path, prefix: &str) -> BTreeSet<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(so)
        .output()
        .expect("run nm (binutils)");
    assert!(out.status.success(), "nm -D failed on {}", so.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter_map(|n| n.strip_prefix(prefix))
        .map(str::to_string)
        .collect()
}

/// Routines the header declares variadic (the library takes the named arguments only).
const VARIADIC: &[&str] = &["pcontrol"];

/// Every C symbol librshmem exports: `pshmem_x` and its weak `shmem_x` for a record `x`,
/// or the plain name of a record `=x`.
#[test]
fn every_exported_routine_has_a_signature_record() {
    let so = &library();
    let mut want = BTreeSet::new();
    for s in records(so) {
        if s.plain {
            want.insert(s.name);
        } else {
            want.insert(format!("pshmem_{}", s.name));
            want.insert(format!("shmem_{}", s.name));
        }
    }
    let exported = exported(so, "");
    let missing: Vec<_> = exported.difference(&want).collect();
    assert!(
        missing.is_empty(),
        "{} exported routines have no signature record (define them with c_fn!, \
         ctx_and_default! or c_export!, src/gen.rs): {missing:?}",
        missing.len()
    );
    let stale: Vec<_> = want.difference(&exported).collect();
    assert!(
        stale.is_empty(),
        "records without an exported routine: {stale:?}"
    );
}

#[test]
fn header_declarations_match_the_rust_signatures() {
    let so = &library();
    let sigs = records(so);
    assert!(sigs.len() > 1500, "only {} signature records", sigs.len());
    let mut c = String::from(
        "/* Generated by capi/tests/tables.rs from librshmem's signature records. */\n\
         #include <shmem.h>\n#include <pshmem.h>\n#include <shmemx.h>\n",
    );
    let mut names = BTreeSet::new();
    for (i, s) in sigs.iter().enumerate() {
        assert!(names.insert(&s.name), "two records for {}", s.name);
        let mut params: Vec<String> = s.params.iter().map(|p| c_type(p)).collect();
        if VARIADIC.contains(&s.name.as_str()) {
            params.push("...".into());
        }
        if params.is_empty() {
            params.push("void".into());
        }
        let ret = c_type(&s.ret);
        let params = params.join(", ");
        if s.plain {
            c.push_str(&format!(
                "{ret} (*const rshmem_sig_{i})({params}) = {n};\n",
                n = s.name
            ));
        } else {
            c.push_str(&format!(
                "{ret} (*const rshmem_sig_{i})({params}) = shmem_{n};\n\
                 {ret} (*const rshmem_psig_{i})({params}) = pshmem_{n};\n",
                n = s.name
            ));
        }
    }
    let file = scratch("signatures.c");
    std::fs::write(&file, &c).expect("write the signature check");
    for std in ["-std=c99", "-std=c11"] {
        let out = Command::new("cc")
            .args([
                std,
                "-Wall",
                "-Wextra",
                "-Werror",
                "-c",
                "-o",
                "/dev/null",
                "-I",
            ])
            .arg(capi_dir().join("include"))
            .arg(&file)
            .output()
            .expect("run cc");
        assert!(
            out.status.success(),
            "shmem.h/pshmem.h declare routines with other types than the library defines \
             them ({std}; {}):\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_file(&file);
}

#[test]
fn every_exported_shmem_name_is_declared_in_shmem_h() {
    let so = &library();
    let text = preprocess("-std=c99", "#include <shmem.h>\n");
    let mut declared = BTreeSet::new();
    for (i, _) in text.match_indices("shmem_") {
        let b = text.as_bytes();
        if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
            continue;
        }
        let name: String = text[i + "shmem_".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        declared.insert(name);
    }
    let missing: Vec<_> = exported(so, "shmem_")
        .into_iter()
        .filter(|n| !declared.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "librshmem exports shmem_ routines that shmem.h does not declare: {missing:?}"
    );
}
