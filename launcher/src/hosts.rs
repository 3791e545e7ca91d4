//! Several nodes without a cluster manager: `--hosts` / `--hostfile`, placement of the PEs on
//! the hosts, the node of each PE (served as `PMI_process_mapping`, formatted by
//! `rshmem_pmi::ProcessMapping`), and the launch agent's command
//! line (`ssh host ...` by default, or any command such as `ip netns exec`).

use std::ffi::OsString;
use std::path::Path;

/// One host and how many PEs it takes per round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Name given to the launch agent.
    pub name: String,
    /// PEs placed on it per round (default 1).
    pub slots: usize,
}

fn parse_one(item: &str, what: &str) -> Result<Host, String> {
    let item = item.trim();
    let (name, slots) = match item.split_once(':') {
        Some((n, s)) => {
            let s: usize = s.trim().parse().map_err(|_| {
                format!("{what}: '{item}': the slot count after ':' must be a positive integer")
            })?;
            (n.trim(), s)
        }
        None => (item, 1),
    };
    if name.is_empty() {
        return Err(format!("{what}: empty host name in '{item}'"));
    }
    if slots == 0 {
        return Err(format!("{what}: '{item}': a host needs at least 1 slot"));
    }
    if name.contains(char::is_whitespace) {
        return Err(format!("{what}: '{name}' is not a host name"));
    }
    Ok(Host {
        name: name.to_string(),
        slots,
    })
}

/// A host named twice is one node: its slots add up (first position kept).
fn merge(hosts: Vec<Host>) -> Vec<Host> {
    let mut out: Vec<Host> = Vec::new();
    for h in hosts {
        match out.iter_mut().find(|o| o.name == h.name) {
            Some(o) => o.slots += h.slots,
            None => out.push(h),
        }
    }
    out
}

/// Parses `--hosts h1,h2:4,...`.
pub fn parse_hosts(list: &str) -> Result<Vec<Host>, String> {
    let hosts: Vec<Host> = list
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_one(s, "--hosts"))
        .collect::<Result<_, _>>()?;
    if hosts.is_empty() {
        return Err("--hosts: no host given (expected e.g. --hosts node1,node2:4)".into());
    }
    Ok(merge(hosts))
}

/// Reads a hostfile: one host per line as `name`, `name:N` or `name slots=N`; `#` starts a
/// comment.
pub fn read_hostfile(path: &Path) -> Result<Vec<Host>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--hostfile {}: cannot read it: {e}", path.display()))?;
    let mut hosts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let what = format!("--hostfile {} line {}", path.display(), i + 1);
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        let h = match words.next() {
            None => parse_one(first, &what)?,
            Some(w) => {
                let n = w
                    .strip_prefix("slots=")
                    .ok_or_else(|| format!("{what}: expected 'name slots=N', got '{line}'"))?;
                parse_one(&format!("{first}:{n}"), &what)?
            }
        };
        hosts.push(h);
    }
    if hosts.is_empty() {
        return Err(format!("--hostfile {}: no hosts in it", path.display()));
    }
    Ok(merge(hosts))
}

