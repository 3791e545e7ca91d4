//! Address translation: `Runtime::translate` (local address -> segment + offset) and
//! `Runtime::remote` (+ PE check, -> the peer's address), on a singleton runtime (PE 0 of 1).
//!
//! `cargo bench -p rshmem-benches --bench translate`
use criterion::{black_box, Criterion};
use std::time::Duration;

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20)
        .configure_from_args()
}

fn main() {
    // 64 MiB heap per PE (lazily backed either way; small keeps /dev/shm usage low).
    std::env::set_var("SHMEM_SYMMETRIC_SIZE", "64M");
    let shmem = rshmem::init().expect("rshmem::init (singleton)");
    let rt = shmem.runtime();
    let v = shmem.alloc_slice::<u64>(1024).expect("alloc");
    let addr = v.as_ptr() as usize;
    let (heap_base, heap_len) = rt.heap_range();
    let last = heap_base + heap_len - 8;
    let outside = &addr as *const usize as usize; // a stack address: not symmetric

    let mut c = config();
    {
        let mut g = c.benchmark_group("translate");
        g.bench_function("first_word", |b| {
            b.iter(|| match rt.translate(black_box(addr), black_box(8)) {
                Ok((seg, off)) => seg + off,
                Err(_) => 0,
            })
        });
        g.bench_function("last_word_of_heap", |b| {
            b.iter(|| match rt.translate(black_box(last), black_box(8)) {
                Ok((seg, off)) => seg + off,
                Err(_) => 0,
            })
        });
        g.bench_function("not_symmetric_error", |b| {
            b.iter(|| rt.translate(black_box(outside), black_box(8)).is_err())
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("remote");
        // the hot path consumes the Ok value in place (as `Runtime::put` does), so do the same
        // instead of handing criterion the whole Result (which is as large as `Error`)
        g.bench_function("pe0_8B", |b| {
            b.iter(
                || match rt.remote(black_box(addr), black_box(8), black_box(0)) {
                    Ok(r) => r.addr,
                    Err(_) => 0,
                },
            )
        });
        g.bench_function("pe0_1MiB_range", |b| {
            b.iter(
                || match rt.remote(black_box(heap_base), black_box(1 << 20), black_box(0)) {
                    Ok(r) => r.addr,
                    Err(_) => 0,
                },
            )
        });
        g.bench_function("pe_out_of_range_error", |b| {
            b.iter(|| {
                rt.remote(black_box(addr), black_box(8), black_box(7))
                    .is_err()
            })
        });
        g.bench_function("ptr_pe0", |b| {
            b.iter(|| rt.ptr(black_box(addr), black_box(0)))
        });
        g.finish();
    }
    c.final_summary();
    drop(v);
    shmem.finalize();
}
