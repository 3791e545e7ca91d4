//! Command-line interface of `rshmemrun` / `oshrun`.

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// What each PE is bound to (`--bind-to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BindTo {
    /// Bind PE i to core (i mod number of cores), i.e. to all its hardware threads.
    Core,
    /// Bind PE i to the CPUs of NUMA node (i mod number of NUMA nodes).
    Numa,
    /// Do not bind.
    None,
}

/// Launch an OpenSHMEM job of N processing elements (PEs) on this node and
/// serve PMI-1 to them.
///
/// Every PE runs PROGRAM with ARGS and the environment of the launcher plus
/// PMI_FD, PMI_RANK, PMI_SIZE, PMI_JOBID and RSHMEM_LAUNCHER=rshmemrun.
/// `-np N` is accepted as a synonym of `-n N`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "rshmemrun",
    version,
    after_help = "Exit status: 0 if every PE exited 0; otherwise the first failure \
                  (a PE's exit status, 128+signal for a PE killed by a signal, the code \
                  passed to PMI abort), 124 on --timeout, 127 if PROGRAM cannot be \
                  executed, 2 for usage errors."
)]
pub struct Cli {
    /// Number of PEs to start (also accepted as `-np N`).
    #[arg(short = 'n', long = "np", value_name = "N", value_parser = parse_np)]
    pub np: usize,

    /// Bind each PE to a core, a NUMA node, or nothing. Default: `core` when N
    /// does not exceed the number of cores, `none` when oversubscribed.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub bind_to: Option<BindTo>,

    /// Print one line per PE on stderr saying what it is bound to.
    #[arg(long)]
    pub report_bindings: bool,

    /// Prefix every line the PEs write to stdout/stderr with `[PE] `.
    #[arg(long)]
    pub tag_output: bool,

    /// Kill the whole job and exit 124 if it runs longer than SECS seconds
    /// (fractions allowed).
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Start the PEs on these hosts instead of this node: comma-separated
    /// `host[:slots]`. Each host takes `slots` (default 1) consecutive PEs per
    /// round, rounds repeat until N are placed. Each PE is started with
    /// `LAUNCH-AGENT host env PMI_PORT=... PMI_ID=rank ... PROGRAM ARGS` and
    /// reaches the launcher's PMI server over TCP; PEs of one host count as one
    /// node (`PMI_process_mapping`). No CPU binding.
    #[arg(long, value_name = "HOST[:SLOTS],...", conflicts_with = "hostfile")]
    pub hosts: Option<String>,

    /// Like `--hosts`, one host per line (`host`, `host:N` or `host slots=N`;
    /// `#` comments).
    #[arg(long, value_name = "FILE")]
    pub hostfile: Option<std::path::PathBuf>,

    /// Command that runs a command on a host, given the host name first
    /// (split on spaces). With `ssh`/`rsh` the remote command is one
    /// shell-quoted string that first changes to the current directory; with
    /// anything else (e.g. `ip netns exec`, to test on one machine) it is
    /// passed as separate arguments.
    #[arg(long, value_name = "CMD", default_value = "ssh")]
    pub launch_agent: String,

    /// Address the PEs of `--hosts` connect to for PMI. Default: the local
    /// address that routes to the first host that resolves, else 127.0.0.1.
    #[arg(long, value_name = "ADDR")]
    pub pmi_addr: Option<String>,

    /// Set VAR to VAL in the PEs' environment, or with `-x VAR` export the
    /// launcher's current value of VAR. May be repeated.
    #[arg(short = 'x', value_name = "VAR[=VAL]", value_parser = parse_export)]
    pub export: Vec<Export>,

    /// Program to run as every PE (searched in PATH if it has no `/`).
    #[arg(value_name = "PROGRAM", required = true)]
    pub program: OsString,

    /// Arguments passed to PROGRAM untouched.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 0..
    )]
    pub args: Vec<OsString>,
}

/// One `-x` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// `-x VAR=VAL`
    Set(String, String),
    /// `-x VAR`: forward the launcher's current value.
    Forward(String),
}

