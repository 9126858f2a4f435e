/**
 * The gradient of every differentiable op, broadcasting included, on every backend: the analytic gradient
 * (autograd, float32) against float64 central differences of a float64 reference of the same function, and
 * against float32 central differences of the backend's own forward pass (see src/gradcheck.ts).
 */
import { type Tensor, customVjp, mul, square, sub, tanh, transpose } from "@neurite/core";
import { expect, test } from "vitest";
import { forEachBackend } from "../src/backends.js";
import { rand } from "../src/cases.js";
import { gradCheck } from "../src/gradcheck.js";
import { opCases } from "../src/op-cases.js";
import * as R from "../src/reference.js";
import { TestRng } from "@neurite/test-support";

const CASES = opCases();

forEachBackend("gradients vs finite differences", () => {
  for (const c of CASES) {
    test(c.name, () => {
      const r = gradCheck(c);
      expect(r.checked64).toBeGreaterThan(0);
    });
  }
});

// the check must be able to fail: gradients that are slightly wrong, or right but misplaced, are rejected
forEachBackend("the gradient check rejects wrong gradients", () => {
  const rng = new TestRng(1);

  test("a gradient off by 0.1%", () => {
    const bad = customVjp({
      forward: (x: Tensor) => ({ output: tanh(x) }),
      backward: (g, _r, x) => [mul(g, mul(sub(1, square(tanh(x))), 1.001))],
    });
    expect(() => gradCheck({ name: "tanh with a scaled gradient", inputs: [rand(rng, [2, 3])], f: (x) => bad(x), ref: (v) => R.map(Math.tanh, v) })).toThrow(/float64 finite differences/);
  });

  test("a transposed gradient of the right values", () => {
    const bad = customVjp({ forward: (x: Tensor) => ({ output: x.clone() }), backward: (g) => [transpose(g)] });
    expect(() => gradCheck({ name: "identity with a transposed gradient", inputs: [rand(rng, [3, 3])], f: (x) => bad(x), ref: (v) => v })).toThrow(/finite differences/);
  });

  test("a forward that differs from its reference", () => {
    expect(() => gradCheck({ name: "tanh vs sin", inputs: [rand(rng, [4])], f: (x) => tanh(x), ref: (v) => R.map(Math.sin, v) })).toThrow(/forward/);
  });
});
