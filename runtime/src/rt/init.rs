//! Initialization: bootstrap, segments, peers' mappings, transports.
use super::*;
use std::sync::atomic::AtomicUsize;

/// `RSHMEM_TRANSPORT`: auto (shm within a node; verbs between nodes when every PE has an
/// RDMA device, else tcp), shm, verbs, tcp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Auto,
    Shm,
    Verbs,
    Tcp,
}

fn transport_mode() -> Result<Mode> {
    match crate::env::text(&crate::env::RSHMEM_TRANSPORT) {
        None => Ok(Mode::Auto),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Mode::Auto),
            "shm" => Ok(Mode::Shm),
            "verbs" | "rdma" | "ibv" => Ok(Mode::Verbs),
            "tcp" => Ok(Mode::Tcp),
            _ => Err(Error::InvalidEnv {
                var: "RSHMEM_TRANSPORT",
                value: v,
                reason: "must be auto (shm within a node; between nodes verbs when every PE has \
                         an RDMA device, else tcp), shm, verbs or tcp"
                    .into(),
            }),
        },
    }
}

/// Errors on the verbs hot path end the job (installed in the transport at init). The
/// transport calls it with its state locked, so this must not touch the transport (the
/// cooperative exit of [`Runtime::abort`] sends AMOs, which would wait for that lock
/// forever): straight to the bootstrap's abort ([`super::exit::transport_abort`]).
fn verbs_abort(msg: &str) -> ! {
    super::exit::transport_abort(msg)
}

/// Errors of the TCP transport (a broken connection, a peer that vanished) end the job,
/// unless this PE is leaving anyway (a cooperative exit closes connections).
fn tcp_abort(msg: &str) {
    if super::exit::LEAVING.load(Ordering::Acquire) {
        return;
    }
    super::exit::transport_abort(msg)
}

/// Opens the RDMA device, exchanges connection records through the KVS and connects one
/// RC QP per PE. Collective. `level`: the program's thread level (below `Multiple` the
/// default context takes no lock).
fn setup_verbs(
    level: ThreadLevel,
    kvs: &mut dyn Kvs,
    base: usize,
    seg_len: usize,
    data: Option<(usize, usize)>,
    eager: impl Fn(usize) -> bool,
) -> Result<VerbsCtx> {
    let (me, npes) = (kvs.rank(), kvs.size());
    let spec = DeviceSpec::from_env()?;
    let segs = rshmem_transport::verbs::Segments {
        seg_base: base,
        seg_len,
        in_use: INTERNAL_BYTES,
        data,
    };
    let mut ctx = VerbsCtx::open(&spec, me, npes, segs, verbs_abort)?;
    if level != ThreadLevel::Multiple {
        // SAFETY: the caller of `Runtime::init_thread` promised that no two threads use the
        // runtime at once; the runtime's own threads leave the default context alone (the
        // exit hook checks the thread: `exit.rs`).
        unsafe { ctx.unlock_default() };
    }
    bootstrap::put(kvs, "rshmem-verbs", &ctx.record())?;
    kvs.barrier()?;
    // On demand, only the records of the PEs this one maps (itself, same-node peers): the
    // others' are read on first use (`Runtime::verbs_peer_cold`). A full mesh needs all.
    let all = !ctx.on_demand();
    let recs = (0..npes)
        .map(|pe| {
            if all || eager(pe) {
                bootstrap::get(kvs, pe, "rshmem-verbs")
            } else {
                Ok(Vec::new())
            }
        })
        .collect::<Result<Vec<_>>>()?;
    ctx.connect(&recs)?;
    ctx.mark_setup_done();
    // Every QP is ready to receive before anyone sends.
    kvs.barrier()?;
    Ok(ctx)
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for its length; gethostname NUL-terminates within it.
    if unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) } != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn random_hex() -> String {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).expect("getrandom failed");
    bootstrap::wire::hex_encode(&b)
}

/// Name of this PE's shared-memory object: `/rshmem-<job>-<pe>-<random>`. The launcher
/// removes `/dev/shm/rshmem-<job>-*` after a job, covering PEs killed mid-init.
fn shm_name(job: &str, pe: usize) -> String {
    let job: String = job
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(96)
        .collect();
    format!("/rshmem-{job}-{pe}-{}", random_hex())
}

