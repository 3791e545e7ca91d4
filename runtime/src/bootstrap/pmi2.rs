//! PMI-2 client (wire protocol of Slurm's `--mpi=pmi2` plugin and of MPICH's Hydra).
//!
//! Connection: the inherited fd `PMI_FD`. The first line is PMI-1 style,
//! `cmd=init pmi_version=2 pmi_subversion=0\n`, answered by `cmd=response_to_init ...
//! rc=0`; a server that only speaks PMI-1 (rshmemrun) answers `rc=-1` or `pmi_version=1`,
//! and [`connect`] then continues on the same connection with PMI-1 (see [`Negotiated`]).
//! From then on every message is a 6-character decimal length (Slurm left-justifies it,
//! Hydra right-justifies it: both are accepted) followed by `cmd=NAME;key=value;...;`:
//! `fullinit` (with `pmijobid=$PMI_JOBID` when set: Slurm requires it, Hydra sets no
//! `PMI_JOBID`), `kvs-put`, `kvs-fence`, `kvs-get`, `info-getjobattr`, `finalize`, `abort`.
//! Neither server honours `;;` escaping, so values never contain `;` (rshmem's are hex).
use super::pmi1::{self, Pmi1};
use super::Kvs;
use crate::error::{Error, Result};
use rshmem_pmi::pmi2::{format_body, frame, parse_len};
use rshmem_pmi::Message;
use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

type Reader = BufReader<Box<dyn Read + Send>>;
type Writer = Box<dyn Write + Send>;

/// A connected PMI-2 client.
pub struct Pmi2 {
    reader: Reader,
    writer: Writer,
    rank: usize,
    size: usize,
    jobid: String,
    address: String,
}

/// What the version negotiation on `PMI_FD` ended with.
pub enum Negotiated {
    /// The server speaks PMI-2.
    Pmi2(Pmi2),
    /// The server refused PMI-2; this PMI-1 client continues on the same connection.
    Pmi1(Pmi1),
}

fn perr(msg: String) -> Error {
    Error::Bootstrap {
        protocol: "pmi2",
        msg,
    }
}

/// Connects on `PMI_FD`, offering PMI-2. With `allow_pmi1`, a server that declines
/// PMI-2 is spoken to in PMI-1 on the same connection; without it, declining is an error.
pub fn connect(allow_pmi1: bool) -> Result<Negotiated> {
    let fd = match std::env::var("PMI_FD") {
        Ok(v) => v
            .trim()
            .parse::<i32>()
            .map_err(|_| perr(format!("PMI_FD={v:?} is not a file descriptor number")))?,
        Err(_) => {
            let why = if std::env::var_os("PMI_PORT").is_some() {
                "PMI_FD is not set (PMI_PORT is: rshmem speaks PMI-2 only over PMI_FD; use RSHMEM_BOOTSTRAP=pmi1)"
            } else {
                "PMI_FD is not set: not started by a PMI-2 launcher (srun --mpi=pmi2, mpiexec.hydra)"
            };
            return Err(perr(why.into()));
        }
    };
    let (file, w) = pmi1::open_fd(fd, "pmi2")?;
    let timeout = super::timeout();
    let address = format!("PMI_FD={fd}");
    pmi1::set_fd_timeout(fd, Some(timeout));
    let mut reader: Reader = BufReader::new(Box::new(file));
    let mut writer: Writer = Box::new(w);
    let timed_out = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    };
    let hs_err = |what: &str, e: std::io::Error| {
        if timed_out(&e) {
            perr(format!(
                "no answer from the PMI server at {address} within {:.0} s (RSHMEM_BOOTSTRAP_TIMEOUT) to {what}",
                timeout.as_secs_f64()
            ))
        } else {
            perr(format!("{what} on {address}: {e}"))
        }
    };
    writer
        .write_all(b"cmd=init pmi_version=2 pmi_subversion=0\n")
        .and_then(|_| writer.flush())
        .map_err(|e| hs_err("sending cmd=init", e))?;
    let mut line = String::new();
    let n = reader
        .read_line(&mut line)
        .map_err(|e| hs_err("waiting for response_to_init", e))?;
    if n == 0 {
        return Err(perr(format!(
            "the PMI server at {address} closed the connection during init"
        )));
    }
    let m = Message::parse(&line)
        .map_err(|e| perr(format!("{e} in {:?} ({address})", line.trim_end())))?;
    let v2 = m.cmd == "response_to_init" && m.rc() == 0 && m.get("pmi_version") == Some("2");
    if !v2 {
        if !allow_pmi1 {
            return Err(perr(format!(
                "the PMI server at {address} does not speak PMI-2 (answered {:?}); use RSHMEM_BOOTSTRAP=pmi1",
                line.trim_end()
            )));
        }
        let rank = pmi1::env_usize("PMI_RANK", "pmi1")?
            .ok_or_else(|| perr("PMI_FD is set but PMI_RANK is not".into()))?;
        let size = pmi1::env_usize("PMI_SIZE", "pmi1")?
            .ok_or_else(|| perr("PMI_FD is set but PMI_SIZE is not".into()))?;
        let p = Pmi1::from_parts(reader, writer, rank, size, address, Some(fd))?;
        return Ok(Negotiated::Pmi1(p));
    }
    let mut me = Pmi2 {
        reader,
        writer,
        rank: 0,
        size: 0,
        jobid: String::new(),
        address,
    };
    me.fullinit()?;
    pmi1::set_fd_timeout(fd, None);
    Ok(Negotiated::Pmi2(me))
}

