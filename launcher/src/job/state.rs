//! The rules of a running job as a pure state machine: [`JobState::on_event`] takes one
//! [`Event`] (a PE started or ended, a PMI abort or close, a signal, time passing) and
//! returns the [`Action`]s the driver (`job::run`) must carry out: signal process groups,
//! print a message, finish with a status.
//!
//! Nothing here starts, signals or waits for a process, reads a clock or prints: time is
//! the `now` of each event (time since supervision started), and the PMI server's view of
//! each PE (init/finalize/abort/closed, the runtime's `rshmem-exit-<pe>` key) is read
//! through [`PmiView`], so every rule is unit-tested with a fake (`state/tests.rs`).
//!
//! The rules:
//! 1. The job's status is the first one decided: a PE's non-zero exit status, 128+signal
//!    for a PE killed by a signal, a PMI abort's code, 1 for a PE that exited 0 after PMI
//!    init without finalize while others ran, 124 for `--timeout`; 0 if none was.
//! 2. The first failure is reported (`PE r (pid p) ...; terminating the remaining n PEs`)
//!    and starts the teardown: SIGTERM to every PE's process group, SIGKILL
//!    [`KILL_GRACE`] later. Later failures, and failures after a forwarded signal, are
//!    silent. A failure of the last PE starts no teardown.
//! 3. A failing PE that was following another PE's request to exit with the same status
//!    (the KVS key `rshmem-exit-<k>` = status, the lowest such k) is not named: PE k is.
//! 4. A PMI abort (the first, before any failure or teardown) reports `PE r called abort
//!    with exit code c` and starts the teardown; the aborting PE's own exit is not
//!    reported again.
//! 5. A PE that exits 0 is normal unless it did PMI init, not finalize (nor abort), other
//!    PEs still run and no teardown is under way; then it fails with status 1 once its
//!    PMI connection is closed or [`FINALIZE_GRACE`] has passed (its finalize may still be
//!    in flight), judged on the PMI state at that time.
//! 6. The first SIGINT/SIGTERM/SIGHUP (also during a teardown) is forwarded to every
//!    group; one after a forwarded one, or after SIGKILL was sent, kills the job (SIGKILL).
//! 7. `--timeout` expiring reports and starts the teardown with status 124, unless a
//!    teardown is already under way (its status stays).
//! 8. [`REAP_GIVE_UP`] after SIGKILL with PEs still alive, the launcher reports them and
//!    finishes anyway.
//! 9. Deadlines are checked after every event, so a busy event stream cannot postpone
//!    them. The job finishes when no PE is alive (or every event source is gone); if a
//!    teardown or a forwarded signal happened, a last SIGKILL goes to every group (stray
//!    grandchildren).
//! 10. Signals go to the groups of PEs alive or reaped less than [`GROUP_REUSE_GUARD`]
//!     ago (a group id cannot have been recycled yet).
//! 11. A PE that cannot be started: `cannot start PE r (prog): error`, SIGKILL to the PEs
//!     already started, status 126 (EACCES) or 127.

use std::collections::HashMap;
use std::time::Duration;

use super::exit::{signal_name, PeExit};
use crate::pmi::PeState;

/// Delay between SIGTERM and SIGKILL when tearing a job down.
pub const KILL_GRACE: Duration = Duration::from_millis(300);

/// How long to wait for the PMI connection of a PE that exited 0 after
/// `init` to show its `finalize` before judging it.
pub const FINALIZE_GRACE: Duration = Duration::from_millis(200);

/// How long to keep waiting for PEs after SIGKILL before giving up.
pub const REAP_GIVE_UP: Duration = Duration::from_secs(5);

/// How long after a PE was reaped its process group is still signalled.
pub const GROUP_REUSE_GUARD: Duration = Duration::from_secs(10);

/// Exit status used when PROGRAM cannot be executed.
pub const EXIT_NOT_EXECUTABLE: i32 = 127;

/// Exit status used when the kernel refuses to execute PROGRAM (EACCES).
pub const EXIT_NOT_PERMITTED: i32 = 126;

/// Exit status used when `--timeout` expires.
pub const EXIT_TIMEOUT: i32 = 124;

/// What the state machine may ask of the PMI server (read only).
pub trait PmiView {
    /// PMI progress of PE `pe`.
    fn pe_state(&self, pe: usize) -> PeState;
    /// The status PE `pe` asked every PE to exit with (the runtime's KVS key
    /// `rshmem-exit-<pe>`), if it did.
    fn exit_request(&self, pe: usize) -> Option<i32>;
}

