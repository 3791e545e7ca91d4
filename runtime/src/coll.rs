//! The runtime side of the collectives: the [`CollOps`] implementation the algorithms of
//! `rshmem-collectives` run on ([`TeamOps`]), and team split and destroy over the runtime.
//! The team state they work on is in `teams.rs`.
use crate::error::{Error, Result};
use crate::layout::{INTERNAL_BYTES, INTERNAL_FREE};
use crate::rt::{Runtime, Signal};
use crate::teams::{
    BlockMap, Layout, TeamConfig, TeamState, BLOCK, MAP_BYTES, MAP_WORDS, TEAM_SCRATCH,
};
use crate::wait::Cmp;
use rshmem_collectives::{CollCtx, CollOps, Op, SyncOps};
use rshmem_transport::AmoOp;

/// [`CollOps`] for one team: team index → world PE, symmetric offsets relative to the start
/// of segment 0, everything through the generic [`Runtime`] operations (shm and verbs).
pub(crate) struct TeamOps<'a> {
    pub rt: &'a Runtime,
    pub members: &'a [usize],
    pub me: usize,
    pub base: usize,
}

impl<'a> TeamOps<'a> {
    pub fn new(rt: &'a Runtime, st: &'a TeamState) -> Self {
        Self {
            rt,
            members: &st.members,
            me: st.me,
            base: rt.segments()[0].base,
        }
    }

    #[cold]
    fn fail(&self, what: &str, e: Error) -> ! {
        self.rt
            .abort(1, &format!("collective {what} failed: {e} (runtime bug)"))
    }
}

impl SyncOps for TeamOps<'_> {
    fn my_pe(&self) -> usize {
        self.me
    }
    #[inline]
    fn signal_add(&self, pe: usize, slot: usize, value: u64) {
        if let Err(e) = self.rt.amo_nr::<u64>(
            self.base + slot * 8,
            AmoOp::FetchAdd,
            value,
            self.members[pe],
            true,
        ) {
            self.fail("signal", e)
        }
    }
    #[inline]
    fn wait_ge(&self, slot: usize, value: u64) {
        self.rt
            .wait_until::<u64>(self.base + slot * 8, Cmp::Ge, value, false);
    }
}

impl CollOps for TeamOps<'_> {
    fn put_signal(&self, pe: usize, dst: usize, src: &[u8], slot: usize, value: u64) {
        // SAFETY: `src` is a live slice of `src.len()` bytes.
        let r = unsafe {
            self.rt.put_signal(
                self.base + dst,
                src.as_ptr(),
                src.len(),
                Signal {
                    addr: self.base + slot * 8,
                    value,
                    add: true,
                },
                self.members[pe],
            )
        };
        if let Err(e) = r {
            self.fail("put_signal", e)
        }
    }

    fn put_signal_local(
        &self,
        pe: usize,
        dst: usize,
        src: usize,
        len: usize,
        slot: usize,
        value: u64,
    ) {
        // SAFETY: `src..src+len` lies in this PE's segment 0 (the algorithms only name
        // symmetric ranges the API layer checked against the objects).
        let r = unsafe {
            self.rt.put_signal(
                self.base + dst,
                (self.base + src) as *const u8,
                len,
                Signal {
                    addr: self.base + slot * 8,
                    value,
                    add: true,
                },
                self.members[pe],
            )
        };
        if let Err(e) = r {
            self.fail("put_signal", e)
        }
    }

    fn read_local(&self, src: usize, dst: &mut [u8]) {
        // SAFETY: a checked range of our own segment 0; the protocol guarantees no remote
        // write to it is in flight (the data was signalled, or it is our own source).
        unsafe {
            core::ptr::copy_nonoverlapping(
                (self.base + src) as *const u8,
                dst.as_mut_ptr(),
                dst.len(),
            )
        };
    }

    fn write_local(&self, dst: usize, src: &[u8]) {
        // SAFETY: as `read_local`, for writes.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), (self.base + dst) as *mut u8, src.len())
        };
    }

    fn copy_local(&self, dst: usize, src: usize, len: usize) {
        if dst != src && len != 0 {
            // SAFETY: two checked ranges of our own segment 0; `copy` allows overlap.
            unsafe {
                core::ptr::copy(
                    (self.base + src) as *const u8,
                    (self.base + dst) as *mut u8,
                    len,
                )
            };
        }
    }
}

