//! Teams (OpenSHMEM 1.5 §9.4) and the collectives on them (§9.9).
//!
//! [`Shmem::team_world`] and [`Shmem::team_shared`] are the predefined teams; new teams come
//! from [`Shmem::team_split_strided`] and [`Shmem::team_split_2d`], collectively over a
//! parent. A [`Team`] handle runs the collectives: [`Team::sync`], [`Team::barrier`],
//! [`Team::broadcast`], [`Team::collect`], [`Team::fcollect`], [`Team::alltoall`],
//! [`Team::reduce`] (and/or/xor/max/min/sum/prod, see [`Op`]), [`Team::reduce_complex`],
//! [`Team::sum_inscan`], [`Team::sum_exscan`]. The algorithms are those of
//! `rshmem-collectives`, chosen by size and team shape (overridable with the
//! `RSHMEM_*_ALGORITHM` variables, see [`rshmem_collectives::select`]).
//!
//! As OpenSHMEM requires, every member calls the collectives of a team in the same order
//! with the same arguments, and a collective's `dest` must be ready to be overwritten on
//! every member as soon as any member calls it: a program that reads `dest` after one
//! collective and reuses it for the next separates the two with a [`Team::sync`] (or
//! alternates buffers).
use crate::api::{Shmem, SymVec};
use crate::coll::{Family, TeamOps};
use crate::error::{Error, Result};
use crate::rt::Runtime;
use crate::teams::TeamState;
use bytemuck::Pod;
use rshmem_collectives::{choose_bcast, choose_collect, choose_reduce, Op, Reducible};
use std::mem::size_of;
use std::sync::Arc;

pub use crate::teams::TeamConfig;

/// A team of PEs: the predefined world and shared teams, or one created by a split.
///
/// Members are numbered `0..n_pes()` in team order. Dropping a handle from a split destroys
/// the team, which is collective over its members (`shmem_team_destroy`); the handles of
/// the predefined teams destroy nothing.
///
/// ```no_run
/// let shmem = rshmem::init()?;
/// let world = shmem.team_world();
/// let evens = shmem.team_split_strided(&world, 0, 2, shmem.n_pes().div_ceil(2))?;
/// if let Some(t) = &evens {
///     println!("world PE {} is PE {} of {} evens", shmem.my_pe(), t.my_pe(), t.n_pes());
///     t.sync();
/// }
/// # Ok::<(), rshmem::Error>(())
/// ```
pub struct Team<'a> {
    rt: &'a Runtime,
    st: Arc<TeamState>,
    owned: bool,
}

impl std::fmt::Debug for Team<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Team")
            .field("members", &self.st.members)
            .field("my_pe", &self.st.me)
            .finish()
    }
}

