//! Shared-memory transport: same-node peers' segments mapped into this process.
//!
//! A PE creates its segment as a POSIX shared-memory object ([`ShmRegion::create`], mode
//! 0600, a name that the caller makes unguessable), every PE of the node maps it
//! ([`ShmRegion::attach`]) and, once all have, the owner unlinks the name
//! ([`ShmRegion::unlink`]): from then on the memory lives only as long as the mappings, so
//! even a SIGKILLed job leaves nothing in `/dev/shm`.
//!
//! The mapping is `MAP_SHARED | MAP_NORESERVE` over a sparse object: the whole symmetric
//! heap is reserved as address space and backed page by page on first touch.
//!
//! Operations ([`ShmEndpoint`]) are plain copies and CPU atomics on the mapping; they are
//! complete when they return, so `put_nbi`/`get_nbi` are the blocking forms, `quiet` and
//! `fence` are sequentially-consistent fences.
//!
//! Files: `region.rs` ([`ShmRegion`]: create, attach, aligned mapping, unlink),
//! `object.rs` (the POSIX objects: creating one, checking a peer's before mapping it, the
//! list of created objects for [`unlink_created_objects`]), `endpoint.rs` ([`ShmEndpoint`]:
//! copies and CPU atomics, [`copy_bytes`]).
use std::ffi::CString;
use std::io;

mod endpoint;
mod object;
mod region;
#[cfg(test)]
mod tests;

pub use endpoint::{copy_bytes, ShmEndpoint};
pub use object::unlink_created_objects;
pub use region::ShmRegion;

/// Errors of the shared-memory transport.
#[derive(Debug, thiserror::Error)]
pub enum ShmError {
    /// A system call failed.
    #[error("{what} of shared-memory object /dev/shm{name} ({size} bytes) failed: {source}{hint}")]
    Sys {
        /// The operation (shm_open, ftruncate, mmap).
        what: &'static str,
        /// The object's name (leading '/').
        name: String,
        /// The size involved.
        size: usize,
        /// The OS error.
        source: io::Error,
        /// What to do about it.
        hint: &'static str,
    },
    /// A range to map over is not page-aligned or empty.
    #[error("cannot map shared memory over {len} bytes at {addr:#x}: the range must be page-aligned and not empty")]
    BadRange {
        /// Start of the range.
        addr: usize,
        /// Its length.
        len: usize,
    },
    /// A peer's object is not what a PE of this job creates: another user's, readable by
    /// others, of the wrong size, or not a regular file.
    #[error("refusing to map shared-memory object /dev/shm{name} as a peer's segment: {why}; expected a regular file owned by uid {uid} with mode 0600 and {size} bytes, as the peer published (another user or a stale job may have planted it: remove it, check who can write /dev/shm)")]
    Untrusted {
        /// The object's name (leading '/').
        name: String,
        /// What is wrong with it.
        why: String,
        /// Our effective uid, which the owner must be.
        uid: u32,
        /// The size the peer published.
        size: usize,
    },
    /// The object's name is unusable.
    #[error("invalid shared-memory object name {0:?}: it must start with '/', have no other '/' and no NUL")]
    BadName(String),
}

/// The page size that mappings are made of.
pub const PAGE: usize = 4096;

/// Alignment of every mapping's base address (2 MiB: a huge page).
pub const SEGMENT_ALIGN: usize = 2 << 20;

fn cname(name: &str) -> Result<CString, ShmError> {
    if !name.starts_with('/') || name[1..].contains('/') || name.len() < 2 {
        return Err(ShmError::BadName(name.to_string()));
    }
    CString::new(name).map_err(|_| ShmError::BadName(name.to_string()))
}

/// Why a reservation of address space fails: not /dev/shm, the address space.
const ADDRESS_SPACE_HINT: &str = "; the process's address space cannot hold a mapping this large \
     (the limit is `ulimit -v` or the machine's virtual address size): lower SHMEM_SYMMETRIC_SIZE";

fn sys_err(what: &'static str, name: &str, size: usize) -> ShmError {
    let source = io::Error::last_os_error();
    let hint = match source.raw_os_error() {
        Some(libc::ENOMEM) if what.starts_with("mmap") => ADDRESS_SPACE_HINT,
        Some(libc::ENOSPC) | Some(libc::ENOMEM) => {
            "; /dev/shm or memory is too small: lower SHMEM_SYMMETRIC_SIZE or enlarge /dev/shm"
        }
        Some(libc::EACCES) | Some(libc::EPERM) => "; check the permissions of /dev/shm",
        Some(libc::EMFILE) | Some(libc::ENFILE) => "; too many open files: raise `ulimit -n`",
        _ => "",
    };
    ShmError::Sys {
        what,
        name: name.to_string(),
        size,
        source,
        hint,
    }
}
