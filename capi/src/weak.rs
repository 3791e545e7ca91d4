//! Weak `shmem_*` names over the `pshmem_*` implementations (the profiling interface).
//!
//! Stable Rust cannot emit weak symbols, and an assembler alias (`.set shmem_x, pshmem_x`)
//! only works when both land in the same object, which codegen-unit partitioning does not
//! promise. So each `shmem_x` is a weak one-instruction trampoline written with
//! `global_asm!` — a tail jump to `pshmem_x`, which leaves every argument register and the
//! stack untouched and therefore fits any signature. A tool that defines its own `shmem_x`
//! wins over the weak one (static linking) or interposes it (dynamic linking) and reaches
//! the library through `pshmem_x`. `build.rs` adds `shmem_*` to the shared library's
//! exported symbols.

/// Emits a weak `shmem_<name>` trampoline to `pshmem_<name>` for each name.
#[macro_export]
#[doc(hidden)]
macro_rules! weak {
    ($($name:ident),* $(,)?) => { $( $crate::weak_one!($name); )* };
}

#[cfg(target_arch = "x86_64")]
#[macro_export]
#[doc(hidden)]
macro_rules! weak_one {
    ($name:ident) => {
        core::arch::global_asm!(
            concat!(
                ".pushsection .text.shmem_",
                stringify!($name),
                ",\"ax\",@progbits"
            ),
            concat!(".weak shmem_", stringify!($name)),
            concat!(".type shmem_", stringify!($name), ",@function"),
            ".p2align 4",
            concat!("shmem_", stringify!($name), ":"),
            concat!("jmp pshmem_", stringify!($name), "@PLT"),
            concat!(
                ".size shmem_",
                stringify!($name),
                ", .-shmem_",
                stringify!($name)
            ),
            ".popsection",
        );
    };
}

#[cfg(target_arch = "aarch64")]
#[macro_export]
#[doc(hidden)]
macro_rules! weak_one {
    ($name:ident) => {
        core::arch::global_asm!(
            concat!(
                ".pushsection .text.shmem_",
                stringify!($name),
                ",\"ax\",@progbits"
            ),
            concat!(".weak shmem_", stringify!($name)),
            concat!(".type shmem_", stringify!($name), ",%function"),
            ".p2align 2",
            concat!("shmem_", stringify!($name), ":"),
            concat!("b pshmem_", stringify!($name)),
            concat!(
                ".size shmem_",
                stringify!($name),
                ", .-shmem_",
                stringify!($name)
            ),
            ".popsection",
        );
    };
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("rshmem-capi: weak shmem_* trampolines are written for x86_64 and aarch64 only");