fn parse_np(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of PEs (expected a positive integer)"))?;
    if n == 0 {
        return Err("the number of PEs must be at least 1".into());
    }
    if n > 4096 {
        return Err(format!(
            "{n} PEs is more than this launcher supports (4096)"
        ));
    }
    Ok(n)
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err("the timeout must be a positive number of seconds".into());
    }
    if secs > 1e9 {
        return Err("the timeout is too large".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

fn valid_var_name(s: &str) -> bool {
    !s.is_empty() && !s.contains('=') && !s.contains('\0')
}

fn parse_export(s: &str) -> Result<Export, String> {
    match s.split_once('=') {
        Some((k, v)) => {
            if !valid_var_name(k) {
                return Err(format!("'{s}' does not start with a variable name"));
            }
            Ok(Export::Set(k.to_string(), v.to_string()))
        }
        None => {
            if !valid_var_name(s) {
                return Err(format!("'{s}' is not a variable name"));
            }
            Ok(Export::Forward(s.to_string()))
        }
    }
}

/// Launcher options that take a separate value argument.
const VALUE_FLAGS: &[&str] = &[
    "-n",
    "--np",
    "--bind-to",
    "--timeout",
    "-x",
    "--hosts",
    "--hostfile",
    "--launch-agent",
    "--pmi-addr",
];

/// Rewrites `-np N` / `-np=N` / `-npN` (mpirun/oshrun style) into `--np ...`
/// so clap can parse it, and inserts `--` before PROGRAM. Only launcher
/// options are rewritten: scanning stops at `--` or at the first positional
/// argument (PROGRAM), so the program's own arguments are never touched.
/// `argv[0]` is kept as is.
pub fn preprocess_args<I, T>(argv: I) -> Vec<OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut out: Vec<OsString> = Vec::new();
    let mut it = argv.into_iter().map(Into::into);
    if let Some(a0) = it.next() {
        out.push(a0);
    }
    let mut skip_value = false;
    let mut done = false;
    for arg in it {
        if done {
            out.push(arg);
            continue;
        }
        if skip_value {
            skip_value = false;
            out.push(arg);
            continue;
        }
        let s = arg.to_string_lossy().into_owned();
        if s == "--" {
            done = true;
            out.push(arg);
        } else if s == "-np" {
            out.push("--np".into());
            skip_value = true;
        } else if let Some(rest) = s.strip_prefix("-np=") {
            out.push(OsString::from(format!("--np={rest}")));
        } else if s.len() > 3 && s.starts_with("-np") && s[3..].bytes().all(|b| b.is_ascii_digit())
        {
            out.push(OsString::from(format!("--np={}", &s[3..])));
        } else if VALUE_FLAGS.contains(&s.as_str()) {
            skip_value = true;
            out.push(arg);
        } else if s.starts_with('-') && s.len() > 1 {
            out.push(arg);
        } else {
            // PROGRAM: everything from here on belongs to it. An explicit `--`
            // makes clap treat what follows as positionals even if it looks
            // like one of our flags.
            done = true;
            out.push("--".into());
            out.push(arg);
        }
    }
    out
}

impl Cli {
    /// Parses a full argv (including `argv[0]`), applying [`preprocess_args`].
    pub fn try_parse_argv<I, T>(argv: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        Cli::try_parse_from(preprocess_args(argv))
    }

    /// The binding policy in effect for `ncores` cores.
    pub fn effective_bind_to(&self, ncores: usize) -> BindTo {
        match self.bind_to {
            Some(b) => b,
            None if ncores > 0 && self.np <= ncores => BindTo::Core,
            None => BindTo::None,
        }
    }
}

/// Why PROGRAM cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramError {
    /// Not found (in PATH, or the given path does not exist).
    NotFound,
    /// Exists but is a directory or lacks execute permission.
    NotExecutable,
}

