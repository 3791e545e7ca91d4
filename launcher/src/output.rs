//! Forwards a PE's stdout/stderr pipe line by line (every job), prefixing each
//! line with `[pe] ` under `--tag-output`.

use std::io::{self, Read, Write};

/// Longest partial line buffered before it is emitted anyway (so a PE writing
/// an endless line without newline cannot exhaust the launcher's memory).
pub const MAX_PENDING: usize = 1 << 20;

/// Copies `src` to `dst`, prefixing every line with `prefix`. Each complete
/// line is written with a single `write_all` on a freshly locked `dst`, so
/// lines from different PEs never interleave. A final unterminated line is
/// emitted when `src` reaches end-of-file, with a newline appended when `prefix` is
/// not empty.
pub fn forward_tagged<R: Read, W: Write>(
    mut src: R,
    prefix: &str,
    mut lock_dst: impl FnMut() -> W,
) -> io::Result<()> {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out: Vec<u8> = Vec::new();
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                flush_partial(&mut pending, prefix, &mut lock_dst)?;
                return Err(e);
            }
        };
        pending.extend_from_slice(&buf[..n]);
        out.clear();
        let mut start = 0;
        while let Some(pos) = pending[start..].iter().position(|&b| b == b'\n') {
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice(&pending[start..start + pos + 1]);
            start += pos + 1;
        }
        pending.drain(..start);
        if pending.len() >= MAX_PENDING {
            out.extend_from_slice(prefix.as_bytes());
            out.append(&mut pending);
            if !prefix.is_empty() {
                out.push(b'\n');
            }
        }
        if !out.is_empty() {
            let mut d = lock_dst();
            d.write_all(&out)?;
            d.flush()?;
        }
    }
    flush_partial(&mut pending, prefix, &mut lock_dst)
}

fn flush_partial<W: Write>(
    pending: &mut Vec<u8>,
    prefix: &str,
    lock_dst: &mut impl FnMut() -> W,
) -> io::Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut out = Vec::with_capacity(prefix.len() + pending.len() + 1);
    out.extend_from_slice(prefix.as_bytes());
    out.append(pending);
    // Untagged output is passed through as the PE wrote it (no newline of ours).
    if !prefix.is_empty() {
        out.push(b'\n');
    }
    let mut d = lock_dst();
    d.write_all(&out)?;
    d.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::io::Cursor;
    use std::rc::Rc;

    #[derive(Clone, Default)]
    struct Sink(Rc<RefCell<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Sink {
        fn get(&self) -> Vec<u8> {
            self.0.borrow().clone()
        }
    }

    /// A reader returning data in fixed-size pieces.
    struct Chunky<'a>(&'a [u8], usize);
    impl Read for Chunky<'_> {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(self.0.len()).min(b.len());
            b[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn prefixes_lines_and_flushes_partial() {
        let out = Sink::default();
        forward_tagged(Cursor::new(b"a\nbb\n\nlast"), "[3] ", || out.clone()).unwrap();
        assert_eq!(out.get(), b"[3] a\n[3] bb\n[3] \n[3] last\n");
    }

    #[test]
    fn lines_split_across_reads() {
        let out = Sink::default();
        forward_tagged(Chunky(b"hello world\nsecond\n", 3), "[0] ", || out.clone()).unwrap();
        assert_eq!(out.get(), b"[0] hello world\n[0] second\n");
    }

    #[test]
    fn empty_input() {
        let out = Sink::default();
        forward_tagged(Cursor::new(b""), "[0] ", || out.clone()).unwrap();
        assert!(out.get().is_empty());
    }
}
