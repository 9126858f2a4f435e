/** The float64 references, against published values (not against core, which they stand in for). */
import { describe, expect, test } from "vitest";
import { erfRef, sigmoidRef } from "../src/index.js";

/** |a − e| within `ulps` float64 units of e (relative). */
const within = (a: number, e: number, ulps: number): boolean => Math.abs(a - e) <= ulps * Number.EPSILON * Math.abs(e);

describe("erfRef (series of positive terms)", () => {
  // erf(x) rounded to float64 (from 19-digit tables, e.g. Abramowitz & Stegun 7.1; erf(5) = 1 − erfc(5), erfc(5) = 1.537459794428035e-12)
  const known: [number, number][] = [
    [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [1.5, 0.9661051464753108],
    [2, 0.9953222650189527], [2.5, 0.999593047982555], [3, 0.9999779095030014], [4, 0.9999999845827421],
    [5, 1 - 1.537459794428035e-12],
  ];
  test("matches the tables to 8 ulps, and is odd", () => {
    for (const [x, v] of known) {
      expect(within(erfRef(x), v, 8), `erfRef(${x}) = ${erfRef(x)}, table ${v}`).toBe(true);
      expect(erfRef(-x)).toBe(-erfRef(x));
    }
  });
  test("keeps ±0 and NaN, and saturates at ±1", () => {
    expect(Object.is(erfRef(0), 0)).toBe(true);
    expect(Object.is(erfRef(-0), -0)).toBe(true);
    expect(erfRef(NaN)).toBeNaN();
    for (const x of [6, 10, 1e300, Infinity]) expect([erfRef(x), erfRef(-x)]).toEqual([1, -1]);
    expect(erfRef(5.9)).toBeLessThanOrEqual(1);
  });
  test("is 2x/√π near 0 and increases", () => {
    expect(within(erfRef(1e-10), (2 / Math.sqrt(Math.PI)) * 1e-10, 2)).toBe(true);
    // below 4 the steps (≥ 1e-9 relative) are far above the series' few-ulp error
    for (let i = -400; i < 400; i++) expect(erfRef((i + 1) / 100)).toBeGreaterThan(erfRef(i / 100));
  });
});

describe("sigmoidRef", () => {
  test("matches 1 / (1 + e^−x) at known values, without overflow far out", () => {
    expect(sigmoidRef(0)).toBe(0.5);
    expect(within(sigmoidRef(1), 0.7310585786300049, 2)).toBe(true);
    expect(within(sigmoidRef(-1), 0.2689414213699951, 2)).toBe(true);
    // e^−30 / (1 + e^−30), e^−30 = 9.357622968840175e-14
    expect(within(sigmoidRef(-30), 9.357622968840175e-14 / (1 + 9.357622968840175e-14), 4)).toBe(true);
    expect(sigmoidRef(-800)).toBe(0);
    expect(sigmoidRef(800)).toBe(1);
    expect(sigmoidRef(NaN)).toBeNaN();
  });
});
