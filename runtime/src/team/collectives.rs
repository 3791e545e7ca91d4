//! The collectives as [`Team`] methods: broadcast, collect, fcollect, alltoall, reductions,
//! scans (over raw addresses for the C API, and typed over `SymVec`s).
use super::*;

/// The elements of a [`SymVec`] as the algorithms address them: byte offset into segment 0.
fn sym_off<T: Pod>(rt: &Runtime, v: &SymVec<'_, T>) -> usize {
    v.as_ptr() as usize - rt.segments()[0].base
}

/// `a * b` element counts, or [`Error::Overflow`] naming `call` (never a wrapped count that
/// passes the bounds check).
fn times(call: &'static str, a: usize, b: usize) -> Result<usize> {
    a.checked_mul(b).ok_or_else(|| Error::Overflow {
        call,
        what: format!("{a} x {b} elements"),
    })
}

fn need<T: Pod>(v: &SymVec<'_, T>, elems: usize) -> Result<()> {
    if elems <= v.len() {
        Ok(())
    } else {
        Err(Error::OutOfBounds {
            start: 0,
            end: elems,
            len: v.len(),
        })
    }
}

impl<'a> Team<'a> {
    /// [`Team::broadcast`] over raw local addresses (the C API); the root's `dest` is
    /// written only if `update_root` (the deprecated active-set forms leave it). `Ok(false)`,
    /// having done nothing, when `dest` or `src` is outside the symmetric heap, so that the
    /// caller can use another method; symmetric addresses give every member the same answer.
    #[doc(hidden)]
    pub fn broadcast_addr(
        &self,
        dest: usize,
        src: usize,
        nbytes: usize,
        root: usize,
        update_root: bool,
    ) -> Result<bool> {
        self.check_root("broadcast", root)?;
        let (Some(d), Some(s)) = (self.heap_off(dest, nbytes), self.heap_off(src, nbytes)) else {
            return Ok(false);
        };
        let alg = choose_bcast(&self.rt.teams().overrides, nbytes, self.n_pes());
        let ops = self.ops();
        let b = rshmem_collectives::Broadcast {
            root,
            dest: d,
            src: s,
            nbytes,
            update_root,
        };
        self.st.lock_ctx().broadcast_opt(&ops, alg, b);
        Ok(true)
    }

    /// [`Team::fcollect`] over raw local addresses (`nbytes` per member); as
    /// [`Team::broadcast_addr`].
    #[doc(hidden)]
    pub fn fcollect_addr(&self, dest: usize, src: usize, nbytes: usize) -> Result<bool> {
        let total = times("fcollect", nbytes, self.n_pes())?;
        let (Some(d), Some(s)) = (self.heap_off(dest, total), self.heap_off(src, nbytes)) else {
            return Ok(false);
        };
        let alg = choose_collect(&self.rt.teams().overrides, total, self.n_pes());
        let ops = self.ops();
        self.st.lock_ctx().fcollect(&ops, alg, d, s, nbytes);
        Ok(true)
    }

    /// [`Team::alltoall`] over raw local addresses (`nbytes` per pair); as
    /// [`Team::broadcast_addr`].
    #[doc(hidden)]
    pub fn alltoall_addr(&self, dest: usize, src: usize, nbytes: usize) -> Result<bool> {
        let total = times("alltoall", nbytes, self.n_pes())?;
        let (Some(d), Some(s)) = (self.heap_off(dest, total), self.heap_off(src, total)) else {
            return Ok(false);
        };
        let ops = self.ops();
        self.st.lock_ctx().alltoall(&ops, d, s, nbytes);
        Ok(true)
    }

