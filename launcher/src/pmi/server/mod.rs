//! PMI-1 server: request handling, the shared key-value space and barriers.
//!
//! The server is transport-agnostic. Each connection (a socketpair end today, a
//! TCP socket for the `PMI_PORT` variant later) is driven by
//! [`PmiServer::serve`], which reads request lines, answers them through the
//! connection's writer and reports noteworthy events (init, finalize, abort,
//! connection closed) through the callback given to [`PmiServer::new`].
//!
//! All PEs share one key-value space, so a `put` is visible to every PE's `get`
//! as soon as it has been answered (and in particular after the next barrier).
//!
//! Trust: a connection whose rank is known up front ([`Connection::with_rank`], the
//! private socketpair of `PMI_FD`) is trusted. Any other connection
//! ([`Connection::anonymous`], TCP) must first send `cmd=initack pmiid=N secret=TOKEN`
//! with rank N's token ([`rank_token`] of the job's master secret, [`PmiServer::set_secret`];
//! without one every anonymous connection is refused); anything else, a wrong token or a
//! rank that is already claimed closes the connection and is counted
//! ([`PmiServer::refused`]). KVS commands need a rank that did `init`/`initack`. Limits:
//! [`MAX_LINE_LEN`](rshmem_pmi::MAX_LINE_LEN), [`KEYLEN_MAX`], [`VALLEN_MAX`],
//! [`MAX_KEYS_PER_RANK`], [`PREAUTH_LINE_MAX`] ([`PreAuthLimit`]); keys of the runtime's
//! per-rank form belong to that rank ([`key_rank`]), any other key put by one rank cannot be
//! replaced by another.
//!
//! Files: `limits.rs` (sizes, [`PreAuthLimit`], [`key_rank`]), `auth.rs` (secret and
//! per-rank tokens), `conn.rs` ([`Connection`] and the read loop [`PmiServer::serve`]),
//! `handle.rs` (request dispatch [`PmiServer::handle`]); this file holds the shared state
//! (KVS, barrier, per-PE progress) and the server's accessors.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use rshmem_pmi::{sanitize_value, Message, ProcessMapping};

mod auth;
mod conn;
mod handle;
mod limits;
#[cfg(test)]
mod tests;

pub use auth::{ct_eq, new_secret, rank_token, SECRET_BYTES};
pub use conn::{shared_writer, Connection, SharedWriter};
pub use limits::{
    key_rank, PreAuthLimit, KEYLEN_MAX, KVSNAME_MAX, MAX_KEYS_PER_RANK, PREAUTH_LINE_MAX,
    VALLEN_MAX,
};

/// Something the launcher may want to react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// PE `rank` completed `cmd=init`.
    Initialized(usize),
    /// PE `rank` sent `cmd=finalize`.
    Finalized(usize),
    /// PE `rank` sent `cmd=abort exitcode=code`.
    Abort {
        /// PE that aborted.
        rank: usize,
        /// Requested exit code (1 if missing or unparsable).
        code: i32,
    },
    /// The connection of PE `rank` reached end-of-file or failed.
    Closed(usize),
}

/// Per-PE PMI progress as seen by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeState {
    /// A connection holds this rank (socketpair, or an authenticated `initack`).
    pub claimed: bool,
    /// `cmd=init` (or `cmd=initack`) was received.
    pub initialized: bool,
    /// `cmd=finalize` was received.
    pub finalized: bool,
    /// `cmd=abort` was received.
    pub aborted: bool,
    /// The connection is closed.
    pub closed: bool,
}

struct State {
    /// Key -> (value, rank that put it).
    kvs: HashMap<String, (String, usize)>,
    /// Keys put by each rank.
    keys_of: Vec<usize>,
    /// Insertion order of keys, for `getbyidx`.
    order: Vec<String>,
    in_barrier: Vec<bool>,
    barrier_count: usize,
    pes: Vec<PeState>,
}

type EventFn = Box<dyn Fn(ServerEvent) + Send + Sync>;

