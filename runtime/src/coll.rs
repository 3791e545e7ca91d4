//! Team state and the runtime side of the collectives: the [`CollOps`] implementation the
//! algorithms of `rshmem-collectives` run on, and the allocator of the internal area.
//!
//! - A team is the list of its members' world PEs plus one [`CollCtx`] (behind a mutex)
//!   whose signal slots, staging words and scratch lie in symmetric memory at the same
//!   offsets on every member.
//! - The algorithms address members by *team index*: every context is built over
//!   `ActiveSet::world(size)` and [`TeamOps`] maps index `i` to world PE `members[i]`, so
//!   any member order works (negative strides, 2-D columns, nested splits).
//! - Space comes from the internal area of segment 0 in blocks of [`BLOCK`] bytes. Every PE
//!   keeps a bitmap of its free blocks. A split first AND-reduces the bitmaps over the
//!   parent (with the parent's own context), so every parent member sees the same map and
//!   picks the same first-fit run; members of the new team mark it used, non-members do
//!   not need to (the next split's AND sees it used on the members). Destroy zeroes the
//!   slots after a final barrier and frees the blocks locally.
use crate::error::{Error, Result};
use crate::rt::{Runtime, INTERNAL_BYTES, INTERNAL_FREE};
use crate::wait::Cmp;
use parking_lot::{Mutex, MutexGuard};
use rshmem_collectives::{ActiveSet, CollCtx, CollOps, Op, Overrides, SyncOps};
use rshmem_transport::AmoOp;
use std::sync::Arc;

/// Allocation unit of the internal area (bytes).
pub const BLOCK: usize = 1024;
/// Number of blocks of the internal area.
const NBLOCKS: usize = INTERNAL_BYTES / BLOCK;
/// Words of the free-block bitmap.
const MAP_WORDS: usize = NBLOCKS / 64;
/// Bytes of the bitmap as exchanged in a split.
const MAP_BYTES: usize = MAP_WORDS * 8;

/// Scratch of the world team (bytes).
pub const WORLD_SCRATCH: usize = 256 << 10;
/// Scratch of the shared team and of every split team (bytes), before the `8 * n` minimum.
pub const TEAM_SCRATCH: usize = 32 << 10;

/// The free blocks of this PE's internal area (bit set = free).
#[derive(Debug)]
pub struct BlockMap {
    words: [u64; MAP_WORDS],
}

impl BlockMap {
    /// Everything after the runtime's fixed slots is free.
    pub fn new() -> Self {
        let mut m = Self {
            words: [!0; MAP_WORDS],
        };
        m.set(0, INTERNAL_FREE.div_ceil(BLOCK), false);
        m
    }

    fn get(words: &[u64], b: usize) -> bool {
        words[b / 64] >> (b % 64) & 1 == 1
    }

    fn set(&mut self, first: usize, count: usize, free: bool) {
        for b in first..first + count {
            if free {
                self.words[b / 64] |= 1 << (b % 64);
            } else {
                self.words[b / 64] &= !(1 << (b % 64));
            }
        }
    }

    /// First run of `count` free blocks in `words`.
    fn first_fit(words: &[u64], count: usize) -> Option<usize> {
        let mut run = 0;
        for b in 0..NBLOCKS {
            if Self::get(words, b) {
                run += 1;
                if run == count {
                    return Some(b + 1 - count);
                }
            } else {
                run = 0;
            }
        }
        None
    }
}

impl Default for BlockMap {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a team's symmetric state lives (offsets into segment 0).
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// First block of the internal run.
    first_block: usize,
    /// Blocks of the internal run.
    blocks: usize,
    /// First signal slot (u64 index from the start of segment 0).
    sig_slot: usize,
    /// Number of signal slots.
    nslots: usize,
    /// Staging for the split's bitmap reduction: `MAP_BYTES` source, then as much result.
    stage: usize,
    /// Scratch (offset into segment 0).
    scratch: usize,
    scratch_len: usize,
}

impl Layout {
    /// Bytes of a team's state for a team of `n`: slots, staging, scratch.
    fn bytes(n: usize, scratch_len: usize) -> usize {
        (CollCtx::signal_slots(n) * 8).next_multiple_of(16) + 2 * MAP_BYTES + scratch_len
    }

    /// The layout of a team's state at offset `at` of segment 0: in the internal area
    /// (`at` = `first * BLOCK`, the run is freed on destroy) or in the heap (`blocks` 0).
    fn at(at: usize, n: usize, scratch_len: usize, internal: bool) -> Self {
        let nslots = CollCtx::signal_slots(n);
        let stage = at + (nslots * 8).next_multiple_of(16);
        Self {
            first_block: at / BLOCK,
            blocks: if internal {
                Self::bytes(n, scratch_len).div_ceil(BLOCK)
            } else {
                0
            },
            sig_slot: at / 8,
            nslots,
            stage,
            scratch: stage + 2 * MAP_BYTES,
            scratch_len,
        }
    }
}

/// Team configuration (`shmem_team_config_t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TeamConfig {
    /// Contexts the team was created to support (`num_contexts`); accepted and reported,
    /// contexts are not implemented yet.
    pub num_contexts: usize,
}

/// One team as this PE sees it.
#[derive(Debug)]
pub struct TeamState {
    /// World PE of each member, in team order.
    pub(crate) members: Vec<usize>,
    /// This PE's index in the team.
    pub(crate) me: usize,
    pub(crate) config: TeamConfig,
    layout: Layout,
    ctx: Arc<Mutex<CollCtx>>,
    /// An active set's view of the shared pairwise context (see [`Teams::active`]).
    pairwise: bool,
}

