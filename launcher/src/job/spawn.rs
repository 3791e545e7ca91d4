//! Starting one PE: locally (a socketpair for PMI, `PMI_FD`) or through the launch agent
//! (`--hosts`: PMI over TCP, `PMI_PORT`, the secret), in its own process group with
//! `PR_SET_PDEATHSIG`, output piped to the launcher.

use std::ffi::OsString;
use std::io::{self, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;

use super::{LAUNCHER_NAME, SECRET_VAR};
use crate::bind::Binding;
use crate::cli::Cli;
use crate::pmi::server::shared_writer;
use crate::pmi::{Connection, PmiServer};

/// Makes sure `fd` is not 0, 1 or 2 (which `Command` will overwrite with the
/// child's stdio) by duplicating it higher if needed. Keeps CLOEXEC set.
fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: fcntl on a valid fd; the result is a new fd we own.
    let n = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `n` is a freshly created, owned descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// `--hosts` / `--hostfile`: where each PE runs and how it is started.
pub(super) struct Remote {
    pub hosts: Vec<crate::hosts::Host>,
    pub placement: Vec<usize>,
    pub agent: Vec<String>,
    pub pmi_addr: String,
}

pub(super) fn remote_setup(cli: &Cli, np: usize) -> Result<Option<Remote>, String> {
    let hosts = match (&cli.hosts, &cli.hostfile) {
        (Some(h), _) => crate::hosts::parse_hosts(h)?,
        (None, Some(f)) => crate::hosts::read_hostfile(f)?,
        (None, None) => return Ok(None),
    };
    let agent: Vec<String> = cli
        .launch_agent
        .split_whitespace()
        .map(String::from)
        .collect();
    if agent.is_empty() {
        return Err("--launch-agent is empty (expected e.g. ssh, or 'ip netns exec')".into());
    }
    let pmi_addr = cli
        .pmi_addr
        .clone()
        .unwrap_or_else(|| crate::hosts::default_pmi_addr(&hosts));
    if pmi_addr.parse::<std::net::IpAddr>().is_err() {
        return Err(format!(
            "--pmi-addr {pmi_addr}: not an IP address (the PEs connect to it)"
        ));
    }
    Ok(Some(Remote {
        placement: crate::hosts::place(&hosts, np),
        hosts,
        agent,
        pmi_addr,
    }))
}

/// Everything needed to start the PEs of one job.
pub(super) struct Spawner<'a> {
    pub cli: &'a Cli,
    /// PROGRAM, resolved.
    pub program: &'a OsString,
    /// `-x` variables.
    pub extra_env: &'a Vec<(OsString, OsString)>,
    pub remote: &'a Option<Remote>,
    /// `addr:port` of the TCP PMI server (with `remote`).
    pub pmi_port: &'a Option<String>,
    pub kvsname: &'a String,
    /// The TCP PMI server's secret (with `remote`).
    pub secret: &'a Option<String>,
    pub cwd: &'a PathBuf,
    pub stdin_is_tty: bool,
    /// The launcher's pid (a PE whose parent is another has lost its launcher).
    pub my_pid: i32,
    pub server: &'a Arc<PmiServer>,
}

