//! The scalar float types the operators are generic over: `f32` (smash's precision) and `f64`.

use core::fmt::{Debug, Display};
use core::iter::Sum;
use core::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A scalar float: `f32` or `f64`. One blanket alias for the bounds the kernels need, like argmin's `ArgminFloat`.
pub trait Real:
    Copy
    + Send
    + Sync
    + Default
    + Debug
    + Display
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
    + 'static
{
    const ZERO: Self;
    const ONE: Self;
    /// Name of the type as written in outputs (`"f32"`, `"f64"`).
    const NAME: &'static str;

    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn sqrt(self) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn powf(self, e: Self) -> Self;
    fn abs(self) -> Self;
    fn min(self, o: Self) -> Self;
    fn max(self, o: Self) -> Self;
    fn is_finite(self) -> bool;
    /// `tanh(x)`; for `f32` a rational approximation that vectorises (max error about 2 ulp, see
    /// [`crate::lanes::tanh_f32`]), for `f64` the libm function.
    fn tanh(self) -> Self;
    /// `self · a + b` with one rounding (a fused multiply-add, as smash's compiled Fortran contracts
    /// these expressions; a software routine where the CPU has no FMA).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `(n, d)` with `tanh(x) = n / d`, so that a formula dividing by an expression of `tanh` can fold
    /// the two divisions into one: for `f32` the two polynomials of [`Real::tanh`], for `f64` `(tanh, 1)`.
    fn tanh_ratio(self) -> (Self, Self);
}

macro_rules! impl_real {
    ($t:ty, $name:literal, $tanh:expr, $ratio:expr) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAME: &'static str = $name;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn powf(self, e: Self) -> Self {
                <$t>::powf(self, e)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn min(self, o: Self) -> Self {
                if o < self { o } else { self }
            }
            #[inline(always)]
            fn max(self, o: Self) -> Self {
                if o > self { o } else { self }
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
            #[inline(always)]
            fn tanh_ratio(self) -> (Self, Self) {
                $ratio(self)
            }
        }
    };
}

impl_real!(f32, "f32", crate::lanes::tanh_f32, crate::lanes::tanh_ratio_f32);
impl_real!(f64, "f64", f64::tanh, |x: f64| (x.tanh(), 1.0));
