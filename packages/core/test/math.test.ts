/** erf64, sigmoid64 and tanh, the float64 scalar math shared by the reference evaluator and the CPU kernels. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { PRIMITIVE_HELPERS, erf64, sigmoid64 } from "../src/index.js";

/** An independent float64 erf: Maclaurin series below 2.5, Laplace's continued fraction for erfc above. */
function erfSeries(x: number): number {
  const ax = Math.abs(x);
  let r: number;
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = ax;
    for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}

describe("erf64", () => {
  test("known values", () => {
    const known: [number, number][] = [
      [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [-3, -0.9999779095030014],
    ];
    for (const [x, v] of known) expect(Math.abs(erf64(x) - v), `erf(${x})`).toBeLessThanOrEqual(2 * Number.EPSILON * Math.abs(v));
    expect(erf64(0)).toBe(0);
    expect(Object.is(erf64(-0), -0)).toBe(true);
  });

  test("the small-x linear regime: erf(x) = 2x/√π to the last bit", () => {
    for (const x of [1e-300, 1e-20, 1e-10, -3.7e-9, 2 ** -29]) {
      const lin = (2 / Math.sqrt(Math.PI)) * x;
      expect(Math.abs(erf64(x) - lin), `erf(${x})`).toBeLessThanOrEqual(Number.EPSILON * Math.abs(lin));
    }
    // just above the cut-over the cubic term is still below the rounding
    expect(erf64(1e-5)).toBeCloseTo((2 / Math.sqrt(Math.PI)) * (1e-5 - 1e-15 / 3), 20);
  });

  test("saturation, infinities and NaN", () => {
    expect(erf64(6)).toBe(1);
    expect(erf64(27)).toBe(1);
    expect(erf64(Infinity)).toBe(1);
    expect(erf64(-Infinity)).toBe(-1);
    expect(erf64(NaN)).toBeNaN();
    expect(erf64(5.9)).toBeLessThan(1);
  });

  test("agrees with an independent series to 1e-15 relative over [-6, 6] and is odd", () => {
    fc.assert(
      fc.property(fc.double({ min: -6, max: 6, noNaN: true }), (x) => {
        const ref = erfSeries(x);
        expect(Math.abs(erf64(x) - ref)).toBeLessThanOrEqual(4e-16 * Math.max(1e-300, Math.abs(ref)) + 1e-300);
        expect(erf64(-x)).toBe(-erf64(x));
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  test("is continuous and increasing across the boundaries of its rational approximations", () => {
    for (const b of [2 ** -28, 0.84375, 1.25, 1 / 0.35, 6]) {
      const below = erf64(b * (1 - 1e-12));
      const above = erf64(b * (1 + 1e-12));
      expect(above, `at ${b}`).toBeGreaterThanOrEqual(below);
      expect(above - below, `jump at ${b}`).toBeLessThan(1e-11);
    }
    const drops: number[] = [];
    let prev = -1;
    for (let x = -6; x <= 6; x += 0.001) {
      const v = erf64(x);
      if (v < prev) drops.push(x);
      prev = v;
    }
    expect(drops).toEqual([]);
  });
});

describe("sigmoid64", () => {
  test("values, symmetry and saturation without overflow", () => {
    expect(sigmoid64(0)).toBe(0.5);
    expect(sigmoid64(1000)).toBe(1);
    expect(sigmoid64(-1000)).toBe(0);
    expect(sigmoid64(-700)).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.double({ min: -40, max: 40, noNaN: true }), (x) => {
        expect(Math.abs(sigmoid64(x) + sigmoid64(-x) - 1)).toBeLessThanOrEqual(2 * Number.EPSILON);
        const ref = 1 / (1 + Math.exp(-x));
        expect(Math.abs(sigmoid64(x) - ref)).toBeLessThanOrEqual(4 * Number.EPSILON * ref);
      }),
      { numRuns: 1000, seed: 12 },
    );
    expect(sigmoid64(NaN)).toBeNaN();
  });

  test("keeps relative precision far in the negative tail (e^x there, not 1 − something)", () => {
    for (const x of [-50, -200, -700]) expect(Math.abs(sigmoid64(x) / Math.exp(x) - 1)).toBeLessThan(1e-14);
  });
});

describe("round (PRIMITIVE_HELPERS.roundHalfEven): ties to even, as torch.round", () => {
  const round = PRIMITIVE_HELPERS.roundHalfEven;

  test("ties go to the even neighbour; the sign of zero is kept", () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2 ** 52 + 1, 0.49999999999999994].map(round)).toEqual([0, 2, 2, 4, -0, -2, -2, 2 ** 52 + 1, 0]);
    expect(Object.is(round(-0.5), -0)).toBe(true);
    expect(Object.is(round(-0.2), -0)).toBe(true);
    expect([Infinity, -Infinity].map(round)).toEqual([Infinity, -Infinity]);
    expect(round(NaN)).toBeNaN();
  });

  test("agrees with an independent definition: the nearer of floor and ceil, the even one at a tie", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -1000, max: 1000 }), (v, k) => {
        for (const x of [v, k + 0.5]) {
          const [lo, hi] = [Math.floor(x), Math.ceil(x)];
          const want = x - lo < hi - x ? lo : hi - x < x - lo ? hi : lo % 2 === 0 ? lo : hi;
          expect(round(x)).toBe(want === 0 && x < 0 ? -0 : want);
        }
      }),
      { numRuns: 2000, seed: 11 },
    );
  });
});

