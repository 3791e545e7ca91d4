//! PMI-1 "simple" wire codec.
//!
//! A PMI-1 message is one line of space-separated `key=value` tokens ending in
//! `\n`, for example `cmd=put kvsname=K key=addr value=1.2.3.4`. One of the
//! tokens (normally the first) has the key `cmd`. A value may itself contain
//! `=` (only the first `=` of a token separates key from value) but never a
//! space or a newline.
//!
//! This module parses such a line into a [`Message`] (the command plus the other
//! fields in their original order), formats a [`Message`] back into a line, and
//! provides [`LineReader`], a bounded line reader that never buffers more than a
//! fixed number of bytes per line.

use std::fmt;
use std::io::{self, BufRead};

/// Longest line (excluding the newline) accepted by [`LineReader`] by default.
/// (The longest valid request, a `put` of a 64-byte key and a 1024-byte value, is about
/// 1.2 KiB.)
pub const MAX_LINE_LEN: usize = 4 * 1024;

/// One PMI-1 message: a command and its ordered `key=value` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Value of the `cmd` token (e.g. `put`, `barrier_in`).
    pub cmd: String,
    /// All other `key=value` tokens, in the order they appeared.
    pub fields: Vec<(String, String)>,
}

/// Why a line could not be parsed into a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The line is empty or consists only of whitespace.
    Empty,
    /// A token has no `=` separating key and value.
    MissingEquals(String),
    /// A token has an empty key (`=value`).
    EmptyKey(String),
    /// No `cmd=` token was present.
    MissingCmd,
    /// The `cmd` token was present but its value is empty.
    EmptyCmd,
    /// The `cmd` key appeared more than once.
    DuplicateCmd,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => write!(f, "empty line"),
            ParseError::MissingEquals(t) => write!(f, "token '{t}' is not of the form key=value"),
            ParseError::EmptyKey(t) => write!(f, "token '{t}' has an empty key"),
            ParseError::MissingCmd => write!(f, "no cmd= field"),
            ParseError::EmptyCmd => write!(f, "cmd= has an empty value"),
            ParseError::DuplicateCmd => write!(f, "cmd= given more than once"),
        }
    }
}

impl std::error::Error for ParseError {}

impl Message {
    /// Creates a message with the given command and no fields.
    pub fn new(cmd: impl Into<String>) -> Self {
        Message {
            cmd: cmd.into(),
            fields: Vec::new(),
        }
    }

    /// Builder-style: appends a `key=value` field and returns the message.
    pub fn with(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.fields.push((key.into(), value.to_string()));
        self
    }

    /// Value of the first field named `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Parses one line (with or without its trailing `\n` / `\r\n`).
    ///
    /// Tokens are separated by one or more spaces or tabs; leading and trailing
    /// whitespace is ignored. Each token is split at its first `=`.
    pub fn parse(line: &str) -> Result<Message, ParseError> {
        let line = line.trim_end_matches(['\n', '\r']);
        let mut cmd: Option<String> = None;
        let mut fields = Vec::new();
        let mut any = false;
        for tok in line.split([' ', '\t']).filter(|t| !t.is_empty()) {
            any = true;
            let (k, v) = tok
                .split_once('=')
                .ok_or_else(|| ParseError::MissingEquals(tok.to_string()))?;
            if k.is_empty() {
                return Err(ParseError::EmptyKey(tok.to_string()));
            }
            if k == "cmd" {
                if cmd.is_some() {
                    return Err(ParseError::DuplicateCmd);
                }
                if v.is_empty() {
                    return Err(ParseError::EmptyCmd);
                }
                cmd = Some(v.to_string());
            } else {
                fields.push((k.to_string(), v.to_string()));
            }
        }
        if !any {
            return Err(ParseError::Empty);
        }
        let cmd = cmd.ok_or(ParseError::MissingCmd)?;
        Ok(Message { cmd, fields })
    }

    /// Formats the message as a wire line, `cmd=<cmd>` first, ending in `\n`.
    pub fn to_line(&self) -> String {
        let mut s = String::with_capacity(
            5 + self.cmd.len()
                + self
                    .fields
                    .iter()
                    .map(|(k, v)| k.len() + v.len() + 2)
                    .sum::<usize>()
                + 1,
        );
        s.push_str("cmd=");
        s.push_str(&self.cmd);
        for (k, v) in &self.fields {
            s.push(' ');
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        s.push('\n');
        s
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_line().trim_end_matches('\n'))
    }
}