/// The PMI-1 server for one job.
pub struct PmiServer {
    kvsname: String,
    size: usize,
    state: Mutex<State>,
    writers: Vec<Mutex<Option<SharedWriter>>>,
    on_event: EventFn,
    /// `PMI_process_mapping`; `None`: every PE on one node.
    mapping: Option<ProcessMapping>,
    /// The secret an anonymous connection must send with `initack` (hex).
    secret: Option<String>,
    /// Connections closed for not proving the secret, bad first lines, claimed ranks.
    refused: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn rc_err(cmd: &str, msg: impl AsRef<str>) -> Message {
    Message::new(cmd)
        .with("rc", -1)
        .with("msg", sanitize_value(msg.as_ref()))
}

fn write_all(w: &SharedWriter, msgs: &[Message]) -> io::Result<()> {
    if msgs.is_empty() {
        return Ok(());
    }
    let mut buf = String::new();
    for m in msgs {
        buf.push_str(&m.to_line());
    }
    let mut g = lock(w);
    g.write_all(buf.as_bytes())?;
    g.flush()
}

impl PmiServer {
    /// Creates a server for a job of `size` PEs in key-value space `kvsname`.
    /// `on_event` is called (from connection threads) for every [`ServerEvent`].
    pub fn new(
        kvsname: impl Into<String>,
        size: usize,
        on_event: impl Fn(ServerEvent) + Send + Sync + 'static,
    ) -> Self {
        PmiServer {
            kvsname: kvsname.into(),
            size,
            state: Mutex::new(State {
                kvs: HashMap::new(),
                keys_of: vec![0; size],
                order: Vec::new(),
                in_barrier: vec![false; size],
                barrier_count: 0,
                pes: vec![PeState::default(); size],
            }),
            writers: (0..size).map(|_| Mutex::new(None)).collect(),
            on_event: Box::new(on_event),
            mapping: None,
            secret: None,
            refused: AtomicUsize::new(0),
        }
    }

    /// Accepts anonymous connections that send, in their `initack`, the token of the rank
    /// they claim ([`rank_token`] of this master secret). Without a secret the server
    /// refuses every anonymous connection (socketpair connections need none).
    pub fn set_secret(&mut self, secret: String) {
        self.secret = Some(secret);
    }

    /// Number of connections refused so far (no or wrong secret, rank already claimed,
    /// anything but `initack` first, closed or timed out before authenticating, over the
    /// connection limit).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    /// Counts one more refused connection (e.g. over the connection limit).
    pub fn count_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    fn refuse(&self, conn: &mut Connection, cmd: &str, why: &str) -> Vec<Message> {
        conn.close = true;
        self.count_refused();
        vec![rc_err(cmd, why)]
    }

    /// Serves `mapping` as `PMI_process_mapping` (PEs on several nodes) instead of one node.
    pub fn set_process_mapping(&mut self, mapping: ProcessMapping) {
        self.mapping = Some(mapping);
    }

    /// The job's kvsname.
    pub fn kvsname(&self) -> &str {
        &self.kvsname
    }

    /// Number of PEs in the job.
    pub fn size(&self) -> usize {
        self.size
    }

    /// PMI progress of PE `rank`.
    pub fn pe_state(&self, rank: usize) -> PeState {
        lock(&self.state).pes[rank]
    }

    /// The value some PE stored under `key`, if any (the launcher reads the runtime's
    /// `rshmem-exit-<pe>` keys to name the PE that ended a job).
    pub fn lookup(&self, key: &str) -> Option<String> {
        lock(&self.state).kvs.get(key).map(|(v, _)| v.clone())
    }

    /// Registers `conn`'s writer as the one for its rank (needed so that
    /// `barrier_out` reaches it). Done automatically by [`serve`](Self::serve)
    /// for connections with a known rank and on `initack`.
    pub fn register(&self, conn: &Connection) {
        if let Some(r) = conn.rank {
            lock(&self.state).pes[r].claimed = true;
            *lock(&self.writers[r]) = Some(conn.writer.clone());
        }
    }
}
