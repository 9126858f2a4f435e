import { describe, expect, it } from "vitest";
import { adam, argmax, loadModel, saveModel, sequential, setBackend, tensor, use } from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { backends, random } from "./helpers.js";

use(reluFamily, smoothFamily, softmaxFamily);
await backends();

describe("training on wasm", () => {
  it("trains a classifier whose saved weights predict the same classes on the cpu backend", async () => {
    await setBackend("wasm");
    // three Gaussian-ish blobs in 8 dimensions
    const n = 300;
    const xs = random(n * 8, 21, -1, 1);
    const labels = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 3;
      xs[i * 8 + (i % 3)]! += 2.5;
    }
    const x = tensor(xs, [n, 8]);
    const y = tensor(labels);
    const model = sequential([
      { type: "dense", units: 24, activation: "gelu", inputShape: [8] },
      { type: "dense", units: 16, activation: "relu" },
      { type: "dense", units: 3, activation: "softmax" },
    ], { seed: 7 });
    model.compile({ optimizer: adam({ lr: 0.02 }), loss: "sparseCategoricalCrossEntropy", metrics: ["accuracy"] });
    const first = model.evaluate(x, y).loss!;
    await model.fit(x, y, { epochs: 15, batchSize: 32, shuffle: false });
    const last = model.evaluate(x, y);
    expect(last.loss!).toBeLessThan(first * 0.5);
    expect(last.accuracy!).toBeGreaterThan(0.9);
    const wasmClasses = Array.from(argmax(model.predict(x), 1).dataSync());
    const saved = saveModel(model);
    await setBackend("cpu");
    const onCpu = loadModel(saved);
    const cpuClasses = Array.from(argmax(onCpu.predict(tensor(xs, [n, 8])), 1).dataSync());
    expect(cpuClasses).toEqual(wasmClasses);
  });
});
