/** The float64 references of fixtures.ts, written independently of core, against published values. */
import { describe, expect, it } from "vitest";
import { dsigmoid, erf, sigmoid } from "./fixtures.js";

/** |a − e| within `ulps` float64 units of e (relative). */
const within = (a: number, e: number, ulps: number): boolean => Math.abs(a - e) <= ulps * Number.EPSILON * Math.abs(e);

describe("erf (series of positive terms)", () => {
  // erf(x) rounded to float64 (from 19-digit tables, e.g. Abramowitz & Stegun 7.1; erf(5) = 1 − erfc(5), erfc(5) = 1.537459794428035e-12)
  const known: [number, number][] = [
    [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [1.5, 0.9661051464753108],
    [2, 0.9953222650189527], [2.5, 0.999593047982555], [3, 0.9999779095030014], [4, 0.9999999845827421],
    [5, 1 - 1.537459794428035e-12],
  ];
  it("matches the tables to 8 ulps, and is odd", () => {
    for (const [x, v] of known) {
      expect(within(erf(x), v, 8), `erf(${x}) = ${erf(x)}, table ${v}`).toBe(true);
      expect(erf(-x)).toBe(-erf(x));
    }
  });
  it("keeps ±0 and NaN, and saturates at ±1", () => {
    expect(Object.is(erf(0), 0)).toBe(true);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(NaN)).toBeNaN();
    for (const x of [6, 10, 1e300, Infinity]) expect([erf(x), erf(-x)]).toEqual([1, -1]);
    expect(erf(5.9)).toBeLessThanOrEqual(1);
  });
  it("is 2x/√π near 0 and increases", () => {
    expect(within(erf(1e-10), (2 / Math.sqrt(Math.PI)) * 1e-10, 2)).toBe(true);
    // below 4 the steps (≥ 1e-9 relative) are far above the series' few-ulp error
    for (let i = -400; i < 400; i++) expect(erf((i + 1) / 100)).toBeGreaterThan(erf(i / 100));
  });
});

describe("sigmoid", () => {
  it("matches 1 / (1 + e^−x) at known values, without overflow far out", () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(within(sigmoid(1), 0.7310585786300049, 2)).toBe(true);
    expect(within(sigmoid(-1), 0.2689414213699951, 2)).toBe(true);
    // e^−30 / (1 + e^−30), e^−30 = 9.357622968840175e-14
    expect(within(sigmoid(-30), 9.357622968840175e-14 / (1 + 9.357622968840175e-14), 4)).toBe(true);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(NaN)).toBeNaN();
  });
  it("its derivative is s(1 − s) = e^−x / (1 + e^−x)²", () => {
    expect(dsigmoid(0)).toBe(0.25);
    for (const x of [-30, -1, 0.5, 2, 7, 30]) {
      const e = Math.exp(-x);
      expect(within(dsigmoid(x), e / (1 + e) ** 2, 8), `x = ${x}`).toBe(true);
    }
  });
});
