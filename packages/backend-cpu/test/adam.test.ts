import { describe, expect, it } from "vitest";
import { randomArray, rng, setup } from "./helpers.js";

interface Hyper { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupledWeightDecay: number }

/** PyTorch's Adam / AdamW in float64, over several steps with fresh gradients. */
function reference(p0: Float32Array, grads: Float32Array[], h: Hyper): number[] {
  const p = Array.from(p0);
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((grad, t) => {
    const bc1 = 1 - h.beta1 ** (t + 1);
    const bc2 = 1 - h.beta2 ** (t + 1);
    for (let i = 0; i < p.length; i++) {
      const g = grad[i]! + h.weightDecay * p[i]!;
      p[i] = p[i]! * (1 - h.lr * h.decoupledWeightDecay);
      m[i] = h.beta1 * m[i]! + (1 - h.beta1) * g;
      v[i] = h.beta2 * v[i]! + (1 - h.beta2) * g * g;
      p[i] = p[i]! - (h.lr * (m[i]! / bc1)) / (Math.sqrt(v[i]! / bc2) + h.eps);
    }
  });
  return p;
}

describe("adam", () => {
  for (const [name, h] of [
    ["Adam", { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: 0 }],
    ["Adam + L2", { lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, decoupledWeightDecay: 0 }],
    ["AdamW", { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: 0.05 }],
  ] as const) {
    it(`matches the float64 formula over 5 steps (${name})`, () => {
      const { be, up, read } = setup();
      const rand = rng(31);
      const size = 50;
      const p0 = randomArray(size, rand);
      const grads = Array.from({ length: 5 }, () => randomArray(size, rand));
      const param = up(p0), m = up(new Float32Array(size)), v = up(new Float32Array(size));
      grads.forEach((g, t) => {
        be.kernels.adam!({
          param, grad: up(g), m, v, size, ...h,
          biasCorrection1: 1 - h.beta1 ** (t + 1), biasCorrection2: 1 - h.beta2 ** (t + 1),
        });
      });
      const want = reference(p0, grads, h);
      const got = read(param);
      got.forEach((g, i) => expect(Math.abs(g - want[i]!), `param ${i}`).toBeLessThan(1e-6));
      // the update moved every parameter (a no-op kernel would fail here)
      got.forEach((g, i) => expect(g).not.toBe(p0[i]));
    });
  }

  it("rejects buffers shorter than size", () => {
    const { be } = setup();
    expect(() => be.kernels.adam!({ param: be.alloc(3), grad: be.alloc(2), m: be.alloc(3), v: be.alloc(3), size: 3, lr: 1, beta1: 0.9, beta2: 0.9, eps: 1e-8, biasCorrection1: 1, biasCorrection2: 1, weightDecay: 0, decoupledWeightDecay: 0 })).toThrow(/grad holds 2/);
  });
});
