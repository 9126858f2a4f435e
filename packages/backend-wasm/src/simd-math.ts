import { type FunctionBuilder, Op, Simd, V128 } from "./binary.js";

// SIMD math emitted inline into run-time kernels. Every value is a v128 local; each helper emits the
// instructions computing its result into a fresh local and returns that local's index. f32x4 primitives
// are accurate to a few ulp (well inside the reference rtol of 1e-6 ≈ 8 ulp); pow runs in f64x2 lanes,
// where exp(b·log a) keeps full float32 accuracy even for large results.

/** A v128 value held in a local. */
export type Val = number;

const LOG2E = 1.4426950408889634;
// ln2 split so that n·LN2_HI is exact for the |n| < 256 of float32 (15 significant bits)
const LN2_HI_F = 0.693145751953125;
const LN2_LO_F = 1.428606765330187045e-6;
// float64 split (fdlibm): n·LN2_HI_D exact for |n| < 2^20
const LN2_HI_D = 6.93147180369123816490e-1;
const LN2_LO_D = 1.90821492927058770002e-10;

/** (e^r − 1)/r ≈ P(r) on |r| ≤ ln2/2, highest degree first (weighted fit: e^r within 2e-9 before rounding). */
const EXP_P = [0.001384365139529109, 0.008374156430363655, 0.04166800156235695, 0.16666431725025177, 0.4999999403953552, 1];

/**
 * (2^r − 1)/r on |r| ≤ ½: a degree-5 fit of e^u on |u| ≤ ln2/2 (within 9e-8 before rounding) with u = r·ln2
 * folded into the coefficients.
 */
const EXP2_P5 = [0.001326472032815218, 0.009671513922512531, 0.05550733581185341, 0.24022242426872253, 0.6931470036506653];

/** erf(x)/x ≈ P(x²) on [0, 1] (least-squares minimax fit, relative error 1.2e-9 before rounding). */
const ERF_SMALL = [1.1283791065216064, -0.3761262595653534, 0.1128358542919159, -0.02685382030904293, 0.005188341252505779, -0.0008010300807654858, 7.85418669693172e-5];
/** log(erfc(t)) ≈ Q(t − 2.5) on [1, 4] (weighted fit; erf error 2.6e-11 before rounding). */
const ERF_LARGE = [-7.806815147399902, -5.352680683135986, -0.9438923597335815, -0.010854076594114304, 0.00216732663102448, -0.0004282245645299554, 6.455780385294929e-5, -2.042460437223781e-5, 2.2325305337744794e-7];

/** Emits v128 operations over locals, with constants hoisted into the function's prologue. */
export class Vec {
  private readonly consts = new Map<string, Val>();

  constructor(readonly fb: FunctionBuilder) {}

  private constant(key: string, bytes: Uint8Array): Val {
    const hit = this.consts.get(key);
    if (hit !== undefined) return hit;
    const l = this.fb.local(V128);
    this.fb.prologue.byte(0xfd).u32(Simd.const).bytes(bytes).byte(Op.localSet).u32(l);
    this.consts.set(key, l);
    return l;
  }

  /** f32x4 splat of fround(v). */
  f(v: number): Val {
    const b = new Float32Array([v, v, v, v]);
    return this.constant(`f${new Uint32Array(b.buffer)[0]}`, new Uint8Array(b.buffer));
  }

  /** i32x4 splat. */
  i(v: number): Val {
    const b = new Int32Array([v, v, v, v]);
    return this.constant(`i${v | 0}`, new Uint8Array(b.buffer));
  }

  /** f64x2 splat. */
  d(v: number): Val {
    const b = new Float64Array([v, v]);
    const u = new Uint32Array(b.buffer);
    return this.constant(`d${u[0]}_${u[1]}`, new Uint8Array(b.buffer));
  }

  /** i64x2 splat. */
  q(v: bigint): Val {
    const b = new BigInt64Array([v, v]);
    return this.constant(`q${v}`, new Uint8Array(b.buffer));
  }

  /** A SIMD instruction over locals, result in a new local. */
  op(code: number, ...args: Val[]): Val {
    for (const a of args) this.fb.get(a);
    this.fb.simd(code);
    const l = this.fb.local(V128);
    this.fb.set(l);
    return l;
  }

  /** A shift by a constant amount. */
  shift(code: number, a: Val, amount: number): Val {
    this.fb.get(a).i32(amount).simd(code);
    const l = this.fb.local(V128);
    this.fb.set(l);
    return l;
  }

