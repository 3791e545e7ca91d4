//! [`ShmEndpoint`]: operations on a peer's mapped memory are plain copies
//! ([`copy_bytes`]) and CPU atomics, complete when they return.
use crate::{AmoOp, AmoWord, Endpoint, RemoteAddr};
use std::sync::atomic::{fence, Ordering};

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
