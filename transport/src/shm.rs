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
use crate::{AmoOp, AmoWord, Endpoint, RemoteAddr};
use std::ffi::CString;
use std::io;
use std::sync::atomic::{fence, Ordering};

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

/// A mapped shared-memory object.
#[derive(Debug)]
pub struct ShmRegion {
    base: *mut u8,
    len: usize,
    name: String,
    owner: bool,
    unlinked: bool,
    /// Mapped over memory the program already had ([`ShmRegion::create_over`]): the
    /// mapping must outlive the region, so drop only unlinks.
    fixed: bool,
}

// SAFETY: the region is plain memory shared between processes; all racing accesses to it
// go through atomics or are ordered by fences (OpenSHMEM's rules), never through references
// held by this struct.
unsafe impl Send for ShmRegion {}
// SAFETY: see `Send`; `&ShmRegion` only exposes the base address and length.
unsafe impl Sync for ShmRegion {}

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

/// Checks an opened peer object (see [`ShmRegion::attach`]).
fn check_peer_object(fd: libc::c_int, name: &str, len: usize) -> Result<(), ShmError> {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let untrusted = |why: String| ShmError::Untrusted {
        name: name.to_string(),
        why,
        uid,
        size: len,
    };
    // SAFETY: an all-zero stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is open; `st` is a valid out-pointer.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(sys_err("fstat", name, len));
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(untrusted("it is not a regular file".into()));
    }
    if st.st_uid != uid {
        return Err(untrusted(format!("it is owned by uid {}", st.st_uid)));
    }
    if st.st_mode & 0o7777 != 0o600 {
        return Err(untrusted(format!(
            "its mode is {:04o}",
            st.st_mode & 0o7777
        )));
    }
    if st.st_size as u64 != len as u64 {
        return Err(untrusted(format!("it has {} bytes", st.st_size)));
    }
    Ok(())
}

/// Names of the objects this process created and has not unlinked yet, for
/// [`unlink_created_objects`]. Touched only when an object is created or unlinked.
static CREATED: std::sync::Mutex<Vec<CString>> = std::sync::Mutex::new(Vec::new());

fn forget_created(c: &CString) {
    if let Ok(mut v) = CREATED.lock() {
        v.retain(|n| n != c);
    }
}

/// Unlinks every object this process created and has not unlinked yet: for a PE about to
/// exit because its job is gone (its launcher died during init), so that nothing of it
/// stays in `/dev/shm`. Never blocks (gives up if another thread holds the list).
pub fn unlink_created_objects() {
    if let Ok(mut v) = CREATED.try_lock() {
        for c in v.drain(..) {
            // SAFETY: `c` is a valid NUL-terminated name we created.
            unsafe { libc::shm_unlink(c.as_ptr()) };
        }
    }
}

/// Creates the object `c` (exclusively, mode 0600) of `len` zero bytes; returns its fd.
fn create_object(c: &CString, name: &str, len: usize) -> Result<libc::c_int, ShmError> {
    // SAFETY: `c` is a valid NUL-terminated string.
    let fd = unsafe {
        libc::shm_open(
            c.as_ptr(),
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
            0o600,
        )
    };
    if fd < 0 {
        return Err(sys_err("shm_open", name, len));
    }
    // Exactly 0600 whatever the umask: peers check the mode before mapping it.
    // SAFETY: `fd` is the descriptor we just opened.
    if unsafe { libc::fchmod(fd, 0o600) } != 0 {
        let e = sys_err("fchmod", name, len);
        // SAFETY: closing and unlinking what we created.
        unsafe {
            libc::close(fd);
            libc::shm_unlink(c.as_ptr());
        }
        return Err(e);
    }
    // SAFETY: `fd` is the descriptor we just opened.
    if unsafe { libc::ftruncate(fd, len as libc::off_t) } != 0 {
        let e = sys_err("ftruncate", name, len);
        // SAFETY: closing and unlinking what we created.
        unsafe {
            libc::close(fd);
            libc::shm_unlink(c.as_ptr());
        }
        return Err(e);
    }
    if let Ok(mut v) = CREATED.lock() {
        v.push(c.clone());
    }
    Ok(fd)
}

impl ShmRegion {
    /// Creates (exclusively, mode 0600) and maps an object of `len` bytes, zero-filled and
    /// backed lazily.
    pub fn create(name: &str, len: usize) -> Result<Self, ShmError> {
        Self::create_aligned(name, len, SEGMENT_ALIGN, 0)
    }