  /** (a & mask) | (b & ~mask). */
  sel(a: Val, b: Val, mask: Val): Val {
    return this.op(Simd.bitselect, a, b, mask);
  }

  shuffle(a: Val, b: Val, lanes: readonly number[]): Val {
    this.fb.get(a).get(b).shuffle(lanes);
    const l = this.fb.local(V128);
    this.fb.set(l);
    return l;
  }

  add(a: Val, b: Val): Val { return this.op(Simd.f32x4Add, a, b); }
  sub(a: Val, b: Val): Val { return this.op(Simd.f32x4Sub, a, b); }
  mul(a: Val, b: Val): Val { return this.op(Simd.f32x4Mul, a, b); }
  div(a: Val, b: Val): Val { return this.op(Simd.f32x4Div, a, b); }
  min(a: Val, b: Val): Val { return this.op(Simd.f32x4Min, a, b); }
  /**
   * Clamps into [lo, hi] with pmin/pmax (one instruction each, unlike min/max's NaN and −0 rules): a NaN
   * stays NaN because every comparison with it is false.
   */
  clamp(x: Val, lo: number, hi: number): Val {
    // pmax(x, lo) = x < lo ? lo : x and pmin(y, hi) = hi < y ? hi : y: false comparisons keep x
    return this.op(Simd.f32x4Pmin, this.op(Simd.f32x4Pmax, x, this.f(lo)), this.f(hi));
  }
  max(a: Val, b: Val): Val { return this.op(Simd.f32x4Max, a, b); }
  and(a: Val, b: Val): Val { return this.op(Simd.and, a, b); }
  or(a: Val, b: Val): Val { return this.op(Simd.or, a, b); }

  /** Horner: ((c0·x + c1)·x + …) with coefficients from the highest degree down. */
  horner(x: Val, coeffs: readonly number[]): Val {
    let p = this.f(coeffs[0]!);
    for (let i = 1; i < coeffs.length; i++) p = this.add(this.mul(p, x), this.f(coeffs[i]!));
    return p;
  }

  hornerD(x: Val, coeffs: readonly number[]): Val {
    let p = this.d(coeffs[0]!);
    for (let i = 1; i < coeffs.length; i++) p = this.op(Simd.f64x2Add, this.op(Simd.f64x2Mul, p, x), this.d(coeffs[i]!));
    return p;
  }
}

/** 1.0 where the mask is set, else 0. */
export function maskToOne(v: Vec, mask: Val): Val {
  return v.and(mask, v.f(1));
}

/** cond ? a : b with cond true when neither 0 nor NaN. */
export function select(v: Vec, cond: Val, a: Val, b: Val): Val {
  const mask = v.and(v.op(Simd.f32x4Ne, cond, v.f(0)), v.op(Simd.f32x4Eq, cond, cond));
  return v.sel(a, b, mask);
}

/** −1, 0 or 1, NaN for NaN. */
export function sign(v: Vec, x: Val): Val {
  const pos = v.and(v.op(Simd.f32x4Gt, x, v.f(0)), v.f(1));
  const neg = v.and(v.op(Simd.f32x4Lt, x, v.f(0)), v.f(-1));
  return v.sel(x, v.or(pos, neg), v.op(Simd.f32x4Ne, x, x));
}

/** 1.5·2^23: adding it rounds a float32 of magnitude < 2^22 to an integer held in the low mantissa bits. */
const MAGIC = 12582912;
/** MAGIC + 127: the rounded sum holds n + 127 in its low bits, so shifting its bits left by 23 gives 2^n. */
const MAGIC_BIASED = MAGIC + 127;
/** MAGIC + 127 + 32: shifting gives 2^(n + 32), a normal number for every n ≥ −158. */
const MAGIC_BIASED_HIGH = MAGIC_BIASED + 32;

/** Reduction x = n·ln2 + r, |r| ≤ ln2/2; returns [n as int32 lanes, r]. */
function reduceLn2(v: Vec, x: Val): [Val, Val] {
  const t = v.add(v.mul(x, v.f(LOG2E)), v.f(MAGIC));
  const n = v.sub(t, v.f(MAGIC));
  const k = v.op(Simd.i32x4Sub, t, v.i(0x4b400000));
  const r = v.sub(v.sub(x, v.mul(n, v.f(LN2_HI_F))), v.mul(n, v.f(LN2_LO_F)));
  return [k, r];
}

