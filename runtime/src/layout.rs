//! The internal area at the start of every PE's segment 0: the runtime's own symmetric
//! words (fixed slots), then team state (`teams.rs`). Constants only, so that the runtime
//! (`rt`) and the team registry (`teams`) both build on it.
use rshmem_transport::shm::SEGMENT_ALIGN;

/// Bytes at the start of segment 0 reserved for the runtime's own symmetric state
/// (synchronization slots, debug checks); backed lazily like the heap.
pub const INTERNAL_BYTES: usize = SEGMENT_ALIGN;

/// Offsets (bytes) of the runtime's slots in the internal area.
pub(crate) mod slots {
    /// `barrier_all` dissemination counters (64 × u64).
    pub const BARRIER: usize = 0;
    /// SHMEM_DEBUG argument check: PE 0 publishes its arguments here (4 × u64).
    pub const DEBUG: usize = 64 * 8;
    /// Exit request from a peer (see "Failures" in ARCHITECTURE.md): 0, or
    /// `1 << 63 | requester << 32 | status as u32`.
    pub const EXIT: usize = DEBUG + 4 * 8;
    /// Peers that obeyed this PE's exit request (u64 counter).
    pub const EXIT_ACK: usize = EXIT + 8;
    /// What this PE waits in (`wait::Progress`): written only by this PE, read by peers in
    /// finalize.
    pub const STATE: usize = EXIT_ACK + 8;
    /// Finalize's own dissemination barrier counters (64 x u64): never shared with a user
    /// barrier, so an implicit finalize cannot complete a `barrier_all` it never entered.
    pub const FIN_BARRIER: usize = STATE + 8;
    /// First byte free for later users (collectives, teams).
    pub const _FREE: usize = FIN_BARRIER + 64 * 8;
}

/// First byte of the internal area after the runtime's fixed slots: from here on it is
/// carved into team state (signal slots, scratch) by `teams::BlockMap`.
pub(crate) const INTERNAL_FREE: usize = slots::_FREE;
