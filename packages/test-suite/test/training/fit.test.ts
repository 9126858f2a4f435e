/**
 * fit, evaluate and predict: validation splits, early stopping, callbacks, output shapes, and memory (a
 * whole training run leaves only the weights and the optimizer's state behind, with no per-step leak).
 */
import {
  type Callback, Random, type Sequential, type Tensor, adam, earlyStopping, memory, progressCallback, scope, sequential, sgd,
  slice, tensor, valueAndGradOf,
} from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { setupCpu } from "./setup.js";

beforeAll(setupCpu);

/** n samples of 4 features; the label is whether their sum is positive. */
function dataset(n: number, seed: number, randomLabels = false): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const xs = Array.from({ length: n * 4 }, () => rng.next() * 2 - 1);
  const ys = Array.from({ length: n }, (_, i) => (randomLabels ? rng.int(2) : xs.slice(4 * i, 4 * i + 4).reduce((a, b) => a + b, 0) > 0 ? 1 : 0));
  return { x: tensor(xs, [n, 4]), y: tensor(ys, [n, 1]) };
}

function small(seed = 1, units = 8): Sequential {
  return sequential([
    { type: "dense", units, activation: "tanh", inputShape: [4] },
    { type: "dense", units: 1, activation: "sigmoid" },
  ], { seed });
}

describe("fit with validation and early stopping", () => {
  it("logs valLoss and valAccuracy on the last fraction, the same as evaluate on it", async () => {
    const { x, y } = dataset(50, 1);
    const model = small();
    model.compile({ optimizer: adam({ lr: 0.02 }), loss: "binaryCrossEntropy", metrics: ["accuracy"] });
    const h = await model.fit(x, y, { epochs: 4, batchSize: 10, validationSplit: 0.2 });
    expect(h.epochs).toEqual([0, 1, 2, 3]);
    expect(Object.keys(h.history).sort()).toEqual(["accuracy", "loss", "valAccuracy", "valLoss"]);
    for (const v of Object.values(h.history)) expect(v).toHaveLength(4);
    // the held-out samples are the last 10 (before shuffling)
    const ev = scope(() => model.evaluate(slice(x, 40), slice(y, 40)));
    expect(h.history.valLoss![3]).toBeCloseTo(ev.loss!, 6);
    expect(h.history.valAccuracy![3]).toBeCloseTo(ev.accuracy!, 6);
    model.dispose();
  });

  it("stops after `patience` epochs without an improvement of minDelta", async () => {
    const { x, y } = dataset(40, 2);
    const model = small();
    model.compile({ optimizer: adam({ lr: 0.01 }), loss: "binaryCrossEntropy" });
    // no change can beat minDelta = 10: epoch 0 sets the best, epochs 1–3 wait, epoch 3 stops
    const stop = earlyStopping(model, { monitor: "valLoss", patience: 2, minDelta: 10 });
    const h = await model.fit(x, y, { epochs: 100, batchSize: 8, validationSplit: 0.25, callbacks: [stop] });
    expect(h.epochs).toEqual([0, 1, 2, 3]);
    expect(stop.stoppedEpoch).toBe(3);
    model.dispose();
  });

  it("stops a model that overfits random labels once its validation loss rises", async () => {
    const { x, y } = dataset(80, 3, true);
    const model = small(4, 64);
    model.compile({ optimizer: adam({ lr: 0.03 }), loss: "binaryCrossEntropy" });
    const stop = earlyStopping(model, { patience: 3 });
    const h = await model.fit(x, y, { epochs: 300, batchSize: 16, validationSplit: 0.25, callbacks: [stop] });
    expect(stop.stoppedEpoch).toBeDefined();
    expect(h.epochs.length).toBeLessThan(300);
    const val = h.history.valLoss!;
    // it stopped because the last `patience + 1` epochs were all worse than the best one
    const best = Math.min(...val);
    expect(val.slice(-4).every((v) => v > best)).toBe(true);
    model.dispose();
  });

  it("rejects bad options with errors naming the value", async () => {
    const { x, y } = dataset(10, 4);
    const model = small();
    await expect(model.fit(x, y)).rejects.toThrow(/compile/);
    model.compile({ optimizer: "sgd", loss: "mse" });
    await expect(model.fit(x, y, { validationSplit: 1.5 })).rejects.toThrow(/validationSplit must be in \(0, 1\), got 1.5/);
    await expect(model.fit(x, y, { epochs: 0 })).rejects.toThrow(/epochs must be a positive integer, got 0/);
    await expect(model.fit(x, slice(y, 0, 5))).rejects.toThrow(/10 samples.*5/);
    model.dispose();
  });
});

