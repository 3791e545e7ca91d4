//! Exports the weak `shmem_*` trampolines from the shared library.
//!
//! Every C routine is a Rust `#[no_mangle] extern "C" fn pshmem_*` (exported by rustc); the
//! `shmem_*` names are weak trampolines emitted with `global_asm!` (see `src/weak.rs`).
//! rustc's version script for a cdylib lists only Rust items, so a second, anonymous
//! version script adds `shmem_*` to the dynamic symbol table.
//! `-Bsymbolic-functions` makes the trampolines' jumps direct.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let map = out.join("shmem-weak.map");
    std::fs::write(&map, "{\n  global:\n    shmem_*;\n};\n").expect("write version script");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
            map.display()
        );
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librshmem.so");
        // The weak `shmem_x` trampolines jump to `pshmem_x@PLT`; binding the library's own
        // function references at link time makes that a direct jump (one indirect branch
        // less per call). Programs and tools still interpose `shmem_x` as before: their
        // definitions win for their own references, and nothing inside the library calls
        // a `shmem_x` name.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-Bsymbolic-functions");
    }
}
