//! Lane types: the operators are written once over [`Lane`], which is either a scalar [`Real`] or a
//! [`Pack`] of `L` cells processed together. Every `Pack` operation is a plain loop over lanes marked
//! `#[inline(always)]`, which LLVM turns into SIMD instructions when the caller is compiled with the
//! right target features (see [`crate::simulation`] for the run-time dispatch).
//!
//! Branches of the equations (missing data, `max(0, ·)`) are written as [`Lane::select`], so a pack
//! evaluates both sides and blends: the result of each lane is the scalar result.

// Lane loops index several arrays at once, and the tanh coefficients are written as published.
#![allow(clippy::needless_range_loop, clippy::excessive_precision)]

use crate::real::Real;
use core::ops::{Add, Div, Mul, Sub};

/// One value per lane, with the arithmetic the GR operators need.
pub trait Lane:
    Copy + Send + Sync + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    type Scalar: Real;
    type Mask: Copy;
    /// Number of lanes.
    const WIDTH: usize;

    fn splat(x: Self::Scalar) -> Self;
    fn from_slice(s: &[Self::Scalar]) -> Self;
    fn write_to(self, s: &mut [Self::Scalar]);
    fn lane(self, i: usize) -> Self::Scalar;
    fn min(self, o: Self) -> Self;
    fn max(self, o: Self) -> Self;
    fn sqrt(self) -> Self;
    /// `self · a + b`, fused (see [`Real::mul_add`]).
    fn mul_add(self, a: Self, b: Self) -> Self;
    fn tanh(self) -> Self;
    /// `(n, d)` with `tanh(self) = n / d` (see [`Real::tanh_ratio`]).
    fn tanh_ratio(self) -> (Self, Self);
    fn lt(self, o: Self) -> Self::Mask;
    fn gt(self, o: Self) -> Self::Mask;
    fn or(a: Self::Mask, b: Self::Mask) -> Self::Mask;
    /// Whether any lane of `m` is set.
    fn any(m: Self::Mask) -> bool;
    /// `m ? a : b`, lane by lane.
    fn select(m: Self::Mask, a: Self, b: Self) -> Self;
}

impl<T: Real> Lane for T {
    type Scalar = T;
    type Mask = bool;
    const WIDTH: usize = 1;

    #[inline(always)]
    fn splat(x: T) -> Self {
        x
    }
    #[inline(always)]
    fn from_slice(s: &[T]) -> Self {
        s[0]
    }
    #[inline(always)]
    fn write_to(self, s: &mut [T]) {
        s[0] = self;
    }
    #[inline(always)]
    fn lane(self, _: usize) -> T {
        self
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        Real::min(self, o)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        Real::max(self, o)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Real::sqrt(self)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        Real::mul_add(self, a, b)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        Real::tanh(self)
    }
    #[inline(always)]
    fn tanh_ratio(self) -> (Self, Self) {
        Real::tanh_ratio(self)
    }
    #[inline(always)]
    fn lt(self, o: Self) -> bool {
        self < o
    }
    #[inline(always)]
    fn gt(self, o: Self) -> bool {
        self > o
    }
    #[inline(always)]
    fn or(a: bool, b: bool) -> bool {
        a | b
    }
    #[inline(always)]
    fn any(m: bool) -> bool {
        m
    }
    #[inline(always)]
    fn select(m: bool, a: Self, b: Self) -> Self {
        if m { a } else { b }
    }
}

/// `L` lanes of `T`, one cell (or parameter set) per lane.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(transparent)]
pub struct Pack<T, const L: usize>(pub [T; L]);

macro_rules! pack_binop {
    ($tr:ident, $f:ident, $op:tt) => {
        impl<T: Real, const L: usize> $tr for Pack<T, L> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: Self) -> Self {
                let mut out = self.0;
                for i in 0..L {
                    out[i] = self.0[i] $op o.0[i];
                }
                Pack(out)
            }
        }
    };
}
pack_binop!(Add, add, +);
pack_binop!(Sub, sub, -);
pack_binop!(Mul, mul, *);
pack_binop!(Div, div, /);

impl<T: Real, const L: usize> Pack<T, L> {
    // Plain loops, not `core::array::from_fn`: that helper is not always inlined, and a call out of the
    // `#[target_feature]` kernel would run without AVX2.
    #[inline(always)]
    fn map(self, f: impl Fn(T) -> T) -> Self {
        let mut out = self.0;
        for v in &mut out {
            *v = f(*v);
        }
        Pack(out)
    }
    #[inline(always)]
    fn zip(self, o: Self, f: impl Fn(T, T) -> T) -> Self {
        let mut out = self.0;
        for i in 0..L {
            out[i] = f(self.0[i], o.0[i]);
        }
        Pack(out)
    }
    #[inline(always)]
    fn mask(self, o: Self, f: impl Fn(T, T) -> bool) -> [bool; L] {
        let mut out = [false; L];
        for i in 0..L {
            out[i] = f(self.0[i], o.0[i]);
        }
        out
    }
}

