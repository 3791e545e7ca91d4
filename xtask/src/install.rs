//! `xtask install`: what `scripts/install.sh` puts where under a prefix.
//!
//! ```text
//! PREFIX/bin/      rshmemrun, oshrun, rshmem-info, rshmemcc, rshmemc++, oshcc, oshc++
//! PREFIX/lib/      librshmem.so, librshmem.a, pkgconfig/rshmem.pc
//! PREFIX/include/  shmem.h, shmemx.h, pshmem.h, shmem_cxx.h, mpp/shmem.h, mpp/shmemx.h
//! ```
//!
//! Two files are generated rather than copied: `bin/rshmemcc` is `capi/rshmemcc` with the C
//! and C++ compilers fixed (absolute paths resolved at install time, so that a later
//! `CC=oshcc` in a configure script cannot make the wrapper run itself; a compiler that is
//! itself an rshmem wrapper is refused), and `lib/pkgconfig/rshmem.pc` is
//! `capi/rshmem.pc.in` with its `@PLACEHOLDERS@` filled. `DESTDIR` stages everything under
//! `$DESTDIR$PREFIX` while the files still name `PREFIX`.
//!
//! The functions here are pure (strings and paths) except [`resolve_compiler`] (reads the
//! compiler file), [`apply`] and [`run`]; the unit tests cover them on a temporary tree.
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The line that identifies `capi/rshmemcc` (and so an installed rshmemcc / rshmemc++ /
/// oshcc / oshc++): a compiler whose file contains it is a wrapper, not a compiler.
pub const WRAPPER_MARK: &str = "rshmemcc / rshmemc++: compile";

/// The built files taken from `target/<profile>` and where they go (relative to the
/// prefix), with their mode.
pub const BUILT: [(&str, &str, u32); 5] = [
    ("rshmemrun", "bin", 0o755),
    ("oshrun", "bin", 0o755),
    ("rshmem-info", "bin", 0o755),
    ("librshmem.so", "lib", 0o755),
    ("librshmem.a", "lib", 0o644),
];

/// The source files copied as they are (relative to the workspace root), where they go, mode.
pub const SOURCES: [(&str, &str, u32); 7] = [
    ("capi/rshmemc++", "bin", 0o755),
    ("capi/include/shmem.h", "include", 0o644),
    ("capi/include/shmemx.h", "include", 0o644),
    ("capi/include/pshmem.h", "include", 0o644),
    ("capi/include/shmem_cxx.h", "include", 0o644),
    // Legacy include paths (<mpp/shmem.h>, <mpp/shmemx.h>), as other implementations ship them.
    ("capi/include/mpp/shmem.h", "include/mpp", 0o644),
    ("capi/include/mpp/shmemx.h", "include/mpp", 0o644),
];

/// The wrapper picks the language by its name (`*c++` is C++): these link to `rshmemcc`.
pub const WRAPPER_ALIASES: [&str; 2] = ["oshcc", "oshc++"];

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0}")]
    Bad(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> InstallError {
    let what = what.into();
    move |source| InstallError::Io { what, source }
}

pub type Result<T> = std::result::Result<T, InstallError>;

/// The prefix as an absolute path (a relative one is taken from `cwd`), without `.`,
/// repeated or trailing slashes. An empty prefix is an error.
pub fn normalize_prefix(prefix: &OsStr, cwd: &Path) -> Result<PathBuf> {
    if prefix.is_empty() {
        return Err(InstallError::Bad("--prefix needs a directory".into()));
    }
    let p = Path::new(prefix);
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    Ok(abs
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect())
}

/// Where the files are written: `$DESTDIR$PREFIX` (string concatenation, as make's DESTDIR).
pub fn staging_dir(destdir: Option<&OsStr>, prefix: &Path) -> PathBuf {
    match destdir {
        Some(d) if !d.is_empty() => {
            let mut s = OsString::from(d);
            s.push(prefix.as_os_str());
            PathBuf::from(s)
        }
        _ => prefix.to_path_buf(),
    }
}

/// `CARGO_TARGET_DIR` (relative to the workspace root when relative), else `root/target`.
pub fn target_dir(root: &Path, cargo_target_dir: Option<&OsStr>) -> PathBuf {
    match cargo_target_dir {
        Some(d) if !d.is_empty() => root.join(d),
        _ => root.join("target"),
    }
}

/// `s` quoted for a POSIX shell (single quotes; a `'` inside becomes `'\''`).
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// An executable regular file?
fn is_executable(p: &Path) -> bool {
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// What `command -v NAME` finds: NAME itself when it has a `/` (made absolute from `cwd`),
/// else the first executable `DIR/NAME` along `path` (an empty entry is `cwd`).
pub fn find_program(name: &str, path: Option<&OsStr>, cwd: &Path) -> Option<PathBuf> {
    if name.contains('/') {
        let p = cwd.join(name);
        return is_executable(&p).then_some(p);
    }
    let path = path?;
    std::env::split_paths(path)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                cwd.join(name)
            } else {
                cwd.join(dir).join(name)
            }
        })
        .find(|p| is_executable(p))
}

