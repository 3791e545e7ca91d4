//! Symmetric heap management (`shmem_malloc` & co. and the deprecated `shmalloc` names).
//! All are collective; errors print the runtime's message and return NULL (allocation) or
//! abort the job (freeing something that is not a heap block).
use crate::{check, rt};
use std::ffi::c_void;

/// Alignment of `shmem_malloc` blocks (C's `max_align_t`, rounded up to a cache line).
const DEFAULT_ALIGN: usize = 64;

/// One line on stderr in a single write, so the PEs' messages do not interleave.
fn report(msg: &str) {
    use std::io::Write;
    let line = format!("{msg}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

fn alloc(what: &'static str, size: usize, align: usize, zero: bool) -> *mut c_void {
    let rt = rt(what);
    if size == 0 {
        return core::ptr::null_mut();
    }
    match rt.malloc(size, align, zero) {
        Ok(a) => a as *mut c_void,
        Err(e) => {
            report(&format!("rshmem: PE {}: {what}: {e}", rt.my_pe()));
            core::ptr::null_mut()
        }
    }
}

c_fn!(safe W; malloc(size: usize) -> *mut c_void {
    alloc("shmem_malloc", size, DEFAULT_ALIGN, false)
});

c_fn!(safe W; malloc_with_hints(size: usize, hints: std::ffi::c_long) -> *mut c_void {
    // SHMEMX_MALLOC_NO_BARRIER (shmemx.h, as Sandia OpenSHMEM): no closing barrier.
    const NO_BARRIER: std::ffi::c_long = 1 << 2;
    if hints & NO_BARRIER != 0 && size != 0 {
        let rt = rt("shmem_malloc_with_hints");
        return match rt.malloc_no_barrier(size, DEFAULT_ALIGN, false) {
            Ok(a) => a as *mut c_void,
            Err(e) => {
                report(&format!(
                    "rshmem: PE {}: shmem_malloc_with_hints: {e}",
                    rt.my_pe()
                ));
                core::ptr::null_mut()
            }
        };
    }
    alloc("shmem_malloc_with_hints", size, DEFAULT_ALIGN, false)
});

c_fn!(safe W; calloc(count: usize, size: usize) -> *mut c_void {
    match count.checked_mul(size) {
        Some(n) => alloc("shmem_calloc", n, DEFAULT_ALIGN, true),
        None => {
            let rt = rt("shmem_calloc");
            report(&format!(
                "rshmem: PE {}: shmem_calloc: {count} x {size} bytes overflows size_t",
                rt.my_pe()
            ));
            core::ptr::null_mut()
        }
    }
});

c_fn!(safe W; align(alignment: usize, size: usize) -> *mut c_void {
    alloc("shmem_align", size, alignment, false)
});

c_fn!(safe W; free(ptr: *mut c_void) {
    let rt = rt("shmem_free");
    if ptr.is_null() {
        return;
    }
    check(rt, "shmem_free", rt.free(ptr as usize))
});

c_fn!(safe W; realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    let rt = rt("shmem_realloc");
    if ptr.is_null() {
        return pshmem_malloc(size);
    }
    if size == 0 {
        pshmem_free(ptr);
        return core::ptr::null_mut();
    }
    match rt.realloc(ptr as usize, size) {
        Ok(a) => a as *mut c_void,
        Err(e) => {
            report(&format!("rshmem: PE {}: shmem_realloc: {e}", rt.my_pe()));
            core::ptr::null_mut()
        }
    }
});

c_export!(shmalloc(size: usize) -> *mut c_void {
    pshmem_malloc(size)
});

c_export!(shfree(ptr: *mut c_void) {
    pshmem_free(ptr)
});

c_export!(shmemalign(alignment: usize, size: usize) -> *mut c_void {
    pshmem_align(alignment, size)
});

c_export!(shrealloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    pshmem_realloc(ptr, size)
});