/** 2^k for integer lanes k in [−126, 127]. */
function pow2(v: Vec, k: Val): Val {
  return v.shift(Simd.i32x4Shl, v.op(Simd.i32x4Add, k, v.i(127)), 23);
}

/** e^x: degree-7 Taylor on the reduced argument, scaled by 2^n in two halves (overflow → ∞, gradual underflow). */
export function exp(v: Vec, x: Val): Val {
  const xc = v.clamp(x, -104, 89);
  const [k, r] = reduceLn2(v, xc);
  const p = v.add(v.f(1), v.mul(r, v.horner(r, EXP_P)));
  const k1 = v.shift(Simd.i32x4ShrS, k, 1);
  const k2 = v.op(Simd.i32x4Sub, k, k1);
  return v.mul(v.mul(p, pow2(v, k1)), pow2(v, k2));
}

/** (expm1(r) − r)/r² on |r| ≤ ln2/2 (Lawson minimax fit for expm1's relative error: 1.1e-7 after rounding). */
const EXPM1_Q = [0.0013882520142942667, 0.00836651399731636, 0.04166720062494278, 0.1666654348373413, 0.4999999701976776];

/**
 * e^x − 1 without cancellation: 2^n·expm1(r) + (2^n − 1), computed as 2·(2^(n−1)·p + (2^(n−1) − ½)). The
 * result has x's sign, copied at the end so that expm1(−0) = −0 (Math.expm1's and torch.expm1's).
 */
export function expm1(v: Vec, x: Val): Val {
  const xc = v.clamp(x, -30, 89);
  // 1.5·2^23 + 126: the rounded t holds n + 126 in its low bits, so t << 23 is 2^(n−1)
  const t = v.add(v.mul(xc, v.f(LOG2E)), v.f(MAGIC + 126));
  const n = v.sub(t, v.f(MAGIC + 126));
  const r = v.sub(v.sub(xc, v.mul(n, v.f(LN2_HI_F))), v.mul(n, v.f(LN2_LO_F)));
  const p = v.add(r, v.mul(v.mul(r, r), v.horner(r, EXPM1_Q)));
  const half = v.shift(Simd.i32x4Shl, t, 23);
  const y = v.mul(v.add(v.mul(half, p), v.sub(half, v.f(0.5))), v.f(2));
  return v.or(y, v.and(x, v.i(-0x80000000)));
}

/**
 * Natural log (fdlibm's scheme in float32): x = 2^e·m with m in [√½, √2), f = m − 1, s = f/(2+f),
 * log m = f − (hfsq − s·(hfsq + R(s²))). Subnormals are scaled up first; 0 → −∞, ∞ → ∞, x < 0 or NaN → NaN.
 */
export function log(v: Vec, x: Val): Val {
  const sub = v.op(Simd.f32x4Lt, x, v.f(1.1754943508222875e-38));
  const xs = v.sel(v.mul(x, v.f(8388608)), x, sub);
  let e = v.op(Simd.i32x4Sub, v.shift(Simd.i32x4ShrU, xs, 23), v.i(127));
  e = v.op(Simd.i32x4Sub, e, v.and(sub, v.i(23)));
  let m = v.or(v.and(xs, v.i(0x007fffff)), v.i(0x3f800000));
  const big = v.op(Simd.f32x4Gt, m, v.f(Math.SQRT2));
  m = v.sel(v.mul(m, v.f(0.5)), m, big);
  e = v.op(Simd.i32x4Sub, e, big);
  const f = v.sub(m, v.f(1));
  const s = v.div(f, v.add(f, v.f(2)));
  const z = v.mul(s, s);
  const R = v.mul(z, v.horner(z, [2 / 9, 2 / 7, 2 / 5, 2 / 3]));
  const hfsq = v.mul(v.f(0.5), v.mul(f, f));
  const ef = v.op(Simd.f32x4ConvertI32x4S, e);
  const res = v.add(v.mul(ef, v.f(LN2_HI_F)), v.sub(f, v.sub(hfsq, v.add(v.mul(s, v.add(hfsq, R)), v.mul(ef, v.f(LN2_LO_F))))));
  const valid = v.and(v.op(Simd.f32x4Gt, x, v.f(0)), v.op(Simd.f32x4Lt, x, v.f(Infinity)));
  const special = v.sel(v.f(-Infinity), v.sel(v.f(Infinity), v.f(NaN), v.op(Simd.f32x4Eq, x, v.f(Infinity))), v.op(Simd.f32x4Eq, x, v.f(0)));
  return v.sel(res, special, valid);
}

