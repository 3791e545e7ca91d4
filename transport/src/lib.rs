//! # rshmem-transport
//!
//! Moves bytes between symmetric segments. Every transport offers the same small set of
//! operations ([`Endpoint`]): `put`, `get`, atomics, `fence` and `quiet`, addressed by a
//! [`RemoteAddr`] that the runtime has already translated for the target PE. There is no
//! OpenSHMEM semantics here (no PE numbers, no symmetric heap, no teams): the runtime
//! (`rshmem`) chooses one endpoint per peer and dispatches statically (an enum, never a
//! trait object) on the hot path.
//!
//! Transports:
//! - [`shm`]: same node. Peers' segments are mapped into this process; put/get are copies,
//!   atomics are CPU atomics, fence/quiet are memory fences. No system call, lock or
//!   allocation on any operation.
//! - `verbs` (cargo feature `verbs`, on by default): RDMA over libibverbs, one RC queue
//!   pair per peer; see the module and docs/ARCHITECTURE.md ("Verbs transport").
//!
//! ```
//! use rshmem_transport::{shm::ShmEndpoint, AmoOp, Endpoint, RemoteAddr};
//! let mut word = 5u64;
//! let ep = ShmEndpoint;
//! let target = RemoteAddr::local(&mut word as *mut u64 as usize);
//! // SAFETY: `target` points at a live, aligned u64 that nothing else accesses.
//! let old = unsafe { ep.amo::<u64>(target, AmoOp::FetchAdd, 2, 0) };
//! assert_eq!((old, word), (5, 7));
//! ```

pub mod env;
pub mod shm;
pub mod tcp;
#[cfg(feature = "verbs")]
pub mod verbs;

/// An address in a peer's segment as the transport needs it.
///
/// For shared memory `addr` is the address of the peer's memory *in this process* (the
/// peer's segment is mapped here) and `key` is unused; for RDMA it is the peer's virtual
/// address and `key` the rkey of the memory region that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteAddr {
    /// Address as the transport uses it (see the type's documentation).
    pub addr: usize,
    /// Remote key (RDMA); 0 for shared memory.
    pub key: u32,
}

impl RemoteAddr {
    /// A shared-memory address (mapped into this process).
    #[inline(always)]
    pub const fn local(addr: usize) -> Self {
        Self { addr, key: 0 }
    }
}

/// Atomic memory operations, as the OpenSHMEM AMOs map onto one read-modify-write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmoOp {
    /// Atomic load; returns the value.
    Fetch,
    /// Atomic store of `operand`; returns the old value.
    Set,
    /// Store `operand`; returns the old value.
    Swap,
    /// Store `operand` if the word equals `compare`; returns the old value.
    CompareSwap,
    /// Add `operand` (wrapping); returns the old value.
    FetchAdd,
    /// Bitwise and with `operand`; returns the old value.
    FetchAnd,
    /// Bitwise or with `operand`; returns the old value.
    FetchOr,
    /// Bitwise xor with `operand`; returns the old value.
    FetchXor,
}

/// Integer words the transports can operate on atomically (32 and 64 bits).
pub trait AmoWord: Copy + Eq + core::fmt::Debug + Send + Sync + 'static + sealed::Sealed {
    /// Size in bytes (4 or 8).
    const SIZE: usize;
    /// Performs `op` on the word at `ptr` with CPU atomics and returns the previous value.
    ///
    /// # Safety
    /// `ptr` must be valid for reads and writes of `Self` and aligned to `SIZE`.
    unsafe fn cpu_amo(ptr: *mut Self, op: AmoOp, operand: Self, compare: Self) -> Self;
    /// Zero-extends to u64 (for transports that only have 64-bit atomics).
    fn to_u64(self) -> u64;
    /// Truncates from u64.
    fn from_u64(v: u64) -> Self;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u32 {}
    impl Sealed for u64 {}
}

