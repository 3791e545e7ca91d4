//! All-reduce: recursive doubling, ring (reduce-scatter + allgather) and Rabenseifner
//! (reduce-scatter by recursive halving + allgather by recursive doubling).

use crate::ctx::{floor_log2, PORT_ALIGN, SMALL_REDUCE_BYTES};
use crate::types::{as_bytes, as_bytes_mut};
use crate::{CollCtx, CollOps, Op, ReduceAlgorithm, Reducible};
use std::mem::size_of;

impl CollCtx {
    /// All-reduce (`shmem_<type>_<op>_reduce`): `dest[i] = src_0[i] op .. op src_{n-1}[i]`
    /// for `i < nelems` on every member; `src` and `dest` are symmetric byte offsets of
    /// `T` arrays and may be the same (in place). `dest` must be ready on every member
    /// when any member calls. Every member gets bitwise the same result, for any operator:
    /// ring and Rabenseifner compute each element's total on one member and copy it;
    /// in recursive doubling both partners of an exchange combine the same two vectors
    /// with the lower-ranked one on the left (float max/min over +0.0 and -0.0, or NaN
    /// payloads, would otherwise differ by operand order).
    ///
    /// Messages go through scratch in segments, so any `nelems` works with a fixed scratch.
    /// Panics if `T` does not support `op`.
    pub fn reduce<T: Reducible, O: CollOps>(
        &mut self,
        ops: &O,
        alg: ReduceAlgorithm,
        op: Op,
        dest: usize,
        src: usize,
        nelems: usize,
    ) {
        assert!(
            T::supports(op),
            "reduce: {op:?} is not defined for {}",
            std::any::type_name::<T>()
        );
        let n = self.size();
        let esz = size_of::<T>();
        let seg = match alg {
            ReduceAlgorithm::RecursiveDoubling => (self.port_bytes(floor_log2(n) + 1) / esz).max(1),
            ReduceAlgorithm::Ring => (self.port_bytes(2) / esz).max(1) * n,
            ReduceAlgorithm::Rabenseifner => self.rab_seg(esz),
        };
        // One segment of at most SMALL_REDUCE_BYTES: the grant-free path.
        let small = alg == ReduceAlgorithm::RecursiveDoubling
            && nelems > 0
            && nelems * esz <= SMALL_REDUCE_BYTES
            && nelems <= seg
            && self.small_base != 0;
        let mut acc: Vec<T> = Vec::new();
        let mut tmp: Vec<T> = Vec::new();
        let mut start = 0;
        while start < nelems {
            let m = seg.min(nelems - start);
            acc.clear();
            acc.resize(m, T::default());
            ops.read_local(src + start * esz, as_bytes_mut(&mut acc));
            let d = dest + start * esz;
            match alg {
                ReduceAlgorithm::RecursiveDoubling if small => {
                    self.rd_small(ops, op, d, &mut acc, &mut tmp)
                }
                ReduceAlgorithm::RecursiveDoubling => {
                    self.rd_segment(ops, op, d, &mut acc, &mut tmp)
                }
                ReduceAlgorithm::Ring => self.ring_segment(ops, op, d, &mut acc, &mut tmp),
                ReduceAlgorithm::Rabenseifner => self.rab_segment(ops, op, d, &mut acc, &mut tmp),
            }
            start += m;
        }
    }

    /// Receives the message that just landed in scratch at `at` into `tmp` and folds it in.
    fn fold_in<T: Reducible, O: CollOps>(
        ops: &O,
        op: Op,
        at: usize,
        acc: &mut [T],
        tmp: &mut Vec<T>,
    ) {
        tmp.clear();
        tmp.resize(acc.len(), T::default());
        ops.read_local(at, as_bytes_mut(tmp));
        T::combine(op, acc, tmp);
    }

