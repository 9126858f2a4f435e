import { Op, Simd, V128 } from "./binary.js";
import { type Val, type Vec, demote, exp64, log64, promote } from "./simd-math.js";

// The trigonometric, hyperbolic and base-2 primitives, computed in f64x2 lanes and rounded once to float32.
// A float32 input is exact in float64 and these functions' float64 error (≤ 1e-12 relative) is far below half a
// float32 ulp, so each result is the correctly rounded float32 value except when the true value lies within
// ~1e-12 relative of a rounding boundary: at most 1 ulp, everywhere. sin, cos and tan reduce their argument
// exactly for every float32 (see reducePiOver2Large), so they stay accurate up to 3.4e38.

const SIGN64 = -0x8000000000000000n;
const PIO2_HI = 1.5707963267948966;
const PIO2_LO = 6.123233995736766e-17;
const TWO_OVER_PI = 0.6366197723675814;

// π/2 = C1 + C2 + C3 with C1 and C2 of 33 and 32 significant bits, so that k·C1 and k·C2 are exact for |k| < 2^20
const PIO2_C1 = 1.5707963267341256;
const PIO2_C2 = 6.077100506303966e-11;
const PIO2_C3 = 2.0222662487959506e-21;
/** Below this |x| the three-part Cody–Waite reduction is exact to ~2^−65 absolute (|k| < 2^20). */
export const SMALL_REDUCTION_LIMIT = 2 ** 20;

/**
 * 2/π in nine 28-bit pieces (252 bits): x·P_i is exact in float64 for any float32 x (24 + 28 ≤ 53 bits), and the
 * pieces reach far enough that x·2/π mod 4 is exact to 2^−100 even at x = 2^128.
 */
export const TWO_OVER_PI_PIECES = [
  0.6366197690367699, 3.3308114738561656e-09, 2.276010047810136e-18, 2.5268260189002822e-26, 1.6682867657019525e-34,
  1.158871328288855e-43, 7.053959174404295e-52, 8.910067885731021e-60, 3.227204670555102e-68,
] as const;

const fadd = (v: Vec, a: Val, b: Val): Val => v.op(Simd.f64x2Add, a, b);
const fsub = (v: Vec, a: Val, b: Val): Val => v.op(Simd.f64x2Sub, a, b);
const fmul = (v: Vec, a: Val, b: Val): Val => v.op(Simd.f64x2Mul, a, b);
const fdiv = (v: Vec, a: Val, b: Val): Val => v.op(Simd.f64x2Div, a, b);
const nearest = (v: Vec, a: Val): Val => v.op(Simd.f64x2Nearest, a);
const absD = (v: Vec, a: Val): Val => v.op(Simd.f64x2Abs, a);
/** |r| carrying the sign of `from` (r ≥ 0 or NaN). */
const withSignOf = (v: Vec, r: Val, from: Val): Val => v.or(r, v.and(from, v.q(SIGN64)));
/** a mod 4 into [0, 4) for integer-valued lanes. */
const mod4 = (v: Vec, k: Val): Val => fsub(v, k, fmul(v, v.op(Simd.f64x2Floor, fmul(v, k, v.d(0.25))), v.d(4)));

/** Taylor coefficients of (sin r − r)/r³ and (cos r − 1 + r²/2)/r⁴ in r², highest first: ≤ 1e-11 relative on |r| ≤ π/4. */
const SIN_Q = [-1 / 39916800, 1 / 362880, -1 / 5040, 1 / 120, -1 / 6];
const COS_Q = [1 / 479001600, -1 / 3628800, 1 / 40320, -1 / 720, 1 / 24];

/** Applies a float64-lane function to both halves of an f32x4 and rounds the results once. */
function viaF64(v: Vec, x: Val, f: (a: Val) => Val): Val {
  const [lo, hi] = promote(v, x);
  return demote(v, f(lo), f(hi));
}

