/**
 * Elementwise ops on every backend: hand-computed values, a float64 reference over many random inputs,
 * NumPy broadcasting, and the numerically delicate cases (overflow, underflow, NaN, infinities).
 */
import {
  type Tensor, abs, add, clip, div, equal, erf, exp, expm1, floor, greater, greaterEqual, isNaN, less, lessEqual, log,
  log1p, maximum, minimum, mul, neg, notEqual, pow, sigmoid, sign, sqrt, square, sub, tanh, tensor, where,
} from "@neurite/core";
import { describe, expect, test } from "vitest";
import { expectClose, expectTensor } from "../src/assert.js";
import { forEachBackend } from "../src/backends.js";
import { TestRng, erfRef, sigmoidRef } from "@neurite/test-support";

const E = Math.E;

type UnaryCase = [name: string, f: (x: Tensor) => Tensor, ref: (v: number) => number, lo: number, hi: number];
const UNARY: UnaryCase[] = [
  ["neg", neg, (v) => -v, -50, 50],
  ["abs", abs, Math.abs, -50, 50],
  ["sign", sign, Math.sign, -5, 5],
  ["exp", exp, Math.exp, -80, 80],
  ["expm1", expm1, Math.expm1, -5, 5],
  ["log", log, Math.log, 1e-6, 1e6],
  ["log1p", log1p, Math.log1p, -0.999, 100],
  ["sqrt", sqrt, Math.sqrt, 0, 1e4],
  ["square", square, (v) => v * v, -100, 100],
  ["tanh", tanh, Math.tanh, -10, 10],
  ["sigmoid", sigmoid, sigmoidRef, -30, 30],
  ["erf", erf, erfRef, -4, 4],
  ["floor", floor, Math.floor, -10, 10],
];

