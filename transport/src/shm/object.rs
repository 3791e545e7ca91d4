//! The POSIX shared-memory objects under a region: creating one (exclusively, mode 0600),
//! checking a peer's (owner, mode, size) before mapping it, and the list of objects this
//! process created, unlinked by [`unlink_created_objects`].
use std::ffi::CString;

use super::{sys_err, ShmError};

/// Checks an opened peer object (see [`ShmRegion::attach`]).
pub(super) fn check_peer_object(fd: libc::c_int, name: &str, len: usize) -> Result<(), ShmError> {
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

pub(super) fn forget_created(c: &CString) {
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
pub(super) fn create_object(c: &CString, name: &str, len: usize) -> Result<libc::c_int, ShmError> {
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
