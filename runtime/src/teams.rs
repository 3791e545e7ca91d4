//! Team state: the predefined teams, each team's symmetric layout and collective context,
//! and the allocator of the internal area. Data only: the operations over the runtime
//! (split, destroy, the `CollOps` the algorithms run on) are in `coll.rs`.
//!
//! - A team is the list of its members' world PEs plus one `CollCtx` (behind a mutex)
//!   whose signal slots, staging words and scratch lie in symmetric memory at the same
//!   offsets on every member.
//! - The algorithms address members by *team index*: every context is built over
//!   `ActiveSet::world(size)` and `coll::TeamOps` maps index `i` to world PE `members[i]`, so
//!   any member order works (negative strides, 2-D columns, nested splits).
//! - Space comes from the internal area of segment 0 in blocks of [`BLOCK`] bytes. Every PE
//!   keeps a bitmap of its free blocks. A split first AND-reduces the bitmaps over the
//!   parent (with the parent's own context), so every parent member sees the same map and
//!   picks the same first-fit run; members of the new team mark it used, non-members do
//!   not need to (the next split's AND sees it used on the members). Destroy zeroes the
//!   slots after a final barrier and frees the blocks locally.
use crate::error::{Error, Result};
use crate::layout::{INTERNAL_BYTES, INTERNAL_FREE};
use parking_lot::{Mutex, MutexGuard};
use rshmem_collectives::{ActiveSet, CollCtx, Overrides};
use std::sync::Arc;

/// Allocation unit of the internal area (bytes).
pub const BLOCK: usize = 1024;
/// Number of blocks of the internal area.
const NBLOCKS: usize = INTERNAL_BYTES / BLOCK;
/// Words of the free-block bitmap.
pub(crate) const MAP_WORDS: usize = NBLOCKS / 64;
/// Bytes of the bitmap as exchanged in a split.
pub(crate) const MAP_BYTES: usize = MAP_WORDS * 8;

/// Scratch of the world team (bytes).
pub const WORLD_SCRATCH: usize = 256 << 10;
/// Scratch of the shared team and of every split team (bytes), before the `8 * n` minimum.
pub const TEAM_SCRATCH: usize = 32 << 10;

/// The free blocks of this PE's internal area (bit set = free).
#[derive(Debug)]
pub struct BlockMap {
    pub(crate) words: [u64; MAP_WORDS],
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

    pub(crate) fn set(&mut self, first: usize, count: usize, free: bool) {
        for b in first..first + count {
            if free {
                self.words[b / 64] |= 1 << (b % 64);
            } else {
                self.words[b / 64] &= !(1 << (b % 64));
            }
        }
    }

    /// First run of `count` free blocks in `words`.
    pub(crate) fn first_fit(words: &[u64], count: usize) -> Option<usize> {
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
pub(crate) struct Layout {
    /// First block of the internal run.
    pub(crate) first_block: usize,
    /// Blocks of the internal run.
    pub(crate) blocks: usize,
    /// First signal slot (u64 index from the start of segment 0).
    pub(crate) sig_slot: usize,
    /// Number of signal slots.
    pub(crate) nslots: usize,
    /// Staging for the split's bitmap reduction: `MAP_BYTES` source, then as much result.
    pub(crate) stage: usize,
    /// Scratch (offset into segment 0).
    pub(crate) scratch: usize,
    pub(crate) scratch_len: usize,
}

impl Layout {
    /// Bytes of a team's state for a team of `n`: slots, staging, scratch.
    pub(crate) fn bytes(n: usize, scratch_len: usize) -> usize {
        (CollCtx::signal_slots(n) * 8).next_multiple_of(16) + 2 * MAP_BYTES + scratch_len
    }

    /// The layout of a team's state at offset `at` of segment 0: in the internal area
    /// (`at` = `first * BLOCK`, the run is freed on destroy) or in the heap (`blocks` 0).
    pub(crate) fn at(at: usize, n: usize, scratch_len: usize, internal: bool) -> Self {
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
    pub(crate) layout: Layout,
    ctx: Arc<Mutex<CollCtx>>,
    /// An active set's view of the shared pairwise context (see [`Teams::active`]).
    pairwise: bool,
}

impl TeamState {
    pub(crate) fn new(
        members: Vec<usize>,
        me_world: usize,
        layout: Layout,
        config: TeamConfig,
    ) -> Self {
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
    pub(crate) space: Mutex<BlockMap>,
    pub(crate) overrides: Overrides,
}

impl Teams {
    /// The predefined teams: world over `0..npes`, shared over `shared` (the PEs whose
    /// memory this PE maps, itself included). Needs no communication: every PE makes the
    /// same allocations from the same empty map (the shared run is sized for `npes`).
    pub fn new(me: usize, npes: usize, shared: Vec<usize>) -> Result<Self> {
        let overrides =
            Overrides::from_lookup(crate::env::text_by_name).map_err(|e| Error::InvalidEnv {
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