impl Shmem {
    /// The team of all PEs (`SHMEM_TEAM_WORLD`); its PE numbers are the world's.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let world = shmem.team_world();
    /// assert_eq!(world.n_pes(), shmem.n_pes());
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn team_world(&self) -> Team<'_> {
        Team {
            rt: &self.rt,
            st: self.rt.teams().world.clone(),
            owned: false,
        }
    }

    /// The PEs whose memory this PE can load and store directly (`SHMEM_TEAM_SHARED`): the
    /// PEs of this node (just this PE under `RSHMEM_TRANSPORT=verbs`). Numbered in world
    /// order.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let node = shmem.team_shared();
    /// println!("{} PEs on this node", node.n_pes());
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn team_shared(&self) -> Team<'_> {
        Team {
            rt: &self.rt,
            st: self.rt.teams().shared.clone(),
            owned: false,
        }
    }

    /// The deprecated *active set* `start + i * stride`, `i < size` (world PEs), as a team
    /// handle for the C API's `shmem_barrier`, `*_to_all`, `shmem_broadcast64`, ...: no
    /// communication, nothing to destroy. Every active set runs on one shared context
    /// whose counters are keyed by world PE, so any set works without being created
    /// collectively; as the spec requires, PEs in two overlapping sets must call their
    /// common collectives in the same order. Not for splitting.
    ///
    /// [`Error::InvalidArgument`] when the set leaves the world or does not contain this
    /// PE.
    #[doc(hidden)]
    pub fn active_set(&self, start: usize, stride: usize, size: usize) -> Result<Team<'_>> {
        let n = self.n_pes();
        let bad = |arg: &'static str, value: usize, reason: String| {
            Err(Error::InvalidArgument {
                call: "active set",
                arg,
                value: value as i64,
                reason,
            })
        };
        if size == 0 || stride == 0 {
            let arg = if size == 0 { "size" } else { "stride" };
            return bad(arg, 0, "must be at least 1".into());
        }
        let last = (size - 1)
            .checked_mul(stride)
            .and_then(|d| d.checked_add(start));
        if !matches!(last, Some(l) if l < n) {
            return bad("size", size, format!("the set leaves the {n} PEs"));
        }
        let members: Vec<usize> = (0..size).map(|i| start + i * stride).collect();
        if !members.contains(&self.my_pe()) {
            return bad(
                "start",
                start,
                format!("PE {} is not in the set", self.my_pe()),
            );
        }
        let st = self.rt.teams().active_set(members, self.my_pe());
        Ok(Team {
            rt: &self.rt,
            st: Arc::new(st),
            owned: false,
        })
    }

    /// Creates the team of parent PEs `start + i * stride` for `i < size`
    /// (`shmem_team_split_strided`). Collective over `parent`: every member calls it with
    /// the same arguments. Returns `None` on the parent PEs that are not in the new team.
    ///
    /// `stride` may be negative (the new team lists the parent PEs in reverse order) or
    /// zero (then `size` must be 1). Every index must lie in `0..parent.n_pes()` (no
    /// wrap-around). Invalid arguments give [`Error::InvalidArgument`] naming the argument
    /// on every parent PE and create nothing (with `SHMEM_DEBUG` each PE also prints the
    /// message). [`Error::TeamSpace`] if the team's symmetric state does not fit.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let world = shmem.team_world();
    /// let n = shmem.n_pes();
    /// // all PEs in reverse order
    /// let rev = shmem.team_split_strided(&world, n - 1, -1, n)?.unwrap();
    /// assert_eq!(rev.my_pe(), n - 1 - shmem.my_pe());
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn team_split_strided(
        &self,
        parent: &Team<'_>,
        start: usize,
        stride: isize,
        size: usize,
    ) -> Result<Option<Team<'_>>> {
        self.team_split_strided_with_config(parent, start, stride, size, TeamConfig::default())
    }

    /// [`Shmem::team_split_strided`] with a team configuration (`config`, `config_mask`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// use rshmem::TeamConfig;
    /// let cfg = TeamConfig { num_contexts: 2 };
    /// let t = shmem.team_split_strided_with_config(&shmem.team_world(), 0, 1, 1, cfg)?;
    /// if let Some(t) = t {
    ///     assert_eq!(t.config().num_contexts, 2);
    /// }
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn team_split_strided_with_config(
        &self,
        parent: &Team<'_>,
        start: usize,
        stride: isize,
        size: usize,
        config: TeamConfig,
    ) -> Result<Option<Team<'_>>> {
        const CALL: &str = "team_split_strided";
        let n = parent.n_pes();
        let bad = |arg, value: i64, reason: String| Error::InvalidArgument {
            call: CALL,
            arg,
            value,
            reason,
        };
        let check = if start >= n {
            Err(bad(
                "start",
                start as i64,
                format!("the parent team has {n} PEs (0..={})", n - 1),
            ))
        } else if size == 0 {
            Err(bad("size", 0, "must be at least 1".into()))
        } else if stride == 0 && size != 1 {
            Err(bad(
                "stride",
                0,
                format!("a zero stride needs size 1, not {size}"),
            ))
        } else {
            let last = start as i128 + (size as i128 - 1) * stride as i128;
            if last < 0 || last >= n as i128 {
                Err(bad(
                    "size",
                    size as i64,
                    format!(
                        "with start {start} and stride {stride} the last member would be parent PE {last}, \
                         outside 0..={} (no wrap-around)",
                        n - 1
                    ),
                ))
            } else {
                Ok(())
            }
        };
        if let Err(e) = check {
            return Err(self.debug_report(e));
        }
        let group: Vec<usize> = (0..size)
            .map(|i| (start as isize + i as isize * stride) as usize)
            .collect();
        let fam = Family {
            groups: vec![group],
        };
        let mut out = self
            .rt
            .team_split(&parent.st, &[fam], config)
            .map_err(|e| self.debug_report(e))?;
        Ok(out.pop().flatten().map(|st| self.owned_team(st)))
    }

    /// Splits `parent` into a 2-D grid with `xrange` columns
    /// (`shmem_team_split_2d`): parent PE `p` has coordinates `(p % xrange, p / xrange)`;
    /// returns `(x_team, y_team)`: the PEs of this PE's row (team PE = x) and of its column
    /// (team PE = y). The last row may be incomplete. `xrange` larger than the parent is
    /// taken as the parent's size; zero is [`Error::InvalidArgument`]. Collective over the
    /// parent.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let (row, col) = shmem.team_split_2d(&shmem.team_world(), 2)?;
    /// assert_eq!(row.my_pe(), shmem.my_pe() % 2);
    /// assert_eq!(col.my_pe(), shmem.my_pe() / 2);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn team_split_2d(&self, parent: &Team<'_>, xrange: usize) -> Result<(Team<'_>, Team<'_>)> {
        let n = parent.n_pes();
        if xrange == 0 {
            return Err(self.debug_report(Error::InvalidArgument {
                call: "team_split_2d",
                arg: "xrange",
                value: 0,
                reason: "must be at least 1".into(),
            }));
        }
        let xr = xrange.min(n);
        let yr = n.div_ceil(xr);
        let rows = Family {
            groups: (0..yr)
                .map(|y| (y * xr..((y + 1) * xr).min(n)).collect())
                .collect(),
        };
        let cols = Family {
            groups: (0..xr).map(|x| (x..n).step_by(xr).collect()).collect(),
        };
        let mut out = self
            .rt
            .team_split(&parent.st, &[rows, cols], TeamConfig::default())
            .map_err(|e| self.debug_report(e))?;
        let y = out.pop().flatten().expect("every parent PE is in a column");
        let x = out.pop().flatten().expect("every parent PE is in a row");
        Ok((self.owned_team(x), self.owned_team(y)))
    }

    fn owned_team(&self, st: TeamState) -> Team<'_> {
        Team {
            rt: &self.rt,
            st: Arc::new(st),
            owned: true,
        }
    }

    /// With `SHMEM_DEBUG`, prints `e` (one line per PE) before it is returned.
    fn debug_report(&self, e: Error) -> Error {
        if self.rt.config().debug {
            use std::io::Write;
            let line = format!("rshmem: PE {}: SHMEM_DEBUG: {e}\n", self.my_pe());
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        e
    }
}

