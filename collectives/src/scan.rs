//! Prefix sums (OpenSHMEM 1.6 `sum_inscan` / `sum_exscan`).

use crate::ctx::ceil_log2;
use crate::types::{as_bytes, as_bytes_mut};
use crate::{CollCtx, CollOps, Op, Reducible};
use std::mem::size_of;

impl CollCtx {
    /// Prefix sum over members in team order: on member i, `dest[k]` becomes the sum of
    /// `src[k]` over members `0..=i` (`inclusive`) or `0..i` (exclusive; zero on member 0).
    /// In place allowed; `dest` must be ready on every member when any member calls.
    ///
    /// Recursive doubling (Hillis–Steele): in round k send the running sum to the member
    /// 2^k ahead and add the one from 2^k behind; ceil(log2 n) rounds through scratch.
    pub fn scan_sum<T: Reducible, O: CollOps>(
        &mut self,
        ops: &O,
        inclusive: bool,
        dest: usize,
        src: usize,
        nelems: usize,
    ) {
        let n = self.size();
        let me = self.me;
        let esz = size_of::<T>();
        let rounds = ceil_log2(n);
        let port = self.port_bytes(rounds.max(1));
        let seg = (port / esz).max(1);
        let mut incl: Vec<T> = Vec::new();
        let mut excl: Vec<T> = Vec::new();
        let mut tmp: Vec<T> = Vec::new();
        let mut start = 0;
        while start < nelems {
            let m = seg.min(nelems - start);
            incl.clear();
            incl.resize(m, T::default());
            excl.clear();
            excl.resize(m, T::default());
            ops.read_local(src + start * esz, as_bytes_mut(&mut incl));
            for k in 0..rounds {
                if me >= 1 << k {
                    self.grant(ops, me - (1 << k));
                }
            }
            let mut have_excl = false;
            for k in 0..rounds {
                let d = 1usize << k;
                let at = self.scratch + k * port;
                if me + d < n {
                    self.send(ops, me + d, at, as_bytes(&incl), true);
                }
                if me >= d {
                    self.recv(ops, me - d);
                    tmp.clear();
                    tmp.resize(m, T::default());
                    ops.read_local(at, as_bytes_mut(&mut tmp));
                    // lower members' partial sum first, as a sequential prefix would
                    let mut t2 = tmp.clone();
                    T::combine(Op::Sum, &mut t2, &incl);
                    incl = t2;
                    if have_excl {
                        T::combine(Op::Sum, &mut tmp, &excl);
                    }
                    std::mem::swap(&mut excl, &mut tmp);
                    have_excl = true;
                }
            }
            let out = if inclusive { &incl } else { &excl };
            ops.write_local(dest + start * esz, as_bytes(out));
            start += m;
        }
    }
}
