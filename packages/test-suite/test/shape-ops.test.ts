/** Shape ops on every backend: reshape, transpose/permute, slice, narrow, concat, stack, gather, oneHot, broadcasting copies. */
import {
  ArgumentError, ShapeError, broadcastTo, clone, concat, expandDims, gather, memory, narrow, oneHot, permute, range,
  reshape, slice, squeeze, stack, stopGradient, tensor, transpose,
} from "@neurite/core";
import { expect, test } from "vitest";
import { expectTensor } from "../src/assert.js";
import { forEachBackend } from "../src/backends.js";
import { rand } from "../src/cases.js";
import * as R from "../src/reference.js";
import { TestRng } from "@neurite/test-support";
import { fromNd } from "../src/tensors.js";

const rng = new TestRng(5);

forEachBackend("shape ops", () => {
  test("reshape keeps row-major order, infers one −1, and shares memory", () => {
    const x = range(6);
    const before = memory();
    const y = reshape(x, [2, -1]);
    expectTensor(y, [2, 3], [0, 1, 2, 3, 4, 5]);
    expect(memory().bytes).toBe(before.bytes); // no copy
    expect(memory().tensors).toBe(before.tensors + 1);
    expectTensor(reshape(x, [-1]), [6], [0, 1, 2, 3, 4, 5]);
    expectTensor(reshape(x, [3, 1, 2]), [3, 1, 2], [0, 1, 2, 3, 4, 5]);
    expectTensor(reshape(tensor([5]), []), [], [5]);
    expectTensor(reshape(tensor([]), [0, -1]), [0, 0], []);
    // disposing the original keeps the shared values alive for the view
    x.dispose();
    expectTensor(y, [2, 3], [0, 1, 2, 3, 4, 5]);
  });

  test("reshape errors name both shapes", () => {
    const x = range(6);
    expect(() => reshape(x, [4, 2])).toThrow(ShapeError);
    expect(() => reshape(x, [4, 2])).toThrow("cannot reshape [6] (6 elements) into [4, 2]");
    expect(() => reshape(x, [4, -1])).toThrow("cannot reshape [6] (6 elements) into [4, -1]");
    expect(() => reshape(x, [-1, -1])).toThrow(/at most one -1/);
    expect(() => reshape(x, [2, -3])).toThrow(ArgumentError);
    expect(() => reshape(x, [2, 1.5, 2])).toThrow(/got \[2,1\.5,2\]/);
  });

  test("transpose reverses axes by default; permute takes any permutation", () => {
    expectTensor(transpose(tensor([[1, 2, 3], [4, 5, 6]])), [3, 2], [1, 4, 2, 5, 3, 6]);
    const x = rand(rng, [2, 3, 4]);
    const t = fromNd(x);
    for (const p of [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1], [0, 2, 1]]) {
      const r = R.transpose(x, p);
      expectTensor(permute(t, p), r.shape, r.data, { rtol: 0, atol: 0 }, `permute ${p.join(",")}`);
    }
    expectTensor(t.transpose(), [4, 3, 2], R.transpose(x).data, { rtol: 0, atol: 0 });
    expectTensor(transpose(tensor(3)), [], [3]);
    expect(() => transpose(t, [0, 0, 1])).toThrow(/perm must be a permutation of 0\.\.2 for shape \[2, 3, 4\], got \[0,0,1\]/);
    expect(() => permute(t, [0, 1])).toThrow(ArgumentError);
  });

  test("slice takes rows of the first axis with Python slice rules", () => {
    const x = tensor([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]);
    expectTensor(slice(x, 1, 3), [2, 2], [2, 3, 4, 5]);
    expectTensor(slice(x, 3), [2, 2], [6, 7, 8, 9]);
    expectTensor(slice(x, -2), [2, 2], [6, 7, 8, 9]);
    expectTensor(slice(x, -4, -2), [2, 2], [2, 3, 4, 5]);
    expectTensor(slice(x, 0, 100), [5, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectTensor(slice(x, -100, 1), [1, 2], [0, 1]);
    expectTensor(slice(x, 3, 1), [0, 2], []);
    expectTensor(x.slice(4), [1, 2], [8, 9]);
    expect(() => slice(tensor(1), 0)).toThrow(/cannot slice a scalar/);
  });

  test("narrow selects along any axis and rejects out-of-range windows", () => {
    const x = rand(rng, [2, 5, 3]);
    const t = fromNd(x);
    expectTensor(narrow(t, 1, 2, 3), [2, 3, 3], R.narrow(x, 1, 2, 3).data, { rtol: 0, atol: 0 });
    expectTensor(narrow(t, -1, 1, 1), [2, 5, 1], R.narrow(x, 2, 1, 1).data, { rtol: 0, atol: 0 });
    expectTensor(narrow(t, 0, 1, 0), [0, 5, 3], []);
    expect(() => narrow(t, 1, 4, 2)).toThrow(/start=4, length=2 must be integers selecting inside axis 1 of size 5 \(shape \[2, 5, 3\]\)/);
    expect(() => narrow(t, 1, -1, 2)).toThrow(ArgumentError);
    expect(() => narrow(t, 3, 0, 1)).toThrow(/narrow: axis must be an integer in \[-3, 2\] for a rank-3 tensor, got 3/);
  });

  test("concat joins along any axis", () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[5, 6]]);
    expectTensor(concat([a, b]), [3, 2], [1, 2, 3, 4, 5, 6]);
    expectTensor(concat([a, tensor([[7], [8]])], 1), [2, 3], [1, 2, 7, 3, 4, 8]);
    expectTensor(concat([a, tensor([[7], [8]]), a], -1), [2, 5], [1, 2, 7, 1, 2, 3, 4, 8, 3, 4]);
    expectTensor(concat([a]), [2, 2], [1, 2, 3, 4]);
    const xs = [rand(rng, [2, 1, 3]), rand(rng, [2, 4, 3]), rand(rng, [2, 2, 3])];
    expectTensor(concat(xs.map(fromNd), 1), [2, 7, 3], R.concat(xs, 1).data, { rtol: 0, atol: 0 });
    expect(() => concat([a, tensor([[1, 2, 3]])])).toThrow("concat: shapes [2, 2], [1, 3] differ outside axis 0");
    expect(() => concat([])).toThrow(/needs at least one tensor/);
    expect(() => concat([a, b], 2)).toThrow(ArgumentError);
  });

  test("stack adds a new axis anywhere", () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([4, 5, 6]);
    expectTensor(stack([a, b]), [2, 3], [1, 2, 3, 4, 5, 6]);
    expectTensor(stack([a, b], 1), [3, 2], [1, 4, 2, 5, 3, 6]);
    expectTensor(stack([a, b], -1), [3, 2], [1, 4, 2, 5, 3, 6]);
    expectTensor(stack([tensor(1), tensor(2)]), [2], [1, 2]);
    expect(() => stack([a, tensor([1, 2])])).toThrow(ShapeError);
    expect(() => stack([])).toThrow(/needs at least one tensor/);
  });

  test("gather takes slices along an axis, with repeats and index tensors of any shape", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    expectTensor(gather(x, [2, 0, 2]), [3, 3], [7, 8, 9, 1, 2, 3, 7, 8, 9]);
    expectTensor(gather(x, [1], 1), [3, 1], [2, 5, 8]);
    expectTensor(gather(x, tensor([[0, 2], [1, 1]]), 1), [3, 2, 2], [1, 3, 2, 2, 4, 6, 5, 5, 7, 9, 8, 8]);
    expectTensor(x.gather([0], -1), [3, 1], [1, 4, 7]);
    expectTensor(gather(x, []), [0, 3], []);
    const v = rand(rng, [2, 4, 3]);
    const idx = R.nd([5], [3, 0, 0, 2, 1]);
    expectTensor(gather(fromNd(v), [3, 0, 0, 2, 1], 1), [2, 5, 3], R.gather(v, idx, 1).data, { rtol: 0, atol: 0 });
  });

  test("gather with an out-of-range index throws and leaks nothing", () => {
    const x = range(3);
    const before = memory();
    expect(() => gather(x, [5])).toThrow(/5/);
    expect(() => gather(x, [-1])).toThrow();
    expect(() => gather(x, [0.5])).toThrow();
    const after = memory();
    expect({ tensors: after.tensors, bytes: after.bytes, backend: after.backend }).toEqual({ tensors: before.tensors, bytes: before.bytes, backend: before.backend });
  });

  test("oneHot rows, for any index shape; other values give all-zero rows", () => {
    expectTensor(oneHot([0, 2, 1], 3), [3, 3], [1, 0, 0, 0, 0, 1, 0, 1, 0]);
    expectTensor(oneHot(tensor([[1], [0]]), 2), [2, 1, 2], [0, 1, 1, 0]);
    expectTensor(oneHot([3, -1], 3), [2, 3], [0, 0, 0, 0, 0, 0]);
    expect(() => oneHot([0], 0)).toThrow(/depth must be a positive integer, got 0/);
    expect(() => oneHot([0], 2.5)).toThrow(ArgumentError);
  });

  test("broadcastTo, expandDims, squeeze, clone", () => {
    expectTensor(broadcastTo(tensor([[1], [2]]), [2, 2, 3]), [2, 2, 3], [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
    expectTensor(broadcastTo(tensor([1, 2]), [2]), [2], [1, 2]);
    expect(() => broadcastTo(tensor([1, 2]), [3])).toThrow(ShapeError);
    expect(() => broadcastTo(tensor([[1, 2]]), [2])).toThrow("cannot broadcast [1, 2] to [2]");
    expectTensor(expandDims(tensor([1, 2])), [1, 2], [1, 2]);
    expectTensor(expandDims(tensor([1, 2]), -1), [2, 1], [1, 2]);
    expectTensor(squeeze(tensor([[[1], [2]]])), [2], [1, 2]);
    expectTensor(squeeze(tensor([[[1], [2]]]), [2]), [1, 2], [1, 2]);
    expect(() => squeeze(tensor([[1, 2]]), [1])).toThrow("squeeze: axis 1 of [1, 2] has size 2, not 1");
    const x = tensor([1, 2]);
    const c = clone(x);
    x.dispose();
    expectTensor(c, [2], [1, 2]);
    expectTensor(stopGradient(c), [2], [1, 2]);
  });
});