    /// [`Team::collect`] over raw local addresses (`nbytes` from this member; the sizes may
    /// differ): `Ok(Some(total bytes))`, or `Ok(None)` as in [`Team::broadcast_addr`]. The
    /// job is ended with a message naming `call` when the total runs past the end of
    /// `dest`'s allocation (the total is only known inside the collective).
    #[doc(hidden)]
    pub fn collect_addr(
        &self,
        call: &'static str,
        dest: usize,
        src: usize,
        nbytes: usize,
    ) -> Result<Option<usize>> {
        let (Some(d), Some(s)) = (self.heap_off(dest, 1), self.heap_off(src, nbytes)) else {
            return Ok(None);
        };
        let overrides = &self.rt.teams().overrides;
        let ops = self.ops();
        let total = self.st.lock_ctx().collect(
            &ops,
            |total, nt| {
                // Against dest's own allocation, not the end of the heap: a short dest
                // must not overwrite the next allocation.
                if let Err(e) = self.rt.check_buffer(call, "dest", dest, total) {
                    self.rt.abort(1, &e.to_string());
                }
                choose_collect(overrides, total, nt)
            },
            d,
            s,
            nbytes,
        );
        Ok(Some(total))
    }

    /// [`Team::reduce`] over raw local addresses (`n` elements of `R`); as
    /// [`Team::broadcast_addr`].
    #[doc(hidden)]
    pub fn reduce_addr<R: Reducible>(
        &self,
        op: Op,
        dest: usize,
        src: usize,
        n: usize,
    ) -> Result<bool> {
        let len = n * size_of::<R>();
        let (Some(d), Some(s)) = (self.heap_off(dest, len), self.heap_off(src, len)) else {
            return Ok(false);
        };
        self.reduce_raw::<R>(op, d, s, n).map(|()| true)
    }

    fn check_root(&self, call: &'static str, root: usize) -> Result<()> {
        if root < self.n_pes() {
            Ok(())
        } else {
            Err(Error::InvalidArgument {
                call,
                arg: "root",
                value: root as i64,
                reason: format!("the team has {} PEs", self.n_pes()),
            })
        }
    }