    /// [`ShmRegion::create`], mapped so that `base + skew` is a multiple of `align` (a
    /// power of two, at least [`SEGMENT_ALIGN`]; `skew` a multiple of [`SEGMENT_ALIGN`]).
    /// The runtime maps its heap segment (internal area of `skew` bytes, then the heap) so
    /// that the heap starts at a multiple of a power of two at least its size: offsets
    /// aligned to anything up to that are aligned addresses on every PE. Costs address space
    /// only (`len + align` is reserved for a moment, the rest given back).
    pub fn create_aligned(
        name: &str,
        len: usize,
        align: usize,
        skew: usize,
    ) -> Result<Self, ShmError> {
        let c = cname(name)?;
        let fd = create_object(&c, name, len)?;
        let r = Self::map(fd, name, len, true, align, skew);
        if r.is_err() {
            forget_created(&c);
            // SAFETY: unlinking the object we created.
            unsafe { libc::shm_unlink(c.as_ptr()) };
        }
        r
    }

    /// Maps an existing object created by another PE of this node, after checking that it
    /// is one: opened without following a symbolic link, a regular file owned by our
    /// effective uid, mode exactly 0600, `len` bytes (the size the peer published).
    /// Anything else is refused with [`ShmError::Untrusted`] naming the object.
    pub fn attach(name: &str, len: usize) -> Result<Self, ShmError> {
        let c = cname(name)?;
        // SAFETY: `c` is a valid NUL-terminated string.
        let fd = unsafe { libc::shm_open(c.as_ptr(), libc::O_RDWR | libc::O_NOFOLLOW, 0) };
        if fd < 0 {
            return Err(sys_err("shm_open", name, len));
        }
        if let Err(e) = check_peer_object(fd, name, len) {
            // SAFETY: closing the descriptor we opened.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        Self::map(fd, name, len, false, SEGMENT_ALIGN, 0)
    }

    fn map(
        fd: libc::c_int,
        name: &str,
        len: usize,
        owner: bool,
        align: usize,
        skew: usize,
    ) -> Result<Self, ShmError> {
        let r = Self::map_aligned(fd, name, len, align, skew);
        // SAFETY: the mapping (if any) keeps the object alive; the fd is no longer needed.
        unsafe { libc::close(fd) };
        Ok(Self {
            base: r?,
            len,
            name: name.to_string(),
            owner,
            unlinked: false,
            fixed: false,
        })
    }

    /// Creates (exclusively, mode 0600) an object of `len` bytes holding the current
    /// contents of `[addr, addr+len)` and maps it `MAP_SHARED | MAP_FIXED` over that range,
    /// so the same virtual addresses now live in an object other processes can map (the C
    /// API makes the program's data and bss symmetric this way).
    ///
    /// Only pages worth copying are written: the first `file_part` bytes (initialized data,
    /// which may not be resident yet but is not zero) always, the rest (bss) only where a
    /// page is resident and not all zero; the object is sparse elsewhere, so a large,
    /// untouched static array costs nothing.
    ///
    /// Dropping the region unlinks the name but keeps the mapping: the variables stay valid
    /// for the rest of the process.
    ///
    /// # Safety
    /// `addr` and `len` are page-aligned and the range is mapped readable and writable
    /// memory of this process. Nothing may write to the range while this runs (other
    /// threads included): such a write could be lost.
    pub unsafe fn create_over(
        name: &str,
        addr: *mut u8,
        len: usize,
        file_part: usize,
    ) -> Result<Self, ShmError> {
        let c = cname(name)?;
        if !(addr as usize).is_multiple_of(PAGE) || !len.is_multiple_of(PAGE) || len == 0 {
            return Err(ShmError::BadRange {
                addr: addr as usize,
                len,
            });
        }
        let pages = len / PAGE;
        let mut resident = vec![0u8; pages];
        // SAFETY: the range is mapped (contract); `resident` has one byte per page.
        if unsafe { libc::mincore(addr as *mut libc::c_void, len, resident.as_mut_ptr()) } != 0 {
            // Unknown residency: copy every page.
            resident.fill(1);
        }
        let fd = create_object(&c, name, len)?;
        let fail = |what: &'static str| {
            let e = sys_err(what, name, len);
            forget_created(&c);
            // SAFETY: closing and unlinking what we created.
            unsafe {
                libc::close(fd);
                libc::shm_unlink(c.as_ptr());
            }
            Err(e)
        };
        for (i, &res) in resident.iter().enumerate() {
            let off = i * PAGE;
            // SAFETY: the page lies inside the caller's readable range.
            let page = unsafe { core::slice::from_raw_parts(addr.add(off), PAGE) };
            let copy = off < file_part || (res & 1 == 1 && page.iter().any(|&b| b != 0));
            if !copy {
                continue;
            }
            // SAFETY: `page` is PAGE readable bytes; `fd` is open for writing.
            let n = unsafe {
                libc::pwrite(
                    fd,
                    page.as_ptr() as *const libc::c_void,
                    PAGE,
                    off as libc::off_t,
                )
            };
            if n != PAGE as isize {
                return fail("pwrite");
            }
        }
        // SAFETY: replaces the caller's mapping of exactly this range (contract) by the
        // object, which now holds the same bytes.
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return fail("mmap (over the program's data)");
        }
        // SAFETY: the mapping keeps the object alive.
        unsafe { libc::close(fd) };
        Ok(Self {
            base: addr,
            len,
            name: name.to_string(),
            owner: true,
            unlinked: false,
            fixed: true,
        })
    }

    /// Maps `fd` at an address `base` with `(base + skew) % align == 0` (and `base` aligned
    /// to [`SEGMENT_ALIGN`]), so that symmetric allocations aligned up to `align` are
    /// aligned on every PE (bases differ between PEs, offsets do not). Reserves
    /// `len + align` of address space, maps the object over the aligned part, returns the
    /// rest.
    fn map_aligned(
        fd: libc::c_int,
        name: &str,
        len: usize,
        align: usize,
        skew: usize,
    ) -> Result<*mut u8, ShmError> {
        let align = align.max(SEGMENT_ALIGN);
        debug_assert!(align.is_power_of_two() && skew.is_multiple_of(SEGMENT_ALIGN));
        let span = len.checked_add(align).ok_or_else(|| ShmError::Sys {
            what: "mmap (reserve)",
            name: name.to_string(),
            size: len,
            source: io::Error::from_raw_os_error(libc::ENOMEM),
            hint: ADDRESS_SPACE_HINT,
        })?;
        // SAFETY: an anonymous PROT_NONE reservation chosen by the kernel.
        let res = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                span,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if res == libc::MAP_FAILED {
            return Err(sys_err("mmap (reserve)", name, span));
        }
        let start = res as usize;
        let aligned = ((start + skew + align - 1) & !(align - 1)) - skew;
        // SAFETY: [aligned, aligned+len) lies inside our reservation, which MAP_FIXED replaces.
        let p = unsafe {
            libc::mmap(
                aligned as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE | libc::MAP_FIXED,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            let e = sys_err("mmap", name, len);
            // SAFETY: releasing our own reservation.
            unsafe { libc::munmap(res, span) };
            return Err(e);
        }
        // SAFETY: the head and tail of our reservation around the object's mapping.
        unsafe {
            if aligned > start {
                libc::munmap(res, aligned - start);
            }
            let end = aligned + len;
            if start + span > end {
                libc::munmap(end as *mut libc::c_void, start + span - end);
            }
        }
        Ok(aligned as *mut u8)
    }

    /// Removes the object's name; the memory stays while any process maps it. Idempotent.
    pub fn unlink(&mut self) {
        if self.owner && !self.unlinked {
            if let Ok(c) = cname(&self.name) {
                forget_created(&c);
                // SAFETY: `c` is valid; unlinking a name we created.
                unsafe { libc::shm_unlink(c.as_ptr()) };
            }
            self.unlinked = true;
        }
    }

    /// Start of the mapping in this process.
    #[inline(always)]
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// Length of the mapping in bytes.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never, for a created region).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ShmRegion {
    fn drop(&mut self) {
        self.unlink();
        if self.fixed {
            return;
        }
        // SAFETY: unmapping exactly the region we mapped; nothing refers to it any more
        // (the runtime drops regions only at finalize, after its last barrier).
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}

/// Copies `len` bytes, `memmove` semantics.
///
/// glibc's memmove uses `rep movsb` for mid-sized copies, which on some x86 CPUs (seen on
/// AMD Zen 3) runs 20-40x slower when `(dst - src) mod 4096` is a few bytes — exactly what
/// happens between a page-aligned symmetric buffer and a `Vec` from malloc (16 bytes past a
/// page). For that case we copy with unaligned 16-byte SSE2 loads and stores instead.
///
/// A naturally aligned 1/2/4/8-byte destination gets exactly one store of that width (and an
/// aligned source one load): `memmove` writes an 8-byte copy as two overlapping stores of the
/// same bytes, and a PE preempted between them re-stores the old value long after the target
/// saw it, overwrote it and moved on (seen as a `shmem_p` flag "coming back" under
/// oversubscription). One store also means `p`/`g` of a word are never torn.
///
/// # Safety
/// `src` valid for `len` bytes of reads, `dst` for `len` bytes of writes.
#[inline(always)]
pub unsafe fn copy_bytes(dst: *mut u8, src: *const u8, len: usize) {
    macro_rules! word {
        ($t:ty) => {
            if (dst as usize) % len == 0 && (src as usize) % len == 0 {
                // SAFETY: both ranges are valid for `len == size_of::<$t>()` bytes and
                // naturally aligned; volatile keeps it one access of that width.
                unsafe {
                    core::ptr::write_volatile(
                        dst as *mut $t,
                        core::ptr::read_volatile(src as *const $t),
                    )
                };
                return;
            }
        };
    }
    match len {
        1 => word!(u8),
        2 => word!(u16),
        4 => word!(u32),
        8 => word!(u64),
        _ => {}
    }
    #[cfg(target_arch = "x86_64")]
    {
        let skew = (dst as usize).wrapping_sub(src as usize) & 4095;
        let disjoint =
            (dst as usize) >= (src as usize) + len || (src as usize) >= (dst as usize) + len;
        if (SSE_COPY_MIN..=SSE_COPY_MAX).contains(&len) && (1..64).contains(&skew) && disjoint {
            // SAFETY: forwarded contract; the ranges do not overlap.
            unsafe { sse2_copy(dst, src, len) };
            return;
        }
    }
    // SAFETY: forwarded contract.
    unsafe { core::ptr::copy(src, dst, len) }
}

/// Sizes for which [`copy_bytes`] avoids `rep movsb` (below: small copies are fast anyway;
/// above: glibc switches to non-temporal stores, which are the right thing).
#[cfg(target_arch = "x86_64")]
const SSE_COPY_MIN: usize = 2048;
#[cfg(target_arch = "x86_64")]
const SSE_COPY_MAX: usize = 1 << 20;

#[cfg(target_arch = "x86_64")]
#[inline(never)]
unsafe fn sse2_copy(dst: *mut u8, src: *const u8, len: usize) {
    use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_storeu_si128};
    let mut i = 0;
    // SAFETY: every access is within [0, len) of both ranges (contract of `copy_bytes`);
    // SSE2 is part of the x86_64 baseline.
    unsafe {
        while i + 64 <= len {
            let a = _mm_loadu_si128(src.add(i) as *const __m128i);
            let b = _mm_loadu_si128(src.add(i + 16) as *const __m128i);
            let c = _mm_loadu_si128(src.add(i + 32) as *const __m128i);
            let d = _mm_loadu_si128(src.add(i + 48) as *const __m128i);
            _mm_storeu_si128(dst.add(i) as *mut __m128i, a);
            _mm_storeu_si128(dst.add(i + 16) as *mut __m128i, b);
            _mm_storeu_si128(dst.add(i + 32) as *mut __m128i, c);
            _mm_storeu_si128(dst.add(i + 48) as *mut __m128i, d);
            i += 64;
        }
        core::ptr::copy_nonoverlapping(src.add(i), dst.add(i), len - i);
    }
}

