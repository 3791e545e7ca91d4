//! `rshmem-info`: what this rshmem build is and what it finds on this machine — version,
//! specification, transports (shared memory; RDMA devices and ports), bootstraps, node
//! topology, and every environment variable with its value, default and meaning.
//!
//! Runs without a launcher and without initializing SHMEM: it only reads the environment,
//! lists devices through libibverbs, tries to load libpmix and asks hwloc.
use clap::Parser;
use serde_json::{json, Value};

/// Print the rshmem version, the OpenSHMEM specification it implements, the transports
/// and bootstraps it can use here, this node's topology, and every environment variable
/// rshmem reads (current value, default, meaning).
///
/// Needs no launcher and does not start a SHMEM job.
#[derive(Debug, Parser)]
#[command(name = "rshmem-info", version = rshmem::VERSION)]
struct Args {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// OpenSHMEM 1.6 routines implemented on top of 1.5.
const SPEC_16_ADDITIONS: &str = "shmem_query_initialized, TYPE_ibput/ibget, \
     shmem_signal_add/set, shmem_pe_quiet, ctx sessions (hints), TYPE_sum_inscan/exscan";

struct Info {
    version: &'static str,
    spec: String,
    shm: Result<String, String>,
    verbs: Result<Vec<rshmem_transport::verbs::DeviceInfo>, String>,
    pmix: Result<String, String>,
    detected: &'static str,
    forced_bootstrap: Option<String>,
    topology: Result<Topology, String>,
    vars: Vec<Var>,
    unknown_vars: Vec<(String, String)>,
}

struct Topology {
    hostname: String,
    packages: usize,
    cores: usize,
    pus: usize,
    numa_nodes: usize,
}

struct Var {
    name: &'static str,
    /// The value and the variable it came from (the `SMA_` spelling counts too).
    value: Option<(String, String)>,
    default: &'static str,
    doc: &'static str,
}

/// `/dev/shm`: writable, its size and free space.
fn shm_status() -> Result<String, String> {
    let path = c"/dev/shm";
    // SAFETY: valid C string; `st` is a plain C struct, all-zero is valid.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return Err(format!("/dev/shm: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: valid C string.
    if unsafe { libc::access(path.as_ptr(), libc::W_OK) } != 0 {
        return Err(format!(
            "/dev/shm is not writable: {}",
            std::io::Error::last_os_error()
        ));
    }
    let f = st.f_frsize as u64;
    // The heap size a job gets without SHMEM_SYMMETRIC_SIZE, by PEs per node.
    let heaps: Vec<String> = [1, 4, 8]
        .iter()
        .map(|&n| {
            format!(
                "{} at {n}",
                human(rshmem::heap::default_size(n).bytes as u64)
            )
        })
        .collect();
    Ok(format!(
        "/dev/shm {} total, {} free; default symmetric heap per PE (SHMEM_SYMMETRIC_SIZE unset): {} PEs per node",
        human(st.f_blocks as u64 * f),
        human(st.f_bavail as u64 * f),
        heaps.join(", ")
    ))
}

fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

fn topology() -> Result<Topology, String> {
    use hwlocality::object::types::ObjectType;
    let topo = hwlocality::Topology::new().map_err(|e| format!("hwloc: {e}"))?;
    let count = |ty| topo.objects_with_type(ty).count();
    let mut host = [0u8; 256];
    // SAFETY: the buffer is 256 bytes long and gethostname NUL-terminates within it.
    let hostname = if unsafe { libc::gethostname(host.as_mut_ptr().cast(), host.len() - 1) } == 0 {
        let end = host.iter().position(|&b| b == 0).unwrap_or(host.len());
        String::from_utf8_lossy(&host[..end]).into_owned()
    } else {
        "?".into()
    };
    Ok(Topology {
        hostname,
        packages: count(ObjectType::Package),
        cores: count(ObjectType::Core),
        pus: count(ObjectType::PU),
        numa_nodes: count(ObjectType::NUMANode),
    })
}

fn vars() -> (Vec<Var>, Vec<(String, String)>) {
    let vars: Vec<Var> = rshmem::env::VARS
        .iter()
        .map(|v| {
            // The value and the name it was set under (the deprecated SMA_ spelling too).
            let value = rshmem::env::text_and_name(v).map(|(val, n)| (val, n.to_string()));
            Var {
                name: v.name,
                value,
                default: v.default,
                doc: v.doc,
            }
        })
        .collect();
    // Set variables that look like ours but are not in the table (typos); those set by
    // launchers are not settings (and the PMI secret is never printed).
    let mut unknown: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            (k.starts_with("SHMEM_") || k.starts_with("SMA_") || k.starts_with("RSHMEM_"))
                && rshmem::env::lookup(k).is_none()
                && !rshmem::env::is_launcher_provided(k)
        })
        .collect();
    unknown.sort();
    (vars, unknown)
}