macro_rules! amo_word {
    ($t:ty, $atomic:ty) => {
        impl AmoWord for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            #[inline(always)]
            unsafe fn cpu_amo(ptr: *mut Self, op: AmoOp, operand: Self, compare: Self) -> Self {
                use core::sync::atomic::Ordering::SeqCst;
                // SAFETY: the caller guarantees `ptr` is valid and aligned; every access to
                // symmetric words that may race goes through atomics (this function) or
                // through the transports' fences.
                let a = unsafe { <$atomic>::from_ptr(ptr) };
                match op {
                    AmoOp::Fetch => a.load(SeqCst),
                    AmoOp::Set | AmoOp::Swap => a.swap(operand, SeqCst),
                    AmoOp::CompareSwap => {
                        match a.compare_exchange(compare, operand, SeqCst, SeqCst) {
                            Ok(v) | Err(v) => v,
                        }
                    }
                    AmoOp::FetchAdd => a.fetch_add(operand, SeqCst),
                    AmoOp::FetchAnd => a.fetch_and(operand, SeqCst),
                    AmoOp::FetchOr => a.fetch_or(operand, SeqCst),
                    AmoOp::FetchXor => a.fetch_xor(operand, SeqCst),
                }
            }
            #[inline(always)]
            fn to_u64(self) -> u64 {
                self as u64
            }
            #[inline(always)]
            fn from_u64(v: u64) -> Self {
                v as $t
            }
        }
    };
}
amo_word!(u32, core::sync::atomic::AtomicU32);
amo_word!(u64, core::sync::atomic::AtomicU64);

/// The uniform operations every transport provides for one peer.
///
/// Blocking `put` returns when the source buffer may be reused; `get` returns when the data
/// has arrived. `*_nbi` forms may return earlier: their buffers must stay untouched until
/// [`Endpoint::quiet`]. `fence` orders this PE's puts, AMOs and signals to one peer;
/// `quiet` completes and makes visible everything issued before it.
pub trait Endpoint {
    /// Copies `len` bytes from `src` to `dst`.
    ///
    /// # Safety
    /// `src` must be valid for `len` bytes; `dst` must lie in a segment this endpoint reaches.
    unsafe fn put(&self, dst: RemoteAddr, src: *const u8, len: usize);
    /// Non-blocking put: `src` must stay valid and unchanged until `quiet`.
    ///
    /// # Safety
    /// As [`Endpoint::put`], and `src` must outlive the next `quiet`.
    unsafe fn put_nbi(&self, dst: RemoteAddr, src: *const u8, len: usize);
    /// Copies `len` bytes from `src` into `dst`.
    ///
    /// # Safety
    /// `dst` must be valid for `len` bytes of writes; `src` must lie in a reachable segment.
    unsafe fn get(&self, dst: *mut u8, src: RemoteAddr, len: usize);
    /// Non-blocking get: `dst` is valid only after `quiet`.
    ///
    /// # Safety
    /// As [`Endpoint::get`], and `dst` must outlive the next `quiet`.
    unsafe fn get_nbi(&self, dst: *mut u8, src: RemoteAddr, len: usize);
    /// Atomic read-modify-write of the word at `target`; returns the previous value.
    ///
    /// # Safety
    /// `target` must be an aligned word in a reachable segment.
    unsafe fn amo<W: AmoWord>(&self, target: RemoteAddr, op: AmoOp, operand: W, compare: W) -> W;
    /// Non-fetching atomic `op` (no compare) on the word at `target`: ordered like a put,
    /// complete (visible) at the latest after the next `quiet`. Default: [`Endpoint::amo`]
    /// with the result dropped; the TCP transport sends it without waiting for a reply.
    ///
    /// # Safety
    /// As [`Endpoint::amo`].
    #[inline]
    unsafe fn amo_nr<W: AmoWord>(&self, target: RemoteAddr, op: AmoOp, operand: W) {
        // SAFETY: forwarded contract.
        let _ = unsafe { self.amo(target, op, operand, operand) };
    }
    /// Orders puts, AMOs and signals issued before it to this peer before those after it.
    fn fence(&self);
    /// Completes every operation issued before it.
    fn quiet(&self);
}