impl TeamState {
    fn new(members: Vec<usize>, me_world: usize, layout: Layout, config: TeamConfig) -> Self {
        let me = members
            .iter()
            .position(|&p| p == me_world)
            .expect("TeamState::new: PE is not a member");
        let ctx = CollCtx::new(
            ActiveSet::world(members.len()),
            me,
            layout.sig_slot,
            layout.scratch,
            layout.scratch_len,
        );
        Self {
            members,
            me,
            config,
            layout,
            ctx: Arc::new(Mutex::new(ctx)),
            pairwise: false,
        }
    }

    /// This PE's collective state for the team, locked. For an active set, the shared
    /// pairwise context, set to this set's members.
    pub(crate) fn lock_ctx(&self) -> MutexGuard<'_, CollCtx> {
        let mut c = self.ctx.lock();
        if self.pairwise {
            c.enter(&self.members, self.me);
        }
        c
    }

    /// Offset in segment 0 of this team's staging words (2 x 256 B, the same on every
    /// member): a split's bitmap reduction, and the `SHMEM_DEBUG` argument check (both
    /// collective over the team, so never at the same time).
    pub(crate) fn stage(&self) -> usize {
        self.layout.stage
    }

    /// Number of members.
    pub fn size(&self) -> usize {
        self.members.len()
    }

    /// Team index of world PE `pe`.
    pub fn index_of(&self, pe: usize) -> Option<usize> {
        self.members.iter().position(|&p| p == pe)
    }
}

/// The teams part of the runtime: predefined teams, the internal-area allocator and the
/// algorithm overrides.
#[derive(Debug)]
pub struct Teams {
    pub(crate) world: Arc<TeamState>,
    pub(crate) shared: Arc<TeamState>,
    /// The one pairwise context every deprecated active set (`PE_start`, `logPE_stride`,
    /// `PE_size`) runs on, and where its state lives: an active set is not created
    /// collectively, so it cannot get slots of its own; this context keys its counters by
    /// world PE instead, which any set can share (`CollCtx::pairwise`).
    active: (Layout, Arc<Mutex<CollCtx>>),
    space: Mutex<BlockMap>,
    pub(crate) overrides: Overrides,
}

impl Teams {
    /// The predefined teams: world over `0..npes`, shared over `shared` (the PEs whose
    /// memory this PE maps, itself included). Needs no communication: every PE makes the
    /// same allocations from the same empty map (the shared run is sized for `npes`).
    pub fn new(me: usize, npes: usize, shared: Vec<usize>) -> Result<Self> {
        let overrides = Overrides::from_env().map_err(|e| Error::InvalidEnv {
            var: e.var,
            value: e.value.clone(),
            reason: format!(
                "not a known algorithm; expected one of: auto, {}",
                e.expected.join(", ")
            ),
        })?;
        let mut map = BlockMap::new();
        let mut place = |n: usize, scratch: usize| {
            let need = Layout::bytes(n, scratch).div_ceil(BLOCK);
            let first = BlockMap::first_fit(&map.words, need).expect("internal area too small");
            map.set(first, need, false);
            Layout::at(first * BLOCK, n, scratch, true)
        };
        let wl = place(npes, WORLD_SCRATCH.max(CollCtx::min_scratch(npes)));
        let sl = place(npes, TEAM_SCRATCH.max(CollCtx::min_scratch(npes)));
        let al = place(npes, TEAM_SCRATCH.max(CollCtx::min_scratch(npes)));
        let world = TeamState::new((0..npes).collect(), me, wl, TeamConfig::default());
        let shared = TeamState::new(shared, me, sl, TeamConfig::default());
        let actx = CollCtx::pairwise(npes, al.sig_slot, al.scratch, al.scratch_len);
        Ok(Self {
            world: world.into(),
            shared: shared.into(),
            active: (al, Arc::new(Mutex::new(actx))),
            space: Mutex::new(map),
            overrides,
        })
    }
}

impl Teams {
    /// The team view of the active set `members` (world PEs, in set order), which must
    /// contain `me_world`; it runs on the shared pairwise context.
    pub(crate) fn active_set(&self, members: Vec<usize>, me_world: usize) -> TeamState {
        let me = members
            .iter()
            .position(|&p| p == me_world)
            .expect("Teams::active_set: PE is not a member");
        TeamState {
            members,
            me,
            config: TeamConfig::default(),
            layout: self.active.0,
            ctx: self.active.1.clone(),
            pairwise: true,
        }
    }
}

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
        if let Err(e) = self.rt.amo::<u64>(
            self.base + slot * 8,
            AmoOp::FetchAdd,
            value,
            0,
            self.members[pe],
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
                self.base + slot * 8,
                value,
                true,
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
                self.base + slot * 8,
                value,
                true,
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
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_map_first_fit() {
        let mut m = BlockMap::new();
        let need = Layout::bytes(2, TEAM_SCRATCH).div_ceil(BLOCK);
        let mut k = 0;
        while let Some(f) = BlockMap::first_fit(&m.words, need) {
            assert!(f * BLOCK >= INTERNAL_FREE);
            m.set(f, need, false);
            k += 1;
        }
        assert_eq!(k, (NBLOCKS - INTERNAL_FREE.div_ceil(BLOCK)) / need);
        m.set(need + 1, need, true);
        assert_eq!(BlockMap::first_fit(&m.words, need), Some(need + 1));
    }
}
