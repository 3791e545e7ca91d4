//! `rshmem-osu`: the former name of `rshmem-bench`, kept so that existing scripts work. The
//! same program (see `rshmem-bench/main.rs`).
#[path = "rshmem-bench/main.rs"]
mod bench;

fn main() {
    bench::main()
}
