//! The symmetric heap allocator (`rshmem::heap::HeapAllocator`, offsets only) and the
//! collective `alloc_slice`/drop round trip through the safe API on a singleton runtime.
//!
//! `cargo bench -p rshmem-benches --bench heap`
use criterion::{black_box, BatchSize, BenchmarkId, Criterion};
use rshmem::heap::HeapAllocator;
use std::time::Duration;

const HEAP: usize = 512 << 20;

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20)
        .configure_from_args()
}

/// A heap with `live` blocks of 64 B where every other block was freed: `live / 2` free
/// holes of 64 B before the big free tail (a first-fit scan over them for larger requests).
fn fragmented(live: usize) -> HeapAllocator {
    let mut h = HeapAllocator::new(HEAP);
    let offs: Vec<usize> = (0..live).map(|_| h.alloc(64, 16).unwrap()).collect();
    for o in offs.iter().step_by(2) {
        h.free(*o).unwrap();
    }
    h
}

fn allocator(c: &mut Criterion) {
    let mut g = c.benchmark_group("heap_allocator");
    // alloc + free of one block on an empty heap (the common short-lived object)
    for size in [8usize, 4096, 1 << 20] {
        g.bench_with_input(
            BenchmarkId::new("alloc_free_empty", size),
            &size,
            |b, &s| {
                let mut h = HeapAllocator::new(HEAP);
                b.iter(|| {
                    let o = h.alloc(black_box(s), 16).unwrap();
                    h.free(o).unwrap();
                })
            },
        );
    }
    g.bench_function("alloc_free_4096_aligned_4096", |b| {
        let mut h = HeapAllocator::new(HEAP);
        h.alloc(24, 16).unwrap(); // so the next 4096-aligned start needs a front split
        b.iter(|| {
            let o = h.alloc(black_box(4096), 4096).unwrap();
            h.free(o).unwrap();
        })
    });
    // 100 allocations then 100 frees, LIFO and FIFO (coalescing with both neighbours)
    g.bench_function("alloc100_free100_lifo_64B", |b| {
        let mut h = HeapAllocator::new(HEAP);
        let mut offs = Vec::with_capacity(100);
        b.iter(|| {
            for _ in 0..100 {
                offs.push(h.alloc(64, 16).unwrap());
            }
            while let Some(o) = offs.pop() {
                h.free(o).unwrap();
            }
        })
    });
    g.bench_function("alloc100_free100_fifo_64B", |b| {
        let mut h = HeapAllocator::new(HEAP);
        let mut offs = Vec::with_capacity(100);
        b.iter(|| {
            for _ in 0..100 {
                offs.push(h.alloc(64, 16).unwrap());
            }
            for o in offs.drain(..) {
                h.free(o).unwrap();
            }
        })
    });
    // first fit over many small holes: a request no hole can hold scans all of them
    for live in [100usize, 1000, 10_000] {
        g.bench_with_input(
            BenchmarkId::new("alloc_free_128B_past_64B_holes", live / 2),
            &live,
            |b, &live| {
                let mut h = fragmented(live);
                b.iter(|| {
                    let o = h.alloc(black_box(128), 16).unwrap();
                    h.free(o).unwrap();
                })
            },
        );
    }
    // a request that fits the first hole
    g.bench_function("alloc_free_64B_first_hole_of_5000", |b| {
        let mut h = fragmented(10_000);
        b.iter(|| {
            let o = h.alloc(black_box(64), 16).unwrap();
            h.free(o).unwrap();
        })
    });
    g.bench_function("realloc_grow_shrink_4K_64K", |b| {
        b.iter_batched(
            || {
                let mut h = HeapAllocator::new(HEAP);
                let o = h.alloc(4096, 16).unwrap();
                (h, o)
            },
            |(mut h, o)| {
                let (o, _) = h.realloc(o, 65536).unwrap();
                let (o, _) = h.realloc(o, 4096).unwrap();
                h.free(o).unwrap();
                h
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn collective(c: &mut Criterion, shmem: &rshmem::Shmem) {
    let mut g = c.benchmark_group("shmem_alloc_slice");
    // alloc_slice (zeroed) + drop: heap lock, memset, two barrier_all (1 PE: no partner)
    for size in [64usize, 4096, 1 << 20] {
        g.bench_with_input(BenchmarkId::new("alloc_drop", size), &size, |b, &s| {
            b.iter(|| drop(shmem.alloc_slice::<u8>(black_box(s)).unwrap()))
        });
    }
    g.finish();
}

fn main() {
    std::env::set_var("SHMEM_SYMMETRIC_SIZE", "64M");
    let shmem = rshmem::init().expect("rshmem::init (singleton)");
    let mut c = config();
    allocator(&mut c);
    collective(&mut c, &shmem);
    c.final_summary();
    shmem.finalize();
}
