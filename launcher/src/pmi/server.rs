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
//! [`MAX_LINE_LEN`], [`KEYLEN_MAX`], [`VALLEN_MAX`], [`MAX_KEYS_PER_RANK`],
//! [`PREAUTH_LINE_MAX`] ([`PreAuthLimit`]); keys of the runtime's per-rank form belong to
//! that rank ([`key_rank`]), any other key put by one rank cannot be replaced by another.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rshmem_pmi::{
    hex_encode, sanitize_value, Line, LineReader, Message, ProcessMapping, MAX_LINE_LEN,
};

/// Longest kvsname the server advertises (`kvsname_max`).
pub const KVSNAME_MAX: usize = 256;
/// Longest key accepted by `put` (`keylen_max`).
pub const KEYLEN_MAX: usize = 64;
/// Longest value accepted by `put` (`vallen_max`).
pub const VALLEN_MAX: usize = 1024;
/// Most keys one rank may put (a put beyond is refused with a clear error).
pub const MAX_KEYS_PER_RANK: usize = 1024;
/// Length in bytes of a job secret ([`new_secret`]): 128 bits, sent as 32 hex digits.
pub const SECRET_BYTES: usize = 16;

/// A fresh random job secret as lowercase hex (from the OS's random source).
pub fn new_secret() -> io::Result<String> {
    let mut b = [0u8; SECRET_BYTES];
    getrandom::getrandom(&mut b).map_err(|e| io::Error::other(format!("getrandom: {e}")))?;
    Ok(hex_encode(&b))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut d = 0u8;
    for (x, y) in a.iter().zip(b) {
        d |= x ^ y;
    }
    std::hint::black_box(d) == 0
}