impl<'a> Team<'a> {
    /// This PE's number in the team (`shmem_team_my_pe`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// assert_eq!(shmem.team_world().my_pe(), shmem.my_pe());
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn my_pe(&self) -> usize {
        self.st.me
    }

    /// Number of PEs in the team (`shmem_team_n_pes`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// assert_eq!(shmem.team_world().n_pes(), shmem.n_pes());
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn n_pes(&self) -> usize {
        self.st.size()
    }

    /// The number in `other` of this team's PE `pe` (`shmem_team_translate_pe`), `None` if
    /// `pe` is out of range or not a member of `other`.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let world = shmem.team_world();
    /// let (row, _col) = shmem.team_split_2d(&world, 2)?;
    /// assert_eq!(row.translate_pe(row.my_pe(), &world), Some(shmem.my_pe()));
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn translate_pe(&self, pe: usize, other: &Team<'_>) -> Option<usize> {
        other.st.index_of(*self.st.members.get(pe)?)
    }

    /// The world PE number of team PE `pe` (translation to `SHMEM_TEAM_WORLD`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// let t = shmem.team_world();
    /// assert_eq!(t.world_pe(0), Some(0));
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn world_pe(&self, pe: usize) -> Option<usize> {
        self.st.members.get(pe).copied()
    }

    /// The team's configuration (`shmem_team_get_config`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// assert_eq!(shmem.team_world().config().num_contexts, 0);
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn config(&self) -> TeamConfig {
        self.st.config
    }

    /// Destroys the team (`shmem_team_destroy`; dropping the handle does the same).
    /// Collective over the team; completes this PE's outstanding operations first.
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// if let Some(t) = shmem.team_split_strided(&shmem.team_world(), 0, 1, 1)? {
    ///     t.destroy();
    /// }
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn destroy(self) {}

