//! Distributed MCS locks on a symmetric 64-bit word (`shmem_set_lock` & co.).
//!
//! The lock word's copy on PE 0 holds the queue tail in its low 32 bits (PE+1, 0 = free).
//! Every PE's own copy of the word is its queue node: bit 63 = "waiting", bits 32..63 =
//! the successor (PE+1). A PE enqueues by swapping itself into the tail, links itself
//! behind its predecessor and spins on its *own* word; the holder hands the lock to its
//! successor by clearing that PE's waiting bit. FIFO-fair, one remote AMO to acquire an
//! uncontended lock, no polling of remote memory. All updates are AMOs, so the low and high
//! halves of PE 0's word never clobber each other.
use crate::error::{Error, Result};
use crate::rt::Runtime;
use crate::wait::{Backoff, WaitKind};
use rshmem_transport::AmoOp;

const TAIL: u64 = 0xffff_ffff;
const WAITING: u64 = 1 << 63;
const NEXT_SHIFT: u32 = 32;
const NEXT: u64 = 0x7fff_ffff << NEXT_SHIFT;
const HOME: usize = 0;

fn held(rt: &Runtime, lock: usize) -> bool {
    rt.held_locks().lock().contains(&lock)
}

fn mark_held(rt: &Runtime, lock: usize) {
    rt.held_locks().lock().push(lock);
}

fn amo(rt: &Runtime, addr: usize, op: AmoOp, v: u64, cmp: u64, pe: usize) -> Result<u64> {
    rt.amo::<u64>(addr, op, v, cmp, pe)
}

/// Clears our successor field and marks ourselves waiting, before we become visible.
fn prepare(rt: &Runtime, lock: usize) -> Result<()> {
    let me = rt.my_pe();
    amo(rt, lock, AmoOp::FetchAnd, !(NEXT | WAITING), 0, me)?;
    amo(rt, lock, AmoOp::FetchOr, WAITING, 0, me)?;
    Ok(())
}

/// Replaces the tail on the home PE by `f(tail)` if `f` says so; returns the old tail.
fn update_tail(rt: &Runtime, lock: usize, f: impl Fn(u64) -> Option<u64>) -> Result<u64> {
    let mut old = amo(rt, lock, AmoOp::Fetch, 0, 0, HOME)?;
    loop {
        let Some(tail) = f(old & TAIL) else {
            return Ok(old & TAIL);
        };
        let new = (old & !TAIL) | tail;
        let seen = amo(rt, lock, AmoOp::CompareSwap, new, old, HOME)?;
        if seen == old {
            return Ok(old & TAIL);
        }
        old = seen;
    }
}

fn local(lock: usize) -> u64 {
    // SAFETY: `lock` is a checked symmetric address of an aligned u64 (the callers went
    // through `Runtime::amo` with it already).
    unsafe { <u64 as rshmem_transport::AmoWord>::cpu_amo(lock as *mut u64, AmoOp::Fetch, 0, 0) }
}

/// Acquires the lock at symmetric address `lock` (blocking).
pub fn set_lock(rt: &Runtime, lock: usize) -> Result<()> {
    let me = rt.my_pe() as u64 + 1;
    if held(rt, lock) {
        return Err(Error::InvalidArgument {
            call: "shmem_set_lock",
            arg: "lock",
            value: lock as i64,
            reason: format!(
                "PE {} already holds this lock; a PE that sets a lock it holds would wait for itself forever",
                rt.my_pe()
            ),
        });
    }
    let _w = rt.progress().label(WaitKind::Lock);
    prepare(rt, lock)?;
    let prev = update_tail(rt, lock, |_| Some(me))?;
    if prev == 0 {
        mark_held(rt, lock);
        return Ok(());
    }
    amo(
        rt,
        lock,
        AmoOp::FetchOr,
        me << NEXT_SHIFT,
        0,
        prev as usize - 1,
    )?;
    let mut b = Backoff::new(rt.progress());
    while local(lock) & WAITING != 0 {
        b.snooze();
    }
    mark_held(rt, lock);
    Ok(())
}

/// Tries to acquire the lock; `true` on success (`shmem_test_lock` returns the negation).
pub fn test_lock(rt: &Runtime, lock: usize) -> Result<bool> {
    rt.progress().poll();
    let me = rt.my_pe() as u64 + 1;
    if held(rt, lock) {
        // Already set (by this PE): preparing would clobber our queue node.
        return Ok(false);
    }
    prepare(rt, lock)?;
    let prev = update_tail(rt, lock, |t| (t == 0).then_some(me))?;
    if prev == 0 {
        mark_held(rt, lock);
    }
    Ok(prev == 0)
}

/// Releases the lock held by this PE. A lock this PE does not hold is an error
/// ([`Error::InvalidArgument`]) and nothing changes.
pub fn clear_lock(rt: &Runtime, lock: usize) -> Result<()> {
    let me = rt.my_pe() as u64 + 1;
    {
        let mut h = rt.held_locks().lock();
        match h.iter().position(|&l| l == lock) {
            Some(i) => {
                h.swap_remove(i);
            }
            None => {
                return Err(Error::InvalidArgument {
                    call: "shmem_clear_lock",
                    arg: "lock",
                    value: lock as i64,
                    reason: format!(
                        "PE {} does not hold this lock (it was never set, or was already cleared); \
                         only the PE that set a lock with shmem_set_lock or shmem_test_lock may clear it",
                        rt.my_pe()
                    ),
                });
            }
        }
    }
    rt.quiet();
    let mut next = (local(lock) & NEXT) >> NEXT_SHIFT;
    if next == 0 {
        let tail = update_tail(rt, lock, |t| (t == me).then_some(0))?;
        if tail == me {
            return Ok(());
        }
        // A successor swapped itself in and is about to link behind us.
        let mut b = Backoff::new(rt.progress());
        loop {
            next = (local(lock) & NEXT) >> NEXT_SHIFT;
            if next != 0 {
                break;
            }
            b.snooze();
        }
    }
    amo(rt, lock, AmoOp::FetchAnd, !(NEXT), 0, rt.my_pe())?;
    amo(rt, lock, AmoOp::FetchAnd, !WAITING, 0, next as usize - 1)?;
    Ok(())
}
