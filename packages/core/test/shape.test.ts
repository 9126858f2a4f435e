/** Shape utilities: NumPy broadcasting with clear errors, strides, axis normalisation. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ArgumentError, ShapeError, broadcastShapes, checkViewBounds, collapseAxes, sizeOf, stridesOf } from "../src/index.js";
import { broadcastStrides, checkShape, normalizeAxes, normalizeAxis, sameShape } from "../src/tensor/shape.js";

/** NumPy's rule, written independently: align right, each axis equal or 1. */
function numpyBroadcast(shapes: number[][]): number[] | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let j = 0; j < rank; j++) {
    const dims = shapes.map((s) => s[s.length - rank + j] ?? 1).filter((d) => d !== 1);
    if (new Set(dims).size > 1) return undefined;
    out.push(dims[0] ?? 1);
  }
  return out;
}

describe("broadcastShapes", () => {
  test("examples", () => {
    expect(broadcastShapes("op", [[2, 3], [3]])).toEqual([2, 3]);
    expect(broadcastShapes("op", [[2, 1, 4], [3, 1]])).toEqual([2, 3, 4]);
    expect(broadcastShapes("op", [[], [5]])).toEqual([5]);
    expect(broadcastShapes("op", [[]])).toEqual([]);
    expect(broadcastShapes("op", [])).toEqual([]);
    expect(broadcastShapes("op", [[0], [1]])).toEqual([0]);
    expect(broadcastShapes("op", [[1, 0], [3, 1]])).toEqual([3, 0]);
    expect(broadcastShapes("op", [[2, 1], [1, 3], [4, 1, 1]])).toEqual([4, 2, 3]);
  });

  test("incompatible shapes: the error names the op, every shape, the axis and both sizes", () => {
    expect(() => broadcastShapes("add", [[2, 3], [4]])).toThrow(ShapeError);
    expect(() => broadcastShapes("add", [[2, 3], [4]])).toThrow("add: shapes [2, 3] and [4] cannot be broadcast together (axis 1 of the result: 3 vs 4); sizes must match or be 1");
    expect(() => broadcastShapes("where", [[2], [2], [3, 1, 5]])).toThrow(/where: shapes \[2\] and \[2\] and \[3, 1, 5\].*axis 2 of the result: 2 vs 5/);
    expect(() => broadcastShapes("mul", [[0], [2]])).toThrow(/0 vs 2/);
  });

  test("agrees with NumPy's rule on random shapes, whatever the order", () => {
    const shape = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 });
    let compatible = 0;
    let incompatible = 0;
    fc.assert(
      fc.property(fc.array(shape, { minLength: 1, maxLength: 3 }), (shapes) => {
        const expected = numpyBroadcast(shapes);
        if (expected) {
          compatible++;
          expect(broadcastShapes("op", shapes)).toEqual(expected);
          expect(broadcastShapes("op", [...shapes].reverse())).toEqual(expected);
        } else {
          incompatible++;
          expect(() => broadcastShapes("op", shapes)).toThrow(ShapeError);
        }
      }),
      { numRuns: 500, seed: 21 },
    );
    // the generator must exercise both outcomes
    expect(compatible).toBeGreaterThan(50);
    expect(incompatible).toBeGreaterThan(50);
  });
});

describe("sizes, strides, views", () => {
  test("sizeOf and stridesOf", () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([2, 0])).toBe(0);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
    expect(stridesOf([])).toEqual([]);
    expect(stridesOf([5])).toEqual([1]);
  });

  test("broadcastStrides are 0 on broadcast and missing axes", () => {
    expect(broadcastStrides([3, 1], [2, 3, 4])).toEqual([0, 1, 0]);
    expect(broadcastStrides([2, 3], [2, 3])).toEqual([3, 1]);
    expect(broadcastStrides([], [2, 2])).toEqual([0, 0]);
  });

  test("checkShape and sameShape", () => {
    expect(() => checkShape([2, 3])).not.toThrow();
    expect(() => checkShape([2, -1])).toThrow(ArgumentError);
    expect(() => checkShape([1.5], "zeros: shape")).toThrow("zeros: shape must be an array of non-negative integers, got [1.5]");
    expect(() => checkShape("2" as never)).toThrow(/got "2"/);
    expect(sameShape([2, 3], [2, 3])).toBe(true);
    expect(sameShape([2, 3], [3, 2])).toBe(false);
    expect(sameShape([], [1])).toBe(false);
  });
});

describe("axes", () => {
  test("normalizeAxis counts negatives from the end and names the valid range", () => {
    expect(normalizeAxis(-1, 3, "op")).toBe(2);
    expect(normalizeAxis(0, 1, "op")).toBe(0);
    expect(() => normalizeAxis(3, 3, "sum")).toThrow("sum: axis must be an integer in [-3, 2] for a rank-3 tensor, got 3");
    expect(() => normalizeAxis(-4, 3, "sum")).toThrow(ArgumentError);
    expect(() => normalizeAxis(0.5, 3, "sum")).toThrow(/got 0\.5/);
    expect(() => normalizeAxis(0, 0, "argmax")).toThrow("argmax: a rank-0 tensor (shape []) has no axis 0");
  });

  test("normalizeAxes: all when undefined, sorted, repeats rejected", () => {
    expect(normalizeAxes(undefined, 3, "op")).toEqual([0, 1, 2]);
    expect(normalizeAxes(undefined, 0, "op")).toEqual([]);
    expect(normalizeAxes([2, 0], 3, "op")).toEqual([0, 2]);
    expect(normalizeAxes(-1, 3, "op")).toEqual([2]);
    expect(normalizeAxes([], 3, "op")).toEqual([]);
    expect(() => normalizeAxes([0, -3], 3, "mean")).toThrow("mean: axes must not repeat, got [0,-3]");
  });
});

describe("backend layout helpers", () => {
  test("collapses axes that are contiguous for every operand", () => {
    expect(collapseAxes([2, 3, 4], [[12, 4, 1], [12, 4, 1]])).toEqual({ shape: [24], strides: [[1], [1]] });
    expect(collapseAxes([2, 3, 4], [[0, 0, 0], [12, 4, 1]])).toEqual({ shape: [24], strides: [[0], [1]] });
    expect(collapseAxes([2, 3, 4], [[0, 4, 1], [12, 4, 1]])).toEqual({ shape: [2, 12], strides: [[0, 1], [12, 1]] });
    expect(collapseAxes([2, 1, 4], [[4, 99, 1], [4, 4, 1]])).toEqual({ shape: [8], strides: [[1], [1]] });
    expect(collapseAxes([3, 2], [[1, 3], [2, 1]])).toEqual({ shape: [3, 2], strides: [[1, 3], [2, 1]] });
    expect(collapseAxes([1, 1], [[5, 7]])).toEqual({ shape: [1], strides: [[0]] });
  });


  test("view bounds: a view reaching past its buffer is a RangeError naming the elements", () => {
    expect(() => checkViewBounds({ id: {}, offset: 0, strides: [1] }, 3, [4], "input 0")).toThrow(/input 0 reaches elements \[0, 3\] of a buffer of 3/);
    expect(() => checkViewBounds({ id: {}, offset: 2, strides: [-1] }, 3, [3], "out")).not.toThrow();
    expect(() => checkViewBounds({ id: {}, offset: 1, strides: [-1] }, 3, [3], "out")).toThrow(/\[-1, 1\]/);
    expect(() => checkViewBounds({ id: {}, offset: 0, strides: [1, 1] }, 3, [3], "x")).toThrow(/2 strides for a shape of rank 1/);
  });
});
