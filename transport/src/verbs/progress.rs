//! Progress: polling the CQ (a completion retires every earlier request of its QP), waiting
//! (spin briefly, then yield; abort after [`STALL_SECS`] without a completion), draining
//! everything for `quiet`, and posting deferred requests from the runtime's waits.
use super::sq::Op;
use super::{Channel, VerbsCtx, DEFERRED, SCRATCH, STALL_SECS};
use rdma_sys::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long a wait polls its CQ without giving up the CPU: a completion that follows within
/// this is seen without a system call (perftest's latency tools busy-poll all along).
const PURE_SPIN: Duration = Duration::from_micros(50);
/// How long a wait then polls with a yield between polls before it sleeps 20 us at a time.
const YIELD_FOR: Duration = Duration::from_millis(5);

impl VerbsCtx {
    /// Posts the `put_nbi`s deferred for post lists, if any: the runtime calls it from
    /// every wait and test, so that a deferred put reaches its peer while this PE waits
    /// for something (a reply to it, say), even without a `quiet`. One relaxed load when
    /// nothing is deferred.
    #[inline]
    pub fn progress(&self) {
        if DEFERRED.load(Ordering::Relaxed) {
            self.ch0(|c| {
                DEFERRED.store(false, Ordering::Relaxed);
                c.flush_all();
            })
        }
    }

    /// Whether some `put_nbi` is deferred (in any verbs context of this process).
    #[inline]
    pub fn deferred() -> bool {
        DEFERRED.load(Ordering::Relaxed)
    }

    /// Completes every operation issued to every peer.
    pub fn quiet_all(&self) {
        self.ch0(|c| c.drain());
    }

    /// Orders the next operation to each peer after the earlier ones.
    pub fn fence_all(&self) {
        self.ch0(|c| {
            for q in c.qps.iter_mut() {
                q.fence = true;
            }
        })
    }
}

impl Channel {
    /// Polls the CQ once; returns the number of completions.
    fn poll(&mut self) -> usize {
        // SAFETY: `ibv_wc` is a C struct for which all-zero is valid.
        let mut wc: [ibv_wc; 16] = unsafe { core::mem::zeroed() };
        let n = self.cq.poll(&mut wc);
        if n < 0 {
            self.fail(format!("ibv_poll_cq failed ({n})"));
        }
        for w in &wc[..n as usize] {
            let pe = (w.wr_id & 0xffff) as usize;
            let seq = w.wr_id >> 16;
            if w.status != ibv_wc_status::IBV_WC_SUCCESS {
                let s = super::obj::wc_status_str(w.status);
                let (op, len, raddr) = self
                    .qps
                    .get(pe)
                    .map(|q| q.ops[(seq % self.depth) as usize])
                    .unwrap_or((Op::Write, 0, 0));
                self.fail(format!(
                    "{} of {len} bytes from PE {} to PE {pe} (remote address {raddr:#x}) failed: \
                     completion status \"{s}\" ({}), vendor error {:#x}",
                    op.name(),
                    self.me,
                    w.status,
                    w.vendor_err
                ));
            }
            if let Some(q) = self.qps.get_mut(pe) {
                q.done = q.done.max(seq);
            }
        }
        n as usize
    }

    /// Polls until `cond` holds: spins for [`PURE_SPIN`] since the last completion, then
    /// yields between polls (rxe does its work in kernel tasks that a busy poller would
    /// delay; other PEs may share the core), then sleeps 20 us at a time after
    /// [`YIELD_FOR`], and aborts after [`STALL_SECS`] without any completion.
    pub(super) fn wait(&mut self, cond: impl Fn(&Channel) -> bool) {
        self.flush_all();
        let mut idle = 0u32;
        let mut since = Instant::now();
        while !cond(self) {
            if self.poll() > 0 {
                idle = 0;
                since = Instant::now();
                continue;
            }
            idle = idle.saturating_add(1);
            if idle < 64 {
                core::hint::spin_loop();
                continue;
            }
            let t = since.elapsed();
            if t < PURE_SPIN {
                core::hint::spin_loop();
                continue;
            }
            std::thread::yield_now();
            if t > YIELD_FOR {
                std::thread::sleep(Duration::from_micros(20));
                if since.elapsed() > Duration::from_secs(STALL_SECS) {
                    let pending: Vec<String> = self
                        .qps
                        .iter()
                        .enumerate()
                        .filter(|(_, q)| q.sent > q.done)
                        .map(|(pe, q)| format!("PE {pe}: {}", q.sent - q.done))
                        .collect();
                    self.fail(format!(
                        "no completion for {STALL_SECS} s on PE {} (requests outstanding: {})",
                        self.me,
                        pending.join(", ")
                    ));
                }
            }
        }
    }

    pub(super) fn wait_seq(&mut self, pe: usize, seq: u64) {
        self.wait(|s| s.qps[pe].done >= seq);
    }

    /// Completes everything outstanding on every QP, then recycles the bounce buffer.
    pub(super) fn drain(&mut self) {
        self.flush_all();
        for pe in 0..self.qps.len() {
            let q = &self.qps[pe];
            if q.sent > q.done && q.last_sig < q.sent {
                self.post_marker(pe);
            }
        }
        self.wait(|s| s.qps.iter().all(|q| q.done >= q.sent));
        self.run_copies();
        self.bounce_live.clear();
        self.bounce_head = SCRATCH;
    }
}
