/** The seeded generator behind uniform/normal/shuffling: determinism and distribution properties. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ArgumentError, Random } from "../src/index.js";

const draw = (seed: number, n: number, f: (r: Random) => number): number[] => {
  const r = new Random(seed);
  return Array.from({ length: n }, () => f(r));
};

function moments(v: readonly number[]): { mean: number; variance: number; skew: number; kurtosis: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const m = (k: number) => v.reduce((a, b) => a + (b - mean) ** k, 0) / n;
  const variance = m(2);
  return { mean, variance, skew: m(3) / variance ** 1.5, kurtosis: m(4) / variance ** 2 };
}

describe("Random", () => {
  test("the same seed gives the same stream; different seeds different streams", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const a = draw(seed, 20, (r) => r.nextUint32());
        expect(draw(seed, 20, (r) => r.nextUint32())).toEqual(a);
        expect(draw(seed + 1, 20, (r) => r.nextUint32())).not.toEqual(a);
        expect(a.filter((v) => !(Number.isInteger(v) && v >= 0 && v < 2 ** 32))).toEqual([]);
      }),
      { numRuns: 100, seed: 31 },
    );
  });

  test("seeds above 2³² are not truncated to their low bits; fractional seeds are floored", () => {
    expect(draw(2 ** 32 + 5, 4, (r) => r.nextUint32())).not.toEqual(draw(5, 4, (r) => r.nextUint32()));
    expect(draw(7.9, 4, (r) => r.nextUint32())).toEqual(draw(7, 4, (r) => r.nextUint32()));
    expect(draw(-1, 4, (r) => r.nextUint32())).not.toEqual(draw(1, 4, (r) => r.nextUint32()));
  });

  test("neighbouring seeds give uncorrelated first values", () => {
    const firsts = Array.from({ length: 2000 }, (_, s) => new Random(s).next());
    const { mean, variance } = moments(firsts);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.01);
    let lag = 0;
    for (let i = 1; i < firsts.length; i++) lag += (firsts[i]! - mean) * (firsts[i - 1]! - mean);
    expect(Math.abs(lag / (firsts.length - 1) / variance)).toBeLessThan(0.1);
  });

  test("next() is uniform on [0, 1): moments and a chi-square test over 20 bins", () => {
    const v = draw(123, 50000, (r) => r.next());
    expect(v.filter((x) => !(x >= 0 && x < 1))).toEqual([]);
    const m = moments(v);
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(0.006); // standard error 0.0013
    expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(0.003);
    const bins = new Array<number>(20).fill(0);
    for (const x of v) bins[Math.floor(x * 20)]!++;
    const expected = v.length / 20;
    const chi2 = bins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(43.8); // the 0.1% critical value for 19 degrees of freedom
  });

  test("next() uses 53 bits: values are not all multiples of 2⁻³²", () => {
    const v = draw(9, 100, (r) => r.next());
    expect(v.some((x) => !Number.isInteger(x * 2 ** 32))).toBe(true);
  });

  test("normal() has mean 0, variance 1, skew 0, kurtosis 3", () => {
    const m = moments(draw(77, 50000, (r) => r.normal()));
    expect(Math.abs(m.mean)).toBeLessThan(0.02); // standard error 0.0045
    expect(Math.abs(m.variance - 1)).toBeLessThan(0.03);
    expect(Math.abs(m.skew)).toBeLessThan(0.05);
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(0.1);
  });

  test("int(n) covers [0, n) evenly", () => {
    const counts = new Array<number>(7).fill(0);
    const r = new Random(5);
    const bad: number[] = [];
    for (let i = 0; i < 70000; i++) {
      const k = r.int(7);
      if (Number.isInteger(k) && k >= 0 && k < 7) counts[k]!++;
      else bad.push(k);
    }
    expect(bad).toEqual([]);
    const chi2 = counts.reduce((s, o) => s + (o - 10000) ** 2 / 10000, 0);
    expect(chi2).toBeLessThan(22.5); // 0.1% critical value, 6 degrees of freedom
  });

  test("permutation(n) is a permutation, deterministic per seed, and unbiased by position", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 1e6 }), (n, seed) => {
        const p = new Random(seed).permutation(n);
        expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(new Random(seed).permutation(n)).toEqual(p);
      }),
      { numRuns: 200, seed: 41 },
    );
    expect(new Random(1).permutation(20)).not.toEqual(new Random(2).permutation(20));
    // where element 0 lands: uniform over 5 positions across many seeds
    const counts = new Array<number>(5).fill(0);
    for (let s = 0; s < 5000; s++) counts[new Random(s).permutation(5).indexOf(0)]!++;
    const chi2 = counts.reduce((sum, o) => sum + (o - 1000) ** 2 / 1000, 0);
    expect(chi2).toBeLessThan(18.5); // 0.1% critical value, 4 degrees of freedom
  });

  test("uniformArray stays in [min, max) after float32 rounding; normalArray scales and shifts", () => {
    const u = new Random(3).uniformArray(100000, 1, 1 + 2 ** -20);
    expect(Array.from(u).filter((x) => !(x >= 1 && x < 1 + 2 ** -20))).toEqual([]);
    expect(new Set(u).size).toBeGreaterThan(4); // still spread over the float32 values of the interval
    expect(Array.from(new Random(3).uniformArray(5, 2, 2))).toEqual([2, 2, 2, 2, 2]);
    const g = Array.from(new Random(4).normalArray(40000, 10, 0.5));
    const m = moments(g);
    expect(Math.abs(m.mean - 10)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(m.variance) - 0.5)).toBeLessThan(0.02);
  });

  test("freshSeed differs between calls; a non-finite seed is refused", () => {
    expect(Random.freshSeed()).not.toBe(Random.freshSeed());
    expect(() => new Random(NaN)).toThrow(ArgumentError);
    expect(() => new Random(Infinity)).toThrow("seed must be a finite number, got Infinity");
  });
});