const PAGE: usize = 4096;

/// Options of [`Runtime::init_with`] (and `rshmem::init_with`).
#[derive(Clone, Copy, Debug, Default)]
pub struct InitOptions {
    /// Make the program's global and static variables (the executable's data and bss)
    /// symmetric, as OpenSHMEM requires of C programs: they become segment 1, remapped in
    /// place onto a shared-memory object (see `statics.rs`). Every PE must run the same
    /// executable.
    pub symmetric_statics: bool,
}

/// The thread level a program asked for (OpenSHMEM `SHMEM_THREAD_*`, same numbers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum ThreadLevel {
    /// One thread, which calls OpenSHMEM.
    Single = 0,
    /// Several threads; only the one that initialized calls OpenSHMEM.
    Funneled = 1,
    /// Several threads call OpenSHMEM, never two at once.
    Serialized = 2,
    /// Any thread at any time (the Rust API: `Shmem` is `Sync`).
    #[default]
    Multiple = 3,
}

impl ThreadLevel {
    /// The level numbered `v` (`SHMEM_THREAD_SINGLE` = 0 ... `SHMEM_THREAD_MULTIPLE` = 3).
    pub fn from_c(v: i32) -> Option<Self> {
        Some(match v {
            0 => Self::Single,
            1 => Self::Funneled,
            2 => Self::Serialized,
            3 => Self::Multiple,
            _ => return None,
        })
    }

    /// The C name, `SHMEM_THREAD_SINGLE` etc.
    pub fn name(self) -> &'static str {
        match self {
            Self::Single => "SHMEM_THREAD_SINGLE",
            Self::Funneled => "SHMEM_THREAD_FUNNELED",
            Self::Serialized => "SHMEM_THREAD_SERIALIZED",
            Self::Multiple => "SHMEM_THREAD_MULTIPLE",
        }
    }
}

impl Runtime {
    /// Initializes this PE: bootstrap, heap, peers' mappings. Collective over the job.
    pub fn init() -> Result<Self> {
        Self::init_with(InitOptions::default())
    }

    /// [`Runtime::init`] with options; every PE must pass the same ones.
    pub fn init_with(opts: InitOptions) -> Result<Self> {
        // SAFETY: `Multiple` asks nothing of the caller.
        unsafe { Self::init_thread(opts, ThreadLevel::Multiple) }
    }

