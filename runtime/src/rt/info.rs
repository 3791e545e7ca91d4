//! `SHMEM_INFO` / `SHMEM_VERSION`: what init prints.
use super::*;

impl Runtime {
    /// `init_took`: how long init ran (printed with the verbs resources).
    pub(super) fn print_info(&self, init_took: std::time::Duration) {
        // Everything this PE prints goes out in one write, so that the lines of PEs that
        // print at the same time do not interleave mid-line.
        let mut out = String::new();
        self.info_text(&mut out);
        if let (true, Some(v)) = (self.cfg.info, &self.verbs) {
            use std::fmt::Write as _;
            let _ = writeln!(
                out,
                "{}, init {} ms",
                self.verbs_stats_line(v, "init"),
                init_took.as_millis()
            );
        }
        if self.cfg.info && (self.verbs.is_some() || self.tcp.is_some()) {
            use std::fmt::Write as _;
            let _ = writeln!(
                out,
                "rshmem: PE {}: segment records read at init: {} of {}",
                self.me, self.seg_records_read, self.npes
            );
        }
        if !out.is_empty() {
            use std::io::Write;
            let _ = std::io::stderr().lock().write_all(out.as_bytes());
        }
    }

    /// The thread level the program initialized with (`shmem_query_thread`; Rust
    /// programs: `Multiple`).
    pub fn thread_level(&self) -> ThreadLevel {
        self.thread_level
    }

    /// Queue pairs created and bytes registered by this PE's verbs transport so far
    /// (`None` without verbs): for tests and measurements of connections on demand.
    pub fn verbs_stats(&self) -> Option<rshmem_transport::verbs::VerbsStats> {
        self.verbs.as_ref().map(|v| v.stats())
    }

    /// `rshmem: PE n: verbs at <when>: Q queue pairs, B bytes registered` (SHMEM_INFO, at
    /// init and at finalize): what connections and registrations cost this PE.
    pub(super) fn verbs_stats_line(&self, v: &VerbsCtx, when: &str) -> String {
        // (at init: as the setup left it, before any peer could connect to this PE)
        let s = if when == "init" {
            v.setup_stats()
        } else {
            v.stats()
        };
        format!(
            "rshmem: PE {}: verbs at {when}: {} queue pairs, {} bytes registered",
            self.me, s.qps, s.registered
        )
    }

    fn info_text(&self, out: &mut String) {
        use std::fmt::Write as _;
        if self.cfg.info {
            if let Some(t) = &self.tcp {
                let per_peer: Vec<String> = self
                    .peers
                    .iter()
                    .enumerate()
                    .map(|(pe, p)| match &p.path {
                        Path::Tcp(_) => format!("{pe}=tcp"),
                        _ => format!("{pe}=shm"),
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "rshmem: PE {}: transport per peer: {}; {}",
                    self.me,
                    per_peer.join(" "),
                    t.describe()
                );
            }
            if let Some(v) = &self.verbs {
                let per_peer: Vec<String> = self
                    .peers
                    .iter()
                    .enumerate()
                    .map(|(pe, p)| match &p.path {
                        Path::Shm(_) => format!("{pe}=shm"),
                        Path::Verbs(e) if e.is_mapped() => format!("{pe}=shm+verbs-amo"),
                        Path::Verbs(_) => format!("{pe}=verbs"),
                        Path::Tcp(_) => format!("{pe}=tcp"),
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "rshmem: PE {}: transport per peer: {}; device: {}; default context: {} ({})",
                    self.me,
                    per_peer.join(" "),
                    v.describe(),
                    if v.default_locked() {
                        "locked"
                    } else {
                        "no lock"
                    },
                    self.thread_level.name()
                );
            }
        }
        if self.me != 0 {
            return;
        }
        if self.cfg.version || self.cfg.info {
            let _ = writeln!(
                out,
                "rshmem {} (OpenSHMEM {}.{})",
                env!("CARGO_PKG_VERSION"),
                crate::version::SPEC_MAJOR,
                crate::version::SPEC_MINOR
            );
        }
        if self.cfg.info {
            let _ = writeln!(
                out,
                "rshmem: {} PEs, bootstrap {}, transport {}",
                self.npes,
                self.kvs.lock().protocol(),
                if self.verbs.is_some() {
                    "verbs (see the per-PE lines)"
                } else if self.tcp.is_some() {
                    "shm within a node, tcp (see the per-PE lines)"
                } else {
                    "shm (all peers)"
                }
            );
            let _ = writeln!(
                out,
                "rshmem: symmetric heap {} bytes per PE ({})",
                self.heap.lock().size(),
                self.heap_origin
            );
            for v in crate::env::VARS {
                let val = crate::env::text(v).unwrap_or_else(|| "(unset)".into());
                let _ = writeln!(
                    out,
                    "  {:<26} = {:<12} default {:<6} {}",
                    v.name, val, v.default, v.doc
                );
            }
        }
    }
}