/** x = k·π/2 + r for |x| < 2^20: k = nearest(x·2/π), r by three-part Cody–Waite (each k·C_i exact). Returns [k mod 4, r]. */
function reduceSmall(v: Vec, a: Val): [Val, Val] {
  const k = nearest(v, fmul(v, a, v.d(TWO_OVER_PI)));
  const r = fsub(v, fsub(v, fsub(v, a, fmul(v, k, v.d(PIO2_C1))), fmul(v, k, v.d(PIO2_C2))), fmul(v, k, v.d(PIO2_C3)));
  return [mod4(v, k), r];
}

/**
 * x = k·π/2 + r for every float32 x (Payne–Hanek without a table): x·2/π = Σ x·P_i, each product exact; each is
 * reduced mod 4 exactly (p − 4·nearest(p/4)) and split into an integer and a fraction in [−½, ½] (both exact);
 * the integers sum exactly and the fractions by TwoSum into hi + lo (106 bits). The nearest float32 to a multiple
 * of π/2 is about 2^−29 away from it (see the tests), so r keeps ~75 correct bits. ±∞ and NaN give NaN.
 */
function reduceLarge(v: Vec, a: Val): [Val, Val] {
  let n = v.d(0);
  let hi = v.d(0);
  let lo = v.d(0);
  for (const piece of TWO_OVER_PI_PIECES) {
    const p = fmul(v, a, v.d(piece));
    const t = fsub(v, p, fmul(v, nearest(v, fmul(v, p, v.d(0.25))), v.d(4)));
    const ti = nearest(v, t);
    const f = fsub(v, t, ti);
    n = fadd(v, n, ti);
    // TwoSum: s + err = hi + f exactly
    const s = fadd(v, hi, f);
    const bb = fsub(v, s, hi);
    const err = fadd(v, fsub(v, hi, fsub(v, s, bb)), fsub(v, f, bb));
    hi = s;
    lo = fadd(v, lo, err);
  }
  const whole = nearest(v, hi);
  hi = fsub(v, hi, whole);
  n = fadd(v, n, whole);
  const r = fadd(v, fmul(v, hi, v.d(PIO2_HI)), fadd(v, fmul(v, hi, v.d(PIO2_LO)), fmul(v, lo, v.d(PIO2_HI))));
  return [mod4(v, n), r];
}

/**
 * The quadrant (k mod 4) and reduced argument r ∈ [−π/4, π/4] of both f64x2 halves of x. The exact reduction runs
 * only for a vector with some |x| ≥ 2^20 (or ±∞): a branch on the whole vector keeps ordinary inputs fast.
 */
function reduceVector(v: Vec, x: Val): { lo: [Val, Val]; hi: [Val, Val] } {
  const fb = v.fb;
  const [alo, ahi] = promote(v, x);
  const out = [fb.local(V128), fb.local(V128), fb.local(V128), fb.local(V128)] as const;
  const store = (vals: readonly Val[]): void => vals.forEach((val, i) => fb.get(val).set(out[i]!));
  const big = v.op(Simd.f32x4Ge, v.and(x, v.i(0x7fffffff)), v.f(SMALL_REDUCTION_LIMIT));
  fb.get(big).simd(Simd.anyTrue).op(Op.if).byte(0x40);
  store([...reduceLarge(v, alo), ...reduceLarge(v, ahi)]);
  fb.op(Op.else);
  store([...reduceSmall(v, alo), ...reduceSmall(v, ahi)]);
  fb.op(Op.end);
  return { lo: [out[0], out[1]], hi: [out[2], out[3]] };
}

function sinPoly(v: Vec, r: Val): Val {
  const z = fmul(v, r, r);
  return fadd(v, r, fmul(v, fmul(v, r, z), v.hornerD(z, SIN_Q)));
}

function cosPoly(v: Vec, r: Val): Val {
  const z = fmul(v, r, r);
  return fadd(v, fsub(v, v.d(1), fmul(v, z, v.d(0.5))), fmul(v, fmul(v, z, z), v.hornerD(z, COS_Q)));
}

type Trig = "sin" | "cos" | "tan";