/// The compiler the installed wrapper runs for `lang` ("C" or "C++"), from `spec` (e.g.
/// `gcc` or `gcc -m64`): the program resolved to an absolute path, its flags after it.
/// Fails with a message naming the variable to set when the spec is empty, the program is
/// not found, or it is an rshmem compiler wrapper (which would run itself).
pub fn resolve_compiler(
    lang: &str,
    spec: &str,
    path: Option<&OsStr>,
    cwd: &Path,
) -> Result<String> {
    let mut words = spec.split_whitespace();
    let Some(name) = words.next() else {
        return Err(InstallError::Bad(format!(
            "{lang}: empty compiler; set RSHMEM_CC / RSHMEM_CXX"
        )));
    };
    let flags: Vec<&str> = words.collect();
    let found = find_program(name, path, cwd).ok_or_else(|| {
        InstallError::Bad(format!(
            "{lang}: compiler '{name}' not found; set RSHMEM_CC / RSHMEM_CXX to a C / C++ compiler"
        ))
    })?;
    // A compiler binary is not UTF-8; look for the marker in the bytes.
    let bytes =
        fs::read(&found).map_err(io_err(format!("{lang}: cannot read {}", found.display())))?;
    if bytes
        .windows(WRAPPER_MARK.len())
        .any(|w| w == WRAPPER_MARK.as_bytes())
    {
        return Err(InstallError::Bad(format!(
            "{lang}: '{name}' ({}) is an rshmem compiler wrapper, not a compiler; set RSHMEM_CC / RSHMEM_CXX to e.g. gcc / g++",
            found.display()
        )));
    }
    let mut out = found.to_string_lossy().into_owned();
    for f in flags {
        out.push(' ');
        out.push_str(f);
    }
    Ok(out)
}

/// `capi/rshmemcc` with its `default_cc=cc` and `default_cxx=c++` lines replaced by the
/// compilers fixed at install time (shell-quoted). Each line must be there exactly once.
pub fn fix_wrapper(template: &str, cc: &str, cxx: &str) -> Result<String> {
    let mut seen = (0, 0);
    let mut out = String::with_capacity(template.len() + cc.len() + cxx.len());
    for line in template.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let nl = &line[body.len()..];
        match body {
            "default_cc=cc" => {
                seen.0 += 1;
                out.push_str(&format!("default_cc={}{nl}", sh_quote(cc)));
            }
            "default_cxx=c++" => {
                seen.1 += 1;
                out.push_str(&format!("default_cxx={}{nl}", sh_quote(cxx)));
            }
            _ => out.push_str(line),
        }
    }
    if seen != (1, 1) {
        return Err(InstallError::Bad(format!(
            "capi/rshmemcc must have one 'default_cc=cc' and one 'default_cxx=c++' line (found {} and {}); cannot fix the compilers in the installed wrapper",
            seen.0, seen.1
        )));
    }
    Ok(out)
}

/// Does `nm librshmem.a` show undefined `ibv_` symbols (built with the verbs transport, so
/// a static link needs `-libverbs`)?
pub fn needs_ibverbs(nm_output: &str) -> bool {
    nm_output.lines().any(|l| l.contains(" U ibv_"))
}

