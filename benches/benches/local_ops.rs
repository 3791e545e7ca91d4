//! Put, get and atomics through the safe Rust API on a singleton runtime (PE 0 of 1, so
//! every operation targets this PE's own symmetric heap through the shared-memory
//! transport), next to the plain `memcpy` / CPU atomic they reduce to.
//!
//! `cargo bench -p rshmem-benches --bench local_ops`
use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use rshmem_benches::AlignedBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const SIZES: [usize; 3] = [8, 4096, 1 << 20];

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20)
        .configure_from_args()
}

fn main() {
    std::env::set_var("SHMEM_SYMMETRIC_SIZE", "64M");
    let shmem = rshmem::init().expect("rshmem::init (singleton)");
    let max = *SIZES.iter().max().unwrap();
    let sym = shmem.alloc_slice_aligned::<u8>(max, 4096).expect("alloc");
    let word = shmem.alloc(0u64).expect("alloc");
    // `local` is a plain Vec (malloc: 16 bytes past a page boundary at this size), `aligned`
    // a page-aligned buffer like the symmetric one; with `local` as the destination of a get
    // (dst - src = 16 mod 4096) glibc's `rep movsb` path hits 4K aliasing on AMD Zen 3.
    let mut local = vec![0x5au8; max];
    let mut aligned = AlignedBuf::new(max);
    aligned.touch(0x5a);
    let mut local2 = vec![0xa5u8; max];
    let mut c = config();

    {
        let mut g = c.benchmark_group("put");
        for &s in &SIZES {
            g.throughput(Throughput::Bytes(s as u64));
            g.bench_with_input(BenchmarkId::new("put_from_page_aligned", s), &s, |b, &s| {
                b.iter(|| sym.put(0, 0, black_box(&aligned.as_slice()[..s])).unwrap())
            });
            g.bench_with_input(BenchmarkId::new("put", s), &s, |b, &s| {
                b.iter(|| sym.put(0, 0, black_box(&local[..s])).unwrap())
            });
            g.bench_with_input(BenchmarkId::new("put_quiet", s), &s, |b, &s| {
                b.iter(|| {
                    sym.put(0, 0, black_box(&local[..s])).unwrap();
                    shmem.quiet();
                })
            });
            g.bench_with_input(BenchmarkId::new("memcpy_baseline", s), &s, |b, &s| {
                b.iter(|| {
                    local2[..s].copy_from_slice(black_box(&local[..s]));
                    black_box(&mut local2);
                })
            });
        }
        g.finish();
    }
    {
        let mut g = c.benchmark_group("get");
        for &s in &SIZES {
            g.throughput(Throughput::Bytes(s as u64));
            g.bench_with_input(BenchmarkId::new("get_to_vec", s), &s, |b, &s| {
                b.iter(|| {
                    sym.get(0, 0, black_box(&mut local[..s])).unwrap();
                })
            });
            g.bench_with_input(BenchmarkId::new("get_to_page_aligned", s), &s, |b, &s| {
                b.iter(|| {
                    sym.get(0, 0, black_box(&mut aligned.as_mut_slice()[..s]))
                        .unwrap();
                })
            });
        }
        g.finish();
    }
    {
        let mut g = c.benchmark_group("amo_u64");
        g.bench_function("fetch_add", |b| {
            b.iter(|| word.fetch_add(black_box(0), 1).unwrap())
        });
        g.bench_function("add", |b| b.iter(|| word.add(black_box(0), 1).unwrap()));
        g.bench_function("fetch", |b| b.iter(|| word.fetch(black_box(0)).unwrap()));
        g.bench_function("swap", |b| b.iter(|| word.swap(black_box(0), 7).unwrap()));
        g.bench_function("compare_swap", |b| {
            b.iter(|| word.compare_swap(black_box(0), 7, 7).unwrap())
        });
        let plain = AtomicU64::new(0);
        g.bench_function("cpu_fetch_add_baseline", |b| {
            b.iter(|| black_box(&plain).fetch_add(1, Ordering::SeqCst))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("sync");
        g.bench_function("quiet", |b| b.iter(|| shmem.quiet()));
        g.bench_function("barrier_all_1pe", |b| b.iter(|| shmem.barrier_all()));
        g.finish();
    }
    c.final_summary();
    drop(word);
    drop(sym);
    shmem.finalize();
}
