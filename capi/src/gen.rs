//! The routine generators shared by every typed family: [`c_fn!`] defines one C routine
//! (`pshmem_x`, its weak `shmem_x` and its signature record) and [`ctx_and_default!`] the
//! context form `shmem_ctx_x` together with `shmem_x`, which *is* the context form on
//! `SHMEM_CTX_DEFAULT`: the same body with `ctx` the constant default handle. `ctx_pe`
//! is `#[inline(always)]` and matches on the handle, so for the constant it folds to the
//! PE itself: the default form costs nothing over a hand-written one.
//!
//! **Signature records.** Each routine leaves `name(param types)return type` (the Rust
//! types as written, e.g. `int_put(*mut c_int,*const c_int,usize,c_int)`) in the section
//! `.rshmem_sigs` of the library, a non-allocated section (not loaded at run time, like
//! `.comment`). `capi/tests/tables.rs` reads it from `librshmem.so`, turns each record into a
//! C function-pointer type and compiles `RET (*p)(ARGS) = shmem_x;` (and `pshmem_x`) against
//! `shmem.h`/`pshmem.h` with `-Werror`: a header declaration that drifts from the Rust
//! definition does not compile.

/// Defines `pshmem_<name>` (`extern "C"`, `#[no_mangle]`), its weak `shmem_<name>` and its
/// signature record. `$w` is bound to `"shmem_<name>"` inside the body.
macro_rules! c_fn {
    // `safe`: a routine that Rust code may call without `unsafe` (no pointer contract).
    (safe $w:ident; $name:ident ($($p:ident: $pt:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        paste::paste! {
            #[no_mangle]
            pub extern "C" fn [<pshmem_ $name>]($($p: $pt),*) $(-> $ret)? {
                #[allow(dead_code)]
                const $w: &str = concat!("shmem_", stringify!($name));
                $body
            }
        }
        weak!($name);
        c_sig!($name ($($pt),*) $($ret)?);
    };
    ($w:ident; $name:ident ($($p:ident: $pt:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        paste::paste! {
            // The one place (with `c_export!` below) where long parameter lists are
            // allowed: a C routine's arity is fixed by the OpenSHMEM API (`shmem_ctx_TYPE_ibput`
            // takes 8, `shmem_TYPE_sum_to_all` 8). Rust-side helpers take parameter structs.
            #[allow(clippy::too_many_arguments)]
            #[no_mangle]
            pub unsafe extern "C" fn [<pshmem_ $name>]($($p: $pt),*) $(-> $ret)? {
                #[allow(dead_code)]
                const $w: &str = concat!("shmem_", stringify!($name));
                $body
            }
        }
        weak!($name);
        c_sig!($name ($($pt),*) $($ret)?);
    };
}

/// Defines `shmem_ctx_<name>(ctx, ...)` and `shmem_<name>(...)` from one body, which uses
/// `$ctx` (the context) and `$w` (the routine's name, for messages).
macro_rules! ctx_and_default {
    ($ctx:ident, $w:ident; $name:ident ($($p:ident: $pt:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        paste::paste! {
            c_fn!($w; [<ctx_ $name>] ($ctx: CtxHandle, $($p: $pt),*) $(-> $ret)? $body);
            c_fn!($w; $name ($($p: $pt),*) $(-> $ret)? {
                let $ctx: CtxHandle = $crate::ctx::SHMEM_CTX_DEFAULT;
                $body
            });
        }
    };
}

/// Defines a C routine under its own name, without a profiling pair (the `shmemx_`
/// extensions, the pre-1.2 names, the header's internal `rshmem_` entry points), and its
/// signature record (`=name(...)`).
macro_rules! c_export {
    (unsafe $name:ident ($($p:ident: $pt:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        // A C signature fixed by the API or the header (see `c_fn!`).
        #[allow(clippy::too_many_arguments)]
        #[no_mangle]
        pub unsafe extern "C" fn $name($($p: $pt),*) $(-> $ret)? $body
        c_sig!(= $name ($($pt),*) $($ret)?);
    };
    ($name:ident ($($p:ident: $pt:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        #[no_mangle]
        pub extern "C" fn $name($($p: $pt),*) $(-> $ret)? $body
        c_sig!(= $name ($($pt),*) $($ret)?);
    };
}

/// The signature record of `$name` (see the module documentation); `= name` marks a routine
/// without a `pshmem_`/`shmem_` pair.
macro_rules! c_sig {
    (= $name:ident ($($pt:ty),*) $($ret:ty)?) => {
        core::arch::global_asm!(
            ".pushsection .rshmem_sigs,\"\",@progbits",
            concat!(
                ".asciz \"=",
                stringify!($name),
                "(",
                $(stringify!($pt), ",",)*
                ")",
                $(stringify!($ret),)?
                "\""
            ),
            ".popsection",
        );
    };
    ($name:ident ($($pt:ty),*) $($ret:ty)?) => {
        core::arch::global_asm!(
            ".pushsection .rshmem_sigs,\"\",@progbits",
            concat!(
                ".asciz \"",
                stringify!($name),
                "(",
                $(stringify!($pt), ",",)*
                ")",
                $(stringify!($ret),)?
                "\""
            ),
            ".popsection",
        );
    };
}
