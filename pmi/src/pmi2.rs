//! PMI-2 framing: a 6-character decimal length (Slurm left-justifies it, Hydra
//! right-justifies it; both are read) followed by the body `cmd=NAME;key=value;...;`,
//! parsed by [`Message::parse_pmi2`](crate::Message::parse_pmi2).

use crate::Message;

/// Why a message cannot be sent in PMI-2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A key or value PMI-2 cannot carry (`;` cannot be escaped; a key has no `=` and is
    /// not empty).
    #[error("PMI-2 cannot carry key {key:?} / value {value:?} (';' cannot be escaped)")]
    Unrepresentable {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// The body is longer than the 6-digit length field allows.
    #[error("PMI-2 message of {0} bytes exceeds the 6-digit length field")]
    TooLong(usize),
}

/// Formats a body, `cmd=NAME;k=v;...;`.
pub fn format_body(cmd: &str, pairs: &[(&str, &str)]) -> Result<String, FrameError> {
    let mut s = format!("cmd={cmd};");
    for (k, v) in pairs {
        if k.contains([';', '=']) || v.contains(';') || k.is_empty() {
            return Err(FrameError::Unrepresentable {
                key: k.to_string(),
                value: v.to_string(),
            });
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
        s.push(';');
    }
    Ok(s)
}

impl Message {
    /// Formats the message as a PMI-2 body (see [`format_body`]).
    pub fn to_pmi2_body(&self) -> Result<String, FrameError> {
        let pairs: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        format_body(&self.cmd, &pairs)
    }
}

/// Frames a body with its 6-character length (right-justified, as MPICH's client does;
/// Slurm and Hydra both parse it with `atoi`, which skips the leading blanks).
pub fn frame(body: &str) -> Result<String, FrameError> {
    if body.len() > 999_999 {
        return Err(FrameError::TooLong(body.len()));
    }
    Ok(format!("{:6}{body}", body.len()))
}

/// Parses a 6-character length field, left- or right-justified (blanks or NULs as padding).
pub fn parse_len(field: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(field).ok()?;
    let t = s.trim_matches(|c: char| c == ' ' || c == '\0');
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_frames_requests() {
        let b = format_body("fullinit", &[("pmijobid", "5.0"), ("pmirank", "0")]).unwrap();
        assert_eq!(b, "cmd=fullinit;pmijobid=5.0;pmirank=0;");
        assert_eq!(frame(&b).unwrap(), format!("{:>6}{b}", b.len()));
        assert_eq!(frame("cmd=kvs-fence;").unwrap(), "    14cmd=kvs-fence;");
        assert!(format_body("kvs-put", &[("key", "a"), ("value", "x;y")]).is_err());
        assert!(format_body("kvs-put", &[("k;", "v")]).is_err());
        assert!(format_body("kvs-put", &[("", "v")]).is_err());
        assert!(matches!(
            frame(&"x".repeat(1_000_000)),
            Err(FrameError::TooLong(1_000_000))
        ));
        let m = Message::new("kvs-put")
            .with("key", "a")
            .with("value", "b=c");
        assert_eq!(m.to_pmi2_body().unwrap(), "cmd=kvs-put;key=a;value=b=c;");
    }

    #[test]
    fn length_fields_both_justifications() {
        assert_eq!(parse_len(b"74    "), Some(74)); // Slurm
        assert_eq!(parse_len(b"    74"), Some(74)); // Hydra
        assert_eq!(parse_len(b"000074"), Some(74));
        assert_eq!(parse_len(b"123456"), Some(123456));
        assert_eq!(parse_len(b"74\0\0\0\0"), Some(74));
        assert_eq!(parse_len(b"      "), None);
        assert_eq!(parse_len(b"7 4   "), None);
        assert_eq!(parse_len(b"cmd=ab"), None);
    }
}