/// The token of rank `rank` in a job whose master secret is `master` (hex):
/// `HMAC-SHA256(master, decimal rank)` as 64 lowercase hex digits. Each PE gets only its
/// own token (as `RSHMEM_PMI_SECRET`), so a token sniffed from one PE's `initack` claims
/// no other rank.
pub fn rank_token(master: &str, rank: usize) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(master.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(rank.to_string().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Longest line an unauthenticated connection may send (its `initack` is about 110 bytes).
pub const PREAUTH_LINE_MAX: usize = 256;

/// A reader for a connection that has not authenticated yet: as soon as a line runs past
/// [`PREAUTH_LINE_MAX`] bytes without a newline it fails with `InvalidData` (the server
/// answers and closes) instead of reading on until a newline that may never come. Once
/// `authed` is set it passes everything through.
pub struct PreAuthLimit<R> {
    inner: R,
    authed: Arc<std::sync::atomic::AtomicBool>,
    run: usize,
}

impl<R> PreAuthLimit<R> {
    /// Wraps `inner`; `authed` is set by the connection's `on_authenticated` callback.
    pub fn new(inner: R, authed: Arc<std::sync::atomic::AtomicBool>) -> Self {
        PreAuthLimit {
            inner,
            authed,
            run: 0,
        }
    }
}

impl<R: io::Read> io::Read for PreAuthLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.authed.load(Ordering::Acquire) {
            for &b in &buf[..n] {
                self.run = if b == b'\n' { 0 } else { self.run + 1 };
                if self.run > PREAUTH_LINE_MAX {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "line too long before authentication",
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// The rank a key of the runtime's form `rshmem-<name>[.<generation>]-<rank>[-...]` is
/// reserved for (`rshmem-seg-3-0`, `rshmem-seg.2-3-n`, `rshmem-exit-3`), if it has that
/// form. Only that rank may put such a key.
pub fn key_rank(key: &str) -> Option<usize> {
    let rest = key.strip_prefix("rshmem-")?;
    let mut parts = rest.split('-');
    let name = parts.next()?;
    let rank = parts.next()?;
    if name.is_empty() || rank.is_empty() || !rank.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rank.parse().ok()
}

/// A connection's writer, shared so that barrier completion can answer every PE.
pub type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// Wraps any writer into a [`SharedWriter`].
pub fn shared_writer<W: Write + Send + 'static>(w: W) -> SharedWriter {
    Arc::new(Mutex::new(Box::new(w)))
}

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

/// Per-connection state, owned by whoever drives the connection.
pub struct Connection {
    rank: Option<usize>,
    writer: SharedWriter,
    /// `init` or an accepted `initack` was received on this connection.
    initialized: bool,
    /// The server decided to close this connection (failed authentication).
    close: bool,
    /// Called once when an anonymous connection authenticates (e.g. to lift the
    /// socket's pre-authentication read timeout).
    on_auth: Option<Box<dyn FnOnce() + Send>>,
}

impl Connection {
    /// A connection whose rank is known up front (socketpair launch).
    pub fn with_rank(rank: usize, writer: SharedWriter) -> Self {
        Connection {
            rank: Some(rank),
            writer,
            initialized: false,
            close: false,
            on_auth: None,
        }
    }

    /// A connection whose rank will be learnt from `cmd=initack pmiid=ID`.
    pub fn anonymous(writer: SharedWriter) -> Self {
        Connection {
            rank: None,
            writer,
            initialized: false,
            close: false,
            on_auth: None,
        }
    }

    /// The rank of this connection, if known.
    pub fn rank(&self) -> Option<usize> {
        self.rank
    }

    /// Runs `f` once this (anonymous) connection proves the secret and claims its rank.
    pub fn on_authenticated(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.on_auth = Some(Box::new(f));
        self
    }

    /// The server closed (or will close) this connection: it failed to authenticate.
    pub fn closed_by_server(&self) -> bool {
        self.close
    }
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

    /// Serves one connection until end-of-file or a read error, answering on
    /// `conn`'s writer. Emits [`ServerEvent::Closed`] at the end if the rank is
    /// known.
    pub fn serve<R: BufRead>(&self, mut conn: Connection, reader: R) {
        self.register(&conn);
        let mut lines = LineReader::new(reader);
        loop {
            let anonymous = conn.rank.is_none();
            let replies = match lines.read_line() {
                // A pre-authentication line ran past PREAUTH_LINE_MAX (see PreAuthLimit).
                Err(e) if anonymous && e.kind() == io::ErrorKind::InvalidData => self.refuse(
                    &mut conn,
                    "error",
                    "line_too_long_before_authentication:_send_cmd=initack_pmiid=N_secret=HEX_first",
                ),
                Ok(None) | Err(_) => break,
                // Before authenticating, any line that is not a well-formed request ends
                // the connection.
                Ok(Some(Line::Text(l))) if anonymous && Message::parse(&l).is_err() => self.refuse(
                    &mut conn,
                    "error",
                    "send_cmd=initack_pmiid=N_secret=HEX_first",
                ),
                Ok(Some(Line::TooLong(_)) | Some(Line::InvalidUtf8(_))) if anonymous => self
                    .refuse(
                        &mut conn,
                        "error",
                        "send_cmd=initack_pmiid=N_secret=HEX_first",
                    ),
                // Blank lines are ignored rather than answered, so that a stray
                // newline from a client cannot desynchronise request/reply pairs.
                Ok(Some(Line::Text(l))) if l.trim().is_empty() => continue,
                Ok(Some(Line::Text(l))) => match Message::parse(&l) {
                    Ok(msg) => self.handle(&mut conn, &msg),
                    Err(e) => vec![rc_err("error", e.to_string())],
                },
                Ok(Some(Line::TooLong(n))) => vec![rc_err(
                    "error",
                    format!("line_too_long_({n}_bytes,_max_{MAX_LINE_LEN})"),
                )],
                Ok(Some(Line::InvalidUtf8(_))) => vec![rc_err("error", "line_is_not_valid_utf8")],
            };
            // A failed write means the PE is gone; keep reading until EOF so that
            // the close is observed consistently.
            let _ = write_all(&conn.writer, &replies);
            if conn.close {
                return;
            }
        }
        match conn.rank {
            Some(r) => {
                lock(&self.state).pes[r].closed = true;
                (self.on_event)(ServerEvent::Closed(r));
            }
            // Closed, or timed out, without ever proving the secret: refused too.
            None => self.count_refused(),
        }
    }

    fn check_kvsname(&self, cmd: &str, msg: &Message) -> Option<Message> {
        match msg.get("kvsname") {
            Some(k) if k != self.kvsname => Some(rc_err(cmd, format!("unknown_kvsname_{k}"))),
            _ => None,
        }
    }

    /// Handles one request and returns the replies for the requesting
    /// connection (possibly none). Barrier completion writes `barrier_out` to
    /// every registered connection directly.
    pub fn handle(&self, conn: &mut Connection, msg: &Message) -> Vec<Message> {
        if conn.rank.is_none() && msg.cmd != "initack" {
            // Nothing but the introduction before the connection proved the secret.
            let reply = format!("{}_result", sanitize_value(&msg.cmd));
            return self.refuse(
                conn,
                &reply,
                "not_authenticated:_send_cmd=initack_pmiid=N_secret=HEX_first",
            );
        }
        let kvs_cmd = matches!(msg.cmd.as_str(), "put" | "get" | "getbyidx" | "barrier_in");
        if kvs_cmd && !conn.initialized {
            let reply = match msg.cmd.as_str() {
                "put" => "put_result",
                "get" => "get_result",
                "getbyidx" => "getbyidx_results",
                _ => "barrier_out",
            };
            return vec![rc_err(reply, "rank_not_initialized_(send_cmd=init_first)")];
        }
        let need_rank = |cmd: &str| -> Result<usize, Message> {
            conn.rank
                .ok_or_else(|| rc_err(cmd, "rank_unknown_(send_cmd=initack_pmiid=ID_first)"))
        };
        match msg.cmd.as_str() {
            "init" => {
                let ver = msg.get("pmi_version").unwrap_or("1");
                let ok = ver == "1";
                if ok {
                    conn.initialized = true;
                    if let Some(r) = conn.rank {
                        lock(&self.state).pes[r].initialized = true;
                        (self.on_event)(ServerEvent::Initialized(r));
                    }
                }
                vec![Message::new("response_to_init")
                    .with("pmi_version", 1)
                    .with("pmi_subversion", 1)
                    .with("rc", if ok { 0 } else { -1 })]
            }
            "initack" => {
                let id = msg.get("pmiid").and_then(|s| s.parse::<usize>().ok());
                let rank = match (conn.rank, id) {
                    (Some(r), _) => r,
                    (None, id) => {
                        // Without a secret this server takes no anonymous connection.
                        let Some(secret) = &self.secret else {
                            return self.refuse(
                                conn,
                                "initack",
                                "this_server_takes_no_anonymous_connections",
                            );
                        };
                        let given = msg.get("secret").unwrap_or("");
                        if given.is_empty() {
                            return self.refuse(
                                conn,
                                "initack",
                                "missing_secret_(this_job_requires_secret=HEX_from_RSHMEM_PMI_SECRET)",
                            );
                        }
                        let Some(id) = id.filter(|&i| i < self.size) else {
                            return self.refuse(conn, "initack", "invalid_or_missing_pmiid");
                        };
                        // Each rank has its own token: the one of rank `id` and no other.
                        let want = rank_token(secret, id);
                        if !ct_eq(given.as_bytes(), want.as_bytes()) {
                            return self.refuse(conn, "initack", "wrong_secret");
                        }
                        {
                            let mut st = lock(&self.state);
                            if st.pes[id].claimed {
                                drop(st);
                                return self.refuse(
                                    conn,
                                    "initack",
                                    &format!("rank_{id}_is_already_claimed_by_another_connection"),
                                );
                            }
                            st.pes[id].claimed = true;
                        }
                        id
                    }
                };
                conn.rank = Some(rank);
                conn.initialized = true;
                if let Some(f) = conn.on_auth.take() {
                    f();
                }
                self.register(conn);
                {
                    let mut st = lock(&self.state);
                    st.pes[rank].initialized = true;
                }
                (self.on_event)(ServerEvent::Initialized(rank));
                vec![
                    Message::new("initack").with("rc", 0),
                    Message::new("set").with("size", self.size),
                    Message::new("set").with("rank", rank),
                    Message::new("set").with("debug", 0),
                ]
            }
            "get_maxes" => vec![Message::new("maxes")
                .with("kvsname_max", KVSNAME_MAX)
                .with("keylen_max", KEYLEN_MAX)
                .with("vallen_max", VALLEN_MAX)],
            "get_my_kvsname" => {
                vec![Message::new("my_kvsname").with("kvsname", &self.kvsname)]
            }
            "get_universe_size" => vec![Message::new("universe_size").with("size", self.size)],
            "get_appnum" => vec![Message::new("appnum").with("appnum", 0)],
            "put" => {
                const C: &str = "put_result";
                if let Some(e) = self.check_kvsname(C, msg) {
                    return vec![e];
                }
                let Some(key) = msg.get("key") else {
                    return vec![rc_err(C, "missing_key")];
                };
                let Some(value) = msg.get("value") else {
                    return vec![rc_err(C, "missing_value")];
                };
                if key.is_empty() {
                    return vec![rc_err(C, "empty_key")];
                }
                if key.len() > KEYLEN_MAX {
                    return vec![rc_err(
                        C,
                        format!("key_length_{}_exceeds_keylen_max_{KEYLEN_MAX}", key.len()),
                    )];
                }
                if value.len() > VALLEN_MAX {
                    return vec![rc_err(
                        C,
                        format!(
                            "value_length_{}_exceeds_vallen_max_{VALLEN_MAX}",
                            value.len()
                        ),
                    )];
                }
                let Some(rank) = conn.rank else {
                    return vec![rc_err(C, "rank_unknown")];
                };
                if let Some(owner) = key_rank(key).filter(|&r| r != rank) {
                    return vec![rc_err(C, format!("key_{key}_is_reserved_for_rank_{owner}"))];
                }
                let mut st = lock(&self.state);
                match st.kvs.get(key) {
                    Some((_, owner)) if *owner != rank => {
                        let owner = *owner;
                        return vec![rc_err(
                            C,
                            format!("key_{key}_belongs_to_rank_{owner}_and_cannot_be_replaced"),
                        )];
                    }
                    Some(_) => {}
                    None => {
                        if st.keys_of[rank] >= MAX_KEYS_PER_RANK {
                            return vec![rc_err(
                                C,
                                format!(
                                    "rank_{rank}_already_put_{MAX_KEYS_PER_RANK}_keys_(the_limit)"
                                ),
                            )];
                        }
                        st.keys_of[rank] += 1;
                        st.order.push(key.to_string());
                    }
                }
                st.kvs.insert(key.to_string(), (value.to_string(), rank));
                vec![Message::new(C).with("rc", 0).with("msg", "success")]
            }
            "get" => {
                const C: &str = "get_result";
                if let Some(e) = self.check_kvsname(C, msg) {
                    return vec![e];
                }
                let Some(key) = msg.get("key") else {
                    return vec![rc_err(C, "missing_key")];
                };
                let value = if key == "PMI_process_mapping" {
                    Some(match &self.mapping {
                        Some(m) => m.to_string(),
                        None => ProcessMapping::single_node(self.size).to_string(),
                    })
                } else {
                    lock(&self.state).kvs.get(key).map(|(v, _)| v.clone())
                };
                match value {
                    Some(v) => vec![Message::new(C)
                        .with("rc", 0)
                        .with("msg", "success")
                        .with("value", v)],
                    None => vec![rc_err(C, format!("key_{key}_not_found"))],
                }
            }
            "getbyidx" => {
                const C: &str = "getbyidx_results";
                if let Some(e) = self.check_kvsname(C, msg) {
                    return vec![e];
                }
                let idx = msg.get("idx").and_then(|s| s.parse::<usize>().ok());
                let Some(idx) = idx else {
                    return vec![rc_err(C, "missing_or_invalid_idx")];
                };
                let st = lock(&self.state);
                match st.order.get(idx) {
                    Some(k) => vec![Message::new(C)
                        .with("rc", 0)
                        .with("nextidx", idx + 1)
                        .with("key", k)
                        .with("val", &st.kvs[k].0)],
                    None => vec![Message::new(C)
                        .with("rc", -1)
                        .with("reason", "no_more_keyvals")],
                }
            }
            "barrier_in" => {
                let rank = match need_rank("barrier_out") {
                    Ok(r) => r,
                    Err(e) => return vec![e],
                };
                let complete = {
                    let mut st = lock(&self.state);
                    if !st.in_barrier[rank] {
                        st.in_barrier[rank] = true;
                        st.barrier_count += 1;
                    }
                    if st.barrier_count == self.size {
                        st.barrier_count = 0;
                        st.in_barrier.iter_mut().for_each(|b| *b = false);
                        true
                    } else {
                        false
                    }
                };
                if complete {
                    let out = [Message::new("barrier_out")];
                    for w in &self.writers {
                        let w = lock(w).clone();
                        if let Some(w) = w {
                            let _ = write_all(&w, &out);
                        }
                    }
                }
                Vec::new()
            }
            "finalize" => {
                if let Some(r) = conn.rank {
                    lock(&self.state).pes[r].finalized = true;
                    (self.on_event)(ServerEvent::Finalized(r));
                }
                vec![Message::new("finalize_ack")]
            }
            "abort" => {
                let code = msg
                    .get("exitcode")
                    .and_then(|s| s.parse::<i32>().ok())
                    .unwrap_or(1);
                match conn.rank {
                    Some(rank) => {
                        lock(&self.state).pes[rank].aborted = true;
                        (self.on_event)(ServerEvent::Abort { rank, code });
                        Vec::new()
                    }
                    None => vec![rc_err("abort_result", "rank_unknown")],
                }
            }
            other => vec![rc_err(
                &format!("{}_result", sanitize_value(other)),
                "unknown_command",
            )],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A writer that appends into a shared buffer we can inspect.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
        }
    }

    fn setup(
        n: usize,
    ) -> (
        PmiServer,
        Vec<(Connection, Buf)>,
        mpsc::Receiver<ServerEvent>,
    ) {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let srv = PmiServer::new("kvs-1", n, move |e| {
            let _ = tx.lock().unwrap().send(e);
        });
        let conns = (0..n)
            .map(|r| {
                let b = Buf::default();
                let mut c = Connection::with_rank(r, shared_writer(b.clone()));
                srv.register(&c);
                req(&srv, &mut c, "cmd=init pmi_version=1 pmi_subversion=1");
                (c, b)
            })
            .collect();
        let _ = rx.try_iter().count();
        (srv, conns, rx)
    }

    fn req(srv: &PmiServer, c: &mut Connection, line: &str) -> String {
        srv.handle(c, &Message::parse(line).unwrap())
            .iter()
            .map(|m| m.to_line())
            .collect()
    }

    #[test]
    fn simple_replies() {
        let (srv, mut conns, rx) = setup(4);
        let c = &mut conns[0].0;
        assert_eq!(
            req(&srv, c, "cmd=init pmi_version=1 pmi_subversion=1"),
            "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n"
        );
        assert_eq!(rx.try_recv().unwrap(), ServerEvent::Initialized(0));
        assert!(srv.pe_state(0).initialized);
        assert_eq!(
            req(&srv, c, "cmd=get_maxes"),
            "cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=1024\n"
        );
        assert_eq!(
            req(&srv, c, "cmd=get_my_kvsname"),
            "cmd=my_kvsname kvsname=kvs-1\n"
        );
        assert_eq!(
            req(&srv, c, "cmd=get_universe_size"),
            "cmd=universe_size size=4\n"
        );
        assert_eq!(req(&srv, c, "cmd=get_appnum"), "cmd=appnum appnum=0\n");
        assert_eq!(
            req(&srv, c, "cmd=get kvsname=kvs-1 key=PMI_process_mapping"),
            "cmd=get_result rc=0 msg=success value=(vector,(0,1,4))\n"
        );
        assert_eq!(req(&srv, c, "cmd=finalize"), "cmd=finalize_ack\n");
        assert!(srv.pe_state(0).finalized);
        assert_eq!(
            req(&srv, c, "cmd=init pmi_version=2 pmi_subversion=0"),
            "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=-1\n"
        );
    }

    #[test]
    fn put_get_and_limits() {
        let (srv, mut conns, _rx) = setup(2);
        let (a, b) = conns.split_at_mut(1);
        let c0 = &mut a[0].0;
        let c1 = &mut b[0].0;
        assert_eq!(
            req(&srv, c0, "cmd=put kvsname=kvs-1 key=k0 value=v=0"),
            "cmd=put_result rc=0 msg=success\n"
        );
        assert_eq!(
            req(&srv, c1, "cmd=get kvsname=kvs-1 key=k0"),
            "cmd=get_result rc=0 msg=success value=v=0\n"
        );
        assert_eq!(
            req(&srv, c1, "cmd=get kvsname=kvs-1 key=nope"),
            "cmd=get_result rc=-1 msg=key_nope_not_found\n"
        );
        let long_key = "k".repeat(65);
        let r = req(
            &srv,
            c0,
            &format!("cmd=put kvsname=kvs-1 key={long_key} value=1"),
        );
        assert!(
            r.starts_with("cmd=put_result rc=-1 msg=key_length_65"),
            "{r}"
        );
        let ok_key = "k".repeat(64);
        let r = req(
            &srv,
            c0,
            &format!("cmd=put kvsname=kvs-1 key={ok_key} value=1"),
        );
        assert_eq!(r, "cmd=put_result rc=0 msg=success\n");
        let long_val = "v".repeat(1025);
        let r = req(
            &srv,
            c0,
            &format!("cmd=put kvsname=kvs-1 key=x value={long_val}"),
        );
        assert!(
            r.starts_with("cmd=put_result rc=-1 msg=value_length_1025"),
            "{r}"
        );
        let ok_val = "v".repeat(1024);
        let r = req(
            &srv,
            c0,
            &format!("cmd=put kvsname=kvs-1 key=x value={ok_val}"),
        );
        assert_eq!(r, "cmd=put_result rc=0 msg=success\n");
        let r = req(&srv, c0, "cmd=put kvsname=kvs-1 value=1");
        assert_eq!(r, "cmd=put_result rc=-1 msg=missing_key\n");
        let r = req(&srv, c0, "cmd=put kvsname=kvs-1 key=a");
        assert_eq!(r, "cmd=put_result rc=-1 msg=missing_value\n");
        let r = req(&srv, c0, "cmd=get kvsname=other key=k0");
        assert_eq!(r, "cmd=get_result rc=-1 msg=unknown_kvsname_other\n");
        // getbyidx walks keys in insertion order.
        let r = req(&srv, c0, "cmd=getbyidx kvsname=kvs-1 idx=0");
        assert_eq!(r, "cmd=getbyidx_results rc=0 nextidx=1 key=k0 val=v=0\n");
        let r = req(&srv, c0, "cmd=getbyidx kvsname=kvs-1 idx=3");
        assert_eq!(r, "cmd=getbyidx_results rc=-1 reason=no_more_keyvals\n");
    }

    #[test]
    fn unknown_command() {
        let (srv, mut conns, _rx) = setup(1);
        assert_eq!(
            req(&srv, &mut conns[0].0, "cmd=frobnicate a=b"),
            "cmd=frobnicate_result rc=-1 msg=unknown_command\n"
        );
    }

    #[test]
    fn barrier_broadcasts_once_all_arrive() {
        let (srv, mut conns, _rx) = setup(3);
        for (i, (c, _)) in conns.iter_mut().enumerate().take(2) {
            assert_eq!(req(&srv, c, "cmd=barrier_in"), "", "pe {i}");
        }
        // Duplicate barrier_in from the same PE does not count twice.
        assert_eq!(req(&srv, &mut conns[0].0, "cmd=barrier_in"), "");
        for (_, b) in &conns {
            assert_eq!(b.take(), "");
        }
        assert_eq!(req(&srv, &mut conns[2].0, "cmd=barrier_in"), "");
        for (_, b) in &conns {
            assert_eq!(b.take(), "cmd=barrier_out\n");
        }
        // The barrier is reusable.
        for (c, _) in conns.iter_mut() {
            req(&srv, c, "cmd=barrier_in");
        }
        for (_, b) in &conns {
            assert_eq!(b.take(), "cmd=barrier_out\n");
        }
    }

    #[test]
    fn abort_event_no_reply() {
        let (srv, mut conns, rx) = setup(2);
        assert_eq!(req(&srv, &mut conns[1].0, "cmd=abort exitcode=7"), "");
        assert_eq!(
            rx.try_recv().unwrap(),
            ServerEvent::Abort { rank: 1, code: 7 }
        );
        assert!(srv.pe_state(1).aborted);
    }

    fn anon_server(n: usize) -> (PmiServer, mpsc::Receiver<ServerEvent>) {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let mut srv = PmiServer::new("k", n, move |e| {
            let _ = tx.lock().unwrap().send(e);
        });
        srv.set_secret(SECRET.into());
        (srv, rx)
    }

    const SECRET: &str = "00112233445566778899aabbccddeeff";

    fn anon() -> Connection {
        Connection::anonymous(shared_writer(Buf::default()))
    }

    #[test]
    fn initack_variant() {
        let (srv, rx) = anon_server(4);
        let mut c = anon();
        assert_eq!(
            req(
                &srv,
                &mut c,
                &format!("cmd=initack pmiid=2 secret={}", rank_token(SECRET, 2))
            ),
            "cmd=initack rc=0\ncmd=set size=4\ncmd=set rank=2\ncmd=set debug=0\n"
        );
        assert_eq!(c.rank(), Some(2));
        assert!(!c.closed_by_server());
        assert_eq!(rx.try_recv().unwrap(), ServerEvent::Initialized(2));
        assert_eq!(
            req(&srv, &mut c, "cmd=put kvsname=k key=a value=b"),
            "cmd=put_result rc=0 msg=success\n"
        );
        assert_eq!(srv.refused(), 0);
    }

    #[test]
    fn unauthenticated_connections_are_refused_and_counted() {
        let (srv, _rx) = anon_server(4);
        // Anything before initack: refused, connection closed.
        for line in [
            "cmd=barrier_in",
            "cmd=get kvsname=k key=x",
            "cmd=put kvsname=k key=x value=y",
            "cmd=abort exitcode=9",
            "cmd=init pmi_version=1 pmi_subversion=1",
        ] {
            let mut c = anon();
            let r = req(&srv, &mut c, line);
            assert!(r.contains("rc=-1 msg=not_authenticated"), "{line}: {r}");
            assert!(c.closed_by_server(), "{line}");
            assert_eq!(c.rank(), None);
        }
        let mut c = anon();
        assert_eq!(
            req(&srv, &mut c, "cmd=initack pmiid=1"),
            "cmd=initack rc=-1 msg=missing_secret_(this_job_requires_secret=HEX_from_RSHMEM_PMI_SECRET)\n"
        );
        assert!(c.closed_by_server());
        let mut c = anon();
        let wrong = format!("cmd=initack pmiid=1 secret={}", SECRET.replace('0', "1"));
        assert_eq!(
            req(&srv, &mut c, &wrong),
            "cmd=initack rc=-1 msg=wrong_secret\n"
        );
        let mut c = anon();
        let short = format!("cmd=initack pmiid=1 secret={}", &SECRET[..31]);
        assert_eq!(
            req(&srv, &mut c, &short),
            "cmd=initack rc=-1 msg=wrong_secret\n"
        );
        let mut c = anon();
        let r = req(
            &srv,
            &mut c,
            &format!("cmd=initack pmiid=9 secret={SECRET}"),
        );
        assert_eq!(r, "cmd=initack rc=-1 msg=invalid_or_missing_pmiid\n");
        assert_eq!(srv.refused(), 9);
        // No rank was claimed or marked by any of them.
        for r in 0..4 {
            assert_eq!(srv.pe_state(r), PeState::default(), "rank {r}");
        }
    }

    #[test]
    fn a_rank_is_claimed_once() {
        let (srv, _rx) = anon_server(2);
        let mut a = anon();
        let ok = format!("cmd=initack pmiid=1 secret={}", rank_token(SECRET, 1));
        assert!(req(&srv, &mut a, &ok).starts_with("cmd=initack rc=0"));
        let mut b = anon();
        assert_eq!(
            req(&srv, &mut b, &ok),
            "cmd=initack rc=-1 msg=rank_1_is_already_claimed_by_another_connection\n"
        );
        assert!(b.closed_by_server());
        assert_eq!(b.rank(), None);
        assert_eq!(srv.refused(), 1);
    }

    #[test]
    fn key_limits_and_ownership() {
        let (srv, mut conns, _rx) = setup(2);
        let (a, b) = conns.split_at_mut(1);
        let (c0, c1) = (&mut a[0].0, &mut b[0].0);
        assert_eq!(
            req(&srv, c0, "cmd=put kvsname=kvs-1 key=seg-0 value=mine"),
            "cmd=put_result rc=0 msg=success\n"
        );
        // Another rank cannot replace it; the owner can.
        assert_eq!(
            req(&srv, c1, "cmd=put kvsname=kvs-1 key=seg-0 value=forged"),
            "cmd=put_result rc=-1 msg=key_seg-0_belongs_to_rank_0_and_cannot_be_replaced\n"
        );
        assert_eq!(
            req(&srv, c1, "cmd=get kvsname=kvs-1 key=seg-0"),
            "cmd=get_result rc=0 msg=success value=mine\n"
        );
        assert_eq!(
            req(&srv, c0, "cmd=put kvsname=kvs-1 key=seg-0 value=again"),
            "cmd=put_result rc=0 msg=success\n"
        );
        for i in 0..MAX_KEYS_PER_RANK {
            let r = req(&srv, c1, &format!("cmd=put kvsname=kvs-1 key=f{i} value=x"));
            assert_eq!(r, "cmd=put_result rc=0 msg=success\n", "key {i}");
        }
        let r = req(&srv, c1, "cmd=put kvsname=kvs-1 key=last value=x");
        assert_eq!(
            r,
            format!(
                "cmd=put_result rc=-1 msg=rank_1_already_put_{MAX_KEYS_PER_RANK}_keys_(the_limit)\n"
            )
        );
        // Replacing one of its own keys is still fine; rank 0 is unaffected.
        let r = req(&srv, c1, "cmd=put kvsname=kvs-1 key=f1 value=y");
        assert_eq!(r, "cmd=put_result rc=0 msg=success\n");
        let r = req(&srv, c0, "cmd=put kvsname=kvs-1 key=other value=y");
        assert_eq!(r, "cmd=put_result rc=0 msg=success\n");
    }

    #[test]
    fn kvs_needs_init() {
        let (srv, _rx) = anon_server(1);
        let b = Buf::default();
        let mut c = Connection::with_rank(0, shared_writer(b));
        srv.register(&c);
        assert_eq!(
            req(&srv, &mut c, "cmd=put kvsname=k key=a value=b"),
            "cmd=put_result rc=-1 msg=rank_not_initialized_(send_cmd=init_first)\n"
        );
        assert_eq!(
            req(&srv, &mut c, "cmd=barrier_in"),
            "cmd=barrier_out rc=-1 msg=rank_not_initialized_(send_cmd=init_first)\n"
        );
        // A socketpair connection needs no secret.
        req(&srv, &mut c, "cmd=init pmi_version=1 pmi_subversion=1");
        assert_eq!(
            req(&srv, &mut c, "cmd=put kvsname=k key=a value=b"),
            "cmd=put_result rc=0 msg=success\n"
        );
        assert_eq!(srv.refused(), 0);
    }

    #[test]
    fn serve_closes_on_garbage_before_auth() {
        let (srv, _rx) = anon_server(1);
        for input in [
            &b"\xff\xfe binary\ncmd=get key=a\n"[..],
            &b"hello\ncmd=initack pmiid=0\n"[..],
        ] {
            let b = Buf::default();
            srv.serve(
                Connection::anonymous(shared_writer(b.clone())),
                io::Cursor::new(input.to_vec()),
            );
            let out = b.take();
            assert_eq!(out.lines().count(), 1, "{out}");
            assert!(out.contains("rc=-1"), "{out}");
        }
        let b = Buf::default();
        let long = format!("{}\ncmd=get key=a\n", "x".repeat(MAX_LINE_LEN + 1));
        srv.serve(
            Connection::anonymous(shared_writer(b.clone())),
            io::Cursor::new(long.into_bytes()),
        );
        assert_eq!(b.take().lines().count(), 1);
        assert_eq!(srv.refused(), 3);
        assert!(!srv.pe_state(0).claimed);
    }

    #[test]
    fn secret_compare() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        let s = new_secret().unwrap();
        assert_eq!(s.len(), 2 * SECRET_BYTES);
        assert!(s.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(s, new_secret().unwrap());
    }

    /// The one rule of the shared codec: `cmd=` comes first (as Hydra and Slurm read it); a
    /// line with `cmd=` elsewhere is answered with an error and does nothing.
    #[test]
    fn serve_refuses_cmd_not_first() {
        let srv = PmiServer::new("k", 1, |_| {});
        let b = Buf::default();
        let input =
            "cmd=init pmi_version=1 pmi_subversion=1\nkey=a cmd=put value=b\ncmd=get key=a\n";
        srv.serve(
            Connection::with_rank(0, shared_writer(b.clone())),
            io::Cursor::new(input.as_bytes().to_vec()),
        );
        let out = b.take();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(
            lines[1].starts_with(
                "cmd=error rc=-1 msg=no_leading_cmd=_field_(the_message_starts_with_'key=a'"
            ),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("cmd=get_result rc=-1"), "{}", lines[2]);
    }

    #[test]
    fn serve_over_a_stream() {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let srv = PmiServer::new("k", 1, move |e| {
            let _ = tx.lock().unwrap().send(e);
        });
        let b = Buf::default();
        let input = format!(
            "cmd=init pmi_version=1 pmi_subversion=1\nbogus\n\n{}\ncmd=barrier_in\ncmd=put key=a value=b\ncmd=get key=a\ncmd=finalize\n",
            "x".repeat(MAX_LINE_LEN + 10)
        );
        srv.serve(
            Connection::with_rank(0, shared_writer(b.clone())),
            io::Cursor::new(input.into_bytes()),
        );
        let out = b.take();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0"
        );
        assert!(
            lines[1].starts_with("cmd=error rc=-1 msg=token_'bogus'"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("cmd=error rc=-1 msg=line_too_long"),
            "{}",
            lines[2]
        );
        assert_eq!(lines[3], "cmd=barrier_out");
        assert_eq!(lines[4], "cmd=put_result rc=0 msg=success");
        assert_eq!(lines[5], "cmd=get_result rc=0 msg=success value=b");
        assert_eq!(lines[6], "cmd=finalize_ack");
        assert_eq!(lines.len(), 7);
        let evs: Vec<_> = rx.try_iter().collect();
        assert_eq!(
            evs,
            vec![
                ServerEvent::Initialized(0),
                ServerEvent::Finalized(0),
                ServerEvent::Closed(0)
            ]
        );
        assert!(srv.pe_state(0).closed);
    }

    fn tok(r: usize) -> String {
        rank_token(SECRET, r)
    }

    /// Authenticates rank `r` on a fresh anonymous connection.
    fn authed(srv: &PmiServer, r: usize) -> Connection {
        let mut c = anon();
        let line = format!("cmd=initack pmiid={r} secret={}", tok(r));
        assert!(req(srv, &mut c, &line).starts_with("cmd=initack rc=0"));
        c
    }

    #[test]
    fn a_rank_token_claims_only_its_rank() {
        let (srv, _rx) = anon_server(4);
        assert_eq!(tok(1).len(), 64);
        assert_ne!(tok(1), tok(2));
        assert_eq!(tok(1), rank_token(SECRET, 1), "deterministic");
        // Rank 1's token (as sniffed from rank 1's initack) does not claim rank 2 ...
        let mut c = anon();
        let r = req(
            &srv,
            &mut c,
            &format!("cmd=initack pmiid=2 secret={}", tok(1)),
        );
        assert_eq!(r, "cmd=initack rc=-1 msg=wrong_secret\n");
        assert!(c.closed_by_server());
        // ... nor does the master secret itself.
        let mut c = anon();
        let r = req(
            &srv,
            &mut c,
            &format!("cmd=initack pmiid=2 secret={SECRET}"),
        );
        assert_eq!(r, "cmd=initack rc=-1 msg=wrong_secret\n");
        assert!(!srv.pe_state(2).claimed);
        // Rank 2's own token does.
        let c = authed(&srv, 2);
        assert_eq!(c.rank(), Some(2));
        assert_eq!(srv.refused(), 2);
    }

    #[test]
    fn without_a_secret_no_anonymous_connection_is_accepted() {
        let srv = PmiServer::new("k", 2, |_| {});
        let mut c = anon();
        let r = req(
            &srv,
            &mut c,
            &format!("cmd=initack pmiid=0 secret={}", tok(0)),
        );
        assert_eq!(
            r,
            "cmd=initack rc=-1 msg=this_server_takes_no_anonymous_connections\n"
        );
        assert!(c.closed_by_server());
        let mut c = anon();
        let r = req(&srv, &mut c, "cmd=initack pmiid=0");
        assert!(r.contains("rc=-1"), "{r}");
        assert!(!srv.pe_state(0).claimed);
    }

    #[test]
    fn runtime_keys_are_reserved_for_their_rank() {
        assert_eq!(key_rank("rshmem-seg-3-0"), Some(3));
        assert_eq!(key_rank("rshmem-seg-3-n"), Some(3));
        assert_eq!(key_rank("rshmem-seg.2-3-n"), Some(3));
        assert_eq!(key_rank("rshmem-exit-12"), Some(12));
        assert_eq!(key_rank("rshmem-mr0-1-0"), Some(1));
        assert_eq!(key_rank("rshmem-seg"), None);
        assert_eq!(key_rank("rshmem-seg-x-0"), None);
        assert_eq!(key_rank("other-seg-1-0"), None);
        let (srv, _rx) = anon_server(2);
        let mut c0 = authed(&srv, 0);
        let mut c1 = authed(&srv, 1);
        // Rank 0 cannot take rank 1's segment record (or exit status) before rank 1 puts it.
        for key in [
            "rshmem-seg-1-n",
            "rshmem-seg-1-0",
            "rshmem-seg.1-1-0",
            "rshmem-exit-1",
        ] {
            assert_eq!(
                req(
                    &srv,
                    &mut c0,
                    &format!("cmd=put kvsname=k key={key} value=forged")
                ),
                format!("cmd=put_result rc=-1 msg=key_{key}_is_reserved_for_rank_1\n")
            );
        }
        assert_eq!(
            req(&srv, &mut c1, "cmd=get kvsname=k key=rshmem-seg-1-0"),
            "cmd=get_result rc=-1 msg=key_rshmem-seg-1-0_not_found\n"
        );
        // Rank 1 puts its own; both ranks read it.
        assert_eq!(
            req(
                &srv,
                &mut c1,
                "cmd=put kvsname=k key=rshmem-seg-1-0 value=real"
            ),
            "cmd=put_result rc=0 msg=success\n"
        );
        assert_eq!(
            req(&srv, &mut c0, "cmd=get kvsname=k key=rshmem-seg-1-0"),
            "cmd=get_result rc=0 msg=success value=real\n"
        );
        // Keys of no rank's form stay first-come.
        assert_eq!(
            req(&srv, &mut c0, "cmd=put kvsname=k key=app-x value=0"),
            "cmd=put_result rc=0 msg=success\n"
        );
        assert_eq!(
            req(&srv, &mut c1, "cmd=put kvsname=k key=app-x value=1"),
            "cmd=put_result rc=-1 msg=key_app-x_belongs_to_rank_0_and_cannot_be_replaced\n"
        );
    }

    /// The per-rank key limit, with ranks that authenticated over the TCP path's introduction.
    #[test]
    fn key_limit_for_authenticated_ranks() {
        let (srv, _rx) = anon_server(2);
        let mut c0 = authed(&srv, 0);
        let mut c1 = authed(&srv, 1);
        for i in 0..MAX_KEYS_PER_RANK {
            let r = req(
                &srv,
                &mut c1,
                &format!("cmd=put kvsname=k key=f{i} value=x"),
            );
            assert_eq!(r, "cmd=put_result rc=0 msg=success\n", "key {i}");
        }
        assert_eq!(
            req(&srv, &mut c1, "cmd=put kvsname=k key=one-more value=x"),
            format!(
                "cmd=put_result rc=-1 msg=rank_1_already_put_{MAX_KEYS_PER_RANK}_keys_(the_limit)\n"
            )
        );
        assert_eq!(srv.lookup("one-more"), None);
        assert_eq!(
            req(
                &srv,
                &mut c0,
                "cmd=put kvsname=k key=rshmem-seg-0-n value=1"
            ),
            "cmd=put_result rc=0 msg=success\n"
        );
    }

    #[test]
    fn a_long_line_before_authentication_is_refused_without_its_newline() {
        use std::io::Read;
        // A reader that fails the test if it is read past the first 300 bytes: the server
        // must give up before (no newline ever comes).
        struct Endless(usize);
        impl io::Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                assert!(self.0 < 300 + 64, "kept reading a line with no end");
                let n = buf.len().min(16);
                buf[..n].fill(b'a');
                self.0 += n;
                Ok(n)
            }
        }
        let (srv, _rx) = anon_server(1);
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let b = Buf::default();
        srv.serve(
            Connection::anonymous(shared_writer(b.clone())),
            io::BufReader::with_capacity(16, PreAuthLimit::new(Endless(0), flag)),
        );
        let out = b.take();
        assert_eq!(
            out,
            "cmd=error rc=-1 msg=line_too_long_before_authentication:_send_cmd=initack_pmiid=N_secret=HEX_first\n"
        );
        assert_eq!(srv.refused(), 1);
        // Once authenticated, long lines pass through to the normal limit.
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let mut r = PreAuthLimit::new(io::Cursor::new(vec![b'x'; 1000]), flag);
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        assert_eq!(v.len(), 1000);
    }
}
