//! The typed error of every fallible rshmem call.

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a way the caller may handle.
///
/// Each message names the offending value and says what to do.
///
/// ```no_run
/// let shmem = rshmem::init()?;
/// match shmem.alloc_slice::<u8>(1 << 40) {
///     Err(rshmem::Error::HeapExhausted { free, .. }) => eprintln!("only {free} bytes free"),
///     Err(e) => eprintln!("{e}"),
///     Ok(_) => {}
/// }
/// # Ok::<(), rshmem::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable holds a value that cannot be used.
    #[error("invalid {var}={value:?}: {reason}")]
    InvalidEnv {
        /// The variable, e.g. `SHMEM_SYMMETRIC_SIZE`.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// The symmetric heap cannot satisfy an allocation.
    #[error(
        "symmetric heap exhausted: cannot allocate {requested} bytes (alignment {align}); the heap has {heap_size} bytes, \
         {free} bytes free, the largest free block is {largest} bytes. Set SHMEM_SYMMETRIC_SIZE to a larger value \
         (e.g. SHMEM_SYMMETRIC_SIZE={suggest})"
    )]
    HeapExhausted {
        /// Bytes asked for.
        requested: usize,
        /// Alignment asked for.
        align: usize,
        /// Size of the heap (SHMEM_SYMMETRIC_SIZE).
        heap_size: usize,
        /// Bytes free in total.
        free: usize,
        /// Largest free block.
        largest: usize,
        /// A heap size that would fit the request.
        suggest: String,
    },
    /// An allocation argument is invalid (alignment not a power of two, pointer not from the heap).
    #[error("invalid symmetric allocation: {0}")]
    BadAlloc(String),
    /// A PE number outside `0..n_pes`.
    #[error("PE {pe} is out of range: this job has {n_pes} PEs, valid PE numbers are 0..={max}", max = n_pes - 1)]
    PeOutOfRange {
        /// The PE asked for.
        pe: i64,
        /// Number of PEs in the job.
        n_pes: usize,
    },
    /// An address (and length) that is not inside a symmetric segment.
    #[error(
        "address {addr:#x} (+{len} bytes) is not inside a symmetric segment (the symmetric heap is {heap_start:#x}..{heap_end:#x}); \
         remote memory must be allocated with shmem_malloc/SymBox/SymVec (or be a global/static in C)"
    )]
    NotSymmetric {
        /// The address.
        addr: usize,
        /// The length accessed.
        len: usize,
        /// Start of this PE's heap.
        heap_start: usize,
        /// End of this PE's heap.
        heap_end: usize,
    },
    /// An index or range outside a symmetric object.
    #[error("range {start}..{end} is out of bounds of a symmetric object of {len} elements")]
    OutOfBounds {
        /// First element touched.
        start: usize,
        /// One past the last element touched.
        end: usize,
        /// Elements in the object.
        len: usize,
    },
    /// An atomic on a misaligned address.
    #[error("atomic operation on address {addr:#x}, which is not aligned to {align} bytes")]
    Misaligned {
        /// The address.
        addr: usize,
        /// Required alignment.
        align: usize,
    },
    /// The launcher connection failed or misbehaved.
    #[error("bootstrap ({protocol}) failed: {msg}")]
    Bootstrap {
        /// The protocol in use.
        protocol: &'static str,
        /// What went wrong.
        msg: String,
    },
    /// Setting up shared memory failed.
    #[error(transparent)]
    Shm(#[from] rshmem_transport::shm::ShmError),
    /// Setting up the RDMA verbs transport failed (device, registration, connection).
    #[error(transparent)]
    Verbs(#[from] rshmem_transport::verbs::VerbsError),
    /// The TCP transport could not be set up (listen address, key exchange).
    #[error("TCP transport: {0}")]
    Tcp(String),
    /// A peer cannot be reached by any transport.
    #[error("PE {pe} runs on another node ({host}) and no network transport is available to reach it: {why}")]
    Unreachable {
        /// The peer.
        pe: usize,
        /// Its host.
        host: String,
        /// Why not.
        why: String,
    },
    /// `init` called while already initialized, or a call before `init`.
    #[error("{0}")]
    State(&'static str),
    /// The program's global and static variables could not be made symmetric.
    #[error("{0}")]
    ProgramData(String),
    /// An invalid argument of a team or collective call (the team is not created / the
    /// collective does not run, on every PE alike).
    #[error("{call}: invalid {arg} = {value}: {reason}")]
    InvalidArgument {
        /// The call, e.g. `team_split_strided`.
        call: &'static str,
        /// The argument, e.g. `stride`.
        arg: &'static str,
        /// Its value.
        value: i64,
        /// What is wrong.
        reason: String,
    },
    /// Counts, strides and element sizes whose product does not fit the address space
    /// (an argument error: nothing was transferred).
    #[error("{call}: {what} overflows the address space; check the counts and strides")]
    Overflow {
        /// The call, e.g. `iput`.
        call: &'static str,
        /// The values that were multiplied, e.g. `3 elements at stride 2^62 of 4 bytes`.
        what: String,
    },
    /// A collective's buffer is smaller than what the call reads or writes there.
    #[error(
        "{call}: {buffer} ({addr:#x}) is too small: the call needs {need} bytes there, but {room} bytes \
         remain in its {region} ({len} bytes from {start:#x}); every PE's {buffer} must hold the whole result"
    )]
    BufferTooSmall {
        /// The call, e.g. `shmem_int_fcollect`.
        call: &'static str,
        /// Which argument, e.g. `dest`.
        buffer: &'static str,
        /// Its address.
        addr: usize,
        /// Bytes the call reads or writes from `addr`.
        need: usize,
        /// Bytes from `addr` to the end of the allocation.
        room: usize,
        /// `symmetric allocation` or `segment of global variables`.
        region: &'static str,
        /// Start of the allocation (or segment).
        start: usize,
        /// Its length.
        len: usize,
    },
    /// No room for one more team's symmetric state.
    #[error(
        "cannot create the team: the {teams_bytes} bytes of internal symmetric space for teams are used up by \
         live teams, and only splits of a parent that contains every PE (this one has {parent_size}) can fall back \
         to the symmetric heap; destroy teams that are no longer needed"
    )]
    TeamSpace {
        /// Bytes of the internal area available to teams.
        teams_bytes: usize,
        /// Size of the parent team of the failed split.
        parent_size: usize,
    },
}
