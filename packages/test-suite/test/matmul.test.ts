/** matmul on every backend: 2-D, batched 3-D, broadcast batch, all four transpose combinations, odd and blocked sizes. */
import { ShapeError, matmul, tensor, zeros } from "@neurite/core";
import { expect, test } from "vitest";
import { expectTensor } from "../src/assert.js";
import { forEachBackend } from "../src/backends.js";
import { rand } from "../src/cases.js";
import * as R from "../src/reference.js";
import { TestRng } from "@neurite/test-support";
import { fromNd } from "../src/tensors.js";

const rng = new TestRng(314);
const swap = (s: number[]): number[] => [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!];

/** a [.., m, k] · b [.., k, n] geometries: tiny, odd (not multiples of 4), large enough for blocked kernels, batched, broadcast. */
const GEOMETRIES: [number[], number[]][] = [
  [[1, 1], [1, 1]],
  [[2, 3], [3, 4]],
  [[5, 7], [7, 3]],
  [[4, 8], [8, 4]],
  [[1, 9], [9, 1]],
  [[33, 65], [65, 17]],
  [[64, 96], [96, 80]],
  [[3, 4, 5], [3, 5, 2]],
  [[2, 6, 7], [2, 7, 9]],
  [[4, 5], [3, 5, 6]],
  [[3, 4, 5], [5, 6]],
  [[1, 4, 5], [3, 5, 6]],
  [[3, 4, 5], [1, 5, 6]],
];

forEachBackend("matmul", () => {
  test("2-D product on hand-computed values, and the four transposes of it", () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[5, 6], [7, 8]]);
    expectTensor(matmul(a, b), [2, 2], [19, 22, 43, 50]);
    expectTensor(matmul(a, b, { transposeA: true }), [2, 2], [26, 30, 38, 44]);
    expectTensor(matmul(a, b, { transposeB: true }), [2, 2], [17, 23, 39, 53]);
    expectTensor(matmul(a, b, { transposeA: true, transposeB: true }), [2, 2], [23, 31, 34, 46]);
    expectTensor(a.matmul(tensor([[1], [1]])), [2, 1], [3, 7]);
  });

  for (const [sa, sb] of GEOMETRIES) {
    test(`[${sa.join(",")}] · [${sb.join(",")}] with all four transpose combinations matches float64`, () => {
      const a = rand(rng, sa);
      const b = rand(rng, sb);
      const expected = R.matmul(a, b);
      const k = sa[sa.length - 1]!;
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          // feed the transposed layout so that op(a) · op(b) is the same product every time
          const at = tA ? fromNd(R.transpose(a, sa.length === 3 ? [0, 2, 1] : [1, 0])) : fromNd(a);
          const bt = tB ? fromNd(R.transpose(b, sb.length === 3 ? [0, 2, 1] : [1, 0])) : fromNd(b);
          expect([...at.shape]).toEqual(tA ? swap(sa) : sa);
          const out = matmul(at, bt, { transposeA: tA, transposeB: tB });
          // float32 products of k terms of size ≤ 4: absolute error grows like k·ε
          expectTensor(out, expected.shape, expected.data, { rtol: 1e-5, atol: 4e-7 * k }, `transposeA ${tA}, transposeB ${tB}`);
        }
      }
    });
  }

  test("empty dimensions: k = 0 gives zeros, m = 0 or batch 0 gives an empty result", () => {
    // reuse a buffer first so that an unwritten output would show garbage
    tensor([1, 2, 3, 4, 5, 6]).dispose();
    expectTensor(matmul(zeros([2, 0]), zeros([0, 3])), [2, 3], [0, 0, 0, 0, 0, 0]);
    expectTensor(matmul(zeros([0, 4]), zeros([4, 3])), [0, 3], []);
    expectTensor(matmul(zeros([0, 2, 4]), zeros([4, 3])), [0, 2, 3], []);
  });

  test("shape errors name the op and both shapes", () => {
    expect(() => matmul(zeros([2, 3]), zeros([2, 3]))).toThrow(ShapeError);
    expect(() => matmul(zeros([2, 3]), zeros([2, 3]))).toThrow("matmul: cannot multiply [2, 3] by [2, 3]: inner sizes 3 and 2 differ");
    expect(() => matmul(zeros([2, 3]), zeros([2, 3]), { transposeB: true })).not.toThrow();
    expect(() => matmul(zeros([3, 2]), zeros([2, 3]), { transposeA: true })).toThrow("cannot multiply [3, 2]ᵀ by [2, 3]");
    expect(() => matmul(zeros([3]), zeros([3, 1]))).toThrow(/both operands must be 2-D matrices or 3-D batches/);
    expect(() => matmul(zeros([2, 2, 2, 2]), zeros([2, 2]))).toThrow(ShapeError);
    expect(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5]))).toThrow("batch sizes 2 and 3 differ");
  });
});
