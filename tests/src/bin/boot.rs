//! Bootstrap and locality only (no symmetric memory, no transport): connects to the
//! launcher, publishes `rank:netns` through the key-value store, checks every PE's record
//! after a barrier, and prints `BOOT pe=<r> n=<n> node=<node of r> nodes=<all> netns=<id>
//! protocol=<p>`. Used to test `rshmemrun --hosts` across network namespaces (the
//! bootstrap alone; real jobs there use the TCP transport, see `tests/tests/hosts.rs`).
use rshmem::bootstrap::{self, Kvs};

fn netns() -> String {
    std::fs::read_link("/proc/self/ns/net")
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let mut kvs: Box<dyn Kvs> = bootstrap::from_env().unwrap_or_else(|e| {
        eprintln!("boot: bootstrap failed: {e}");
        std::process::exit(1)
    });
    let (me, n) = (kvs.rank(), kvs.size());
    let ns = netns();
    bootstrap::put(&mut *kvs, "boot", format!("{me}:{ns}").as_bytes()).expect("put");
    kvs.barrier().expect("barrier");
    for pe in 0..n {
        let v = bootstrap::get(&mut *kvs, pe, "boot").expect("get");
        let v = String::from_utf8_lossy(&v).into_owned();
        assert!(
            v.starts_with(&format!("{pe}:")),
            "PE {me}: PE {pe}'s record is {v:?}"
        );
    }
    let nodes = kvs.process_mapping().unwrap_or_default();
    let node = nodes.get(me).copied().unwrap_or(usize::MAX);
    let nodes_txt: Vec<String> = nodes.iter().map(|x| x.to_string()).collect();
    println!(
        "BOOT pe={me} n={n} node={node} nodes={} netns={ns} protocol={}",
        nodes_txt.join(","),
        kvs.protocol()
    );
    kvs.barrier().expect("barrier");
    kvs.finalize().expect("finalize");
}