function trigHalf(v: Vec, fn: Trig, q: Val, r: Val): Val {
  const s = sinPoly(v, r);
  const c = cosPoly(v, r);
  const odd = v.op(Simd.f64x2Eq, fsub(v, q, fmul(v, v.op(Simd.f64x2Floor, fmul(v, q, v.d(0.5))), v.d(2))), v.d(1));
  const flip = (val: Val, mask: Val): Val => v.op(Simd.xor, val, v.and(mask, v.q(SIGN64)));
  if (fn === "sin") {
    // quadrants 0..3: s, c, −s, −c
    return flip(v.sel(c, s, odd), v.op(Simd.f64x2Ge, q, v.d(2)));
  }
  if (fn === "cos") {
    // c, −s, −c, s: negative in quadrants 1 and 2
    return flip(v.sel(s, c, odd), v.op(Simd.f64x2Eq, absD(v, fsub(v, q, v.d(1.5))), v.d(0.5)));
  }
  // s/c in even quadrants, −c/s in odd ones
  return v.sel(flip(fdiv(v, c, s), v.i(-1)), fdiv(v, s, c), odd);
}

/** sin, cos or tan of f32x4 lanes, at most 1 ulp from the exact value for every float32; ±∞ → NaN. */
export function trig(v: Vec, fn: Trig, x: Val): Val {
  const { lo, hi } = reduceVector(v, x);
  const res = demote(v, trigHalf(v, fn, lo[0], lo[1]), trigHalf(v, fn, hi[0], hi[1]));
  // sin(−0) and tan(−0) are −0 (the reduction's subtractions give +0)
  return fn === "cos" ? res : v.sel(x, res, v.op(Simd.f32x4Eq, x, v.f(0)));
}

/** log(1 + u) for float64 lanes by Goldberg's correction, exact where 1 + u rounds to 1; log1p(∞) = ∞. */
function log1p64(v: Vec, u: Val): Val {
  const w = fadd(v, u, v.d(1));
  const d = fsub(v, w, v.d(1));
  const res = v.sel(u, fmul(v, log64(v, w), fdiv(v, u, d)), v.op(Simd.f64x2Eq, d, v.d(0)));
  return v.sel(u, res, v.op(Simd.f64x2Eq, u, v.d(Infinity)));
}

/** Taylor coefficients of (sinh t − t)/t³ in t², highest first: ≤ 1e-12 relative on |t| < 1. */
const SINH_Q = [1 / 6227020800, 1 / 39916800, 1 / 362880, 1 / 5040, 1 / 120, 1 / 6];

/** sinh: the Taylor series below |x| = 1 (no cancellation), (eˣ − e⁻ˣ)/2 above; ∞ only past the float32 range. */
export function sinh(v: Vec, x: Val): Val {
  return viaF64(v, x, (a) => {
    const t = absD(v, a);
    const z = fmul(v, t, t);
    const small = fadd(v, t, fmul(v, fmul(v, t, z), v.hornerD(z, SINH_Q)));
    const e = exp64(v, t);
    const large = fmul(v, fsub(v, e, fdiv(v, v.d(1), e)), v.d(0.5));
    return withSignOf(v, v.sel(small, large, v.op(Simd.f64x2Lt, t, v.d(1))), a);
  });
}

/** cosh = (e^|x| + e^−|x|)/2 in float64 (exp64 saturates past |x| = 200, far beyond the float32 range). */
export function cosh(v: Vec, x: Val): Val {
  return viaF64(v, x, (a) => {
    const e = exp64(v, absD(v, a));
    return fmul(v, fadd(v, e, fdiv(v, v.d(1), e)), v.d(0.5));
  });
}

/** asinh = log1p(|x| + x²/(1 + √(1 + x²))): x² of a float32 cannot overflow float64, and small x keep their accuracy. */
export function asinh(v: Vec, x: Val): Val {
  const res = viaF64(v, x, (a) => {
    const t = absD(v, a);
    const z = fmul(v, t, t);
    const u = fadd(v, t, fdiv(v, z, fadd(v, v.d(1), v.op(Simd.f64x2Sqrt, fadd(v, v.d(1), z)))));
    return withSignOf(v, log1p64(v, u), a);
  });
  // ±∞ (where u would be ∞/∞)
  return v.sel(x, res, v.op(Simd.f32x4Eq, v.and(x, v.i(0x7fffffff)), v.f(Infinity)));
}

