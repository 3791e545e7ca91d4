//! The C type classes of the API, one table each: every typed routine is generated from
//! these tables, and `capi/tests/tables.rs` checks them entry by entry against the X-macro
//! tables of `shmem.h` (`RSHMEM_RMA_TYPES`, `RSHMEM_AMO_*_TYPES`, `RSHMEM_P2P_TYPES`,
//! `RSHMEM_REDUCE_*_TYPES`), which declare the routines (and through `gen-pshmem-h.sh`,
//! `pshmem.h`; the C++ overloads of `shmem_cxx.h` are generated from them too).
//!
//! Each table is a macro `for_X_types!(callback, args...)` that expands to
//! `callback!(args... TYPENAME: RustType = "C type", ...)`, in the order of the header's
//! table. This file uses nothing from the crate (the types are only tokens until a
//! callback uses them), so the test compiles it as well (`#[path]`) for the name lists.

/// The standard RMA types that pass by value (`shmem_TYPE_p/g` are exported for these;
/// `RSHMEM_RMA_TYPES_BYVALUE`).
#[allow(unused_macros)]
macro_rules! for_rma_types_byvalue {
    ($m:ident, $($args:tt)*) => {
        $m! { $($args)*
            float: c_float = "float",
            double: c_double = "double",
            char: c_char = "char",
            schar: c_schar = "signed char",
            short: c_short = "short",
            int: c_int = "int",
            long: c_long = "long",
            longlong: c_longlong = "long long",
            uchar: c_uchar = "unsigned char",
            ushort: c_ushort = "unsigned short",
            uint: c_uint = "unsigned int",
            ulong: c_ulong = "unsigned long",
            ulonglong: c_ulonglong = "unsigned long long",
            int8: i8 = "int8_t",
            int16: i16 = "int16_t",
            int32: i32 = "int32_t",
            int64: i64 = "int64_t",
            uint8: u8 = "uint8_t",
            uint16: u16 = "uint16_t",
            uint32: u32 = "uint32_t",
            uint64: u64 = "uint64_t",
            size: usize = "size_t",
            ptrdiff: isize = "ptrdiff_t",
        }
    };
}

/// All 24 standard RMA types (`RSHMEM_RMA_TYPES`: the by-value ones + `long double`); also
/// the types of the team data collectives.
macro_rules! for_rma_types {
    ($m:ident, $($args:tt)*) => {
        for_rma_types_byvalue! { for_rma_types, @append [$m] [$($args)*] }
    };
    (@append [$m:ident] [$($args:tt)*] $($e:tt)*) => {
        $m! { $($args)* $($e)* longdouble: LongDouble = "long double", }
    };
}

/// The standard AMO types' entries (`RSHMEM_AMO_STANDARD_TYPES`), after `$pre`.
macro_rules! amo_standard_entries {
    ($m:ident, [$($args:tt)*] $($pre:tt)*) => {
        $m! { $($args)* $($pre)*
            int: c_int = "int",
            long: c_long = "long",
            longlong: c_longlong = "long long",
            uint: c_uint = "unsigned int",
            ulong: c_ulong = "unsigned long",
            ulonglong: c_ulonglong = "unsigned long long",
            int32: i32 = "int32_t",
            int64: i64 = "int64_t",
            uint32: u32 = "uint32_t",
            uint64: u64 = "uint64_t",
            size: usize = "size_t",
            ptrdiff: isize = "ptrdiff_t",
        }
    };
}

/// Standard AMO types (`RSHMEM_AMO_STANDARD_TYPES`).
macro_rules! for_amo_standard_types {
    ($m:ident, $($args:tt)*) => { amo_standard_entries! { $m, [$($args)*] } };
}

/// Extended AMO types: `float`, `double` and the standard ones (`RSHMEM_AMO_EXTENDED_TYPES`).
macro_rules! for_amo_extended_types {
    ($m:ident, $($args:tt)*) => {
        amo_standard_entries! { $m, [$($args)*] float: c_float = "float", double: c_double = "double", }
    };
}

