import { describe, expect, it } from "vitest";
import { mlpWeights, prng, syntheticDataset, uniformArray } from "./data.js";

describe("seeded inputs", () => {
  it("the same seed gives the same stream, another seed another one", () => {
    const a = prng(1);
    const b = prng(1);
    const c = prng(2);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect([c(), c(), c()]).not.toEqual(xs);
  });
  it("uniformArray stays in [lo, hi) and fills the range", () => {
    const v = uniformArray(10_000, -6, 6, 3);
    let [lo, hi] = [Infinity, -Infinity];
    for (const x of v) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
    expect(lo).toBeGreaterThanOrEqual(-6);
    expect(hi).toBeLessThan(6);
    expect(lo).toBeLessThan(-5.9);
    expect(hi).toBeGreaterThan(5.9);
  });
  it("mlpWeights are [W, b] per layer with Glorot-uniform bounds and zero biases", () => {
    const w = mlpWeights([784, 256, 128, 10], 5);
    expect(w.map((a) => a.length)).toEqual([784 * 256, 256, 256 * 128, 128, 128 * 10, 10]);
    const limit = Math.sqrt(6 / (784 + 256));
    const maxAbs = w[0]!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxAbs).toBeLessThanOrEqual(limit);
    expect(maxAbs).toBeGreaterThan(0.99 * limit);
    expect(w[1]!.every((x) => x === 0)).toBe(true);
  });
  it("syntheticDataset labels are one-hot and use several classes", () => {
    const { x, y } = syntheticDataset(500, 20, 4, 9);
    expect(x.length).toBe(500 * 20);
    const counts = [0, 0, 0, 0];
    for (let s = 0; s < 500; s++) {
      const row = Array.from(y.subarray(s * 4, s * 4 + 4));
      expect(row.filter((v) => v === 1).length).toBe(1);
      expect(row.filter((v) => v === 0).length).toBe(3);
      counts[row.indexOf(1)]!++;
    }
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
  });
});