/// Turns arbitrary text into something safe to send as a PMI value: spaces,
/// tabs, newlines and other control characters become `_`.
pub fn sanitize_value(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// One item produced by [`LineReader::read_line`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A complete line (without its newline), or the unterminated tail of the
    /// stream at end-of-file.
    Text(String),
    /// A line longer than the limit; its content was discarded up to and
    /// including the newline. Carries the number of bytes discarded.
    TooLong(usize),
    /// A line that is not valid UTF-8 (its bytes are returned lossily decoded).
    InvalidUtf8(String),
}

/// A line reader that bounds memory use per line.
///
/// Lines longer than the limit are reported as [`Line::TooLong`] and skipped
/// in full, so a misbehaving peer cannot make the server buffer unbounded data.
pub struct LineReader<R> {
    inner: R,
    limit: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps `inner` with the default limit [`MAX_LINE_LEN`].
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE_LEN)
    }

    /// Wraps `inner`, accepting lines of at most `limit` bytes (newline excluded).
    pub fn with_limit(inner: R, limit: usize) -> Self {
        LineReader {
            inner,
            limit,
            buf: Vec::new(),
        }
    }

    /// Reads the next line. Returns `Ok(None)` at end of stream.
    pub fn read_line(&mut self) -> io::Result<Option<Line>> {
        self.buf.clear();
        let mut discarded: usize = 0;
        let mut too_long = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                // EOF.
                if too_long {
                    return Ok(Some(Line::TooLong(discarded)));
                }
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.finish()));
            }
            let (part, found_nl) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], Some(i + 1)),
                None => (chunk, None),
            };
            if !too_long && self.buf.len() + part.len() > self.limit {
                too_long = true;
                discarded = self.buf.len();
                self.buf.clear();
            }
            if too_long {
                discarded += part.len();
            } else {
                self.buf.extend_from_slice(part);
            }
            let consumed = found_nl.unwrap_or(chunk.len());
            self.inner.consume(consumed);
            if found_nl.is_some() {
                if too_long {
                    return Ok(Some(Line::TooLong(discarded)));
                }
                return Ok(Some(self.finish()));
            }
        }
    }

    fn finish(&mut self) -> Line {
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        let bytes = std::mem::take(&mut self.buf);
        match String::from_utf8(bytes) {
            Ok(s) => Line::Text(s),
            Err(e) => Line::InvalidUtf8(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn parse_basic() {
        let m = Message::parse("cmd=init pmi_version=1 pmi_subversion=1\n").unwrap();
        assert_eq!(m.cmd, "init");
        assert_eq!(
            m.fields,
            vec![
                ("pmi_version".into(), "1".into()),
                ("pmi_subversion".into(), "1".into())
            ]
        );
        assert_eq!(m.get("pmi_version"), Some("1"));
        assert_eq!(m.get("nope"), None);
    }

    #[test]
    fn parse_value_with_equals() {
        let m = Message::parse("cmd=put kvsname=k key=a value=x=y==z").unwrap();
        assert_eq!(m.get("value"), Some("x=y==z"));
        assert_eq!(m.get("key"), Some("a"));
    }

    #[test]
    fn parse_empty_value_allowed() {
        let m = Message::parse("cmd=put key=a value=").unwrap();
        assert_eq!(m.get("value"), Some(""));
    }

    #[test]
    fn parse_extra_spaces_and_crlf() {
        let m = Message::parse("   cmd=get   kvsname=k \t key=b    \r\n").unwrap();
        assert_eq!(m.cmd, "get");
        assert_eq!(m.fields.len(), 2);
        assert_eq!(m.get("key"), Some("b"));
    }

    #[test]
    fn parse_cmd_not_first() {
        let m = Message::parse("key=a cmd=get").unwrap();
        assert_eq!(m.cmd, "get");
        assert_eq!(m.fields, vec![("key".into(), "a".into())]);
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Message::parse(""), Err(ParseError::Empty));
        assert_eq!(Message::parse("   \n"), Err(ParseError::Empty));
        assert_eq!(Message::parse("key=a"), Err(ParseError::MissingCmd));
        assert_eq!(
            Message::parse("cmd=get junk"),
            Err(ParseError::MissingEquals("junk".into()))
        );
        assert_eq!(
            Message::parse("cmd=get =x"),
            Err(ParseError::EmptyKey("=x".into()))
        );
        assert_eq!(Message::parse("cmd= a=b"), Err(ParseError::EmptyCmd));
        assert_eq!(Message::parse("cmd=a cmd=b"), Err(ParseError::DuplicateCmd));
        // Display is human readable.
        assert!(ParseError::MissingCmd.to_string().contains("cmd"));
    }

    #[test]
    fn parse_missing_fields_is_not_a_parse_error() {
        // Field presence is the handler's business, not the codec's.
        let m = Message::parse("cmd=get").unwrap();
        assert_eq!(m.get("key"), None);
    }

    #[test]
    fn format_roundtrip() {
        let m = Message::new("get_result")
            .with("rc", 0)
            .with("msg", "success")
            .with("value", "a=b");
        let line = m.to_line();
        assert_eq!(line, "cmd=get_result rc=0 msg=success value=a=b\n");
        assert_eq!(Message::parse(&line).unwrap(), m);
        assert_eq!(m.to_string(), "cmd=get_result rc=0 msg=success value=a=b");
    }

    #[test]
    fn format_no_fields() {
        assert_eq!(Message::new("barrier_out").to_line(), "cmd=barrier_out\n");
    }

    #[test]
    fn very_long_line_parses() {
        let v = "x".repeat(100_000);
        let m = Message::parse(&format!("cmd=put key=k value={v}")).unwrap();
        assert_eq!(m.get("value").unwrap().len(), 100_000);
    }

    #[test]
    fn sanitize() {
        assert_eq!(sanitize_value("a b\tc\nd"), "a_b_c_d");
    }

    #[test]
    fn line_reader_basic() {
        let data = b"cmd=a\ncmd=b\r\npartial";
        let mut r = LineReader::new(Cursor::new(&data[..]));
        assert_eq!(r.read_line().unwrap(), Some(Line::Text("cmd=a".into())));
        assert_eq!(r.read_line().unwrap(), Some(Line::Text("cmd=b".into())));
        assert_eq!(r.read_line().unwrap(), Some(Line::Text("partial".into())));
        assert_eq!(r.read_line().unwrap(), None);
    }

    #[test]
    fn line_reader_too_long_is_skipped() {
        let mut data = Vec::new();
        data.extend_from_slice(b"cmd=ok\n");
        data.extend(std::iter::repeat_n(b'y', 50_000));
        data.extend_from_slice(b"\ncmd=after\n");
        // Small BufReader capacity to exercise chunk boundaries.
        let br = io::BufReader::with_capacity(7, Cursor::new(data));
        let mut r = LineReader::with_limit(br, 100);
        assert_eq!(r.read_line().unwrap(), Some(Line::Text("cmd=ok".into())));
        assert_eq!(r.read_line().unwrap(), Some(Line::TooLong(50_000)));
        assert_eq!(r.read_line().unwrap(), Some(Line::Text("cmd=after".into())));
        assert_eq!(r.read_line().unwrap(), None);
    }

    #[test]
    fn line_reader_exact_limit_ok() {
        let data = format!("{}\n{}\n", "a".repeat(10), "b".repeat(11));
        let br = io::BufReader::with_capacity(3, Cursor::new(data.into_bytes()));
        let mut r = LineReader::with_limit(br, 10);
        assert_eq!(r.read_line().unwrap(), Some(Line::Text("a".repeat(10))));
        assert_eq!(r.read_line().unwrap(), Some(Line::TooLong(11)));
        assert_eq!(r.read_line().unwrap(), None);
    }

    #[test]
    fn line_reader_invalid_utf8() {
        let data = b"cmd=\xff\n";
        let mut r = LineReader::new(Cursor::new(&data[..]));
        assert!(matches!(r.read_line().unwrap(), Some(Line::InvalidUtf8(_))));
    }
}
