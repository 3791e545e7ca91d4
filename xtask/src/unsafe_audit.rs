//! `xtask unsafe-crates`: which crates of the repository have `unsafe` code, checked
//! against the list in docs/ARCHITECTURE.md ("Rules", the **unsafe.** item), so that the
//! rule stays true: a crate that gains `unsafe` must be added there with its reason, and
//! one that loses all of it must be taken off.
//!
//! A crate is a directory with a `Cargo.toml` that has a `[package]` (the workspace members
//! and the stand-alone `scripts/verbs-vm/probe`); its `unsafe` is every `.rs` file under it
//! (src, tests, benches, examples) outside `target/`. "Has unsafe" means a line whose code
//! (before any `//`) has the keyword `unsafe` followed by `{`, `fn`, `impl`, `extern` or
//! `trait`: a mention in a comment or a doc does not count.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Does this Rust source have `unsafe` code (not only a mention in a comment)?
pub fn has_unsafe_code(src: &str) -> bool {
    src.lines().any(|line| {
        let code = code_of(line);
        let mut rest = code.as_str();
        while let Some(i) = rest.find("unsafe") {
            let before = rest[..i].chars().next_back();
            let after = rest[i + "unsafe".len()..].trim_start();
            let word_start = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            if word_start
                && (after.starts_with('{')
                    || ["fn", "impl", "extern", "trait"].iter().any(|k| {
                        after.starts_with(k)
                            && after[k.len()..]
                                .chars()
                                .next()
                                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
                    }))
            {
                return true;
            }
            rest = &rest[i + "unsafe".len()..];
        }
        false
    })
}

/// The code of one line: string literals emptied (`"..."` -> `""`, raw `r#"..."#` too,
/// and `'"'`), then everything from a `//` on dropped. Per line: a string spanning lines
/// is not seen as one.
fn code_of(line: &str) -> String {
    let line = line.replace("'\"'", "' '");
    let b = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // A raw string: r, some #, a quote (r not the end of an identifier).
        if c == b'r' && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) {
            let hashes = b[i + 1..].iter().take_while(|&&h| h == b'#').count();
            if b.get(i + 1 + hashes) == Some(&b'"') {
                let close = format!("\"{}", "#".repeat(hashes));
                let body = i + 2 + hashes;
                i = match line[body..].find(&close) {
                    Some(j) => body + j + close.len(),
                    None => b.len(),
                };
                out.push_str("\"\"");
                continue;
            }
        }
        if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
            continue;
        }
        let ch = line[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    match out.find("//") {
        Some(i) => out[..i].to_string(),
        None => out,
    }
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        let name = e.file_name();
        if e.file_type()?.is_dir() {
            if name != "target" && name != ".git" {
                walk(&p, f)?;
            }
        } else {
            f(&p);
        }
    }
    Ok(())
}

/// The crate directories under `root` (relative, `/`-separated, ending in `/`), each with
/// the `.rs` files that have `unsafe` code (relative to `root`). A file belongs to the
/// deepest crate directory above it.
pub fn crates_with_unsafe(root: &Path) -> io::Result<BTreeMap<String, Vec<PathBuf>>> {
    let mut crates = BTreeSet::new();
    let mut sources = Vec::new();
    walk(root, &mut |p| {
        if p.file_name().is_some_and(|n| n == "Cargo.toml") {
            if fs::read_to_string(p).is_ok_and(|t| t.lines().any(|l| l.trim() == "[package]")) {
                crates.insert(
                    p.parent()
                        .unwrap()
                        .strip_prefix(root)
                        .unwrap()
                        .to_path_buf(),
                );
            }
        } else if p.extension().is_some_and(|e| e == "rs") {
            sources.push(p.strip_prefix(root).unwrap().to_path_buf());
        }
    })?;
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for s in sources {
        let Some(krate) = crates
            .iter()
            .filter(|c| s.starts_with(c))
            .max_by_key(|c| c.components().count())
        else {
            continue;
        };
        if has_unsafe_code(&fs::read_to_string(root.join(&s))?) {
            let name = format!("{}/", krate.display());
            out.entry(name).or_default().push(s);
        }
    }
    for files in out.values_mut() {
        files.sort();
    }
    Ok(out)
}

