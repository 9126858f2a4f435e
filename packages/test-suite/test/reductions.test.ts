/** Reductions on every backend: sum, mean, max, min, argmax, argmin, logSumExp over any axes, with keepDims. */
import { ArgumentError, argmax, argmin, logSumExp, max, mean, min, sum, tensor } from "@neurite/core";
import { expect, test } from "vitest";
import { expectClose, expectTensor } from "../src/assert.js";
import { forEachBackend } from "../src/backends.js";
import { rand } from "../src/cases.js";
import * as R from "../src/reference.js";
import { TestRng } from "@neurite/test-support";
import { fromNd } from "../src/tensors.js";

const rng = new TestRng(99);
const OPS = { sum, mean, max, min, logSumExp } as const;

/** Every subset of the axes of a rank-r tensor, including the empty set and non-adjacent ones. */
function subsets(rank: number): number[][] {
  const out: number[][] = [];
  for (let m = 0; m < 1 << rank; m++) out.push([...Array(rank).keys()].filter((a) => m & (1 << a)));
  return out;
}

forEachBackend("reductions", () => {
  test("hand-computed values over all, one and both axes", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expectTensor(sum(x), [], [21]);
    expectTensor(sum(x, 0), [3], [5, 7, 9]);
    expectTensor(sum(x, 1), [2], [6, 15]);
    expectTensor(sum(x, -1, true), [2, 1], [6, 15]);
    expectTensor(sum(x, [0, 1], true), [1, 1], [21]);
    expectTensor(mean(x, 0), [3], [2.5, 3.5, 4.5]);
    expectTensor(mean(x), [], [3.5]);
    expectTensor(max(x, 1), [2], [3, 6]);
    expectTensor(min(x, 0, true), [1, 3], [1, 2, 3]);
    expectTensor(x.max(), [], [6]);
    expectTensor(logSumExp(x, 1), [2], [Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(5) + Math.exp(6))]);
    expectTensor(x.mean(1), [2], [2, 5]);
  });

  test("argmax and argmin return the first index of the extreme along an axis", () => {
    const x = tensor([[3, 7, 7], [9, 0, 0]]);
    expectTensor(argmax(x), [2], [1, 0]);
    expectTensor(argmax(x, 0), [3], [1, 0, 0]);
    expectTensor(argmin(x, 1), [2], [0, 1]);
    expectTensor(argmin(x, -2), [3], [0, 1, 1]);
    expectTensor(x.argmax(1), [2], [1, 0]);
    expectTensor(argmax(tensor([-Infinity, -5, -Infinity])), [], [1]);
    expect(() => argmax(x, 2)).toThrow(/argmax: axis must be an integer in \[-2, 1\] for a rank-2 tensor, got 2/);
  });

  for (const op of Object.keys(OPS) as (keyof typeof OPS)[]) {
    test(`${op} over every axis subset of [2, 3, 4] (incl. [0, 2]) and of [2, 3, 2, 3], with and without keepDims`, () => {
      for (const shape of [[2, 3, 4], [2, 3, 2, 3]]) {
        const x = rand(rng, shape, -3, 3);
        const t = fromNd(x);
        for (const axes of subsets(shape.length)) {
          for (const keepDims of [false, true]) {
            const r = axes.length === 0 ? x : R.reduce(x, op, axes, keepDims);
            expectTensor(OPS[op](t, axes, keepDims), r.shape, r.data, { rtol: 2e-6, atol: 2e-6 }, `${op} [${shape.join(",")}] axes [${axes.join(",")}] keepDims ${keepDims}`);
          }
        }
        // negative axes name the same axes
        const r = R.reduce(x, op, [0, shape.length - 1], true);
        expectTensor(OPS[op](t, [-shape.length, -1], true), r.shape, r.data, { rtol: 2e-6, atol: 2e-6 }, `${op} negative axes`);
      }
    });
  }

  test("argmax and argmin agree with the reference along every axis", () => {
    const x = rand(rng, [3, 4, 5]);
    const t = fromNd(x);
    for (const axis of [0, 1, 2, -1]) {
      for (const [op, f] of [["argmax", argmax], ["argmin", argmin]] as const) {
        const r = R.reduce(x, op, axis);
        expectTensor(f(t, axis), r.shape, r.data, { rtol: 0, atol: 0 }, `${op} axis ${axis}`);
      }
    }
  });

  test("logSumExp is stable: huge values, −Infinity entries, +Infinity, NaN", () => {
    expectClose(logSumExp(tensor([1000, 1000])).dataSync(), [1000 + Math.LN2]);
    expectClose(logSumExp(tensor([-1000, -1000, -1000])).dataSync(), [-1000 + Math.log(3)]);
    expectClose(logSumExp(tensor([3e38, 3e38])).dataSync(), [Math.fround(3e38)]);
    expectClose(logSumExp(tensor([[88, 89, 90]]), 1).dataSync(), [90 + Math.log(1 + Math.exp(-1) + Math.exp(-2))]);
    expectClose(logSumExp(tensor([-Infinity, 0, -Infinity])).dataSync(), [0]);
    expectClose(logSumExp(tensor([[-Infinity, -Infinity], [1, -Infinity]]), 1).dataSync(), [-Infinity, 1]);
    expectClose(logSumExp(tensor([Infinity, 1])).dataSync(), [Infinity]);
    expectClose(logSumExp(tensor([Infinity, -Infinity])).dataSync(), [Infinity]);
    expectClose(logSumExp(tensor([NaN, 1, 2])).dataSync(), [NaN]);
    expectClose(logSumExp(tensor([[1, NaN], [1, 2]]), 1).dataSync(), [NaN, 2 + Math.log(1 + Math.exp(-1))]);
  });

  test("NaN propagates through sum, mean, max and min", () => {
    const x = tensor([[1, NaN, 3], [4, 5, 6]]);
    for (const [name, f] of [["sum", sum], ["mean", mean], ["max", max], ["min", min]] as const) {
      const row = f(x, 1).dataSync();
      expect(row[0], `${name} row with NaN`).toBeNaN();
      expect(row[1], `${name} row without NaN`).not.toBeNaN();
      expect(f(x).item(), `${name} over all`).toBeNaN();
    }
    // NaN anywhere in the row, not just first or last
    expect(max(tensor([NaN, 1, 2])).item()).toBeNaN();
    expect(max(tensor([1, 2, NaN])).item()).toBeNaN();
    expect(min(tensor([1, NaN, 0])).item()).toBeNaN();
  });

  test("a large sum is accurate to 1e-5 (no naive float32 accumulation)", () => {
    const n = 100000;
    const v = new Float32Array(n).fill(0.1);
    expectClose([sum(tensor(v)).item()], [n * Math.fround(0.1)], { rtol: 1e-5 });
    expectClose([mean(tensor(v, [10, n / 10]), 1).dataSync()[3]!], [Math.fround(0.1)], { rtol: 1e-5 });
  });

  test("size-1 and empty axes", () => {
    expectTensor(sum(tensor([[1, 2, 3]]), 0), [3], [1, 2, 3]);
    expectTensor(max(tensor([[1], [5]]), 1, true), [2, 1], [1, 5]);
    expectTensor(sum(tensor(new Float32Array(0), [2, 0]), 1), [2], [0, 0]);
    expectTensor(sum(tensor(4)), [], [4]);
    expect(() => argmax(tensor(new Float32Array(0), [2, 0]), 1)).toThrow(/cannot take argmax over an empty axis of a tensor of shape \[2, 0\]/);
  });

  test("bad axes are rejected with the op, the axis and the valid range", () => {
    const x = tensor([[1, 2]]);
    expect(() => sum(x, 2)).toThrow(ArgumentError);
    expect(() => sum(x, 2)).toThrow("sum: axis must be an integer in [-2, 1] for a rank-2 tensor, got 2");
    expect(() => mean(x, [0, 0])).toThrow("mean: axes must not repeat, got [0,0]");
    expect(() => max(x, [0, -2])).toThrow(/axes must not repeat/);
    expect(() => min(x, 0.5)).toThrow(/got 0\.5/);
    expect(() => sum(tensor(5), 0)).toThrow(/rank-0 tensor \(shape \[\]\) has no axis 0/);
    expect(() => logSumExp(x, -3)).toThrow(/logSumExp: axis/);
  });
});
