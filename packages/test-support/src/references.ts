/**
 * Scalar float64 references that tests use in place of core's own functions (the code under test): written
 * from the definitions with other algorithms than the core's, and checked against published values in
 * test/references.test.ts.
 */

/**
 * The error function by its everywhere-convergent series of positive terms,
 * erf x = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)): no cancellation, so accurate to a few float64 ulps;
 * another algorithm than core's (fdlibm's rational approximations).
 */
export function erfRef(x: number): number {
  if (Number.isNaN(x) || x === 0) return x; // odd: ±0 keep their sign
  const ax = Math.abs(x);
  let r = 1; // erfc(6) < 2.2e-17: erf is 1 in float64 from there on
  if (ax < 6) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 1000 && term >= 1e-17 * sum; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
    }
    r = Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum);
  }
  return x < 0 ? -r : r;
}

/** The logistic function 1 / (1 + e⁻ˣ), never exp of a large positive number (so no Infinity / Infinity). */
export function sigmoidRef(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
