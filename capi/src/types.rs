//! The C element types and how AMOs and waits see them: the same-sized transport word
//! (`u32`/`u64`), signedness for comparisons, and a bit-exact conversion (floats are
//! bit-cast, as the specification allows for fetch/set/swap).
use rshmem_transport::AmoWord;

/// A C type usable in atomics and point-to-point synchronization.
pub(crate) trait AmoType: Copy {
    /// The transport word of the same size.
    type Bits: AmoWord;
    /// Whether `SHMEM_CMP_*` comparisons are signed.
    const SIGNED: bool;
    /// The bits of `self`.
    fn to_bits(self) -> Self::Bits;
    /// The value with bits `b`.
    fn from_bits(b: Self::Bits) -> Self;
}

macro_rules! int_type {
    ($($t:ty => $bits:ty, $signed:expr);* $(;)?) => {$(
        impl AmoType for $t {
            type Bits = $bits;
            const SIGNED: bool = $signed;
            #[inline(always)]
            fn to_bits(self) -> $bits {
                self as $bits
            }
            #[inline(always)]
            fn from_bits(b: $bits) -> Self {
                b as $t
            }
        }
    )*};
}

int_type!(
    i32 => u32, true;
    u32 => u32, false;
    i64 => u64, true;
    u64 => u64, false;
    isize => u64, true;
    usize => u64, false;
);

impl AmoType for f32 {
    type Bits = u32;
    const SIGNED: bool = false;
    #[inline(always)]
    fn to_bits(self) -> u32 {
        f32::to_bits(self)
    }
    #[inline(always)]
    fn from_bits(b: u32) -> Self {
        f32::from_bits(b)
    }
}

impl AmoType for f64 {
    type Bits = u64;
    const SIGNED: bool = false;
    #[inline(always)]
    fn to_bits(self) -> u64 {
        f64::to_bits(self)
    }
    #[inline(always)]
    fn from_bits(b: u64) -> Self {
        f64::from_bits(b)
    }
}

const _: () = assert!(
    core::mem::size_of::<usize>() == 8,
    "rshmem-capi assumes LP64"
);

/// C `long double` (x86_64 and aarch64 Linux: 16 bytes); only moved as bytes.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default)]
pub(crate) struct LongDouble(pub [u8; 16]);
