import { readFileSync } from "node:fs";
import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { cpuBackend } from "@neurite/backend-cpu";
import { SerializationError, fromValues, layers, loadModel, memory, oneHot, saveModel, sequential, setBackend, use } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { convLayers } from "../src/index.js";
import { randomNd } from "./reference.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

beforeAll(async () => {
  use(cpuBackend, reluFamily, softmaxFamily, convLayers);
  await setBackend("cpu");
});

function trainedModel() {
  const model = sequential([
    { type: "conv2d", filters: 4, kernelSize: 3, padding: "same", activation: "relu", inputShape: [6, 6, 2] },
    { type: "batchNormalization", momentum: 0.2 },
    { type: "maxPool2d", poolSize: 2 },
    { type: "avgPool2d", poolSize: 2, strides: 1, padding: "same" },
    { type: "conv2d", filters: 4, kernelSize: 2, groups: 4 },
    { type: "globalAveragePooling2d" },
    { type: "dense", units: 3, activation: "softmax" },
  ], { seed: 5 });
  model.compile({ optimizer: "adam", loss: "categoricalCrossEntropy" });
  const x = fromValues(Float32Array.from(randomNd([8, 6, 6, 2], 50).data), [8, 6, 6, 2]);
  const y = oneHot([0, 1, 2, 0, 1, 2, 0, 1], 3);
  for (let i = 0; i < 3; i++) model.trainOnBatch(x, y);
  return { model, x };
}

describe("training", () => {
  it("holds a steady number of tensors from step to step (no intermediate of conv, pooling or batch norm leaks)", () => {
    const { model, x } = trainedModel();
    const y = oneHot([0, 1, 2, 0, 1, 2, 0, 1], 3);
    model.trainOnBatch(x, y);
    const before = memory().tensors;
    for (let i = 0; i < 3; i++) model.trainOnBatch(x, y);
    model.predict(x).dispose();
    expect(memory().tensors).toBe(before);
  });
});

describe("save and load", () => {
  it("round-trips a CNN with every layer of the package, running statistics included, recording the plugin identity", () => {
    const { model, x } = trainedModel();
    const saved = saveModel(model);
    const conv = saved.json.layers.filter((l) => l.package === "@neurite/layers-conv");
    expect(conv.map((l) => l.type)).toEqual(["conv2d", "batchNormalization", "maxPool2d", "avgPool2d", "conv2d", "globalAveragePooling2d"]);
    expect(conv.every((l) => l.version === version)).toBe(true);
    // the running mean moved away from its initial zeros while training
    const movingMean = model.weights.find((w) => w.name.endsWith("movingMean"))!;
    expect(Array.from(movingMean.dataSync()).some((v) => v !== 0)).toBe(true);
    const loaded = loadModel(saved);
    expect(loaded.weights.map((w) => [w.name, Array.from(w.dataSync())])).toEqual(model.weights.map((w) => [w.name, Array.from(w.dataSync())]));
    expect(Array.from(loaded.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
  });

  it("without the package registered, loading names the package to install and changes nothing", () => {
    const { model } = trainedModel();
    const saved = saveModel(model);
    const names = convLayers.layers.map((l) => l.name);
    for (const n of names) layers.unregister(n);
    try {
      expect(() => loadModel(saved)).toThrow(SerializationError);
      expect(() => loadModel(saved)).toThrow(/unknown layer "conv2d".*provided by @neurite\/layers-conv: install it and register it with use/);
      expect(names.some((n) => layers.has(n))).toBe(false);
    } finally {
      use(convLayers);
    }
    expect(loadModel(saved).layers.length).toBe(7);
  });
});