/// The verbs libraries a static link of `librshmem.a` needs, from `nm`'s output: librdmacm
/// (the connection service) before libibverbs, which it depends on; empty without verbs.
pub fn verbs_static_libs(nm_output: &str) -> String {
    let mut s = String::new();
    if nm_output.lines().any(|l| l.contains(" U rdma_")) {
        s.push_str(" -lrdmacm");
    }
    if needs_ibverbs(nm_output) {
        s.push_str(" -libverbs");
    }
    s
}

/// `capi/rshmem.pc.in` filled: a header line naming the version, the template's comment
/// lines dropped, `@PREFIX@`, `@LIBDIR@`, `@INCLUDEDIR@`, `@VERSION@` replaced, and
/// `private_extra` (e.g. ` -libverbs`) appended to `Libs.private:`. An `@NAME@` left over
/// is an error.
pub fn fill_pc(
    template: &str,
    prefix: &Path,
    version: &str,
    private_extra: &str,
) -> Result<String> {
    let prefix = prefix.to_string_lossy();
    let mut out = format!("# rshmem {version}, installed by scripts/install.sh\n");
    for line in template.lines().filter(|l| !l.starts_with('#')) {
        let mut l = line
            .replace("@PREFIX@", &prefix)
            .replace("@LIBDIR@", &format!("{prefix}/lib"))
            .replace("@INCLUDEDIR@", &format!("{prefix}/include"))
            .replace("@VERSION@", version);
        if l.starts_with("Libs.private:") {
            l.push_str(private_extra);
        }
        out.push_str(&l);
        out.push('\n');
    }
    if let Some(p) = unfilled_placeholder(&out) {
        return Err(InstallError::Bad(format!(
            "unfilled placeholder {p} in rshmem.pc (capi/rshmem.pc.in has a @NAME@ the install step does not know)"
        )));
    }
    Ok(out)
}

/// The first `@NAME@` (NAME in A-Z, possibly empty) in `text`.
fn unfilled_placeholder(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(off) = text[i..].find('@') {
        let start = i + off;
        let mut j = start + 1;
        while j < b.len() && b[j].is_ascii_uppercase() {
            j += 1;
        }
        if j < b.len() && b[j] == b'@' {
            return Some(&text[start..=j]);
        }
        i = start + 1;
    }
    None
}

/// One file of the installed tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Copy `from` to `to` with `mode`.
    Copy {
        from: PathBuf,
        to: PathBuf,
        mode: u32,
    },
    /// Write `text` to `to` with `mode`.
    Write {
        to: PathBuf,
        text: String,
        mode: u32,
    },
    /// A symbolic link `to` -> `target`.
    Symlink { to: PathBuf, target: PathBuf },
}

impl Item {
    pub fn dest(&self) -> &Path {
        match self {
            Item::Copy { to, .. } | Item::Write { to, .. } | Item::Symlink { to, .. } => to,
        }
    }
}

/// The files copied as they are: built ones from `built` (target/<profile>), sources from
/// `root`, the wrapper aliases; all under `dest` (the staging directory).
pub fn copied_items(root: &Path, built: &Path, dest: &Path) -> Vec<Item> {
    let mut items = Vec::new();
    for (f, dir, mode) in BUILT {
        items.push(Item::Copy {
            from: built.join(f),
            to: dest.join(dir).join(f),
            mode,
        });
    }
    for (f, dir, mode) in SOURCES {
        let from = root.join(f);
        let name = from.file_name().expect("file name").to_owned();
        items.push(Item::Copy {
            to: dest.join(dir).join(name),
            from,
            mode,
        });
    }
    for alias in WRAPPER_ALIASES {
        items.push(Item::Symlink {
            to: dest.join("bin").join(alias),
            target: PathBuf::from("rshmemcc"),
        });
    }
    items
}