/** log(1 + x) by Goldberg's correction: log(u)·x/(u − 1) with u = 1 + x, exact where u rounds to 1. */
export function log1p(v: Vec, x: Val): Val {
  const u = v.add(x, v.f(1));
  const d = v.sub(u, v.f(1));
  let res = v.mul(log(v, u), v.div(x, d));
  res = v.sel(x, res, v.op(Simd.f32x4Eq, d, v.f(0)));
  return v.sel(x, res, v.op(Simd.f32x4Eq, x, v.f(Infinity)));
}

/** tanh from expm1 of 2|x| (no cancellation near 0), sign restored by copying x's sign bit. */
export function tanh(v: Vec, x: Val): Val {
  const ax = v.op(Simd.f32x4Pmin, v.and(x, v.i(0x7fffffff)), v.f(9));
  const e = expm1(v, v.add(ax, ax));
  const t = v.div(e, v.add(e, v.f(2)));
  return v.or(t, v.and(x, v.i(-0x80000000)));
}

/**
 * e^x for x ≤ 0 (or NaN): no overflow, so one scaling step, taken 2^32 high so that 2^n stays a normal
 * number down to n = −150, then one exact-or-rounding multiply by 2^−32: results in the subnormal range
 * (x down to about −103.9) round gradually like cpu's Math.exp, where they used to flush to 0 below x = −87.3
 * (sigmoid(−100) was 0 on wasm and 3.8e-44 on cpu). Below x ≈ −103.97 the result rounds to 0. Lanes with
 * x < −87.3 now round through the subnormal range, which x86 does in microcode (about 3× slower for such
 * inputs, measured on sigmoid); other inputs are bit-for-bit unchanged, for one extra multiply.
 *
 * `base2` reduces in base 2 (u = x·log2 e, n = round(u), r = u − n exact, 2^r by the degree-5 polynomial):
 * four instructions fewer than the two-part ln2 reduction, at a relative error that grows as |x|·6e-8 from
 * the rounding of u. That stays inside max(1e-6·|e|, 1e-7) everywhere on x ≤ 0 (|x|·e^x·6e-8 ≤ 2.2e-8
 * where the absolute bound applies), so it serves results that are compared under an absolute floor —
 * sigmoid and softmax — but not a general e^x.
 */
export function expNonPositive(v: Vec, x: Val, options: { base2?: boolean } = {}): Val {
  // at −104, e^x·(1 ± 1e-5) is below 2^−150, half the least subnormal, so the clamped value (and −∞) rounds
  // to 0; n ≥ −151 keeps n + 32 + 127 a normal exponent
  const xc = v.op(Simd.f32x4Pmax, x, v.f(-104));
  let t: Val, r: Val;
  if (options.base2) {
    const u = v.mul(xc, v.f(LOG2E));
    t = v.add(u, v.f(MAGIC_BIASED_HIGH));
    r = v.sub(u, v.sub(t, v.f(MAGIC_BIASED_HIGH)));
  } else {
    t = v.add(v.mul(xc, v.f(LOG2E)), v.f(MAGIC_BIASED_HIGH));
    const n = v.sub(t, v.f(MAGIC_BIASED_HIGH));
    r = v.sub(v.sub(xc, v.mul(n, v.f(LN2_HI_F))), v.mul(n, v.f(LN2_LO_F)));
  }
  // s = 2^(n + 32)
  const s = v.shift(Simd.i32x4Shl, t, 23);
  return v.mul(v.add(s, v.mul(v.mul(s, r), v.horner(r, options.base2 ? EXP2_P5 : EXP_P))), v.f(2 ** -32));
}

/** (2^r − 1)/r on |r| ≤ ½ (Lawson minimax fit for relative error: expm1NonPositive within 0.2× the tolerance). */
const EXPM1_BASE2_P = [0.0001540350931463763, 0.0013390735257416964, 0.009618237614631653, 0.05550357326865196, 0.24022649228572845, 0.6931471824645996];

