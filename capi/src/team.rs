//! Teams (`shmem_team_*`) and the groups the collectives run on.
//!
//! A C `shmem_team_t` is an index into a registry of [`CTeam`]s, plus one (so that NULL is
//! `SHMEM_TEAM_INVALID`): `SHMEM_TEAM_WORLD` is 1 and `SHMEM_TEAM_SHARED` 2, fixed at
//! `shmem_init`. A [`CTeam`] wraps the runtime's [`Team`] (split, sync, destroy) with the
//! member list the C collectives address PEs with.
//!
//! The deprecated active-set collectives are called only by the members of the active set,
//! so they cannot create a team (a split is collective over the parent): a whole-world set
//! runs on the world team, any other on the runtime's active-set view
//! (`Shmem::active_set`), whose one shared context keys its counters by world PE. Both
//! run the same algorithms as the team forms.
use crate::{fail, rt};
use parking_lot::Mutex;
use rshmem_rt::rt::Runtime;
use rshmem_rt::{Shmem, Team, TeamConfig};
use std::ffi::{c_int, c_long};
use std::sync::Arc;

/// `shmem_team_config_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ShmemTeamConfig {
    pub num_contexts: c_int,
}

/// `SHMEM_TEAM_NUM_CONTEXTS`.
pub const SHMEM_TEAM_NUM_CONTEXTS: c_long = 1;

/// The C handle type (opaque pointer; the value is registry index + 1).
pub type TeamHandle = *mut core::ffi::c_void;

/// `SHMEM_TEAM_WORLD` (`SHMEM_TEAM_SHARED` is 2: registry index 1).
pub const TEAM_WORLD: usize = 1;

/// One team as the C API sees it.
pub(crate) struct CTeam {
    team: Team<'static>,
    /// World PE of each member, in team order.
    pub members: Vec<usize>,
    /// This PE's index in `members`.
    pub me: usize,
    config: ShmemTeamConfig,
    /// Whether `team` is a predefined team (world, shared): never destroyed.
    predefined: bool,
}

// SAFETY: `Team` is a runtime reference plus an `Arc` of state whose mutable parts sit
// behind a mutex; the runtime is shared between threads by design (SHMEM_THREAD_MULTIPLE).
unsafe impl Send for CTeam {}
// SAFETY: as above; every `&self` method of `Team` locks what it mutates.
unsafe impl Sync for CTeam {}

struct Registry(Vec<Option<Arc<CTeam>>>);

static TEAMS: Mutex<Registry> = Mutex::new(Registry(Vec::new()));

/// The library's internal symmetric words (allocated collectively at init).
#[derive(Clone, Copy)]
pub(crate) struct Internal {
    /// `n_pes` words: `sizes[p]` is PE `p`'s contribution to the current `collect` (the
    /// form for buffers outside the heap).
    pub sizes: usize,
}

static INTERNAL: Mutex<Option<Internal>> = Mutex::new(None);

pub(crate) fn internal(what: &'static str) -> Internal {
    match *INTERNAL.lock() {
        Some(i) => i,
        None => {
            rt(what);
            unreachable!("runtime live without the internal area")
        }
    }
}

fn wrap(team: Team<'static>, config: ShmemTeamConfig, predefined: bool) -> Arc<CTeam> {
    let members = (0..team.n_pes())
        .map(|i| team.world_pe(i).expect("team member"))
        .collect();
    let me = team.my_pe();
    Arc::new(CTeam {
        team,
        members,
        me,
        config,
        predefined,
    })
}

/// Called by `shmem_init` once the handle is live: the predefined teams and the internal
/// symmetric area (collective).
pub(crate) fn init_hook(s: &'static Shmem) -> rshmem_rt::Result<()> {
    let rt = s.runtime();
    let n = rt.n_pes();
    let base = rt.malloc(n * 8, 64, true)?;
    *INTERNAL.lock() = Some(Internal { sizes: base });
    let mut reg = TEAMS.lock();
    reg.0.clear();
    reg.0
        .push(Some(wrap(s.team_world(), ShmemTeamConfig::default(), true)));
    reg.0.push(Some(wrap(
        s.team_shared(),
        ShmemTeamConfig::default(),
        true,
    )));
    Ok(())
}

/// Called by `shmem_finalize` before the handle is dropped: teams the program did not
/// destroy are forgotten (destroying is collective, and the runtime goes away anyway).
pub(crate) fn finalize_hook() {
    let teams = std::mem::take(&mut TEAMS.lock().0);
    for t in teams.into_iter().flatten() {
        std::mem::forget(t);
    }
    *INTERNAL.lock() = None;
}

/// The team of a C handle, `None` for `SHMEM_TEAM_INVALID` or a destroyed team.
pub(crate) fn lookup(what: &'static str, h: TeamHandle) -> Option<Arc<CTeam>> {
    rt(what);
    let i = (h as usize).checked_sub(1)?;
    TEAMS.lock().0.get(i).cloned().flatten()
}