/// The built files that must exist before installing; the message names the first missing.
pub fn check_built(built: &Path) -> Result<()> {
    for (f, _, _) in BUILT {
        let p = built.join(f);
        if !p.is_file() {
            return Err(InstallError::Bad(format!(
                "{} missing: build first (cargo build -p rshmem-capi -p rshmem-launcher, with --release for the release profile), or let scripts/install.sh build (no --no-build)",
                p.display()
            )));
        }
    }
    Ok(())
}

/// Writes `bytes` to `to` through a temporary file in the same directory and a rename, so
/// a program running from an older copy keeps its file (as install(1) unlinks first).
fn write_atomic(to: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = to.parent().expect("destination has a directory");
    let tmp = dir.join(format!(
        ".{}.xtask-tmp",
        to.file_name().expect("file name").to_string_lossy()
    ));
    let what = |w: &str| format!("cannot {w} {}", to.display());
    fs::write(&tmp, bytes).map_err(io_err(what("write")))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).map_err(io_err(what("chmod")))?;
    fs::rename(&tmp, to).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(what("replace"))(e)
    })
}

/// Creates the directories and files of `items`.
pub fn apply(items: &[Item]) -> Result<()> {
    for item in items {
        let to = item.dest();
        let dir = to.parent().expect("destination has a directory");
        fs::create_dir_all(dir).map_err(io_err(format!("cannot create {}", dir.display())))?;
        match item {
            Item::Copy { from, mode, .. } => {
                let bytes =
                    fs::read(from).map_err(io_err(format!("cannot read {}", from.display())))?;
                write_atomic(to, &bytes, *mode)?;
            }
            Item::Write { text, mode, .. } => write_atomic(to, text.as_bytes(), *mode)?,
            Item::Symlink { target, .. } => {
                match fs::remove_file(to) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(format!("cannot replace {}", to.display()))(e)),
                }
                std::os::unix::fs::symlink(target, to)
                    .map_err(io_err(format!("cannot link {}", to.display())))?;
            }
        }
    }
    Ok(())
}

/// Everything an install needs, gathered by `main` from the command line and environment.
#[derive(Debug, Clone)]
pub struct Options {
    /// Absolute, normalized ([`normalize_prefix`]).
    pub prefix: PathBuf,
    /// `DESTDIR`.
    pub destdir: Option<OsString>,
    /// The workspace root (has `capi/`).
    pub root: PathBuf,
    /// `target/<profile>`: the built library and launcher.
    pub built: PathBuf,
    /// Compiler specs for the wrapper: `RSHMEM_CC` else `CC` else `cc`; C++ alike.
    pub cc: String,
    pub cxx: String,
    /// `PATH`, and the directory relative compiler names are taken from.
    pub path: Option<OsString>,
    pub cwd: PathBuf,
    /// The version written into rshmem.pc.
    pub version: String,
}

/// The compiler spec for a language from the environment: the first set and non-empty of
/// `vars`, else `default`.
pub fn compiler_spec(vars: &[Option<OsString>], default: &str) -> String {
    vars.iter()
        .flatten()
        .find(|v| !v.is_empty())
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_else(|| default.to_string())
}

/// The whole installed tree for `o`, with the generated files' contents. `nm` is the output
/// of `nm librshmem.a` (empty when nm is not there).
pub fn plan(o: &Options, cc: &str, cxx: &str, nm: &str) -> Result<Vec<Item>> {
    let dest = staging_dir(o.destdir.as_deref(), &o.prefix);
    let mut items = copied_items(&o.root, &o.built, &dest);
    let read = |rel: &str| {
        let p = o.root.join(rel);
        fs::read_to_string(&p).map_err(io_err(format!("cannot read {}", p.display())))
    };
    items.push(Item::Write {
        to: dest.join("bin/rshmemcc"),
        text: fix_wrapper(&read("capi/rshmemcc")?, cc, cxx)?,
        mode: 0o755,
    });
    let extra = verbs_static_libs(nm);
    items.push(Item::Write {
        to: dest.join("lib/pkgconfig/rshmem.pc"),
        text: fill_pc(&read("capi/rshmem.pc.in")?, &o.prefix, &o.version, &extra)?,
        mode: 0o644,
    });
    Ok(items)
}

