//! Collect (variable sizes), fcollect (equal sizes) and alltoall.

use crate::{CollCtx, CollOps, CollectAlgorithm};

/// Where each member's block lives in a symmetric region: bytes
/// `base + offs[j] .. base + offs[j] + lens[j]`, blocks consecutive in member order.
struct Blocks<'a> {
    base: usize,
    offs: &'a [usize],
    lens: &'a [usize],
}

impl Blocks<'_> {
    /// Symmetric address and byte length of blocks `a..a + cnt` (no wrap).
    fn span(&self, a: usize, cnt: usize) -> (usize, usize) {
        let end = self.offs[a + cnt - 1] + self.lens[a + cnt - 1];
        (self.base + self.offs[a], end - self.offs[a])
    }
}

/// The blocks `start, start+1, .., start+cnt-1` (mod n) as at most two contiguous runs.
fn runs(start: usize, cnt: usize, n: usize) -> impl Iterator<Item = (usize, usize)> {
    let first = cnt.min(n - start);
    [(start, first), (0, cnt - first)]
        .into_iter()
        .filter(|&(_, c)| c > 0)
}

impl CollCtx {
    /// Concatenates every member's `nbytes` from symmetric `src` into symmetric `dest`
    /// (member order) on every member (`fcollect`). `dest` (n * nbytes) must be ready on
    /// every member when any member calls; `src` and `dest` must not overlap.
    pub fn fcollect<O: CollOps>(
        &mut self,
        ops: &O,
        alg: CollectAlgorithm,
        dest: usize,
        src: usize,
        nbytes: usize,
    ) {
        let n = self.size();
        if nbytes == 0 {
            return;
        }
        let offs: Vec<usize> = (0..n).map(|j| j * nbytes).collect();
        let lens = vec![nbytes; n];
        self.allgather(
            ops,
            alg,
            &Blocks {
                base: dest,
                offs: &offs,
                lens: &lens,
            },
            src,
            false,
        );
    }

    /// Concatenates every member's block (this PE's: `nbytes` at symmetric `src`; sizes may
    /// differ per member, zero included) into symmetric `dest` on every member, in member
    /// order (`collect`). First exchanges the sizes (through scratch) for the exclusive
    /// prefix that places each block, then calls `choose(total_bytes, n)` (the same on
    /// every member, e.g. [`crate::choose_collect`]) for the algorithm. Returns the total
    /// size in bytes.
    pub fn collect<O: CollOps>(
        &mut self,
        ops: &O,
        choose: impl FnOnce(usize, usize) -> CollectAlgorithm,
        dest: usize,
        src: usize,
        nbytes: usize,
    ) -> usize {
        let n = self.size();
        // size exchange: every member's u64 into scratch[8j], recursive doubling with grants
        ops.write_local(self.scratch + 8 * self.me, &(nbytes as u64).to_ne_bytes());
        let soffs: Vec<usize> = (0..n).map(|j| 8 * j).collect();
        let slens = vec![8; n];
        let sizes_blocks = Blocks {
            base: self.scratch,
            offs: &soffs,
            lens: &slens,
        };
        self.bruck(ops, &sizes_blocks, true);
        let mut raw = vec![0u8; 8 * n];
        ops.read_local(self.scratch, &mut raw);
        let lens: Vec<usize> = raw
            .chunks_exact(8)
            .map(|c| u64::from_ne_bytes(c.try_into().unwrap()) as usize)
            .collect();
        let mut offs = Vec::with_capacity(n);
        let mut total = 0usize;
        for &l in &lens {
            offs.push(total);
            total += l;
        }
        if total > 0 {
            let alg = choose(total, n);
            self.allgather(
                ops,
                alg,
                &Blocks {
                    base: dest,
                    offs: &offs,
                    lens: &lens,
                },
                src,
                false,
            );
        }
        total
    }

    fn allgather<O: CollOps>(
        &mut self,
        ops: &O,
        alg: CollectAlgorithm,
        b: &Blocks,
        src: usize,
        scratch: bool,
    ) {
        let (at, len) = b.span(self.me, 1);
        ops.copy_local(at, src, len);
        match alg {
            CollectAlgorithm::Ring => self.ring_allgather(ops, b, scratch),
            CollectAlgorithm::RecursiveDoubling => self.bruck(ops, b, scratch),
        }
    }

    /// Ring: in step s send the block received in step s-1 (own block first) to the next
    /// member, receive the one before from the previous. n-1 steps, bandwidth-optimal.
    fn ring_allgather<O: CollOps>(&mut self, ops: &O, b: &Blocks, scratch: bool) {
        let n = self.size();
        let (right, left) = (self.ahead(1), self.behind(1));
        if scratch {
            for _ in 0..n.saturating_sub(1) {
                self.grant(ops, left);
            }
        }
        for s in 0..n.saturating_sub(1) {
            let (at, len) = b.span(self.behind(s), 1);
            self.send_local(ops, right, at, at, len, scratch);
            self.recv(ops, left);
        }
    }

    /// Recursive doubling for any n (Bruck's dissemination allgather, blocks kept at their
    /// final places): before round k this PE holds the min(2^k, n) blocks from its own on;
    /// it sends them to the member 2^k behind and receives as many from the one 2^k ahead.
    /// ceil(log2 n) rounds; a run that wraps past the last member goes as two messages.
    fn bruck<O: CollOps>(&mut self, ops: &O, b: &Blocks, scratch: bool) {
        let n = self.size();
        if scratch {
            let mut d = 1;
            while d < n {
                let from = self.ahead(d);
                for _ in runs(from, d.min(n - d), n) {
                    self.grant(ops, from);
                }
                d <<= 1;
            }
        }
        let mut d = 1;
        while d < n {
            let cnt = d.min(n - d);
            let to = self.behind(d);
            for (a, c) in runs(self.me, cnt, n) {
                let (at, len) = b.span(a, c);
                self.send_local(ops, to, at, at, len, scratch);
            }
            let from = self.ahead(d);
            for _ in runs(from, cnt, n) {
                self.recv(ops, from);
            }
            d <<= 1;
        }
    }

    /// All-to-all personalized exchange (`alltoall`): block j (`nbytes` at
    /// `src + j * nbytes`) goes to member j at `dest + me * nbytes`. Pairwise exchange:
    /// in step s send to the member s ahead, receive from the one s behind (any n).
    /// `dest` must be ready on every member when any member calls; no overlap with `src`.
    pub fn alltoall<O: CollOps>(&mut self, ops: &O, dest: usize, src: usize, nbytes: usize) {
        let n = self.size();
        if nbytes == 0 {
            return;
        }
        let me = self.me;
        ops.copy_local(dest + me * nbytes, src + me * nbytes, nbytes);
        for s in 1..n {
            let to = self.ahead(s);
            self.send_local(
                ops,
                to,
                dest + me * nbytes,
                src + to * nbytes,
                nbytes,
                false,
            );
        }
        for s in 1..n {
            let from = self.behind(s);
            self.recv(ops, from);
        }
    }
}
