//! rshmem's developer tasks, run as `cargo run -q -p xtask -- <command>` (or `cargo xtask
//! <command>`, the alias in .cargo/config.toml). The shell scripts that call them keep the
//! orchestration (building, booting the VM, running the tools); the logic is here, with
//! unit tests.
//!
//! - `install --prefix DIR [--profile release|debug]`: the install layout of
//!   `scripts/install.sh` (see [`install`]).
//! - `verbs-bench-report DIR --runs K`: the figures, medians and table of
//!   `scripts/verbs-bench.sh` from the logs it kept (see [`bench`]).
//! - `module-cycles`: each crate's top-level module graph; fails on a cycle (see
//!   [`module_cycles`]).
//! - `unsafe-crates`: the crates that have `unsafe` code and the files where it is; a unit
//!   test compares them with the list in docs/ARCHITECTURE.md (see [`unsafe_audit`]).
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod bench;
mod install;
mod module_cycles;
mod unsafe_audit;

#[derive(Parser)]
#[command(name = "xtask", about = "rshmem developer tasks")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Profile {
    Release,
    Debug,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install the built library, launcher, wrappers, headers and rshmem.pc under a prefix
    /// (scripts/install.sh builds first and then runs this). DESTDIR stages the files under
    /// $DESTDIR$PREFIX; the compilers fixed in the wrapper come from RSHMEM_CC (else CC,
    /// else cc) and RSHMEM_CXX (else CXX, else c++).
    Install {
        /// The installation prefix (relative: from the current directory).
        #[arg(long, value_name = "DIR")]
        prefix: OsString,
        /// The cargo profile whose build is installed, from $CARGO_TARGET_DIR (relative:
        /// from the workspace root) or target/.
        #[arg(long, value_enum, default_value = "release")]
        profile: Profile,
    },
    /// Print the raw values, failures and the rshmem vs perftest table from a results
    /// directory written by scripts/verbs-bench.sh in the verbs VM.
    VerbsBenchReport {
        /// The results directory (perftest/, new/, base/).
        dir: PathBuf,
        /// How many runs the directory holds (shown in the table titles).
        #[arg(long, default_value_t = 1)]
        runs: usize,
    },
    /// List the crates that have `unsafe` code, with the files where it is, and fail if
    /// that differs from the list in docs/ARCHITECTURE.md (Rules, unsafe).
    UnsafeCrates,
    /// Print each crate's top-level module graph and fail if modules depend on each other
    /// in a circle.
    ModuleCycles,
}

fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Install { prefix, profile } => {
            let prof = match profile {
                Profile::Release => "release",
                Profile::Debug => "debug",
            };
            match run_install(&prefix, prof) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("xtask install: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::ModuleCycles => {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            let mut ok = true;
            for krate in module_cycles::CRATES {
                let src = root.join(krate).join("src");
                if !src.is_dir() {
                    continue;
                }
                let g = module_cycles::graph(&src);
                println!("{krate}:");
                for (m, deps) in &g {
                    let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
                    println!("    {m} -> {}", deps.join(" "));
                }
                if let Some(c) = module_cycles::find_cycle(&g) {
                    ok = false;
                    println!("    CYCLE: {}", c.join(" -> "));
                }
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Cmd::UnsafeCrates => {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            let listed = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md"))
                .ok()
                .and_then(|md| unsafe_audit::documented(&md))
                .unwrap_or_default();
            match unsafe_audit::crates_with_unsafe(&root) {
                Ok(crates) => {
                    let mut ok = true;
                    for (c, files) in &crates {
                        let note = if listed.contains(c) {
                            ""
                        } else {
                            ok = false;
                            "   <- not in docs/ARCHITECTURE.md (Rules, unsafe)"
                        };
                        println!("{c}{note}");
                        for f in files {
                            println!("    {}", f.display());
                        }
                    }
                    for c in listed.iter().filter(|c| !crates.contains_key(*c)) {
                        ok = false;
                        println!("{c}   <- listed in docs/ARCHITECTURE.md but has no unsafe");
                    }
                    if ok {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("xtask unsafe-crates: cannot read the sources: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::VerbsBenchReport { dir, runs } => match bench::collect(&dir) {
            Ok((res, labels)) => {
                print!("{}", bench::report(&res, &labels, runs));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!(
                    "xtask verbs-bench-report: cannot read the results in {}: {e}",
                    dir.display()
                );
                ExitCode::FAILURE
            }
        },
    }
}

fn run_install(prefix: &OsString, profile: &str) -> install::Result<()> {
    let env = std::env::var_os;
    let cwd = std::env::current_dir().map_err(|source| install::InstallError::Io {
        what: "cannot read the current directory".into(),
        source,
    })?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ is in the workspace")
        .to_path_buf();
    let prefix = install::normalize_prefix(prefix, &cwd)?;
    let o = install::Options {
        built: install::target_dir(&root, env("CARGO_TARGET_DIR").as_deref()).join(profile),
        root,
        destdir: env("DESTDIR"),
        cc: install::compiler_spec(&[env("RSHMEM_CC"), env("CC")], "cc"),
        cxx: install::compiler_spec(&[env("RSHMEM_CXX"), env("CXX")], "c++"),
        path: env("PATH"),
        cwd,
        version: env!("CARGO_PKG_VERSION").to_string(),
        prefix,
    };
    let dest = install::run(&o)?;
    let p = o.prefix.display();
    println!(
        "xtask install: installed rshmem {} ({profile}) in {}",
        o.version,
        dest.display()
    );
    println!("  compile: {p}/bin/oshcc prog.c -o prog   (or: pkg-config --cflags --libs rshmem with PKG_CONFIG_PATH={p}/lib/pkgconfig)");
    println!("  run:     {p}/bin/oshrun -n 4 ./prog");
    Ok(())
}