    /// [`Self::fold_in`] for an exchange whose two partners both combine: the lower-ranked
    /// member's vector is always the left operand (`from_lower`: the message came from the
    /// lower rank), so both compute the same bits even where `combine` is not commutative
    /// bit for bit (float max/min over +0.0 and -0.0, NaN payloads).
    fn fold_in_ordered<T: Reducible, O: CollOps>(
        ops: &O,
        op: Op,
        at: usize,
        acc: &mut [T],
        tmp: &mut Vec<T>,
        from_lower: bool,
    ) {
        if !from_lower {
            return Self::fold_in(ops, op, at, acc, tmp);
        }
        tmp.clear();
        tmp.resize(acc.len(), T::default());
        ops.read_local(at, as_bytes_mut(tmp));
        T::combine(op, tmp, acc);
        acc.copy_from_slice(tmp);
    }

    /// Recursive doubling on one segment. With p the largest power of two <= n and
    /// r = n - p, the first 2r members pair up: each even one hands its data to its odd
    /// neighbour and waits for the result; the p remaining members exchange and combine
    /// with partner `rank ^ 2^k` in round k. Scratch ports: one per round plus the fold.
    fn rd_segment<T: Reducible, O: CollOps>(
        &mut self,
        ops: &O,
        op: Op,
        dest: usize,
        acc: &mut [T],
        tmp: &mut Vec<T>,
    ) {
        let port = self.port_bytes(floor_log2(self.size()) + 1);
        let sb = self.scratch;
        self.rd_segment_with(ops, op, dest, acc, tmp, move |k| (sb + k * port, true));
    }

    /// Recursive doubling through the small-reduce area: the buffer of this call's parity,
    /// no grants (see [`Self::rd_segment_with`]).
    fn rd_small<T: Reducible, O: CollOps>(
        &mut self,
        ops: &O,
        op: Op,
        dest: usize,
        acc: &mut [T],
        tmp: &mut Vec<T>,
    ) {
        let parity = (self.small_calls % 2) as usize;
        self.small_calls += 1;
        let base = self.small_base + parity * Self::small_ports(self.size()) * SMALL_REDUCE_BYTES;
        self.rd_segment_with(ops, op, dest, acc, tmp, |k| {
            (base + k * SMALL_REDUCE_BYTES, false)
        });
    }

    /// Recursive doubling with the scratch port of round `k` (`logp` for the fold) at
    /// `port(k).0`; `port(k).1`: whether that buffer is reused from call to call and so
    /// needs clear-to-send grants. The small path (`false`) alternates between two buffers
    /// instead: a member that writes buffer `c % 2` for call `c + 2` has finished call
    /// `c + 1`, which needed this PE's data of call `c + 1`, which this PE sends only after
    /// it finished reading the buffer in call `c` (an all-reduce completes nowhere before
    /// every member contributed).
    fn rd_segment_with<T: Reducible, O: CollOps>(
        &mut self,
        ops: &O,
        op: Op,
        dest: usize,
        acc: &mut [T],
        tmp: &mut Vec<T>,
        port: impl Fn(usize) -> (usize, bool),
    ) {
        let n = self.size();
        let me = self.me;
        let logp = floor_log2(n);
        let p = 1usize << logp;
        let r = n - p;
        let port_at = |k: usize| port(k).0;
        let granted = port(0).1;
        let fold = logp;
        let real = |v: usize| if v < r { 2 * v + 1 } else { v + r };
        let newrank = if me < 2 * r {
            (me % 2 == 1).then_some(me / 2)
        } else {
            Some(me - r)
        };
        // grants for everything this segment will receive in scratch
        if granted && me < 2 * r && me % 2 == 1 {
            self.grant(ops, me - 1);
        }
        if let (true, Some(v)) = (granted, newrank) {
            for k in 0..logp {
                self.grant(ops, real(v ^ (1 << k)));
            }
        }
        let Some(v) = newrank else {
            // folded-away member: contribute, then receive the result in dest
            self.send(ops, me + 1, port_at(fold), as_bytes(acc), granted);
            self.recv(ops, me + 1);
            return;
        };
        if me < 2 * r {
            self.recv(ops, me - 1);
            Self::fold_in_ordered(ops, op, port_at(fold), acc, tmp, true);
        }
        for k in 0..logp {
            let partner = real(v ^ (1 << k));
            self.send(ops, partner, port_at(k), as_bytes(acc), granted);
            self.recv(ops, partner);
            Self::fold_in_ordered(ops, op, port_at(k), acc, tmp, partner < me);
        }
        if me < 2 * r {
            self.send(ops, me - 1, dest, as_bytes(acc), false);
        }
        ops.write_local(dest, as_bytes(acc));
    }