/// Installs: checks the built files, resolves the compilers, writes the tree. Returns the
/// staging directory.
pub fn run(o: &Options) -> Result<PathBuf> {
    check_built(&o.built)?;
    let cc = resolve_compiler("C", &o.cc, o.path.as_deref(), &o.cwd)?;
    let cxx = resolve_compiler("C++", &o.cxx, o.path.as_deref(), &o.cwd)?;
    let nm = Command::new("nm")
        .arg(o.built.join("librshmem.a"))
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let items = plan(o, &cc, &cxx, &nm)?;
    apply(&items)?;
    Ok(staging_dir(o.destdir.as_deref(), &o.prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn prefix_is_absolute_and_normalized() {
        let cwd = Path::new("/home/u/src");
        let n = |p: &str| normalize_prefix(OsStr::new(p), cwd).unwrap();
        assert_eq!(n("/opt/rshmem/"), PathBuf::from("/opt/rshmem"));
        assert_eq!(n("/opt//rshmem///"), PathBuf::from("/opt/rshmem"));
        assert_eq!(n("inst"), PathBuf::from("/home/u/src/inst"));
        assert_eq!(n("./inst/"), PathBuf::from("/home/u/src/inst"));
        assert_eq!(n("/"), PathBuf::from("/"));
        let e = normalize_prefix(OsStr::new(""), cwd).unwrap_err();
        assert!(e.to_string().contains("--prefix needs a directory"), "{e}");
    }

    #[test]
    fn destdir_prefixes_the_staging_dir_only() {
        let p = Path::new("/opt/rshmem");
        assert_eq!(staging_dir(None, p), p);
        assert_eq!(staging_dir(Some(OsStr::new("")), p), p);
        assert_eq!(
            staging_dir(Some(OsStr::new("/tmp/stage")), p),
            PathBuf::from("/tmp/stage/opt/rshmem")
        );
    }

    #[test]
    fn target_dir_follows_cargo_target_dir() {
        let r = Path::new("/ws");
        assert_eq!(target_dir(r, None), PathBuf::from("/ws/target"));
        assert_eq!(
            target_dir(r, Some(OsStr::new("t2"))),
            PathBuf::from("/ws/t2")
        );
        assert_eq!(
            target_dir(r, Some(OsStr::new("/abs/t"))),
            PathBuf::from("/abs/t")
        );
    }

    #[test]
    fn compiler_spec_order() {
        let s = |v: &[Option<&str>]| {
            let v: Vec<Option<OsString>> = v.iter().map(|x| x.map(OsString::from)).collect();
            compiler_spec(&v, "cc")
        };
        assert_eq!(s(&[None, None]), "cc");
        assert_eq!(s(&[None, Some("gcc")]), "gcc");
        assert_eq!(s(&[Some("clang"), Some("gcc")]), "clang");
        assert_eq!(s(&[Some(""), Some("gcc")]), "gcc");
    }

    #[test]
    fn shell_quoting_round_trips_through_sh() {
        for s in [
            "/usr/bin/gcc",
            "/opt/my cc/gcc -m64",
            "it's",
            "$HOME `x` \"q\"",
        ] {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", sh_quote(s)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), s);
        }
    }

    const WRAPPER: &str = "#!/bin/sh\n# rshmemcc / rshmemc++: compile and link\nset -e\ndefault_cc=cc\ndefault_cxx=c++\nexec $compiler \"$@\"\n";

    #[test]
    fn wrapper_gets_the_fixed_compilers() {
        let w = fix_wrapper(WRAPPER, "/usr/bin/gcc -m64", "/usr/bin/g++").unwrap();
        assert!(w.contains("\ndefault_cc='/usr/bin/gcc -m64'\n"), "{w}");
        assert!(w.contains("\ndefault_cxx='/usr/bin/g++'\n"), "{w}");
        assert!(!w.contains("default_cc=cc"), "{w}");
        // Everything else is untouched.
        assert_eq!(w.lines().count(), WRAPPER.lines().count());
        assert!(w.starts_with("#!/bin/sh\n# rshmemcc / rshmemc++: compile and link\nset -e\n"));
    }

    #[test]
    fn wrapper_without_its_default_lines_is_refused() {
        let e =
            fix_wrapper("#!/bin/sh\ndefault_cc=gcc\ndefault_cxx=c++\n", "/a", "/b").unwrap_err();
        assert!(e.to_string().contains("default_cc=cc"), "{e}");
        let twice = format!("{WRAPPER}default_cc=cc\n");
        assert!(fix_wrapper(&twice, "/a", "/b").is_err());
    }

    /// The real capi/rshmemcc has the lines fix_wrapper replaces, and the result runs:
    /// `-show` prints the fixed compiler.
    #[test]
    fn real_wrapper_template_is_fixable() {
        let t = fs::read_to_string(root().join("capi/rshmemcc")).unwrap();
        assert!(t.contains(WRAPPER_MARK));
        let w = fix_wrapper(&t, "/opt/x cc/bin/gcc", "/usr/bin/g++").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rshmemcc");
        fs::write(&p, w).unwrap();
        let out = Command::new("sh")
            .arg(&p)
            .args(["-show", "-c", "x.c"])
            .env_remove("RSHMEM_CC")
            .env_remove("RSHMEM_WRAPPER_DEPTH")
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(s.starts_with("/opt/x cc/bin/gcc -I"), "{s}");
    }

    #[test]
    fn compilers_resolve_to_absolute_paths_and_wrappers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        let mk = |name: &str, text: &str, mode: u32| {
            let p = bin.join(name);
            fs::write(&p, text).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
            p
        };
        let gcc = mk("gcc", "\x7fELF...binary", 0o755);
        mk("notexec", "", 0o644);
        mk("oshcc", WRAPPER, 0o755);
        let path = std::env::join_paths([Path::new("/nonexistent"), &bin]).unwrap();
        let r = |spec: &str| resolve_compiler("C", spec, Some(&path), dir.path());

        assert_eq!(r("gcc").unwrap(), gcc.to_string_lossy());
        assert_eq!(
            r("gcc -m64 -O2").unwrap(),
            format!("{} -m64 -O2", gcc.display())
        );
        // A name with a slash is taken from the working directory, not PATH.
        assert_eq!(r("bin/gcc").unwrap(), gcc.to_string_lossy());

        let e = r("oshcc").unwrap_err().to_string();
        assert!(
            e.contains("rshmem compiler wrapper") && e.contains("RSHMEM_CC"),
            "{e}"
        );
        let e = r("notexec").unwrap_err().to_string();
        assert!(
            e.contains("'notexec' not found") && e.contains("RSHMEM_CC"),
            "{e}"
        );
        let e = r("  ").unwrap_err().to_string();
        assert!(e.contains("empty compiler"), "{e}");
    }

    #[test]
    fn pkg_config_file_is_filled() {
        let t = "# comment about @PREFIX@\nprefix=@PREFIX@\nlibdir=@LIBDIR@\nincludedir=@INCLUDEDIR@\nVersion: @VERSION@\nLibs.private: -lpthread\n";
        let pc = fill_pc(t, Path::new("/opt/r"), "1.2.3", " -libverbs").unwrap();
        assert_eq!(
            pc,
            "# rshmem 1.2.3, installed by scripts/install.sh\nprefix=/opt/r\nlibdir=/opt/r/lib\nincludedir=/opt/r/include\nVersion: 1.2.3\nLibs.private: -lpthread -libverbs\n"
        );
        let e = fill_pc("x=@NEWTHING@\n", Path::new("/p"), "1", "").unwrap_err();
        assert!(e.to_string().contains("@NEWTHING@"), "{e}");
        // An address with @ in it is not a placeholder.
        assert!(fill_pc("URL: mailto:a@b.c\n", Path::new("/p"), "1", "").is_ok());
    }

    #[test]
    fn real_pc_template_fills_completely() {
        let t = fs::read_to_string(root().join("capi/rshmem.pc.in")).unwrap();
        let pc = fill_pc(&t, Path::new("/opt/r"), "0.1.0", "").unwrap();
        for want in [
            "prefix=/opt/r\n",
            "libdir=/opt/r/lib\n",
            "Version: 0.1.0\n",
            "-lrshmem",
        ] {
            assert!(pc.contains(want), "no {want:?} in\n{pc}");
        }
    }

    #[test]
    fn ibverbs_detected_from_nm() {
        let with = "verbs.o:\n                 U ibv_post_send\n0000000000000000 T rshmem_x\n";
        assert!(needs_ibverbs(with));
        assert!(!needs_ibverbs(
            "0000000000000000 T ibv_like_name\n U memcpy\n"
        ));
        assert!(!needs_ibverbs(""));
    }

    #[test]
    fn verbs_static_libs_from_nm() {
        let both = "cm.o:
                 U rdma_connect
obj.o:
                 U ibv_post_send
";
        assert_eq!(verbs_static_libs(both), " -lrdmacm -libverbs");
        assert_eq!(
            verbs_static_libs(
                "                 U ibv_post_send
"
            ),
            " -libverbs"
        );
        assert_eq!(
            verbs_static_libs(
                "0000 T rdma_like
 U memcpy
"
            ),
            ""
        );
    }

    /// A whole install into a temporary prefix from a fake build and the real sources, with
    /// DESTDIR, twice (the second replaces the first).
    #[test]
    fn install_layout_in_a_temp_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let built = dir.path().join("built");
        fs::create_dir(&built).unwrap();
        let e = check_built(&built).unwrap_err().to_string();
        assert!(
            e.contains("rshmemrun missing") && e.contains("build first"),
            "{e}"
        );
        for (f, _, _) in BUILT {
            fs::write(built.join(f), format!("built {f}")).unwrap();
        }
        check_built(&built).unwrap();
        let o = Options {
            prefix: PathBuf::from("/opt/rshmem"),
            destdir: Some(dir.path().join("stage").into_os_string()),
            root: root(),
            built: built.clone(),
            cc: String::new(),
            cxx: String::new(),
            path: None,
            cwd: dir.path().to_path_buf(),
            version: "9.8.7".into(),
        };
        for round in 0..2 {
            let items = plan(&o, "/usr/bin/gcc", "/usr/bin/g++", " U ibv_reg_mr\n").unwrap();
            apply(&items).unwrap();
            let d = dir.path().join("stage/opt/rshmem");
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
                "lib/pkgconfig/rshmem.pc",
                "include/shmem.h",
                "include/shmemx.h",
                "include/pshmem.h",
                "include/shmem_cxx.h",
                "include/mpp/shmem.h",
                "include/mpp/shmemx.h",
            ] {
                assert!(d.join(f).exists(), "round {round}: {f} not installed");
            }
            let mode = |f: &str| fs::metadata(d.join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode("bin/rshmemrun"), 0o755);
            assert_eq!(mode("bin/rshmemcc"), 0o755);
            assert_eq!(mode("lib/librshmem.a"), 0o644);
            assert_eq!(mode("include/shmem.h"), 0o644);
            assert_eq!(
                fs::read_to_string(d.join("bin/oshrun")).unwrap(),
                "built oshrun"
            );
            assert_eq!(
                fs::read_link(d.join("bin/oshc++")).unwrap(),
                PathBuf::from("rshmemcc")
            );
            assert_eq!(
                fs::read(d.join("include/shmem.h")).unwrap(),
                fs::read(root().join("capi/include/shmem.h")).unwrap()
            );
            let w = fs::read_to_string(d.join("bin/rshmemcc")).unwrap();
            assert!(w.contains("\ndefault_cc='/usr/bin/gcc'\n"), "{w}");
            // The pkg-config file names the prefix, not the staging directory.
            let pc = fs::read_to_string(d.join("lib/pkgconfig/rshmem.pc")).unwrap();
            assert!(
                pc.contains("prefix=/opt/rshmem\n") && !pc.contains("stage"),
                "{pc}"
            );
            assert!(
                pc.contains("Version: 9.8.7") && pc.contains(" -libverbs"),
                "{pc}"
            );
            // No temporary files left.
            let tmp_left = fs::read_dir(d.join("bin"))
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .ends_with("xtask-tmp")
                })
                .count();
            assert_eq!(tmp_left, 0);
        }
    }
}
