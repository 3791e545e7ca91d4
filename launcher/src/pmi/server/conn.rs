//! One connection: its writer ([`SharedWriter`]), its state ([`Connection`]: rank,
//! initialized, closed by the server) and the read loop that drives it
//! ([`PmiServer::serve`]), which refuses malformed lines before authentication.

use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};

use rshmem_pmi::{Line, LineReader, Message, MAX_LINE_LEN};

use super::{lock, rc_err, write_all, PmiServer, ServerEvent};

/// A connection's writer, shared so that barrier completion can answer every PE.
pub type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// Wraps any writer into a [`SharedWriter`].
pub fn shared_writer<W: Write + Send + 'static>(w: W) -> SharedWriter {
    Arc::new(Mutex::new(Box::new(w)))
}

/// Per-connection state, owned by whoever drives the connection.
pub struct Connection {
    pub(super) rank: Option<usize>,
    pub(super) writer: SharedWriter,
    /// `init` or an accepted `initack` was received on this connection.
    pub(super) initialized: bool,
    /// The server decided to close this connection (failed authentication).
    pub(super) close: bool,
    /// Called once when an anonymous connection authenticates (e.g. to lift the
    /// socket's pre-authentication read timeout).
    pub(super) on_auth: Option<Box<dyn FnOnce() + Send>>,
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

impl PmiServer {
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
}