/** atanh = ½·log1p(2|x|/(1 − |x|)) with the sign of x: 1 − |x| is exact, ±1 → ±∞, |x| > 1 → NaN. */
export function atanh(v: Vec, x: Val): Val {
  return viaF64(v, x, (a) => {
    const t = absD(v, a);
    const u = fdiv(v, fadd(v, t, t), fsub(v, v.d(1), t));
    return withSignOf(v, fmul(v, log1p64(v, u), v.d(0.5)), a);
  });
}

/** Taylor coefficients of (atan t − t)/t³ in t², highest first: ≤ 1e-12 relative on |t| ≤ tan(π/16). */
const ATAN_Q = [-1 / 15, 1 / 13, -1 / 11, 1 / 9, -1 / 7, 1 / 5, -1 / 3];

/** atan: 1/|x| above 1, then two half-angle steps t/(1 + √(1 + t²)) to |t| ≤ tan(π/16), then the Taylor series. */
export function atan(v: Vec, x: Val): Val {
  return viaF64(v, x, (a) => {
    const t0 = absD(v, a);
    const inv = v.op(Simd.f64x2Gt, t0, v.d(1));
    let t = v.sel(fdiv(v, v.d(1), t0), t0, inv);
    for (let i = 0; i < 2; i++) t = fdiv(v, t, fadd(v, v.d(1), v.op(Simd.f64x2Sqrt, fadd(v, v.d(1), fmul(v, t, t)))));
    const z = fmul(v, t, t);
    const p = fmul(v, fadd(v, t, fmul(v, fmul(v, t, z), v.hornerD(z, ATAN_Q))), v.d(4));
    const r = v.sel(fsub(v, v.d(PIO2_HI), p), p, inv);
    return withSignOf(v, r, a);
  });
}

/**
 * 2^x = 2^n·e^(r·ln 2) with n = nearest(x), r = x − n exact, in float64: exact at integers (e^0 is exactly 1), so
 * exp2(−149) is the smallest subnormal, exp2(−150) rounds to 0 (a tie, to even) and exp2(128) = ∞.
 */
export function exp2(v: Vec, x: Val): Val {
  return viaF64(v, x, (a) => {
    const ac = v.op(Simd.f64x2Min, v.op(Simd.f64x2Max, a, v.d(-200)), v.d(200));
    const n = nearest(v, ac);
    const k = v.op(Simd.i64x2ExtendLowI32x4S, v.op(Simd.i32x4TruncSatF64x2SZero, n));
    const scale = v.shift(Simd.i64x2Shl, v.op(Simd.i64x2Add, k, v.q(1023n)), 52);
    return fmul(v, exp64(v, fmul(v, fsub(v, ac, n), v.d(Math.LN2))), scale);
  });
}

/** log₂ x = log x / ln 2 in float64: exact at powers of two; 0 → −∞, x < 0 → NaN. */
export function log2(v: Vec, x: Val): Val {
  return viaF64(v, x, (a) => fmul(v, log64(v, a), v.d(1 / Math.LN2)));
}

/** 1/√x in float64, rounded once: rsqrt(0) = ∞, rsqrt(−0) = −∞ (1/√−0), x < 0 → NaN. */
export function rsqrt(v: Vec, x: Val): Val {
  return viaF64(v, x, (a) => fdiv(v, v.d(1), v.op(Simd.f64x2Sqrt, a)));
}

/** √(a² + b²) in float64 (no float32 square overflows or underflows there); ∞ if either is ±∞, even with a NaN. */
export function hypot(v: Vec, a: Val, b: Val): Val {
  const [alo, ahi] = promote(v, a);
  const [blo, bhi] = promote(v, b);
  const half = (p: Val, q: Val): Val => v.op(Simd.f64x2Sqrt, fadd(v, fmul(v, p, p), fmul(v, q, q)));
  const res = demote(v, half(alo, blo), half(ahi, bhi));
  const inf = v.f(Infinity);
  const anyInf = v.or(v.op(Simd.f32x4Eq, v.and(a, v.i(0x7fffffff)), inf), v.op(Simd.f32x4Eq, v.and(b, v.i(0x7fffffff)), inf));
  return v.sel(inf, res, anyInf);
}
