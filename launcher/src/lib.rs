//! `rshmem-launcher`: the `rshmemrun` / `oshrun` job launcher of rshmem.
//!
//! The launcher starts N processing elements (PEs) on the local node (or, with
//! `--hosts`, on other hosts through a launch agent such as ssh, serving PMI over
//! TCP: `PMI_PORT`), serves the PMI-1 "simple" protocol to them over inherited
//! socketpairs (`PMI_FD`),
//! binds them to cores or NUMA nodes with hwloc, forwards their output and
//! signals, and turns their fate into a single exit status.
//!
//! Both binaries call [`main_entry`]; everything else is exposed for tests and
//! for reuse of the PMI codec.

pub mod bind;
pub mod cli;
pub mod hosts;
pub mod job;
pub mod output;
pub mod pmi;
pub mod secure;

use std::ffi::OsString;

pub use cli::{BindTo, Cli};

/// Parses `argv` (including `argv[0]`), runs the job and returns the exit
/// status the process should exit with. Usage errors print clap's message and
/// return 2 (`--help` / `--version` print to stdout and return 0).
pub fn run_with_args<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    match Cli::try_parse_argv(argv) {
        Ok(cli) => job::run(cli),
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            code
        }
    }
}

/// Entry point of `rshmemrun` and `oshrun`: runs with the process's arguments
/// and exits with the job's status.
pub fn main_entry() -> ! {
    if let Some(job) = std::env::var_os(secure::JANITOR_VAR) {
        secure::janitor_main(&job.to_string_lossy());
    }
    let code = run_with_args(std::env::args_os());
    std::process::exit(code)
}