/// Something that happened to the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// PE `pe` (the next one, in order) was started as process (group) `pid`.
    Spawned {
        /// Rank.
        pe: usize,
        /// Process id, also its process group id.
        pid: i32,
    },
    /// PE `pe` could not be started (the PEs before it were).
    SpawnFailed {
        /// Rank.
        pe: usize,
        /// PROGRAM as given.
        program: String,
        /// The error, as printed.
        error: String,
        /// The error was EACCES (status 126 instead of 127).
        eacces: bool,
    },
    /// PE `pe` was reaped.
    Exited {
        /// Rank.
        pe: usize,
        /// How it ended.
        exit: PeExit,
    },
    /// PE `pe` sent `cmd=abort exitcode=code`.
    PmiAbort {
        /// Rank.
        pe: usize,
        /// Requested status.
        code: i32,
    },
    /// The PMI connection of PE `pe` was closed.
    PmiClosed {
        /// Rank.
        pe: usize,
    },
    /// The launcher received this signal (SIGINT, SIGTERM, SIGHUP).
    Signal(i32),
    /// Time passed (a deadline from [`JobState::next_deadline`] may be due), or an event
    /// that needs no reaction arrived.
    Tick,
    /// Every event source is gone: nothing more can happen.
    SourcesGone,
}

/// What the driver must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send `sig` to each of these process groups (`kill(-group, sig)`; ESRCH ignored).
    Kill {
        /// Signal number.
        sig: i32,
        /// Process group ids (= the PEs' pids).
        groups: Vec<i32>,
    },
    /// Print `rshmemrun: <message>` on stderr.
    Report(String),
    /// Supervision is over: clean up (PMI connections, /dev/shm sweep, output) and exit
    /// with `status`.
    Finish {
        /// The launcher's exit status.
        status: i32,
    },
}

#[derive(Debug)]
struct Pe {
    pid: i32,
    exit: Option<PeExit>,
    reaped_at: Option<Duration>,
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        "PE"
    } else {
        "PEs"
    }
}

/// The supervisor's state for one job (see the module documentation for its rules).
#[derive(Debug)]
pub struct JobState {
    np: usize,
    timeout: Option<Duration>,
    pes: Vec<Pe>,
    by_pid: HashMap<i32, usize>,
    live: usize,
    /// Exit status decided so far (first failure).
    status: Option<i32>,
    /// SIGTERM was sent to all PEs at this time (teardown in progress).
    term_sent: Option<Duration>,
    /// SIGKILL was sent at this time.
    kill_sent: Option<Duration>,
    /// A signal from outside was forwarded to the PEs.
    forwarded: bool,
    timed_out: bool,
    /// PEs that exited 0 after init without finalize, awaiting judgement, with their deadline.
    pending_zero: Vec<(usize, Duration)>,
    finished: bool,
}

/// One call of [`JobState::on_event`]: its time, the PMI view and the actions so far.
struct Cx<'a> {
    now: Duration,
    pmi: &'a dyn PmiView,
    out: Vec<Action>,
}

impl JobState {
    /// A job of `np` PEs (none started yet), killed after `timeout` if given.
    pub fn new(np: usize, timeout: Option<Duration>) -> Self {
        JobState {
            np,
            timeout,
            pes: Vec::with_capacity(np),
            by_pid: HashMap::new(),
            live: 0,
            status: None,
            term_sent: None,
            kill_sent: None,
            forwarded: false,
            timed_out: false,
            pending_zero: Vec::new(),
            finished: false,
        }
    }

    /// The rank of the PE started as `pid`.
    pub fn pe_of_pid(&self, pid: i32) -> Option<usize> {
        self.by_pid.get(&pid).copied()
    }

    /// The pids of the PEs started so far, by rank.
    pub fn pids(&self) -> Vec<i32> {
        self.pes.iter().map(|p| p.pid).collect()
    }

    /// PEs started and not reaped yet.
    pub fn live(&self) -> usize {
        self.live
    }

    /// [`Action::Finish`] was returned.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The earliest time at which a [`Event::Tick`] has something to do, if any.
    pub fn next_deadline(&self) -> Option<Duration> {
        let mut next: Option<Duration> = None;
        let mut consider = |t: Duration| next = Some(next.map_or(t, |n| n.min(t)));
        if let (Some(t), false) = (self.timeout, self.timed_out) {
            consider(t);
        }
        if let (Some(t), None) = (self.term_sent, self.kill_sent) {
            consider(t + KILL_GRACE);
        }
        if let Some(k) = self.kill_sent {
            consider(k + REAP_GIVE_UP);
        }
        for &(_, d) in &self.pending_zero {
            consider(d);
        }
        next
    }

