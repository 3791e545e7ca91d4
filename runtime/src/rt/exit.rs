//! Cooperative exit: exit requests between PEs, the process exit hook, abort, finalize.
use super::*;
use crate::wait::{ExitHooks, WaitKind};

/// The runtime that exit requests and the exit hook use; set by [`Runtime::arm_exit`] once
/// the runtime has its final address, cleared by finalize.
pub(super) static EXIT_RT: AtomicPtr<Runtime> = AtomicPtr::new(core::ptr::null_mut());
/// Set once this PE is leaving (finalizing, exiting, or asking the others to exit): it then
/// neither sends nor obeys exit requests.
pub(super) static LEAVING: AtomicBool = AtomicBool::new(false);
/// How long a PE asking the others to exit waits for their acknowledgements before it falls
/// back to the bootstrap's abort.
const EXIT_ACK_WAIT: Duration = Duration::from_secs(1);
/// After the last acknowledgement, how long the requester waits before it exits itself.
const EXIT_GRACE: Duration = Duration::from_millis(100);

/// What the waits call (`crate::wait::Progress`) when a peer asked this PE to exit or
/// this PE waits in finalize.
pub(super) const EXIT_HOOKS: ExitHooks = ExitHooks {
    obey: obey_exit,
    watch: waiting::watch,
};

#[cold]
fn obey_exit(v: u64) {
    if LEAVING.swap(true, Ordering::AcqRel) {
        return;
    }
    let requester = ((v >> 32) & 0x7fff_ffff) as usize;
    let status = v as u32 as i32;
    let rt = EXIT_RT.load(Ordering::Acquire);
    if !rt.is_null() {
        // SAFETY: EXIT_RT points at the live runtime (cleared before it is freed).
        let rt = unsafe { &*rt };
        let ack = rt.slot_addr(slots::EXIT_ACK);
        let _ = rt.amo::<u64>(ack, AmoOp::FetchAdd, 1, 0, requester);
        rt.quiet();
        rt.leave_bootstrap(status);
    }
    exit_now(status)
}

/// A transport that can no longer be used (verbs: a failed completion, no completion for
/// `STALL_SECS`) ends the job: message, the bootstrap's abort, exit. It never touches a
/// transport (the caller may hold the transport's lock: the cooperative exit's AMOs would
/// wait for it forever, which is how a stalled PE in finalize once hung until the launcher's
/// timeout) and never waits more than a second for the bootstrap's lock. `LEAVING` first,
/// so that the exit hook does not ask the others either.
pub(crate) fn transport_abort(msg: &str) -> ! {
    LEAVING.store(true, Ordering::Release);
    let rt = EXIT_RT.load(Ordering::Acquire);
    let rt = if rt.is_null() {
        super::global::global_runtime()
    } else {
        // SAFETY: EXIT_RT points at the live runtime while armed (exit frees nothing).
        Some(unsafe { &*rt })
    };
    match rt {
        Some(rt) => {
            rt.abort_message(msg);
            flush_stdio();
            if let Some(mut kvs) = rt.kvs.try_lock_for(Duration::from_secs(1)) {
                kvs.abort(1)
            }
        }
        None => err_line(&format!("rshmem: {msg}")),
    }
    exit_now(1)
}

/// Set while the exit hook runs: a nested `exit` from inside it is not allowed.
static IN_EXIT_HOOK: AtomicBool = AtomicBool::new(false);

/// Ends the process with `status`, C and Rust output flushed.
fn exit_now(status: i32) -> ! {
    flush_stdio();
    if IN_EXIT_HOOK.load(Ordering::Acquire) {
        // SAFETY: flushes every C stream, then ends the process without running the exit
        // handlers a second time.
        unsafe {
            libc::fflush(core::ptr::null_mut());
            libc::_exit(status)
        }
    }
    // SAFETY: exit runs the atexit handlers (C stdio is flushed) and ends the process.
    unsafe { libc::exit(status) }
}

