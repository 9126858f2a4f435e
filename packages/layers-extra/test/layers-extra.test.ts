/**
 * A layer family outside the core, built on the public Layer contract only: it registers with use(), its
 * layers train, and models that use them save and load (with this package's name and version recorded).
 * The same checks run on cpu and wasm in packages/test-suite (test/training/layers-extra.test.ts).
 */
import { readFileSync } from "node:fs";
import { reluFamily } from "@neurite/activations-relu";
import { cpuBackend } from "@neurite/backend-cpu";
import {
  ArgumentError, SerializationError, Random, adam, layers, loadModel, memory, saveModel, scope, sequential, setBackend,
  tensor, use,
} from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { extraLayers, gaussianNoise, residualDense } from "../src/index.js";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { name: string; version: string };

beforeAll(async () => {
  use(cpuBackend, reluFamily, extraLayers);
  await setBackend("cpu");
});

/** y = sin(2·x0) + x1·x2 on seeded inputs in [−1, 1]. */
function regression(n: number, seed: number) {
  const rng = new Random(seed);
  const xs = Array.from({ length: n * 3 }, () => rng.next() * 2 - 1);
  const ys = Array.from({ length: n }, (_, i) => Math.sin(2 * xs[3 * i]!) + xs[3 * i + 1]! * xs[3 * i + 2]!);
  return { x: tensor(xs, [n, 3]), y: tensor(ys, [n, 1]) };
}

describe("@neurite/layers-extra", () => {
  it("registers both layers under this package's name and version (from package.json)", () => {
    for (const name of ["residualDense", "gaussianNoise"]) {
      expect(layers.get(name)).toMatchObject({ package: manifest.name, version: manifest.version });
    }
    expect(residualDense.package).toBe("@neurite/layers-extra");
  });

  it("residualDense computes x + f(x·W + b) (checked against float64 loops over its own weights)", () => {
    const model = sequential([{ type: "residualDense", activation: "relu", inputShape: [3] }], { seed: 5 });
    const [kernel, bias] = model.weights.map((w) => Array.from(w.dataSync()));
    const xs = [0.5, -1, 2, -0.25, 0.75, 1.5];
    const x = tensor(xs, [2, 3]);
    const y = model.predict(x);
    const expected = [0, 1].flatMap((r) => [0, 1, 2].map((j) => {
      let z = bias![j]!;
      for (let k = 0; k < 3; k++) z += xs[r * 3 + k]! * kernel![k * 3 + j]!;
      return xs[r * 3 + j]! + Math.max(0, z);
    }));
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    x.dispose();
    y.dispose();
    model.dispose();
  });

  it("gaussianNoise adds noise of the configured spread while training and is the identity at inference", () => {
    const layer = gaussianNoise.build(gaussianNoise.configure({ stddev: 0.5 }), [4000], { addWeight: () => { throw new Error("no weights"); } });
    let seed = 1;
    scope(() => {
      const x = tensor(Array.from({ length: 4000 }, (_, i) => Math.sin(i)), [1, 4000]);
      const noisy = Array.from(layer.call(x, { training: true, nextSeed: () => seed++ }).dataSync());
      const diff = noisy.map((v, i) => v - Math.fround(Math.sin(i)));
      const mean = diff.reduce((a, b) => a + b, 0) / diff.length;
      const std = Math.sqrt(diff.reduce((a, b) => a + (b - mean) ** 2, 0) / diff.length);
      // 4000 draws: the sample mean is within 4 standard errors (0.5/√4000 ≈ 0.008), the spread within 5 %
      expect(Math.abs(mean)).toBeLessThan(0.032);
      expect(std).toBeGreaterThan(0.475);
      expect(std).toBeLessThan(0.525);
      expect(layer.call(x, { training: false, nextSeed: () => seed++ }).dataSync()).toEqual(x.dataSync());
    });
  });

  it("refuses a bad config with an ArgumentError naming the field", () => {
    expect(() => gaussianNoise.configure({ stddev: -1 })).toThrow(ArgumentError);
    expect(() => gaussianNoise.configure({ stddev: -1 })).toThrow(/gaussianNoise: stddev must be a finite number >= 0, got -1/);
    expect(() => residualDense.configure({ units: 3 })).toThrow(/unknown config field "units"/);
  });

  it("trains, saves and loads: the loss falls and the loaded model predicts the same", async () => {
    const data = regression(64, 3);
    const model = sequential([
      { type: "dense", units: 12, activation: "relu", inputShape: [3] },
      { type: "gaussianNoise", stddev: 0.05 },
      { type: "residualDense", activation: "relu" },
      { type: "dense", units: 1 },
    ], { seed: 11 });
    model.compile({ optimizer: adam({ lr: 0.02 }), loss: "mse" });
    const losses = (await model.fit(data.x, data.y, { epochs: 30, batchSize: 16 })).history.loss!;
    expect(losses[losses.length - 1]!).toBeLessThan(0.3 * losses[0]!);
    const saved = saveModel(model);
    expect(saved.json.layers[1]).toMatchObject({ type: "gaussianNoise", package: manifest.name, version: manifest.version, config: { stddev: 0.05 } });
    expect(saved.json.layers[2]).toMatchObject({ type: "residualDense", package: manifest.name, version: manifest.version });
    const loaded = loadModel(saved);
    const a = model.predict(data.x);
    const b = loaded.predict(data.x);
    expect(b.dataSync()).toEqual(a.dataSync());
    for (const t of [a, b, data.x, data.y]) t.dispose();
    loaded.dispose();
    model.dispose();
  });

  it("loading a model that uses them where they are not registered names this package", () => {
    const model = sequential([{ type: "residualDense", inputShape: [2] }], { seed: 1 });
    const saved = saveModel(model);
    model.dispose();
    const registered = layers.snapshot();
    layers.unregister("residualDense");
    try {
      const before = memory().tensors;
      expect(() => loadModel(saved)).toThrow(SerializationError);
      expect(() => loadModel(saved)).toThrow(/@neurite\/layers-extra/);
      expect(memory().tensors).toBe(before);
    } finally {
      layers.restore(registered);
    }
  });
});