    /// Ring on one segment split in n chunks: reduce-scatter (n-1 steps: send a partial
    /// chunk right, fold the one from the left; two scratch ports used alternately, each
    /// re-granted once consumed), after which this PE holds the total of chunk me+1; then a
    /// ring allgather of the totals straight into `dest`. Each PE moves ~2x the data
    /// whatever n: the large-message algorithm.
    fn ring_segment<T: Reducible, O: CollOps>(
        &mut self,
        ops: &O,
        op: Op,
        dest: usize,
        acc: &mut [T],
        tmp: &mut Vec<T>,
    ) {
        let n = self.size();
        let m = acc.len();
        let esz = size_of::<T>();
        let port = self.port_bytes(2);
        let lo = |c: usize| c * m / n;
        let (right, left) = (self.ahead(1), self.behind(1));
        let steps = n - 1;
        for _ in 0..steps.min(2) {
            self.grant(ops, left);
        }
        for s in 0..steps {
            let at = self.scratch + (s % 2) * port;
            let sc = self.behind(s);
            self.send(ops, right, at, as_bytes(&acc[lo(sc)..lo(sc + 1)]), true);
            let rc = self.behind(s + 1);
            self.recv(ops, left);
            Self::fold_in(ops, op, at, &mut acc[lo(rc)..lo(rc + 1)], tmp);
            if s + 2 < steps {
                self.grant(ops, left);
            }
        }
        let own = self.ahead(1);
        let chunk_at = |c: usize| dest + lo(c) * esz;
        ops.write_local(chunk_at(own), as_bytes(&acc[lo(own)..lo(own + 1)]));
        for s in 0..steps {
            let sc = (own + n - s) % n;
            let len = (lo(sc + 1) - lo(sc)) * esz;
            self.send_local(ops, right, chunk_at(sc), chunk_at(sc), len, false);
            self.recv(ops, left);
        }
    }

    /// Elements per Rabenseifner segment: the largest `m` whose [`rab_layout`] fits in
    /// scratch (at least 1).
    pub(crate) fn rab_seg(&self, esz: usize) -> usize {
        let n = self.size();
        let logp = floor_log2(n);
        let fold = n != 1 << logp;
        // rab_layout(m) <= m * esz * (1 + fold) + logp * (esz + PORT_ALIGN) + fold * PORT_ALIGN
        let fixed = logp * (esz + PORT_ALIGN) + if fold { PORT_ALIGN } else { 0 };
        let m = (self.scratch_len.saturating_sub(fixed) / (esz * (1 + fold as usize))).max(1);
        debug_assert!(rab_layout(m, esz, logp, fold).1 <= self.scratch_len);
        m
    }