impl Pmi2 {
    fn err(&self, msg: String) -> Error {
        perr(format!("{msg} (server {})", self.address))
    }

    fn send(&mut self, cmd: &str, pairs: &[(&str, &str)]) -> Result<()> {
        let msg = format_body(cmd, pairs)
            .and_then(|b| frame(&b))
            .map_err(|e| self.err(e.to_string()))?;
        let r = self
            .writer
            .write_all(msg.as_bytes())
            .and_then(|_| self.writer.flush());
        r.map_err(|e| self.err(format!("sending cmd={cmd}: {e}")))
    }

    fn recv(&mut self) -> Result<Message> {
        let mut len = [0u8; 6];
        let io = |me: &Self, e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                me.err(
                    "the PMI server closed the connection (the launcher is gone or killed the job)"
                        .into(),
                )
            } else if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                me.err("no answer from the PMI server within RSHMEM_BOOTSTRAP_TIMEOUT".into())
            } else {
                me.err(format!("reading from the PMI server: {e}"))
            }
        };
        if let Err(e) = self.reader.read_exact(&mut len) {
            return Err(io(self, e));
        }
        let n = parse_len(&len).ok_or_else(|| {
            self.err(format!(
                "bad PMI-2 length field {:?}",
                String::from_utf8_lossy(&len)
            ))
        })?;
        let mut body = vec![0u8; n];
        if let Err(e) = self.reader.read_exact(&mut body) {
            return Err(io(self, e));
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        Message::parse_pmi2(&body).map_err(|e| self.err(format!("{e} in PMI-2 message {body:?}")))
    }

    fn call(&mut self, cmd: &str, pairs: &[(&str, &str)]) -> Result<Message> {
        self.send(cmd, pairs)?;
        let reply = format!("{cmd}-response");
        let m = self.recv()?;
        if m.cmd != reply {
            return Err(self.err(format!(
                "expected cmd={reply} in reply to cmd={cmd}, got {m:?}"
            )));
        }
        Ok(m)
    }

    fn fullinit(&mut self) -> Result<()> {
        let jobid = std::env::var("PMI_JOBID").ok();
        let rank = std::env::var("PMI_RANK").ok();
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(j) = &jobid {
            pairs.push(("pmijobid", j));
        }
        if let Some(r) = &rank {
            pairs.push(("pmirank", r));
        }
        pairs.push(("threaded", "FALSE"));
        let m = self.call("fullinit", &pairs)?;
        if m.rc() != 0 {
            return Err(self.err(format!(
                "fullinit refused (rc={}{}): {m:?}",
                m.rc(),
                if jobid.is_none() {
                    ", PMI_JOBID is not set"
                } else {
                    ""
                }
            )));
        }
        let num = |k: &str| m.get(k).and_then(|v| v.parse::<usize>().ok());
        let (Some(rank), Some(size)) = (num("rank"), num("size")) else {
            return Err(self.err(format!(
                "fullinit-response without a valid rank and size: {m:?}"
            )));
        };
        self.rank = rank;
        self.size = size;
        if self.size == 0 || self.rank >= self.size {
            return Err(self.err(format!(
                "fullinit-response gives rank {} of {}",
                self.rank, self.size
            )));
        }
        self.jobid = match jobid {
            Some(j) => j,
            None => {
                let r = self.call("job-getid", &[])?;
                match r.get("jobid") {
                    Some(j) if r.rc() == 0 => j.to_string(),
                    _ => return Err(self.err(format!("job-getid failed: {r:?}"))),
                }
            }
        };
        Ok(())
    }
}

