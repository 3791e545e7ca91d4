//! Broadcast: binomial tree and scatter-allgather.

use crate::{BcastAlgorithm, CollCtx, CollOps};

/// One broadcast, for [`CollCtx::broadcast_opt`]: `nbytes` bytes from symmetric `src` on
/// member `root` (team index) to symmetric `dest` on every member; the root's own `dest`
/// is written only if `update_root`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Broadcast {
    /// The root, as a team index.
    pub root: usize,
    /// Symmetric destination offset.
    pub dest: usize,
    /// Symmetric source offset (read on the root).
    pub src: usize,
    /// Bytes to broadcast.
    pub nbytes: usize,
    /// Whether the root's `dest` is written too (1.5); `false` for the deprecated
    /// active-set `shmem_broadcast32/64`.
    pub update_root: bool,
}

impl CollCtx {
    /// Broadcast of `nbytes` bytes from symmetric `src` on member `root` (team index) to
    /// symmetric `dest` on every member, the root included (OpenSHMEM 1.5). `dest` must be
    /// ready to be written on every member when any member calls; `src` and `dest` may be
    /// the same on the root. Returns when this PE's `dest` is complete.
    pub fn broadcast<O: CollOps>(
        &mut self,
        ops: &O,
        alg: BcastAlgorithm,
        root: usize,
        dest: usize,
        src: usize,
        nbytes: usize,
    ) {
        let b = Broadcast {
            root,
            dest,
            src,
            nbytes,
            update_root: true,
        };
        self.broadcast_opt(ops, alg, b)
    }

    /// [`Self::broadcast`]; with `update_root == false` the root's `dest` is left alone (the
    /// deprecated active-set `shmem_broadcast32/64`): the root sends from `src`.
    pub fn broadcast_opt<O: CollOps>(&mut self, ops: &O, alg: BcastAlgorithm, b: Broadcast) {
        let Broadcast {
            root,
            dest,
            src,
            nbytes,
            update_root,
        } = b;
        let n = self.size();
        assert!(root < n, "broadcast: root {root} out of range 0..{n}");
        if nbytes == 0 {
            return;
        }
        if self.me == root && update_root {
            ops.copy_local(dest, src, nbytes);
        }
        if n == 1 {
            return;
        }
        // What this PE sends from: the root its source, the others what they received.
        let from = if self.me == root { src } else { dest };
        match alg {
            BcastAlgorithm::Binomial => self.bcast_binomial(ops, root, dest, from, nbytes),
            BcastAlgorithm::ScatterAllgather => {
                self.bcast_scatter_allgather(ops, root, dest, from, nbytes)
            }
        }
    }

    /// Binomial tree over ranks relative to the root: receive once from the parent (rank
    /// with its lowest set bit cleared), then forward to children, largest subtree first.
    /// ceil(log2 n) steps; every message is the whole buffer, straight into `dest`.
    fn bcast_binomial<O: CollOps>(
        &mut self,
        ops: &O,
        root: usize,
        dest: usize,
        from: usize,
        nbytes: usize,
    ) {
        let n = self.size();
        let vr = (self.me + n - root) % n;
        let abs = |v: usize| (v + root) % n;
        // lowest set bit of vr bounds our subtree; the root's covers everything
        let mut mask = if vr == 0 {
            1usize << super::ctx::ceil_log2(n)
        } else {
            vr & vr.wrapping_neg()
        };
        if vr != 0 {
            self.recv(ops, abs(vr - mask));
        }
        while mask > 1 {
            mask >>= 1;
            if vr + mask < n {
                self.send_local(ops, abs(vr + mask), dest, from, nbytes, false);
            }
        }
    }

    /// Scatter (the root sends chunk i to relative rank i), then a ring allgather in which
    /// the root only sends. About 2x the message size moved per PE regardless of n: the
    /// large-message algorithm.
    fn bcast_scatter_allgather<O: CollOps>(
        &mut self,
        ops: &O,
        root: usize,
        dest: usize,
        from: usize,
        nbytes: usize,
    ) {
        let n = self.size();
        let vr = (self.me + n - root) % n;
        let abs = |v: usize| (v + root) % n;
        let lo = |c: usize| c * nbytes / n;
        let len = |c: usize| lo(c + 1) - lo(c);
        if vr == 0 {
            for c in 1..n {
                self.send_local(ops, abs(c), dest + lo(c), from + lo(c), len(c), false);
            }
        } else {
            self.recv(ops, root);
        }
        let right = abs((vr + 1) % n);
        let left = abs((vr + n - 1) % n);
        for s in 0..n - 1 {
            // send the chunk received last step (own chunk at step 0); nobody sends to the root
            let sc = (vr + n - s) % n;
            if vr + 1 != n {
                self.send_local(ops, right, dest + lo(sc), from + lo(sc), len(sc), false);
            }
            if vr != 0 {
                self.recv(ops, left);
            }
        }
    }
}