/// Point-to-point synchronization types: `short`, `unsigned short` and the standard AMO
/// types (`RSHMEM_P2P_TYPES`).
macro_rules! for_p2p_types {
    ($m:ident, $($args:tt)*) => {
        amo_standard_entries! { $m, [$($args)*] short: c_short = "short", ushort: c_ushort = "unsigned short", }
    };
}

/// Bitwise AMO types (`RSHMEM_AMO_BITWISE_TYPES`).
#[allow(unused_macros)]
macro_rules! for_amo_bitwise_types {
    ($m:ident, $($args:tt)*) => {
        $m! { $($args)*
            uint: c_uint = "unsigned int",
            ulong: c_ulong = "unsigned long",
            ulonglong: c_ulonglong = "unsigned long long",
            int32: i32 = "int32_t",
            int64: i64 = "int64_t",
            uint32: u32 = "uint32_t",
            uint64: u64 = "uint64_t",
        }
    };
}

/// Types of the bitwise reductions `and/or/xor` (`RSHMEM_REDUCE_BITWISE_TYPES`).
#[allow(unused_macros)]
macro_rules! for_reduce_bitwise_types {
    ($m:ident, $($args:tt)*) => {
        $m! { $($args)*
            uchar: c_uchar = "unsigned char",
            ushort: c_ushort = "unsigned short",
            uint: c_uint = "unsigned int",
            ulong: c_ulong = "unsigned long",
            ulonglong: c_ulonglong = "unsigned long long",
            int8: i8 = "int8_t",
            int16: i16 = "int16_t",
            int32: i32 = "int32_t",
            int64: i64 = "int64_t",
            uint8: u8 = "uint8_t",
            uint16: u16 = "uint16_t",
            uint32: u32 = "uint32_t",
            uint64: u64 = "uint64_t",
            size: usize = "size_t",
        }
    };
}

/// Types of the arithmetic reductions `max/min/sum/prod` and the scans
/// (`RSHMEM_REDUCE_MINMAX_TYPES`; `long double` and the complex types are separate).
#[allow(unused_macros)]
macro_rules! for_reduce_minmax_types {
    ($m:ident, $($args:tt)*) => {
        $m! { $($args)*
            char: c_char = "char",
            schar: c_schar = "signed char",
            short: c_short = "short",
            int: c_int = "int",
            long: c_long = "long",
            longlong: c_longlong = "long long",
            ptrdiff: isize = "ptrdiff_t",
            uchar: c_uchar = "unsigned char",
            ushort: c_ushort = "unsigned short",
            uint: c_uint = "unsigned int",
            ulong: c_ulong = "unsigned long",
            ulonglong: c_ulonglong = "unsigned long long",
            int8: i8 = "int8_t",
            int16: i16 = "int16_t",
            int32: i32 = "int32_t",
            int64: i64 = "int64_t",
            uint8: u8 = "uint8_t",
            uint16: u16 = "uint16_t",
            uint32: u32 = "uint32_t",
            uint64: u64 = "uint64_t",
            size: usize = "size_t",
            float: c_float = "float",
            double: c_double = "double",
        }
    };
}

/// Types of the deprecated integer `shmem_TYPE_{and,or,xor}_to_all` (`RSHMEM_TO_ALL_INT`).
macro_rules! for_to_all_int_types {
    ($m:ident, $($args:tt)*) => { to_all_entries! { $m, [$($args)*] } };
}

/// Types of the deprecated `shmem_TYPE_{max,min,sum,prod}_to_all`: the integer ones, `float`
/// and `double` (`RSHMEM_TO_ALL_REAL`; the complex `sum`/`prod` are separate).
macro_rules! for_to_all_real_types {
    ($m:ident, $($args:tt)*) => {
        to_all_entries! { $m, [$($args)*] float: c_float = "float", double: c_double = "double", }
    };
}

