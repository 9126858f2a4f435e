/** The float64 derivative reference of fixtures.ts (erfRef and sigmoidRef are checked in @neurite/test-support). */
import { describe, expect, it } from "vitest";
import { dsigmoid } from "./fixtures.js";

/** |a − e| within `ulps` float64 units of e (relative). */
const within = (a: number, e: number, ulps: number): boolean => Math.abs(a - e) <= ulps * Number.EPSILON * Math.abs(e);

describe("dsigmoid", () => {
  it("its derivative is s(1 − s) = e^−x / (1 + e^−x)²", () => {
    expect(dsigmoid(0)).toBe(0.25);
    for (const x of [-30, -1, 0.5, 2, 7, 30]) {
      const e = Math.exp(-x);
      expect(within(dsigmoid(x), e / (1 + e) ** 2, 8), `x = ${x}`).toBe(true);
    }
  });
});