/// Resolves PROGRAM like a shell would: a name containing `/` is used as is,
/// otherwise PATH is searched. Returns the path to execute.
pub fn resolve_program(program: &OsStr) -> Result<OsString, ProgramError> {
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    fn check(p: &Path) -> Result<(), ProgramError> {
        let md = std::fs::metadata(p).map_err(|_| ProgramError::NotFound)?;
        if md.is_dir() {
            return Err(ProgramError::NotExecutable);
        }
        let c =
            std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| ProgramError::NotFound)?;
        // SAFETY: `c` is a valid NUL-terminated string.
        if unsafe { libc::access(c.as_ptr(), libc::X_OK) } != 0 {
            return Err(ProgramError::NotExecutable);
        }
        Ok(())
    }

    if program.is_empty() {
        return Err(ProgramError::NotFound);
    }
    if program.as_bytes().contains(&b'/') {
        check(Path::new(program))?;
        return Ok(program.to_os_string());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let mut first_err = ProgramError::NotFound;
    for dir in std::env::split_paths(&path) {
        let dir = if dir.as_os_str().is_empty() {
            std::path::PathBuf::from(".")
        } else {
            dir
        };
        let cand = dir.join(program);
        match check(&cand) {
            Ok(()) => return Ok(cand.into_os_string()),
            Err(ProgramError::NotExecutable) if cand.exists() && !cand.is_dir() => {
                first_err = ProgramError::NotExecutable
            }
            Err(_) => {}
        }
    }
    Err(first_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pp(v: &[&str]) -> Vec<String> {
        preprocess_args(v.iter().copied())
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    #[test]
    fn np_rewrite() {
        assert_eq!(
            pp(&["r", "-np", "4", "prog"]),
            ["r", "--np", "4", "--", "prog"]
        );
        assert_eq!(pp(&["r", "-np=4", "prog"]), ["r", "--np=4", "--", "prog"]);
        assert_eq!(pp(&["r", "-np4", "prog"]), ["r", "--np=4", "--", "prog"]);
        // Program arguments are left alone.
        assert_eq!(
            pp(&["r", "-n", "2", "prog", "-np", "3"]),
            ["r", "-n", "2", "--", "prog", "-np", "3"]
        );
        assert_eq!(
            pp(&["r", "-x", "-np", "-np", "2", "--", "p", "-np"]),
            ["r", "-x", "-np", "--np", "2", "--", "p", "-np"]
        );
    }

    #[test]
    fn parse_full() {
        let c = Cli::try_parse_argv([
            "rshmemrun",
            "-np",
            "3",
            "--bind-to",
            "numa",
            "--tag-output",
            "-x",
            "A=b=c",
            "-x",
            "HOME",
            "--timeout",
            "1.5",
            "prog",
            "--tag-output",
            "-n",
            "x",
        ])
        .unwrap();
        assert_eq!(c.np, 3);
        assert_eq!(c.bind_to, Some(BindTo::Numa));
        assert!(c.tag_output);
        assert!(!c.report_bindings);
        assert_eq!(c.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(
            c.export,
            vec![
                Export::Set("A".into(), "b=c".into()),
                Export::Forward("HOME".into())
            ]
        );
        assert_eq!(c.program, "prog");
        assert_eq!(c.args, ["--tag-output", "-n", "x"]);
    }

    #[test]
    fn double_dash() {
        let c = Cli::try_parse_argv(["r", "-n", "1", "--", "prog", "--", "-x"]).unwrap();
        assert_eq!(c.program, "prog");
        assert_eq!(c.args, ["--", "-x"]);
    }

    #[test]
    fn errors() {
        for bad in [
            &["r", "-n", "0", "p"][..],
            &["r", "-n", "abc", "p"],
            &["r", "-n", "2"],
            &["r", "p"],
            &["r", "-n", "2", "--bind-to", "foo", "p"],
            &["r", "-n", "2", "--bogus", "p"],
            &["r", "-n", "2", "--timeout", "0", "p"],
            &["r", "-n", "2", "-x", "=v", "p"],
        ] {
            assert!(Cli::try_parse_argv(bad.iter().copied()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn default_binding() {
        let c = Cli::try_parse_argv(["r", "-n", "2", "p"]).unwrap();
        assert_eq!(c.effective_bind_to(2), BindTo::Core);
        assert_eq!(c.effective_bind_to(1), BindTo::None);
        let c = Cli::try_parse_argv(["r", "-n", "2", "--bind-to", "none", "p"]).unwrap();
        assert_eq!(c.effective_bind_to(8), BindTo::None);
    }

    #[test]
    fn resolve() {
        assert!(resolve_program(OsStr::new("sh")).is_ok());
        assert_eq!(
            resolve_program(OsStr::new("definitely-not-a-program-xyz")),
            Err(ProgramError::NotFound)
        );
        assert_eq!(
            resolve_program(OsStr::new("/nonexistent/prog")),
            Err(ProgramError::NotFound)
        );
        assert_eq!(
            resolve_program(OsStr::new("/tmp")),
            Err(ProgramError::NotExecutable)
        );
    }
}