/// The host index of each of `np` PEs: each host takes `slots` consecutive PEs per round,
/// rounds repeat until every PE is placed (so hosts are oversubscribed only when `np`
/// exceeds the total slots).
pub fn place(hosts: &[Host], np: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(np);
    'outer: loop {
        for (i, h) in hosts.iter().enumerate() {
            for _ in 0..h.slots {
                if out.len() == np {
                    break 'outer;
                }
                out.push(i);
            }
        }
    }
    out
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// True for an ssh-like agent (`ssh`, `rsh`): one that gets the remote command as a shell
/// string, does not pass the launcher's environment on, and forwards its stdin. The PMI
/// secret reaches the PE through that stdin (see [`agent_command`]).
pub fn is_ssh_like(agent: &[String]) -> bool {
    let base = agent
        .first()
        .map(|a| {
            Path::new(a)
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    base == "ssh" || base == "rsh"
}

/// True for `ssh` itself (which takes `-T`; `rsh` has no pty option).
fn is_ssh(agent: &[String]) -> bool {
    agent
        .first()
        .is_some_and(|a| Path::new(a).file_name().is_some_and(|f| f == "ssh"))
}

/// The full command that starts one PE on `host` through `agent`: `agent... host env
/// VAR=VAL... program args...`. An ssh-like agent (`ssh`, `rsh`) gets the remote command as
/// one string, `exec /bin/sh -c '<script>'` (so the login shell does not matter; `ssh` also
/// gets `-T`: no pty to echo the secret), whose script first reads the PMI secret from the first line of its
/// stdin into `RSHMEM_PMI_SECRET` (the launcher writes it there: a secret on a command
/// line would be visible to every user of both machines) and changes to `cwd`; any other
/// agent (e.g. `ip netns exec`) gets it as separate arguments and keeps the launcher's
/// environment (where the launcher puts the secret) and directory.
pub fn agent_command(
    agent: &[String],
    host: &str,
    env: &[(String, String)],
    program: &str,
    args: &[OsString],
    cwd: &Path,
) -> Vec<OsString> {
    let mut v: Vec<OsString> = agent.iter().map(OsString::from).collect();
    if is_ssh(agent) {
        // No pty, whatever ~/.ssh/config says (`RequestTTY force`): a remote tty would echo
        // the secret line into the job's output.
        v.push("-T".into());
    }
    v.push(host.into());
    if is_ssh_like(agent) {
        let mut cmd = format!(
            "IFS= read -r RSHMEM_PMI_SECRET; export RSHMEM_PMI_SECRET; cd {} && exec env",
            shell_quote(&cwd.to_string_lossy())
        );
        for (k, val) in env {
            cmd.push(' ');
            cmd.push_str(&shell_quote(&format!("{k}={val}")));
        }
        cmd.push(' ');
        cmd.push_str(&shell_quote(program));
        for a in args {
            cmd.push(' ');
            cmd.push_str(&shell_quote(&a.to_string_lossy()));
        }
        // Run by /bin/sh whatever the user's login shell (csh or fish would not run
        // `IFS= read -r`, and the secret would stay in the PE's stdin).
        v.push(format!("exec /bin/sh -c {}", shell_quote(&cmd)).into());
    } else {
        v.push("env".into());
        for (k, val) in env {
            v.push(format!("{k}={val}").into());
        }
        v.push(program.into());
        v.extend(args.iter().cloned());
    }
    v
}

/// The address PEs on `hosts` should connect to: for a host name that resolves, the local
/// address the kernel would use to reach it; else the first non-loopback IPv4 address of
/// this machine; else 127.0.0.1.
pub fn default_pmi_addr(hosts: &[Host]) -> String {
    use std::net::{ToSocketAddrs, UdpSocket};
    for h in hosts {
        if h.name == "localhost" {
            continue;
        }
        if let Ok(mut addrs) = (h.name.as_str(), 22).to_socket_addrs() {
            if let Some(a) = addrs.find(|a| a.is_ipv4()) {
                if let Ok(s) = UdpSocket::bind("0.0.0.0:0") {
                    if s.connect(a).is_ok() {
                        if let Ok(l) = s.local_addr() {
                            return l.ip().to_string();
                        }
                    }
                }
            }
        }
    }
    "127.0.0.1".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_errors() {
        assert_eq!(
            parse_hosts("a,b:3").unwrap(),
            vec![
                Host {
                    name: "a".into(),
                    slots: 1
                },
                Host {
                    name: "b".into(),
                    slots: 3
                }
            ]
        );
        assert!(parse_hosts("").unwrap_err().contains("no host given"));
        assert!(parse_hosts("a:0").unwrap_err().contains("at least 1 slot"));
        assert!(parse_hosts("a:x").unwrap_err().contains("positive integer"));
        assert!(parse_hosts(":2").unwrap_err().contains("empty host name"));
        let dir = std::env::temp_dir().join(format!("rshmem-hostfile-{}", std::process::id()));
        std::fs::write(&dir, "# nodes\nn1 slots=2\nn2:3  # comment\n\nn3\n").unwrap();
        let h = read_hostfile(&dir).unwrap();
        assert_eq!(
            h.iter()
                .map(|h| (h.name.as_str(), h.slots))
                .collect::<Vec<_>>(),
            [("n1", 2), ("n2", 3), ("n3", 1)]
        );
        std::fs::write(&dir, "n1 cpus=2\n").unwrap();
        assert!(read_hostfile(&dir).unwrap_err().contains("line 1"));
        std::fs::remove_file(&dir).unwrap();
        assert!(read_hostfile(&dir).unwrap_err().contains("cannot read"));
    }

    #[test]
    fn placement_and_mapping() {
        let hs = parse_hosts("a:2,b:2").unwrap();
        assert_eq!(place(&hs, 4), [0, 0, 1, 1]);
        assert_eq!(place(&hs, 6), [0, 0, 1, 1, 0, 0]);
        assert_eq!(
            parse_hosts("a:1,b,a:2").unwrap(),
            parse_hosts("a:3,b").unwrap(),
            "a host named twice is one node"
        );
        let rr = parse_hosts("a,b").unwrap();
        assert_eq!(place(&rr, 3), [0, 1, 0]);
        // The node map served for these placements (formatted by rshmem-pmi).
        let mapping = |p: &[usize]| rshmem_pmi::ProcessMapping::from_placement(p).to_string();
        assert_eq!(mapping(&place(&hs, 4)), "(vector,(0,1,2),(1,1,2))");
        assert_eq!(mapping(&place(&rr, 3)), "(vector,(0,1,1),(1,1,1),(0,1,1))");
    }

    #[test]
    fn agent_commands() {
        let env = vec![("PMI_ID".to_string(), "3".to_string())];
        let args = vec![OsString::from("x y")];
        let ssh = agent_command(
            &["ssh".into()],
            "n1",
            &env,
            "/bin/prog",
            &args,
            Path::new("/w d"),
        );
        let script = "IFS= read -r RSHMEM_PMI_SECRET; export RSHMEM_PMI_SECRET; cd '/w d' && exec env PMI_ID=3 /bin/prog 'x y'";
        assert_eq!(
            ssh,
            [
                "ssh".to_string(),
                "-T".into(),
                "n1".into(),
                format!("exec /bin/sh -c {}", shell_quote(script)),
            ]
            .map(OsString::from)
        );
        // rsh has no -T; its command is wrapped the same way.
        let rsh = agent_command(
            &["/usr/bin/rsh".into()],
            "n1",
            &env,
            "/p",
            &[],
            Path::new("/"),
        );
        assert_eq!(rsh[1], "n1");
        assert!(rsh[2]
            .to_string_lossy()
            .starts_with("exec /bin/sh -c 'IFS= read -r"));
        // The wrapped command really runs under /bin/sh and reads the secret from stdin.
        let cmd = agent_command(
            &["ssh".into()],
            "n1",
            &[],
            "/bin/sh",
            &["-c".into(), "printf %s \"$RSHMEM_PMI_SECRET\"".into()],
            Path::new("/"),
        );
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd[3])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"abc123\nrest\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "abc123");
        let ns = agent_command(
            &["ip".into(), "netns".into(), "exec".into()],
            "ns1",
            &env,
            "/bin/prog",
            &args,
            Path::new("/w"),
        );
        assert_eq!(
            ns,
            [
                "ip",
                "netns",
                "exec",
                "ns1",
                "env",
                "PMI_ID=3",
                "/bin/prog",
                "x y"
            ]
            .map(OsString::from)
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