fn gather() -> Info {
    use rshmem::bootstrap::Detected;
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    let detected = match rshmem::bootstrap::detect(&|k| std::env::var(k).ok(), &names) {
        Detected::Pmix => "PMIx (PMIX_RANK and PMIX_SERVER_URI* set)",
        Detected::Pmi => "PMI (PMI_FD or PMI_PORT set)",
        Detected::OpenMpiWithoutPmix => "Open MPI without PMIx variables (cannot join)",
        Detected::SlurmWithoutPmi => "srun without PMI (use --mpi=pmi2 or --mpi=pmix)",
        Detected::Singleton => "singleton (no launcher: PE 0 of 1)",
    };
    let (vars, unknown_vars) = vars();
    Info {
        version: rshmem::VERSION,
        spec: format!(
            "{}.{} (with the 1.6 additions {SPEC_16_ADDITIONS})",
            rshmem::SPEC_MAJOR,
            rshmem::SPEC_MINOR
        ),
        shm: shm_status(),
        verbs: rshmem_transport::verbs::list_devices().map_err(|e| e.0),
        pmix: rshmem::bootstrap::pmix::probe().map_err(|e| e.to_string()),
        detected,
        forced_bootstrap: rshmem::env::text(&rshmem::env::RSHMEM_BOOTSTRAP)
            .filter(|v| !v.trim().is_empty()),
        topology: topology(),
        vars,
        unknown_vars,
    }
}

fn text(i: &Info) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "rshmem version:       {}", i.version);
    let _ = writeln!(w, "OpenSHMEM spec:       {}", i.spec);
    let _ = writeln!(
        w,
        "C API:                shmem.h, shmemx.h, librshmem (rshmemcc, rshmemc++, oshcc, oshc++)"
    );
    let _ = writeln!(w, "\nTransports (compiled in: shm, verbs)");
    match &i.shm {
        Ok(d) => {
            let _ = writeln!(w, "  shm:   available ({d})");
        }
        Err(e) => {
            let _ = writeln!(w, "  shm:   NOT usable: {e}");
        }
    }
    match &i.verbs {
        Ok(devs) if devs.is_empty() => {
            let _ = writeln!(
                w,
                "  verbs: no RDMA device found (jobs within one node use shm)"
            );
        }
        Ok(devs) => {
            let _ = writeln!(w, "  verbs: {} RDMA device(s)", devs.len());
            for d in devs {
                if let Some(e) = &d.error {
                    let _ = writeln!(w, "    {}: {e}", d.name);
                }
                for p in &d.ports {
                    let _ = write!(
                        w,
                        "    {}:{}  {}  {}",
                        d.name, p.port, p.state, p.link_layer
                    );
                    if p.active_mtu > 0 {
                        let _ = write!(w, "  mtu {}", p.active_mtu);
                    }
                    if p.link_layer == "InfiniBand" {
                        let _ = write!(w, "  lid {}", p.lid);
                    }
                    if let Some(e) = &p.error {
                        let _ = write!(w, "  ({e})");
                    }
                    let _ = writeln!(w);
                }
            }
        }
        Err(e) => {
            let _ = writeln!(w, "  verbs: no RDMA device found ({e})");
        }
    }
    let _ = writeln!(w, "\nBootstraps");
    let _ = writeln!(
        w,
        "  PMI-1:     supported (rshmemrun/oshrun, mpiexec.hydra; PMI_FD or PMI_PORT)"
    );
    let _ = writeln!(w, "  PMI-2:     supported (srun --mpi=pmi2)");
    match &i.pmix {
        Ok(v) => {
            let _ = writeln!(w, "  PMIx:      available ({v})");
        }
        Err(e) => {
            let _ = writeln!(w, "  PMIx:      not available ({e})");
        }
    }
    let _ = writeln!(
        w,
        "  MPI:       {}",
        if rshmem::bootstrap::MPI_COMPILED {
            "compiled in (used when the program has initialized MPI)"
        } else {
            "a cargo feature of programs (rshmem/mpi); this build has none"
        }
    );
    let _ = writeln!(w, "  singleton: supported (no launcher)");
    let _ = writeln!(w, "  this process: {}", i.detected);
    if let Some(f) = &i.forced_bootstrap {
        let _ = writeln!(w, "  forced by RSHMEM_BOOTSTRAP={f}");
    }
    let _ = writeln!(w, "\nNode topology (hwloc)");
    match &i.topology {
        Ok(t) => {
            let _ = writeln!(
                w,
                "  {}: {} package(s), {} core(s), {} PU(s), {} NUMA node(s)",
                t.hostname, t.packages, t.cores, t.pus, t.numa_nodes
            );
        }
        Err(e) => {
            let _ = writeln!(w, "  unavailable: {e}");
        }
    }
    let _ = writeln!(w, "\nEnvironment (value; default; meaning)");
    for v in &i.vars {
        let val = match &v.value {
            Some((val, from)) if from != v.name => format!("{val} (from {from})"),
            Some((val, _)) => val.clone(),
            None => "(unset)".into(),
        };
        let _ = writeln!(
            w,
            "  {:<26} = {:<14} default {:<16} {}",
            v.name, val, v.default, v.doc
        );
    }
    if !i.unknown_vars.is_empty() {
        let _ = writeln!(w, "\nSet but not read by rshmem (misspelled?)");
        for (k, v) in &i.unknown_vars {
            let _ = writeln!(w, "  {k}={v}");
        }
    }
    s
}

