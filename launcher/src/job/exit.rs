//! How a PE ended (decoded `waitpid` status) and signal names.

/// Name of a signal, e.g. `SIGKILL`.
pub fn signal_name(sig: i32) -> String {
    let n = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGPWR => "SIGPWR",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("SIG{sig}"),
    };
    n.to_string()
}

/// How a PE ended, decoded from a `waitpid` status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeExit {
    /// Normal exit with this status.
    Code(i32),
    /// Killed by this signal (`core` if it dumped core).
    Signal {
        /// Signal number.
        sig: i32,
        /// A core dump was produced.
        core: bool,
    },
}

impl PeExit {
    /// Decodes a raw `waitpid` status.
    pub fn from_wait_status(st: i32) -> PeExit {
        if libc::WIFSIGNALED(st) {
            PeExit::Signal {
                sig: libc::WTERMSIG(st),
                core: libc::WCOREDUMP(st),
            }
        } else {
            PeExit::Code(libc::WEXITSTATUS(st))
        }
    }

    /// Shell-style status: the exit code, or 128+signal.
    pub fn shell_status(self) -> i32 {
        match self {
            PeExit::Code(c) => c,
            PeExit::Signal { sig, .. } => 128 + sig,
        }
    }

    /// How the launcher's messages describe this end, e.g. `exited with status 3`.
    pub fn describe(self) -> String {
        match self {
            PeExit::Code(c) => format!("exited with status {c}"),
            PeExit::Signal { sig, core } => format!(
                "was killed by signal {sig} ({}){}",
                signal_name(sig),
                if core { " (core dumped)" } else { "" }
            ),
        }
    }
}