impl Spawner<'_> {
    /// Starts PE `rank`; for a local PE, serves its PMI socketpair on a new thread and
    /// keeps the parent end in `pmi_socks`.
    pub fn spawn(
        &self,
        rank: usize,
        binding: &Option<Binding>,
        pmi_socks: &mut Vec<UnixStream>,
    ) -> io::Result<Child> {
        let Spawner {
            cli,
            program,
            extra_env,
            remote,
            pmi_port,
            kvsname,
            secret,
            cwd,
            stdin_is_tty,
            my_pid,
            server,
        } = *self;
        let np = cli.np;
        if let (Some(r), Some(port)) = (&remote, &pmi_port) {
            let host = &r.hosts[r.placement[rank]];
            let mut env: Vec<(String, String)> = extra_env
                .iter()
                .map(|(k, v)| (k.to_string_lossy().into(), v.to_string_lossy().into()))
                .collect();
            env.extend([
                ("PMI_PORT".to_string(), port.clone()),
                ("PMI_ID".into(), rank.to_string()),
                ("PMI_RANK".into(), rank.to_string()),
                ("PMI_SIZE".into(), np.to_string()),
                ("PMI_JOBID".into(), kvsname.clone()),
                ("RSHMEM_LAUNCHER".into(), LAUNCHER_NAME.into()),
            ]);
            let argv = crate::hosts::agent_command(
                &r.agent,
                &host.name,
                &env,
                &program.to_string_lossy(),
                &cli.args,
                cwd,
            );
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]).env_remove("PMI_FD");
            // This PE's own token (HMAC of the job secret and its rank), never the
            // job secret itself: a token seen on the wire claims no other rank.
            let secret = secret
                .as_deref()
                .map(|m| crate::pmi::server::rank_token(m, rank))
                .unwrap_or_default();
            let on_stdin = crate::hosts::is_ssh_like(&r.agent);
            if on_stdin {
                // The remote command reads the secret from its first line of stdin.
                cmd.stdin(Stdio::piped()).env_remove(SECRET_VAR);
            } else {
                // A local agent (ip netns exec, scripts/local-agent.sh) passes its
                // environment on to the PE.
                cmd.env(SECRET_VAR, &secret);
                if rank != 0 || stdin_is_tty {
                    cmd.stdin(Stdio::null());
                }
            }
            // Always through the launcher, whole lines at a time (see below).
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            // SAFETY: async-signal-safe calls only, no allocation.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setpgid(0, 0) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    if libc::prctl(
                        libc::PR_SET_PDEATHSIG,
                        libc::SIGKILL as libc::c_ulong,
                        0 as libc::c_ulong,
                        0 as libc::c_ulong,
                        0 as libc::c_ulong,
                    ) != 0
                    {
                        return Err(io::Error::last_os_error());
                    }
                    if libc::getppid() != my_pid {
                        libc::raise(libc::SIGKILL);
                    }
                    Ok(())
                });
            }
            let mut child = cmd.spawn()?;
            if on_stdin {
                if let Some(mut w) = child.stdin.take() {
                    // An agent that already died is reported by its exit status.
                    let _ = w.write_all(format!("{secret}\n").as_bytes());
                    if rank == 0 && !stdin_is_tty {
                        // Rank 0 gets the launcher's stdin after the secret.
                        thread::spawn(move || {
                            let _ = io::copy(&mut io::stdin().lock(), &mut w);
                        });
                    }
                }
            }
            return Ok(child);
        }
        let (ours, theirs) = UnixStream::pair()?;
        let theirs = above_stdio(OwnedFd::from(theirs))?;
        let child_fd = theirs.as_raw_fd();

        let mut cmd = Command::new(program);
        cmd.arg0(&cli.program).args(&cli.args);
        cmd.env_remove("PMI_PORT")
            .env_remove("PMI_ID")
            .env_remove(SECRET_VAR);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.env("PMI_FD", child_fd.to_string())
            .env("PMI_RANK", rank.to_string())
            .env("PMI_SIZE", np.to_string())
            .env("PMI_JOBID", kvsname)
            .env("RSHMEM_LAUNCHER", LAUNCHER_NAME);
        if rank != 0 || stdin_is_tty {
            cmd.stdin(Stdio::null());
        }
        // Always through the launcher, whole lines at a time (see below).
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let cpuset = binding.as_ref().map(|b| b.cpu_set());
        // SAFETY: the closure only makes async-signal-safe system calls
        // and does not allocate.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setpgid(0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0 as libc::c_ulong,
                    0 as libc::c_ulong,
                    0 as libc::c_ulong,
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                if libc::getppid() != my_pid {
                    // The launcher died before PDEATHSIG was armed.
                    libc::raise(libc::SIGKILL);
                }
                if let Some(set) = &cpuset {
                    // Best effort: an impossible binding leaves the PE unbound.
                    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set);
                }
                let flags = libc::fcntl(child_fd, libc::F_GETFD);
                if flags < 0 || libc::fcntl(child_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0
                {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        drop(theirs);

        let reader = ours.try_clone()?;
        pmi_socks.push(ours.try_clone()?);
        let srv = server.clone();
        thread::Builder::new()
            .name(format!("pmi-{rank}"))
            .spawn(move || {
                srv.serve(
                    Connection::with_rank(rank, shared_writer(ours)),
                    BufReader::new(reader),
                )
            })?;
        Ok(child)
    }
}