describe("tanh (PRIMITIVE_HELPERS.tanh): the float64 tanh of the reference evaluator and the cpu kernels", () => {
  const tanh = PRIMITIVE_HELPERS.tanh;
  const ulp = (v: number): number => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 52);

  test("known values (mpmath, 40 digits) within 3 ulp, on both sides of the 0.625 switch; odd", () => {
    const known: [number, number][] = [
      // the float64 nearest to each
      [0.1, 0.09966799462495582], [0.5, 0.46211715726000974], [0.625, 0.5545997223493823],
      [0.7, 0.6043677771171635], [1, 0.7615941559557649], [2.5, 0.9866142981514303],
      [9, 0.999999969540041], [19.5, 1],
    ];
    for (const [x, v] of known) {
      expect(Math.abs(tanh(x) - v), `tanh(${x})`).toBeLessThanOrEqual(3 * ulp(v));
      expect(tanh(-x), `tanh(-${x})`).toBe(-tanh(x));
    }
  });

  test("special values: ±0 keep their sign, ±1 far out and at ±∞, NaN stays NaN, tiny x is x", () => {
    expect(Object.is(tanh(0), 0)).toBe(true);
    expect(Object.is(tanh(-0), -0)).toBe(true);
    for (const x of [20, 50, 400, 1e300, Infinity]) {
      expect(tanh(x)).toBe(1);
      expect(tanh(-x)).toBe(-1);
    }
    expect(tanh(NaN)).toBeNaN();
    for (const x of [5e-324, 1e-300, 1e-10, -3.7e-9]) expect(tanh(x)).toBe(x);
  });

  test("over a sweep of float32 inputs it rounds to the same float32 as Math.tanh (fdlibm), within 3 ulp in float64", () => {
    const f32 = new Float32Array(1);
    const bits = new Uint32Array(f32.buffer);
    let worst = 0;
    // every 997th positive float32, from the subnormals to ∞, and its negative
    for (let b = 0; b < 0x7f800000; b += 997) {
      bits[0] = b;
      for (const x of [f32[0]!, -f32[0]!]) {
        const want = Math.tanh(x);
        const got = tanh(x);
        if (Math.fround(got) !== Math.fround(want)) expect.fail(`tanh(${x}) = ${got} rounds to another float32 than ${want}`);
        if (want !== 0) worst = Math.max(worst, Math.abs(got - want) / ulp(want));
      }
    }
    expect(worst).toBeLessThanOrEqual(3);
  });

  test("agrees with the tutorial's identity tanh(x) = 2σ(2x) − 1 away from 0 (fast-check)", () => {
    fc.assert(fc.property(fc.double({ min: 0.05, max: 30, noNaN: true }), fc.boolean(), (a, negative) => {
      const x = negative ? -a : a;
      expect(Math.abs(tanh(x) - (2 * sigmoid64(2 * x) - 1))).toBeLessThanOrEqual(8 * Number.EPSILON);
    }));
  });
});
