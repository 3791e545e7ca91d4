//! The bounded PMI-1 line reader: a peer cannot make the reader buffer more than a fixed
//! number of bytes per line.

use std::io::{self, BufRead};

/// Longest line (excluding the newline) accepted by [`LineReader`] by default.
/// (The longest valid request, a `put` of a 64-byte key and a 1024-byte value, is about
/// 1.2 KiB.)
pub const MAX_LINE_LEN: usize = 4 * 1024;

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