    fn ops(&self) -> TeamOps<'_> {
        TeamOps::new(self.rt, &self.st)
    }

    /// Waits until every member has called it, without completing outstanding operations
    /// (`shmem_team_sync`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// shmem.team_world().sync();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn sync(&self) {
        let ops = self.ops();
        self.st.lock_ctx().barrier(&ops);
    }

    /// Completes this PE's outstanding operations, then [`Team::sync`] (the team form of
    /// `shmem_barrier_all`).
    ///
    /// ```no_run
    /// # let shmem = rshmem::init()?;
    /// shmem.team_world().barrier();
    /// # Ok::<(), rshmem::Error>(())
    /// ```
    pub fn barrier(&self) {
        self.rt.quiet();
        self.sync();
    }

    /// The offset in segment 0 of this PE's symmetric range `[addr, addr+len)`, or `None`
    /// when it lies elsewhere (the program's globals): the algorithms address segment 0 by
    /// offset.
    fn heap_off(&self, addr: usize, len: usize) -> Option<usize> {
        match self.rt.translate(addr, len.max(1)) {
            Ok((0, off)) => Some(off),
            _ => None,
        }
    }

    /// `SHMEM_DEBUG`: checks that every member called collective `call` with the same
    /// `args` (name, value): each member publishes its call and arguments in the team's
    /// staging words, a team sync, every member reads every other's, a team sync; on a
    /// mismatch the job ends with a message naming the call, both PEs and both sets of
    /// values. Without `SHMEM_DEBUG` this is one branch. Every member must call it, before
    /// the collective itself (arguments that differ legitimately, such as `collect`'s
    /// `nelems`, are not passed).
    #[doc(hidden)]
    #[inline(always)]
    pub fn debug_check(&self, call: &str, args: &[(&'static str, i64)]) {
        if self.rt.config().debug {
            self.debug_check_slow(call, args)
        }
    }

    #[cold]
    #[inline(never)]
    fn debug_check_slow(&self, call: &str, args: &[(&'static str, i64)]) {
        const NAME_WORDS: usize = 8;
        const MAX_ARGS: usize = 16;
        let n = self.n_pes();
        if n == 1 {
            return;
        }
        let args = &args[..args.len().min(MAX_ARGS)];
        // [name length, name (64 bytes), argument count, arguments]
        let mut words = vec![0u64; 2 + NAME_WORDS + args.len()];
        let name = &call.as_bytes()[..call.len().min(NAME_WORDS * 8)];
        words[0] = name.len() as u64;
        bytemuck::cast_slice_mut::<u64, u8>(&mut words[1..1 + NAME_WORDS])[..name.len()]
            .copy_from_slice(name);
        words[1 + NAME_WORDS] = args.len() as u64;
        for (w, (_, v)) in words[2 + NAME_WORDS..].iter_mut().zip(args) {
            *w = *v as u64;
        }
        let stage = self.rt.segments()[0].base + self.st.stage();
        // SAFETY: this team's staging words in our own segment 0 (2 x 256 bytes, more than
        // `words`); no member reads them before the sync below.
        unsafe {
            core::ptr::copy_nonoverlapping(
                words.as_ptr() as *const u8,
                stage as *mut u8,
                words.len() * 8,
            )
        };
        self.sync();
        let mut theirs = vec![0u64; words.len()];
        let mut mismatch = None;
        for (i, &p) in self.st.members.iter().enumerate() {
            if i == self.my_pe() {
                continue;
            }
            // SAFETY: `theirs` is a live local buffer of `words.len()` u64s.
            let r = unsafe {
                self.rt
                    .get(theirs.as_mut_ptr() as *mut u8, stage, words.len() * 8, p)
            };
            if r.is_ok() && theirs != words && mismatch.is_none() {
                mismatch = Some((i, p, theirs.clone()));
            }
        }
        self.sync();
        if let Some((i, p, theirs)) = mismatch {
            let show = |w: &[u64]| {
                let len = (w[0] as usize).min(NAME_WORDS * 8);
                let name = String::from_utf8_lossy(
                    &bytemuck::cast_slice::<u64, u8>(&w[1..1 + NAME_WORDS])[..len],
                )
                .into_owned();
                let vals: Vec<String> = args
                    .iter()
                    .zip(&w[2 + NAME_WORDS..])
                    .map(|((a, _), v)| format!("{a} = {}", *v as i64))
                    .collect();
                format!("{name}({})", vals.join(", "))
            };
            self.rt.abort(
                1,
                &format!(
                    "SHMEM_DEBUG: the team's PEs called a collective with different arguments: \
                     team PE {} (world PE {}) called {} but team PE {i} (world PE {p}) called {}; \
                     every PE of the team must make the same collective calls in the same order \
                     with the same arguments",
                    self.my_pe(),
                    self.rt.my_pe(),
                    show(&words),
                    show(&theirs),
                ),
            );
        }
    }
}

impl Drop for Team<'_> {
    fn drop(&mut self) {
        // Destroying is collective; while unwinding the other members are not here.
        if self.owned && !std::thread::panicking() {
            self.rt.team_destroy(&self.st);
        }
    }
}

mod collectives;

pub use collectives::ComplexPart;