    /// Applies `ev`, which happened at `now` (time since supervision started; events of
    /// the spawning phase may pass zero), and returns what to do. After
    /// [`Action::Finish`] every event is ignored.
    pub fn on_event(&mut self, now: Duration, ev: Event, pmi: &dyn PmiView) -> Vec<Action> {
        let mut cx = Cx {
            now,
            pmi,
            out: Vec::new(),
        };
        if self.finished {
            return cx.out;
        }
        match ev {
            Event::Spawned { pe, pid } => {
                debug_assert_eq!(pe, self.pes.len(), "PEs are spawned in rank order");
                self.by_pid.insert(pid, pe);
                self.pes.push(Pe {
                    pid,
                    exit: None,
                    reaped_at: None,
                });
                self.live += 1;
                return cx.out;
            }
            Event::SpawnFailed {
                pe,
                program,
                error,
                eacces,
            } => {
                cx.out.push(Action::Report(format!(
                    "cannot start PE {pe} ({program}): {error}"
                )));
                self.kill_now(&mut cx);
                self.finished = true;
                let status = if eacces {
                    EXIT_NOT_PERMITTED
                } else {
                    EXIT_NOT_EXECUTABLE
                };
                cx.out.push(Action::Finish { status });
                return cx.out;
            }
            Event::Exited { pe, exit } => self.on_exit(&mut cx, pe, exit),
            Event::PmiAbort { pe, code } => {
                if self.status.is_none() && !self.tearing_down() {
                    cx.out.push(Action::Report(format!(
                        "PE {pe} called abort with exit code {code}"
                    )));
                    self.status = Some(code);
                    self.start_teardown(&mut cx);
                }
            }
            Event::PmiClosed { pe } => {
                if let Some(i) = self.pending_zero.iter().position(|&(r, _)| r == pe) {
                    self.pending_zero.remove(i);
                    self.judge_zero_exit(&mut cx, pe, true);
                }
            }
            Event::Signal(sig) => self.on_signal(&mut cx, sig),
            Event::Tick => {}
            Event::SourcesGone => {
                self.finish(&mut cx);
                return cx.out;
            }
        }
        if self.check_deadlines(&mut cx) || self.live == 0 {
            self.finish(&mut cx);
        }
        cx.out
    }

    /// Checks every deadline at `cx.now`; true if the launcher gives up waiting.
    fn check_deadlines(&mut self, cx: &mut Cx) -> bool {
        let now = cx.now;
        if let (Some(t), false) = (self.timeout, self.timed_out) {
            if now >= t && self.tearing_down() {
                // Already being torn down for another reason; keep that status.
                self.timed_out = true;
            } else if now >= t {
                self.timed_out = true;
                cx.out.push(Action::Report(format!(
                    "job exceeded --timeout of {} s; killing all {} PEs",
                    t.as_secs_f64(),
                    self.np
                )));
                self.status = Some(EXIT_TIMEOUT);
                self.start_teardown(cx);
            }
        }
        if let (Some(t), None) = (self.term_sent, self.kill_sent) {
            if now >= t + KILL_GRACE {
                self.kill_now(cx);
            }
        }
        if let Some(k) = self.kill_sent {
            if now >= k + REAP_GIVE_UP {
                cx.out.push(Action::Report(format!(
                    "{} {} did not die after SIGKILL; giving up",
                    self.live,
                    plural(self.live)
                )));
                return true;
            }
        }
        let due: Vec<usize> = self
            .pending_zero
            .iter()
            .filter(|&&(_, d)| now >= d)
            .map(|&(r, _)| r)
            .collect();
        self.pending_zero.retain(|&(_, d)| now < d);
        for r in due {
            self.judge_zero_exit(cx, r, true);
        }
        false
    }

    fn finish(&mut self, cx: &mut Cx) {
        // Stray grandchildren of a failed or signalled job go too.
        if self.tearing_down() || self.forwarded {
            self.signal_all(cx, libc::SIGKILL);
        }
        self.finished = true;
        cx.out.push(Action::Finish {
            status: self.status.unwrap_or(0),
        });
    }

