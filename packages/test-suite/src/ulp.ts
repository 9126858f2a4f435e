/**
 * Error in float32 units in the last place, and an exact (BigInt) reduction modulo π/2 for references of sin,
 * cos and tan at any float32, independent of the argument reduction of the code under test and of V8's.
 */

/** The spacing of float32 values around the exact value `ref` (2^−149 among subnormals). */
export function ulp32(ref: number): number {
  const a = Math.abs(ref);
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  // log2 can round across a power of two
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}

/**
 * How many float32 ulps `got` is from the exact value `ref`: 0 when both are NaN or the same infinity, and
 * Infinity for a wrong NaN, a wrong infinity, or an infinity where float32 holds the value (and vice versa).
 */
export function ulpError(got: number, ref: number): number {
  if (Number.isNaN(ref)) return Number.isNaN(got) ? 0 : Infinity;
  const rounded = Math.fround(ref);
  if (!Number.isFinite(rounded)) return got === rounded ? 0 : Infinity;
  if (!Number.isFinite(got)) return Infinity;
  if (ref === 0) return got === 0 && Object.is(got, ref) ? 0 : got === 0 ? Infinity : Math.abs(got) / 2 ** -149;
  return Math.abs(got - ref) / ulp32(ref);
}

/** The largest error of `got` against `ref` over all indices, with where it occurs. */
export function worstUlp(inputs: ArrayLike<number>, got: ArrayLike<number>, ref: (i: number) => number): { ulps: number; at: number } {
  let ulps = 0;
  let at = NaN;
  for (let i = 0; i < got.length; i++) {
    const e = ulpError(got[i]!, ref(i));
    if (e > ulps || (Number.isNaN(at) && e === ulps)) {
      ulps = e;
      at = inputs[i]!;
    }
  }
  return { ulps, at };
}

// ---- π to 700 bits by Machin's formula, π = 16·atan(1/5) − 4·atan(1/239), in fixed point ----

const BITS = 700n;
function atanInverse(n: bigint): bigint {
  const one = 1n << BITS;
  let term = one / n;
  let sum = term;
  const n2 = n * n;
  for (let k = 3n, sign = -1n; term !== 0n; k += 2n, sign = -sign) {
    term /= n2;
    sum += (sign * term) / k;
  }
  return sum;
}
/** π/2 · 2^700. */
const PIO2 = (4n * atanInverse(5n) - atanInverse(239n)) * 2n;

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** |x| = m·2^e exactly, for a finite non-zero double. */
function decompose(x: number): { m: bigint; e: number } {
  f64[0] = Math.abs(x);
  const bits = u64[0]!;
  const biased = Number(bits >> 52n);
  const frac = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { m: frac, e: -1074 } : { m: frac | (1n << 52n), e: biased - 1075 };
}

/**
 * x = k·π/2 + r exactly (to 2^−600), for finite x: the quadrant k mod 4 and r ∈ [−π/4, π/4] as the nearest
 * double. The reference for sin/cos/tan far from 0 (3.4e38 included).
 */
export function reducePiOver2Exact(x: number): { quadrant: number; r: number } {
  if (x === 0) return { quadrant: 0, r: x };
  const { m, e } = decompose(x);
  // X = |x|·2^700 as an integer (|x| ≥ 2^−149 for float32 inputs, so the shift is non-negative)
  const shift = BigInt(e) + BITS;
  if (shift < 0n) throw new RangeError(`reducePiOver2Exact: ${x} is below the float32 range`);
  const X = m << shift;
  const k = (2n * X + PIO2) / (2n * PIO2);
  const R = X - k * PIO2;
  // R/2^700 to the nearest double: scale through a float that keeps 53+ bits
  const r = Number(R) / 2 ** 700;
  const q = Number(k % 4n);
  return x < 0 ? { quadrant: (4 - q) % 4, r: -r } : { quadrant: q, r };
}

/** sin, cos or tan of any finite double through the exact reduction, in float64 (≤ 1 float64 ulp). */
export function trigExact(fn: "sin" | "cos" | "tan", x: number): number {
  if (!Number.isFinite(x)) return NaN;
  const { quadrant, r } = reducePiOver2Exact(x);
  const s = Math.sin(r);
  const c = Math.cos(r);
  const q = fn === "cos" ? (quadrant + 1) % 4 : quadrant;
  if (fn === "tan") return quadrant % 2 === 0 ? s / c : -c / s;
  return [s, c, -s, -c][q]!;
}

/**
 * For each binade [2^e, 2^(e+1)) of float32 above 1, the float32 closest to a multiple of π/2, found from the
 * continued fraction of 2^(e−23)·2/π (best approximations: no m < q_(n+1) beats the convergent q_n, so the
 * minimum over m ∈ [2^23, 2^24) is among the convergents, their multiples and the semiconvergents there).
 * Returns the inputs and their distance |x − kπ/2|.
 */
export function hardestTrigInputs(): { x: number; distance: number }[] {
  const out: { x: number; distance: number }[] = [];
  const lowM = 1n << 23n;
  const highM = 1n << 24n;
  for (let e = 0; e <= 127; e++) {
    // α = 2^(e−23)·(2/π) = 2^(e−23+700)/PIO2 as a fraction num/den
    const num = e - 23 + 700 >= 0 ? 1n << BigInt(e - 23 + 700) : 0n;
    const den = PIO2;
    const candidates = new Set<bigint>();
    let [a, b] = [num, den];
    let [qPrev, q] = [1n, 0n];
    while (b !== 0n) {
      const t = a / b;
      [a, b] = [b, a - t * b];
      // semiconvergents q_(n−1) + j·q_n for j ≤ t (only the range's ends matter for the minimum)
      for (const j of [1n, t]) {
        const s = qPrev + j * q;
        if (s >= lowM && s < highM) candidates.add(s);
      }
      [qPrev, q] = [q, t * q + qPrev];
      if (q >= lowM && q < highM) candidates.add(q);
      if (q > 0n && q < lowM) candidates.add(((lowM + q - 1n) / q) * q);
      if (q >= highM) break;
    }
    let best: { x: number; distance: number } | undefined;
    for (const m of candidates) {
      if (m < lowM || m >= highM) continue;
      const x = Number(m) * 2 ** (e - 23);
      const { r } = reducePiOver2Exact(x);
      if (!best || Math.abs(r) < best.distance) best = { x, distance: Math.abs(r) };
    }
    if (best) out.push(best);
  }
  return out;
}