/**
 * e^x − 1 for x ≤ 0 (or NaN), reduced in base 2 like {@link expNonPositive}: 2^n·(2^r − 1) − (1 − 2^n)
 * with nothing to overflow. The rounding of x·log2 e costs e^x·|x|·6e-8 absolute (≤ 2.2e-8), inside the
 * forward tolerance; near 0 the result keeps the relative accuracy of r·P(r). Written as a difference so
 * that x = −0 (r = −0, n = 0) gives −0 − 0 = −0, as Math.expm1, where a sum gave +0.
 */
export function expm1NonPositive(v: Vec, x: Val): Val {
  const xc = v.op(Simd.f32x4Pmax, x, v.f(-30));
  const u = v.mul(xc, v.f(LOG2E));
  const t = v.add(u, v.f(MAGIC_BIASED));
  const r = v.sub(u, v.sub(t, v.f(MAGIC_BIASED)));
  const s = v.shift(Simd.i32x4Shl, t, 23);
  return v.sub(v.mul(s, v.mul(r, v.horner(r, EXPM1_BASE2_P))), v.sub(v.f(1), s));
}

/** −|x|: one OR of the sign bit. */
export function negAbs(v: Vec, x: Val): Val {
  return v.or(x, v.i(-0x80000000));
}

/** 1/(1 + e^−|x|) or e^−|x|/(1 + e^−|x|): never the exponential of a large positive number. */
export function sigmoid(v: Vec, x: Val): Val {
  // 1/(1 + e) and e/(1 + e) inherit e's error, inside the forward tolerance with the base-2 reduction;
  // e is subnormal down to x ≈ −103.9 (as cpu's float64 result rounded) and exactly 0 below, so x·σ(x)
  // is −0 there and not −huge·e^−104
  const e = expNonPositive(v, negAbs(v, x), { base2: true });
  const num = v.sel(v.f(1), e, v.op(Simd.f32x4Ge, x, v.f(0)));
  return v.div(num, v.add(v.f(1), e));
}

/** erf: x·P(x²) below 1, 1 − exp(Q(|x|)) on [1, 4), 1 beyond (erf(4) rounds to 1 in float32); odd. */
export function erf(v: Vec, x: Val): Val {
  const t = v.and(x, v.i(0x7fffffff));
  const small = v.mul(t, v.horner(v.mul(t, t), [...ERF_SMALL].reverse()));
  const tc = v.op(Simd.f32x4Pmin, t, v.f(4));
  // Q ≤ −1.5 on [1, 4]: the exponential never overflows
  const large = v.sub(v.f(1), expNonPositive(v, v.horner(v.sub(tc, v.f(2.5)), [...ERF_LARGE].reverse())));
  const y = v.sel(small, large, v.op(Simd.f32x4Lt, t, v.f(1)));
  return v.or(y, v.and(x, v.i(-0x80000000)));
}

// ---- float64 lanes, for pow ----

/** The two f64x2 halves of an f32x4. */
export function promote(v: Vec, x: Val): [Val, Val] {
  const lo = v.op(Simd.f64x2PromoteLowF32x4, x);
  const hi = v.op(Simd.f64x2PromoteLowF32x4, v.shuffle(x, x, [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]));
  return [lo, hi];
}