    /// Signals the process group of every PE that may still have processes (live, or
    /// reaped recently enough that its group id cannot have been recycled).
    fn signal_all(&self, cx: &mut Cx, sig: i32) {
        let groups = self
            .pes
            .iter()
            .filter(|pe| match pe.reaped_at {
                None => true,
                Some(t) => cx.now.saturating_sub(t) < GROUP_REUSE_GUARD,
            })
            .map(|pe| pe.pid)
            .collect();
        cx.out.push(Action::Kill { sig, groups });
    }

    fn start_teardown(&mut self, cx: &mut Cx) {
        if self.term_sent.is_none() {
            self.term_sent = Some(cx.now);
            self.signal_all(cx, libc::SIGTERM);
        }
    }

    fn kill_now(&mut self, cx: &mut Cx) {
        if self.term_sent.is_none() {
            self.term_sent = Some(cx.now);
        }
        self.kill_sent = Some(cx.now);
        self.signal_all(cx, libc::SIGKILL);
    }

    fn tearing_down(&self) -> bool {
        self.term_sent.is_some()
    }

    fn on_signal(&mut self, cx: &mut Cx, sig: i32) {
        if self.forwarded || self.kill_sent.is_some() {
            cx.out.push(Action::Report(format!(
                "received {} again; killing all {} PEs",
                signal_name(sig),
                self.np
            )));
            self.kill_now(cx);
        } else {
            cx.out.push(Action::Report(format!(
                "received {}; forwarding it to {} {}",
                signal_name(sig),
                self.live,
                plural(self.live)
            )));
            self.forwarded = true;
            self.signal_all(cx, sig);
        }
    }

    /// The PE that asked every PE to exit (`global_exit`, a non-zero exit without finalize,
    /// a job that cannot finish): the runtime stores `rshmem-exit-<pe>` = status in the KVS
    /// before any other PE hears of it, and those PEs then exit first.
    fn exit_requester(&self, pmi: &dyn PmiView) -> Option<(usize, i32)> {
        (0..self.np).find_map(|pe| Some((pe, pmi.exit_request(pe)?)))
    }

    /// Records a failure whose message is `what`, terminating the others.
    fn fail(&mut self, cx: &mut Cx, rank: usize, what: &str, code: i32) {
        let quiet = self.tearing_down() || self.forwarded || self.status.is_some();
        if self.status.is_none() {
            self.status = Some(code);
        }
        // PE `rank` may only be following another PE's request to exit with `code`:
        // name the PE that asked.
        let requested;
        let (rank, what) = match self.exit_requester(cx.pmi) {
            Some((k, st)) if k != rank && st == code => {
                requested = format!(
                    "ended the job with status {code} (see its message; PE {rank} exited first, at its request)"
                );
                (k, requested.as_str())
            }
            _ => (rank, what),
        };
        if !quiet {
            let pid = self.pes[rank].pid;
            let msg = if self.live > 0 {
                format!(
                    "PE {rank} (pid {pid}) {what}; terminating the remaining {} {}",
                    self.live,
                    plural(self.live)
                )
            } else {
                format!("PE {rank} (pid {pid}) {what}")
            };
            cx.out.push(Action::Report(msg));
        }
        if self.live > 0 {
            self.start_teardown(cx);
        }
    }

    fn on_exit(&mut self, cx: &mut Cx, rank: usize, exit: PeExit) {
        let Some(pe) = self.pes.get_mut(rank) else {
            return;
        };
        if pe.exit.is_some() {
            return;
        }
        pe.exit = Some(exit);
        pe.reaped_at = Some(cx.now);
        self.live -= 1;
        match exit {
            PeExit::Code(0) => self.judge_zero_exit(cx, rank, false),
            other => {
                if cx.pmi.pe_state(rank).aborted && self.status.is_some() {
                    return; // already reported by the abort
                }
                self.fail(cx, rank, &other.describe(), other.shell_status());
            }
        }
    }

    /// A PE exited 0. That is only a problem if it did PMI init, never finalized, and
    /// other PEs are still running.
    fn judge_zero_exit(&mut self, cx: &mut Cx, rank: usize, deadline_passed: bool) {
        let st = cx.pmi.pe_state(rank);
        if !st.initialized || st.finalized || st.aborted || self.live == 0 || self.tearing_down() {
            return;
        }
        if !st.closed && !deadline_passed {
            // Its last messages (e.g. finalize) may still be in flight.
            self.pending_zero.push((rank, cx.now + FINALIZE_GRACE));
            return;
        }
        self.fail(
            cx,
            rank,
            "exited with status 0 after PMI init without calling PMI finalize",
            1,
        );
    }
}

#[cfg(test)]
mod tests;
