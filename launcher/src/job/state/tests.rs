//! Every rule of [`JobState`], without processes: a fake PMI view, times in milliseconds.

use super::*;

const TERM: i32 = libc::SIGTERM;
const KILL: i32 = libc::SIGKILL;
const INT: i32 = libc::SIGINT;

/// The PMI server as the state machine sees it; tests change it between events.
#[derive(Default)]
struct FakePmi {
    pes: Vec<PeState>,
    exit_keys: HashMap<usize, i32>,
}

impl FakePmi {
    fn new(np: usize) -> Self {
        FakePmi {
            pes: vec![PeState::default(); np],
            exit_keys: HashMap::new(),
        }
    }

    /// PE `pe` did PMI init and is still connected.
    fn init(&mut self, pe: usize) {
        self.pes[pe].claimed = true;
        self.pes[pe].initialized = true;
    }

    fn finalize(&mut self, pe: usize) {
        self.pes[pe].finalized = true;
    }

    fn close(&mut self, pe: usize) {
        self.pes[pe].closed = true;
    }
}

impl PmiView for FakePmi {
    fn pe_state(&self, pe: usize) -> PeState {
        self.pes[pe]
    }

    fn exit_request(&self, pe: usize) -> Option<i32> {
        self.exit_keys.get(&pe).copied()
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn pid(pe: usize) -> i32 {
    100 + pe as i32
}

/// A job of `np` PEs, all spawned (pids 100, 101, ...).
fn job(np: usize, timeout: Option<Duration>, pmi: &FakePmi) -> JobState {
    let mut j = JobState::new(np, timeout);
    for pe in 0..np {
        let a = j.on_event(ms(0), Event::Spawned { pe, pid: pid(pe) }, pmi);
        assert_eq!(a, [], "spawning asks for nothing");
    }
    assert_eq!(j.live(), np);
    j
}

fn code(pe: usize, c: i32) -> Event {
    Event::Exited {
        pe,
        exit: PeExit::Code(c),
    }
}

fn killed(pe: usize, sig: i32) -> Event {
    Event::Exited {
        pe,
        exit: PeExit::Signal { sig, core: false },
    }
}

fn report(s: &str) -> Action {
    Action::Report(s.to_string())
}

fn kill(sig: i32, groups: &[i32]) -> Action {
    Action::Kill {
        sig,
        groups: groups.to_vec(),
    }
}

fn finish(status: i32) -> Action {
    Action::Finish { status }
}

#[test]
fn every_pe_exiting_0_after_finalize_is_status_0() {
    let mut p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    for pe in 0..2 {
        p.init(pe);
        p.finalize(pe);
    }
    assert_eq!(j.on_event(ms(5), code(1, 0), &p), []);
    assert_eq!(j.on_event(ms(6), code(0, 0), &p), [finish(0)]);
    assert!(j.finished());
    // Nothing happens after the end.
    assert_eq!(j.on_event(ms(7), Event::Signal(INT), &p), []);
}

#[test]
fn first_nonzero_status_wins_and_the_rest_is_quiet() {
    let p = FakePmi::new(3);
    let mut j = job(3, None, &p);
    assert_eq!(
        j.on_event(ms(10), code(1, 3), &p),
        [
            report("PE 1 (pid 101) exited with status 3; terminating the remaining 2 PEs"),
            kill(TERM, &[100, 101, 102]),
        ]
    );
    assert_eq!(j.on_event(ms(20), code(2, 4), &p), []);
    assert_eq!(
        j.on_event(ms(30), killed(0, TERM), &p),
        [kill(KILL, &[100, 101, 102]), finish(3)]
    );
}

#[test]
fn a_pe_killed_by_a_signal_is_128_plus_the_signal() {
    let p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    let segv = Event::Exited {
        pe: 0,
        exit: PeExit::Signal {
            sig: libc::SIGSEGV,
            core: true,
        },
    };
    assert_eq!(
        j.on_event(ms(1), segv, &p),
        [
            report(
                "PE 0 (pid 100) was killed by signal 11 (SIGSEGV) (core dumped); terminating the remaining 1 PE"
            ),
            kill(TERM, &[100, 101]),
        ]
    );
    assert_eq!(
        j.on_event(ms(2), killed(1, TERM), &p),
        [kill(KILL, &[100, 101]), finish(139)]
    );
}

#[test]
fn the_last_pe_failing_starts_no_teardown() {
    let mut p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    p.init(0);
    p.finalize(0);
    assert_eq!(j.on_event(ms(1), code(0, 0), &p), []);
    assert_eq!(
        j.on_event(ms(2), code(1, 9), &p),
        [report("PE 1 (pid 101) exited with status 9"), finish(9)]
    );
}

#[test]
fn sigterm_then_sigkill_300_ms_later_then_give_up_after_5_s() {
    let p = FakePmi::new(3);
    let mut j = job(3, None, &p);
    assert_eq!(j.next_deadline(), None);
    j.on_event(ms(1000), code(0, 2), &p);
    assert_eq!(j.next_deadline(), Some(ms(1300)));
    assert_eq!(j.on_event(ms(1299), Event::Tick, &p), []);
    assert_eq!(
        j.on_event(ms(1300), Event::Tick, &p),
        [kill(KILL, &[100, 101, 102])]
    );
    assert_eq!(j.next_deadline(), Some(ms(6300)));
    assert_eq!(j.on_event(ms(6299), Event::Tick, &p), []);
    assert_eq!(
        j.on_event(ms(6300), Event::Tick, &p),
        [
            report("2 PEs did not die after SIGKILL; giving up"),
            kill(KILL, &[100, 101, 102]),
            finish(2),
        ]
    );
}

#[test]
fn deadlines_are_checked_after_every_event_not_only_ticks() {
    let p = FakePmi::new(3);
    let mut j = job(3, None, &p);
    j.on_event(ms(0), code(0, 1), &p);
    // A PMI close of another PE (no reaction of its own) at 400 ms still sends SIGKILL.
    assert_eq!(
        j.on_event(ms(400), Event::PmiClosed { pe: 1 }, &p),
        [kill(KILL, &[100, 101, 102])]
    );
}

#[test]
fn the_pe_named_is_the_one_that_asked_the_others_to_exit() {
    let mut p = FakePmi::new(3);
    p.exit_keys.insert(2, 7);
    let mut j = job(3, None, &p);
    // PE 0 exits first with 7, at PE 2's request.
    assert_eq!(
        j.on_event(ms(1), code(0, 7), &p),
        [
            report(
                "PE 2 (pid 102) ended the job with status 7 (see its message; PE 0 exited first, at its request); terminating the remaining 2 PEs"
            ),
            kill(TERM, &[100, 101, 102]),
        ]
    );
}

#[test]
fn an_exit_request_with_another_status_or_by_the_pe_itself_names_the_pe() {
    let mut p = FakePmi::new(3);
    p.exit_keys.insert(2, 7);
    let mut j = job(3, None, &p);
    assert_eq!(
        j.on_event(ms(1), code(0, 8), &p)[0],
        report("PE 0 (pid 100) exited with status 8; terminating the remaining 2 PEs")
    );
    let mut j = job(3, None, &p);
    assert_eq!(
        j.on_event(ms(1), code(2, 7), &p)[0],
        report("PE 2 (pid 102) exited with status 7; terminating the remaining 2 PEs")
    );
}

#[test]
fn the_lowest_pe_with_an_exit_request_is_named() {
    let mut p = FakePmi::new(4);
    p.exit_keys.insert(3, 5);
    p.exit_keys.insert(1, 5);
    let mut j = job(4, None, &p);
    assert_eq!(
        j.on_event(ms(1), code(0, 5), &p)[0],
        report(
            "PE 1 (pid 101) ended the job with status 5 (see its message; PE 0 exited first, at its request); terminating the remaining 3 PEs"
        )
    );
}

#[test]
fn abort_reports_tears_down_and_its_code_is_the_status() {
    let mut p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    p.init(1);
    p.pes[1].aborted = true;
    assert_eq!(
        j.on_event(ms(1), Event::PmiAbort { pe: 1, code: 5 }, &p),
        [
            report("PE 1 called abort with exit code 5"),
            kill(TERM, &[100, 101]),
        ]
    );
    // A second abort, and the aborting PE's own exit, say nothing more.
    assert_eq!(
        j.on_event(ms(2), Event::PmiAbort { pe: 0, code: 6 }, &p),
        []
    );
    assert_eq!(j.on_event(ms(3), code(1, 5), &p), []);
    assert_eq!(
        j.on_event(ms(4), killed(0, TERM), &p),
        [kill(KILL, &[100, 101]), finish(5)]
    );
}

#[test]
fn abort_after_a_failure_keeps_the_first_status() {
    let p = FakePmi::new(3);
    let mut j = job(3, None, &p);
    j.on_event(ms(1), code(2, 4), &p);
    assert_eq!(
        j.on_event(ms(2), Event::PmiAbort { pe: 1, code: 9 }, &p),
        []
    );
    j.on_event(ms(3), killed(1, TERM), &p);
    assert_eq!(
        j.on_event(ms(4), killed(0, TERM), &p).last(),
        Some(&finish(4))
    );
}

#[test]
fn signals_are_forwarded_once_then_kill() {
    let p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    assert_eq!(
        j.on_event(ms(1), Event::Signal(INT), &p),
        [
            report("received SIGINT; forwarding it to 2 PEs"),
            kill(INT, &[100, 101]),
        ]
    );
    assert_eq!(
        j.on_event(ms(2), Event::Signal(TERM), &p),
        [
            report("received SIGTERM again; killing all 2 PEs"),
            kill(KILL, &[100, 101]),
        ]
    );
}

#[test]
fn pes_ended_by_a_forwarded_signal_are_not_reported() {
    let p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    j.on_event(ms(1), Event::Signal(INT), &p);
    // Quiet, but the status is decided and the teardown starts.
    assert_eq!(
        j.on_event(ms(2), killed(0, INT), &p),
        [kill(TERM, &[100, 101])]
    );
    assert_eq!(
        j.on_event(ms(3), killed(1, INT), &p),
        [kill(KILL, &[100, 101]), finish(130)]
    );
}

#[test]
fn a_signal_during_teardown_before_sigkill_is_forwarded() {
    let p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    j.on_event(ms(0), code(0, 1), &p);
    assert_eq!(
        j.on_event(ms(10), Event::Signal(libc::SIGHUP), &p),
        [
            report("received SIGHUP; forwarding it to 1 PE"),
            kill(libc::SIGHUP, &[100, 101]),
        ]
    );
    // After SIGKILL was sent, a signal kills again.
    j.on_event(ms(300), Event::Tick, &p);
    assert_eq!(
        j.on_event(ms(301), Event::Signal(INT), &p),
        [
            report("received SIGINT again; killing all 2 PEs"),
            kill(KILL, &[100, 101]),
        ]
    );
}

#[test]
fn timeout_reports_and_tears_down_with_124() {
    let p = FakePmi::new(2);
    let mut j = job(2, Some(ms(1500)), &p);
    assert_eq!(j.next_deadline(), Some(ms(1500)));
    assert_eq!(j.on_event(ms(1499), Event::Tick, &p), []);
    assert_eq!(
        j.on_event(ms(1500), Event::Tick, &p),
        [
            report("job exceeded --timeout of 1.5 s; killing all 2 PEs"),
            kill(TERM, &[100, 101]),
        ]
    );
    assert_eq!(j.next_deadline(), Some(ms(1800)));
    j.on_event(ms(1600), killed(0, TERM), &p);
    assert_eq!(
        j.on_event(ms(1700), killed(1, TERM), &p),
        [kill(KILL, &[100, 101]), finish(EXIT_TIMEOUT)]
    );
}

#[test]
fn timeout_during_a_teardown_keeps_its_status() {
    let p = FakePmi::new(2);
    let mut j = job(2, Some(ms(1000)), &p);
    j.on_event(ms(900), code(1, 3), &p);
    assert_eq!(j.on_event(ms(1000), Event::Tick, &p), []);
    assert_eq!(j.next_deadline(), Some(ms(1200)));
    assert_eq!(
        j.on_event(ms(1100), killed(0, TERM), &p),
        [kill(KILL, &[100, 101]), finish(3)]
    );
}

#[test]
fn timeout_after_a_forwarded_signal_still_fires() {
    let p = FakePmi::new(1);
    let mut j = job(1, Some(ms(1000)), &p);
    j.on_event(ms(10), Event::Signal(libc::SIGHUP), &p);
    assert_eq!(
        j.on_event(ms(1000), Event::Tick, &p),
        [
            report("job exceeded --timeout of 1 s; killing all 1 PEs"),
            kill(TERM, &[100]),
        ]
    );
}

#[test]
fn exit_0_without_finalize_fails_with_1_when_the_connection_closes() {
    let mut p = FakePmi::new(2);
    p.init(0);
    let mut j = job(2, None, &p);
    assert_eq!(j.on_event(ms(100), code(0, 0), &p), []);
    assert_eq!(j.next_deadline(), Some(ms(300)));
    p.close(0);
    assert_eq!(
        j.on_event(ms(150), Event::PmiClosed { pe: 0 }, &p),
        [
            report(
                "PE 0 (pid 100) exited with status 0 after PMI init without calling PMI finalize; terminating the remaining 1 PE"
            ),
            kill(TERM, &[100, 101]),
        ]
    );
    assert_eq!(
        j.on_event(ms(160), killed(1, TERM), &p).last(),
        Some(&finish(1))
    );
}

#[test]
fn exit_0_without_finalize_fails_after_200_ms_without_a_close() {
    let mut p = FakePmi::new(2);
    p.init(0);
    let mut j = job(2, None, &p);
    j.on_event(ms(100), code(0, 0), &p);
    assert_eq!(j.on_event(ms(299), Event::Tick, &p), []);
    assert_eq!(j.on_event(ms(300), Event::Tick, &p).len(), 2);
    assert_eq!(j.next_deadline(), Some(ms(600)));
}

#[test]
fn exit_0_with_a_closed_connection_fails_at_once() {
    let mut p = FakePmi::new(2);
    p.init(1);
    p.close(1);
    let mut j = job(2, None, &p);
    assert_eq!(
        j.on_event(ms(1), code(1, 0), &p)[0],
        report(
            "PE 1 (pid 101) exited with status 0 after PMI init without calling PMI finalize; terminating the remaining 1 PE"
        )
    );
}

#[test]
fn a_finalize_arriving_within_the_grace_makes_exit_0_normal() {
    let mut p = FakePmi::new(2);
    p.init(0);
    let mut j = job(2, None, &p);
    j.on_event(ms(100), code(0, 0), &p);
    p.finalize(0);
    p.close(0);
    assert_eq!(j.on_event(ms(101), Event::PmiClosed { pe: 0 }, &p), []);
    assert_eq!(j.next_deadline(), None);
    p.init(1);
    p.finalize(1);
    assert_eq!(j.on_event(ms(102), code(1, 0), &p), [finish(0)]);
}

#[test]
fn exit_0_is_normal_without_pmi_init_for_the_last_pe_or_during_teardown() {
    // Never talked PMI (e.g. /bin/true).
    let p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    assert_eq!(j.on_event(ms(1), code(0, 0), &p), []);
    assert_eq!(j.next_deadline(), None);
    // The last PE, initialized without finalize.
    let mut p = FakePmi::new(1);
    p.init(0);
    let mut j = job(1, None, &p);
    assert_eq!(j.on_event(ms(1), code(0, 0), &p), [finish(0)]);
    // During a teardown.
    let mut p = FakePmi::new(3);
    p.init(1);
    let mut j = job(3, None, &p);
    j.on_event(ms(1), code(0, 2), &p);
    assert_eq!(j.on_event(ms(2), code(1, 0), &p), []);
    assert_eq!(j.next_deadline(), Some(ms(301)));
}

#[test]
fn groups_reaped_10_s_ago_are_no_longer_signalled() {
    let mut p = FakePmi::new(3);
    p.init(0);
    p.finalize(0);
    let mut j = job(3, None, &p);
    j.on_event(ms(1000), code(0, 0), &p);
    assert_eq!(
        j.on_event(ms(10_999), Event::Signal(INT), &p)[1],
        kill(INT, &[100, 101, 102])
    );
    assert_eq!(
        j.on_event(ms(11_000), Event::Signal(INT), &p)[1],
        kill(KILL, &[101, 102])
    );
}

#[test]
fn repeated_or_unknown_exits_are_ignored() {
    let p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    j.on_event(ms(1), code(0, 0), &p);
    assert_eq!(j.on_event(ms(2), code(0, 0), &p), []);
    assert_eq!(j.on_event(ms(3), code(7, 1), &p), []);
    assert_eq!(j.live(), 1);
    assert_eq!(j.pe_of_pid(101), Some(1));
    assert_eq!(j.pe_of_pid(999), None);
}

#[test]
fn a_pe_that_cannot_start_kills_the_others_127_or_126() {
    let p = FakePmi::new(3);
    let mut j = JobState::new(3, None);
    j.on_event(ms(0), Event::Spawned { pe: 0, pid: 100 }, &p);
    j.on_event(ms(0), Event::Spawned { pe: 1, pid: 101 }, &p);
    let failed = |eacces| Event::SpawnFailed {
        pe: 2,
        program: "./prog".into(),
        error: "Text file busy (os error 26)".into(),
        eacces,
    };
    assert_eq!(
        j.on_event(ms(0), failed(false), &p),
        [
            report("cannot start PE 2 (./prog): Text file busy (os error 26)"),
            kill(KILL, &[100, 101]),
            finish(127),
        ]
    );
    assert_eq!(j.pids(), [100, 101]);
    let mut j = JobState::new(1, None);
    assert_eq!(
        j.on_event(ms(0), failed(true), &p).last(),
        Some(&finish(126))
    );
}

#[test]
fn when_every_source_is_gone_the_job_finishes_with_its_status() {
    let p = FakePmi::new(2);
    let mut j = job(2, None, &p);
    assert_eq!(j.on_event(ms(1), Event::SourcesGone, &p), [finish(0)]);
    let mut j = job(2, None, &p);
    j.on_event(ms(1), code(0, 6), &p);
    assert_eq!(
        j.on_event(ms(2), Event::SourcesGone, &p),
        [kill(KILL, &[100, 101]), finish(6)]
    );
}