forEachBackend("elementwise ops", () => {
  test("binary arithmetic on hand-computed values, with a broadcast row", () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([10, -20]);
    expectTensor(add(a, b), [2, 2], [11, -18, 13, -16]);
    expectTensor(sub(a, b), [2, 2], [-9, 22, -7, 24]);
    expectTensor(mul(a, b), [2, 2], [10, -40, 30, -80]);
    expectTensor(div(a, b), [2, 2], [0.1, -0.1, 0.3, -0.2].map(Math.fround), { rtol: 1e-7 });
    expectTensor(pow(tensor([2, 3, 4]), tensor([3, 2, 0.5])), [3], [8, 9, 2]);
    expectTensor(maximum(tensor([1, 5, -2]), tensor([3, 4, -2])), [3], [3, 5, -2]);
    expectTensor(minimum(tensor([1, 5, -2]), tensor([3, 4, -2])), [3], [1, 4, -2]);
    // fluent methods are the same ops
    expectTensor(a.add(1).mul(2).sub(a).div(2), [2, 2], [1.5, 2, 2.5, 3]);
  });

  test("numbers on either side are scalar operands", () => {
    const x = tensor([1, 2, 4]);
    expectTensor(sub(10, x), [3], [9, 8, 6]);
    expectTensor(div(8, x), [3], [8, 4, 2]);
    expectTensor(pow(2, x), [3], [2, 4, 16]);
    expectTensor(x.pow(2), [3], [1, 4, 16]);
    expectTensor(maximum(x, 2), [3], [2, 2, 4]);
    expect(() => add(1, 2)).toThrow(/at least one operand must be a tensor/);
    expect(() => add(x, "1" as never)).toThrow(/operands must be tensors or numbers, got string/);
  });

  test("unary ops on hand-computed values", () => {
    expectTensor(neg(tensor([1, -2, 0])), [3], [-1, 2, -0]);
    expectTensor(abs(tensor([-1.5, 0, 2])), [3], [1.5, 0, 2]);
    expectTensor(sign(tensor([-3, 0, 0.5])), [3], [-1, 0, 1]);
    expectTensor(exp(tensor([0, 1, -1])), [3], [1, E, 1 / E]);
    expectTensor(log(tensor([1, E, 0.5])), [3], [0, 1, -Math.LN2]);
    expectTensor(sqrt(tensor([4, 9, 0])), [3], [2, 3, 0]);
    expectTensor(square(tensor([-3, 0.5])), [2], [9, 0.25]);
    expectTensor(sigmoid(tensor([0])), [1], [0.5]);
    expectTensor(tanh(tensor([0, Math.log(2)])), [2], [0, 3 / 5]); // tanh(ln 2) = (4 − 1)/(4 + 1)
    expectTensor(floor(tensor([-1.5, 1.5, 2])), [3], [-2, 1, 2]);
    expectTensor(isNaN(tensor([NaN, 0, Infinity])), [3], [1, 0, 0]);
  });

  test("erf matches known values, with its linear regime near 0", () => {
    const x = tensor([0.5, 1, 2, -3, 0, 1e-4]);
    expectClose(erf(x).dataSync(), [0.5204998778130465, 0.8427007929497149, 0.9953222650189527, -0.9999779095030014, 0, (2 / Math.sqrt(Math.PI)) * 1e-4], { rtol: 2e-6 });
  });

  for (const [name, f, ref, lo, hi] of UNARY) {
    test(`${name} matches float64 over 2000 random inputs in [${lo}, ${hi}]`, () => {
      const rng = new TestRng(name.length * 977);
      // half the inputs log-spaced in magnitude where the range allows it, so small values are covered too
      const v = rng.values(2000, lo, hi);
      if (lo <= 0 && hi > 1) for (let i = 0; i < 1000; i++) v[i] = Math.fround(Math.sign(v[i]!) * Math.min(Math.abs(hi), 10 ** (8 * rng.next() - 6)));
      const out = f(tensor(Float32Array.from(v))).dataSync();
      expectClose(out, Array.from(v, (u) => Math.fround(ref(u))), { rtol: 2e-6, atol: 1e-30 }, name);
    });
  }

  test("comparisons give 1 or 0 and are false for NaN (except notEqual)", () => {
    const x = tensor([1, 2, 3, NaN]);
    expectTensor(less(x, 2), [4], [1, 0, 0, 0]);
    expectTensor(lessEqual(x, 2), [4], [1, 1, 0, 0]);
    expectTensor(greater(x, 2), [4], [0, 0, 1, 0]);
    expectTensor(greaterEqual(x, 2), [4], [0, 1, 1, 0]);
    expectTensor(equal(x, 2), [4], [0, 1, 0, 0]);
    expectTensor(notEqual(x, 2), [4], [1, 0, 1, 1]);
    expectTensor(x.less(tensor([[2], [4]])), [2, 4], [1, 0, 0, 0, 1, 1, 1, 0]);
    expectTensor(equal(tensor([-0]), 0), [1], [1]);
  });

  test("where selects with broadcasting; a NaN condition selects the second branch", () => {
    const c = tensor([[1], [0]]);
    expectTensor(where(c, tensor([1, 2, 3]), tensor([[10, 20, 30], [40, 50, 60]])), [2, 3], [1, 2, 3, 40, 50, 60]);
    expectTensor(where(tensor([1, 0, NaN, -2]), 5, 7), [4], [5, 7, 7, 5]);
    expectTensor(where(tensor([1, 0]), tensor([NaN, NaN]), 0), [2], [NaN, 0]);
  });

  test("clip clamps, keeps NaN, and rejects lo > hi", () => {
    expectTensor(clip(tensor([-5, -1, 0, 1, 5, NaN, -Infinity, Infinity]), -1, 2), [8], [-1, -1, 0, 1, 2, NaN, -1, 2]);
    expect(() => clip(tensor([1]), 2, 1)).toThrow(/lo must be <= hi, got lo=2, hi=1/);
  });

  test("overflow and underflow are exact, never NaN", () => {
    expectTensor(exp(tensor([100, 89, -1000])), [3], [Infinity, Infinity, 0]);
    // σ(−100) = 3.7e−44 is subnormal in float32: the reference tolerance (atol 1e−7) accepts a flush to 0,
    // which the wasm backend's float32 exp does; what matters is that it is finite and not NaN
    expectTensor(sigmoid(tensor([-1000, 1000, -100])), [3], [0, 1, Math.fround(sigmoidRef(-100))], { atol: 1e-7, rtol: 1e-6 });
    expectTensor(tanh(tensor([-1000, 1000, 20])), [3], [-1, 1, 1]);
    expectTensor(erf(tensor([-10, 10, 6])), [3], [-1, 1, 1]);
    expectTensor(expm1(tensor([1000, -1000])), [2], [Infinity, -1]);
    expectTensor(mul(tensor([3e38]), 10), [1], [Infinity]);
    expectTensor(square(tensor([1e20])), [1], [Infinity]);
  });

  test("small arguments keep their precision (log1p, expm1, erf)", () => {
    const tiny = tensor([1e-7, -1e-7, 1e-20]);
    expectClose(log1p(tiny).dataSync(), [1e-7, -1e-7, 1e-20].map((v) => Math.fround(Math.log1p(Math.fround(v)))), { rtol: 1e-6, atol: 0 });
    expectClose(expm1(tiny).dataSync(), [1e-7, -1e-7, 1e-20].map((v) => Math.fround(Math.expm1(Math.fround(v)))), { rtol: 1e-6, atol: 0 });
    expectClose(erf(tiny).dataSync(), [1e-7, -1e-7, 1e-20].map((v) => Math.fround((2 / Math.sqrt(Math.PI)) * Math.fround(v))), { rtol: 1e-6, atol: 0 });
  });

  test("domain edges: log(0), log(−1), sqrt(−1), division by zero, 0⁰", () => {
    expectTensor(log(tensor([0, -1])), [2], [-Infinity, NaN]);
    expectTensor(log1p(tensor([-1, -2])), [2], [-Infinity, NaN]);
    expectTensor(sqrt(tensor([-1])), [1], [NaN]);
    expectTensor(div(tensor([1, -1, 0]), 0), [3], [Infinity, -Infinity, NaN]);
    expectTensor(pow(tensor([0, -8]), tensor([0, 1 / 3])), [2], [1, NaN]);
  });

  test("NaN in → NaN out for every arithmetic op, and maximum/minimum propagate NaN from either side", () => {
    const nan = tensor([NaN]);
    for (const f of [neg, abs, sign, exp, expm1, log, log1p, sqrt, square, tanh, sigmoid, erf, floor]) {
      expect(f(nan).dataSync()[0], f.name).toBeNaN();
    }
    for (const f of [add, sub, mul, div, pow, maximum, minimum]) {
      expect(f(nan, tensor([1])).dataSync()[0], `${f.name}(NaN, 1)`).toBeNaN();
      expect(f(tensor([1]), nan).dataSync()[0], `${f.name}(1, NaN)`).toBeNaN();
    }
  });

  test("infinities follow IEEE rules", () => {
    const inf = tensor([Infinity, -Infinity]);
    expectTensor(add(inf, 1), [2], [Infinity, -Infinity]);
    expectTensor(sub(inf, inf), [2], [NaN, NaN]);
    expectTensor(mul(inf, 0), [2], [NaN, NaN]);
    expectTensor(exp(inf), [2], [Infinity, 0]);
    expectTensor(sigmoid(inf), [2], [1, 0]);
    expectTensor(maximum(inf, 0), [2], [Infinity, 0]);
  });

  describe("float32 semantics", () => {
    test("results are rounded to float32", () => {
      expect(add(tensor([0.1]), tensor([0.2])).item()).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
      expect(div(tensor([1]), 3).item()).toBe(Math.fround(1 / 3));
      expect(tensor([16777217]).item()).toBe(16777216);
    });
  });
});
