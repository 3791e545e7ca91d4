//! The one-sided operations the data-moving collectives need, beyond [`SyncOps`].

use crate::SyncOps;

/// One-sided data movement on symmetric memory, as the collective algorithms see it.
///
/// Addresses are *symmetric offsets* (`usize`): the same offset names the same symmetric
/// byte on every PE (in the runtime: an offset into segment 0, or any other encoding the
/// implementor chooses, as long as `offset + i` is byte `i` after it). Signal slots are the
/// 64-bit words of [`SyncOps`]. The algorithms never put to the calling PE itself and never
/// read remote memory: every transfer is a push followed by a signal the receiver waits on
/// locally.
///
/// Implementations must be usable from one thread per PE; they need not be `Sync`.
pub trait CollOps: SyncOps {
    /// Copies `src` (any memory of the caller) to symmetric offset `dst` on world PE `pe`,
    /// then atomically adds `value` to signal `slot` on `pe`. A PE that observes the signal
    /// (through [`SyncOps::wait_ge`]) observes the data. `src` is reusable on return.
    /// `src` may be empty: then only the signal is delivered.
    fn put_signal(&self, pe: usize, dst: usize, src: &[u8], slot: usize, value: u64);

    /// As [`put_signal`](Self::put_signal), with the source in the caller's own symmetric
    /// memory at `src..src + len`. The default stages through a private buffer; the
    /// runtime should override it with a direct copy.
    fn put_signal_local(
        &self,
        pe: usize,
        dst: usize,
        src: usize,
        len: usize,
        slot: usize,
        value: u64,
    ) {
        let mut buf = vec![0u8; len];
        self.read_local(src, &mut buf);
        self.put_signal(pe, dst, &buf, slot, value);
    }

    /// Reads the caller's own symmetric bytes `src..src + dst.len()` into `dst`.
    fn read_local(&self, src: usize, dst: &mut [u8]);

    /// Writes `src` to the caller's own symmetric bytes at `dst`.
    fn write_local(&self, dst: usize, src: &[u8]);

    /// Copies `len` of the caller's own symmetric bytes from `src` to `dst` (the ranges may
    /// overlap). The default stages through a private buffer.
    fn copy_local(&self, dst: usize, src: usize, len: usize) {
        if dst == src || len == 0 {
            return;
        }
        let mut buf = vec![0u8; len];
        self.read_local(src, &mut buf);
        self.write_local(dst, &buf);
    }
}