fn register(t: Arc<CTeam>) -> TeamHandle {
    let mut reg = TEAMS.lock();
    let i = match reg.0.iter().position(Option::is_none) {
        Some(i) => {
            reg.0[i] = Some(t);
            i
        }
        None => {
            reg.0.push(Some(t));
            reg.0.len() - 1
        }
    };
    (i + 1) as TeamHandle
}

impl CTeam {
    pub fn n(&self) -> usize {
        self.members.len()
    }
    pub fn group(&self) -> Group<'_> {
        Group {
            members: std::borrow::Cow::Borrowed(&self.members),
            me: self.me,
            team: Some(&self.team),
            world: None,
            active: None,
        }
    }
}

/// The PEs a collective runs over: a team, or a deprecated active set.
pub(crate) struct Group<'a> {
    pub members: std::borrow::Cow<'a, [usize]>,
    pub me: usize,
    team: Option<&'a Team<'static>>,
    /// An active set that is the whole world, in order: the world team runs its
    /// collectives with the runtime's algorithms.
    world: Option<Arc<CTeam>>,
    /// Any other active set: the runtime's view of it, on the context all active sets share.
    active: Option<Team<'static>>,
}

impl Group<'_> {
    pub fn n(&self) -> usize {
        self.members.len()
    }

    /// The runtime team behind this group: a team, the world team for a whole-world active
    /// set, or the runtime's view of any other active set.
    pub fn team(&self) -> &Team<'static> {
        self.team
            .or_else(|| self.world.as_deref().map(|c| &c.team))
            .or(self.active.as_ref())
            .expect("a group always has a team")
    }

    /// Completes this PE's outstanding operations, then waits for every member.
    pub fn barrier(&self, rt: &Runtime, _what: &'static str) {
        rt.quiet();
        self.team().sync();
    }

    /// The active set `PE_start + i * 2^logPE_stride`, `i < PE_size`, which must contain
    /// this PE.
    pub fn active(
        rt: &Runtime,
        what: &'static str,
        start: c_int,
        log_stride: c_int,
        size: c_int,
    ) -> Group<'static> {
        let n = rt.n_pes() as i64;
        let (s, l, z) = (start as i64, log_stride as i64, size as i64);
        if s < 0 || !(0..31).contains(&l) || z < 1 || s + (z - 1) * (1i64 << l) >= n {
            rt.abort(
                1,
                &format!(
                    "{what}: invalid active set PE_start={start} logPE_stride={log_stride} \
                     PE_size={size} for {n} PEs"
                ),
            )
        }
        let me = rt.my_pe() as i64;
        let off = me - s;
        let stride = 1i64 << l;
        if off < 0 || off % stride != 0 || off / stride >= z {
            rt.abort(
                1,
                &format!(
                    "{what}: PE {me} is not in the active set PE_start={start} \
                     logPE_stride={log_stride} PE_size={size}"
                ),
            )
        }
        let world = (s == 0 && l == 0 && z == n)
            .then(|| TEAMS.lock().0.first().cloned().flatten())
            .flatten();
        let active = match world {
            Some(_) => None,
            None => {
                match crate::handle::shmem(what).active_set(s as usize, stride as usize, z as usize)
                {
                    Ok(t) => Some(t),
                    Err(e) => fail(rt, what, e),
                }
            }
        };
        Group {
            members: (0..z).map(|i| (s + i * stride) as usize).collect(),
            me: (off / stride) as usize,
            team: None,
            world,
            active,
        }
    }
}

// ---- C entry points ----------------------------------------------------------------

c_fn!(safe W; team_my_pe(team: TeamHandle) -> c_int {
    match lookup("shmem_team_my_pe", team) {
        Some(t) => t.me as c_int,
        None => -1,
    }
});

c_fn!(safe W; team_n_pes(team: TeamHandle) -> c_int {
    match lookup("shmem_team_n_pes", team) {
        Some(t) => t.n() as c_int,
        None => -1,
    }
});

c_fn!(W; team_get_config(team: TeamHandle, config_mask: c_long, config: *mut ShmemTeamConfig) -> c_int {
    match lookup("shmem_team_get_config", team) {
        Some(t) => {
            if !config.is_null() && config_mask & SHMEM_TEAM_NUM_CONTEXTS != 0 {
                // SAFETY: valid out pointer (contract).
                unsafe { (*config).num_contexts = t.config.num_contexts };
            }
            0
        }
        None => -1,
    }
});

c_fn!(safe W; team_translate_pe(src_team: TeamHandle, src_pe: c_int, dest_team: TeamHandle) -> c_int {
    let (Some(s), Some(d)) = (lookup(W, src_team), lookup(W, dest_team)) else {
        return -1;
    };
    if src_pe < 0 {
        return -1;
    }
    match s.members.get(src_pe as usize) {
        Some(w) => d
            .members
            .iter()
            .position(|m| m == w)
            .map_or(-1, |i| i as c_int),
        None => -1,
    }
});