    /// [`Runtime::init_with`] at thread level `level` (`shmem_init_thread`): below
    /// `Multiple`, the verbs default context takes no lock.
    ///
    /// # Safety
    /// Below `Multiple` the caller must never let two threads use the runtime at once
    /// (`Single`, `Funneled`: only the calling thread uses it).
    pub unsafe fn init_thread(opts: InitOptions, level: ThreadLevel) -> Result<Self> {
        let started = std::time::Instant::now();
        let cfg = Config::from_env()?;
        // A re-initialization after finalize reuses the launcher connection.
        let mut kvs = match bootstrap::unpark() {
            Some(k) => k,
            None => bootstrap::from_env()?,
        };
        let (me, npes) = (kvs.rank(), kvs.size());
        let mapping = kvs.process_mapping().filter(|m| m.len() == npes);
        // SHMEM_SYMMETRIC_SIZE, or a default sized from this machine for the most PEs any
        // node of the job runs (the same on every PE of similar nodes).
        let explicit = crate::env::is_set(&crate::env::SHMEM_SYMMETRIC_SIZE);
        let (heap_size, heap_origin) = if explicit {
            (
                cfg.symmetric_size,
                "set by SHMEM_SYMMETRIC_SIZE".to_string(),
            )
        } else {
            let local = match &mapping {
                Some(m) => {
                    let mut per_node = std::collections::HashMap::new();
                    for n in m {
                        *per_node.entry(*n).or_insert(0usize) += 1;
                    }
                    per_node.into_values().max().unwrap_or(1)
                }
                None => npes,
            };
            let d = crate::heap::default_size(local);
            (d.bytes, format!("default: {}", d.why))
        };
        let heap_len = heap_size.div_ceil(PAGE) * PAGE;
        let seg_len = INTERNAL_BYTES + heap_len;
        // The heap starts at a multiple of `heap_align` on every PE (see `malloc`).
        let heap_align = heap_len.next_power_of_two().max(SEGMENT_ALIGN);
        let mut region = ShmRegion::create_aligned(
            &shm_name(kvs.job_id(), me),
            seg_len,
            heap_align,
            INTERNAL_BYTES,
        )?;
        // The program's globals: remapped in place onto an object of their own.
        let mut data_region = match opts.symmetric_statics {
            false => None,
            true => match crate::statics::program_data() {
                None => None,
                Some(d) => {
                    // SAFETY: `program_data` returns the executable's own page-aligned,
                    // mapped, writable data; init runs before the program shares globals
                    // with other threads (OpenSHMEM: shmem_init comes first).
                    let r = unsafe {
                        ShmRegion::create_over(
                            &shm_name(kvs.job_id(), me),
                            d.start as *mut u8,
                            d.len,
                            d.file_part,
                        )
                    };
                    Some(r.map_err(|e| {
                        Error::ProgramData(format!(
                            "the program's global and static variables ({} bytes at {:#x}) could not be made symmetric: {e}",
                            d.len, d.start
                        ))
                    })?)
                }
            },
        };
        let (dname, dlen) = data_region
            .as_ref()
            .map_or(("-".to_string(), 0), |r| (r.name().to_string(), r.len()));
        let host = hostname();
        let record = format!(
            "{host}\n{}\n{seg_len}\n{dname}\n{dlen}\n{}",
            region.name(),
            crate::tcp::rdma_present() as u8
        );
        bootstrap::put(&mut *kvs, "rshmem-seg", record.as_bytes())?;
        kvs.barrier()?;
        let mode = transport_mode()?;
        // Whose records to read now. With the launcher's process mapping: this PE's, the
        // same node's when their segments are mapped here (auto, shm), and the first PE of
        // each node, whose host and RDMA flag stand for its node's (one host) and whose
        // sizes every PE checks its own against (so all agree: every PE checks node 0's
        // first PE, PE 0). That is O(PEs per node + nodes) reads per PE, not O(N). Without
        // a mapping (node = host name in the record), every PE's.
        let first_of_node: Option<Vec<usize>> = mapping.as_ref().map(|m| {
            let mut first = std::collections::HashMap::new();
            (0..npes)
                .map(|pe| *first.entry(m[pe]).or_insert(pe))
                .collect()
        });
        let maps_local = matches!(mode, Mode::Auto | Mode::Shm);
        let read_now = |pe: usize| match (&mapping, &first_of_node) {
            (Some(m), Some(f)) => pe == me || f[pe] == pe || (maps_local && m[pe] == m[me]),
            _ => true,
        };
        let mut recs: Vec<(String, String, String, bool)> = Vec::with_capacity(npes);
        let mut all_rdma = true;
        let mut seg_records_read = 0usize;
        for pe in 0..npes {
            if !read_now(pe) {
                // Another node's PE (or a same-node one never mapped here): its node's
                // first PE, read above (it comes first), stands for it.
                let (m, f) = (mapping.as_ref().unwrap(), first_of_node.as_ref().unwrap());
                let lead = f[pe];
                let same_node = m[pe] == m[me];
                if !same_node && mode == Mode::Shm {
                    return Err(Error::Unreachable {
                        pe,
                        host: recs[lead].0.clone(),
                        why: "RSHMEM_TRANSPORT=shm".into(),
                    });
                }
                recs.push((
                    recs[lead].0.clone(),
                    String::new(),
                    String::new(),
                    same_node,
                ));
                continue;
            }
            seg_records_read += 1;
            let raw = bootstrap::get(&mut *kvs, pe, "rshmem-seg")?;
            let text = String::from_utf8_lossy(&raw).into_owned();
            let mut it = text.splitn(6, '\n');
            let mut field = || it.next().unwrap_or("");
            let (phost, pname, plen, pdname, pdlen) = (field(), field(), field(), field(), field());
            all_rdma &= field() == "1";
            let corrupt = || Error::Bootstrap {
                protocol: kvs.protocol(),
                msg: format!("corrupt segment record of PE {pe}: {text:?}"),
            };
            let plen: usize = plen.parse().map_err(|_| corrupt())?;
            let pdlen: usize = pdlen.parse().map_err(|_| corrupt())?;
            if pdlen != dlen {
                return Err(Error::ProgramData(format!(
                    "PE {pe}'s global and static variables span {pdlen} bytes but PE {me}'s span {dlen}: \
                     globals are symmetric only when every PE runs the same executable"
                )));
            }
            if plen != seg_len {
                return Err(Error::InvalidEnv {
                    var: "SHMEM_SYMMETRIC_SIZE",
                    value: if explicit {
                        cfg.symmetric_size.to_string()
                    } else {
                        "(unset)".to_string()
                    },
                    reason: format!(
                        "PE {pe} has a symmetric segment of {plen} bytes but PE {me} has {seg_len} ({heap_origin}): \
                         every PE must have the same heap size; set SHMEM_SYMMETRIC_SIZE for every PE \
                         (the default differs between nodes with different memory or /dev/shm)"
                    ),
                });
            }
            let same_node = match &mapping {
                Some(m) => m[pe] == m[me],
                None => phost == host,
            };
            if !same_node && mode == Mode::Shm {
                return Err(Error::Unreachable {
                    pe,
                    host: phost.to_string(),
                    why: "RSHMEM_TRANSPORT=shm".into(),
                });
            }
            recs.push((
                phost.to_string(),
                pname.to_string(),
                pdname.to_string(),
                same_node,
            ));
        }
        let remote = recs.iter().any(|r| !r.3);
        let use_verbs = mode == Mode::Verbs || (mode == Mode::Auto && remote && all_rdma);
        // TCP: every other PE when forced; between nodes without RDMA on every PE.
        let tcp_peer = |pe: usize, same_node: bool| {
            pe != me && (mode == Mode::Tcp || (mode == Mode::Auto && !use_verbs && !same_node))
        };
        let use_tcp = (0..npes).any(|pe| tcp_peer(pe, recs[pe].3));
        let data = data_region.as_ref().map(|r| (r.base() as usize, r.len()));
        let tcp = if use_tcp {
            let mut segs = vec![(region.base() as usize, seg_len)];
            if let Some(d) = data {
                segs.push(d);
            }
            match crate::tcp::setup(&mut *kvs, me, npes, &segs, tcp_abort) {
                Ok(t) => Some(t),
                Err(e) => {
                    err_line(&format!("rshmem: PE {me}: {e}"));
                    kvs.abort(1)
                }
            }
        } else {
            None
        };
        let verbs = if use_verbs {
            // (the PEs whose segments this one maps: itself and, unless verbs is forced,
            // the same node's)
            let eager = |pe: usize| pe == me || (recs[pe].3 && mode != Mode::Verbs);
            match setup_verbs(
                level,
                &mut *kvs,
                region.base() as usize,
                seg_len,
                data,
                eager,
            ) {
                Ok(v) => Some(Arc::new(v)),
                Err(e) => {
                    // Never leave the other PEs waiting in a barrier.
                    err_line(&format!("rshmem: PE {me}: {e}"));
                    kvs.abort(1)
                }
            }
        } else {
            None
        };
        let mut regions = Vec::new();
        let mut peers = Vec::with_capacity(npes);
        for (pe, (phost, pname, pdname, same_node)) in recs.into_iter().enumerate() {
            // Shared-memory mapping for put/get: every same-node peer unless verbs is forced.
            // (segment 0, segment 1 or 0 when the program's globals are not symmetric)
            let local = if !same_node || mode == Mode::Verbs || tcp_peer(pe, same_node) {
                None
            } else if pe == me {
                Some((region.base() as usize, data.map_or(0, |d| d.0)))
            } else {
                let r = ShmRegion::attach(&pname, seg_len)?;
                let b = r.base() as usize;
                regions.push(r);
                let d = if dlen > 0 {
                    let r = ShmRegion::attach(&pdname, dlen)?;
                    let d = r.base() as usize;
                    regions.push(r);
                    d
                } else {
                    0
                };
                Some((b, d))
            };
            let (base, dbase, path) = match (&verbs, local) {
                (None, None) if tcp_peer(pe, same_node) => {
                    let t = tcp.as_ref().expect("set up above");
                    (
                        rshmem_transport::tcp::seg_base(0),
                        rshmem_transport::tcp::seg_base(1),
                        Path::Tcp(t.endpoint(pe)),
                    )
                }
                (Some(v), local) => {
                    let (rb, rd) = (v.remote_base(pe), v.remote_data_base(pe));
                    let maps = local.map(|(m, md)| [(rb, seg_len, m), (rd, dlen, md)]);
                    let ep = VerbsEndpoint::new(v.clone(), pe, maps);
                    (rb, rd, Path::Verbs(ep))
                }
                (None, Some((b, d))) => (b, d, Path::Shm(ShmEndpoint)),
                (None, None) => unreachable!("remote peers without verbs were refused above"),
            };
            let bases: [AtomicUsize; MAX_SEGS] = Default::default();
            bases[0].store(base, Ordering::Relaxed);
            bases[1].store(dbase, Ordering::Relaxed);
            peers.push(Peer {
                bases,
                keys: [0; MAX_SEGS],
                path,
                host: phost,
            });
        }
        // Everyone has mapped everyone: the names can go. From here on, the memory lives
        // exactly as long as the mappings, whatever happens to the processes.
        kvs.barrier()?;
        region.unlink();
        let base = region.base() as usize;
        regions.push(region);
        let mut segs = [Segment::default(); MAX_SEGS];
        segs[0] = Segment { base, len: seg_len };
        let mut nsegs = 1;
        if let Some(mut r) = data_region.take() {
            r.unlink();
            segs[1] = Segment {
                base: r.base() as usize,
                len: r.len(),
            };
            nsegs = 2;
            regions.push(r);
        }
        // SHMEM_TEAM_SHARED: the PEs whose memory is mapped here (shmem_ptr works).
        let shared: Vec<usize> = (0..npes)
            .filter(|&pe| match &peers[pe].path {
                Path::Shm(_) => true,
                Path::Verbs(ep) => pe == me || ep.is_mapped(),
                Path::Tcp(_) => false,
            })
            .collect();
        let teams = crate::teams::Teams::new(me, npes, shared)?;
        // Every shared-memory mapping of this process: touching a page of one when /dev/shm
        // is full is a SIGBUS that deserves a message.
        let mut ranges = vec![(base, base + seg_len)];
        if nsegs > 1 {
            ranges.push((segs[1].base, segs[1].base + segs[1].len));
        }
        for r in regions.iter() {
            ranges.push((r.base() as usize, r.base() as usize + r.len()));
        }
        sigbus::install(me, ranges);
        // A verbs peer whose record was read at init has its base; the others have 0 and
        // are read on first use.
        let verbs_records = peers
            .iter()
            .map(|p| AtomicBool::new(p.bases[0].load(Ordering::Relaxed) != 0))
            .collect();
        let rt = Self {
            me,
            npes,
            cfg,
            segs,
            nsegs,
            peers: peers.into_boxed_slice(),
            heap_base: base + INTERNAL_BYTES,
            heap: Mutex::new({
                // a new heap: no thread's cached block of an earlier runtime applies
                super::alloc::heap_changed();
                HeapAllocator::new(heap_len)
            }),
            heap_align,
            heap_origin,
            kvs: Mutex::new(kvs),
            barrier_epoch: AtomicU64::new(0),
            regions: Mutex::new(regions),
            progress: Progress::new(verbs.clone(), tcp.clone(), exit::EXIT_HOOKS),
            verbs,
            verbs_gen: AtomicU64::new(0),
            verbs_known: (0..npes).map(|_| AtomicU64::new(0)).collect(),
            verbs_records,
            seg_records_read,
            tcp,
            teams,
            held_locks: Mutex::new(Vec::new()),
            thread_level: level,
            // SAFETY: gettid has no preconditions.
            init_tid: unsafe { libc::gettid() },
        };
        rt.print_info(started.elapsed());
        Ok(rt)
    }
}
