//! The local combine step of reductions (`Reducible::combine`: `acc[i] = acc[i] op in[i]`),
//! which every reduction algorithm runs once per received message: sum of f64 and i64,
//! max of u32, and complex f64 product, from 8 B to 1 MiB. Throughput in bytes of `acc`.
use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use rshmem_collectives::{Complex, Op, Reducible};

fn bench<T: Reducible + Copy + Default>(c: &mut Criterion, name: &str, op: Op, one: T) {
    let mut g = c.benchmark_group(format!("combine_{name}"));
    for bytes in [8usize, 1 << 10, 64 << 10, 1 << 20] {
        let n = (bytes / std::mem::size_of::<T>()).max(1);
        let mut acc = vec![one; n];
        let input = vec![one; n];
        g.throughput(Throughput::Bytes((n * std::mem::size_of::<T>()) as u64));
        g.bench_with_input(BenchmarkId::from_parameter(bytes), &bytes, |b, _| {
            b.iter(|| T::combine(op, black_box(&mut acc), black_box(&input)))
        });
    }
    g.finish();
}

fn combine(c: &mut Criterion) {
    bench::<f64>(c, "f64_sum", Op::Sum, 1.0);
    bench::<i64>(c, "i64_sum", Op::Sum, 1);
    bench::<u32>(c, "u32_max", Op::Max, 7);
    bench::<Complex<f64>>(
        c,
        "complex_f64_prod",
        Op::Prod,
        Complex { re: 1.0, im: 0.0 },
    );
}

/// What `criterion_group!`/`criterion_main!` would generate, without their undocumented
/// `pub fn`s.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    combine(&mut c);
    c.final_summary();
}