fn user_config(config: *const ShmemTeamConfig, mask: c_long) -> ShmemTeamConfig {
    if config.is_null() || mask & SHMEM_TEAM_NUM_CONTEXTS == 0 {
        ShmemTeamConfig::default()
    } else {
        // SAFETY: valid pointer (contract).
        unsafe { *config }
    }
}

/// Writes `h` to a C out pointer (NULL tolerated).
unsafe fn out(p: *mut TeamHandle, h: TeamHandle) {
    if !p.is_null() {
        // SAFETY: valid out pointer (contract).
        unsafe { *p = h };
    }
}

fn debug_msg(rt: &Runtime, what: &str, e: &dyn std::fmt::Display) {
    if rt.config().debug {
        eprintln!("rshmem: PE {}: {what}: {e}", rt.my_pe());
    }
}

c_fn!(W; team_split_strided(parent: TeamHandle, start: c_int, stride: c_int, size: c_int, config: *const ShmemTeamConfig, config_mask: c_long, new_team: *mut TeamHandle) -> c_int {
    // SAFETY: the C caller's contract: the handle pointer is valid for writes (`out` ignores NULL).
    unsafe { out(new_team, core::ptr::null_mut()) };
    let Some(p) = lookup(W, parent) else {
        return -1;
    };
    let s = crate::handle::shmem(W);
    let rt = s.runtime();
    let cfg = user_config(config, config_mask);
    if start < 0 || size < 0 || cfg.num_contexts < 0 {
        // Every parent member sees the same arguments: the same early return everywhere.
        debug_msg(rt, W, &"negative start, size or num_contexts");
        return -1;
    }
    let rcfg = TeamConfig {
        num_contexts: cfg.num_contexts as usize,
    };
    match s.team_split_strided_with_config(
        &p.team,
        start as usize,
        stride as isize,
        size as usize,
        rcfg,
    ) {
        Ok(Some(t)) => {
            let h = register(wrap(t, cfg, false));
            // SAFETY: the C caller's contract: the handle pointer is valid for writes (`out` ignores NULL).
            unsafe { out(new_team, h) };
            0
        }
        Ok(None) => 0,
        Err(_) => -1,
    }
});

c_fn!(W; team_split_2d(parent: TeamHandle, xrange: c_int, xaxis_config: *const ShmemTeamConfig, xaxis_mask: c_long, xaxis_team: *mut TeamHandle, yaxis_config: *const ShmemTeamConfig, yaxis_mask: c_long, yaxis_team: *mut TeamHandle) -> c_int {
    // SAFETY: the C caller's contract: the handle pointer is valid for writes (`out` ignores NULL).
    unsafe {
        out(xaxis_team, core::ptr::null_mut());
        out(yaxis_team, core::ptr::null_mut());
    }
    let Some(p) = lookup(W, parent) else {
        return -1;
    };
    let s = crate::handle::shmem(W);
    if xrange <= 0 {
        debug_msg(
            s.runtime(),
            W,
            &format!("xrange {xrange} must be at least 1"),
        );
        return -1;
    }
    match s.team_split_2d(&p.team, xrange as usize) {
        Ok((x, y)) => {
            let hx = register(wrap(x, user_config(xaxis_config, xaxis_mask), false));
            let hy = register(wrap(y, user_config(yaxis_config, yaxis_mask), false));
            // SAFETY: the C caller's contract: the handle pointer is valid for writes (`out` ignores NULL).
            unsafe {
                out(xaxis_team, hx);
                out(yaxis_team, hy);
            }
            0
        }
        Err(_) => -1,
    }
});

c_fn!(safe W; team_destroy(team: TeamHandle) {
    let Some(t) = lookup(W, team) else {
        return;
    };
    if t.predefined {
        rt(W).abort(
            1,
            "shmem_team_destroy: SHMEM_TEAM_WORLD and SHMEM_TEAM_SHARED cannot be destroyed",
        )
    }
    let i = team as usize - 1;
    TEAMS.lock().0[i] = None;
    // Ours is now the last reference unless another thread is inside a collective of this
    // team (a program error); the runtime's drop is the collective destroy.
    drop(t);
});

c_fn!(safe W; team_sync(team: TeamHandle) -> c_int {
    match lookup("shmem_team_sync", team) {
        Some(t) => {
            t.team.sync();
            0
        }
        None => -1,
    }
});

c_fn!(safe W; team_ptr(team: TeamHandle, dest: *const core::ffi::c_void, pe: c_int) -> *mut core::ffi::c_void {
    let Some(t) = lookup(W, team) else {
        return core::ptr::null_mut();
    };
    match usize::try_from(pe).ok().and_then(|i| t.members.get(i)) {
        Some(&w) => rt(W)
            .ptr(dest as usize, w)
            .map_or(core::ptr::null_mut(), |a| a as *mut core::ffi::c_void),
        None => core::ptr::null_mut(),
    }
});
