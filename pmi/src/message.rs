//! The `key=value` codec for PMI-1 lines and PMI-2 bodies (rules in the crate docs).

use std::fmt;

/// One PMI message: a command and its other `key=value` fields, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Value of the leading `cmd` token (e.g. `put`, `barrier_in`, `kvs-fence`).
    pub cmd: String,
    /// All other `key=value` tokens, in the order they appeared.
    pub fields: Vec<(String, String)>,
}

/// Why a line or body is not a PMI message. Tokens are quoted as received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The message is empty or consists only of separators.
    #[error("empty line")]
    Empty,
    /// A token has no `=` separating key and value.
    #[error("token '{0}' is not of the form key=value")]
    MissingEquals(String),
    /// A token has an empty key (`=value`).
    #[error("token '{0}' has an empty key")]
    EmptyKey(String),
    /// The first token is not `cmd=NAME` (it carries the first token).
    #[error("no leading cmd= field (the message starts with '{0}'; PMI puts cmd= first)")]
    MissingCmd(String),
    /// The `cmd` token is present but its value is empty.
    #[error("cmd= has an empty value")]
    EmptyCmd,
    /// The `cmd` key appeared more than once.
    #[error("cmd= given more than once")]
    DuplicateCmd,
}

/// The two framings' token separators and trailing junk.
#[derive(Clone, Copy)]
pub(crate) enum Framing {
    /// PMI-1: spaces or tabs; a trailing `\n` / `\r\n` is ignored.
    Line,
    /// PMI-2: `;`; trailing `\n`, `\r` and NULs are ignored.
    Body,
}

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

    /// The `rc` of a reply: absent (some servers omit it) or not a number counts as 0.
    pub fn rc(&self) -> i64 {
        self.get("rc").and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// Parses one PMI-1 line (with or without its trailing `\n` / `\r\n`).
    pub fn parse(line: &str) -> Result<Message, ParseError> {
        Self::parse_framed(line, Framing::Line)
    }

    /// Parses one PMI-2 body, `cmd=NAME;key=value;...;` (without its length field).
    pub fn parse_pmi2(body: &str) -> Result<Message, ParseError> {
        Self::parse_framed(body, Framing::Body)
    }

    pub(crate) fn parse_framed(text: &str, framing: Framing) -> Result<Message, ParseError> {
        let tokens: Vec<&str> = match framing {
            Framing::Line => text
                .trim_end_matches(['\n', '\r'])
                .split([' ', '\t'])
                .collect(),
            Framing::Body => text
                .trim_end_matches(['\n', '\r', '\0'])
                .split(';')
                .collect(),
        };
        let mut cmd: Option<String> = None;
        let mut fields = Vec::new();
        for tok in tokens.into_iter().filter(|t| !t.is_empty()) {
            let (k, v) = tok
                .split_once('=')
                .ok_or_else(|| ParseError::MissingEquals(tok.to_string()))?;
            if k.is_empty() {
                return Err(ParseError::EmptyKey(tok.to_string()));
            }
            match (&cmd, k == "cmd") {
                (None, false) => return Err(ParseError::MissingCmd(tok.to_string())),
                (None, true) if v.is_empty() => return Err(ParseError::EmptyCmd),
                (None, true) => cmd = Some(v.to_string()),
                (Some(_), true) => return Err(ParseError::DuplicateCmd),
                (Some(_), false) => fields.push((k.to_string(), v.to_string())),
            }
        }
        let cmd = cmd.ok_or(ParseError::Empty)?;
        Ok(Message { cmd, fields })
    }

    /// Formats the message as a PMI-1 line, `cmd=<cmd>` first, ending in `\n`. Values are
    /// not checked (see [`sanitize_value`]).
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

/// Formats a PMI-1 request line from borrowed pairs, newline included.
pub fn format_line(cmd: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = format!("cmd={cmd}");
    for (k, v) in pairs {
        s.push(' ');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s.push('\n');
    s
}

/// Turns arbitrary text into something safe to send as a PMI-1 value: spaces,
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn parses_replies() {
        let m = Message::parse("cmd=get_result rc=0 msg=success value=a=b\n").unwrap();
        assert_eq!(m.cmd, "get_result");
        assert_eq!(m.rc(), 0);
        assert_eq!(m.get("value"), Some("a=b"));
        let m = Message::parse("cmd=barrier_out").unwrap();
        assert_eq!(
            (m.cmd.as_str(), m.rc(), m.fields.len()),
            ("barrier_out", 0, 0)
        );
        let m = Message::parse("cmd=maxes  kvsname_max=256 keylen_max=64   vallen_max=1024\r\n")
            .unwrap();
        assert_eq!(m.get("vallen_max"), Some("1024"));
        assert_eq!(Message::parse("cmd=x rc=-1").unwrap().rc(), -1);
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

    /// The one rule: `cmd=` comes first, in PMI-1 and PMI-2 alike.
    #[test]
    fn cmd_must_come_first() {
        for (line, body) in [
            ("key=a cmd=get", "key=a;cmd=get;"),
            ("rc=0 cmd=x", "rc=0;cmd=x;"),
        ] {
            let first = line.split(' ').next().unwrap().to_string();
            assert_eq!(
                Message::parse(line),
                Err(ParseError::MissingCmd(first.clone()))
            );
            assert_eq!(
                Message::parse_pmi2(body),
                Err(ParseError::MissingCmd(first))
            );
        }
        let e = Message::parse("key=a cmd=get").unwrap_err().to_string();
        assert!(e.contains("cmd=") && e.contains("key=a"), "{e}");
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Message::parse(""), Err(ParseError::Empty));
        assert_eq!(Message::parse("   \n"), Err(ParseError::Empty));
        assert_eq!(
            Message::parse("key=a"),
            Err(ParseError::MissingCmd("key=a".into()))
        );
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
        assert!(ParseError::Empty.to_string().contains("empty"));
    }

    #[test]
    fn pmi2_bodies() {
        let m = Message::parse_pmi2("cmd=fullinit-response;rc=0;pmi-version=2;pmi-subversion=0;rank=3;size=4;appnum=-1;debugged=FALSE;pmiverbose=FALSE;").unwrap();
        assert_eq!(m.cmd, "fullinit-response");
        assert_eq!(m.rc(), 0);
        assert_eq!(m.get("rank"), Some("3"));
        assert_eq!(m.get("size"), Some("4"));
        let m = Message::parse_pmi2("cmd=kvs-get-response;rc=0;found=TRUE;value=(vector,(0,1,4));")
            .unwrap();
        assert_eq!(m.get("value"), Some("(vector,(0,1,4))"));
        let m = Message::parse_pmi2("cmd=kvs-fence-response;rc=0").unwrap();
        assert_eq!(m.cmd, "kvs-fence-response");
        assert_eq!(Message::parse_pmi2("cmd=x;rc=3;\0\0").unwrap().rc(), 3);
        assert_eq!(
            Message::parse_pmi2("cmd=x;v=a b=c;").unwrap().get("v"),
            Some("a b=c")
        );
        assert!(Message::parse_pmi2("").is_err());
        assert!(Message::parse_pmi2("cmd=x;junk;").is_err());
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
        assert_eq!(
            format_line("put", &[("kvsname", "k"), ("key", "a"), ("value", "00ff")]),
            "cmd=put kvsname=k key=a value=00ff\n"
        );
        assert_eq!(format_line("barrier_in", &[]), "cmd=barrier_in\n");
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
}
