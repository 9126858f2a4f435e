/**
 * A layer package outside the core (@neurite/layers-extra) on every backend: its layers train, and the model
 * saves and loads with the package's identity and the same predictions.
 */
import { extraLayers } from "@neurite/layers-extra";
import { reluFamily } from "@neurite/activations-relu";
import { Random, adam, loadModel, saveModel, sequential, tensor, use } from "@neurite/core";
import { expect, it } from "vitest";
import { forEachBackend } from "../../src/backends.js";

forEachBackend("a layer package outside the core", () => {
  it("trains, saves and loads residualDense and gaussianNoise", async () => {
    use(reluFamily, extraLayers);
    const rng = new Random(3);
    const xs = Array.from({ length: 64 * 3 }, () => rng.next() * 2 - 1);
    // y = sin(2·x0) + x1·x2
    const ys = Array.from({ length: 64 }, (_, i) => Math.sin(2 * xs[3 * i]!) + xs[3 * i + 1]! * xs[3 * i + 2]!);
    const x = tensor(xs, [64, 3]);
    const y = tensor(ys, [64, 1]);
    const model = sequential([
      { type: "dense", units: 12, activation: "relu", inputShape: [3] },
      { type: "gaussianNoise", stddev: 0.05 },
      { type: "residualDense", activation: "relu" },
      { type: "dense", units: 1 },
    ], { seed: 11 });
    model.compile({ optimizer: adam({ lr: 0.02 }), loss: "mse" });
    const losses = (await model.fit(x, y, { epochs: 30, batchSize: 16 })).history.loss!;
    expect(losses[losses.length - 1]!).toBeLessThan(0.3 * losses[0]!);
    const saved = saveModel(model);
    expect(saved.json.layers.map((l) => l.package)).toEqual(["@neurite/core", "@neurite/layers-extra", "@neurite/layers-extra", "@neurite/core"]);
    const loaded = loadModel(saved);
    const a = model.predict(x);
    const b = loaded.predict(x);
    expect(b.dataSync()).toEqual(a.dataSync());
    for (const t of [a, b, x, y]) t.dispose();
    loaded.dispose();
    model.dispose();
  });
});
