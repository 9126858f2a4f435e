/**
 * What non-linear activations buy: XOR and two spirals become separable with ReLU and stay unsolvable for a
 * network whose every layer is linear (the composition is still one linear map).
 */
import { type ActivationSpec, Random, adam, linear, sequential, tensor } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { accuracyOf, setupCpu, twoSpirals } from "./setup.js";

beforeAll(setupCpu);

const XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]];
const XOR_Y = [0, 1, 1, 0];

async function trainXor(activation: ActivationSpec): Promise<number> {
  const model = sequential([
    { type: "dense", units: 16, activation, inputShape: [2] },
    { type: "dense", units: 1, activation: "sigmoid" },
  ], { seed: 3 });
  model.compile({ optimizer: adam({ lr: 0.03 }), loss: "binaryCrossEntropy", metrics: ["accuracy"] });
  const x = tensor(XOR_X);
  const y = tensor(XOR_Y.map((v) => [v]));
  await model.fit(x, y, { epochs: 300, batchSize: 4 });
  const acc = accuracyOf(model, x, XOR_Y);
  model.dispose();
  x.dispose();
  y.dispose();
  return acc;
}

describe("XOR", () => {
  it("is learned to 100% training accuracy with ReLU", async () => {
    expect(await trainXor("relu")).toBe(1);
  });

  it("stays at or below 75% with the identity activation (no linear classifier does better on XOR)", async () => {
    expect(await trainXor(linear)).toBeLessThanOrEqual(0.75);
  });
});

describe("two spirals", () => {
  async function trainSpirals(activation: ActivationSpec): Promise<number> {
    const { x, labels } = twoSpirals(150, 42);
    const model = sequential([
      { type: "dense", units: 32, activation, inputShape: [2] },
      { type: "dense", units: 32, activation },
      { type: "dense", units: 2, activation: "softmax" },
    ], { seed: 7 });
    model.compile({ optimizer: adam({ lr: 0.03 }), loss: "sparseCategoricalCrossEntropy" });
    await model.fit(x, labels, { epochs: 150, batchSize: 300 });
    const acc = accuracyOf(model, x, Array.from(labels.dataSync()));
    model.dispose();
    x.dispose();
    labels.dispose();
    return acc;
  }

  it("reaches at least 97% with ReLU", async () => {
    expect(await trainSpirals("relu")).toBeGreaterThanOrEqual(0.97);
  });

  it("stays near chance (at most 65%) with linear layers", async () => {
    expect(await trainSpirals(linear)).toBeLessThanOrEqual(0.65);
  });
});

describe("reproducibility", () => {
  async function trainOnce(seed: number): Promise<{ weights: number[][]; losses: number[] }> {
    const rng = new Random(1);
    const xs = Array.from({ length: 64 * 3 }, () => rng.next() * 2 - 1);
    const ys = Array.from({ length: 64 }, (_, i) => (xs[3 * i]! * xs[3 * i + 1]! > 0 ? 1 : 0));
    const x = tensor(xs, [64, 3]);
    const y = tensor(ys, [64, 1]);
    // seeded: initial weights, the shuffling of every epoch and the dropout masks
    const model = sequential([
      { type: "dense", units: 16, activation: "relu", inputShape: [3] },
      { type: "dropout", rate: 0.2 },
      { type: "dense", units: 1, activation: "sigmoid" },
    ], { seed });
    model.compile({ optimizer: adam({ lr: 0.01 }), loss: "binaryCrossEntropy" });
    const history = await model.fit(x, y, { epochs: 15, batchSize: 8 });
    const out = { weights: model.weights.map((w) => Array.from(w.dataSync())), losses: history.history.loss! };
    model.dispose();
    x.dispose();
    y.dispose();
    return out;
  }

  it("gives bit-identical weights and losses for the same seed", async () => {
    const a = await trainOnce(5);
    const b = await trainOnce(5);
    expect(a.losses).toHaveLength(15);
    expect(b.weights).toEqual(a.weights);
    expect(b.losses).toEqual(a.losses);
  });

  it("gives different weights and losses for a different seed", async () => {
    const a = await trainOnce(5);
    const c = await trainOnce(6);
    expect(c.weights[0]).not.toEqual(a.weights[0]);
    expect(c.losses).not.toEqual(a.losses);
  });
});