/// The shared-memory endpoint: stateless, every peer's memory is directly addressable.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShmEndpoint;

impl Endpoint for ShmEndpoint {
    #[inline(always)]
    unsafe fn put(&self, dst: RemoteAddr, src: *const u8, len: usize) {
        // SAFETY: the caller guarantees both ranges are valid.
        unsafe { copy_bytes(dst.addr as *mut u8, src, len) }
    }
    #[inline(always)]
    unsafe fn put_nbi(&self, dst: RemoteAddr, src: *const u8, len: usize) {
        // SAFETY: as `put`.
        unsafe { self.put(dst, src, len) }
    }
    #[inline(always)]
    unsafe fn get(&self, dst: *mut u8, src: RemoteAddr, len: usize) {
        // SAFETY: the caller guarantees both ranges are valid.
        unsafe { copy_bytes(dst, src.addr as *const u8, len) }
    }
    #[inline(always)]
    unsafe fn get_nbi(&self, dst: *mut u8, src: RemoteAddr, len: usize) {
        // SAFETY: as `get`.
        unsafe { self.get(dst, src, len) }
    }
    #[inline(always)]
    unsafe fn amo<W: AmoWord>(&self, target: RemoteAddr, op: AmoOp, operand: W, compare: W) -> W {
        // SAFETY: the caller guarantees an aligned word in a mapped segment.
        unsafe { W::cpu_amo(target.addr as *mut W, op, operand, compare) }
    }
    #[inline(always)]
    fn fence(&self) {
        fence(Ordering::SeqCst);
    }
    #[inline(always)]
    fn quiet(&self) {
        fence(Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unique(tag: &str) -> String {
        format!("/rshmem-test-{}-{}-{tag}", std::process::id(), line!())
    }

    #[test]
    fn create_aligned_places_base_plus_skew_on_the_alignment() {
        for (align, skew) in [
            (1usize << 30, SEGMENT_ALIGN),
            (1 << 34, 0),
            (4 << 20, 2 << 20),
        ] {
            let mut a = ShmRegion::create_aligned(&unique("al"), 8 << 20, align, skew).unwrap();
            let base = a.base() as usize;
            assert_eq!(
                (base + skew) % align,
                0,
                "align {align} skew {skew}: {base:#x}"
            );
            assert_eq!(base % SEGMENT_ALIGN, 0);
            // SAFETY: inside the 8 MiB mapping.
            unsafe { *a.base().add(skew) = 7 };
            a.unlink();
        }
    }

    #[test]
    fn create_attach_share_and_unlink() {
        let name = unique("a");
        let mut a = ShmRegion::create(&name, 1 << 20).unwrap();
        let b = ShmRegion::attach(&name, 1 << 20).unwrap();
        assert_ne!(a.base(), b.base());
        assert_eq!(a.base() as usize % SEGMENT_ALIGN, 0);
        assert_eq!(b.base() as usize % SEGMENT_ALIGN, 0);
        let ep = ShmEndpoint;
        let data = *b"hello";
        // SAFETY: both mappings are 1 MiB long.
        unsafe { ep.put(RemoteAddr::local(b.base() as usize + 100), data.as_ptr(), 5) };
        let mut out = [0u8; 5];
        // SAFETY: as above.
        unsafe {
            ep.get(
                out.as_mut_ptr(),
                RemoteAddr::local(a.base() as usize + 100),
                5,
            )
        };
        assert_eq!(&out, b"hello");
        // SAFETY: aligned words inside the mappings.
        let old = unsafe {
            ep.amo::<u64>(
                RemoteAddr::local(b.base() as usize + 8),
                AmoOp::FetchAdd,
                3,
                0,
            )
        };
        assert_eq!(old, 0);
        // SAFETY: as above.
        let now =
            unsafe { ep.amo::<u64>(RemoteAddr::local(a.base() as usize + 8), AmoOp::Fetch, 0, 0) };
        assert_eq!(now, 3);
        a.unlink();
        assert!(!std::path::Path::new(&format!("/dev/shm{name}")).exists());
        // still mapped and usable after unlink
        // SAFETY: as above.
        let cas = unsafe {
            ep.amo::<u32>(
                RemoteAddr::local(a.base() as usize + 16),
                AmoOp::CompareSwap,
                9,
                0,
            )
        };
        assert_eq!(cas, 0);
    }

    #[test]
    fn create_over_keeps_contents_shares_and_stays_sparse() {
        use std::os::unix::fs::MetadataExt;
        let pages = 16;
        let len = pages * PAGE;
        // SAFETY: a fresh anonymous mapping of our own.
        let addr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        } as *mut u8;
        assert_ne!(addr as *mut libc::c_void, libc::MAP_FAILED);
        // SAFETY: all inside the mapping. Page 0 is "initialized data"; page 5 a touched
        // bss page; page 7 touched but zero; the rest never touched.
        unsafe {
            for i in 0..PAGE {
                *addr.add(i) = (i % 251) as u8 + 1;
            }
            *addr.add(5 * PAGE + 17) = 0xab;
            core::ptr::write_volatile(addr.add(7 * PAGE), 0);
        }
        let name = unique("over");
        // SAFETY: page-aligned range of our own mapping; no other thread touches it.
        let r = unsafe { ShmRegion::create_over(&name, addr, len, PAGE) }.unwrap();
        assert_eq!(r.base(), addr);
        // Only the two pages with data were written (checked before reading
        // the rest: a read fault on a tmpfs hole allocates a page) into the object.
        let blocks = std::fs::metadata(format!("/dev/shm{name}"))
            .unwrap()
            .blocks();
        assert_eq!(blocks * 512, 2 * PAGE as u64, "object should hold 2 pages");
        // SAFETY: still mapped (now by the object).
        let view = unsafe { core::slice::from_raw_parts(addr, len) };
        assert!((0..PAGE).all(|i| view[i] == (i % 251) as u8 + 1));
        assert_eq!(view[5 * PAGE + 17], 0xab);
        assert_eq!(view.iter().filter(|&&b| b != 0).count(), PAGE + 1);
        // Another mapping of the object sees our stores and we see its stores.
        let other = ShmRegion::attach(&name, len).unwrap();
        // SAFETY: both mappings are live and `len` long.
        unsafe {
            assert_eq!(*other.base().add(5 * PAGE + 17), 0xab);
            *addr.add(9 * PAGE) = 7;
            assert_eq!(core::ptr::read_volatile(other.base().add(9 * PAGE)), 7);
            *other.base().add(3) = 99;
            assert_eq!(core::ptr::read_volatile(addr.add(3)), 99);
        }
        drop(other);
        drop(r);
        assert!(!std::path::Path::new(&format!("/dev/shm{name}")).exists());
        // Dropping the region kept the mapping: the memory is still there.
        // SAFETY: still mapped; then unmapped by us, its owner.
        unsafe {
            assert_eq!(core::ptr::read_volatile(addr.add(5 * PAGE + 17)), 0xab);
            libc::munmap(addr as *mut libc::c_void, len);
        }
        // SAFETY: misaligned on purpose; rejected before anything is touched.
        let bad = unsafe { ShmRegion::create_over(&unique("bad"), addr.wrapping_add(1), PAGE, 0) };
        assert!(matches!(bad, Err(ShmError::BadRange { .. })));
    }

    #[test]
    fn create_is_exclusive_and_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let name = unique("b");
        let r = ShmRegion::create(&name, 4096).unwrap();
        let meta = std::fs::metadata(format!("/dev/shm{name}")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let e = ShmRegion::create(&name, 4096).unwrap_err();
        assert!(e.to_string().contains("shm_open"), "{e}");
        drop(r);
        assert!(!std::path::Path::new(&format!("/dev/shm{name}")).exists());
    }

    /// What a PE must refuse to map as a peer's segment (issue 13, security item 2).
    #[test]
    fn attach_refuses_untrusted_objects() {
        use std::os::unix::fs::PermissionsExt;
        let len = 1 << 16;
        let path = |n: &str| format!("/dev/shm{n}");
        let expect_refused = |name: &str, why: &str| {
            let e = ShmRegion::attach(name, len).unwrap_err();
            let m = e.to_string();
            assert!(m.contains(&format!("/dev/shm{name}")), "{m}");
            assert!(m.contains(why), "expected {why:?} in: {m}");
        };
        // A genuine object is accepted.
        let name = unique("ok");
        let _ok = ShmRegion::create(&name, len).unwrap();
        drop(ShmRegion::attach(&name, len).unwrap());
        // Readable or writable by others.
        let name = unique("mode");
        let r = ShmRegion::create(&name, len).unwrap();
        std::fs::set_permissions(path(&name), std::fs::Permissions::from_mode(0o666)).unwrap();
        expect_refused(&name, "its mode is 0666");
        std::fs::set_permissions(path(&name), std::fs::Permissions::from_mode(0o640)).unwrap();
        expect_refused(&name, "its mode is 0640");
        drop(r);
        // Not the size the peer published (smaller: a SIGBUS waiting to happen; larger).
        let name = unique("size");
        let r = ShmRegion::create(&name, len / 2).unwrap();
        expect_refused(&name, &format!("it has {} bytes", len / 2));
        drop(r);
        let name = unique("size2");
        let r = ShmRegion::create(&name, 2 * len).unwrap();
        expect_refused(&name, &format!("it has {} bytes", 2 * len));
        drop(r);
        // A symbolic link to a file of the right size and mode: not followed.
        let target =
            std::env::temp_dir().join(format!("rshmem-link-target-{}", std::process::id()));
        std::fs::write(&target, vec![0u8; len]).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        let name = unique("link");
        std::os::unix::fs::symlink(&target, path(&name)).unwrap();
        let e = ShmRegion::attach(&name, len).unwrap_err().to_string();
        assert!(e.contains(&path(&name)) && e.contains("shm_open"), "{e}");
        std::fs::remove_file(path(&name)).unwrap();
        std::fs::remove_file(&target).unwrap();
        // Another user's object (needs root to make one).
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            let name = unique("owner");
            let r = ShmRegion::create(&name, len).unwrap();
            std::os::unix::fs::chown(path(&name), Some(65534), None).unwrap();
            expect_refused(&name, "it is owned by uid 65534");
            drop(r);
        }
    }