/** Two f64x2 halves back into one f32x4 (rounded). */
export function demote(v: Vec, lo: Val, hi: Val): Val {
  const a = v.op(Simd.f32x4DemoteF64x2Zero, lo);
  const b = v.op(Simd.f32x4DemoteF64x2Zero, hi);
  return v.shuffle(a, b, [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
}

/** log of positive normal float64 lanes (0 → −∞, ∞ → ∞, NaN → NaN); relative error ~1e-14. */
export function log64(v: Vec, a: Val): Val {
  const ebits = v.shift(Simd.i64x2ShrU, a, 52);
  let m = v.or(v.and(a, v.q(0x000fffffffffffffn)), v.q(0x3ff0000000000000n));
  const big = v.op(Simd.f64x2Gt, m, v.d(Math.SQRT2));
  m = v.sel(v.op(Simd.f64x2Mul, m, v.d(0.5)), m, big);
  // exponent to float64: OR it into the mantissa of 2^52, subtract 2^52 and the bias
  let ef = v.op(Simd.f64x2Sub, v.or(ebits, v.q(0x4330000000000000n)), v.d(4503599627370496 + 1023));
  ef = v.op(Simd.f64x2Add, ef, v.and(big, v.d(1)));
  const f = v.op(Simd.f64x2Sub, m, v.d(1));
  const s = v.op(Simd.f64x2Div, f, v.op(Simd.f64x2Add, f, v.d(2)));
  const z = v.op(Simd.f64x2Mul, s, s);
  const R = v.op(Simd.f64x2Mul, z, v.hornerD(z, [2 / 15, 2 / 13, 2 / 11, 2 / 9, 2 / 7, 2 / 5, 2 / 3]));
  const hfsq = v.op(Simd.f64x2Mul, v.d(0.5), v.op(Simd.f64x2Mul, f, f));
  const inner = v.op(Simd.f64x2Add, v.op(Simd.f64x2Mul, s, v.op(Simd.f64x2Add, hfsq, R)), v.op(Simd.f64x2Mul, ef, v.d(LN2_LO_D)));
  const res = v.op(Simd.f64x2Add, v.op(Simd.f64x2Mul, ef, v.d(LN2_HI_D)), v.op(Simd.f64x2Sub, f, v.op(Simd.f64x2Sub, hfsq, inner)));
  const valid = v.and(v.op(Simd.f64x2Gt, a, v.d(0)), v.op(Simd.f64x2Lt, a, v.d(Infinity)));
  const special = v.sel(v.d(-Infinity), v.sel(v.d(Infinity), v.d(NaN), v.op(Simd.f64x2Eq, a, v.d(Infinity))), v.op(Simd.f64x2Eq, a, v.d(0)));
  return v.sel(res, special, valid);
}

/** e^y for float64 lanes whose result only needs float32 range (y clamped to ±200). */
export function exp64(v: Vec, y: Val): Val {
  const yc = v.op(Simd.f64x2Min, v.op(Simd.f64x2Max, y, v.d(-200)), v.d(200));
  const n = v.op(Simd.f64x2Nearest, v.op(Simd.f64x2Mul, yc, v.d(LOG2E)));
  const r = v.op(Simd.f64x2Sub, v.op(Simd.f64x2Sub, yc, v.op(Simd.f64x2Mul, n, v.d(LN2_HI_D))), v.op(Simd.f64x2Mul, n, v.d(LN2_LO_D)));
  const coeffs: number[] = [];
  let fact = 1;
  for (let i = 1; i <= 12; i++) fact *= i;
  for (let i = 12; i >= 0; i--) {
    coeffs.push(1 / fact);
    fact /= Math.max(i, 1);
  }
  const p = v.hornerD(r, coeffs);
  const k = v.op(Simd.i64x2ExtendLowI32x4S, v.op(Simd.i32x4TruncSatF64x2SZero, n));
  const scale = v.shift(Simd.i64x2Shl, v.op(Simd.i64x2Add, k, v.q(1023n)), 52);
  return v.op(Simd.f64x2Mul, p, scale);
}

/** JavaScript's Math.pow on float64 lanes: exp(b·log|a|) plus its sign and special-value rules. */
function pow64(v: Vec, a: Val, b: Val): Val {
  let r = exp64(v, v.op(Simd.f64x2Mul, b, log64(v, v.op(Simd.f64x2Abs, a))));
  const fb = v.op(Simd.f64x2Floor, b);
  const isInt = v.op(Simd.f64x2Eq, fb, b);
  const half = v.op(Simd.f64x2Floor, v.op(Simd.f64x2Mul, b, v.d(0.5)));
  const odd = v.and(isInt, v.op(Simd.f64x2Ne, v.op(Simd.f64x2Mul, half, v.d(2)), b));
  r = v.sel(v.or(r, v.and(a, v.q(-0x8000000000000000n))), r, odd);
  // a finite negative base with a non-integer exponent has no real power (−∞ follows the sign rules above)
  const negBase = v.and(v.op(Simd.f64x2Lt, a, v.d(0)), v.op(Simd.f64x2Gt, a, v.d(-Infinity)));
  r = v.sel(v.d(NaN), r, v.op(Simd.andnot, negBase, isInt));
  return v.sel(v.d(1), r, v.op(Simd.f64x2Eq, b, v.d(0)));
}

/** Math.pow(a, b) per lane, in float64, rounded once to float32. */
export function pow(v: Vec, a: Val, b: Val): Val {
  const [alo, ahi] = promote(v, a);
  const [blo, bhi] = promote(v, b);
  return demote(v, pow64(v, alo, blo), pow64(v, ahi, bhi));
}
