//! A page of a symmetric segment that cannot be backed: `/dev/shm` (tmpfs) is full, and the
//! kernel sends SIGBUS to the PE that touches it. The handler says so, naming the PE and
//! what to do, in one `write(2)`, then lets the signal kill the PE as before (the launcher
//! reports SIGBUS). Faults elsewhere go to the previous handler (Rust's stack-overflow
//! check) or the default action.
use std::sync::atomic::{AtomicPtr, Ordering};

struct Table {
    /// `(start, end)` of every mapped shared-memory segment (own and peers').
    ranges: Vec<(usize, usize)>,
    /// The message, ready to write.
    msg: Vec<u8>,
    /// The handler that was installed before ours.
    old: libc::sigaction,
}

static TABLE: AtomicPtr<Table> = AtomicPtr::new(core::ptr::null_mut());

/// Installs the handler for `ranges` (replacing an earlier table; the old one is leaked,
/// a handler may still read it).
pub fn install(me: usize, ranges: Vec<(usize, usize)>) {
    let msg = format!(
        "rshmem: PE {me}: SIGBUS on symmetric memory: a page of the symmetric heap (or of the \
         symmetric globals) cannot be allocated because /dev/shm (tmpfs) is full. The PEs of a node \
         together can only touch as much as /dev/shm holds: use less, enlarge /dev/shm \
         (mount -o remount,size=... /dev/shm), or run fewer PEs per node\n"
    )
    .into_bytes();
    let prev = TABLE.load(Ordering::Acquire);
    // SAFETY: all-zero is a valid sigaction.
    let mut old: libc::sigaction = unsafe { core::mem::zeroed() };
    if !prev.is_null() {
        // SAFETY: tables are never freed.
        old = unsafe { (*prev).old };
    }
    let t = Box::into_raw(Box::new(Table { ranges, msg, old }));
    TABLE.store(t, Ordering::Release);
    if prev.is_null() {
        // SAFETY: installs a handler with the SA_SIGINFO signature; `old` receives the
        // previous action, read only by the handler.
        unsafe {
            let mut sa: libc::sigaction = core::mem::zeroed();
            sa.sa_sigaction = handler as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGBUS, &sa, &mut (*t).old);
        }
    }
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let t = TABLE.load(Ordering::Acquire);
    // SAFETY: `info` is the kernel's siginfo; tables are never freed.
    unsafe {
        let addr = (*info).si_addr() as usize;
        let t = &*t;
        if t.ranges.iter().any(|&(a, b)| addr >= a && addr < b) {
            libc::write(2, t.msg.as_ptr() as *const libc::c_void, t.msg.len());
            let mut dfl: libc::sigaction = core::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(libc::SIGBUS, &dfl, core::ptr::null_mut());
            return; // the access faults again and the default action ends the PE
        }
        let old = t.old;
        if old.sa_flags & libc::SA_SIGINFO != 0
            && old.sa_sigaction != libc::SIG_DFL
            && old.sa_sigaction != libc::SIG_IGN
        {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                core::mem::transmute(old.sa_sigaction);
            f(sig, info, ctx);
        } else if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
            let f: extern "C" fn(libc::c_int) = core::mem::transmute(old.sa_sigaction);
            f(sig);
        } else {
            libc::sigaction(libc::SIGBUS, &old, core::ptr::null_mut());
        }
    }
}