/// The crate directories the **unsafe.** item of ARCHITECTURE.md lists: its sub-items
/// `  - `dir/` ...` up to the next top-level item or heading.
pub fn documented(architecture_md: &str) -> Option<BTreeSet<String>> {
    let mut lines = architecture_md.lines();
    lines.find(|l| l.starts_with("- **unsafe.**"))?;
    let mut out = BTreeSet::new();
    for l in lines {
        if l.starts_with("- ") || l.starts_with('#') {
            break;
        }
        if let Some(rest) = l.strip_prefix("  - `") {
            if let Some(end) = rest.find('`') {
                out.insert(rest[..end].to_string());
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_code_is_told_from_mentions() {
        assert!(has_unsafe_code("let x = unsafe { *p };"));
        assert!(has_unsafe_code("pub unsafe fn put(&self) {}"));
        assert!(has_unsafe_code("unsafe impl Send for Mpi {}"));
        assert!(has_unsafe_code("unsafe extern \"C\" fn cb() {}"));
        assert!(has_unsafe_code("    unsafe{x}"));
        assert!(has_unsafe_code("pub unsafe trait Word {}"));
        assert!(!has_unsafe_code("// unsafe { not code }"));
        assert!(!has_unsafe_code(
            "//! The functions are `unsafe` to call from Rust"
        ));
        assert!(!has_unsafe_code(
            "let x = 1; // SAFETY: unsafe { ... } explained"
        ));
        assert!(!has_unsafe_code(
            "#![warn(clippy::undocumented_unsafe_blocks)]"
        ));
        assert!(!has_unsafe_code("fn not_unsafe_fn() {}"));
        assert!(!has_unsafe_code("let unsafe_ptr = 1;"));
        // In a string literal it is not code; after one it is.
        assert!(!has_unsafe_code(r#"assert!(f("let x = unsafe { *p };"));"#));
        assert!(!has_unsafe_code(r#"let s = "a \" unsafe { b";"#));
        assert!(has_unsafe_code(r#"let s = "http://x"; unsafe { f(s) }"#));
        assert!(has_unsafe_code(r#"let q = '"'; unsafe { f() }"#));
        assert!(!has_unsafe_code(r##"f(r#"x "unsafe { y }" z"#);"##));
        assert!(has_unsafe_code(r##"f(r#"a"#); unsafe { g() }"##));
    }

    #[test]
    fn crates_are_found_and_files_go_to_the_deepest() {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, t: &str| {
            let p = d.path().join(p);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, t).unwrap();
        };
        w("Cargo.toml", "[workspace]\nmembers = [\"a\", \"b\"]\n");
        w("a/Cargo.toml", "[package]\nname = \"a\"\n");
        w("a/src/lib.rs", "pub fn f() { unsafe { g() } }\n");
        w("a/target/debug/build/x.rs", "unsafe fn built() {}\n");
        w("b/Cargo.toml", "[package]\nname = \"b\"\n");
        w("b/src/lib.rs", "// unsafe only in a comment\n");
        w(
            "b/inner/Cargo.toml",
            "[package]\nname = \"inner\"\n[workspace]\n",
        );
        w("b/inner/src/main.rs", "unsafe impl Send for X {}\n");
        let c = crates_with_unsafe(d.path()).unwrap();
        assert_eq!(c.keys().collect::<Vec<_>>(), ["a/", "b/inner/"]);
        assert_eq!(c["a/"], [PathBuf::from("a/src/lib.rs")]);
    }

    #[test]
    fn documented_list_is_the_items_sub_list() {
        let md = "## Rules\n\n- **Locks.** x\n  - `nope/` not this\n- **unsafe.** Only:\n  - `transport/` (rshmem-transport): why\n    more text\n  - `runtime/` (rshmem): why\n- **Next.** y\n  - `other/`\n";
        let got = documented(md).unwrap();
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            ["runtime/", "transport/"]
        );
        assert!(documented("## Rules\n- **Locks.**\n").is_none());
    }

    /// The repository against docs/ARCHITECTURE.md.
    #[test]
    fn architecture_md_lists_every_crate_with_unsafe() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let have = crates_with_unsafe(&root).unwrap();
        let md = fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
        let listed =
            documented(&md).expect("docs/ARCHITECTURE.md has no '- **unsafe.**' item under Rules");
        let missing: Vec<String> = have
            .iter()
            .filter(|(c, _)| !listed.contains(*c))
            .map(|(c, f)| {
                format!(
                    "{c} ({})",
                    f.iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        let stale: Vec<&String> = listed.iter().filter(|c| !have.contains_key(*c)).collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "docs/ARCHITECTURE.md, Rules, **unsafe.**: add these crates with the reason for their unsafe: {missing:?}; take off these, which have none: {stale:?}"
        );
    }
}