describe("callbacks", () => {
  it("are called with the right counts, order and arguments, and awaited", async () => {
    const { x, y } = dataset(30, 5);
    const model = small();
    model.compile({ optimizer: sgd({ lr: 0.1 }), loss: "binaryCrossEntropy", metrics: ["accuracy"] });
    const events: string[] = [];
    let pending = false;
    const cb: Callback = {
      onTrainBegin: () => void events.push("begin"),
      onEpochBegin: async (e) => {
        expect(pending).toBe(false);
        pending = true;
        await new Promise((r) => setTimeout(r, 1));
        pending = false;
        events.push(`epoch ${e}`);
      },
      onBatchEnd: (b, logs) => {
        expect(pending).toBe(false);
        expect(Object.keys(logs).sort()).toEqual(["accuracy", "loss"]);
        events.push(`batch ${b}`);
      },
      onEpochEnd: (e, logs) => void events.push(`end ${e} ${Object.keys(logs).sort().join(",")}`),
      onTrainEnd: (logs) => void events.push(`done ${Object.keys(logs).sort().join(",")}`),
    };
    const progress: string[] = [];
    const pcb = progressCallback((p) => progress.push(`${p.phase} ${p.epoch}/${p.epochs} ${p.batch}/${p.batches}`), { epochs: 2, batches: 3 });
    await model.fit(x, y, { epochs: 2, batchSize: 12, callbacks: [cb, pcb] });
    const keys = "accuracy,loss";
    expect(events).toEqual([
      "begin",
      "epoch 0", "batch 0", "batch 1", "batch 2", `end 0 ${keys}`,
      "epoch 1", "batch 0", "batch 1", "batch 2", `end 1 ${keys}`,
      `done ${keys}`,
    ]);
    expect(progress).toEqual([
      "batch 0/2 0/3", "batch 0/2 1/3", "batch 0/2 2/3", "epoch 0/2 2/3",
      "batch 1/2 0/3", "batch 1/2 1/3", "batch 1/2 2/3", "epoch 1/2 2/3",
    ]);
    model.dispose();
  });
});

describe("evaluate and predict", () => {
  it("give the documented shapes, and predict in chunks equals predict at once", () => {
    const { x, y } = dataset(23, 6);
    const model = sequential([
      { type: "dense", units: 5, activation: "relu", inputShape: [4] },
      { type: "dense", units: 3, activation: "softmax" },
    ], { seed: 2 });
    model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossEntropy", metrics: ["accuracy"] });
    const labels = tensor(Array.from(y.dataSync()), [23]);
    const whole = model.predict(x);
    const chunked = model.predict(x, { batchSize: 5 });
    expect(whole.shape).toEqual([23, 3]);
    expect(chunked.dataSync()).toEqual(whole.dataSync());
    const rows = whole.arraySync() as number[][];
    for (const r of rows) expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const ev = model.evaluate(x, labels);
    expect(Object.keys(ev).sort()).toEqual(["accuracy", "loss"]);
    const inChunks = model.evaluate(x, labels, { batchSize: 4 });
    expect(inChunks.loss).toBeCloseTo(ev.loss!, 5);
    expect(inChunks.accuracy).toBeCloseTo(ev.accuracy!, 10);
    expect(() => model.predict(tensor([[1, 2, 3]]))).toThrow(/expected inputs of shape \[batch, 4\], got \[1, 3\]/);
    model.dispose();
  });
});

describe("memory", () => {
  it("a full fit leaves only the optimizer state behind, with no per-step leak over 1,000 steps", async () => {
    // 89 samples: 80 to train on (10 batches of 8 per epoch), 9 held out
    const { x, y } = dataset(89, 7);
    const model = small();
    model.compile({ optimizer: adam({ lr: 0.01 }), loss: "binaryCrossEntropy", metrics: ["accuracy"] });
    const before = memory().tensors;
    const perBatch: number[] = [];
    const h = await model.fit(x, y, {
      epochs: 100, batchSize: 8, validationSplit: 0.1,
      callbacks: [{ onBatchEnd: () => void perBatch.push(memory().tensors) }],
    });
    expect(h.epochs).toHaveLength(100);
    expect(perBatch).toHaveLength(1000);
    // Adam keeps m and v per trainable weight; the validation slices live only during fit
    const state = 2 * model.trainableWeights.length;
    expect(memory().tensors).toBe(before + state);
    expect(new Set(perBatch.slice(1)).size).toBe(1);
    model.dispose();
    expect(memory().tensors).toBe(before - model.weights.length);
  });

  it("trainOnBatch and a hand-written loop do not leak either", () => {
    const { x, y } = dataset(16, 8);
    const model = small();
    model.compile({ optimizer: sgd({ lr: 0.05, momentum: 0.9 }), loss: "binaryCrossEntropy" });
    model.trainOnBatch(x, y);
    const after1 = memory().tensors;
    for (let i = 0; i < 300; i++) model.trainOnBatch(x, y);
    expect(memory().tensors).toBe(after1);
    const opt = adam({ lr: 0.01 });
    const params = model.trainableWeights;
    const step = () =>
      scope(() => {
        const { grads } = valueAndGradOf(() => model.apply(x).sub(y).square().mean(), params);
        opt.step(params, grads);
      });
    step();
    const after2 = memory().tensors;
    for (let i = 0; i < 300; i++) step();
    expect(memory().tensors).toBe(after2);
    opt.dispose();
    model.dispose();
  });
});