    /// Copies `src[..n]` of team PE `root` into `dest[..n]` on every member, the root
    /// included (`shmem_broadcast`, 1.5 semantics). `src` and `dest` may be the same object.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let world = shmem.team_world();
    /// let v = shmem.alloc_slice::<u64>(4)?;
    /// if world.my_pe() == 0 { v.write_slice(0, &[1, 2, 3, 4])?; }
    /// world.broadcast(&v, &v, 4, 0)?;
    /// assert_eq!(v.to_vec(), [1, 2, 3, 4]);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn broadcast<T: Pod>(
        &self,
        dest: &SymVec<'_, T>,
        src: &SymVec<'_, T>,
        n: usize,
        root: usize,
    ) -> Result<()> {
        self.debug_check("broadcast", &[("n", n as i64), ("root", root as i64)]);
        self.check_root("broadcast", root)?;
        need(dest, n)?;
        need(src, n)?;
        let nbytes = n * size_of::<T>();
        let alg = choose_bcast(&self.rt.teams().overrides, nbytes, self.n_pes());
        let ops = self.ops();
        self.st.lock_ctx().broadcast(
            &ops,
            alg,
            root,
            sym_off(self.rt, dest),
            sym_off(self.rt, src),
            nbytes,
        );
        Ok(())
    }

    /// Concatenates every member's `src[..n]` (`n` may differ per member) into `dest` on
    /// every member, in team order (`shmem_collect`); returns the total number of elements.
    /// `dest` must hold the total: a job whose total exceeds `dest.len()` is ended with a
    /// message (the sizes are only known inside the collective).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let world = shmem.team_world();
    /// let me = world.my_pe();
    /// let src = shmem.alloc_slice::<u32>(world.n_pes())?;
    /// let dest = shmem.alloc_slice::<u32>(world.n_pes() * world.n_pes())?;
    /// src.write_slice(0, &vec![me as u32; me])?;     // PE i contributes i elements
    /// let total = world.collect(&dest, &src, me)?;
    /// assert_eq!(total, (0..world.n_pes()).sum::<usize>());
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn collect<T: Pod>(
        &self,
        dest: &SymVec<'_, T>,
        src: &SymVec<'_, T>,
        n: usize,
    ) -> Result<usize> {
        self.debug_check("collect", &[]);
        need(src, n)?;
        let esz = size_of::<T>();
        let cap = dest.len() * esz;
        let overrides = &self.rt.teams().overrides;
        let rt = self.rt;
        let ops = self.ops();
        let total = self.st.lock_ctx().collect(
            &ops,
            |total, nt| {
                if total > cap {
                    rt.abort(
                        1,
                        &format!(
                            "collect: the members contribute {} elements in all but dest holds {}",
                            total / esz.max(1),
                            dest.len()
                        ),
                    );
                }
                choose_collect(overrides, total, nt)
            },
            sym_off(self.rt, dest),
            sym_off(self.rt, src),
            n * esz,
        );
        Ok(total / esz.max(1))
    }

    /// Concatenates every member's `src[..n]` into `dest[..n * n_pes()]` on every member,
    /// in team order (`shmem_fcollect`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let world = shmem.team_world();
    /// let src = shmem.alloc_slice::<u64>(1)?;
    /// let dest = shmem.alloc_slice::<u64>(world.n_pes())?;
    /// src.write(0, world.my_pe() as u64)?;
    /// world.fcollect(&dest, &src, 1)?;
    /// assert_eq!(dest.read(1.min(world.n_pes() - 1))?, 1.min(world.n_pes() - 1) as u64);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn fcollect<T: Pod>(
        &self,
        dest: &SymVec<'_, T>,
        src: &SymVec<'_, T>,
        n: usize,
    ) -> Result<()> {
        self.debug_check("fcollect", &[("n", n as i64)]);
        need(src, n)?;
        need(dest, times("fcollect", n, self.n_pes())?)?;
        let nbytes = n * size_of::<T>();
        let alg = choose_collect(
            &self.rt.teams().overrides,
            nbytes * self.n_pes(),
            self.n_pes(),
        );
        let ops = self.ops();
        self.st.lock_ctx().fcollect(
            &ops,
            alg,
            sym_off(self.rt, dest),
            sym_off(self.rt, src),
            nbytes,
        );
        Ok(())
    }

    /// Personalized exchange (`shmem_alltoall`): block `j` of `src` (elements
    /// `j*n..(j+1)*n`) goes to team PE `j`, where it lands as block `my_pe()` of `dest`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let world = shmem.team_world();
    /// let n = world.n_pes();
    /// let src = shmem.alloc_slice::<i32>(n)?;
    /// let dest = shmem.alloc_slice::<i32>(n)?;
    /// world.alltoall(&dest, &src, 1)?;
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn alltoall<T: Pod>(
        &self,
        dest: &SymVec<'_, T>,
        src: &SymVec<'_, T>,
        n: usize,
    ) -> Result<()> {
        self.debug_check("alltoall", &[("n", n as i64)]);
        need(src, times("alltoall", n, self.n_pes())?)?;
        need(dest, n * self.n_pes())?;
        let ops = self.ops();
        self.st.lock_ctx().alltoall(
            &ops,
            sym_off(self.rt, dest),
            sym_off(self.rt, src),
            n * size_of::<T>(),
        );
        Ok(())
    }

    fn reduce_raw<R: Reducible>(
        &self,
        op: Op,
        dest: usize,
        src: usize,
        nelems: usize,
    ) -> Result<()> {
        if !R::supports(op) {
            return Err(Error::InvalidArgument {
                call: "reduce",
                arg: "op",
                value: Op::ALL.iter().position(|&o| o == op).unwrap_or(0) as i64,
                reason: format!("{op:?} is not defined for {}", std::any::type_name::<R>()),
            });
        }
        let alg = choose_reduce(
            &self.rt.teams().overrides,
            nelems * size_of::<R>(),
            self.n_pes(),
        );
        let ops = self.ops();
        self.st
            .lock_ctx()
            .reduce::<R, _>(&ops, alg, op, dest, src, nelems);
        Ok(())
    }

    /// All-reduce (`shmem_<type>_<op>_reduce`): `dest[i] = src[i]` of every member combined
    /// with `op`, for `i < n`, on every member. In place (`dest` = `src`) allowed. Bitwise
    /// ops are for integers only: a float with [`Op::And`] is [`Error::InvalidArgument`].
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// use rshmem::Op;
    /// let world = shmem.team_world();
    /// let x = shmem.alloc_slice::<f64>(1)?;
    /// x.write(0, 1.5)?;
    /// world.reduce(Op::Sum, &x, &x, 1)?;
    /// assert_eq!(x.read(0)?, 1.5 * world.n_pes() as f64);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn reduce<T: Pod + Reducible>(
        &self,
        op: Op,
        dest: &SymVec<'_, T>,
        src: &SymVec<'_, T>,
        n: usize,
    ) -> Result<()> {
        self.debug_check(&format!("reduce({op:?})"), &[("n", n as i64)]);
        need(dest, n)?;
        need(src, n)?;
        self.reduce_raw::<T>(op, sym_off(self.rt, dest), sym_off(self.rt, src), n)
    }

    /// Complex all-reduce ([`Op::Sum`] or [`Op::Prod`]; `shmem_complexd_sum_reduce`, ...):
    /// `dest` and `src` hold `n` complex numbers as interleaved (re, im) pairs of `F`
    /// (`f32` or `f64`, C's `_Complex` layout), so they need `2 * n` elements.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// use rshmem::Op;
    /// let world = shmem.team_world();
    /// let z = shmem.alloc_slice::<f64>(2)?;     // one complex number
    /// z.write_slice(0, &[0.0, 1.0])?;          // i
    /// world.reduce_complex(Op::Prod, &z, &z, 1)?; // i^n
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn reduce_complex<F: ComplexPart>(
        &self,
        op: Op,
        dest: &SymVec<'_, F>,
        src: &SymVec<'_, F>,
        n: usize,
    ) -> Result<()>
    where
        rshmem_collectives::Complex<F>: Reducible,
    {
        self.debug_check(&format!("reduce_complex({op:?})"), &[("n", n as i64)]);
        need(dest, times("reduce_complex", 2, n)?)?;
        need(src, 2 * n)?;
        self.reduce_raw::<rshmem_collectives::Complex<F>>(
            op,
            sym_off(self.rt, dest),
            sym_off(self.rt, src),
            n,
        )
    }

    fn scan<T: Pod + Reducible>(
        &self,
        inclusive: bool,
        dest: &SymVec<'_, T>,
        src: &SymVec<'_, T>,
        n: usize,
    ) -> Result<()> {
        let call = if inclusive {
            "sum_inscan"
        } else {
            "sum_exscan"
        };
        self.debug_check(call, &[("n", n as i64)]);
        need(dest, n)?;
        need(src, n)?;
        let ops = self.ops();
        self.st.lock_ctx().scan_sum::<T, _>(
            &ops,
            inclusive,
            sym_off(self.rt, dest),
            sym_off(self.rt, src),
            n,
        );
        Ok(())
    }

    /// Inclusive prefix sum over the team (`shmem_sum_inscan`, OpenSHMEM 1.6): on team PE
    /// `i`, `dest[k]` = sum of `src[k]` over team PEs `0..=i`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let world = shmem.team_world();
    /// let v = shmem.alloc_slice::<u64>(1)?;
    /// v.write(0, 1)?;
    /// world.sum_inscan(&v, &v, 1)?;
    /// assert_eq!(v.read(0)?, world.my_pe() as u64 + 1);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn sum_inscan<T: Pod + Reducible>(
        &self,
        dest: &SymVec<'_, T>,
        src: &SymVec<'_, T>,
        n: usize,
    ) -> Result<()> {
        self.scan(true, dest, src, n)
    }

    /// Exclusive prefix sum over the team (`shmem_sum_exscan`, OpenSHMEM 1.6): on team PE
    /// `i`, `dest[k]` = sum of `src[k]` over team PEs `0..i` (zero on PE 0).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let world = shmem.team_world();
    /// let v = shmem.alloc_slice::<u64>(1)?;
    /// v.write(0, 1)?;
    /// world.sum_exscan(&v, &v, 1)?;
    /// assert_eq!(v.read(0)?, world.my_pe() as u64);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn sum_exscan<T: Pod + Reducible>(
        &self,
        dest: &SymVec<'_, T>,
        src: &SymVec<'_, T>,
        n: usize,
    ) -> Result<()> {
        self.scan(false, dest, src, n)
    }
}

/// The parts of a complex number [`Team::reduce_complex`] works on: `f32` and `f64`.
pub trait ComplexPart: Pod + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
}
impl sealed::Sealed for f32 {}
impl sealed::Sealed for f64 {}
impl ComplexPart for f32 {}
impl ComplexPart for f64 {}
