//! [`ShmRegion`]: a mapped shared-memory object: created or attached, mapped at an aligned
//! base address, unlinked once every peer has mapped it.
use std::io;

use super::object::{check_peer_object, create_object, forget_created};
use super::{cname, sys_err, ShmError, ADDRESS_SPACE_HINT, PAGE, SEGMENT_ALIGN};

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