    /// Rabenseifner's all-reduce on one segment of `m` elements. With p the largest power
    /// of two <= n and r = n - p, the first 2r members pair up as in recursive doubling:
    /// each even one sends its whole segment to its odd neighbour (scratch, fold port),
    /// which combines it in and joins the core of p members; at the end the odd one sends
    /// the result straight into the even one's `dest`. In the core (virtual rank v), the
    /// segment is cut into p chunks (chunk c: elements `c * m / p .. (c + 1) * m / p`);
    ///
    /// - reduce-scatter by recursive halving: in round k (k = 0..log2 p) this PE's region
    ///   of p / 2^k chunks is halved; it keeps the half its bit `p / 2^(k+1)` selects and
    ///   sends the other half to partner `v ^ p / 2^(k+1)` (scratch port k, granted at the
    ///   start of the segment), then folds in what the partner sent for its half. After
    ///   the last round it holds the total of chunk v;
    /// - allgather by recursive doubling straight into `dest`: in round k it sends its
    ///   aligned block of 2^k chunks to `v ^ 2^k` and receives the neighbouring block.
    ///
    /// Each chunk's total is computed on exactly one member and only copied from there, so
    /// every member gets bitwise the same result whatever the operator (no reliance on
    /// `combine` being commutative bit for bit). Per PE: about 2m elements moved and m
    /// combined in 2 log2 p steps (ring: the same bytes in 2 (n - 1) steps; recursive
    /// doubling: m log2 p of each in log2 p steps).
    fn rab_segment<T: Reducible, O: CollOps>(
        &mut self,
        ops: &O,
        op: Op,
        dest: usize,
        acc: &mut [T],
        tmp: &mut Vec<T>,
    ) {
        let n = self.size();
        let me = self.me;
        let m = acc.len();
        let esz = size_of::<T>();
        let logp = floor_log2(n);
        let p = 1usize << logp;
        let r = n - p;
        let (offs, _) = rab_layout(m, esz, logp, r > 0);
        let sb = self.scratch;
        let port_at = |k: usize| sb + offs[k];
        let fold = logp;
        let real = |v: usize| if v < r { 2 * v + 1 } else { v + r };
        let newrank = if me < 2 * r {
            (me % 2 == 1).then_some(me / 2)
        } else {
            Some(me - r)
        };
        // grants for everything this segment will receive in scratch
        if me < 2 * r && me % 2 == 1 {
            self.grant(ops, me - 1);
        }
        if let Some(v) = newrank {
            for k in 0..logp {
                self.grant(ops, real(v ^ (p >> (k + 1))));
            }
        }
        let Some(v) = newrank else {
            // folded-away member: contribute, then receive the result in dest
            self.send(ops, me + 1, port_at(fold), as_bytes(acc), true);
            self.recv(ops, me + 1);
            return;
        };
        if me < 2 * r {
            self.recv(ops, me - 1);
            Self::fold_in(ops, op, port_at(fold), acc, tmp);
        }
        let lo = |c: usize| c * m / p;
        // reduce-scatter: this PE's region is chunks a..a + 2h
        let mut a = 0;
        for k in 0..logp {
            let h = p >> (k + 1);
            let partner = real(v ^ h);
            let (keep, give) = if v & h == 0 { (a, a + h) } else { (a + h, a) };
            self.send(
                ops,
                partner,
                port_at(k),
                as_bytes(&acc[lo(give)..lo(give + h)]),
                true,
            );
            self.recv(ops, partner);
            Self::fold_in(ops, op, port_at(k), &mut acc[lo(keep)..lo(keep + h)], tmp);
            a = keep;
        }
        debug_assert_eq!(a, v);
        // allgather: this PE holds chunks b..b + d, b = v rounded down to a multiple of d
        let at = |c: usize| dest + lo(c) * esz;
        ops.write_local(at(v), as_bytes(&acc[lo(v)..lo(v + 1)]));
        for k in 0..logp {
            let d = 1usize << k;
            let b = v & !(d - 1);
            self.send_local(ops, real(v ^ d), at(b), at(b), at(b + d) - at(b), false);
            self.recv(ops, real(v ^ d));
        }
        if me < 2 * r {
            self.send_local(ops, me - 1, dest, dest, size_of_val(acc), false);
        }
    }
}

/// Scratch layout of a Rabenseifner segment of `m` elements of `esz` bytes over a core of
/// 2^`logp` members: the port of reduce-scatter round k at `offs[k]` (relative to scratch),
/// sized for ceil(m / 2^(k+1)) elements, the most a half-region of that round holds
/// (`lo(c + h) - lo(c) <= ceil(h * m / p)`); with `fold`, the fold port (m elements) at
/// `offs[logp]`. Returns the offsets and the total bytes.
fn rab_layout(m: usize, esz: usize, logp: usize, fold: bool) -> (Vec<usize>, usize) {
    let align = |b: usize| b.div_ceil(PORT_ALIGN) * PORT_ALIGN;
    let mut offs = Vec::with_capacity(logp + 1);
    let mut off = 0;
    for k in 0..logp {
        offs.push(off);
        off += align(m.div_ceil(1 << (k + 1)) * esz);
    }
    offs.push(off);
    if fold {
        off += align(m * esz);
    }
    (offs, off)
}
