/** Tensor creation and reads on every backend: from nested and typed arrays, constant fills, ranges, seeded random. */
import {
  ArgumentError, Random, ShapeError, fill, memory, normal, ones, range, tensor, uniform, zeros,
} from "@neurite/core";
import { expect, test } from "vitest";
import { expectTensor } from "../src/assert.js";
import { forEachBackend } from "../src/backends.js";
import { Sfc32Reference } from "../src/sfc32.js";

forEachBackend("creation", () => {
  test("tensor() infers the shape of nested arrays, row-major", () => {
    expectTensor(tensor([[1, 2, 3], [4, 5, 6]]), [2, 3], [1, 2, 3, 4, 5, 6]);
    expectTensor(tensor([[[1], [2]], [[3], [4]]]), [2, 2, 1], [1, 2, 3, 4]);
    expectTensor(tensor([7]), [1], [7]);
    expectTensor(tensor([]), [0], []);
  });

  test("a number gives a rank-0 tensor; a shape of one element is allowed", () => {
    const s = tensor(2.5);
    expect(s.shape).toEqual([]);
    expect(s.rank).toBe(0);
    expect(s.size).toBe(1);
    expect(s.item()).toBe(2.5);
    expectTensor(tensor(3, [1, 1]), [1, 1], [3]);
  });

  test("typed arrays and flat arrays take an explicit shape; values are rounded to float32", () => {
    expectTensor(tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]), [3, 2], [1, 2, 3, 4, 5, 6]);
    expectTensor(tensor(new Int32Array([-1, 0, 1])), [3], [-1, 0, 1]);
    expectTensor(tensor([1, 2, 3, 4], [2, 2]), [2, 2], [1, 2, 3, 4]);
    const f64 = tensor(new Float64Array([0.1, 1 / 3, 1e-50, 1e300]));
    expect(Array.from(f64.dataSync())).toEqual([Math.fround(0.1), Math.fround(1 / 3), 0, Infinity]);
    // a nested array with a compatible explicit shape is re-shaped
    expectTensor(tensor([[1, 2], [3, 4]], [4]), [4], [1, 2, 3, 4]);
  });

  test("tensor() rejects ragged arrays and sizes that do not fill the shape, naming both", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged.*expected 2 entries at depth 1/);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values cannot fill shape \[2, 2\]/);
    expect(() => tensor(new Float32Array(5), [2, 3])).toThrow(ShapeError);
    expect(() => tensor(1, [2])).toThrow(/one number cannot fill shape \[2\]/);
    expect(() => tensor([1, 2], [-2])).toThrow(ArgumentError);
    expect(() => tensor([1, [2]])).toThrow(/expected a number at depth 1/);
  });

  test("zeros, ones and fill", () => {
    expectTensor(zeros([2, 3]), [2, 3], new Array(6).fill(0));
    expectTensor(ones([4]), [4], [1, 1, 1, 1]);
    expectTensor(fill([2, 2], -7.25), [2, 2], [-7.25, -7.25, -7.25, -7.25]);
    expectTensor(fill([3], NaN), [3], [NaN, NaN, NaN]);
    expectTensor(fill([], 4), [], [4]);
    expectTensor(zeros([0, 5]), [0, 5], []);
    expect(() => zeros([2.5])).toThrow(/non-negative integers, got \[2\.5\]/);
  });

  test("range follows numpy.arange", () => {
    expectTensor(range(5), [5], [0, 1, 2, 3, 4]);
    expectTensor(range(2, 6), [4], [2, 3, 4, 5]);
    expectTensor(range(0, 1, 0.25), [4], [0, 0.25, 0.5, 0.75]);
    expectTensor(range(5, 0, -2), [3], [5, 3, 1]);
    expectTensor(range(0, 1, 0.3), [4], [0, 0.3, 0.6, 0.9].map(Math.fround));
    expectTensor(range(3, 3), [0], []);
    expectTensor(range(0), [0], []);
    expect(() => range(0, 5, 0)).toThrow(/step must be a finite non-zero number, got 0/);
    expect(() => range(0, 5, NaN)).toThrow(ArgumentError);
  });

  test("uniform with a seed gives the documented sfc32 stream, the same on every backend", () => {
    for (const seed of [0, 1, 42, 2 ** 31 + 5, 2 ** 40 + 3]) {
      const ref = new Sfc32Reference(seed);
      const expected = Array.from({ length: 64 }, () => Math.fround(ref.double()));
      expect(Array.from(uniform([64], { seed }).dataSync()), `seed ${seed}`).toEqual(expected);
    }
    const ref = new Sfc32Reference(9);
    const scaled = Array.from({ length: 16 }, () => Math.fround(-3 + 5 * ref.double()));
    expect(Array.from(uniform([4, 4], { seed: 9, min: -3, max: 2 }).dataSync())).toEqual(scaled);
  });

  test("normal with a seed gives the documented Box–Muller stream", () => {
    for (const seed of [0, 7, 123456789]) {
      const ref = new Sfc32Reference(seed);
      const expected = Array.from({ length: 33 }, () => Math.fround(ref.normal()));
      expect(Array.from(normal([33], { seed }).dataSync()), `seed ${seed}`).toEqual(expected);
    }
    const ref = new Sfc32Reference(5);
    const shifted = Array.from({ length: 10 }, () => Math.fround(2 + 0.5 * ref.normal()));
    expect(Array.from(normal([10], { seed: 5, mean: 2, std: 0.5 }).dataSync())).toEqual(shifted);
  });

  test("same seed, same values; different seeds or no seed, different values", () => {
    const a = uniform([100], { seed: 3 }).dataSync();
    const b = uniform([100], { seed: 3 }).dataSync();
    const c = uniform([100], { seed: 4 }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(normal([50]).dataSync())).not.toEqual(Array.from(normal([50]).dataSync()));
    // the tensor stream is core's Random stream
    const r = new Random(3);
    expect(Array.from(a)).toEqual(Array.from({ length: 100 }, () => Math.fround(r.next())));
  });

  test("uniform and normal statistics are roughly right", () => {
    const n = 20000;
    const u = uniform([n], { seed: 11, min: -1, max: 3 }).dataSync();
    const um = u.reduce((s, v) => s + v, 0) / n;
    const uv = u.reduce((s, v) => s + (v - um) ** 2, 0) / n;
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(3);
    // mean 1 and variance 16/12; standard errors 0.008 and 0.007
    expect(Math.abs(um - 1)).toBeLessThan(0.04);
    expect(Math.abs(uv - 16 / 12)).toBeLessThan(0.04);

    const g = normal([n], { seed: 12, mean: -2, std: 3 }).dataSync();
    const gm = g.reduce((s, v) => s + v, 0) / n;
    const gs = Math.sqrt(g.reduce((s, v) => s + (v - gm) ** 2, 0) / n);
    const within1 = g.filter((v) => Math.abs(v - gm) < gs).length / n;
    expect(Math.abs(gm + 2)).toBeLessThan(0.1); // standard error 0.021
    expect(Math.abs(gs - 3)).toBeLessThan(0.08); // standard error 0.015
    expect(Math.abs(within1 - 0.6827)).toBeLessThan(0.02);
  });

  test("uniform and normal reject bad options", () => {
    expect(() => uniform([2], { min: 2, max: 1 })).toThrow(/min must be <= max, got min=2, max=1/);
    expect(() => normal([2], { std: -1 })).toThrow(/std must be >= 0, got -1/);
    expect(() => uniform([2], { seed: NaN })).toThrow(/seed must be a finite number, got NaN/);
  });

  test("sync and async reads return copies of the values", async () => {
    const t = tensor([[1, 2], [3, 4]]);
    const d = t.dataSync();
    d[0] = 100;
    expect(t.dataSync()[0]).toBe(1);
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4]);
    expect(t.arraySync()).toEqual([[1, 2], [3, 4]]);
    expect(await t.array()).toEqual([[1, 2], [3, 4]]);
    expect(tensor(5).arraySync()).toBe(5);
    expect(tensor([[9]]).item()).toBe(9);
    expect(() => t.item()).toThrow(/item\(\): tensor has shape \[2, 2\], expected exactly one element/);
    expect(t.toString()).toContain("[2, 2]");
  });

  test("creating a tensor counts it and its bytes", () => {
    const before = memory();
    const t = zeros([3, 5]);
    expect(memory().tensors - before.tensors).toBe(1);
    expect(memory().bytes - before.bytes).toBe(60);
    expect(memory().backend!.bytes - before.backend!.bytes).toBe(60);
    t.dispose();
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().bytes).toBe(before.bytes);
  });
});
