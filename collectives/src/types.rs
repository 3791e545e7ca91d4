//! Reduction operators and the element types they apply to.

/// A reduction operator (OpenSHMEM `and`, `or`, `xor`, `max`, `min`, `sum`, `prod`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Bitwise and (integers).
    And,
    /// Bitwise or (integers).
    Or,
    /// Bitwise exclusive or (integers).
    Xor,
    /// Maximum (integers, floating point).
    Max,
    /// Minimum (integers, floating point).
    Min,
    /// Sum (every type; integers wrap).
    Sum,
    /// Product (every type; integers wrap).
    Prod,
}

impl Op {
    /// Every operator.
    pub const ALL: [Op; 7] = [
        Op::And,
        Op::Or,
        Op::Xor,
        Op::Max,
        Op::Min,
        Op::Sum,
        Op::Prod,
    ];
}

/// A complex number laid out as C's `_Complex` (real part first).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Complex<T> {
    /// Real part.
    pub re: T,
    /// Imaginary part.
    pub im: T,
}

mod sealed {
    pub trait Sealed {}
}

/// An element type the reductions and scans work on.
///
/// Sealed: every implementor is plain old data with no padding and no invalid bit pattern,
/// which is what lets the algorithms move elements as bytes.
pub trait Reducible: sealed::Sealed + Copy + Default + PartialEq + Send + Sync + 'static {
    /// Whether `op` is defined for this type (bitwise ops: integers only; max/min: not
    /// complex).
    fn supports(op: Op) -> bool;
    /// The local step: `acc[i] = acc[i] op other[i]` for every `i`: a plain slice loop
    /// the compiler vectorizes. Panics if the lengths differ or `op` is unsupported.
    fn combine(op: Op, acc: &mut [Self], other: &[Self]);
}

#[inline(always)]
fn zip_apply<T: Copy>(acc: &mut [T], other: &[T], f: impl Fn(T, T) -> T) {
    assert_eq!(acc.len(), other.len(), "combine: length mismatch");
    for (a, b) in acc.iter_mut().zip(other) {
        *a = f(*a, *b);
    }
}

macro_rules! int_reducible {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Reducible for $t {
            fn supports(_: Op) -> bool {
                true
            }
            #[inline]
            fn combine(op: Op, acc: &mut [Self], other: &[Self]) {
                match op {
                    Op::And => zip_apply(acc, other, |a, b| a & b),
                    Op::Or => zip_apply(acc, other, |a, b| a | b),
                    Op::Xor => zip_apply(acc, other, |a, b| a ^ b),
                    Op::Max => zip_apply(acc, other, |a, b| a.max(b)),
                    Op::Min => zip_apply(acc, other, |a, b| a.min(b)),
                    Op::Sum => zip_apply(acc, other, |a, b| a.wrapping_add(b)),
                    Op::Prod => zip_apply(acc, other, |a, b| a.wrapping_mul(b)),
                }
            }
        }
    )*};
}
int_reducible!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

macro_rules! float_reducible {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Reducible for $t {
            fn supports(op: Op) -> bool {
                matches!(op, Op::Max | Op::Min | Op::Sum | Op::Prod)
            }
            #[inline]
            fn combine(op: Op, acc: &mut [Self], other: &[Self]) {
                match op {
                    Op::Max => zip_apply(acc, other, |a, b| if b > a { b } else { a }),
                    Op::Min => zip_apply(acc, other, |a, b| if b < a { b } else { a }),
                    Op::Sum => zip_apply(acc, other, |a, b| a + b),
                    Op::Prod => zip_apply(acc, other, |a, b| a * b),
                    _ => panic!("{op:?} is not defined for {}", stringify!($t)),
                }
            }
        }

        impl sealed::Sealed for Complex<$t> {}
        impl Reducible for Complex<$t> {
            fn supports(op: Op) -> bool {
                matches!(op, Op::Sum | Op::Prod)
            }
            #[inline]
            fn combine(op: Op, acc: &mut [Self], other: &[Self]) {
                match op {
                    Op::Sum => zip_apply(acc, other, |a, b| Complex { re: a.re + b.re, im: a.im + b.im }),
                    Op::Prod => zip_apply(acc, other, |a, b| Complex {
                        re: a.re * b.re - a.im * b.im,
                        im: a.re * b.im + a.im * b.re,
                    }),
                    _ => panic!("{op:?} is not defined for complex {}", stringify!($t)),
                }
            }
        }
    )*};
}
float_reducible!(f32, f64);

/// The bytes of a slice of elements.
pub(crate) fn as_bytes<T: Reducible>(s: &[T]) -> &[u8] {
    // SAFETY: `Reducible` is sealed and implemented only for primitive integers, floats and
    // `repr(C)` pairs of equal floats: no padding, so every byte is initialized.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

/// The bytes of a mutable slice of elements.
pub(crate) fn as_bytes_mut<T: Reducible>(s: &mut [T]) -> &mut [u8] {
    // SAFETY: as in `as_bytes`; moreover every bit pattern is a valid value of these types,
    // so any bytes written through the result leave valid elements.
    unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}
