import { adam, linear, sequential, tensor } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { collapseLinear } from "../src/parts/nonlinearity.js";
import { setup } from "../src/setup.js";

describe("collapsing a linear network", () => {
  beforeAll(async () => {
    await setup("cpu");
  });

  it("the product of the weight matrices is one linear map with the same predictions", async () => {
    const model = sequential([
      { type: "dense", units: 5, activation: linear, inputShape: [2] },
      { type: "dense", units: 3, activation: linear },
      { type: "dense", units: 1, activation: "sigmoid" },
    ], { seed: 9 });
    const x = tensor([[0.5, -1], [1.5, 2], [-0.3, 0.7], [2, -2], [0, 0]]);
    model.compile({ optimizer: adam({ lr: 0.1 }), loss: "binaryCrossEntropy" });
    await model.fit(x, tensor([[1], [0], [1], [0], [1]]), { epochs: 5, batchSize: 5 });
    const c = collapseLinear(model, x);
    // an independent float64 product of the weights
    const w = model.layers.map((l) => ({ k: l.weights[0]!, b: l.weights[1]! }));
    const mat = (t: { shape: readonly number[]; dataSync(): Float32Array }) => {
      const [r, cols] = [t.shape[0]!, t.shape[1]!];
      const d = t.dataSync();
      return Array.from({ length: r }, (_, i) => Array.from({ length: cols }, (_, j) => d[i * cols + j]!));
    };
    const mul = (a: number[][], b: number[][]) => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
    const W = mul(mul(mat(w[0]!.k), mat(w[1]!.k)), mat(w[2]!.k));
    const b1 = [Array.from(w[0]!.b.dataSync())];
    const b = mul([mul(b1, mat(w[1]!.k))[0]!.map((v, j) => v + w[1]!.b.dataSync()[j]!)], mat(w[2]!.k))[0]![0]! + w[2]!.b.dataSync()[0]!;
    expect(c.weights[0]).toBeCloseTo(W[0]![0]!, 5);
    expect(c.weights[1]).toBeCloseTo(W[1]![0]!, 5);
    expect(c.bias).toBeCloseTo(b, 5);
    expect(c.maxAbsDiff).toBeLessThan(1e-5);
    expect(c.agreement).toBe(1);
  });
});
