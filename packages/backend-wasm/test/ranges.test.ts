import { describe, expect, it } from "vitest";
import { type Expr, input } from "@neurite/core";
import { boundBranches, isNonPositive } from "../src/ranges.js";
import { backends, mismatches, on } from "./helpers.js";

const { wasm } = await backends();
const x = input(0);

function run(program: Expr, xs: Float32Array): Float32Array {
  return on(wasm, [xs], xs.length, ([id], out) =>
    wasm.elementwise({ program, inputs: [{ id: id!, offset: 0, strides: [1] }], scalars: [], shape: [xs.length], out: { id: out, offset: 0, strides: [1] } }),
  );
}

describe("boundBranches", () => {
  it("bounds exp and expm1 in the branch where their operand is ≤ 0, and nowhere else", () => {
    const elu = x.le(0).where(x.expm1().mul(1.5), x);
    expect(boundBranches(elu).key).toBe(x.le(0).where(x.min(0).expm1().mul(1.5), x).key);
    // the false branch of x > 0 holds x ≤ 0 and NaN
    const flipped = x.gt(0).where(x, x.exp().sub(1));
    expect(boundBranches(flipped).key).toBe(x.gt(0).where(x, x.min(0).exp().sub(1)).key);
    // the same expm1 used outside the branch keeps its general form there
    const shared = x.le(0).where(x.expm1(), 0).add(x.expm1());
    expect(boundBranches(shared).key).toBe(x.le(0).where(x.min(0).expm1(), 0).add(x.expm1()).key);
  });

  it("leaves expressions without such a branch unchanged", () => {
    for (const e of [x.expm1(), x.le(1).where(x.expm1(), x), x.gt(0).where(x.exp(), x), x.le(0).where(x.mul(2).exp(), x)]) {
      expect(boundBranches(e)).toBe(e);
    }
  });

  it("isNonPositive recognises min with a constant ≤ 0 and −|x|", () => {
    expect([x.min(0), x.min(-2), x.abs().neg()].map(isNonPositive)).toEqual([true, true, true]);
    expect([x.min(1), x.neg(), x].map(isNonPositive)).toEqual([false, false, false]);
  });

  it("compiled, the bounded forms keep the reference tolerance over a dense sweep, NaN and ±∞ included", () => {
    const xs = new Float32Array([...new Float32Array(200_001).map((_, i) => -100 + i / 1000), NaN, Infinity, -Infinity, -0, 0]);
    const cases: [Expr, (v: number) => number][] = [
      [x.le(0).where(x.expm1().mul(1.5), x), (v) => (v <= 0 ? 1.5 * Math.expm1(v) : v)],
      [x.gt(0).where(x, x.exp()), (v) => (v > 0 ? v : Math.exp(v))],
    ];
    for (const [program, f] of cases) {
      expect(mismatches(run(program, xs), xs.map(f), 1e-6, 1e-7, (i) => `${program.key} at ${xs[i]}`)).toEqual([]);
    }
  });
});