fn to_json(i: &Info) -> Value {
    let res = |r: &Result<String, String>| match r {
        Ok(d) => json!({"available": true, "detail": d}),
        Err(e) => json!({"available": false, "detail": e}),
    };
    let verbs = match &i.verbs {
        Ok(devs) => json!({
            "compiled_in": true,
            "devices": devs.iter().map(|d| json!({
                "name": d.name,
                "error": d.error,
                "ports": d.ports.iter().map(|p| json!({
                    "port": p.port,
                    "state": p.state,
                    "link_layer": p.link_layer,
                    "active_mtu": p.active_mtu,
                    "lid": p.lid,
                    "error": p.error,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
        Err(e) => json!({"compiled_in": true, "devices": [], "error": e}),
    };
    json!({
        "version": i.version,
        "spec": {
            "major": rshmem::SPEC_MAJOR,
            "minor": rshmem::SPEC_MINOR,
            "additions_1_6": SPEC_16_ADDITIONS,
        },
        "transports": {"shm": res(&i.shm), "verbs": verbs},
        "bootstraps": {
            "pmi1": {"available": true},
            "pmi2": {"available": true},
            "pmix": res(&i.pmix),
            "mpi": {"available": rshmem::bootstrap::MPI_COMPILED},
            "singleton": {"available": true},
            "detected": i.detected,
            "forced": i.forced_bootstrap,
        },
        "topology": match &i.topology {
            Ok(t) => json!({
                "hostname": t.hostname,
                "packages": t.packages,
                "cores": t.cores,
                "pus": t.pus,
                "numa_nodes": t.numa_nodes,
            }),
            Err(e) => json!({"error": e}),
        },
        "environment": i.vars.iter().map(|v| json!({
            "name": v.name,
            "value": v.value.as_ref().map(|(val, _)| val),
            "set_as": v.value.as_ref().map(|(_, from)| from),
            "default": v.default,
            "description": v.doc,
        })).collect::<Vec<_>>(),
        "unknown_environment": i.unknown_vars.iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect::<Vec<_>>(),
    })
}

fn main() {
    let args = Args::parse();
    let info = gather();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&info)).expect("JSON")
        );
    } else {
        print!("{}", text(&info));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_cover_every_variable() {
        let i = gather();
        let t = text(&i);
        let j = to_json(&i);
        for v in rshmem::env::VARS {
            assert!(t.contains(v.name), "{} missing from the text", v.name);
        }
        assert_eq!(
            j["environment"].as_array().unwrap().len(),
            rshmem::env::VARS.len()
        );
        assert_eq!(j["version"], rshmem::VERSION);
        assert!(t.contains("  shm:") && t.contains("  verbs:"), "{t}");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3 << 29), "1.5 GiB");
    }
}
