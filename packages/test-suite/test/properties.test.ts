/**
 * Property tests (fast-check) on every backend: NumPy broadcasting over random shapes (result shape, values,
 * and the error for incompatible shapes), reductions over random axis subsets, and broadcast gradients.
 */
import { type Tensor, ShapeError, add, div, less, logSumExp, max, maximum, mean, min, minimum, mul, pow, sub, sum, where } from "@neurite/core";
import fc from "fast-check";
import { expect, test } from "vitest";
import { expectTensor } from "../src/assert.js";
import { forEachBackend } from "../src/backends.js";
import { rand } from "../src/cases.js";
import { gradCheck } from "../src/gradcheck.js";
import * as R from "../src/reference.js";
import { TestRng } from "@neurite/test-support";
import { fromNd } from "../src/tensors.js";

const dim = fc.integer({ min: 1, max: 4 });
const shapeArb = (maxRank: number) => fc.array(dim, { minLength: 0, maxLength: maxRank });

/** Two shapes that broadcast together: suffixes of one target shape with some axes set to 1. */
const compatiblePair = shapeArb(4).chain((target) =>
  fc.tuple(
    fc.constant(target),
    fc.integer({ min: 0, max: target.length }),
    fc.integer({ min: 0, max: target.length }),
    fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }),
    fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }),
  ).map(([t, dropA, dropB, onesA, onesB]) => {
    const a = t.map((d, i) => (onesA[i] ? 1 : d)).slice(dropA);
    const b = t.map((d, i) => (onesB[i] ? 1 : d)).slice(dropB);
    return [a, b] as const;
  }),
);

type BinaryOp = [name: string, f: (a: Tensor, b: Tensor) => Tensor, ref: (a: number, b: number) => number];
const BINARY: BinaryOp[] = [
  ["add", add, (a, b) => a + b],
  ["sub", sub, (a, b) => a - b],
  ["mul", mul, (a, b) => a * b],
  ["div", div, (a, b) => a / b],
  ["pow", pow, (a, b) => a ** b],
  ["maximum", maximum, Math.max],
  ["minimum", minimum, Math.min],
  ["less", less, (a, b) => (a < b ? 1 : 0)],
];

const REDUCERS = { sum, mean, max, min, logSumExp } as const;
const fcOptions = { numRuns: 60, seed: 4242 };

forEachBackend("properties", () => {
  test("binary ops broadcast like NumPy: result shape and values (compatible shapes)", () => {
    fc.assert(
      fc.property(compatiblePair, fc.integer({ min: 0, max: BINARY.length - 1 }), fc.integer(), ([sa, sb], k, seed) => {
        const [name, f, ref] = BINARY[k]!;
        const rng = new TestRng(seed);
        const a = name === "pow" ? rand(rng, sa, 0.5, 2) : rand(rng, sa);
        const b = name === "div" ? rand(rng, sb, -2, 2, 0.25) : rand(rng, sb);
        const expected = R.map((x, y) => Math.fround(ref(x, y)), a, b);
        const out = f(fromNd(a), fromNd(b));
        expectTensor(out, expected.shape, expected.data, { rtol: 2e-6, atol: 0 }, `${name} [${sa.join(",")}] with [${sb.join(",")}]`);
        out.dispose();
      }),
      fcOptions,
    );
  });

  test("random shape pairs: broadcast exactly when NumPy does; otherwise a ShapeError naming the op and both shapes", () => {
    let compatible = 0;
    let incompatible = 0;
    fc.assert(
      fc.property(shapeArb(3), shapeArb(3), (sa, sb) => {
        let expectedShape: number[] | undefined;
        try {
          expectedShape = R.broadcastShape(sa, sb);
        } catch {
          expectedShape = undefined;
        }
        const a = fromNd(R.nd(sa, () => 1));
        const b = fromNd(R.nd(sb, () => 2));
        if (expectedShape) {
          compatible++;
          expect([...add(a, b).shape]).toEqual(expectedShape);
        } else {
          incompatible++;
          const fmt = (s: number[]) => `[${s.join(", ")}]`;
          expect(() => mul(a, b)).toThrow(ShapeError);
          expect(() => mul(a, b)).toThrow(`mul: shapes ${fmt(sa)} and ${fmt(sb)} cannot be broadcast together`);
        }
      }),
      { numRuns: 200, seed: 77 },
    );
    // the generator must exercise both outcomes
    expect(compatible).toBeGreaterThan(20);
    expect(incompatible).toBeGreaterThan(20);
  });

  test("where broadcasts three operands", () => {
    let checked = 0;
    fc.assert(
      fc.property(compatiblePair, shapeArb(2), fc.integer(), ([sa, sb], sc, seed) => {
        let shape: number[];
        try {
          shape = R.broadcastShape(sa, sb, sc);
        } catch {
          return; // covered by the error property above
        }
        checked++;
        const rng = new TestRng(seed);
        const c = R.nd(sc, () => (rng.next() < 0.5 ? 0 : 1));
        const a = rand(rng, sa);
        const b = rand(rng, sb);
        const expected = R.map((k, x, y) => (k ? x : y), c, a, b);
        expectTensor(where(fromNd(c), fromNd(a), fromNd(b)), shape, expected.data, { rtol: 0, atol: 0 });
      }),
      fcOptions,
    );
    // the condition's random shape often cannot broadcast with the others; enough runs must still compare values
    expect(checked, `runs that compared values, of ${fcOptions.numRuns}`).toBeGreaterThanOrEqual(fcOptions.numRuns / 2);
  });

  test("reductions over random axis subsets (negative axes too) with keepDims match the reference", () => {
    fc.assert(
      fc.property(
        fc.array(dim, { minLength: 1, maxLength: 4 }).chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.subarray([...shape.keys()]),
            fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
            fc.boolean(),
            fc.constantFrom(...(Object.keys(REDUCERS) as (keyof typeof REDUCERS)[])),
            fc.integer(),
          ),
        ),
        ([shape, axes, negative, keepDims, op, seed]) => {
          const x = rand(new TestRng(seed), shape, -3, 3);
          const given = axes.map((a) => (negative[a] ? a - shape.length : a));
          const expected = axes.length === 0 ? x : R.reduce(x, op, axes, keepDims);
          const out = REDUCERS[op](fromNd(x), given, keepDims);
          expectTensor(out, expected.shape, expected.data, { rtol: 2e-6, atol: 2e-6 }, `${op} [${shape.join(",")}] axes [${given.join(",")}] keepDims ${keepDims}`);
        },
      ),
      fcOptions,
    );
  });

  test("gradients of broadcast binary ops sum back to each operand's shape", () => {
    fc.assert(
      fc.property(compatiblePair, fc.integer({ min: 0, max: 2 }), fc.integer(), ([sa, sb], k, seed) => {
        const rng = new TestRng(seed);
        const [name, f, ref] = ([["add", add, (x: number, y: number) => x + y], ["mul", mul, (x: number, y: number) => x * y], ["div", div, (x: number, y: number) => x / y]] as const)[k]!;
        gradCheck({
          name: `${name} [${sa.join(",")}] with [${sb.join(",")}]`,
          inputs: [rand(rng, sa), rand(rng, sb, -2, 2, 0.5)],
          f: (a, b) => f(a, b),
          ref: (a, b) => R.map(ref, a, b),
          fd32Samples: 2,
        });
      }),
      { numRuns: 25, seed: 99 },
    );
  });
});