/// The integer `_to_all` entries, then `$post`.
macro_rules! to_all_entries {
    ($m:ident, [$($args:tt)*] $($post:tt)*) => {
        $m! { $($args)*
            short: c_short = "short",
            int: c_int = "int",
            long: c_long = "long",
            longlong: c_longlong = "long long",
            $($post)*
        }
    };
}

/// `(C type, TYPENAME)` of each entry, as a slice.
macro_rules! names {
    ($($n:ident: $t:ty = $c:literal),* $(,)?) => { &[$(($c, stringify!($n))),*] };
}

/// The tables as data, `(C type, TYPENAME)` in table order, for the header checks.
#[doc(hidden)]
#[allow(dead_code)]
pub mod names {
    /// `for_rma_types_byvalue!` / `RSHMEM_RMA_TYPES_BYVALUE`.
    pub const RMA_TYPES_BYVALUE: &[(&str, &str)] = for_rma_types_byvalue!(names,);
    /// `for_rma_types!` / `RSHMEM_RMA_TYPES`.
    pub const RMA_TYPES: &[(&str, &str)] = for_rma_types!(names,);
    /// `for_amo_standard_types!` / `RSHMEM_AMO_STANDARD_TYPES`.
    pub const AMO_STANDARD_TYPES: &[(&str, &str)] = for_amo_standard_types!(names,);
    /// `for_amo_extended_types!` / `RSHMEM_AMO_EXTENDED_TYPES`.
    pub const AMO_EXTENDED_TYPES: &[(&str, &str)] = for_amo_extended_types!(names,);
    /// `for_amo_bitwise_types!` / `RSHMEM_AMO_BITWISE_TYPES`.
    pub const AMO_BITWISE_TYPES: &[(&str, &str)] = for_amo_bitwise_types!(names,);
    /// `for_p2p_types!` / `RSHMEM_P2P_TYPES`.
    pub const P2P_TYPES: &[(&str, &str)] = for_p2p_types!(names,);
    /// `for_reduce_bitwise_types!` / `RSHMEM_REDUCE_BITWISE_TYPES`.
    pub const REDUCE_BITWISE_TYPES: &[(&str, &str)] = for_reduce_bitwise_types!(names,);
    /// `for_reduce_minmax_types!` / `RSHMEM_REDUCE_MINMAX_TYPES`.
    pub const REDUCE_MINMAX_TYPES: &[(&str, &str)] = for_reduce_minmax_types!(names,);
    /// `for_to_all_int_types!` / `RSHMEM_TO_ALL_INT` (its X takes a third argument, OP).
    pub const TO_ALL_INT_TYPES: &[(&str, &str)] = for_to_all_int_types!(names,);
    /// `for_to_all_real_types!` / `RSHMEM_TO_ALL_REAL` (X(TYPE, TYPENAME, OP)).
    pub const TO_ALL_REAL_TYPES: &[(&str, &str)] = for_to_all_real_types!(names,);

    /// Every table with the name of its `shmem.h` macro.
    pub const ALL: &[(&str, &[(&str, &str)])] = &[
        ("RSHMEM_RMA_TYPES_BYVALUE", RMA_TYPES_BYVALUE),
        ("RSHMEM_RMA_TYPES", RMA_TYPES),
        ("RSHMEM_AMO_STANDARD_TYPES", AMO_STANDARD_TYPES),
        ("RSHMEM_AMO_EXTENDED_TYPES", AMO_EXTENDED_TYPES),
        ("RSHMEM_AMO_BITWISE_TYPES", AMO_BITWISE_TYPES),
        ("RSHMEM_P2P_TYPES", P2P_TYPES),
        ("RSHMEM_REDUCE_BITWISE_TYPES", REDUCE_BITWISE_TYPES),
        ("RSHMEM_REDUCE_MINMAX_TYPES", REDUCE_MINMAX_TYPES),
        ("RSHMEM_TO_ALL_INT", TO_ALL_INT_TYPES),
        ("RSHMEM_TO_ALL_REAL", TO_ALL_REAL_TYPES),
    ];
}