    #[test]
    fn copy_bytes_every_skew_and_size() {
        let src: Vec<u8> = (0..(3usize << 20)).map(|i| (i * 7 + 3) as u8).collect();
        let mut dst = vec![0u8; 3 << 20];
        for &len in &[
            0usize,
            1,
            2,
            4,
            8,
            63,
            2047,
            2048,
            4096 + 5,
            100_000,
            1 << 20,
            (1 << 20) + 1,
        ] {
            for &(so, dof) in &[
                (0usize, 0usize),
                (0, 16),
                (8, 8),
                (3, 0),
                (16, 1),
                (5, 67),
                (1, 9),
            ] {
                dst.fill(0);
                // SAFETY: both ranges lie inside the vectors.
                unsafe { copy_bytes(dst.as_mut_ptr().add(dof), src.as_ptr().add(so), len) };
                assert_eq!(
                    &dst[dof..dof + len],
                    &src[so..so + len],
                    "len {len} src+{so} dst+{dof}"
                );
                assert!(
                    dst[..dof].iter().all(|&b| b == 0)
                        && dst[dof + len..dof + len + 1].iter().all(|&b| b == 0)
                );
            }
        }
        // overlapping ranges keep memmove semantics
        let mut v: Vec<u8> = (0..10_000).map(|i| i as u8).collect();
        let want: Vec<u8> = v[0..8000].to_vec();
        // SAFETY: both ranges lie inside `v`.
        unsafe { copy_bytes(v.as_mut_ptr().add(16), v.as_ptr(), 8000) };
        assert_eq!(&v[16..8016], &want[..]);
    }