impl Kvs for Pmi2 {
    fn protocol(&self) -> &'static str {
        "pmi2"
    }
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn job_id(&self) -> &str {
        &self.jobid
    }
    fn maxes(&self) -> (usize, usize) {
        // PMI2_MAX_KEYLEN and PMI2_MAX_VALLEN of both servers.
        (64, 1024)
    }
    fn put_raw(&mut self, key: &str, value: &str) -> Result<()> {
        let m = self.call("kvs-put", &[("key", key), ("value", value)])?;
        if m.rc() != 0 {
            return Err(self.err(format!("kvs-put of key {key:?} failed: {m:?}")));
        }
        Ok(())
    }
    fn get_raw(&mut self, key: &str) -> Result<Option<String>> {
        let jobid = self.jobid.clone();
        let m = self.call(
            "kvs-get",
            &[("jobid", &jobid), ("srcid", "-1"), ("key", key)],
        )?;
        if m.rc() != 0 || m.get("found") != Some("TRUE") {
            return Ok(None);
        }
        Ok(Some(m.get("value").unwrap_or("").to_string()))
    }
    fn barrier(&mut self) -> Result<()> {
        let m = self.call("kvs-fence", &[])?;
        if m.rc() != 0 {
            return Err(self.err(format!("kvs-fence failed: {m:?}")));
        }
        Ok(())
    }
    fn process_mapping(&mut self) -> Option<Vec<usize>> {
        let m = self
            .call("info-getjobattr", &[("key", "PMI_process_mapping")])
            .ok()?;
        if m.rc() != 0 || m.get("found") != Some("TRUE") {
            return None;
        }
        rshmem_pmi::parse_process_mapping(m.get("value")?, self.size)
    }
    fn abort(&mut self, code: i32) -> ! {
        let msg = format!("rshmem_PE_{}_aborted_with_status_{code}", self.rank);
        let _ = self.send("abort", &[("isworld", "TRUE"), ("msg", &msg)]);
        std::thread::sleep(Duration::from_millis(200));
        std::process::exit(code)
    }
    fn finalize(&mut self) -> Result<()> {
        self.call("finalize", &[]).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake PMI-2 server on a socket pair, answering like Slurm (left-justified lengths).
    #[test]
    fn client_against_fake_slurm_server() {
        use std::os::unix::net::UnixStream;
        let (client, mut server) = UnixStream::pair().unwrap();
        let srv = std::thread::spawn(move || {
            let mut r = BufReader::new(server.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            assert_eq!(line, "cmd=init pmi_version=2 pmi_subversion=0\n");
            server
                .write_all(b"cmd=response_to_init pmi_version=2 pmi_subversion=0 rc=0\n")
                .unwrap();
            let mut store = std::collections::HashMap::new();
            loop {
                let mut len = [0u8; 6];
                if r.read_exact(&mut len).is_err() {
                    break;
                }
                let mut body = vec![0u8; parse_len(&len).unwrap()];
                r.read_exact(&mut body).unwrap();
                let m = Message::parse_pmi2(std::str::from_utf8(&body).unwrap()).unwrap();
                let reply = match m.cmd.as_str() {
                    "fullinit" => {
                        assert_eq!(m.get("pmijobid"), Some("5.0"));
                        "cmd=fullinit-response;rc=0;pmi-version=2;pmi-subversion=0;rank=1;size=2;appnum=-1;debugged=FALSE;pmiverbose=FALSE;".to_string()
                    }
                    "kvs-put" => {
                        store.insert(
                            m.get("key").unwrap().to_string(),
                            m.get("value").unwrap().to_string(),
                        );
                        "cmd=kvs-put-response;rc=0;".into()
                    }
                    "kvs-fence" => "cmd=kvs-fence-response;rc=0;".into(),
                    "kvs-get" => match store.get(m.get("key").unwrap()) {
                        Some(v) => format!("cmd=kvs-get-response;rc=0;found=TRUE;value={v};"),
                        None => "cmd=kvs-get-response;rc=0;found=FALSE;".into(),
                    },
                    "info-getjobattr" => {
                        "cmd=info-getjobattr-response;rc=0;found=TRUE;value=(vector,(0,1,2));"
                            .into()
                    }
                    "finalize" => "cmd=finalize-response;rc=0;".into(),
                    other => panic!("unexpected {other}"),
                };
                server
                    .write_all(format!("{:<6}{reply}", reply.len()).as_bytes())
                    .unwrap();
            }
        });
        let w = client.try_clone().unwrap();
        let mut reader: Reader = BufReader::new(Box::new(client));
        let mut writer: Writer = Box::new(w);
        writer
            .write_all(b"cmd=init pmi_version=2 pmi_subversion=0\n")
            .unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let mut p = Pmi2 {
            reader,
            writer,
            rank: 0,
            size: 0,
            jobid: "5.0".into(),
            address: "test".into(),
        };
        let pairs = [("pmijobid", "5.0"), ("pmirank", "1")];
        let m = p.call("fullinit", &pairs).unwrap();
        assert_eq!(m.get("size"), Some("2"));
        p.rank = 1;
        p.size = 2;
        super::super::put(&mut p, "seg", &[1, 2, 3, 255]).unwrap();
        p.barrier().unwrap();
        assert_eq!(
            super::super::get(&mut p, 1, "seg").unwrap(),
            vec![1, 2, 3, 255]
        );
        assert_eq!(p.get_raw("nope").unwrap(), None);
        assert_eq!(p.process_mapping(), Some(vec![0, 0]));
        assert!(p.put_raw("k", "a;b").is_err());
        p.finalize().unwrap();
        drop(p);
        srv.join().unwrap();
    }
}