/// One family of disjoint new teams carved from a parent: `groups[g]` lists parent indices
/// in new-team order. All teams of a family share one allocation (they are disjoint).
pub(crate) struct Family {
    pub groups: Vec<Vec<usize>>,
}

impl Runtime {
    /// Splits `parent` into the teams of `families` (collective over the parent). Returns,
    /// per family, the team this PE belongs to, if any. Either every family gets space or
    /// none does (the same decision on every parent member).
    pub(crate) fn team_split(
        &self,
        parent: &TeamState,
        families: &[Family],
        config: TeamConfig,
    ) -> Result<Vec<Option<TeamState>>> {
        let teams = self.teams();
        let ops = TeamOps::new(self, parent);
        let base = ops.base;
        let mut ctx = parent.lock_ctx();
        // 1. Agree on the free blocks: AND of every parent member's map.
        let stage = parent.layout.stage;
        let mine = teams.space.lock().words;
        ops.write_local(stage, bytemuck::cast_slice(&mine));
        let alg = rshmem_collectives::choose_reduce(&teams.overrides, MAP_BYTES, parent.size());
        ctx.reduce::<u64, _>(&ops, alg, Op::And, stage + MAP_BYTES, stage, MAP_WORDS);
        let mut common = [0u64; MAP_WORDS];
        ops.read_local(stage + MAP_BYTES, bytemuck::cast_slice_mut(&mut common));
        // 2. Place every family (same inputs everywhere, so the same places).
        let whole_world = parent.size() == self.n_pes();
        let mut places = Vec::with_capacity(families.len());
        for f in families {
            let n = f.groups.iter().map(Vec::len).max().unwrap_or(0);
            let scratch = TEAM_SCRATCH.max(CollCtx::min_scratch(n));
            let count = Layout::bytes(n, scratch).div_ceil(BLOCK);
            // Some(first block) in the internal area, None: from the heap
            let place = match BlockMap::first_fit(&common, count) {
                Some(first) => {
                    let mut tmp = BlockMap { words: common };
                    tmp.set(first, count, false);
                    common = tmp.words;
                    Some(first)
                }
                None if whole_world => None,
                None => {
                    return Err(Error::TeamSpace {
                        teams_bytes: INTERNAL_BYTES - INTERNAL_FREE,
                        parent_size: parent.size(),
                    })
                }
            };
            places.push((place, n, scratch));
        }
        drop(ctx);
        // 3. The heap when the internal area is full (whole-world parents only: malloc is
        //    collective over the job). Such state is never returned to the heap (freeing
        //    is job-collective too); malloc zeroes it, as the slots must be.
        let mut out = Vec::with_capacity(families.len());
        for (f, &(place, n, scratch)) in families.iter().zip(&places) {
            let layout = match place {
                Some(first) => Layout::at(first * BLOCK, n, scratch, true),
                None => {
                    let at = self.malloc(Layout::bytes(n, scratch), 16, true)? - base;
                    Layout::at(at, n, scratch, false)
                }
            };
            let mine = f.groups.iter().find(|g| g.contains(&parent.me));
            out.push(mine.map(|g| {
                teams
                    .space
                    .lock()
                    .set(layout.first_block, layout.blocks, false);
                let members = g.iter().map(|&i| parent.members[i]).collect();
                TeamState::new(members, self.my_pe(), layout, config)
            }));
        }
        Ok(out)
    }

    /// Destroys a team this PE belongs to (collective over the team): a final barrier, then
    /// the slots are zeroed and the blocks returned to this PE's map.
    pub(crate) fn team_destroy(&self, st: &TeamState) {
        let ops = TeamOps::new(self, st);
        self.quiet();
        st.lock_ctx().barrier(&ops);
        // Every signal of the team addressed to this PE has landed (see the barrier's
        // rounds): the slots can be reset with plain stores, no AMO is in flight.
        let l = st.layout;
        // SAFETY: the team's own slots in our segment 0, no longer used by anyone.
        unsafe { core::ptr::write_bytes((ops.base + l.sig_slot * 8) as *mut u8, 0, l.nslots * 8) };
        self.teams().space.lock().set(l.first_block, l.blocks, true);
    }
}
