// f32x4 exp for the row kernels: the same algorithm the run-time code generator emits (src/simd-math.ts):
// n = round(x·log2 e), r = x − n·ln2 (two-part ln2, exact high product), e^r by a degree-7 Taylor
// polynomial on |r| ≤ ln2/2, then scaling by 2^n in two halves so that overflow and gradual underflow round
// correctly. Within about 1 ulp.

// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  // pmax/pmin are single instructions; a NaN x survives them (every comparison with it is false)
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-104.0)), f32x4.splat(89.0));
  // adding 1.5·2^23 rounds to an integer held in the low mantissa bits
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(1.44269504088896341)), f32x4.splat(12582912.0));
  const n = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693145751953125)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(1.428606765330187045e-06)));
  let p = f32x4.add(f32x4.mul(r, f32x4.splat(<f32>(1.0 / 5040.0))), f32x4.splat(<f32>(1.0 / 720.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  const k = i32x4.sub(t, i32x4.splat(0x4b400000));
  const k1 = i32x4.shr_s(k, 1);
  const k2 = i32x4.sub(k, k1);
  const s1 = i32x4.shl(i32x4.add(k1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(k2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/**
 * e^x for x ≤ 0 (softmax's x − max): no overflow, so one scaling step; results below about 2^−126 are 0.
 * Unlike the elementwise expNonPositive, which rounds into the subnormal range for cpu parity, this keeps the
 * flush: a probability below 1.2e-38 is within every softmax tolerance, and producing subnormals would cost
 * x86 microcode assists on every masked (−1e9, −∞) entry of the row loop.
 * Reduced in base 2 — u = x·log2 e, n = round(u), r = u − n (exact) — with 2^r by a degree-5 polynomial:
 * the rounding of u adds a relative error of |x|·6e-8, which stays inside max(1e-6·e, 1e-7) for every
 * x ≤ 0 (src/simd-math.ts, expNonPositive, has the argument) and saves four instructions per vector.
 */
// @ts-ignore: decorator
@inline export function vexpNeg(x: v128): v128 {
  // clamping at −88 makes n = −127, whose scale bits (n + 127) << 23 are +0: results below 2^−126 (and
  // −∞ inputs) come out exactly 0 without a separate flush
  const xc = f32x4.pmax(x, f32x4.splat(-88.0));
  const u = f32x4.mul(xc, f32x4.splat(1.44269504088896341));
  // 1.5·2^23 + 127: rounds u to an integer n held in the low mantissa bits as n + 127, so t << 23 is 2^n
  const t = f32x4.add(u, f32x4.splat(12583039.0));
  const r = f32x4.sub(u, f32x4.sub(t, f32x4.splat(12583039.0)));
  let p = f32x4.add(f32x4.mul(r, f32x4.splat(0.001326472032815218)), f32x4.splat(0.009671513922512531));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.05550733581185341));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.24022242426872253));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.6931470036506653));
  const s = i32x4.shl(t, 23);
  return f32x4.add(s, f32x4.mul(f32x4.mul(s, r), p));
}