impl<T: Real, const L: usize> Lane for Pack<T, L> {
    type Scalar = T;
    type Mask = [bool; L];
    const WIDTH: usize = L;

    #[inline(always)]
    fn splat(x: T) -> Self {
        Pack([x; L])
    }
    #[inline(always)]
    fn from_slice(s: &[T]) -> Self {
        let mut out = [T::ZERO; L];
        out.copy_from_slice(&s[..L]);
        Pack(out)
    }
    #[inline(always)]
    fn write_to(self, s: &mut [T]) {
        s[..L].copy_from_slice(&self.0);
    }
    #[inline(always)]
    fn lane(self, i: usize) -> T {
        self.0[i]
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        self.zip(o, Real::min)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        self.zip(o, Real::max)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        self.map(Real::sqrt)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        let mut out = self.0;
        for i in 0..L {
            out[i] = Real::mul_add(self.0[i], a.0[i], b.0[i]);
        }
        Pack(out)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        self.map(Real::tanh)
    }
    #[inline(always)]
    fn tanh_ratio(self) -> (Self, Self) {
        let (mut n, mut d) = (self.0, self.0);
        for i in 0..L {
            (n[i], d[i]) = Real::tanh_ratio(self.0[i]);
        }
        (Pack(n), Pack(d))
    }
    #[inline(always)]
    fn lt(self, o: Self) -> [bool; L] {
        self.mask(o, |a, b| a < b)
    }
    #[inline(always)]
    fn gt(self, o: Self) -> [bool; L] {
        self.mask(o, |a, b| a > b)
    }
    #[inline(always)]
    fn or(a: [bool; L], b: [bool; L]) -> [bool; L] {
        let mut out = a;
        for i in 0..L {
            out[i] |= b[i];
        }
        out
    }
    #[inline(always)]
    fn any(m: [bool; L]) -> bool {
        m.iter().fold(false, |a, &b| a | b)
    }
    #[inline(always)]
    fn select(m: [bool; L], a: Self, b: Self) -> Self {
        let mut out = b.0;
        for i in 0..L {
            if m[i] {
                out[i] = a.0[i];
            }
        }
        Pack(out)
    }
}

/// `tanh(x)` in f32 as a branch-free rational approximation (odd degree-13 numerator over even
/// degree-6 denominator, input clamped to ±7.905 where tanh rounds to ±1), which vectorises.
/// Maximum error against libm is a few ulp over the whole range (tested below).
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let (p, q) = tanh_ratio_f32(x);
    p / q
}

/// The numerator and denominator of [`tanh_f32`], for callers that fold the division into their own.
#[inline(always)]
pub fn tanh_ratio_f32(x: f32) -> (f32, f32) {
    const CLAMP: f32 = 7.905_311;
    const A1: f32 = 4.893_524_6e-3;
    const A3: f32 = 6.372_619_3e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    const A9: f32 = -8.604_672e-11;
    const A11: f32 = 2.000_188e-13;
    const A13: f32 = -2.760_768_5e-16;
    const B0: f32 = 4.893_525e-3;
    const B2: f32 = 2.268_434_6e-3;
    const B4: f32 = 1.185_347e-4;
    const B6: f32 = 1.198_258_4e-6;
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let p = ((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * x;
    let q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0;
    (p, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_f32_is_within_a_few_ulp_of_libm() {
        let mut worst = 0.0f64;
        let mut x = 0.0f32;
        while x < 12.0 {
            let exact = (x as f64).tanh();
            let err = ((tanh_f32(x) as f64 - exact) / exact.max(1e-30)).abs();
            worst = worst.max(err);
            x = if x < 1e-3 { x + 1e-6 } else { x * 1.001 + 1e-7 };
        }
        assert!(worst < 5.0 * f32::EPSILON as f64, "worst relative error {worst:e}");
        assert_eq!(tanh_f32(0.0), 0.0);
        assert_eq!(tanh_f32(-0.5), -tanh_f32(0.5));
    }

    #[test]
    fn pack_lanes_equal_scalar_results() {
        let a = Pack([0.5f32, -1.0, 3.0, 0.0]);
        let b = Pack([1.0f32, -2.0, 2.0, 0.0]);
        assert_eq!(a.min(b).0, [0.5, -2.0, 2.0, 0.0]);
        assert_eq!(Pack::select(a.lt(b), a, b).0, [0.5, -2.0, 2.0, 0.0]);
        assert_eq!(a.tanh().lane(2), tanh_f32(3.0));
    }
}
