import type { ReduceOp } from "@neurite/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomArray, rng, setup } from "./helpers.js";

/** Float64 reference with torch semantics: NaN wins max/min and arg ops point at the first NaN; ties take the first. */
function reference(op: ReduceOp, x: ArrayLike<number>, outer: number, size: number, inner: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const slice: number[] = [];
      for (let s = 0; s < size; s++) slice.push(x[(o * size + s) * inner + i]!);
      const nanAt = slice.findIndex((v) => Number.isNaN(v));
      switch (op) {
        case "sum": out.push(Math.fround(slice.reduce((a, b) => a + b, 0))); break;
        case "max": out.push(nanAt >= 0 ? NaN : Math.max(-Infinity, ...slice)); break;
        case "min": out.push(nanAt >= 0 ? NaN : Math.min(Infinity, ...slice)); break;
        case "argmax": out.push(size === 0 ? NaN : nanAt >= 0 ? nanAt : slice.indexOf(Math.max(...slice))); break;
        case "argmin": out.push(size === 0 ? NaN : nanAt >= 0 ? nanAt : slice.indexOf(Math.min(...slice))); break;
      }
    }
  }
  return out;
}

const OPS: ReduceOp[] = ["sum", "max", "min", "argmax", "argmin"];

function run(op: ReduceOp, x: ArrayLike<number>, outer: number, size: number, inner: number): number[] {
  const { be, up, read } = setup();
  const out = be.upload(new Float32Array(outer * inner).fill(777));
  be.reduce({ op, x: up(x), outer, size, inner, out });
  return read(out);
}

describe("reduce", () => {
  it("reduces known rows (inner = 1) and columns (inner > 1)", () => {
    const x = [3, -1, 7, 7, 2, 0];
    expect(run("sum", x, 2, 3, 1)).toEqual([9, 9]);
    expect(run("max", x, 2, 3, 1)).toEqual([7, 7]);
    expect(run("argmax", x, 2, 3, 1)).toEqual([2, 0]);
    expect(run("argmin", x, 2, 3, 1)).toEqual([1, 2]);
    expect(run("sum", x, 1, 2, 3)).toEqual([10, 1, 7]);
    expect(run("min", x, 1, 2, 3)).toEqual([3, -1, 0]);
    expect(run("argmax", x, 1, 2, 3)).toEqual([1, 1, 0]);
  });

  it("propagates NaN through max/min and points arg ops at the first NaN", () => {
    const x = [1, NaN, 5, NaN, -Infinity];
    for (const inner of [1, 2]) {
      const xs = inner === 1 ? x : x.flatMap((v) => [v, 0]);
      expect(run("max", xs, 1, 5, inner)[0]).toBeNaN();
      expect(run("min", xs, 1, 5, inner)[0]).toBeNaN();
      expect(run("argmax", xs, 1, 5, inner)[0]).toBe(1);
      expect(run("argmin", xs, 1, 5, inner)[0]).toBe(1);
      expect(run("sum", xs, 1, 5, inner)[0]).toBeNaN();
    }
    expect(run("argmax", [NaN, 2], 1, 2, 1)).toEqual([0]);
    expect(run("argmin", [2, 3, NaN], 1, 3, 1)).toEqual([2]);
  });

  it("takes the first index on ties, including ±Infinity", () => {
    for (const inner of [1, 3]) {
      const rows = [[2, 5, 5, 1, 5], [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity], [Infinity, 0, Infinity, 0, 0]];
      for (const row of rows) {
        const xs = row.flatMap((v) => new Array<number>(inner).fill(v));
        expect(run("argmax", xs, 1, 5, inner)).toEqual(reference("argmax", xs, 1, 5, inner));
        expect(run("argmin", xs, 1, 5, inner)).toEqual(reference("argmin", xs, 1, 5, inner));
      }
    }
    expect(run("argmax", [-Infinity, -Infinity], 1, 2, 1)).toEqual([0]);
    expect(run("argmin", [1, 0, 0], 1, 3, 1)).toEqual([1]);
  });

  it("sums in float64", () => {
    // 1 + 2^-24 + 2^-24 + … is lost in float32 step by step, not in float64
    const x = [1, ...new Array<number>(16).fill(2 ** -24)];
    expect(run("sum", x, 1, 17, 1)).toEqual([Math.fround(1 + 16 * 2 ** -24)]);
    expect(run("sum", x.flatMap((v) => [v, v]), 1, 17, 2)).toEqual([Math.fround(1 + 16 * 2 ** -24), Math.fround(1 + 16 * 2 ** -24)]);
  });

  it("gives 0, -Infinity, +Infinity for an empty axis and leaves empty outputs alone", () => {
    expect(run("sum", [], 2, 0, 3)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(run("max", [], 1, 0, 2)).toEqual([-Infinity, -Infinity]);
    expect(run("min", [], 1, 0, 1)).toEqual([Infinity]);
    expect(run("argmax", [], 1, 0, 1)[0]).toBeNaN();
    expect(run("sum", [], 0, 4, 3)).toEqual([]);
  });

  it("matches the reference over random data with NaN, ties and infinities", () => {
    const value = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -3, max: 3 }) },
      { weight: 4, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }) },
      { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
    );
    const arb = fc.record({ outer: fc.integer({ min: 0, max: 3 }), size: fc.integer({ min: 0, max: 6 }), inner: fc.integer({ min: 1, max: 4 }) })
      .chain((s) => fc.record({ s: fc.constant(s), x: fc.array(value, { minLength: s.outer * s.size * s.inner, maxLength: s.outer * s.size * s.inner }), op: fc.constantFrom(...OPS) }));
    fc.assert(fc.property(arb, ({ s, x, op }) => {
      const got = run(op, x, s.outer, s.size, s.inner);
      const want = reference(op, Float32Array.from(x), s.outer, s.size, s.inner);
      expect(got.map(String)).toEqual(want.map((v) => String(op === "sum" ? v : Math.fround(v))));
    }), { numRuns: 300, seed: 3 });
  });

  it("rejects buffers too small for the shape", () => {
    const { be } = setup();
    expect(() => be.reduce({ op: "sum", x: be.alloc(5), outer: 2, size: 3, inner: 1, out: be.alloc(2) })).toThrow(/x holds 5/);
  });
});

describe("prepared reduce (compiled steps)", () => {
  it("does what the call does for every op and layout, reading x afresh at each run", () => {
    const { be, up, read } = setup();
    const rand = rng(5);
    for (const op of ["sum", "max", "min", "argmax", "argmin"] as const) {
      for (const [outer, size, inner] of [[3, 10, 1], [1, 10, 32], [2, 7, 5], [2, 0, 3]] as const) {
        const n = outer * size * inner;
        const x = up(randomArray(n, rand));
        const out = be.alloc(outer * inner);
        const run = be.prepare("reduce", false, { op, x, out, outer, size, inner })!;
        for (let round = 0; round < 2; round++) {
          // new contents in the same buffer: the prepared call must read them
          const values = randomArray(n, rand);
          be.kernels.copy!({ x: up(values), out: x, size: n });
          run();
          expect(read(out), `${op} [${outer}, ${size}, ${inner}] round ${round}`).toEqual(reference(op, values, outer, size, inner).map((v) => Math.fround(v)));
        }
      }
    }
    expect(() => be.prepare("reduce", false, { op: "sum", x: up([1, 2]), out: be.alloc(1), outer: 1, size: 3, inner: 1 })).toThrow(/x holds 2 values/);
  });
});