    #[test]
    fn bad_names_are_rejected() {
        assert!(matches!(
            ShmRegion::create("noslash", 10),
            Err(ShmError::BadName(_))
        ));
        assert!(matches!(
            ShmRegion::attach("/a/b", 10),
            Err(ShmError::BadName(_))
        ));
    }

    #[test]
    fn every_amo_op() {
        let mut w = 0b1100u64;
        let t = RemoteAddr::local(&mut w as *mut u64 as usize);
        let ep = ShmEndpoint;
        // SAFETY: `w` is a live aligned u64 used only here.
        unsafe {
            assert_eq!(ep.amo::<u64>(t, AmoOp::FetchAnd, 0b1010, 0), 0b1100);
            assert_eq!(ep.amo::<u64>(t, AmoOp::FetchOr, 0b0001, 0), 0b1000);
            assert_eq!(ep.amo::<u64>(t, AmoOp::FetchXor, 0b1111, 0), 0b1001);
            assert_eq!(ep.amo::<u64>(t, AmoOp::Swap, 42, 0), 0b0110);
            assert_eq!(ep.amo::<u64>(t, AmoOp::CompareSwap, 7, 41), 42);
            assert_eq!(ep.amo::<u64>(t, AmoOp::CompareSwap, 7, 42), 42);
            assert_eq!(ep.amo::<u64>(t, AmoOp::Set, 1, 0), 7);
            assert_eq!(ep.amo::<u64>(t, AmoOp::FetchAdd, u64::MAX, 0), 1);
            assert_eq!(ep.amo::<u64>(t, AmoOp::Fetch, 0, 0), 0);
        }
    }
}
