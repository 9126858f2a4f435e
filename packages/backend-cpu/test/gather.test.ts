import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { setup } from "./helpers.js";

function refGather(x: number[], idx: number[], outer: number, axisSize: number, inner: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < outer; o++) for (const c of idx) for (let i = 0; i < inner; i++) out.push(x[(o * axisSize + c) * inner + i]!);
  return out;
}

function refScatter(src: number[], idx: number[], outer: number, axisSize: number, inner: number): number[] {
  const out = new Array<number>(outer * axisSize * inner).fill(0);
  for (let o = 0; o < outer; o++) {
    idx.forEach((c, k) => {
      for (let i = 0; i < inner; i++) out[(o * axisSize + c) * inner + i] = Math.fround(out[(o * axisSize + c) * inner + i]! + src[(o * idx.length + k) * inner + i]!);
    });
  }
  return out;
}

describe("gather / scatterAdd", () => {
  it("gathers rows of an embedding table, with repeats", () => {
    const { be, up, read } = setup();
    const out = be.alloc(8);
    be.gather({ x: up([0, 1, 10, 11, 20, 21]), indices: up([2, 0, 2, 1]), outer: 1, axisSize: 3, inner: 2, count: 4, out });
    expect(read(out)).toEqual([20, 21, 0, 1, 20, 21, 10, 11]);
  });

  it("scatter-adds back, zeroing first and summing repeated indices", () => {
    const { be, up, read } = setup();
    const out = be.upload(new Float32Array(6).fill(99));
    be.scatterAdd({ src: up([1, 2, 3, 4, 5, 6, 7, 8]), indices: up([2, 0, 2, 1]), outer: 1, axisSize: 3, inner: 2, count: 4, out });
    expect(read(out)).toEqual([3, 4, 7, 8, 6, 8]);
  });

  it("matches the reference over random shapes (outer, inner and long rows)", () => {
    const arb = fc.record({
      outer: fc.integer({ min: 1, max: 3 }), axisSize: fc.integer({ min: 1, max: 5 }),
      inner: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(64, 100)), count: fc.integer({ min: 0, max: 6 }), seed: fc.nat(),
    });
    fc.assert(fc.property(arb, ({ outer, axisSize, inner, count, seed }) => {
      const { be, up, read } = setup();
      const idx = Array.from({ length: count }, (_, c) => (seed + c * 7) % axisSize);
      const x = Array.from({ length: outer * axisSize * inner }, (_, i) => i * 0.5 - 3);
      const out = be.alloc(outer * count * inner);
      be.gather({ x: up(x), indices: up(idx), outer, axisSize, inner, count, out });
      expect(read(out)).toEqual(refGather(x, idx, outer, axisSize, inner));
      const src = Array.from({ length: outer * count * inner }, (_, i) => Math.fround(Math.sin(i + seed)));
      const back = be.alloc(outer * axisSize * inner);
      be.scatterAdd({ src: up(src), indices: up(idx), outer, axisSize, inner, count, out: back });
      expect(read(back)).toEqual(refScatter(src, idx, outer, axisSize, inner));
    }), { numRuns: 150, seed: 11 });
  });

  it("names a bad index and the axis size", () => {
    const { be, up } = setup();
    const args = { x: up([1, 2, 3]), outer: 1, axisSize: 3, inner: 1, count: 2, out: be.alloc(2) };
    expect(() => be.gather({ ...args, indices: up([0, 3]) })).toThrow(/index 3 at position 1 is out of range for an axis of size 3/);
    expect(() => be.gather({ ...args, indices: up([-1, 0]) })).toThrow(RangeError);
    expect(() => be.gather({ ...args, indices: up([1.5, 0]) })).toThrow(/index 1.5/);
    expect(() => be.gather({ ...args, indices: up([NaN, 0]) })).toThrow(/index NaN/);
    expect(() => be.scatterAdd({ src: up([1, 2]), indices: up([0, 7]), outer: 1, axisSize: 3, inner: 1, count: 2, out: be.alloc(3) })).toThrow(/scatterAdd: index 7 at position 1 .* size 3/);
  });
});
