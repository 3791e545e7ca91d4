//! The runtime's PMI-1 client against the launcher's PMI-1 server, in-process over socket
//! pairs: both sides speak through the shared codec (crate `rshmem-pmi`). Two PEs, each with
//! its own connection served by [`PmiServer::serve`] (the per-connection handler rshmemrun
//! runs for `PMI_FD`), drive `init`, `get_maxes`, `get_my_kvsname`, `put`, `barrier_in`,
//! `get` (raw, binary through hex chunks, missing keys, `PMI_process_mapping`) and
//! `finalize` through the client's public API.

use rshmem::bootstrap::pmi1::Pmi1;
use rshmem::bootstrap::{self, Kvs};
use rshmem_launcher::pmi::server::{shared_writer, Connection, PmiServer, KEYLEN_MAX, VALLEN_MAX};
use rshmem_launcher::pmi::{PeState, ProcessMapping, ServerEvent};
use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

const N: usize = 2;

/// A connected client for `rank`, its connection served by `srv` on a thread of its own.
fn connect(srv: &Arc<PmiServer>, rank: usize) -> (Pmi1, std::thread::JoinHandle<()>) {
    let (client, server_end) = UnixStream::pair().unwrap();
    // Nothing in this test may hang: a lost reply fails the read instead.
    client
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let s = Arc::clone(srv);
    let w = server_end.try_clone().unwrap();
    let served = std::thread::spawn(move || {
        s.serve(
            Connection::with_rank(rank, shared_writer(w)),
            BufReader::new(server_end),
        )
    });
    let w = client.try_clone().unwrap();
    let pmi = Pmi1::from_parts(
        BufReader::new(Box::new(client)),
        Box::new(w),
        rank,
        N,
        format!("socketpair of PE {rank}"),
        None,
    )
    .expect("init, get_maxes and get_my_kvsname against rshmemrun's server");
    (pmi, served)
}

#[test]
fn runtime_client_talks_to_launcher_server() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let mut srv = PmiServer::new("kvs-sp", N, move |e| {
        let _ = tx.lock().unwrap().send(e);
    });
    // Two nodes, one PE each, as `rshmemrun --hosts a,b -n 2` serves it.
    srv.set_process_mapping(ProcessMapping::from_placement(&[0, 1]));
    let srv = Arc::new(srv);

    let pes: Vec<_> = (0..N)
        .map(|rank| {
            let srv = Arc::clone(&srv);
            std::thread::spawn(move || {
                let (mut p, served) = connect(&srv, rank);
                assert_eq!((p.protocol(), p.rank(), p.size()), ("pmi1", rank, N));
                assert_eq!(p.job_id(), "kvs-sp");
                assert_eq!(p.maxes(), (KEYLEN_MAX, VALLEN_MAX));
                p.put_raw(&format!("addr-{rank}"), &format!("v{rank}=x"))
                    .unwrap();
                // Binary values travel as hex chunks (longer than one value).
                let blob: Vec<u8> = (0..1500u32).map(|i| (i * 7 + rank as u32) as u8).collect();
                bootstrap::put(&mut p, "blob", &blob).unwrap();
                p.barrier().unwrap();
                let other = 1 - rank;
                assert_eq!(
                    p.get_raw(&format!("addr-{other}")).unwrap().as_deref(),
                    Some(format!("v{other}=x").as_str())
                );
                let want: Vec<u8> = (0..1500u32).map(|i| (i * 7 + other as u32) as u8).collect();
                assert_eq!(bootstrap::get(&mut p, other, "blob").unwrap(), want);
                assert_eq!(p.get_raw("never-put").unwrap(), None);
                assert_eq!(p.process_mapping(), Some(vec![0, 1]));
                // A value the server refuses is the client's error, not a hang.
                let e = p.put_raw("k", &"x".repeat(VALLEN_MAX + 1)).unwrap_err();
                assert!(e.to_string().contains("exceeds the server's maxima"), "{e}");
                p.finalize().unwrap();
                drop(p);
                served.join().unwrap();
            })
        })
        .collect();
    for pe in pes {
        pe.join().expect("a PE failed");
    }
    for r in 0..N {
        assert_eq!(
            srv.pe_state(r),
            PeState {
                claimed: true,
                initialized: true,
                finalized: true,
                aborted: false,
                closed: true,
            }
        );
    }
    let evs: Vec<ServerEvent> = rx.try_iter().collect();
    for r in 0..N {
        let of_r: Vec<_> = evs
            .iter()
            .filter(|e| {
                matches!(e, ServerEvent::Initialized(x) | ServerEvent::Finalized(x) | ServerEvent::Closed(x) if *x == r)
            })
            .cloned()
            .collect();
        assert_eq!(
            of_r,
            vec![
                ServerEvent::Initialized(r),
                ServerEvent::Finalized(r),
                ServerEvent::Closed(r)
            ]
        );
    }
}

/// Without a mapping the server says "one node" and the client reads every PE on node 0.
#[test]
fn single_node_mapping_reaches_the_client() {
    let srv = Arc::new(PmiServer::new("kvs-1", N, |_| {}));
    let conns: Vec<_> = (0..N).map(|r| connect(&srv, r)).collect();
    for (mut p, served) in conns {
        assert_eq!(p.process_mapping(), Some(vec![0; N]));
        p.finalize().unwrap();
        drop(p);
        served.join().unwrap();
    }
}
