//! The PMI-1 "simple" wire format: one request or reply per line, `key=value` pairs
//! separated by spaces, the first being `cmd=NAME`, ending in `\n`.
//!
//! Values never contain spaces or newlines (rshmem hex-encodes its binary values); a value
//! may contain `=` (only the first `=` of a pair separates key from value).

/// One parsed PMI-1 line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Value of the `cmd` key.
    pub cmd: String,
    /// The other pairs, in order.
    pub pairs: Vec<(String, String)>,
}

/// Why a line is not a PMI-1 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The line does not start with `cmd=`.
    #[error("PMI line has no leading cmd=: {0:?}")]
    NoCmd(String),
    /// A token has no `=`.
    #[error("PMI token {token:?} is not key=value in line {line:?}")]
    NotPair {
        /// The token.
        token: String,
        /// The whole line.
        line: String,
    },
}

impl Message {
    /// Parses one line (with or without its trailing newline).
    pub fn parse(line: &str) -> Result<Self, WireError> {
        let mut cmd = None;
        let mut pairs = Vec::new();
        for tok in line
            .trim_end_matches(['\n', '\r'])
            .split(' ')
            .filter(|t| !t.is_empty())
        {
            let (k, v) = tok.split_once('=').ok_or_else(|| WireError::NotPair {
                token: tok.to_string(),
                line: line.trim_end().to_string(),
            })?;
            if cmd.is_none() {
                if k != "cmd" {
                    return Err(WireError::NoCmd(line.trim_end().to_string()));
                }
                cmd = Some(v.to_string());
            } else {
                pairs.push((k.to_string(), v.to_string()));
            }
        }
        let cmd = cmd.ok_or_else(|| WireError::NoCmd(line.trim_end().to_string()))?;
        Ok(Self { cmd, pairs })
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `rc` of a reply: absent counts as success (some servers omit it).
    pub fn rc(&self) -> i64 {
        self.get("rc").and_then(|v| v.parse().ok()).unwrap_or(0)
    }
}

/// Formats a request line, newline included.
pub fn format(cmd: &str, pairs: &[(&str, &str)]) -> String {
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

/// Hex-encodes bytes (lower case), as PMI values must be printable and space-free.
pub fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Decodes [`hex_encode`]'s output; `None` for odd lengths or non-hex characters.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// Node of each rank from a `PMI_process_mapping` value such as `(vector,(0,2,4),(2,1,3))`:
/// each `(first_node, node_count, ranks_per_node)` block places `ranks_per_node`
/// consecutive ranks on each of `node_count` nodes starting at `first_node`; the whole
/// vector repeats until every rank has a node (Hydra writes `(vector,(0,1,1))` for any
/// single-node job, Slurm `(vector,(0,1,N))`).
pub fn parse_process_mapping(value: &str, size: usize) -> Option<Vec<usize>> {
    let v = value.trim();
    let inner = v.strip_prefix("(vector")?.strip_suffix(')')?;
    let mut blocks = Vec::new();
    for part in inner.split('(').skip(1) {
        let nums: Vec<usize> = part
            .trim_end_matches([')', ',', ' '])
            .split(',')
            .map(|n| n.trim().parse().ok())
            .collect::<Option<_>>()?;
        if nums.len() != 3 || nums[1] == 0 || nums[2] == 0 {
            return None;
        }
        blocks.push((nums[0], nums[1], nums[2]));
    }
    if blocks.is_empty() {
        return None;
    }
    let mut nodes = Vec::with_capacity(size);
    'outer: loop {
        for &(first, count, per) in &blocks {
            for n in 0..count {
                for _ in 0..per {
                    if nodes.len() == size {
                        break 'outer;
                    }
                    // A node number past usize::MAX: not a mapping (no overflow panic).
                    nodes.push(first.checked_add(n)?);
                }
            }
        }
        if size == 0 {
            break;
        }
    }
    Some(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_replies() {
        let m = Message::parse("cmd=get_result rc=0 msg=success value=a=b\n").unwrap();
        assert_eq!(m.cmd, "get_result");
        assert_eq!(m.rc(), 0);
        assert_eq!(m.get("value"), Some("a=b"));
        assert_eq!(m.get("missing"), None);
        let m = Message::parse("cmd=barrier_out").unwrap();
        assert_eq!(
            (m.cmd.as_str(), m.rc(), m.pairs.len()),
            ("barrier_out", 0, 0)
        );
        let m = Message::parse("cmd=maxes  kvsname_max=256 keylen_max=64   vallen_max=1024\r\n")
            .unwrap();
        assert_eq!(m.get("vallen_max"), Some("1024"));
        assert_eq!(Message::parse("cmd=x rc=-1").unwrap().rc(), -1);
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            Message::parse("rc=0 cmd=x"),
            Err(WireError::NoCmd(_))
        ));
        assert!(matches!(Message::parse(""), Err(WireError::NoCmd(_))));
        assert!(matches!(
            Message::parse("cmd=x junk"),
            Err(WireError::NotPair { .. })
        ));
    }

    #[test]
    fn formats_requests() {
        assert_eq!(
            format("put", &[("kvsname", "k"), ("key", "a"), ("value", "00ff")]),
            "cmd=put kvsname=k key=a value=00ff\n"
        );
        assert_eq!(format("barrier_in", &[]), "cmd=barrier_in\n");
    }

    #[test]
    fn process_mappings() {
        assert_eq!(
            parse_process_mapping("(vector,(0,1,1))", 3),
            Some(vec![0, 0, 0])
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,1,4))", 4),
            Some(vec![0, 0, 0, 0])
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,2,2))", 4),
            Some(vec![0, 0, 1, 1])
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,2,1))", 4),
            Some(vec![0, 1, 0, 1])
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,2,2),(2,1,1))", 5),
            Some(vec![0, 0, 1, 1, 2])
        );
        assert_eq!(parse_process_mapping("(vector,(0,0,1))", 2), None);
        assert_eq!(parse_process_mapping("garbage", 2), None);
        assert_eq!(parse_process_mapping("(vector)", 2), None);
    }

    proptest! {
        #[test]
        fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            prop_assert_eq!(hex_decode(&hex_encode(&bytes)), Some(bytes));
        }

        #[test]
        fn format_parse_round_trips(cmd in "[a-z_]{1,12}", pairs in proptest::collection::vec(("[a-z_]{1,10}", "[a-zA-Z0-9=,()_.-]{0,40}"), 0..6)) {
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let m = Message::parse(&format(&cmd, &refs)).unwrap();
            prop_assert_eq!(m.cmd, cmd);
            prop_assert_eq!(m.pairs, pairs);
        }
    }
}