/// Writes `line` and a newline to stderr in one `write(2)` (`eprintln!` with arguments
/// writes piece by piece, and the messages of PEs failing together interleaved mid-line).
pub(crate) fn err_line(line: &str) {
    use std::io::Write;
    let mut b = String::with_capacity(line.len() + 1);
    b.push_str(line);
    b.push('\n');
    let _ = std::io::stderr().lock().write_all(b.as_bytes());
}

fn flush_stdio() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// glibc's `on_exit`: a PE that exits with a non-zero status while the runtime is live asks
/// the others to exit with the same status.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn on_process_exit(status: libc::c_int, _arg: *mut libc::c_void) {
    IN_EXIT_HOOK.store(true, Ordering::Release);
    if status == 0 {
        // A program that exits normally without finalizing (the deprecated `start_pes`
        // has no finalize at all) is finalized implicitly: a barrier with the other PEs,
        // which do the same, then the launcher connection (kept for a re-init by an
        // explicit finalize too) is closed cleanly.
        let rt = EXIT_RT.load(Ordering::Acquire);
        if !rt.is_null() && !LEAVING.load(Ordering::Acquire) {
            // SAFETY: as in `obey_exit`; the runtime stays allocated (exit frees nothing).
            let rt = unsafe { &*rt };
            if rt.exit_hook_may_use_transport(status) {
                rt.finalize();
            }
        }
        bootstrap::finalize_parked();
        return;
    }
    let rt = EXIT_RT.load(Ordering::Acquire);
    if !rt.is_null() && !LEAVING.load(Ordering::Acquire) {
        // SAFETY: as in `obey_exit`.
        let rt = unsafe { &*rt };
        flush_stdio();
        if !rt.exit_hook_may_use_transport(status) {
            return;
        }
        if rt.npes > 1 {
            use std::io::Write;
            let line = format!(
                "rshmem: PE {} exited with status {status} without shmem_finalize; the other PEs exit with it\n",
                rt.me
            );
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        let _ = rt.request_exit(status);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" {
    fn on_exit(
        f: extern "C" fn(libc::c_int, *mut libc::c_void),
        arg: *mut libc::c_void,
    ) -> libc::c_int;
}

impl Runtime {
    /// Whether the exit hook, running on the thread that called `exit(status)`, may use the
    /// transport (finalize implicitly, or ask the others to exit). Not when the verbs
    /// default context takes no lock (thread level below `SHMEM_THREAD_MULTIPLE`) and the
    /// level lets only the initializing thread call OpenSHMEM (`SINGLE`, `FUNNELED`) but
    /// another thread exits: the initializing thread may be inside an operation on that
    /// same unlocked channel. Then it says so and leaves the job to the launcher (which
    /// sees this PE's status). Under `SERIALIZED` the hook counts as an OpenSHMEM call of
    /// the exiting thread (the program must not exit while another thread is inside one).
    fn exit_hook_may_use_transport(&self, status: i32) -> bool {
        let unlocked = self.verbs.as_ref().is_some_and(|v| !v.default_locked());
        if !unlocked || self.thread_level >= ThreadLevel::Serialized {
            return true;
        }
        // SAFETY: gettid has no preconditions.
        if unsafe { libc::gettid() } == self.init_tid {
            return true;
        }
        err_line(&format!(
            "rshmem: PE {}: exit({status}) from a thread other than the one that initialized \
             OpenSHMEM ({}): not finalizing or asking the other PEs to exit (the default \
             context takes no lock and that thread may be using it); the launcher ends the job",
            self.me,
            self.thread_level.name()
        ));
        false
    }

    /// Makes this runtime (at its final address) the one exit requests and the exit hook
    /// use; called once by `rshmem::init_with` after boxing it.
    pub(crate) fn arm_exit(&self) {
        waiting::reset();
        LEAVING.store(false, Ordering::Release);
        EXIT_RT.store(self as *const Self as *mut Self, Ordering::Release);
        self.progress
            .arm(self.slot_addr(slots::EXIT), self.slot_addr(slots::STATE));
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            static HOOK: std::sync::Once = std::sync::Once::new();
            // SAFETY: registers a function with the right signature; it only touches the
            // statics above.
            HOOK.call_once(|| unsafe {
                on_exit(on_process_exit, core::ptr::null_mut());
            });
        }
    }

    /// Stops using this runtime for exit requests (finalize).
    fn disarm_exit(&self) {
        LEAVING.store(true, Ordering::Release);
        self.progress.disarm();
        let _ = EXIT_RT.compare_exchange(
            self as *const Self as *mut Self,
            core::ptr::null_mut(),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Asks every other PE to exit with `status` (a store into their exit slot, which they
    /// check whenever a wait yields) and waits up to a second for their acknowledgements.
    /// `true` when all acknowledged: they are exiting with `status`, so the launcher sees
    /// that status from every PE (srun reports the worst one, Hydra the signal it killed
    /// survivors with). A PE that is computing, not waiting, does not answer; then `false`.
    pub fn request_exit(&self, status: i32) -> bool {
        if self.npes == 1 || LEAVING.swap(true, Ordering::AcqRel) {
            return self.npes == 1;
        }
        let v = 1u64 << 63 | (self.me as u64) << 32 | status as u32 as u64;
        self.tell_launcher(status);
        let slot = self.slot_addr(slots::EXIT);
        for pe in (0..self.npes).filter(|&pe| pe != self.me) {
            let _ = self.amo::<u64>(slot, AmoOp::Set, v, 0, pe);
        }
        self.quiet();
        // SAFETY: our own aligned ack counter in segment 0.
        let acks = unsafe { &*(self.slot_addr(slots::EXIT_ACK) as *const AtomicU64) };
        let deadline = Instant::now() + EXIT_ACK_WAIT;
        while acks.load(Ordering::Acquire) < self.npes as u64 - 1 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // They acknowledge just before they exit: leave them time to be gone, so a launcher
        // that kills the survivors of a failed PE (Hydra: SIGKILL) finds none.
        std::thread::sleep(EXIT_GRACE);
        true
    }

    /// Under rshmemrun, tells the launcher that this PE is the one ending the job (a KVS key
    /// `rshmem-exit-<pe>` = status, stored before any other PE hears of it), so that it names
    /// this PE and not whichever PE exits first. Other launchers never read it; PMI-2/PMIx
    /// would only cache it, so it is not sent there.
    fn tell_launcher(&self, status: i32) {
        if std::env::var_os("RSHMEM_LAUNCHER").is_none() {
            return;
        }
        if let Some(mut kvs) = self.kvs.try_lock() {
            if kvs.protocol() == "pmi1" {
                let _ = kvs.put_raw(&format!("rshmem-exit-{}", self.me), &status.to_string());
            }
        }
    }

    /// Leaves the job: barrier, bootstrap finalize, unmap everything.
    pub fn finalize(&self) {
        self.quiet();
        {
            // Say so at once (peers in finalize watch for a job that cannot finish), then
            // wait for every PE to be in finalize too, on counters of finalize's own.
            let _w = self.progress.label(WaitKind::Finalize);
            self.state_slot()
                .store(self.progress.word(WaitKind::Finalize), Ordering::Release);
            rshmem_collectives::dissemination_barrier(
                &InternalSync(self),
                ActiveSet::world(self.npes),
                slots::FIN_BARRIER / 8,
                1,
            );
        }
        if let (true, Some(v)) = (self.cfg.info, &self.verbs) {
            err_line(&self.verbs_stats_line(v, "finalize"));
            err_line(&format!(
                "rshmem: PE {}: verbs peer records read: {} of {}",
                self.me,
                v.records_known(),
                self.npes
            ));
        }
        self.disarm_exit();
        if self.tcp.is_some() || self.verbs.is_some() {
            // Every PE is past finalize's barrier before any stops serving: a PE still in
            // it reads the others' STATE (the stuck-job watch) over the network. Over verbs
            // a READ to a PE that had already deregistered its memory and was destroying
            // its QPs never completed on rxe (CI, a slow machine: "no completion for 120 s"
            // in histogram and hello). The launcher's barrier, out of band, orders it; the
            // quiet first retires the barrier's own requests while every peer still serves.
            self.quiet();
            let _ = self.kvs.lock().barrier();
        }
        if let Some(t) = &self.tcp {
            t.close();
        }
        let mut kvs = std::mem::replace(&mut *self.kvs.lock(), Box::new(bootstrap::Closed));
        // Keep the launcher connection for a re-initialization (1.6) and finalize it at
        // exit, where the exit hook can; MPI's belongs to the program: finalize now.
        if cfg!(all(target_os = "linux", target_env = "gnu")) && kvs.protocol() != "mpi" {
            bootstrap::park(kvs);
        } else {
            let _ = kvs.finalize();
        }
        self.regions.lock().clear();
        // Every held lock is forgotten: the heap it lived in is gone.
        self.held_locks.lock().clear();
    }
}

impl Runtime {
    /// Aborts the whole job with `code` after printing `msg`.
    pub fn abort(&self, code: i32, msg: &str) -> ! {
        self.abort_message(msg);
        // First ask the other PEs to exit with `code` themselves, so every launcher reports
        // `code`; the bootstrap's abort (which some launchers turn into SIGKILL for all,
        // this PE included) only if some PE does not answer.
        if self.request_exit(code) {
            self.leave_bootstrap(code);
            flush_stdio();
            // SAFETY: ends the process; the hook sees LEAVING and does nothing.
            unsafe { libc::exit(code) }
        }
        self.kvs.lock().abort(code)
    }

    /// Before a cooperative exit with `status` 0 (`global_exit(0)`): finalizes the launcher
    /// connection, so that the launcher counts this PE as finished, not as a PE that left
    /// without PMI finalize (rshmemrun ended `global_exit(0)` with status 1). PMI finalize
    /// is not collective; MPI's is, and MPI belongs to the program: left alone. A non-zero
    /// status leaves the connection as it is: the launcher reports that status.
    fn leave_bootstrap(&self, status: i32) {
        if status != 0 {
            return;
        }
        // try_lock: a PE obeying an exit request may be inside a KVS call of its own.
        if let Some(mut kvs) = self.kvs.try_lock() {
            if kvs.protocol() != "mpi" {
                let _ = kvs.finalize();
            }
        }
    }

    pub(super) fn state_slot(&self) -> &AtomicU64 {
        // SAFETY: our own aligned STATE slot in segment 0.
        unsafe { &*(self.slot_addr(slots::STATE) as *const AtomicU64) }
    }

    /// Every PE's `STATE` word (a get of 8 bytes each: only read, never an AMO, since the
    /// owner writes it with plain stores).
    pub(super) fn peer_states(&self) -> Vec<u64> {
        let slot = self.slot_addr(slots::STATE);
        (0..self.npes)
            .map(|pe| {
                // Verbs connects on demand: a PE this one never talked to is not read
                // (connecting in finalize would reach PEs that are leaving); it counts
                // as running, so the watcher cannot declare the job stuck without it.
                if let (Some(v), Path::Verbs(ep)) = (&self.verbs, &self.peers[pe].path) {
                    if !ep.is_mapped() && !v.is_connected(pe) {
                        return 0;
                    }
                }
                let mut v = 0u64;
                // SAFETY: `v` is valid for 8 bytes; the slot is an aligned internal word.
                let _ = unsafe { self.get(&mut v as *mut u64 as *mut u8, slot, 8, pe) };
                v
            })
            .collect()
    }

    /// A job that can no longer finish (see `waiting::watch`): prints `msg`, asks every PE
    /// to exit with status 1, exits.
    pub(super) fn stuck_exit(&self, msg: &str) -> ! {
        self.abort_message(msg);
        if self.request_exit(1) {
            exit_now(1)
        }
        flush_stdio();
        self.kvs.lock().abort(1)
    }

    /// Prints `rshmem: PE n: msg` as one write.
    fn abort_message(&self, msg: &str) {
        // Fix (integration tests): one write for the whole line. `eprintln!` with arguments
        // writes piece by piece to the unbuffered stderr, so the messages of several PEs
        // aborting at once came out interleaved mid-line.
        let line = format!("rshmem: PE {}: {msg}\n", self.me);
        use std::io::Write;
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}
